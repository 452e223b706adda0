"""What ``clen convert`` and ``clen validate`` do, as two functions of the library.

- :func:`convert` reads a file of one entity and writes its rows to another
  file (any writable format) or to a hive-partitioned Parquet dataset folder.
  Rows that do not fit the entity go to the rejects (kept in memory up to a
  cap, and every one to a JSON Lines file if asked); the others are written.
  Every row read is written or rejected: ``read == written + rejected``.
- :func:`validate_file` reads a file of one entity and validates it: the rows
  that do not fit become ``READ-001`` errors, every registered rule runs on
  the others, and the :class:`~clen_core.rules.report.Report` says what was found.

Both stream: the valid rows go from the reader to the writer (or to the
rowwise rules) batch by batch, in Arrow, without building an object per row,
while the next batches are read. Neither prints anything; ``progress``, when
given, is called with the number of rows read so far after each batch.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator, Iterable
from pathlib import Path
from typing import TypeAlias

import attrs
import pyarrow as pa

from clen_core import limits
from clen_core.errors import ArgumentError, RejectedRowsError
from clen_core.io.atomic import atomic_file
from clen_core.io.formats import Format, FormatError, format_for_path, get_format
from clen_core.io.partitioned import DEFAULT_MAX_ROWS_PER_FILE, open_partitioned, write_partitioned
from clen_core.io.readwrite import Reader, read
from clen_core.io.records import Reject
from clen_core.model.entity import get_entity
from clen_core.rules.context import ROW_COLUMN
from clen_core.rules.engine import Validation
from clen_core.rules.registry import fields_read
from clen_core.rules.report import Report
from clen_core.schema.arrow import arrow_schema

__all__ = ["ConvertResult", "FileValidation", "Progress", "convert", "validate_file"]

Progress: TypeAlias = Callable[[int], None]
"""A callback given the rows read so far (accepted and rejected), after each batch."""

_DATASET_FORMAT = "parquet"
"""The format of a partitioned dataset's files."""


@attrs.frozen(kw_only=True)
class ConvertResult:
    """What :func:`convert` did: every row read was written or rejected
    (``read == written + rejected``)."""

    source: Path
    """The file read."""
    target: Path
    """The file, or the dataset folder, written."""
    entity: str
    """The entity of the rows."""
    source_format: str
    """Name of the format read."""
    target_format: str
    """Name of the format written (``parquet`` for a dataset folder)."""
    read: int
    """Rows read from the source (written + rejected)."""
    written: int
    """Rows written to the target: those that fit the entity."""
    rejected: int
    """Rows rejected: they did not fit the entity, and are not in the target."""
    rejects: tuple[Reject, ...]
    """The rejects kept in memory (one per bad field, in file order), up to ``max_rejects``."""
    rejects_path: Path | None
    """The JSON Lines file holding every rejected row, when one was asked for."""
    paths: tuple[Path, ...]
    """The files written: the target, or the files this call added to the dataset folder."""
    dataset: bool
    """Whether the target is a hive-partitioned Parquet dataset folder."""


@attrs.frozen(kw_only=True)
class FileValidation:
    """What :func:`validate_file` found: the counts and the :class:`Report`
    (``read == accepted + rejected``)."""

    path: Path
    """The file validated."""
    entity: str
    """The entity of its rows."""
    format: str
    """Name of the format read."""
    read: int
    """Rows read (accepted + rejected)."""
    accepted: int
    """Rows that fit the entity: the rules ran on these."""
    rejected: int
    """Rows that did not fit the entity: each is a ``READ-001`` error in the report."""
    report: Report
    """The findings: ``READ-001`` for the rejected rows, then every rule's on the others."""
    rejects: tuple[Reject, ...]
    """The rejects kept in memory (one per bad field, in file order), up to ``max_findings``."""
    report_path: Path | None
    """The file the report was written to as JSON, when one was asked for."""

    @property
    def ok(self) -> bool:
        """True when the report has no error-severity finding (a rejected row is one)."""
        return self.report.ok


