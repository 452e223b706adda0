"""The columnar JSON encoder of ``clen_core_json`` writes exactly what the per-row one did.

The JSON and JSON Lines writers build each column's JSON text with Arrow compute
kernels and join the columns into lines; the per-row encoder (a JSON-ready dict per
row, :func:`clen_core.io.records.json_rows`, then ``json.dumps``) is kept as the
fallback and is the oracle here: for every entity, and for any values Arrow holds in
an entity's schema, the two give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import json
import struct
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import clen_core
import clen_core_json
from clen_core.data import reference_dataset
from clen_core.io.records import json_rows, json_value
from clen_core.model import EntityInfo, entities, get_entity
from clen_core.model.fields import ScalarShape
from clen_core.schema.arrow import arrow_schema
from clen_core.testing import from_entity

ENTITY_NAMES = [e.name for e in entities()]
ENDS = ("\n", ",\n")  # JSON Lines; a JSON document (whose writer drops the last ",\n")


def _oracle(batch: pa.RecordBatch, info: EntityInfo, end: str) -> bytes:
    """What the per-row encoder writes for ``batch``, ``end`` after every record."""
    return clen_core_json._encode_rows(json_rows(batch, info), end) + end.encode()


def _encoded(batch: pa.RecordBatch, info: EntityInfo, end: str) -> bytes:
    return bytes(clen_core_json._encode_batch(batch, info, end))


def _assert_same(batch: pa.RecordBatch, info: EntityInfo) -> None:
    for end in ENDS:
        assert _encoded(batch, info, end) == _oracle(batch, info, end)
        if batch.num_rows > 1:  # a slice: Arrow offsets not at zero
            part = batch.slice(1, batch.num_rows - 1)
            assert _encoded(part, info, end) == _oracle(part, info, end)


# --------------------------------------------------------------------------- every entity


@pytest.mark.parametrize("name", ENTITY_NAMES)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_every_entity_is_written_byte_for_byte_as_by_the_per_row_encoder(
    name: str, data: st.DataObject
) -> None:
    objs = data.draw(st.lists(from_entity(name), min_size=1, max_size=6))
    info = get_entity(name)
    for batch in clen_core.to_arrow(objs, name).to_batches():
        _assert_same(batch, info)


@pytest.mark.parametrize("name", ENTITY_NAMES)
def test_the_reference_data_takes_the_columnar_path(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without this, the property above would hold with every batch falling back.
    info = get_entity(name)
    table = clen_core.to_arrow(reference_dataset().records(name), name)
    expected = [_oracle(b, info, "\n") for b in table.to_batches()]

    def per_row(*_: Any) -> Any:
        raise AssertionError("the per-row encoder was used")

    monkeypatch.setattr(clen_core_json, "json_rows", per_row)
    assert [_encoded(b, info, "\n") for b in table.to_batches()] == expected


# --------------------------------------------------------------------------- any Arrow values

_SPECIAL = st.sampled_from(
    ['"', "\\", "\x00", "\x1f", "\x7f", "\x85", "\u2028", "\u2029", "é", "😀"]
)
_TEXT = st.text(st.characters(exclude_categories=["Cs"]) | _SPECIAL, max_size=8)
_BITS = st.integers(0, 2**64 - 1).map(lambda n: struct.unpack("<d", struct.pack("<Q", n))[0])
_FLOATS = (st.floats(allow_nan=False, allow_infinity=False) | _BITS).filter(
    lambda f: f == f and abs(f) != float("inf")
)


def _values(kind: pa.DataType) -> st.SearchStrategy[Any]:
    if pa.types.is_dictionary(kind) or pa.types.is_string(kind):
        return _TEXT
    if pa.types.is_integer(kind):
        return st.integers(-(2**63), 2**63 - 1)
    if pa.types.is_floating(kind):
        return _FLOATS
    if pa.types.is_boolean(kind):
        return st.booleans()
    if pa.types.is_date(kind):
        return st.dates()
    if pa.types.is_decimal(kind):
        bound = Decimal(10 ** (kind.precision - kind.scale)) - Decimal(1).scaleb(-kind.scale)
        return st.decimals(-bound, bound, places=kind.scale, allow_nan=False, allow_infinity=False)
    if pa.types.is_map(kind):
        # Keys from a few, so that some repeat (the per-row encoder keeps one of them).
        keys = st.sampled_from(["a", "b", "é"]) | _TEXT
        return st.lists(st.tuples(keys, st.none() | _values(kind.item_type)), max_size=4)
    assert pa.types.is_list(kind), kind
    return st.lists(_values(kind.value_type), max_size=4)


_TYPES = sorted({f.type for e in entities() for f in arrow_schema(e)}, key=str)
"""Every Arrow type of every entity: given to another field, the writers must still agree."""


@st.composite
def _batches(draw: st.DrawFn) -> tuple[EntityInfo, pa.RecordBatch]:
    info = get_entity(draw(st.sampled_from(ENTITY_NAMES)))
    schema = arrow_schema(info)
    n = draw(st.integers(1, 5))
    # Any subset of the fields, in the schema's order or not: the writer takes what is there.
    chosen = draw(st.lists(st.sampled_from(schema.names), min_size=1, unique=True))
    columns = []
    for name in chosen:
        kind = draw(st.sampled_from([schema.field(name).type, *_TYPES]))
        values = draw(st.lists(st.none() | _values(kind), min_size=n, max_size=n))
        columns.append(pa.array(values, kind))
    return info, pa.RecordBatch.from_arrays(columns, names=chosen)


def _outcome(encode: Any, batch: pa.RecordBatch, info: EntityInfo, end: str) -> Any:
    """The bytes written, or the kind of error raised (a date where text is due, ...)."""
    try:
        return bytes(encode(batch, info, end))
    except (TypeError, ValueError) as exc:
        return type(exc)


@settings(max_examples=300, deadline=None)
@given(case=_batches())
def test_any_values_in_an_entity_schema_are_written_as_by_the_per_row_encoder(
    case: tuple[EntityInfo, pa.RecordBatch],
) -> None:
    info, batch = case
    # The writers skip empty batches: a slice of at least one row.
    for part in (batch, batch.slice(1)) if batch.num_rows > 1 else (batch,):
        for end in ENDS:
            new = _outcome(clen_core_json._encode_batch, part, info, end)
            assert new == _outcome(_oracle, part, info, end)


@settings(max_examples=500, deadline=None)
@given(values=st.lists(_FLOATS, min_size=1, max_size=20))
@example([0.1, -0.0, 0.0, 5e-324, 1e-4, 9.999999999999999e-05, 1e-5, 1e15, 1e16])
@example([9999999999999998.0, 1.7976931348623157e308, 2.0**53, 123456.789e-10, 1 / 3])
def test_floats_are_written_as_python_writes_them(values: list[float]) -> None:
    texts = clen_core_json._json_texts(
        pa.array(values, pa.float64()), ScalarShape(float)
    ).to_pylist()
    assert texts == [json.dumps(v) for v in values]
    assert [float(t) for t in texts] == values  # and read back exactly


def test_strings_are_escaped_as_json_and_line_breaks_as_the_writer_escapes_them() -> None:
    values = ['say "hi"', "a\\b", "tab\there", "\x00\x1f\x7f", "\x85\u2028\u2029", "ü€😀", ""]
    texts = clen_core_json._json_texts(pa.array(values), ScalarShape(str)).to_pylist()
    assert texts == [
        '"say \\"hi\\""',
        '"a\\\\b"',
        '"tab\\there"',
        '"\\u0000\\u001f\x7f"',
        '"\\u0085\\u2028\\u2029"',
        '"ü€😀"',
        '""',
    ]


def test_a_repeated_map_key_is_written_once_as_before() -> None:
    info = get_entity("laboratory")
    kind = arrow_schema(info).field("participation_criteria").type
    batch = pa.RecordBatch.from_arrays(
        [pa.array([[("a", True), ("a", False)], [("b", None)]], kind)],
        names=["participation_criteria"],
    )
    written = _encoded(batch, info, "\n")
    assert written == b'{"participation_criteria": {"a": false}}\n' + (
        b'{"participation_criteria": {"b": null}}\n'
    )


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_a_non_finite_float_is_refused_as_before(bad: float) -> None:
    info = get_entity("pt_result")
    batch = pa.RecordBatch.from_arrays([pa.array([1.0, bad])], names=["value"])
    with pytest.raises(ValueError, match="JSON compliant"):
        _encoded(batch, info, "\n")


def test_dates_and_decimals_are_iso_and_exact_text() -> None:
    info = get_entity("funded_action")
    schema = arrow_schema(info)
    batch = pa.RecordBatch.from_arrays(
        [pa.array([Decimal("1250.00"), Decimal("-0.05"), None], schema.field("budget_eur").type)],
        names=["budget_eur"],
    )
    assert _encoded(batch, info, "\n") == (
        b'{"budget_eur": "1250.00"}\n{"budget_eur": "-0.05"}\n{"budget_eur": null}\n'
    )
    dates = pa.array([dt.date(1, 1, 1), dt.date(999, 3, 4), dt.date(9999, 12, 31)])
    assert clen_core_json._json_texts(dates, ScalarShape(dt.date)).to_pylist() == [
        '"0001-01-01"',
        '"0999-03-04"',
        '"9999-12-31"',
    ]


def test_files_written_in_many_batches_are_what_one_batch_gives(tmp_path: Path) -> None:
    objs: list[Any] = list(reference_dataset().records("laboratory"))
    for ext in (".json", ".jsonl"):
        one, many = tmp_path / f"one{ext}", tmp_path / f"many{ext}"
        clen_core.write(objs, one)
        clen_core.write(objs, many, batch_rows=3)
        assert one.read_bytes() == many.read_bytes()


@settings(max_examples=100, deadline=None)
@given(scale=st.integers(0, 6), data=st.data())
def test_decimals_of_any_scale_up_to_six_are_written_as_python_writes_them(
    scale: int, data: st.DataObject
) -> None:
    kind = pa.decimal128(18, scale)
    bound = Decimal(10 ** (18 - scale)) - Decimal(1).scaleb(-scale)
    values = data.draw(
        st.lists(st.decimals(-bound, bound, places=scale, allow_nan=False, allow_infinity=False))
    )
    column = pa.array(values, kind)
    texts = clen_core_json._json_texts(column, ScalarShape(Decimal)).to_pylist()
    assert texts == [json.dumps(json_value(v)) for v in column.to_pylist()]
