"""Languages: ISO 639-1 two-letter codes (from pycountry), e.g. ``de``, ``en``, ``el``.

Canonical form: lower case. Input may be in any case and padded with whitespace.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import pycountry

from clen_core.codes._base import CodeSystem, alternation, require_text
from clen_core.errors import CodeError

__all__ = ["CODES", "SYSTEM", "is_valid", "name", "parse"]

_NAME = "language"
_EXPECTED = "an ISO 639-1 two-letter language code such as 'en' or 'de'"


@functools.cache
def _tables() -> tuple[Mapping[str, str], Mapping[str, str]]:
    # pycountry's language table (ISO 639-3, about 8,000 entries) takes ~0.1 s to load:
    # loaded on first use, not at import (the command line starts faster).
    names, alpha_3 = {}, {}
    for lang in pycountry.languages:
        alpha_2 = getattr(lang, "alpha_2", None)
        if alpha_2 is not None:
            names[str(alpha_2)] = str(lang.name)
            alpha_3[str(lang.alpha_3)] = str(alpha_2)
    return MappingProxyType(names), MappingProxyType(alpha_3)


CODES: frozenset[str]
"""Every ISO 639-1 code, lower case (made on first use: see ``__getattr__``)."""


def __getattr__(attr: str) -> Any:
    if attr == "CODES":
        return frozenset(_tables()[0])
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")


_LETTERS = re.compile(r"[A-Za-z]+")


def parse(value: str) -> str:
    """Return the canonical language code of ``value``, or raise :class:`~clen_core.CodeError`."""
    text = require_text(_NAME, value, _EXPECTED)
    if _LETTERS.fullmatch(text) is None:
        raise CodeError(_NAME, value, "it may contain only the letters a-z", _EXPECTED)
    code = text.lower()
    if len(code) == 2:
        if code not in _tables()[0]:
            raise CodeError(_NAME, value, f"{code} is not an ISO 639-1 code", _EXPECTED)
        return code
    reason = f"it has {len(code)} letters, an ISO 639-1 code has 2"
    alpha_3 = _tables()[1]
    if code in alpha_3:
        reason += f" ({code} is the ISO 639-2/3 code of {alpha_3[code]!r})"
    raise CodeError(_NAME, value, reason, _EXPECTED)


def name(code: str) -> str:
    """The English name of language ``code``, e.g. ``"Modern Greek (1453-)"`` for ``el``."""
    return _tables()[0][parse(code)]


def is_valid(value: object) -> bool:
    """True when ``value`` is a string that parses as a language code."""
    return SYSTEM.is_valid(value)


SYSTEM = CodeSystem(
    name=_NAME,
    title="Language (ISO 639-1)",
    parse=parse,
    pattern=lambda: f"^(?:{alternation(_tables()[0])})$",
    description="ISO 639-1 two-letter language code, lower case",
    examples=("en", "de", "fr", "el"),
)
