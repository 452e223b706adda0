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
from typing import Literal, TypeAlias

import attrs
import pyarrow as pa

from clen_core import limits
from clen_core.errors import ArgumentError, ClenError, RejectedRowsError
from clen_core.io.appends import DatasetWriteResult, IfBatchExists, OnDuplicateKey
from clen_core.io.atomic import atomic_file, paths_apart
from clen_core.io.formats import Format, FormatError, format_for_path, get_format
from clen_core.io.partitioned import (
    DEFAULT_TARGET_FILE_SIZE,
    open_partitioned,
    refused_value,
    write_partitioned,
)
from clen_core.io.readwrite import Reader, read
from clen_core.io.records import Decoder, Reject, RowProblem, json_bytes
from clen_core.model.entity import get_entity
from clen_core.rules.context import ROW_COLUMN
from clen_core.rules.engine import Validation
from clen_core.rules.registry import fields_read
from clen_core.rules.report import READ_RULE, Report
from clen_core.schema.arrow import arrow_schema

__all__ = [
    "ConvertResult",
    "FileValidation",
    "PathValidation",
    "Progress",
    "convert",
    "validate_file",
    "validate_path",
]

Progress: TypeAlias = Callable[[int], None]
"""A callback given the rows read so far (accepted and rejected), after each batch."""

_DATASET_FORMAT = "parquet"
"""The format of a partitioned dataset's files."""

_SPILL_ROWS = 1_000_000
"""Rows of an entity whose key and reference columns :func:`validate_file` and
:func:`validate_path` hold in memory for DUP-001 and REF-001; past it they go to disk
(:class:`~clen_core.rules.wholetable.WholeTable`), so memory does not grow with the file."""


