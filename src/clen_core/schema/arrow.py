"""The Arrow schema of an entity, and objects to and from Arrow tables.

Types: ``str`` → string, ``int`` → int64, ``float`` → float64, ``bool`` → bool,
``Decimal`` → decimal128(precision, scale), ``date`` → date32, enums →
dictionary<int8, string>, lists → list, mappings → map<string, …>. Optional
fields are nullable; list items and map values never are. Each field carries
its description (and unit, code system, reference) as metadata; the schema
carries the entity name, its schema version and the library version.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa
import pyarrow.compute as pc

from clen_core._version import __version__
from clen_core.errors import ArgumentError, FieldError, InvalidObjectError
from clen_core.model import dataset as _dataset
from clen_core.model.entity import EntityInfo, get_entity
from clen_core.model.fields import FieldInfo, ListShape, MapShape, ScalarShape, Shape, Spec

__all__ = [
    "FIRST_DAY",
    "LAST_DAY",
    "ArrowStream",
    "arrow_schema",
    "arrow_stream",
    "arrow_type",
    "conform",
    "fit",
    "from_arrow",
    "int_range",
    "plain_type",
    "python_values",
    "to_arrow",
]

_SCALAR_TYPES: dict[type, pa.DataType] = {
    str: pa.string(),
    int: pa.int64(),
    float: pa.float64(),
    bool: pa.bool_(),
    dt.date: pa.date32(),
}
_ENUM_TYPE = pa.dictionary(pa.int8(), pa.string())


def arrow_type(shape: Shape, spec: Spec) -> pa.DataType:
    """The Arrow type of a field's shape."""
    if isinstance(shape, ScalarShape):
        if shape.enum is not None:
            return _ENUM_TYPE
        if shape.py is Decimal:
            return pa.decimal128(spec.precision, spec.scale)
        return _SCALAR_TYPES[shape.py]
    if isinstance(shape, ListShape):
        return pa.list_(pa.field("item", arrow_type(shape.item, spec), nullable=False))
    return pa.map_(pa.string(), pa.field("value", arrow_type(shape.value, spec), nullable=False))


def _field_metadata(f: FieldInfo) -> dict[str, str]:
    meta = {"description": f.description}
    for name in ("unit", "code", "key_code", "ref"):
        value = getattr(f.spec, name)
        if value is not None:
            meta[name] = value
    return meta


def arrow_schema(entity: str | type | EntityInfo) -> pa.Schema:
    """The Arrow schema of an entity, with descriptions and versions as metadata."""
    info = entity if isinstance(entity, EntityInfo) else get_entity(entity)
    return _schema(info)


def _schema(info: EntityInfo) -> pa.Schema:
    fields = [
        pa.field(
            f.name,
            arrow_type(f.shape, f.spec),
            nullable=f.optional,
            metadata=_field_metadata(f),
        )
        for f in info.fields
    ]
    return pa.schema(
        fields,
        metadata={
            "clen_core.entity": info.name,
            "clen_core.schema_version": str(info.version),
            "clen_core.version": __version__,
            "clen_core.key": ",".join(info.key),
            "description": info.description,
        },
    )


_EPOCH = dt.date(1970, 1, 1)
# Day counts, not pa.scalar(a date): that would make pyarrow import pandas, when
# installed, at import.
FIRST_DAY = (dt.date.min - _EPOCH).days
"""Python's first date (0001-01-01) as ``date32`` counts it: days since 1970-01-01."""
LAST_DAY = (dt.date.max - _EPOCH).days
"""Python's last date (9999-12-31) as ``date32`` counts it."""


_counting: pa.Array | None = None  # 0, 1, 2, ...: grown by doubling, shared by int_range


def int_range(start: int, stop: int) -> pa.Array:
    """int64 values ``start, start + 1, ..., stop - 1``, without a Python int per value.

    Row numbers of every batch come from here: ``pa.array(range(...))`` makes
    a Python int of each (70 ms a million rows).
    """
    global _counting
    n = max(0, stop - start)
    base = _counting
    if base is None:
        base = pa.array(range(1 << 16), pa.int64())
    while len(base) < n:
        base = pa.concat_arrays([base, pc.add(base, len(base))])
    _counting = base  # a race only builds the same values twice
    head = base.slice(0, n)
    return head if start == 0 else pc.add(head, start)


