"""The one Parquet reader and writer of clen_core: Parquet files and partitioned datasets.

The plugin ``clen_core_parquet`` registers the reader and writer of
:mod:`clen_core.io.parquet` as the ``parquet`` format; partitioned datasets
(:mod:`clen_core.io.partitioned`) write and read their files through the same
module, so there is one Parquet layout, described here.

Layout of a clen_core Parquet file
----------------------------------

- **One entity per file.** The columns are the entity's fields, in
  declaration order, with the types of :func:`clen_core.arrow_schema`:
  ``str`` → ``string``, ``int`` → ``int64``, ``float`` → ``double``,
  ``bool`` → ``boolean``, ``Decimal`` → ``decimal(18, 2)`` (the field's
  precision and scale), ``date`` → ``date`` (``date32``), enums →
  dictionary-encoded strings (the enum's values), lists → Parquet ``LIST``
  (``list<element>``), mappings → Parquet ``MAP`` (``key_value`` groups with
  string keys). Optional fields are ``optional`` (nullable) columns, required
  fields ``required``; list items and map values are never null. An empty
  string and a missing value (null) stay different.
- **Metadata.** The file's key-value metadata holds the entity's Arrow schema
  (``ARROW:schema``, so Arrow readers get the exact types back, dictionary
  encoding of enums included) and the schema's metadata:
  ``clen_core.entity`` (entity name), ``clen_core.schema_version``,
  ``clen_core.version`` (library version that wrote it), ``clen_core.key``
  (key field(s), comma-separated) and ``description``. Each column carries
  its field's ``description`` (and ``unit``, ``code``, ``key_code``, ``ref``
  when declared) as Arrow field metadata.
- **Compression and row groups.** Columns are compressed with zstd, and
  dictionary-encoded except an entity's one-field key (unique by definition:
  its dictionary would cost time and space, 15 % of an ``activity`` file). Each
  batch the writer receives becomes one row group (``batch_rows``, 65,536
  rows by default), so writing streams with bounded memory and readers can
  skip or parallelise by row group. Writing nothing gives a valid file with
  the schema and no row group.
- **Rows.** Row numbers in rejects and findings are 1-based positions in the
  file, counted across row groups (there is no header row).
- **Partitioned datasets.** The files of a partitioned dataset
  (``clen convert --partition-by``, :func:`clen_core.write_partitioned`) are
  written by the same writer, so they are encoded the same way. They differ
  in three things only: the derived ``year`` / ``month`` partition keys,
  when the dataset has them, are extra ``int32`` columns after the fields;
  the metadata adds ``clen_core.partition_by`` (the keys, comma-separated);
  and the rows of each partition folder are gathered, over the batches, into
  row groups of 100,000 rows (the last of a folder fewer), in files of about
  ``target_file_size`` (128 MiB by default: a folder below it is one file).
  Reading a dataset leaves the derived columns out.

Reading checks the file before any row: it must be a Parquet file with an
intact footer; its ``clen_core.entity`` metadata, when present, must name the
entity being read; every column must be a field of the entity; every
required field must have a column (an optional field's column may be
missing: its values are then missing); and every column's type must convert
to the field's type without loss. Accepted besides the exact type: any
string type or dictionary of strings for text and enum fields; narrower
integers for ``int`` (not ``uint64``); floats and integers of up to 32 bits
for ``float``; narrower decimals and small integers for ``Decimal``;
``date64`` for dates; the same rules inside lists and maps; and all-null
columns. So files written by other tools (plain pyarrow, Polars and DuckDB
are tested) read fine when their types fit. Any failure of these checks is a
:class:`clen_core.io.formats.FormatError` naming the file (and the field, with
the file's type and the expected one). Values that fit the type but not the
field (a negative count, an unknown country code, an unknown enum value) are
not file errors: those rows become rejects naming file, row and field, and
the good rows are kept.

What a hostile file may make reading do is bounded before any row is read:

- **Counts from the pages.** Each row group's rows are counted from the headers
  of its pages (a few bytes each; one flat column per row group), and a footer
  whose counts differ (of a row group, or of the file) is a ``FormatError``
  naming the file: a forged footer makes no row vanish and no count lie
  (:func:`count_rows` counts the same way).
- **Long lists.** The same walk counts the items of list and map columns: a row
  group of long lists is read in batches of fewer rows
  (:data:`READ_BATCH_ITEMS`), and one whose pages hold more items than any
  reading could keep within ``max_items`` (:data:`MAX_GROUP_ITEMS_PER_LIMIT`)
  is refused unread.
- **Large texts.** A page that decompresses to more than 64 × ``max_field_bytes``
  is refused from its header. Text written as a dictionary is read as one (a
  few bytes of indices, not as many copies of what they point to) and expanded a
  slice of rows at a time (:data:`READ_BATCH_BYTES`), by the rows' exact sizes;
  plain text is read in batches sized by its densest page.
- **Rows Python cannot hold.** A row holding a date outside years 1 to 9999,
  text that is not UTF-8 or longer than ``max_field_bytes``, a list or mapping of
  more than ``max_items`` (found from its length, in Arrow), a mapping with a key
  twice, or more than :data:`READ_BATCH_BYTES` of text in all, is a row problem
  naming the field, with the row's values for the rejects (text as ``\\xff``
  escapes, a value over the limits as its start and its size).
- **Damage.** The footer and page headers are read with clen_core's own bounded
  Thrift reader (pyarrow's metadata objects end the process on some damaged
  footers), and each batch is checked to hold together before it is used.
"""

from __future__ import annotations

import bisect
import collections
import contextlib
import functools
import json
from collections.abc import Callable, Collection, Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from clen_core import limits
from clen_core.errors import ArgumentError, FormatError
from clen_core.io.records import RawBatch, RawRecord, RowProblem, json_value
from clen_core.model.entity import EntityInfo
from clen_core.schema.arrow import (
    FIRST_DAY,
    LAST_DAY,
    arrow_schema,
    conform,
    int_range,
    python_values,
)

if TYPE_CHECKING:
    import pyarrow.parquet as pq

# pyarrow.parquet (with pyarrow.fs and its cloud file systems) is imported where a
# Parquet file is read or written: the Parquet plugin, which imports this module, is
# loaded at every `clen` command's start, and 20 ms of it went there.

__all__ = [
    "BUFFER_BYTES",
    "COMPRESSION",
    "MAGIC",
    "MAX_GROUP_ITEMS_PER_LIMIT",
    "MAX_PAGE_BYTES_PER_LIMIT",
    "READ_BATCH_BYTES",
    "READ_BATCH_ITEMS",
    "READ_BATCH_ROWS",
    "Writer",
    "count_rows",
    "fits",
    "open_writer",
    "read",
    "read_batches",
    "read_schema",
    "write",
]

COMPRESSION = "zstd"
"""Compression codec of every column."""
BUFFER_BYTES = 1 << 20
"""The writer hands its sink this many bytes at a time (see :func:`open_writer`)."""
READ_BATCH_ROWS = 10_000
"""Rows per batch when reading: memory stays bounded by this and the row group size."""
MAGIC = b"PAR1"
"""First (and last) four bytes of every Parquet file."""

_INT_DIGITS = {8: 3, 16: 5, 32: 10, 64: 19}
"""Decimal digits an integer of that many bits may need."""


# --------------------------------------------------------------------------- writing


