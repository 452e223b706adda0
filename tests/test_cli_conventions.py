"""The command line follows its ecosystem's conventions, through the real `clen` process.

`python -m clen_core` is the command; a closed pipe ends it quietly; shell completion;
`--json` on every command; plain text off a terminal; progress by bytes on one;
`--select`/`--ignore`; entity names as people write them; messages in the command's own
words, with long lists capped; help free of reST and of typer's placeholders; and
`clen validate` on every kind of path, CSV dialects included.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

import clen_core
from clen_core.cli import app
from clen_core.data import reference_dataset
from clen_core.io.formats import formats
from test_cli import on_terminal as _on_terminal  # type: ignore[import-not-found]

# As the console script runs it: the launcher readies the process, then runs clen_core.cli.
CLEN = [sys.executable, "-c", "from clen_core_launch import main; main()"]
MODULE = [sys.executable, "-m", "clen_core"]
REF = reference_dataset()
API_WORDS = re.compile(r"\b(format|entity|from_format|to_format|on_reject)=|clen_core\.\w+\(")
"""What a message of the command must not say: the library's arguments and calls."""


def run(
    command: list[str], *args: str | Path, env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:  # fmt: skip
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CLEN_")}, **(env or {})}
    return subprocess.run(
        [*command, *map(str, args)], capture_output=True, text=True, timeout=300, env=env,
        cwd=cwd,
    )  # fmt: skip


def clen(*args: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return run(CLEN, *args, **kwargs)  # type: ignore[arg-type]


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    """The error of a command that failed with exit code 2: one line, no traceback."""
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stderr.startswith("error: "), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr.strip()


def on_terminal(*args: str | Path) -> tuple[int, str]:
    """Run clen on a pseudo-terminal (as tests/test_cli.py does), with more time."""
    return _on_terminal(*args, timeout=120)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The reference dataset as a CSV folder (with a reference broken: REF-001), a dataset
    document, a partitioned dataset, a Parquet file, and a workbook when xlsx can write one."""
    root = tmp_path_factory.mktemp("conventions")
    clen_core.write_dataset(REF, root / "csv", format="csv")
    sample = root / "csv" / "sample.csv"
    lab: str = REF.records("sample")[0].lab_id
    text = sample.read_text(encoding="utf-8")
    sample.write_text(text.replace(f',"{lab}",', ',"XX-NOWHERE",', 1), encoding="utf-8")
    clen_core.write_dataset(REF, root / "dataset.json")
    clen_core.write(REF.records("activity"), root / "activity.parquet", entity="activity")
    clen_core.convert(root / "activity.parquet", root / "part", entity="activity",
                      partition_by="country")  # fmt: skip
    out = {"root": root, "csv": root / "csv", "json": root / "dataset.json",
           "parquet": root / "activity.parquet", "part": root / "part"}  # fmt: skip
    xlsx = {f.name: f for f in formats()}.get("xlsx")
    if xlsx is not None and xlsx.write_dataset is not None:
        clen_core.write_dataset(REF, root / "dataset.xlsx", format="xlsx")
        out["xlsx"] = root / "dataset.xlsx"
    return out


# --------------------------------------------------------------------------- python -m


def test_python_m_clen_core_is_the_command(data: dict[str, Path]) -> None:
    assert run(MODULE, "--version").stdout == clen("--version").stdout
    helped = run(MODULE, "--help")
    assert helped.returncode == 0
    assert helped.stdout.startswith("Usage: python -m clen_core [OPTIONS] COMMAND [ARGS]...")
    done = run(MODULE, "validate", data["parquet"], "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["records"] == {"activity": len(REF.records("activity"))}
    assert run(MODULE).returncode == 2  # no command: the help, as clen


# --------------------------------------------------------------------------- pipes


@pytest.mark.parametrize("command", [CLEN, MODULE], ids=["clen", "python -m clen_core"])
@pytest.mark.parametrize("args", [("--help",), ("rules",), ("entities", "--json"), ("validate",)])
def test_a_reader_that_stops_ends_the_command_quietly(
    data: dict[str, Path], command: list[str], args: tuple[str, ...]
) -> None:
    if args == ("validate",):
        args = ("validate", str(data["csv"]))
    # The pipe's reading end closed before the command writes: every write fails (EPIPE).
    reader, writer = os.pipe()
    os.close(reader)
    try:
        done = subprocess.run([*command, *args], stdout=writer, stderr=subprocess.PIPE,
                              text=True, timeout=300)  # fmt: skip
    finally:
        os.close(writer)
    assert done.returncode == 0
    assert done.stderr == ""


def test_help_piped_into_head_in_a_shell() -> None:
    for command in ("clen", f"{sys.executable} -m clen_core"):
        line = (
            f'{sys.executable} -c "from clen_core_launch import main; main()" --help'
            if command == "clen"
            else f"{command} --help"
        )
        done = subprocess.run(["bash", "-c", f"set -o pipefail; {line} | head -1"],
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("Usage: ")
        assert done.stderr == ""


# --------------------------------------------------------------------------- completion


def test_shell_completion() -> None:
    assert "--install-completion" in clen("--help").stdout
    shown = clen("--show-completion", "bash")
    assert shown.returncode == 0
    assert "_CLEN_COMPLETE" in shown.stdout

    def complete(words: str) -> list[str]:
        env = {"_CLEN_COMPLETE": "complete_bash", "COMP_WORDS": words,
               "COMP_CWORD": str(len(words.split()) - 1)}  # fmt: skip
        return clen(env=env).stdout.split()

    assert complete("clen valid") == ["validate"]
    assert "activity" in complete("clen validate x.csv --entity acti")
    assert sorted(complete("clen schema pt_s")) == ["pt_score", "pt_study"]
    assert "parquet" in complete("clen convert a b --to par")
    assert "PT,REF-001" in complete("clen validate x --select PT,REF-0")


# --------------------------------------------------------------------------- --json


def test_every_command_takes_json(data: dict[str, Path], tmp_path: Path) -> None:
    results = tmp_path / "pt_result.csv"
    clen_core.write(REF.records("pt_result"), results, entity="pt_result")
    cases: dict[str, list[str | Path]] = {
        "entities": [],
        "schema": ["activity", "--as", "arrow"],
        "formats": [],
        "plugins": [],
        "rules": ["--entity", "pt_study"],
        "validate": [data["csv"]],
        "convert": [data["parquet"], tmp_path / "a.csv"],
        "demo": [tmp_path / "demo", "-q"],
        "generate": ["activity", "10", tmp_path / "g.jsonl"],
        "migrate": [data["parquet"]],
        "pt-report": [results, "--study", "PT-2024-ETOH", "--out", tmp_path / "r.html"],
    }
    group: typer.core.TyperGroup = typer.main.get_command(app)  # type: ignore[assignment]
    assert set(cases) == set(group.commands), "a command without a --json test"
    for name, args in cases.items():
        done = clen(name, *args, "--json")
        assert done.returncode in (0, 1), (name, done.stderr)
        assert json.loads(done.stdout) is not None, name
    got = json.loads(clen("convert", data["parquet"], tmp_path / "b.csv", "--json").stdout)
    n = len(REF.records("activity"))
    assert (got["entity"], got["read"], got["written"], got["rejected"]) == ("activity", n, n, 0)
    schema = json.loads(clen("schema", "activity", "--as", "arrow", "--json").stdout)
    assert schema["fields"][0] == {"name": "activity_id", "type": "string", "nullable": False,
                                   "metadata": schema["fields"][0]["metadata"]}  # fmt: skip


# --------------------------------------------------------------------------- plain text


def test_plain_text_when_piped_boxes_on_a_terminal() -> None:
    piped = clen("formats")
    lines = piped.stdout.splitlines()
    assert not set("┃│━─┏└") & set(piped.stdout)
    assert len(lines) == 1 + len(formats())  # a header, then one line a format: no wrapping
    assert lines[0].split() == ["name", "extensions", "read", "write", "dataset", "plugin",
                                "description"]  # fmt: skip
    assert max(map(len, lines)) > 80  # not cut or folded at 80 columns
    rules = clen("rules").stdout.splitlines()
    assert all(re.match(r"[A-Z]+-\d{3} ", line) for line in rules[1:])
    code, screen = on_terminal("formats")
    assert code == 0
    assert "┃" in screen or "│" in screen


def test_progress_by_bytes_with_total_and_eta_on_a_terminal_silent_when_piped(
    tmp_path: Path,
) -> None:
    big = tmp_path / "big.csv"
    made = clen("generate", "activity", "300000", big, "-q")
    assert made.returncode == 0, made.stderr
    megabytes = f"{big.stat().st_size / 1e6:.1f} MB"
    code, screen = on_terminal("validate", big, "-e", "activity")
    assert code == 0, screen
    assert re.search(rf"\d+\.\d/{re.escape(megabytes)}", screen), screen[-2000:]
    assert re.search(r"[\d,]+ rows", screen)
    assert re.search(r"-:--:--|\d:\d\d:\d\d", screen)  # the time left
    piped = clen("validate", big, "-e", "activity")
    assert piped.returncode == 0
    assert piped.stderr == ""
    code, screen = on_terminal("validate", big, "-e", "activity", "-q")
    assert "MB" not in screen


# --------------------------------------------------------------------------- rules


def test_select_and_ignore_rule_ids_and_prefixes(data: dict[str, Path]) -> None:
    def found(*args: str) -> set[str]:
        done = clen("validate", data["csv"], "--json", *args)
        assert done.returncode in (0, 1), done.stderr
        return {r for r, n in json.loads(done.stdout)["counts"]["by_rule"].items() if n}

    everything = found()
    assert {"PT-002", "REF-001", "ACT-001"} <= everything
    assert found("--select", "PT,REF-001", "--ignore", "PT-002") == {"REF-001"}
    assert found("--select", "pt", "--select", "ref") == {"PT-002", "REF-001"}
    assert found("--ignore", "REF,ACT-001") == everything - {"REF-001", "ACT-001"}

    def listed(*args: str) -> list[str]:
        return [r["id"] for r in json.loads(clen("rules", "--json", *args).stdout)]

    assert listed("--select", "PT", "--ignore", "PT-002") == ["PT-001", "PT-003"]
    # The more specific selector wins, as in ruff; on a tie, --ignore.
    assert listed("--select", "PT-002", "--ignore", "PT") == ["PT-002"]
    assert listed("--select", "PT-002", "--ignore", "PT-002") == []
    message = one_line_error(clen("validate", data["csv"], "--select", "PTT"))
    assert "--select PTT: no rule ID starts with it; did you mean PT?" in message


# --------------------------------------------------------------------------- entities


def test_entity_names_any_case_class_names_and_did_you_mean(
    data: dict[str, Path], tmp_path: Path
) -> None:
    assert clen("schema", "PTStudy").stdout == clen("schema", "pt_study").stdout
    assert json.loads(clen("rules", "-e", "Activity", "--json").stdout) == json.loads(
        clen("rules", "-e", "activity", "--json").stdout
    )
    csv = data["csv"] / "activity.csv"
    for spelling in ("Activity", "ACTIVITY", "activity"):
        assert clen("validate", csv, "-e", spelling).returncode == 0
    assert clen("generate", "AnalysisResult", "3", tmp_path / "r.csv").returncode == 0
    assert clen("convert", csv, tmp_path / "a.parquet", "-e", "Activity").returncode == 0
    for args in (("schema", "activties"), ("validate", csv, "-e", "activities"),
                 ("convert", csv, tmp_path / "b.csv", "-e", "activites"),
                 ("generate", "Activities", "3", tmp_path / "x.csv"),
                 ("rules", "--entity", "activty")):  # fmt: skip
        message = one_line_error(clen(*args))
        assert "did you mean activity?" in message, message
    assert "did you mean" not in one_line_error(clen("schema", "zzzz"))


# --------------------------------------------------------------------------- messages


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("validate", "{tmp}/x.xyz"), "give --format"),
        (("convert", "{parquet}", "{tmp}/o.xyz"), "give --to"),
        (("convert", "{tmp}/x.xyz", "{tmp}/o.csv", "-e", "activity"), "give --from"),
        (("validate", "{tmp}/activity.csv"), "give --entity (--entity activity, as its name"),
        (("validate", "{tmp}/doc.jsonl", "-e", "activity"), "give --format json"),
        (("convert", "{json}", "{tmp}/o.csv", "-e", "sample"), "clen validate reads it whole"),
        (("convert", "{csv}", "{tmp}/o.csv", "-e", "sample"), "clen convert reads one file"),
        (("validate", "{tmp}/empty"), "an empty folder"),
        (("validate", "{root}"), "dataset; validate one of its folders of entity files: csv"),
        (("validate", "{parquet}", "--delimiter", ";"), "--delimiter applies to CSV files"),
        (("validate", "{tmp}/nothing"), "nothing: no such file or folder"),
        (("validate", "{parquet}", "--format", "xls"), "known: csv"),
        (("pt-report", "{tmp}/r.csv", "--study", "S", "--out", "{tmp}/r.json", "--format",
          "html"), "--out {tmp}/r.json ends in .json but --format is html: give --format json"),
    ],
)  # fmt: skip
def test_messages_in_the_commands_own_words(
    data: dict[str, Path], tmp_path: Path, args: tuple[str, ...], said: str
) -> None:
    (tmp_path / "x.xyz").write_bytes(b"\x00\x01 nothing known")
    (tmp_path / "empty").mkdir()
    clen_core.write(REF.records("activity"), tmp_path / "activity.csv", entity="activity")
    clen_core.write(REF.records("activity"), tmp_path / "doc.json", entity="activity")
    (tmp_path / "doc.jsonl").write_bytes((tmp_path / "doc.json").read_bytes())
    names = {"tmp": tmp_path, **data}
    message = one_line_error(clen(*[a.format(**names) for a in args]))
    assert said.format(**names) in message, message
    assert not API_WORDS.search(message), message


def test_library_wordings_become_the_commands() -> None:
    from clen_core.cli import _in_cli_words

    for text, said in [
        ("x.csv: the file does not say which entity its rows are: give the entity", "--entity"),
        ("empty: no Parquet file in the folder; give entity=", "give --entity"),
        ("x.csv: is the file ';'-separated? give the delimiter", "give --delimiter"),
        ("x.csv: give the decimal separator ('.' or ',')", "give --decimal ('.' or ',')"),
        ("x.csv: not UTF-8; give the encoding, e.g. 'cp1250'", "give --encoding, e.g."),
        ("cannot tell the format of x.y: ...; give format=", "give --format"),
        ("x.json: of one entity: read it with clen_core.read(path, entity='...')",
         "give --entity"),
        ("x.json: holds 'sample': read it with clen_core.read(path, entity='sample')",
         "give --entity sample"),
        ("2 of 9 row(s) rejected (on_reject='collect' keeps the good rows without raising)",
         "2 of 9 row(s) rejected"),
    ]:  # fmt: skip
        got = _in_cli_words(text)
        assert said in got, got
        assert not API_WORDS.search(got), got
        assert "give the" not in got
    assert "give --from" in _in_cli_words("...; give format=", {"format": "--from"})


def test_long_lists_in_messages_are_capped(tmp_path: Path) -> None:
    wide = tmp_path / "wide.csv"
    header = ",".join(f"col{i}" for i in range(10_000))
    wide.write_text(header + "\n" + ",".join("1" * 10_000) + "\n", encoding="utf-8")
    message = one_line_error(clen("validate", wide, "-e", "activity"))
    assert len(message) < 2000
    assert re.search(r"and 9,9\d\d more", message)
    from clen_core.cli import _capped

    listed = "unknown: " + ", ".join(f"'c{i}'" for i in range(10_000)) + "; known: a, b"
    capped = _capped(listed)
    assert capped.endswith("'c19' and 9,980 more; known: a, b")
    assert _capped("fields: " + ", ".join(f"f{i}" for i in range(25))) == "fields: " + ", ".join(
        f"f{i}" for i in range(25)
    )  # a list of the entity's fields stays whole
    assert _capped("x" * 10_000).endswith("(8,000 more characters; --debug shows all)")


def test_a_failing_plugin_under_strict_is_one_line(tmp_path: Path) -> None:
    site = tmp_path / "site"
    info = site / "clen_broken_plugin-0.1.dist-info"
    info.mkdir(parents=True)
    (site / "clen_broken_plugin.py").write_text("raise ImportError('needs libfoo')\n")
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: clen-broken-plugin\n"
                                   "Version: 0.1\n")  # fmt: skip
    (info / "entry_points.txt").write_text("[clen_core]\nbroken = clen_broken_plugin\n")
    env = {"PYTHONPATH": str(site)}
    plugins = json.loads(clen("plugins", "--json", env=env).stdout)
    assert {p["name"]: p["status"] for p in plugins}["broken"] == "failed"
    strict = {**env, "CLEN_STRICT_PLUGINS": "1"}
    for args in (("formats",), ("plugins",), ("validate", tmp_path / "x.csv", "-e", "activity")):
        message = one_line_error(clen(*args, env=strict))
        assert "plugin 'broken' failed: ImportError: needs libfoo" in message
    assert clen("--help", env=strict).returncode == 0


# --------------------------------------------------------------------------- help


def test_help_is_plain_text_without_placeholders_or_rest() -> None:
    group: typer.core.TyperGroup = typer.main.get_command(app)  # type: ignore[assignment]
    commands = ["", *group.commands]
    for name in commands:
        done = clen(*([name] if name else []), "--help")
        assert done.returncode == 0, name
        text = done.stdout
        for bad in ("``", ":func:", ":class:", ":mod:", "{", "}", "<str>", "<int", "<path>",
                    "<float", "<text>"):  # fmt: skip
            assert bad not in text, (name, bad)
    assert clen("validate", "--help").stdout.startswith("Usage: clen validate [OPTIONS] PATH\n")
    assert "Usage: clen generate [OPTIONS] ENTITY N OUT" in clen("generate", "--help").stdout


def test_listings_free_of_rest() -> None:
    for args in (("entities", "--json"), ("rules", "--json"), ("formats",),
                 ("schema", "method"), ("schema", "analysis_result", "--as", "table-schema"),
                 ("schema", "laboratory", "--as", "arrow")):  # fmt: skip
        text = clen(*args).stdout
        assert text
        assert not re.search(r"``|:[a-z]+:`", text), args


# --------------------------------------------------------------------------- validate PATH


def test_validate_a_folder_names_file_row_field_and_counts_per_entity(
    data: dict[str, Path],
) -> None:
    done = clen("validate", data["csv"], "--show", "100")
    assert done.returncode == 1  # REF-001 is an error
    out = done.stdout
    said = f"{len(REF.counts())} files read as csv, ','-separated, decimal point, utf-8"
    assert f"{data['csv']}: {said}" in out
    rows = sum(REF.counts().values())
    assert f"{data['csv']} (folder, {len(REF.counts())} entities): {rows:,} row(s) read" in out
    assert re.search(r"^sample +sample\.csv +4 +0$", out, re.MULTILINE)  # rows by entity
    # The findings name their file (relative to the folder), row and field.
    header = next(line for line in out.splitlines() if line.startswith("file "))
    assert header.split() == ["file", "entity", "rule", "severity", "row", "key", "field",
                              "value", "message"]  # fmt: skip
    assert re.search(r"^sample\.csv +sample +REF-001 +error +2 +S-2024-001 +lab_id +XX-NOWHERE ",
                     out, re.MULTILINE)  # fmt: skip
    report = json.loads(clen("validate", data["csv"], "--json").stdout)
    assert report["kind"] == "folder"
    assert report["entities"]["sample"] == {
        "file": str(data["csv"] / "sample.csv"), "format": "csv",
        "options": {"delimiter": ",", "decimal": ".", "encoding": "utf-8"},
        "read": 4, "accepted": 4, "rejected": 0,
    }  # fmt: skip
    (ref,) = [f for f in report["findings"] if f["rule"] == "REF-001"]
    assert (ref["file"], ref["row"], ref["field"]) == (str(data["csv"] / "sample.csv"), 2,
                                                       "lab_id")  # fmt: skip
    only = json.loads(clen("validate", data["csv"], "-e", "Sample", "--json").stdout)
    assert list(only["entities"]) == ["sample"]
    assert "REF-001" not in {f["rule"] for f in only["findings"]}  # no laboratories read


@pytest.mark.parametrize("kind", ["json", "xlsx", "part", "parquet"])
def test_validate_a_document_a_workbook_a_partitioned_dataset_or_a_parquet_file(
    data: dict[str, Path], kind: str
) -> None:
    if kind not in data:
        pytest.skip("no xlsx format that writes a workbook")
    done = clen("validate", data[kind], "--json")  # no --entity: the files say
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["kind"] == {"json": "document", "xlsx": "document", "part": "partitioned",
                              "parquet": "file"}[kind]  # fmt: skip
    if kind in ("json", "xlsx"):
        assert {e: i["read"] for e, i in report["entities"].items()} == REF.counts()
        assert {"REF-001", "RES-001"} & set(report["counts"]["by_rule"])  # across entities
        assert all(f["file"] == str(data[kind]) for f in report["findings"])
    else:
        assert list(report["entities"]) == ["activity"]
    text = clen("validate", data[kind]).stdout
    said = {"json": "dataset document, 20 entities", "xlsx": "workbook, 20 entities",
            "part": "partitioned dataset of activity", "parquet": "(activity)"}[kind]  # fmt: skip
    assert said in text.splitlines()[0]
    sample = clen("validate", data[kind], "-e", "sample", "--json")
    if kind in ("json", "xlsx"):  # one entity of a document
        assert json.loads(sample.stdout)["records"] == {"sample": 4}
    else:
        assert "holds 'activity' records" in one_line_error(sample)


def test_exit_codes(data: dict[str, Path], tmp_path: Path) -> None:
    assert clen("validate", data["parquet"]).returncode == 0  # a warning is not an error
    assert clen("validate", data["csv"]).returncode == 1  # REF-001
    assert clen("validate", tmp_path / "nothing").returncode == 2


# --------------------------------------------------------------------------- CSV dialects


@pytest.fixture
def excel_csv(tmp_path: Path) -> tuple[Path, list[list[str]]]:
    """analysis_result rows as Excel writes them in most EU locales: ';', decimal comma,
    Windows-1252, CRLF."""
    src = tmp_path / "utf8.csv"
    clen_core.write(REF.records("analysis_result"), src, entity="analysis_result")
    import csv

    with open(src, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    for r in rows[1:]:
        r[:] = [re.sub(r"^(-?\d+)\.(\d+)$", r"\1,\2", c) for c in r]
        r[rows[0].index("unit")] += " é"  # a character Windows-1252 has, UTF-8 writes otherwise
    path = tmp_path / "excel.csv"
    with open(path, "w", encoding="cp1252", newline="") as f:
        csv.writer(f, delimiter=";", lineterminator="\r\n").writerows(rows)
    return path, rows


def test_a_semicolon_decimal_comma_windows_1252_csv(
    excel_csv: tuple[Path, list[list[str]]], tmp_path: Path
) -> None:
    path, rows = excel_csv
    done = clen("validate", path, "-e", "analysis_result")
    assert done.returncode == 0, done.stderr
    assert f"{path}: read as csv, ';'-separated, decimal comma, windows-1252" in done.stdout
    assert f"{len(rows) - 1} row(s) read, 0 rejected" in done.stdout
    given = clen("validate", path, "-e", "analysis_result", "--delimiter", ";", "--decimal", ",",
                 "--encoding", "cp1252", "--json")  # fmt: skip
    assert json.loads(given.stdout)["entities"]["analysis_result"]["options"]["delimiter"] == ";"
    out = tmp_path / "out.parquet"
    converted = clen("convert", path, out, "-e", "analysis_result")
    assert converted.returncode == 0, converted.stderr
    assert "read as csv, ';'-separated, decimal comma, windows-1252" in converted.stdout
    back = list(clen_core.read(out, entity="analysis_result"))
    expected: list[Any] = REF.records("analysis_result")
    assert [r.value for r in back] == [r.value for r in expected]
    assert all(r.unit.endswith(" é") for r in back)
    wrong = clen("validate", path, "-e", "analysis_result", "--delimiter", ",")
    assert wrong.returncode == 2
