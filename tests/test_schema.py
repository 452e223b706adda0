"""Each derived form agrees with the declarations: Arrow, JSON Schema, Table Schema, docs."""

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import frictionless
import jsonschema
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import clen_core
from clen_core._docs import PAGES
from clen_core.codes import get_code_system
from clen_core.model import entities, get_entity
from clen_core.model.fields import FieldInfo, ListShape, MapShape, ScalarShape
from clen_core.schema.arrow import int_range

INFOS = entities()
IDS = [i.name for i in INFOS]
FIELDS = [(i.name, f) for i in INFOS for f in i.fields]
FIELD_IDS = [f"{n}.{f.name}" for n, f in FIELDS]
DOCS = Path(__file__).parents[1] / "docs"

# What each Python type must become in Arrow, stated independently of the mapping code.
ARROW_CHECK = {
    str: pa.types.is_string,
    int: pa.types.is_int64,
    float: pa.types.is_float64,
    bool: pa.types.is_boolean,
    Decimal: pa.types.is_decimal128,
    dt.date: pa.types.is_date32,
}


def _arrow_agrees(shape: object, t: pa.DataType) -> bool:
    if isinstance(shape, ListShape):
        return pa.types.is_list(t) and _arrow_agrees(shape.item, t.value_type)
    if isinstance(shape, MapShape):
        return pa.types.is_map(t) and _arrow_agrees(shape.value, t.item_type)
    assert isinstance(shape, ScalarShape)
    if shape.enum is not None:
        return pa.types.is_dictionary(t) and pa.types.is_string(t.value_type)
    return ARROW_CHECK[shape.py](t)


@pytest.mark.parametrize(("name", "f"), FIELDS, ids=FIELD_IDS)
def test_arrow_field_matches_the_declaration(name: str, f: FieldInfo) -> None:
    field = clen_core.arrow_schema(name).field(f.name)
    assert _arrow_agrees(f.shape, field.type), field.type
    assert field.nullable == f.optional
    assert field.metadata[b"description"].decode() == f.description
    if f.spec.code is not None:
        assert field.metadata[b"code"].decode() == f.spec.code
    if f.spec.ref is not None:
        assert field.metadata[b"ref"].decode() == f.spec.ref
    if f.scalar.py is Decimal:
        assert (field.type.precision, field.type.scale) == (f.spec.precision, f.spec.scale)


@pytest.mark.parametrize("name", IDS)
def test_arrow_schema_carries_entity_and_versions(name: str) -> None:
    info = get_entity(name)
    meta = clen_core.arrow_schema(name).metadata
    assert meta[b"clen_core.entity"].decode() == name
    assert meta[b"clen_core.schema_version"].decode() == str(info.version)
    assert meta[b"clen_core.version"].decode() == clen_core.__version__
    assert clen_core.arrow_schema(name).names == list(info.field_names)


