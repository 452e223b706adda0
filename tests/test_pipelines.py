"""Shared test data for the engine integrations: generated rows with injected errors,
and what clen_core's local path makes of them."""

from __future__ import annotations

from pathlib import Path

import attrs
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import clen_core
from clen_core.io.bridges import output_schema
from clen_core.synth import generate_batches, injected

ENTITIES = ("activity", "laboratory", "sample")
ROWS = 1500
ERROR_RATE = 0.04


@attrs.frozen
class Local:
    """One entity's generated file, with and without ``_row``, and the local verdicts."""

    entity: str
    plain: Path
    with_rows: Path
    valid: list[dict[str, object]]
    rejects: set[tuple[int, str | None, str]]
    injected_rows: set[int]


def local_case(entity: str, folder: Path, n: int = ROWS) -> Local:
    table = pa.Table.from_batches(
        list(generate_batches(entity, n, seed=3, error_rate=ERROR_RATE, batch_rows=500))
    )
    plain = folder / f"{entity}.parquet"
    with_rows = folder / f"{entity}_rows.parquet"
    pq.write_table(table, plain, row_group_size=400)
    rows = pa.array(range(1, n + 1), pa.int64())
    pq.write_table(table.append_column("_row", rows), with_rows, row_group_size=400)
    reader = clen_core.read(plain, entity=entity, on_reject="collect", max_rejects=10**6)
    valid = []
    schema = output_schema(entity)
    for batch, source_rows in reader.batches():
        columns = [c.cast(schema.field(i).type) for i, c in enumerate(batch.columns)]
        valid += pa.RecordBatch.from_arrays([*columns, source_rows], schema=schema).to_pylist()
    rejects = {(r.row, r.field, r.reason) for r in reader.rejects}
    truth = {
        i + 1 for i, _, _ in injected(entity, n, seed=3, error_rate=ERROR_RATE, batch_rows=500)
    }
    return Local(entity, plain, with_rows, valid, rejects, truth)


def by_row(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    return sorted(rows, key=lambda r: r["_row"])  # type: ignore[arg-type, return-value]


# --------------------------------------------------------------------------- the adapters


def test_validator_pickles_and_keeps_no_state(tmp_path: Path) -> None:
    import pickle

    import cloudpickle

    from clen_core.io.bridges import ArrowValidator
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


@pytest.mark.parametrize("entity", ENTITIES)
def test_pandas_path_matches_the_local_path(tmp_path: Path, entity: str) -> None:
    import pandas as pd

    from clen_core.io.bridges import validate_pandas

    case = local_case(entity, tmp_path, n=600)
    frame = pq.read_table(case.with_rows).to_pandas()  # numpy dtypes: dates as objects
    valid = validate_pandas(frame, entity)
    rejects = validate_pandas(frame, entity, "rejects")
    assert isinstance(valid, pd.DataFrame)
    got = {(r["row"], r["field"], r["reason"]) for r in rejects.to_dict("records")}
    assert got == case.rejects
    table = pa.Table.from_pandas(valid, preserve_index=False)
    assert table.schema.equals(output_schema(entity), check_metadata=False)
    assert by_row(table.to_pylist()) == by_row(case.valid)


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
