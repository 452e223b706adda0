"""clen_core's benchmarks: each figure a ratio against a reference measured in the same run.

    python benchmarks/run.py [--rows N] [--big-rows M] [--repeat K] [--out FILE] [--quick]
                             [--frictionless-rows P] [--json FILE] [--keep DIR]

The data is ``--rows`` generated ``activity`` rows (``clen generate activity N
file --seed 1``), written once as CSV (clen_core's own writer) and as
Parquet in a temporary folder. Every figure compares clen_core with a
reference doing the same job on the same file, in the same run: the machine
may be shared and noisy, so each side is timed ``--repeat`` times,
interleaved (ours, reference, reference, ours, ...), and the best time of
each side is kept. The figures:

1. ``clen convert`` CSV → Parquet (zstd), a whole process, start-up included,
   vs bare pyarrow in a process too (``pyarrow.csv.read_csv`` +
   ``pyarrow.parquet.write_table(..., compression="zstd")``, no validation):
   throughput ours / reference, at least 0.6.
2. ``clen validate`` on that CSV (a whole process) vs frictionless's
   ``Resource(...).validate()`` with the Table Schema clen_core exports for
   ``activity``, on a prefix of the same file (frictionless is slow): rows
   per second ours / reference, at least 50.
3. Reading the Parquet file into ``Activity`` objects
   (``list(clen_core.read(...))``) vs ``pq.read_table(p).to_pylist()``:
   at least 1.0.
4. Writing those objects to Parquet (``clen_core.write``) vs
   ``pa.Table.from_pylist(dicts)`` + ``pq.write_table(..., compression="zstd")``
   on the same rows as plain dicts: at least 1.2.
5. Peak memory (RSS) of ``clen convert`` on ``--big-rows`` rows vs on
   ``--rows`` rows: at most 1.25 (streaming: memory does not grow with the file).

The table is printed, and written as Markdown to ``--out`` (default
``docs/performance.md``) with the machine, the date and the command. When the
file already has the markers ``<!-- run.py:begin -->`` and
``<!-- run.py:end -->``, only the text between them is replaced; otherwise
the file is written whole. Exit status: 0 when every figure passes, 1 when one
fails, 2 when a command failed (the figures cannot be trusted). ``--quick``
runs tiny sizes (to prove the script works, as CI does) and exits 0 whatever
the figures say.

Dependencies: the standard library, pyarrow, clen_core and frictionless.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This folder holds a profile.py: keep it from shadowing the standard library's
# `profile` (which cProfile imports) when a script here is run by path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

# ruff: noqa: E402

import argparse
import datetime as dt
import gc
import json
import os
import platform
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "docs" / "performance.md"
ENTITY = "activity"
SEED = 1
QUICK = {"rows": 20_000, "big_rows": 60_000, "repeat": 1, "frictionless_rows": 5_000}
FULL = {"rows": 1_000_000, "big_rows": 10_000_000, "repeat": 5, "frictionless_rows": 50_000}
BEGIN, END = "<!-- run.py:begin -->", "<!-- run.py:end -->"
PLUGINS = ("csv", "json", "listing", "parquet")  # clen_core's own plugins, clen_core_<name>

# The reference of figure 1: bare pyarrow, in a process of its own, no validation.
PYARROW_CONVERT = (
    "import sys, pyarrow.csv as pc, pyarrow.parquet as pq; "
    "pq.write_table(pc.read_csv(sys.argv[1]), sys.argv[2], compression='zstd')"
)


class BenchError(RuntimeError):
    """A command failed or produced the wrong output: the figures cannot be trusted."""


# --------------------------------------------------------------------------- processes


@dataclass
class Proc:
    """One child process: wall time, CPU time (user + system), peak RSS, exit code."""

    wall: float
    cpu: float
    maxrss: int | None
    """Peak resident set size in bytes (``None`` where the platform does not say)."""
    rc: int


def _clen() -> list[str]:
    """How to run the ``clen`` command of this Python environment."""
    script = Path(sys.executable).with_name("clen")
    if script.is_file():
        return [str(script)]
    found = shutil.which("clen")
    if found:
        return [found]
    return [sys.executable, "-c", "from clen_core.cli import main; main()"]


# Runs one command from a small, fresh process and reports on it as JSON (see run_proc).
LAUNCHER = """
import json, subprocess, sys, time
start = time.perf_counter()
rc = subprocess.call(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
wall = time.perf_counter() - start
try:
    import resource
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    unit = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, kilobytes on Linux
    cpu, rss = use.ru_utime + use.ru_stime, use.ru_maxrss * unit
except ImportError:
    cpu, rss = float("nan"), None
print(json.dumps({"rc": rc, "wall": wall, "cpu": cpu, "maxrss": rss}))
"""


def run_proc(cmd: Sequence[str], *, ok: Sequence[int] = (0,)) -> Proc:
    """Run ``cmd`` (stdout discarded) as a whole process, timed; raise if it fails.

    The child's peak RSS is its own: a child forked from a big process reports that
    process's RSS (Linux records the old memory's high-water mark at exec), and this
    one holds a million objects during figures 3 and 4.

    The wall time is measured around the command alone (not the launcher's
    start-up); the CPU time and peak RSS are the command's own.
    """
    launcher = [sys.executable, "-I", "-S", "-c", LAUNCHER]
    with tempfile.TemporaryFile() as err:
        done = subprocess.run(
            [*launcher, *cmd], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
            check=False,
        )  # fmt: skip
        try:
            report = json.loads(done.stdout.decode().strip().splitlines()[-1])
        except (ValueError, IndexError):
            report = {"rc": done.returncode, "wall": 0.0, "cpu": 0.0, "maxrss": None}
        if done.returncode != 0 or report["rc"] not in ok:
            err.seek(0)
            tail = err.read().decode(errors="replace")[-2000:]
            raise BenchError(f"{shlex.join(cmd)} exited with {report['rc']}:\n{tail}")
    return Proc(report["wall"], report["cpu"], report["maxrss"], report["rc"])


def _parquet_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return int(pq.read_metadata(path).num_rows)


def _expect_rows(path: Path, rows: int, what: str) -> None:
    got = _parquet_rows(path)
    if got != rows:
        raise BenchError(f"{what}: {path.name} has {got:,} rows, expected {rows:,}")


# --------------------------------------------------------------------------- timing


@dataclass
class Timings:
    """The times of one side of a figure, best first."""

    times: list[float] = field(default_factory=list)
    procs: list[Proc] = field(default_factory=list)

    @property
    def best(self) -> float:
        return min(self.times)


def interleave(
    repeat: int, ours: Callable[[], float], reference: Callable[[], float]
) -> tuple[Timings, Timings]:
    """Time both sides ``repeat`` times, alternating which goes first; each call returns seconds."""
    a, b = Timings(), Timings()
    for i in range(repeat):
        order = ((ours, a), (reference, b)) if i % 2 == 0 else ((reference, b), (ours, a))
        for fn, into in order:
            gc.collect()
            into.times.append(fn())
    return a, b


def timed(fn: Callable[[], Any]) -> float:
    """Seconds ``fn()`` takes (its result is dropped after the clock stops)."""
    start = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - start
    del result
    return elapsed


# --------------------------------------------------------------------------- figures


@dataclass
class Figure:
    """One line of the table."""

    name: str
    ours: str
    reference: str
    ratio: float
    target: str
    passed: bool
    detail: str = ""

    @property
    def result(self) -> str:
        return "PASS" if self.passed else "FAIL"


def _rate(rows: int, seconds: float) -> str:
    per_s = rows / seconds if seconds > 0 else float("inf")
    if per_s >= 1e6:
        return f"{per_s / 1e6:.2f}M rows/s"
    return f"{per_s / 1e3:.1f}k rows/s"


def _secs(seconds: float, rows: int) -> str:
    return f"{seconds:.2f} s ({_rate(rows, seconds)})"


def _mb(n: int | None) -> str:
    return "n/a" if n is None else f"{n / 2**20:,.0f} MB"


def _all(t: Timings) -> str:
    return ", ".join(f"{s:.2f}" for s in t.times)


def _cpu(procs: list[Proc]) -> str:
    """CPU seconds (user + system) of each process: steadier than wall time on a busy machine."""
    return ", ".join(f"{p.cpu:.2f}" for p in procs)


@dataclass
class Data:
    """The files every figure reads."""

    folder: Path
    rows: int
    csv: Path
    parquet: Path
    prefix: Path
    prefix_rows: int
    big_rows: int
    big_csv: Path
    setup_seconds: dict[str, float]


def _compile_bytecode() -> None:
    """Write the bytecode of clen_core and its plugins, as ``pip install`` does.

    A checkout installed in editable mode is compiled at each start when
    PYTHONDONTWRITEBYTECODE is set: that would time the compiler, not the command.
    """
    import compileall
    import importlib.util

    packages = ("clen_core", "clen_core_launch", *(f"clen_core_{p}" for p in PLUGINS))
    for name in packages:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin is not None:
            compileall.compile_dir(Path(spec.origin).parent, quiet=1)


def generate(clen: list[str], rows: int, path: Path) -> float:
    proc = run_proc([*clen, "generate", ENTITY, str(rows), str(path), "--seed", str(SEED), "-q"])
    return proc.wall


def prepare(
    folder: Path, rows: int, big_rows: int, frictionless_rows: int, clen: list[str]
) -> Data:
    """Generate the files: CSV and Parquet of ``rows``, a CSV prefix, a CSV of ``big_rows``."""
    setup: dict[str, float] = {}
    csv, parquet = folder / "activity.csv", folder / "activity.parquet"
    setup["generate CSV"] = generate(clen, rows, csv)
    setup["generate Parquet"] = generate(clen, rows, parquet)
    _expect_rows(parquet, rows, "clen generate")
    prefix_rows = min(frictionless_rows, rows)
    prefix = folder / "prefix.csv"
    setup["generate CSV prefix"] = generate(clen, prefix_rows, prefix)
    # Rows depend on the seed and the row number only: the prefix is the big file's start.
    size = prefix.stat().st_size
    with open(csv, "rb") as whole, open(prefix, "rb") as part:
        if whole.read(size) != part.read():
            raise BenchError(f"{prefix} is not a prefix of {csv}: the generator changed?")
    big_csv = folder / "big.csv"
    setup["generate big CSV"] = generate(clen, big_rows, big_csv)
    # Untimed warm-up: bytecode compiled after a source change, files in the page cache.
    start = time.perf_counter()
    _compile_bytecode()
    tiny = folder / "warm-up.csv"
    generate(clen, 100, tiny)
    run_proc([*clen, "convert", str(tiny), str(folder / "warm-up.parquet"), "-e", ENTITY, "-q"])
    run_proc([*clen, "validate", str(tiny), "-e", ENTITY, "-q"], ok=(0, 1))
    run_proc([sys.executable, "-c", PYARROW_CONVERT, str(tiny), str(folder / "warm-up.parquet")])
    setup["warm-up"] = time.perf_counter() - start
    return Data(folder, rows, csv, parquet, prefix, prefix_rows, big_rows, big_csv, setup)


def fig_convert(data: Data, clen: list[str], repeat: int) -> tuple[Figure, Timings]:
    ours_out, ref_out = data.folder / "convert-ours.parquet", data.folder / "convert-ref.parquet"
    ours_cmd = [*clen, "convert", str(data.csv), str(ours_out), "--entity", ENTITY, "--quiet"]
    ref_cmd = [sys.executable, "-c", PYARROW_CONVERT, str(data.csv), str(ref_out)]
    a, b = Timings(), Timings()

    def ours() -> float:
        a.procs.append(proc := run_proc(ours_cmd))
        _expect_rows(ours_out, data.rows, "clen convert")
        return proc.wall

    def reference() -> float:
        b.procs.append(proc := run_proc(ref_cmd))
        _expect_rows(ref_out, data.rows, "pyarrow convert")
        return proc.wall

    a.times, b.times = (t.times for t in interleave(repeat, ours, reference))
    ratio = b.best / a.best
    return (
        Figure(
            "1. `clen convert` CSV → Parquet (process)",
            _secs(a.best, data.rows),
            _secs(b.best, data.rows),
            ratio,
            "≥ 0.6 (aim 0.8)",
            ratio >= 0.6,
            f"ours {_all(a)} s (CPU {_cpu(a.procs)} s); pyarrow {_all(b)} s "
            f"(CPU {_cpu(b.procs)} s)",
        ),
        a,
    )


def fig_validate(data: Data, clen: list[str], repeat: int) -> Figure:
    from frictionless import Resource, Schema

    import clen_core

    descriptor = clen_core.table_schema(ENTITY)
    # A lone file has no other resources to point to: frictionless refuses
    # foreign keys without a package (and clen validate cannot check them either).
    descriptor.pop("foreignKeys", None)
    schema = Schema.from_descriptor(descriptor)
    ours_cmd = [*clen, "validate", str(data.csv), "--entity", ENTITY, "--quiet"]
    procs: list[Proc] = []

    def ours() -> float:
        # Exit 1 means error-severity findings: still a completed validation.
        procs.append(proc := run_proc(ours_cmd, ok=(0, 1)))
        return proc.wall

    def reference() -> float:
        start = time.perf_counter()
        # frictionless refuses absolute paths as unsafe: a name within a base path.
        resource = Resource(data.prefix.name, basepath=str(data.folder), schema=schema)
        report = resource.validate()
        elapsed = time.perf_counter() - start
        if not report.valid or report.task.stats.get("rows") != data.prefix_rows:
            errors = report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]
            raise BenchError(f"frictionless did not validate {data.prefix}: {errors}")
        return elapsed

    a, b = interleave(repeat, ours, reference)
    ours_rate = data.rows / a.best
    ref_rate = data.prefix_rows / b.best
    ratio = ours_rate / ref_rate
    return Figure(
        "2. `clen validate` CSV (process) vs frictionless",
        _secs(a.best, data.rows),
        f"{b.best:.2f} s for {data.prefix_rows:,} rows ({_rate(data.prefix_rows, b.best)})",
        ratio,
        "≥ 50",
        ratio >= 50,
        f"ours {_all(a)} s (CPU {_cpu(procs)} s; {data.rows:,} rows); frictionless {_all(b)} s "
        f"({data.prefix_rows:,} rows)",
    )


def fig_read(data: Data, repeat: int) -> Figure:
    import pyarrow.parquet as pq

    import clen_core

    def ours() -> float:
        start = time.perf_counter()
        objs = list(clen_core.read(data.parquet, entity=ENTITY))
        elapsed = time.perf_counter() - start
        if len(objs) != data.rows:
            raise BenchError(f"clen_core.read gave {len(objs):,} objects, expected {data.rows:,}")
        return elapsed

    def reference() -> float:
        return timed(lambda: pq.read_table(data.parquet).to_pylist())

    a, b = interleave(repeat, ours, reference)
    ratio = b.best / a.best
    return Figure(
        "3. Parquet → `Activity` objects vs `to_pylist()`",
        _secs(a.best, data.rows),
        _secs(b.best, data.rows),
        ratio,
        "≥ 1.0",
        ratio >= 1.0,
        f"ours {_all(a)} s; pyarrow {_all(b)} s",
    )


def fig_write(data: Data, repeat: int) -> Figure:
    import pyarrow as pa
    import pyarrow.parquet as pq

    import clen_core

    objs = list(clen_core.read(data.parquet, entity=ENTITY))
    dicts = pq.read_table(data.parquet).to_pylist()
    ours_out, ref_out = data.folder / "write-ours.parquet", data.folder / "write-ref.parquet"

    def ours() -> float:
        elapsed = timed(lambda: clen_core.write(objs, ours_out))
        _expect_rows(ours_out, data.rows, "clen_core.write")
        return elapsed

    def reference() -> float:
        elapsed = timed(
            lambda: pq.write_table(pa.Table.from_pylist(dicts), ref_out, compression="zstd")
        )
        _expect_rows(ref_out, data.rows, "pyarrow write")
        return elapsed

    a, b = interleave(repeat, ours, reference)
    ratio = b.best / a.best
    return Figure(
        "4. `Activity` objects → Parquet vs `from_pylist` + `write_table`",
        _secs(a.best, data.rows),
        _secs(b.best, data.rows),
        ratio,
        "≥ 1.2",
        ratio >= 1.2,
        f"ours {_all(a)} s; pyarrow {_all(b)} s",
    )


def fig_memory(data: Data, clen: list[str], small: Timings) -> tuple[Figure, Proc]:
    out = data.folder / "big.parquet"
    proc = run_proc([*clen, "convert", str(data.big_csv), str(out), "--entity", ENTITY, "--quiet"])
    _expect_rows(out, data.big_rows, "clen convert (big)")
    out.unlink()
    small_rss = [p.maxrss for p in small.procs if p.maxrss is not None]
    if proc.maxrss is None or not small_rss:
        return Figure(
            "5. Peak RSS of `clen convert`, big vs small",
            "n/a", "n/a", float("nan"), "≤ 1.25", True, "no peak RSS on this platform",
        ), proc  # fmt: skip
    # The smallest small peak: the ratio errs on the side of failing.
    base = min(small_rss)
    ratio = proc.maxrss / base
    return (
        Figure(
            "5. Peak RSS of `clen convert`, big vs small",
            f"{_mb(proc.maxrss)} ({data.big_rows:,} rows)",
            f"{_mb(base)} ({data.rows:,} rows)",
            ratio,
            "≤ 1.25",
            ratio <= 1.25,
            f"big convert took {_secs(proc.wall, data.big_rows)} (CPU {proc.cpu:.2f} s); "
            "small peaks " + ", ".join(_mb(r) for r in small_rss),
        ),
        proc,
    )


# --------------------------------------------------------------------------- report


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    import pyarrow

    import clen_core

    cpu = platform.processor() or platform.machine()
    ram = "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    ram = f"{int(line.split()[1]) / 2**20:.1f} GiB"
                    break
    except OSError:
        pass
    cores = str(os.cpu_count())
    if hasattr(os, "sched_getaffinity"):
        cores += f" ({len(os.sched_getaffinity(0))} usable)"
    try:
        import frictionless

        fl = str(getattr(frictionless, "__version__", "?"))
    except ImportError:  # pragma: no cover
        fl = "not installed"
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return {
        "CPU": cpu,
        "cores": cores,
        "RAM": ram,
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "pyarrow": pyarrow.__version__,
        "frictionless": fl,
        "clen_core": f"{clen_core.__version__} ({_source(Path(clen_core.__file__).parent)})",
        "load average at start": load,
    }


def _source(package: Path) -> str:
    """Which code was measured: the commit of this checkout (imported from it, or installed
    from it: the same files), or where clen_core came from when it is other code."""
    installed = not package.resolve().is_relative_to(ROOT)
    if installed and not _installed_from_here(package.resolve().parent):
        return f"imported from {package}"
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "src", "plugins"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "commit unknown"
    how = ", installed: the same files" if installed else ""
    return f"commit {head}{how}" + (
        ", with uncommitted changes in src/ or plugins/" if dirty else ""
    )


def _installed_from_here(site: Path) -> bool:
    """Whether the packages under ``site`` hold exactly the Python files of this checkout's
    ``src/`` and ``plugins/`` (as ``pip install .`` of it leaves them)."""
    for base in (ROOT / "src", ROOT / "plugins"):
        for package in (p for p in base.iterdir() if (p / "__init__.py").is_file()):
            for mine in package.rglob("*.py"):
                theirs = site / mine.relative_to(base)
                if not theirs.is_file() or theirs.read_bytes() != mine.read_bytes():
                    return False
    return True


def _ratio(r: float) -> str:
    return "n/a" if r != r else f"{r:.2f}×"


def text_table(figures: list[Figure]) -> str:
    header = ["figure", "ours", "reference", "ratio", "target", "result"]
    rows = [[f.name.replace("`", ""), f.ours, f.reference, _ratio(f.ratio), f.target, f.result]
            for f in figures]  # fmt: skip
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown(
    figures: list[Figure],
    info: dict[str, str],
    command: str,
    data: Data,
    repeat: int,
    clen: list[str],
    total: float,
) -> str:
    now = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    out = [
        f"Measured {now} with:",
        "",
        "```console",
        f"$ {command}",
        "```",
        "",
        "| figure | ours | reference | ratio | target | result |",
        "|---|---|---|---|---|---|",
    ]
    out += [
        f"| {f.name} | {f.ours} | {f.reference} | **{_ratio(f.ratio)}** | {f.target} | {f.result} |"
        for f in figures
    ]
    out += [
        "",
        f"{data.rows:,} `{ENTITY}` rows (seed {SEED}; CSV {_mb(data.csv.stat().st_size)}, "
        f"Parquet {_mb(data.parquet.stat().st_size)}); memory figure on {data.big_rows:,} rows "
        f"(CSV {_mb(data.big_csv.stat().st_size)}). Best of {repeat} interleaved run(s) per "
        f"side; the whole benchmark took {total / 60:.1f} min "
        "(" + ", ".join(f"{k} {v:.1f} s" for k, v in data.setup_seconds.items()) + ").",
        "",
        "Every run, in seconds:",
        "",
    ]
    # "figure 1:", not "1.": a list item that starts with a number is a nested numbered list.
    out += [f"- figure {f.name.split('.', 1)[0]}: {f.detail}" for f in figures if f.detail]
    out += ["", "Machine:", ""]
    out += [f"- {k}: {v}" for k, v in info.items()]
    out += ["", f"`clen` was run as `{shlex.join(clen)}`."]
    return "\n".join(out) + "\n"


PREAMBLE = """# Performance

