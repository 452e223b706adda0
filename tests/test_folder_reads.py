"""What the rules read of other entities' tables (``reads={entity: fields}``), and a folder
or dataset document validated on those fields only: the same report as on whole rows."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clen_core import validate_path
from clen_core.data import reference_dataset
from clen_core.io import commands
from clen_core.io.columnar import validate_batches
from clen_core.io.formats import get_format
from clen_core.io.readwrite import read
from clen_core.model.entity import ENTITIES, get_entity
from clen_core.rules import Rule, fields_read, get_rule, rule
from clen_core.rules import registry as rule_registry
from clen_core.rules.context import ROW_COLUMN
from clen_core.rules.engine import validate as run_rules
from clen_core.rules.report import Report, Severity
from clen_core.schema.arrow import to_arrow
from clen_core.synth import generate_batches

# The entities the cross-entity rules join: results with their samples and methods, PT
# results with their studies, funded actions with their programmes, activities with their
# project groups (and laboratories, referenced by samples).
LINKED = (
    "activity",
    "analysis_result",
    "funded_action",
    "laboratory",
    "method",
    "programme",
    "project_group",
    "pt_result",
    "pt_study",
    "sample",
)


def _with_rows(table: pa.Table) -> pa.Table:
    return table.append_column(ROW_COLUMN, pa.array(range(2, table.num_rows + 2), pa.int64()))


@functools.cache
def _dataset(source: str) -> dict[str, pa.Table]:
    """Every entity's table: the embedded reference data, or generated rows (seed 4: their
    references resolve) with the invalid ones left out."""
    if source == "reference":
        ref = reference_dataset()
        return {info.name: to_arrow(ref.records(info.name), info.name) for info in ref.entities}
    out = {}
    for name in sorted(ENTITIES):
        checked = validate_batches(name, generate_batches(name, 900, seed=4, error_rate=0.05))
        out[name] = pa.Table.from_batches([c.valid for c in checked])
    return out


def _narrowed(table: pa.Table, name: str) -> pa.Table:
    kept = fields_read(name)
    assert kept is not None  # every built-in rule declares what it reads, of every table
    return table.select([n for n in table.column_names if n in kept or n == ROW_COLUMN])


@pytest.mark.parametrize("source", ["reference", "generated"])
def test_the_rules_read_nothing_of_any_table_they_do_not_declare(source: str) -> None:
    tables = {name: _with_rows(t) for name, t in _dataset(source).items()}
    assert set(LINKED) <= {name for name, t in tables.items() if t.num_rows}
    whole = run_rules(tables, max_findings=100_000)
    # A rule reading an undeclared field of its own or another entity's table fails here
    # (no such column), or finds otherwise.
    part = run_rules({n: _narrowed(t, n) for n, t in tables.items()}, max_findings=100_000)
    assert part.to_dict() == whole.to_dict()
    # Cross-entity rules found something: the comparison is not vacuous (the others ran
    # their look-ups all the same, which is where an undeclared field fails).
    found = {r for r, n in whole.by_rule.items() if n}
    if source == "generated":
        assert {"ACT-004", "RES-001", "RES-003", "MET-002", "MET-003", "PT-001", "FUN-001",
                "FUN-002"} <= found  # fmt: skip
    else:
        assert "RES-001" in found


def test_each_rule_alone_reads_only_what_it_declares() -> None:
    # One rule at a time, each table cut to what that rule declares of it: an undeclared
    # read hidden by another rule's declaration of the same field fails here.
    tables = {name: _with_rows(t) for name, t in _dataset("generated").items()}
    for r in rule_registry.rules():
        whole = run_rules(tables, only=[r.id], max_findings=100_000)
        cut = {}
        for name, t in tables.items():
            info = get_entity(name)
            read = r.fields_read(info)
            assert read is not None, r.id
            keep = read | set(info.key) | {ROW_COLUMN}
            cut[name] = t.select([n for n in t.column_names if n in keep])
        assert run_rules(cut, only=[r.id], max_findings=100_000).to_dict() == whole.to_dict()


def test_fields_read_holds_what_other_entities_rules_look_up() -> None:
    sample = fields_read("sample")
    method = fields_read("method")
    assert sample is not None
    assert method is not None
    assert {"declared_cn", "received"} <= sample  # RES-001, MET-002; MET-003
    assert {"analyte", "status", "loq", "unit", "cn_chapters", "review_date"} <= method
    assert get_rule("RES-001").fields_read(get_entity("sample")) == frozenset({"declared_cn"})
    # Names, not a mapping: its own entity's table only.
    assert get_rule("ACT-002").fields_read(get_entity("sample")) == frozenset()
    # A rule over any entity reads each entity's table by its function.
    assert get_rule("DUP-001").fields_read(get_entity("sample")) == frozenset({"sample_id"})


@pytest.fixture
def temporary_rules() -> Iterator[list[str]]:
    """IDs of rules a test registers, removed afterwards."""
    ids: list[str] = []
    try:
        yield ids
    finally:
        for i in ids:
            rule_registry.RULE_REGISTRY.remove(i)


def test_a_rule_that_does_not_say_may_read_any_table(temporary_rules: list[str]) -> None:
    assert fields_read("laboratory") is not None
    rule("TST-951", "info", "activity", "Test rule.")(lambda ctx: None)
    temporary_rules.append("TST-951")
    assert fields_read("laboratory") is None  # it may look laboratories up


def test_a_mapping_declares_every_table_a_rule_reads(temporary_rules: list[str]) -> None:
    before = fields_read("laboratory")
    assert before is not None
    assert "accreditation_body" not in before
    rule(
        "TST-952",
        "info",
        "sample",
        "Test rule.",
        reads={"sample": (), "laboratory": ("accreditation_body",)},
    )(lambda ctx: None)
    temporary_rules.append("TST-952")
    assert fields_read("laboratory") == before | {"accreditation_body"}
    rule("TST-953", "info", "sample", "Test rule.", reads={"method": None})(lambda ctx: None)
    temporary_rules.append("TST-953")
    assert fields_read("method") is None  # any field of methods
    assert fields_read("sample") is not None  # of its own entity, only the key


def test_reads_as_a_string_is_refused() -> None:
    with pytest.raises(ValueError, match=r"TST-954.*tuple"):
        Rule("TST-954", Severity.INFO, "sample", "Test.", lambda ctx: None, reads={"sample": "cn"})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match=r"TST-954.*tuple"):
        Rule("TST-954", Severity.INFO, "sample", "Test.", lambda ctx: None, reads="cn")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- a folder


_FORMATS = ("csv", "parquet", "jsonl")


def _write_folder(folder: Path, seed: int, error_rate: float, n: int) -> None:
    """A folder of entity files with invalid rows injected, in several formats."""
    folder.mkdir()
    for i, name in enumerate(LINKED):
        fmt = get_format(_FORMATS[i % len(_FORMATS)])
        assert fmt.write is not None
        path = folder / f"{name}{fmt.extensions[0]}"
        with open(path, "wb") as sink:
            batches = generate_batches(name, n, seed=seed, error_rate=error_rate, batch_rows=300)
            fmt.write(sink, get_entity(name), batches, str(path))


def _whole_rows_report(folder: Path, cap: int) -> Report:
    """The report on whole rows: each file's valid rows, every field, then every rule."""
    tables, rejects = {}, {}
    for path in sorted(folder.iterdir()):
        name = path.name.split(".", 1)[0]
        reader = read(path, entity=name, on_reject="collect", max_rejects=cap)
        parts = [
            pa.Table.from_batches([batch]).append_column(ROW_COLUMN, rows)
            for batch, rows in reader.batches()
        ]
        tables[name] = pa.concat_tables(parts)
        rejects[name] = (list(reader.rejects), reader.rejected)
    report = run_rules(tables, max_findings=cap)
    for name, (kept, n) in rejects.items():
        if n:
            report.add_rejected_rows(name, kept[:cap], n)
    return report


