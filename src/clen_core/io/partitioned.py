"""Partitioned Parquet datasets: hive-style folders that Spark, Dask, DuckDB and Polars read.

A *partitioned dataset* of one entity is a folder of Parquet files laid out
the hive way, one folder level per partition key::

    activities/
      year=2019/country=BE/part-3f2a…-00000.parquet
      year=2019/country=FR/part-3f2a…-00000.parquet
      year=2020/country=BE/part-3f2a…-00000.parquet

- **Partition keys** are fields of the entity (scalar text, whole number,
  true/false, date or enum fields) or ``year`` / ``month`` derived from the
  entity's *main date*: its first required date field (an activity's
  ``start``, a sample's ``received``), else its first date field. A field of
  the entity called ``year`` is that field, not the derived one.
- **Partition columns stay in the files**: each file holds every field of
  the entity, plus ``year`` / ``month`` (``int32``, the type readers infer for
  such folder names) when derived. DuckDB and Polars, which infer a type from
  the folder names (``country=01`` → integer), take the file's declared type
  instead, so codes stay text; for pyarrow-based readers (Dask) pass
  :meth:`PartitionedDataset.partitioning`.
- **Files** are written and read by :mod:`clen_core.io.parquet`, the
  writer of every clen_core Parquet file, so they are encoded as a single
  file is (zstd, dictionaries but for a one-field key, the entity's Arrow
  schema and its metadata), plus ``clen_core.partition_by`` in the schema
  metadata. Each file gathers the rows of its folder into row groups of up
  to 100,000 rows; ``max_rows_per_file`` bounds the rows of each file.
- **Folder names.** A value is written as text (``true``/``false``, ISO
  dates); a missing value as ``__HIVE_DEFAULT_PARTITION__``; the characters
  ``"#%'*:=?[]^{}``, DEL and the other characters hive escapes are
  percent-encoded (``%3A``), as Spark does and as pyarrow decodes. Values that
  could leave the folder or name no folder are **refused** with a
  :class:`~clen_core.io.formats.FormatError` naming the dataset, the row (among
  those given) and the key, and the value: the empty text, ``.``, ``..``,
  anything containing ``/``, ``\\``, NUL or another control character (C0 or C1:
  terminals act on U+009B as on ESC [), U+2028 or U+2029, and values whose folder
  name would pass 255 bytes. :func:`refused_value` finds such a row in a batch
  first, so that ``clen convert`` names the row of its source.
- **Atomic writes.** A new dataset is built in a hidden sibling folder
  (``.NAME.clen-tmp-…``) and renamed into place, so it appears all at once.
  ``append=True`` builds the new version in such a folder too (the existing
  files hard-linked, the new ones written), then swaps it in with one atomic
  ``renameat2(RENAME_EXCHANGE)`` on Linux; elsewhere the old folder is renamed
  aside and the new one into place (between those two renames the dataset is
  briefly absent; a run that finds it absent and the aside copy present puts
  the copy back). So a reader, or a crash at any point, sees the complete old
  dataset or the complete new one. Writers hold an exclusive lock on
  ``.NAME.clen-lock`` beside the folder (``fcntl.flock``) so that two writers
  take turns; each run first removes the temporary folders a killed run left.
  The lock file itself stays. A target that is a symbolic link is followed: the
  folder it names is the dataset (its lock, temporary and swap beside it) and the
  link stays a link; a link inside the dataset is kept as a link. The target is
  resolved first, so ``.`` from inside the dataset names the dataset's folder.
- **Appending** refuses, before reading any row, a dataset of another
  entity, schema version, partitioning or column types, naming what differs.
  Without ``append``, a target folder that exists and is not empty is refused.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import os
import shutil
import sys
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal
from urllib.parse import unquote

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from clen_core import limits
from clen_core.errors import ArgumentError
from clen_core.io import parquet
from clen_core.io.atomic import naming
from clen_core.io.formats import FormatError
from clen_core.io.readwrite import DEFAULT_BATCH_ROWS, RejectedRowsError, WriteResult
from clen_core.io.records import Reject, kept
from clen_core.model.entity import EntityInfo, get_entity
from clen_core.model.fields import ScalarShape
from clen_core.schema.arrow import arrow_schema, conform, to_arrow

if TYPE_CHECKING:
    import ctypes

# ctypes is imported where used (and pyarrow.parquet by clen_core.io.parquet where a
# file is read or written): importing clen_core (and so every `clen` command) would
# otherwise pay 30 ms for them.

__all__ = [
    "DEFAULT_MAX_ROWS_PER_FILE",
    "DERIVED_KEYS",
    "NULL_PARTITION",
    "PartitionedDataset",
    "dataset_schema",
    "main_date",
    "open_partitioned",
    "refused_value",
    "write_partitioned",
]

DEFAULT_MAX_ROWS_PER_FILE = 1_000_000
"""Rows per file unless ``max_rows_per_file`` says otherwise."""
DERIVED_KEYS = ("year", "month")
"""Partition keys derived from the entity's main date (when no field has that name)."""
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
"""Folder value of a missing partition value (as hive, Spark and pyarrow write it)."""
PARTITION_META = b"clen_core.partition_by"
"""Schema metadata key: the partition keys, comma-separated."""
_ROW_GROUP_ROWS = 100_000
_BUFFERED_ROWS = 1_000_000
_MAX_OPEN_FILES = 64
_ESCAPE = set("\"#%'*:=?[]^{}\x7f")
_REFUSED = {"/", "\\"}
_TMP, _OLD, _LOCK = "clen-tmp-", "clen-old-", "clen-lock"

