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
  and the rows of each partition folder are gathered into row groups of up
  to 100,000 rows. Reading a dataset leaves the derived columns out.

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
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from clen_core.errors import ArgumentError, FormatError
from clen_core.io.records import RawBatch, RawRecord, RowProblem
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

    def __init__(self, sink: IO[bytes], entity: EntityInfo, schema: pa.Schema) -> None:
        import pyarrow.parquet as pq

        self.entity = entity
        self.schema = schema
        """The schema of the file: the entity's, or it plus extra columns and metadata."""
        self.rows = 0
        """Rows written so far."""
        # pyarrow writes a Python file in many small pieces, each taking the GIL: while
        # objects are converted in another thread, each waits for it (a batch's write
        # took 3-6x longer). A native buffer in front hands the file 1 MiB at a time.
        self._buffer = pa.BufferedOutputStream(
            pa.PythonFile(sink, mode="w"), buffer_size=BUFFER_BYTES
        )
        try:
            self._writer: pq.ParquetWriter | None = pq.ParquetWriter(
                self._buffer,
                schema,
                compression=COMPRESSION,
                use_dictionary=list(_dictionary_columns(entity, schema)),
            )
        except BaseException:
            self._buffer.detach()
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
        if isinstance(data, pa.RecordBatch):
            batch = conform(data, self.schema)
            self._writer.write_batch(batch, row_group_size=row_group_rows or batch.num_rows)
        else:
            if not data.schema.equals(self.schema):
                batches = [conform(b, self.schema) for b in data.to_batches()]
                data = pa.Table.from_batches(batches, schema=self.schema)
            self._writer.write_table(data, row_group_size=row_group_rows or data.num_rows)
        self.rows += data.num_rows

    def close(self) -> None:
        """Write the footer and flush what is buffered; the sink stays open for its owner."""
        if self._writer is None:
            return
        writer, self._writer = self._writer, None
        try:
            writer.close()
        finally:
            self._buffer.detach()  # flushes the buffer, leaves the sink open

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        # The footer is written even on error, while the sink is still open; an atomic
        # file (or a partitioned dataset's temporary folder) then discards the file.
        self.close()


def open_writer(sink: IO[bytes], entity: EntityInfo, schema: pa.Schema | None = None) -> Writer:
    """A :class:`Writer` of ``entity``'s rows as Parquet onto the binary file ``sink``.

    ``schema``: the file's schema, by default :func:`~clen_core.arrow_schema` of
    the entity; otherwise it must begin with the entity's fields and keep its
    metadata (extra columns and metadata after them: the derived partition
    keys of a partitioned dataset). Every clen_core Parquet file is written by
    it: zstd, every column dictionary-encoded but a one-field key, the schema
    and its metadata in the footer, and the bytes handed to ``sink``
    :data:`BUFFER_BYTES` at a time. Use it as a context manager, or call
    :meth:`Writer.close`, which writes the footer and leaves ``sink`` open.
    """
    return Writer(sink, entity, arrow_schema(entity) if schema is None else schema)


def write(sink: IO[bytes], entity: EntityInfo, batches: Iterable[pa.RecordBatch]) -> None:
    """Write batches of ``entity`` as Parquet: one row group per batch (see the module docs)."""
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
    except (pa.ArrowException, OSError) as exc:
        raise FormatError(
            str(path), f"not a Parquet file, or its footer is damaged ({exc})"
        ) from None


def read_schema(path: str | Path) -> pa.Schema:
    """The Arrow schema (with its metadata) of the Parquet file at ``path``, from its footer."""
    return _footer(path).schema.to_arrow_schema()


def count_rows(path: str | Path) -> int:
    """The rows of the Parquet file at ``path``, from its footer (nothing else is read)."""
    return int(_footer(path).num_rows)


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


def _open(source: IO[bytes], path: str) -> pq.ParquetFile:
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(source)
    except (pa.ArrowException, OSError) as exc:
        raise FormatError(
            path, f"not a Parquet file, or its footer is damaged or cut off ({exc})"
        ) from None


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
            f"column(s) {', '.join(map(repr, unknown))} are not fields of {entity.name} "
            f"(fields: {', '.join(entity.field_names)})",
            field=", ".join(unknown),
        )
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise FormatError(path, "column(s) present twice", field=", ".join(twice))
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


def _cast(batch: pa.RecordBatch, target: pa.Schema, path: str, first_row: int) -> pa.RecordBatch:
    if batch.schema.equals(target):
        return batch
    columns = []
    for column, field in zip(batch.columns, target, strict=True):
        if column.type.equals(field.type):
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


def _without_impossible_dates(batch: pa.RecordBatch, rows: pa.Array) -> RawBatch:
    """The batch less the rows with a date Python cannot hold (years 1 to 9999 only):
    those become problems naming row and field (checked per batch, vectorised)."""
    found: dict[int, list[tuple[str, str]]] = {}  # row: (field, value as text)
    bad_any = None
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        if not pa.types.is_date32(column.type):
            continue
        days = column.cast(pa.int32())
        bad = pc.fill_null(pc.or_(pc.less(days, FIRST_DAY), pc.greater(days, LAST_DAY)), False)
        if not pc.any(bad).as_py():
            continue
        at = pc.indices_nonzero(bad)
        for r, text in zip(
            pc.take(rows, at).to_pylist(),
            pc.cast(pc.take(column, at), pa.string()).to_pylist(),
            strict=True,
        ):
            found.setdefault(r, []).append((name, text))
        bad_any = bad if bad_any is None else pc.or_(bad_any, bad)
    if bad_any is None:
        return RawBatch(batch, rows)
    problems = []
    for r, bad_fields in sorted(found.items()):  # one problem per row, naming its first field
        reason = "date out of range: years 1 to 9999 only"
        if len(bad_fields) > 1:
            reason += "; so is " + ", ".join(f"{n} ({t})" for n, t in bad_fields[1:])
        problems.append(RowProblem(r, reason, bad_fields[0][1], field=bad_fields[0][0]))
    keep = pc.invert(bad_any)
    return RawBatch(batch.filter(keep), pc.filter(rows, keep), tuple(problems))


def read_batches(
    source: IO[bytes], entity: EntityInfo, path: str, *, extra_columns: Collection[str] = ()
) -> Iterator[RawBatch]:
    """The rows of a Parquet file of ``entity`` as batches in the entity's types.

    ``extra_columns``: columns of the file that are not fields of the entity
    and are left unread instead of making the file an error: the derived
    ``year``/``month`` partition keys in the files of a partitioned dataset
    (:mod:`clen_core.io.partitioned`). The ``parquet`` format reads with none.
    """
    pf = _open(source, path)
    try:
        target = _target(pf, entity, path, extra_columns)
        columns = target.names if extra_columns else None
        row = 0
        # One row group at a time: a batch crossing a row-group boundary cannot hold
        # nested dictionary (enum list) columns ("nested data conversions ... chunked").
        batches = (
            b
            for group in range(pf.num_row_groups)
            for b in pf.iter_batches(
                batch_size=READ_BATCH_ROWS, row_groups=[group], columns=columns
            )
        )
        while True:
            try:
                batch = next(batches, None)
            except (pa.ArrowException, OSError) as exc:
                raise FormatError(
                    path, f"damaged data after row {row} ({exc})", row=row + 1
                ) from None
            if batch is None:
                break
            batch = _cast(batch, target, path, row + 1)
            rows = int_range(row + 1, row + 1 + batch.num_rows)
            row += batch.num_rows
            yield _without_impossible_dates(batch, rows)
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
