"""Appends that are safe to retry (batch identities, duplicate keys) and datasets that follow
their entity as it changes (compatible appends, ``clen migrate``): issue #23 items 3 and 4."""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import clen_core
from clen_core.cli import app
from clen_core.errors import ArgumentError, DuplicateKeyError
from clen_core.io import migrate as migrate_module
from clen_core.io.appends import BATCH_PREFIX, dataset_batches
from clen_core.io.formats import FormatError
from clen_core.io.migrate import migrate_dataset
from clen_core.io.partitioned import open_partitioned, write_partitioned
from clen_core.model import entity, field
from clen_core.model.entity import ENTITY_REGISTRY, register_entity
from clen_core.synth import generate_batches

KEYS = ("year", "country")


def activities(n: int, seed: int = 0) -> pa.Table:
    return pa.Table.from_batches(list(generate_batches("activity", n, seed=seed)))


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file of the folder and its bytes: what a refused write must leave as it was."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def leftovers(folder: Path) -> list[str]:
    """Temporary siblings of a dataset folder (the lock file is not one)."""
    return sorted(
        p.name
        for p in folder.parent.iterdir()
        if p.name.startswith(f".{folder.name}.") and not p.name.endswith("clen-lock")
    )


def ids(folder: Path) -> Counter[str]:
    return Counter(open_partitioned(folder).to_table().column("activity_id").to_pylist())


def append(data: Any, target: Path, **options: Any) -> clen_core.DatasetWriteResult:
    return write_partitioned(
        data, target, entity="activity", partition_by=KEYS, append=True, **options
    )


# --------------------------------------------------------------------------- batch identity


def test_a_retried_append_is_refused_naming_the_batch_and_when(tmp_path: Path) -> None:
    target = tmp_path / "ds"
    first = append(activities(300).to_batches(), target)
    assert first.batch_id is not None
    assert first.batch_id.startswith("sha256:")
    (batch,) = dataset_batches(target)
    assert (batch.batch_id, batch.rows, batch.skipped) == (first.batch_id, 300, 0)
    assert {target / f for f in batch.files} == {Path(p) for p in first.paths}
    before = snapshot(target)
    with pytest.raises(DuplicateKeyError, match=rf"batch {first.batch_id} was already appended on "
                       rf"{batch.appended} \(300 rows\)"):  # fmt: skip
        append(activities(300).to_batches(), target)
    assert snapshot(target) == before
    assert leftovers(target) == []


def test_a_retry_with_if_batch_exists_skip_is_a_no_op(tmp_path: Path) -> None:
    target = tmp_path / "ds"
    first = append(activities(200).to_batches(), target)
    before = snapshot(target)
    again = append(activities(200).to_batches(), target, if_batch_exists="skip")
    assert again.paths == ()
    assert again.rows == {"activity": 0}
    assert again.skipped == 200
    assert again.already is not None
    assert again.already.batch_id == first.batch_id
    assert snapshot(target) == before
    assert leftovers(target) == []


def test_the_content_hash_is_the_rows_not_how_they_are_cut_or_given(tmp_path: Path) -> None:
    table = activities(150_000)  # more than one 65,536-row piece of the hash
    a = append(table.to_batches(max_chunksize=65_536), tmp_path / "a")
    b = append(table.to_batches(max_chunksize=7_777), tmp_path / "b")
    objects = clen_core.from_arrow(activities(50), "activity")
    c = append(objects, tmp_path / "c")
    d = append(clen_core.to_arrow(objects, "activity").to_batches(max_chunksize=3), tmp_path / "d")
    other = append(activities(50, seed=1).to_batches(), tmp_path / "e")
    assert a.batch_id == b.batch_id
    assert c.batch_id == d.batch_id
    assert len({a.batch_id, c.batch_id, other.batch_id}) == 3


