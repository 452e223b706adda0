"""The plugin author's kit: writers told their file, misspelt hooks caught, each rule's
plugin shown, and docs/plugins.md's examples and test template run as they stand.

The template of "Testing your plugin" is taken from the page and run with pytest, in a
process of its own, against a plugin installed as pip would install it and made of the
page's two examples (the ``lines`` format and the ``EXA-002`` table rule).
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import io
import json
import os
import re
import subprocess
import sys
import textwrap
import types
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import attrs
import pyarrow as pa
import pytest

import clen_core
from clen_core import Format, FormatError, hookimpl
from clen_core.hookspecs import HOOK_NAMES
from clen_core.io.formats import FORMATS, get_format
from clen_core.io.records import RawRecord, json_rows
from clen_core.model import Dataset, EntityInfo, get_entity
from clen_core.plugins import (
    PluginError,
    PluginInfo,
    list_plugins,
    register_plugin,
    unregister_plugin,
)
from clen_core.rules import get_rule, record_rule, rules
from clen_core.rules.registry import BUILTIN
from test_cli import clen  # type: ignore[import-not-found]

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs" / "plugins.md"
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _section(title: str) -> str:
    """The text of docs/plugins.md under ``title``, up to the next heading of any level."""
    text = DOCS.read_text(encoding="utf-8")
    start = text.index(f"\n{title}\n")
    end = re.compile(r"\n#{2,3} ").search(text, start + 1)
    return text[start : end.start() if end else len(text)]


def _blocks(title: str) -> list[str]:
    return BLOCK.findall(_section(title))


FORMAT_EXAMPLE = _blocks("### `clen_register_formats(register)`")[0]
RULE_EXAMPLE = _blocks("## Table rules")[0]
TEMPLATE = _blocks("## Testing your plugin")[0]


class _Temp:
    """Registers a plugin object for one test, and removes it and its registrations after."""

    def __init__(self, plugin: object, name: str) -> None:
        self.plugin, self.name = plugin, name

    def __enter__(self) -> PluginInfo:
        register_plugin(self.plugin, self.name)
        return _info(self.name)

    def __exit__(self, *exc: object) -> None:
        unregister_plugin(self.name)


def _info(name: str) -> PluginInfo:
    (info,) = [p for p in list_plugins() if p.name == name]
    return info


def _module(name: str, source: str) -> types.ModuleType:
    module = types.ModuleType(name)
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    return module


def _installed(root: Path, name: str, source: str) -> Path:
    """A distribution on disk with a ``clen_core`` entry point, as pip would install it."""
    dist = root / f"{name}-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[clen_core]\n{name} = {name}\n")
    (root / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    return root


def _clen(*args: str | Path, site: Path, **env: str) -> subprocess.CompletedProcess[str]:
    done: subprocess.CompletedProcess[str] = clen(*args, env={"PYTHONPATH": str(site), **env})
    return done


def _activity(i: int, participants: int | None = 10) -> clen_core.Activity:
    return clen_core.Activity(
        activity_id=f"A{i}",
        action=5,
        kind=clen_core.ActivityKind.SEMINAR,
        theme="T",
        city="Berlin",
        country="DE",
        start=dt.date(2023, 5, 1),
        end=dt.date(2023, 5, 3),
        participants=participants,
    )


# --------------------------------------------------------------------------- writers told the file


def _read_rec(source: IO[bytes], info: EntityInfo, path: str) -> Iterator[RawRecord]:
    for row, line in enumerate(source, 1):
        yield RawRecord(row, json.loads(line))


def _rows(sink: IO[bytes], info: EntityInfo, batches: Iterable[pa.RecordBatch]) -> int:
    n = 0
    for batch in batches:
        for values in json_rows(batch, info):
            sink.write(json.dumps(values).encode() + b"\n")
            n += 1
    return n


class Recording:
    """A format whose writers note the path they are given, and refuse more than MAX rows."""

    MAX = 3

    def __init__(self) -> None:
        self.paths: list[str] = []

    def write(
        self, sink: IO[bytes], info: EntityInfo, batches: Iterable[pa.RecordBatch], path: str
    ) -> None:
        self.paths.append(path)
        if _rows(sink, info, batches) > self.MAX:
            raise FormatError(path, f"more than {self.MAX} rows")

    def write_dataset(
        self, sink: IO[bytes], tables: Iterable[tuple[EntityInfo, Iterable[Any]]], path: str
    ) -> None:
        self.paths.append(path)
        for info, batches in tables:
            _rows(sink, info, batches)

    @hookimpl
    def clen_register_formats(self, register: Callable[[Format], None]) -> None:
        register(
            Format(
                name="rec",
                extensions=(".rec",),
                description="records, one JSON object a line",
                read=_read_rec,
                write=self.write,
                write_dataset=self.write_dataset,
            )
        )


def test_a_writer_is_told_the_file_it_writes_not_the_temporary_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    plugin = Recording()
    lab = clen_core.Laboratory(lab_id="L-1", name="Lab", country="AT")
    dataset = Dataset([_activity(2), lab])
    with _Temp(plugin, "recording"):
        clen_core.write([_activity(1)], tmp_path / "one.rec")
        clen_core.write_dataset(dataset, tmp_path / "all.rec")
        clen_core.write_dataset(dataset, tmp_path / "folder", format="rec")
        clen_core.convert(tmp_path / "one.rec", "copy.rec", entity="activity")
    assert plugin.paths == [
        str(tmp_path / "one.rec"),
        str(tmp_path / "all.rec"),
        # A folder of files, one per entity.
        *(str(tmp_path / "folder" / f"{info.name}.rec") for info in dataset.entities),
        "copy.rec",  # as the caller named it: relative stays relative
    ]


def test_a_writers_error_names_the_target_and_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "many.rec"
    with _Temp(Recording(), "recording"), pytest.raises(FormatError) as exc:
        clen_core.write([_activity(i) for i in range(4)], target)
    assert exc.value.path == str(target)
    assert str(exc.value) == f"{target}: more than 3 rows"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["csv", "json", "jsonl", "parquet", "xlsx"])
def test_every_built_in_writer_takes_the_path(name: str) -> None:
    fmt = get_format(name)
    assert fmt.write is not None
    assert "path" in inspect.signature(fmt.write).parameters
    if fmt.write_dataset is not None:
        assert "path" in inspect.signature(fmt.write_dataset).parameters


def test_the_xlsx_writer_names_the_workbook_through_clen(tmp_path: Path) -> None:
    score = clen_core.PTScore(
        study_id="PT-1", lab_id="L-1", assigned_value=1.0, sigma_pt=1.0, note="x" * 32_768
    )
    clen_core.write([score], tmp_path / "scores.json")
    done = clen("convert", tmp_path / "scores.json", tmp_path / "scores.xlsx", "-e", "pt_score")
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        f"error: {tmp_path / 'scores.xlsx'}, row 2, field note: sheet pt_score: a cell cannot "
        "be written: 32,768 characters, more than the 32,767 an Excel cell holds"
    ]
    assert not (tmp_path / "scores.xlsx").exists()


# --------------------------------------------------------------------------- writers of before


def _old_write(sink: IO[bytes], info: EntityInfo, batches: Iterable[pa.RecordBatch]) -> None:
    sink.write(b"no path")


def _new_write(
    sink: IO[bytes], info: EntityInfo, batches: Iterable[pa.RecordBatch], path: str
) -> None:
    sink.write(path.encode())


def _default_path(sink: IO[bytes], info: Any, batches: Any, path: str = "default") -> None:
    sink.write(path.encode())


def _options(sink: IO[bytes], info: Any, batches: Any, *, level: int = 1) -> None:
    sink.write(b"no path")


class _Callable:
    def __call__(self, sink: IO[bytes], info: Any, batches: Any, path: str) -> None:
        sink.write(path.encode())


WRITERS: dict[str, tuple[Callable[..., None], bool, bytes]] = {
    "three arguments": (_old_write, False, b"no path"),
    "a lambda of three": (lambda sink, info, batches: sink.write(b"no path"), False, b"no path"),
    "three and keyword options": (_options, False, b"no path"),
    "the path bound by keyword": (functools.partial(_new_write, path="bound"), False, b"bound"),
    "four arguments": (_new_write, True, b"given"),
    "a fourth with a default": (_default_path, True, b"given"),
    "any number": (lambda *args: args[0].write(args[3].encode()), True, b"given"),
    "a callable object": (_Callable(), True, b"given"),
}
"""Writers: whether each takes the path (as its signature says), what it writes when given
``"given"``."""


@pytest.mark.parametrize("kind", WRITERS)
def test_a_writer_is_given_the_path_when_its_signature_takes_it(kind: str) -> None:
    writer, takes_path, written = WRITERS[kind]
    fmt = Format(name="w", extensions=(".w",), description="w", write=writer)
    assert (fmt.write is writer) is takes_path  # one that takes it is kept as it is
    again = attrs.evolve(fmt, description="made again")
    assert again.write is fmt.write  # not wrapped twice
    sink = io.BytesIO()
    assert fmt.write is not None
    fmt.write(sink, get_entity("activity"), [], "given")
    assert sink.getvalue() == written


def test_a_dataset_writer_is_given_the_path_when_its_signature_takes_it() -> None:
    def old(sink: IO[bytes], tables: Any) -> None:
        sink.write(b"no path")

    def new(sink: IO[bytes], tables: Any, path: str) -> None:
        sink.write(path.encode())

    for writer, written in ((old, b"no path"), (new, b"given")):
        fmt = Format(name="d", extensions=(".d",), description="d", write_dataset=writer)
        assert fmt.write_dataset is not None
        sink = io.BytesIO()
        fmt.write_dataset(sink, [], "given")
        assert sink.getvalue() == written


def _old_rows(sink: IO[bytes], info: EntityInfo, batches: Iterable[pa.RecordBatch]) -> None:
    _rows(sink, info, batches)


def test_a_writer_of_before_writes_as_it_did(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def old_dataset(sink: IO[bytes], tables: Iterable[tuple[EntityInfo, Iterable[Any]]]) -> None:
        for info, batches in tables:
            _rows(sink, info, batches)

    class Old:
        @hookimpl
        def clen_register_formats(self, register: Callable[[Format], None]) -> None:
            register(
                Format(
                    name="old",
                    extensions=(".old",),
                    description="a plugin written before writers were told their file",
                    read=_read_rec,
                    write=_old_rows,
                    write_dataset=old_dataset,
                )
            )

    objs = [_activity(1), _activity(2, participants=None)]
    with _Temp(Old(), "old") as info:
        assert info.status == "loaded"
        # The signature is read once, when the format is made: never again on a write.
        monkeypatch.setattr(inspect, "signature", _no_signature)
        clen_core.write(objs, tmp_path / "a.old")
        assert list(clen_core.read(tmp_path / "a.old", entity="activity")) == objs
        clen_core.write_dataset(Dataset(objs), tmp_path / "d.old")
        lines = (tmp_path / "d.old").read_text().splitlines()
        assert [json.loads(line)["activity_id"] for line in lines] == ["A1", "A2"]


def _no_signature(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("a writer's signature read again")


# --------------------------------------------------------------------------- hooks not in the spec


class Misspelt:
    """A plugin with a hook name one letter short, and a good hook that must not stay."""

    @hookimpl
    def clen_register_formats(self, register: Callable[[Format], None]) -> None:
        register(Format(name="misspelt", extensions=(".misspelt",), description="x"))

    @hookimpl
    def clen_register_rule(self, register: Callable[[Any], None]) -> None:
        raise AssertionError("never called")


def test_a_misspelt_hook_fails_its_plugin_with_a_did_you_mean() -> None:
    with _Temp(Misspelt(), "misspelt") as info:
        assert info.status == "failed"
        assert info.error == (
            "clen_register_rule is not a clen_core hook; did you mean clen_register_rules?"
        )
        assert "misspelt" not in FORMATS  # nothing of a failed plugin stays
    assert get_format("csv").name == "csv"  # the rest works


def test_a_hook_like_none_lists_the_hooks_and_several_are_counted() -> None:
    class Strange:
        @hookimpl
        def clen_frobnicate(self) -> None: ...

        @hookimpl
        def clen_zzz(self) -> None: ...

    with _Temp(Strange(), "strange") as info:
        assert info.status == "failed"
        assert info.error == (
            "clen_frobnicate is not a clen_core hook (and 1 more); the hooks are "
            f"{', '.join(HOOK_NAMES)}"
        )


def test_an_optional_hook_of_another_version_is_let_be() -> None:
    class Newer:
        @hookimpl(optionalhook=True)
        def clen_register_reports(self, register: Callable[[Any], None]) -> None: ...

        @hookimpl
        def clen_register_rules(self, register: Callable[[Any], None]) -> None:
            register(record_rule("NEW-001", "info", "activity", "A new rule.", register=False)(
                lambda obj: ()
            ))  # fmt: skip

    with _Temp(Newer(), "newer") as info:
        assert (info.status, info.error) == ("loaded", None)
        assert get_rule("NEW-001").plugin == "newer"


def test_a_hook_with_arguments_its_spec_lacks_fails_in_one_line() -> None:
    class Wrong:
        @hookimpl
        def clen_register_rules(self, reg: Callable[[Any], None]) -> None: ...

    with _Temp(Wrong(), "wrong") as info:
        assert info.status == "failed"
        assert info.error is not None
        assert "\n" not in info.error
        assert info.error.startswith("PluginValidationError: Plugin 'wrong'")
        assert "{'reg'}" in info.error


def test_under_strict_plugins_a_misspelt_hook_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEN_STRICT_PLUGINS", "1")
    try:
        with pytest.raises(PluginError) as exc:
            register_plugin(Misspelt(), "misspelt")
        assert str(exc.value) == (
            "plugin 'misspelt' failed: clen_register_rule is not a clen_core hook; "
            "did you mean clen_register_rules?"
        )
    finally:
        unregister_plugin("misspelt")
    assert "misspelt" not in FORMATS


MISSPELT = """
from clen_core.plugin_api import Format, hookimpl

