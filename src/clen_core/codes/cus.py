"""CUS numbers: the ECICS (European Customs Inventory of Chemical Substances) number.

Canonical form: ``NNNNNNN-N``, eight digits with leading zeros kept, e.g. ``0011481-8``.
No check-digit rule is published for CUS numbers, so :func:`parse` tests the format only.
Many CUS numbers do end in a CAS-style check digit of the first seven;
:func:`check_digit_matches` says whether one does, for a rule that may warn (never refuse).

Accepted written forms: surrounding whitespace, the undashed eight digits
(``"00114818"``), typographic dashes, and a ``CUS`` prefix in any case, with or without a
space (``"CUS 0011481-8"``).
"""

from __future__ import annotations

import re

from clen_core.codes import cas
from clen_core.codes._base import CodeSystem, normalize_dashes, require_text
from clen_core.errors import CodeError

__all__ = ["SYSTEM", "check_digit_matches", "is_valid", "parse"]

_NAME = "cus"
_EXPECTED = "a CUS number such as '0011481-8': 7 digits (leading zeros kept), '-', 1 digit"
_SHAPE = re.compile(r"(?:[Cc][Uu][Ss]\s*)?([0-9]{7})-?([0-9])")
_SHORT = re.compile(r"(?:[Cc][Uu][Ss]\s*)?([0-9]{1,6})-([0-9])")


def parse(value: str) -> str:
    """Return the canonical CUS number of ``value``, or raise :class:`~clen_core.CodeError`."""
    text = normalize_dashes(require_text(_NAME, value, _EXPECTED))
    match = _SHAPE.fullmatch(text)
    if match is None:
        raise CodeError(_NAME, value, _shape_problem(text), _EXPECTED)
    return f"{match[1]}-{match[2]}"


def _shape_problem(text: str) -> str:
    short = _SHORT.fullmatch(text)
    if short is not None:
        padded = short[1].rjust(7, "0")
        return (
            f"the first part has {len(short[1])} digit(s), not 7; leading zeros are part of "
            f"a CUS number (did you mean '{padded}-{short[2]}'?)"
        )
    body = re.sub(r"^[Cc][Uu][Ss]\s*", "", text)
    if not body.isascii() or re.search(r"[^0-9-]", body):
        return "it may contain only digits and one hyphen (after an optional 'CUS ' prefix)"
    digits = body.replace("-", "")
    if len(digits) != 8:
        return f"it has {len(digits)} digit(s), a CUS number has 8"
    return "the hyphen is misplaced: it stands before the last digit"


def check_digit_matches(code: str) -> bool:
    """True when the last digit of CUS number ``code`` is the CAS check digit of the first 7.

    ``code`` may be in any accepted written form; raises :class:`~clen_core.CodeError` when
    it is not a CUS number. A ``False`` is no error (no rule is published): at most a warning.
    """
    canonical = parse(code)
    return cas.check_digit(canonical[:7]) == int(canonical[-1])


def is_valid(value: object) -> bool:
    """True when ``value`` is a string that parses as a CUS number."""
    return SYSTEM.is_valid(value)


SYSTEM = CodeSystem(
    name=_NAME,
    title="CUS number (ECICS)",
    parse=parse,
    pattern=r"^[0-9]{7}-[0-9]$",
    description="ECICS CUS number: 7 digits with leading zeros, '-', 1 digit (no published check)",
    examples=("0011481-8", "0000001-1"),
)