@attrs.frozen(kw_only=True)
class ConvertResult:
    """What :func:`convert` did: every row read was written, skipped or rejected
    (``read == written + skipped + rejected``)."""

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
    """Rows read from the source (written + skipped + rejected)."""
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
    skipped: int = 0
    """Rows that fit but were not written to the dataset: their key was there already
    (``on_duplicate_key="skip"``), or their batch was (``if_batch_exists="skip"``)."""
    batch_id: str | None = None
    """The batch the rows were recorded under in the dataset (None: not a dataset, or
    no row written)."""
    already_appended: str | None = None
    """When the same batch was appended before (``if_batch_exists="skip"``: nothing
    written); None otherwise."""


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
    target_file_size: int | str | None = None,
    append: bool = False,
    batch_id: str | None = None,
    on_duplicate_key: OnDuplicateKey | None = None,
    if_batch_exists: IfBatchExists = "error",
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
    or ``year``/``month`` of its main date), ``max_rows_per_file``,
    ``target_file_size`` (bytes, or e.g. ``"128MB"``; default
    :data:`~clen_core.io.partitioned.DEFAULT_TARGET_FILE_SIZE`) or
    ``append``, ``dst`` is a hive-partitioned Parquet dataset folder written
    by :func:`~clen_core.io.partitioned.write_partitioned`; with ``append``
    and no ``partition_by``, the rows are added under the keys of the dataset
    already there. ``batch_id``, ``on_duplicate_key`` and ``if_batch_exists``
    make a retried append safe (:mod:`clen_core.io.appends`): by default an
    append of a batch already there, or of rows whose key is, is refused with a
    :class:`~clen_core.errors.DuplicateKeyError`. A given ``batch_id`` already
    there with ``if_batch_exists="skip"`` reads nothing (``read == 0``).

    ``src``, ``dst`` and ``rejects`` must be apart: the same file or folder, or one
    inside another, is an :class:`~clen_core.errors.ArgumentError` before anything is
    read (:func:`~clen_core.io.atomic.paths_apart`). A ``dst`` (or ``rejects``) that is
    a symbolic link is written where it points; the link stays. The rejects file is
    complete once the last row is read, before ``dst`` is replaced.

    Raises a :class:`~clen_core.errors.ClenError` for an unknown entity or
    format, an unreadable file or a bad argument; :class:`OSError` for what
    the system refuses (naming ``dst`` and the rows being written when it fills up).
    """
    source, target = Path(src), Path(dst)
    info = get_entity(entity)
    # The source is checked first (it exists, its format is known), and nothing is written.
    source_format = read(source, entity=info.name, format=from_format).format
    paths_apart(source=source, target=target, rejects=rejects)
    sized = max_rows_per_file is not None or target_file_size is not None
    dataset = partition_by is not None or sized or append
    keys: str | Iterable[str] = partition_by if partition_by is not None else ()
    if not dataset and (batch_id, on_duplicate_key, if_batch_exists) != (None, None, "error"):
        raise ArgumentError(
            f"{target}: batch_id, on_duplicate_key and if_batch_exists are for a dataset "
            "folder (partition_by, max_rows_per_file, target_file_size or append)"
        )
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
            for batch, rows in stream:
                if dataset and keys:
                    # A value that cannot name a folder: said with its row in the source.
                    refused = refused_value(batch, info, keys)
                    if refused is not None:
                        at, key, why = refused
                        raise FormatError(str(source), why, row=rows[at].as_py(), field=key)
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
    done_dataset: DatasetWriteResult | None = None
    with contextlib.closing(batches()) as stream:
        try:
            if dataset:
                done_dataset = write_partitioned(
                    stream,
                    target,
                    entity=info.name,
                    partition_by=keys,
                    max_rows_per_file=max_rows_per_file,
                    target_file_size=(
                        DEFAULT_TARGET_FILE_SIZE if target_file_size is None else target_file_size
                    ),
                    append=append,
                    batch_id=batch_id,
                    on_duplicate_key=on_duplicate_key,
                    if_batch_exists=if_batch_exists,
                )
                paths = done_dataset.paths
            else:
                with atomic_file(target) as sink:
                    write_batches(sink, info, stream, str(target))
                    every_row_taken()  # before the target is replaced
                paths = (target,)
        except _StrictAbort:
            done = every_row_taken()
            raise RejectedRowsError(
                list(done.rejects), read=done.read_rows, rejected=done.rejected
            ) from None
        except OSError as exc:
            if reader is None or exc.errno is None or exc.filename != str(target):
                raise
            # Which rows were being written when the system refused (a full disk).
            raise OSError(
                exc.errno,
                f"{exc.strerror} (writing the rows read from {source} up to row {reader.row:,})",
                exc.filename,
            ) from exc
    already = None if done_dataset is None else done_dataset.already
    if already is not None and reader is None:  # a given batch_id seen before: nothing read
        return ConvertResult(
            source=source, target=target, entity=info.name, source_format=source_format.name,
            target_format=fmt.name, read=0, written=0, rejected=0, rejects=(),
            rejects_path=None, paths=(), dataset=True, batch_id=already.batch_id,
            already_appended=already.appended,
        )  # fmt: skip
    done = every_row_taken()
    skipped = 0 if done_dataset is None else done_dataset.skipped
    return ConvertResult(
        source=source,
        target=target,
        entity=info.name,
        source_format=source_format.name,
        target_format=fmt.name,
        read=done.read_rows,
        written=written - skipped,
        rejected=done.rejected,
        rejects=tuple(done.rejects),
        rejects_path=Path(rejects) if rejects is not None else None,
        paths=paths,
        dataset=dataset,
        skipped=skipped,
        batch_id=None if done_dataset is None else done_dataset.batch_id,
        already_appended=None if already is None else already.appended,
    )


def validate_file(
    path: str | Path,
    *,
    entity: str | type,
    format: str | Format | None = None,
    only: Iterable[str] | None = None,
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
    ``only``: run only these rule IDs (rows that do not fit are reported all the same).
    ``max_findings``: findings (and rejects) kept in memory, the counts going on
    past it (default ``clen_core.limits.current().max_findings``).
    ``report_path``: write the report there as JSON too (atomically; not the file
    itself, nor inside a folder validated).

    Raises a :class:`~clen_core.errors.ClenError` for an unknown entity or
    format, an unreadable file or a bad argument; :class:`OSError` for what
    the system refuses.
    """
    source = Path(path)
    paths_apart(source=source, report=report_path)
    name = get_entity(entity).name
    if max_findings is None:
        max_findings = limits.current().max_findings
    reader = read(source, entity=name, format=format, on_reject="collect",
                  max_rejects=max_findings)  # fmt: skip
    # Rules that judge each row alone run on each batch while the next ones are read; past
    # _SPILL_ROWS rows, the keys DUP-001 compares go to disk (rules.wholetable), not memory.
    validation = Validation(name, only=only, max_findings=max_findings, spill_rows=_SPILL_ROWS)
    # Only the fields the rules read are kept of each row (all, when a rule may read any).
    kept = fields_read(name)
    validation.add(_empty(name, kept))
    with contextlib.closing(reader.batches(kept)) as stream:
        for batch, rows in stream:
            # The rules see the valid rows as one table, with their source rows.
            validation.add(pa.Table.from_batches([batch]).append_column(ROW_COLUMN, rows))
            if progress is not None:
                progress(reader.read_rows)
    report = validation.finish()
    report.add_rejected_rows(name, reader.rejects, reader.rejected)
    report.findings = [
        f if f.file is not None else attrs.evolve(f, file=str(source)) for f in report.findings
    ]
    if report_path is not None:
        with atomic_file(report_path) as sink:
            sink.write(json_bytes(report.to_dict(), indent=2))
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


