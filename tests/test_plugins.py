"""The plugin system: every hook documented and tested, guarded loading, the environment switches.

Hook tests are named ``test_hook_<hook name>``; a test fails when a hook has no such
test or no section in docs/plugins.md (as the datasette project does).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import cattrs
import pytest

import clen_core
from clen_core import Format, FormatError, hookimpl
from clen_core.hookspecs import HOOK_NAMES
from clen_core.io.formats import format_for_path, formats, get_format
from clen_core.io.records import RawRecord
from clen_core.model import Dataset, entity, field
from clen_core.plugins import (
    PluginError,
    list_plugins,
    register_plugin,
    unregister_plugin,
)
from clen_core.rules import Severity, record_rule, rules

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs" / "plugins.md"


# --------------------------------------------------------------------------- meta tests


def test_every_hook_has_a_test() -> None:
    tested = {n.removeprefix("test_hook_") for n in globals() if n.startswith("test_hook_")}
    assert set(HOOK_NAMES) <= tested, f"untested hooks: {set(HOOK_NAMES) - tested}"


def test_every_hook_is_documented_with_its_signature() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for hook in HOOK_NAMES:
        assert f"### `{hook}(" in text, f"docs/plugins.md lacks a section for {hook}"


def test_hooks_are_the_contract_of_the_design() -> None:
    assert set(HOOK_NAMES) == {
        "clen_register_formats",
        "clen_register_rules",
        "clen_register_entities",
        "clen_configure_converter",
        "clen_detect_format",
    }
    assert clen_core.hookspec.project_name == "clen_core"
    assert clen_core.hookimpl.project_name == "clen_core"


def test_builtin_formats_are_plugins_loaded_through_entry_points() -> None:
    by_name = {p.name: p for p in list_plugins()}
    for name in ("csv", "json", "listing", "parquet"):
        assert by_name[name].status == "loaded"
        assert by_name[name].distribution == "clen_core"
        assert by_name[name].version == clen_core.__version__
        assert "clen_register_formats" in by_name[name].hooks
    assert {f.plugin for f in formats()} >= {"csv", "json", "listing", "parquet"}


# --------------------------------------------------------------------------- a test plugin


class _Temp:
    """Registers a plugin object for one test, and removes it and its registrations after."""

    def __init__(self, plugin: object, name: str) -> None:
        self.plugin, self.name = plugin, name

    def __enter__(self) -> object:
        register_plugin(self.plugin, self.name)
        return self.plugin

    def __exit__(self, *exc: object) -> None:
        unregister_plugin(self.name)


def _read_weird(source: IO[bytes], info: Any, path: str) -> Iterator[RawRecord]:
    lines = source.read().decode().splitlines()[1:]
    for i, line in enumerate(lines, 2):
        yield RawRecord(i, json.loads(line))


class WeirdFormat:
    @hookimpl
    def clen_register_formats(self, register: Any) -> None:
        register(Format(name="weird", extensions=(".weird",), description="test", read=_read_weird))

    @hookimpl
    def clen_detect_format(self, path: str, head: bytes) -> str | None:
        return "weird" if head.startswith(b"WEIRD") else None


def test_hook_clen_register_formats(tmp_path: Path) -> None:
    with _Temp(WeirdFormat(), "weird-plugin"):
        fmt = get_format("weird")
        assert fmt.plugin == "weird-plugin"
        path = tmp_path / "x.weird"
        path.write_text('WEIRD\n{"number": 1, "name": "ILIADe", "coordinator": "Italy"}\n')
        (action,) = list(clen_core.read(path, entity="action"))
        assert action.name == "ILIADe"
    with pytest.raises(clen_core.io.formats.UnknownFormatError):
        get_format("weird")


def test_hook_clen_detect_format(tmp_path: Path) -> None:
    path = tmp_path / "noext"
    path.write_text('WEIRD\n{"number": 2, "name": "PT", "coordinator": "Greece"}\n')
    with _Temp(WeirdFormat(), "weird-plugin"):
        assert format_for_path(path, head=path.read_bytes()[:10]).name == "weird"
        assert [a.number for a in clen_core.read(path, entity="action")] == [2]
    with pytest.raises(clen_core.io.formats.UnknownFormatError, match="give format="):
        format_for_path(path, head=b"nothing known")


class RulePlugin:
    @hookimpl
    def clen_register_rules(self, register: Any) -> None:
        @record_rule("TST-101", "warning", "activity", "A test rule.", register=False)
        def big(obj: Any) -> Iterator[tuple[str, Any, str]]:
            if (obj.participants or 0) > 500:
                yield "participants", obj.participants, "more than 500"

        register(big)


def _activity(participants: int) -> clen_core.Activity:
    return clen_core.Activity(
        activity_id=f"A{participants}",
        action=5,
        kind=clen_core.ActivityKind.SEMINAR,
        theme="T",
        city="Berlin",
        country="DE",
        start=dt.date(2023, 5, 1),
        end=dt.date(2023, 5, 3),
        participants=participants,
    )


def test_hook_clen_register_rules() -> None:
    with _Temp(RulePlugin(), "rule-plugin"):
        r = clen_core.rules.get_rule("TST-101")
        assert r.origin == "rule-plugin"
        assert r in rules(entity="activity")
        report = clen_core.validate([_activity(10), _activity(600)])
        (finding,) = report.filter(rule="TST-101")
        assert (finding.key, finding.row, finding.field) == ("A600", 2, "participants")
        assert finding.severity is Severity.WARNING
    assert "TST-101" not in clen_core.rules.RULES


@entity("tst_instrument", key="serial", register=False)
class Instrument:
    """A laboratory instrument (a plugin's entity)."""

    serial: str = field("Serial number.")
    lab_id: str = field("Laboratory that owns it.", ref="laboratory")
    bought: dt.date | None = field("Purchase date.", default=None)


class EntityPlugin:
    @hookimpl
    def clen_register_entities(self, register: Any) -> None:
        register(Instrument)


def test_hook_clen_register_entities(tmp_path: Path) -> None:
    with pytest.raises(clen_core.model.UnknownEntityError):
        clen_core.get_entity("tst_instrument")
    with _Temp(EntityPlugin(), "entity-plugin"):
        assert clen_core.get_entity("tst_instrument").cls is Instrument
        item = Instrument(serial="GC-1", lab_id="L-9", bought=dt.date(2020, 1, 2))
        # Everything derived works for it: schemas, files, rules across entities.
        assert clen_core.json_schema("tst_instrument")["required"] == ["serial", "lab_id"]
        clen_core.write([item], tmp_path / "i.json")
        assert list(clen_core.read(tmp_path / "i.json", entity="tst_instrument")) == [item]
        lab = clen_core.Laboratory(lab_id="L-1", name="Lab", country="AT")
        report = clen_core.validate(Dataset([item, lab]), only=["REF-001"])
        assert [(f.entity, f.field, f.value) for f in report] == [
            ("tst_instrument", "lab_id", "L-9")
        ]
    with pytest.raises(clen_core.model.UnknownEntityError):
        clen_core.get_entity("tst_instrument")


class Money:
    def __init__(self, cents: int) -> None:
        self.cents = cents


class ConverterPlugin:
    @hookimpl
    def clen_configure_converter(self, converter: cattrs.Converter) -> None:
        converter.register_unstructure_hook(Money, lambda m: f"{m.cents / 100:.2f} EUR")


def test_hook_clen_configure_converter() -> None:
    from clen_core.schema.converter import get_converter

    get_converter()  # exists already: the newcomer configures it
    with _Temp(ConverterPlugin(), "converter-plugin"):
        assert get_converter().unstructure(Money(1250)) == "12.50 EUR"
    # A fresh converter after the plugin left has no trace of it.
    assert get_converter().unstructure(Money(1)) is not None
    assert get_converter().unstructure(Money(1)) != "0.01 EUR"


class FailingPlugin:
    @hookimpl
    def clen_register_formats(self, register: Any) -> None:
        register(Format(name="half", extensions=(".half",), description="registered first"))
        raise RuntimeError("boom while registering")


def test_a_plugin_that_fails_to_register_is_reported_and_undone() -> None:
    register_plugin(FailingPlugin(), "failing")
    try:
        (info,) = [p for p in list_plugins() if p.name == "failing"]
        assert info.status == "failed"
        assert info.error == "RuntimeError: boom while registering"
        assert "half" not in clen_core.io.formats.FORMATS  # undone
        assert get_format("csv").name == "csv"  # the rest works
    finally:
        unregister_plugin("failing")


# --------------------------------------------------------------------------- entry points


def _fake_distribution(root: Path, name: str, module_source: str) -> None:
    """A distribution on disk with a clen_core entry point, as pip would install it."""
    dist = root / f"{name}-0.3.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.3\n")
    (dist / "entry_points.txt").write_text(f"[clen_core]\n{name} = {name}_mod\n")
    (root / f"{name}_mod.py").write_text(textwrap.dedent(module_source))


