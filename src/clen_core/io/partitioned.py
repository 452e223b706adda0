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
  metadata. A folder's rows go to one file until it reaches about
  ``target_file_size`` (:data:`DEFAULT_TARGET_FILE_SIZE`, 128 MiB), then to the
  next (``max_rows_per_file`` bounds their rows too), gathered over the batches
  into row groups of 100,000 rows (the last of a folder fewer).
- **Memory.** Rows wait for their folder's row group in memory up to a budget
  of bytes (64 MiB), not of rows; past it, the rows waiting are spilled to a
  hidden Arrow file in the temporary folder and read back when their folder is
  written. So memory does not grow with the number of folders, nor row groups
  shrink with it; a write with many small folders pays for it with one more
  write and read of its rows (see docs/pipelines.md, "Files and memory").
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
  entity, schema version, partitioning or column types, naming what differs
  (files without the column of an optional field, added since, are not a
  difference: :mod:`clen_core.io.migrate`). Each append records its batch, and
  refuses a batch or keys already there (:mod:`clen_core.io.appends`).
  Without ``append``, a target folder that exists and is not empty is refused.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import itertools
import os
import re
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
from clen_core.io import appends, parquet
from clen_core.io.appends import DatasetWriteResult, IfBatchExists, OnDuplicateKey
from clen_core.io.atomic import naming
from clen_core.io.formats import FormatError
from clen_core.io.readwrite import DEFAULT_BATCH_ROWS, RejectedRowsError
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
    "DEFAULT_TARGET_FILE_SIZE",
    "DERIVED_KEYS",
    "NULL_PARTITION",
    "PartitionedDataset",
    "dataset_schema",
    "main_date",
    "open_partitioned",
    "parse_size",
    "refused_value",
    "write_partitioned",
]

DEFAULT_MAX_ROWS_PER_FILE = 1_000_000
"""The rows of a file before ``target_file_size`` bounded files by their size; files
have no row limit now unless ``max_rows_per_file`` is given."""
DERIVED_KEYS = ("year", "month")
"""Partition keys derived from the entity's main date (when no field has that name)."""
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
"""Folder value of a missing partition value (as hive, Spark and pyarrow write it)."""
PARTITION_META = b"clen_core.partition_by"
"""Schema metadata key: the partition keys, comma-separated."""
DEFAULT_TARGET_FILE_SIZE = 128 * 2**20
"""Bytes a file of a partitioned dataset grows to (128 MiB) unless ``target_file_size``
says otherwise: a folder's rows go to one file until it reaches this size."""
_ROW_GROUP_ROWS = 100_000
_BUFFER_BYTES = 64 * 2**20  # rows waiting for their folder's file (see _Buffer)
_WRITER_BUFFER = 32 * 2**10  # each open writer's native buffer (parquet.BUFFER_BYTES: 1 MiB)
_MAX_OPEN_FILES = 1024
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


_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9,
          "gb": 10**9, "t": 10**12, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30,
          "tib": 2**40}  # fmt: skip
_SIZE = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([a-z]*)\s*", re.IGNORECASE)


def parse_size(size: int | str, what: str = "size") -> int:
    """A size in bytes from a whole number or a text such as ``128MB``, ``1GiB`` or ``512k``.

    ``kB``, ``MB``, ``GB``, ``TB`` are powers of 1000 (``k``, ``M``, ``G``, ``T`` alone
    too), ``KiB``, ``MiB``, ``GiB``, ``TiB`` powers of 1024; case does not matter. Raises
    :class:`~clen_core.errors.ArgumentError` naming ``what`` for anything else, or a size
    under 1 byte.
    """
    if isinstance(size, bool) or not isinstance(size, int | str):
        raise ArgumentError(f"{what} {size!r}: expected bytes as a whole number, or e.g. 128MB")
    if isinstance(size, int):
        value = size
    else:
        from fractions import Fraction

        match = _SIZE.fullmatch(size)
        unit = match.group(2).lower() if match else None
        if match is None or unit not in _UNITS:
            raise ArgumentError(
                f"{what} {size!r}: expected a number of bytes with an optional unit "
                "(B, kB, MB, GB, TB, KiB, MiB, GiB, TiB), e.g. 128MB or 1GiB"
            )
        value = int(Fraction(match.group(1)) * _UNITS[unit])  # exact: no float rounding
    if value < 1:
        raise ArgumentError(f"{what} {size!r}: expected at least 1 byte")
    return value


