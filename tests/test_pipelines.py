"""Shared test data for the engine integrations: generated rows with injected errors,
and what clen_core's local path (``validate_file``, what ``clen validate`` runs) makes of
them; and the batch validator itself, held to that local path."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

import clen_core
from clen_core.io.bridges import (
    ENGINE_REJECTS_SCHEMA,
    ArrowValidator,
    batch_rules,
    output_schema,
)
from clen_core.io.commands import validate_file
from clen_core.rules.report import FINDINGS_SCHEMA, READ_RULE
from clen_core.synth import generate_batches, injected

# analysis_result and activity have rules that judge each row (RES-005, ACT-001...) and
# fire on generated data; sample has lists and mappings.
ENTITIES = ("activity", "laboratory", "analysis_result", "sample")
ROWS = 1500
ERROR_RATE = 0.04

Finding = tuple[Any, ...]
"""A finding as compared: rule, severity, entity, key, row, field, value (text), message."""


@attrs.frozen
class Local:
    """One entity's generated file, with and without ``_row``, and the local verdicts."""

    entity: str
    plain: Path
    with_rows: Path
    valid: list[str]
    """The valid rows (entity fields, enums as text), each as its repr, sorted."""
    rejects: set[tuple[int, str | None, str]]
    """(row, field, reason) of every reject."""
    findings: Counter[Finding]
    """The findings of ``clen validate`` of the rules run per batch, and ``READ-001``."""
    not_run: Counter[Finding]
    """The findings of the other rules (whole-table rules: not run per batch)."""
    injected_rows: set[int]


def canonical(rows: list[dict[str, object]]) -> list[str]:
    """Rows as a sorted list of reprs: equal lists, equal multisets of rows."""
    return sorted(map(repr, rows))


def finding_tuples(table: pa.Table) -> Counter[Finding]:
    """Findings as comparable tuples (the file apart: it is checked on its own)."""
    names = [n for n in FINDINGS_SCHEMA.names if n != "file"]
    return Counter(tuple(r[n] for n in names) for r in table.select(names).to_pylist())


def local_case(entity: str, folder: Path, n: int = ROWS) -> Local:
    table = pa.Table.from_batches(
        list(generate_batches(entity, n, seed=3, error_rate=ERROR_RATE, batch_rows=500))
    )
    plain = folder / f"{entity}.parquet"
    with_rows = folder / f"{entity}_rows.parquet"
    pq.write_table(table, plain, row_group_size=400)
    rows = pa.array(range(1, n + 1), pa.int64())
    pq.write_table(table.append_column("_row", rows), with_rows, row_group_size=400)
    checked = validate_file(plain, entity=entity, max_findings=10**6)
    assert {f.file for f in checked.report.findings} <= {str(plain)}
    reader = clen_core.read(plain, entity=entity, on_reject="collect", max_rejects=10**6)
    schema = output_schema(entity)
    valid = []
    for batch, _ in reader.batches():
        columns = [c.cast(schema.field(i).type) for i, c in enumerate(batch.columns)]
        valid += pa.RecordBatch.from_arrays(columns, schema=schema).to_pylist()
    run = {r.id for r in batch_rules(entity)} | {READ_RULE}
    found = checked.report.to_arrow()
    in_batch = pa.array([r in run for r in found.column("rule").to_pylist()], pa.bool_())
    truth = {
        i + 1 for i, _, _ in injected(entity, n, seed=3, error_rate=ERROR_RATE, batch_rows=500)
    }
    return Local(
        entity,
        plain,
        with_rows,
        canonical(valid),
        {(r.row, r.field, r.reason) for r in checked.rejects},
        finding_tuples(found.filter(in_batch)),
        finding_tuples(found.filter(pa.compute.invert(in_batch))),
        truth,
    )


def rejects_of(rows: list[dict[str, Any]]) -> set[tuple[int, str | None, str]]:
    return {(r["row"], r["field"], r["reason"]) for r in rows}


# --------------------------------------------------------------------------- the validator


def test_validator_pickles_and_keeps_no_state(tmp_path: Path) -> None:
    import pickle

    import cloudpickle

    from clen_core.io.columnar import validate_batches

    case = local_case("activity", tmp_path, n=600)
    check = ArrowValidator("activity", "rejects")
    for dumps in (pickle.dumps, cloudpickle.dumps):
        again = pickle.loads(dumps(check))
        assert again == check
        assert pickle.loads(dumps(validate_batches)) is validate_batches
    batches = pq.read_table(case.with_rows).to_batches(max_chunksize=100)
    first = [b.to_pylist() for b in check(batches)]
    # Called again, on the batches in another order: the same rejects (no state carried).
    second = [b.to_pylist() for b in check(reversed(batches))]
    assert sorted(r["row"] for b in first for r in b) == sorted(r["row"] for b in second for r in b)
    assert {(r["row"], r["field"], r["reason"]) for b in first for r in b} == case.rejects