@pytest.mark.parametrize("name", IDS)
def test_json_schema_is_valid_draft_2020_12(name: str) -> None:
    schema = clen_core.json_schema(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    info = get_entity(name)
    assert list(schema["properties"]) == list(info.field_names)
    assert schema["required"] == [f.name for f in info.fields if f.is_required]
    assert schema["additionalProperties"] is False


def _json_inner(prop: dict[str, object]) -> dict[str, object]:
    any_of = prop.get("anyOf")
    if isinstance(any_of, list) and {"type": "null"} in any_of:
        (inner,) = [s for s in any_of if s != {"type": "null"}]
        return inner  # type: ignore[no-any-return]
    return prop


@pytest.mark.parametrize(("name", "f"), FIELDS, ids=FIELD_IDS)
def test_json_schema_property_matches_the_declaration(name: str, f: FieldInfo) -> None:
    prop = clen_core.json_schema(name)["properties"][f.name]
    assert prop["description"] == f.description
    assert ("anyOf" in prop) == f.optional
    inner = _json_inner(prop)
    if isinstance(f.shape, ListShape):
        assert inner["type"] == "array"
        inner = inner["items"]
    elif isinstance(f.shape, MapShape):
        assert inner["type"] == "object"
        if f.spec.key_code:
            assert inner["propertyNames"]["pattern"] == get_code_system(f.spec.key_code).pattern
        inner = inner["additionalProperties"]
        if isinstance(f.shape.value, ListShape):
            inner = inner["items"]
    enum = f.scalar.enum
    if enum is not None:
        assert inner["enum"] == [m.value for m in enum]
    if f.spec.code is not None:
        assert inner["pattern"] == get_code_system(f.spec.code).pattern
    s = f.spec
    for attr, keyword in (("ge", "minimum"), ("gt", "exclusiveMinimum"), ("le", "maximum")):
        if getattr(s, attr) is not None and f.scalar.py in (int, float):
            assert inner[keyword] == getattr(s, attr)
    if f.scalar.py is str and s.max_length is not None and not isinstance(f.shape, MapShape):
        assert inner["maxLength"] == s.max_length


@pytest.mark.parametrize(("name", "f"), FIELDS, ids=FIELD_IDS)
def test_table_schema_field_matches_the_declaration(name: str, f: FieldInfo) -> None:
    (field,) = [x for x in clen_core.table_schema(name)["fields"] if x["name"] == f.name]
    constraints = field.get("constraints", {})
    expected_type = (
        "array"
        if isinstance(f.shape, ListShape)
        else "object"
        if isinstance(f.shape, MapShape)
        else "string"
        if f.scalar.enum is not None
        else {str: "string", int: "integer", float: "number", bool: "boolean",
              Decimal: "number", dt.date: "date"}[f.scalar.py]
    )  # fmt: skip
    assert field["type"] == expected_type
    assert field["description"] == f.description
    assert constraints.get("required", False) == f.is_required
    if f.scalar.enum is not None and isinstance(f.shape, ScalarShape):
        assert constraints["enum"] == [m.value for m in f.scalar.enum]


@pytest.mark.parametrize("name", IDS)
def test_table_schema_is_valid_for_frictionless(name: str) -> None:
    descriptor = clen_core.table_schema(name)
    assert frictionless.Schema.validate_descriptor(descriptor).valid
    schema = frictionless.Schema.from_descriptor(descriptor)
    assert schema.primary_key == list(get_entity(name).key)


def test_table_schema_rejects_cells_that_break_declarations() -> None:
    schema = frictionless.Schema.from_descriptor(clen_core.table_schema("activity"))

    def notes(field: str, cell: str) -> dict[str, str] | None:
        return schema.get_field(field).create_cell_reader()(cell)[1]  # type: ignore[no-any-return]

    assert notes("participants", "-1")
    assert notes("action", "7")
    assert notes("kind", "party")
    assert notes("country", "ZZZ")
    assert notes("start", "2016-13-01")
    assert notes("theme", "x" * 201)
    assert notes("theme", "")  # required


@pytest.mark.parametrize("name", IDS)
def test_json_schema_rejects_what_the_declarations_refuse(name: str) -> None:
    info = get_entity(name)
    validator = jsonschema.Draft202012Validator(clen_core.json_schema(name))
    for f in info.fields:
        if f.is_required:
            assert not validator.is_valid({}), f.name
        if isinstance(f.shape, ScalarShape) and f.shape.enum is not None:
            errs = list(validator.iter_errors({f.name: "not-a-member"}))
            assert any(e.path and e.path[0] == f.name for e in errs)
    assert any(e.validator == "additionalProperties" for e in validator.iter_errors({"zz": 1}))


def test_together_constraint_is_expressed_in_json_schema() -> None:
    base = clen_core.to_json(
        clen_core.AnalysisResult(
            result_id="R", sample_id="S", method_id="M", analyte="x", value=1.0, unit="g"
        )
    )
    validator = jsonschema.Draft202012Validator(clen_core.json_schema("analysis_result"))
    assert validator.is_valid(base)
    assert validator.is_valid(base | {"limit": 2.0, "limit_type": "upper"})
    assert not validator.is_valid(base | {"limit": 2.0})
    assert not validator.is_valid(base | {"limit_type": "upper"})


@pytest.mark.parametrize(("page", "make"), PAGES.items())
def test_generated_docs_are_current(page: str, make: Callable[[], str]) -> None:
    committed = (DOCS / page).read_text(encoding="utf-8")
    assert committed == make(), f"docs/{page} is stale: run `python -m clen_core._docs docs`"


def test_docs_list_every_rule_and_every_field() -> None:
    rules_md = (DOCS / "rules.md").read_text(encoding="utf-8")
    for r in clen_core.rules.rules():
        assert f"`{r.id}`" in rules_md
    model_md = (DOCS / "data-model.md").read_text(encoding="utf-8")
    for info in INFOS:
        for f in info.fields:
            assert f"| `{f.name}` |" in model_md


@settings(max_examples=200, deadline=None)
@given(st.integers(-(10**12), 10**12), st.integers(-5, 300_000))
def test_int_range_is_range(start: int, n: int) -> None:
    # Sizes past the first 65,536 make the shared counting array grow.
    got = int_range(start, start + n)
    assert got.type == pa.int64()
    assert got.to_pylist() == list(range(start, start + n))