def _max_open() -> int:
    """Writers open at once: :data:`_MAX_OPEN_FILES`, or half the process's file limit."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ImportError, OSError, ValueError):  # pragma: no cover - not POSIX
        return 64
    if soft == resource.RLIM_INFINITY:
        return _MAX_OPEN_FILES
    return max(16, min(_MAX_OPEN_FILES, soft // 2))


class _Files:
    """Open Parquet writers per partition folder, each file closed when it reaches
    ``target_bytes`` (or ``max_rows``): the next rows of its folder start a new file.

    At most :func:`_max_open` writers are open; opening one more closes the least
    recently used (its folder's later rows start a new file). Writers are opened with a
    small native buffer (:data:`_WRITER_BUFFER`): hundreds stay open, each holding it.
    """

    def __init__(
        self,
        root: Path,
        info: EntityInfo,
        schema: pa.Schema,
        max_rows: int | None,
        target_bytes: int = DEFAULT_TARGET_FILE_SIZE,
    ) -> None:
        self.root = root
        self.info = info
        self.schema = schema
        self.max_rows = max_rows
        self.target_bytes = target_bytes
        self.max_open = _max_open()
        self.run = os.urandom(6).hex()
        self.count = 0
        self.paths: list[Path] = []
        self.open: OrderedDict[str, tuple[parquet.Writer, IO[bytes]]] = OrderedDict()
        self.dirs: set[Path] = set()
        # Bytes and rows of the files written so far: how many bytes a row takes in a file,
        # to cut a table where a file reaches its target.
        self.done_bytes = 0
        self.done_rows = 0

    def write(self, folder: str, table: pa.Table, row_group_rows: int = _ROW_GROUP_ROWS) -> None:
        """Append ``table`` to the folder's file (cut into row groups of ``row_group_rows``),
        closing files as they reach the target and going on in new ones."""
        offset = 0
        while offset < table.num_rows:
            writer, _ = self._writer(folder)
            left = table.num_rows - offset
            take = left if self.max_rows is None else min(left, self.max_rows - writer.rows)
            room = self.target_bytes - writer.size
            if table.get_total_buffer_size() > room:  # it may not fit: how many rows do
                take = max(1, min(take, int(room / self._per_row(writer, table))))
            writer.write(table.slice(offset, take), row_group_rows=row_group_rows)
            offset += take
            rows_full = self.max_rows is not None and writer.rows >= self.max_rows
            # Full when one more row (as this file's rows go) would pass the target.
            if rows_full or writer.size + writer.size / writer.rows > self.target_bytes:
                self.retire(folder)

    def _per_row(self, writer: parquet.Writer, table: pa.Table) -> float:
        """Bytes a row takes in a file: this file's so far, else the files' before, else
        (nothing written yet) its size in memory, more than it takes compressed."""
        if writer.rows:
            return max(writer.size / writer.rows, 1e-3)
        if self.done_rows:
            return max(self.done_bytes / self.done_rows, 1e-3)
        rows: int = table.num_rows
        return max(int(table.nbytes) / max(rows, 1), 1.0)

    def retire(self, folder: str) -> None:
        """Close the folder's file, if one is open: its next rows start a new file."""
        if folder in self.open:
            writer, sink = self.open.pop(folder)
            self._close(writer, sink)

    def _writer(self, folder: str) -> tuple[parquet.Writer, IO[bytes]]:
        if folder in self.open:
            self.open.move_to_end(folder)
            return self.open[folder]
        if len(self.open) >= self.max_open:
            self.retire(next(iter(self.open)))
        directory = self.root / folder
        directory.mkdir(parents=True, exist_ok=True)
        self.dirs.add(directory)
        path = directory / f"part-{self.run}-{self.count:05d}.parquet"
        self.count += 1
        sink = open(path, "wb")  # noqa: SIM115 - closed in _close
        try:
            writer = parquet.open_writer(sink, self.info, self.schema, buffer_bytes=_WRITER_BUFFER)
        except BaseException:
            sink.close()
            raise
        self.paths.append(path)
        self.open[folder] = (writer, sink)
        return self.open[folder]

    def _close(self, writer: parquet.Writer, sink: IO[bytes]) -> None:
        try:
            writer.close()
            self.done_rows += writer.rows
            self.done_bytes += writer.size
        finally:
            sink.close()

    def close(self) -> None:
        while self.open:
            self.retire(next(iter(self.open)))

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


def _split(table: pa.Table, keys: tuple[str, ...]) -> tuple[pa.Table, list[tuple[str, int, int]]]:
    """``table`` sorted by partition folder, and each folder's rows in it as
    ``(folder, start, rows)``, folders as ``k1=v1/k2=v2``.

    Each key's distinct values are checked and named once; the rows are grouped by one
    integer code per row (the keys' dictionary indices combined) and sorted once, so that
    no work is done per folder but naming it.
    """
    if not keys:
        return table, [("", 0, table.num_rows)]
    codes: pa.Array | None = None
    indices: list[pa.Array] = []
    names: list[list[str]] = []
    for k in keys:
        texts = _texts(table.column(k).combine_chunks())
        encoded = pc.dictionary_encode(texts, null_encoding="encode")
        distinct = encoded.dictionary.to_pylist()
        try:
            names.append([_segment(k, v) for v in distinct])
        except _Refused as exc:
            bad = next(v for v in distinct if _is_refused(k, v))
            raise _BadRow(pc.index(texts, bad).as_py(), k, str(exc)) from None
        index = encoded.indices.cast(pa.int64())
        indices.append(index)
        if codes is None:
            codes = index
        else:
            # Made dense again, so that the codes of many keys never overflow.
            codes = pc.dictionary_encode(pc.add(pc.multiply(codes, len(distinct)), index))
            codes = codes.indices.cast(pa.int64())
    assert codes is not None
    order = pc.sort_indices(codes)
    counts = pc.value_counts(pc.take(codes, order)).field("counts").to_pylist()
    starts = list(itertools.accumulate(counts, initial=0))[:-1]
    first = pc.take(order, pa.array(starts, pa.int64()))
    picks = [pc.take(index, first).to_pylist() for index in indices]
    at_rows = zip(*picks, strict=True)
    folders = ["/".join(n[i] for n, i in zip(names, at, strict=True)) for at in at_rows]
    groups = list(zip(folders, starts, counts, strict=True))
    return table.take(order), groups


def _own(table: pa.Table) -> pa.Table:
    """A copy of ``table`` in buffers of its own: a slice keeps its whole parent alive."""
    return table.take(pa.array(range(table.num_rows), pa.int64()))


class _Buffer:
    """Rows waiting for their folder's file, bounded by the memory they keep, not by rows.

    Rows come as slices of sorted batches (:func:`_split`); a batch stays in memory
    while any of its slices waits, and :attr:`held` counts it whole. A folder whose
    waiting rows reach ``group_rows`` is written at once as row groups of ``group_rows``,
    the rest waiting on. When :attr:`held` passes ``budget``, every row waiting in
    memory is **spilled**: written, folder by folder, to an Arrow IPC file in the
    dataset's temporary folder (hidden, removed when done), and the batches are freed;
    a folder's spilled rows are read back when it is written. So memory stays within
    the budget (and one batch) whatever the number of folders, and row groups stay
    full: only the last of each folder may be smaller.
    """

    def __init__(
        self,
        files: _Files,
        spill_to: Path,
        budget: int | None = None,
        group_rows: int | None = None,
    ) -> None:
        self.files = files
        self.spill_to = spill_to
        self.budget = _BUFFER_BYTES if budget is None else budget
        self.group_rows = _ROW_GROUP_ROWS if group_rows is None else group_rows
        self.pending: dict[str, list[tuple[pa.Table, int]]] = {}
        self.spilled: dict[str, list[tuple[int, int]]] = {}
        """Per folder: its spilled rows as (spill file, batch) numbers, in order."""
        self.rows: dict[str, int] = {}
        """Per folder: rows waiting, in memory and spilled."""
        # What keeps the rows waiting in memory: [bytes, slices waiting] per sorted batch,
        # and their sum.
        self.holders: dict[int, list[int]] = {}
        self.held = 0
        self.most = 0
        """The most bytes :attr:`held` reached (once a batch was taken in, before spilling)."""
        self.spills: list[tuple[Any, Any, Path]] = []  # (file, pyarrow.ipc reader, path)
        self._ids = itertools.count()

    def add(self, table: pa.Table, groups: Iterable[tuple[str, int, int]]) -> None:
        """Take in the rows of one sorted batch: ``(folder, start, rows)`` per folder."""
        hid = next(self._ids)
        self.holders[hid] = [table.get_total_buffer_size(), 1]  # held by this call too
        self.held += self.holders[hid][0]
        for folder, start, n in groups:
            self.pending.setdefault(folder, []).append((table.slice(start, n), hid))
            self.holders[hid][1] += 1
            self.rows[folder] = self.rows.get(folder, 0) + n
            if self.rows[folder] >= self.group_rows:
                self.flush(folder, whole=False)
        self._release(hid)
        self.most = max(self.most, self.held)
        if self.held > self.budget and self.pending:
            self._spill()

    def _release(self, hid: int) -> None:
        holder = self.holders[hid]
        holder[1] -= 1
        if holder[1] == 0:
            self.held -= holder[0]
            del self.holders[hid]

    def _spill(self) -> None:
        import pyarrow.ipc as ipc

        number = len(self.spills)
        path = self.spill_to / f".clen-spill-{number:05d}.arrow"
        waiting = {f: sum(t.num_rows for t, _ in pieces) for f, pieces in self.pending.items()}
        per_row = self.held / max(sum(waiting.values()), 1)
        schema = next(iter(self.pending.values()))[0][0].schema
        batch = 0
        with pa.OSFile(str(path), "wb") as sink, ipc.new_file(sink, schema) as out:
            # The rows of a few folders at a time made one table of their own (one copy,
            # in C++), each folder's a batch of it: one write per folder, and at most a
            # quarter budget more memory.
            chosen: list[str] = []
            for at, folder in enumerate(waiting):
                chosen.append(folder)
                rows = sum(waiting[f] for f in chosen)
                if rows * per_row < self.budget // 4 and at + 1 < len(waiting):
                    continue
                pieces = [t for f in chosen for t, _ in self.pending.pop(f)]
                whole = pa.concat_tables(pieces).combine_chunks()
                start = 0
                for f in chosen:
                    for part in whole.slice(start, waiting[f]).to_batches():
                        out.write_batch(part)
                        self.spilled.setdefault(f, []).append((number, batch))
                        batch += 1
                    start += waiting[f]
                chosen = []
        self.holders.clear()
        self.held = 0
        source = pa.OSFile(str(path))
        self.spills.append((source, ipc.open_file(source), path))

    def flush(self, folder: str, *, whole: bool = True) -> None:
        """Write the rows waiting for ``folder`` (spilled ones read back first) as one row
        group, or (not ``whole``) as row groups of ``group_rows``, the rest waiting on."""
        spilled = [self.spills[s][1].get_batch(b) for s, b in self.spilled.pop(folder, [])]
        pieces = self.pending.pop(folder, [])
        rows = self.rows.pop(folder)
        tables = [pa.Table.from_batches([b]) for b in spilled] + [t for t, _ in pieces]
        table = pa.concat_tables(tables)
        cut = rows if whole else rows // self.group_rows * self.group_rows
        self.files.write(folder, table.slice(0, cut), row_group_rows=min(cut, self.group_rows))
        if cut < rows:  # copied: it may come from a spilled batch, or keep a whole one alive
            rest = _own(table.slice(cut))
            hid = next(self._ids)
            self.holders[hid] = [rest.get_total_buffer_size(), 1]
            self.held += self.holders[hid][0]
            self.pending[folder] = [(rest, hid)]
            self.rows[folder] = rows - cut
        for _, h in pieces:
            self._release(h)

    def close(self) -> None:
        """Write every folder's last rows (then :meth:`discard` the spill files)."""
        for folder in sorted(self.rows):
            self.flush(folder)
            self.files.retire(folder)  # no more rows for it: one writer open at a time

    def discard(self) -> None:
        """Remove the spill files (done or failed: the rows are in the files, or lost)."""
        for source, _, path in self.spills:
            source.close()
            path.unlink(missing_ok=True)
        self.spills.clear()


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
    max_rows: int | None,
    where: str,
    *,
    target_bytes: int = DEFAULT_TARGET_FILE_SIZE,
) -> tuple[list[Path], int]:
    files = _Files(root, info, schema, max_rows, target_bytes)
    buffer = _Buffer(files, root)
    rows = 0
    try:
        for batch in batches:
            if batch.num_rows == 0:
                continue
            table = _with_derived(batch, info, schema)
            try:
                table, groups = _split(table, keys)
            except _BadRow as exc:
                raise FormatError(where, exc.why, row=rows + exc.index + 1, field=exc.key) from None
            rows += batch.num_rows
            buffer.add(table, groups)
        buffer.close()
    finally:
        files.close()
        buffer.discard()
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
    """Refuse to append rows of another entity, version, partitioning or schema.

    A file without the column of an optional field (one added since, which keeps the
    schema version) is compatible: its rows read with the field missing. The error says
    when :func:`~clen_core.io.migrate.migrate_dataset` could make the dataset current.
    """
    (e1, v1, p1), (e2, v2, p2) = _describe(existing), _describe(new)
    what = []
    migratable = True  # every difference one that rewriting the files can undo
    if e1 != e2:
        what.append(f"entity {e1!r} vs {e2!r}")
        migratable = False
    if v1 != v2:
        what.append(f"schema version {v1} vs {v2}")
    if p1 != p2:
        what.append(f"partition keys {p1 or '(none)'!r} vs {p2 or '(none)'!r}")
        migratable = False
    if e1 == e2 and p1 == p2:
        have = {f.name: f for f in existing}
        want = {f.name: f for f in new}
        for name in [*have, *(n for n in want if n not in have)]:
            if name not in want:
                what.append(f"column {name!r} only in the dataset")
                migratable = False
            elif name not in have:
                if want[name].nullable and v1 != v2:
                    what.append(f"column {name!r} missing from the dataset")
                elif not want[name].nullable:
                    what.append(f"column {name!r} (required) missing from the dataset")
                    migratable = False
            elif not have[name].type.equals(want[name].type):
                what.append(f"column {name!r} is {have[name].type} vs {want[name].type}")
                migratable = migratable and parquet.fits(have[name].type, want[name].type)
    if what:
        hint = (
            "; `clen migrate` (clen_core.migrate_dataset) rewrites it to the current schema"
            if migratable
            else ""
        )
        raise FormatError(
            str(target),
            "cannot append: the dataset differs from the rows to add (dataset vs new: "
            + "; ".join(what)
            + ")"
            + hint,
        )


