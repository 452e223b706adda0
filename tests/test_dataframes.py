"""Data frames in and out: clen_core.validate and the columnar check take any Arrow-compatible
table or stream (pyarrow, Polars, pandas, DuckDB) and check its rows as a file's are; a report
becomes a typed table; a read and a dataset become Arrow tables and streams.

Polars, pandas and DuckDB are real here (the test extra); a subprocess shows that clen_core
itself needs none of them.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import clen_core
from clen_core import Activity, Dataset, Finding, Laboratory, Report, Severity
from clen_core.errors import ArgumentError, ClenError, RejectedRowsError, UnknownEntityError
from clen_core.io.columnar import validate_batches
from clen_core.model.entity import ENTITIES
from clen_core.rules import validate as run_rules
from clen_core.rules.report import FINDINGS_SCHEMA
from clen_core.synth import generate_batches

D = dt.date


def activity(activity_id: str = "A1", **kw: Any) -> Activity:
    base: dict[str, Any] = {
        "activity_id": activity_id,
        "action": 5,
        "kind": "workshop",
        "theme": "Gemmology",
        "city": "Vienna",
        "country": "AT",
        "start": D(2020, 3, 3),
        "end": D(2020, 3, 4),
    }
    return Activity(**(base | kw))


def _rows(name: str, n: int, *, seed: int = 1, error_rate: float = 0.05) -> pa.Table:
    batches = generate_batches(name, n, seed=seed, error_rate=error_rate)
    return pa.Table.from_batches(list(batches), schema=clen_core.arrow_schema(name))


def _seen(report: Report) -> list[tuple[Any, ...]]:
    """The findings as a file's and a table's reports share them (a table has no file)."""
    return [(f.rule, f.severity, f.entity, f.key, f.row, f.field, repr(f.value), f.message)
            for f in report]  # fmt: skip


def _counts(report: Report) -> tuple[Any, ...]:
    # A file's report counts READ-001 and its rejected rows even when there are none.
    rejected = {name: n for name, n in report.rejected.items() if n}
    return (report.total, dict(+report.by_rule), report.records, rejected)


def _via_file(table: pa.Table, tmp_path: Path, name: str) -> Report:
    path = tmp_path / f"{name}.parquet"
    pq.write_table(table, path)
    return clen_core.validate_file(path, entity=name).report


@pytest.fixture(scope="module")
def activities() -> pa.Table:
    """500 generated activities, 10 of them broken in one field each."""
    return _rows("activity", 500, seed=3, error_rate=0.02)


# --------------------------------------------------------------------------- validate


def test_a_polars_frame_is_checked_and_its_rules_run(activities: pa.Table, tmp_path: Path) -> None:
    frame = pl.from_arrow(activities)
    assert isinstance(frame, pl.DataFrame)
    report = clen_core.validate(frame, entity="activity")
    expected = _via_file(activities, tmp_path, "activity")
    assert report.rejected == {"activity": 10}
    assert report.records == {"activity": 490}
    assert report.by_rule["READ-001"] == 10
    assert set(report.by_rule) - {"READ-001"}  # the rules ran on the rows that fit
    assert _seen(report) == _seen(expected)
    assert _counts(report) == _counts(expected)
    assert {f.file for f in report} == {None}  # a frame is no file
    read = report.filter(rule="READ-001")[0]
    assert (read.row, read.field, read.value) == (67, "action", -1)
    assert read.message == "row rejected: action: must be ≥ 1"


@pytest.mark.parametrize(
    "form",
    ["pyarrow table", "record batch", "batch reader", "pandas", "duckdb", "polars lazy collected"],
)
def test_every_arrow_compatible_form_gives_the_file_s_findings(
    activities: pa.Table, tmp_path: Path, form: str
) -> None:
    expected = _via_file(activities, tmp_path, "activity")
    data: Any = {
        "pyarrow table": activities,
        "record batch": activities.combine_chunks().to_batches()[0],
        "batch reader": pa.RecordBatchReader.from_batches(
            activities.schema, activities.to_batches(max_chunksize=64)
        ),
        "pandas": activities.to_pandas(),
        "duckdb": duckdb.from_arrow(activities),
        "polars lazy collected": pl.from_arrow(activities).lazy().collect(),
    }[form]
    report = clen_core.validate(data, entity="activity")
    assert _seen(report) == _seen(expected)
    assert _counts(report) == _counts(expected)


def test_a_table_from_clen_core_says_its_entity(activities: pa.Table) -> None:
    assert activities.schema.metadata[b"clen_core.entity"] == b"activity"
    with_entity = clen_core.validate(activities, entity="activity")
    assert _seen(clen_core.validate(activities)) == _seen(with_entity)
    with pytest.raises(ArgumentError, match=r"holds 'activity' records .* not 'sample'"):
        clen_core.validate(activities, entity="sample")


def test_a_frame_without_entity_is_refused_in_one_line() -> None:
    frame = pl.DataFrame({"activity_id": ["A1"] * 1000})
    for data in (frame, frame.to_pandas()):
        with pytest.raises(ArgumentError) as caught:
            clen_core.validate(data)
        message = str(caught.value)
        assert "\n" not in message
        assert len(message) < 300
        assert "entity=" in message
    with pytest.raises(ArgumentError, match="Series is not a table of rows"):
        clen_core.validate(frame["activity_id"], entity="activity")


def test_the_rules_engine_refuses_unchecked_frames_in_one_line() -> None:
    # What the issue found: the error of validate(polars frame) was a printed Series.
    frame = pl.from_arrow(_rows("activity", 50))
    for data in (frame, {"activity": frame}):
        with pytest.raises(ArgumentError) as caught:
            run_rules(data)
        message = str(caught.value)
        assert "\n" not in message
        assert "shape" not in message
        assert "clen_core.validate(data, entity=...)" in message
    with pytest.raises(ArgumentError, match=r"item 1 is a polars\.DataFrame, not an entity object"):
        run_rules([frame])
    with pytest.raises(ArgumentError, match=r"item 2 is a polars\.Series, not an entity object"):
        run_rules([activity(), frame["activity_id"]])


def test_row_numbers_come_from_a_row_column(activities: pa.Table) -> None:
    numbered = activities.append_column("_row", pa.array(range(1001, 1501), pa.int32()))
    report = clen_core.validate(pl.from_arrow(numbered), entity="activity")
    plain = clen_core.validate(activities)
    assert [(f.rule, f.key, f.row - 1000) for f in report] == [
        (f.rule, f.key, f.row) for f in plain
    ]
    with pytest.raises(ArgumentError, match="a row has no number in _row"):
        clen_core.validate(numbered.set_column(12, "_row", pa.nulls(500, pa.int64())))


def test_columns_are_held_to_the_entity_as_a_file_s() -> None:
    frame = pl.from_arrow(_rows("activity", 20, error_rate=0.0))
    with pytest.raises(ArgumentError, match=r"column\(s\) 'thme' are not fields of activity"):
        clen_core.validate(frame.rename({"theme": "thme"}), entity="activity")
    with pytest.raises(ArgumentError, match=r"required column\(s\) missing: city"):
        clen_core.validate(frame.drop("city"), entity="activity")
    twice = pa.table([pa.array(["A1"]), pa.array(["A2"])], names=["activity_id", "activity_id"])
    with pytest.raises(ArgumentError, match="present twice"):
        clen_core.validate(twice, entity="activity")
    # An optional column may be left out: its default, or nothing, as in a file.
    report = clen_core.validate(frame.drop("participants", "notes"), entity="activity")
    assert report.rejected == {}
    assert report.records == {"activity": 20}


def test_engine_types_are_cast_when_nothing_is_lost(tmp_path: Path) -> None:
    # DuckDB gives 32-bit integers, Polars string views and categoricals, pandas midnight
    # timestamps for dates: each is the field's type once cast, and judged as in a file.
    rows = _rows("activity", 200, seed=5)
    relation = duckdb.sql(
        "select * replace (action::INTEGER as action, participants::INTEGER as participants) "
        "from rows"
    )
    frame = pl.from_arrow(rows).with_columns(pl.col("kind").cast(pl.Categorical))
    pandas = rows.to_pandas()
    pandas["start"] = pd.to_datetime(pandas["start"])
    expected = _seen(_via_file(rows, tmp_path, "activity"))
    for data in (relation, frame, pandas):
        assert _seen(clen_core.validate(data, entity="activity")) == expected


def test_a_column_of_the_wrong_type_gets_findings_naming_row_field_and_value() -> None:
    objs = [activity(f"A{i}") for i in range(1, 4)]
    frame = pl.from_arrow(clen_core.to_arrow(objs)).with_columns(
        # Text where a whole number and a date are expected, not every value convertible:
        # the columns stay text, and each value is judged as it is.
        participants=pl.Series(["12", "x", None]),
        start=pl.Series(["2020-03-03", "3 March 2020", "2020-03-03"]),
    )
    report = clen_core.validate(frame, entity="activity")
    assert report.rejected == {"activity": 3}
    assert report.records == {"activity": 0}
    first, second, third = report.filter(rule="READ-001")
    assert (first.row, first.field, first.value) == (1, "start", "2020-03-03")
    assert first.message == (
        "row rejected: start: expected a date (YYYY-MM-DD), got str; "
        "participants: expected a whole number, got str"
    )
    assert (second.row, third.row) == (2, 3)
    assert "participants" not in third.message  # a missing count is fine
    # Text that every value of converts is taken as the field's type.
    converted = frame.with_columns(
        participants=pl.Series(["12", "4", None]), start=pl.Series(["2020-03-03"] * 3)
    )
    assert clen_core.validate(converted, entity="activity").rejected == {}


def test_a_date_python_cannot_hold_is_a_reject_not_a_crash() -> None:
    table = clen_core.to_arrow([activity("A1"), activity("A2")])
    far = pa.array([D(2020, 3, 4).toordinal() - 719163, 3_000_000], pa.int32()).cast(pa.date32())
    report = clen_core.validate(table.set_column(table.schema.get_field_index("end"), "end", far))
    assert report.rejected == {"activity": 1}
    (found,) = report.filter(rule="READ-001")
    assert (found.row, found.field) == (2, "end")
    assert "years 1 to 9999" in found.message


def test_a_mapping_of_frames_and_objects_runs_the_cross_entity_rules() -> None:
    samples = pl.DataFrame(
        {"sample_id": ["S1", "S2"], "lab_id": ["L1", "L9"], "received": [D(2024, 1, 10)] * 2}
    )
    labs = [Laboratory(lab_id="L1", name="Lab", country="AT")]
    report = clen_core.validate({"sample": samples, Laboratory: labs}, only=["REF-001"])
    assert [(f.rule, f.entity, f.key, f.row) for f in report] == [("REF-001", "sample", "S2", 2)]
    assert report.records == {"sample": 2, "laboratory": 1}
    with pytest.raises(ArgumentError, match="a mapping names the entity"):
        clen_core.validate({"sample": samples}, entity="sample")


def test_a_mapping_of_arrow_tables_is_checked_too() -> None:
    # clen_core.validate checks every table from outside, a pyarrow one too.
    good = clen_core.to_arrow([activity("A1")])
    bad = good.set_column(1, "action", pa.array([9], pa.int64()))
    report = clen_core.validate({"activity": bad})
    assert report.by_rule == {"READ-001": 1}
    # The rules engine takes its tables as checked (the rows of valid objects).
    assert "READ-001" not in run_rules({"activity": bad}).by_rule


def test_objects_and_datasets_are_validated_as_before() -> None:
    objs = [activity("A1"), activity("A2", country="RS")]
    # A table whose every row fits reports exactly as its objects do, counts and all.
    assert clen_core.validate(
        pl.from_arrow(clen_core.to_arrow(objs)), entity="activity"
    ).to_dict() == (run_rules(objs).to_dict())
    assert _seen(clen_core.validate(objs)) == _seen(run_rules(objs))
    assert _seen(clen_core.validate(Dataset(objs))) == _seen(run_rules(objs))
    assert clen_core.validate([], entity="activity").records == {"activity": 0}
    assert _seen(clen_core.validate(objs, entity=Activity)) == _seen(run_rules(objs))
    table = clen_core.to_arrow(objs)
    assert _seen(run_rules(table, entity="activity")) == _seen(run_rules(objs))
    with pytest.raises(ArgumentError, match=r"holds 'activity' records .*, not 'sample'"):
        run_rules(table, entity="sample")
    with pytest.raises(ArgumentError, match="a Dataset says the entity of its records itself"):
        run_rules(Dataset(objs), entity="activity")
    with pytest.raises(ArgumentError, match=r"item 1 is a clen_core\.Laboratory; entity="):
        clen_core.validate([Laboratory(lab_id="L1", name="Lab", country="AT")], entity="activity")


@pytest.mark.parametrize("form", [pa.table, pl.from_arrow, duckdb.from_arrow])
def test_an_empty_table_is_validated_as_no_records(form: Any) -> None:
    empty = form(clen_core.arrow_schema("activity").empty_table())
    report = clen_core.validate(empty, entity="activity")
    assert report.records == {"activity": 0}
    assert (report.total, report.ok) == (0, True)


def test_max_findings_caps_the_rejects_kept_and_counts_them_all(activities: pa.Table) -> None:
    report = clen_core.validate(pl.from_arrow(activities), entity="activity", max_findings=3)
    assert len(report.findings) == 3
    assert report.by_rule["READ-001"] == 10
    assert report.rejected == {"activity": 10}


_NAMES = sorted(ENTITIES)


def _generated(name: str, n: int, seed: int, error_rate: float) -> pa.Table:
    try:
        return _rows(name, n, seed=seed, error_rate=error_rate)
    except ArgumentError:  # an entity with no invariant a row could break
        return _rows(name, n, seed=seed, error_rate=0.0)


@pytest.mark.parametrize("name", _NAMES)
@settings(max_examples=6)
@given(st.integers(1, 120), st.integers(0, 2**31), st.sampled_from([0.0, 0.05, 0.3]))
def test_a_table_a_polars_frame_and_the_file_give_the_same_findings(
    tmp_path_factory: pytest.TempPathFactory, name: str, n: int, seed: int, error_rate: float
) -> None:
    rows = _generated(name, n, seed, error_rate)
    as_file = _via_file(rows, tmp_path_factory.mktemp("file"), name)
    as_table = clen_core.validate(rows, entity=name)
    as_polars = clen_core.validate(pl.from_arrow(rows), entity=name)
    assert _seen(as_table) == _seen(as_file)
    assert _seen(as_polars) == _seen(as_file)
    assert _counts(as_table) == _counts(as_file) == _counts(as_polars)


@pytest.mark.parametrize("name", _NAMES)
def test_a_pandas_frame_of_any_entity_gives_the_table_s_findings(name: str) -> None:
    # pandas holds lists and mappings as Python objects: they are read in the field's type.
    rows = _generated(name, 150, 7, 0.05)
    expected = clen_core.validate(rows, entity=name)
    report = clen_core.validate(rows.to_pandas(), entity=name)
    assert _seen(report) == _seen(expected)
    assert _counts(report) == _counts(expected)


# --------------------------------------------------------------------------- the columnar check


@pytest.mark.parametrize("name", ["activity", "substance", "pt_score"])
def test_validate_batches_takes_any_arrow_stream(name: str) -> None:
    rows = _rows(name, 300, seed=2, error_rate=0.1)

    def outcome(data: Any) -> tuple[pa.Table, pa.Table]:
        checked = list(validate_batches(name, data))
        return (
            pa.Table.from_batches([c.valid for c in checked]),
            pa.concat_tables([c.rejects for c in checked]),
        )

    expected = outcome(rows.to_batches())
    assert expected[1].num_rows  # some rows are rejected
    for data in (rows, pl.from_arrow(rows), duckdb.from_arrow(rows)):
        valid, rejects = outcome(data)
        assert valid.equals(expected[0])
        assert rejects.equals(expected[1])


# --------------------------------------------------------------------------- reports out


def _mixed_report() -> Report:
    report = Report()
    values: list[Any] = [
        "TR", 0, -1.5, True, None, ("L1", "L7"), {"en": ("x",)}, Decimal("1.50"),
        D(2020, 3, 3), Severity.ERROR,
    ]  # fmt: skip
    for i, value in enumerate(values):
        report.add(Finding("TST-1", Severity.WARNING, "activity", f"A{i}", i + 1, "f", value,
                           "m", None if i % 2 else "a.csv"))  # fmt: skip
    return report


def test_report_to_arrow_is_typed_with_values_as_text() -> None:
    report = _mixed_report()
    table = report.to_arrow()
    assert table.schema == FINDINGS_SCHEMA
    assert table.column_names == [
        "rule", "severity", "entity", "key", "row", "field", "value", "message", "file",
    ]  # fmt: skip
    assert table.column("value").to_pylist() == [
        "TR", "0", "-1.5", "true", None, '["L1", "L7"]', '{"en": ["x"]}', "1.50",
        "2020-03-03", "error",
    ]  # fmt: skip
    assert table.column("row").type == pa.int64()
    assert table.column("file").to_pylist()[:2] == ["a.csv", None]
    assert Report().to_arrow().num_rows == 0
    assert Report().to_arrow().schema == FINDINGS_SCHEMA


def test_report_to_polars_and_pandas_where_the_dicts_fail() -> None:
    report = _mixed_report()
    # The attempt: one column of mixed value types.
    with pytest.raises(pl.exceptions.PolarsError, match="same schema"):
        pl.DataFrame([f.to_dict() for f in report])
    frame = report.to_polars()
    assert frame.schema["row"] == pl.Int64
    assert frame.schema["value"] == pl.String
    assert frame.height == 10
    pandas = report.to_pandas()
    assert len(pandas) == 10
    assert str(pandas["row"].dtype) == "int64[pyarrow]"
    assert pandas["value"].tolist()[:2] == ["TR", "0"]


def test_a_validated_frame_s_report_round_trips_through_polars(activities: pa.Table) -> None:
    report = clen_core.validate(pl.from_arrow(activities), entity="activity")
    frame = report.to_polars()
    assert frame.height == len(report.findings)
    assert frame.filter(pl.col("rule") == "READ-001").height == 10
    assert frame["key"].to_list() == [f.key for f in report]


@pytest.mark.parametrize(("method", "module"), [("to_polars", "polars"), ("to_pandas", "pandas")])
def test_a_missing_library_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, method: str, module: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # as if not installed
    with pytest.raises(ImportError, match=rf"Report.{method}\(\) needs .*: pip install {module}"):
        getattr(_mixed_report(), method)()


def test_clen_core_needs_neither_polars_nor_pandas() -> None:
    code = textwrap.dedent(
        """
        import importlib.abc, sys

        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name.split(".")[0] in ("polars", "pandas", "duckdb"):
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)
                return None

        sys.meta_path.insert(0, Block())
        import pyarrow as pa
        import clen_core
        from clen_core.synth import generate_batches

        rows = pa.Table.from_batches(list(generate_batches("activity", 200, error_rate=0.05)))
        report = clen_core.validate(rows, entity="activity")
        assert report.rejected == {"activity": 10}, report.rejected
        assert report.to_arrow().num_rows == report.total
        assert "<table>" in report._repr_html_()
        try:
            report.to_polars()
        except ImportError as exc:
            print(exc)
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("polars", "pandas"))
        assert not loaded, loaded
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Report.to_polars() needs Polars" in done.stdout
    assert "pip install polars" in done.stdout


