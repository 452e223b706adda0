"""The validation context: what a rule sees and how it reports.

A rule gets a :class:`Context`: every entity of the validation as an Arrow
table in the entity's schema (objects converted once, or batches from a file),
look-ups across entities, and ``flag`` methods that turn masks into findings.
This module knows nothing of the rule registry: the engine tells the context
which rule runs (its ID and severity), so the registry may name ``Context`` in
its types without a circle.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from clen_core.codes._vector import false_if_null
from clen_core.model.entity import EntityInfo, get_entity
from clen_core.rules.report import FINDINGS_SCHEMA, Finding, Report, Severity, _value_text
from clen_core.schema.arrow import from_arrow, int_range

__all__ = ["ROW_COLUMN", "Context", "Running"]

ROW_COLUMN = "_row"
"""Optional int64 column of a table given to :func:`~clen_core.rules.validate`: each record's
1-based source row."""


class Running(Protocol):
    """What the context needs of the rule that runs: its ID and severity."""

    @property
    def id(self) -> str:
        """The rule's ID."""

    @property
    def severity(self) -> Severity:
        """The severity of its findings."""


class _Table:
    def __init__(self, info: EntityInfo, table: pa.Table) -> None:
        self.info = info
        if ROW_COLUMN in table.column_names:
            self.rows: pa.Array = table.column(ROW_COLUMN).combine_chunks()
            table = table.drop_columns([ROW_COLUMN])
        else:
            self.rows = int_range(1, table.num_rows + 1)
        self.table = table

    @cached_property
    def objects(self) -> list[Any]:
        return from_arrow(self.table, self.info.cls)