@given(
    entity=st.sampled_from(["activity", "analysis_result"]),
    seed=st.integers(0, 1000),
    error_rate=st.sampled_from([0.0, 0.05, 0.3]),
    chunk=st.integers(1, 300),
)
def test_any_batching_gives_what_clen_validate_gives(
    tmp_path_factory: pytest.TempPathFactory, entity: str, seed: int, error_rate: float, chunk: int
) -> None:
    """However the rows come in batches, the tagged output splits into the valid rows,
    rejects and findings of ``validate_file`` (its batch rules and READ-001)."""
    n = 300
    table = pa.Table.from_batches(list(generate_batches(entity, n, seed=seed,
                                                        error_rate=error_rate)))  # fmt: skip
    path = tmp_path_factory.mktemp("batching") / "rows.parquet"
    pq.write_table(table, path)
    local = validate_file(path, entity=entity, max_findings=10**6)
    check = ArrowValidator(entity, "tagged")
    given_rows = table.append_column("_row", pa.array(range(1, n + 1), pa.int64()))
    given_rows = given_rows.append_column("_file", pa.array([str(path)] * n))
    tagged = pa.Table.from_batches(
        list(check(given_rows.to_batches(max_chunksize=chunk))), schema=check.schema
    )
    kinds = tagged.column("_kind")
    findings = tagged.filter(pa.compute.equal(kinds, "finding"))
    rejects = tagged.filter(pa.compute.equal(kinds, "reject"))
    assert {(r["_row"], r["_field"], r["_message"]) for r in rejects.to_pylist()} == {
        (r.row, r.field, r.reason) for r in local.rejects
    }
    run = {r.id for r in batch_rules(entity)} | {READ_RULE}
    expected = Counter(
        (f["rule"], f["severity"], f["key"], f["row"], f["field"], f["value"], f["message"],
         f["file"])
        for f in local.report.to_arrow().to_pylist()
        if f["rule"] in run
    )  # fmt: skip
    got = Counter(
        (r["_rule"], r["_severity"], r["_key"], r["_row"], r["_field"], r["_value"],
         r["_message"], r["_file"])
        for r in findings.to_pylist()
    )  # fmt: skip
    assert got == expected
    valid = tagged.filter(pa.compute.equal(kinds, "valid"))
    assert valid.num_rows == local.accepted
    assert sorted(valid.column("_row").to_pylist()) == sorted(
        set(range(1, n + 1)) - {r.row for r in local.rejects}
    )


@pytest.mark.parametrize("entity", ENTITIES)
def test_each_output_is_a_part_of_the_tagged_one(tmp_path: Path, entity: str) -> None:
    case = local_case(entity, tmp_path, n=600)
    batches = pq.read_table(case.with_rows).to_batches(max_chunksize=250)
    outputs = {
        output: pa.Table.from_batches(list(check(batches)), schema=check.schema)
        for output in ("valid", "rejects", "findings", "tagged")
        for check in [ArrowValidator(entity, output)]  # type: ignore[arg-type]
    }
    assert outputs["valid"].schema.names == clen_core.arrow_schema(entity).names  # no _row
    assert outputs["rejects"].schema.equals(ENGINE_REJECTS_SCHEMA)
    assert outputs["findings"].schema.equals(FINDINGS_SCHEMA)
    assert canonical(outputs["valid"].to_pylist()) == case.valid
    assert rejects_of(outputs["rejects"].to_pylist()) == case.rejects
    assert finding_tuples(outputs["findings"]) == case.findings
    kinds = Counter(outputs["tagged"].column("_kind").to_pylist())
    assert kinds == {
        k: v
        for k, v in {
            "valid": outputs["valid"].num_rows,
            "reject": outputs["rejects"].num_rows,
            "finding": outputs["findings"].num_rows,
        }.items()
        if v
    }


def test_rejects_name_rule_key_and_file() -> None:
    table = pa.table(
        {
            "activity_id": ["A-1", "A-2"],
            "start": pa.array([None, None], pa.date32()),
            "end": pa.array([None, None], pa.date32()),
            "participants": [3, -1],
            "_row": pa.array([41, 42], pa.int64()),
            "_file": ["file:/data/in%20box/a.parquet", "s3a://bucket/b.parquet"],
        }
    )
    rejects = pa.Table.from_batches(list(ArrowValidator("activity", "rejects")(table.to_batches())))
    by_key = {r["key"]: r for r in rejects.to_pylist()}
    assert by_key["A-2"]["row"] == 42
    assert by_key["A-2"]["rule"] == READ_RULE
    assert by_key["A-2"]["file"] == "s3a://bucket/b.parquet"  # other URIs stay as they are
    assert {r["file"] for r in rejects.to_pylist() if r["key"] == "A-1"} == {
        "/data/in box/a.parquet"  # file: URIs become the paths clen validate names
    }


