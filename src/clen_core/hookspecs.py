"""The hooks a clen_core plugin may implement, and the markers that declare them.

Plugin authors import the markers from :mod:`clen_core.plugin_api` (or the
package root); the plugin manager (:mod:`clen_core.plugins`) adds these
specifications. Like ``llm/hookspecs.py``, this module imports nothing of
clen_core: it is the contract, not the machinery. Hooks run once at start-up,
never per record; registration hooks get a ``register`` callback. A plugin that
implements a hook not specified here (a misspelt name) fails to load, unless the
implementation is marked ``hookimpl(optionalhook=True)`` (a hook of another
version of clen_core).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import cattrs

__all__ = ["HOOK_NAMES", "PROJECT", "HookSpecs", "hookimpl", "hookspec"]

PROJECT = "clen_core"
"""pluggy's project name: the markers and the manager share it."""

hookspec = pluggy.HookspecMarker(PROJECT)
"""Marks a hook specification (clen_core's own)."""
hookimpl = pluggy.HookimplMarker(PROJECT)
"""Marks a plugin's hook implementation."""


class HookSpecs:
    """The hooks a plugin may implement (all prefixed ``clen_``)."""

    @hookspec
    def clen_register_formats(self, register: Callable[[Any], None]) -> None:
        """Register file formats: call ``register(Format(...))`` for each."""

    @hookspec
    def clen_register_rules(self, register: Callable[[Any], None]) -> None:
        """Register validation rules: call ``register(rule)`` for each :class:`~clen_core.Rule`."""

    @hookspec
    def clen_register_entities(self, register: Callable[[type], None]) -> None:
        """Register entities: call ``register(cls)`` for each class made with ``@entity``."""

    @hookspec
    def clen_configure_converter(self, converter: cattrs.Converter) -> None:
        """Add cattrs hooks to the converter of the JSON form (e.g. for a plugin's own types)."""

    @hookspec(firstresult=True)
    def clen_detect_format(self, path: str, head: bytes) -> str | None:
        """Name the format of a file whose extension says nothing, from its first bytes; or None."""


HOOK_NAMES = tuple(sorted(n for n in vars(HookSpecs) if n.startswith("clen_")))
"""Names of every hook."""
