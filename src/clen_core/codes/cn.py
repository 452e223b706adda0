"""CN codes: the eight-digit Combined Nomenclature codes of the EU, e.g. ``22089069``.

A CN code is the six-digit HS subheading followed by two CN digits (``00`` when the
subheading is not split further); the chapter rules are those of :mod:`clen_core.codes.hs`
(no chapter 00, chapter 77 reserved, chapters 98 and 99 accepted but flagged). The CN is
revised every year (applying from 1 January); whether a code exists in a given year is a
matter for data, not for this format check.

Accepted written forms: digit groups separated by spaces or dots, as in official texts
(``"2208 90 69"``, ``"2208.90.69"``, ``"2208 90.69"``), and surrounding whitespace.
``ex 1102``-style entries (partial coverage of a code) are refused with a message saying so.
"""

from __future__ import annotations

from clen_core.codes import hs
from clen_core.codes._base import CodeSystem

__all__ = ["SYSTEM", "hs_part", "is_valid", "parse"]

_NAME = "cn"
_EXPECTED = (
    "an 8-digit CN code such as '22089069' (written '2208 90 69' or '2208.90.69'), "
    "chapter 01-97, 98 or 99, not 77"
)


def parse(value: str) -> str:
    """Return the canonical CN code of ``value``, or raise :class:`~clen_core.CodeError`."""
    return hs.nomenclature_code(_NAME, value, 8, _EXPECTED)


def hs_part(code: str) -> str:
    """The six-digit HS subheading of CN code ``code`` (any accepted written form)."""
    return parse(code)[:6]


def is_valid(value: object) -> bool:
    """True when ``value`` is a string that parses as a CN code."""
    return SYSTEM.is_valid(value)


SYSTEM = CodeSystem(
    name=_NAME,
    title="CN code (Combined Nomenclature)",
    parse=parse,
    pattern=hs.nomenclature_pattern(8),
    description="CN code: 8 digits, the HS subheading and 2 CN digits; chapter 77 is reserved",
    examples=("22089069", "29051100", "01012100"),
)
