"""Partitioned Parquet datasets: layout, reading back, appending atomically, and the readers
(DuckDB, Polars, pyarrow) that must see the declared types."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

import clen_core
from clen_core.cli import app
from clen_core.io import partitioned as datasets
from clen_core.io.formats import FormatError
from clen_core.io.partitioned import (
    NULL_PARTITION,
    dataset_schema,
    main_date,
    open_partitioned,
    write_partitioned,
)
from clen_core.synth import generate_batches

KEYS = ("year", "country")


def activities(n: int, seed: int = 0) -> pa.Table:
    return pa.Table.from_batches(list(generate_batches("activity", n, seed=seed)))


def leftovers(folder: Path) -> list[str]:
    """Temporary siblings of a dataset folder (the lock file is not one)."""
    return sorted(
        p.name
        for p in folder.parent.iterdir()
        if p.name.startswith(f".{folder.name}.") and not p.name.endswith("clen-lock")
    )


def by_partition(table: pa.Table) -> Counter[tuple[int, str]]:
    years = pc.year(table.column("start")).to_pylist()
    return Counter(zip(years, table.column("country").to_pylist(), strict=True))


# --------------------------------------------------------------------------- layout


def test_main_date_is_the_first_required_date() -> None:
    assert main_date("activity") == "start"
    assert main_date("sample") == "received"
    assert main_date("laboratory") is None


def test_write_and_read_back_whole_and_by_partition(tmp_path: Path) -> None:
    table = activities(600)
    target = tmp_path / "ds"
    result = write_partitioned(
        table.to_batches(max_chunksize=128), target, entity="activity", partition_by=KEYS
    )
    assert result.rows == {"activity": 600}
    ds = open_partitioned(target)
    assert ds.entity.name == "activity"
    assert ds.partition_by == KEYS
    back = ds.to_table()
    assert back.schema.equals(clen_core.arrow_schema("activity"))
    assert sorted(back.column("activity_id").to_pylist()) == sorted(
        table.column("activity_id").to_pylist()
    )
    assert back.sort_by("activity_id").to_pylist() == table.sort_by("activity_id").to_pylist()
    # Every file sits in the folder of its rows' partition.
    expected = by_partition(table)
    for (year, country), n in list(expected.items())[:20]:
        folder = target / f"year={year}" / f"country={country}"
        assert folder.is_dir()
        assert ds.count_rows({"year": year, "country": country}) == n
    year, country = next(iter(expected))
    picked = ds.to_table({"year": year, "country": [country, "nowhere"]})
    assert by_partition(picked) == {(year, country): expected[(year, country)]}
    objects = list(ds.objects({"country": country}))
    assert {o.country for o in objects} == {country}
    assert len(objects) == sum(n for (_, c), n in expected.items() if c == country)


def test_partition_columns_stay_in_the_files_with_metadata(tmp_path: Path) -> None:
    target = tmp_path / "ds"
    write_partitioned(activities(50).to_batches(), target, entity="activity", partition_by=KEYS)
    file = next(target.rglob("*.parquet"))
    schema = pq.read_schema(file)
    assert schema.names == [*clen_core.arrow_schema("activity").names, "year"]
    assert schema.field("year").type == pa.int32()
    assert schema.field("country").type == pa.string()
    meta = schema.metadata
    assert meta[b"clen_core.entity"] == b"activity"
    assert meta[b"clen_core.partition_by"] == b"year,country"
    assert b"clen_core.schema_version" in meta
    assert pq.ParquetFile(file).metadata.row_group(0).column(0).compression == "ZSTD"
    assert schema.equals(dataset_schema("activity", "year,country"), check_metadata=False)


def test_max_rows_per_file(tmp_path: Path) -> None:
    target = tmp_path / "ds"
    write_partitioned(
        activities(300).to_batches(), target, entity="activity", partition_by=(),
        max_rows_per_file=70,
    )  # fmt: skip
    sizes = sorted(pq.ParquetFile(f).metadata.num_rows for f in target.glob("*.parquet"))
    assert sizes == [20, 70, 70, 70, 70]


def test_objects_and_month_and_enum_keys(tmp_path: Path) -> None:
    table = activities(200)
    objects = clen_core.from_arrow(table, "activity")
    target = tmp_path / "ds"
    write_partitioned(objects, target, entity="activity", partition_by=["kind", "month"])
    ds = open_partitioned(target)
    assert ds.count_rows() == 200
    kinds = {p.name for p in target.iterdir()}
    assert kinds == {f"kind={k}" for k in set(table.column("kind").to_pylist())}
    month = table.column("start").to_pylist()[0].month
    assert ds.count_rows({"month": month}) == sum(
        1 for d in table.column("start").to_pylist() if d.month == month
    )
    assert sorted(ds.objects(), key=lambda o: o.activity_id) == sorted(
        objects, key=lambda o: o.activity_id
    )


def test_bad_partition_keys_are_refused(tmp_path: Path) -> None:
    rows = activities(5).to_batches()
    with pytest.raises(FormatError, match="'colour' is not a field of activity"):
        write_partitioned(rows, tmp_path / "a", entity="activity", partition_by="colour")
    with pytest.raises(FormatError, match="laboratory has no date field"):
        write_partitioned([], tmp_path / "b", entity="laboratory", partition_by="year")
    with pytest.raises(FormatError, match="only text, whole-number"):
        write_partitioned([], tmp_path / "c", entity="laboratory", partition_by="expertise")
    with pytest.raises(FormatError, match="given twice"):
        write_partitioned([], tmp_path / "d", entity="activity", partition_by="year,year")
    assert not any(p.name != ".a.clen-lock" and "lock" not in p.name for p in tmp_path.iterdir())


# --------------------------------------------------------------------------- folder names


def with_theme(themes: list[str]) -> pa.RecordBatch:
    table = activities(len(themes))
    i = table.schema.get_field_index("theme")
    return table.set_column(i, "theme", pa.array(themes, pa.string())).to_batches()[0]


@pytest.mark.parametrize("value", ["../x", "/etc", "a/b", "a\\b", "a\0b", ".", "..", "", "x\ny"])
def test_unsafe_partition_values_are_refused(tmp_path: Path, value: str) -> None:
    target = tmp_path / "ds"
    with pytest.raises(FormatError, match="cannot name a folder"):
        write_partitioned([with_theme([value])], target, entity="activity", partition_by="theme")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".ds.clen-lock"]


@given(st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=5))
def test_partition_values_round_trip_or_are_refused(themes: list[str]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "ds"
        batch = with_theme(themes)
        unsafe = [
            t for t in themes
            if t in (".", "..", NULL_PARTITION)
            or any(c in "/\\\u2028\u2029" or ord(c) < 32 or 0x80 <= ord(c) <= 0x9F for c in t)
        ]  # fmt: skip
        too_long = [t for t in themes if len(f"theme={t}".encode()) > 200]
        if unsafe:
            with pytest.raises(FormatError):
                write_partitioned([batch], target, entity="activity", partition_by="theme")
            assert not target.exists()
            return
        if too_long:
            return
        write_partitioned([batch], target, entity="activity", partition_by="theme")
        for f in target.rglob("*"):
            assert f.resolve().is_relative_to(target.resolve())
        ds = open_partitioned(target)
        for t in set(themes):
            got = ds.to_table({"theme": t}).column("theme").to_pylist()
            assert got == [t] * themes.count(t)
        # pyarrow's hive decoding gives back the same values from the folder names.
        table = pads.dataset(
            str(target), format="parquet", partitioning=pads.HivePartitioning(
                pa.schema([("theme", pa.string())])
            ),
        ).to_table()  # fmt: skip
        assert sorted(table.column("theme").to_pylist()) == sorted(themes)


def test_missing_values_go_to_the_default_partition(tmp_path: Path) -> None:
    table = activities(100)
    target = tmp_path / "ds"
    write_partitioned(table.to_batches(), target, entity="activity", partition_by="participants")
    nulls = table.column("participants").null_count
    assert nulls > 0
    ds = open_partitioned(target)
    assert ds.count_rows({"participants": None}) == nulls
    assert (target / f"participants={NULL_PARTITION}").is_dir()


# --------------------------------------------------------------------------- append


def test_append_twice_gives_exactly_twice_the_rows(tmp_path: Path) -> None:
    table = activities(400)
    target = tmp_path / "ds"
    for _ in range(2):  # told to: a batch and keys already there are refused by default
        write_partitioned(
            table.to_batches(), target, entity="activity", partition_by=KEYS, append=True,
            on_duplicate_key="keep", if_batch_exists="append",
        )  # fmt: skip
    ds = open_partitioned(target)
    back = ds.to_table()
    assert back.num_rows == 2 * table.num_rows
    counts = Counter(back.column("activity_id").to_pylist())
    assert set(counts.values()) == {2}
    assert set(counts) == set(table.column("activity_id").to_pylist())
    assert leftovers(target) == []


def test_fresh_write_refuses_a_non_empty_target_but_takes_an_empty_one(tmp_path: Path) -> None:
    target = tmp_path / "ds"
    target.mkdir()
    write_partitioned(activities(10).to_batches(), target, entity="activity", partition_by=KEYS)
    assert open_partitioned(target).count_rows() == 10
    with pytest.raises(FormatError, match="exists and is not empty"):
        write_partitioned(activities(5).to_batches(), target, entity="activity")
    assert open_partitioned(target).count_rows() == 10
    (tmp_path / "file").write_text("x")
    with pytest.raises(FormatError, match="not a folder"):
        write_partitioned([], tmp_path / "file", entity="activity", append=True)


def test_append_refuses_a_different_dataset_naming_the_difference(tmp_path: Path) -> None:
    target = tmp_path / "ds"
    write_partitioned(activities(20).to_batches(), target, entity="activity", partition_by=KEYS)
    before = sorted(target.rglob("*"))
    with pytest.raises(FormatError, match=r"partition keys 'year,country' vs 'country'"):
        write_partitioned(
            activities(5).to_batches(), target, entity="activity", partition_by="country",
            append=True,
        )  # fmt: skip
    with pytest.raises(FormatError, match=r"entity 'activity' vs 'sample'"):
        write_partitioned([], target, entity="sample", partition_by="year", append=True)
    # A file whose column type and schema version differ.
    other = tmp_path / "other"
    write_partitioned(activities(5).to_batches(), other, entity="activity", partition_by="country")
    file = next(other.rglob("*.parquet"))
    t = pq.read_table(file)
    meta = {k: v for k, v in t.schema.metadata.items() if k != b"ARROW:schema"}
    i = t.schema.get_field_index("participants")
    t = t.set_column(i, "participants", pc.cast(t.column("participants"), pa.string()))
    pq.write_table(t.replace_schema_metadata(meta), file)
    with pytest.raises(FormatError, match=r"column 'participants' is string vs int64"):
        write_partitioned([], other, entity="activity", partition_by="country", append=True)
    meta[b"clen_core.schema_version"] = b"99"
    pq.write_table(t.replace_schema_metadata(meta), file)
    with pytest.raises(FormatError, match=r"schema version 99 vs 1"):
        write_partitioned([], other, entity="activity", partition_by="country", append=True)
    assert sorted(target.rglob("*")) == before
    assert leftovers(target) == []
    assert leftovers(other) == []


def test_a_failing_write_leaves_the_old_dataset_and_no_temporary_folder(tmp_path: Path) -> None:
    target = tmp_path / "ds"
    write_partitioned(activities(30).to_batches(), target, entity="activity", partition_by=KEYS)
    before = sorted(p.relative_to(target) for p in target.rglob("*"))

    def failing() -> object:
        yield from activities(30, seed=1).to_batches()
        raise RuntimeError("the source broke")

    with pytest.raises(RuntimeError, match="source broke"):
        write_partitioned(failing(), target, entity="activity", partition_by=KEYS, append=True)
    assert sorted(p.relative_to(target) for p in target.rglob("*")) == before
    assert leftovers(target) == []
    with pytest.raises(RuntimeError, match="source broke"):
        write_partitioned(failing(), tmp_path / "new", entity="activity", partition_by=KEYS)
    assert not (tmp_path / "new").exists()
    assert leftovers(tmp_path / "new") == []


def test_the_next_run_removes_stale_temporary_folders_and_restores_an_aside_copy(
    tmp_path: Path,
) -> None:
    target = tmp_path / "ds"
    write_partitioned(activities(30).to_batches(), target, entity="activity", partition_by=KEYS)
    (tmp_path / ".ds.clen-tmp-dead").mkdir()
    (tmp_path / ".ds.clen-tmp-dead" / "junk.parquet").write_bytes(b"x")
    write_partitioned(
        activities(10, seed=2).to_batches(), target, entity="activity", partition_by=KEYS,
        append=True,
    )  # fmt: skip
    assert leftovers(target) == []
    assert open_partitioned(target).count_rows() == 40
    # Killed inside the fallback swap: the dataset renamed aside, the new one not yet in.
    os.rename(target, tmp_path / ".ds.clen-old-1234")
    write_partitioned([], target, entity="activity", partition_by=KEYS, append=True)
    assert open_partitioned(target).count_rows() == 40
    assert leftovers(target) == []


def test_fallback_swap_without_renameat2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(datasets, "_exchange", lambda a, b: False)
    target = tmp_path / "ds"
    for seed in range(2):
        write_partitioned(
            activities(25, seed=seed).to_batches(), target, entity="activity",
            partition_by=KEYS, append=True,
        )  # fmt: skip
    assert open_partitioned(target).count_rows() == 50
    assert leftovers(target) == []


def test_concurrent_appends_take_turns(tmp_path: Path) -> None:
    target = tmp_path / "ds"
    errors: list[BaseException] = []

    def append(seed: int) -> None:
        try:
            write_partitioned(
                activities(40, seed=seed).to_batches(), target, entity="activity",
                partition_by=KEYS, append=True,
            )  # fmt: skip
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert open_partitioned(target).count_rows() == 160
    assert leftovers(target) == []


def test_sigkill_during_append_leaves_old_or_new(tmp_path: Path) -> None:
    """Kill ``clen convert --append`` at random moments: old or new, never a mix."""
    src = tmp_path / "src.parquet"
    pq.write_table(activities(300), src)
    target = tmp_path / "ds"
    command = [
        sys.executable, "-c", "from clen_core.cli import main; main()",
        "convert", str(src), str(target), "--entity", "activity",
        "--partition-by", "year,country", "--append", "-q",
        "--on-duplicate-key", "keep", "--if-batch-exists", "append",
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True)
    rows = 300
    rng = random.Random(8)
    start = time.monotonic()
    kills = 0
    while time.monotonic() - start < 3:
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, 1.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
        now = open_partitioned(target).count_rows()
        assert now in (rows, rows + 300), now
        ids = Counter(open_partitioned(target).to_table().column("activity_id").to_pylist())
        assert set(ids.values()) == {now // 300}
        rows = now
    assert kills > 0
    subprocess.run(command, check=True, capture_output=True)
    assert leftovers(target) == []
    assert open_partitioned(target).count_rows() == rows + 300


# --------------------------------------------------------------------------- readers


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pa.Table]:
    target = tmp_path_factory.mktemp("readers") / "ds"
    table = activities(800)
    # A text key whose values look like numbers: readers must keep them text.
    i = table.schema.get_field_index("project_group_id")
    codes = pa.array([f"{n % 12:02d}" for n in range(table.num_rows)], pa.string())
    table = table.set_column(i, "project_group_id", codes)
    write_partitioned(
        table.to_batches(), target, entity="activity", partition_by="year,project_group_id",
        max_rows_per_file=100,
    )  # fmt: skip
    return target, table


def test_duckdb_reads_declared_types_and_same_aggregates(written: tuple[Path, pa.Table]) -> None:
    target, _ = written
    ds = open_partitioned(target)
    glob = f"{target}/**/*.parquet"
    # The partition columns are in the files: no folder-name inference needed at all ...
    plain = duckdb.sql(f"select * from read_parquet('{glob}', hive_partitioning = false)")
    # ... or folder pruning with the declared types of the keys.
    types_sql = "{" + ", ".join(f"'{k}': '{v}'" for k, v in ds.hive_types().items()) + "}"
    hive = duckdb.sql(
        f"select * from read_parquet('{glob}', hive_partitioning = true, hive_types = {types_sql})"
    )
    for rel in (plain, hive):
        types = dict(zip(rel.columns, map(str, rel.types), strict=True))
        assert types["project_group_id"] == "VARCHAR"
        assert types["country"] == "VARCHAR"
        assert types["year"] == "INTEGER"
        assert types["start"] == "DATE"
        assert types["participants"] == "BIGINT"
    got = duckdb.sql(
        f"""select year, project_group_id, count(*) n, sum(participants) p
            from read_parquet('{target}/**/*.parquet', hive_partitioning = true)
            where project_group_id = '01' group by all order by all"""
    ).fetchall()
    ours = open_partitioned(target).to_table({"project_group_id": "01"})
    expected: dict[tuple[int, str], list[int]] = {}
    for start, pg, p in zip(
        ours.column("start").to_pylist(), ours.column("project_group_id").to_pylist(),
        ours.column("participants").to_pylist(), strict=True,
    ):  # fmt: skip
        e = expected.setdefault((start.year, pg), [0, 0])
        e[0] += 1
        e[1] += p or 0
    assert got == sorted((y, g, n, p) for (y, g), (n, p) in expected.items())


def test_polars_reads_declared_types(written: tuple[Path, pa.Table]) -> None:
    target, table = written
    frame = pl.scan_parquet(target, hive_partitioning=True).collect()
    assert frame.schema["project_group_id"] == pl.String
    assert frame.schema["year"] == pl.Int32
    assert frame.schema["start"] == pl.Date
    assert frame.height == table.num_rows
    assert sorted(frame["project_group_id"].unique().to_list()) == [f"{n:02d}" for n in range(12)]


def test_pyarrow_dataset_with_declared_partition_types(written: tuple[Path, pa.Table]) -> None:
    target, _ = written
    ds = open_partitioned(target)
    assert ds.hive_types() == {"year": "INTEGER", "project_group_id": "VARCHAR"}
    got = ds.to_pyarrow().to_table(filter=pads.field("project_group_id") == "03")
    assert got.schema.field("project_group_id").type == pa.string()
    assert got.num_rows == ds.count_rows({"project_group_id": "03"})


# --------------------------------------------------------------------------- the command


def test_cli_convert_partitioned_append_and_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    src = tmp_path / "a.parquet"
    assert runner.invoke(app, ["generate", "activity", "500", str(src), "--error-rate", "0.02"]).exit_code == 0  # fmt: skip # noqa: E501
    dst = tmp_path / "out"
    args = ["convert", str(src), str(dst), "--entity", "activity", "-q"]
    r = runner.invoke(app, [*args, "--partition-by", "year,country", "--max-rows-per-file", "7"])
    assert r.exit_code == 0, r.output
    assert "500 read, 490 written, 10 rejected" in r.stdout
    ds = open_partitioned(dst)
    assert ds.count_rows() == 490
    assert max(pq.ParquetFile(f).metadata.num_rows for f in ds.files) <= 7
    r = runner.invoke(app, [*args, "--partition-by", "year,country"])
    assert r.exit_code == 2
    assert "exists and is not empty" in r.stderr
    r = runner.invoke(app, [*args, "--append", "--on-duplicate-key", "keep"])  # its own keys
    assert r.exit_code == 0, r.output
    assert open_partitioned(dst).count_rows() == 980
    r = runner.invoke(app, [*args, "--append", "--partition-by", "country"])
    assert r.exit_code == 2
    assert "partition keys 'year,country' vs 'country'" in r.stderr
    r = runner.invoke(app, [*args, "--append", "--strict"])
    assert r.exit_code == 1
    assert open_partitioned(dst).count_rows() == 980
    assert leftovers(dst) == []
    r = runner.invoke(app, ["convert", str(src), str(tmp_path / "flat"), "--entity", "activity",
                            "--max-rows-per-file", "100", "-q"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert len(list((tmp_path / "flat").glob("*.parquet"))) == 5
    r = runner.invoke(app, [*args, "--partition-by", "year", "--to", "csv"])
    assert r.exit_code == 2
    assert "Parquet" in r.stderr


def test_reading_checks_rows_of_foreign_files(tmp_path: Path) -> None:
    target = tmp_path / "ds" / "country=BE"
    target.mkdir(parents=True)
    table = activities(10)
    i = table.schema.get_field_index("participants")
    bad = pa.array([-1, *table.column("participants").to_pylist()[1:]], pa.int64())
    plain = table.set_column(i, "participants", bad).replace_schema_metadata(None)
    pq.write_table(plain, target / "x.parquet")
    ds = open_partitioned(tmp_path / "ds", entity="activity")
    assert ds.partition_by == ("country",)
    with pytest.raises(clen_core.RejectedRowsError, match=r"row 1, field participants"):
        ds.to_table()
    assert ds.to_table(on_reject="collect").num_rows == 9
    with pytest.raises(FormatError, match=r"no clen_core\.entity metadata"):
        open_partitioned(tmp_path / "ds")


def test_dates_as_keys(tmp_path: Path) -> None:
    table = activities(30)
    target = tmp_path / "ds"
    write_partitioned(table.to_batches(), target, entity="activity", partition_by="start")
    first = table.column("start").to_pylist()[0]
    assert isinstance(first, dt.date)
    ds = open_partitioned(target)
    assert ds.count_rows({"start": first}) == table.column("start").to_pylist().count(first)
