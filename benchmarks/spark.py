"""Rows per second: clen_core's local columnar validation vs the same validator in Spark.

    python benchmarks/spark.py                 # 1,000,000 activity rows, 2 % invalid
    python benchmarks/spark.py --rows 50000    # a quick look
    python benchmarks/spark.py --no-spark      # the local path only (no Java needed)

Both sides read the same Parquet file and split it into valid rows and
rejects: locally with ``clen_core.read(...).batches()`` (one process), in
Spark with ``mapInArrow`` on a local session (``local[2]``) counting the valid
rows and the rejects. Spark's session start-up is reported apart. Both must
agree on the counts; the script exits 1 if they do not.
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
from clen_core.io.bridges import ArrowValidator  # noqa: E402
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


def spark(path: Path) -> tuple[float, float, int, int]:
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    t = time.perf_counter()
    session = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    startup = time.perf_counter() - t
    try:
        df = session.read.parquet(str(path))
        valid, rejects = ArrowValidator("activity", "valid"), ArrowValidator("activity", "rejects")
        t = time.perf_counter()
        n_valid = df.mapInArrow(valid, valid.spark_schema()).count()
        elapsed = time.perf_counter() - t
        bad = df.mapInArrow(rejects, rejects.spark_schema()).select("row").distinct().count()
    finally:
        session.stop()
    return startup, elapsed, n_valid, bad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--error-rate", type=float, default=0.02)
    parser.add_argument("--no-spark", action="store_true", help="Measure the local path only.")
    args = parser.parse_args(argv)
    print(f"clen_core {clen_core.__version__}, pyarrow {pa.__version__}, Python "
          f"{platform.python_version()}, {os.cpu_count()} CPU(s)")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        path = make_file(Path(tmp), args.rows, args.error_rate)
        seconds, valid, rejected = local(path)
        rate = args.rows / seconds
        print(f"local columnar: {args.rows:,} rows in {seconds:.2f} s = {rate:,.0f} rows/s "
              f"({valid:,} valid, {rejected:,} rejected)")  # fmt: skip
        if args.no_spark:
            return 0
        startup, s_seconds, s_valid, s_rejected = spark(path)
        print(f"spark local[2]: {args.rows:,} rows in {s_seconds:.2f} s = "
              f"{args.rows / s_seconds:,.0f} rows/s ({s_valid:,} valid, {s_rejected:,} rejected; "
              f"session start-up {startup:.1f} s not counted)")  # fmt: skip
        print(f"ratio spark/local: {seconds / s_seconds:.2f}×")
        if (s_valid, s_rejected) != (valid, rejected):
            print("MISMATCH: Spark and the local path disagree", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
