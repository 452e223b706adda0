"""The built-in Parquet format: lossless round trips, the file layout, peers, bad input."""

from __future__ import annotations

import datetime as dt
import enum
import io
import itertools
import os
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

import clen_core
from clen_core.data import reference_dataset
from clen_core.io.formats import FormatError, format_for_path, get_format
from clen_core.model import (
    Activity,
    ActivityKind,
    Dataset,
    Programme,
    entities,
    get_entity,
)
from clen_core.model import entity as declare_entity
from clen_core.model import field as declare_field
from clen_core.testing import from_entity

ENTITY_NAMES = [e.name for e in entities()]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("parquet")


@pytest.fixture(scope="module")
def reference_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("reference")
    clen_core.write(reference_dataset(), folder)
    return folder


def _activity(i: int, **changes: Any) -> Activity:
    day = dt.date(2020, 1, 1) + dt.timedelta(days=i % 1000)
    values: dict[str, Any] = {
        "activity_id": f"A-{i:07d}",
        "action": 1 + i % 6,
        "kind": list(ActivityKind)[i % len(ActivityKind)],
        "theme": "Précurseurs · 前体",
        "city": "Vienna",
        "country": "AT",
        "start": day,
        "end": day + dt.timedelta(days=i % 3),
        "participants": None if i % 5 == 0 else i % 400,
        "notes": "" if i % 7 == 0 else None,
    }
    values.update(changes)
    return Activity(**values)


def _plain_activities(**columns: Any) -> pa.Table:
    """A table of two activities as any pyarrow user would write it: no clen_core metadata."""
    base: dict[str, Any] = {
        "activity_id": pa.array(["X-1", "X-2"]),
        "action": pa.array([5, 2], pa.int64()),
        "kind": pa.array(["workshop", "seminar"]),
        "theme": pa.array(["Gemmology", "Textiles"]),
        "city": pa.array(["Vienna", "Prague"]),
        "country": pa.array(["AT", "CZ"]),
        "start": pa.array([dt.date(2023, 5, 2), dt.date(2024, 1, 9)]),
        "end": pa.array([dt.date(2023, 5, 3), dt.date(2024, 1, 9)]),
        "participants": pa.array([40, None], pa.int64()),
    }
    for name, column in columns.items():
        if column is None:
            del base[name]
        else:
            base[name] = column
    return pa.table(base)


# --------------------------------------------------------------------------- registration


def test_the_format_is_registered_by_its_plugin() -> None:
    fmt = get_format("parquet")
    assert fmt.extensions == (".parquet", ".pq")
    assert fmt.flavour == "python"
    assert fmt.read is not None
    assert fmt.write is not None
    assert fmt.plugin == "parquet"
    assert format_for_path("x.PQ") is fmt
    assert format_for_path("data.bin", head=b"PAR1\x15\x04") is fmt


