"""The `clen` command through its real entry point: every command, exit code and error path."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

import duckdb
import jsonschema
import pytest

import clen_core
from clen_core.data import reference_dataset

# As the console script runs it: the launcher readies the process, then runs clen_core.cli.
CLEN = [sys.executable, "-c", "from clen_core_launch import main; main()"]
N = len(reference_dataset().records("activity"))
"""Activities of the reference dataset (the Commission's Action 5 page: 18)."""


def clen(
    *args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CLEN_")}, **(env or {})}
    return subprocess.run(
        [*CLEN, *map(str, args)], capture_output=True, text=True, timeout=300, cwd=cwd, env=env
    )


def on_terminal(*args: str | Path, timeout: float = 60) -> tuple[int, str]:
    """Run clen with stdout and stderr on a pseudo-terminal; return exit code and output
    (also what tests/test_cli_conventions.py runs on a terminal)."""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "200", "TERM": "xterm"}
    proc = subprocess.Popen(
        [*CLEN, *map(str, args)], stdout=follower, stderr=follower, stdin=follower, env=env
    )
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], timeout)
        if not ready:
            break
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    code = proc.wait(timeout=timeout)
    os.close(leader)
    return code, b"".join(chunks).decode(errors="replace")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli")
    ds = reference_dataset()
    out = {}
    for ext in ("csv", "json", "jsonl", "parquet"):
        path = root / f"activity.{ext}"
        clen_core.write(ds.records("activity"), path)
        out[ext] = path
    bad = root / "bad.csv"
    text = out["csv"].read_text().splitlines()
    text[3] = text[3].replace('"BE"', '"ZZ"')  # an unknown country in file row 4
    assert '"ZZ"' in text[3]
    text.append("A-X,9,workshop,T,,Gent,BE,2020-01-02,2020-01-01,,,")  # action 9, end < start
    bad.write_text("\n".join(text) + "\n")
    out["bad"] = bad
    return out


# --------------------------------------------------------------------------- basics


