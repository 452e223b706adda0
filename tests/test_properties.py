"""Property tests for every entity: strategies, invariants and lossless round trips."""

import csv
import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import clen_core
from clen_core.model import entities, get_entity
from clen_core.testing import entity_kwargs, from_entity, invalid_values

ENTITY_NAMES = [e.name for e in entities()]
FIELDS = [(e.name, f.name) for e in entities() for f in e.fields]


@pytest.mark.parametrize("name", ENTITY_NAMES)
@given(data=st.data())
def test_strategies_always_build_valid_objects(name: str, data: st.DataObject) -> None:
    obj = data.draw(from_entity(name))
    info = get_entity(name)
    assert info.check(obj) == []
    # Canonical values are fixed points: rebuilding from them changes nothing.
    assert info.cls(**{f: getattr(obj, f) for f in info.field_names}) == obj


@pytest.mark.parametrize(("name", "field"), FIELDS)
@settings(max_examples=25)
@given(data=st.data())
def test_breaking_a_field_is_rejected_naming_that_field(
    name: str, field: str, data: st.DataObject
) -> None:
    info = get_entity(name)
    kwargs = data.draw(entity_kwargs(name))
    bad = data.draw(invalid_values(info.field(field)), label="bad value")
    kwargs[field] = bad
    with pytest.raises(clen_core.InvalidObjectError) as exc:
        info.cls(**kwargs)
    assert field in exc.value.fields
    # Only that field is blamed: every other field was valid.
    assert set(exc.value.fields) == {field}


@pytest.mark.parametrize("name", ENTITY_NAMES)
@given(data=st.data())
def test_arrow_and_parquet_round_trip_is_lossless(name: str, data: st.DataObject) -> None:
    objs = data.draw(st.lists(from_entity(name), max_size=5))
    table = clen_core.to_arrow(objs, name)
    assert table.schema.equals(clen_core.arrow_schema(name), check_metadata=True)
    assert clen_core.from_arrow(table, name) == objs
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    back = pq.read_table(pa.BufferReader(sink.getvalue()))
    assert back.schema.equals(table.schema)
    assert clen_core.from_arrow(back, name) == objs


@pytest.mark.parametrize("name", ENTITY_NAMES)
@given(data=st.data())
def test_json_round_trip_is_lossless_and_matches_the_json_schema(
    name: str, data: st.DataObject
) -> None:
    obj = data.draw(from_entity(name))
    validator = jsonschema.Draft202012Validator(
        clen_core.json_schema(name), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    doc = json.loads(json.dumps(clen_core.to_json(obj), ensure_ascii=False))
    validator.validate(doc)
    assert clen_core.from_json(doc, name) == obj


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _csv_bytes(name: str, objs: list[Any]) -> bytes:
    info = get_entity(name)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(info.field_names)
    for obj in objs:
        row = clen_core.to_json(obj)
        writer.writerow([_csv_cell(row[f]) for f in info.field_names])
    return buf.getvalue().encode()


@pytest.mark.parametrize("name", ENTITY_NAMES)
@settings(max_examples=20)
@given(data=st.data())
def test_table_schema_accepts_every_cell_of_valid_objects(name: str, data: st.DataObject) -> None:
    import frictionless

    # Cell by cell, through frictionless' own readers: the CSV dialect is the formats' concern.
    schema = frictionless.Schema.from_descriptor(clen_core.table_schema(name))
    readers = {f.name: f.create_cell_reader() for f in schema.fields}
    obj = data.draw(from_entity(name))
    for field, value in clen_core.to_json(obj).items():
        cell = _csv_cell(value)
        read, notes = readers[field](cell)
        if value == "" or value is None:
            assert read is None
            assert not (notes or {}).keys() - {"required"}
        else:
            assert notes is None, (field, cell, notes)


def test_frictionless_validates_the_reference_dataset_as_a_package_with_its_keys(
    tmp_path: Path,
) -> None:
    import frictionless

    from clen_core.data import reference_dataset

    ds = reference_dataset()
    resources = []
    for info in ds.entities:
        (tmp_path / f"{info.name}.csv").write_bytes(_csv_bytes(info.name, ds.records(info.name)))
        resources.append(
            {
                "name": info.name,
                "path": f"{info.name}.csv",
                "format": "csv",
                "schema": clen_core.table_schema(info),
            }
        )
    package = frictionless.Package({"resources": resources}, basepath=str(tmp_path))
    report = package.validate()
    assert report.valid, report.flatten(["taskName", "rowNumber", "fieldName", "type", "note"])
    assert report.stats["tasks"] == len(ds.entities)


def test_frictionless_finds_a_broken_foreign_key(tmp_path: Path) -> None:
    import frictionless

    rows = {"project_group": [], "action": []}
    (tmp_path / "action.csv").write_bytes(_csv_bytes("action", []))
    group = clen_core.ProjectGroup(group_id="G", action=5, theme="T")
    (tmp_path / "project_group.csv").write_bytes(_csv_bytes("project_group", [group]))
    package = frictionless.Package(
        {
            "resources": [
                {
                    "name": n,
                    "path": f"{n}.csv",
                    "format": "csv",
                    "schema": clen_core.table_schema(n),
                }
                for n in rows
            ]
        },
        basepath=str(tmp_path),
    )
    report = package.validate()
    assert [e[0] for e in report.flatten(["type"])] == ["foreign-key"]
