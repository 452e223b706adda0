"""Rewriting a dataset to the current schema of its entity (``clen migrate``).

A dataset written before an entity changed keeps the old shape in its files.
What each change means:

- **An optional field added** (nullable, ``default=None``) keeps the schema
  version: old files lack its column, appends still go in, and every reader of
  clen_core gives the field as missing for the old rows. Readers that take
  each file's own columns (DuckDB without ``union_by_name``, Polars, Spark
  without ``mergeSchema``) may not: :func:`migrate_dataset` writes the column
  into every file, as nulls.
- **Anything else** (a field removed or renamed, a type changed, a required
  field added) bumps the schema version, and appends to an older dataset are
  refused. :func:`migrate_dataset` rewrites its files when their data fits the
  current entity: every column a field, every required field present, every
  type convertible without loss (as the Parquet reader accepts it, see
  :mod:`clen_core.io.parquet`), every value valid. Otherwise it fails naming
  the file (and the row and field) and changes nothing.

The rewrite is atomic, as an append is (:mod:`clen_core.io.partitioned`): the
new version is built in a hidden sibling folder, current files hard-linked, old
ones rewritten under the same names (so the batch records still name them),
then swapped in under the dataset's lock. A single Parquet file is rewritten
through a temporary file and a rename.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import IO

import attrs
import pyarrow as pa

from clen_core.io import appends, parquet
from clen_core.io.atomic import atomic_file, naming
from clen_core.io.formats import FormatError
from clen_core.io.partitioned import (
    _ROW_GROUP_ROWS,
    _TMP,
    PARTITION_META,
    _data_files,
    _fsync_dir,
    _link_tree,
    _locked,
    _recover,
    _swap_in,
    _with_derived,
    dataset_schema,
    open_partitioned,
)
from clen_core.model.entity import EntityInfo, get_entity
from clen_core.schema.arrow import arrow_schema

__all__ = ["MigrateResult", "migrate_dataset"]


@attrs.frozen(kw_only=True)
class MigrateResult:
    """What :func:`migrate_dataset` did."""

    path: Path
    """The dataset folder, or the Parquet file."""
    entity: str
    """The entity of its rows."""
    schema_version: int
    """The schema version its files now carry."""
    files: int
    """Its data files."""
    rewritten: tuple[Path, ...]
    """The files rewritten (under their own names); none when it was current already."""
    rows: int
    """Rows in the files rewritten."""

    @property
    def current(self) -> bool:
        """True when nothing needed rewriting."""
        return not self.rewritten


def _is_current(got: pa.Schema, want: pa.Schema) -> bool:
    """Same columns, types and nullability, and the same entity, version and keys."""
    if got.names != want.names:
        return False
    for a, b in zip(got, want, strict=True):
        if not a.type.equals(b.type) or a.nullable != b.nullable:
            return False
    meta_got, meta_want = got.metadata or {}, want.metadata or {}
    return all(
        meta_got.get(k) == meta_want.get(k)
        for k in (b"clen_core.entity", b"clen_core.schema_version", PARTITION_META)
    )


def _rewrite(source: Path, sink: IO[bytes], info: EntityInfo, schema: pa.Schema) -> int:
    """Read ``source`` (checked as any file read is) and write it to ``sink`` in ``schema``."""
    from clen_core.io.columnar import check_batch

    derived = [n for n in parquet.read_schema(source).names if n not in info.field_names]
    rows = 0
    with open(source, "rb") as src:
        writer = parquet.open_writer(sink, info, schema)
        try:
            for raw in parquet.read_batches(src, info, str(source), extra_columns=derived):
                checked = check_batch(info, raw, flavour="python")
                if checked.rejected_rows:
                    r = checked.rejects.slice(0, 1).to_pylist()[0]
                    raise FormatError(
                        str(source),
                        f"cannot migrate: {r['reason']} (value {r['value']!r}); fix or remove "
                        "the row, then migrate again",
                        row=r["row"],
                        field=r["field"],
                    )
                if checked.valid.num_rows:
                    table = _with_derived(checked.valid, info, schema)
                    writer.write(table, row_group_rows=_ROW_GROUP_ROWS)
                    rows += table.num_rows
        finally:
            writer.close()
    return rows


def _prefixed(exc: FormatError) -> FormatError:
    """A reader's refusal (a required column missing, a type that does not convert) said
    as what stops the migration."""
    text = str(exc)
    if "cannot migrate" in text:
        return exc
    where = exc.path + (f", row {exc.row}" if exc.row is not None else "")
    where += f", field {exc.field}" if exc.field is not None else ""
    message = text[len(where) + 2 :] if text.startswith(where + ": ") else text
    return FormatError(exc.path, f"cannot migrate: {message}", row=exc.row, field=exc.field)


def migrate_dataset(path: str | Path, *, entity: str | type | None = None) -> MigrateResult:
    """Rewrite the dataset ``path`` (a partitioned folder, or a Parquet file) to the
    current schema of its entity, atomically; a dataset already current is left alone.

    ``entity``: needed only for files without ``clen_core.entity`` metadata. Columns of
    optional fields the files lack are written as nulls; the metadata becomes the
    current one (schema version, library version); the batch records are kept. A file
    that cannot become current (a column that is no field, a required field missing, a
    type that does not convert without loss, a value the field refuses) is a
    :class:`~clen_core.io.formats.FormatError` naming it, and nothing is changed.
    """
    given = Path(path)
    target = Path(os.path.realpath(given))
    if target.is_file():
        return _migrate_file(given, target, entity)
    if not target.is_dir():
        raise FormatError(str(given), "no such dataset folder or Parquet file")
    with _locked(target):
        _recover(target)
        ds = open_partitioned(target, entity=entity)
        info = ds.entity
        schema = dataset_schema(info, ds.partition_by)
        files = _data_files(target)
        stale = [f for f in files if not _is_current(parquet.read_schema(f), schema)]
        records = [
            f
            for f in appends._batch_files(target)
            if not _is_current(parquet.read_schema(f), schema)
        ]
        if not stale and not records:
            return MigrateResult(path=given, entity=info.name, schema_version=info.version,
                                 files=len(files), rewritten=(), rows=0)  # fmt: skip
        for f in stale:  # refused before anything is written: another partitioning
            keys = (parquet.read_schema(f).metadata or {}).get(PARTITION_META)
            if keys is not None and keys != schema.metadata[PARTITION_META]:
                raise FormatError(
                    str(f),
                    f"cannot migrate: partitioned by {keys.decode()!r}, the dataset by "
                    f"{schema.metadata[PARTITION_META].decode()!r}",
                )
        tmp = target.parent / f".{target.name}.{_TMP}{os.urandom(4).hex()}"
        rows = 0
        try:
            tmp.mkdir()
            _link_tree(target, tmp)
            for f in stale:
                dest = tmp / f.relative_to(target)
                dest.unlink()  # a hard link to the old file: never written through
                with open(dest, "wb") as sink:
                    try:
                        rows += _rewrite(f, sink, info, schema)
                    except FormatError as exc:
                        raise _prefixed(exc) from None
                    sink.flush()
                    os.fsync(sink.fileno())
            for f in records:  # the batch records, of no rows: in the schema of the rows
                meta = dict(schema.metadata or {})
                meta[appends.BATCH_META] = (parquet.read_schema(f).metadata or {})[
                    appends.BATCH_META
                ]
                dest = tmp / f.relative_to(target)
                dest.unlink()
                with open(dest, "wb") as sink:
                    parquet.open_writer(sink, info, schema.with_metadata(meta)).close()
                    sink.flush()
                    os.fsync(sink.fileno())
            _fsync_dir(tmp)
            _swap_in(tmp, target)
            _fsync_dir(target.parent)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            if exc.filename is not None and str(tmp) in str(exc.filename):
                exc.filename = None
            raise naming(exc, given) from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return MigrateResult(
        path=given,
        entity=info.name,
        schema_version=info.version,
        files=len(files),
        rewritten=tuple(given / f.relative_to(target) for f in stale),
        rows=rows,
    )


def _migrate_file(given: Path, target: Path, entity: str | type | None) -> MigrateResult:
    got = parquet.read_schema(target)
    name = (got.metadata or {}).get(b"clen_core.entity")
    if entity is None and name is None:
        raise FormatError(str(given), "the file carries no clen_core.entity metadata; give entity=")
    info = get_entity(entity if entity is not None else bytes(name or b"").decode())
    want = arrow_schema(info)
    if _is_current(got, want):
        return MigrateResult(path=given, entity=info.name, schema_version=info.version,
                             files=1, rewritten=(), rows=0)  # fmt: skip
    with atomic_file(target) as sink:
        try:
            rows = _rewrite(target, sink, info, want)
        except FormatError as exc:
            raise _prefixed(exc) from None
    return MigrateResult(path=given, entity=info.name, schema_version=info.version,
                         files=1, rewritten=(given,), rows=rows)  # fmt: skip
