"""EORI numbers (Economic Operators Registration and Identification).

An EORI number is a two-letter country prefix followed by 1 to 15 letters or digits; no
check rule is published. The prefix may be any code :mod:`clen_core.codes.country`
accepts, *including* the aliases ``EL`` and ``UK`` and the customs code ``XI``: an EORI
number is an identifier, so the prefix is kept as written (Greek EORIs appear with both
``GR`` and ``EL``). :func:`country_part` gives the canonical country.

Canonical form: upper case with all whitespace removed, e.g. ``DE1234567890123``.
"""

from __future__ import annotations

import re

from clen_core.codes import country
from clen_core.codes._base import CodeSystem, alternation, require_text
from clen_core.errors import CodeError

__all__ = ["MAX_IDENTIFIER_LENGTH", "SYSTEM", "country_part", "is_valid", "parse"]

_NAME = "eori"
_EXPECTED = (
    "an EORI number such as 'DE1234567890123': a 2-letter country code, "
    "then 1 to 15 letters or digits"
)

MAX_IDENTIFIER_LENGTH = 15
"""Most characters after the country prefix."""

_WHITESPACE = re.compile(r"\s+")
_ALNUM = re.compile(r"[0-9A-Za-z]+")


def parse(value: str) -> str:
    """Return the canonical EORI number of ``value``, or raise :class:`~clen_core.CodeError`."""
    text = _WHITESPACE.sub("", require_text(_NAME, value, _EXPECTED))
    if _ALNUM.fullmatch(text) is None:
        raise CodeError(_NAME, value, "it may contain only letters A-Z and digits", _EXPECTED)
    code = text.upper()
    prefix, identifier = code[:2], code[2:]
    if prefix not in country.ACCEPTED_CODES:
        reason = f"it does not start with a country code ({prefix!r} is none)"
        raise CodeError(_NAME, value, reason, _EXPECTED)
    if not identifier:
        raise CodeError(_NAME, value, "nothing follows the country code", _EXPECTED)
    if len(identifier) > MAX_IDENTIFIER_LENGTH:
        reason = (
            f"{len(identifier)} characters follow the country code, "
            f"at most {MAX_IDENTIFIER_LENGTH} are allowed"
        )
        raise CodeError(_NAME, value, reason, _EXPECTED)
    return code


def country_part(code: str) -> str:
    """The canonical country of EORI number ``code`` (``EL…`` gives ``GR``, ``UK…`` ``GB``)."""
    return country.parse(parse(code)[:2])


def is_valid(value: object) -> bool:
    """True when ``value`` is a string that parses as an EORI number."""
    return SYSTEM.is_valid(value)


SYSTEM = CodeSystem(
    name=_NAME,
    title="EORI number",
    parse=parse,
    pattern=f"^(?:{alternation(country.ACCEPTED_CODES)})[0-9A-Z]{{1,{MAX_IDENTIFIER_LENGTH}}}$",
    description="EORI number: country code (EL, UK, XI accepted) and 1-15 letters or digits",
    examples=("DE1234567890123", "ELA123456789", "XI123456789000"),
)
