"""UN numbers: the four-digit dangerous-goods numbers of the UN Model Regulations.

Canonical form: four digits, e.g. ``1170`` (ethanol solution). ``0000`` is not a UN number;
no other range test is made and there is no check digit.

Accepted written forms: surrounding whitespace and a ``UN`` prefix in any case, with or
without a space (``"UN 1170"``, ``"UN1170"``, ``"un 1170"``).
"""

from __future__ import annotations

import re

from clen_core.codes._base import CodeSystem, require_text
from clen_core.errors import CodeError

__all__ = ["SYSTEM", "is_valid", "parse"]

_NAME = "un"
_EXPECTED = "a UN number of 4 digits such as '1170' (written '1170', 'UN 1170' or 'UN1170')"
_PREFIX = re.compile(r"[Uu][Nn]\s*")
_DIGITS = re.compile(r"[0-9]{4}")


def parse(value: str) -> str:
    """Return the canonical UN number of ``value``, or raise :class:`~clen_core.CodeError`."""
    text = require_text(_NAME, value, _EXPECTED)
    prefix = _PREFIX.match(text)
    body = text[prefix.end() :] if prefix is not None else text
    if _DIGITS.fullmatch(body) is None:
        if body.isascii() and body.isdigit():
            reason = f"it has {len(body)} digit(s), a UN number has 4 (leading zeros kept)"
        elif not body:
            reason = "there are no digits after 'UN'"
        else:
            reason = "it may contain only 4 digits after an optional 'UN' prefix"
        raise CodeError(_NAME, value, reason, _EXPECTED)
    if body == "0000":
        raise CodeError(_NAME, value, "0000 is not a UN number", _EXPECTED)
    return body


def is_valid(value: object) -> bool:
    """True when ``value`` is a string that parses as a UN number."""
    return SYSTEM.is_valid(value)


SYSTEM = CodeSystem(
    name=_NAME,
    title="UN number",
    parse=parse,
    pattern=r"^(?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})$",
    description="UN dangerous-goods number: 4 digits, not 0000",
    examples=("1170", "1090", "0004"),
)
