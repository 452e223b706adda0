"""The plugin manager: finds plugins, loads them with guards, and fills the registries.

Plugins are found through the ``clen_core`` entry-point group (the built-in
CSV, JSON, listing and Parquet formats too) and loaded once, on first need: a
registry's look-up calls :func:`clen_core.registry.ensure_loaded`, whose loader
this module installs when it is imported (``clen_core/__init__`` imports it).
So the floors below never import this one; this one knows them all.

Each entry point loads and registers inside its own guard: a plugin that
fails to import, implements a hook that is not in the specification (a
misspelt name, told by pluggy: a hook implementation no specification
matches), or whose registration hook raises is reported by
:func:`list_plugins` and skipped, and nothing it registered stays.
Environment:

- ``CLEN_STRICT_PLUGINS=1`` makes any failure fatal (:class:`PluginError`);
- ``CLEN_DISABLE_PLUGINS=a,b`` does not load the entry points named ``a``, ``b``.

The hooks themselves are specified in :mod:`clen_core.hookspecs`; what a
plugin author imports is in :mod:`clen_core.plugin_api`.
"""

from __future__ import annotations

import difflib
import importlib.metadata
import os
import sys
import threading
from typing import Any

import attrs
import pluggy

from clen_core import registry
from clen_core.errors import PluginError
from clen_core.hookspecs import HOOK_NAMES, PROJECT, HookSpecs
from clen_core.io.formats import FORMAT_REGISTRY, register_format, set_detector
from clen_core.model.entity import ENTITY_REGISTRY, get_entity, register_entity
from clen_core.rules.registry import RULE_REGISTRY, register_rule

__all__ = [
    "ENTRY_POINT_GROUP",
    "PluginError",
    "PluginInfo",
    "detect_format",
    "ensure_loaded",
    "get_plugin_manager",
    "list_plugins",
    "register_plugin",
    "reload_plugins",
    "unregister_plugin",
]

ENTRY_POINT_GROUP = "clen_core"
"""Entry-point group plugins declare themselves in."""

_REGISTRATION_HOOKS = ("clen_register_entities", "clen_register_formats", "clen_register_rules")

_REGISTRIES: dict[str, registry.Registry[Any]] = {
    "entity": ENTITY_REGISTRY,
    "format": FORMAT_REGISTRY,
    "rule": RULE_REGISTRY,
}


@attrs.frozen
class PluginInfo:
    """A plugin as :func:`list_plugins` reports it."""

    name: str
    """Entry-point name."""
    distribution: str | None
    """Distribution (package) that provides it."""
    version: str | None
    """Version of that distribution."""
    hooks: tuple[str, ...]
    """Hooks it implements."""
    status: str
    """``loaded``, ``failed`` or ``disabled``."""
    error: str | None = None
    """Why it failed, when it did."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return attrs.asdict(self)


_lock = threading.RLock()
_pm: pluggy.PluginManager | None = None
_infos: dict[str, PluginInfo] = {}
_owned: dict[str, list[tuple[str, str]]] = {}
"""What each plugin registered: (registry, key) pairs, so it can be undone."""
_configuring: set[str] = set()
"""Plugins whose ``clen_configure_converter`` was handed to the converter."""


def _strict() -> bool:
    return os.environ.get("CLEN_STRICT_PLUGINS", "") not in ("", "0", "false", "no")


def _disabled() -> set[str]:
    return {n.strip() for n in os.environ.get("CLEN_DISABLE_PLUGINS", "").split(",") if n.strip()}


def _fail(name: str, ep: importlib.metadata.EntryPoint | None, exc: BaseException) -> None:
    dist = getattr(ep, "dist", None) if ep is not None else None
    # clen_core's own errors say what is wrong; another's type is part of the story. One
    # line (pluggy's own errors take several), for a table cell and a fatal message.
    text = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    error = text if isinstance(exc, PluginError) else f"{type(exc).__name__}: {text}"
    _infos[name] = PluginInfo(
        name=name,
        distribution=getattr(dist, "name", None),
        version=getattr(dist, "version", None),
        hooks=(),
        status="failed",
        error=error,
    )
    if _strict():
        raise PluginError(f"plugin {name!r} failed: {error}") from exc


def _hooks_of(plugin: object) -> tuple[str, ...]:
    return tuple(sorted(h for h in HOOK_NAMES if getattr(plugin, h, None) is not None))


def _unknown_hooks(pm: pluggy.PluginManager, plugin: object) -> list[str]:
    """The hooks ``plugin`` implements that no specification names (what pluggy's
    ``check_pending`` refuses, for this plugin alone); those marked
    ``optionalhook=True`` (for another version of clen_core) are allowed."""
    return sorted(
        caller.name
        for caller in pm.get_hookcallers(plugin) or ()
        if not caller.has_spec()
        and any(i.plugin is plugin and not i.optionalhook for i in caller.get_hookimpls())
    )


def _unknown_hook_error(names: list[str]) -> PluginError:
    name = names[0]
    close = difflib.get_close_matches(name, HOOK_NAMES, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]}?" if close else f"the hooks are {', '.join(HOOK_NAMES)}"
    more = f" (and {len(names) - 1} more)" if len(names) > 1 else ""
    return PluginError(f"{name} is not a clen_core hook{more}; {hint}")


def _register_one(pm: pluggy.PluginManager, name: str, plugin: object) -> None:
    """Run one plugin's registration hooks; on failure undo what it registered."""
    unknown = _unknown_hooks(pm, plugin)
    if unknown:
        pm.unregister(plugin)
        raise _unknown_hook_error(unknown)
    owned = _owned.setdefault(name, [])

    def add_entity(cls: type) -> None:
        info = get_entity(cls)
        register_entity(info)
        owned.append(("entity", info.name))

    def add_format(fmt: Any) -> None:
        register_format(fmt, plugin=name)
        owned.append(("format", fmt.name))

    def add_rule(rule: Any) -> None:
        register_rule(attrs.evolve(rule, origin=name))
        owned.append(("rule", rule.id))

    callbacks = {
        "clen_register_entities": add_entity,
        "clen_register_formats": add_format,
        "clen_register_rules": add_rule,
    }
    try:
        for hook in _REGISTRATION_HOOKS:
            impl = getattr(plugin, hook, None)
            if impl is not None:
                impl(register=callbacks[hook])
    except Exception:
        _forget(name)
        pm.unregister(plugin)
        raise
    configure = getattr(plugin, "clen_configure_converter", None)
    if configure is not None:
        # Imported here: the converter loads cattrs, which most commands never need.
        from clen_core.schema.converter import add_configurer

        def hand(converter: Any) -> None:
            configure(converter=converter)

        add_configurer(name, hand)
        _configuring.add(name)