def _resolve(path: Path, format: str | Format | None) -> Format:
    if isinstance(format, Format):
        return format
    return get_format(format) if format is not None else format_for_path(path)


class _StrictAbort(Exception):
    """Raised into the writer to undo the write: ``strict`` and a row was rejected."""


def convert(
    src: str | Path,
    dst: str | Path,
    *,
    entity: str | type,
    from_format: str | Format | None = None,
    to_format: str | Format | None = None,
    rejects: str | Path | None = None,
    strict: bool = False,
    partition_by: str | Iterable[str] | None = None,
    max_rows_per_file: int | None = None,
    append: bool = False,
    max_rejects: int | None = None,
    progress: Progress | None = None,
) -> ConvertResult:
    """Convert the file ``src`` of ``entity`` to ``dst``; rows that do not fit go to the rejects.

    The formats come from ``from_format`` and ``to_format``, else from the file
    names (and, for ``src``, its first bytes). ``dst`` is replaced whole or not
    at all. ``rejects``: a JSON Lines file to write every rejected row to (its
    errors and its values); ``max_rejects``: rejects kept in memory (default
    ``clen_core.limits.current().max_findings``).

    ``strict``: any rejected row raises :class:`~clen_core.errors.RejectedRowsError`
    once the whole file is read, and ``dst`` is left untouched (the rejects file
    is still written).

    With ``partition_by`` (``"year,country"`` or a list: fields of the entity,
    or ``year``/``month`` of its main date), ``max_rows_per_file`` or
    ``append``, ``dst`` is a hive-partitioned Parquet dataset folder written
    by :func:`~clen_core.io.partitioned.write_partitioned`; with ``append``
    and no ``partition_by``, the rows are added under the keys of the dataset
    already there.

    Raises a :class:`~clen_core.errors.ClenError` for an unknown entity or
    format, an unreadable file or a bad argument; :class:`OSError` for what
    the system refuses.
    """
    source, target = Path(src), Path(dst)
    info = get_entity(entity)
    # The source is checked first (it exists, its format is known), and nothing is written.
    source_format = read(source, entity=info.name, format=from_format).format
    dataset = partition_by is not None or max_rows_per_file is not None or append
    keys: str | Iterable[str] = partition_by if partition_by is not None else ()
    if dataset:
        fmt = get_format(_DATASET_FORMAT)
        if to_format is not None and _resolve(target, to_format).name != fmt.name:
            name = to_format if isinstance(to_format, str) else to_format.name
            raise ArgumentError(
                f"{target}: a partitioned dataset is Parquet; it cannot be written as {name}"
            )
        if partition_by is None and append and target.is_dir() and any(target.iterdir()):
            keys = open_partitioned(target, entity=info.name).partition_by  # its own keys
    else:
        fmt = _resolve(target, to_format)
    write_batches = fmt.write
    if write_batches is None:
        raise FormatError(str(target), f"format {fmt.name!r} cannot write")
    reader: Reader | None = None
    written, drained = 0, False

    def batches() -> Generator[pa.RecordBatch, None, None]:
        # Valid rows flow from reader to writer batch by batch: no object per row.
        nonlocal reader, written, drained
        # Made when the writer asks for the first rows: the rejects file it starts (a
        # temporary until the last row is read) is then never left by a write that failed
        # before reading.
        reader = read(source, entity=info.name, format=source_format, on_reject="collect",
                      rejects=rejects, max_rejects=max_rejects)  # fmt: skip
        with contextlib.closing(reader.batches()) as stream:
            for batch, _ in stream:
                written += batch.num_rows
                if progress is not None:
                    progress(reader.read_rows)
                yield batch
        drained = True
        if strict and reader.rejected:
            raise _StrictAbort

    def every_row_taken() -> Reader:
        if reader is None or not drained:  # a writer that stopped early would lose rows
            raise FormatError(str(target), f"format {fmt.name!r} stopped before the last row")
        return reader

    # Closed whatever happens: a write that fails stops the reading threads at once,
    # and removes the rejects file begun.
    with contextlib.closing(batches()) as stream:
        try:
            if dataset:
                paths = write_partitioned(
                    stream,
                    target,
                    entity=info.name,
                    partition_by=keys,
                    max_rows_per_file=(
                        DEFAULT_MAX_ROWS_PER_FILE
                        if max_rows_per_file is None
                        else max_rows_per_file
                    ),
                    append=append,
                ).paths
            else:
                with atomic_file(target) as sink:
                    write_batches(sink, info, stream)
                    every_row_taken()  # before the target is replaced
                paths = (target,)
        except _StrictAbort:
            done = every_row_taken()
            raise RejectedRowsError(
                list(done.rejects), read=done.read_rows, rejected=done.rejected
            ) from None
    done = every_row_taken()
    return ConvertResult(
        source=source,
        target=target,
        entity=info.name,
        source_format=source_format.name,
        target_format=fmt.name,
        read=done.read_rows,
        written=written,
        rejected=done.rejected,
        rejects=tuple(done.rejects),
        rejects_path=Path(rejects) if rejects is not None else None,
        paths=paths,
        dataset=dataset,
    )


