"""Spark: clen_core's validator inside ``mapInArrow`` on a local session (two cores) splits
valid rows and rejects exactly as the local path does; Spark reads the partitioned datasets.

Skipped where pyspark or Java is missing."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from clen_core.io.bridges import ArrowValidator, validate_spark
from clen_core.io.partitioned import open_partitioned, write_partitioned
from test_pipelines import ENTITIES, Local, by_row, local_case

pyspark = pytest.importorskip("pyspark")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs Java (none on PATH, no JAVA_HOME)", allow_module_level=True)

pytestmark = pytest.mark.filterwarnings(
    # py4j's sockets, closed by the JVM's side after the session stops.
    "ignore::ResourceWarning",
)


@pytest.fixture(scope="module")
def spark() -> Iterator[object]:
    from pyspark.sql import SparkSession

    # Workers run this interpreter, where clen_core is installed.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("clen_core-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Local]:
    folder = tmp_path_factory.mktemp("spark")
    return {e: local_case(e, folder) for e in ENTITIES}


@pytest.mark.parametrize("entity", ENTITIES)
def test_mapinarrow_splits_like_the_local_path(
    spark: object, cases: dict[str, Local], entity: str
) -> None:
    case = cases[entity]
    df = spark.read.parquet(str(case.with_rows)).repartition(2)  # type: ignore[attr-defined]
    valid, rejects = validate_spark(df, entity)
    got_rejects = {(r["row"], r["field"], r["reason"]) for r in rejects.collect()}
    assert got_rejects == case.rejects
    assert {row for row, _, _ in got_rejects} == case.injected_rows
    got_valid = valid.toArrow().to_pylist()
    assert by_row(got_valid) == by_row(case.valid)


def test_the_validator_is_what_mapinarrow_takes(spark: object, cases: dict[str, Local]) -> None:
    case = cases["activity"]
    df = spark.read.parquet(str(case.with_rows))  # type: ignore[attr-defined]
    check = ArrowValidator("activity", "rejects")
    out = df.mapInArrow(check, check.spark_schema()).toArrow()
    assert out.schema.names == ["row", "field", "value", "reason"]
    assert {(r["row"], r["field"], r["reason"]) for r in out.to_pylist()} == case.rejects


def test_spark_reads_the_partitioned_dataset(
    spark: object, cases: dict[str, Local], tmp_path: Path
) -> None:
    case = cases["activity"]
    target = tmp_path / "ds"
    rows = [{k: v for k, v in r.items() if k != "_row"} for r in case.valid]
    import pyarrow as pa

    import clen_core

    table = pa.Table.from_pylist(rows).select(clen_core.arrow_schema("activity").names)
    write_partitioned(table.to_batches(), target, entity="activity", partition_by="year,country")
    df = spark.read.parquet(str(target))  # type: ignore[attr-defined]
    types = dict(df.dtypes)
    assert types["country"] == "string"
    assert types["start"] == "date"
    assert df.count() == len(rows)
    ours = open_partitioned(target)
    be = df.where("country = 'BE'").count()
    assert be == ours.count_rows({"country": "BE"})


def test_benchmark_script_runs_at_a_tiny_size() -> None:
    """benchmarks/spark.py prints rows/s for both paths and both agree (speed not asserted)."""
    import subprocess

    script = Path(__file__).parents[1] / "benchmarks" / "spark.py"
    result = subprocess.run(
        [sys.executable, str(script), "--rows", "3000"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    local_line = next(x for x in lines if x.startswith("local columnar:"))
    spark_line = next(x for x in lines if x.startswith("spark local[2]:"))
    for line in (local_line, spark_line):
        assert "rows/s" in line
        assert "3,000 rows" in line
    assert "ratio spark/local" in result.stdout
