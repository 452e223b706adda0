"""Dask: validating with clen_core against plain Dask doing the same read and write.

    python benchmarks/dask_pipeline.py                # 1,000,000 activity rows, 2 % invalid
    python benchmarks/dask_pipeline.py --rows 50000   # a quick look

(Not ``dask.py``: run as a script, it would shadow the ``dask`` package.)

One generated Parquet file (with ``_row``, row groups of 65,536 rows: one partition each,
read with ``dtype_backend="pyarrow"``) is read three ways, on the threads scheduler with
two workers:

- **plain dask**: ``dd.read_parquet(src).to_parquet(dst)``: the read and write any
  pipeline does;
- **validate_dask, one pass**: the same read, then ``validate_dask(ddf, entity,
  write_to=..., issues_to=...)``: each partition checked once, its valid rows written by
  clen_core's writer, its rejects and findings by ``to_parquet``;
- **validate_dask, computed together**: the lazy ``validate_dask`` (one
  ``map_partitions``), the valid rows written with ``write_dask`` and, in the same pass
  (``compute_with``), the rejects and the findings with ``to_parquet``.

The ratio of each to plain Dask is what validating costs a Dask pipeline (issue #23 aims
at 1.5× at most). A warm-up run of each comes first (imports, first allocations). Both must agree
with the local path on the counts (valid rows, rejected rows); the script exits 1 if not.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

# This folder holds profile.py, which would shadow the standard library's.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

import clen_core  # noqa: E402
from clen_core.io.bridges import validate_dask, write_dask  # noqa: E402


def _spark_script() -> ModuleType:
    """benchmarks/spark.py, for the same generated file and the same best-of-N (one copy each)."""
    spec = importlib.util.spec_from_file_location(
        "clen_benchmarks_spark", Path(__file__).with_name("spark.py")
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_SPARK = _spark_script()
make_file = _SPARK.make_file
best = _SPARK.best


def local(path: Path) -> tuple[int, int]:
    plain = path.with_name("activity-plain.parquet")
    pq.write_table(pq.read_table(path).drop_columns(["_row"]), plain)
    reader = clen_core.read(plain, entity="activity", on_reject="collect", max_rejects=0)
    return sum(batch.num_rows for batch, _ in reader.batches()), reader.rejected


def plain_dask(path: Path, out: Path) -> float:
    t = time.perf_counter()
    read(path).to_parquet(str(out))  # type: ignore[attr-defined]
    return time.perf_counter() - t


def read(path: Path) -> object:
    import dask.dataframe as dd

    return dd.read_parquet(str(path), split_row_groups=True, dtype_backend="pyarrow")


def one_pass(path: Path, out: Path) -> tuple[float, int, int, int]:
    """Read, check and write in one pass: valid rows by clen_core's writer, issues by dask's."""
    t = time.perf_counter()
    result = validate_dask(read(path), "activity", write_to=out / "valid",
                           issues_to=str(out / "issues"))  # fmt: skip
    elapsed = time.perf_counter() - t
    assert result.written is not None
    rejects = result.rejects.compute()
    return elapsed, result.written.rows["activity"], rejects["row"].nunique(), len(result.findings)


def together(path: Path, out: Path) -> tuple[float, int, int, int]:
    """The lazy frames computed together: valid rows by write_dask, issues by to_parquet."""
    t = time.perf_counter()
    result = validate_dask(read(path), "activity")
    written = write_dask(
        result.valid,
        out / "valid",
        "activity",
        compute_with=[
            result.rejects.to_parquet(str(out / "rejects"), compute=False),
            result.findings.to_parquet(str(out / "findings"), compute=False),
        ],
    )
    elapsed = time.perf_counter() - t
    rejects = pq.read_table(out / "rejects")
    rejected = len(set(rejects.column("row").to_pylist()))
    findings = pq.read_table(out / "findings").num_rows
    return elapsed, written.rows["activity"], rejected, findings


def main(argv: list[str] | None = None) -> int:
    import dask

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--error-rate", type=float, default=0.02)
    parser.add_argument("--no-warm-up", action="store_true", help="Skip the warm-up runs.")
    parser.add_argument("--repeat", type=int, default=3, help="Runs of each side; the best counts.")
    parser.add_argument("--scheduler", choices=["threads", "processes"], default="threads")
    args = parser.parse_args(argv)
    print(f"clen_core {clen_core.__version__}, dask {dask.__version__}, pyarrow "
          f"{pa.__version__}, Python {platform.python_version()}, {os.cpu_count()} CPU(s); "
          f"{args.scheduler} scheduler, 2 workers")  # fmt: skip
    with (
        tempfile.TemporaryDirectory() as tmp,
        dask.config.set(scheduler=args.scheduler, num_workers=2),
    ):
        folder = Path(tmp)
        path = make_file(folder, args.rows, args.error_rate)
        valid, rejected = local(path)
        runs = {"one pass": one_pass, "computed together": together}
        if not args.no_warm_up:
            plain_dask(path, folder / "warm-plain")
            for i, run in enumerate(runs.values()):
                run(path, folder / f"warm-{i}")
        # Best of --repeat, the sides taking turns: the machine may be shared, and one run
        # of a second or two moves by half with what else runs.
        plain: list[float] = []
        results: dict[str, list[tuple[float, int, int, int]]] = {n: [] for n in runs}
        for k in range(args.repeat):
            plain.append(plain_dask(path, folder / f"plain-{k}"))
            for i, (name, run) in enumerate(runs.items()):
                results[name].append(run(path, folder / f"run-{i}-{k}"))
        p_seconds = min(plain)
        got = {name: best(found) for name, found in results.items()}
        print(f"best of {args.repeat} runs of each side, after one warm-up run of each"
              if not args.no_warm_up else f"best of {args.repeat}, no warm-up")  # fmt: skip
        print(f"plain dask: {args.rows:,} rows read and written in {p_seconds:.2f} s = "
              f"{args.rows / p_seconds:,.0f} rows/s")  # fmt: skip
        status = 0
        for name, (seconds, n_valid, n_rejected, n_findings) in got.items():
            print(f"validate_dask, {name}: {args.rows:,} rows read, checked and written in "
                  f"{seconds:.2f} s = {args.rows / seconds:,.0f} rows/s ({n_valid:,} valid, "
                  f"{n_rejected:,} rejected, {n_findings:,} findings)")  # fmt: skip
            print(f"ratio validate_dask, {name}/plain dask: {seconds / p_seconds:.2f}×")
            if (n_valid, n_rejected) != (valid, rejected):
                print(f"MISMATCH: Dask ({name}) and the local path disagree", file=sys.stderr)
                status = 1
        return status
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