def validate_file(
    path: str | Path,
    *,
    entity: str | type,
    format: str | Format | None = None,
    max_findings: int | None = None,
    report_path: str | Path | None = None,
    progress: Progress | None = None,
) -> FileValidation:
    """Validate the file ``path`` of ``entity``: rows that do not fit it, then every rule.

    The report is the one :func:`~clen_core.rules.engine.validate` gives on the
    rows that fit (their findings name the rows of the file), followed by a
    ``READ-001`` error for each row rejected when read. The rules that judge
    each row alone run on each batch while the next ones are read; only the
    fields the rules read are kept of each row.

    ``format``: the file's format, if its name and first bytes do not say.
    ``max_findings``: findings (and rejects) kept in memory, the counts going on
    past it (default ``clen_core.limits.current().max_findings``).
    ``report_path``: write the report there as JSON too (atomically).

    Raises a :class:`~clen_core.errors.ClenError` for an unknown entity or
    format, an unreadable file or a bad argument; :class:`OSError` for what
    the system refuses.
    """
    source = Path(path)
    name = get_entity(entity).name
    if max_findings is None:
        max_findings = limits.current().max_findings
    reader = read(source, entity=name, format=format, on_reject="collect",
                  max_rejects=max_findings)  # fmt: skip
    # Rules that judge each row alone run on each batch while the next ones are read.
    validation = Validation(name, max_findings=max_findings)
    # Only the fields the rules read are kept of each row (all, when a rule may read any).
    kept = fields_read(name)
    empty = arrow_schema(name).empty_table()
    if kept is not None:
        empty = empty.select([n for n in empty.schema.names if n in kept])
    validation.add(empty.append_column(ROW_COLUMN, pa.array([], pa.int64())))
    with contextlib.closing(reader.batches()) as stream:
        for batch, rows in stream:
            if kept is not None:
                batch = batch.select([n for n in batch.schema.names if n in kept])
            # The rules see the valid rows as one table, with their source rows.
            validation.add(pa.Table.from_batches([batch]).append_column(ROW_COLUMN, rows))
            if progress is not None:
                progress(reader.read_rows)
    report = validation.finish()
    report.add_rejected_rows(name, reader.rejects, reader.rejected)
    if report_path is not None:
        with atomic_file(report_path) as sink:
            sink.write(report.to_json().encode())
    return FileValidation(
        path=source,
        entity=name,
        format=reader.format.name,
        read=reader.read_rows,
        accepted=reader.accepted,
        rejected=reader.rejected,
        report=report,
        rejects=tuple(reader.rejects),
        report_path=Path(report_path) if report_path is not None else None,
    )
