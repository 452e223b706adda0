"""Reliability, round two (issue #22): each failure found by attack, held as a test.

The hostile inputs are made here, in temporary folders, with pyarrow directly (a list of
20 million items is a kilobyte of dictionary and run-length encoded Parquet). Where memory
is the point, ``clen`` runs in a subprocess under an address-space limit (``RLIMIT_AS``);
a disk that fills is a file-size limit (``RLIMIT_FSIZE``, the same write failure); Ctrl-C
is a real SIGINT. Each test names the case of the issue it holds.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import resource
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

import clen_core
import clen_core.limits
from clen_core.errors import ArgumentError, FormatError, InvalidObjectError
from clen_core.io import parquet
from clen_core.io.columnar import validate_batches
from clen_core.io.records import NON_FINITE, json_bytes, json_value
from clen_core.synth import generate_batches

MEMORY = 2 << 30
"""Address space of a ``clen`` subprocess given a hostile file (as tests/test_corpus.py)."""
SECONDS = 120


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def strict_json(text: str | bytes) -> Any:
    """The JSON ``text`` parsed as every JSON reader parses it: no NaN, UTF-8 only."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return json.loads(text, parse_constant=_no_constant)


def strict_lines(path: Path) -> list[Any]:
    return [strict_json(line) for line in path.read_bytes().decode("utf-8").splitlines()]