@hookimpl
def clen_register_formats(register):
    register(Format(name="typo", extensions=(".typo",), description="x"))

@hookimpl
def clen_register_rule(register):
    pass
"""


@pytest.fixture(scope="module")
def misspelt_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _installed(tmp_path_factory.mktemp("site"), "typo", MISSPELT)


def test_clen_plugins_reports_a_misspelt_hook(misspelt_site: Path) -> None:
    done = _clen("plugins", "--json", site=misspelt_site)
    assert done.returncode == 0, done.stderr
    by_name = {p["name"]: p for p in json.loads(done.stdout)}
    assert by_name["typo"] == {
        "name": "typo",
        "distribution": "typo",
        "version": "0.1",
        "hooks": [],
        "status": "failed",
        "error": "clen_register_rule is not a clen_core hook; did you mean clen_register_rules?",
    }
    assert by_name["csv"]["status"] == "loaded"
    text = _clen("plugins", site=misspelt_site, COLUMNS="300")
    (row,) = [line for line in text.stdout.splitlines() if line.startswith("typo ")]
    assert "failed" in row
    assert "did you mean clen_register_rules?" in row
    formats = json.loads(_clen("formats", "--json", site=misspelt_site).stdout)
    assert "typo" not in {f["name"] for f in formats}


def test_under_strict_plugins_clen_stops_with_one_line(misspelt_site: Path) -> None:
    for command in (["plugins"], ["rules"], ["formats", "--json"]):
        done = _clen(*command, site=misspelt_site, CLEN_STRICT_PLUGINS="1")
        assert done.returncode == 2, (command, done.stdout)
        assert done.stderr.splitlines() == [
            "error: plugin 'typo' failed: clen_register_rule is not a clen_core hook; "
            "did you mean clen_register_rules?"
        ]


# --------------------------------------------------------------------------- each rule's plugin


RULES_PLUGIN = """
from clen_core.plugin_api import hookimpl, record_rule

