"""Tables and data frames of any library, validated as a file's rows are.

:func:`validate` is ``clen_core.validate``: it takes what the rules engine
(:func:`clen_core.rules.engine.validate`) takes, entity objects, a
:class:`~clen_core.Dataset` or a mapping of them, and also any Arrow-compatible
table or stream (a pyarrow ``Table``, ``RecordBatch`` or ``RecordBatchReader``, a
Polars or pandas DataFrame, a DuckDB relation), alone with ``entity=`` or as the
values of a mapping ``{entity: table}``. Such rows come from outside, so they are
checked first, exactly as the rows of a Parquet file are:

- the columns must be fields of the entity (and ``_row``, the rows' 1-based source
  row numbers, if given), each required field present: otherwise an
  :class:`~clen_core.errors.ArgumentError` says which;
- each column is cast to its field's type where that loses nothing (Polars' string
  views, DuckDB's 32-bit integers, pandas' midnight timestamps for dates), so that
  the verdicts are those of a file; a column that cannot be cast whole is judged
  value by value;
- a row that does not fit its entity becomes a ``READ-001`` error naming the row,
  the field, the value and what was expected; every rule runs on the others.

The rows are read through the Arrow PyCapsule interface without copying; neither
Polars nor pandas is needed by clen_core itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs
import pyarrow as pa

from clen_core import limits
from clen_core.errors import ArgumentError
from clen_core.io.parquet import _without_unreadable
from clen_core.io.readwrite import DEFAULT_BATCH_ROWS, _gathered, _rejects_by_row
from clen_core.io.records import RawBatch, Reject, kept
from clen_core.model.entity import EntityInfo, get_entity
from clen_core.rules import engine
from clen_core.rules.context import ROW_COLUMN
from clen_core.rules.report import READ_RULE, Report
from clen_core.schema.arrow import arrow_schema, arrow_stream, fit, int_range

__all__ = ["validate"]

_NO_FILE = ""
"""The file of a reject of a table's row: none (the report says ``None``)."""


def _is_arrow_data(data: object) -> bool:
    """Whether ``data`` is a table or stream of rows :func:`validate` checks: an object
    with the Arrow PyCapsule interface, or a pandas DataFrame."""
    return (
        hasattr(data, "__arrow_c_stream__")
        or hasattr(data, "__arrow_c_array__")
        or _is_pandas(data)
    )


def _is_pandas(data: object) -> bool:
    # pandas before 2.2 has no PyCapsule interface, and its mappings need the field's
    # type to become Arrow maps (its own export makes them structs).
    return type(data).__module__.startswith("pandas.") and type(data).__name__ == "DataFrame"


def _what(data: object) -> str:
    return f"{type(data).__module__.split('.')[0]}.{type(data).__qualname__}"


@attrs.frozen
class _Checked:
    """One entity's rows checked: the valid ones as the rules take them, and the rejects."""

    table: pa.Table
    """The valid rows, in the entity's schema, with ``_row``."""
    rejects: list[Reject]
    """The rejects kept (one per bad field), in row order."""
    rejected: int
    """Rows rejected, kept or not."""


def _source(data: Any, entity: str | type | None) -> tuple[EntityInfo, Iterator[pa.RecordBatch]]:
    """The entity of ``data`` and its batches."""
    if _is_pandas(data):
        from clen_core.io.bridges import _pandas_batches

        if entity is None:
            raise ArgumentError(
                f"a {_what(data)} does not say which entity its rows are: give entity=, "
                "e.g. clen_core.validate(frame, entity='activity')"
            )
        info = get_entity(entity)
        names = [str(c) for c in data.columns]
        _check_columns(info, names, data)
        return info, iter(_pandas_batches(data, info.name) if len(data) else [])
    reader = arrow_stream(data)
    declared = (reader.schema.metadata or {}).get(b"clen_core.entity")
    if entity is not None:
        info = get_entity(entity)
        if declared is not None and declared.decode("utf-8", "replace") != info.name:
            raise ArgumentError(
                f"the {_what(data)} holds {declared.decode('utf-8', 'replace')!r} records "
                f"(its clen_core.entity metadata), not {info.name!r}"
            )
    elif declared is not None:
        info = get_entity(declared.decode("utf-8", "replace"))
    else:
        raise ArgumentError(
            f"a {_what(data)} does not say which entity its rows are (no clen_core.entity "
            "metadata): give entity=, e.g. clen_core.validate(frame, entity='activity')"
        )
    _check_columns(info, list(reader.schema.names), data)
    return info, iter(reader)


