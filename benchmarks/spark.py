"""Spark: validating with clen_core against plain Spark doing the same read and write.

    python benchmarks/spark.py                 # 1,000,000 activity rows, 2 % invalid
    python benchmarks/spark.py --rows 50000    # a quick look
    python benchmarks/spark.py --no-spark      # the local path only (no Java needed)

One generated Parquet file (with ``_row``) is read three ways:

- **local columnar**: ``clen_core.read(...).batches()`` in one process (the valid rows
  and the rejects, nothing written), for reference;
- **plain spark**: ``spark.read.parquet(src).write.parquet(dst)`` on a local session
  (``local[2]``): the read and write any pipeline does;
- **validate_spark, one pass**: the same read, then ``validate_spark(df, entity,
  write_to=..., issues_to=...)``: one job, each batch checked once on its worker, its
  valid rows written there by clen_core's writer, its rejects and findings handed back
  and written by Spark's;
- **validate_files_spark, one pass**: the same job with Spark as the scheduler only:
  each worker reads its row groups of the file itself (pyarrow), so the rows never
  go out of the JVM to Python and back;
- **validate_spark, cached frames**: the lazy ``validate_spark`` (one ``mapInArrow``,
  cached), the valid rows written with ``write_spark``, the rejects and the findings
  with Spark's writer (three jobs, one validation); then the cache freed.

- **python step**: the same read, the rows through ``mapInArrow`` unchanged, written by
  Spark: the floor of any Python step in a Spark job (Arrow out of the JVM and back).

The ratio of each to plain Spark is what validating costs a Spark pipeline (issue #23
aims at 1.5× at most). Spark's session start-up is reported apart, and a warm-up job runs first
so that neither side pays for the JVM's first compilations. The three must agree on the
counts (valid rows, rejected rows); the script exits 1 if they do not.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

# This folder holds profile.py, which would shadow the standard library's (pyspark imports it).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

import clen_core  # noqa: E402
from clen_core.io.bridges import validate_files_spark, validate_spark, write_spark  # noqa: E402
from clen_core.synth import generate_batches  # noqa: E402


def make_file(folder: Path, rows: int, error_rate: float) -> Path:
    path = folder / "activity.parquet"
    schema = clen_core.arrow_schema("activity").append(pa.field("_row", pa.int64()))
    start = 1
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for batch in generate_batches("activity", rows, seed=5, error_rate=error_rate):
            numbers = pa.array(range(start, start + batch.num_rows), pa.int64())
            start += batch.num_rows
            writer.write_batch(pa.RecordBatch.from_arrays([*batch.columns, numbers], schema=schema))
    return path


def local(path: Path) -> tuple[float, int, int]:
    plain = path.with_name("activity-plain.parquet")
    pq.write_table(pq.read_table(path).drop_columns(["_row"]), plain)
    t = time.perf_counter()
    reader = clen_core.read(plain, entity="activity", on_reject="collect", max_rejects=0)
    valid = sum(batch.num_rows for batch, _ in reader.batches())
    return time.perf_counter() - t, valid, reader.rejected


def session() -> tuple[object, float]:
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    t = time.perf_counter()
    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark, time.perf_counter() - t


def plain_spark(spark: object, path: Path, out: Path) -> float:
    t = time.perf_counter()
    spark.read.parquet(str(path)).write.parquet(str(out))  # type: ignore[attr-defined]
    return time.perf_counter() - t


def _identity(batches: object) -> object:
    yield from batches  # type: ignore[attr-defined]


def python_step(spark: object, path: Path, out: Path) -> tuple[float, int, int, int]:
    """The floor of any Python step: the rows through ``mapInArrow`` unchanged, written."""
    t = time.perf_counter()
    df = spark.read.parquet(str(path))  # type: ignore[attr-defined]
    df.mapInArrow(_identity, df.schema).write.parquet(str(out))
    return time.perf_counter() - t, -1, -1, -1


def one_pass(spark: object, path: Path, out: Path) -> tuple[float, int, int, int]:
    """Read, check and write in one job: valid rows by clen_core's writer, issues by Spark's."""
    t = time.perf_counter()
    df = spark.read.parquet(str(path))  # type: ignore[attr-defined]
    result = validate_spark(df, "activity", write_to=out / "valid", issues_to=str(out / "issues"))
    elapsed = time.perf_counter() - t
    assert result.written is not None
    rejected = result.rejects.select("row").distinct().count()
    return elapsed, result.written.rows["activity"], rejected, result.findings.count()


def files_pass(spark: object, path: Path, out: Path) -> tuple[float, int, int, int]:
    """The same one job, the workers reading the file's row groups themselves."""
    t = time.perf_counter()
    result = validate_files_spark(
        spark, path, "activity", write_to=out / "valid", issues_to=str(out / "issues")
    )
    elapsed = time.perf_counter() - t
    assert result.written is not None
    rejected = result.rejects.select("row").distinct().count()
    return elapsed, result.written.rows["activity"], rejected, result.findings.count()


