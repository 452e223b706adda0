"""Plugins: the hook specifications, the plugin manager, and loading with guards.

Plugins are found through the ``clen_core`` entry-point group (the built-in
CSV, JSON and Parquet formats too) and loaded once, on first need. Each
entry point loads and registers inside its own guard: a plugin that fails to
import or whose registration hook raises is reported by :func:`list_plugins`
and skipped, and nothing it registered in that hook stays. Environment:

- ``CLEN_STRICT_PLUGINS=1`` makes any failure fatal (:class:`PluginError`);
- ``CLEN_DISABLE_PLUGINS=a,b`` does not load the entry points named ``a``, ``b``.

Hooks run once at start-up, never per record. Registration hooks get a
``register`` callback (as in the ``llm`` project)::

    from clen_core import hookimpl
    from clen_core.formats import Format

    @hookimpl
    def clen_register_formats(register):
        register(Format(name="tsv", extensions=(".tsv",), description="...", read=..., write=...))
"""

from __future__ import annotations

import importlib.metadata
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs
import pluggy

from clen_core.errors import ClenError

if TYPE_CHECKING:
    import cattrs

__all__ = [
    "ENTRY_POINT_GROUP",
    "PluginError",
    "PluginInfo",
    "ensure_loaded",
    "get_plugin_manager",
    "hookimpl",
    "hookspec",
    "list_plugins",
    "register_plugin",
    "reload_plugins",
    "unregister_plugin",
]

ENTRY_POINT_GROUP = "clen_core"
"""Entry-point group plugins declare themselves in."""

hookspec = pluggy.HookspecMarker("clen_core")
"""Marks a hook specification (clen_core's own)."""
hookimpl = pluggy.HookimplMarker("clen_core")
"""Marks a plugin's hook implementation."""


class PluginError(ClenError, RuntimeError):
    """A plugin failed to load or register while ``CLEN_STRICT_PLUGINS=1``."""


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

_REGISTRATION_HOOKS = ("clen_register_entities", "clen_register_formats", "clen_register_rules")


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


def _strict() -> bool:
    return os.environ.get("CLEN_STRICT_PLUGINS", "") not in ("", "0", "false", "no")


def _disabled() -> set[str]:
    return {n.strip() for n in os.environ.get("CLEN_DISABLE_PLUGINS", "").split(",") if n.strip()}


def _fail(name: str, ep: importlib.metadata.EntryPoint | None, exc: BaseException) -> None:
    dist = getattr(ep, "dist", None) if ep is not None else None
    _infos[name] = PluginInfo(
        name=name,
        distribution=getattr(dist, "name", None),
        version=getattr(dist, "version", None),
        hooks=(),
        status="failed",
        error=f"{type(exc).__name__}: {exc}",
    )
    if _strict():
        raise PluginError(f"plugin {name!r} failed: {type(exc).__name__}: {exc}") from exc


def _registries() -> dict[str, dict[str, Any]]:
    from clen_core.formats import _REGISTRY as formats
    from clen_core.model.entity import _REGISTRY as entities
    from clen_core.rules.registry import _REGISTRY as rules

    return {"entity": entities, "format": formats, "rule": rules}


_owned: dict[str, list[tuple[str, str]]] = {}
"""What each plugin registered: (registry, key) pairs, so it can be undone."""


def _register_one(pm: pluggy.PluginManager, name: str, plugin: object) -> None:
    """Run one plugin's registration hooks; on failure undo what it registered."""
    from clen_core.formats import register_format
    from clen_core.model.entity import get_entity, register_entity
    from clen_core.rules.registry import register_rule

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


def _forget(name: str) -> None:
    registries = _registries()
    for registry, key in _owned.pop(name, []):
        registries[registry].pop(key, None)


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
        hooks = tuple(sorted(h for h in HOOK_NAMES if getattr(plugin, h, None) is not None))
        _infos[ep.name] = PluginInfo(
            ep.name, getattr(dist, "name", None), getattr(dist, "version", None), hooks, "loaded"
        )


def get_plugin_manager() -> pluggy.PluginManager:
    """The plugin manager, with every plugin loaded and registered (once)."""
    global _pm
    with _lock:
        if _pm is None:
            pm = pluggy.PluginManager("clen_core")
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
        pm.register(plugin, name=name)
        try:
            _register_one(pm, name, plugin)
        except Exception as exc:
            _fail(name, None, exc)
            return
        hooks = tuple(sorted(h for h in HOOK_NAMES if getattr(plugin, h, None) is not None))
        _infos[name] = PluginInfo(name, None, None, hooks, "loaded")
    from clen_core.converter import get_converter

    configure = getattr(plugin, "clen_configure_converter", None)
    if configure is not None and get_converter.cache_info().currsize:
        # The shared converter exists already: let the newcomer add its hooks to it.
        configure(converter=get_converter())


def unregister_plugin(name: str) -> None:
    """Remove a plugin and everything it registered (for tests and embedding applications)."""
    pm = get_plugin_manager()
    with _lock:
        _forget(name)
        _infos.pop(name, None)
        plugin = pm.get_plugin(name)
        if plugin is not None:
            pm.unregister(plugin)
    from clen_core.converter import get_converter

    get_converter.cache_clear()


def list_plugins() -> list[PluginInfo]:
    """Every plugin found: name, distribution, version, hooks, status and error."""
    ensure_loaded()
    return sorted(_infos.values(), key=lambda p: p.name)


def detect_format(path: str, head: bytes) -> str | None:
    """Ask the plugins which format a file is in (first answer wins)."""
    result: str | None = get_plugin_manager().hook.clen_detect_format(path=path, head=head)
    return result


def configure_converter(converter: cattrs.Converter) -> cattrs.Converter:
    """Let every plugin add its hooks to ``converter``."""
    get_plugin_manager().hook.clen_configure_converter(converter=converter)
    return converter


def reload_plugins() -> None:
    """Forget the loaded plugins and what they registered, and load them again (for tests)."""
    global _pm
    with _lock:
        for name in list(_owned):
            _forget(name)
        _infos.clear()
        _pm = None
    from clen_core.converter import get_converter

    get_converter.cache_clear()
    get_plugin_manager()
