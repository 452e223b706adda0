"""The batch validator inside Spark, Dask and any engine that moves Arrow batches.

:func:`clen_core.io.columnar.validate_batches` is a plain function of Arrow
batches; this module wraps it for the engines' own hooks:

- :class:`ArrowValidator` — a picklable callable ``Iterator[RecordBatch] ->
  Iterator[RecordBatch]``: Spark's ``DataFrame.mapInArrow`` takes it as is.
  It holds only the entity's name and what to output (the valid rows or the
  rejects), so cloudpickle ships it to workers by value, and each worker
  looks the entity up in its own registry (install clen_core, and any plugin
  that declares the entity, on the workers).
- :func:`validate_spark` — ``(valid, rejects)`` DataFrames of a Spark
  DataFrame, through ``mapInArrow``.
- :func:`validate_pandas` / :func:`validate_dask` — the same for a pandas
  DataFrame, and for a ``dask.dataframe`` through ``map_partitions``.

**Row numbers.** Rejects name the source row from a ``_row`` column (int64,
1-based) when the input has one; without it each partition numbers its rows
from 1, which no longer says which row of the source is meant. Add ``_row``
when the data is read (see ``docs/pipelines.md``).

**Types.** Engines hand over their own Arrow types (Spark and pandas use
``large_string``, pandas may give timestamps for dates and floats for whole
numbers with gaps); :func:`conform` casts each column to the field's type
when that is lossless, so the checks, and their verdicts, are those of the
local path. The valid rows come out in the entity's types with enums as
plain strings (engines do not take dictionary columns) plus ``_row``; the
rejects in :data:`~clen_core.io.columnar.REJECTS_SCHEMA`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Literal

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from clen_core.io.columnar import REJECTS_SCHEMA, validate_batches
from clen_core.model.entity import get_entity
from clen_core.schema.arrow import arrow_schema

__all__ = [
    "ROW",
    "ArrowValidator",
    "conform",
    "output_schema",
    "pandas_meta",
    "validate_dask",
    "validate_pandas",
    "validate_spark",
]

ROW = "_row"
"""Name of the column holding each row's 1-based source row number."""

Output = Literal["valid", "rejects"]


def _plain(t: pa.DataType) -> pa.DataType:
    """The type without dictionary encoding (engines take plain columns)."""
    if pa.types.is_dictionary(t):
        return t.value_type
    if pa.types.is_list(t):
        return pa.list_(pa.field("item", _plain(t.value_type), nullable=t.value_field.nullable))
    if pa.types.is_map(t):
        return pa.map_(t.key_type, _plain(t.item_type))
    return t


def output_schema(entity: str | type, output: Output = "valid") -> pa.Schema:
    """The Arrow schema of what :class:`ArrowValidator` yields for ``output``.

    For ``"valid"``: the entity's fields (enums as plain strings, all nullable,
    as engines declare them) and ``_row``; for ``"rejects"``:
    :data:`~clen_core.io.columnar.REJECTS_SCHEMA`.
    """
    if output == "rejects":
        return REJECTS_SCHEMA
    schema = arrow_schema(get_entity(entity))
    fields = [pa.field(f.name, _plain(f.type), nullable=True) for f in schema]
    return pa.schema([*fields, pa.field(ROW, pa.int64())], metadata=schema.metadata)


def conform(batch: pa.RecordBatch, entity: str | type) -> pa.RecordBatch:
    """``batch`` with each field's column cast to the field's type where that loses nothing.

    Columns that cannot be cast are left as they are: the checks then reject
    the values that do not fit, naming row and field. ``_row`` becomes int64.
    """
    schema = arrow_schema(get_entity(entity))
    names, columns = [], []
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        want: pa.DataType | None = None
        if name in schema.names:
            want = _plain(schema.field(name).type)
        elif name == ROW:
            want = pa.int64()
        if want is not None and not column.type.equals(want):
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


