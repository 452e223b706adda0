"""Lossless round trip: every entity through every registered format that reads and writes.

Third-party formats installed in the environment are covered too: the list comes
from the registry, not from this file.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import clen_core
from clen_core.io.formats import formats
from clen_core.model import entities
from clen_core.testing import from_entity

BUILTIN = {"csv", "json", "jsonl", "parquet"}
FORMATS = [f for f in formats() if f.read is not None and f.write is not None]
# A third-party format may not be lossless (the example TSV cannot tell "" from None).
LOSSLESS = [f for f in FORMATS if f.name in BUILTIN]
ENTITIES = [e.name for e in entities()]


def test_every_builtin_format_reads_and_writes() -> None:
    assert {f.name for f in LOSSLESS} == BUILTIN


@pytest.mark.parametrize("fmt", [f.name for f in LOSSLESS])
@pytest.mark.parametrize("entity", ENTITIES)
@settings(max_examples=25)
@given(data=st.data())
def test_objects_file_objects_is_lossless(entity: str, fmt: str, data: st.DataObject) -> None:
    objs = data.draw(st.lists(from_entity(entity), max_size=4))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"x{clen_core.io.formats.get_format(fmt).extensions[0]}"
        result = clen_core.write(objs, path, entity=entity, batch_rows=3)
        assert result.rows == {entity: len(objs)}
        reader = clen_core.read(path, entity=entity)
        assert list(reader) == objs
        assert (reader.read_rows, reader.accepted, reader.rejected) == (len(objs), len(objs), 0)


@pytest.mark.parametrize("fmt", ["json", "parquet", "csv", "jsonl"])
def test_reference_dataset_round_trips_through_every_dataset_layout(
    fmt: str, tmp_path: Path
) -> None:
    from clen_core.data import reference_dataset

    ds = reference_dataset()
    clen_core.write(ds, tmp_path / "folder", format=fmt)
    assert clen_core.read_dataset(tmp_path / "folder") == ds
    if fmt == "json":
        clen_core.write(ds, tmp_path / "all.json")
        assert clen_core.read_dataset(tmp_path / "all.json") == ds