OnReject = Literal["error", "collect"]


# --------------------------------------------------------------------------- keys


def main_date(entity: str | type | EntityInfo) -> str | None:
    """The entity's main date field (first required date field, else first date), or None."""
    info = _info(entity)
    dates = [f for f in info.fields if isinstance(f.shape, ScalarShape) and f.shape.py is dt.date]
    required = [f for f in dates if not f.optional]
    chosen = required or dates
    return chosen[0].name if chosen else None


def _info(entity: str | type | EntityInfo) -> EntityInfo:
    return entity if isinstance(entity, EntityInfo) else get_entity(entity)


def _keys(info: EntityInfo, partition_by: Iterable[str] | str, where: str) -> tuple[str, ...]:
    if isinstance(partition_by, str):
        partition_by = partition_by.split(",") if partition_by.strip() else []
    keys = tuple(k.strip() for k in partition_by)
    for k in keys:
        if not k:
            raise FormatError(where, "empty partition key (expected e.g. year,country)")
        if keys.count(k) > 1:
            raise FormatError(where, f"partition key {k!r} given twice")
        if k in info.field_names:
            f = info.field(k)
            ok = isinstance(f.shape, ScalarShape) and (
                f.shape.enum is not None or f.shape.py in (str, int, bool, dt.date)
            )
            if not ok:
                raise FormatError(
                    where,
                    f"{info.name}.{k} cannot be a partition key: only text, whole-number, "
                    "true/false, date and enum fields can",
                )
        elif k in DERIVED_KEYS:
            if main_date(info) is None:
                raise FormatError(
                    where, f"partition key {k!r}: {info.name} has no date field to derive it from"
                )
        else:
            derived = main_date(info)
            also = f", or {'/'.join(DERIVED_KEYS)} (from {derived})" if derived else ""
            raise FormatError(
                where,
                f"partition key {k!r} is not a field of {info.name} "
                f"(fields: {', '.join(info.field_names)}{also})",
            )
    return keys


