"""Languages: ISO 639-1 two-letter codes (from pycountry), e.g. ``de``, ``en``, ``el``.

Canonical form: lower case. Input may be in any case and padded with whitespace.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

import pycountry

from clen_core.codes._base import CodeSystem, alternation, require_text
from clen_core.errors import CodeError

__all__ = ["CODES", "SYSTEM", "is_valid", "name", "parse"]

_NAME = "language"
_EXPECTED = "an ISO 639-1 two-letter language code such as 'en' or 'de'"

_NAMES: Mapping[str, str] = MappingProxyType(
    {
        str(alpha_2): str(lang.name)
        for lang in pycountry.languages
        if (alpha_2 := getattr(lang, "alpha_2", None)) is not None
    }
)
_ALPHA_3: Mapping[str, str] = MappingProxyType(
    {
        str(lang.alpha_3): str(alpha_2)
        for lang in pycountry.languages
        if (alpha_2 := getattr(lang, "alpha_2", None)) is not None
    }
)

CODES: frozenset[str] = frozenset(_NAMES)
"""Every ISO 639-1 code, lower case."""

_LETTERS = re.compile(r"[A-Za-z]+")


def parse(value: str) -> str:
    """Return the canonical language code of ``value``, or raise :class:`~clen_core.CodeError`."""
    text = require_text(_NAME, value, _EXPECTED)
    if _LETTERS.fullmatch(text) is None:
        raise CodeError(_NAME, value, "it may contain only the letters a-z", _EXPECTED)
    code = text.lower()
    if len(code) == 2:
        if pycountry.languages.get(alpha_2=code) is None:
            raise CodeError(_NAME, value, f"{code} is not an ISO 639-1 code", _EXPECTED)
        return code
    reason = f"it has {len(code)} letters, an ISO 639-1 code has 2"
    if code in _ALPHA_3:
        reason += f" ({code} is the ISO 639-2/3 code of {_ALPHA_3[code]!r})"
    raise CodeError(_NAME, value, reason, _EXPECTED)


def name(code: str) -> str:
    """The English name of language ``code``, e.g. ``"Modern Greek (1453-)"`` for ``el``."""
    return _NAMES[parse(code)]


def is_valid(value: object) -> bool:
    """True when ``value`` is a string that parses as a language code."""
    return SYSTEM.is_valid(value)


SYSTEM = CodeSystem(
    name=_NAME,
    title="Language (ISO 639-1)",
    parse=parse,
    pattern=f"^(?:{alternation(CODES)})$",
    description="ISO 639-1 two-letter language code, lower case",
    examples=("en", "de", "fr", "el"),
)