@attrs.frozen
class ArrowValidator:
    """``Iterator[RecordBatch] -> Iterator[RecordBatch]``: the valid rows, or the rejects.

    Plain data (the entity's name and the output), so it pickles by value and
    keeps no state between calls: fit for ``mapInArrow`` and workers.
    """

    entity: str
    """Name of the entity the rows should be."""
    output: Output = "valid"
    """``"valid"``: the valid rows (and ``_row``); ``"rejects"``: one row per bad field."""

    @property
    def schema(self) -> pa.Schema:
        """The schema of the batches yielded (see :func:`output_schema`)."""
        return output_schema(self.entity, self.output)

    def __call__(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """Check each batch and yield its valid rows or its rejects."""
        schema = self.schema
        entity = self.entity
        for checked in validate_batches(entity, (conform(b, entity) for b in batches)):
            if self.output == "rejects":
                if checked.rejects.num_rows:
                    yield from checked.rejects.cast(schema).to_batches()
                continue
            valid = checked.valid
            columns = [
                c.cast(_plain(c.type)) if not c.type.equals(_plain(c.type)) else c
                for c in valid.columns
            ]
            yield pa.RecordBatch.from_arrays([*columns, checked.valid_rows], schema=schema)

    def spark_schema(self) -> Any:
        """The Spark ``StructType`` of the output (needs pyspark)."""
        from pyspark.sql.pandas.types import from_arrow_schema

        return from_arrow_schema(self.schema)


def validate_spark(df: Any, entity: str | type) -> tuple[Any, Any]:
    """``(valid, rejects)`` Spark DataFrames of ``df``, checked on the workers (``mapInArrow``).

    Each is computed when used (Spark is lazy): ``cache()`` the input when you
    use both.
    """
    name = get_entity(entity).name
    valid = ArrowValidator(name, "valid")
    rejects = ArrowValidator(name, "rejects")
    return (
        df.mapInArrow(valid, valid.spark_schema()),
        df.mapInArrow(rejects, rejects.spark_schema()),
    )


def _pandas_batches(frame: Any, entity: str) -> list[pa.RecordBatch]:
    schema = arrow_schema(get_entity(entity))
    names, arrays = [], []
    for name in frame.columns:
        column = frame[name]
        want = _plain(schema.field(name).type) if name in schema.names else None
        # Lists and mappings are Python objects in pandas: the field's type says what they are.
        nested = want is not None and pa.types.is_nested(want)
        try:
            array = pa.array(column, type=want if nested else None, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            array = pa.array(column.astype(object).where(column.notna(), None), from_pandas=True)
        if isinstance(array, pa.ChunkedArray):  # Arrow-backed pandas columns
            array = array.combine_chunks()
        names.append(str(name))
        arrays.append(array)
    return [pa.RecordBatch.from_arrays(arrays, names=names)]


def _to_pandas(batches: Iterable[pa.RecordBatch], schema: pa.Schema) -> Any:
    table = pa.Table.from_batches(list(batches), schema=schema)
    return table.to_pandas(types_mapper=_arrow_dtype)


def _arrow_dtype(t: pa.DataType) -> Any:
    import pandas as pd

    # Arrow-backed columns: whole numbers with gaps stay integers, dates stay dates.
    return pd.ArrowDtype(t)


def validate_pandas(frame: Any, entity: str | type, output: Output = "valid") -> Any:
    """The valid rows (with ``_row``) or the rejects of a pandas DataFrame, as a DataFrame.

    Columns are Arrow-backed (``pd.ArrowDtype``), in :func:`output_schema`.
    """
    validator = ArrowValidator(get_entity(entity).name, output)
    return _to_pandas(validator(_pandas_batches(frame, validator.entity)), validator.schema)


def pandas_meta(entity: str | type, output: Output = "valid") -> Any:
    """An empty DataFrame with the columns and dtypes :func:`validate_pandas` returns."""
    return _to_pandas([], output_schema(entity, output))


def validate_dask(ddf: Any, entity: str | type) -> tuple[Any, Any]:
    """``(valid, rejects)`` dask DataFrames of ``ddf``, checked partition by partition."""
    name = get_entity(entity).name
    return tuple(
        ddf.map_partitions(validate_pandas, name, output, meta=pandas_meta(name, output))
        for output in ("valid", "rejects")
    )