class Writer:
    """A Parquet file of one entity being written to a sink: see :func:`open_writer`."""

    def __init__(
        self,
        sink: IO[bytes],
        entity: EntityInfo,
        schema: pa.Schema,
        buffer_bytes: int = BUFFER_BYTES,
    ) -> None:
        import pyarrow.parquet as pq

        self.entity = entity
        self.schema = schema
        """The schema of the file: the entity's, or it plus extra columns and metadata."""
        self.rows = 0
        """Rows written so far."""
        # pyarrow writes a Python file in many small pieces, each taking the GIL: while
        # objects are converted in another thread, each waits for it (a batch's write
        # took 3-6x longer). A native buffer in front hands the file 1 MiB at a time.
        self._sink = _Sink(sink)
        self._buffer = pa.BufferedOutputStream(
            pa.PythonFile(self._sink, mode="w"), buffer_size=buffer_bytes
        )
        try:
            self._writer: pq.ParquetWriter | None = pq.ParquetWriter(
                self._buffer,
                schema,
                compression=COMPRESSION,
                use_dictionary=list(_dictionary_columns(entity, schema)),
            )
        except BaseException:
            self._abandon(None)
            raise

    def write(self, data: pa.RecordBatch | pa.Table, *, row_group_rows: int | None = None) -> None:
        """Append rows, cast to the file's schema (extra columns of ``data`` dropped).

        A batch becomes one row group; a table is cut into row groups of
        ``row_group_rows`` (default: all its rows in one).
        """
        if self._writer is None:
            raise ArgumentError("the Parquet writer is closed")
        if data.num_rows == 0:
            return
        try:
            if isinstance(data, pa.RecordBatch):
                batch = conform(data, self.schema)
                self._writer.write_batch(batch, row_group_size=row_group_rows or batch.num_rows)
            else:
                if not data.schema.equals(self.schema):
                    batches = [conform(b, self.schema) for b in data.to_batches()]
                    data = pa.Table.from_batches(batches, schema=self.schema)
                self._writer.write_table(data, row_group_size=row_group_rows or data.num_rows)
        except BaseException:
            writer, self._writer = self._writer, None
            self._abandon(writer)
            raise
        self.rows += data.num_rows

    @property
    def size(self) -> int:
        """Bytes of the file so far, those still in the writer's buffer included."""
        return int(self._buffer.tell()) if self._writer is not None else self._sink.tell()

    def close(self) -> None:
        """Write the footer and flush what is buffered; the sink stays open for its owner."""
        if self._writer is None:
            return
        writer, self._writer = self._writer, None
        try:
            writer.close()
            self._buffer.detach()  # flushes the buffer, leaves the sink open
        except BaseException:
            self._abandon(writer)
            raise

    def _abandon(self, writer: pq.ParquetWriter | None) -> None:
        """After a failed write (a full disk): the file is lost anyway (its owner discards
        it), so what Arrow still flushes while it lets go is dropped, never written to a
        sink that may be closed by then; otherwise Arrow's C++ layer reports that second
        failure on stderr, and pyarrow tries to close the writer again when collecting it."""
        self._sink.dropped = True
        if writer is not None:
            writer.is_open = False
            with contextlib.suppress(Exception):
                writer.writer.close()
        with contextlib.suppress(Exception):
            self._buffer.close()

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        # The footer is written even on error, while the sink is still open; an atomic
        # file (or a partitioned dataset's temporary folder) then discards the file.
        self.close()


class _Sink:
    """The writer's view of its sink: writes pass through until :attr:`dropped` is set."""

    def __init__(self, sink: IO[bytes]) -> None:
        self.sink = sink
        self.dropped = False
        self.closed = False
        try:
            self._written = sink.tell()
        except (OSError, AttributeError, ValueError):  # a pipe
            self._written = 0

    def write(self, data: bytes) -> int:
        n = len(data)
        if not self.dropped:
            self.sink.write(data)
        self._written += n
        return n

    def flush(self) -> None:
        if not self.dropped:
            self.sink.flush()

    def tell(self) -> int:
        return self._written

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        """Closing the writer's view leaves the sink open for its owner."""
        self.closed = True


def open_writer(
    sink: IO[bytes],
    entity: EntityInfo,
    schema: pa.Schema | None = None,
    *,
    buffer_bytes: int = BUFFER_BYTES,
) -> Writer:
    """A :class:`Writer` of ``entity``'s rows as Parquet onto the binary file ``sink``.

    ``schema``: the file's schema, by default :func:`~clen_core.arrow_schema` of
    the entity; otherwise it must begin with the entity's fields and keep its
    metadata (extra columns and metadata after them: the derived partition
    keys of a partitioned dataset). Every clen_core Parquet file is written by
    it: zstd, every column dictionary-encoded but a one-field key, the schema
    and its metadata in the footer, and the bytes handed to ``sink``
    :data:`BUFFER_BYTES` at a time (``buffer_bytes``: a partitioned dataset keeps
    hundreds of writers open, each holding its buffer). Use it as a context manager, or
    call :meth:`Writer.close`, which writes the footer and leaves ``sink`` open.
    """
    return Writer(sink, entity, arrow_schema(entity) if schema is None else schema, buffer_bytes)


def write(
    sink: IO[bytes], entity: EntityInfo, batches: Iterable[pa.RecordBatch], path: str = "<stream>"
) -> None:
    """Write batches of ``entity`` as Parquet: one row group per batch (see the module docs).

    ``path`` (the file written) is the format contract's: every value has a Parquet form."""
    with open_writer(sink, entity) as writer:
        for batch in batches:
            writer.write(batch)


@functools.cache  # once per entity and schema: a partitioned dataset opens many files
def _dictionary_columns(entity: EntityInfo, schema: pa.Schema) -> tuple[str, ...]:
    import pyarrow.parquet as pq

    base = arrow_schema(entity)
    meta = schema.metadata or {}
    if not pa.schema(list(schema)[: len(base)]).equals(base) or any(
        meta.get(k) != v for k, v in (base.metadata or {}).items()
    ):
        raise ArgumentError(
            f"a Parquet file of {entity.name} must begin with its fields and keep its metadata"
        )
    # Leaf paths as the Parquet writer names them (``tags.list.element``), from an empty file.
    empty = pa.BufferOutputStream()
    pq.write_table(schema.empty_table(), empty)
    written = pq.read_metadata(pa.BufferReader(empty.getvalue())).schema
    unique = set(entity.key) if len(entity.key) == 1 else set()
    return tuple(
        path for path in (written.column(i).path for i in range(len(written))) if path not in unique
    )


# --------------------------------------------------------------------------- footers


def _footer(path: str | Path) -> pq.FileMetaData:
    """The footer of the Parquet file at ``path`` (nothing else is read)."""
    import pyarrow.parquet as pq

    try:
        return pq.read_metadata(path)
    except (pa.ArrowException, OSError, ValueError) as exc:  # ValueError: names not UTF-8
        raise FormatError(
            str(path), f"not a Parquet file, or its footer is damaged ({exc})"
        ) from None


def read_schema(path: str | Path) -> pa.Schema:
    """The Arrow schema (with its metadata) of the Parquet file at ``path``, from its footer."""
    footer = _footer(path)
    try:
        return footer.schema.to_arrow_schema()
    except (pa.ArrowException, ValueError) as exc:  # ValueError: names not UTF-8
        raise FormatError(str(path), f"its footer's schema is damaged ({exc})") from None