def _run(code: str, pythonpath: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CLEN_")}
    environ.update(env, PYTHONPATH=str(pythonpath))
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=environ,
        timeout=120,
    )


LIST = """
    import json, clen_core
    from clen_core.plugins import list_plugins
    print(json.dumps([p.to_dict() for p in list_plugins()]))
    print(sorted(f.name for f in clen_core.io.formats.formats()))
"""


@pytest.fixture(scope="module")
def broken_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("plugins")
    _fake_distribution(root, "broken", "raise ImportError('missing dependency: nope')\n")
    _fake_distribution(
        root,
        "good",
        """
        from clen_core import Format, hookimpl

        @hookimpl
        def clen_register_formats(register):
            register(Format(name="good", extensions=(".good",), description="ok"))
        """,
    )
    return root


def test_a_plugin_that_fails_to_import_is_reported_and_skipped(broken_env: Path) -> None:
    done = _run(LIST, broken_env)
    assert done.returncode == 0, done.stderr
    plugins_json, names = done.stdout.splitlines()
    by_name = {p["name"]: p for p in json.loads(plugins_json)}
    assert by_name["broken"]["status"] == "failed"
    assert by_name["broken"]["error"] == "ImportError: missing dependency: nope"
    assert by_name["broken"]["version"] == "0.3"
    assert by_name["good"]["status"] == "loaded"
    assert by_name["good"]["hooks"] == ["clen_register_formats"]
    assert "good" in names
    assert "csv" in names


