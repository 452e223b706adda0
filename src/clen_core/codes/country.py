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

A valid code may still not be the country meant: :func:`did_you_mean` suggests the
Member State a source plausibly meant (``Tartu (ET)``: ET is Ethiopia, Tartu is in
Estonia, EE). The knowledge is data, small on purpose: :data:`LANGUAGE_CODE_CONFUSIONS`
(a Member State's language code written for its country code) and :data:`CITY_COUNTRIES`
(the few cities the embedded data needs). A suggestion is a question for a reviewer,
never a correction: nothing here changes a code.
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
    "CITY_COUNTRIES",
    "EU_MEMBER_STATES",
    "EXTRA_CODES",
    "LANGUAGE_CODE_CONFUSIONS",
    "SYSTEM",
    "did_you_mean",
    "is_eu_member",
    "is_valid",
    "name",
    "parse",
    "suggest",
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


LANGUAGE_CODE_CONFUSIONS: Mapping[str, str] = MappingProxyType(
    {
        "ET": "EE",  # et: Estonian; ET is Ethiopia
        "GA": "IE",  # ga: Irish; GA is Gabon
        "SL": "SI",  # sl: Slovenian; SL is Sierra Leone
        "SV": "SE",  # sv: Swedish; SV is El Salvador
    }
)
"""Country codes that are also the ISO 639-1 code of a Member State's language, written
for that Member State: written code → the Member State plausibly meant. Only codes that
are valid (another country's) are listed: an invalid one is rejected by :func:`parse`."""

CITY_COUNTRIES: Mapping[str, str] = MappingProxyType({"Tartu": "EE"})
"""Cities whose country a source in the embedded data gets wrong: city → canonical code.

Limited to what the embedded reference dataset needs (the Commission's Action 5 page
writes ``Tartu (ET)``); it is no gazetteer, and a city not in it tells nothing."""


def suggest(code: str, city: str | None = None) -> str | None:
    """The canonical code a source plausibly meant instead of ``code``, or ``None``.

    A ``city`` in :data:`CITY_COUNTRIES` decides: its country when it differs from
    ``code``, else nothing. Otherwise a code in :data:`LANGUAGE_CODE_CONFUSIONS` suggests
    the Member State whose language it is. An invalid ``code`` gives ``None``.
    """
    try:
        written = parse(code)
    except CodeError:
        return None
    if city is not None and city.strip() in CITY_COUNTRIES:
        known = CITY_COUNTRIES[city.strip()]
        return known if known != written else None
    return LANGUAGE_CODE_CONFUSIONS.get(written)


def did_you_mean(code: str, city: str | None = None) -> str | None:
    """``"did you mean EE (Estonia)?"`` when :func:`suggest` has a suggestion, else ``None``."""
    meant = suggest(code, city)
    return None if meant is None else f"did you mean {meant} ({name(meant)})?"


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