def count_rows(path: str | Path) -> int:
    """The rows of the Parquet file at ``path``, counted from its pages' headers.

    Only the page headers of one column per row group are read, not the values. The
    footer's counts are checked against them: a footer that says otherwise (forged, or
    damaged) is a :class:`~clen_core.io.formats.FormatError` naming the file, as it is
    when the file is read.
    """
    where = str(path)
    with open(path, "rb") as source:
        footer = _read_footer(source, where)
        _check_file_rows(footer, where)
        size = source.seek(0, 2)
        rows = 0
        for g in range(len(footer.groups)):
            rows += _group_pages(source, size, footer, g, where, rows + 1).rows
        return rows


# --------------------------------------------------------------------------- pages
#
# A footer says how many rows each row group holds, and Arrow reads that many rows,
# whatever the pages hold: a forged footer makes rows vanish (10 in the pages, 5 in
# the footer: 5 read) or appear in counts (10**12). So the rows are counted from the
# pages' own headers (a few bytes each, Thrift compact encoding), and a footer that
# disagrees is refused. The same walk counts the items of list and map columns
# before any is read, which bounds the reading of a row group.


class _Short(Exception):
    """The bytes end inside a page header: read more."""


class _Thrift:
    """Just enough of the Thrift compact protocol to read a footer and page headers,
    bounded: nesting to 16 levels, every length checked against the bytes there are."""

    _DEPTH = 16

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise _Short
        b = self.data[self.pos]
        self.pos += 1
        return b

    def varint(self) -> int:
        result = shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7
            if shift > 63:
                raise ValueError("a number longer than 64 bits")

    def integer(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def skip(self, kind: int, depth: int) -> None:
        if kind in (1, 2):  # booleans live in the field header
            return
        if kind == 3:
            self.byte()
        elif kind in (4, 5, 6):
            self.varint()
        elif kind == 7:
            self.bytes(8)
        elif kind == 8:
            self.bytes(self.varint())
        elif kind in (9, 10):
            head = self.byte()
            n, item = head >> 4, head & 0x0F
            if n == 15:
                n = self.varint()
            for _ in range(n):
                if item in (1, 2):
                    self.byte()
                else:
                    self.skip(item, depth + 1)
        elif kind == 11:
            n = self.varint()
            if n:
                types = self.byte()
                for _ in range(n):
                    for item in (types >> 4, types & 0x0F):
                        if item in (1, 2):  # in a map, a boolean takes a byte
                            self.byte()
                        else:
                            self.skip(item, depth + 1)
        elif kind == 12:
            self.struct(depth + 1)
        else:
            raise ValueError(f"unknown Thrift type {kind}")

    def bytes(self, n: int) -> None:
        if n < 0:
            raise ValueError("a negative length")
        if self.pos + n > len(self.data):
            raise _Short
        self.pos += n

    def value(self, kind: int, depth: int) -> Any:
        """One value: an int, bytes, a list, a dict by field id (a struct); maps skipped."""
        if kind in (1, 2):
            return kind == 1
        if kind == 3:
            return self.byte()
        if kind in (4, 5, 6):
            return self.integer()
        if kind == 8:
            n = self.varint()
            start = self.pos
            self.bytes(n)
            return self.data[start : self.pos]
        if kind in (9, 10):
            if depth > self._DEPTH:
                raise ValueError("nested too deeply")
            head = self.byte()
            n, item = head >> 4, head & 0x0F
            if n == 15:
                n = self.varint()
            if item in (1, 2):
                return [self.byte() == 1 for _ in range(n)]
            return [self.value(item, depth + 1) for _ in range(n)]
        if kind == 12:
            return self.fields(depth + 1)
        self.skip(kind, depth)
        return None

    def fields(self, depth: int = 0) -> dict[int, Any]:
        """Every field of a struct by field id (maps and doubles skipped)."""
        return self._struct(depth, self.value)

    def struct(self, depth: int = 0) -> dict[int, Any]:
        """The struct's integer fields and nested structs by field id; the rest skipped."""
        return self._struct(depth, self._integer_or_struct)

    def _integer_or_struct(self, kind: int, depth: int) -> Any:
        if kind in (5, 6):
            return self.integer()
        if kind == 12:
            return self.struct(depth + 1)
        self.skip(kind, depth)
        return _SKIPPED

    def _struct(self, depth: int, read: Callable[[int, int], Any]) -> dict[int, Any]:
        """A struct's fields by field id, each read by ``read(kind, depth)`` (those it
        gives ``_SKIPPED`` for left out)."""
        if depth > self._DEPTH:
            raise ValueError("nested too deeply")
        out: dict[int, Any] = {}
        last = 0
        while True:
            head = self.byte()
            if head == 0:
                return out
            kind, delta = head & 0x0F, head >> 4
            fid = last + delta if delta else self.integer()
            last = fid
            value = read(kind, depth)
            if value is not _SKIPPED:
                out[fid] = value


_SKIPPED = object()
"""What a field reader of :class:`_Thrift` gives for a field it skipped."""


_HEADER_BYTES = 256
_MAX_HEADER_BYTES = 16 << 20
_DATA_PAGE, _DICTIONARY_PAGE, _DATA_PAGE_V2 = 0, 2, 3


def _page_header(source: IO[bytes], at: int, where: str) -> tuple[dict[int, Any], int]:
    """The page header at byte ``at``, and its length."""
    want = _HEADER_BYTES
    while True:
        source.seek(at)
        data = source.read(want)
        try:
            parser = _Thrift(data)
            return parser.struct(), parser.pos
        except _Short:
            if len(data) < want:
                raise FormatError(where, f"a page header at byte {at:,} is cut off") from None
            if want >= _MAX_HEADER_BYTES:
                raise FormatError(
                    where, f"a page header at byte {at:,} is longer than 16 MiB"
                ) from None
            want *= 16
        except ValueError as exc:
            raise FormatError(where, f"the page header at byte {at:,} is damaged ({exc})") from None


@attrs.frozen
class _Pages:
    """What the page headers of one row group say."""

    rows: int
    """Rows, from a flat column's pages."""
    items: dict[str, int]
    """Per list or map field: the values its pages hold (items, and one per empty row)."""
    densest: int = 0
    """Bytes per row of the densest page of each flat text column, summed: a batch of
    ``n`` rows decodes to at most ``n`` times this (dictionaries aside, which are read
    as such)."""


@attrs.frozen
class _Chunk:
    """What the page headers of one column chunk say."""

    values: int
    """Values (levels) of its data pages."""
    rows: int | None
    """Rows, when every data page says them (version 2)."""
    largest: int
    """Bytes of its largest page, once decompressed (the dictionary page included)."""
    densest: int
    """Most bytes per value of one of its data pages, once decompressed."""


def _chunk_values(source: IO[bytes], size: int, chunk: _ColumnChunk, where: str) -> _Chunk:
    """What a column chunk's page headers say of its values and sizes."""
    if not chunk.start and not chunk.size:  # no page at all (an empty row group)
        return _Chunk(0, 0, 0, 0)
    at = chunk.start
    end = at + chunk.size
    if at < 4 or end > size:
        raise FormatError(where, "a column's pages lie outside the file: its footer is damaged")
    values = largest = densest = 0
    rows: int | None = 0
    while at < end:
        header, length = _page_header(source, at, where)
        kind, plain, stored = header.get(1), header.get(2), header.get(3)
        if not isinstance(stored, int) or stored < 0 or not isinstance(plain, int) or plain < 0:
            raise FormatError(where, f"the page header at byte {at:,} is damaged")
        largest = max(largest, plain)
        n = 0
        if kind == _DATA_PAGE:
            n = _count(header.get(5), 1, at, where)
            rows = None
        elif kind == _DATA_PAGE_V2:
            n = _count(header.get(8), 1, at, where)
            if rows is not None:
                rows += _count(header.get(8), 3, at, where)
        values += n
        if n:
            densest = max(densest, -(-plain // n))
        at += length + stored
    if at != end:
        raise FormatError(where, "a column's pages run past its end: the file is damaged")
    return _Chunk(values, rows, largest, densest)


def _count(header: Any, field: int, at: int, where: str) -> int:
    n = header.get(field) if isinstance(header, dict) else None
    if not isinstance(n, int) or n < 0:
        raise FormatError(where, f"the page header at byte {at:,} is damaged")
    return n


MAX_PAGE_BYTES_PER_LIMIT = 64
"""A page that decompresses to more than this many times ``max_field_bytes`` is refused
before it is read (a few kilobytes of zstd can hold a gigabyte of one letter)."""


def _group_pages(
    source: IO[bytes], size: int, footer: _Footer, group: int, where: str, first_row: int = 1
) -> _Pages:
    """The rows, items and sizes of row group ``group``, from its page headers, checked
    against what its footer says (a mismatch is a :class:`FormatError` naming the file),
    and against the limits (a page too large to decompress is refused)."""
    footer_rows, chunks = footer.groups[group]
    most = MAX_PAGE_BYTES_PER_LIMIT * limits.current().max_field_bytes
    rows: int | None = None
    items: dict[str, int] = {}
    densest = 0
    for leaf, column_chunk in zip(footer.leaves, chunks, strict=True):
        name, flat, text = leaf.name, not leaf.repeated, leaf.text
        if flat and rows is not None and not text:
            continue  # one flat column gives the rows; flat text ones their sizes
        chunk = _chunk_values(source, size, column_chunk, where)
        if chunk.largest > most:
            raise FormatError(
                where,
                f"a page of {name} in row group {group + 1} decompresses to "
                f"{chunk.largest:,} bytes, more than {most:,} "
                f"({MAX_PAGE_BYTES_PER_LIMIT} × max_field_bytes): refused before it is read",
                row=first_row,
                field=name,
            )
        if flat:
            if rows is None:
                rows = chunk.values
            elif chunk.values != rows:
                rows = chunk.values  # reported below, against the footer
                break
            if text:
                densest += chunk.densest
        else:
            items[name] = max(items.get(name, 0), chunk.values)
            if chunk.rows is not None and rows is None:
                rows = chunk.rows
    if rows is None:  # only list and map columns: each row has at least one value in each
        rows = footer_rows
    if rows != footer_rows:
        raise FormatError(
            where,
            f"the footer says row group {group + 1} holds {footer_rows:,} rows, its pages "
            f"hold {rows:,}: the footer is damaged or forged",
        )
    for name, n in items.items():
        if n < rows:
            raise FormatError(
                where,
                f"the footer says row group {group + 1} holds {rows:,} rows, the pages of "
                f"{name} hold {n:,} values: the footer is damaged or forged",
                field=name,
            )
    return _Pages(rows, items, densest)


@attrs.frozen
class _Leaf:
    """A column of the file as its footer's schema says: its field, whether it repeats
    (a list or map), whether it holds bytes (text)."""

    path: str
    name: str
    repeated: bool
    text: bool


@attrs.frozen
class _ColumnChunk:
    """Where a column chunk's pages are, as the footer says."""

    start: int
    size: int
    dictionary: bool


@attrs.frozen
class _Footer:
    """What clen_core needs of a footer, read with its own Thrift reader: pyarrow's
    metadata objects end the process (``std::terminate``) on some damaged footers."""

    rows: int
    leaves: tuple[_Leaf, ...]
    groups: tuple[tuple[int, tuple[_ColumnChunk, ...]], ...]

    def dictionary_paths(self) -> list[str]:
        """Text columns written with a dictionary in some row group."""
        found = {
            leaf.path
            for _, chunks in self.groups
            for leaf, chunk in zip(self.leaves, chunks, strict=True)
            if leaf.text and chunk.dictionary
        }
        return sorted(found)


_BYTE_ARRAY = 6
_REPEATED = 2
_MAX_FOOTER_BYTES = 1 << 30


def _read_footer(source: IO[bytes], where: str) -> _Footer:
    """The footer of the Parquet file ``source`` (a FormatError naming the file when it
    cannot be read, or says what cannot be)."""
    damaged = "its footer is damaged"
    end = source.seek(0, 2)
    source.seek(max(end - 8, 0))
    tail = source.read(8)
    if end < 12 or len(tail) != 8 or tail[4:] != MAGIC:
        raise FormatError(where, f"not a Parquet file, or {damaged}")
    length = int.from_bytes(tail[:4], "little")
    if length > end - 12 or length > _MAX_FOOTER_BYTES:
        raise FormatError(where, f"not a Parquet file, or {damaged}")
    source.seek(end - 8 - length)
    try:
        meta = _Thrift(source.read(length)).fields()
        leaves = _leaves(meta.get(2))
        groups = []
        for group in meta.get(4) or []:
            chunks = []
            for chunk in group.get(1) or []:
                column = chunk.get(3)
                offsets = [column.get(9), column.get(11)]
                starts = [o for o in offsets if isinstance(o, int) and o > 0]
                size = column.get(7)
                if not isinstance(size, int) or size < 0:
                    raise ValueError("a column chunk without its size")
                dictionary = isinstance(column.get(11), int) and column.get(11) > 0
                chunks.append(_ColumnChunk(min(starts, default=0), size, dictionary))
            if len(chunks) != len(leaves) or not isinstance(group.get(3), int):
                raise ValueError("a row group that does not match the schema")
            groups.append((int(group[3]), tuple(chunks)))
        rows = meta.get(3)
        if not isinstance(rows, int):
            raise ValueError("no row count")
    except (_Short, ValueError, AttributeError, TypeError, KeyError) as exc:
        raise FormatError(where, f"{damaged} ({exc or 'cut off'})") from None
    return _Footer(rows, leaves, tuple(groups))


def _leaves(schema: Any) -> tuple[_Leaf, ...]:
    """The leaf columns of a footer's schema (a flattened tree: each element says how
    many children follow it), in the order of the column chunks."""
    if not isinstance(schema, list) or not schema:
        raise ValueError("no schema")
    out: list[_Leaf] = []
    # (children left, path so far, repeated so far) of each open group, root first.
    stack: list[tuple[int, tuple[str, ...], bool]] = [(int(schema[0].get(5) or 0), (), False)]
    for element in schema[1:]:
        while stack and stack[-1][0] == 0:
            stack.pop()
        if not stack:
            raise ValueError("schema elements past the root's children")
        left, path, repeated = stack.pop()
        stack.append((left - 1, path, repeated))
        name = bytes(element.get(4) or b"").decode("utf-8", "replace")
        here = (*path, name)
        again = repeated or element.get(3) == _REPEATED
        children = element.get(5)
        if isinstance(children, int) and children > 0:
            stack.append((children, here, again))
        else:
            out.append(_Leaf(".".join(here), here[0], again, element.get(1) == _BYTE_ARRAY))
    return tuple(out)


def _check_file_rows(footer: _Footer, where: str) -> None:
    groups = sum(rows for rows, _ in footer.groups)
    if groups != footer.rows:
        raise FormatError(
            where,
            f"the footer says the file holds {footer.rows:,} rows, its row groups "
            f"{groups:,}: the footer is damaged or forged",
        )


# --------------------------------------------------------------------------- reading


def _is_text(t: pa.DataType) -> bool:
    is_view = getattr(pa.types, "is_string_view", None)
    return bool(
        pa.types.is_string(t) or pa.types.is_large_string(t) or (is_view is not None and is_view(t))
    )


def _int_digits(t: pa.DataType) -> int | None:
    """Decimal digits needed by an integer type (``None`` if not an integer)."""
    if not pa.types.is_integer(t):
        return None
    digits = _INT_DIGITS[t.bit_width]
    return digits + 1 if pa.types.is_unsigned_integer(t) and t.bit_width == 64 else digits


def _is_list(t: pa.DataType) -> bool:
    return bool(pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t))


def fits(got: pa.DataType, want: pa.DataType) -> bool:
    """Whether values of type ``got`` convert to ``want`` without loss, whatever they are."""
    if got.equals(want) or pa.types.is_null(got):
        return True
    if pa.types.is_dictionary(want) or _is_text(want):
        return _is_text(got) or (pa.types.is_dictionary(got) and _is_text(got.value_type))
    if pa.types.is_integer(want):
        # Every integer type but uint64 fits in int64.
        return bool(
            pa.types.is_integer(got) and (pa.types.is_signed_integer(got) or got.bit_width < 64)
        )
    if pa.types.is_floating(want):
        return bool(pa.types.is_floating(got) or (pa.types.is_integer(got) and got.bit_width <= 32))
    if pa.types.is_decimal(want):
        room = want.precision - want.scale
        if pa.types.is_decimal(got):
            return bool(got.scale <= want.scale and got.precision - got.scale <= room)
        digits = _int_digits(got)
        return digits is not None and digits <= room
    if pa.types.is_date32(want):
        return bool(pa.types.is_date(got))
    if pa.types.is_list(want):
        return _is_list(got) and fits(got.value_type, want.value_type)
    if pa.types.is_map(want):
        return (
            pa.types.is_map(got)
            and fits(got.key_type, want.key_type)
            and fits(got.item_type, want.item_type)
        )
    return False


def _open(source: IO[bytes], path: str) -> tuple[pq.ParquetFile, _Footer]:
    """The file, its dictionary-encoded text read as dictionaries, and its footer."""
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(source)
    except (pa.ArrowException, OSError, ValueError) as exc:  # ValueError: names not UTF-8
        raise FormatError(
            path, f"not a Parquet file, or its footer is damaged or cut off ({exc})"
        ) from None
    footer = _read_footer(source, path)
    # Text written as a dictionary is read as one: a few bytes of indices each, not as
    # many copies of what they point to (a 12 KB file may point 5,000 times to one
    # megabyte). _without_unreadable and _sliced expand it once its sizes are known.
    encoded = footer.dictionary_paths()
    if not encoded:
        return pf, footer
    try:
        return pq.ParquetFile(source, metadata=pf.metadata, read_dictionary=encoded), footer
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise FormatError(
            path, f"not a Parquet file, or its footer is damaged or cut off ({exc})"
        ) from None


_LISTED = 20
"""Names an error lists at most (a file may have 10,000 columns): the rest are counted."""


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:_LISTED])
    return shown + (f" and {len(names) - _LISTED:,} more" if len(names) > _LISTED else "")


