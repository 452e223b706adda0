"""Spark: clen_core's validator inside ``mapInArrow`` on a local session (two cores) gives
the valid rows, rejects and findings that ``clen validate`` gives, checking each batch
once; clen_core's writer writes the valid rows on the workers; Spark reads the
partitioned datasets.

Skipped where pyspark or Java is missing."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import clen_core
from clen_core.io import bridges
from clen_core.io.bridges import ArrowValidator, validate_spark, write_spark
from clen_core.io.partitioned import open_partitioned, write_partitioned
from test_pipelines import ENTITIES, Local, canonical, finding_tuples, local_case, rejects_of

pyspark = pytest.importorskip("pyspark")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs Java (none on PATH, no JAVA_HOME)", allow_module_level=True)

pytestmark = pytest.mark.filterwarnings(
    # py4j's sockets, closed by the JVM's side after the session stops.
    "ignore::ResourceWarning",
)


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Local]:
    folder = tmp_path_factory.mktemp("spark")
    return {e: local_case(e, folder) for e in ENTITIES}


@pytest.mark.parametrize("entity", ENTITIES)
def test_validate_spark_gives_what_clen_validate_gives(
    spark: Any, cases: dict[str, Local], entity: str
) -> None:
    case = cases[entity]
    df = spark.read.parquet(str(case.with_rows)).repartition(2)
    result = validate_spark(df, entity)
    try:
        rejects = result.rejects.collect()
        assert rejects_of([r.asDict() for r in rejects]) == case.rejects
        assert {r["row"] for r in rejects} == case.injected_rows
        assert {(r["rule"], r["file"]) for r in rejects} == {("READ-001", str(case.with_rows))}
        assert all(r["key"] for r in rejects)
        findings = result.findings.toArrow()
        assert finding_tuples(findings) == case.findings
        assert set(findings.column("file").to_pylist()) <= {str(case.with_rows)}
        valid = result.valid.toArrow()
        assert valid.schema.names == clen_core.arrow_schema(entity).names
        assert canonical(valid.to_pylist()) == case.valid
        # What is not run per batch is named, and holds what clen validate found besides.
        assert {f[0] for f in case.not_run} <= set(result.not_run)
        assert "DUP-001" in result.not_run
    finally:
        result.unpersist()


def test_it_still_unpacks_as_valid_and_rejects(spark: Any, cases: dict[str, Local]) -> None:
    case = cases["activity"]
    valid, rejects = validate_spark(spark.read.parquet(str(case.with_rows)), "activity")
    assert rejects_of([r.asDict() for r in rejects.collect()]) == case.rejects
    assert valid.count() == len(case.valid)


def test_one_pass_writes_the_valid_rows_and_gives_the_rest(
    spark: Any, cases: dict[str, Local], tmp_path: Path
) -> None:
    case = cases["analysis_result"]
    df = spark.read.parquet(str(case.with_rows)).repartition(2)
    result = validate_spark(
        df, "analysis_result", write_to=tmp_path / "valid", issues_to=str(tmp_path / "issues")
    )
    assert result.written is not None
    assert result.written.rows == {"analysis_result": len(case.valid)}
    assert [p.name for p in result.written.paths] == ["part-00000.parquet", "part-00001.parquet"]
    assert rejects_of([r.asDict() for r in result.rejects.collect()]) == case.rejects
    assert finding_tuples(result.findings.toArrow()) == case.findings
    assert canonical(result.valid.toArrow().to_pylist()) == case.valid
    assert canonical(open_partitioned(tmp_path / "valid").to_table().to_pylist()) == case.valid
    with pytest.raises(clen_core.errors.ArgumentError, match="go together"):
        validate_spark(df, "analysis_result", write_to=tmp_path / "other")


# Validators that count the batches they are given, with an accumulator: the test module
# is shipped to the workers by value (they cannot import it).
_BATCHES: Any = None


@attrs.frozen
class _Counting(ArrowValidator):
    def __call__(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            _BATCHES.add(1)
            yield from ArrowValidator.__call__(self, [batch])


@attrs.frozen
class _CountingWriter(bridges._CheckingWriter):
    def __call__(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        def counted() -> Iterator[pa.RecordBatch]:
            for batch in batches:
                _BATCHES.add(1)
                yield batch

        return bridges._CheckingWriter.__call__(self, counted())


@pytest.mark.parametrize(("mode", "checks"), [("cached", 3), ("uncached", 9), ("one pass", 3)])
def test_each_batch_is_checked_once(
    spark: Any, cases: dict[str, Local], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    mode: str, checks: int,
) -> None:  # fmt: skip
    from pyspark import cloudpickle

    global _BATCHES
    _BATCHES = spark.sparkContext.accumulator(0)
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    monkeypatch.setattr(bridges, "ArrowValidator", _Counting)
    monkeypatch.setattr(bridges, "_CheckingWriter", _CountingWriter)
    case = cases["activity"]
    # Three partitions of 500 rows: one Arrow batch each.
    df = spark.read.parquet(str(case.with_rows)).repartition(3)
    try:
        if mode == "one pass":
            result = validate_spark(
                df, "activity", write_to=tmp_path / "valid", issues_to=str(tmp_path / "issues")
            )
        else:
            result = validate_spark(df, "activity", cache=mode == "cached")
            write_spark(result.valid, tmp_path / "valid", "activity")
        result.rejects.write.parquet(str(tmp_path / "rejects"))
        result.findings.write.parquet(str(tmp_path / "findings"))
        result.unpersist()
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    # Once per batch for the three outputs; uncached, once per batch per output.
    assert _BATCHES.value == checks
    assert open_partitioned(tmp_path / "valid").count_rows() == len(case.valid)
    assert spark.read.parquet(str(tmp_path / "rejects")).count() == len(case.rejects)


def test_write_spark_writes_clen_core_files(
    spark: Any, cases: dict[str, Local], tmp_path: Path
) -> None:
    case = cases["sample"]
    result = validate_spark(spark.read.parquet(str(case.with_rows)).repartition(3), "sample")
    target = tmp_path / "samples"
    written = write_spark(result.valid, target, "sample")
    result.unpersist()
    assert written.rows == {"sample": len(case.valid)}
    assert sorted(p.name for p in target.iterdir()) == [
        "part-00000.parquet", "part-00001.parquet", "part-00002.parquet"
    ]  # fmt: skip
    assert list(written.paths) == sorted(target.iterdir())
    assert [p.name for p in tmp_path.iterdir()] == ["samples"]  # no temporary folder left
    for path in written.paths:
        meta = pq.ParquetFile(path).metadata
        assert meta.row_group(0).column(0).compression == "ZSTD"
        schema = pq.read_schema(path)
        assert schema.metadata[b"clen_core.entity"] == b"sample"
        assert schema.equals(clen_core.arrow_schema("sample"), check_metadata=False)
    assert canonical(open_partitioned(target).to_table().to_pylist()) == case.valid
    report = clen_core.validate_path(target)
    assert report.rejected == {"sample": 0}
    with pytest.raises(clen_core.errors.FormatError, match="exists and is not empty"):
        write_spark(result.valid, target, "sample")


def test_a_worker_of_another_version_is_refused(spark: Any, cases: dict[str, Local]) -> None:
    df = spark.read.parquet(str(cases["activity"].with_rows))
    check = ArrowValidator("activity", "rejects", version="0.0.1")
    with pytest.raises(Exception, match=r"on this worker, 0\.0\.1 on the driver"):
        df.mapInArrow(check, check.spark_schema()).collect()


def test_the_validator_is_what_mapinarrow_takes(spark: Any, cases: dict[str, Local]) -> None:
    case = cases["activity"]
    df = spark.read.parquet(str(case.with_rows))
    check = ArrowValidator("activity", "rejects")
    out = df.mapInArrow(check, check.spark_schema()).toArrow()
    assert out.schema.names == ["row", "field", "value", "reason", "rule", "key", "file"]
    assert rejects_of(out.to_pylist()) == case.rejects


def test_spark_reads_the_partitioned_dataset(
    spark: Any, cases: dict[str, Local], tmp_path: Path
) -> None:
    case = cases["activity"]
    target = tmp_path / "ds"
    table = pq.read_table(case.plain).slice(0, 300)
    table = pa.Table.from_batches(ArrowValidator("activity")(table.to_batches()))
    write_partitioned(table.to_batches(), target, entity="activity", partition_by="year,country")
    df = spark.read.parquet(str(target))
    types = dict(df.dtypes)
    assert types["country"] == "string"
    assert types["start"] == "date"
    assert df.count() == table.num_rows
    ours = open_partitioned(target)
    be = df.where("country = 'BE'").count()
    assert be == ours.count_rows({"country": "BE"})


def test_benchmark_script_runs_at_a_tiny_size() -> None:
    """benchmarks/spark.py prints the times of plain Spark and of the validation, and both
    sides agree with the local path (speed not asserted)."""
    import subprocess

    script = Path(__file__).parents[1] / "benchmarks" / "spark.py"
    result = subprocess.run(
        [sys.executable, str(script), "--rows", "3000", "--no-warm-up", "--repeat", "1"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for start in ("local columnar:", "plain spark:", "validate_spark, one pass:",
                  "validate_spark, cached frames:", "python step"):  # fmt: skip
        line = next(x for x in lines if x.startswith(start))
        assert "rows/s" in line, line
        assert "3,000 rows" in line, line
    assert "ratio validate_spark, one pass/plain spark" in result.stdout


@pytest.mark.parametrize("entity", ["activity", "analysis_result"])
def test_files_one_pass_gives_what_the_frame_one_pass_gives(
    spark: Any, cases: dict[str, Local], tmp_path: Path, entity: str
) -> None:
    # The workers read the row groups themselves: the same rows, rejects and findings,
    # with the rows numbered in their file (the plain file has no _row column).
    case = cases[entity]
    result = bridges.validate_files_spark(
        spark, case.plain, entity, write_to=tmp_path / "valid", issues_to=str(tmp_path / "issues")
    )
    assert result.written is not None
    assert result.written.rows == {entity: len(case.valid)}
    rejects = [r.asDict() for r in result.rejects.collect()]
    assert rejects_of(rejects) == case.rejects
    assert {r["file"] for r in rejects} == {str(case.plain.absolute())}
    assert finding_tuples(result.findings.toArrow()) == case.findings
    assert canonical(open_partitioned(tmp_path / "valid").to_table().to_pylist()) == case.valid
    # A folder of files, two partitions: the same again; a file of its own _row keeps it.
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(case.with_rows, folder / "a.parquet")
    again = bridges.validate_files_spark(
        spark, folder, entity, write_to=tmp_path / "v2", issues_to=str(tmp_path / "i2"),
        partitions=2,
    )  # fmt: skip
    assert again.written is not None
    assert len(again.written.paths) == 2
    assert rejects_of([r.asDict() for r in again.rejects.collect()]) == case.rejects


def test_files_one_pass_refuses_what_it_cannot_read(spark: Any, tmp_path: Path) -> None:
    with pytest.raises(clen_core.errors.FormatError, match="no such file"):
        bridges.validate_files_spark(
            spark, tmp_path / "none", "activity", write_to=tmp_path / "v", issues_to="x"
        )
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    with pytest.raises(clen_core.errors.FormatError, match="not a readable Parquet file"):
        bridges.validate_files_spark(
            spark, tmp_path / "bad.parquet", "activity", write_to=tmp_path / "v", issues_to="x"
        )
    assert not (tmp_path / "v").exists()