# --------------------------------------------------------------------------- reads and datasets out


@pytest.fixture
def activity_file(tmp_path: Path, activities: pa.Table) -> Path:
    path = tmp_path / "activities.parquet"
    pq.write_table(activities, path)
    return path


def test_reader_to_arrow_gives_the_valid_rows_in_the_entity_schema(activity_file: Path) -> None:
    reader = clen_core.read(activity_file, entity="activity", on_reject="collect")
    table = reader.to_arrow()
    assert table.schema == clen_core.arrow_schema("activity")
    assert table.num_rows == 490
    assert (reader.read_rows, reader.accepted, reader.rejected) == (500, 490, 10)
    objects = list(clen_core.read(activity_file, entity="activity", on_reject="collect"))
    assert table.equals(clen_core.to_arrow(objects, "activity"))
    with pytest.raises(ArgumentError, match="this reader has been read"):
        reader.to_arrow()


def test_reader_to_arrow_raises_the_rejects_by_default(activity_file: Path) -> None:
    with pytest.raises(RejectedRowsError, match="10 of 500 row"):
        clen_core.read(activity_file, entity="activity").to_arrow()


def test_reader_to_arrow_builds_no_object(
    activity_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import clen_core.io.columnar

    def refuse(*args: Any) -> Any:
        raise AssertionError("an object was built")

    monkeypatch.setattr(clen_core.io.columnar, "objects_from_batch", refuse)
    reader = clen_core.read(activity_file, entity="activity", on_reject="collect")
    assert reader.to_arrow().num_rows == 490
    with pytest.raises(AssertionError, match="an object was built"):
        next(iter(clen_core.read(activity_file, entity="activity", on_reject="collect")))


def test_polars_duckdb_and_pyarrow_take_a_read_as_a_stream(activity_file: Path) -> None:
    expected = clen_core.read(activity_file, entity="activity", on_reject="collect").to_arrow()

    def reader() -> Any:
        return clen_core.read(activity_file, entity="activity", on_reject="collect")

    frame = pl.DataFrame(reader())
    assert frame.shape == (490, 12)
    assert (
        frame.to_arrow().column("activity_id").to_pylist()
        == expected.column("activity_id").to_pylist()
    )
    source = reader()  # noqa: F841 - DuckDB finds it by its name in the query
    per_country = duckdb.sql(
        "select country, count(*) as n from source group by country order by country"
    ).fetchall()
    assert sum(n for _, n in per_country) == 490
    assert pa.table(reader()).equals(expected)
    once = reader()
    pa.table(once)
    with pytest.raises(ArgumentError, match="this reader has been read"):
        pa.table(once)


def test_a_stream_with_rejected_rows_fails_with_their_message(activity_file: Path) -> None:
    with pytest.raises(Exception, match=r"10 of 500 row\(s\) rejected"):
        pl.DataFrame(clen_core.read(activity_file, entity="activity"))


def test_a_csv_read_streams_too(tmp_path: Path) -> None:
    objs = [activity(f"A{i}", participants=i) for i in range(1, 6)]
    path = tmp_path / "a.csv"
    clen_core.write(objs, path)
    frame = pl.DataFrame(clen_core.read(path, entity="activity"))
    assert frame["participants"].to_list() == [1, 2, 3, 4, 5]


def test_dataset_to_arrow(tmp_path: Path) -> None:
    labs = [Laboratory(lab_id=f"L{i}", name="Lab", country="AT") for i in range(3)]
    ds = Dataset([*labs, activity("A1")])
    table = ds.to_arrow("laboratory")
    assert table.equals(clen_core.to_arrow(labs))
    assert table.schema == clen_core.arrow_schema("laboratory")
    assert ds.to_arrow(Activity).num_rows == 1
    empty = ds.to_arrow("sample")
    assert empty.num_rows == 0
    assert empty.schema == clen_core.arrow_schema("sample")
    with pytest.raises(UnknownEntityError):
        ds.to_arrow("nothing")
    # A dataset's table is a frame's: validated, it gives the objects' findings.
    assert _seen(clen_core.validate(pl.from_arrow(table), entity="laboratory")) == _seen(
        clen_core.validate(labs)
    )


def test_errors_are_clen_errors() -> None:
    with pytest.raises(ClenError):
        clen_core.validate(object(), entity="activity")