def _target(
    pf: pq.ParquetFile, entity: EntityInfo, path: str, extra: Collection[str] = ()
) -> pa.Schema:
    """The entity's schema for the file's columns, after checking they fit the entity."""
    got = pf.schema_arrow
    if extra:
        got = pa.schema([f for f in got if f.name not in extra], metadata=got.metadata)
    other = (got.metadata or {}).get(b"clen_core.entity")
    if other is not None and other.decode("utf-8", "replace") != entity.name:
        raise FormatError(
            path,
            f"the file holds {other.decode('utf-8', 'replace')!r} records "
            f"(its clen_core.entity metadata), not {entity.name!r}",
        )
    names = got.names
    unknown = [n for n in names if n not in entity.field_names]
    if unknown:
        raise FormatError(
            path,
            f"column(s) {_listed(list(map(repr, unknown)))} are not fields of {entity.name} "
            f"(fields: {', '.join(entity.field_names)})",
            field=_listed(unknown),
        )
    if len(set(names)) != len(names):
        counts = collections.Counter(names)
        twice = sorted(n for n, k in counts.items() if k > 1)
        raise FormatError(path, "column(s) present twice", field=_listed(twice))
    missing = [f.name for f in entity.fields if f.is_required and f.name not in names]
    if missing:
        raise FormatError(
            path,
            f"required column(s) of {entity.name} missing: {', '.join(missing)}",
            field=", ".join(missing),
        )
    expected = arrow_schema(entity)
    fields = []
    for name in names:
        have, want = got.field(name).type, expected.field(name)
        if not fits(have, want.type):
            raise FormatError(
                path,
                f"column type {have} cannot be read as {want.type} "
                f"(the type of {entity.name}.{name}) without loss",
                field=name,
            )
        fields.append(want)
    return pa.schema(fields, metadata=expected.metadata)