# --------------------------------------------------------------------------- a path


PathKind = Literal["file", "folder", "document", "partitioned"]


@attrs.frozen(kw_only=True)
class PathValidation:
    """What :func:`validate_path` found: per entity the rows read, accepted and
    rejected (``read == accepted + rejected``), and one :class:`Report` for all."""

    path: Path
    """The file or folder validated."""
    kind: PathKind
    """``file`` (one entity), ``folder`` (one file per entity, as ``write_dataset``
    writes it), ``document`` (a file holding a dataset: a JSON dataset document, a
    workbook) or ``partitioned`` (a hive-partitioned Parquet dataset of one entity)."""
    files: dict[str, Path]
    """The file each entity was read from (the document itself, or the dataset folder)."""
    read: dict[str, int]
    """Rows read per entity."""
    accepted: dict[str, int]
    """Rows per entity that fit it: the rules ran on these, across entities."""
    rejected: dict[str, int]
    """Rows per entity that did not fit it: each is a ``READ-001`` error in the report."""
    report: Report
    """The findings of every rule across the entities found, each naming its file."""
    report_path: Path | None
    """The file the report was written to as JSON, when one was asked for."""

    @property
    def ok(self) -> bool:
        """True when the report has no error-severity finding (a rejected row is one)."""
        return self.report.ok


def _entity_from_metadata(source: Path, fmt: Format) -> str | None:
    """The entity a Parquet file's ``clen_core.entity`` metadata names, if any."""
    if fmt.name != _DATASET_FORMAT:
        return None
    from clen_core.io import parquet

    with contextlib.suppress(ClenError, OSError):
        name = (parquet.read_schema(source).metadata or {}).get(b"clen_core.entity")
        return name.decode("utf-8", "replace") if name else None
    return None


def _is_entity_folder(root: Path) -> bool:
    """Whether every visible file of ``root`` is named after an entity (``activity.csv``)."""
    files = [p for p in root.iterdir() if not p.name.startswith((".", "_"))]
    if not files or any(p.is_dir() for p in files):
        return False
    return all(_named_entity(p) is not None for p in files)


def _named_entity(file: Path) -> str | None:
    with contextlib.suppress(ClenError):
        return get_entity(file.name.split(".", 1)[0]).name
    return None


_DOCUMENT_CHUNK = 10_000
"""Records of a dataset document decoded into objects before they become Arrow (of the
fields the rules read): memory holds that many objects of an entity, not all of them."""


def _empty(name: str, kept: frozenset[str] | None) -> pa.Table:
    """No rows of ``name``: its schema (the fields kept), with the source-row column."""
    table = arrow_schema(name).empty_table()
    if kept is not None:
        table = table.select([n for n in table.schema.names if n in kept])
    return table.append_column(ROW_COLUMN, pa.array([], pa.int64()))


class _Tables:
    """Each entity's accepted rows (with their source rows), its rejects and its counts.

    Only the fields the registered rules read of each entity are kept
    (:func:`~clen_core.rules.registry.fields_read`: those of the rules over it and those
    other entities' rules look up in it), with the source rows: the rules' findings on
    them are their findings on the whole rows.
    """

    def __init__(self, max_rejects: int) -> None:
        self.parts: dict[str, list[pa.Table]] = {}
        self.rejects: dict[str, list[Reject]] = {}
        self.read: dict[str, int] = {}
        self.rejected: dict[str, int] = {}
        self.files: dict[str, Path] = {}
        self.max_rejects = max_rejects
        self._kept: dict[str, frozenset[str] | None] = {}

    def kept(self, name: str) -> frozenset[str] | None:
        """The fields of ``name`` kept (``None``: all, some rule may read any)."""
        if name not in self._kept:
            self._kept[name] = fields_read(name)
        return self._kept[name]

    def add_reader(self, name: str, file: Path, reader: Reader, progress: Progress | None,
                   done: int) -> int:  # fmt: skip
        self.files.setdefault(name, file)
        with contextlib.closing(reader.batches(self.kept(name))) as stream:
            for batch, rows in stream:
                table = pa.Table.from_batches([batch]).append_column(ROW_COLUMN, rows)
                self.parts.setdefault(name, []).append(table)
                if progress is not None:
                    progress(done + reader.read_rows)
        self.read[name] = self.read.get(name, 0) + reader.read_rows
        self.rejected[name] = self.rejected.get(name, 0) + reader.rejected
        kept = self.rejects.setdefault(name, [])
        kept += reader.rejects[: max(self.max_rejects - len(kept), 0)]
        return done + reader.read_rows

    def tables(self) -> dict[str, pa.Table]:
        out = {}
        for name in self.read:
            parts = self.parts.get(name)
            out[name] = pa.concat_tables(parts) if parts else _empty(name, self.kept(name))
        return out

    def add_objects(self, name: str, objects: list[object], rows: list[int]) -> None:
        """Decoded records of ``name`` with their source rows, as the fields kept."""
        from clen_core.schema.arrow import to_arrow

        table = to_arrow(objects, name)
        kept = self.kept(name)
        if kept is not None:
            table = table.select([n for n in table.schema.names if n in kept])
        self.parts.setdefault(name, []).append(
            table.append_column(ROW_COLUMN, pa.array(rows, pa.int64()))
        )


