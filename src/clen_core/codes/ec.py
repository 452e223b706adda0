"""EC numbers (European Community number, EINECS/ELINCS/NLP and ECHA list numbers).

Canonical form: ``NNN-NNN-R``. ``R`` is a check digit: ``(1·N1 + 2·N2 + … + 6·N6) mod 11``;
the 181 ELINCS numbers whose remainder was 10 were issued with check digit 1, so a
remainder of 10 is written ``1``. For the all-digit form the check is python-stdnum's
:mod:`stdnum.eu.ecnumber` (which already maps 10 to 1). No range test is made on the
first digit (2xx/3xx EINECS, 4xx ELINCS, 5xx NLP, 1/6/7/8/9 ECHA list numbers).

ECHA list numbers may also be alphanumeric, e.g. ``A00-001-5``: the first character is a
capital letter other than I, L and O. **Assumption** (ECHA publishes no formal rule beyond
"letters count from 10, I, L and O are not used"): the letters count 10, 11, … in
alphabetical order with I, L and O skipped, i.e.::

    A=10 B=11 C=12 D=13 E=14 F=15 G=16 H=17 J=18 K=19 M=20 N=21
    P=22 Q=23 R=24 S=25 T=26 U=27 V=28 W=29 X=30 Y=31 Z=32

and the letter's value enters the same weighted sum with weight 1 (``A00-001-5``:
1·10 + 6·1 = 16, 16 mod 11 = 5). See :data:`LETTER_VALUES`.

Accepted written forms: surrounding whitespace, lower case, typographic dashes, and the
undashed 7-character form (``"2000018"`` → ``"200-001-8"``).
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from types import MappingProxyType

from clen_core.codes._base import CodeSystem, normalize_dashes, require_text
from clen_core.errors import CodeError

__all__ = ["LETTER_VALUES", "SYSTEM", "check_digit", "is_valid", "parse"]

_NAME = "ec"
_EXPECTED = "an EC number such as '200-001-8' or 'A00-001-5': NNN-NNN-R, R = check digit"

LETTER_VALUES: Mapping[str, int] = MappingProxyType(
    {
        letter: value
        for value, letter in enumerate(
            (c for c in string.ascii_uppercase if c not in "ILO"), start=10
        )
    }
)
"""Value of each letter allowed as the first character of an alphanumeric EC list number."""

_SHAPE = re.compile(r"([0-9A-Za-z][0-9]{2})(-?)([0-9]{3})\2([0-9])")


def check_digit(body: str) -> int:
    """The EC check digit of the first six characters ``body`` (hyphens ignored).

    ``(1·N1 + … + 6·N6) mod 11`` with a remainder of 10 written as 1; a leading letter
    counts as in :data:`LETTER_VALUES`. Raises :class:`~clen_core.CodeError` when ``body``
    is not six such characters.
    """
    plain = body.replace("-", "").upper() if isinstance(body, str) else ""
    if not (
        len(plain) == 6
        and plain.isascii()
        and plain[1:].isdigit()
        and (plain[0].isdigit() or plain[0] in LETTER_VALUES)
    ):
        raise CodeError(_NAME, body, "the body is not six EC number characters", _EXPECTED)
    first = LETTER_VALUES[plain[0]] if plain[0] in LETTER_VALUES else int(plain[0])
    values = [first, *map(int, plain[1:])]
    remainder = sum(weight * digit for weight, digit in enumerate(values, start=1)) % 11
    return 1 if remainder == 10 else remainder


def parse(value: str) -> str:
    """Return the canonical EC number of ``value``, or raise :class:`~clen_core.CodeError`."""
    text = normalize_dashes(require_text(_NAME, value, _EXPECTED))
    match = _SHAPE.fullmatch(text)
    if match is None:
        raise CodeError(_NAME, value, _shape_problem(text), _EXPECTED)
    head, _, middle, last = match.groups()
    head = head.upper()
    if head[0] in "ILO":
        reason = f"the letter {head[0]} is not used in EC list numbers (I, L and O are skipped)"
        raise CodeError(_NAME, value, reason, _EXPECTED)
    wanted = check_digit(head + middle)
    if int(last) != wanted:
        reason = f"check digit {last} is wrong: {head}-{middle} gives check digit {wanted}"
        raise CodeError(_NAME, value, reason, _EXPECTED)
    canonical = f"{head}-{middle}-{last}"
    if head[0].isdigit():
        # python-stdnum is imported at first use: it loads ssl (10 ms) for its online checks.
        from stdnum.eu import ecnumber
        from stdnum.exceptions import ValidationError

        try:  # python-stdnum has the last word on the all-digit form
            return ecnumber.validate(canonical)
        except ValidationError as exc:  # pragma: no cover - the checks above are the same
            raise CodeError(_NAME, value, str(exc), _EXPECTED) from None
    return canonical


def _shape_problem(text: str) -> str:
    if not text.isascii() or re.search(r"[^0-9A-Za-z-]", text):
        return "it may contain only digits, one leading letter and two hyphens"
    plain = text.replace("-", "")
    if len(plain) != 7:
        return f"it has {len(plain)} characters besides hyphens, an EC number has 7"
    if not plain[1:].isdigit():
        return "only the first character may be a letter"
    return "the hyphens are misplaced: NNN-NNN-R, or no hyphens at all"


def is_valid(value: object) -> bool:
    """True when ``value`` is a string that parses as an EC number."""
    return SYSTEM.is_valid(value)


SYSTEM = CodeSystem(
    name=_NAME,
    title="EC number",
    parse=parse,
    pattern=r"^[0-9A-HJKMNP-Z][0-9]{2}-[0-9]{3}-[0-9]$",
    description=(
        "EC number NNN-NNN-R (first character may be a letter A-Z without I, L, O); "
        "R = (1·N1+…+6·N6) mod 11, remainder 10 written 1"
    ),
    examples=("200-001-8", "231-791-2", "A00-001-5"),
)