def python_values(column: pa.Array, convert: Callable[[Any], Any] | None = None) -> list[Any]:
    """``column.to_pylist()``, faster where Arrow is slow to make Python values.

    Dates come from their day count (``date.fromordinal``, about 10× faster than
    Arrow's scalars; every date must lie within :data:`FIRST_DAY`..:data:`LAST_DAY`).
    Dictionary columns convert each distinct value once, through ``convert`` if
    given; with ``convert``, a plain column is dictionary-encoded first.
    """
    if pa.types.is_date32(column.type):
        ordinal, offset = dt.date.fromordinal, _EPOCH.toordinal()
        days = column.cast(pa.int32()).to_pylist()
        return [None if d is None else ordinal(d + offset) for d in days]
    if convert is not None and not pa.types.is_dictionary(column.type):
        column = column.dictionary_encode()
    if not pa.types.is_dictionary(column.type):
        return list(column.to_pylist())
    distinct = column.dictionary.to_pylist()
    # Index -1 (a null) picks the None at the end.
    values = [*(map(convert, distinct) if convert is not None else distinct), None]
    return [values[i] for i in pc.fill_null(column.indices, -1).to_pylist()]


def conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """``batch`` with the columns of ``schema``, in its order and types (extra columns
    dropped; a missing one is a :class:`ValueError`)."""
    if batch.schema.equals(schema):
        return batch
    columns = []
    for field in schema:
        if field.name not in batch.schema.names:
            raise ValueError(f"batch has no column {field.name!r}")
        column = batch.column(field.name)
        columns.append(column if column.type.equals(field.type) else column.cast(field.type))
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def to_arrow(objects: Iterable[Any], entity: str | type | None = None) -> pa.Table:
    """An Arrow table of entity objects (all of one entity), in the entity's schema.

    ``entity`` may be omitted when there is at least one object.
    """
    objs = list(objects)
    if entity is None:
        if not objs:
            raise ValueError("to_arrow needs entity= when there are no objects")
        entity = type(objs[0])
    info = get_entity(entity)
    schema = _schema(info)
    if set(map(type, objs)) - {info.cls}:  # a set of types, not a loop: 6x faster
        for i, o in enumerate(objs):
            if type(o) is not info.cls:
                raise TypeError(
                    f"object {i + 1} is a {type(o).__name__}, not a {info.cls.__name__}"
                )
    columns = [
        pa.array(list(map(operator.attrgetter(f.name), objs)), type=schema.field(f.name).type)
        for f in info.fields
    ]
    return pa.Table.from_arrays(columns, schema=schema)


def _from_py(shape: Shape, value: Any) -> Any:
    # Arrow gives maps back as lists of (key, value) pairs.
    if value is None:
        return None
    if isinstance(shape, MapShape):
        return {k: _from_py(shape.value, v) for k, v in value}
    if isinstance(shape, ListShape):
        return tuple(_from_py(shape.item, v) for v in value)
    return value


def from_arrow(table: pa.Table, entity: str | type) -> list[Any]:
    """Entity objects from an Arrow table whose columns are the entity's fields.

    Columns are matched by name; a missing required column or an invalid row
    raises :class:`~clen_core.InvalidObjectError` naming the row (1-based).
    """
    info = get_entity(entity)
    names = set(table.column_names)
    unknown = sorted(names - set(info.field_names))
    missing = [f.name for f in info.fields if f.is_required and f.name not in names]
    if unknown or missing:
        errs = [FieldError(n, None, "required column is missing") for n in missing]
        errs += [FieldError(n, None, f"not a field of {info.name}") for n in unknown]
        raise InvalidObjectError(info.name, errs)
    nested = {f.name: f.shape for f in info.fields if not isinstance(f.shape, ScalarShape)}
    out = []
    for i, row in enumerate(table.to_pylist()):
        for name, shape in nested.items():
            if name in row:
                row[name] = _from_py(shape, row[name])
        try:
            out.append(info.cls(**row))
        except InvalidObjectError as exc:
            raise InvalidObjectError(info.name, exc.errors, row=i + 1) from None
    return out


# Dataset.to_arrow (in the model, the floor below) converts through this module.
_dataset.set_arrow_converter(to_arrow)


@runtime_checkable
class ArrowStream(Protocol):
    """An Arrow-compatible table or stream: an object with the Arrow PyCapsule stream
    interface (pyarrow, Polars, pandas 2.2 and later, DuckDB...)."""

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        """The rows as an Arrow C stream (a PyCapsule)."""


