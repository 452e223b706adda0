"""Dask: clen_core's validator through ``map_partitions`` gives the valid rows, rejects and
findings that ``clen validate`` gives, checking each partition once when they are computed
together; clen_core's writer writes the valid rows; dask reads the partitioned datasets."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import clen_core
from clen_core.io import bridges
from clen_core.io.bridges import ArrowValidator, validate_dask, write_dask
from clen_core.io.partitioned import open_partitioned, write_partitioned
from test_pipelines import ENTITIES, Local, canonical, finding_tuples, local_case, rejects_of

dd = pytest.importorskip("dask.dataframe")
dask = pytest.importorskip("dask")


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Local]:
    folder = tmp_path_factory.mktemp("dask")
    return {e: local_case(e, folder) for e in ENTITIES}


def read(case: Local, *, with_file: bool = False) -> Any:
    ddf = dd.read_parquet(str(case.with_rows), split_row_groups=True)
    if with_file:  # dask's read_parquet names no file: a pipeline adds the column itself
        ddf = ddf.assign(_file=str(case.with_rows))
    assert ddf.npartitions > 1
    return ddf


def table(frame: Any) -> pa.Table:
    return pa.Table.from_pandas(frame, preserve_index=False)


@pytest.mark.parametrize("entity", ENTITIES)
def test_validate_dask_gives_what_clen_validate_gives(cases: dict[str, Local], entity: str) -> None:
    case = cases[entity]
    result = validate_dask(read(case, with_file=True), entity)
    with dask.config.set(scheduler="threads", num_workers=2):
        valid, rejects, findings = dask.compute(result.valid, result.rejects, result.findings)
    assert rejects_of(rejects.to_dict("records")) == case.rejects
    assert set(rejects["row"]) == case.injected_rows
    assert set(rejects["file"]) == {str(case.with_rows)}
    assert set(rejects["rule"]) == {"READ-001"}
    assert finding_tuples(table(findings)) == case.findings
    assert set(findings["file"]) <= {str(case.with_rows)}
    valid_table = table(valid)
    assert valid_table.schema.names == clen_core.arrow_schema(entity).names
    assert canonical(valid_table.to_pylist()) == case.valid
    assert {f[0] for f in case.not_run} <= set(result.not_run)


def test_it_still_unpacks_as_valid_and_rejects(cases: dict[str, Local]) -> None:
    case = cases["activity"]
    valid, rejects = validate_dask(read(case), "activity")
    with dask.config.set(scheduler="threads", num_workers=2):
        valid_df, rejects_df = dask.compute(valid, rejects)
    assert rejects_of(rejects_df.to_dict("records")) == case.rejects
    assert len(valid_df) == len(case.valid)


class _Count:
    """Counts the batches checked (the threads scheduler: one process)."""

    def __init__(self, check: Any) -> None:
        self.check = check
        self.batches = 0
        self.lock = threading.Lock()

    def __call__(
        self, entity: Any, batches: Iterable[pa.RecordBatch], **options: Any
    ) -> Iterator[Any]:
        for batch in batches:
            with self.lock:
                self.batches += 1
            yield from self.check(entity, [batch], **options)


def test_each_partition_is_checked_once_when_computed_together(
    cases: dict[str, Local], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counting = _Count(bridges.validate_batches)
    monkeypatch.setattr(bridges, "validate_batches", counting)
    case = cases["activity"]
    ddf = read(case)
    result = validate_dask(ddf, "activity")
    with dask.config.set(scheduler="threads", num_workers=2):
        written = write_dask(
            result.valid,
            tmp_path / "valid",
            "activity",
            compute_with=[
                result.rejects.to_parquet(str(tmp_path / "rejects"), compute=False),
                result.findings.to_parquet(str(tmp_path / "findings"), compute=False),
            ],
        )
        assert counting.batches == ddf.npartitions
        # One after the other, each computes the partitions again: the count says so.
        result.rejects.compute()
        result.findings.compute()
    assert counting.batches == 3 * ddf.npartitions
    assert written.rows == {"activity": len(case.valid)}
    assert len(dd.read_parquet(str(tmp_path / "rejects")).compute()) == len(case.rejects)


def test_one_pass_writes_the_valid_rows_and_gives_the_rest(
    cases: dict[str, Local], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counting = _Count(bridges.validate_batches)
    monkeypatch.setattr(bridges, "validate_batches", counting)
    case = cases["analysis_result"]
    ddf = read(case, with_file=True)
    with dask.config.set(scheduler="threads", num_workers=2):
        result = validate_dask(
            ddf, "analysis_result", write_to=tmp_path / "valid", issues_to=str(tmp_path / "issues")
        )
        assert counting.batches == ddf.npartitions  # the one pass, done
        rejects, findings, valid = dask.compute(result.rejects, result.findings, result.valid)
    assert counting.batches == ddf.npartitions  # the results are read back, not checked again
    assert result.written is not None
    assert result.written.rows == {"analysis_result": len(case.valid)}
    assert len(result.written.paths) == ddf.npartitions
    assert rejects_of(rejects.to_dict("records")) == case.rejects
    assert set(rejects["file"]) == {str(case.with_rows)}
    assert finding_tuples(table(findings)) == case.findings
    assert canonical(table(valid).to_pylist()) == case.valid
    with pytest.raises(clen_core.errors.ArgumentError, match="go together"):
        validate_dask(ddf, "analysis_result", issues_to=str(tmp_path / "other"))


def test_one_pass_with_every_row_rejected_writes_no_file(tmp_path: Path) -> None:
    import pandas as pd

    from clen_core.synth import generate_batches

    rows = pa.Table.from_batches(list(generate_batches("activity", 40, seed=1)))
    frame = rows.to_pandas(types_mapper=pd.ArrowDtype)
    frame["participants"] = pd.Series([-5] * 40, dtype=pd.ArrowDtype(pa.int64()))
    with dask.config.set(scheduler="sync"):
        result = validate_dask(
            dd.from_pandas(frame, npartitions=2),
            "activity",
            write_to=tmp_path / "valid",
            issues_to=str(tmp_path / "issues"),
        )
        assert result.written is not None
        assert result.written.paths == ()
        assert list((tmp_path / "valid").iterdir()) == []
        assert len(result.valid.compute()) == 0
        assert len(result.rejects.compute()) == 40


def test_write_dask_writes_clen_core_files(cases: dict[str, Local], tmp_path: Path) -> None:
    case = cases["sample"]
    result = validate_dask(read(case), "sample")
    target = tmp_path / "samples"
    with dask.config.set(scheduler="threads", num_workers=2):
        written = write_dask(result.valid, target, "sample")
    assert written.rows == {"sample": len(case.valid)}
    assert list(written.paths) == sorted(target.iterdir())
    assert written.paths[0].name == "part-00000.parquet"
    assert [p.name for p in tmp_path.iterdir()] == ["samples"]  # no temporary folder left
    for path in written.paths:
        assert pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "ZSTD"
        schema = pq.read_schema(path)
        assert schema.metadata[b"clen_core.entity"] == b"sample"
        assert schema.equals(clen_core.arrow_schema("sample"), check_metadata=False)
    assert canonical(open_partitioned(target).to_table().to_pylist()) == case.valid
    assert clen_core.validate_path(target).rejected == {"sample": 0}


def test_a_failed_write_leaves_no_folder(cases: dict[str, Local], tmp_path: Path) -> None:
    case = cases["activity"]
    result = validate_dask(read(case), "activity")
    broken = result.valid.map_partitions(_break, meta=bridges.pandas_meta("activity"))
    with (
        dask.config.set(scheduler="threads", num_workers=2),
        pytest.raises(RuntimeError, match="broken partition"),
    ):
        write_dask(broken, tmp_path / "valid", "activity")
    assert list(tmp_path.iterdir()) == []


def _break(frame: Any, partition_info: dict[str, Any] | None = None) -> Any:
    if partition_info is not None and partition_info["number"] == 1:
        raise RuntimeError("broken partition")
    return frame


def test_object_stores_are_refused_with_a_pointer(cases: dict[str, Local]) -> None:
    result = validate_dask(read(cases["activity"]), "activity")
    with pytest.raises(clen_core.errors.ArgumentError, match="not to an object store"):
        write_dask(result.valid, "s3://bucket/valid", "activity")


def test_a_worker_of_another_version_refuses_to_run(
    cases: dict[str, Local], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The graph is built by a "driver" of version 0.0.1; the worker runs this clen_core.
    with monkeypatch.context() as patch:
        patch.setattr(bridges, "__version__", "0.0.1")
        result = validate_dask(read(cases["activity"]), "activity")
    with (
        dask.config.set(scheduler="threads", num_workers=2),
        pytest.raises(clen_core.errors.ClenError, match=r"on this worker, 0\.0\.1 on the driver"),
    ):
        result.rejects.compute()


def test_processes_scheduler_ships_the_validator(cases: dict[str, Local]) -> None:
    case = cases["activity"]
    result = validate_dask(read(case), "activity")
    with dask.config.set(scheduler="processes", num_workers=2):
        got = result.rejects.compute()
    assert rejects_of(got.to_dict("records")) == case.rejects


def test_dask_reads_the_partitioned_dataset(cases: dict[str, Local], tmp_path: Path) -> None:
    case = cases["activity"]
    rows = pa.Table.from_batches(ArrowValidator("activity")(pq.read_table(case.plain).to_batches()))
    target = tmp_path / "ds"
    write_partitioned(rows.to_batches(), target, entity="activity", partition_by="year,country")
    ddf = dd.read_parquet(str(target), dtype_backend="pyarrow")
    frame = ddf.compute()
    assert len(frame) == rows.num_rows
    assert str(frame.dtypes["country"]).startswith("string")
    assert str(frame.dtypes["year"]).startswith("int32")
    be = int((frame["country"] == "BE").sum())
    assert be == open_partitioned(target).count_rows({"country": "BE"})


def test_dask_keeps_code_like_keys_as_text_with_the_declared_partitioning(
    cases: dict[str, Local], tmp_path: Path
) -> None:
    case = cases["activity"]
    valid = pa.Table.from_batches(
        ArrowValidator("activity")(pq.read_table(case.plain).to_batches())
    )
    rows = valid.to_pylist()
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


def test_benchmark_script_runs_at_a_tiny_size() -> None:
    """benchmarks/dask_pipeline.py prints the times of plain Dask and of the validation,
    and both sides agree with the local path (speed not asserted)."""
    import subprocess
    import sys

    script = Path(__file__).parents[1] / "benchmarks" / "dask_pipeline.py"
    result = subprocess.run(
        [sys.executable, str(script), "--rows", "3000", "--no-warm-up", "--repeat", "1"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for start in ("plain dask:", "validate_dask, one pass:", "validate_dask, computed together:"):
        line = next(x for x in lines if x.startswith(start))
        assert "rows/s" in line, line
        assert "3,000 rows" in line, line
    assert "ratio validate_dask, one pass/plain dask" in result.stdout


def test_a_task_still_running_after_the_write_was_given_up_makes_no_folder(
    tmp_path: Path,
) -> None:
    # Another task failed and its folder being built was removed; this one, still running,
    # must not make the folder again when its first rows come (the race CI once met).
    gone = tmp_path / ".valid.clen-tmp-given-up"
    from clen_core.synth import generate_batches

    batch = next(generate_batches("activity", 10, seed=1))
    with (
        pytest.raises(clen_core.errors.FormatError, match="given up"),
        bridges._part_file("activity", str(gone), 0) as out,
    ):
        out.add(batch)
    assert list(tmp_path.iterdir()) == []