@record_rule("RLY-001", "info", "activity", "An activity has no title.", register=False)
def untitled(activity):
    if activity.title is None:
        yield "title", None, "no title"

@hookimpl
def clen_register_rules(register):
    register(untitled)
"""


def test_a_rule_knows_its_plugin() -> None:
    assert get_rule("ACT-001").plugin is None
    assert get_rule("ACT-001").origin == BUILTIN
    with _Temp(_module("rly", RULES_PLUGIN), "rly"):
        assert (get_rule("RLY-001").plugin, get_rule("RLY-001").origin) == ("rly", "rly")
    assert all(r.plugin is None for r in rules())


def test_clen_rules_shows_each_rules_plugin(tmp_path: Path) -> None:
    site = _installed(tmp_path, "rly", RULES_PLUGIN)
    done = _clen("rules", "--entity", "activity", "--json", site=site)
    assert done.returncode == 0, done.stderr
    by_id = {r["id"]: r for r in json.loads(done.stdout)}
    assert (by_id["RLY-001"]["plugin"], by_id["RLY-001"]["origin"]) == ("rly", "rly")
    assert (by_id["ACT-001"]["plugin"], by_id["ACT-001"]["origin"]) == (None, "clen_core")
    text = _clen("rules", "--entity", "activity", site=site, COLUMNS="300").stdout.splitlines()
    assert text[0].split() == ["id", "severity", "entity", "plugin", "description"]
    rows = {line.split()[0]: line.split()[:4] for line in text[1:]}
    assert rows["RLY-001"] == ["RLY-001", "info", "activity", "rly"]
    assert rows["ACT-001"] == ["ACT-001", "warning", "activity", "built-in"]


# --------------------------------------------------------------------------- list_plugins' docs


def test_list_plugins_is_documented_as_what_it_returns() -> None:
    infos = clen_core.list_plugins()
    assert infos == list_plugins()
    assert infos
    assert all(isinstance(p, PluginInfo) for p in infos)
    assert [p.name for p in infos] == sorted(p.name for p in infos)
    names = [a.name for a in attrs.fields(PluginInfo)]
    assert list(infos[0].to_dict()) == names
    said = _section("## Loading, failures and switches")
    assert "list of `PluginInfo` objects" in said
    for name in [*names, "to_dict()"]:
        assert f"`{name}`" in said or f"`info.{name}`" in said, name


# --------------------------------------------------------------------------- the table rule example


def _sample(received: dt.date = dt.date(2024, 5, 2), sample_id: str = "S-1") -> clen_core.Sample:
    return clen_core.Sample(sample_id=sample_id, lab_id="L-1", received=received)


def _result(result_id: str, analysed: dt.date | None, sample_id: str = "S-1") -> Any:
    return clen_core.AnalysisResult(
        result_id=result_id,
        sample_id=sample_id,
        method_id="M-1",
        analyte="ethanol",
        value=40.1,
        unit="% vol",
        analysed=analysed,
    )


def test_the_table_rule_example_reports_what_the_page_says() -> None:
    with _Temp(_module("table_rule_example", RULE_EXAMPLE), "table-rule-example") as info:
        assert info.status == "loaded"
        rule = get_rule("EXA-002")
        assert (rule.plugin, rule.entity, rule.rowwise) == (
            "table-rule-example",
            "analysis_result",
            True,
        )
        results = [
            _result("R-1", dt.date(2024, 5, 1)),  # the day before: reported
            _result("R-2", dt.date(2024, 5, 2)),  # the day it came: not
            _result("R-3", None),  # no date: not
            _result("R-4", dt.date(2020, 1, 1), sample_id="S-9"),  # no such sample: not
            _result("R-5", dt.date(2023, 12, 31)),
        ]
        report = clen_core.validate(Dataset([_sample(), *results]), only=["EXA-002"])
        assert [(f.key, f.row, f.field, f.value, f.message) for f in report] == [
            ("R-1", 1, "analysed", dt.date(2024, 5, 1),
             "analysed on 2024-05-01, before its sample was received"),
            ("R-5", 5, "analysed", dt.date(2023, 12, 31),
             "analysed on 2023-12-31, before its sample was received"),
        ]  # fmt: skip
        # The results alone, without their samples: nothing to compare with.
        assert clen_core.validate(results, only=["EXA-002"]).total == 0
    assert "EXA-002" not in clen_core.rules.RULES


def test_the_format_example_writes_reads_and_names_the_file(tmp_path: Path) -> None:
    module = _module("format_example", FORMAT_EXAMPLE)
    objs = [_activity(1), _activity(2, participants=None)]
    with _Temp(module, "format-example"):
        clen_core.write(objs, tmp_path / "a.lines")
        assert list(clen_core.read(tmp_path / "a.lines", entity="activity")) == objs
        module.MAX_ROWS = 1
        with pytest.raises(FormatError) as exc:
            clen_core.write(objs, tmp_path / "b.lines")
        assert str(exc.value) == f"{tmp_path / 'b.lines'}: more than 1 rows, the most a file holds"
        assert not (tmp_path / "b.lines").exists()
        (tmp_path / "c.lines").write_text('{"number": 1, "name": "N", "coordinator": "C"}\n[1]\n')
        reader = clen_core.read(tmp_path / "c.lines", entity="action", on_reject="collect")
        assert [a.number for a in reader] == [1]
        assert [(r.row, r.reason) for r in reader.rejects] == [(2, "not a JSON object")]


# --------------------------------------------------------------------------- the test template


CONFTEST = """
from hypothesis import settings