def _bytes_type(t: pa.DataType) -> pa.DataType:
    """``t`` with its text as bytes: the same layout, without the promise of UTF-8."""
    if pa.types.is_string(t):
        return pa.binary()
    if pa.types.is_large_string(t):
        return pa.large_binary()
    if pa.types.is_dictionary(t):
        return pa.dictionary(t.index_type, _bytes_type(t.value_type))
    if pa.types.is_map(t):
        return pa.map_(_bytes_type(t.key_type), t.item_field.with_type(_bytes_type(t.item_type)))
    if pa.types.is_list(t):
        return pa.list_(t.value_field.with_type(_bytes_type(t.value_type)))
    if pa.types.is_large_list(t):
        return pa.large_list(t.value_field.with_type(_bytes_type(t.value_type)))
    return t


def _sound(batch: pa.RecordBatch, path: str, first_row: int) -> None:
    """Refuse a batch whose arrays do not hold together (damaged pages: offsets out of
    order, dictionary indices past the dictionary), before any kernel reads past them:
    Arrow's Parquet reader hands them over unchecked. Text that is not UTF-8 is not a
    damage of this kind: its rows are rejected (see :func:`_bad_values`)."""
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        try:
            bare = _bytes_type(column.type)
            (column if bare.equals(column.type) else column.view(bare)).validate(full=True)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
            last = first_row + batch.num_rows - 1
            raise FormatError(
                path,
                f"damaged data in rows {first_row:,} to {last:,} ({str(exc).splitlines()[0]})",
                row=first_row,
                field=name,
            ) from None


