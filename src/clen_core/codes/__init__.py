"""Code systems: parse written identifiers and codes into their canonical form.

Each module (:mod:`~clen_core.codes.cas`, :mod:`~clen_core.codes.ec`,
:mod:`~clen_core.codes.cus`, :mod:`~clen_core.codes.un`, :mod:`~clen_core.codes.hs`,
:mod:`~clen_core.codes.cn`, :mod:`~clen_core.codes.taric`,
:mod:`~clen_core.codes.country`, :mod:`~clen_core.codes.eori`,
:mod:`~clen_core.codes.language`) has the same three names:

* ``parse(value)`` returns the canonical form or raises :class:`~clen_core.CodeError`
  saying what is wrong and what was expected (for any input, ``str`` or not);
* ``is_valid(value)`` says whether ``parse`` would succeed;
* ``SYSTEM``, a :class:`CodeSystem` with the name, title, canonical pattern and examples.

:data:`CODE_SYSTEMS` maps each system's name to it; :func:`get_code_system` looks one up.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from clen_core.codes import cas, cn, country, cus, ec, eori, hs, language, taric, un
from clen_core.codes._base import CodeSystem, UnknownCodeSystemError

__all__ = [
    "CODE_SYSTEMS",
    "CodeSystem",
    "UnknownCodeSystemError",
    "cas",
    "cn",
    "country",
    "cus",
    "ec",
    "eori",
    "get_code_system",
    "hs",
    "language",
    "taric",
    "un",
]

CODE_SYSTEMS: Mapping[str, CodeSystem] = MappingProxyType(
    {
        module.SYSTEM.name: module.SYSTEM
        for module in (cas, ec, cus, un, hs, cn, taric, country, eori, language)
    }
)
"""Every code system, keyed by name (``"cas"``, ``"ec"``, ``"cus"``, ``"un"``, ``"hs"``,
``"cn"``, ``"taric"``, ``"country"``, ``"eori"``, ``"language"``); read-only."""


def get_code_system(name: str) -> CodeSystem:
    """The code system called ``name``.

    Raises :class:`UnknownCodeSystemError` (a :class:`~clen_core.ClenError` and
    :class:`LookupError`) listing the known names when there is none.
    """
    system = CODE_SYSTEMS.get(name) if isinstance(name, str) else None
    if system is None:
        raise UnknownCodeSystemError(name, CODE_SYSTEMS)
    return system