def test_strict_plugins_makes_a_failure_fatal(broken_env: Path) -> None:
    done = _run(LIST, broken_env, CLEN_STRICT_PLUGINS="1")
    assert done.returncode != 0
    assert "PluginError: plugin 'broken' failed: ImportError: missing dependency: nope" in (
        done.stderr
    )


def test_disabled_plugins_are_not_loaded(broken_env: Path) -> None:
    done = _run(LIST, broken_env, CLEN_DISABLE_PLUGINS="broken,good", CLEN_STRICT_PLUGINS="1")
    assert done.returncode == 0, done.stderr
    plugins_json, names = done.stdout.splitlines()
    by_name = {p["name"]: p for p in json.loads(plugins_json)}
    assert by_name["broken"]["status"] == "disabled"
    assert by_name["good"]["status"] == "disabled"
    assert "good" not in names


def test_plugin_error_type() -> None:
    assert issubclass(PluginError, clen_core.ClenError)


def test_unknown_extension_names_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(clen_core.io.formats.UnknownFormatError, match=r"\.csv"):
        format_for_path(tmp_path / "data.xyz")


def test_reading_with_a_write_only_format_is_a_clear_error(tmp_path: Path) -> None:
    class WriteOnly:
        @hookimpl
        def clen_register_formats(self, register: Any) -> None:
            register(Format(name="wo", extensions=(".wo",), description="x", write=print))

    path = tmp_path / "a.wo"
    path.write_text("x")
    with _Temp(WriteOnly(), "wo-plugin"), pytest.raises(FormatError, match="cannot read"):
        clen_core.read(path, entity="action")