def write_partitioned(
    data: Iterable[Any],
    path: str | Path,
    *,
    entity: str | type,
    partition_by: Iterable[str] | str = (),
    max_rows_per_file: int | None = None,
    target_file_size: int | str = DEFAULT_TARGET_FILE_SIZE,
    append: bool = False,
    batch_id: str | None = None,
    on_duplicate_key: OnDuplicateKey | None = None,
    if_batch_exists: IfBatchExists = "error",
) -> DatasetWriteResult:
    """Write objects or Arrow batches of ``entity`` as a hive-partitioned Parquet dataset.

    ``partition_by``: fields of the entity, or ``year``/``month`` of its main
    date (``"year,country"`` or a list). Without ``append`` the target must not
    exist or be an empty folder; with it, rows are added to the dataset there
    (same entity, schema version, partition keys and types, or an error naming
    the difference; files without the column of an optional field take rows
    with it). Either way the result appears atomically (see the module
    docs). Returns the files written by this call, the rows, and the rows skipped.

    ``target_file_size`` (bytes, or a text such as ``"128MB"``, ``"1GiB"``:
    :func:`parse_size`): a folder's rows go to one file until it reaches about that
    size (within a row group), then to the next; ``max_rows_per_file`` also bounds
    each file's rows. Rows wait in memory for their folder's file up to a budget
    of bytes, not rows (see the module docs).

    The write is recorded in the dataset's manifest as a batch (``batch_id``, else
    the hash of the rows); ``if_batch_exists`` says what a batch appended before
    does, ``on_duplicate_key`` what rows whose key is already there do (default:
    ``"error"`` when appending, ``"keep"`` for a new dataset); see
    :mod:`clen_core.io.appends`.
    """
    info = get_entity(entity)
    given = Path(path)
    # A symbolic link is followed (as for single files): the folder it names is the
    # dataset, swapped whole beside itself; the link stays a link. Resolved first, so that
    # "." from inside the dataset names the folder, not a path inside it.
    target = Path(os.path.realpath(given))
    keys = _keys(info, partition_by, str(given))
    if max_rows_per_file is not None and max_rows_per_file < 1:
        raise ArgumentError(f"max_rows_per_file must be at least 1, got {max_rows_per_file}")
    target_bytes = parse_size(target_file_size, "target_file_size")
    schema = dataset_schema(info, keys)
    if on_duplicate_key is None:
        on_duplicate_key = "error" if append else "keep"
    appends._check_policies(on_duplicate_key, if_batch_exists)
    appends._check_batch_id(batch_id)
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
        known = appends.dataset_batches(target) if not_empty else []
        earlier = appends._find(known, batch_id) if batch_id is not None else None
        if earlier is not None and if_batch_exists == "error":
            raise appends._refuse_batch(str(given), earlier)
        if earlier is not None and if_batch_exists == "skip":  # known before any row is read
            return DatasetWriteResult((), {info.name: 0}, batch_id=batch_id, already=earlier)
        tmp = target.parent / f".{target.name}.{_TMP}{os.urandom(4).hex()}"
        scratch = Path(f"{tmp}-keys")  # DuckDB's spill folder: a temporary _recover removes
        flow: appends._Flow | None = None
        try:
            tmp.mkdir()
            if not_empty:
                _link_tree(target, tmp)
            flow = appends._Flow(
                info=info, where=str(given), known=known, batch_id=batch_id,
                on_duplicate_key=on_duplicate_key, if_batch_exists=if_batch_exists,
                existing=existing, scratch=scratch,
            )  # fmt: skip
            paths, rows = _write_into(
                tmp,
                flow.batches(_as_batches(data, info)),
                info,
                keys,
                schema,
                max_rows_per_file,
                str(given),
                target_bytes=target_bytes,
            )
            batch = None
            if paths and (append or batch_id is not None):  # beside the batch's first file
                batch = flow.batch([p.relative_to(tmp).as_posix() for p in paths])
                appends._record(tmp, paths[0].parent.relative_to(tmp), batch, info, schema)
            _fsync_dir(tmp)
            if not_empty:
                _swap_in(tmp, target)
            else:
                os.rename(tmp, target)  # onto nothing, or onto an empty folder
            _fsync_dir(target.parent)
        except appends._AlreadyAppended as exc:  # if_batch_exists="skip": undone, quietly
            shutil.rmtree(tmp, ignore_errors=True)
            return DatasetWriteResult(
                (), {info.name: 0}, batch_id=exc.known.batch_id, skipped=exc.given,
                already=exc.known,
            )  # fmt: skip
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            if exc.filename is not None and str(tmp) in str(exc.filename):
                exc.filename = None  # a hidden file of the new version: name the dataset
            raise naming(exc, given) from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        finally:
            if flow is not None:
                flow.close()  # the key check's DuckDB, before its spill folder goes
            shutil.rmtree(scratch, ignore_errors=True)
    final = [given / p.relative_to(tmp) for p in paths]
    return DatasetWriteResult(
        tuple(final),
        {info.name: rows},
        batch_id=None if batch is None else batch.batch_id,
        skipped=flow.skipped,
    )


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