def _derived(info: EntityInfo, keys: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(k for k in keys if k in DERIVED_KEYS and k not in info.field_names)


def dataset_schema(
    entity: str | type | EntityInfo, partition_by: Iterable[str] | str = ()
) -> pa.Schema:
    """The schema of the files of a partitioned dataset: the entity's, plus derived keys.

    Its metadata is the entity schema's plus ``clen_core.partition_by``.
    """
    info = _info(entity)
    keys = _keys(info, partition_by, info.name)
    base = arrow_schema(info)
    date = main_date(info)
    nullable = date is not None and info.field(date).optional
    fields = list(base) + [pa.field(k, pa.int32(), nullable=nullable) for k in _derived(info, keys)]
    meta = dict(base.metadata or {})
    meta[PARTITION_META] = ",".join(keys).encode()
    return pa.schema(fields, metadata=meta)


# --------------------------------------------------------------------------- folder names


def _refused(c: str) -> bool:
    """Whether the character ``c`` may not be in a folder name: a separator, or a control
    character (C0 and C1; DEL is percent-encoded instead) or line or paragraph separator,
    which terminals and line-based tools would act on."""
    o = ord(c)
    return c in _REFUSED or o < 32 or 0x80 <= o <= 0x9F or c in "\u2028\u2029"


class _Refused(Exception):
    """A partition value that cannot name a folder: why, in words."""


def _segment(key: str, value: str | None) -> str:
    """``key=value`` with the value checked and escaped (see the module docs)."""
    if value is None:
        return f"{key}={NULL_PARTITION}"
    if value in ("", ".", "..", NULL_PARTITION) or any(map(_refused, value)):
        raise _Refused(
            f"partition value {value!r} of {key} cannot name a folder (empty, '.', '..', "
            f"{NULL_PARTITION}, or containing '/', '\\\\', NUL or another control character)"
        )
    text = "".join(f"%{ord(c):02X}" if c in _ESCAPE else c for c in value)
    segment = f"{key}={text}"
    if len(segment.encode("utf-8")) > 255:
        raise _Refused(f"partition value {value[:40]!r}… of {key} is too long for a folder name")
    return segment


def refused_value(
    table: pa.Table | pa.RecordBatch, entity: str | type | EntityInfo, keys: Iterable[str] | str
) -> tuple[int, str, str] | None:
    """The first row of ``table`` whose partition value cannot name a folder, as
    ``(row index, key, why)``, or None: so that a caller who knows where the rows come
    from names the source row (``clen convert`` does, before writing them)."""
    info = _info(entity)
    for k in _keys(info, keys, info.name):
        if k not in info.field_names or k not in table.schema.names:
            continue  # year and month of a date are numbers: always a folder name
        texts = _texts(_whole(table.column(k)))
        for v in pc.unique(texts).to_pylist():
            try:
                _segment(k, v)
            except _Refused as exc:
                at = pc.index(texts, v).as_py()
                return at, k, str(exc)
    return None


def _whole(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def _render(value: Any) -> str | None:
    """A Python value as its partition text (as :func:`_texts` renders columns)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _plain(t: pa.DataType) -> pa.DataType:
    return t.value_type if pa.types.is_dictionary(t) else t


def _texts(column: pa.Array) -> pa.Array:
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    return column if pa.types.is_string(column.type) else pc.cast(column, pa.string())


def _parse_segments(relative: Path) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for part in relative.parent.parts:
        if "=" in part:
            k, v = part.split("=", 1)
            out[k] = None if v == NULL_PARTITION else unquote(v)
    return out


# --------------------------------------------------------------------------- locking, swapping


@contextlib.contextmanager
def _locked(target: Path) -> Iterator[None]:
    """An exclusive lock on ``.NAME.clen-lock`` beside ``target`` (POSIX; a no-op elsewhere)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    fd = os.open(target.parent / f".{target.name}.{_LOCK}", os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _siblings(target: Path, kind: str) -> list[Path]:
    prefix = f".{target.name}.{kind}"
    return sorted(p for p in target.parent.iterdir() if p.name.startswith(prefix))


def _recover(target: Path) -> None:
    """Under the lock: undo what a killed run left (see the module docs)."""
    olds = _siblings(target, _OLD)
    if not target.exists() and olds:
        os.rename(olds[-1], target)  # killed between the two renames of the fallback swap
        olds = olds[:-1]
    for p in [*olds, *_siblings(target, _TMP)]:
        shutil.rmtree(p, ignore_errors=True)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _libc() -> ctypes.CDLL:
    import ctypes
    import ctypes.util

    return ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically with ``renameat2(RENAME_EXCHANGE)``; False if unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        renameat2 = _libc().renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    renameat2.argtypes.append(ctypes.c_uint)
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    errno = ctypes.get_errno()
    if errno in (38, 22, 95):  # ENOSYS, EINVAL, EOPNOTSUPP: kernel or file system says no
        return False
    raise OSError(errno, os.strerror(errno), str(b))


def _swap_in(new: Path, target: Path) -> None:
    """Make ``new`` the ``target`` folder atomically, and remove the old version."""
    # Once swapped, the write is done: an old version that cannot be removed now is
    # removed by the next write (_recover), not reported as a failed write.
    if _exchange(new, target):
        shutil.rmtree(new, ignore_errors=True)  # now the old version
        return
    aside = target.parent / f".{target.name}.{_OLD}{os.urandom(4).hex()}"
    os.rename(target, aside)
    os.rename(new, target)  # the window: target briefly absent (see _recover)
    shutil.rmtree(aside, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --------------------------------------------------------------------------- writing


class _Files:
    """Open Parquet writers per partition folder, rolling files at ``max_rows``."""

    def __init__(self, root: Path, info: EntityInfo, schema: pa.Schema, max_rows: int) -> None:
        self.root = root
        self.info = info
        self.schema = schema
        self.max_rows = max_rows
        self.run = os.urandom(6).hex()
        self.count = 0
        self.paths: list[Path] = []
        self.open: OrderedDict[str, tuple[parquet.Writer, IO[bytes]]] = OrderedDict()
        self.dirs: set[Path] = set()

    def write(self, folder: str, table: pa.Table) -> None:
        offset = 0
        while offset < table.num_rows:
            writer, sink = self._writer(folder)
            take = min(self.max_rows - writer.rows, table.num_rows - offset)
            writer.write(table.slice(offset, take), row_group_rows=_ROW_GROUP_ROWS)
            offset += take
            if writer.rows >= self.max_rows:
                self._close(writer, sink)
                del self.open[folder]

    def _writer(self, folder: str) -> tuple[parquet.Writer, IO[bytes]]:
        if folder in self.open:
            self.open.move_to_end(folder)
            return self.open[folder]
        if len(self.open) >= _MAX_OPEN_FILES:
            _, (w, s) = self.open.popitem(last=False)
            self._close(w, s)
        directory = self.root / folder
        directory.mkdir(parents=True, exist_ok=True)
        self.dirs.add(directory)
        path = directory / f"part-{self.run}-{self.count:05d}.parquet"
        self.count += 1
        sink = open(path, "wb")  # noqa: SIM115 - closed in _close
        try:
            writer = parquet.open_writer(sink, self.info, self.schema)
        except BaseException:
            sink.close()
            raise
        self.paths.append(path)
        self.open[folder] = (writer, sink)
        return self.open[folder]

    @staticmethod
    def _close(writer: parquet.Writer, sink: IO[bytes]) -> None:
        try:
            writer.close()
        finally:
            sink.close()

    def close(self) -> None:
        while self.open:
            _, (w, s) = self.open.popitem(last=False)
            self._close(w, s)

    def sync(self) -> None:
        """Make the written files durable: one ``syncfs`` on Linux, else one fsync each."""
        if _syncfs(self.root):
            return
        for path in self.paths:
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        for d in self.dirs:
            _fsync_dir(d)


def _syncfs(path: Path) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        syncfs = _libc().syncfs
    except (OSError, AttributeError):
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        return bool(syncfs(fd) == 0)
    finally:
        os.close(fd)


def _as_batches(data: Iterable[Any], info: EntityInfo) -> Iterator[pa.RecordBatch]:
    """Batches in the entity's schema from batches or objects."""
    schema = arrow_schema(info)
    chunk: list[Any] = []
    for item in data:
        if isinstance(item, pa.RecordBatch | pa.Table):
            if chunk:
                yield from to_arrow(chunk, info.name).to_batches()
                chunk = []
            for b in item.to_batches() if isinstance(item, pa.Table) else [item]:
                yield conform(b, schema)
            continue
        chunk.append(item)
        if len(chunk) >= DEFAULT_BATCH_ROWS:
            yield from to_arrow(chunk, info.name).to_batches()
            chunk = []
    if chunk:
        yield from to_arrow(chunk, info.name).to_batches()


def _with_derived(batch: pa.RecordBatch, info: EntityInfo, schema: pa.Schema) -> pa.Table:
    table = pa.Table.from_batches([batch])
    date = main_date(info)
    for name in schema.names[len(info.fields) :]:
        assert date is not None
        values = (pc.year if name == "year" else pc.month)(batch.column(date))
        table = table.append_column(schema.field(name), values.cast(pa.int32()))
    return table.replace_schema_metadata(schema.metadata)


def _split(table: pa.Table, keys: tuple[str, ...]) -> Iterator[tuple[str, pa.Table]]:
    """The rows of ``table`` per partition folder (``k1=v1/k2=v2``)."""
    if not keys:
        yield "", table
        return
    texts = [_texts(table.column(k).combine_chunks()) for k in keys]
    # Check and escape each distinct value once, then join the folder names per row.
    segments = []
    for k, t in zip(keys, texts, strict=True):
        distinct = pc.unique(t)
        try:
            names = pa.array([_segment(k, v) for v in distinct.to_pylist()], pa.string())
        except _Refused as exc:
            bad = next(v for v in distinct.to_pylist() if _is_refused(k, v))
            raise _BadRow(pc.index(t, bad).as_py(), k, str(exc)) from None
        segments.append(pc.take(names, pc.index_in(t, value_set=distinct, skip_nulls=False)))
    folder = pc.binary_join_element_wise(*segments, "/") if len(segments) > 1 else segments[0]
    order = pc.sort_indices(folder)
    folder = pc.take(folder, order)
    table = table.take(order)
    counts = pc.value_counts(folder)
    start = 0
    for item in counts.to_pylist():
        n = item["counts"]
        yield item["values"], table.slice(start, n)
        start += n


class _Buffer:
    """Rows waiting per folder, so that row groups are not a sliver of each batch."""

    def __init__(self, files: _Files) -> None:
        self.files = files
        self.pending: dict[str, list[pa.Table]] = {}
        self.sizes: dict[str, int] = {}
        self.total = 0

    def add(self, folder: str, table: pa.Table) -> None:
        self.pending.setdefault(folder, []).append(table)
        self.sizes[folder] = self.sizes.get(folder, 0) + table.num_rows
        self.total += table.num_rows
        if self.sizes[folder] >= _ROW_GROUP_ROWS:
            self.flush(folder)
        if self.total >= _BUFFERED_ROWS:
            for f in sorted(self.pending, key=self.sizes.__getitem__, reverse=True):
                self.flush(f)
                if self.total < _BUFFERED_ROWS // 2:
                    break

    def flush(self, folder: str) -> None:
        tables = self.pending.pop(folder)
        self.total -= self.sizes.pop(folder)
        self.files.write(folder, pa.concat_tables(tables))

    def close(self) -> None:
        for f in sorted(self.pending):
            self.flush(f)


def _is_refused(key: str, value: str | None) -> bool:
    try:
        _segment(key, value)
    except _Refused:
        return True
    return False


class _BadRow(Exception):
    """A row whose partition value cannot name a folder: its index in the table, its key."""

    def __init__(self, index: int, key: str, why: str) -> None:
        super().__init__(why)
        self.index, self.key, self.why = index, key, why


def _write_into(
    root: Path,
    batches: Iterable[pa.RecordBatch],
    info: EntityInfo,
    keys: tuple[str, ...],
    schema: pa.Schema,
    max_rows: int,
    where: str,
) -> tuple[list[Path], int]:
    files = _Files(root, info, schema, max_rows)
    buffer = _Buffer(files)
    rows = 0
    try:
        for batch in batches:
            if batch.num_rows == 0:
                continue
            table = _with_derived(batch, info, schema)
            try:
                parts = list(_split(table, keys))
            except _BadRow as exc:
                raise FormatError(where, exc.why, row=rows + exc.index + 1, field=exc.key) from None
            rows += batch.num_rows
            for folder, part in parts:
                buffer.add(folder, part)
        buffer.close()
    finally:
        files.close()
    files.sync()
    return files.paths, rows


def _data_files(root: Path) -> list[Path]:
    """The dataset's Parquet files, sorted; hidden (``.``) and ``_`` names are not data."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
        out += [
            Path(dirpath, f)
            for f in sorted(filenames)
            if f.endswith(".parquet") and not f.startswith((".", "_"))
        ]
    return out


def _describe(schema: pa.Schema) -> tuple[str, str, str]:
    meta = schema.metadata or {}
    return (
        meta.get(b"clen_core.entity", b"?").decode(),
        meta.get(b"clen_core.schema_version", b"?").decode(),
        meta.get(PARTITION_META, b"").decode(),
    )


def _check_compatible(target: Path, existing: pa.Schema, new: pa.Schema) -> None:
    """Refuse to append rows of another entity, version, partitioning or schema."""
    (e1, v1, p1), (e2, v2, p2) = _describe(existing), _describe(new)
    what = []
    if e1 != e2:
        what.append(f"entity {e1!r} vs {e2!r}")
    if v1 != v2:
        what.append(f"schema version {v1} vs {v2}")
    if p1 != p2:
        what.append(f"partition keys {p1 or '(none)'!r} vs {p2 or '(none)'!r}")
    if not what:
        have = {f.name: f.type for f in existing}
        want = {f.name: f.type for f in new}
        for name in [*have, *(n for n in want if n not in have)]:
            if name not in want:
                what.append(f"column {name!r} only in the dataset")
            elif name not in have:
                what.append(f"column {name!r} missing from the dataset")
            elif not have[name].equals(want[name]):
                what.append(f"column {name!r} is {have[name]} vs {want[name]}")
    if what:
        raise FormatError(
            str(target),
            "cannot append: the dataset differs from the rows to add (dataset vs new: "
            + "; ".join(what)
            + ")",
        )


def write_partitioned(
    data: Iterable[Any],
    path: str | Path,
    *,
    entity: str | type,
    partition_by: Iterable[str] | str = (),
    max_rows_per_file: int = DEFAULT_MAX_ROWS_PER_FILE,
    append: bool = False,
) -> WriteResult:
    """Write objects or Arrow batches of ``entity`` as a hive-partitioned Parquet dataset.

    ``partition_by``: fields of the entity, or ``year``/``month`` of its main
    date (``"year,country"`` or a list). Without ``append`` the target must not
    exist or be an empty folder; with it, rows are added to the dataset there
    (same entity, schema version, partition keys and types, or an error naming
    the difference). Either way the result appears atomically (see the module
    docs). Returns the files written by this call and the rows.
    """
    info = get_entity(entity)
    given = Path(path)
    # A symbolic link is followed (as for single files): the folder it names is the
    # dataset, swapped whole beside itself; the link stays a link. Resolved first, so that
    # "." from inside the dataset names the folder, not a path inside it.
    target = Path(os.path.realpath(given))
    keys = _keys(info, partition_by, str(given))
    if max_rows_per_file < 1:
        raise ArgumentError(f"max_rows_per_file must be at least 1, got {max_rows_per_file}")
    schema = dataset_schema(info, keys)
    if target.parent == target:
        raise FormatError(str(given), "the root folder cannot be a dataset")
    with _locked(target):
        _recover(target)
        if target.exists() and not target.is_dir():
            raise FormatError(str(given), "exists and is not a folder")
        existing = _data_files(target) if target.exists() else []
        not_empty = target.exists() and any(target.iterdir())
        if not_empty and not append:
            raise FormatError(
                str(given), "exists and is not empty; append to it, or choose a new folder"
            )
        for file in existing:  # every footer: one odd file is enough to refuse
            _check_compatible(file, parquet.read_schema(file), schema)
        tmp = target.parent / f".{target.name}.{_TMP}{os.urandom(4).hex()}"
        try:
            tmp.mkdir()
            if not_empty:
                _link_tree(target, tmp)
            paths, rows = _write_into(
                tmp, _as_batches(data, info), info, keys, schema, max_rows_per_file, str(given)
            )
            _fsync_dir(tmp)
            if not_empty:
                _swap_in(tmp, target)
            else:
                os.rename(tmp, target)  # onto nothing, or onto an empty folder
            _fsync_dir(target.parent)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            if exc.filename is not None and str(tmp) in str(exc.filename):
                exc.filename = None  # a hidden file of the new version: name the dataset
            raise naming(exc, given) from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    final = [given / p.relative_to(tmp) for p in paths]
    return WriteResult(tuple(final), {info.name: rows})


def _link_tree(src: Path, dst: Path) -> None:
    """``dst`` as a copy of ``src`` whose files are hard links (copies where links fail);
    a symbolic link inside stays a link to the same place (never a folder emptied)."""
    for dirpath, dirnames, filenames in os.walk(src):
        rel = Path(dirpath).relative_to(src)
        for name in [*dirnames, *filenames]:
            here = Path(dirpath, name)
            if here.is_symlink():
                os.symlink(os.readlink(here), dst / rel / name)
            elif name in dirnames:
                (dst / rel / name).mkdir()
            else:
                try:
                    os.link(here, dst / rel / name)
                except OSError:
                    shutil.copy2(here, dst / rel / name)


# --------------------------------------------------------------------------- reading


Where = Mapping[str, Any]


@attrs.define
class PartitionedDataset:
    """A partitioned dataset on disk (see :func:`open_partitioned`)."""

    path: Path
    """The dataset's folder."""
    entity: EntityInfo
    """The entity of its rows."""
    partition_by: tuple[str, ...]
    """Its partition keys, outermost first."""
    schema: pa.Schema
    """The schema of its files (the entity's, plus derived keys)."""
    files: tuple[Path, ...]
    """Its Parquet files, sorted."""
    rejects: list[Reject] = attrs.Factory(list)
    """Rows read that did not fit the entity (with ``on_reject="collect"``): the first
    ``max_findings`` (:mod:`clen_core.limits`) of them, long values cut; all are counted
    in :attr:`rejected`."""
    rejected: int = 0
    """Rows read that did not fit the entity, every one counted."""

    def select(self, where: Where | None = None) -> list[Path]:
        """The files whose partition matches ``where`` (``{key: value or values}``)."""
        if not where:
            return list(self.files)
        wanted: dict[str, set[str | None]] = {}
        for k, v in where.items():
            if k not in self.partition_by:
                raise FormatError(
                    str(self.path),
                    f"{k!r} is not a partition key "
                    f"(keys: {', '.join(self.partition_by) or 'none'})",
                )
            values = v if isinstance(v, list | tuple | set | frozenset) else [v]
            wanted[k] = {_render(x) for x in values}
        out = []
        for f in self.files:
            parts = _parse_segments(f.relative_to(self.path))
            if all(parts.get(k, "\0") in vs for k, vs in wanted.items()):
                out.append(f)
        return out

    def count_rows(self, where: Where | None = None) -> int:
        """Rows in the selected files, from their footers (nothing else is read)."""
        return sum(parquet.count_rows(f) for f in self.select(where))

    def batches(
        self, where: Where | None = None, *, on_reject: OnReject = "error"
    ) -> Iterator[pa.RecordBatch]:
        """The rows as batches in the entity's schema, each file checked as it is read.

        A row that does not fit the entity (a file from another writer) is a
        reject naming file, row and field; ``on_reject="error"`` raises
        :class:`~clen_core.RejectedRowsError` after the good rows,
        ``"collect"`` keeps them in :attr:`rejects`.
        """
        from clen_core.io.columnar import check_batch

        derived = tuple(n for n in self.schema.names if n not in self.entity.field_names)
        cap = limits.current().max_findings
        read = rejected = 0
        for file in self.select(where):
            with open(file, "rb") as source:
                batches = parquet.read_batches(
                    source, self.entity, str(file), extra_columns=derived
                )
                for raw in batches:
                    checked = check_batch(self.entity, raw, flavour="python")
                    read += len(raw.rows) + len(raw.problems)
                    rejected += len(checked.rejected_rows)
                    self.rejected += len(checked.rejected_rows)
                    # Kept up to the cap, values cut: memory does not grow with the rejects.
                    room = max(cap - len(self.rejects), 0)
                    for r in checked.rejects.slice(0, room).to_pylist():
                        self.rejects.append(
                            kept(Reject(str(file), r["row"], r["field"], r["value"], r["reason"]))
                        )
                    if checked.valid.num_rows:
                        yield checked.valid
        if on_reject == "error" and rejected:
            raise RejectedRowsError(self.rejects, read=read, rejected=rejected)

    def to_table(self, where: Where | None = None, *, on_reject: OnReject = "error") -> pa.Table:
        """All selected rows as one table in the entity's schema."""
        batches = list(self.batches(where, on_reject=on_reject))
        return pa.Table.from_batches(batches, schema=arrow_schema(self.entity))

    def objects(
        self, where: Where | None = None, *, on_reject: OnReject = "error"
    ) -> Iterator[Any]:
        """The selected rows as entity objects."""
        from clen_core.io.columnar import objects_from_batch

        for batch in self.batches(where, on_reject=on_reject):
            yield from objects_from_batch(self.entity, batch)

    def partitioning(self) -> Any:
        """The hive partitioning with the declared key types (``pyarrow.dataset.partitioning``).

        Give it to pyarrow-based readers so they do not infer ``01`` as a number:
        ``dask.dataframe.read_parquet(path, dataset={"partitioning": ...})``.
        """
        import pyarrow.dataset as ds

        fields = [self.schema.field(k) for k in self.partition_by]
        return ds.partitioning(
            pa.schema([f.with_type(_plain(f.type)) for f in fields]), flavor="hive"
        )

    def to_pyarrow(self) -> Any:
        """A :class:`pyarrow.dataset.Dataset` over the files, with the declared types."""
        import pyarrow.dataset as ds

        return ds.dataset(
            [str(f) for f in self.files],
            schema=self.schema,
            format="parquet",
            partitioning=self.partitioning(),
            partition_base_dir=str(self.path),
        )

    def hive_types(self) -> dict[str, str]:
        """DuckDB type names of the partition keys, for ``read_parquet(hive_types=...)``."""
        names = {pa.string(): "VARCHAR", pa.int64(): "BIGINT", pa.int32(): "INTEGER"}
        names |= {pa.bool_(): "BOOLEAN", pa.date32(): "DATE"}
        out = {}
        for k in self.partition_by:
            t = self.schema.field(k).type
            t = t.value_type if pa.types.is_dictionary(t) else t
            out[k] = names.get(t, "VARCHAR")
        return out


def open_partitioned(path: str | Path, *, entity: str | type | None = None) -> PartitionedDataset:
    """Open a partitioned dataset written by :func:`write_partitioned` (or by Spark & co).

    The entity and partition keys come from the files' metadata; ``entity``
    is needed only for files without it (partition keys then come from the
    folder names).
    """
    root = Path(path)
    if not root.is_dir():
        raise FormatError(str(root), "no such dataset folder")
    files = _data_files(root)
    if not files:
        if entity is None:
            raise FormatError(str(root), "no Parquet file in the folder; give entity=")
        info = get_entity(entity)
        return PartitionedDataset(root, info, (), dataset_schema(info), ())
    got = parquet.read_schema(files[0])
    name, _, keys_text = _describe(got)
    if entity is not None:
        info = get_entity(entity)
        if name != "?" and name != info.name:
            raise FormatError(
                str(root), f"the dataset holds {name!r} records (its metadata), not {info.name!r}"
            )
    elif name == "?":
        raise FormatError(str(root), "the files carry no clen_core.entity metadata; give entity=")
    else:
        info = get_entity(name)
    if PARTITION_META in (got.metadata or {}):
        keys = tuple(k for k in keys_text.split(",") if k)
    else:
        keys = tuple(_parse_segments(files[0].relative_to(root)))
    keys = _keys(info, keys, str(root))
    return PartitionedDataset(root, info, keys, dataset_schema(info, keys), tuple(files))