def test_without_row_numbers_the_row_is_unknown_and_the_key_names_it(tmp_path: Path) -> None:
    case = local_case("activity", tmp_path, n=600)
    table = pq.read_table(case.plain)
    for output in ("rejects", "findings"):
        check = ArrowValidator("activity", output)  # type: ignore[arg-type]
        got = pa.Table.from_batches(list(check(table.to_batches(max_chunksize=200))))
        assert got.num_rows
        assert got.column("row").null_count == got.num_rows
    found = pa.Table.from_batches(list(ArrowValidator("activity", "findings")(table.to_batches())))
    by_rule = found.filter(pa.compute.not_equal(found.column("rule"), READ_RULE))
    assert by_rule.num_rows
    assert by_rule.column("key").null_count == 0


def test_only_restricts_the_rules_and_not_run_names_the_others() -> None:
    ids = {r.id for r in batch_rules("activity")}
    assert {"ACT-001", "ACT-003"} <= ids
    assert "DUP-001" not in ids
    assert READ_RULE not in ids
    assert {r.id for r in batch_rules("activity", only=["ACT-001", "DUP-001"])} == {"ACT-001"}
    rows = pa.Table.from_batches(list(generate_batches("activity", 400, seed=1)))
    found = pa.Table.from_batches(
        list(ArrowValidator("activity", "findings", only=("ACT-003",))(rows.to_batches())),
        schema=FINDINGS_SCHEMA,
    )
    assert set(found.column("rule").to_pylist()) <= {"ACT-003"}


def test_a_worker_of_another_version_refuses_to_run() -> None:
    from clen_core.errors import ClenError

    rows = pa.Table.from_batches(list(generate_batches("activity", 10, seed=1)))
    check = ArrowValidator("activity", "valid", version="0.0.1")
    with pytest.raises(ClenError, match=r"clen_core \S+ on this worker, 0\.0\.1 on the driver"):
        list(check(rows.to_batches()))


def test_row_numbers_that_are_not_numbers_are_refused() -> None:
    from clen_core.errors import ArgumentError

    rows = pa.Table.from_batches(list(generate_batches("activity", 3, seed=1)))
    rows = rows.append_column("_row", pa.array(["1", "two", "3"]))
    with pytest.raises(ArgumentError, match="column '_row' holds string values that are not"):
        list(ArrowValidator("activity", "rejects")(rows.to_batches()))


def test_output_names_are_checked() -> None:
    from clen_core.errors import ArgumentError

    with pytest.raises(ArgumentError, match="output 'bad' is not one of"):
        output_schema("activity", "bad")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- pandas


@pytest.mark.parametrize("entity", ENTITIES)
def test_pandas_path_matches_the_local_path(tmp_path: Path, entity: str) -> None:
    import pandas as pd

    from clen_core.io.bridges import validate_pandas

    case = local_case(entity, tmp_path, n=600)
    frame = pq.read_table(case.with_rows).to_pandas()  # numpy dtypes: dates as objects
    valid = validate_pandas(frame, entity)
    rejects = validate_pandas(frame, entity, "rejects")
    findings = validate_pandas(frame, entity, "findings")
    assert isinstance(valid, pd.DataFrame)
    assert rejects_of(rejects.to_dict("records")) == case.rejects
    table = pa.Table.from_pandas(valid, preserve_index=False)
    assert table.schema.equals(output_schema(entity), check_metadata=False)
    assert canonical(table.to_pylist()) == case.valid
    assert finding_tuples(pa.Table.from_pandas(findings, preserve_index=False)) == case.findings


def test_conform_casts_engine_types_losslessly() -> None:
    import datetime as dt

    from clen_core.io.bridges import conform

    batch = pa.RecordBatch.from_pydict(
        {
            "activity_id": pa.array(["A"], pa.large_string()),
            "start": pa.array([dt.datetime(2020, 1, 2)], pa.timestamp("ns")),
            "end": pa.array([dt.datetime(2020, 1, 2, 12)], pa.timestamp("ns")),
            "participants": pa.array([3.0], pa.float64()),
            "action": pa.array([1.5], pa.float64()),
            "_row": pa.array([7], pa.int32()),
        }
    )
    out = conform(batch, "activity")
    assert out.schema.field("activity_id").type == pa.string()
    assert out.schema.field("start").type == pa.date32()
    assert out.schema.field("end").type == pa.timestamp("ns")  # not a date: left for the checks
    assert out.schema.field("participants").type == pa.int64()
    assert out.schema.field("action").type == pa.float64()  # 1.5 is no whole number
    assert out.schema.field("_row").type == pa.int64()


def test_spark_and_dask_extras_are_declared() -> None:
    import tomllib

    root = Path(__file__).parents[1]
    extras = tomllib.loads((root / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert any(r.startswith("pyspark") for r in extras["spark"])
    assert any(r.startswith("dask") for r in extras["dask"])
    # The dev extra (the README's test command installs it) brings both to the tests.
    (union,) = (r for r in extras["dev"] if r.startswith("clen_core["))
    assert {"spark", "dask"} <= set(union.removeprefix("clen_core[").rstrip("]").split(","))
    docs = (root / "docs" / "pipelines.md").read_text()
    assert "clen_core[spark]" in docs
    assert "clen_core[dask]" in docs