def test_version_and_help() -> None:
    done = clen("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"clen_core {clen_core.__version__}"
    done = clen("--help")
    assert done.returncode == 0
    for command in ("entities", "schema", "formats", "plugins", "rules", "validate", "convert",
                    "demo", "generate"):  # fmt: skip
        assert command in done.stdout
        sub = clen(command, "--help")
        assert sub.returncode == 0, command
        assert "Usage: clen" in sub.stdout


def test_no_command_shows_help_and_exits_2() -> None:
    done = clen()
    assert done.returncode == 2
    assert "Usage" in done.stdout + done.stderr


def test_entities_table_and_json() -> None:
    done = clen("entities", "--json")
    assert done.returncode == 0
    rows = json.loads(done.stdout)
    assert [r["name"] for r in rows] == [e.name for e in clen_core.model.entities()]
    assert {"name", "class", "fields", "description"} == set(rows[0])
    assert "activity" in clen("entities").stdout


@pytest.mark.parametrize("kind", ["json-schema", "table-schema", "arrow"])
def test_schema(kind: str) -> None:
    from clen_core.cli import _plain_descriptions

    done = clen("schema", "activity", "--as", kind)
    assert done.returncode == 0, done.stderr
    assert "``" not in done.stdout  # the declarations' reST, made plain
    if kind == "json-schema":
        schema = json.loads(done.stdout)
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema == _plain_descriptions(clen_core.json_schema("activity"))
    elif kind == "table-schema":
        assert json.loads(done.stdout) == _plain_descriptions(clen_core.table_schema("activity"))
    else:
        assert "start: date32[day] not null" in done.stdout
        assert "clen_core.entity: 'activity'" in done.stdout


def test_schema_of_an_unknown_entity_or_kind_is_a_usage_error() -> None:
    done = clen("schema", "activities")
    assert done.returncode == 2
    assert done.stderr.startswith("error: unknown entity 'activities'; did you mean activity?")
    assert "Traceback" not in done.stderr
    assert clen("schema", "activity", "--as", "xml").returncode == 2


def test_formats_plugins_rules() -> None:
    formats = json.loads(clen("formats", "--json").stdout)
    assert {f["name"] for f in formats} >= {"csv", "json", "jsonl", "parquet"}
    assert {"name", "extensions", "read", "write", "plugin"} <= set(formats[0])
    plugins = json.loads(clen("plugins", "--json").stdout)
    assert {p["name"]: p["status"] for p in plugins}["csv"] == "loaded"
    rules = json.loads(clen("rules", "--entity", "laboratory", "--json").stdout)
    ids = {r["id"] for r in rules}
    assert {"LAB-001", "DUP-001"} <= ids
    assert not any(i.startswith("ACT-") for i in ids)
    assert clen("rules", "--entity", "nope").returncode == 2
    assert "LAB-001" in clen("rules").stdout


# --------------------------------------------------------------------------- validate


@pytest.mark.parametrize("ext", ["csv", "json", "jsonl", "parquet"])
def test_validate_good_file_exits_0(files: dict[str, Path], ext: str) -> None:
    done = clen("validate", files[ext], "--entity", "activity")
    assert done.returncode == 0, done.stderr
    assert f"{N} row(s) read, 0 rejected; 0 error(s), 1 warning(s)" in done.stdout
    assert "ACT-001" in done.stdout  # Tartu (ET), as published


def test_validate_bad_rows_exit_1_with_file_row_field(
    files: dict[str, Path], tmp_path: Path
) -> None:
    report_path = tmp_path / "report.json"
    done = clen("validate", files["bad"], "-e", "activity", "--report", report_path, "--json")
    assert done.returncode == 1
    report = json.loads(done.stdout)
    # --json is the report of --report, with what was read: path, kind, counts per entity.
    written = json.loads(report_path.read_text())
    assert {k: v for k, v in report.items() if k in written} == written
    assert (report["path"], report["kind"]) == (str(files["bad"]), "file")
    assert report["entities"] == {
        "activity": {"file": str(files["bad"]), "format": "csv",
                     "options": {"delimiter": ",", "decimal": ".", "encoding": "utf-8"},
                     "read": N + 1, "accepted": N - 1, "rejected": 2}
    }  # fmt: skip
    assert report["rejected"] == {"activity": 2}
    rejected = [f for f in report["findings"] if f["rule"] == "READ-001"]
    assert [(f["row"], f["field"]) for f in rejected] == [(4, "country"), (N + 2, "action")]
    assert "end: must not be before start" in rejected[1]["message"]
    assert report["ok"] is False


def test_validate_max_findings_caps_but_counts(files: dict[str, Path]) -> None:
    done = clen("validate", files["bad"], "-e", "activity", "--max-findings", "1", "--json")
    report = json.loads(done.stdout)
    assert len(report["findings"]) == 1
    assert report["counts"]["total"] == 3  # 2 rejected rows, the ACT-001 warning
    assert report["truncated"] is True


def test_validate_keeps_as_many_findings_as_the_limit_unless_told(files: dict[str, Path]) -> None:
    def kept(*extra: str, env: dict[str, str] | None = None) -> int:
        done = clen("validate", files["bad"], "-e", "activity", "--json", *extra, env=env)
        report = json.loads(done.stdout)
        assert report["counts"]["total"] == 3  # counts go on past the cap
        return len(report["findings"])

    assert kept() == 3  # the default limit (1000) keeps all three
    assert kept(env={"CLEN_MAX_FINDINGS": "2"}) == 2
    assert kept("--max-findings", "3", env={"CLEN_MAX_FINDINGS": "2"}) == 3


def test_validate_prints_counts_by_rule_then_the_first_findings(files: dict[str, Path]) -> None:
    report = json.loads(clen("validate", files["bad"], "-e", "activity", "--json").stdout)
    done = clen("validate", files["bad"], "-e", "activity", "--show", "1", "--max-findings", "0")
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    # Counts by rule come from the whole run, even with no finding kept (--max-findings 0).
    # Plain text (not a terminal): a line a rule, its columns rule, severity, count, description.
    for rule, n in report["counts"]["by_rule"].items():
        row = next(line.split() for line in lines if line.startswith(f"{rule} "))
        assert row[2] == f"{n:,}", row
    assert "first" not in done.stdout  # nothing kept, nothing listed
    done = clen("validate", files["bad"], "-e", "activity", "--show", "1")
    total = report["counts"]["total"]
    assert f"first 1 of {total} finding(s); all of them in --report and --json" in done.stdout
    first = report["findings"][0]
    assert f"{first['rule']} " in done.stdout.split("first 1 of")[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("validate", "missing.csv", "-e", "activity"), "missing.csv: no such file"),
        (("validate", "{good}", "-e", "nope"), "unknown entity 'nope'"),
        (("validate", "{good}", "-e", "activity", "--format", "xls"), "unknown format 'xls'"),
        (("validate", "{corrupt}", "-e", "activity"), "corrupt.parquet"),
        (("validate", "{noext}", "-e", "activity"), "cannot tell the format"),
        (("convert", "{good}", "{tmp}/x.xyz", "-e", "activity"), "cannot tell the format"),
        (("convert", "{good}", "{tmp}/ds", "-e", "activity", "--partition-by", "year",
          "--to", "csv"), "a partitioned dataset is Parquet"),
        (("convert", "{good}", "{tmp}/ds", "-e", "activity", "--partition-by", "colour"),
         "partition key 'colour' is not a field of activity"),
        # The system's errors (OSError): here a folder to make where a file is.
        (("validate", "{good}", "-e", "activity", "--report", "{tmp}/noext/r.json"), "noext"),
        (("generate", "nope", "10", "{tmp}/x.csv"), "unknown entity 'nope'"),
    ],
)  # fmt: skip
def test_errors_are_one_line_and_exit_2(
    files: dict[str, Path], tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    (tmp_path / "corrupt.parquet").write_bytes(b"PAR1 this is not parquet")
    (tmp_path / "noext").write_bytes(b"\x00\x01\x02")
    names = {"good": files["csv"], "corrupt": tmp_path / "corrupt.parquet",
             "noext": tmp_path / "noext", "tmp": tmp_path}  # fmt: skip
    done = clen(*[a.format(**names) for a in args])
    assert done.returncode == 2
    assert message in done.stderr
    assert done.stderr.startswith("error: ")
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_debug_shows_the_traceback() -> None:
    done = clen("--debug", "validate", "missing.csv", "-e", "activity")
    assert done.returncode == 2
    assert "Traceback" in done.stderr


@pytest.mark.parametrize("value", ["lots", "0"])
def test_a_bad_limit_in_the_environment_is_one_line_and_exit_2(
    files: dict[str, Path], value: str
) -> None:
    done = clen("validate", files["csv"], "-e", "activity", env={"CLEN_MAX_FINDINGS": value})
    assert done.returncode == 2
    assert done.stderr.startswith("error: ")
    assert "max_findings" in done.stderr.lower()
    assert len(done.stderr.strip().splitlines()) == 1


# A bug is not bad input: a command that fails in a way clen_core did not mean (here its
# library call, made to raise) is told as an internal error, never as a usage error.
@pytest.mark.parametrize("exc", [RuntimeError("boom"), ValueError("boom"), TypeError("boom")])
def test_an_internal_error_is_one_line_asking_for_a_report(
    files: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    exc: Exception,
) -> None:  # fmt: skip
    from clen_core import cli

    def broken(*args: object, **kwargs: object) -> NoReturn:
        raise exc

    monkeypatch.setattr(cli, "validate_path", broken)
    monkeypatch.setattr(sys, "argv", ["clen", "validate", str(files["csv"]), "-e", "activity"])
    with pytest.raises(SystemExit) as stopped:
        cli.main()
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err == (
        f"error: internal error ({type(exc).__name__}: boom); "
        "run with --debug for the traceback, and please report it\n"
    )
    monkeypatch.setattr(sys, "argv", ["clen", "--debug", *sys.argv[1:]])
    with pytest.raises(SystemExit) as stopped:
        cli.main()
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert "in broken" in err
    assert err.rstrip().endswith(f"{type(exc).__name__}: boom")
    assert "internal error" not in err


# --------------------------------------------------------------------------- convert


def test_convert_chain_returns_the_same_rows(files: dict[str, Path], tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.parquet", tmp_path / "b.jsonl", tmp_path / "c.csv"
    for src, dst in ((files["csv"], a), (a, b), (b, c)):
        done = clen("convert", src, dst, "--entity", "activity")
        assert done.returncode == 0, done.stderr
        assert f"{N} read, {N} written, 0 rejected" in done.stdout
    assert list(clen_core.read(c, entity="activity")) == reference_dataset().records("activity")


def test_convert_with_rejects_keeps_good_rows_and_writes_rejects(
    files: dict[str, Path], tmp_path: Path
) -> None:
    dst, rejects = tmp_path / "out.parquet", tmp_path / "rejects.jsonl"
    done = clen("convert", files["bad"], dst, "-e", "activity", "--rejects", rejects)
    assert done.returncode == 0
    assert f"{N + 1} read, {N - 1} written, 2 rejected" in done.stdout
    assert len(list(clen_core.read(dst, entity="activity"))) == N - 1
    lines = [json.loads(x) for x in rejects.read_text().splitlines()]
    assert [x["row"] for x in lines] == [4, N + 2]


def test_convert_one_percent_injected_errors_exactly_those_rows_rejected(tmp_path: Path) -> None:
    from clen_core.synth import injected

    src, dst, rejects = tmp_path / "a.csv", tmp_path / "a.parquet", tmp_path / "rejects.jsonl"
    n = 30_000
    generated = clen("generate", "activity", str(n), src, "--seed", "4", "--error-rate", "0.01")
    assert generated.returncode == 0, generated.stderr
    done = clen("convert", src, dst, "-e", "activity", "--rejects", rejects, "-q")
    assert done.returncode == 0, done.stderr
    truth = injected("activity", n, seed=4, error_rate=0.01)
    bad = {i + 2 for i, _, _ in truth}  # CSV: the header is row 1, data rows from 2
    assert len(bad) == n // 100
    lines = [json.loads(x) for x in rejects.read_text().splitlines()]
    assert {x["row"] for x in lines} == bad
    # One line a rejected row: its errors (each the injected field, with the reason) and the
    # record as read, so that nothing of it is lost.
    assert sorted((x["row"], e["field"]) for x in lines for e in x["errors"]) == sorted(
        (i + 2, f) for i, f, _ in truth
    )
    assert all(x["record"]["activity_id"] for x in lines)
    assert f"{n:,} read, {n - len(bad):,} written, {len(bad):,} rejected" in done.stdout
    # Every other row is in the output, in order, once.
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    ids = pacsv.read_csv(src, convert_options=pacsv.ConvertOptions(
        column_types={"activity_id": "string"})).column("activity_id").to_pylist()  # fmt: skip
    kept = [x for row, x in enumerate(ids, start=2) if row not in bad]
    assert pq.read_table(dst).column("activity_id").to_pylist() == kept


def test_convert_strict_exits_1_and_leaves_the_target_untouched(
    files: dict[str, Path], tmp_path: Path
) -> None:
    dst = tmp_path / "out.json"
    dst.write_text("previous")
    done = clen("convert", files["bad"], dst, "-e", "activity", "--strict")
    assert done.returncode == 1
    assert f"2 of {N + 1} row(s) rejected; --strict" in done.stderr
    assert dst.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
    ok = clen("convert", files["csv"], dst, "-e", "activity", "--strict")
    assert ok.returncode == 0


def test_convert_explicit_formats(files: dict[str, Path], tmp_path: Path) -> None:
    src = tmp_path / "activities.data"
    src.write_bytes(files["jsonl"].read_bytes())
    dst = tmp_path / "out.txt"
    done = clen("convert", src, dst, "-e", "activity", "--from", "jsonl", "--to", "csv")
    assert done.returncode == 0, done.stderr
    assert len(list(clen_core.read(dst, entity="activity", format="csv"))) == N


# --------------------------------------------------------------------------- demo


def test_demo_writes_every_format_reads_back_and_duckdb_reads_it(tmp_path: Path) -> None:
    done = clen("demo", tmp_path / "demo")
    assert done.returncode == 0, done.stderr
    assert "validation: 0 error(s), 3 warning(s)" in done.stdout
    assert "total" in done.stdout
    for fmt in ("csv", "json", "jsonl", "parquet"):
        assert fmt in done.stdout
        assert (tmp_path / "demo" / fmt).is_dir()
    rows = duckdb.sql(
        f"SELECT count(*), count(DISTINCT country) FROM '{tmp_path}/demo/parquet/activity.parquet'"
    ).fetchall()
    assert rows == [(N, 12)]  # the 18 activities of the Action 5 page, in 12 countries


def test_demo_default_folder(tmp_path: Path) -> None:
    done = clen("demo", "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "clen-demo" / "dataset.json").is_file()


# --------------------------------------------------------------------------- terminal vs pipe


def test_progress_on_a_terminal_silent_when_piped_or_quiet(tmp_path: Path) -> None:
    big = tmp_path / "big.jsonl"
    template = reference_dataset().records("activity")[0]
    import attrs

    clen_core.write((attrs.evolve(template, activity_id=f"A{i}") for i in range(150_000)), big)
    code, screen = on_terminal("convert", big, tmp_path / "big.parquet", "-e", "activity")
    assert code == 0
    assert "rows" in screen  # the progress bar's counter
    assert "150,000 read, 150,000 written" in screen
    piped = clen("convert", big, tmp_path / "big2.parquet", "-e", "activity")
    assert piped.returncode == 0
    assert piped.stderr == ""
    code, screen = on_terminal("convert", big, tmp_path / "b3.parquet", "-e", "activity", "-q")
    assert code == 0
    assert "rows" not in screen.replace("150,000 read, 150,000 written, 0 rejected", "")