class Context:
    """What a rule sees: the tables of one validation, and where to report."""

    def __init__(self, tables: Mapping[str, pa.Table], report: Report) -> None:
        self._tables = {name: _Table(get_entity(name), t) for name, t in tables.items()}
        self.report = report
        """The report findings go to."""
        self.rule: Running | None = None
        """The rule being run."""

    @property
    def entities(self) -> tuple[str, ...]:
        """Names of the entities present in this validation."""
        return tuple(self._tables)

    def has(self, entity: str) -> bool:
        """Whether the validation includes a table of ``entity``."""
        return entity in self._tables

    def table(self, entity: str) -> pa.Table:
        """The table of ``entity`` (in its Arrow schema, without the row column)."""
        return self._tables[entity].table

    def column(self, entity: str, field: str) -> pa.ChunkedArray:
        """One column of an entity's table."""
        return self._tables[entity].table.column(field)

    def objects(self, entity: str) -> list[Any]:
        """The records of ``entity`` as objects (materialised once, for per-record rules)."""
        return self._tables[entity].objects if entity in self._tables else []

    def lookup(self, entity: str, keys: pa.ChunkedArray | pa.Array, field: str) -> pa.Array:
        """For each key, ``field`` of the ``entity`` record with that key (null if none)."""
        target = self._tables[entity]
        (key_field,) = target.info.key
        return self.lookup_in(target.table, key_field, keys, field)

    @staticmethod
    def lookup_in(
        table: pa.Table, key_field: str, keys: pa.ChunkedArray | pa.Array, field: str
    ) -> pa.Array:
        """For each key, ``field`` of the first ``table`` row whose ``key_field`` equals it."""
        idx = pc.index_in(keys, value_set=table.column(key_field).combine_chunks())
        return pc.take(table.column(field).combine_chunks(), idx)

    def flag(
        self,
        entity: str,
        mask: pa.ChunkedArray | pa.Array,
        field: str | None,
        message: str | Callable[[Any], str],
        *,
        values: pa.ChunkedArray | pa.Array | None = None,
    ) -> None:
        """Report every record of ``entity`` where ``mask`` is true (null counts as false).

        ``values`` are the offending values aligned with the rows (default: the
        ``field`` column); ``message`` may be a function of the value.
        """
        mask = false_if_null(mask)
        n = pc.sum(mask).as_py() or 0
        if not n:
            return
        indices = pc.indices_nonzero(mask)
        if values is None and field is not None:
            values = self.column(entity, field)
        self._emit(entity, indices, n, field, message, values, aligned=True)

    def flag_rows(
        self,
        entity: str,
        indices: pa.Array,
        field: str | None,
        message: str | Callable[[Any], str],
        values: pa.Array | None = None,
    ) -> None:
        """Report the records at ``indices`` (0-based, repeats allowed), one value per index."""
        if len(indices):
            self._emit(entity, indices, len(indices), field, message, values, aligned=False)

    def flag_each(
        self,
        entity: str,
        cases: Sequence[tuple[pa.ChunkedArray | pa.Array, str | None, str | Callable[[Any], str]]],
    ) -> None:
        """Report every record of ``entity`` where one of the ``(mask, field, message)``
        cases is true, in row order (a row's findings in the order of the cases).

        What one :meth:`flag` per case reports, but in the order a rowwise rule must
        report in (:attr:`~clen_core.rules.Rule.rowwise`): its findings on a table are
        then its findings on the consecutive parts of it.
        """
        assert self.rule is not None
        hits = [pc.indices_nonzero(false_if_null(mask)) for mask, _, _ in cases]
        n = sum(len(h) for h in hits)
        if not n:
            return
        rule, report = self.rule, self.report
        kept = min(n, report.room_for(rule.severity))
        report.count(rule.id, rule.severity, n - kept)
        if not kept:
            return
        merged = pa.table(
            {
                "row": pa.concat_arrays([pc.cast(h, pa.int64()) for h in hits]),
                "case": pa.concat_arrays(
                    [pa.nulls(len(h), pa.int32()).fill_null(i) for i, h in enumerate(hits)]
                ),
            }
        )
        order = pc.sort_indices(merged, [("row", "ascending"), ("case", "ascending")])
        first = merged.take(order.slice(0, kept))
        columns = getattr(report, "add_columns", None)
        if columns is not None:
            parts, cased = [], []
            for i, (_, field, message) in enumerate(cases):
                picked = pc.equal(first.column("case"), i)
                rows = pc.filter(first.column("row"), picked).combine_chunks()
                if len(rows):
                    values = None if field is None else self.column(entity, field)
                    parts.append(self._columns(entity, rows, field, message, values))
                    cased.append(pc.filter(first, picked))
            # Each case's findings are in row order: sorted by (row, case) once joined,
            # they are in the order of ``first``.
            joined = pa.concat_tables(parts)
            where = pa.concat_tables(cased)
            columns(joined.take(pc.sort_indices(where, [("row", "ascending"),
                                                        ("case", "ascending")])))  # fmt: skip
            return
        found: list[list[Finding]] = []
        for i, (_, field, message) in enumerate(cases):
            rows = pc.filter(first.column("row"), pc.equal(first.column("case"), i))
            values = None if field is None else self.column(entity, field)
            found.append(
                self._findings(entity, rows.combine_chunks(), field, message, values)
                if len(rows)
                else []
            )
        taken = [iter(f) for f in found]
        for case in first.column("case").to_pylist():
            report.add(next(taken[case]))

    def flag_one(
        self, entity: str, index: int, field: str | None, value: Any, message: str
    ) -> None:
        """Report one record (by 0-based position) with its offending value."""
        self.flag_rows(entity, pa.array([index], pa.int64()), field, message, pa.array([value]))

    def _emit(
        self,
        entity: str,
        indices: pa.Array,
        n: int,
        field: str | None,
        message: str | Callable[[Any], str],
        values: pa.ChunkedArray | pa.Array | None,
        *,
        aligned: bool,
    ) -> None:
        assert self.rule is not None
        rule, report = self.rule, self.report
        kept = min(n, report.room_for(rule.severity))
        report.count(rule.id, rule.severity, n - kept)
        if not kept:
            return
        columns = getattr(report, "add_columns", None)
        if columns is not None:
            columns(self._columns(entity, indices.slice(0, kept), field, message, values,
                                  aligned=aligned))  # fmt: skip
            return
        for finding in self._findings(entity, indices.slice(0, kept), field, message, values,
                                      aligned=aligned):  # fmt: skip
            report.add(finding)

    def _columns(
        self,
        entity: str,
        idx: pa.Array,
        field: str | None,
        message: str | Callable[[Any], str],
        values: pa.ChunkedArray | pa.Array | None,
        *,
        aligned: bool = True,
    ) -> pa.Table:
        """What :meth:`_findings` gives, as columns of :data:`FINDINGS_SCHEMA` (no file):
        for a report that takes them so (``add_columns``), without an object per finding."""
        assert self.rule is not None
        rule = self.rule
        kept = len(idx)
        t = self._tables[entity]
        low, length, near = _span(idx)
        chosen = _chosen(values, near, low, length, kept, aligned)
        texts = pa.nulls(kept, pa.string()) if chosen is None else _value_texts(chosen)
        if callable(message):
            shown = [None] * kept if chosen is None else _python_values(chosen)
            said = pa.array([message(v) for v in shown], pa.string())
        else:
            said = pa.repeat(pa.scalar(message, pa.string()), kept)
        return pa.Table.from_arrays(
            [
                pa.repeat(pa.scalar(rule.id, pa.string()), kept),
                pa.repeat(pa.scalar(rule.severity.value, pa.string()), kept),
                pa.repeat(pa.scalar(entity, pa.string()), kept),
                _key_column(t, near, low, length),
                pc.take(t.rows, idx),
                pa.repeat(pa.scalar(field, pa.string()), kept),
                texts,
                said,
                pa.nulls(kept, pa.string()),
            ],
            schema=FINDINGS_SCHEMA,
        )

    def _findings(
        self,
        entity: str,
        idx: pa.Array,
        field: str | None,
        message: str | Callable[[Any], str],
        values: pa.ChunkedArray | pa.Array | None,
        *,
        aligned: bool = True,
    ) -> list[Finding]:
        """The findings of the rule that runs on the records at ``idx`` (0-based, not empty)."""
        assert self.rule is not None
        rule = self.rule
        kept = len(idx)
        t = self._tables[entity]
        low, length, near = _span(idx)
        keys = _key_texts(t, near, low, length)
        rows = pc.take(t.rows, idx).to_pylist()
        chosen = _chosen(values, near, low, length, kept, aligned)
        vals = [None] * kept if chosen is None else _python_values(chosen)
        return [
            Finding(rule.id, rule.severity, entity, key, row, field, value,
                    message(value) if callable(message) else message)
            for key, row, value in zip(keys, rows, vals, strict=True)
        ]  # fmt: skip


