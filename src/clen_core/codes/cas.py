"""CAS Registry Numbers (Chemical Abstracts Service), e.g. ``7732-18-5`` for water.

Canonical form: ``N…N-NN-R`` with 2 to 7 digits in the first part and no leading zero.
``R`` is a check digit: the other digits, weighted 1, 2, 3, … from the right, summed,
modulo 10. The check itself is python-stdnum's :mod:`stdnum.casrn`.

Accepted written forms: surrounding whitespace, the undashed digit string (``"64175"``
→ ``"64-17-5"``), typographic dashes (en dash, minus sign) for the hyphens, and a
zero-padded first part as some databases store it (``"0000064-17-5"`` → ``"64-17-5"``).
"""

from __future__ import annotations

import re

from clen_core.codes._base import CodeSystem, normalize_dashes, require_text
from clen_core.errors import CodeError

__all__ = ["SYSTEM", "check_digit", "is_valid", "parse"]

_NAME = "cas"
_EXPECTED = "a CAS RN such as '7732-18-5': 2 to 7 digits, '-', 2 digits, '-', a check digit"
_DASHED = re.compile(r"([0-9]+)-([0-9]{2})-([0-9])")
_UNDASHED = re.compile(r"[0-9]{5,}")


def check_digit(digits: str) -> int:
    """The CAS check digit of ``digits`` (the number without its check digit; hyphens ignored).

    The digits are weighted 1, 2, 3, … from the right; the check digit is the sum modulo 10.
    Raises :class:`~clen_core.CodeError` when ``digits`` holds anything but ASCII digits and
    hyphens.
    """
    # python-stdnum is imported at first use: it loads ssl (10 ms) for its online checks.
    from stdnum import casrn

    plain = digits.replace("-", "") if isinstance(digits, str) else None
    if not plain or not plain.isascii() or not plain.isdigit():
        raise CodeError(
            _NAME, digits, "the digits before the check digit are not digits", _EXPECTED
        )
    return int(casrn.calc_check_digit(plain))


def parse(value: str) -> str:
    """Return the canonical CAS RN of ``value``, or raise :class:`~clen_core.CodeError`."""
    text = normalize_dashes(require_text(_NAME, value, _EXPECTED))
    match = _DASHED.fullmatch(text)
    if match is not None:
        first, middle, last = match.groups()
    elif _UNDASHED.fullmatch(text):
        first, middle, last = text[:-3], text[-3:-1], text[-1]
    else:
        raise CodeError(_NAME, value, _shape_problem(text), _EXPECTED)
    first = first.lstrip("0")
    if not 2 <= len(first) <= 7:
        reason = (
            f"the first part has {len(first)} significant digit(s), a CAS RN has 2 to 7"
            if first
            else "the first part is zero"
        )
        raise CodeError(_NAME, value, reason, _EXPECTED)
    wanted = check_digit(first + middle)
    if int(last) != wanted:
        reason = f"check digit {last} is wrong: {first}-{middle} gives check digit {wanted}"
        raise CodeError(_NAME, value, reason, _EXPECTED)
    canonical = f"{first}-{middle}-{last}"
    from stdnum import casrn
    from stdnum.exceptions import ValidationError

    try:  # python-stdnum has the last word on the format and the check digit
        return casrn.validate(canonical)
    except ValidationError as exc:  # pragma: no cover - the checks above are the same
        raise CodeError(_NAME, value, str(exc), _EXPECTED) from None


def _shape_problem(text: str) -> str:
    if not text.isascii() or re.search(r"[^0-9-]", text):
        return "it may contain only digits and two hyphens"
    if "-" not in text:
        return f"it has {len(text)} digit(s), a CAS RN has at least 5"
    if text.count("-") != 2:
        return f"it has {text.count('-')} hyphen(s), a CAS RN has 2 (or none)"
    return "the hyphens are misplaced: the last part has 1 digit, the middle part 2"


def is_valid(value: object) -> bool:
    """True when ``value`` is a string that parses as a CAS RN."""
    return SYSTEM.is_valid(value)


SYSTEM = CodeSystem(
    name=_NAME,
    title="CAS Registry Number",
    parse=parse,
    pattern=r"^[1-9][0-9]{1,6}-[0-9]{2}-[0-9]$",
    description=(
        "CAS RN: 2-7 digits (no leading zero), 2 digits and a check digit (weighted sum mod 10)"
    ),
    examples=("7732-18-5", "64-17-5", "50-00-0"),
)
