"""Registries: the tables of entities, formats and rules that plugins fill.

A :class:`Registry` maps names to items (an entity's :class:`EntityInfo`, a
:class:`Format`, a :class:`Rule`). Each floor owns its registry
(``model.entity.ENTITY_REGISTRY``, ``io.formats.FORMAT_REGISTRY``,
``rules.registry.RULE_REGISTRY``) and never calls up: when a look-up needs
the plugins, it calls :func:`ensure_loaded`, whose loader the plugin manager
(:mod:`clen_core.plugins`) installs with :func:`set_loader` when it is
imported. The registries thus know nothing of pluggy or entry points; the
manager knows the registries.

This module imports nothing of clen_core but the errors.
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType
from typing import Generic, TypeVar

from clen_core.errors import ClenError, UnknownNameError

__all__ = ["Registry", "ensure_loaded", "set_loader"]

T = TypeVar("T")

_loader: Callable[[], None] | None = None


def set_loader(loader: Callable[[], None] | None) -> None:
    """Install the function that loads the plugins (the plugin manager does, once)."""
    global _loader
    _loader = loader


def ensure_loaded() -> None:
    """Load the plugins, if a loader is installed and has not run (cheap after the first call)."""
    if _loader is not None:
        _loader()


class Registry(Generic[T]):
    """Items by name, added by clen_core and by plugins; look-ups load the plugins first.

    ``kind`` names the items in messages (``"entity"``, ``"format"``, ``"rule"``);
    ``unknown`` is the error a failed look-up raises; ``same`` tells whether a
    second registration under a taken name is the same item again (allowed) or
    another one (an error naming ``owner`` of the first).
    """

    __slots__ = ("_items", "kind", "owner", "same", "unknown", "view")

    def __init__(
        self,
        kind: str,
        *,
        unknown: type[UnknownNameError],
        same: Callable[[T, T], bool],
        owner: Callable[[T], object],
    ) -> None:
        self._items: dict[str, T] = {}
        self.kind = kind
        """What the items are, for messages."""
        self.unknown = unknown
        """The error of a look-up that finds nothing."""
        self.same = same
        """Whether two items under one name are the same registration."""
        self.owner = owner
        """Who registered an item, for messages."""
        self.view: MappingProxyType[str, T] = MappingProxyType(self._items)
        """Read-only view of the items by name, as registered so far (no loading)."""

    def add(self, name: str, item: T) -> T:
        """Register ``item`` under ``name``; a name taken by another item is an error."""
        existing = self._items.get(name)
        if existing is not None and not self.same(existing, item):
            raise ClenError(f"{self.kind} {name!r} is already registered by {self.owner(existing)}")
        self._items[name] = item
        return item

    def remove(self, name: str) -> T | None:
        """Take ``name`` out (a plugin that failed, a test); the item, or ``None``."""
        return self._items.pop(name, None)

    def get(self, name: str) -> T:
        """The item called ``name``, loading the plugins first if it is not there yet."""
        if name not in self._items:
            ensure_loaded()
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "none"
            raise self.unknown(f"unknown {self.kind} {name!r}; known: {known}") from None

    def values(self) -> tuple[T, ...]:
        """Every item, plugins' included, in registration order."""
        ensure_loaded()
        return tuple(self._items.values())
