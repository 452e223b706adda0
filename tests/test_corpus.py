"""The bad-input corpus: every hostile file gives a clear error or exact rejects, never worse.

``tests/corpus/expected.json`` pairs each small file of ``tests/corpus`` with its
entity, format and exact outcome: either ``"error"`` (a :class:`FormatError`
whose message holds a fragment, and the row and field it must name) or
``"rejects"`` (rows read, and every rejected row with its field and a fragment
of its reason). Huge inputs (10 MB cells, 100,000 levels of nesting, rows larger
than the CSV block) are generated here at test time, not committed.

Each file goes through the Python API (both engines where there are two) and
through ``clen convert`` in a subprocess limited in time and memory: exit 0 with
the rejects written, or exit 2 with one line on stderr; never a traceback.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import clen_core
import clen_core.limits
from clen_core.errors import ClenError
from clen_core.io import Reader
from clen_core.io.formats import FormatError

CORPUS = Path(__file__).parent / "corpus"
EXPECTED: list[dict[str, Any]] = json.loads((CORPUS / "expected.json").read_text("utf-8"))
MEMORY = 2 << 30
"""Address space allowed to a ``clen`` subprocess reading a hostile file."""
SECONDS = 120
"""Wall-clock time allowed to it."""


def _engines(entry: dict[str, Any]) -> list[str]:
    suffix = Path(entry["file"]).suffix
    return ["columnar", "object"] if suffix in (".csv", ".parquet") else ["columnar"]


def _check(entry: dict[str, Any], path: Path, engine: str, tmp_path: Path) -> None:
    with clen_core.limits.override(**entry.get("limits", {})):
        _check_limited(entry, path, engine, tmp_path)


def _check_limited(entry: dict[str, Any], path: Path, engine: str, tmp_path: Path) -> None:
    rejects_file = tmp_path / f"rejects-{engine}.jsonl"

    def open_reader() -> Reader:
        return clen_core.read(
            path,
            entity=entry["entity"],
            format=entry["format"],
            on_reject="collect",
            rejects=rejects_file,
            engine=engine,  # type: ignore[arg-type]
        )

    if entry["outcome"] == "error":
        with pytest.raises(FormatError) as info:
            list(open_reader())
        error = info.value
        assert entry["message"] in str(error)
        assert str(path) in str(error)
        assert "\n" not in str(error)
        if entry["row"] is not None:
            assert error.row == entry["row"]
        if entry["field"] is not None:
            assert error.field == entry["field"]
        assert not rejects_file.exists()  # a failed read leaves no rejects file behind
        return
    reader = open_reader()
    objects = list(reader)
    expected = entry["rejects"]
    assert reader.read_rows == entry["read"]
    assert sorted({r.row for r in reader.rejects}) == sorted({e[0] for e in expected})
    assert reader.rejected == len({e[0] for e in expected})
    assert len(objects) == reader.accepted == entry["read"] - reader.rejected
    for row, field, fragment in expected:
        assert any(
            r.row == row and r.field == field and fragment in r.reason for r in reader.rejects
        ), (row, field, fragment, reader.rejects)
    lines = [json.loads(x) for x in rejects_file.read_text("utf-8").splitlines()]
    assert [x["row"] for x in lines] == sorted({e[0] for e in expected})
    for x in lines:
        assert x["errors"]
        assert all(e["reason"] for e in x["errors"])


@pytest.mark.parametrize("entry", EXPECTED, ids=[e["file"] for e in EXPECTED])
def test_corpus_file_through_the_api(entry: dict[str, Any], tmp_path: Path) -> None:
    for engine in _engines(entry):
        _check(entry, CORPUS / entry["file"], engine, tmp_path)


def test_the_corpus_covers_every_format_and_every_file_is_listed() -> None:
    listed = {e["file"] for e in EXPECTED}
    present = {str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*") if p.is_file()}
    assert present - {"expected.json"} == listed
    folders = {Path(f).parts[0] for f in listed}
    assert folders == {"csv", "json", "jsonl", "parquet", "listing", "partition"}
    assert {e["outcome"] for e in EXPECTED} == {"error", "rejects"}


# --------------------------------------------------------------------------- the CLI


def _limited() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def clen(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``clen`` in a subprocess with bounded memory and time."""
    return subprocess.run(
        [sys.executable, "-c", "from clen_core.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=SECONDS,
        preexec_fn=_limited,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        check=False,
    )


def _cli_check(entry: dict[str, Any], path: Path, tmp_path: Path) -> None:
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    args = ["convert", str(path), str(out), "-e", entry["entity"], "--rejects", str(rejects)]
    if entry["format"]:
        args += ["--from", entry["format"]]
    env = {f"CLEN_{k.upper()}": str(v) for k, v in entry.get("limits", {}).items()}
    done = clen(*args, env=env)
    assert "Traceback" not in done.stderr
    assert "internal error" not in done.stderr
    if entry["outcome"] == "error":
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith("error: ")
        assert done.stderr.count("\n") == 1
        assert entry["message"] in done.stderr
        assert not out.exists()
        assert not rejects.exists()
        return
    assert done.returncode == 0, done.stderr
    rows = {e[0] for e in entry["rejects"]}
    assert len(rejects.read_text("utf-8").splitlines()) == len(rows)
    written = clen_core.read(out, entity=entry["entity"])
    assert len(list(written)) == entry["read"] - len(rows)
    assert f"{entry['read']:,} read" in done.stdout


@pytest.mark.parametrize("entry", EXPECTED, ids=[e["file"] for e in EXPECTED])
def test_corpus_file_through_clen_convert(entry: dict[str, Any], tmp_path: Path) -> None:
    _cli_check(entry, CORPUS / entry["file"], tmp_path)


# --------------------------------------------------------------------------- huge inputs

HEADER = (
    "activity_id,action,kind,theme,title,city,country,start,end,participants,"
    "project_group_id,notes\n"
)
ROW = '"A-{n}",5,"workshop","{theme}",,"Vienna","AT",2016-03-03,2016-03-04,41,,\n'
RECORD = {
    "activity_id": "A-1",
    "action": 5,
    "kind": "workshop",
    "theme": "Gemmology",
    "city": "Vienna",
    "country": "AT",
    "start": "2016-03-03",
    "end": "2016-03-04",
}
TEN_MB = 10 * 1024 * 1024


def _json_with(value: str) -> bytes:
    return json.dumps(RECORD).encode().replace(b'"Gemmology"', value.encode())


def _huge_cases() -> dict[str, tuple[bytes, dict[str, Any]]]:
    """name: (content, expected entry); generated, not committed."""
    big = "x" * TEN_MB
    deep = "[" * 100_000 + "]" * 100_000
    good = ROW.format(n=1, theme="Gemmology")
    return {
        "ten-mb-cell.csv": (
            (HEADER + good + ROW.format(n=2, theme=big) + ROW.format(n=3, theme="G")).encode(),
            {"outcome": "error", "message": "a row longer than", "row": 3, "field": "theme"},
        ),
        "ten-mb-cell-with-a-higher-limit.csv": (
            (HEADER + good + ROW.format(n=2, theme=big) + ROW.format(n=3, theme="G")).encode(),
            {
                "outcome": "rejects",
                "read": 3,
                "rejects": [[3, "theme", "at most 200"]],
                "limits": {"max_field_bytes": 4 * TEN_MB},
            },
        ),
        "row-larger-than-two-blocks.csv": (
            (HEADER + good + ROW.format(n=2, theme="x" * (3 * TEN_MB))).encode(),
            {"outcome": "error", "message": "a row longer than", "row": 3, "field": "theme"},
        ),
        "ten-mb-unquoted-number.csv": (
            (HEADER + good.replace(",41,", "," + "9" * (3 * TEN_MB) + ",")).encode(),
            {"outcome": "error", "message": "a row longer than", "row": 2, "field": "participants"},
        ),
        "quote-never-closed.csv": (
            (HEADER + good + '"A-2,5\n' + "x,y\n" * TEN_MB).encode(),
            {"outcome": "error", "message": "quoted cell is never closed", "row": 3},
        ),
        "ten-mb-string.json": (
            b"[" + _json_with(json.dumps(big)) + b"]",
            {"outcome": "error", "message": "longer than 1,048,576 bytes", "row": 1},
        ),
        "ten-mb-white-space.json": (
            b"[" + b" " * TEN_MB + b"]",
            {"outcome": "error", "message": "run of white space longer than", "row": 1},
        ),
        "nested-100000.json": (
            deep.encode(),
            {"outcome": "error", "message": "nested more than 100 levels deep", "row": 1},
        ),
        "nested-100000-in-record.json": (
            b"[" + _json_with(deep) + b"]",
            {"outcome": "error", "message": "nested more than 100 levels deep", "row": 1},
        ),
        "ten-mb-line.jsonl": (
            _json_with(json.dumps(big)) + b"\n" + _json_with('"G"') + b"\n",
            {"outcome": "rejects", "read": 2, "rejects": [[1, None, "line longer than"]]},
        ),
        "nested-100000.jsonl": (
            deep.encode() + b"\n" + _json_with('"G"') + b"\n",
            {"outcome": "rejects", "read": 2, "rejects": [[1, None, "nested more than 100"]]},
        ),
        "ten-mb-line.txt": (
            b"Action 5 of the Customs Laboratories European Network\nPrecursors\n"
            b"Workshop\nVienna (AT), 3-4 March 2016\n" + b"x " * (TEN_MB // 2) + b"\n",
            {"outcome": "rejects", "read": 2, "rejects": [[5, None, "a line longer than"]]},
        ),
    }


HUGE = _huge_cases()


@pytest.fixture(scope="module")
def huge_files(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    folder = tmp_path_factory.mktemp("huge")

    def make(name: str) -> Path:
        path = folder / name
        if not path.exists():
            path.write_bytes(HUGE[name][0])
        return path

    return make


def _entry(name: str) -> dict[str, Any]:
    fmt = "listing" if name.endswith(".txt") else None
    return {"file": name, "entity": "activity", "format": fmt, "row": None, "field": None}


@pytest.mark.parametrize("name", sorted(HUGE))
def test_huge_input_through_the_api(
    name: str, huge_files: Callable[[str], Path], tmp_path: Path
) -> None:
    entry = _entry(name) | HUGE[name][1]
    for engine in _engines(entry):
        _check(entry, huge_files(name), engine, tmp_path)


@pytest.mark.parametrize("name", sorted(HUGE))
def test_huge_input_through_clen_convert_bounded(
    name: str, huge_files: Callable[[str], Path], tmp_path: Path
) -> None:
    _cli_check(_entry(name) | HUGE[name][1], huge_files(name), tmp_path)


def test_limits_change_what_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    record = _json_with('"' + "[" * 30 + '"')  # brackets in a string do not count
    path.write_bytes(record.replace(b'"city"', b'"x": [[[[[[]]]]]], "city"'))
    with clen_core.limits.override(max_nesting_depth=5):
        reader = clen_core.read(path, entity="activity", on_reject="collect")
        assert list(reader) == []
        assert "nested more than 5 levels" in reader.rejects[0].reason
    reader = clen_core.read(path, entity="activity", on_reject="collect")
    assert list(reader) == []
    assert reader.rejects[0].field == "x"  # read, then refused as an unknown field


def test_a_limit_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_bytes(b"[" + _json_with(json.dumps("x" * 1_000_000)) + b"]")
    assert clen("validate", str(path), "-e", "activity").returncode == 1  # rejected: too long
    done = clen("validate", str(path), "-e", "activity", env={"CLEN_MAX_FIELD_BYTES": "200000"})
    assert done.returncode == 2
    assert "longer than 200,000 bytes" in done.stderr


def test_limits_are_checked() -> None:
    with pytest.raises(ValueError, match="max_field_bytes must be a whole number"):
        clen_core.limits.Limits(max_field_bytes=0)
    assert isinstance(clen_core.limits.current(), clen_core.limits.Limits)
    assert issubclass(FormatError, ClenError)


# --------------------------------------------------------------------------- partition values

PARTITIONED = [e for e in EXPECTED if "partition_by" in e]


@pytest.mark.parametrize("entry", PARTITIONED, ids=[e["file"] for e in PARTITIONED])
def test_hostile_partition_values_never_name_a_folder(
    entry: dict[str, Any], tmp_path: Path
) -> None:
    source = CORPUS / entry["file"]
    work = tmp_path / "work"
    work.mkdir()
    target = work / "dataset"
    objects = list(clen_core.read(source, entity=entry["entity"]))
    with pytest.raises(FormatError, match=entry["partition_error"]):
        clen_core.write_partitioned(
            objects, target, entity=entry["entity"], partition_by=entry["partition_by"]
        )
    done = clen("convert", str(source), str(target), "-e", entry["entity"],
                "--partition-by", entry["partition_by"])  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: ")
    assert done.stderr.count("\n") == 1
    assert entry["partition_error"] in done.stderr
    assert not target.exists()
    # Nothing was written anywhere but (at most) the lock file beside the target.
    assert {p.name for p in work.iterdir()} <= {".dataset.clen-lock"}
    assert {p.name for p in tmp_path.iterdir()} == {"work"}
    assert not Path("/tmp/escaped").exists()  # the absolute value's folder


def test_max_findings_caps_what_is_kept_and_counts_go_on(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(HEADER + "".join(ROW.format(n=i, theme="") for i in range(50)), "utf-8")
    with clen_core.limits.override(max_findings=7):
        reader = clen_core.read(path, entity="activity", on_reject="collect")
        assert list(reader) == []
        assert len(reader.rejects) == 7
        assert reader.rejected == 50
        report = clen_core.validate({"activity": []})
        assert report.max_findings == 7
    assert clen_core.validate({"activity": []}).max_findings == 1000
