"""Where the time goes: profile clen_core's four data paths and group the time by kind of work.

    python benchmarks/profile.py [--rows N] [--paths convert,validate,read,write] [--top K]
                                 [--out docs/performance.md]

The paths, each in a fresh process, on ``--rows`` generated ``activity`` rows
(default 200,000):

- ``convert``: ``clen convert`` CSV → Parquet (the command run in-process);
- ``validate``: ``clen validate`` on the CSV (the command run in-process);
- ``read``: ``list(clen_core.read(parquet, entity="activity"))``;
- ``write``: ``clen_core.write(objects, parquet)``.

Each path runs once without the profiler (its wall time, imports already done)
and once under :mod:`cProfile` with ``CLEN_THREADS=0`` (the profiler sees one
thread: the stages that otherwise overlap in threads run one after the other).
Every function's own time is put in one bucket:

- **read**: getting rows off the file: file I/O, Arrow's CSV and Parquet
  readers, the format plugins' reading code, the reader's row loop
  (``clen_core.io.Reader``);
- **parse**: turning cells into typed Python values: Arrow → Python
  (``to_pylist``), text → numbers and dates, the raw records and the
  ``Decoder`` (``clen_core.io.records``);
- **check**: invariants: field checks, code systems, entity constraints, the
  entity's ``__init__`` (``clen_core.model``, ``clen_core.codes``,
  ``clen_core.rules`` but its report), the columnar engine's checks
  (``clen_core.io.columnar`` but its casts from text and its building of objects,
  which are parse);
- **write**: objects → Arrow (``clen_core.schema.arrow.to_arrow``), Parquet
  encoding, file writing (``clen_core.io.write``, the plugins' writers);
- **report**: the findings: building the report (``clen_core.rules.report``) and
  printing it (rich, the command's tables);
- **import**: modules imported during the run (lazy imports);
- **other**: the rest of the command line (typer, progress, the row loop of
  ``clen convert``), anything else.

Built-ins, the standard library and pyarrow's Python wrappers have no bucket
of their own: their time goes to the bucket of whoever called them, in
proportion to the time spent under each caller. Functions of modules not
listed are put in a bucket by their name (``read…``, ``parse…``/``cast…``/
``decode…``, ``check…``/``valid…``, ``write…``/``encode…``); extend
:func:`classify` when that guesses wrong.
cProfile slows down Python-heavy code (one call per row) much more than
Arrow's C++ code: read the shares as an upper bound for the per-row Python
parts. The whole-process start-up (``clen convert`` of a 100-row file) is
measured separately.

``--out FILE`` writes the breakdown as Markdown between the markers
``<!-- profile.py:begin -->`` and ``<!-- profile.py:end -->`` of FILE (the
whole file when they are missing).
"""

from __future__ import annotations

import sys
from pathlib import Path

# This folder holds a profile.py: keep it from shadowing the standard library's
# `profile` (which cProfile imports) when a script here is run by path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

# ruff: noqa: E402

import argparse
import ast
import contextlib
import cProfile
import datetime as dt
import functools
import json
import os
import pstats
import re
import shlex
import subprocess
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ENTITY = "activity"
PATHS = ("convert", "validate", "read", "write")
BUCKETS = ("read", "parse", "check", "write", "report", "import", "other")
BEGIN, END = "<!-- profile.py:begin -->", "<!-- profile.py:end -->"
DESCRIPTIONS = {
    "convert": "`clen convert` CSV → Parquet",
    "validate": "`clen validate` CSV",
    "read": "Parquet → `Activity` objects (`clen_core.read`)",
    "write": "`Activity` objects → Parquet (`clen_core.write`)",
}

Func = tuple[str, int, str]


# --------------------------------------------------------------------------- buckets

_WRITE_NAMES = re.compile(r"write|encode|export|to_arrow|sink|neutralise|_cells|conform|atomic")
_CHECK_NAMES = re.compile(r"check|valid|rule|reject|invariant|constraint")
_PARSE_NAMES = re.compile(
    r"pars|decode|convert|cast|pylist|from_arrow|materiali|to_py|py_value|objects_from|from_batch"
)
_COLUMNAR_PARSE = re.compile(
    r"pars|decode|convert|cast|py_value|objects_from|text_scalar|as_text|to_py"
)
_READ_NAMES = re.compile(r"read|open|scan|batches|restore|header")
_CLI_REPORT = frozenset({"_print_report", "_table", "_print_json"})
_IO_WRITE = frozenset({"write", "write_dataset", "_batches", "atomic_file", "count", "_umask"})