def _forget(name: str) -> None:
    for kind, key in _owned.pop(name, []):
        _REGISTRIES[kind].remove(key)
    if name in _configuring:
        _configuring.discard(name)
        from clen_core.schema.converter import remove_configurer

        remove_configurer(name)


def _load(pm: pluggy.PluginManager) -> None:
    disabled = _disabled()
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep, "dist", None)
        if ep.name in disabled:
            _infos[ep.name] = PluginInfo(
                ep.name, getattr(dist, "name", None), getattr(dist, "version", None), (), "disabled"
            )
            continue
        try:
            plugin = ep.load()
            pm.register(plugin, name=ep.name)
            _register_one(pm, ep.name, plugin)
        except Exception as exc:
            _fail(ep.name, ep, exc)
            continue
        _infos[ep.name] = PluginInfo(
            ep.name,
            getattr(dist, "name", None),
            getattr(dist, "version", None),
            _hooks_of(plugin),
            "loaded",
        )


def get_plugin_manager() -> pluggy.PluginManager:
    """The plugin manager, with every plugin loaded and registered (once)."""
    global _pm
    with _lock:
        if _pm is None:
            pm = pluggy.PluginManager(PROJECT)
            pm.add_hookspecs(HookSpecs)
            _pm = pm  # set first: registration hooks may look things up
            try:
                _load(pm)
            except BaseException:
                _pm = None
                raise
        return _pm


def ensure_loaded() -> None:
    """Load the plugins if that has not happened yet (cheap after the first call)."""
    if _pm is None:
        get_plugin_manager()


def register_plugin(plugin: object, name: str) -> None:
    """Register a plugin object directly (for tests and applications that embed plugins)."""
    pm = get_plugin_manager()
    with _lock:
        try:
            pm.register(plugin, name=name)  # a name taken already stays the caller's error
        except pluggy.PluginValidationError as exc:  # a hook that does not fit its spec
            _fail(name, None, exc)
            return
        try:
            _register_one(pm, name, plugin)
        except Exception as exc:
            _fail(name, None, exc)
            return
        _infos[name] = PluginInfo(name, None, None, _hooks_of(plugin), "loaded")


def unregister_plugin(name: str) -> None:
    """Remove a plugin and everything it registered (for tests and embedding applications)."""
    pm = get_plugin_manager()
    with _lock:
        _forget(name)
        _infos.pop(name, None)
        plugin = pm.get_plugin(name)
        if plugin is not None:
            pm.unregister(plugin)


def list_plugins() -> list[PluginInfo]:
    """Every plugin found: name, distribution, version, hooks, status and error."""
    ensure_loaded()
    return sorted(_infos.values(), key=lambda p: p.name)


def detect_format(path: str, head: bytes) -> str | None:
    """Ask the plugins which format a file is in (first answer wins)."""
    result: str | None = get_plugin_manager().hook.clen_detect_format(path=path, head=head)
    return result


def reload_plugins() -> None:
    """Forget the loaded plugins and what they registered, and load them again (for tests)."""
    global _pm
    with _lock:
        for name in list(_owned) + list(_configuring):
            _forget(name)
        _infos.clear()
        _pm = None
    converter = sys.modules.get("clen_core.schema.converter")
    if converter is not None:
        converter.get_converter.cache_clear()
    get_plugin_manager()


# The floors below call these through the slots they leave for the manager.
registry.set_loader(ensure_loaded)
set_detector(detect_format)
