"""Running rules: the validation context and :func:`validate`.

Rules see every entity as an Arrow table in the entity's schema, whether the
data came as objects (converted once) or as Arrow batches from a file, so a
rule is written once and both paths agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeAlias

import pyarrow as pa

from clen_core.errors import ArgumentError
from clen_core.model.dataset import Dataset
from clen_core.model.entity import EntityInfo, get_entity
from clen_core.rules.context import ROW_COLUMN, Context
from clen_core.rules.registry import Rule, get_rule, rules
from clen_core.rules.report import READ_RULE, Report
from clen_core.rules.wholetable import (
    DEFAULT_MEMORY_LIMIT,
    WHOLE_TABLE_RULES,
    WholeTable,
    whole_table_fields,
)
from clen_core.schema.arrow import to_arrow

__all__ = ["ROW_COLUMN", "Context", "Validation", "validate"]

Data: TypeAlias = Dataset | Mapping[Any, Iterable[Any] | pa.Table] | pa.Table | Iterable[Any]


def _as_tables(data: Data, entity: str | type | None) -> dict[str, pa.Table]:
    if not isinstance(data, Iterable | pa.Table):
        raise ArgumentError(
            f"{_what(data)} is not data to validate: expected entity objects, a Dataset, "
            "{entity: objects or table}, or a table"
        )
    if entity is not None:
        info = get_entity(entity)
        if isinstance(data, Dataset | Mapping):
            raise ArgumentError(
                f"entity={info.name!r} is for the rows of one entity: a "
                f"{type(data).__name__} says the entity of its records itself"
            )
        if isinstance(data, pa.Table):
            declared = (data.schema.metadata or {}).get(b"clen_core.entity", info.name.encode())
            if declared != info.name.encode():
                raise ArgumentError(
                    f"the table holds {declared.decode('utf-8', 'replace')!r} records (its "
                    f"clen_core.entity metadata), not {info.name!r}"
                )
            return {info.name: data}
        _refuse_arrow(data)
        objects = list(data)
        for i, obj in enumerate(objects):
            if getattr(type(obj), "__clen_entity__", None) is not info:
                raise ArgumentError(
                    f"item {i + 1} is {_what(obj)}; entity={info.name!r} wants "
                    f"{info.cls.__name__} objects"
                )
        return {info.name: to_arrow(objects, info.name)}
    if isinstance(data, pa.Table):
        name = (data.schema.metadata or {}).get(b"clen_core.entity")
        if name is None:
            raise ArgumentError(
                "a bare Arrow table needs clen_core.entity metadata or entity=; "
                "or pass {entity: table}"
            )
        return {name.decode(): data}
    if isinstance(data, Dataset):
        return {info.name: to_arrow(data.records(info.name), info.name) for info in data.entities}
    if isinstance(data, Mapping):
        out = {}
        for key, records in data.items():
            info = get_entity(key)
            if isinstance(records, pa.Table):
                out[info.name] = records
                continue
            _refuse_arrow(records)
            out[info.name] = to_arrow(records, info.name)
        return out
    _refuse_arrow(data)
    groups: dict[str, list[Any]] = {}
    for i, obj in enumerate(data):
        owner = getattr(type(obj), "__clen_entity__", None)
        if not isinstance(owner, EntityInfo):
            raise ArgumentError(
                f"item {i + 1} is {_what(obj)}, not an entity object: validate takes "
                "entity objects, a Dataset, {entity: objects or table}, or a table"
            )
        groups.setdefault(owner.name, []).append(obj)
    return {name: to_arrow(objs, name) for name, objs in groups.items()}


def _what(obj: object) -> str:
    # A type, not a repr: the repr of a frame or a series is a page of its rows.
    return f"a {type(obj).__module__.split('.')[0]}.{type(obj).__qualname__}"


def _refuse_arrow(data: object) -> None:
    """A table or frame other than a pyarrow Table is rows to check, not rows checked."""
    if hasattr(data, "__arrow_c_stream__") or hasattr(data, "__arrow_c_array__"):
        raise ArgumentError(
            f"{_what(data)} holds rows not checked against their entity: "
            "clen_core.validate(data, entity=...) checks them (as a file's rows are) "
            "and then runs the rules; this function takes objects, or pyarrow Tables "
            "of rows already checked"
        )


def validate(
    data: Data,
    *,
    entity: str | type | None = None,
    only: Iterable[str] | None = None,
    max_findings: int | None = None,
) -> Report:
    """Run the registered rules over ``data`` and return the :class:`Report`.

    ``data`` is a :class:`Dataset`, a mapping of entity (name or class) to
    objects or an Arrow table, or an iterable of entity objects; with
    ``entity``, the objects (or the Arrow table) of that one entity. Cross-entity
    rules (references, declared vs found CN code) run when both entities are
    present. ``only`` restricts the run to some rule IDs. ``max_findings``: findings
    kept in memory (default ``clen_core.limits.current().max_findings``).

    The rows of an Arrow table are taken as valid: in the entity's schema, each
    a valid object's (as :func:`~clen_core.to_arrow` and the readers give them).
    :func:`clen_core.validate` (:func:`clen_core.io.frames.validate`) also takes
    tables and frames of any library, and checks their rows first.
    """
    tables = _as_tables(data, entity)
    report = Report() if max_findings is None else Report(max_findings=max_findings)
    report.records = {name: t.num_rows for name, t in tables.items()}
    ctx = Context(tables, report)
    if only is None:
        selected = list(rules())
    else:  # in the registry's order, as without ``only``; an unknown ID is an error
        wanted = {get_rule(r).id for r in only}
        selected = [r for r in rules() if r.id in wanted]
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
    together in the order :func:`validate` gives them. ``only``: run only these rule IDs.

    ``spill_rows``: past that many rows, the key and reference columns that
    DUP-001 and REF-001 compare go to disk (a
    :class:`~clen_core.rules.wholetable.WholeTable`, DuckDB under
    ``memory_limit``) instead of memory, and only the fields the other
    whole-table rules read stay held; the report is the same. ``None``: never.
    """

    def __init__(
        self,
        entity: str | type | EntityInfo,
        *,
        only: Iterable[str] | None = None,
        max_findings: int | None = None,
        spill_rows: int | None = None,
        memory_limit: str = DEFAULT_MEMORY_LIMIT,
    ) -> None:
        info = entity if isinstance(entity, EntityInfo) else get_entity(entity)
        self.entity = info.name
        """The entity validated."""
        self._info = info
        self._report = Report() if max_findings is None else Report(max_findings=max_findings)
        # The rules validate() runs on a table of this entity alone (``only``: some of them).
        wanted = None if only is None else {get_rule(r).id for r in only}
        self._rules = [r for r in rules() if r.entity in (None, info.name)
                       and (wanted is None or r.id in wanted)]  # fmt: skip
        self._found = {r.id: Report(max_findings=self._report.max_findings)
                       for r in self._rules if r.rowwise}  # fmt: skip
        self._parts: list[pa.Table] = []
        self._rows = 0
        self._added = False
        # Nothing to spill when neither DUP-001 nor REF-001 runs (``only``).
        spills = any(r.id in WHOLE_TABLE_RULES for r in self._rules)
        self._spill_rows = spill_rows if spills else None
        self._memory_limit = memory_limit
        self._whole: WholeTable | None = None
        # Once spilled, what the other whole-table rules read is all that stays in memory
        # (READ-001 reads nothing: the readers report it).
        others = [r for r in self._rules if not r.rowwise
                  and r.id not in (*WHOLE_TABLE_RULES, READ_RULE)]  # fmt: skip
        self._held = _reads(info, others)
        # Before: what every whole-table rule reads (the rowwise ones have seen each part).
        whole = [r for r in self._rules if not r.rowwise and r.id != READ_RULE]
        self._kept = _reads(info, whole)

    def add(self, part: pa.Table) -> None:
        """Validate the next rows (after those added before) with the rowwise rules."""
        self._rows += part.num_rows
        self._added = True
        if self._whole is None and self._spill_rows is not None and self._rows > self._spill_rows:
            self._whole = WholeTable(memory_limit=self._memory_limit)
            held, self._parts = self._parts, []
            for earlier in held:
                self._spill(earlier)
        if self._whole is not None:
            self._spill(part)
        elif self._kept is None:
            self._parts.append(part)
        elif self._kept:
            self._parts.append(_only(part, self._kept))
        if not self._found or not part.num_rows:
            return
        ctx = Context({self.entity: part}, self._report)
        for r in self._rules:
            if r.rowwise:
                ctx.rule, ctx.report = r, self._found[r.id]
                r.check(ctx)

    def _spill(self, part: pa.Table) -> None:
        assert self._whole is not None
        names = set(part.column_names)
        spooled = [n for n in whole_table_fields(self._info) if n in names]
        if ROW_COLUMN in names:
            spooled.append(ROW_COLUMN)
        self._whole.add(self.entity, part.select(spooled))
        if self._held is None:
            self._parts.append(part)
        elif self._held:
            self._parts.append(_only(part, self._held))

    def finish(self) -> Report:
        """The report on every row added (at least one part, empty or not, is needed)."""
        if not self._added:
            raise ArgumentError("nothing to validate: add a table first, even an empty one")
        try:
            return self._finish()
        finally:
            if self._whole is not None:
                self._whole.close()
                self._whole = None

    def _finish(self) -> Report:
        whole = self._whole
        if self._parts:
            table = pa.concat_tables(self._parts) if len(self._parts) > 1 else self._parts[0]
        else:
            table = pa.table({ROW_COLUMN: pa.array([], pa.int64())})
        self._parts = []
        report = self._report
        report.records = {self.entity: self._rows}
        ctx = Context({self.entity: table}, report)
        for r in self._rules:
            found = self._found.get(r.id)
            if found is None:
                if whole is not None and r.id == "DUP-001":
                    whole.duplicate_keys(r, report)
                elif whole is not None and r.id == "REF-001":
                    whole.missing_references(r, report)
                else:
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


def _reads(info: EntityInfo, whole: list[Rule]) -> set[str] | None:
    """The fields of ``info`` that ``whole`` read, the key included (none without a rule;
    ``None``: any field, for a rule that does not say)."""
    if not whole:
        return set()
    names = set(info.key)
    for r in whole:
        read = r.fields_read(info)
        if read is None:
            return None
        names |= read
    return names


def _only(part: pa.Table, names: set[str]) -> pa.Table:
    return part.select([n for n in part.column_names if n in names or n == ROW_COLUMN])
