"""DUP-001 and REF-001 out of memory (clen_core.rules.wholetable) against the rules in memory."""

from __future__ import annotations

import functools
import itertools
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from clen_core.data import reference_dataset
from clen_core.model.entity import get_entity
from clen_core.model.fields import ListShape
from clen_core.rules.context import ROW_COLUMN
from clen_core.rules.engine import Validation, validate
from clen_core.rules.registry import get_rule
from clen_core.rules.report import Report
from clen_core.rules.wholetable import WholeTable, whole_table_fields
from clen_core.schema.arrow import to_arrow

WHOLE = ["DUP-001", "REF-001"]

# Entities whose keys and references cover the cases: a one-field string key, an integer
# key, a composite key, a reference to the entity itself, and a list of references.
GROUPS = [
    ("activity", "action"),
    ("objective",),
    ("pt_result", "pt_study", "laboratory", "method"),
    ("project_group", "laboratory", "action"),
    ("analysis_result", "sample", "method"),
]


@functools.cache
def _rows_of(name: str) -> pa.Table:
    """Reference and generated records of ``name`` (checked: valid rows only)."""
    from clen_core.io.columnar import validate_batches
    from clen_core.synth import generate_batches

    tables = []
    reference = list(reference_dataset().records(name))
    if reference:
        tables.append(to_arrow(reference, name))
    checked = validate_batches(name, generate_batches(name, 120, seed=7, error_rate=0.0))
    tables.append(pa.Table.from_batches([c.valid for c in checked]))
    return pa.concat_tables(tables)


@st.composite
def _messed(draw: st.DrawFn, name: str) -> pa.Table:
    """``name``'s rows with repeated rows put anywhere and some references broken."""
    table = _rows_of(name)
    n = table.num_rows
    order = list(range(n))
    if n:
        for copy in draw(st.lists(st.integers(0, n - 1), max_size=8), label="repeated"):
            order.insert(draw(st.integers(0, len(order)), label="at"), copy)
    table = table.take(pa.array(order, pa.int64()))
    info = get_entity(name)
    for f in info.references:
        if isinstance(f.shape, ListShape) or not table.num_rows:
            continue
        broken = draw(st.sets(st.integers(0, table.num_rows - 1), max_size=4), label="broken")
        mask = pa.array([i in broken for i in range(table.num_rows)])
        column = table.column(f.name)
        absent: list[object] = (
            [900_000 + i % 3 for i in range(table.num_rows)]
            if pa.types.is_integer(column.type)
            else [f"NONE-{i % 3}" for i in range(table.num_rows)]
        )
        names = pa.array(absent, column.type)
        i = table.column_names.index(f.name)
        table = table.set_column(i, f.name, pc.if_else(mask, names, column))
    rows = draw(st.permutations(range(2, table.num_rows + 2)), label="rows")
    return table.append_column(ROW_COLUMN, pa.array(rows, pa.int64()))


def _cuts(draw: st.DrawFn, n: int) -> list[int]:
    cuts = draw(st.lists(st.integers(0, n), max_size=4), label="cuts")
    return [0, *sorted(cuts), n]


def _whole_table(tables: dict[str, pa.Table], cuts: dict[str, list[int]], cap: int) -> Report:
    report = Report(max_findings=cap)
    with WholeTable() as whole:
        for name, table in tables.items():
            table = table.select([*whole_table_fields(get_entity(name), entities=list(tables)),
                                  ROW_COLUMN])  # fmt: skip
            for start, end in itertools.pairwise(cuts[name]):
                whole.add(name, table.slice(start, end - start))
        whole.duplicate_keys(get_rule("DUP-001"), report)
        whole.missing_references(get_rule("REF-001"), report)
    report.records = {name: t.num_rows for name, t in tables.items()}
    return report


@pytest.mark.parametrize("group", GROUPS, ids=lambda g: g[0])
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_duplicates_and_references_on_disk_are_those_in_memory(
    group: tuple[str, ...], data: st.DataObject
) -> None:
    tables = {name: data.draw(_messed(name), label=name) for name in group}
    cuts = {name: data.draw(st.composite(lambda d, n=t.num_rows: _cuts(d, n))(), label="cuts")
            for name, t in tables.items()}  # fmt: skip
    cap = data.draw(st.sampled_from([0, 1, 3, 100_000]), label="max_findings")
    in_memory = validate(tables, only=WHOLE, max_findings=cap)
    assert _whole_table(tables, cuts, cap).to_dict() == in_memory.to_dict()


