"""Dask: clen_core's validator through ``map_partitions`` splits valid rows and rejects
exactly as the local path does; dask reads the partitioned datasets with their types."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from clen_core.io.bridges import output_schema, validate_dask
from clen_core.io.partitioned import open_partitioned, write_partitioned
from test_pipelines import ENTITIES, Local, by_row, local_case

dd = pytest.importorskip("dask.dataframe")
dask = pytest.importorskip("dask")


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Local]:
    folder = tmp_path_factory.mktemp("dask")
    return {e: local_case(e, folder) for e in ENTITIES}


@pytest.mark.parametrize("entity", ENTITIES)
def test_map_partitions_splits_like_the_local_path(cases: dict[str, Local], entity: str) -> None:
    case = cases[entity]
    ddf = dd.read_parquet(str(case.with_rows), split_row_groups=True)
    assert ddf.npartitions > 1
    valid, rejects = validate_dask(ddf, entity)
    with dask.config.set(scheduler="threads", num_workers=2):
        valid_df, rejects_df = dask.compute(valid, rejects)
    got = {(r["row"], r["field"], r["reason"]) for r in rejects_df.to_dict("records")}
    assert got == case.rejects
    assert {row for row, _, _ in got} == case.injected_rows
    table = pa.Table.from_pandas(valid_df, preserve_index=False)
    assert table.schema.equals(output_schema(entity), check_metadata=False)
    assert by_row(table.to_pylist()) == by_row(case.valid)


def test_processes_scheduler_ships_the_validator(cases: dict[str, Local]) -> None:
    case = cases["activity"]
    ddf = dd.read_parquet(str(case.with_rows), split_row_groups=True)
    _, rejects = validate_dask(ddf, "activity")
    with dask.config.set(scheduler="processes", num_workers=2):
        got = rejects.compute()
    assert {(r["row"], r["field"], r["reason"]) for r in got.to_dict("records")} == case.rejects


def test_dask_reads_the_partitioned_dataset(cases: dict[str, Local], tmp_path: Path) -> None:
    import clen_core

    case = cases["activity"]
    rows = [{k: v for k, v in r.items() if k != "_row"} for r in case.valid]
    table = pa.Table.from_pylist(rows).select(clen_core.arrow_schema("activity").names)
    target = tmp_path / "ds"
    write_partitioned(table.to_batches(), target, entity="activity", partition_by="year,country")
    ddf = dd.read_parquet(str(target), dtype_backend="pyarrow")
    frame = ddf.compute()
    assert len(frame) == len(rows)
    assert str(frame.dtypes["country"]).startswith("string")
    assert str(frame.dtypes["year"]).startswith("int32")
    be = int((frame["country"] == "BE").sum())
    assert be == open_partitioned(target).count_rows({"country": "BE"})


def test_dask_keeps_code_like_keys_as_text_with_the_declared_partitioning(
    cases: dict[str, Local], tmp_path: Path
) -> None:
    import clen_core

    case = cases["activity"]
    rows = [{k: v for k, v in r.items() if k != "_row"} for r in case.valid]
    for i, r in enumerate(rows):
        r["project_group_id"] = f"{i % 12:02d}"
    table = pa.Table.from_pylist(rows).select(clen_core.arrow_schema("activity").names)
    target = tmp_path / "ds"
    write_partitioned(
        table.to_batches(), target, entity="activity", partition_by="project_group_id"
    )
    ours = open_partitioned(target)
    ddf = dd.read_parquet(
        str(target), dtype_backend="pyarrow", dataset={"partitioning": ours.partitioning()}
    )
    frame = ddf.compute()
    assert str(frame.dtypes["project_group_id"]).startswith("string")
    assert sorted(set(frame["project_group_id"])) == [f"{n:02d}" for n in range(12)]
    assert int((frame["project_group_id"] == "01").sum()) == ours.count_rows(
        {"project_group_id": "01"}
    )