def _by_name(name: str) -> str:
    for bucket, pattern in (
        ("write", _WRITE_NAMES),
        ("check", _CHECK_NAMES),
        ("parse", _PARSE_NAMES),
        ("read", _READ_NAMES),
    ):
        if pattern.search(name):
            return bucket
    return "other"


@functools.cache
def _functions(filename: str) -> list[tuple[int, int, str]]:
    """(first line, last line, name) of every function defined in a source file."""
    try:
        tree = ast.parse(Path(filename).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return []
    return [
        (node.lineno, node.end_lineno or node.lineno, node.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]


def _name(func: Func) -> str:
    """The function's name; for a comprehension or lambda, the function it is written in."""
    filename, line, name = func
    if not name.startswith("<") or name == "<module>" or filename == "~":
        return name
    around = [f for f in _functions(filename) if f[0] <= line <= f[1]]
    return max(around)[2] if around else name


def classify(func: Func) -> str | None:
    """The bucket of a function's own time, or ``None``: its callers' buckets."""
    filename = func[0]
    name = _name(func)
    path = filename.replace("\\", "/")
    if filename == "~":  # a built-in
        if "fsync" in name or "method 'write' of '_io" in name:
            return "write"
        if "method 'read' of '_io" in name or "readinto" in name:
            return "read"
        return None
    if "importlib" in path or name == "<module>":
        return "import"
    if path.startswith("<attrs generated"):
        # __init__ of an entity runs its field validators; of a record, just stores.
        return "parse" if "clen_core.io.records" in path else "check"
    if "/clen_core/" in path:
        module = path.rsplit("/clen_core/", 1)[1]
        if module.startswith(("model/", "codes/")):
            return "check"
        if module.startswith("rules/"):
            return "report" if module == "rules/report.py" else "check"
        if module in ("io/records.py", "schema/converter.py"):
            return "parse"
        if module == "schema/arrow.py":
            return (
                "parse" if name.startswith(("from_arrow", "_from_py", "python_values")) else "write"
            )
        if module == "io/readwrite.py":
            return "write" if name in _IO_WRITE or "Counter" in name else "read"
        if module == "cli.py":
            return "report" if name in _CLI_REPORT else "other"
        if module in ("plugins.py", "registry.py", "io/formats.py", "errors.py"):
            return "other"
        if module == "io/parquet.py":  # the one Parquet reader and writer
            return "write" if _WRITE_NAMES.search(name) else "read"
        if module == "io/columnar.py":
            # The checking engine: text → typed values is parse, building objects
            # from checked columns is parse, the rest is check.
            return "parse" if _COLUMNAR_PARSE.search(name) else "check"
        return _by_name(name)  # anything new
    if re.search(r"/clen_core_\w+/", path):  # the format plugins
        if "pylist" in name:
            return "parse"
        return "write" if _WRITE_NAMES.search(name) else "read"
    if "/rich/" in path:
        return "report"
    if re.search(r"/(typer|click|shellingham)/", path):
        return "other"
    if re.search(r"/(pycountry|stdnum)/", path):
        return "check"
    return None  # the standard library, pyarrow's wrappers, attrs, ...


def breakdown(stats: pstats.Stats) -> tuple[dict[str, float], dict[str, list[tuple[str, float]]]]:
    """Seconds per bucket, and the functions contributing most to each."""
    table: dict[Func, Any] = stats.stats  # type: ignore[attr-defined]
    memo: dict[Func, dict[str, float]] = {}
    busy: set[Func] = set()

    def share(func: Func) -> dict[str, float]:
        """Fractions of ``func``'s time per bucket."""
        if func in memo:
            return memo[func]
        own = classify(func)
        if own is not None:
            memo[func] = {own: 1.0}
            return memo[func]
        callers = table.get(func, (0, 0, 0, 0, {}))[4]
        if not callers or func in busy:
            return {"other": 1.0}
        busy.add(func)
        weights = {c: v[3] for c, v in callers.items()} or {}
        total = sum(weights.values())
        if total <= 0:
            weights = {c: float(v[1]) for c, v in callers.items()}
            total = sum(weights.values()) or 1.0
        out: dict[str, float] = defaultdict(float)
        for caller, w in weights.items():
            for bucket, f in share(caller).items():
                out[bucket] += f * w / total
        busy.discard(func)
        memo[func] = dict(out)
        return memo[func]

    seconds: dict[str, float] = defaultdict(float)
    contrib: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for func, (_, _, tt, _, _) in table.items():
        for bucket, f in share(func).items():
            seconds[bucket] += tt * f
            contrib[bucket][_label(func)] += tt * f
    top = {b: sorted(c.items(), key=lambda kv: -kv[1]) for b, c in contrib.items()}
    return dict(seconds), top


_PREFIX = re.compile(r"^.*/(site-packages|lib/python3\.\d+|plugins|src)/")


def _label(func: Func) -> str:
    filename, line, name = func
    if filename == "~":
        return name.replace("<built-in method ", "<").replace("<method ", "<")
    path = filename.replace("\\", "/")
    mine = ROOT.as_posix() + "/"
    if path.startswith(mine + "benchmarks/"):
        path = path.removeprefix(mine)
    else:
        path = _PREFIX.sub("", path)
    outer = _name(func)
    return f"{path}:{line}({name if outer == name else f'{outer}.{name}'})"


# --------------------------------------------------------------------------- child


def _child(path: str, csv: Path, parquet: Path, stats_file: Path) -> dict[str, Any]:
    """Run one path unprofiled, then under cProfile; return the wall times."""
    import clen_core
    from clen_core.cli import app

    out = stats_file.with_name(f"{path}-out.parquet")  # in the parent's folder
    fn: Callable[[], Any]
    if path in ("convert", "validate"):
        args = (
            ["convert", str(csv), str(out), "-e", ENTITY, "-q"]
            if path == "convert"
            else ["validate", str(csv), "-e", ENTITY, "-q"]
        )

        def fn() -> Any:
            with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
                try:
                    return app(args=args, prog_name="clen", standalone_mode=False)
                except SystemExit as exc:
                    return exc.code

    elif path == "read":

        def fn() -> Any:
            return len(list(clen_core.read(parquet, entity=ENTITY)))

    else:
        objects = list(clen_core.read(parquet, entity=ENTITY))

        def fn() -> Any:
            return clen_core.write(objects, out)

    start = time.perf_counter()
    fn()
    wall = time.perf_counter() - start
    profiler = cProfile.Profile()
    # cProfile sees one thread: the profiled run keeps every stage in this one.
    os.environ["CLEN_THREADS"] = "0"
    start = time.perf_counter()
    try:
        profiler.runcall(fn)
    finally:
        del os.environ["CLEN_THREADS"]
    profiled = time.perf_counter() - start
    profiler.dump_stats(str(stats_file))
    return {"wall": wall, "profiled": profiled}


# --------------------------------------------------------------------------- parent


def _run(cmd: Sequence[str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(cmd), capture_output=True, text=True, check=False)
    if result.returncode not in (0, 1):
        raise SystemExit(f"{shlex.join(cmd)} failed ({result.returncode}):\n{result.stderr}")
    return result


def _clen() -> list[str]:
    script = Path(sys.executable).with_name("clen")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from clen_core.cli import main; main()"]


def _startup(clen: list[str], folder: Path) -> float:
    """Best of 3 whole-process ``clen convert`` of a 100-row file: the fixed cost."""
    tiny = folder / "tiny.csv"
    _run([*clen, "generate", ENTITY, "100", str(tiny), "--seed", "1", "-q"])
    best = float("inf")
    for _ in range(4):  # the first compiles bytecode and fills the page cache
        start = time.perf_counter()
        _run([*clen, "convert", str(tiny), str(folder / "tiny.parquet"), "-e", ENTITY, "-q"])
        best = min(best, time.perf_counter() - start)
    return best


def _source() -> str:
    """Which code was measured (as ``run.py`` says it)."""
    import importlib.util

    import clen_core

    # run.py is loaded by path: this folder is kept off sys.path (see above).
    spec = importlib.util.spec_from_file_location("clen_bench_run", ROOT / "benchmarks" / "run.py")
    assert spec is not None
    assert spec.loader is not None
    run = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = run  # its dataclasses look their module up there
    spec.loader.exec_module(run)
    found: str = run._source(Path(clen_core.__file__).parent)
    return found if found.startswith("commit") else f"clen_core {found}"


def profile(rows: int, paths: Sequence[str], top: int, keep: Path | None) -> dict[str, Any]:
    clen = _clen()
    with tempfile.TemporaryDirectory(prefix="clen-profile-") as tmp:
        folder = keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        csv, parquet = folder / "activity.csv", folder / "activity.parquet"
        for target in (csv, parquet):
            if not target.is_file():
                _run([*clen, "generate", ENTITY, str(rows), str(target), "--seed", "1", "-q"])
        results: dict[str, Any] = {"startup": _startup(clen, folder), "paths": {}}
        for path in paths:
            print(f"profiling {path} ...", flush=True)
            stats_file = folder / f"{path}.prof"
            done = _run(
                [sys.executable, __file__, "--child", path, "--csv", str(csv),
                 "--parquet", str(parquet), "--stats", str(stats_file)]
            )  # fmt: skip
            times = json.loads(done.stdout.strip().splitlines()[-1])
            seconds, contrib = breakdown(pstats.Stats(str(stats_file)))
            results["paths"][path] = {
                **times,
                "seconds": seconds,
                "top": {b: c[:top] for b, c in contrib.items()},
            }
    return results


def _pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f} %" if whole > 0 else "-"


def report_text(results: dict[str, Any], rows: int) -> str:
    lines = [f"{rows:,} rows; start-up (whole `clen convert` of 100 rows): "
             f"{results['startup']:.2f} s"]  # fmt: skip
    for path, r in results["paths"].items():
        total = sum(r["seconds"].values())
        lines.append(
            f"\n{path}: {r['wall']:.2f} s ({rows / r['wall']:,.0f} rows/s) without the "
            f"profiler, {r['profiled']:.2f} s under cProfile"
        )
        for b in BUCKETS:
            s = r["seconds"].get(b, 0.0)
            if s <= 0:
                continue
            names = "; ".join(f"{n} {t:.2f}" for n, t in r["top"].get(b, [])[:3])
            lines.append(f"  {b:<7}{_pct(s, total):>6} {s:7.2f} s   {names}")
    return "\n".join(lines)


def report_markdown(results: dict[str, Any], rows: int, command: str) -> str:
    now = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    out = [
        f"Profiled {now} on {_source()}, {rows:,} generated `{ENTITY}` rows:",
        "",
        "```console",
        f"$ {command}",
        "```",
        "",
        "Share of the profiled time per kind of work (see `benchmarks/profile.py` for "
        "the buckets), and the path's wall time without the profiler:",
        "",
        "| path | wall time | " + " | ".join(BUCKETS) + " |",
        "|---|---|" + "---|" * len(BUCKETS),
    ]
    for path, r in results["paths"].items():
        total = sum(r["seconds"].values())
        cells = [_pct(r["seconds"].get(b, 0.0), total) for b in BUCKETS]
        out.append(
            f"| {DESCRIPTIONS[path]} | {r['wall']:.2f} s ({rows / r['wall']:,.0f} rows/s) | "
            + " | ".join(cells)
            + " |"
        )
    out += [
        "",
        f"Start-up, the fixed cost of a command (whole `clen convert` of a 100-row file, "
        f"best of 3): {results['startup']:.2f} s.",
        "",
        "The functions taking the most time, per path and bucket (own time under the profiler, "
        "with the built-ins and library code they call):",
        "",
    ]
    for path, r in results["paths"].items():
        out.append(f"- **{path}** ({r['profiled']:.1f} s under cProfile):")
        for b in BUCKETS:
            entries = r["top"].get(b, [])
            if not entries or r["seconds"].get(b, 0.0) < 0.01 * sum(r["seconds"].values()):
                continue
            names = ", ".join(f"`{n}` {t:.2f} s" for n, t in entries)
            out.append(f"    - {b}: {names}")
    return "\n".join(out) + "\n"


def write_markdown(path: Path, body: str) -> None:
    section = f"{BEGIN}\n{body}{END}\n"
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        new = head + section + rest.split(END, 1)[1].removeprefix("\n")
    else:
        new = "# Where the time goes\n\n" + section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=200_000, help="rows to generate (200,000)")
    p.add_argument("--paths", default=",".join(PATHS), help="comma-separated: " + ", ".join(PATHS))
    p.add_argument("--top", type=int, default=4, help="functions listed per bucket (4)")
    p.add_argument("--out", type=Path, help="Markdown file to write the breakdown into")
    p.add_argument("--keep", type=Path, help="folder for the data and the .prof files, kept")
    p.add_argument("--child", choices=PATHS, help=argparse.SUPPRESS)
    p.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--parquet", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--stats", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.child, args.csv, args.parquet, args.stats)))
        return 0
    paths = [x.strip() for x in args.paths.split(",") if x.strip()]
    unknown = sorted(set(paths) - set(PATHS))
    if unknown:
        p.error(f"unknown path(s) {unknown}; choose from {', '.join(PATHS)}")
    results = profile(args.rows, paths, args.top, args.keep)
    print()
    print(report_text(results, args.rows))
    if args.out:
        command = shlex.join(
            ["python", "benchmarks/profile.py", *(sys.argv[1:] if argv is None else argv)]
        )
        write_markdown(args.out, report_markdown(results, args.rows, command))
        print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