def _span(idx: pa.Array) -> tuple[int, int, pa.Array]:
    """The first row ``idx`` reaches, how many rows it spans, and ``idx`` from that row.

    A take from a chunked column joins its chunks first (a copy of the whole column):
    takes go to the slice the rows span, often one chunk."""
    span = pc.min_max(idx)
    low, high = span["min"].as_py(), span["max"].as_py()
    return low, high - low + 1, pc.subtract(idx, low)


def _chosen(
    values: pa.ChunkedArray | pa.Array | None,
    near: pa.Array,
    low: int,
    length: int,
    kept: int,
    aligned: bool,
) -> pa.Array | pa.ChunkedArray | None:
    """The offending values of the rows reported: taken from ``values`` aligned with the
    rows, or the first ``kept`` of values given one per row reported."""
    if values is None:
        return None
    return pc.take(values.slice(low, length), near) if aligned else values.slice(0, kept)


def _value_texts(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Each value as a finding's text (:func:`~clen_core.rules.report._value_text`):
    text, whole numbers, booleans and dates vectorised; the others one by one."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    kind = values.type
    if pa.types.is_dictionary(kind):
        return _value_texts(values.dictionary_decode())
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return values.cast(pa.string())
    if pa.types.is_integer(kind) or pa.types.is_date32(kind):
        return values.cast(pa.string())  # as str() and date.isoformat() write them
    if pa.types.is_boolean(kind):
        return pc.if_else(values, "true", "false")
    return pa.array([_value_text(v) for v in _python_values(values)], pa.string())


def _python_values(values: pa.Array | pa.ChunkedArray) -> list[Any]:
    """The values as the finding objects hold them (a mapping as a dict)."""
    got: list[Any] = values.to_pylist()
    if pa.types.is_map(values.type):
        # Arrow gives maps as (key, value) pairs; a finding shows the mapping.
        got = [None if v is None else dict(v) for v in got]
    return got


def _key_column(t: _Table, idx: pa.Array, offset: int, length: int) -> pa.Array:
    """:func:`_key_texts` as a column: text and whole-number keys joined vectorised."""
    parts = [pc.take(t.table.column(k).slice(offset, length), idx) for k in t.info.key]
    if all(pa.types.is_string(p.type) or pa.types.is_integer(p.type) for p in parts):
        texts = [p.cast(pa.string()) for p in parts]
        if len(texts) == 1:
            return texts[0].combine_chunks() if isinstance(texts[0], pa.ChunkedArray) else texts[0]
        joined = pc.binary_join_element_wise(*texts, "/")
        return joined.combine_chunks() if isinstance(joined, pa.ChunkedArray) else joined
    return pa.array(_key_texts(t, idx, offset, length), pa.string())


def _key_texts(t: _Table, idx: pa.Array, offset: int, length: int) -> list[str]:
    parts = [pc.take(t.table.column(k).slice(offset, length), idx).to_pylist() for k in t.info.key]
    return [t.info.format_key(p[0] if len(p) == 1 else tuple(p)) for p in zip(*parts, strict=True)]