def test_a_given_batch_id_is_checked_before_any_row_is_read(tmp_path: Path) -> None:
    target = tmp_path / "ds"
    first = append(activities(100).to_batches(), target, batch_id="load-2026-12-06")
    assert first.batch_id == "load-2026-12-06"
    assert dataset_batches(target)[0].content.startswith("sha256:")

    def never() -> Iterator[pa.RecordBatch]:
        raise AssertionError("a row was read")
        yield  # pragma: no cover

    with pytest.raises(DuplicateKeyError, match="batch load-2026-12-06 was already appended"):
        append(never(), target, batch_id="load-2026-12-06")
    skipped = append(never(), target, batch_id="load-2026-12-06", if_batch_exists="skip")
    assert skipped.already is not None
    assert skipped.paths == ()
    # The identity is the name given: other rows under a new name go in, then are refused.
    second = append(activities(100, seed=1).to_batches(), target, batch_id="load-2")
    assert second.rows == {"activity": 100}
    with pytest.raises(DuplicateKeyError, match="batch load-2 was"):
        append(activities(100, seed=2).to_batches(), target, batch_id="load-2")
    assert [b.batch_id for b in dataset_batches(target)] == ["load-2026-12-06", "load-2"]
    for bad in ("", "x" * 201, "a\nb"):
        with pytest.raises(ArgumentError, match="batch_id"):
            append([], target, batch_id=bad)


def test_if_batch_exists_append_writes_the_batch_again(tmp_path: Path) -> None:
    target = tmp_path / "ds"
    table = activities(80)
    for _ in range(2):
        append(table.to_batches(), target, if_batch_exists="append", on_duplicate_key="keep")
    assert set(ids(target).values()) == {2}
    batches = dataset_batches(target)
    assert len(batches) == 2
    assert batches[0].batch_id == batches[1].batch_id


def test_batch_records_are_files_of_no_rows_that_readers_pass_over(tmp_path: Path) -> None:
    target = tmp_path / "ds"
    append(activities(300).to_batches(), target)
    append(activities(300, seed=1).to_batches(), target)
    records = sorted(target.rglob(f"{BATCH_PREFIX}*.parquet"))
    assert len(records) == 2
    assert all(pq.ParquetFile(r).metadata.num_rows == 0 for r in records)
    ds = open_partitioned(target)
    assert not set(records) & set(ds.files)
    assert ds.count_rows() == 600
    glob = f"{target}/**/*.parquet"
    got = duckdb.sql(f"select count(*) from read_parquet('{glob}', hive_partitioning = true)")
    assert got.fetchall() == [(600,)]
    assert pl.scan_parquet(target, hive_partitioning=True).collect().height == 600
    # A write without append creates the dataset once: it records no batch.
    write_partitioned(activities(10).to_batches(), tmp_path / "new", entity="activity")
    assert dataset_batches(tmp_path / "new") == []


def test_a_batch_record_that_is_not_one_is_named(tmp_path: Path) -> None:
    target = tmp_path / "ds"
    append(activities(20).to_batches(), target)
    (record,) = target.rglob(f"{BATCH_PREFIX}*.parquet")
    pq.write_table(pa.table({"x": [1]}), record)
    with pytest.raises(FormatError, match=rf"{record.name}: not a batch record"):
        dataset_batches(target)


# --------------------------------------------------------------------------- duplicate keys


def test_on_duplicate_key_error_refuses_naming_the_first_keys_and_the_counts(
    tmp_path: Path,
) -> None:
    target = tmp_path / "ds"
    table = activities(100)
    append(table.slice(0, 60).to_batches(), target)
    before = snapshot(target)
    # Rows 50-99: 50-59 already there; then row 99 twice more.
    again = pa.concat_tables([table.slice(50, 50), table.slice(99, 1), table.slice(99, 1)])
    with pytest.raises(DuplicateKeyError) as caught:
        append(again.to_batches(max_chunksize=16), target)
    message = str(caught.value)
    assert "10 row(s) of 52 have a key already in the dataset and 2 repeat a key" in message
    assert "first: activity_id='A-0-000000050'; activity_id='A-0-000000051'" in message
    assert "on_duplicate_key='skip'" in message
    assert snapshot(target) == before
    assert leftovers(target) == []


