"""clen_core.io.parquet: the one Parquet reader and writer, of single files and of the files
of partitioned datasets alike (the Parquet plugin only registers it)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import clen_core_parquet
from clen_core.errors import ArgumentError, FormatError
from clen_core.io import parquet
from clen_core.io.formats import get_format
from clen_core.io.partitioned import PARTITION_META, open_partitioned, write_partitioned
from clen_core.model import get_entity
from clen_core.schema.arrow import arrow_schema
from clen_core.synth import generate_batches

Encoding = tuple[str, tuple[str, ...], bool]


def test_the_parquet_format_is_the_module() -> None:
    fmt = get_format("parquet")
    assert (fmt.plugin, fmt.extensions) == ("parquet", clen_core_parquet.PARQUET.extensions)
    assert fmt.read is parquet.read
    assert fmt.read_batches is parquet.read_batches
    assert fmt.write is parquet.write


def _encodings(*files: Path) -> dict[str, set[Encoding]]:
    """Per column: each (compression, encodings, dictionary page?) found in the files."""
    out: dict[str, set[Encoding]] = {}
    for file in files:
        meta = pq.read_metadata(file)
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            for i in range(group.num_columns):
                chunk = group.column(i)
                if chunk.statistics is not None and chunk.statistics.null_count == chunk.num_values:
                    continue  # nothing but nulls (an optional field, in one partition): no page
                found = (
                    chunk.compression,
                    tuple(sorted(chunk.encodings)),
                    chunk.has_dictionary_page,
                )
                out.setdefault(chunk.path_in_schema, set()).add(found)
    return out


@pytest.mark.parametrize("keys", ["", "country", "year,country"])
def test_a_partitioned_dataset_is_encoded_as_a_single_file_is(tmp_path: Path, keys: str) -> None:
    # One writer: same compression, dictionaries (all but the one-field key) and metadata.
    info = get_entity("activity")
    batches = list(generate_batches(info, 3_000, seed=7))
    single = tmp_path / "activity.parquet"
    with open(single, "wb") as sink:
        get_format("parquet").write(sink, info, batches)  # type: ignore[misc]
    write_partitioned(batches, tmp_path / "ds", entity="activity", partition_by=keys)
    files = sorted((tmp_path / "ds").rglob("*.parquet"))
    assert len(files) > (1 if keys else 0)

    one, many = _encodings(single), _encodings(*files)
    derived = {"year"} & set(keys.split(","))
    assert set(many) == set(one) | derived
    for column, found in one.items():
        assert many[column] == found, column
    assert one[info.key[0]] == {("ZSTD", ("PLAIN", "RLE"), False)}  # the key: no dictionary
    assert one["country"] == {("ZSTD", ("PLAIN", "RLE", "RLE_DICTIONARY"), True)}
    for column in derived:
        assert many[column] == one["country"], column

    expected = dict(pq.read_schema(single).metadata)
    for file in files:
        meta = dict(pq.read_schema(file).metadata)
        assert meta.pop(PARTITION_META) == keys.encode()
        assert meta == expected, file


def test_partitioned_files_are_opened_through_the_one_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[Any] = []

    def counting(*args: Any, **options: Any) -> parquet.Writer:
        opened.append(args[0])
        return parquet.Writer(*args, **options)

    monkeypatch.setattr(parquet, "open_writer", counting)
    written = write_partitioned(
        generate_batches("activity", 500), tmp_path / "ds", entity="activity",
        partition_by="country",
    )  # fmt: skip
    assert len(opened) == len(written.paths) > 1
    assert all(sink.closed for sink in opened)


def test_the_reader_leaves_out_the_extra_columns_it_is_told_of(tmp_path: Path) -> None:
    info = get_entity("activity")
    write_partitioned(
        generate_batches(info, 200), tmp_path / "ds", entity="activity", partition_by="year"
    )
    file = next((tmp_path / "ds").rglob("*.parquet"))
    assert pq.read_schema(file).names[-1] == "year"
    with open(file, "rb") as source, pytest.raises(FormatError, match=r"'year'.* not fields"):
        list(parquet.read_batches(source, info, str(file)))
    with open(file, "rb") as source:
        raws = list(parquet.read_batches(source, info, str(file), extra_columns=("year",)))
    assert raws[0].batch.schema.names == list(info.field_names)
    assert sum(len(r.rows) for r in raws) == parquet.count_rows(file)
    assert open_partitioned(tmp_path / "ds").to_table().num_rows == 200


def test_the_writer_refuses_a_schema_that_is_not_the_entitys(tmp_path: Path) -> None:
    info = get_entity("activity")
    base = arrow_schema(info)
    for schema in (
        pa.schema([pa.field("x", pa.int64())]),
        pa.schema(list(base)[1:], metadata=base.metadata),  # a field missing
        base.remove_metadata(),  # the entity's metadata lost
        arrow_schema("laboratory"),
    ):
        with pytest.raises(ArgumentError, match="must begin with its fields"):
            parquet.open_writer(io.BytesIO(), info, schema)
    extended = base.append(pa.field("year", pa.int32()))
    with parquet.open_writer(io.BytesIO(), info, extended) as writer:
        assert writer.schema.names[-1] == "year"


def test_the_writer_streams_batches_and_tables_and_leaves_the_sink_open() -> None:
    info = get_entity("activity")
    batches = list(generate_batches(info, 1_000, batch_rows=300))
    sink = io.BytesIO()
    with parquet.open_writer(sink, info) as writer:
        writer.write(batches[0])  # one row group
        writer.write(batches[0].slice(0, 0))  # nothing: no row group
        writer.write(pa.Table.from_batches(batches[1:]), row_group_rows=250)
        assert writer.rows == 1_000
    writer.close()  # twice is fine
    with pytest.raises(ArgumentError, match="closed"):
        writer.write(batches[0])
    assert not sink.closed
    meta = pq.read_metadata(pa.BufferReader(sink.getvalue()))
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [300, 250, 250, 200]


def test_footers_are_read_with_file_errors(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.parquet", tmp_path / "bad.parquet"
    with open(good, "wb") as sink:
        parquet.write(sink, get_entity("activity"), generate_batches("activity", 42))
    bad.write_bytes(good.read_bytes()[:-20])
    assert parquet.count_rows(good) == 42
    assert parquet.read_schema(good).metadata[b"clen_core.entity"] == b"activity"
    for read in (parquet.count_rows, parquet.read_schema):
        with pytest.raises(FormatError, match=r"bad\.parquet.*footer is damaged"):
            read(bad)


def test_importing_the_module_and_the_plugin_leaves_pyarrow_parquet_unloaded() -> None:
    code = "import sys, clen_core.io.parquet, clen_core_parquet\n"
    code += "import json; print(json.dumps('pyarrow.parquet' in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) is False