def _reads_as_dataset(source: Path, fmt: Format) -> bool:
    """Whether the dataset reader of ``fmt`` takes ``source`` (its start is enough): a JSON
    array of bare records, which needs its entity given, is read as one entity's file."""
    assert fmt.read_dataset is not None
    with open(source, "rb") as f:
        items = iter(fmt.read_dataset(f, str(source)))
        try:
            next(items, None)
        except ClenError:
            return False
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()
    return True


def _document(
    source: Path, fmt: Format, into: _Tables, progress: Progress | None, only: str | None = None
) -> set[str]:
    """Every record of a dataset document (``only``: of that entity), decoded; rejects keep
    the document's rows. Returns the entities the document holds."""
    from clen_core.errors import InvalidObjectError
    from clen_core.io.readwrite import _row_rejects

    assert fmt.read_dataset is not None
    decoders: dict[str, Decoder] = {}
    objects: dict[str, list[object]] = {}
    rows: dict[str, list[int]] = {}
    seen = 0
    held: set[str] = set()
    with open(source, "rb") as f:
        for name, item in fmt.read_dataset(f, str(source)):
            seen += 1
            held.add(name)
            if only is not None and name != only:
                continue
            into.files.setdefault(name, source)
            into.read[name] = into.read.get(name, 0) + 1
            decoder = decoders.get(name)
            if decoder is None:
                decoder = decoders[name] = Decoder(get_entity(name), fmt.flavour)
            problems: list[Reject] = []
            if isinstance(item, RowProblem):
                problems = _row_rejects(str(source), item, None)
            else:
                try:
                    decoded = decoder.decode(item.values)
                except InvalidObjectError as exc:
                    problems = _row_rejects(str(source), item, exc)
                else:
                    chunk = objects.setdefault(name, [])
                    chunk.append(decoded)
                    rows.setdefault(name, []).append(item.row)
                    if len(chunk) >= _DOCUMENT_CHUNK:
                        into.add_objects(name, chunk, rows[name])
                        objects[name], rows[name] = [], []
            if problems:
                into.rejected[name] = into.rejected.get(name, 0) + 1
                kept = into.rejects.setdefault(name, [])
                kept += problems[: max(into.max_rejects - len(kept), 0)]
            if progress is not None and seen % 10_000 == 0:
                progress(seen)
    for name, objs in objects.items():
        if objs:
            into.add_objects(name, objs, rows[name])
    if progress is not None:
        progress(seen)
    return held