def run_clen(
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    limit: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``clen`` (through its launcher, as the console script runs it) in a subprocess."""
    return subprocess.run(
        [sys.executable, "-c", "from clen_core_launch import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=SECONDS,
        cwd=cwd,
        preexec_fn=limit,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        check=False,
    )


def _memory_limited() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    """The one line a failing ``clen`` prints (exit 2, no traceback, no native chatter)."""
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stderr.startswith("error: "), done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "internal error" not in done.stderr
    return done.stderr.strip()


def leftovers(folder: Path) -> list[str]:
    """Temporary files or folders of clen_core's writers anywhere under ``folder``."""
    return sorted(str(p) for p in folder.rglob("*") if "clen-tmp" in p.name or "clen-old" in p.name)


LAB = {"lab_id": ["L1"], "name": ["Lab"], "country": ["AT"]}


def lab_table(**columns: pa.Array | list[Any]) -> pa.Table:
    """A table of laboratories: one row, or as many rows as the columns given have."""
    n = max((len(c) for c in columns.values()), default=1)
    base = {k: [f"L{i}" for i in range(n)] if k == "lab_id" else v * n for k, v in LAB.items()}
    return pa.table({**base, **columns})


def long_list(n: int, item: str = "tobacco") -> pa.Array:
    """One list of ``n`` copies of ``item``, built without ``n`` Python objects."""
    indices = pa.repeat(pa.scalar(0, pa.int32()), n)
    values = pa.DictionaryArray.from_arrays(indices, pa.array([item]))
    return pa.ListArray.from_arrays(pa.array([0, n], pa.int32()), values)


# --------------------------------------------------------------------------- 1. nested values


def test_a_list_of_twenty_million_items_is_one_rejected_row_in_bounded_memory(
    tmp_path: Path,
) -> None:
    """#22 case 1: a 1.3 KB Parquet file whose row holds 20 million list items: the row
    is rejected naming file, row and field, under a 2 GiB address-space limit, quickly,
    and its rejects line is small (no 440 MB file)."""
    bomb = tmp_path / "bomb.parquet"
    pq.write_table(lab_table(expertise=long_list(20_000_000)), bomb, compression="zstd")
    assert bomb.stat().st_size < 4096
    out, rejects = tmp_path / "o.jsonl", tmp_path / "rejects.jsonl"
    started = time.monotonic()
    done = run_clen("convert", str(bomb), str(out), "-e", "laboratory", "--rejects",
                    str(rejects), limit=_memory_limited)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 30
    assert "1 read, 0 written, 1 rejected" in done.stdout
    assert rejects.stat().st_size < 4096
    (line,) = strict_lines(rejects)
    (error,) = line["errors"]
    assert (error["row"], error["field"]) == (1, "expertise")
    assert "20,000,000 items, more than 100,000 (max_items)" in error["reason"]
    # The rest of the row is kept whole; the long value as its first items and its size.
    assert line["record"]["lab_id"] == "L0"
    assert line["record"]["country"] == "AT"
    assert "(20,000,000 in all)" in line["record"]["expertise"]
    assert leftovers(tmp_path) == []


def test_a_row_group_that_must_hold_a_list_over_the_limit_is_refused_unread(
    tmp_path: Path,
) -> None:
    """#22 case 1, beyond what even reading may hold: a row group whose pages hold more
    items than max_items for each of its rows, and very many, is refused before reading."""
    bomb = tmp_path / "bomb.parquet"
    pq.write_table(lab_table(expertise=long_list(300_000)), bomb)
    with (
        clen_core.limits.override(max_items=1000),
        pytest.raises(FormatError, match="refused before any is read") as info,
    ):
        list(clen_core.read(bomb, entity="laboratory", on_reject="collect"))
    assert (info.value.row, info.value.field) == (1, "expertise")
    assert "300,000 items of expertise" in str(info.value)


def test_a_mapping_over_the_limit_is_rejected_from_its_length(tmp_path: Path) -> None:
    n = 5000
    keys = pa.array([f"k{i}" for i in range(n)])
    criteria = pa.MapArray.from_arrays(pa.array([0, n, n], pa.int32()), keys,
                                       pa.repeat(pa.scalar(True), n))  # fmt: skip
    path = tmp_path / "labs.parquet"
    pq.write_table(lab_table(participation_criteria=criteria), path)
    with clen_core.limits.override(max_items=100):
        for engine in ("columnar", "object"):
            reader = clen_core.read(path, entity="laboratory", on_reject="collect",
                                    engine=engine)  # fmt: skip
            assert [lab.lab_id for lab in reader] == ["L1"]
            (reject,) = reader.rejects
            assert (reject.row, reject.field) == (1, "participation_criteria")
            assert "a mapping of 5,000 entries, more than 100 (max_items)" in reject.reason


def test_a_json_document_never_holds_a_list_over_max_items(tmp_path: Path) -> None:
    """The JSON document reader stops building a value past max_items (one list or object),
    or past 16 × max_items values in one record: the rest is read and dropped, the row
    rejected naming the field; memory does not grow with the list."""
    records = [
        {"lab_id": "L1", "name": "a", "country": "AT"},
        {"lab_id": "L2", "name": "b", "country": "AT", "expertise": ["x"] * 150},
        {"lab_id": "L3", "name": "c", "country": "AT", **{f"f{i}": [1] * 90 for i in range(20)}},
        {"lab_id": "L4", "name": "d", "country": "AT"},
    ]
    path = tmp_path / "labs.json"
    path.write_text(json.dumps(records), "utf-8")
    with clen_core.limits.override(max_items=100):
        reader = clen_core.read(path, entity="laboratory", on_reject="collect")
        assert [lab.lab_id for lab in reader] == ["L1", "L4"]
    assert [(r.row, r.field) for r in reader.rejects] == [(2, "expertise"), (3, "f17")]
    assert "a list of more than 100 items (max_items)" in reader.rejects[0].reason
    assert "more than 1,600 values in all" in reader.rejects[1].reason


@pytest.mark.parametrize("suffix", [".csv", ".json", ".jsonl"])
def test_every_format_refuses_a_list_over_max_items(suffix: str, tmp_path: Path) -> None:
    path = tmp_path / f"labs{suffix}"
    rows = [
        {
            "lab_id": f"L{i}",
            "name": "Lab",
            "country": "AT",
            "expertise": [f"x{j}" for j in range(n)],
        }
        for i, n in enumerate((2, 6, 3))
    ]
    if suffix == ".csv":
        sink = io.StringIO()
        writer = csv.writer(sink, lineterminator="\n")
        writer.writerow(rows[0])
        writer.writerows([*[*r.values()][:3], json.dumps(r["expertise"])] for r in rows)
        path.write_text(sink.getvalue(), "utf-8")
    elif suffix == ".json":
        path.write_text(json.dumps(rows), "utf-8")
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    with clen_core.limits.override(max_items=5):
        reader = clen_core.read(path, entity="laboratory", on_reject="collect")
        assert [lab.lab_id for lab in reader] == ["L0", "L2"]
    (reject,) = reader.rejects
    assert (reject.row, reject.field) == (3 if suffix == ".csv" else 2, "expertise")
    counted = "more than 5 items" if suffix == ".json" else "6 items, more than 5"
    assert f"a list of {counted} (max_items)" in reject.reason


def test_long_lists_are_read_in_batches_of_bounded_items(tmp_path: Path) -> None:
    """Memory bounded by the batch and the limits: rows of long lists (each within
    max_items) come in batches of fewer rows, sized from the pages' counts."""
    rows, items = 64, 50_000
    indices = pa.repeat(pa.scalar(0, pa.int32()), rows * items)
    values = pa.DictionaryArray.from_arrays(indices, pa.array(["tobacco"]))
    offsets = pa.array(range(0, rows * items + 1, items), pa.int32())
    path = tmp_path / "labs.parquet"
    pq.write_table(lab_table(expertise=pa.ListArray.from_arrays(offsets, values)), path)
    info = clen_core.get_entity("laboratory")
    seen = 0
    with open(path, "rb") as source:
        for raw in parquet.read_batches(source, info, str(path)):
            assert raw.batch.num_rows * items <= parquet.READ_BATCH_ITEMS
            assert not raw.problems
            seen += raw.batch.num_rows
    assert seen == rows


def test_a_dictionary_that_expands_to_gigabytes_is_read_in_bounded_memory(
    tmp_path: Path,
) -> None:
    """A 30 KB Parquet file whose 2,000 rows point to one 1.5 MiB dictionary entry (3 GB
    once expanded, which Arrow did at once): each row is rejected naming the field, the
    text kept as its start and size, under a 2 GiB address-space limit."""
    n = 2000
    indices = pa.repeat(pa.scalar(0, pa.int32()), n)
    names = pa.DictionaryArray.from_arrays(indices, pa.array(["x" * (3 << 19)]))
    path, out, rejects = tmp_path / "b.parquet", tmp_path / "o.jsonl", tmp_path / "r.jsonl"
    table = lab_table(lab_id=[f"L{i}" for i in range(n)], name=names)
    pq.write_table(table, path, compression="zstd")
    assert path.stat().st_size < 50_000
    done = run_clen("convert", str(path), str(out), "-e", "laboratory", "--rejects",
                    str(rejects), limit=_memory_limited)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"{n:,} read, 0 written, {n:,} rejected" in done.stdout
    lines = strict_lines(rejects)
    assert len(lines) == n
    assert lines[0]["errors"][0]["field"] == "name"
    assert (
        "a text of 1,572,864 bytes, more than 1,048,576 (max_field_bytes)"
        in (lines[0]["errors"][0]["reason"])
    )
    assert lines[0]["record"]["name"].endswith("… (1,572,864 bytes in all)")
    assert rejects.stat().st_size < 5_000_000


def test_a_page_that_decompresses_too_far_is_refused_unread(tmp_path: Path) -> None:
    """A few kilobytes of zstd holding one huge plain page: refused from its header."""
    path = tmp_path / "b.parquet"
    pq.write_table(lab_table(name=["x" * (5 << 20)]), path, use_dictionary=False,
                   compression="zstd")  # fmt: skip
    assert path.stat().st_size < 10_000
    with (
        clen_core.limits.override(max_field_bytes=65536),
        pytest.raises(FormatError, match=r"decompresses to 5,242,[0-9]{3} bytes") as info,
    ):
        list(clen_core.read(path, entity="laboratory", on_reject="collect"))
    assert (info.value.row, info.value.field) == (1, "name")


def test_rejects_kept_in_memory_hold_long_values_cut(tmp_path: Path) -> None:
    """What is kept in memory (up to max_findings rejects) is bounded whatever the rows
    hold; the rejects file has every value whole, in the row's record."""
    path, rejects = tmp_path / "labs.parquet", tmp_path / "r.jsonl"
    pq.write_table(lab_table(name=["y" * 500_000]), path)
    reader = clen_core.read(path, entity="laboratory", on_reject="collect", rejects=rejects)
    assert list(reader) == []
    (reject,) = reader.rejects
    assert reject.value.endswith("… (500,000 characters)")
    assert len(reject.value) < 1100
    assert strict_lines(rejects)[0]["record"]["name"] == "y" * 500_000


def test_the_columnar_check_refuses_a_long_list_before_making_its_items_objects() -> None:
    """The same limit in validate_batches (Spark, Dask): the length is checked in Arrow."""
    batch = pa.RecordBatch.from_pydict(
        {"lab_id": ["L1", "L2"], "name": ["a", "b"], "country": ["AT", "AT"],
         "expertise": long_list(1_000_000).take(pa.array([0, 0]))}
    )  # fmt: skip
    with clen_core.limits.override(max_items=10):
        (checked,) = validate_batches("laboratory", [batch])
    assert checked.valid.num_rows == 0
    assert (
        checked.rejects.column("reason").to_pylist()
        == ["a list of 1,000,000 items, more than 10 (max_items)"] * 2
    )


# --------------------------------------------------------------------------- 2. rejects


MIXED_CSV = "lab_id,name,country\nL1,A,AT\nL2,B,XX\nL3,C,FR\n"


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """A CSV of three laboratories, the second one rejected (an unknown country)."""
    path = tmp_path / "m.csv"
    path.write_text(MIXED_CSV, "utf-8")
    return path


def test_rejects_naming_the_destination_are_refused_up_front(mixed: Path) -> None:
    """#22 case 2: ``--rejects out.jsonl`` with ``out.jsonl`` the destination."""
    out = mixed.parent / "out.jsonl"
    line = one_error_line(run_clen("convert", str(mixed), str(out), "-e", "laboratory",
                                   "--rejects", str(out)))  # fmt: skip
    assert "the rejects file is the same file as the target" in line
    assert not out.exists()
    assert sorted(p.name for p in mixed.parent.iterdir()) == ["m.csv"]


def test_rejects_naming_the_source_never_overwrite_it(mixed: Path) -> None:
    """#22 case 2: ``--rejects`` naming the source, also through a symbolic or hard link."""
    (mixed.parent / "link.csv").symlink_to(mixed.name)
    os.link(mixed, mixed.parent / "hard.csv")
    for name in ("m.csv", "link.csv", "hard.csv", "./sub/../m.csv"):
        (mixed.parent / "sub").mkdir(exist_ok=True)
        done = run_clen("convert", str(mixed), str(mixed.parent / "o.jsonl"), "-e",
                        "laboratory", "--rejects", str(mixed.parent / name))  # fmt: skip
        assert "the rejects file is the same file as the source" in one_error_line(done)
        assert mixed.read_text("utf-8") == MIXED_CSV
    with pytest.raises(ArgumentError, match="same file as the source"):
        clen_core.read(mixed, entity="laboratory", rejects=mixed.parent / "link.csv")


def test_rejects_inside_the_dataset_appended_to_are_refused(mixed: Path) -> None:
    """#22 case 2: ``--append --rejects ds/rejects.jsonl`` lost the rejects with the old
    folder; now refused before anything is written, the dataset untouched."""
    ds = mixed.parent / "ds"
    clen_core.convert(mixed, ds, entity="laboratory", partition_by="country")
    before = sorted(p.relative_to(ds) for p in ds.rglob("*"))
    line = one_error_line(run_clen("convert", str(mixed), str(ds), "-e", "laboratory",
                                   "--append", "--rejects", str(ds / "rejects.jsonl")))  # fmt: skip
    assert "the rejects file lies inside the target" in line
    assert sorted(p.relative_to(ds) for p in ds.rglob("*")) == before
    assert leftovers(mixed.parent) == []


@pytest.mark.parametrize(
    "case",
    ["target is the source", "source inside the dataset", "report is the source",
     "report inside the folder"],
)  # fmt: skip
def test_paths_of_one_command_are_kept_apart(case: str, mixed: Path) -> None:
    ds = mixed.parent / "ds"
    clen_core.convert(mixed, ds, entity="laboratory", partition_by="country")
    part = next(ds.rglob("*.parquet"))
    args, fragment = {
        "target is the source": (["convert", str(mixed), str(mixed), "-e", "laboratory"],
                                 "the target is the same file as the source"),
        "source inside the dataset": (["convert", str(part), str(ds), "--append"],
                                      "the target contains the source"),
        "report is the source": (["validate", str(mixed), "-e", "laboratory", "--report",
                                  str(mixed)], "the report is the same file as the source"),
        "report inside the folder": (["validate", str(ds), "--report", str(ds / "r.json")],
                                     "the report lies inside the source"),
    }[case]  # fmt: skip
    assert fragment in one_error_line(run_clen(*args))
    assert mixed.read_text("utf-8") == MIXED_CSV
    assert not (ds / "r.json").exists()


def test_a_parquet_row_with_a_date_out_of_range_is_kept_whole_in_the_rejects(
    tmp_path: Path,
) -> None:
    """#22 case 2: the rejects line of a Parquet row with an out-of-range date32 held only
    the date's text; it holds the whole row now, so the row can be recovered."""
    good = next(iter(generate_batches("activity", 3))).to_pylist()
    start = pa.array([16000, 3_000_000, 16000], pa.int32()).cast(pa.date32())
    table = pa.Table.from_pylist(good, schema=clen_core.arrow_schema("activity"))
    table = table.set_column(table.schema.get_field_index("start"), "start", start)
    table = table.set_column(table.schema.get_field_index("end"), "end", start)
    path, rejects = tmp_path / "a.parquet", tmp_path / "r.jsonl"
    pq.write_table(table, path)
    for engine in ("columnar", "object"):
        reader = clen_core.read(path, entity="activity", on_reject="collect", rejects=rejects,
                                engine=engine)  # fmt: skip
        assert len(list(reader)) == 2
        (line,) = strict_lines(rejects)
        assert (line["row"], line["errors"][0]["field"]) == (2, "start")
        assert "also end: date out of range" in line["errors"][0]["reason"]
        record = line["record"]
        assert set(record) == set(table.schema.names)
        assert record["start"] == record["end"] == start.cast(pa.string())[1].as_py()
        assert {k: v for k, v in record.items() if k not in ("start", "end")} == {
            k: json_value(v) for k, v in good[1].items() if k not in ("start", "end")
        }


# --------------------------------------------------------------------------- 3, 4. datasets


def test_a_symlinked_dataset_is_appended_to_through_the_link(mixed: Path) -> None:
    """#22 case 3: the link is followed (as for single files): the real dataset gets the
    rows, the link stays a link, nothing is left behind, and a retry appends once more."""
    real, link = mixed.parent / "real", mixed.parent / "link"
    clen_core.convert(mixed, real, entity="laboratory", partition_by="country")
    link.symlink_to(real.name)
    for times in (2, 3):
        done = run_clen("convert", str(mixed), str(link), "-e", "laboratory", "--append",
                        "--on-duplicate-key", "keep", "--if-batch-exists", "append")  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert link.is_symlink()
        assert link.resolve() == real.resolve()
        assert clen_core.open_partitioned(real).count_rows() == 2 * times
        assert leftovers(mixed.parent) == []


def test_a_symlinked_file_is_replaced_through_the_link(mixed: Path) -> None:
    real, link = mixed.parent / "real.jsonl", mixed.parent / "link.jsonl"
    real.write_text("old", "utf-8")
    link.symlink_to(real.name)
    clen_core.convert(mixed, link, entity="laboratory")
    assert link.is_symlink()
    assert link.resolve() == real.resolve()
    assert len(list(clen_core.read(real, entity="laboratory"))) == 2


def test_a_symlink_inside_a_dataset_survives_an_append(mixed: Path) -> None:
    ds = mixed.parent / "ds"
    clen_core.convert(mixed, ds, entity="laboratory", partition_by="country")
    (ds / "notes").symlink_to("../m.csv")
    clen_core.convert(mixed, ds, entity="laboratory", append=True, on_duplicate_key="keep")
    assert (ds / "notes").is_symlink()
    assert (ds / "notes").read_text("utf-8") == MIXED_CSV


def test_appending_to_the_dot_from_inside_the_dataset(mixed: Path) -> None:
    """#22 case 4: ``--append`` to ``.`` from inside the dataset recursed into its own
    temporary folder; now the folder itself is appended to."""
    ds = mixed.parent / "ds"
    clen_core.convert(mixed, ds, entity="laboratory", partition_by="country")
    done = run_clen("convert", str(mixed), ".", "-e", "laboratory", "--append",
                    "--on-duplicate-key", "keep", cwd=ds)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert clen_core.open_partitioned(ds).count_rows() == 4
    assert leftovers(mixed.parent) == []
    assert all(len(p.relative_to(ds).parts) == 2 for p in ds.rglob("*.parquet"))


# --------------------------------------------------------------------------- 5. text


SURROGATE_NAMES = {
    "lone high": ("Lab \\ud800 one", None),
    "lone low": ("Lab \\udfff one", None),
    "two highs": ("Lab \\ud800\\ud800", None),
    "a pair": ("L\\ud83d\\ude00", "L\U0001f600"),
    "an escaped backslash": ("L\\\\ud800", "L\\ud800"),
}


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
@pytest.mark.parametrize("case", sorted(SURROGATE_NAMES))
def test_a_lone_surrogate_in_json_rejects_its_row_naming_the_field(
    case: str, suffix: str, tmp_path: Path
) -> None:
    """#22 case 5: a lone surrogate was written as "?" (exit 0), or failed the file with a
    codec error naming no row; a valid pair and an escaped backslash are read exactly."""
    escaped, exact = SURROGATE_NAMES[case]
    records = [f'{{"lab_id": "L{i}", "country": "AT", "name": "{name}"}}'
               for i, name in enumerate(["first", escaped, "last"])]  # fmt: skip
    path = tmp_path / f"labs{suffix}"
    text = "[" + ",\n".join(records) + "]" if suffix == ".json" else "\n".join(records) + "\n"
    path.write_text(text, "ascii")
    out, rejects = tmp_path / "out.json", tmp_path / "rejects.jsonl"
    done = run_clen("convert", str(path), str(out), "-e", "laboratory", "--rejects", str(rejects))
    assert done.returncode == 0, done.stderr
    names = [lab.name for lab in clen_core.read(out, entity="laboratory")]
    if exact is None:
        assert names == ["first", "last"]
        (line,) = strict_lines(rejects)
        assert (line["row"], line["errors"][0]["field"]) == (2, "name")
        assert "lone surrogate" in line["errors"][0]["reason"]
        # Written back as the escape it was read from: the text of the file, exactly.
        assert line["record"]["name"] == json.loads(f'"{escaped}"')
        assert escaped.encode() in rejects.read_bytes()
        report = tmp_path / "report.json"
        done = run_clen("validate", str(path), "-e", "laboratory", "--report", str(report),
                        "--json")  # fmt: skip
        assert done.returncode == 1, done.stderr
        for document in (report.read_bytes(), done.stdout.encode()):
            assert strict_json(document)["rejected"] == {"laboratory": 1}
    else:
        assert names == ["first", exact, "last"]
        assert not rejects.exists() or rejects.read_text("utf-8") == ""


CODE_POINTS = st.one_of(
    st.integers(0x20, 0x7E), st.integers(0xD800, 0xDFFF), st.integers(0xA0, 0x2FFFF)
)


@given(names=st.lists(st.lists(CODE_POINTS, max_size=12).map(lambda c: "".join(map(chr, c))),
                      min_size=1, max_size=6))  # fmt: skip
def test_json_text_is_kept_exactly_or_its_row_rejected_naming_the_field(
    names: list[str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Every text value is read as JSON says it (a pair of surrogate escapes is one
    character), or its row is rejected naming the field: never changed silently."""
    folder = tmp_path_factory.mktemp("text")
    records = [{"lab_id": f"L{i}", "country": "AT", "name": n} for i, n in enumerate(names)]
    as_json = [json.dumps(r) for r in records]  # ASCII: every surrogate as its escape
    (folder / "a.json").write_text("[" + ",".join(as_json) + "]", "ascii")
    (folder / "a.jsonl").write_text("\n".join(as_json) + "\n", "ascii")
    expected = [json.loads(t)["name"] for t in as_json]
    for name in ("a.json", "a.jsonl"):
        reader = clen_core.read(folder / name, entity="laboratory", on_reject="collect")
        got = {lab.lab_id: lab.name for lab in reader}
        rejected = {r.row: r.field for r in reader.rejects}
        for i, text in enumerate(expected):
            if f"L{i}" in got:
                assert got[f"L{i}"] == text
            else:
                assert rejected[i + 1] == "name"
                assert any(0xD800 <= ord(c) <= 0xDFFF for c in text) or not text


def _invalid_utf8(values: list[bytes]) -> pa.Array:
    return pa.array(values, pa.binary()).view(pa.string())


def test_invalid_utf8_in_parquet_rejects_the_row_naming_the_field(tmp_path: Path) -> None:
    """#22 case 5: invalid UTF-8 in a Parquet string failed the whole file with a codec
    error; now one row is rejected per bad value, naming the field, in text, lists, maps."""
    table = lab_table(
        lab_id=["L1", "L2", "L3", "L4"],
        name=_invalid_utf8([b"ok", b"Bad\xff name", b"ok", b"ok"]),
        expertise=pa.ListArray.from_arrays([0, 0, 0, 1, 1], _invalid_utf8([b"x\xfey"])),
        participation_criteria=pa.MapArray.from_arrays(
            [0, 0, 0, 0, 1], _invalid_utf8([b"k\xc3"]), pa.array([True])
        ),
    )
    path, rejects = tmp_path / "labs.parquet", tmp_path / "r.jsonl"
    pq.write_table(table, path)
    for engine in ("columnar", "object"):
        reader = clen_core.read(path, entity="laboratory", on_reject="collect", rejects=rejects,
                                engine=engine)  # fmt: skip
        assert [lab.lab_id for lab in reader] == ["L1"]
        assert [(r.row, r.field) for r in reader.rejects] == [
            (2, "name"), (3, "expertise"), (4, "participation_criteria")
        ]  # fmt: skip
        assert all("not valid UTF-8" in r.reason for r in reader.rejects)
        lines = strict_lines(rejects)
        assert lines[0]["record"]["name"] == "Bad\\xff name"  # the bytes, shown as escapes
        assert lines[1]["record"]["expertise"] == ["x\\xfey"]
        assert lines[2]["record"]["participation_criteria"] == {"k\\xc3": True}


def test_a_parquet_map_with_a_key_twice_is_rejected_and_kept_whole(tmp_path: Path) -> None:
    """#22 case 5: the last value of a repeated key was kept silently (the JSON and CSV
    readers reject a repeated key); now the row is rejected, both pairs in the rejects."""
    criteria = pa.MapArray.from_arrays([0, 1, 3], pa.array(["a", "k", "k"]),
                                       pa.array([True, True, False]))  # fmt: skip
    path, rejects = tmp_path / "labs.parquet", tmp_path / "r.jsonl"
    pq.write_table(lab_table(lab_id=["L1", "L2"], participation_criteria=criteria), path)
    for engine in ("columnar", "object"):
        reader = clen_core.read(path, entity="laboratory", on_reject="collect", rejects=rejects,
                                engine=engine)  # fmt: skip
        assert [lab.lab_id for lab in reader] == ["L1"]
        (reject,) = reader.rejects
        assert (reject.row, reject.field, reject.reason) == (
            2, "participation_criteria", "key 'k' appears twice"
        )  # fmt: skip
        (line,) = strict_lines(rejects)
        assert line["record"]["participation_criteria"] == [["k", True], ["k", False]]


# --------------------------------------------------------------------------- 6. numbers


BIG = "9" * 401
RESULT = {"sample_id": "s", "method_id": "m", "analyte": "a", "unit": "mg/kg"}


@pytest.mark.parametrize("suffix", [".csv", ".json", ".jsonl"])
def test_a_401_digit_number_in_a_float_field_rejects_that_row(suffix: str, tmp_path: Path) -> None:
    """#22 case 6: ``internal error (OverflowError)`` for the whole file before."""
    path = tmp_path / f"results{suffix}"
    values = ["1.5", BIG, "1e400", "2"]
    if suffix == ".csv":
        path.write_text("result_id,sample_id,method_id,analyte,value,unit\n" + "".join(
            f"r{i},s,m,a,{v},mg/kg\n" for i, v in enumerate(values)), "utf-8")  # fmt: skip
    else:
        records = [json.dumps({"result_id": f"r{i}", **RESULT}).replace("}", f', "value": {v}}}')
                   for i, v in enumerate(values)]  # fmt: skip
        text = "[" + ",".join(records) + "]" if suffix == ".json" else "\n".join(records)
        path.write_text(text, "utf-8")
    header = 1 if suffix == ".csv" else 0
    engines = ("columnar", "object") if suffix == ".csv" else ("columnar",)
    for engine in engines:
        reader = clen_core.read(path, entity="analysis_result", on_reject="collect",
                                engine=engine)  # type: ignore[arg-type]  # fmt: skip
        assert [r.value for r in reader] == [1.5, 2.0]
        assert [(r.row, r.field) for r in reader.rejects] == [
            (2 + header, "value"), (3 + header, "value")
        ]  # fmt: skip
        assert all("too large for a float" in r.reason for r in reader.rejects)
    done = run_clen("convert", str(path), str(tmp_path / "o.parquet"), "-e", "analysis_result")
    assert done.returncode == 0, done.stderr
    assert "4 read, 2 written, 2 rejected" in done.stdout


def test_an_int_too_large_for_a_float_field_is_an_invalid_object() -> None:
    """#22 case 6: ``AnalysisResult(value=10**400, ...)`` raised OverflowError."""
    with pytest.raises(InvalidObjectError) as info:
        clen_core.AnalysisResult(result_id="r", value=10**400, **RESULT)  # type: ignore[arg-type]
    assert [e.field for e in info.value.errors] == ["value"]
    assert "too large for a float" in info.value.errors[0].reason


def test_nan_and_infinities_are_written_as_valid_json(tmp_path: Path) -> None:
    """#22 case 6: NaN and ±inf went into the rejects, --report and --json as NaN and
    -Infinity, which is not JSON; now as the strings "NaN", "Infinity", "-Infinity"."""
    values = [float("nan"), float("inf"), float("-inf"), 1.0]
    table = pa.table({"result_id": [f"r{i}" for i in range(4)],
                      **{k: [v] * 4 for k, v in RESULT.items()}, "value": values})  # fmt: skip
    path, rejects, report = tmp_path / "r.parquet", tmp_path / "rj.jsonl", tmp_path / "rep.json"
    pq.write_table(table, path)
    done = run_clen("convert", str(path), str(tmp_path / "o.jsonl"), "-e", "analysis_result",
                    "--rejects", str(rejects), "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    shown = [r["value"] for r in strict_json(done.stdout)["rejects"]]
    assert shown == ["NaN", "Infinity", "-Infinity"] == list(NON_FINITE.values())
    assert [line["record"]["value"] for line in strict_lines(rejects)] == shown
    done = run_clen("validate", str(path), "-e", "analysis_result", "--report", str(report),
                    "--json")  # fmt: skip
    assert done.returncode == 1, done.stderr
    for document in (strict_json(report.read_bytes()), strict_json(done.stdout)):
        assert [f["value"] for f in document["findings"] if f["rule"] == "READ-001"] == shown


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats()
    | st.lists(CODE_POINTS, max_size=8).map(lambda c: "".join(map(chr, c))),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner,
                                                                 max_size=4),
    max_leaves=12,
)  # fmt: skip


def _expected(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return NON_FINITE[repr(value)]
    if isinstance(value, str):  # a high and a low surrogate side by side: one character
        return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    if isinstance(value, list):
        return [_expected(v) for v in value]
    if isinstance(value, dict):
        return {k: _expected(v) for k, v in value.items()}
    return value


@given(JSONISH)
def test_json_output_is_valid_json_that_reads_back_the_same(value: Any) -> None:
    """What the rejects, reports and --json are written with: strict UTF-8 JSON on one
    line, lone surrogates kept as their escapes, non-finite numbers as text."""
    text = json_bytes(value)
    assert b"\n" not in text
    assert b"\xc2\x85" not in text
    assert b"\xe2\x80\xa8" not in text
    assert strict_json(text) == _expected(value)


# Values as rejected records read from Parquet hold them: dates, decimals, tuples beside
# JSON's own kinds.
RECORDISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5)
    | st.dates() | st.datetimes() | st.decimals(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=10,
)  # fmt: skip


@given(RECORDISH)
def test_json_output_of_dates_and_decimals_is_that_of_their_json_ready_form(value: Any) -> None:
    # json_bytes writes dates and decimals in its one json.dumps pass; json_value is what
    # defines their form.
    assert json_bytes(value) == json_bytes(json_value(value))


# --------------------------------------------------------------------------- 7. footers


def _varint(data: bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        b = data[i]
        i += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return result, i


def _encode_varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _read(data: bytes, i: int, kind: int) -> tuple[Any, int]:
    """One Thrift compact value (enough of the protocol for a Parquet footer)."""
    if kind in (1, 2):
        return kind == 1, i
    if kind == 3:
        return data[i], i + 1
    if kind in (4, 5, 6):
        n, i = _varint(data, i)
        return (n >> 1) ^ -(n & 1), i
    if kind == 7:
        return data[i : i + 8], i + 8
    if kind == 8:
        n, i = _varint(data, i)
        return data[i : i + n], i + n
    if kind in (9, 10):
        head = data[i]
        i += 1
        n, item = head >> 4, head & 0x0F
        if n == 15:
            n, i = _varint(data, i)
        items = []
        for _ in range(n):
            if item in (1, 2):
                items.append(data[i] == 1)
                i += 1
            else:
                v, i = _read(data, i, item)
                items.append(v)
        return ("list", item, items), i
    assert kind == 12
    fields: dict[int, tuple[int, Any]] = {}
    last = 0
    while data[i]:
        head = data[i]
        i += 1
        kind, delta = head & 0x0F, head >> 4
        if delta:
            fid = last + delta
        else:
            n, i = _varint(data, i)
            fid = (n >> 1) ^ -(n & 1)
        last = fid
        v, i = _read(data, i, kind)
        fields[fid] = (kind, v)
    return ("struct", fields), i + 1


def _write(kind: int, value: Any) -> bytes:
    if kind in (1, 2):
        return b""
    if kind == 3:
        return bytes([value])
    if kind in (4, 5, 6):
        return _encode_varint((value << 1) ^ (value >> 63))
    if kind == 7:
        return bytes(value)
    if kind == 8:
        return _encode_varint(len(value)) + bytes(value)
    if kind in (9, 10):
        _, item, items = value
        n = len(items)
        out = bytes([(n << 4) | item]) if n < 15 else bytes([0xF0 | item]) + _encode_varint(n)
        for x in items:
            out += bytes([1 if x else 2]) if item in (1, 2) else _write(item, x)
        return out
    out, last = b"", 0
    for fid in sorted(value[1]):
        kind, v = value[1][fid]
        if kind in (1, 2):
            kind = 1 if v else 2
        delta = fid - last
        out += bytes([(delta << 4) | kind]) if 0 < delta <= 15 else bytes([kind]) + _write(4, fid)
        last = fid
        out += _write(kind, v)
    return out + b"\x00"


def forge_footer(data: bytes, *, file_rows: int | None = None, group_rows: int | None = None,
                 values: int | None = None) -> bytes:  # fmt: skip
    """The Parquet file ``data`` with its footer's row counts (and the columns' value
    counts) replaced: the pages stay as they are."""
    (size,) = struct.unpack("<I", data[-8:-4])
    body = data[: -8 - size]
    meta, _ = _read(data[-8 - size : -8], 0, 12)
    if file_rows is not None:
        meta[1][3] = (6, file_rows)
    group = meta[1][4][1][2][0]
    if group_rows is not None:
        group[1][3] = (6, group_rows)
    if values is not None:
        for column in group[1][1][1][2]:
            column[1][3][1][1][5] = (6, values)
    footer = _write(12, meta)
    return body + footer + struct.pack("<I", len(footer)) + b"PAR1"


@pytest.fixture
def ten_labs() -> bytes:
    return TEN_LABS


def test_the_footer_forger_changes_only_what_it_is_told(ten_labs: bytes) -> None:
    assert forge_footer(ten_labs) == ten_labs
    assert pq.read_metadata(pa.BufferReader(forge_footer(ten_labs, group_rows=5))).num_rows == 10


@pytest.mark.parametrize(
    "lie",
    [{"group_rows": 5}, {"group_rows": 5, "file_rows": 5},
     {"group_rows": 5, "file_rows": 5, "values": 5}, {"file_rows": 5}, {"file_rows": 10**12},
     {"group_rows": 10**12, "file_rows": 10**12}, {"group_rows": 20, "file_rows": 20}],
    ids=lambda lie: ",".join(f"{k}={v}" for k, v in lie.items()),
)  # fmt: skip
def test_counts_come_from_the_pages_and_a_lying_footer_is_an_error(
    lie: dict[str, int], ten_labs: bytes, tmp_path: Path
) -> None:
    """#22 case 7: a footer claiming 5 rows over 10 gave "5 read", exit 0 (rows lost), and
    one claiming 10**12 made count_rows() say 10**12; now an error naming the file."""
    path = tmp_path / "ds" / "labs.parquet"
    path.parent.mkdir()
    path.write_bytes(forge_footer(ten_labs, **lie))
    with pytest.raises(FormatError, match="damaged or forged") as info:
        list(clen_core.read(path, entity="laboratory"))
    assert info.value.path == str(path)
    with pytest.raises(FormatError, match="damaged or forged"):
        parquet.count_rows(path)
    with pytest.raises(FormatError, match="damaged or forged"):
        clen_core.open_partitioned(path.parent, entity="laboratory").count_rows()
    done = run_clen("convert", str(path), str(tmp_path / "o.jsonl"), "-e", "laboratory")
    assert str(path) in one_error_line(done)
    assert not (tmp_path / "o.jsonl").exists()


def _ten_labs() -> bytes:
    sink = io.BytesIO()
    pq.write_table(lab_table(lab_id=[f"L{i}" for i in range(10)]), sink)
    return sink.getvalue()


TEN_LABS = _ten_labs()


def _read_all(path: Path) -> None:
    list(clen_core.read(path, entity="laboratory", on_reject="collect"))


@given(garbage=st.binary(min_size=1, max_size=16), at=st.integers(0, len(TEN_LABS) - 1))
def test_damaged_bytes_anywhere_are_a_format_error_never_worse(
    garbage: bytes, at: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Page headers, pages and the footer are read before the rows, by clen_core's own
    Thrift reader (pyarrow's metadata objects end the process on some damaged footers,
    its reader hands over dictionary indices past the dictionary): whatever bytes stand
    anywhere, reading and counting give rows or a FormatError naming the file."""
    data = TEN_LABS[:at] + garbage + TEN_LABS[at + len(garbage) :]
    path = tmp_path_factory.mktemp("pages") / "labs.parquet"
    path.write_bytes(data[: len(TEN_LABS)])
    for attempt in (parquet.count_rows, _read_all):
        failed: list[FormatError] = []
        try:
            attempt(path)
        except FormatError as exc:
            failed.append(exc)
        assert all(exc.path == str(path) for exc in failed)


def test_an_honest_footer_counts_the_rows_read(ten_labs: bytes, tmp_path: Path) -> None:
    path = tmp_path / "labs.parquet"
    path.write_bytes(forge_footer(ten_labs, values=10**12))  # not a count of rows
    assert parquet.count_rows(path) == 10 == len(list(clen_core.read(path, entity="laboratory")))


# --------------------------------------------------------------------------- 8. names, messages


@pytest.mark.parametrize("char", ["\x85", "\x9b", "\u2028"])
def test_c1_controls_never_name_a_partition_folder(char: str, tmp_path: Path) -> None:
    """#22 case 8: U+0085 and U+009B passed into folder names; refused now, naming the
    source file, row and field (clen convert) or the rows given (write_partitioned)."""
    path = tmp_path / "labs.csv"
    path.write_text(f"lab_id,name,country,city\nL1,A,AT,Wien\nL2,B,AT,Gr{char}az\n", "utf-8")
    target = tmp_path / "ds"
    line = one_error_line(run_clen("convert", str(path), str(target), "-e", "laboratory",
                                   "--partition-by", "city"))  # fmt: skip
    assert line.startswith(f"error: {path}, row 3, field city: partition value")
    labs = list(clen_core.read(path, entity="laboratory"))
    with pytest.raises(FormatError, match="cannot name a folder") as info:
        clen_core.write_partitioned(labs, target, entity="laboratory", partition_by="city")
    assert (info.value.path, info.value.row, info.value.field) == (str(target), 2, "city")
    assert not target.exists()
    assert leftovers(tmp_path) == []


def _small_disk() -> None:  # pragma: no cover - runs in the child
    # A file-size limit fails a write as a full disk does (EFBIG instead of ENOSPC).
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (300_000, 300_000))


@pytest.fixture(scope="module")
def activities(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("src") / "activities.parquet"
    pq.write_table(pa.Table.from_batches(list(generate_batches("activity", 100_000))), path)
    return path


@pytest.mark.parametrize("target", ["out.parquet", "out.jsonl", "ds"])
def test_a_full_disk_is_one_line_naming_the_file_and_the_rows(
    target: str, activities: Path, tmp_path: Path
) -> None:
    """#22 case 8: a full disk printed a second line from Arrow's C++ layer, and named
    neither the file nor the row; now one line, the target and the source's rows."""
    out = tmp_path / target
    more = ["--max-rows-per-file", "1000000"] if target == "ds" else []
    line = one_error_line(run_clen("convert", str(activities), str(out), "-e", "activity",
                                   *more, limit=_small_disk))  # fmt: skip
    assert line.startswith(f"error: {out}: File too large (writing the rows read from ")
    assert "up to row " in line
    assert not out.exists()
    assert leftovers(tmp_path) == []


def test_an_error_listing_ten_thousand_columns_stays_short(tmp_path: Path) -> None:
    """#22 case 8: an error listing 10,000 column names was 89 KB long."""
    path = tmp_path / "wide.parquet"
    pq.write_table(lab_table(**{f"extra_{i}": [1] for i in range(10_000)}), path)
    with pytest.raises(FormatError) as info:
        list(clen_core.read(path, entity="laboratory"))
    assert len(str(info.value)) < 2000
    assert "and 9,980 more" in str(info.value)
    line = one_error_line(run_clen("convert", str(path), str(tmp_path / "o.jsonl"), "-e",
                                   "laboratory"))  # fmt: skip
    assert len(line) < 2100


def test_what_a_file_holds_never_acts_on_the_terminal(tmp_path: Path) -> None:
    """Control characters of a file (ESC, CSI U+009B, line breaks) in an error or a
    reject shown on stderr are escaped: one line each, nothing a terminal acts on."""
    path = tmp_path / "labs.jsonl"
    record = {"lab_id": "L1", "country": "AT", "name": "n", "x\x1b[2J\x9b31m\n": 1}
    path.write_text(json.dumps(record) + "\n", "utf-8")
    done = run_clen("convert", str(path), str(tmp_path / "o.jsonl"), "-e", "laboratory")
    assert done.returncode == 0, done.stderr
    assert "\\x1b[2J\\x9b31m\\n" in done.stderr
    assert not set(done.stderr) & {"\x1b", "\x9b"}
    assert done.stderr.count("\n") == 1


CHILD = """
import os, sys
from clen_core_launch import main
os.write(2, b"ready\\n")
main()
"""


def interrupted(args: list[str], delay: float, cwd: Path) -> tuple[int, str]:
    """Run ``clen args`` through its launcher, SIGINT it ``delay`` seconds after the
    launcher started (before clen_core is imported: start-up is covered)."""
    with subprocess.Popen([sys.executable, "-c", CHILD, *args], cwd=cwd,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as child:  # fmt: skip
        assert child.stderr is not None
        assert child.stderr.readline() == b"ready\n"
        time.sleep(delay)
        child.send_signal(signal.SIGINT)
        rest = child.stderr.read().decode("utf-8", "replace")
        return child.wait(timeout=SECONDS), rest


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.2, 0.5, 1.0])
def test_ctrl_c_at_any_moment_exits_130_quietly(
    delay: float, activities: Path, tmp_path: Path
) -> None:
    """#22 case 8: Ctrl-C during start-up printed a KeyboardInterrupt traceback. At any
    moment now: exit code 130, nothing on stderr, no temporary file left, and the target
    is either absent or complete."""
    ds = tmp_path / "ds"
    code, stderr = interrupted(["convert", str(activities), str(ds), "-e", "activity",
                                "--partition-by", "year", "--rejects", "r.jsonl"],
                               delay, tmp_path)  # fmt: skip
    assert (code, stderr) in ((130, ""), (0, "")), stderr
    assert leftovers(tmp_path) == []
    # Finished before the signal (or interrupted after the rename): complete; else absent.
    if code == 0 or ds.exists():
        assert clen_core.open_partitioned(ds).count_rows() == 100_000
    # The rejects file is complete once the last row is read, before the target is
    # replaced: it may stand beside an unchanged target, never the other way round.
    rejects = tmp_path / "r.jsonl"
    assert ds.exists() <= rejects.exists()
    if rejects.exists():
        assert strict_lines(rejects) == []