def cached(spark: object, path: Path, out: Path) -> tuple[float, int, int, int]:
    """The lazy frames (cached), each written: valid rows by write_spark, issues by Spark."""
    t = time.perf_counter()
    result = validate_spark(spark.read.parquet(str(path)), "activity")  # type: ignore[attr-defined]
    written = write_spark(result.valid, out / "valid", "activity")
    result.rejects.write.parquet(str(out / "rejects"))
    result.findings.write.parquet(str(out / "findings"))
    result.unpersist()
    elapsed = time.perf_counter() - t
    read = spark.read  # type: ignore[attr-defined]
    rejected = read.parquet(str(out / "rejects")).select("row").distinct().count()
    findings = read.parquet(str(out / "findings")).count()
    return elapsed, written.rows["activity"], rejected, findings


def best(runs: list[tuple[float, int, int, int]]) -> tuple[float, int, int, int]:
    """The fastest time, with the counts: the same in every run, or the script stops."""
    counts = {r[1:] for r in runs}
    if len(counts) > 1:
        raise SystemExit(f"MISMATCH: the runs disagree on the counts: {sorted(counts)}")
    (got,) = counts
    return (min(r[0] for r in runs), *got)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--error-rate", type=float, default=0.02)
    parser.add_argument("--no-spark", action="store_true", help="Measure the local path only.")
    parser.add_argument("--no-warm-up", action="store_true", help="Skip the warm-up runs.")
    parser.add_argument("--repeat", type=int, default=3, help="Runs of each side; the best counts.")
    args = parser.parse_args(argv)
    print(f"clen_core {clen_core.__version__}, pyarrow {pa.__version__}, Python "
          f"{platform.python_version()}, {os.cpu_count()} CPU(s)")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = make_file(folder, args.rows, args.error_rate)
        seconds, valid, rejected = local(path)
        rate = args.rows / seconds
        print(f"local columnar: {args.rows:,} rows in {seconds:.2f} s = {rate:,.0f} rows/s "
              f"({valid:,} valid, {rejected:,} rejected)")  # fmt: skip
        if args.no_spark:
            return 0
        import pyspark

        spark, startup = session()
        runs = {
            "one pass": one_pass,
            "one pass, files read by the workers": files_pass,
            "cached frames": cached,
            "python step": python_step,
        }
        try:
            # Warm-up: the JVM's first jobs (and the Python workers' first imports) cost
            # seconds that a long-running pipeline does not pay on each job.
            if not args.no_warm_up:
                plain_spark(spark, path, folder / "warm-plain")
                for i, run in enumerate(runs.values()):
                    run(spark, path, folder / f"warm-{i}")
            # Best of --repeat, the sides taking turns: the machine may be shared, and one
            # run of a few seconds moves by half with what else runs.
            plain: list[float] = []
            results: dict[str, list[tuple[float, int, int, int]]] = {n: [] for n in runs}
            for k in range(args.repeat):
                plain.append(plain_spark(spark, path, folder / f"plain-{k}"))
                for i, (name, run) in enumerate(runs.items()):
                    results[name].append(run(spark, path, folder / f"run-{i}-{k}"))
            p_seconds = min(plain)
            got = {name: best(found) for name, found in results.items()}
        finally:
            spark.stop()  # type: ignore[attr-defined]
        warm = "no warm-up" if args.no_warm_up else "after one warm-up run of each"
        warm += f", best of {args.repeat}"
        print(f"spark {pyspark.__version__} local[2], session start-up {startup:.1f} s "
              f"(not counted), {warm}")  # fmt: skip
        print(f"plain spark: {args.rows:,} rows read and written in {p_seconds:.2f} s = "
              f"{args.rows / p_seconds:,.0f} rows/s")  # fmt: skip
        status = 0
        seconds = got.pop("python step")[0]
        print(f"python step (mapInArrow, rows unchanged): {args.rows:,} rows read and written "
              f"in {seconds:.2f} s = {args.rows / seconds:,.0f} rows/s")  # fmt: skip
        print(f"ratio python step/plain spark: {seconds / p_seconds:.2f}×")
        for name, (seconds, n_valid, n_rejected, n_findings) in got.items():
            print(f"validate_spark, {name}: {args.rows:,} rows read, checked and written in "
                  f"{seconds:.2f} s = {args.rows / seconds:,.0f} rows/s ({n_valid:,} valid, "
                  f"{n_rejected:,} rejected, {n_findings:,} findings)")  # fmt: skip
            print(f"ratio validate_spark, {name}/plain spark: {seconds / p_seconds:.2f}×")
            if (n_valid, n_rejected) != (valid, rejected):
                print(f"MISMATCH: Spark ({name}) and the local path disagree", file=sys.stderr)
                status = 1
        return status
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