# Fewer examples than Hypothesis's 100: the template runs in clen_core's own suite.
settings.register_profile("kit", max_examples=10)
settings.load_profile("kit")
"""


def _run_template(
    tmp_path: Path, plugin_source: str, *pytest_args: str
) -> subprocess.CompletedProcess[str]:
    site = _installed(tmp_path / "site", "my_plugin", plugin_source)
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_my_plugin.py").write_text(TEMPLATE, encoding="utf-8")
    (tests / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLEN_", "HYPOTHESIS_"))}
    env["PYTHONPATH"] = str(site)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf", *pytest_args],
        cwd=tests,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


PLUGIN = FORMAT_EXAMPLE + "\n\n" + RULE_EXAMPLE
"""The plugin the template tests: the page's format and table rule, in one module."""


def test_the_template_passes_for_the_example_plugin(tmp_path: Path) -> None:
    done = _run_template(tmp_path, PLUGIN)
    assert done.returncode == 0, done.stdout + done.stderr
    passed = re.search(r"(\d+) passed", done.stdout)
    assert passed is not None
    # One round trip per entity, and the four other tests.
    assert int(passed[1]) == len(clen_core.entities()) + 4, done.stdout


def _mutated(old: str, new: str) -> str:
    assert PLUGIN.count(old) == 1, old
    return PLUGIN.replace(old, new)