def _check_columns(info: EntityInfo, names: list[str], data: object) -> None:
    """The columns are the entity's (and ``_row``), once each, every required one there:
    as a Parquet file's must be."""
    where = f"{_what(data)} of {info.name} rows"
    unknown = [n for n in names if n not in info.field_names and n != ROW_COLUMN]
    if unknown:
        raise ArgumentError(
            f"{where}: column(s) {', '.join(map(repr, unknown))} are not fields of "
            f"{info.name} (fields: {', '.join(info.field_names)})"
        )
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ArgumentError(f"{where}: column(s) {', '.join(map(repr, twice))} present twice")
    missing = [f.name for f in info.fields if f.is_required and f.name not in names]
    if missing:
        raise ArgumentError(f"{where}: required column(s) missing: {', '.join(missing)}")


def _raw_batches(info: EntityInfo, batches: Iterable[pa.RecordBatch]) -> Iterator[RawBatch]:
    """Each batch in the fields' types, with its rows' numbers (``_row``, else 1, 2, ...),
    less the rows holding a value Python cannot hold as it is (a date after 9999, a list
    over ``max_items``...): problems naming row and field, as in a Parquet file."""
    max_items = limits.current().max_items
    row = 0
    for batch in batches:
        b = fit(batch, info)
        if ROW_COLUMN in b.schema.names:
            rows = b.column(ROW_COLUMN).cast(pa.int64())
            if rows.null_count:
                raise ArgumentError(f"{info.name} rows: a row has no number in {ROW_COLUMN}")
            b = b.drop_columns([ROW_COLUMN])
        else:
            rows = int_range(row + 1, row + 1 + b.num_rows)
        row += b.num_rows
        yield _without_unreadable(b, rows, max_items)


def _check(data: Any, entity: str | type | None, cap: int) -> tuple[str, _Checked]:
    # Loaded when a table is validated: a command that validates none does without.
    from clen_core.io.columnar import check_batch

    info, batches = _source(data, entity)
    parts = []
    rejects: list[Reject] = []
    rejected = 0
    for raw in _gathered(_raw_batches(info, batches), DEFAULT_BATCH_ROWS):
        checked = check_batch(info, raw, flavour="python")
        for _, (row_rejects, _) in sorted(_rejects_by_row(_NO_FILE, raw, checked).items()):
            rejected += 1
            rejects.extend(map(kept, row_rejects[: max(cap - len(rejects), 0)]))  # as a file's
        valid = pa.Table.from_batches([checked.valid])
        parts.append(valid.append_column(ROW_COLUMN, checked.valid_rows.cast(pa.int64())))
    if parts:
        table = pa.concat_tables(parts)
    else:
        table = arrow_schema(info).empty_table().append_column(ROW_COLUMN, pa.array([], pa.int64()))
    return info.name, _Checked(table, rejects, rejected)


def validate(
    data: Any,
    *,
    entity: str | type | None = None,
    only: Iterable[str] | None = None,
    max_findings: int | None = None,
) -> Report:
    """Validate ``data`` and return the :class:`~clen_core.Report`: the rules' findings,
    then a ``READ-001`` error for each row of a table that does not fit its entity.

    ``data``: entity objects (of any entities), a :class:`~clen_core.Dataset`, a mapping
    of entity (name or class) to objects or to a table, or one table or stream of any
    library (pyarrow, Polars, pandas, DuckDB: see the module docs) with ``entity=``
    (which a pyarrow table from clen_core may leave out: its metadata says it). Cross-entity
    rules (references, declared vs found CN code) run when both entities are present.
    ``only``: run only these rule IDs. ``max_findings``: findings (and rejects) kept in
    memory, the counts going on past it (default ``clen_core.limits.current().max_findings``).

    The rows of a table are checked against their entity as a file's rows are (see the
    module docs), numbered from its ``_row`` column if it has one, else 1, 2, ...
    A missing, unknown or doubled column is an :class:`~clen_core.errors.ArgumentError`.
    """
    cap = limits.current().max_findings if max_findings is None else max_findings
    if _is_arrow_data(data):
        name, checked = _check(data, entity, cap)
        tables: dict[str, Any] = {name: checked.table}
        checks = {name: checked}
    elif isinstance(data, Mapping) and any(_is_arrow_data(v) for v in data.values()):
        if entity is not None:
            raise ArgumentError(
                f"entity={entity!r} is for the rows of one entity: a mapping names the "
                "entity of each of its tables itself"
            )
        tables, checks = {}, {}
        for key, value in data.items():
            if _is_arrow_data(value):
                name, checks[name] = _check(value, key, cap)
                tables[name] = checks[name].table
            else:
                tables[get_entity(key).name] = value
    else:
        return engine.validate(data, entity=entity, only=only, max_findings=cap)
    report = engine.validate(tables, only=only, max_findings=cap)
    for name, c in checks.items():
        if c.rejected:  # a table whose every row fits reports as its objects would
            report.add_rejected_rows(name, c.rejects, c.rejected)
    # A table's rows were read from no file.
    report.findings = [
        attrs.evolve(f, file=None) if f.rule == READ_RULE and f.file == _NO_FILE else f
        for f in report.findings
    ]
    return report
