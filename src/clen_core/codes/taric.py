"""TARIC codes: the ten-digit codes of the integrated tariff of the EU, e.g. ``2208906900``.

A TARIC code is the eight-digit CN code followed by two TARIC digits (``00`` when the CN
code is not split further); the chapter rules are those of :mod:`clen_core.codes.hs`.
TARIC additional codes (four characters) are a separate thing, and the eleventh national
digit some member states add is not part of a TARIC code: both are refused here.

Accepted written forms: digit groups separated by spaces or dots (``"2208 90 69 00"``,
``"2208.90.69.00"``) and surrounding whitespace.
"""

from __future__ import annotations

from clen_core.codes import hs
from clen_core.codes._base import CodeSystem

__all__ = ["SYSTEM", "cn_part", "is_valid", "parse"]

_NAME = "taric"
_EXPECTED = (
    "a 10-digit TARIC code such as '2208906900' (written '2208 90 69 00'), "
    "chapter 01-97, 98 or 99, not 77"
)


def parse(value: str) -> str:
    """Return the canonical TARIC code of ``value``, or raise :class:`~clen_core.CodeError`."""
    return hs.nomenclature_code(_NAME, value, 10, _EXPECTED)


def cn_part(code: str) -> str:
    """The eight-digit CN code of TARIC code ``code`` (any accepted written form)."""
    return parse(code)[:8]


def is_valid(value: object) -> bool:
    """True when ``value`` is a string that parses as a TARIC code."""
    return SYSTEM.is_valid(value)


SYSTEM = CodeSystem(
    name=_NAME,
    title="TARIC code",
    parse=parse,
    pattern=hs.nomenclature_pattern(10),
    description="TARIC code: 10 digits, the CN code and 2 TARIC digits; chapter 77 is reserved",
    examples=("2208906900", "2905110000", "0101210000"),
)
