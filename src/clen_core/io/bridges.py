"""The batch validator inside Spark, Dask and any engine that moves Arrow batches.

:func:`clen_core.io.columnar.validate_batches` is a plain function of Arrow
batches; this module wraps it for the engines' own hooks, so that each batch
is checked **once** and gives three things:

- the **valid rows**, in the entity's fields (enums as plain strings, since
  engines take no dictionary columns; no ``_row``);
- the **rejects**: one row per (rejected row, bad field), in
  :data:`ENGINE_REJECTS_SCHEMA` (row, field, value, reason, rule ``READ-001``,
  the row's key as text, file);
- the **findings**, in :data:`~clen_core.rules.report.FINDINGS_SCHEMA`: a
  ``READ-001`` error per rejected row (as ``clen validate`` reports it), and
  the findings of every rule that judges each row alone
  (:attr:`Rule.rowwise <clen_core.rules.registry.Rule.rowwise>`: the built-in
  ones and plugins' per-record rules) on the valid rows of the batch.

Rules that need the whole table (duplicate keys ``DUP-001``, references
``REF-001``, and any rule not declared rowwise) cannot be decided batch by
batch: :attr:`Validated.not_run` names them; run them on the written dataset
(``clen validate FOLDER``).

The pieces:

- :class:`ArrowValidator` — a picklable callable ``Iterator[RecordBatch] ->
  Iterator[RecordBatch]``: Spark's ``DataFrame.mapInArrow`` takes it as is.
  It holds only the entity's name, what to output, the rule IDs asked for and
  the driver's clen_core version, so cloudpickle ships it to workers by
  value; each worker looks the entity and rules up in its own registry
  (install clen_core, and any plugin that declares the entity, on the
  workers) and refuses to run under another clen_core version.
- :func:`validate_spark` / :func:`validate_dask` — a :class:`Validated`: the
  three frames, split from **one** ``mapInArrow`` / ``map_partitions``
  output (the ``"tagged"`` union, :func:`output_schema`), which Spark caches
  and Dask shares between frames computed together. It still unpacks as
  ``valid, rejects``. With ``write_to`` and ``issues_to`` they work in one
  pass instead: each worker writes its valid rows itself and hands back only
  the rejects and findings (the cheapest way from files to files).
- :func:`write_spark` / :func:`write_dask` — valid rows written by clen_core's
  own Parquet writer (``clen_core.*`` metadata, zstd, the entity's types), one
  file per partition, into a folder that appears whole when done.
- :func:`validate_pandas` — the same for one pandas DataFrame.

**Row numbers and files.** Rejects and findings name the source row from a
``_row`` column (int64, 1-based) when the input has one, and the source file
from a ``_file`` column; :func:`validate_spark` adds ``_file`` itself from
``_metadata.file_path`` when the DataFrame reads files (``file:`` URIs become
paths). Without ``_row`` the row is null (a partition's position says nothing
of the source); the key still names the record.

**Types.** Engines hand over their own Arrow types (Spark and pandas use
``large_string``, pandas may give timestamps for dates and floats for whole
numbers with gaps); :func:`conform` casts each column to the field's type
when that is lossless, so the checks, and their verdicts, are those of the
local path.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import unquote, urlsplit

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from clen_core._version import __version__
from clen_core.errors import ArgumentError, ClenError
from clen_core.io.atomic import atomic_file
from clen_core.io.columnar import Checked, validate_batches
from clen_core.io.formats import FormatError
from clen_core.io.parquet import open_writer
from clen_core.io.readwrite import DEFAULT_BATCH_ROWS, WriteResult
from clen_core.io.records import Reject, kept
from clen_core.model.entity import EntityInfo, get_entity
from clen_core.model.fields import ListShape, ScalarShape
from clen_core.rules.context import Context
from clen_core.rules.registry import Rule, get_rule, rules
from clen_core.rules.report import FINDINGS_SCHEMA, READ_RULE, Finding, Report, Severity
from clen_core.schema.arrow import arrow_schema, fit, int_range
from clen_core.schema.arrow import plain_type as _plain

__all__ = [
    "ENGINE_REJECTS_SCHEMA",
    "FILE",
    "KIND",
    "ROW",
    "ArrowValidator",
    "CsvReader",
    "Validated",
    "batch_rules",
    "conform",
    "csv_schema",
    "dataset_findings_spark",
    "output_schema",
    "pandas_meta",
    "read_csv_dask",
    "read_csv_spark",
    "validate_dask",
    "validate_files_spark",
    "validate_pandas",
    "validate_spark",
    "write_dask",
    "write_spark",
]

ROW = "_row"
"""Name of the column holding each row's 1-based source row number."""
FILE = "_file"
"""Name of the column holding each row's source file (optional)."""
KIND = "_kind"
"""Column of the ``"tagged"`` output saying what a row is: ``valid``, ``reject``, ``finding``."""

Output = Literal["valid", "rejects", "findings", "tagged", "issues"]

ENGINE_REJECTS_SCHEMA = pa.schema(
    [
        pa.field("row", pa.int64()),
        pa.field("field", pa.string()),
        pa.field("value", pa.string()),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("rule", pa.string(), nullable=False),
        pa.field("key", pa.string()),
        pa.field("file", pa.string()),
    ]
)
"""The rejects of the engines: one row per (rejected row, bad field). The columns of
:data:`~clen_core.io.columnar.REJECTS_SCHEMA` (``row`` is null without ``_row``), then the
rule (``READ-001``), the row's key as read (text; a composite key joined with ``/``) and
the source file (null without ``_file``)."""

# The issue columns of the tagged output: a reject's or a finding's, null on a valid row.
_ISSUE = ("_rule", "_severity", "_key", "_field", "_value", "_message")
_REJECT_FROM = {"row": ROW, "field": "_field", "value": "_value", "reason": "_message",
                "rule": "_rule", "key": "_key", "file": FILE}  # fmt: skip
_FINDING_FROM = {"rule": "_rule", "severity": "_severity", "key": "_key", "row": ROW,
                 "field": "_field", "value": "_value", "message": "_message",
                 "file": FILE}  # fmt: skip
_KIND_OF = {"valid": "valid", "rejects": "reject", "findings": "finding"}


def _valid_fields(entity: str | type | EntityInfo) -> list[pa.Field]:
    schema = arrow_schema(entity)
    return [pa.field(f.name, _plain(f.type), nullable=True) for f in schema]


def output_schema(entity: str | type, output: Output = "valid") -> pa.Schema:
    """The Arrow schema of what :class:`ArrowValidator` yields for ``output``.

    - ``"valid"``: the entity's fields (enums as plain strings, all nullable, as
      engines declare them), with the entity's schema metadata;
    - ``"rejects"``: :data:`ENGINE_REJECTS_SCHEMA`;
    - ``"findings"``: :data:`~clen_core.rules.report.FINDINGS_SCHEMA`;
    - ``"tagged"``: all three in one: :data:`KIND`, the valid row's fields, ``_row``,
      ``_file``, then ``_rule``, ``_severity``, ``_key``, ``_field``, ``_value``,
      ``_message`` (a reject's reason is its message), null where they do not apply;
    - ``"issues"``: ``"tagged"`` without the valid rows and their fields: the rejects and
      findings only (what a validation that writes the valid rows itself hands back).
    """
    if output == "rejects":
        return ENGINE_REJECTS_SCHEMA
    if output == "findings":
        return FINDINGS_SCHEMA
    if output not in ("valid", "tagged", "issues"):
        raise ArgumentError(
            f"output {output!r} is not one of 'valid', 'rejects', 'findings', 'tagged', 'issues'"
        )
    fields = [] if output == "issues" else _valid_fields(entity)
    metadata = arrow_schema(entity).metadata
    if output == "valid":
        return pa.schema(fields, metadata=metadata)
    extra = [pa.field(ROW, pa.int64()), pa.field(FILE, pa.string())]
    issue = [pa.field(name, pa.string()) for name in _ISSUE]
    kind = pa.field(KIND, pa.string(), nullable=False)
    return pa.schema([kind, *fields, *extra, *issue], metadata=metadata)