def test_the_examples_find_what_they_inject() -> None:
    # The property above is not vacuous: repeated keys, composite ones, broken scalar and
    # list references all give findings.
    tables = {
        "pt_result": _rows_of("pt_result"),
        "laboratory": _rows_of("laboratory"),
        "project_group": _rows_of("project_group"),
    }
    first = tables["pt_result"].slice(0, 2)
    tables["pt_result"] = pa.concat_tables([tables["pt_result"], first])
    # The laboratories that the first result and a project group's members name are gone.
    members = [m for m in tables["project_group"].column("member_labs").to_pylist() if m]
    gone = pa.array([first.column("lab_id")[0].as_py(), members[0][-1]])
    labs = tables["laboratory"]
    tables["laboratory"] = labs.filter(pc.invert(pc.is_in(labs.column("lab_id"), gone)))
    tables = {n: t.append_column(ROW_COLUMN, pa.array(range(1, t.num_rows + 1), pa.int64()))
              for n, t in tables.items()}  # fmt: skip
    report = _whole_table(tables, {n: [0, t.num_rows] for n, t in tables.items()}, 100_000)
    dups = [f for f in report.findings if f.rule == "DUP-001"]
    assert [(f.entity, f.row, f.field, f.value) for f in dups] == [
        ("pt_result", tables["pt_result"].num_rows - 1, None, None),
        ("pt_result", tables["pt_result"].num_rows, None, None),
    ]
    message = "duplicate study_id/lab_id/replicate: an earlier record has the same key"
    assert dups[0].message == message
    refs = {(f.entity, f.field) for f in report.findings if f.rule == "REF-001"}
    assert ("project_group", "member_labs") in refs
    assert ("pt_result", "lab_id") in refs


