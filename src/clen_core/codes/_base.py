"""The shape every code system shares: one parse, one validity test, one canonical pattern."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import attrs

from clen_core.errors import CodeError, UnknownCodeSystemError

__all__ = [
    "CodeSystem",
    "UnknownCodeSystemError",
    "alternation",
    "normalize_dashes",
    "require_text",
]


@attrs.frozen
class CodeSystem:
    """A code system: how to parse a written code into its canonical form, and what that form is."""

    name: str
    """Short name used in field declarations and messages, e.g. ``"cas"``."""
    title: str
    """Human-readable name, e.g. ``"CAS Registry Number"``."""
    parse: Callable[[str], str]
    """Return the canonical form of a written code, or raise :class:`~clen_core.CodeError`."""
    pattern_source: str | Callable[[], str] = attrs.field(alias="pattern")
    """The :attr:`pattern`, or a function that makes it on first use (when it needs a
    table that is slow to load, as the languages: imports stay fast)."""
    description: str
    """One line on the format and its check, for docs and schema descriptions."""
    examples: tuple[str, ...]
    """Valid canonical codes, for docs and tests."""

    @property
    def pattern(self) -> str:
        """Regular expression (anchored, JSON-Schema compatible) that every canonical code
        matches."""
        source = self.pattern_source
        if callable(source):
            source = source()
            object.__setattr__(self, "pattern_source", source)  # made once, then kept
        return source

    def is_valid(self, value: object) -> bool:
        """True when ``value`` is a string that parses in this code system."""
        if not isinstance(value, str):
            return False
        try:
            self.parse(value)
        except CodeError:
            return False
        return True

    def matches_canonical(self, value: str) -> bool:
        """True when ``value`` already has the canonical shape (no check digits tested)."""
        return re.fullmatch(self.pattern.strip("^$"), value) is not None


# Hyphen-like characters that turn up when codes are copied from PDFs and word processors.
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2212\ufe63\uff0d", "-"))


def normalize_dashes(text: str) -> str:
    """Replace typographic hyphens and dashes (U+2010, en dash, minus sign, ...) by ``-``."""
    return text.translate(_DASHES)


def require_text(system: str, value: object, expected: str) -> str:
    """Return ``value`` stripped of surrounding whitespace, or raise :class:`CodeError`.

    Raises when ``value`` is not a ``str`` or is blank, so every ``parse`` starts from a
    non-empty string whatever it was given.
    """
    if not isinstance(value, str):
        raise CodeError(system, value, f"it is of type {type(value).__name__}, not str", expected)
    text = value.strip()
    if not text:
        raise CodeError(system, value, "the value is empty", expected)
    return text


def alternation(codes: Iterable[str]) -> str:
    """A compact regular expression matching exactly the given two-character codes.

    Codes are grouped by their first character, e.g. ``{"AD", "AE", "BE"}`` gives
    ``"A[DE]|BE"``. The result uses only ``|`` and character classes, so it is valid in
    both Python and ECMA-262 (JSON Schema) regular expressions; wrap it in ``(?:...)``.
    """
    by_first: dict[str, list[str]] = {}
    for code in sorted(set(codes)):
        if len(code) != 2 or not code.isascii() or not code.isalnum():
            raise ValueError(f"alternation() takes two-character ASCII codes, got {code!r}")
        by_first.setdefault(code[0], []).append(code[1])
    parts = []
    for first, seconds in by_first.items():
        parts.append(first + (seconds[0] if len(seconds) == 1 else f"[{''.join(seconds)}]"))
    return "|".join(parts)