def _expands(got: pa.DataType, want: pa.DataType) -> bool:
    """Whether casting ``got`` to ``want`` turns a dictionary into its values (a few bytes
    of indices into as many copies of what they point to)."""
    if pa.types.is_dictionary(got):
        return not pa.types.is_dictionary(want)
    if _is_list(got) and _is_list(want):
        return _expands(got.value_type, want.value_type)
    if pa.types.is_map(got) and pa.types.is_map(want):
        return _expands(got.key_type, want.key_type) or _expands(got.item_type, want.item_type)
    return False


def _cast(
    batch: pa.RecordBatch,
    target: pa.Schema,
    path: str,
    first_row: int,
    *,
    deferred: bool = False,
) -> pa.RecordBatch:
    """The batch in the entity's types (``deferred``: but the dictionaries of text, left
    as they are until the rows' sizes are known: see :func:`_sliced`)."""
    if batch.schema.equals(target):
        return batch
    columns = []
    for column, field in zip(batch.columns, target, strict=True):
        if column.type.equals(field.type) or (deferred and _expands(column.type, field.type)):
            columns.append(column)
            continue
        try:
            columns.append(column.cast(field.type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            if pa.types.is_dictionary(field.type):
                # E.g. more distinct (bad) values than the index type holds: plain text
                # gives the same values; the decoder rejects those not in the enum.
                columns.append(column.cast(field.type.value_type))
                continue
            raise FormatError(
                path,
                f"column of type {column.type} cannot be read as {field.type} ({exc})",
                row=first_row,
                field=field.name,
            ) from None
    return pa.RecordBatch.from_arrays(columns, names=target.names)


def _expanded(column: pa.Array) -> pa.Array | None:
    """Per row, the bytes of text the column's dictionaries stand for (int64), or None
    when it holds none."""
    t = column.type
    if pa.types.is_dictionary(t):
        lengths = pc.fill_null(pc.binary_length(column.dictionary), 0).cast(pa.int64())
        return pc.fill_null(pc.take(lengths, column.indices), 0)
    if not (_is_list(t) or pa.types.is_map(t)) or pa.types.is_fixed_size_list(t):
        return None
    as_list = _as_list(column)
    entries = as_list.values
    if pa.types.is_struct(entries.type):
        parts = [_expanded(entries.field(i)) for i in range(entries.type.num_fields)]
        known = [x for x in parts if x is not None]
        if not known:
            return None
        each = known[0]
        for x in known[1:]:
            each = pc.add(each, x)
    else:
        found = _expanded(entries)
        if found is None:
            return None
        each = found
    # Per row: the sum over its items (cumulative sums at its offsets, all in Arrow).
    total = pa.concat_arrays([pa.array([0], pa.int64()), pc.cumulative_sum(each)])
    offsets = as_list.offsets.cast(pa.int64())
    ends, starts = offsets.slice(1), offsets.slice(0, len(as_list))
    return pc.subtract(pc.take(total, ends), pc.take(total, starts))


READ_BATCH_BYTES = 16 << 20
"""Bytes of text a batch holds at most once its dictionaries are expanded (as written
by a file's dictionary pages, a few bytes of indices each): a batch that would hold
more is cut into several, by the exact sizes of its rows."""


def _sliced(raw: RawBatch) -> list[RawBatch]:
    """``raw`` cut into batches of at most :data:`READ_BATCH_BYTES` of text once expanded
    (at least one row each); each row problem goes with the rows around it."""
    sizes = None
    for column in raw.batch.columns:
        found = _expanded(column)
        if found is not None:
            sizes = found if sizes is None else pc.add(sizes, found)
    n = raw.batch.num_rows
    if sizes is None or n < 2 or pc.sum(sizes).as_py() <= READ_BATCH_BYTES:
        return [raw]
    total = pc.cumulative_sum(sizes).to_pylist()
    parts = []
    start = 0
    while start < n:
        base = total[start - 1] if start else 0
        stop = max(start + 1, bisect.bisect_right(total, base + READ_BATCH_BYTES, lo=start))
        parts.append((start, stop))
        start = stop
    problems = sorted(raw.problems, key=lambda p: p.row)
    out = []
    for i, (start, stop) in enumerate(parts):
        last = raw.rows[stop - 1].as_py()
        mine = [p for p in problems if p.row <= last] if i < len(parts) - 1 else problems
        problems = problems[len(mine) :]
        out.append(RawBatch(raw.batch.slice(start, stop - start),
                            raw.rows.slice(start, stop - start), tuple(mine)))  # fmt: skip
    return out


# --------------------------------------------------------------------------- unreadable rows


_DATE_RANGE = "date out of range: years 1 to 9999 only"
_NOT_UTF8 = "text that is not valid UTF-8"
_SHOWN_ITEMS = 10
"""Items of a list or mapping over ``max_items`` kept in the rejects (with the count)."""


@attrs.define
class _Found:
    """Per row (index in the batch): the bad fields with their reasons, in field order."""

    reasons: dict[int, list[tuple[str, str]]] = attrs.Factory(dict)

    def add(self, name: str, at: pa.Array, reason: str | list[str]) -> None:
        why = [reason] * len(at) if isinstance(reason, str) else reason
        for i, r in zip(at.to_pylist(), why, strict=True):
            self.reasons.setdefault(i, []).append((name, r))


def _mask_rows(n: int, at: pa.Array) -> pa.Array:
    """A boolean mask of ``n`` rows, true at the indices ``at``."""
    return pc.is_in(int_range(0, n), value_set=pc.cast(at, pa.int64()))


def _as_list(values: pa.Array) -> pa.Array:
    """A list or map array as a list array (a map: of its key/value structs), sharing data."""
    if pa.types.is_map(values.type):
        t = values.type
        entry = pa.struct([pa.field("key", t.key_type, nullable=False), t.item_field])
        return values.cast(pa.list_(entry))
    return values


def _bad_values(values: pa.Array, max_items: int, max_bytes: int) -> tuple[pa.Array, list[str]]:
    """The indices of the values Python cannot hold as they are, and why (checked in Arrow:
    nothing of a value becomes a Python object before it has passed)."""
    t = values.type
    if pa.types.is_date32(t):
        days = values.cast(pa.int32())
        bad = pc.fill_null(pc.or_(pc.less(days, FIRST_DAY), pc.greater(days, LAST_DAY)), False)
        at = pc.indices_nonzero(bad)
        return at, [_DATE_RANGE] * len(at)
    if _is_text(t) or pa.types.is_dictionary(t):
        text = values.dictionary if pa.types.is_dictionary(t) else values
        lengths = pc.binary_length(text)
        longest = pc.max(lengths).as_py() or 0
        wrong: dict[int, str] = {}
        if longest > max_bytes:  # before anything is copied, let alone made Python text
            for i in pc.indices_nonzero(pc.greater(lengths, max_bytes)).to_pylist():
                n = lengths[i].as_py()
                wrong[i] = f"a text of {n:,} bytes, more than {max_bytes:,} (max_field_bytes)"
        try:
            text.validate(full=True)
        except pa.ArrowInvalid:
            for i, b in enumerate(text.cast(pa.binary()).to_pylist()):
                if b is not None and i not in wrong and not _utf8(b):
                    wrong[i] = _NOT_UTF8
        if not wrong:
            return pa.array([], pa.uint64()), []
        order = sorted(wrong)
        if not pa.types.is_dictionary(t):
            return pa.array(order, pa.uint64()), [wrong[i] for i in order]
        indices = values.indices.cast(pa.int64())
        at = pc.indices_nonzero(
            pc.fill_null(pc.is_in(indices, value_set=pa.array(order, pa.int64())), False)
        )
        return at, [wrong[i] for i in pc.take(indices, at).to_pylist()]
    if not (_is_list(t) or pa.types.is_map(t)):
        return pa.array([], pa.uint64()), []
    as_list = _as_list(values)
    lengths = pc.fill_null(pc.list_value_length(as_list), 0)
    over = pc.greater(lengths, max_items)
    reasons: dict[int, str] = {}
    what = "a mapping of {:,} entries" if pa.types.is_map(t) else "a list of {:,} items"
    if pc.any(over).as_py():
        at = pc.indices_nonzero(over)
        for i, k in zip(at.to_pylist(), pc.take(lengths, at).to_pylist(), strict=True):
            reasons[i] = f"{what.format(k)}, more than {max_items:,} (max_items)"
        # The items of the rows over the limit are looked at no further.
        kept = pc.indices_nonzero(pc.invert(over))
        as_list = pc.take(as_list, kept)
    else:
        kept = None
    inner = pc.list_flatten(as_list)
    parents = pc.list_parent_indices(as_list)
    if pa.types.is_map(t):
        keys, items = inner.flatten()
        for part, word in ((keys, "a key"), (items, "a value")):
            at, why = _bad_values(part, max_items, max_bytes)
            for i, r in zip(pc.take(parents, at).to_pylist(), why, strict=True):
                reasons.setdefault(_row(i, kept), f"{word}: {r}")
        for i, key in _repeated_keys(keys, parents):
            reasons.setdefault(_row(i, kept), f"key {key!r} appears twice")
    else:
        at, why = _bad_values(inner, max_items, max_bytes)
        for i, r in zip(pc.take(parents, at).to_pylist(), why, strict=True):
            reasons.setdefault(_row(i, kept), f"an item: {r}")
    order = sorted(reasons)
    return pa.array(order, pa.uint64()), [reasons[i] for i in order]


def _row(i: int, kept: pa.Array | None) -> int:
    return i if kept is None else int(kept[i].as_py())


def _utf8(b: bytes) -> bool:
    try:
        b.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _repeated_keys(keys: pa.Array, parents: pa.Array) -> list[tuple[int, Any]]:
    """``(row, key)`` of each map that holds a key twice (its first such key), by row."""
    if len(keys) < 2:
        return []
    pairs = pa.table({"row": parents, "key": keys})
    counted = pairs.group_by(["row", "key"], use_threads=False).aggregate([([], "count_all")])
    twice = counted.filter(pc.greater(counted.column("count_all"), 1))
    if not twice.num_rows:
        return []
    first: dict[int, Any] = {}
    for r, k in zip(twice.column("row").to_pylist(), twice.column("key").to_pylist(),
                    strict=True):  # fmt: skip
        first.setdefault(r, k)
    return sorted(first.items())


_SHOWN_BYTES = 1000
"""Bytes of a text over ``max_field_bytes`` kept in the rejects (with its size)."""


def _shown(values: pa.Array, at: int, max_items: int, max_bytes: int) -> Any:
    """The JSON-ready value of row ``at`` of a column whose value there cannot be read as
    it is: its text (dates), its bytes as text with ``\\x`` escapes (not UTF-8), or, for
    a list or mapping over the limits, its first items and its size."""
    value = values.slice(at, 1)
    t = value.type
    if _is_list(t) or pa.types.is_map(t):
        n = pc.list_value_length(_as_list(value))[0].as_py() or 0
        expanded = _expanded(value)
        size = expanded[0].as_py() if expanded is not None else 0
        if n > max_items or size > max_bytes:
            head = _as_list(value).flatten().slice(0, _SHOWN_ITEMS)
            items = [_plain(head.slice(i, 1), max_bytes) for i in range(len(head))]
            return f"{json.dumps(items, ensure_ascii=False)[:-1]}, … ({n:,} in all)]"
    return _plain(value, max_bytes)


def _plain(value: pa.Array, max_bytes: int) -> Any:
    """The one value of ``value`` as JSON-ready Python, whatever its text or dates hold."""
    return _readable(value.type, value.cast(_safe_type(value.type)).to_pylist()[0], max_bytes)


def _safe_type(t: pa.DataType) -> pa.DataType:
    """``t`` with text as binary and dates as text: types any value converts from."""
    if _is_text(t) or pa.types.is_dictionary(t):
        return pa.binary()
    if pa.types.is_date32(t):
        return pa.string()
    if pa.types.is_map(t):
        entry = pa.struct(
            [pa.field("key", _safe_type(t.key_type), nullable=False),
             pa.field("value", _safe_type(t.item_type))]
        )  # fmt: skip
        return pa.list_(entry)
    if _is_list(t):
        return pa.list_(_safe_type(t.value_type))
    return t


def _readable(t: pa.DataType, v: Any, max_bytes: int) -> Any:
    if v is None:
        return None
    if isinstance(v, bytes):
        if len(v) > max_bytes:
            head = v[:_SHOWN_BYTES].decode("utf-8", "backslashreplace")
            return f"{head}… ({len(v):,} bytes in all)"
        return v.decode("utf-8", "backslashreplace")
    if pa.types.is_map(t):
        key, item = t.key_type, t.item_type
        pairs = [
            (_readable(key, e["key"], max_bytes), _readable(item, e["value"], max_bytes)) for e in v
        ]
        if len({k for k, _ in pairs}) != len(pairs):
            return [list(p) for p in pairs]  # a key twice: as [key, value] pairs, all kept
        return {str(k): x for k, x in pairs}
    if isinstance(v, list):
        return [_readable(t.value_type, x, max_bytes) for x in v]
    return json_value(v)


def _without_unreadable(
    batch: pa.RecordBatch, rows: pa.Array, max_items: int, max_bytes: int | None = None
) -> RawBatch:
    """The batch less the rows holding a value Python cannot hold as it is, checked in
    Arrow, vectorised: a date outside years 1 to 9999, text that is not UTF-8 or longer
    than ``max_bytes``, a list or mapping of more than ``max_items`` items, a mapping
    holding a key twice, a row whose dictionaries stand for more than
    :data:`READ_BATCH_BYTES` of text. Each such row becomes one problem naming its first
    bad field (the others in the reason), with the row's values, JSON-ready, so that the
    rejects keep the whole row (a value over the limits: its start and its size).
    ``max_bytes``: by default ``limits.current().max_field_bytes``."""
    if max_bytes is None:
        max_bytes = limits.current().max_field_bytes
    found = _Found()
    total: pa.Array | None = None  # per row: the bytes of text its dictionaries stand for
    heaviest: pa.Array | None = None  # per row: the most of them one field stands for
    which: pa.Array | None = None  # per row: that field
    for j, (name, column) in enumerate(zip(batch.schema.names, batch.columns, strict=True)):
        at, why = _bad_values(column, max_items, max_bytes)
        if len(at):
            found.add(name, at, why)
        sizes = _expanded(column)
        if sizes is None:
            continue
        if total is None or heaviest is None or which is None:
            total, heaviest = sizes, sizes
            which = pa.repeat(pa.scalar(j, pa.int64()), len(sizes))
        else:
            total = pc.add(total, sizes)
            which = pc.if_else(pc.greater(sizes, heaviest), j, which)
            heaviest = pc.max_element_wise(heaviest, sizes)
    if total is not None and which is not None:
        over = pc.greater(total, READ_BATCH_BYTES)
        if pc.any(over).as_py():
            at = pc.indices_nonzero(over)
            names = batch.schema.names
            for i, j, n in zip(at.to_pylist(), pc.take(which, at).to_pylist(),
                               pc.take(total, at).to_pylist(), strict=True):  # fmt: skip
                found.add(names[j], pa.array([i]), f"{n:,} bytes of text in one row, more "
                          f"than {READ_BATCH_BYTES:,}")  # fmt: skip
    if not found.reasons:
        return RawBatch(batch, rows)
    bad_rows = sorted(found.reasons)
    at = pa.array(bad_rows, pa.int64())
    # The values of the bad rows: those of good fields as Python has them, the others
    # as _shown says (never a value over the limits whole, never text that is not UTF-8).
    bad_cells = {(i, name) for i, fields in found.reasons.items() for name, _ in fields}
    records: list[dict[str, Any]] = [{} for _ in bad_rows]
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        good = [k for k, i in enumerate(bad_rows) if (i, name) not in bad_cells]
        if good:
            picked = pc.take(column, pa.array([bad_rows[k] for k in good], pa.int64()))
            for k, v in zip(good, _json_column(picked, max_bytes), strict=True):
                records[k][name] = v
        for k, i in enumerate(bad_rows):
            if (i, name) in bad_cells:
                records[k][name] = _shown(column, i, max_items, max_bytes)
    problems = []
    numbers = pc.take(rows, at).to_pylist()
    for k, i in enumerate(bad_rows):
        (first, reason), *others = found.reasons[i]
        if others:
            reason += "; also " + "; ".join(f"{f}: {r}" for f, r in others)
        shown = records[k][first]
        text = shown if isinstance(shown, str) else json.dumps(shown, ensure_ascii=False)
        problems.append(RowProblem(numbers[k], reason, text, field=first, values=records[k]))
    keep = pc.invert(_mask_rows(batch.num_rows, at))
    return RawBatch(batch.filter(keep), pc.filter(rows, keep), tuple(problems))


def _json_column(column: pa.Array, max_bytes: int) -> list[Any]:
    """A column of good values as JSON-ready Python (maps as objects): through the types
    any value converts from, so that a dictionary's other (bad) entries are never read."""
    t = column.type
    return [_readable(t, v, max_bytes) for v in column.cast(_safe_type(t)).to_pylist()]


# --------------------------------------------------------------------------- reading batches


READ_BATCH_ITEMS = 1 << 20
"""List and map items a batch holds on average, at most: a row group whose lists are
long is read in batches of fewer rows (from the counts in its page headers)."""
MAX_GROUP_ITEMS_PER_LIMIT = 256
"""A row group whose pages hold, in one list or map column, more than ``max_items``
items per row (so some row is over the limit) and more than this many times
``max_items`` in all, is refused whole before any of it is read."""


def _batch_rows(pages: _Pages, group: int, first_row: int, max_items: int, where: str) -> int:
    """Rows per batch for a row group: fewer when its lists are long or its texts large;
    refused (a FormatError naming file, rows and field) when one of its columns holds
    more items than any reading of it could keep within the limits."""
    most = 0
    for name, n in pages.items.items():
        if n > max_items * max(pages.rows, 1) and n > MAX_GROUP_ITEMS_PER_LIMIT * max_items:
            last = first_row + pages.rows - 1
            raise FormatError(
                where,
                f"row group {group + 1} (rows {first_row:,} to {last:,}) holds {n:,} items of "
                f"{name}: more than {max_items:,} (max_items) for each of its {pages.rows:,} "
                "row(s), refused before any is read",
                row=first_row,
                field=name,
            )
        most = max(most, n)
    rows = READ_BATCH_ROWS
    if pages.densest:  # text that is plain in its pages: the densest page decides
        rows = min(rows, max(1, READ_BATCH_BYTES // pages.densest))
    if most and pages.rows:
        rows = min(rows, max(1, READ_BATCH_ITEMS // -(-most // pages.rows)))
    return rows


def read_batches(
    source: IO[bytes], entity: EntityInfo, path: str, *, extra_columns: Collection[str] = ()
) -> Iterator[RawBatch]:
    """The rows of a Parquet file of ``entity`` as batches in the entity's types.

    ``extra_columns``: columns of the file that are not fields of the entity
    and are left unread instead of making the file an error: the derived
    ``year``/``month`` partition keys in the files of a partitioned dataset
    (:mod:`clen_core.io.partitioned`). The ``parquet`` format reads with none.

    The rows are counted from the pages, not the footer: a footer whose counts differ
    is a :class:`FormatError` naming the file. A row holding a value Python cannot
    hold as it is (a date outside years 1 to 9999, text that is not UTF-8, a list or
    mapping of more than ``max_items``, a mapping with a key twice) is a
    :class:`~clen_core.io.records.RowProblem` naming the field, with the row's values.
    """
    pf, footer = _open(source, path)
    try:
        target = _target(pf, entity, path, extra_columns)
        columns = target.names if extra_columns else None
        _check_file_rows(footer, path)
        size = source.seek(0, 2)
        max_items = limits.current().max_items
        max_bytes = limits.current().max_field_bytes
        row = 0
        for group in range(len(footer.groups)):
            # One row group at a time: a batch crossing a row-group boundary cannot hold
            # nested dictionary (enum list) columns ("nested data conversions ... chunked").
            pages = _group_pages(source, size, footer, group, path, row + 1)
            size_rows = _batch_rows(pages, group, row + 1, max_items, path)
            batches = pf.iter_batches(batch_size=size_rows, row_groups=[group], columns=columns)
            start = row
            while True:
                try:
                    batch = next(batches, None)
                except (pa.ArrowException, OSError, ValueError) as exc:
                    raise FormatError(
                        path, f"damaged data after row {row} ({exc})", row=row + 1
                    ) from None
                if batch is None:
                    break
                first = row + 1
                _sound(batch, path, first)
                batch = _cast(batch, target, path, first, deferred=True)
                rows = int_range(first, first + batch.num_rows)
                row += batch.num_rows
                checked = _without_unreadable(batch, rows, max_items, max_bytes)
                for part in _sliced(checked):  # dictionaries expanded a slice at a time
                    yield attrs.evolve(part, batch=_cast(part.batch, target, path, first))
            if row - start != pages.rows:
                raise FormatError(
                    path,
                    f"row group {group + 1} gave {row - start:,} rows, its pages hold "
                    f"{pages.rows:,}: the file is damaged",
                    row=row + 1,
                )
    finally:
        pf.close()


def read(source: IO[bytes], entity: EntityInfo, path: str) -> Iterator[RawRecord | RowProblem]:
    """The rows of a Parquet file of ``entity``, one by one (see the module docs)."""
    for raw in read_batches(source, entity, path):
        names = raw.batch.schema.names
        problems = list(raw.problems)  # rows with a date out of range, by row
        columns = zip(*map(python_values, raw.batch.columns), strict=True)
        for row, values in zip(raw.rows.to_pylist(), columns, strict=True):
            while problems and problems[0].row < row:
                yield problems.pop(0)
            yield RawRecord(row, dict(zip(names, values, strict=True)))
        yield from problems