def _without_files(report: Report) -> dict[str, Any]:
    out = report.to_dict()
    for finding in out["findings"]:
        finding.pop("file", None)
    return out


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 3),
    error_rate=st.sampled_from([0.0, 0.02, 0.1]),
    cap=st.sampled_from([5, 60, 100_000]),
)
def test_a_folder_validates_as_its_whole_rows_do(
    tmp_path_factory: pytest.TempPathFactory, seed: int, error_rate: float, cap: int
) -> None:
    folder = tmp_path_factory.mktemp("folder") / "ds"
    _write_folder(folder, seed, error_rate, 700)
    v = validate_path(folder, max_findings=cap)
    assert v.kind == "folder"
    # Findings, their order and the cap as validate() gives them on every field.
    assert _without_files(v.report) == _without_files(_whole_rows_report(folder, cap))
    assert all(f.file is not None for f in v.report.findings)


def _keep_every_field(monkeypatch: pytest.MonkeyPatch) -> None:
    """Validation as it was before the tables were narrowed: every field of every row."""
    monkeypatch.setattr(commands, "fields_read", lambda name: None)


def test_a_document_validates_as_its_whole_rows_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "all.json"
    fmt = get_format("json")
    assert fmt.write_dataset is not None
    with open(path, "wb") as sink:
        tables = [
            (get_entity(name), generate_batches(name, 400, seed=1, error_rate=0.05))
            for name in LINKED
        ]
        fmt.write_dataset(sink, tables, str(path))
    narrowed = validate_path(path, max_findings=100_000)
    assert narrowed.kind == "document"
    assert sum(narrowed.rejected.values())
    # Decoded a few records at a time: the same as all at once.
    monkeypatch.setattr(commands, "_DOCUMENT_CHUNK", 7)
    assert validate_path(path, max_findings=100_000).report.to_dict() == narrowed.report.to_dict()
    _keep_every_field(monkeypatch)
    monkeypatch.setattr(commands, "_DOCUMENT_CHUNK", 1_000_000)
    whole = validate_path(path, max_findings=100_000)
    assert narrowed.report.to_dict() == whole.report.to_dict()
    assert {"RES-001", "PT-001"} <= {r for r, n in whole.report.by_rule.items() if n}


def test_a_folder_keeps_only_the_fields_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = tmp_path / "ds"
    _write_folder(folder, 0, 0.0, 300)
    seen: dict[str, list[str]] = {}
    tables = commands._Tables.tables

    def spy(self: commands._Tables) -> dict[str, pa.Table]:
        out = tables(self)
        seen.update({name: t.column_names for name, t in out.items()})
        return out

    monkeypatch.setattr(commands._Tables, "tables", spy)
    validate_path(folder)
    for name in LINKED:
        kept = fields_read(name)
        assert kept is not None
        assert set(seen[name]) == kept | {ROW_COLUMN}, name
    assert "declared_cn" in seen["sample"]
    assert "origin" not in seen["sample"]