def test_on_duplicate_key_skip_writes_the_new_rows_and_counts_the_others(tmp_path: Path) -> None:
    target = tmp_path / "ds"
    table = activities(100)
    append(table.slice(0, 60).to_batches(), target)
    again = pa.concat_tables([table.slice(50, 50), table.slice(99, 1)])  # 10 there, 1 repeat
    done = append(again.to_batches(max_chunksize=16), target, on_duplicate_key="skip")
    assert done.rows == {"activity": 40}
    assert done.skipped == 11
    assert done.rows["activity"] + done.skipped == again.num_rows
    got = ids(target)
    assert set(got.values()) == {1}
    assert set(got) == set(table.column("activity_id").to_pylist())
    assert dataset_batches(target)[-1].skipped == 11


def test_on_duplicate_key_keep_writes_every_row(tmp_path: Path) -> None:
    target = tmp_path / "ds"
    table = activities(50)
    append(table.to_batches(), target)
    append(table.slice(0, 20).to_batches(), target, on_duplicate_key="keep")
    got = ids(target)
    assert sum(got.values()) == 70
    assert Counter(got.values()) == {2: 20, 1: 30}


def test_a_new_dataset_keeps_repeated_keys_unless_told(tmp_path: Path) -> None:
    twice = pa.concat_tables([activities(10), activities(10)])
    write_partitioned(twice.to_batches(), tmp_path / "a", entity="activity")
    assert sum(ids(tmp_path / "a").values()) == 20
    with pytest.raises(DuplicateKeyError, match="10 repeat a key of an earlier row"):
        write_partitioned(
            twice.to_batches(), tmp_path / "b", entity="activity", on_duplicate_key="error"
        )
    assert not (tmp_path / "b").exists()
    for bad in ({"on_duplicate_key": "drop"}, {"if_batch_exists": "ignore"}):
        with pytest.raises(ArgumentError, match="must be one of"):
            write_partitioned([], tmp_path / "c", entity="activity", **bad)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.lists(st.integers(0, 39), min_size=0, max_size=15), min_size=1, max_size=6).flatmap(
        lambda bs: st.permutations(bs + bs[: len(bs) // 2])
    )  # some batches twice
)
def test_appending_batches_in_any_order_with_repeats_gives_the_union_once(
    batches: list[list[int]],
) -> None:
    pool = activities(40, seed=3)
    with tempfile.TemporaryDirectory() as tmp:
        target, once = Path(tmp) / "ds", Path(tmp) / "once"
        given = written = skipped = 0
        for rows in batches:
            part = pool.take(pa.array(rows, pa.int64()))
            done = append(
                part.to_batches(), target, on_duplicate_key="skip", if_batch_exists="skip"
            )
            given += part.num_rows
            written += done.rows["activity"]
            skipped += done.skipped
        assert given == written + skipped
        union = sorted({i for rows in batches for i in rows})
        if not union:
            assert open_partitioned(target, entity="activity").count_rows() == 0
            return
        got = open_partitioned(target).to_table().sort_by("activity_id")
        assert got.num_rows == written == len(union)
        append(pool.take(pa.array(union, pa.int64())).to_batches(), once)
        assert got.equals(open_partitioned(once).to_table().sort_by("activity_id"))


# --------------------------------------------------------------------------- convert, clen


def _source(tmp_path: Path, n: int, seed: int = 0, error_rate: float = 0.0) -> Path:
    src = tmp_path / f"src-{seed}-{n}.parquet"
    r = CliRunner().invoke(app, ["generate", "activity", str(n), str(src), "--seed", str(seed),
                                 "--error-rate", str(error_rate)])  # fmt: skip
    assert r.exit_code == 0, r.output
    return src


def test_convert_counts_add_up_with_skipped_rows(tmp_path: Path) -> None:
    src = _source(tmp_path, 400, error_rate=0.05)
    target = tmp_path / "ds"
    first = clen_core.convert(src, target, entity="activity", partition_by=KEYS, append=True)
    assert first.rejected > 0
    assert first.skipped == 0
    assert first.batch_id is not None
    bigger = _source(tmp_path, 500, error_rate=0.05)  # mostly the same keys, and 100 more
    done = clen_core.convert(bigger, target, entity="activity", append=True,
                             on_duplicate_key="skip")  # fmt: skip
    assert done.rejected > 0
    assert done.skipped > 300
    assert done.read == done.written + done.skipped + done.rejected
    assert open_partitioned(target).count_rows() == first.written + done.written
    assert set(ids(target).values()) == {1}
    with pytest.raises(ArgumentError, match="for a dataset folder"):
        clen_core.convert(src, tmp_path / "x.csv", entity="activity", batch_id="b")


def test_convert_given_a_known_batch_id_and_skip_reads_nothing(tmp_path: Path) -> None:
    src = _source(tmp_path, 50)
    target = tmp_path / "ds"
    clen_core.convert(src, target, entity="activity", append=True, batch_id="b1")
    done = clen_core.convert(src, target, entity="activity", append=True, batch_id="b1",
                             if_batch_exists="skip")  # fmt: skip
    assert (done.read, done.written, done.skipped, done.rejected) == (0, 0, 0, 0)
    assert done.already_appended == dataset_batches(target)[0].appended


def test_clen_convert_retry_exit_codes_and_messages(tmp_path: Path) -> None:
    runner = CliRunner()
    src = _source(tmp_path, 300)
    target = tmp_path / "ds"
    args = ["convert", str(src), str(target), "-e", "activity", "--append", "-q"]
    r = runner.invoke(app, [*args, "--partition-by", "year"])
    assert r.exit_code == 0, r.output
    before = snapshot(target)
    r = runner.invoke(app, args)
    assert r.exit_code == 2
    assert "was already appended on" in r.stderr
    assert "--if-batch-exists skip" in r.stderr
    r = runner.invoke(app, [*args, "--if-batch-exists", "skip"])
    assert r.exit_code == 0, r.output
    assert "already appended on" in r.stdout
    assert "nothing written" in r.stdout
    r = runner.invoke(app, [*args, "--if-batch-exists", "append"])
    assert r.exit_code == 2
    assert "300 row(s) of 300 have a key already in the dataset" in r.stderr
    assert snapshot(target) == before
    r = runner.invoke(app, [*args, "--if-batch-exists", "append", "--on-duplicate-key", "skip"])
    assert r.exit_code == 0, r.output
    assert "300 read, 0 written, 300 skipped, 0 rejected" in r.stdout
    r = runner.invoke(app, [*args, "--if-batch-exists", "append", "--on-duplicate-key", "skip",
                            "--json"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert '"skipped": 300' in r.stdout
    r = runner.invoke(app, [*args, "--on-duplicate-key", "drop"])
    assert r.exit_code == 2
    assert "must be one of error, skip, keep" in r.stderr


# --------------------------------------------------------------------------- schema evolution


@contextlib.contextmanager
def evolving() -> Iterator[dict[str, Any]]:
    """Versions of a test entity ``tst_evo``, registered one at a time (``use``)."""

    def v1() -> type:
        @entity("tst_evo", key="thing_id", register=False)
        class Thing:
            """A thing, as first declared."""

            thing_id: str = field("Id.")
            country: str = field("Country.")
            made: dt.date = field("Made on.")
            weight: int = field("Weight.", ge=0)

        return Thing

    def optional_added() -> type:
        @entity("tst_evo", key="thing_id", register=False)
        class Thing:
            """A thing, with notes (an optional field: the version stays)."""

            thing_id: str = field("Id.")
            country: str = field("Country.")
            made: dt.date = field("Made on.")
            weight: int = field("Weight.", ge=0)
            notes: str | None = field("Notes.", default=None)

        return Thing

    def required_added() -> type:
        @entity("tst_evo", key="thing_id", version=2, register=False)
        class Thing:
            """A thing, with a colour it must have."""

            thing_id: str = field("Id.")
            country: str = field("Country.")
            made: dt.date = field("Made on.")
            weight: int = field("Weight.", ge=0)
            colour: str = field("Colour.")

        return Thing

    def bumped() -> type:
        @entity("tst_evo", key="thing_id", version=2, register=False)
        class Thing:
            """A thing of version 2 (a change of meaning the types do not show)."""

            thing_id: str = field("Id.")
            country: str = field("Country.")
            made: dt.date = field("Made on.")
            weight: int = field("Weight.", ge=0)
            notes: str | None = field("Notes.", default=None)

        return Thing

    def retyped() -> type:
        @entity("tst_evo", key="thing_id", version=2, register=False)
        class Thing:
            """A thing whose weight is now a float (version 2)."""

            thing_id: str = field("Id.")
            country: str = field("Country.")
            made: dt.date = field("Made on.")
            weight: float = field("Weight.", ge=0)

        return Thing

    versions = {"v1": v1, "optional": optional_added, "required": required_added,
                "bumped": bumped, "retyped": retyped}  # fmt: skip
    made: dict[str, Any] = {}

    def use(name: str) -> type:
        with contextlib.suppress(Exception):
            ENTITY_REGISTRY.remove("tst_evo")
        cls = versions[name]()
        register_entity(cls.__clen_entity__)  # type: ignore[attr-defined]
        return cls

    made["use"] = use
    try:
        yield made
    finally:
        with contextlib.suppress(Exception):
            ENTITY_REGISTRY.remove("tst_evo")


def things(cls: type, n: int, start: int = 0, **extra: Any) -> list[Any]:
    return [
        cls(thing_id=f"t{i}", country=("BE", "FR")[i % 2], made=dt.date(2020 + i % 3, 1, 1),
            weight=i, **extra)
        for i in range(start, start + n)
    ]  # fmt: skip


def write_things(data: Any, target: Path, **options: Any) -> clen_core.DatasetWriteResult:
    return write_partitioned(data, target, entity="tst_evo", partition_by="year,country",
                             append=True, **options)  # fmt: skip


@pytest.fixture
def evo() -> Iterator[dict[str, Any]]:
    with evolving() as made:
        yield made


def test_an_added_optional_field_takes_appends_and_reads_old_rows_as_missing(
    tmp_path: Path, evo: dict[str, Any]
) -> None:
    target = tmp_path / "ds"
    write_things(things(evo["use"]("v1"), 6), target)
    new = evo["use"]("optional")
    write_things(things(new, 4, start=6, notes="checked"), target)
    ds = open_partitioned(target)
    got = {r["thing_id"]: r["notes"] for r in ds.to_table().to_pylist()}
    assert got == {f"t{i}": None if i < 6 else "checked" for i in range(10)}
    objects = sorted(ds.objects(), key=lambda o: int(o.thing_id[1:]))
    assert objects[0] == things(new, 1)[0]
    report = clen_core.validate_path(target, entity="tst_evo")
    assert report.report.ok, report.report.findings
    r = CliRunner().invoke(app, ["validate", str(target), "-e", "tst_evo"])
    assert r.exit_code == 0, r.output


def test_incompatible_changes_stay_refused_naming_the_difference(
    tmp_path: Path, evo: dict[str, Any]
) -> None:
    target = tmp_path / "ds"
    write_things(things(evo["use"]("optional"), 4), target)
    before = snapshot(target)
    required = evo["use"]("required")
    with pytest.raises(FormatError) as caught:
        write_things(things(required, 2, start=10, colour="red"), target)
    message = str(caught.value)
    assert "schema version 1 vs 2" in message
    assert "column 'notes' only in the dataset" in message
    assert "column 'colour' (required) missing from the dataset" in message
    assert "clen migrate" not in message  # nothing can make these files hold a colour
    retyped = evo["use"]("retyped")
    with pytest.raises(FormatError) as caught:
        write_things(things(retyped, 2, start=10), target)
    message = str(caught.value)
    assert "schema version 1 vs 2" in message
    assert "column 'weight' is int64 vs double" in message  # int64 to double may lose digits
    assert "clen migrate" not in message
    bumped = evo["use"]("bumped")
    with pytest.raises(FormatError) as caught:
        write_things(things(bumped, 2, start=10), target)
    message = str(caught.value)
    assert "(dataset vs new: schema version 1 vs 2)" in message
    assert "`clen migrate` (clen_core.migrate_dataset) rewrites it" in message
    assert snapshot(target) == before


# --------------------------------------------------------------------------- migrate


def test_migrate_writes_the_added_column_and_keeps_the_batches(
    tmp_path: Path, evo: dict[str, Any]
) -> None:
    target = tmp_path / "ds"
    write_things(things(evo["use"]("v1"), 6), target)
    new = evo["use"]("optional")
    write_things(things(new, 4, start=6, notes="checked"), target)
    batches = dataset_batches(target)
    old_files = [
        f for f in open_partitioned(target).files if "notes" not in pq.read_schema(f).names
    ]
    assert old_files
    done = migrate_dataset(target)
    assert not done.current
    assert set(done.rewritten) == set(old_files)
    assert done.rows == 6
    assert done.schema_version == 1
    assert dataset_batches(target) == batches
    for f in [*open_partitioned(target).files, *target.rglob(f"{BATCH_PREFIX}*")]:
        schema = pq.read_schema(f)
        assert schema.names == ["thing_id", "country", "made", "weight", "notes", "year"]
        assert schema.metadata[b"clen_core.version"] == clen_core.__version__.encode()
    # Every reader now sees one schema, without being told to unify the files'.
    glob = f"{target}/**/*.parquet"
    rows = duckdb.sql(
        f"select thing_id, notes from read_parquet('{glob}', hive_partitioning = false) "
        "order by weight"
    ).fetchall()
    assert rows == [(f"t{i}", None if i < 6 else "checked") for i in range(10)]
    frame = pl.scan_parquet(target, hive_partitioning=True).sort("weight").collect()
    assert frame["notes"].to_list() == [None] * 6 + ["checked"] * 4
    again = migrate_dataset(target)
    assert again.current
    assert again.rewritten == ()
    assert leftovers(target) == []


def test_migrate_rewrites_an_older_version_when_its_data_fits(
    tmp_path: Path, evo: dict[str, Any]
) -> None:
    target = tmp_path / "ds"
    write_things(things(evo["use"]("v1"), 5), target)
    bumped = evo["use"]("bumped")
    done = migrate_dataset(target)
    assert done.schema_version == 2
    assert len(done.rewritten) == len(open_partitioned(target).files)
    write_things(things(bumped, 3, start=5, notes="v2"), target)  # now current: appends go in
    table = open_partitioned(target).to_table().sort_by("weight")
    assert table.column("notes").to_pylist() == [None] * 5 + ["v2"] * 3
    for f in open_partitioned(target).files:
        assert pq.read_schema(f).metadata[b"clen_core.schema_version"] == b"2"


def test_migrate_refuses_what_cannot_be_made_current_and_changes_nothing(
    tmp_path: Path, evo: dict[str, Any]
) -> None:
    target = tmp_path / "ds"
    write_things(things(evo["use"]("v1"), 4), target)
    before = snapshot(target)
    evo["use"]("required")
    with pytest.raises(FormatError, match=r"cannot migrate: required column\(s\) of tst_evo "
                       r"missing: colour"):  # fmt: skip
        migrate_dataset(target)
    evo["use"]("retyped")
    with pytest.raises(FormatError, match=r"field weight: cannot migrate: column type int64 "
                       r"cannot be read as double"):  # fmt: skip
        migrate_dataset(target)
    assert snapshot(target) == before
    assert leftovers(target) == []
    r = CliRunner().invoke(app, ["migrate", str(target)])
    assert r.exit_code == 2
    assert "cannot migrate" in r.stderr


def test_an_interrupted_migrate_leaves_the_old_dataset(
    tmp_path: Path, evo: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "ds"
    write_things(things(evo["use"]("v1"), 12), target)
    evo["use"]("optional")
    before = snapshot(target)
    real = migrate_module._rewrite
    calls = []

    def failing(*args: Any) -> int:
        calls.append(args)
        if len(calls) == 3:
            raise KeyboardInterrupt  # the third file: two already rewritten
        return real(*args)

    monkeypatch.setattr(migrate_module, "_rewrite", failing)
    with pytest.raises(KeyboardInterrupt):
        migrate_dataset(target)
    assert len(calls) == 3
    assert snapshot(target) == before
    assert leftovers(target) == []
    monkeypatch.setattr(migrate_module, "_rewrite", real)
    assert len(migrate_dataset(target).rewritten) == len(open_partitioned(target).files)


def test_migrate_a_single_parquet_file(tmp_path: Path, evo: dict[str, Any]) -> None:
    file = tmp_path / "things.parquet"
    clen_core.write(things(evo["use"]("v1"), 3), file, entity="tst_evo")
    evo["use"]("optional")
    done = migrate_dataset(file)
    assert done.rewritten == (file,)
    assert done.rows == 3
    assert "notes" in pq.read_schema(file).names
    assert pc.all(pc.is_null(pq.read_table(file).column("notes"))).as_py()
    assert migrate_dataset(file).current


def test_clen_migrate_says_what_it_did(tmp_path: Path, evo: dict[str, Any]) -> None:
    runner = CliRunner()
    target = tmp_path / "ds"
    write_things(things(evo["use"]("v1"), 4), target)
    evo["use"]("optional")
    r = runner.invoke(app, ["migrate", str(target)])
    assert r.exit_code == 0, r.output
    assert "rewritten (4 rows) to tst_evo schema version 1" in r.stdout
    r = runner.invoke(app, ["migrate", str(target)])
    assert r.exit_code == 0, r.output
    assert "already current" in r.stdout
    r = runner.invoke(app, ["migrate", str(target), "--json"])
    assert r.exit_code == 0
    assert '"current": true' in r.stdout
    r = runner.invoke(app, ["migrate", str(tmp_path / "nothing")])
    assert r.exit_code == 2
    assert "no such dataset folder or Parquet file" in r.stderr


def test_the_key_check_holds_within_a_small_memory_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clen_core.io import appends

    # DuckDB held to 32 MB (its working minimum here is about 16 MB); the keys, read from
    # the files, key column only, and the batches' joined against them, stay within it.
    monkeypatch.setattr(appends, "KEY_CHECK_MEMORY", "32MB")
    target = tmp_path / "ds"
    table = activities(300_000)
    write_partitioned(table.to_batches(), target, entity="activity", partition_by="year")
    more = pa.concat_tables([table.slice(250_000), activities(20_000, seed=9)])
    done = write_partitioned(
        more.to_batches(), target, entity="activity", partition_by="year", append=True,
        on_duplicate_key="skip",
    )  # fmt: skip
    assert (done.rows["activity"], done.skipped) == (20_000, 50_000)
    assert open_partitioned(target).count_rows() == 320_000


def test_a_key_check_duckdb_cannot_do_is_one_line_naming_the_dataset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clen_core.io import appends

    target = tmp_path / "ds"
    append(activities(5_000).to_batches(), target)
    before = snapshot(target)
    monkeypatch.setattr(appends, "KEY_CHECK_MEMORY", "1MB")
    with pytest.raises(FormatError, match=rf"{target}: the duplicate-key check failed \(Out of "
                       r"Memory Error.*--on-duplicate-key keep"):  # fmt: skip
        append(activities(5_000, seed=1).to_batches(), target)
    assert snapshot(target) == before
    assert leftovers(target) == []
