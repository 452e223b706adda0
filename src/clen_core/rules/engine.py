"""Running rules: the validation context and :func:`validate`.

Rules see every entity as an Arrow table in the entity's schema, whether the
data came as objects (converted once) or as Arrow batches from a file, so a
rule is written once and both paths agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import cached_property
from typing import Any, TypeAlias

import pyarrow as pa
import pyarrow.compute as pc

from clen_core.errors import ArgumentError
from clen_core.model.dataset import Dataset
from clen_core.model.entity import EntityInfo, get_entity
from clen_core.rules.registry import Rule, get_rule, rules
from clen_core.rules.report import Finding, Report
from clen_core.schema.arrow import from_arrow, int_range, to_arrow

__all__ = ["ROW_COLUMN", "Context", "Validation", "validate"]

ROW_COLUMN = "_row"
"""Optional int64 column of a table given to :func:`validate`: each record's 1-based source row."""

Data: TypeAlias = Dataset | Mapping[Any, Iterable[Any] | pa.Table] | pa.Table | Iterable[Any]


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
        self.rule: Rule | None = None
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
        mask = pc.fill_null(mask, False)
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
        kept = min(n, report.room)
        report.count(rule.id, rule.severity, n - kept)
        if not kept:
            return
        t = self._tables[entity]
        idx = indices.slice(0, kept)
        # A take from a chunked column joins its chunks first (a copy of the whole column):
        # take from the slice the kept rows span, often one chunk.
        span = pc.min_max(idx)
        low, high = span["min"].as_py(), span["max"].as_py()
        near = pc.subtract(idx, low)
        keys = _key_texts(t, near, low, high - low + 1)
        rows = pc.take(t.rows, idx).to_pylist()
        if values is None:
            vals: list[Any] = [None] * kept
        else:
            chosen = (
                pc.take(values.slice(low, high - low + 1), near)
                if aligned
                else values.slice(0, kept)
            )
            vals = chosen.to_pylist()
            if pa.types.is_map(chosen.type):
                # Arrow gives maps as (key, value) pairs; a finding shows the mapping.
                vals = [None if v is None else dict(v) for v in vals]
        for key, row, value in zip(keys, rows, vals, strict=True):
            text = message(value) if callable(message) else message
            report.add(Finding(rule.id, rule.severity, entity, key, row, field, value, text))


def _key_texts(t: _Table, idx: pa.Array, offset: int, length: int) -> list[str]:
    parts = [pc.take(t.table.column(k).slice(offset, length), idx).to_pylist() for k in t.info.key]
    return [t.info.format_key(p[0] if len(p) == 1 else tuple(p)) for p in zip(*parts, strict=True)]


def _as_tables(data: Data) -> dict[str, pa.Table]:
    if isinstance(data, pa.Table):
        name = (data.schema.metadata or {}).get(b"clen_core.entity")
        if name is None:
            raise ArgumentError(
                "a bare Arrow table needs clen_core.entity metadata; pass {entity: table}"
            )
        return {name.decode(): data}
    if isinstance(data, Dataset):
        return {info.name: to_arrow(data.records(info.name), info.name) for info in data.entities}
    if isinstance(data, Mapping):
        out = {}
        for entity, records in data.items():
            info = get_entity(entity)
            out[info.name] = (
                records if isinstance(records, pa.Table) else to_arrow(records, info.name)
            )
        return out
    groups: dict[str, list[Any]] = {}
    for obj in data:
        groups.setdefault(get_entity(obj).name, []).append(obj)
    return {name: to_arrow(objs, name) for name, objs in groups.items()}


def validate(
    data: Data,
    *,
    only: Iterable[str] | None = None,
    max_findings: int | None = None,
) -> Report:
    """Run the registered rules over ``data`` and return the :class:`Report`.

    ``data`` is a :class:`Dataset`, a mapping of entity (name or class) to
    objects or an Arrow table, or an iterable of entity objects. Cross-entity
    rules (references, declared vs found CN code) run when both entities are
    present. ``only`` restricts the run to some rule IDs. ``max_findings``: findings
    kept in memory (default ``clen_core.limits.current().max_findings``).
    """
    tables = _as_tables(data)
    report = Report() if max_findings is None else Report(max_findings=max_findings)
    report.records = {name: t.num_rows for name, t in tables.items()}
    ctx = Context(tables, report)
    selected = [get_rule(r) for r in only] if only is not None else list(rules())
    for r in selected:
        if r.entity is None or ctx.has(r.entity):
            ctx.rule = r
            r.check(ctx)
    ctx.rule = None
    return report


class Validation:
    """One entity's rows validated part by part, as a file is read: the report of
    :func:`validate` on all of them, without waiting for the last part to start.

    Each part (:meth:`add`, an Arrow table in the entity's schema, in row order,
    with the ``_row`` column when there is one) goes through the rowwise rules
    at once (:attr:`Rule.rowwise`), their findings kept per rule up to the cap;
    :meth:`finish` runs the other rules on all the rows and puts the findings
    together in the order :func:`validate` gives them.
    """

    def __init__(self, entity: str | type | EntityInfo, *, max_findings: int | None = None) -> None:
        info = entity if isinstance(entity, EntityInfo) else get_entity(entity)
        self.entity = info.name
        """The entity validated."""
        self._report = Report() if max_findings is None else Report(max_findings=max_findings)
        # The rules validate() runs on a table of this entity alone.
        self._rules = [r for r in rules() if r.entity in (None, info.name)]
        self._found = {r.id: Report(max_findings=self._report.max_findings)
                       for r in self._rules if r.rowwise}  # fmt: skip
        self._parts: list[pa.Table] = []

    def add(self, part: pa.Table) -> None:
        """Validate the next rows (after those added before) with the rowwise rules."""
        self._parts.append(part)
        if not self._found or not part.num_rows:
            return
        ctx = Context({self.entity: part}, self._report)
        for r in self._rules:
            if r.rowwise:
                ctx.rule, ctx.report = r, self._found[r.id]
                r.check(ctx)

    def finish(self) -> Report:
        """The report on every row added (at least one part, empty or not, is needed)."""
        if not self._parts:
            raise ArgumentError("nothing to validate: add a table first, even an empty one")
        table = pa.concat_tables(self._parts) if len(self._parts) > 1 else self._parts[0]
        self._parts = []
        report = self._report
        report.records = {self.entity: table.num_rows}
        ctx = Context({self.entity: table}, report)
        for r in self._rules:
            found = self._found.get(r.id)
            if found is None:
                ctx.rule = r
                r.check(ctx)
                continue
            # As if run now: the first findings while there is room, every one counted.
            for finding in found.findings:
                report.add(finding)
            unkept = found.by_rule[r.id] - len(found.findings)
            if unkept:  # a rule that found nothing is not in the counts
                report.count(r.id, r.severity, unkept)
        ctx.rule = None
        return report
