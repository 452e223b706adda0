"""Countries: ISO 3166-1 alpha-2 codes, with the spellings EU customs texts use.

Canonical form: the upper-case ISO 3166-1 alpha-2 code (from pycountry), e.g. ``DE``.

Also accepted:

* the EU aliases (:data:`ALIASES`): ``EL`` for Greece and ``UK`` for the United Kingdom,
  whose canonical forms are ``GR`` and ``GB``;
* the customs and trade-statistics codes outside ISO 3166-1 (:data:`EXTRA_CODES`):
  ``XI`` Northern Ireland (EORI, VAT), ``XK`` Kosovo, ``XC`` Ceuta, ``XL`` Melilla and
  ``XS`` Serbia (statistical code); they are canonical as they are.

Input may be in any case and padded with whitespace. :data:`EU_MEMBER_STATES` holds the
27 member states (canonical codes); XI, XC and XL are not member states.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

import pycountry

from clen_core.codes._base import CodeSystem, alternation, require_text
from clen_core.errors import CodeError

__all__ = [
    "ACCEPTED_CODES",
    "ALIASES",
    "CANONICAL_CODES",
    "EU_MEMBER_STATES",
    "EXTRA_CODES",
    "SYSTEM",
    "is_eu_member",
    "is_valid",
    "name",
    "parse",
]

_NAME = "country"
_EXPECTED = (
    "an ISO 3166-1 alpha-2 country code such as 'DE' "
    "(EL and UK accepted for GR and GB; XI, XK, XC, XL and XS accepted)"
)

ALIASES: Mapping[str, str] = MappingProxyType({"EL": "GR", "UK": "GB"})
"""Codes used in EU texts instead of the ISO code: alias → canonical ISO code."""

EXTRA_CODES: Mapping[str, str] = MappingProxyType(
    {
        "XI": "United Kingdom (Northern Ireland)",
        "XK": "Kosovo",
        "XC": "Ceuta",
        "XL": "Melilla",
        "XS": "Serbia (statistical code)",
    }
)
"""Customs and trade-statistics codes outside ISO 3166-1, accepted as they are: code → name."""

# fmt: off
EU_MEMBER_STATES: frozenset[str] = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})
"""The 27 EU member states, as canonical codes (Greece is ``GR``; ``EL`` parses to it)."""
# fmt: on

_ISO_NAMES: Mapping[str, str] = MappingProxyType(
    {str(c.alpha_2): str(c.name) for c in pycountry.countries}
)
_ALPHA_3: Mapping[str, str] = MappingProxyType(
    {str(c.alpha_3): str(c.alpha_2) for c in pycountry.countries}
)

CANONICAL_CODES: frozenset[str] = frozenset(_ISO_NAMES) | frozenset(EXTRA_CODES)
"""Every canonical code: ISO 3166-1 alpha-2 and :data:`EXTRA_CODES`."""

ACCEPTED_CODES: frozenset[str] = CANONICAL_CODES | frozenset(ALIASES)
"""Every code :func:`parse` accepts (upper case): the canonical codes and the aliases."""

_LETTERS = re.compile(r"[A-Za-z]+")


def parse(value: str) -> str:
    """Return the canonical country code of ``value``, or raise :class:`~clen_core.CodeError`."""
    text = require_text(_NAME, value, _EXPECTED)
    if _LETTERS.fullmatch(text) is None:
        raise CodeError(_NAME, value, "it may contain only the letters A-Z", _EXPECTED)
    code = text.upper()
    if len(code) == 2:
        if code in CANONICAL_CODES:
            return code
        if code in ALIASES:
            return ALIASES[code]
        raise CodeError(_NAME, value, f"{code} is not an ISO 3166-1 alpha-2 code", _EXPECTED)
    reason = f"it has {len(code)} letters, a country code has 2"
    if code in _ALPHA_3:
        reason += f" ({code} is the alpha-3 code of {_ALPHA_3[code]})"
    raise CodeError(_NAME, value, reason, _EXPECTED)


def is_eu_member(code: str) -> bool:
    """True when ``code`` (any accepted spelling, e.g. ``EL``) is an EU member state.

    Invalid codes give ``False``.
    """
    try:
        return parse(code) in EU_MEMBER_STATES
    except CodeError:
        return False


def name(code: str) -> str:
    """The English name of country ``code`` (ISO short name, or the name in EXTRA_CODES)."""
    canonical = parse(code)
    return EXTRA_CODES.get(canonical) or _ISO_NAMES[canonical]


def is_valid(value: object) -> bool:
    """True when ``value`` is a string that parses as a country code."""
    return SYSTEM.is_valid(value)


SYSTEM = CodeSystem(
    name=_NAME,
    title="Country (ISO 3166-1 alpha-2)",
    parse=parse,
    pattern=f"^(?:{alternation(CANONICAL_CODES)})$",
    description=(
        "ISO 3166-1 alpha-2 country code (EL, UK accepted for GR, GB; "
        "customs codes XI, XK, XC, XL, XS)"
    ),
    examples=("DE", "GR", "GB", "XI"),
)
