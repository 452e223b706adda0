"""The partitioned writer's files and memory: files of a target size, one file per folder
below it, row groups of full size, and rows waiting in memory bounded by a budget of bytes
(spilled to disk past it), whatever the number of folders."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from clen_core.cli import app
from clen_core.errors import ArgumentError
from clen_core.io import partitioned
from clen_core.io.partitioned import (
    DEFAULT_TARGET_FILE_SIZE,
    open_partitioned,
    parse_size,
    write_partitioned,
)
from clen_core.synth import generate_batches


def activities(n: int, seed: int = 0) -> pa.Table:
    return pa.Table.from_batches(list(generate_batches("activity", n, seed=seed)))


def data_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("part-*.parquet"))


def row_groups(file: Path) -> list[int]:
    meta = pq.ParquetFile(file).metadata
    return [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]


def ids(table: pa.Table) -> list[str]:
    return sorted(table.column("activity_id").to_pylist())


# --------------------------------------------------------------------------- sizes


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("1", 1),
        ("512", 512),
        ("128MB", 128 * 10**6),
        ("128 mb", 128 * 10**6),
        ("1GiB", 2**30),
        ("1.5KiB", 1536),
        ("64k", 64_000),
        ("2TB", 2 * 10**12),
        ("10B", 10),
    ],
)
def test_parse_size_reads_units(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("bad", ["", "MB", "12XB", "-5MB", "0", "0.2", "1e3", "1,5MB"])
def test_parse_size_refuses_what_is_no_size_naming_it(bad: str) -> None:
    with pytest.raises(ArgumentError, match="--target-file-size"):
        parse_size(bad, "--target-file-size")


def test_parse_size_refuses_a_non_positive_number_and_other_types() -> None:
    with pytest.raises(ArgumentError, match="at least 1 byte"):
        parse_size(0)
    with pytest.raises(ArgumentError, match="whole number"):
        parse_size(1.5)  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="whole number"):
        parse_size(True)


@given(st.integers(1, 2**50), st.sampled_from(["", "B", "kB", "KiB", "MB", "MiB", "GiB"]))
def test_parse_size_multiplies_by_the_unit(n: int, unit: str) -> None:
    factor = {"": 1, "B": 1, "kB": 1000, "KiB": 1024, "MB": 10**6, "MiB": 2**20, "GiB": 2**30}
    assert parse_size(f"{n}{unit}") == n * factor[unit]
    assert parse_size(f"{n} {unit.lower()}") == n * factor[unit]


# --------------------------------------------------------------------------- files


def test_a_folder_below_the_target_is_one_file_of_one_row_group(tmp_path: Path) -> None:
    table = activities(3000)
    target = tmp_path / "ds"
    write_partitioned(
        table.to_batches(max_chunksize=500), target, entity="activity", partition_by="country"
    )
    files = data_files(target)
    folders = Counter(f.parent for f in files)
    assert set(folders.values()) == {1}  # one file per folder
    assert len(folders) == len(set(table.column("country").to_pylist()))
    for f in files:
        assert len(row_groups(f)) == 1  # all its rows, gathered over the batches
    assert DEFAULT_TARGET_FILE_SIZE == 128 * 2**20


def test_files_reach_about_the_target_size(tmp_path: Path) -> None:
    table = activities(40_000)
    target = tmp_path / "ds"
    size = 200_000
    write_partitioned(
        table.to_batches(max_chunksize=4096), target, entity="activity", target_file_size=size
    )
    files = data_files(target)
    sizes = [f.stat().st_size for f in files]
    assert len(files) >= 3
    # Every file but the last is cut where its rows so far say the next row would pass
    # the target (rows compress unevenly: a few % either way); the rows then go on in the
    # next file. The footer, a few KB, comes on top.
    footer = max(pq.ParquetFile(f).metadata.serialized_size for f in files) + 8
    for s in sizes[:-1]:
        assert 0.9 * size <= s <= 1.05 * size + footer, sizes
    assert sizes[-1] <= 1.05 * size + footer
    back = open_partitioned(target).to_table()
    assert ids(back) == ids(table)
    # Rows are written in the order given, file after file.
    order = pa.concat_tables([pq.read_table(f, columns=["activity_id"]) for f in files])
    assert order.column(0).to_pylist() == table.column("activity_id").to_pylist()


def test_the_target_size_takes_units_and_max_rows_still_bounds_files(tmp_path: Path) -> None:
    table = activities(1000)
    target = tmp_path / "ds"
    write_partitioned(
        table.to_batches(), target, entity="activity", target_file_size="1GiB",
        max_rows_per_file=300,
    )  # fmt: skip
    assert sorted(pq.ParquetFile(f).metadata.num_rows for f in data_files(target)) == [
        100,
        300,
        300,
        300,
    ]
    with pytest.raises(ArgumentError, match="target_file_size 'huge'"):
        write_partitioned(table.to_batches(), tmp_path / "x", entity="activity",
                          target_file_size="huge")  # fmt: skip
    assert not (tmp_path / "x").exists()


def test_row_groups_are_full_but_for_the_last_of_a_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(partitioned, "_ROW_GROUP_ROWS", 1000)
    table = activities(7000)
    target = tmp_path / "ds"
    # Batches of 333 rows: a folder's rows gather over many batches into full groups.
    write_partitioned(table.to_batches(max_chunksize=333), target, entity="activity",
                      partition_by="kind")  # fmt: skip
    for f in data_files(target):
        groups = row_groups(f)
        assert all(g == 1000 for g in groups[:-1]), groups
        assert 0 < groups[-1] <= 1000


def test_cli_target_file_size(tmp_path: Path) -> None:
    src = tmp_path / "a.csv"
    runner = CliRunner()
    r = runner.invoke(app, ["generate", "activity", "20000", str(src), "--seed", "1"])
    assert r.exit_code == 0, r.output
    out = tmp_path / "out"
    r = runner.invoke(app, ["convert", str(src), str(out), "-e", "activity",
                            "--target-file-size", "100kB", "--quiet"])  # fmt: skip
    assert r.exit_code == 0, r.output
    files = data_files(out)
    assert len(files) >= 3
    assert all(f.stat().st_size < 105_000 + 20_000 for f in files)
    assert open_partitioned(out).count_rows() == 20000
    r = runner.invoke(app, ["convert", str(src), str(tmp_path / "bad"), "-e", "activity",
                            "--target-file-size", "12XB"])  # fmt: skip
    assert r.exit_code == 2
    assert "--target-file-size '12XB'" in r.output
    assert not (tmp_path / "bad").exists()


# --------------------------------------------------------------------------- memory


class _Recorder:
    """Stands for :class:`partitioned._Files`: records what would be written."""

    def __init__(self, schema: pa.Schema) -> None:
        self.schema = schema
        self.written: dict[str, list[pa.Table]] = {}
        self.groups: list[int] = []
        self.retired: list[str] = []

    def write(self, folder: str, table: pa.Table, row_group_rows: int) -> None:
        self.written.setdefault(folder, []).append(table)
        self.groups.append(row_group_rows)

    def retire(self, folder: str) -> None:
        self.retired.append(folder)


def _sorted_batches(n_folders: int, batches: int, rows: int) -> list[tuple[pa.Table, Any]]:
    """Batches as :func:`partitioned._split` gives them: sorted by folder, with groups."""
    out = []
    for b in range(batches):
        folder = pc.cast(pc.bit_wise_and(pa.array(range(b, b + rows)), n_folders - 1), pa.string())
        table = pa.table({"folder": folder, "n": pa.array(range(b * rows, (b + 1) * rows)),
                          "text": pa.array([f"row {i} " * 4 for i in range(rows)])})  # fmt: skip
        out.append(partitioned._split(table, ("folder",)))
    return out


def test_many_folders_do_not_make_it_hold_more_than_the_budget(tmp_path: Path) -> None:
    batches = _sorted_batches(n_folders=256, batches=40, rows=2000)
    batch_bytes = max(t.get_total_buffer_size() for t, _ in batches)
    budget = 3 * batch_bytes
    files = _Recorder(batches[0][0].schema)
    buffer = partitioned._Buffer(files, tmp_path, budget=budget, group_rows=10**6)  # type: ignore[arg-type]
    for table, groups in batches:
        buffer.add(table, groups)
        # Without spilling, every batch would stay alive (each folder waits for rows).
        assert buffer.held <= budget
    assert buffer.most <= budget + batch_bytes
    assert len(buffer.spills) >= 10
    assert files.written == {}  # nothing written before the end: no folder is full
    buffer.close()
    buffer.discard()
    assert list(tmp_path.iterdir()) == []  # spill files removed
    # Each folder once, as one table of all its rows, in the order given.
    assert len(files.written) == 256
    assert all(len(ts) == 1 for ts in files.written.values())
    everything = pa.concat_tables([ts[0] for ts in files.written.values()])
    assert sorted(everything.column("n").to_pylist()) == list(range(40 * 2000))
    for folder, (t,) in files.written.items():
        ns = t.column("n").to_pylist()
        assert ns == sorted(ns)
        assert {f"folder={v}" for v in t.column("folder").to_pylist()} == {folder}
    assert sorted(files.retired) == sorted(files.written)


def test_a_full_folder_is_written_at_once_in_full_row_groups(tmp_path: Path) -> None:
    batches = _sorted_batches(n_folders=4, batches=10, rows=1000)
    files = _Recorder(batches[0][0].schema)
    buffer = partitioned._Buffer(files, tmp_path, budget=10**9, group_rows=600)  # type: ignore[arg-type]
    for table, groups in batches:
        buffer.add(table, groups)
    assert buffer.spills == []
    # 2,500 rows per folder: written 600 at a time as they come, the rest at the end.
    before = {f: sum(t.num_rows for t in ts) for f, ts in files.written.items()}
    assert set(before.values()) == {2400}
    assert all(g == 600 for g in files.groups)
    buffer.close()
    assert {f: sum(t.num_rows for t in ts) for f, ts in files.written.items()} == dict.fromkeys(
        before, 2500
    )
    assert buffer.held == 0


def test_a_real_write_with_a_small_budget_spills_and_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(partitioned, "_BUFFER_BYTES", 200_000)
    seen: list[partitioned._Buffer] = []
    real = partitioned._Buffer.__init__

    def init(self: partitioned._Buffer, *args: Any, **kwargs: Any) -> None:
        real(self, *args, **kwargs)
        seen.append(self)

    monkeypatch.setattr(partitioned._Buffer, "__init__", init)
    spills = []
    spill = partitioned._Buffer._spill

    def counted(self: partitioned._Buffer) -> None:
        spills.append(self.held)
        spill(self)

    monkeypatch.setattr(partitioned._Buffer, "_spill", counted)
    table = activities(6000)
    target = tmp_path / "ds"
    write_partitioned(table.to_batches(max_chunksize=500), target, entity="activity",
                      partition_by=("year", "country"))  # fmt: skip
    assert len(spills) >= 3
    assert seen[0].spills == []  # discarded at the end
    assert seen[0].most < 200_000 + 500 * 1000
    files = data_files(target)
    assert set(Counter(f.parent for f in files).values()) == {1}
    assert all(len(row_groups(f)) == 1 for f in files)
    assert not list(target.rglob(".*"))  # no spill file left
    back = open_partitioned(target).to_table()
    assert back.sort_by("activity_id").to_pylist() == table.sort_by("activity_id").to_pylist()