def test_files_without_a_known_extension_are_detected_by_their_magic(workdir: Path) -> None:
    objs = [_activity(i) for i in range(3)]
    path = workdir / "activities.data"
    clen_core.write(objs, path, format="parquet")
    assert list(clen_core.read(path, entity="activity")) == objs


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("name", ENTITY_NAMES)
@given(data=st.data())
def test_round_trip_is_lossless_for_every_entity(
    name: str, data: st.DataObject, workdir: Path
) -> None:
    objs = data.draw(st.lists(from_entity(name), min_size=1, max_size=6))
    batch_rows = data.draw(st.integers(1, 4), label="batch_rows")
    path = workdir / f"{name}.parquet"
    result = clen_core.write(objs, path, batch_rows=batch_rows)
    assert result.rows == {name: len(objs)}
    assert list(clen_core.read(path, entity=name)) == objs
    assert pq.ParquetFile(path).metadata.num_row_groups == -(-len(objs) // batch_rows)


def test_round_trip_keeps_empty_strings_apart_from_missing_values(workdir: Path) -> None:
    objs = [
        _activity(0, notes="", title=None),
        _activity(1, notes=None, title=""),
        _activity(2, notes="∅ «x» \U0001f9ea\x00", title=" "),
    ]
    path = workdir / "empty-vs-none.pq"
    clen_core.write(objs, path)
    back = list(clen_core.read(path, entity="activity"))
    assert back == objs
    assert [(o.notes, o.title) for o in back] == [("", None), (None, ""), (objs[2].notes, " ")]


def test_writing_nothing_gives_a_valid_empty_file_with_the_schema(workdir: Path) -> None:
    path = workdir / "none.parquet"
    assert clen_core.write([], path, entity="activity").rows == {"activity": 0}
    assert pq.read_schema(path).equals(clen_core.arrow_schema("activity"))
    assert pq.read_metadata(path).num_rows == 0
    assert list(clen_core.read(path, entity="activity")) == []


# --------------------------------------------------------------------------- layout


@pytest.mark.parametrize("name", ENTITY_NAMES)
def test_the_file_holds_the_entity_schema_with_its_metadata(
    name: str, reference_folder: Path
) -> None:
    path = reference_folder / f"{name}.parquet"
    expected = clen_core.arrow_schema(name)
    schema = pq.read_schema(path)
    # Types, names, nullability (Parquet names list items "element"; Arrow types ignore that).
    assert schema.equals(expected)
    assert schema.metadata == expected.metadata
    assert schema.metadata[b"clen_core.entity"] == name.encode()
    assert schema.metadata[b"clen_core.version"] == clen_core.__version__.encode()
    assert schema.metadata[b"clen_core.schema_version"] == str(get_entity(name).version).encode()
    for field in expected:
        assert schema.field(field.name).metadata == field.metadata, field.name
        assert b"description" in field.metadata
    meta = pq.read_metadata(path)
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        for c in range(group.num_columns):
            assert group.column(c).compression == "ZSTD"


def test_each_batch_is_a_row_group(workdir: Path) -> None:
    path = workdir / "groups.parquet"
    clen_core.write((_activity(i) for i in range(25)), path, batch_rows=10)
    meta = pq.read_metadata(path)
    assert [meta.row_group(g).num_rows for g in range(meta.num_row_groups)] == [10, 10, 5]


def test_rows_are_numbered_across_row_groups(workdir: Path) -> None:
    path = workdir / "numbered.parquet"
    table = clen_core.to_arrow([_activity(i) for i in range(25)], "activity")
    participants = [-1 if i == 17 else v for i, v in enumerate(table["participants"].to_pylist())]
    index = table.schema.get_field_index("participants")
    table = table.set_column(index, table.schema.field(index), pa.array(participants, pa.int64()))
    pq.write_table(table, path, row_group_size=10)
    assert pq.read_metadata(path).num_row_groups == 3
    reader = clen_core.read(path, entity="activity", on_reject="collect")
    assert len(list(reader)) == 24
    assert [(r.row, r.field, r.value) for r in reader.rejects] == [(18, "participants", -1)]


# --------------------------------------------------------------------------- peers


def _sql(query: str) -> Any:
    """A DuckDB relation of a query (in-memory database)."""
    rel = duckdb.sql(query)
    assert rel is not None
    return rel


def _duckdb_type(t: pa.DataType) -> str:
    if pa.types.is_dictionary(t) or pa.types.is_string(t):
        return "VARCHAR"
    if pa.types.is_list(t):
        return _duckdb_type(t.value_type) + "[]"
    if pa.types.is_map(t):
        return f"MAP({_duckdb_type(t.key_type)}, {_duckdb_type(t.item_type)})"
    if pa.types.is_decimal(t):
        return f"DECIMAL({t.precision},{t.scale})"
    names = {pa.int64(): "BIGINT", pa.float64(): "DOUBLE", pa.bool_(): "BOOLEAN"}
    return names.get(t, "DATE" if pa.types.is_date32(t) else str(t))


def _duckdb_type_ok(got: str, t: pa.DataType) -> bool:
    # An enum may come as DuckDB's own ENUM type; it is text either way.
    return got == _duckdb_type(t) or (pa.types.is_dictionary(t) and got.startswith("ENUM("))


def _polars_type_ok(got: Any, t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        return got in (pl.Categorical, pl.String) or isinstance(got, pl.Enum)
    if pa.types.is_string(t):
        return bool(got == pl.String)
    if pa.types.is_list(t):
        return isinstance(got, pl.List) and _polars_type_ok(got.inner, t.value_type)
    if pa.types.is_map(t):
        if hasattr(pl, "Map") and isinstance(got, pl.Map):
            return _polars_type_ok(got.key, t.key_type) and _polars_type_ok(got.value, t.item_type)
        if not (isinstance(got, pl.List) and isinstance(got.inner, pl.Struct)):
            return False
        fields = {f.name: f.dtype for f in got.inner.fields}
        return (
            set(fields) == {"key", "value"}
            and _polars_type_ok(fields["key"], t.key_type)
            and _polars_type_ok(fields["value"], t.item_type)
        )
    if pa.types.is_decimal(t):
        return isinstance(got, pl.Decimal) and (got.precision, got.scale) == (t.precision, t.scale)
    expected = {pa.int64(): pl.Int64, pa.float64(): pl.Float64, pa.bool_(): pl.Boolean}
    return bool(got == expected.get(t, pl.Date if pa.types.is_date32(t) else None))


def _plain(value: Any) -> Any:
    """A value as peers give it back: text for enums, lists, dicts (maps as list of pairs too)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if value and all(isinstance(v, Mapping) and set(v) == {"key", "value"} for v in value):
            return {v["key"]: _plain(v["value"]) for v in value}
        return [_plain(v) for v in value]
    return value


def _expected_rows(name: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    names = list(get_entity(name).field_names)
    objs: list[Any] = reference_dataset().records(name)
    return names, [tuple(_plain(getattr(o, f)) for f in names) for o in objs]


@pytest.mark.parametrize("name", ENTITY_NAMES)
def test_duckdb_reads_every_entity_file(name: str, reference_folder: Path) -> None:
    path = reference_folder / f"{name}.parquet"
    schema = clen_core.arrow_schema(name)
    rel = _sql(f"SELECT * FROM read_parquet('{path}')")
    assert rel.columns == schema.names
    for column, got in zip(schema, rel.types, strict=True):
        assert _duckdb_type_ok(str(got), column.type), (column.name, str(got))
    _, expected = _expected_rows(name)
    assert [tuple(_plain(v) for v in row) for row in rel.fetchall()] == expected
    assert len(expected) > 0
    # The key identifies the rows for DuckDB too.
    key = ", ".join(f'"{k}"' for k in get_entity(name).key)
    query = f"SELECT count(DISTINCT ({key})) FROM read_parquet('{path}')"
    assert _sql(query).fetchall() == [(len(expected),)]


@pytest.mark.parametrize("name", ENTITY_NAMES)
def test_polars_reads_every_entity_file(name: str, reference_folder: Path) -> None:
    path = reference_folder / f"{name}.parquet"
    schema = clen_core.arrow_schema(name)
    df = pl.read_parquet(path)
    assert df.columns == schema.names
    for column in schema:
        assert _polars_type_ok(df.schema[column.name], column.type), (
            column.name,
            df.schema[column.name],
        )
    _, expected = _expected_rows(name)
    assert [tuple(_plain(v) for v in row) for row in df.iter_rows()] == expected


@pytest.mark.parametrize("name", ENTITY_NAMES)
def test_files_written_by_peers_read_back_as_the_same_objects(
    name: str, reference_folder: Path, tmp_path: Path
) -> None:
    source = reference_folder / f"{name}.parquet"
    by_polars, by_duckdb = tmp_path / "polars.parquet", tmp_path / "duckdb.parquet"
    pl.read_parquet(source).write_parquet(by_polars)
    _sql(f"COPY (SELECT * FROM read_parquet('{source}')) TO '{by_duckdb}' (FORMAT parquet)")
    expected: list[Any] = reference_dataset().records(name)
    assert list(clen_core.read(by_polars, entity=name)) == expected
    assert list(clen_core.read(by_duckdb, entity=name)) == expected


def test_peers_see_the_values_clen_core_wrote(reference_folder: Path) -> None:
    path = reference_folder / "programme.parquet"
    [(budget,)] = _sql(f"SELECT sum(budget_eur) FROM read_parquet('{path}')").fetchall()
    assert budget == sum(p.budget_eur for p in reference_dataset().records(Programme))
    assert isinstance(budget, Decimal)
    path = reference_folder / "activity.parquet"
    rows = _sql(
        f"SELECT activity_id, start, kind FROM read_parquet('{path}') ORDER BY activity_id"
    ).fetchall()
    acts = sorted(reference_dataset().records(Activity), key=lambda a: a.activity_id)
    assert rows == [(a.activity_id, a.start, a.kind.value) for a in acts]


# --------------------------------------------------------------------------- bad input


def _read_all(path: Path, entity: str = "activity") -> list[Any]:
    return list(clen_core.read(path, entity=entity, format="parquet"))


@pytest.mark.parametrize(
    "content",
    [b"", os.urandom(300), b"PAR1" + os.urandom(100), b"lab_id,name\nAT-1,Vienna\n"],
    ids=["zero-bytes", "random", "magic-then-garbage", "csv"],
)
def test_a_file_that_is_not_parquet_is_a_format_error(workdir: Path, content: bytes) -> None:
    path = workdir / "bad.parquet"
    path.write_bytes(content)
    with pytest.raises(FormatError, match="not a Parquet file") as exc:
        _read_all(path)
    assert exc.value.path == str(path)
    assert str(path) in str(exc.value)


@pytest.mark.parametrize("cut", [1, 8, 200])
def test_a_truncated_file_is_a_format_error(workdir: Path, cut: int) -> None:
    good = workdir / "good.parquet"
    clen_core.write([_activity(i) for i in range(50)], good)
    bad = workdir / "truncated.parquet"
    bad.write_bytes(good.read_bytes()[:-cut])
    with pytest.raises(FormatError) as exc:
        _read_all(bad)
    assert exc.value.path == str(bad)


def test_another_entity_file_is_a_format_error(reference_folder: Path) -> None:
    with pytest.raises(FormatError, match="'laboratory' records") as exc:
        _read_all(reference_folder / "laboratory.parquet", "activity")
    assert "activity" in str(exc.value)


def test_an_unknown_column_is_a_format_error(workdir: Path) -> None:
    path = workdir / "extra.parquet"
    pq.write_table(_plain_activities(colour=pa.array(["red", "blue"])), path)
    with pytest.raises(FormatError, match="colour") as exc:
        _read_all(path)
    assert exc.value.field == "colour"


def test_a_missing_required_column_is_a_format_error(workdir: Path) -> None:
    path = workdir / "missing.parquet"
    pq.write_table(_plain_activities(country=None), path)
    with pytest.raises(FormatError, match="missing") as exc:
        _read_all(path)
    assert exc.value.field == "country"


def test_a_missing_optional_column_leaves_the_field_missing(workdir: Path) -> None:
    path = workdir / "no-participants.parquet"
    pq.write_table(_plain_activities(participants=None), path)
    assert [a.participants for a in _read_all(path)] == [None, None]


@pytest.mark.parametrize(
    ("column", "values", "got"),
    [
        ("participants", pa.array(["40", "x"]), "string"),
        ("start", pa.array([1, 2], pa.int32()), "int32"),
        ("action", pa.array([5.0, 2.0]), "double"),
        ("kind", pa.array([1, 2], pa.int64()), "int64"),
        ("participants", pa.array([40, 1], pa.uint64()), "uint64"),
    ],
)
def test_a_column_of_an_unfit_type_is_a_format_error_naming_both_types(
    workdir: Path, column: str, values: pa.Array, got: str
) -> None:
    path = workdir / "unfit.parquet"
    pq.write_table(_plain_activities(**{column: values}), path)
    with pytest.raises(FormatError) as exc:
        _read_all(path)
    assert exc.value.field == column
    expected = clen_core.arrow_schema("activity").field(column).type
    assert got in str(exc.value)
    assert str(expected) in str(exc.value)


def test_a_file_by_plain_pyarrow_with_compatible_types_reads_fine(workdir: Path) -> None:
    path = workdir / "plain.parquet"
    table = _plain_activities(
        participants=pa.array([40, None], pa.int32()),
        action=pa.array([5, 2], pa.int8()),
        kind=pa.array(["workshop", "seminar"], pa.large_string()),
        theme=pa.array(["Gemmology", "Textiles"]).dictionary_encode(),
        notes=pa.array([None, None], pa.null()),
    )
    pq.write_table(table, path, compression="snappy")
    acts = _read_all(path)
    assert [(a.activity_id, a.kind, a.action, a.participants, a.theme) for a in acts] == [
        ("X-1", ActivityKind.WORKSHOP, 5, 40, "Gemmology"),
        ("X-2", ActivityKind.SEMINAR, 2, None, "Textiles"),
    ]
    assert acts[0].start == dt.date(2023, 5, 2)


def test_compatible_decimals_floats_and_nested_types_read_fine(workdir: Path) -> None:
    path = workdir / "funded.parquet"
    table = pa.table(
        {
            "funded_action_id": ["F-1"],
            "programme_id": ["CUSTOMS-2021-2027"],
            "action_type": ["seminars_workshops"],
            "title": ["Équipement"],
            "budget_eur": pa.array([Decimal("1250.5")], pa.decimal128(10, 1)),
            "year": pa.array([2022], pa.int16()),
        }
    )
    pq.write_table(table, path)
    (fa,) = _read_all(path, "funded_action")
    assert fa.budget_eur == Decimal("1250.50")
    assert fa.year == 2022
    path = workdir / "posts.parquet"
    table = pa.table(
        {
            "post_id": ["P-1"],
            "host_country": ["CN"],
            "covered_countries": pa.array([["CN", "MN"]], pa.large_list(pa.large_string())),
            "focus": pa.array([[]], pa.list_(pa.string())),
        }
    )
    pq.write_table(table, path)
    (post,) = _read_all(path, "attache_post")
    assert post.covered_countries == ("CN", "MN")


def test_invalid_values_become_rejects_and_good_rows_are_kept(workdir: Path) -> None:
    path = workdir / "invalid.parquet"
    table = pa.table(
        {
            "activity_id": ["G-1", "B-1", "B-2", "G-2", "B-3"],
            "action": pa.array([1, 2, 3, 4, 9], pa.int32()),
            "kind": ["workshop", "seminar", "party", "plenary", "other"],
            "theme": ["T"] * 5,
            "city": ["Vienna"] * 5,
            "country": ["AT", "XX", "DE", "FR", "IT"],
            "start": [dt.date(2024, 1, 2)] * 5,
            "end": [dt.date(2024, 1, 3)] * 5,
            "participants": pa.array([10, -3, 5, None, 7], pa.int32()),
        }
    )
    pq.write_table(table, path)
    reader = clen_core.read(path, entity="activity", on_reject="collect")
    good = list(reader)
    assert [a.activity_id for a in good] == ["G-1", "G-2"]
    assert (reader.read_rows, reader.accepted, reader.rejected) == (5, 2, 3)
    assert reader.read_rows == reader.accepted + reader.rejected
    assert {(r.row, r.field, r.value) for r in reader.rejects} == {
        (2, "country", "XX"),
        (2, "participants", -3),
        (3, "kind", "party"),
        (5, "action", 9),
    }
    assert all(r.file == str(path) for r in reader.rejects)
    # By default the rejects are raised, after every good row.
    seen: list[str] = []

    def consume() -> None:
        seen.extend(a.activity_id for a in clen_core.read(path, entity="activity"))

    with pytest.raises(clen_core.RejectedRowsError) as exc:
        consume()
    assert seen == ["G-1", "G-2"]
    assert (exc.value.read, exc.value.rejected) == (5, 3)


def test_many_distinct_bad_enum_values_are_rejects_not_a_crash(workdir: Path) -> None:
    n = 300  # more distinct values than the enum's int8 dictionary index holds
    path = workdir / "kinds.parquet"
    table = _plain_activities().take([0] * n)
    kinds = ["workshop" if i % 2 else f"kind-{i}" for i in range(n)]
    table = table.set_column(table.schema.get_field_index("kind"), "kind", pa.array(kinds))
    pq.write_table(table, path)
    reader = clen_core.read(path, entity="activity", on_reject="collect", max_rejects=n)
    assert len(list(reader)) == n // 2
    assert reader.rejected == n // 2
    assert {r.field for r in reader.rejects} == {"kind"}


# --------------------------------------------------------------------------- atomic writes


def test_a_failing_write_leaves_the_previous_file_and_no_temporary(workdir: Path) -> None:
    folder = workdir / "atomic"
    path = folder / "activity.parquet"
    clen_core.write([_activity(i) for i in range(5)], path)
    before = path.read_bytes()

    def failing() -> Iterator[Activity]:
        for i in range(25):
            yield _activity(i)
        raise RuntimeError("source broke half-way")

    with pytest.raises(RuntimeError, match="half-way"):
        clen_core.write(failing(), path, batch_rows=10)
    assert path.read_bytes() == before
    assert [p.name for p in folder.iterdir()] == ["activity.parquet"]
    assert not list(folder.glob(".*.clen-tmp"))
    assert len(_read_all(path)) == 5


# --------------------------------------------------------------------------- datasets


def test_a_dataset_goes_to_a_folder_of_parquet_files_and_back(tmp_path: Path) -> None:
    ds = reference_dataset()
    result = clen_core.write(ds, tmp_path / "ds")
    assert sorted(p.name for p in result.paths) == sorted(f"{n}.parquet" for n in ds.counts())
    back = clen_core.read_dataset(tmp_path / "ds")
    assert back == ds
    assert back.counts() == ds.counts()
    assert isinstance(back, Dataset)


# --------------------------------------------------------------------------- streaming


def _peak_while(n: int, path: Path) -> tuple[int, int]:
    """Peak Arrow memory (above the start) while writing, then reading, ``n`` activities."""
    block = [_activity(i) for i in range(10_000)]
    start = pa.total_allocated_bytes()
    peak_write = peak_read = 0

    def source() -> Iterator[Activity]:
        nonlocal peak_write
        for i, obj in enumerate(itertools.islice(itertools.cycle(block), n)):
            if i % 1000 == 0:
                peak_write = max(peak_write, pa.total_allocated_bytes() - start)
            yield obj

    # Small batches, so that both files span several: memory follows the batch, not the file.
    assert clen_core.write(source(), path, batch_rows=10_000).rows == {"activity": n}
    count = 0
    for count, _ in enumerate(clen_core.read(path, entity="activity"), 1):
        if count % 1000 == 0:
            peak_read = max(peak_read, pa.total_allocated_bytes() - start)
    assert count == n
    return peak_write, peak_read


def test_writing_and_reading_stream_in_bounded_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Read batches are gathered to this size.
    monkeypatch.setattr(clen_core.io.readwrite, "DEFAULT_BATCH_ROWS", 10_000)
    small = _peak_while(50_000, tmp_path / "small.parquet")
    large = _peak_while(500_000, tmp_path / "large.parquet")
    assert pq.read_metadata(tmp_path / "large.parquet").num_row_groups == 50
    for s, big in zip(small, large, strict=True):
        # Ten times the rows, about the same memory: a batch or row group at a time.
        assert big <= 3 * max(s, 1 << 20), (small, large)
        assert big < 64 << 20, (small, large)


class _Colour(enum.StrEnum):
    RED = "red"
    BLUE = "blue"


@declare_entity("tst_colours", key="cid", register=False)
class _Colours:
    """A plugin entity with a list of enum values."""

    cid: str = declare_field("Id.")
    colours: tuple[_Colour, ...] = declare_field("Colours.", default=())


class _ColoursPlugin:
    @clen_core.hookimpl
    def clen_register_entities(self, register: Any) -> None:
        register(_Colours)


def test_list_of_enum_reads_across_row_groups(tmp_path: Path) -> None:
    # pyarrow cannot build a batch of nested dictionaries spanning two row groups.
    from clen_core.plugins import register_plugin, unregister_plugin

    register_plugin(_ColoursPlugin(), "colours")
    try:
        objs = [
            _Colours(cid=str(i), colours=(_Colour.RED, _Colour.BLUE)[: i % 3])
            for i in range(25_000)
        ]
        clen_core.write(objs, tmp_path / "c.parquet", batch_rows=7_000)
        assert pq.ParquetFile(tmp_path / "c.parquet").num_row_groups == 4
        assert list(clen_core.read(tmp_path / "c.parquet", entity="tst_colours")) == objs
    finally:
        unregister_plugin("colours")


class _CountingSink(io.BytesIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, data: Any) -> int:
        self.writes += 1
        return super().write(data)


def test_the_file_gets_its_bytes_a_megabyte_at_a_time() -> None:
    # Each write to a Python file takes the GIL, which the thread converting objects holds:
    # pyarrow's many small writes go through a native buffer first.
    objs = [_activity(i) for i in range(100_000)]
    batches = clen_core.to_arrow(objs, "activity").to_batches(max_chunksize=10_000)
    sink = _CountingSink()
    get_format("parquet").write(sink, get_entity("activity"), batches)  # type: ignore[misc]
    assert not sink.closed  # its owner (an atomic file) syncs and closes it
    size = len(sink.getvalue())
    assert sink.writes <= size // (1 << 20) + 2, (sink.writes, size)
    table = pq.read_table(pa.BufferReader(sink.getvalue()))
    assert table.num_rows == len(objs)
    assert table.column("activity_id").to_pylist() == [o.activity_id for o in objs]


@pytest.mark.parametrize("name", [e.name for e in entities()])
def test_every_column_is_dictionary_encoded_but_a_one_field_key(name: str, tmp_path: Path) -> None:
    # A one-field key is unique: a dictionary of it costs time and space for nothing.
    info = get_entity(name)
    objs = list(reference_dataset().records(name)) or None
    if objs is None:
        pytest.skip(f"no {name} in the reference dataset")
    path = tmp_path / f"{name}.parquet"
    clen_core.write(objs, path)
    group = pq.read_metadata(path).row_group(0)
    for i in range(group.num_columns):
        chunk = group.column(i)
        if chunk.statistics is not None and chunk.statistics.null_count == chunk.num_values:
            continue  # nothing but nulls: no page to encode
        if chunk.physical_type == "BOOLEAN":
            continue  # Parquet has no dictionary encoding for booleans
        expect = not (len(info.key) == 1 and chunk.path_in_schema == info.key[0])
        assert chunk.has_dictionary_page is expect, chunk.path_in_schema