Written by `benchmarks/run.py` (see its docstring for what each figure measures).
"""


def write_markdown(path: Path, body: str) -> None:
    """Replace the text between the markers in ``path``, or write the file whole."""
    section = f"{BEGIN}\n{body}{END}\n"
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1].removeprefix("\n")
        new = head + section + tail
    else:
        new = PREAMBLE + "\n" + section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new, encoding="utf-8")


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="clen_core benchmarks: ratios against references measured in the same run."
    )
    p.add_argument("--rows", type=int, help="rows of the benchmark files (default 1,000,000)")
    p.add_argument(
        "--big-rows", type=int, help="rows of the memory figure's big file (default 10,000,000)"
    )
    p.add_argument("--repeat", type=int, help="runs per side, the best kept (default 5)")
    p.add_argument(
        "--frictionless-rows",
        type=int,
        help="rows of the file's prefix frictionless validates (default 50,000)",
    )
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Markdown file to write")
    p.add_argument(
        "--quick",
        action="store_true",
        help="tiny sizes (20,000 / 60,000 rows, 1 run): proves the script works; exits 0",
    )
    p.add_argument("--keep", type=Path, help="generate the files in this folder and keep them")
    p.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    args = p.parse_args(argv)
    defaults = QUICK if args.quick else FULL
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if min(args.rows, args.big_rows, args.repeat, args.frictionless_rows) < 1:
        p.error("--rows, --big-rows, --repeat and --frictionless-rows must be at least 1")
    return args


T = TypeVar("T")


def step(name: str, fn: Callable[[], T]) -> T:
    """Run one figure, saying how long it took."""
    start = time.perf_counter()
    print(f"{name} ...", end=" ", flush=True)
    result = fn()
    print(f"{time.perf_counter() - start:.1f} s", flush=True)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    command = shlex.join(["python", "benchmarks/run.py", *(sys.argv[1:] if argv is None else argv)])
    started = time.perf_counter()
    clen = _clen()
    info = machine()
    print(f"clen_core benchmarks: {args.rows:,} rows, big {args.big_rows:,}, best of {args.repeat}")
    with tempfile.TemporaryDirectory(prefix="clen-bench-") as tmp:
        folder = Path(tmp) if args.keep is None else args.keep
        folder.mkdir(parents=True, exist_ok=True)
        try:
            print("generating the files ...", flush=True)
            data = prepare(folder, args.rows, args.big_rows, args.frictionless_rows, clen)
            convert, small = step("convert", lambda: fig_convert(data, clen, args.repeat))
            figures = [
                convert,
                step("validate", lambda: fig_validate(data, clen, args.repeat)),
                step("read objects", lambda: fig_read(data, args.repeat)),
                step("write objects", lambda: fig_write(data, args.repeat)),
                step("memory", lambda: fig_memory(data, clen, small))[0],
            ]
        except BenchError as exc:
            print(f"\nerror: {exc}", file=sys.stderr)
            return 2
        total = time.perf_counter() - started
        body = markdown(figures, info, command, data, args.repeat, clen, total)
    print()
    print(text_table(figures))
    write_markdown(args.out, body)
    print(f"\n{total / 60:.1f} min in all; written to {args.out}")
    if args.json is not None:
        results = {"command": command, "machine": info, "minutes": total / 60,
                   "figures": [asdict(f) | {"result": f.result} for f in figures]}  # fmt: skip
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    if args.quick:
        return 0
    return 0 if all(f.passed for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