@settings(max_examples=10, deadline=None)
@given(data=st.data(), name=st.sampled_from(["activity", "objective", "pt_result", "action"]))
def test_a_validation_that_spills_reports_as_one_in_memory(data: st.DataObject, name: str) -> None:
    rows = data.draw(_messed(name), label="rows")
    bounds = _cuts(data.draw, rows.num_rows)
    cap = data.draw(st.sampled_from([0, 1, 5, 100_000]), label="max_findings")
    spill = data.draw(st.sampled_from([0, 1, rows.num_rows // 2]), label="spill_rows")
    reports = []
    for spill_rows in (spill, None):
        validation = Validation(name, max_findings=cap, spill_rows=spill_rows)
        for start, end in itertools.pairwise(bounds):
            validation.add(rows.slice(start, end - start))
        reports.append(validation.finish().to_dict())
    # Against the same parts in memory: tests/test_rules.py holds those to validate().
    assert reports[0] == reports[1]
    assert reports[0]["counts"] == validate({name: rows}, max_findings=cap).to_dict()["counts"]


def test_a_validation_without_the_two_rules_spills_nothing() -> None:
    table = _rows_of("activity")
    rows = table.append_column(ROW_COLUMN, pa.array(range(1, table.num_rows + 1), pa.int64()))
    reports = []
    for spill_rows in (0, None):
        validation = Validation("activity", only=["ACT-001"], spill_rows=spill_rows)
        validation.add(rows.slice(0, 10))
        validation.add(rows.slice(10))
        assert validation._whole is None
        reports.append(validation.finish().to_dict())
    assert reports[0] == reports[1]
    assert reports[0]["counts"]["by_rule"] == {"ACT-001": 18}


def test_keys_in_increasing_order_need_no_query() -> None:
    table = _rows_of("activity").sort_by("activity_id").select(["activity_id"])
    whole = WholeTable()
    for start in range(0, table.num_rows, 50):
        whole.add("activity", table.slice(start, 50))
    report = Report()
    whole.duplicate_keys(get_rule("DUP-001"), report)
    assert whole._db is None  # nothing asked of DuckDB
    assert report.total == 0
    # One key out of order, even one already seen, and the query runs.
    whole.add("activity", table.slice(3, 1))
    whole.duplicate_keys(get_rule("DUP-001"), report)
    assert whole._db is not None
    assert [(f.row, f.value) for f in report.findings] == [
        (table.num_rows + 1, table.column("activity_id")[3].as_py())
    ]
    whole.close()


def test_the_spool_is_removed(tmp_path: Path) -> None:
    whole = WholeTable(directory=tmp_path)
    whole.add("objective", _rows_of("objective").select(["objective_id", "parent"]))
    whole.missing_references(get_rule("REF-001"), Report())
    assert any(tmp_path.iterdir())
    whole.close()
    assert not any(tmp_path.iterdir())
    rows = _rows_of("activity")
    validation = Validation("activity", spill_rows=0)
    validation.add(rows)
    assert validation._whole is not None
    # No other rule needs the whole table of activities: once spilled, nothing is held.
    assert validation._parts == []
    validation.finish()
    assert validation._whole is None


@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_parquet_files_read_in_place_report_as_their_rows(
    data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("parts")
    tables = {name: data.draw(_messed(name), label=name) for name in GROUPS[3]}
    cap = data.draw(st.sampled_from([0, 2, 100_000]), label="max_findings")
    report = Report(max_findings=cap)
    with WholeTable() as whole:
        for name, table in tables.items():
            table = table.drop_columns([ROW_COLUMN])
            files = []
            for i, (start, end) in enumerate(itertools.pairwise(_cuts(data.draw, table.num_rows))):
                # Folders named as hive partitions, listed out of name order on purpose.
                path = folder / name / f"part={9 - i}" / "rows.parquet"
                path.parent.mkdir(parents=True, exist_ok=True)
                pq.write_table(table.slice(start, end - start), path)
                files.append(path)
            whole.add_parquet(name, files)
            tables[name] = table
        whole.duplicate_keys(get_rule("DUP-001"), report)
        whole.missing_references(get_rule("REF-001"), report)
    in_memory = validate(tables, only=WHOLE, max_findings=cap)
    assert report.findings == in_memory.findings
    assert dict(report.by_rule) == {k: v for k, v in in_memory.by_rule.items() if v}


def test_duckdb_is_not_imported_until_a_query_needs_it() -> None:
    import subprocess

    code = (
        "import sys, clen_core, clen_core.rules.wholetable, clen_core.rules.engine;"
        "print('duckdb' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- Spark: the same two rules as joins on a local session ------------------------------------


@pytest.mark.filterwarnings("ignore::ResourceWarning")  # py4j's sockets, as in test_spark.py
@pytest.mark.parametrize("group", [GROUPS[2], GROUPS[3], GROUPS[0]], ids=lambda g: g[0])
# Each example is a few Spark jobs: few examples, and no shrinking (minutes of jobs).
@settings(max_examples=3, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(data=st.data())
def test_spark_joins_find_what_validate_finds(
    spark: Any, group: tuple[str, ...], data: st.DataObject
) -> None:
    from clen_core.io.bridges import dataset_findings_spark

    tables = {}
    for name in group:
        # Spark knows the source order by ``_row`` only: numbered in order here.
        table = data.draw(_messed(name), label=name).drop_columns([ROW_COLUMN])
        rows = pa.array(range(1, table.num_rows + 1), pa.int64())
        tables[name] = table.append_column(ROW_COLUMN, rows)
    frames = {}
    for name, table in tables.items():
        needed = [*whole_table_fields(get_entity(name), entities=list(tables)), ROW_COLUMN]
        frames[name] = spark.createDataFrame(table.select(needed)).repartition(2)
    found = dataset_findings_spark(frames).toArrow()
    expected = validate(tables, only=WHOLE, max_findings=1_000_000).to_arrow()
    assert found.to_pylist() == expected.to_pylist()
    only = dataset_findings_spark(frames, only=["REF-001"]).toArrow()
    assert only.to_pylist() == [f for f in expected.to_pylist() if f["rule"] == "REF-001"]


# --- the commands: a file and a partitioned dataset, spilled or not --------------------------


@pytest.mark.parametrize("name", ["activity", "objective", "pt_result"])
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_validating_a_file_reports_the_same_whether_it_spills_or_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, suffix: str
) -> None:
    from clen_core.io import commands
    from clen_core.io.partitioned import write_partitioned
    from clen_core.io.readwrite import write
    from clen_core.schema.arrow import from_arrow

    table = _rows_of(name)
    # Repeated rows, out of key order, and (objective) parents that are not there.
    messy = pa.concat_tables([table, table.slice(3, 4), table.slice(0, 2)])
    objects = from_arrow(messy, name)
    path = tmp_path / f"{name}{suffix}"
    write(objects, path, entity=name)
    dataset = tmp_path / f"{name}-dataset"
    write_partitioned(objects, dataset, entity=name, max_rows_per_file=50)
    in_memory = commands.validate_path(path, entity=name)
    dataset_in_memory = commands.validate_path(dataset)
    assert in_memory.report.by_rule["DUP-001"] >= 6  # (generated objectives repeat some)
    monkeypatch.setattr(commands, "_SPILL_ROWS", 10)
    spilled = commands.validate_path(path, entity=name)
    assert spilled.report.to_dict() == in_memory.report.to_dict()
    assert commands.validate_path(dataset).report.to_dict() == dataset_in_memory.report.to_dict()