def conform(batch: pa.RecordBatch, entity: str | type | EntityInfo) -> pa.RecordBatch:
    """``batch`` with each field's column cast to the field's type where that loses nothing
    (:func:`clen_core.schema.arrow.fit`), and ``_row`` as int64.

    Columns that cannot be cast are left as they are: the checks then reject
    the values that do not fit, naming row and field.
    """
    batch = fit(batch, entity)
    if ROW in batch.schema.names and not batch.column(ROW).type.equals(pa.int64()):
        at = batch.schema.get_field_index(ROW)
        batch = batch.set_column(at, ROW, pc.cast(batch.column(ROW), pa.int64()))
    return batch


def batch_rules(entity: str | type, only: Iterable[str] | None = None) -> tuple[Rule, ...]:
    """The rules over ``entity`` that run on each batch: those that judge a row alone
    (:attr:`~clen_core.rules.registry.Rule.rowwise`), by ID; ``only``: of these IDs."""
    name = get_entity(entity).name
    wanted = None if only is None else {get_rule(r).id for r in only}
    return tuple(r for r in rules(name) if r.rowwise and (wanted is None or r.id in wanted))


def _not_run(entity: str, only: Iterable[str] | None) -> tuple[str, ...]:
    wanted = None if only is None else {get_rule(r).id for r in only}
    return tuple(
        r.id
        for r in rules(entity)
        if not r.rowwise and r.id != READ_RULE and (wanted is None or r.id in wanted)
    )


def _same_version(driver: str) -> None:
    """A worker with another clen_core than the driver's would judge rows by other rules."""
    if driver != __version__:
        raise ClenError(
            f"clen_core {__version__} on this worker, {driver} on the driver: install the "
            "same clen_core (and plugins) on every worker (docs/pipelines.md, 'On a cluster')"
        )


# --------------------------------------------------------------------------- one batch


@attrs.frozen
class _Parts:
    """What one batch gave: valid rows (and their source rows and files), rejects, findings."""

    valid: pa.RecordBatch
    rows: pa.Array
    files: pa.Array
    rejects: pa.Table
    findings: pa.Table | None


def _as_text(values: pa.Array) -> pa.Array:
    try:
        return pc.cast(values, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return pa.array([None if v is None else str(v) for v in values.to_pylist()], pa.string())


def _paths(files: pa.Array) -> pa.Array:
    """``file:`` URIs (Spark's ``_metadata.file_path``) as local paths, as ``clen validate``
    names files; other URIs (``s3a://``...) as they are. Once per distinct file."""
    files = _as_text(files)
    distinct = pc.unique(files)
    named = [
        None if f is None else unquote(urlsplit(f).path) if f.startswith("file:") else f
        for f in distinct.to_pylist()
    ]
    if named == distinct.to_pylist():
        return files
    return pc.take(pa.array(named, pa.string()), pc.index_in(files, value_set=distinct))


def _keys(info: EntityInfo, data: pa.RecordBatch, at: pa.Array) -> pa.Array:
    """The key of the rows at ``at`` as read, as text (null when a key column is missing)."""
    if any(k not in data.schema.names for k in info.key):
        return pa.nulls(len(at), pa.string())
    parts = [_as_text(pc.take(data.column(k), at)) for k in info.key]
    return parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, "/")