def validate_path(
    path: str | Path,
    *,
    entity: str | type | None = None,
    format: str | Format | None = None,
    only: Iterable[str] | None = None,
    max_findings: int | None = None,
    report_path: str | Path | None = None,
    progress: Progress | None = None,
) -> PathValidation:
    """Validate what ``path`` holds: one file, a folder of entity files, a dataset
    document or workbook, or a hive-partitioned Parquet dataset.

    Every entity found is read (rows that do not fit it become ``READ-001``
    errors naming file and row), then every rule runs across all of them, so
    that references between entities (REF-001), declared and found CN codes
    (RES-001) and a plugin's cross-table rules are checked. Each finding names
    its file. ``entity`` is needed only for a file that does not say which
    entity it holds (a Parquet file's metadata, a JSON document's header and a
    folder's file names say it); for a folder or a document, ``entity`` reads that
    entity only. A single file of a known entity is validated as
    :func:`validate_file` does, streaming. ``only``: run only these rule IDs
    (rows that do not fit are reported all the same). ``report_path``: write the
    report there as JSON too (atomically; neither ``path`` nor inside it).

    Raises a :class:`~clen_core.errors.ClenError` for what cannot be read and
    :class:`OSError` for what the system refuses.
    """
    from clen_core.io.partitioned import open_partitioned
    from clen_core.io.readwrite import _resolve_read
    from clen_core.rules.engine import validate

    source = Path(path)
    cap = limits.current().max_findings if max_findings is None else max_findings
    if not source.exists():
        raise FormatError(str(source), "no such file or folder")
    paths_apart(source=source, report=report_path)
    into = _Tables(cap)
    partitioned: Validation | None = None
    kind: PathKind
    if source.is_dir():
        if _is_entity_folder(source):
            kind, done = "folder", 0
            for file in sorted(source.iterdir()):
                if file.name.startswith((".", "_")):
                    continue
                name = _named_entity(file)
                assert name is not None
                if entity is not None and get_entity(entity).name != name:
                    continue
                reader = read(file, entity=name, format=format, on_reject="collect",
                              max_rejects=cap)  # fmt: skip
                done = into.add_reader(name, file, reader, progress, done)
        else:
            kind = "partitioned"
            ds = open_partitioned(source, entity=entity)
            name = ds.entity.name
            into.files[name] = source
            # One entity: streamed as a file is, so memory does not hold the dataset (the
            # rowwise rules per batch, the keys for DUP-001 on disk past _SPILL_ROWS).
            partitioned = Validation(name, only=only, max_findings=cap, spill_rows=_SPILL_ROWS)
            kept = fields_read(name)
            names = [n for n in arrow_schema(name).names if kept is None or n in kept]
            partitioned.add(arrow_schema(name).empty_table().select(names))
            accepted = 0
            for batch in ds.batches(on_reject="collect"):
                # Rows of a dataset are not numbered across its files: findings name the key.
                partitioned.add(pa.Table.from_batches([batch]).select(names))
                accepted += batch.num_rows
                if progress is not None:
                    progress(accepted)
            into.rejects[name] = ds.rejects[:cap]
            into.rejected[name] = ds.rejected
            into.read[name] = accepted + into.rejected[name]
    else:
        fmt = _resolve_read(source, format)
        name = get_entity(entity).name if entity is not None else None
        if name is None:
            name = _entity_from_metadata(source, fmt)
        if fmt.read_dataset is not None and (name is None or _reads_as_dataset(source, fmt)):
            # A document (a dataset, a workbook): every entity, or the one given.
            kind = "document"
            held = _document(source, fmt, into, progress, name)
            if name is not None and name not in held:
                found = ", ".join(repr(n) for n in sorted(held)) or "no"
                raise FormatError(str(source), f"the file holds {found} records, not {name!r}")
        elif name is None:
            raise ArgumentError(
                f"{source}: the file does not say which entity its rows are "
                f"({fmt.name} files do not carry it): give the entity"
            )
        else:
            single = validate_file(source, entity=name, format=fmt, only=only, max_findings=cap,
                                   report_path=report_path, progress=progress)  # fmt: skip
            return PathValidation(
                path=source,
                kind="file",
                files={name: source},
                read={name: single.read},
                accepted={name: single.accepted},
                rejected={name: single.rejected},
                report=single.report,
                report_path=single.report_path,
            )
    report = (
        partitioned.finish()
        if partitioned is not None
        else validate(into.tables(), only=only, max_findings=cap)
    )
    for name, rejects in into.rejects.items():
        if into.rejected.get(name):
            report.add_rejected_rows(name, rejects, into.rejected[name])
    # A partitioned dataset's rows are numbered per file: a rule's finding names the key.
    unnumbered = kind == "partitioned"
    report.findings = [
        attrs.evolve(
            f,
            file=f.file or str(into.files[f.entity]),
            row=None if unnumbered and f.rule != READ_RULE else f.row,
        )
        if f.entity in into.files
        else f
        for f in report.findings
    ]
    if report_path is not None:
        with atomic_file(report_path) as sink:
            sink.write(json_bytes(report.to_dict(), indent=2))
    return PathValidation(
        path=source,
        kind=kind,
        files=dict(into.files),
        read=dict(into.read),
        accepted={n: into.read[n] - into.rejected.get(n, 0) for n in into.read},
        rejected={n: into.rejected.get(n, 0) for n in into.read},
        report=report,
        report_path=Path(report_path) if report_path is not None else None,
    )