@pytest.mark.parametrize(
    ("mutation", "selected", "failing"),
    [
        pytest.param(
            ("def clen_register_rules(", "def clen_register_rule("),
            "loads",
            ["test_the_plugin_loads"],
            id="a misspelt hook",
        ),
        pytest.param(
            ("for row, line in enumerate(source, 1):",
             "for row, line in enumerate(list(source)[1:], 2):"),
            "gives_back and activity or cannot_read",
            ["test_the_format_gives_back_what_it_was_given[activity]",
             "test_a_file_it_cannot_read_is_an_error_naming_file_and_row"],
            id="a reader that loses the first row",
        ),
        pytest.param(
            ("pc.less(analysed, received)", "pc.less_equal(analysed, received)"),
            "reports_a_result",
            ["test_the_rule_reports_a_result_dated_before_its_sample_came"],
            id="a rule that reports a day too many",
        ),
    ],
)  # fmt: skip
def test_the_template_fails_for_a_broken_plugin(
    tmp_path: Path, mutation: tuple[str, str], selected: str, failing: list[str]
) -> None:
    done = _run_template(tmp_path, _mutated(*mutation), "-k", selected)
    assert done.returncode == 1, done.stdout + done.stderr
    failed = sorted(re.findall(r"^FAILED test_my_plugin\.py::(\S+)", done.stdout, re.M))
    assert failed == sorted(failing), done.stdout
