"""HS codes: six-digit subheadings of the Harmonized System (WCO), e.g. ``220890``.

The six digits are chapter (2), heading (4) and subheading (6). Chapters run 01–97;
chapter 77 is reserved for future use and holds no goods, so it is refused. Chapters 98
and 99 are no HS chapters but are used for special coding (e.g. in the CN); they are
accepted here and flagged by a rule (see :data:`SPECIAL_CHAPTERS`). Chapter 00 does not
exist.

Accepted written forms: digit groups separated by spaces or dots (``"2208 90"``,
``"2208.90"``, ``"22.08.90"``) and surrounding whitespace. ``ex 2208 90`` ("ex" marks an
entry that covers only part of a code) is refused: a full code is expected.

:func:`in_nomenclature` tells whether the HS part of an HS, CN or TARIC code is a
subheading of HS 2022; the list of subheadings ships with the package (``hs2022.txt``,
built by ``scripts/build_hs_nomenclature.py`` from the published HS 2022 nomenclature).
The nomenclature is revised every five years, so a code missing from it is a warning,
not an error.

The shared parser here also serves :mod:`clen_core.codes.cn` and
:mod:`clen_core.codes.taric`.
"""

from __future__ import annotations

import functools
import importlib.resources
import re

from clen_core.codes._base import CodeSystem, require_text
from clen_core.errors import CodeError

__all__ = [
    "NOMENCLATURE_EDITION",
    "SPECIAL_CHAPTERS",
    "SYSTEM",
    "chapter",
    "in_nomenclature",
    "is_special_chapter",
    "is_valid",
    "parse",
    "subheadings",
]

_NAME = "hs"
_EXPECTED = (
    "a 6-digit HS subheading such as '220890' (written '2208 90' or '2208.90'), "
    "chapter 01-97, 98 or 99, not 77"
)

SPECIAL_CHAPTERS: frozenset[str] = frozenset({"98", "99"})
"""Chapters outside the HS proper (special coding): accepted, but a rule flags them."""

NOMENCLATURE_EDITION = "HS 2022"
"""Edition of the Harmonized System that :func:`in_nomenclature` checks against."""

_DATA_FILE = "hs2022.txt"

# Regular expression of the canonical chapter: 01-99 without 00 and 77.
_CHAPTER_PATTERN = "(?:0[1-9]|[1-6][0-9]|7[0-689]|[89][0-9])"

# Digit groups separated by whitespace or by a dot (optionally padded with spaces).
_WRITTEN = re.compile(r"[0-9]+(?:(?:\s*\.\s*|\s+)[0-9]+)*")
_EX = re.compile(r"ex(?![a-z])", re.IGNORECASE)
_SEPARATOR = re.compile(r"[^0-9]+")

_LENGTH_NAMES = {
    2: "an HS chapter",
    4: "an HS heading",
    6: "an HS subheading",
    8: "a CN code",
    10: "a TARIC code",
    11: "a TARIC code with a national 11th digit",
}


def nomenclature_code(system: str, value: object, length: int, expected: str) -> str:
    """Parse an HS-family code of ``length`` digits (6 HS, 8 CN, 10 TARIC) for ``system``.

    Removes the separators of the written forms and tests the digit count and the chapter;
    raises :class:`~clen_core.CodeError` naming ``system`` and ``expected``.
    """
    text = require_text(system, value, expected)
    if _EX.match(text):
        reason = (
            "'ex' marks an entry that covers only part of a code, not a code; "
            "a full code without 'ex' is expected"
        )
        raise CodeError(system, value, reason, expected)
    if _WRITTEN.fullmatch(text) is None:
        if not text.isascii() or re.search(r"[^0-9.\s]", text):
            reason = "it may contain only digits, separated by spaces or dots"
        else:
            reason = "spaces and dots may stand only between digit groups"
        raise CodeError(system, value, reason, expected)
    digits = _SEPARATOR.sub("", text)
    if len(digits) != length:
        reason = f"it has {len(digits)} digit(s), not {length}"
        if len(digits) in _LENGTH_NAMES:
            reason += f" (that is {_LENGTH_NAMES[len(digits)]})"
        raise CodeError(system, value, reason, expected)
    if digits[:2] == "00":
        reason = "chapter 00 does not exist (chapters are 01-97, and 98/99 for special uses)"
        raise CodeError(system, value, reason, expected)
    if digits[:2] == "77":
        reason = "chapter 77 is reserved in the Harmonized System and holds no goods"
        raise CodeError(system, value, reason, expected)
    return digits


def nomenclature_pattern(length: int) -> str:
    """Anchored regular expression of a canonical HS-family code of ``length`` digits."""
    return f"^{_CHAPTER_PATTERN}[0-9]{{{length - 2}}}$"


def parse(value: str) -> str:
    """Return the canonical HS code of ``value``, or raise :class:`~clen_core.CodeError`."""
    return nomenclature_code(_NAME, value, 6, _EXPECTED)


def chapter(code: str) -> str:
    """The two-digit chapter of HS code ``code`` (any accepted written form)."""
    return parse(code)[:2]


def is_special_chapter(code: str) -> bool:
    """True when HS code ``code`` lies in chapter 98 or 99 (see :data:`SPECIAL_CHAPTERS`)."""
    return chapter(code) in SPECIAL_CHAPTERS


@functools.cache
def subheadings() -> frozenset[str]:
    """The six-digit subheadings of HS 2022 (read once from the shipped ``hs2022.txt``)."""
    text = importlib.resources.files("clen_core.codes").joinpath(_DATA_FILE).read_text("ascii")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def in_nomenclature(code: str) -> bool:
    """True when the HS part (first six digits) of an HS, CN or TARIC code is in HS 2022.

    ``code`` is a code of 6, 8 or 10 digits, canonical or written with spaces or dots.
    Anything else, including ``ex`` entries and non-strings, gives ``False``.
    """
    if not isinstance(code, str):
        return False
    text = code.strip()
    if _WRITTEN.fullmatch(text) is None:
        return False
    digits = _SEPARATOR.sub("", text)
    return len(digits) in (6, 8, 10) and digits[:6] in subheadings()


def is_valid(value: object) -> bool:
    """True when ``value`` is a string that parses as an HS code."""
    return SYSTEM.is_valid(value)


SYSTEM = CodeSystem(
    name=_NAME,
    title="HS code (Harmonized System subheading)",
    parse=parse,
    pattern=nomenclature_pattern(6),
    description="HS subheading: 6 digits (chapter, heading, subheading); chapter 77 is reserved",
    examples=("220890", "290511", "010121"),
)
