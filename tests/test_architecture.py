"""The layout holds: floors import only down, no import cycle, the core imports no plugin,
plugins import only the plugin API and the public model.

The import graph is read by grimp from the installed package (CI installs it with
``pip install .``), every import counted: at module level, inside functions, and
under ``TYPE_CHECKING``. ``docs/architecture.md`` describes the floors; this test is
what keeps that page true.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest

import clen_core

CORE = "clen_core"
LAUNCHER = "clen_core_launch"
PLUGINS = (
    "clen_core_csv",
    "clen_core_json",
    "clen_core_listing",
    "clen_core_parquet",
    "clen_core_xlsx",
)

FLOORS: tuple[tuple[str, ...], ...] = (
    ("clen_core._version", "clen_core.errors"),
    ("clen_core.limits", "clen_core.registry", "clen_core.hookspecs"),
    ("clen_core.codes",),
    ("clen_core.model", "clen_core.compliance"),
    ("clen_core.schema",),
    ("clen_core.rules",),
    ("clen_core.io",),
    ("clen_core.proficiency",),
    ("clen_core.plugins", "clen_core.plugin_api"),
    ("clen_core.data", "clen_core.testing"),
    ("clen_core.synth",),
    ("clen_core.cli",),
    ("clen_core._docs", "clen_core.__main__"),
)
"""The floors from the bottom up: a module may import its own floor and those below."""
APPLICATION = next(i for i, floor in enumerate(FLOORS) if "clen_core.cli" in floor)
"""From this floor up (the command), a module may import the package root."""

PLUGIN_MAY_IMPORT = (
    "clen_core",  # the package root: the public API (hookimpl, __version__, ...)
    "clen_core.plugin_api",
    "clen_core.model",
    "clen_core.codes",
    "clen_core.data",
    "clen_core.io.parquet",  # the Parquet plugin registers the one Parquet module
)
"""What a built-in plugin may import of clen_core (and a third party should)."""


@functools.cache
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(CORE, LAUNCHER, *PLUGINS, cache_dir=None)


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _floor(module: str) -> int | None:
    for level, packages in enumerate(FLOORS):
        if any(_within(module, p) for p in packages):
            return level
    return None


def _imports(module: str) -> Iterator[tuple[str, int | None]]:
    """The modules ``module`` imports directly, with the line of each import."""
    g = graph()
    for imported in sorted(g.find_modules_directly_imported_by(module)):
        details = g.get_import_details(importer=module, imported=imported)
        yield imported, details[0]["line_number"] if details else None


def test_the_graph_covers_the_installed_package() -> None:
    # grimp reads the files Python would import: in CI, the wheel's (pip install .).
    core = {m for m in graph().modules if _within(m, CORE)}
    assert f"{CORE}.io.readwrite" in core
    assert f"{CORE}.proficiency.statistics" in core
    assert len(core) > 50


def test_every_core_module_has_a_floor() -> None:
    unplaced = sorted(
        m for m in graph().modules if _within(m, CORE) and m != CORE and _floor(m) is None
    )
    assert unplaced == [], "add these to FLOORS and to docs/architecture.md"


def test_no_import_goes_up_a_floor() -> None:
    up = []
    for module in sorted(graph().modules):
        level = _floor(module)
        if level is None:
            continue
        for imported, line in _imports(module):
            if imported == CORE and level < APPLICATION:
                up.append(f"{module}:{line} imports the package root {CORE}")
                continue
            other = _floor(imported)
            if other is not None and other > level:
                up.append(f"{module}:{line} imports {imported} (floor {other} > {level})")
    assert up == []


def _cycles(edges: dict[str, list[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    modules = set(edges)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(modules):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            if i < len(edges[node]):
                work.append((node, i + 1))
                nxt = edges[node][i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    component.append(m)
                    if m == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    # The check below must be able to fail: a graph with one planted cycle and a tail.
    edges = {"a": ["b"], "b": ["c"], "c": ["a", "d"], "d": [], "e": ["d"]}
    assert _cycles(edges) == [["a", "b", "c"]]
    assert _cycles({"a": ["b"], "b": [], "c": ["a"]}) == []


def test_no_import_cycle_in_clen_core_or_its_launcher() -> None:
    g = graph()
    modules = {m for m in g.modules if _within(m, CORE) or _within(m, LAUNCHER)}
    edges = {m: sorted(g.find_modules_directly_imported_by(m) & modules) for m in modules}
    assert _cycles(edges) == []


def test_the_core_never_imports_a_plugin_or_the_launcher() -> None:
    bad = [
        f"{m}:{line} imports {imported}"
        for m in sorted(graph().modules)
        if _within(m, CORE)
        for imported, line in _imports(m)
        if any(_within(imported, p) for p in (*PLUGINS, LAUNCHER))
    ]
    assert bad == []


@pytest.mark.parametrize("plugin", PLUGINS)
def test_a_plugin_imports_only_the_plugin_api_and_the_public_model(plugin: str) -> None:
    bad = []
    for module in sorted(m for m in graph().modules if _within(m, plugin)):
        for imported, line in _imports(module):
            if not _within(imported, CORE):
                continue
            private = any(part.startswith("_") for part in imported.split("."))
            allowed = any(
                imported == p or (p != CORE and _within(imported, p)) for p in PLUGIN_MAY_IMPORT
            )
            if private or not allowed:
                bad.append(f"{module}:{line} imports {imported}")
    assert bad == []


def test_the_hook_specifications_and_the_base_import_nothing_above_them() -> None:
    for module in ("clen_core.hookspecs", "clen_core.errors", "clen_core._version"):
        assert [i for i, _ in _imports(module) if _within(i, CORE)] == [], module


def test_the_top_level_is_small() -> None:
    root = Path(clen_core.__file__).parent
    modules = sorted(
        p.name
        for p in root.glob("*.py")
        if p.name not in ("__init__.py", "__main__.py", "_version.py")
    )
    assert len(modules) <= 12, modules


@pytest.mark.parametrize("name", ["convert", "validate_file", "read", "write", "validate"])
def test_the_library_offers_what_the_command_does(name: str) -> None:
    assert callable(getattr(clen_core, name))
    assert name in clen_core.__all__


def test_every_public_exception_is_in_the_error_tree() -> None:
    from clen_core import errors

    found = {}
    for module in sorted(
        m for m in graph().modules if _within(m, CORE) and m != "clen_core.__main__"
    ):
        if module in ("clen_core.cli", "clen_core._docs"):
            continue  # the application: its exceptions are not the library's
        try:
            loaded = importlib.import_module(module)
        except ImportError:  # an optional engine (Spark, Dask) not installed
            continue
        for name in getattr(loaded, "__all__", ()):
            value = getattr(loaded, name)
            if isinstance(value, type) and issubclass(value, BaseException):
                found[f"{module}.{name}"] = value
    assert found, "no exception found: the scan is broken"
    for where, exc in found.items():
        assert issubclass(exc, errors.ClenError), where
        assert getattr(errors, exc.__name__, None) is exc, f"{where} is not in clen_core.errors"