def arrow_stream(data: Any) -> pa.RecordBatchReader:
    """The record batches of any Arrow-compatible table or stream: an object with the
    Arrow PyCapsule interface (``__arrow_c_stream__`` or ``__arrow_c_array__``), such as a
    pyarrow ``Table``, ``RecordBatch`` or ``RecordBatchReader``, a Polars or pandas (2.2
    and later) DataFrame or a DuckDB relation, without copying it.

    String, binary and list *views* (Polars exports text as ``string_view``) come as their
    ``large_`` types, which every compute function takes.
    """
    what = f"an object of type {type(data).__name__}"
    try:
        if hasattr(data, "__arrow_c_stream__"):
            reader = pa.RecordBatchReader.from_stream(data)
        elif hasattr(data, "__arrow_c_array__"):
            batch = pa.record_batch(data)
            reader = pa.RecordBatchReader.from_batches(batch.schema, [batch])
        else:
            raise ArgumentError(
                f"{what} is not an Arrow table or stream: expected one with the Arrow "
                "PyCapsule interface (__arrow_c_stream__), such as a pyarrow Table, a Polars "
                "or pandas DataFrame or a DuckDB relation"
            )
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        # A column (a Polars Series, a pyarrow Array) is a stream of values, not of rows.
        raise ArgumentError(f"{what} is not a table of rows with named columns ({exc})") from None
    schema = reader.schema
    plain = pa.schema([f.with_type(_unviewed(f.type)) for f in schema], schema.metadata)
    if plain.equals(schema):
        return reader
    return pa.RecordBatchReader.from_batches(plain, (b.cast(plain) for b in reader))


def _unviewed(t: pa.DataType) -> pa.DataType:
    """The type with views (string, binary, list) replaced by their ``large_`` types."""
    if pa.types.is_string_view(t):
        return pa.large_string()
    if pa.types.is_binary_view(t):
        return pa.large_binary()
    if pa.types.is_dictionary(t):
        return pa.dictionary(t.index_type, _unviewed(t.value_type), t.ordered)
    if pa.types.is_map(t):
        return pa.map_(t.key_field.with_type(_unviewed(t.key_type)),
                       t.item_field.with_type(_unviewed(t.item_type)))  # fmt: skip
    if pa.types.is_list_view(t) or pa.types.is_large_list_view(t) or pa.types.is_large_list(t):
        return pa.large_list(t.value_field.with_type(_unviewed(t.value_type)))
    if pa.types.is_list(t):
        return pa.list_(t.value_field.with_type(_unviewed(t.value_type)))
    if pa.types.is_fixed_size_list(t):
        return pa.list_(t.value_field.with_type(_unviewed(t.value_type)), t.list_size)
    if pa.types.is_struct(t):
        return pa.struct([f.with_type(_unviewed(f.type)) for f in t])
    return t


def plain_type(t: pa.DataType) -> pa.DataType:
    """The type without dictionary encoding (an enum's plain text), at any depth."""
    if pa.types.is_dictionary(t):
        return t.value_type
    if pa.types.is_list(t):
        return pa.list_(pa.field("item", plain_type(t.value_type), nullable=t.value_field.nullable))
    if pa.types.is_map(t):
        return pa.map_(t.key_type, plain_type(t.item_type))
    return t


def fit(batch: pa.RecordBatch, entity: str | type | EntityInfo) -> pa.RecordBatch:
    """``batch`` with each field's column cast to the field's type (an enum's as plain
    text) where that loses nothing; other columns as they are, views made ``large_``.

    Engines and data frames bring their own types (``large_string``, timestamps for
    dates, floats for whole numbers with gaps); once fitted, the checks, and their
    verdicts, are those of a file. A column that cannot be cast whole is left as it is:
    the checks then judge each of its values (a text ``"12"`` is not a whole number).
    """
    schema = arrow_schema(entity)
    names, columns = [], []
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        unviewed = _unviewed(column.type)
        if not unviewed.equals(column.type):
            column = column.cast(unviewed)
        if name in schema.names:
            want = plain_type(schema.field(name).type)
            if not column.type.equals(want):
                column = _cast(column, want)
        names.append(name)
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, names=names)


def _cast(column: pa.Array, want: pa.DataType) -> pa.Array:
    got = column.type
    try:
        if pa.types.is_timestamp(got) and pa.types.is_date32(want):
            # A date that pandas made a midnight timestamp; anything else stays as is.
            midnight = pc.equal(pc.cast(pc.cast(column, pa.date32()), got), column)
            if not pc.all(pc.fill_null(midnight, True)).as_py():
                return column
            return pc.cast(column, pa.date32())
        return pc.cast(column, want)  # safe: fails on overflow, truncation, bad text
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return column