def _source_rows(column: pa.Array) -> pa.Array:
    try:
        return pc.cast(column, pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ArgumentError(
            f"column {ROW!r} holds {column.type} values that are not whole numbers: "
            "expected each row's 1-based row number in its source"
        ) from exc


def _all_text(info: EntityInfo, data: pa.RecordBatch) -> bool:
    """Whether the fields' columns are all text, some of a field that is not: rows as a
    text file gives them (:func:`read_csv_spark`, :func:`read_csv_dask`), checked as
    ``clen validate`` checks a CSV file's (``"12"`` a whole number, ``"true"`` a
    boolean, JSON in a list's cell), not refused for being text."""
    present = [f for f in info.fields if f.name in data.schema.names]
    text = (pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view)
    if not all(any(t(data.schema.field(f.name).type) for t in text) for f in present):
        return False
    return any(
        not isinstance(f.shape, ScalarShape) or (f.shape.enum is None and f.shape.py is not str)
        for f in present
    )


def _as_strings(data: pa.RecordBatch) -> pa.RecordBatch:
    columns = [c if c.type == pa.string() else pc.cast(c, pa.string()) for c in data.columns]
    return pa.RecordBatch.from_arrays(columns, names=data.schema.names)


def _check(info: EntityInfo, batch: pa.RecordBatch, run: Sequence[Rule] | None) -> _Parts:
    """Check one batch once; ``run``: the rules whose findings to give (``None``: no findings).

    The rows are checked under their positions in the batch (0-based), which say where
    each reject and finding comes from; the source rows and files are looked up by them.
    """
    names = batch.schema.names
    n = batch.num_rows
    rows = _source_rows(batch.column(ROW)) if ROW in names else None
    files = _paths(batch.column(FILE)) if FILE in names else None
    data = batch.drop_columns([c for c in (ROW, FILE) if c in names])
    flavour: Literal["text", "python"] = "text" if _all_text(info, data) else "python"
    data = _as_strings(data) if flavour == "text" else fit(data, info)
    positions = int_range(0, n)
    (checked,) = validate_batches(info, [data.append_column(ROW, positions)], flavour=flavour)

    def source(at: pa.Array) -> tuple[pa.Array, pa.Array]:
        got_rows = pa.nulls(len(at), pa.int64()) if rows is None else pc.take(rows, at)
        got_files = pa.nulls(len(at), pa.string()) if files is None else pc.take(files, at)
        return got_rows, got_files

    valid_rows, valid_files = source(checked.valid_rows)
    bad = checked.rejects
    at = bad.column("row").combine_chunks()
    bad_rows, bad_files = source(at)
    rejects = pa.table(
        [bad_rows, bad.column("field"), bad.column("value"), bad.column("reason"),
         pa.repeat(pa.scalar(READ_RULE), len(at)), _keys(info, data, at), bad_files],
        schema=ENGINE_REJECTS_SCHEMA,
    )  # fmt: skip
    findings = None
    if run is not None:
        findings = _findings(info, data, checked, run, source)
    return _Parts(checked.valid, valid_rows, valid_files, rejects, findings)


@attrs.define
class _Everything(Report):
    """A report that keeps every finding, as found, and counts none: a batch's findings
    all go out (the engine's frame holds them), so the cap, the counts and the order by
    severity that a report keeps in memory would only cost (5 µs a finding)."""

    found: list[Finding] = attrs.field(factory=list)
    parts: list[pa.Table] = attrs.field(factory=list)

    def add(self, finding: Finding) -> None:
        """Keep ``finding``."""
        self.found.append(finding)

    def add_columns(self, found: pa.Table) -> None:
        """Keep findings the rules' context gives as columns (no object per finding)."""
        self._flush()
        self.parts.append(found)

    def _flush(self) -> None:
        if self.found:
            objects = Report(max_findings=sys.maxsize)
            objects.findings = self.found
            self.parts.append(objects.to_arrow())
            self.found = []

    def table(self) -> pa.Table:
        """Every finding kept, in the order found, in :data:`FINDINGS_SCHEMA`."""
        self._flush()
        return pa.concat_tables(self.parts) if self.parts else FINDINGS_SCHEMA.empty_table()

    def count(self, rule: str, severity: Severity, n: int) -> None:
        """Nothing to count: every finding is kept."""

    @property
    def room(self) -> int:
        """Room for every finding."""
        return sys.maxsize


def _read_values(data: pa.RecordBatch, rows: list[int], fields: list[str | None]) -> list[Any]:
    """The value read of the first problem of each rejected row (the one its ``READ-001``
    finding shows), typed as a file's reader gives it; ``None`` for the others."""
    values: list[Any] = [None] * len(rows)
    firsts: dict[str, list[int]] = {}
    seen: set[int] = set()
    for i, (row, field) in enumerate(zip(rows, fields, strict=True)):
        if row not in seen:
            seen.add(row)
            if field is not None and field in data.schema.names:
                firsts.setdefault(field, []).append(i)
    for field, at in firsts.items():
        taken = pc.take(data.column(field), pa.array([rows[i] for i in at], pa.int64()))
        for i, value in zip(at, taken.to_pylist(), strict=True):
            values[i] = value
    return values


Source = Callable[[pa.Array], tuple[pa.Array, pa.Array]]
"""Positions in a batch to the source rows and files there."""


def _findings(
    info: EntityInfo, data: pa.RecordBatch, checked: Checked, run: Sequence[Rule], source: Source
) -> pa.Table:
    """A ``READ-001`` error per rejected row, worded as ``clen validate`` words it, then
    the findings of ``run`` on the valid rows; rows and files those of the source."""
    everything = _Everything(max_findings=sys.maxsize)
    bad = checked.rejects
    if bad.num_rows:
        rows = bad.column("row").to_pylist()
        fields = bad.column("field").to_pylist()
        values = _read_values(data, rows, fields)
        reasons = bad.column("reason").to_pylist()
        # Values cut when long, as a report keeps them (the rejects keep them whole).
        problems = [kept(Reject("", *r)) for r in zip(rows, fields, values, reasons, strict=True)]
        everything.add_rejected_rows(info.name, problems, len(checked.rejected_rows))
    if run and checked.valid.num_rows:
        table = pa.Table.from_batches([checked.valid]).append_column(ROW, checked.valid_rows)
        ctx = Context({info.name: table}, everything)
        for r in run:
            ctx.rule = r
            r.check(ctx)
    found = everything.table()
    at = found.column("row").combine_chunks()
    found_rows, found_files = source(at)
    found = found.set_column(found.schema.get_field_index("row"), "row", found_rows)
    return found.set_column(found.schema.get_field_index("file"), "file", found_files)


def _gathered(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The batches joined up to :data:`~clen_core.io.readwrite.DEFAULT_BATCH_ROWS` rows:
    engines hand over small ones (Spark: 10,000 rows), and each check has a cost per
    batch (some 60 calls, the rules' set-up): a quarter of the time at 10,000 rows."""
    held: list[pa.RecordBatch] = []
    rows = 0
    for batch in batches:
        if held and not batch.schema.equals(held[0].schema):
            yield pa.concat_batches(held)
            held, rows = [], 0
        held.append(batch)
        rows += batch.num_rows
        if rows >= DEFAULT_BATCH_ROWS:
            yield pa.concat_batches(held)
            held, rows = [], 0
    if held:
        yield pa.concat_batches(held)


def _plain_valid(valid: pa.RecordBatch, schema: pa.Schema) -> list[pa.Array]:
    return [
        c if c.type.equals(f.type) else c.cast(f.type)
        for c, f in zip(valid.columns, schema, strict=True)
    ]


def _tagged(parts: _Parts, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """The batch's valid rows (when ``schema`` has the fields: ``"tagged"``, not
    ``"issues"``), rejects and findings as batches of ``schema``."""
    fields = [f for f in schema if f.name not in (KIND, ROW, FILE, *_ISSUE)]
    nv = parts.valid.num_rows
    if nv and fields:
        valid = _plain_valid(parts.valid, pa.schema(fields))
        issue = [pa.nulls(nv, pa.string()) for _ in _ISSUE]
        kind = pa.repeat(pa.scalar("valid"), nv)
        yield pa.RecordBatch.from_arrays(
            [kind, *valid, parts.rows, parts.files, *issue], schema=schema
        )
    for kind_name, table in (("reject", parts.rejects), ("finding", parts.findings)):
        if table is None or not table.num_rows:
            continue
        m = table.num_rows
        col = {n: table.column(n).combine_chunks() for n in table.column_names}
        severity = col["severity"] if "severity" in col else pa.repeat(pa.scalar("error"), m)
        message = col["message"] if "message" in col else col["reason"]
        yield pa.RecordBatch.from_arrays(
            [pa.repeat(pa.scalar(kind_name), m), *(pa.nulls(m, f.type) for f in fields),
             col["row"], col["file"], col["rule"], severity, col["key"], col["field"],
             col["value"], message],
            schema=schema,
        )  # fmt: skip


@attrs.frozen
class ArrowValidator:
    """``Iterator[RecordBatch] -> Iterator[RecordBatch]``: each batch checked once, and
    its valid rows, rejects, findings, or all three tagged (see :func:`output_schema`).

    Plain data (the entity's name, the output, the rule IDs, the driver's version), so it
    pickles by value and keeps no state between calls: fit for ``mapInArrow`` and workers.
    """

    entity: str
    """Name of the entity the rows should be."""
    output: Output = "valid"
    """``"valid"``: the valid rows; ``"rejects"``: one row per bad field; ``"findings"``:
    ``READ-001`` per rejected row and the batch rules' findings; ``"tagged"``: all three;
    ``"issues"``: the rejects and findings, tagged."""
    only: tuple[str, ...] | None = attrs.field(default=None, kw_only=True)
    """Rule IDs to run (of :func:`batch_rules`); ``None``: all of them."""
    version: str = attrs.field(default=__version__, kw_only=True)
    """The clen_core version of the process that made it (the driver): a worker with
    another version refuses to run, naming both."""

    @property
    def schema(self) -> pa.Schema:
        """The schema of the batches yielded (see :func:`output_schema`)."""
        return output_schema(self.entity, self.output)

    def __call__(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """Check each batch once and yield what :attr:`output` asks for."""
        _same_version(self.version)
        info = get_entity(self.entity)
        schema = self.schema
        with_findings = self.output in ("findings", "tagged", "issues")
        run = batch_rules(info.cls, self.only) if with_findings else None
        for batch in _gathered(batches):
            parts = _check(info, batch, run)
            if self.output in ("tagged", "issues"):
                yield from _tagged(parts, schema)
            elif self.output == "valid":
                if parts.valid.num_rows:
                    yield pa.RecordBatch.from_arrays(
                        _plain_valid(parts.valid, schema), schema=schema
                    )
            else:
                table = parts.rejects if self.output == "rejects" else parts.findings
                assert table is not None
                if table.num_rows:
                    yield from table.cast(schema).to_batches()

    def spark_schema(self) -> Any:
        """The Spark ``StructType`` of the output (needs pyspark)."""
        from pyspark.sql.pandas.types import from_arrow_schema

        return from_arrow_schema(self.schema)


@attrs.frozen
class Validated:
    """The three outputs of one validation of an engine's frame (Spark or Dask), each
    split from one output of the validator (:attr:`tagged`), so that every batch is
    checked once.

    Iterating gives ``valid, rejects`` (what ``validate_spark`` and ``validate_dask``
    returned before findings existed), so ``valid, rejects = validate_spark(df, e)``
    still works; ask for :attr:`findings` by name.
    """

    entity: str
    """The entity of the rows."""
    valid: Any
    """The valid rows: the entity's fields (enums as text), in the engine's frame (read
    back from the folder written, when the validation wrote them)."""
    rejects: Any
    """One row per (rejected row, bad field), in :data:`ENGINE_REJECTS_SCHEMA`."""
    findings: Any
    """``READ-001`` per rejected row and the batch rules' findings, in
    :data:`~clen_core.rules.report.FINDINGS_SCHEMA`."""
    tagged: Any
    """The one output the others are split from: ``"tagged"`` (:func:`output_schema`), or
    ``"issues"`` read back from their folder when the validation wrote the valid rows."""
    rules: tuple[str, ...]
    """IDs of the rules run on each batch (:func:`batch_rules`)."""
    not_run: tuple[str, ...]
    """IDs of the entity's rules that need the whole table (``DUP-001``, ``REF-001``...),
    not run here: validate the written dataset for them."""
    written: WriteResult | None = None
    """The files of valid rows written, when the validation wrote them (``write_to``)."""

    def __iter__(self) -> Iterator[Any]:
        """``valid, rejects``: the pair the functions returned before."""
        return iter((self.valid, self.rejects))

    def unpersist(self) -> None:
        """Free what Spark cached of :attr:`tagged`; nothing otherwise."""
        drop = getattr(self.tagged, "unpersist", None)
        if drop is not None:
            drop()


def _only(only: Iterable[str] | None) -> tuple[str, ...] | None:
    return None if only is None else tuple(get_rule(r).id for r in only)


# --------------------------------------------------------------------------- files


class _PartFile:
    """One partition's file of valid rows, written by clen_core's Parquet writer: opened
    on the first row (an empty partition writes nothing), replaced atomically when
    closed without error. Engines hand over small batches (Spark: 10,000 rows): they
    are gathered into row groups of the size clen_core's files have."""

    def __init__(self, info: EntityInfo, path: Path, stack: contextlib.ExitStack) -> None:
        self.info = info
        self.path = path
        self.rows = 0
        self._stack = stack
        self._writer: Any = None
        self._gathered: list[pa.RecordBatch] = []
        self._held = 0

    def add(self, batch: pa.RecordBatch) -> None:
        if not batch.num_rows:
            return
        self._gathered.append(fit(batch, self.info))
        self._held += batch.num_rows
        if self._held >= DEFAULT_BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self._gathered:
            return
        if self._writer is None:
            if not self.path.parent.is_dir():
                # The folder being built was removed: another task failed and the write
                # was given up. atomic_file would make the folder again, and leave it.
                raise FormatError(str(self.path.parent), "the write was given up (a task failed)")
            sink = self._stack.enter_context(atomic_file(self.path))
            self._writer = self._stack.enter_context(open_writer(sink, self.info))
        self._writer.write(pa.Table.from_batches(self._gathered).combine_chunks())
        self.rows += self._held
        self._gathered, self._held = [], 0


@contextlib.contextmanager
def _part_file(entity: str, folder: str, part: int | None) -> Iterator[_PartFile]:
    """The file of partition ``part`` in ``folder``: ``part-NNNNN.parquet``, so that a task
    run again replaces its own file (a random name when the engine gives no number)."""
    name = f"part-{part:05d}" if part is not None else f"part-{uuid.uuid4().hex}"
    with contextlib.ExitStack() as stack:
        out = _PartFile(get_entity(entity), Path(folder, f"{name}.parquet"), stack)
        yield out
        out.flush()


def _spark_part() -> int | None:
    from pyspark import TaskContext

    context = TaskContext.get()
    return None if context is None else context.partitionId()


@attrs.frozen
class _PartWriter:
    """Writes the rows of a partition (already checked) to its file; yields one row: the
    file's name and its row count."""

    entity: str
    folder: str
    version: str = __version__

    def write(self, part: int | None, batches: Iterable[pa.RecordBatch]) -> int:
        """Write the file of partition ``part``; the rows written."""
        _same_version(self.version)
        with _part_file(self.entity, self.folder, part) as out:
            for batch in batches:
                out.add(batch)
        return out.rows

    def __call__(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        rows = self.write(_spark_part(), batches)
        yield pa.RecordBatch.from_pydict({"rows": pa.array([rows], pa.int64())})


@attrs.frozen
class _CheckingWriter:
    """Checks each batch of a partition once, writes its valid rows to the partition's
    file, and yields its rejects and findings (``"issues"``)."""

    entity: str
    folder: str
    only: tuple[str, ...] | None
    version: str = __version__

    def run(self, part: int | None, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        _same_version(self.version)
        info = get_entity(self.entity)
        schema = output_schema(info.cls, "issues")
        plain = pa.schema(_valid_fields(info))
        run = batch_rules(info.cls, self.only)
        with _part_file(self.entity, self.folder, part) as out:
            for batch in _gathered(batches):
                parts = _check(info, batch, run)
                out.add(pa.RecordBatch.from_arrays(_plain_valid(parts.valid, plain), schema=plain))
                yield from _tagged(parts, schema)

    def __call__(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        return self.run(_spark_part(), batches)


def _new_folder(folder: str | Path) -> tuple[Path, Path]:
    """The target (absent or empty) and a hidden sibling to build it in."""
    if "://" in str(folder):
        raise ArgumentError(
            f"{folder}: the valid rows go to a folder the driver and every worker see (a "
            "local or mounted file system), not to an object store: see docs/pipelines.md"
        )
    target = Path(folder).absolute()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise FormatError(str(folder), "exists and is not empty; choose a new folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.clen-tmp-{uuid.uuid4().hex[:12]}"
    tmp.mkdir()
    return target, tmp


@attrs.define
class _Building:
    """A folder being built in a hidden sibling, renamed into place by :meth:`finish`."""

    target: Path
    tmp: Path

    def finish(self, entity: str) -> WriteResult:
        """Rename the folder into place; the files in it and their rows (from the footers
        clen_core's writer wrote)."""
        import pyarrow.parquet as pq

        names = sorted(p.name for p in self.tmp.glob("part-*.parquet"))
        rows = sum(pq.read_metadata(self.tmp / n).num_rows for n in names)
        if self.target.exists():
            self.target.rmdir()  # empty, as checked
        os.replace(self.tmp, self.target)
        return WriteResult(tuple(self.target / n for n in names), {entity: rows})


@contextlib.contextmanager
def _building(folder: str | Path) -> Iterator[_Building]:
    target, tmp = _new_folder(folder)
    try:
        yield _Building(target, tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# --------------------------------------------------------------------------- Spark


def _with_spark_files(df: Any) -> Any:
    """``df`` with :data:`FILE` from ``_metadata.file_path`` when it reads files and has no
    such column (checked now, so a DataFrame of no file goes on without it)."""
    from pyspark.errors import AnalysisException
    from pyspark.sql import functions as F

    if FILE in df.columns:
        return df
    try:
        out = df.select("*", F.col("_metadata.file_path").alias(FILE))
        out.schema  # noqa: B018  (Spark Connect analyses on demand: ask now)
    except AnalysisException:
        return df
    return out


def _spark_issues(tagged: Any, name: str) -> tuple[Any, Any]:
    """The rejects and the findings of a tagged (or issues) Spark DataFrame."""
    from pyspark.sql import functions as F

    findings = [
        F.lit(name).alias(c) if c == "entity" else F.col(_FINDING_FROM[c]).alias(c)
        for c in FINDINGS_SCHEMA.names
    ]
    rejects = [F.col(v).alias(k) for k, v in _REJECT_FROM.items()]
    return (
        tagged.where(F.col(KIND) == "reject").select(*rejects),
        tagged.where(F.col(KIND) == "finding").select(*findings),
    )


def validate_spark(
    df: Any,
    entity: str | type,
    *,
    only: Iterable[str] | None = None,
    cache: bool = True,
    write_to: str | Path | None = None,
    issues_to: str | None = None,
) -> Validated:
    """Check the rows of the Spark DataFrame ``df`` on the workers, each batch once: a
    :class:`Validated` of Spark DataFrames.

    Lazy, as Spark is: the three are split from one ``mapInArrow``. With ``cache`` (the
    default) its output is persisted (``MEMORY_AND_DISK``) when first computed, so that
    using the valid rows, the rejects and the findings runs the validator once;
    :meth:`Validated.unpersist` frees it. Without, each action on them validates again.

    With ``write_to`` (and ``issues_to``), one job now reads, checks and writes: each
    worker writes its valid rows to ``write_to`` as :func:`write_spark` does (clen_core's
    writer; the folder appears whole when done) and hands back only the rejects and
    findings, which Spark writes to ``issues_to`` (any path Spark writes, as Parquet in
    the ``"issues"`` schema); the result reads both back (:attr:`Validated.written` says
    what was written). The valid rows never go back to the JVM: the cheapest way through.

    ``_file`` is added from ``_metadata.file_path`` when ``df`` reads files; give
    ``_row`` for row numbers. ``only``: run only these rule IDs (of :func:`batch_rules`).
    """
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    name = get_entity(entity).name
    wanted = _only(only)
    df = _with_spark_files(df)
    ids = tuple(r.id for r in batch_rules(name, wanted))
    if write_to is not None or issues_to is not None:
        if write_to is None or issues_to is None:
            raise ArgumentError("write_to= and issues_to= go together: give both, or neither")
        return _validate_spark_to(df, name, wanted, write_to, issues_to)
    check = ArrowValidator(name, "tagged", only=wanted)
    tagged = df.mapInArrow(check, check.spark_schema())
    if cache:
        tagged = tagged.persist(StorageLevel.MEMORY_AND_DISK)
    valid = tagged.where(F.col(KIND) == "valid").select(*(f.name for f in _valid_fields(name)))
    rejects, findings = _spark_issues(tagged, name)
    return Validated(name, valid, rejects, findings, tagged, ids, _not_run(name, wanted))


def _issues_type(name: str) -> Any:
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(output_schema(name, "issues"))


def _validate_spark_to(
    df: Any, name: str, wanted: tuple[str, ...] | None, write_to: str | Path, issues_to: str
) -> Validated:
    with _building(write_to) as building:
        check = _CheckingWriter(name, str(building.tmp), wanted)
        issues = df.mapInArrow(check, _issues_type(name))
        return _spark_written(df.sparkSession, name, wanted, issues, building, issues_to)


def _spark_written(spark: Any, name: str, wanted: tuple[str, ...] | None, issues: Any,
                   building: _Building, issues_to: str) -> Validated:  # fmt: skip
    """Run the one job (``issues`` written to ``issues_to``), put the valid rows' folder in
    place, and read both back."""
    from pyspark.sql.pandas.types import from_arrow_schema

    issues.write.parquet(issues_to)  # the one job; refuses a path that exists
    written = building.finish(name)
    tagged = spark.read.parquet(issues_to)
    rejects, findings = _spark_issues(tagged, name)
    if written.paths:
        valid = spark.read.parquet(str(building.target))
    else:  # no valid row, no file: nothing Spark could read a schema from
        valid = spark.createDataFrame([], from_arrow_schema(output_schema(name)))
    ids = tuple(r.id for r in batch_rules(name, wanted))
    return Validated(name, valid, rejects, findings, tagged, ids, _not_run(name, wanted), written)


@attrs.frozen
class _FileChecker:
    """Reads row groups of Parquet files itself (``tasks``: file, row group, its first row),
    checks each batch once, writes the valid rows to the partition's file and yields the
    rejects and findings: the rows never go through the JVM."""

    entity: str
    folder: str
    only: tuple[str, ...] | None
    tasks: tuple[tuple[str, int, int], ...]
    version: str = __version__

    def batches(self, ids: Iterable[int]) -> Iterator[pa.RecordBatch]:
        """The rows of the tasks ``ids``, with :data:`ROW` (1-based in their file, unless
        the file has its own) and :data:`FILE`."""
        import pyarrow.parquet as pq

        names = set(arrow_schema(self.entity).names) | {ROW, FILE}
        opened: dict[str, pq.ParquetFile] = {}
        for i in ids:
            path, group, first = self.tasks[i]
            if path not in opened:
                opened.clear()  # one file open at a time: tasks come file by file
                opened[path] = pq.ParquetFile(path)
            pf = opened[path]
            columns = [n for n in pf.schema_arrow.names if n in names]
            row = first
            for batch in pf.iter_batches(row_groups=[group], columns=columns):
                if ROW not in batch.schema.names:
                    batch = batch.append_column(ROW, int_range(row + 1, row + 1 + batch.num_rows))
                row += batch.num_rows
                if FILE not in batch.schema.names:
                    batch = batch.append_column(
                        FILE, pa.repeat(pa.scalar(path), batch.num_rows).cast(pa.string())
                    )
                yield batch

    def __call__(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        _same_version(self.version)
        ids = [i for b in batches for i in b.column(0).to_pylist()]
        writer = _CheckingWriter(self.entity, self.folder, self.only, self.version)
        return writer.run(_spark_part(), self.batches(ids))


def _parquet_tasks(path: str | Path | Iterable[str | Path]) -> tuple[tuple[str, int, int], ...]:
    """Each row group of the Parquet files ``path`` names (a file, a folder of them, or a
    list): its file, its index and the file's rows before it, in order."""
    import pyarrow.parquet as pq

    given = [path] if isinstance(path, str | Path) else list(path)
    files: list[Path] = []
    for p in map(Path, given):
        if p.is_dir():
            files += sorted(f for f in p.rglob("*.parquet") if not f.name.startswith((".", "_")))
        elif p.exists():
            files.append(p)
        else:
            raise FormatError(str(p), "no such file or folder")
    if not files:
        raise FormatError(str(path), "no Parquet file to read")
    tasks = []
    for f in files:
        try:
            meta = pq.read_metadata(f)
        except (pa.ArrowException, OSError) as exc:
            raise FormatError(str(f), f"not a readable Parquet file ({exc})") from None
        first = 0
        for g in range(meta.num_row_groups):
            tasks.append((str(f.absolute()), g, first))
            first += meta.row_group(g).num_rows
    return tuple(tasks)


def validate_files_spark(
    spark: Any,
    path: str | Path | Iterable[str | Path],
    entity: str | type,
    *,
    write_to: str | Path,
    issues_to: str,
    only: Iterable[str] | None = None,
    partitions: int | None = None,
) -> Validated:
    """Check Parquet files with Spark as the scheduler only: each worker reads its row
    groups itself (pyarrow), checks each batch once, writes its valid rows with
    clen_core's writer to ``write_to`` and hands back the rejects and findings, which
    Spark writes to ``issues_to``; a :class:`Validated` of what was written, as
    :func:`validate_spark` gives with ``write_to=``.

    The same checks and findings as :func:`validate_spark` on the same files, without
    the rows going out of the JVM to Python and back (what ``mapInArrow`` costs, nearly
    as much as reading and writing them: docs/performance.md). ``path``: a Parquet file,
    a folder of them (searched below it) or a list, read by the driver for their row
    groups only, and by the workers (a file system they all see). Each row's source
    row is its ``_row`` column when the file has one, else its place in its file;
    its source file, the path. ``partitions``: Spark partitions (one file of valid rows
    each; default: Spark's default parallelism, at most one per row group). ``only``:
    run only these rule IDs.
    """
    name = get_entity(entity).name
    wanted = _only(only)
    tasks = _parquet_tasks(path)
    if partitions is None:
        partitions = int(spark.sparkContext.defaultParallelism)
    if partitions < 1:
        raise ArgumentError(f"partitions must be at least 1, got {partitions}")
    with _building(write_to) as building:
        check = _FileChecker(name, str(building.tmp), wanted, tasks)
        ids = spark.range(0, len(tasks), numPartitions=min(partitions, len(tasks)))
        return _spark_written(spark, name, wanted, ids.mapInArrow(check, _issues_type(name)),
                              building, issues_to)  # fmt: skip


def _spark_finding(frame: Any, rule: Rule, entity: str, field: str | None, value: Any,
                   message: str, sort: tuple[int, int, int], item: Any) -> Any:  # fmt: skip
    """Rows of ``frame`` as findings, with the columns that put them in validate()'s order."""
    from pyspark.sql import functions as F

    return frame.select(
        F.lit(rule.id).alias("rule"),
        F.lit(rule.severity.value).alias("severity"),
        F.lit(entity).alias("entity"),
        F.col("_fkey").alias("key"),
        F.col("_frow").alias("row"),
        F.lit(field).cast("string").alias("field"),
        value.cast("string").alias("value"),
        F.lit(message).alias("message"),
        F.col("_ffile").alias("file"),
        *(F.lit(n).alias(f"_s{i}") for i, n in enumerate(sort, 1)),
        "_o1",
        "_o2",
        item.cast("long").alias("_s4"),
    )


def dataset_findings_spark(
    dfs: Mapping[str | type, Any], *, only: Iterable[str] | None = None
) -> Any:
    """DUP-001 (duplicate keys) and REF-001 (references) over Spark DataFrames of checked
    rows, one per entity (``{entity: DataFrame}``, e.g. :attr:`Validated.valid` of each, or
    the datasets written): a Spark DataFrame of findings in the columns of
    :attr:`Validated.findings` (:data:`~clen_core.rules.report.FINDINGS_SCHEMA`).

    The two rules are generated from the declarations, as the rules in memory are: a
    window over each entity's key (every row after the first with that key), and an
    anti-join of each reference field (``ref=``; each item of a list) with the keys of
    the entity it names, when that entity is one of ``dfs``. Spark runs them as joins on
    the cluster; nothing is collected. The findings are those
    :func:`clen_core.rules.validate` gives on the same rows, all of them (no cap), in its
    order: the rows' source order is ``_file`` then ``_row`` when the frames have them,
    else the order Spark reads them in. ``only``: run only these of the two rule IDs.
    Lazy: nothing runs until the findings are used.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    frames = {get_entity(n).name: df for n, df in dfs.items()}
    wanted = {"DUP-001", "REF-001"} if only is None else {get_rule(r).id for r in only}
    found: list[Any] = []
    for e, (name, df) in enumerate(frames.items()):
        info = get_entity(name)
        # Source order: file, then row; without them, the order rows are read in.
        order = F.col(FILE) if FILE in df.columns else F.lit(None).cast("string")
        pos = F.col(ROW).cast("long") if ROW in df.columns else F.monotonically_increasing_id()
        rows = df.select(
            "*",
            order.alias("_o1"),
            pos.alias("_o2"),
            (F.col(ROW).cast("long") if ROW in df.columns else F.lit(None).cast("long")).alias(
                "_frow"
            ),
            (F.col(FILE) if FILE in df.columns else F.lit(None).cast("string")).alias("_ffile"),
            F.concat_ws("/", *(F.col(k).cast("string") for k in info.key)).alias("_fkey"),
        )

        if "DUP-001" in wanted:
            rule = get_rule("DUP-001")
            nth = F.row_number().over(Window.partitionBy(*info.key).orderBy("_o1", "_o2"))
            repeated = rows.withColumn("_nth", nth).where(F.col("_nth") > 1)
            one = info.key[0] if len(info.key) == 1 else None
            message = f"duplicate {'/'.join(info.key)}: an earlier record has the same key"
            value = F.col(one) if one else F.lit(None)
            found.append(
                _spark_finding(repeated, rule, name, one, value, message, (0, e, 0), F.lit(0))
            )
        if "REF-001" not in wanted:
            continue
        rule = get_rule("REF-001")
        for i, f in enumerate(info.references):
            target = f.spec.ref
            if target not in frames or len(get_entity(target).key) != 1:
                continue  # as in memory: only when the named entity is part of the check
            keys = frames[target].select(F.col(get_entity(target).key[0]).alias("_target"))
            if isinstance(f.shape, ListShape):
                items = rows.select("*", F.posexplode(f.name).alias("_fi", "_fitem"))
            else:
                items = rows.select("*", F.lit(0).alias("_fi"), F.col(f.name).alias("_fitem"))
            items = items.where(F.col("_fitem").isNotNull())
            missing = items.join(keys, items["_fitem"] == keys["_target"], "left_anti")
            message = f"no {target} with this key in the dataset"
            item, at = F.col("_fitem"), (1, e, i)
            found.append(
                _spark_finding(missing, rule, name, f.name, item, message, at, F.col("_fi"))
            )
    names = FINDINGS_SCHEMA.names
    if not found:
        from pyspark.sql.pandas.types import from_arrow_schema

        session = next(iter(frames.values())).sparkSession if frames else None
        if session is None:
            raise ArgumentError("dataset_findings_spark needs at least one DataFrame")
        return session.createDataFrame([], from_arrow_schema(FINDINGS_SCHEMA))
    union = found[0]
    for more in found[1:]:
        union = union.unionByName(more)
    return union.orderBy("_s1", "_s2", "_s3", "_o1", "_o2", "_s4").select(*names)


def write_spark(valid: Any, folder: str | Path, entity: str | type) -> WriteResult:
    """Write the rows of the Spark DataFrame ``valid`` (rows already checked, in the
    entity's fields: :attr:`Validated.valid`) to a new ``folder``, one Parquet file per
    partition, each written on its worker by clen_core's own writer.

    The files carry the entity's Arrow schema and ``clen_core.*`` metadata, zstd, row
    groups of up to :data:`~clen_core.io.readwrite.DEFAULT_BATCH_ROWS` rows: the folder
    is a dataset ``clen_core.open_partitioned`` and ``clen validate`` read (no partition
    keys). It is built in a hidden sibling folder and renamed into place when every file
    is written, so it appears whole or not at all; ``folder`` must be absent or empty,
    on a file system the driver and every worker see (a local one in local mode). A task
    run again rewrites its own file. Runs a Spark job now; returns the files and rows.
    """
    name = get_entity(entity).name
    with _building(folder) as building:
        valid.mapInArrow(_PartWriter(name, str(building.tmp)), "rows long").collect()
        return building.finish(name)


# --------------------------------------------------------------------------- pandas, Dask


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


def validate_pandas(
    frame: Any, entity: str | type, output: Output = "valid", *, only: Iterable[str] | None = None
) -> Any:
    """The valid rows, the rejects, the findings or all three tagged (``output``, see
    :func:`output_schema`) of a pandas DataFrame, as a DataFrame of Arrow-backed columns
    (``pd.ArrowDtype``). ``only``: run only these rule IDs (of :func:`batch_rules`)."""
    validator = ArrowValidator(get_entity(entity).name, output, only=_only(only))
    return _to_pandas(validator(_pandas_batches(frame, validator.entity)), validator.schema)


def pandas_meta(entity: str | type, output: Output = "valid") -> Any:
    """An empty DataFrame with the columns and dtypes :func:`validate_pandas` returns."""
    return _to_pandas([], output_schema(entity, output))


def _validate_partition(
    frame: Any, entity: str, output: Output, only: tuple[str, ...] | None, version: str
) -> Any:
    """:func:`validate_pandas` on a worker, held to the driver's clen_core ``version``."""
    validator = ArrowValidator(entity, output, only=only, version=version)
    return _to_pandas(validator(_pandas_batches(frame, entity)), validator.schema)


def _split_pandas(tagged: Any, entity: str, output: Output) -> Any:
    """The rows of one kind of a tagged pandas DataFrame, in ``output``'s columns."""
    import pandas as pd

    part = tagged[(tagged[KIND] == _KIND_OF[output]).to_numpy(dtype=bool, na_value=False)]
    if output == "valid":
        out = part[[f.name for f in _valid_fields(entity)]]
    else:
        source = _REJECT_FROM if output == "rejects" else _FINDING_FROM
        columns = {}
        for c in output_schema(entity, output).names:
            if c == "entity":
                text = pd.ArrowDtype(pa.string())
                columns[c] = pd.Series([entity] * len(part), index=part.index, dtype=text)
            else:
                columns[c] = part[source[c]]
        out = pd.DataFrame(columns, index=part.index)
    return out.reset_index(drop=True)


def _dask_split(tagged: Any, name: str, outputs: Sequence[Output]) -> list[Any]:
    return [
        tagged.map_partitions(_split_pandas, name, output, meta=pandas_meta(name, output))
        for output in outputs
    ]


def validate_dask(
    ddf: Any,
    entity: str | type,
    *,
    only: Iterable[str] | None = None,
    write_to: str | Path | None = None,
    issues_to: str | None = None,
) -> Validated:
    """Check the rows of the dask DataFrame ``ddf`` partition by partition, each once: a
    :class:`Validated` of dask DataFrames.

    Lazy, as Dask is: the three are split from one ``map_partitions`` and share its
    tasks, so computed together (``dask.compute(r.valid, r.rejects, r.findings)``,
    ``dask.persist(...)``, or :func:`write_dask` with ``compute_with``) each partition is
    checked once; computed one after the other, once each.

    With ``write_to`` (and ``issues_to``), the work is done now, as by
    :func:`validate_spark`: each partition's valid rows written to ``write_to`` by
    clen_core's writer (the folder appears whole when done), its rejects and findings to
    ``issues_to`` (``to_parquet``, any path dask writes), and the result reads both back.

    Give ``_row`` (and ``_file``) columns for row numbers (and files). ``only``: run only
    these rule IDs (of :func:`batch_rules`).
    """
    name = get_entity(entity).name
    wanted = _only(only)
    ids = tuple(r.id for r in batch_rules(name, wanted))
    if write_to is not None or issues_to is not None:
        if write_to is None or issues_to is None:
            raise ArgumentError("write_to= and issues_to= go together: give both, or neither")
        return _validate_dask_to(ddf, name, wanted, write_to, issues_to)
    # The driver's version goes with the graph: a worker of another refuses to run.
    tagged = ddf.map_partitions(
        _validate_partition, name, "tagged", wanted, __version__, meta=pandas_meta(name, "tagged")
    )
    valid, rejects, findings = _dask_split(tagged, name, ("valid", "rejects", "findings"))
    return Validated(name, valid, rejects, findings, tagged, ids, _not_run(name, wanted))


def _check_and_write_pandas(
    frame: Any,
    entity: str,
    folder: str,
    only: tuple[str, ...] | None,
    version: str,
    partition_info: dict[str, Any] | None = None,
) -> Any:
    part = None if partition_info is None else partition_info.get("number")
    batches = _pandas_batches(frame, entity) if len(frame) else []
    checking = _CheckingWriter(entity, folder, only, version)
    return _to_pandas(checking.run(part, batches), output_schema(entity, "issues"))


def _validate_dask_to(
    ddf: Any, name: str, wanted: tuple[str, ...] | None, write_to: str | Path, issues_to: str
) -> Validated:
    import dask.dataframe as dd

    with _building(write_to) as building:
        issues = ddf.map_partitions(
            _check_and_write_pandas,
            name,
            str(building.tmp),
            wanted,
            __version__,
            meta=pandas_meta(name, "issues"),
        )
        issues.to_parquet(issues_to, write_index=False)  # the one pass
        written = building.finish(name)
    tagged = dd.read_parquet(issues_to, dtype_backend="pyarrow")
    rejects, findings = _dask_split(tagged, name, ("rejects", "findings"))
    if written.paths:
        valid = dd.read_parquet(str(building.target), dtype_backend="pyarrow")
    else:  # no valid row, no file
        valid = cast(Any, dd).from_pandas(pandas_meta(name), npartitions=1)
    ids = tuple(r.id for r in batch_rules(name, wanted))
    return Validated(name, valid, rejects, findings, tagged, ids, _not_run(name, wanted), written)


def _write_pandas(
    frame: Any, entity: str, folder: str, version: str, partition_info: dict[str, Any] | None = None
) -> Any:
    import pandas as pd

    part = None if partition_info is None else partition_info.get("number")
    batches = _pandas_batches(frame, entity) if len(frame) else []
    rows = _PartWriter(entity, folder, version).write(part, batches)
    return pd.DataFrame({"rows": pd.Series([rows], dtype=pd.ArrowDtype(pa.int64()))})


def write_dask(
    valid: Any, folder: str | Path, entity: str | type, *, compute_with: Sequence[Any] = ()
) -> WriteResult:
    """Write the rows of the dask DataFrame ``valid`` (:attr:`Validated.valid`) to a new
    ``folder``, one Parquet file per partition written by clen_core's own writer, as
    :func:`write_spark` does (same files, same folder that appears whole).

    ``compute_with``: other dask collections computed in the same pass, e.g.
    ``r.rejects.to_parquet(path, compute=False)``, so that each partition is checked
    once for all of them. Computes now; returns the files and rows.
    """
    import dask
    import pandas as pd

    name = get_entity(entity).name
    meta = pd.DataFrame({"rows": pd.Series([], dtype=pd.ArrowDtype(pa.int64()))})
    with _building(folder) as building:
        parts = valid.map_partitions(_write_pandas, name, str(building.tmp), __version__, meta=meta)
        # dask's compute is untyped: one call computes them all, sharing their tasks.
        cast(Any, dask).compute(parts, *compute_with)
        return building.finish(name)


# --------------------------------------------------------------------------- reading CSV


def csv_schema(entity: str | type) -> pa.Schema:
    """The schema of what :func:`read_csv_spark` and :func:`read_csv_dask` give: every field
    of the entity as text, then :data:`ROW` (int64) and :data:`FILE` (text)."""
    info = get_entity(entity)
    fields = [pa.field(f.name, pa.string()) for f in info.fields]
    extra = [pa.field(ROW, pa.int64(), nullable=False), pa.field(FILE, pa.string(), False)]
    return pa.schema(fields + extra, metadata=arrow_schema(info).metadata)


def _csv_files(path: str | Path | Sequence[str | Path]) -> list[str]:
    """The CSV files to read: the files given, or a folder's ``*.csv`` (sorted)."""
    given = [path] if isinstance(path, str | Path) else list(path)
    files: list[str] = []
    for p in map(Path, given):
        if p.is_dir():
            files += [str(f) for f in sorted(p.glob("*.csv")) if not f.name.startswith(".")]
        elif p.is_file():
            files.append(str(p))
        else:
            raise FormatError(str(p), "no such file or folder")
    if not files:
        raise FormatError(", ".join(map(str, given)), "no CSV file to read")
    return files


@attrs.frozen
class CsvReader:
    """``Iterator[RecordBatch] -> Iterator[RecordBatch]``: batches of file paths (a
    ``path`` column) in, the rows of each file out as :func:`csv_schema` has them, read by
    clen_core's own CSV reader on the worker. Plain data: it pickles by value."""

    entity: str
    """Name of the entity of the files' rows."""
    options: tuple[tuple[str, Any], ...] = ()
    """The CSV read options (``delimiter``, ``decimal``, ``encoding``); absent ones are
    detected per file, as ``clen validate`` does."""
    version: str = attrs.field(default=__version__, kw_only=True)
    """The driver's clen_core version (a worker with another refuses to run)."""

    def __call__(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """Read every file named in ``batches`` (column ``path``), in order."""
        _same_version(self.version)
        for batch in batches:
            for path in batch.column("path").to_pylist():
                yield from self.read(path)

    def read(self, path: str) -> Iterator[pa.RecordBatch]:
        """The rows of one file: each field's cell as text (null for an empty unquoted
        cell, ``""`` for a quoted one, spreadsheet neutralisation undone), its row number
        as ``clen validate`` counts it (the header is row 1) and the file."""
        from clen_core.io.formats import get_format

        info = get_entity(self.entity)
        schema = csv_schema(info.cls)
        reader = get_format("csv").with_options(**dict(self.options)).read_batches
        assert reader is not None
        with open(path, "rb") as source:
            for raw in reader(source, info, path):
                if raw.problems:
                    # No frame row can stand for a row without its cells: said, not dropped.
                    first = min(raw.problems, key=lambda p: p.row)
                    raise FormatError(
                        path,
                        f"{first.reason}; a row the reader cannot split into the header's "
                        "cells cannot be a row of the frame: check the file with clen validate",
                        row=first.row,
                    )
                n = raw.batch.num_rows
                if not n:
                    continue
                columns = []
                for f in info.fields:
                    if f.name in raw.batch.schema.names:
                        columns.append(pc.cast(raw.batch.column(f.name), pa.string()))
                    else:  # an optional field the file leaves out
                        columns.append(pa.nulls(n, pa.string()))
                rows = pc.cast(raw.rows, pa.int64())
                files = pa.repeat(pa.scalar(path, pa.string()), n)
                yield pa.RecordBatch.from_arrays([*columns, rows, files], schema=schema)


def read_csv_spark(
    spark: Any,
    path: str | Path | Sequence[str | Path],
    entity: str | type,
    **options: Any,
) -> Any:
    """A Spark DataFrame of the rows of CSV files of ``entity`` as clen_core reads them, to
    give to :func:`validate_spark`: each field as text, :data:`ROW` and :data:`FILE`.

    ``path``: a file, a folder (its ``*.csv``) or a list of them, on a file system every
    worker sees at the same path (a local one in local mode). ``options``: ``delimiter``,
    ``decimal``, ``encoding`` (detected per file when not given).

    Each file is read whole by one task with clen_core's own CSV reader (not Spark's):
    the dialect is exactly ``clen validate``'s (a quoted ``""`` is the empty text, an
    empty cell missing, cells with line breaks, a neutralised ``'=1+2`` read as
    ``=1+2``, a byte-order mark, any delimiter), and the row numbers are
    ``clen validate``'s (the header is row 1; a record with line breaks counts one),
    which a reader that splits a file between tasks cannot know. So
    ``validate_spark(read_csv_spark(spark, p, e), e)`` rejects and reports what
    ``clen validate p -e e`` does, row for row. A row with the wrong number of cells
    stops the job with a :class:`~clen_core.io.formats.FormatError` naming file and row
    (``clen validate`` rejects it; a frame cannot hold it). Lazy, as Spark is.
    """
    from pyspark.sql.pandas.types import from_arrow_schema

    name = get_entity(entity).name
    files = _csv_files(path)
    # One task per file: round-robin gives each of as many partitions one file.
    listed = spark.createDataFrame([(f,) for f in files], "path string").repartition(len(files))
    reader = CsvReader(name, tuple(sorted(options.items())))
    return listed.mapInArrow(reader, from_arrow_schema(csv_schema(name)))


def _read_csv_pandas(path: str, reader: CsvReader) -> Any:
    return _to_pandas(reader.read(path), csv_schema(reader.entity))


def read_csv_dask(
    path: str | Path | Sequence[str | Path], entity: str | type, **options: Any
) -> Any:
    """A dask DataFrame of the rows of CSV files of ``entity`` as clen_core reads them, to
    give to :func:`validate_dask`: one partition per file, each field as text
    (``pd.ArrowDtype``), :data:`ROW` and :data:`FILE`.

    As :func:`read_csv_spark` (clen_core's reader, ``clen validate``'s dialect and row
    numbers, the same ``options``); pandas' own CSV reader is not used, since it reads a
    quoted ``""`` and an empty cell alike. Lazy, as Dask is.
    """
    import dask.dataframe as dd

    name = get_entity(entity).name
    reader = CsvReader(name, tuple(sorted(options.items())))
    meta = _to_pandas([], csv_schema(name))
    return cast(Any, dd).from_map(_read_csv_pandas, _csv_files(path), reader=reader, meta=meta)
