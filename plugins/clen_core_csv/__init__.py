"""clen_core's built-in CSV format (a plugin: registered through the clen_core entry points).

One file holds the records of one entity. The dialect, written and read:

- **Encoding and layout**: UTF-8 (no byte-order mark written), comma separator,
  ``"`` quoting (a ``"`` inside a quoted cell is doubled), ``\\n`` line ends.
  The first row is the header: the entity's field names, in declaration
  order, unquoted. Every record is one row, even when a quoted cell holds
  line breaks.
- **Quoting**: text cells (text, enum, list and mapping fields) are always
  quoted; numbers, dates and booleans never are (nor decimals, unless the
  field has more than 6 decimals: those are written as quoted text).
- **Missing and empty**: a missing value (``None``) is an empty, unquoted
  cell; the empty string is an empty quoted cell, ``""``.
- **Values**: text as is; whole numbers in decimal digits (``-12``); floats
  in the shortest form that reads back as the same float (``0.1``, ``100``,
  ``-0``, ``1e-300``, ``1.7976931348623157e+308``); decimals as plain text
  with the field's number of decimals (``950000000.00``); dates
  ``YYYY-MM-DD``; booleans ``true`` / ``false``; enums their value
  (``workshop``); lists and mappings as one compact JSON document in the
  cell, dates and decimals in it as JSON strings (``["AT","DE"]``,
  ``{"en":["ethanol"]}``).
- **Spreadsheet safety** (always on): a text or enum cell that starts with
  ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written with a
  ``'`` in front, so that a spreadsheet shows it as text instead of running
  it as a formula (``=1+2`` is written ``'=1+2``). So is a cell that starts
  with ``'`` followed by one of those characters or by another ``'``
  (``'=x`` is written ``''=x``), which makes reading unambiguous: the
  reader removes one leading ``'`` exactly when the cell starts with ``'``
  followed by one of ``= + - @ ' tab CR``. Every string reads back exactly
  as it was before writing. List and mapping cells start with ``[`` or ``{`` and are
  never changed.

Reading also accepts CRLF line ends, a UTF-8 byte-order mark, columns in
any order, and optional fields left out (their columns absent). Numbers,
dates and booleans are parsed by the entity's decoder (booleans also as
``True``/``TRUE``/``1`` and ``False``/``FALSE``/``0``). The header must
name each column once, name only fields of the entity, and include every
required field; otherwise the file is refused (:class:`FormatError`), as is
an empty file. Text that is not UTF-8, a row longer than the read block
(2 MiB, or ``max_field_bytes`` when that is more) or a quoted cell never
closed stops the reading with a
:class:`FormatError` naming the file (and the row and column when known).
A row with more or fewer cells than the header is rejected on its own; the
other rows are read.

**Row numbers** (in rejects and findings): the header is row 1, the first
record row 2, and each record counts one whatever the line breaks inside
its quoted cells. Blank lines are skipped and not counted.

Reading and writing stream: memory holds one Arrow batch (writing) or a
few blocks of 2 MiB (reading: pyarrow parses the next block in a thread of
its own while the one before is handed on), whatever the size of the file.

**Dialects** (reading only: clen_core writes its own dialect, above). The
reader also takes CSV as spreadsheets write it, in three read options, each
detected from the file's first 64 KiB when not given:

- ``delimiter``: ``,`` ``;`` tab or ``|`` (``comma``, ``semicolon``, ``tab``,
  ``pipe`` too, or any other single character when given): the one that splits
  the header into the entity's field names. When several do (a header of one
  column), the rows decide; when they read the file differently, it is an
  error.
- ``decimal``: ``.`` or ``,``: what the numbers of the float and decimal
  columns say (``1,5`` a decimal comma, ``1.5`` a decimal point). In a
  decimal-comma file, ``.`` groups thousands only in its place (``1.234.567,5``,
  ``1.234``); a number with a ``.`` or ``,`` anywhere else (``1.5``, ``1,2,3``)
  is a rejected row, never read as another number. A file whose numbers could
  be either (only ``1.234``, or only ``1,234``) or that has both kinds is an
  error; a comma-separated file is decimal point unless told.
- ``encoding``: any Python codec (``utf-8``, ``windows-1252``, ``latin-1``,
  ``cp1250``, ``utf-16``, ...). Detected: UTF-8 with a byte-order mark
  (``utf-8-sig``), UTF-16 with one (``utf-16``) or an ASCII header in UTF-16
  without (``utf-16-le``/``-be``), text that is UTF-8 (``utf-8``), else
  ``windows-1252`` (which reads Latin-1 text alike). Bytes Windows-1252 does not
  use (0x81, 0x8D, 0x8F, 0x90, 0x9D: another code page, such as Central
  Europe's cp1250) are an error. Other 8-bit code pages cannot be told apart
  by their bytes: give them. A file UTF-8 in its first 64 KiB and not after is
  an error that says to give the encoding.

Anything the file does not say is a :class:`FormatError` naming the choices
(``give the decimal separator ('.' or ',')``), never a guess.
``clen_core.io.formats.read_format(path, entity=..., decimal=",")`` gives the
format with every option settled (those given as ``None`` or not at all
detected): its ``options`` say what was detected, and it is passed as
``format=`` (``from_format=``) to ``read``, ``validate_file`` and ``convert``.
``get_format("csv").with_options(delimiter=";")`` fixes options without
looking at the file. A semicolon-separated, decimal-comma
Windows-1252 file as Excel saves it in most European locales reads as is,
and converts to clen_core's own CSV. Detection reads the header line and,
for a file not separated by commas, the numbers of its first 64 KiB: it
costs nothing per row, and reading clen_core's own CSV is unchanged.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import IO, Any, ClassVar, NamedTuple

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from clen_core.plugin_api import (
    EntityInfo,
    FieldInfo,
    Format,
    FormatError,
    RawBatch,
    RawRecord,
    RowProblem,
    ScalarShape,
    Shape,
    ahead,
    arrow_schema,
    hookimpl,
    int_range,
    json_ready,
    limits,
    records_from_batches,
)

__all__ = [
    "BLOCK_SIZE",
    "DELIMITERS",
    "MAX_PENDING_PROBLEMS",
    "READ_OPTIONS",
    "SNIFF_BYTES",
    "Dialect",
    "clen_detect_format",
    "clen_register_formats",
    "detect_csv",
    "read_csv",
    "read_csv_batches",
    "sniff_csv",
    "write_csv",
]

BLOCK_SIZE = 2 << 20
"""Bytes the reader parses at a time: bounds its memory (a row must fit in one block).

Larger blocks cost less per row, but past a few MiB the peak memory of a conversion
grows with the file (measured: 4 MiB blocks, 368 MB for 1 M rows, 416 MB for 3 M)."""
MAX_PENDING_PROBLEMS = 100_000
"""Malformed rows (wrong number of cells) in a row after which reading stops with an error:
pyarrow hands them over only with the next good row, so they wait in memory until then."""

_DANGER = "=+\\-@\\t\\r"
_NEUTRALISE = f"^([{_DANGER}]|'[{_DANGER}'])"
"""Cells that get a ``'`` in front when written."""
_RESTORE = f"^'([{_DANGER}'])"
"""Cells that lose their leading ``'`` when read."""


# --------------------------------------------------------------------------- fields


def _is_text(f: FieldInfo) -> bool:
    """Whether the field is written as a (neutralised) text cell: text or enum."""
    return isinstance(f.shape, ScalarShape) and (f.shape.enum is not None or f.shape.py is str)


def _plain_decimal(f: FieldInfo) -> bool:
    """Whether Arrow writes this decimal field as plain text (it uses exponents otherwise)."""
    return 0 <= f.spec.scale <= 6


def _cell_type(f: FieldInfo, arrow_type: Any) -> Any:
    """The Arrow type of the field's column as handed to the CSV writer."""
    shape = f.shape
    if not isinstance(shape, ScalarShape) or _is_text(f):
        return pa.string()
    if shape.py is Decimal and not _plain_decimal(f):
        return pa.string()
    return arrow_type


# --------------------------------------------------------------------------- writing


def _neutralise(texts: Any) -> Any:
    """Put a ``'`` in front of every cell a spreadsheet would take for a formula (vectorised)."""
    return pc.replace_substring_regex(
        texts, pattern=_NEUTRALISE, replacement="'\\1", max_replacements=1
    )


def _restore(texts: Any) -> Any:
    """Undo :func:`_neutralise` (vectorised)."""
    if not pc.any(pc.starts_with(texts, "'")).as_py():
        return texts  # the usual case: nothing was neutralised
    return pc.replace_substring_regex(
        texts, pattern=_RESTORE, replacement="\\1", max_replacements=1
    )


def _json_cells(shape: Shape, column: Any) -> Any:
    """A nested column as text cells, each one compact JSON document (``None`` stays null)."""
    cells = [
        None
        if v is None
        else json.dumps(
            json_ready(shape, v), ensure_ascii=False, separators=(",", ":"), allow_nan=False
        )
        for v in column.to_pylist()
    ]
    return pa.array(cells, type=pa.string())


def _decimal_cells(column: Any) -> Any:
    return pa.array(
        [None if v is None else format(v, "f") for v in column.to_pylist()], type=pa.string()
    )


def _encode(batch: Any, info: EntityInfo, schema: Any) -> Any:
    """A batch in the entity's Arrow schema as the batch the CSV writer gets."""
    names = batch.schema.names
    columns = []
    for f in info.fields:
        if f.name not in names:
            raise ValueError(f"batch of {info.name} has no column {f.name!r}")
        column = batch.column(f.name)
        if _is_text(f):
            column = _neutralise(pc.cast(column, pa.string()))
        elif not isinstance(f.shape, ScalarShape):
            column = _json_cells(f.shape, column)
        elif f.shape.py is Decimal and not _plain_decimal(f):
            column = _decimal_cells(column)
        elif not column.type.equals(schema.field(f.name).type):
            column = column.cast(schema.field(f.name).type)
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def write_csv(
    sink: IO[bytes], info: EntityInfo, batches: Iterable[Any], path: str = "<stream>"
) -> None:
    """Write batches of ``info``'s Arrow schema as clen_core CSV, one batch at a time.

    The header is written even when there is no batch. ``path`` (the file written) is the
    format contract's: every value has a CSV form, so no error of the data names it.
    """
    entity_schema = arrow_schema(info)
    schema = pa.schema(
        [
            pa.field(f.name, _cell_type(f, entity_schema.field(f.name).type), nullable=True)
            for f in info.fields
        ]
    )
    sink.write((",".join(info.field_names) + "\n").encode())
    writer = pacsv.CSVWriter(
        sink,
        schema,
        write_options=pacsv.WriteOptions(include_header=False, quoting_style="needed"),
    )
    try:
        for batch in batches:
            if batch.num_rows:
                writer.write_batch(_encode(batch, info, schema))
    finally:
        writer.close()


# --------------------------------------------------------------------------- dialects

READ_OPTIONS = ("delimiter", "decimal", "encoding")
"""The reader's keyword options: each detected from the file when not given."""
DELIMITERS = (",", ";", "\t", "|")
"""The delimiters detected, in order of preference."""
_DELIMITER_WORDS = {"comma": ",", "semicolon": ";", "tab": "\t", "\\t": "\t", "pipe": "|"}
SNIFF_BYTES = 64 << 10
"""Bytes of a file's start read to detect its dialect."""
_NOT_CP1252 = frozenset(b"\x81\x8d\x8f\x90\x9d")
"""Bytes Windows-1252 leaves undefined: text holding them is in another code page."""


class Dialect(NamedTuple):
    """How a CSV file is written: what :func:`sniff_csv` settles and the reader uses."""

    delimiter: str
    """The character between cells: ``,`` (clen_core's own), ``;``, tab or ``|``."""
    decimal: str
    """The decimal separator of numbers: ``.`` (clen_core's own) or ``,``."""
    encoding: str
    """A Python codec name: ``utf-8`` (clen_core's own), ``utf-8-sig`` (with a byte-order
    mark), ``windows-1252``, ``utf-16``, ... (detected ones are named so)."""


DEFAULT_DIALECT = Dialect(",", ".", "utf-8")


def _given_delimiter(value: str, path: str) -> str:
    word = _DELIMITER_WORDS.get(value.lower(), value) if len(value) > 1 else value
    if len(word) != 1 or word in "\"\r\n '" or word.isalnum():
        raise FormatError(
            path,
            f"delimiter {value!r} cannot separate CSV cells: give one character, "
            "such as ',', ';', '|' or tab",
        )
    return word


def _given_decimal(value: str, path: str) -> str:
    if value not in (".", ","):
        raise FormatError(path, f"decimal separator {value!r}: give '.' or ','")
    return value


def _given_encoding(value: str, path: str) -> str:
    try:
        codecs.lookup(value)
    except LookupError:
        raise FormatError(
            path,
            f"unknown encoding {value!r} (e.g. 'utf-8', 'windows-1252', 'latin-1', 'utf-16')",
        ) from None
    return value


def _utf8(encoding: str) -> bool:
    return codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")


def _show(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _read_head(source: IO[bytes]) -> bytes | None:
    """The first bytes of ``source``, which is left where it was (``None``: cannot look)."""
    try:
        if not source.seekable():
            return None
        start = source.tell()
        head = source.read(SNIFF_BYTES)
        source.seek(start)
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return None
    return head


def _detect_encoding(head: bytes, complete: bool, path: str) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    start = head[:256]
    if len(start) >= 8 and 0 in start:  # an ASCII header in UTF-16: every other byte zero
        even, odd = start[0::2], start[1::2]
        if even.count(0) == 0 and odd.count(0) >= len(odd) * 3 // 4:
            return "utf-16-le"
        if odd.count(0) == 0 and even.count(0) >= len(even) * 3 // 4:
            return "utf-16-be"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=complete)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    odd_bytes = sorted(_NOT_CP1252.intersection(head))
    if odd_bytes:
        listed = ", ".join(f"0x{b:02X}" for b in odd_bytes)
        raise FormatError(
            path,
            f"cannot tell the encoding: not UTF-8, nor Windows-1252 (it has byte(s) {listed}, "
            "which Windows-1252 leaves undefined); give the encoding, e.g. 'cp1250' or 'latin-1'",
        )
    return "windows-1252"


def _head_text(head: bytes, encoding: str, complete: bool) -> str:
    """The start of the file as text, to detect from (the reader reports bytes not text)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    return decoder.decode(head, final=complete).removeprefix("\ufeff")


def _sample(text: str, delimiter: str, complete: bool) -> list[list[str]]:
    """The records of the decoded start of a file (the last dropped when it may be cut)."""
    rows: list[list[str]] = []
    try:
        for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            if record:
                rows.append(record)
    except csv.Error:
        return rows
    if not complete and rows:
        rows.pop()
    return rows


def _detect_delimiter(text: str, complete: bool, info: EntityInfo, path: str) -> str:
    """The delimiter whose header cells are the entity's field names (the data rows decide
    between those that read the header alike, as a one-column header is)."""
    end = min((i for i in (text.find("\n"), text.find("\r")) if i >= 0), default=len(text))
    line = text[:end]
    names = set(info.field_names)
    known = {}
    for d in DELIMITERS:
        cells = next(csv.reader([line], delimiter=d), [])
        known[d] = (sum(c in names for c in cells), len(cells))
    best = max(k for k, _ in known.values())
    if best == 0:
        return ","  # no field name however split: the header check says what is wrong
    fits = [d for d in DELIMITERS if known[d][0] == best]
    if len(fits) == 1:
        return fits[0]
    parses = {d: _sample(text, d, complete) for d in fits}
    consistent = [d for d in fits if all(len(r) == known[d][1] for r in parses[d][1:])]
    if not consistent:
        return fits[0]  # every choice leaves rows of the wrong length: they are rejected
    if len({repr(parses[d]) for d in consistent}) == 1:
        return consistent[0]  # they read the file alike: the choice changes nothing
    shown = " or ".join(_show(d) for d in consistent)
    raise FormatError(
        path,
        f"cannot tell the delimiter: the file reads as {shown}-separated alike "
        f"in its header but not in its rows; give the delimiter ({shown})",
        row=1,
    )


_COMMA_DECIMAL = re.compile(r"[+-]?([0-9]+,[0-9]*|,[0-9]+)([eE][+-]?[0-9]+)?")
_COMMA_GROUPED = re.compile(r"[+-]?[0-9]{1,3}(\.[0-9]{3})+,[0-9]*")
_POINT_DECIMAL = re.compile(r"[+-]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_POINT_GROUPS = re.compile(r"[+-]?[0-9]{1,3}(\.[0-9]{3})+")
_COMMA_GROUPS = re.compile(r"[+-]?[0-9]{1,3}(,[0-9]{3})+")


def _numeric(f: FieldInfo) -> bool:
    """Whether the field's cells are numbers the decimal separator matters to."""
    return (
        isinstance(f.shape, ScalarShape)
        and f.shape.enum is None
        and (f.shape.py in (int, float, Decimal))
    )


def _detect_decimal(rows: list[list[str]], info: EntityInfo, path: str) -> str:
    """``,`` or ``.``: what the numbers in the first rows say; an error when they do not."""
    if not rows:
        return "."
    fractional = {
        f.name
        for f in info.fields
        if isinstance(f.shape, ScalarShape) and _numeric(f) and f.shape.py is not int
    }
    columns = [(i, name) for i, name in enumerate(rows[0]) if name in fractional]
    comma = point = either = None
    for number, record in enumerate(rows[1:], 2):
        for i, name in columns:
            cell = record[i].strip() if i < len(record) else ""
            if "," not in cell and "." not in cell:
                continue
            seen = (cell, number, name)
            if _COMMA_GROUPS.fullmatch(cell) or _POINT_GROUPS.fullmatch(cell):
                either = either or seen
            elif _COMMA_DECIMAL.fullmatch(cell) or _COMMA_GROUPED.fullmatch(cell):
                comma = comma or seen
            elif _POINT_DECIMAL.fullmatch(cell):
                point = point or seen
        if comma and point:
            raise FormatError(
                path,
                f"numbers with a decimal comma ({comma[0]!r}, row {comma[1]}, field {comma[2]}) "
                f"and a decimal point ({point[0]!r}, row {point[1]}, field {point[2]}); "
                "give the decimal separator ('.' or ',')",
                row=point[1],
                field=point[2],
            )
    if comma:
        return ","
    if point:
        return "."
    if either:
        cell, number, name = either
        raise FormatError(
            path,
            f"cannot tell the decimal separator: {cell!r} (row {number}, field {name}) is a "
            "number with a decimal separator or with thousands separators, and no other number "
            "says which; give the decimal separator ('.' or ',')",
            row=number,
            field=name,
        )
    return "."


def _settle(
    source: IO[bytes],
    info: EntityInfo,
    path: str,
    delimiter: str | None,
    decimal: str | None,
    encoding: str | None,
) -> Dialect:
    """The dialect of the file: what is given, and the rest detected from its first bytes."""
    given = Dialect(
        "" if delimiter is None else _given_delimiter(delimiter, path),
        "" if decimal is None else _given_decimal(decimal, path),
        "" if encoding is None else _given_encoding(encoding, path),
    )
    if all(given):
        return given
    head = _read_head(source)
    if head is None:  # a stream that cannot be read twice: clen_core's own dialect
        return Dialect(*(g or d for g, d in zip(given, DEFAULT_DIALECT, strict=True)))
    complete = len(head) < SNIFF_BYTES
    encoding = given.encoding or _detect_encoding(head, complete, path)
    if given.delimiter and given.decimal:
        return Dialect(given.delimiter, given.decimal, encoding)
    text = _head_text(head, encoding, complete)
    delimiter = given.delimiter or _detect_delimiter(text, complete, info, path)
    if given.decimal:
        decimal = given.decimal
    elif delimiter == ",":
        decimal = "."  # an unquoted number cannot hold a decimal comma
    else:
        decimal = _detect_decimal(_sample(text, delimiter, complete), info, path)
    return Dialect(delimiter, decimal, encoding)


def sniff_csv(
    source: IO[bytes],
    info: EntityInfo,
    path: str,
    *,
    delimiter: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
) -> dict[str, str]:
    """The dialect of a CSV file of ``info``: the options given, the others detected.

    Detection reads the first :data:`SNIFF_BYTES` bytes (``source`` is left where it
    was). Raises :class:`FormatError` when they do not say, naming the choices.
    """
    return _settle(source, info, path, delimiter, decimal, encoding)._asdict()


_COMMA_NUMBER = r"^[+-]?([0-9]+(,[0-9]*)?|,[0-9]+)([eE][+-]?[0-9]+)?$"
_GROUPED_NUMBER = r"^[+-]?[0-9]{1,3}(\.[0-9]{3})+(,[0-9]*)?$"


def _comma_numbers(
    batch: Any, rows: Any, problems: tuple[RowProblem, ...], numeric: set[str]
) -> tuple[Any, Any, tuple[RowProblem, ...]]:
    """Numbers with a decimal comma (and thousands points) as the decoder reads them.

    A number cell with a ``.`` or ``,`` in any other place is a problem of its row,
    which leaves the batch: nothing is read as another number than it says.
    """
    columns = []
    bad_rows: Any = None
    first_bad: list[tuple[str, Any, Any]] = []
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        if name not in numeric:
            columns.append(column)
            continue
        separated = pc.fill_null(
            pc.or_(pc.match_substring(column, ","), pc.match_substring(column, ".")), False
        )
        if not pc.any(separated).as_py():
            columns.append(column)  # whole numbers only: nothing to do
            continue
        grouped = pc.fill_null(pc.match_substring_regex(column, _GROUPED_NUMBER), False)
        plain = pc.fill_null(pc.match_substring_regex(column, _COMMA_NUMBER), False)
        bad = pc.and_(separated, pc.invert(pc.or_(grouped, plain)))
        text = pc.if_else(grouped, pc.replace_substring(column, ".", ""), column)
        columns.append(pc.replace_substring(text, ",", "."))
        if pc.any(bad).as_py():
            first_bad.append((name, bad, column))
            bad_rows = bad if bad_rows is None else pc.or_(bad_rows, bad)
    batch = pa.RecordBatch.from_arrays(columns, names=batch.schema.names)
    if bad_rows is None:
        return batch, rows, problems
    found = []
    numbers = rows.to_pylist()
    for i in pc.indices_nonzero(bad_rows).to_pylist():
        name, _, original = next(b for b in first_bad if b[1][i].as_py())
        found.append(
            RowProblem(
                numbers[i],
                "not a number with a decimal comma (the file's decimal separator is ','; "
                "'.' only groups thousands, as in 1.234,5)",
                original[i].as_py(),
                name,
            )
        )
    keep = pc.invert(bad_rows)
    return batch.filter(keep), rows.filter(keep), (*problems, *found)


# --------------------------------------------------------------------------- reading

_ROW = re.compile(r"Row #(\d+)")
_COLUMN = re.compile(r"In CSV column #(\d+)")


def _options(
    info: EntityInfo, handler: Any, dialect: Dialect = DEFAULT_DIALECT
) -> tuple[Any, Any, Any]:
    read_options = pacsv.ReadOptions(
        use_threads=False,
        block_size=_block_size(),
        # UTF-8 (with or without its byte-order mark) natively; others through Python's codec.
        encoding="utf8" if _utf8(dialect.encoding) else dialect.encoding,
    )
    parse_options = pacsv.ParseOptions(
        delimiter=dialect.delimiter,
        quote_char='"',
        double_quote=True,
        escape_char=False,
        newlines_in_values=True,
        ignore_empty_lines=True,
        invalid_row_handler=handler,
    )
    convert_options = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in info.field_names},
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
    )
    return read_options, parse_options, convert_options


def _block_size() -> int:
    """Bytes read at a time: a row must fit (``limits.max_field_bytes`` may raise it)."""
    return max(BLOCK_SIZE, limits.current().max_field_bytes)


class _Undecodable:
    """Notes the rows pyarrow could not hand to the invalid-row handler (not UTF-8).

    pyarrow decodes a malformed row's text before calling the handler; when that fails
    it prints "Exception ignored ..." with a traceback and treats the row as an error.
    While active (around pyarrow's calls only), that report is swallowed and noted here.
    One process-wide hook is installed while any reader is active and put back after
    the last (readers in several threads at once must not leave a stale hook behind).
    pyarrow may report from a thread of its own, so the note goes to every reader
    active then; it only words the error of a reader that pyarrow fails anyway.
    """

    _lock = threading.Lock()
    _readers: ClassVar[list[_Undecodable]] = []
    _previous: Any = None

    def __init__(self) -> None:
        self.seen = False

    @classmethod
    def _hook(cls, unraisable: Any) -> None:
        with cls._lock:
            readers = list(cls._readers)
            previous = cls._previous
        if readers and isinstance(unraisable.exc_value, UnicodeDecodeError):
            for reader in readers:
                reader.seen = True
        elif previous is not None:  # pragma: no cover - not ours
            previous(unraisable)

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        cls = type(self)
        with cls._lock:
            if not cls._readers:
                cls._previous, sys.unraisablehook = sys.unraisablehook, cls._hook
            cls._readers.append(self)
        try:
            yield
        finally:
            with cls._lock:
                cls._readers.remove(self)
                # Put the previous hook back unless someone replaced ours meanwhile.
                if not cls._readers and sys.unraisablehook == cls._hook:
                    sys.unraisablehook = cls._previous


_SHOWN = 200
"""Characters of pyarrow's message kept (it may quote a whole, huge row)."""
_QUOTE, _LF, _CR, _COMMA = 34, 10, 13, 44


@contextlib.contextmanager
def _own_handle(source: IO[bytes]) -> Iterator[IO[bytes]]:
    """A handle of its own on ``source``'s bytes: pyarrow's read-ahead may still be
    reading ``source`` itself in a thread of its own after it has failed."""
    name = getattr(source, "name", None)
    if isinstance(name, str) and os.path.isfile(name):
        with open(name, "rb") as handle:
            yield handle
        return
    getbuffer = getattr(source, "getbuffer", None)
    yield io.BytesIO(getbuffer()) if callable(getbuffer) else source


def _overflow(
    source: IO[bytes], names: list[str] | None, dialect: Dialect = DEFAULT_DIALECT
) -> tuple[str, int, str | None] | None:
    """The first row longer than the read block, or the quoted cell never closed, found by
    scanning the file again (only after pyarrow has failed): names row and field."""
    if codecs.lookup(dialect.encoding).name.startswith("utf-16"):
        return None  # the scan reads bytes as ASCII-compatible text
    try:
        with _own_handle(source) as handle:
            return _scan(handle, names, ord(dialect.delimiter))
    except (OSError, TypeError):
        return None


def _scan(
    source: IO[bytes], names: list[str] | None, delimiter: int = _COMMA
) -> tuple[str, int, str | None] | None:
    limit = _block_size()
    try:
        source.seek(0)
        head = source.read(3)
        source.seek(3 if head == codecs.BOM_UTF8 else 0)
    except (OSError, ValueError):
        return None
    row = 0  # records ended so far (the header is row 1); blank lines do not count
    size = column = 0  # bytes and cells of the current record so far
    quoted = False
    opened = (0, 0)

    def where(r: int, c: int) -> tuple[int, str | None]:
        return r, (names[c] if names is not None and c < len(names) else None)

    while chunk := source.readline(limit + 1):
        simple = (
            not quoted
            and size == 0
            and chunk.endswith(b"\n")
            and len(chunk) <= limit
            and chunk.count(b'"') % 2 == 0
            and b"\r" not in chunk[:-2]
        )
        if simple:  # a whole record on one line (or a blank line): the usual case
            row += bool(chunk.strip(b"\r\n"))
            continue
        for b in chunk:
            if quoted:
                quoted = b != _QUOTE
            elif b == _QUOTE:
                quoted, opened = True, (row + 1, column)
            elif b in (_LF, _CR):
                row += size > 0
                size = column = 0
                continue
            elif b == delimiter:
                column += 1
            size += 1
            if size > limit:
                message = (
                    f"a row longer than {limit:,} bytes, the most a row may take "
                    "(CLEN_MAX_FIELD_BYTES raises it), or a quoted cell is never closed"
                )
                return (message, *where(row + 1, column))
    if quoted:
        return ("a quoted cell is never closed", *where(*opened))
    return None


def _arrow_error(
    path: str,
    exc: BaseException,
    names: list[str] | None = None,
    *,
    source: IO[bytes] | None = None,
    undecodable: bool = False,
    dialect: Dialect = DEFAULT_DIALECT,
) -> FormatError:
    """A pyarrow failure as a FormatError naming the file (and row and column when known)."""
    text = str(exc)
    row_match = _ROW.search(text)
    row = int(row_match.group(1)) if row_match else None
    column = _COLUMN.search(text)
    field = None
    if column and names is not None and int(column.group(1)) < len(names):
        field = names[int(column.group(1))]
    if isinstance(exc, UnicodeDecodeError) or "invalid UTF8" in text or undecodable:
        return FormatError(path, _not_text(dialect), row=row, field=field)
    if "straddling" in text:
        found = _overflow(source, names, dialect) if source is not None else None
        if found is not None:
            return FormatError(path, found[0], row=found[1], field=found[2])
        message = (
            f"a row is longer than the read block ({_block_size()} bytes), "
            "or a quoted cell is never closed"
        )
        return FormatError(path, message, row=row, field=field)
    detail = text.split(": ", 1)[1] if text.startswith("CSV parse error: ") else text
    if len(detail) > _SHOWN:
        detail = detail[:_SHOWN] + "..."
    return FormatError(path, f"cannot read as CSV: {detail}", row=row, field=field)


def _not_text(dialect: Dialect) -> str:
    if _utf8(dialect.encoding):
        return "not valid UTF-8 text (if it is in another encoding, give it: e.g. 'windows-1252')"
    return f"not valid {dialect.encoding} text"


def _header_names(source: IO[bytes], dialect: Dialect = DEFAULT_DIALECT) -> list[str] | None:
    """The header's column names read directly from the file (to name a column in an error)."""
    try:
        source.seek(0)
        head = source.read(BLOCK_SIZE)
        text = head.decode(dialect.encoding, errors="replace").removeprefix("\ufeff")
        line = text.splitlines()[0] if text else ""
        return next(csv.reader([line], delimiter=dialect.delimiter), None)
    except (OSError, ValueError, IndexError, LookupError, csv.Error):
        return None


def _native(source: IO[bytes]) -> Any:
    """A pyarrow file on the same bytes as ``source``, at its position, when it is a file.

    pyarrow reads a Python file object through Python, taking the GIL for each block,
    which the thread checking the previous batch holds most of the time: reading a
    million rows took 0.1 s longer. The descriptor's ``/dev/fd`` name opens the very
    file ``source`` has open, whatever its path has become since. Anything else (a
    pipe, an in-memory file, no such name) is read as it is.
    """
    try:
        fd, position = source.fileno(), source.tell()
        native = pa.OSFile(f"/dev/fd/{fd}")
        native.seek(position)
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation, pa.ArrowException):
        return source
    return native


def _open(
    source: IO[bytes],
    info: EntityInfo,
    path: str,
    handler: Any,
    undecodable: _Undecodable,
    dialect: Dialect = DEFAULT_DIALECT,
) -> tuple[Any, list[str]]:
    """A pyarrow streaming CSV reader on ``source`` and the names in its header."""
    options = _options(info, handler, dialect)
    try:
        with undecodable.active():
            reader = pacsv.open_csv(
                _native(source),
                read_options=options[0],
                parse_options=options[1],
                convert_options=options[2],
            )
    except (pa.ArrowException, UnicodeDecodeError) as exc:
        if "Empty CSV file" not in str(exc):
            # pyarrow converts the first block on opening: its errors come here.
            raise _arrow_error(
                path,
                exc,
                _header_names(source, dialect),
                source=source,
                undecodable=undecodable.seen,
                dialect=dialect,
            ) from None
        reader = _open_bare_header(source, path, options, dialect)
    try:
        names = list(reader.schema.names)
    except UnicodeDecodeError:
        raise FormatError(path, f"the header row is {_not_text(dialect)}", row=1) from None
    return reader, names


def _open_bare_header(
    source: IO[bytes], path: str, options: tuple[Any, Any, Any], dialect: Dialect
) -> Any:
    """pyarrow refuses a file without any line end; that may still be a bare header row."""
    try:
        source.seek(0)
        head = source.read(BLOCK_SIZE + 1)
    except (OSError, io.UnsupportedOperation):
        head = b""
    if len(head) > BLOCK_SIZE:
        raise FormatError(path, "no header row of field names found")
    try:
        text = head.decode(dialect.encoding).removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise FormatError(path, f"the header row is {_not_text(dialect)}", row=1) from None
    if not text.strip():
        raise FormatError(path, "empty file: a CSV file starts with a header row of field names")
    if "\n" in text or "\r" in text:
        raise FormatError(path, "no header row of field names found")
    try:
        return pacsv.open_csv(
            io.BytesIO(text.encode() + b"\n"),  # UTF-8 from here on
            read_options=pacsv.ReadOptions(use_threads=False, block_size=_block_size()),
            parse_options=options[1],
            convert_options=options[2],
        )
    except (pa.ArrowException, UnicodeDecodeError) as exc:
        raise _arrow_error(path, exc) from None


_LISTED = 10
"""Names listed in a header error (a file of 10,000 unknown columns makes no useful message)."""


def _listed(names: list[str]) -> str:
    shown = ", ".join(repr(n if len(n) <= 80 else n[:80] + "...") for n in names[:_LISTED])
    return shown + (f" and {len(names) - _LISTED:,} more" if len(names) > _LISTED else "")


def _check_header(
    names: list[str], info: EntityInfo, path: str, dialect: Dialect = DEFAULT_DIALECT
) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise FormatError(
                path, f"column {name!r} appears more than once in the header", row=1, field=name
            )
        seen.add(name)
    unknown = [n for n in names if n not in info.field_names]
    if unknown:
        hint = ""
        if len(names) == 1:
            other = next((d for d in DELIMITERS if d != dialect.delimiter and d in names[0]), None)
            if other is not None:
                hint = f"; is the file {other!r}-separated? give the delimiter"
        raise FormatError(
            path,
            f"unknown column(s) {_listed(unknown)}: not field(s) of {info.name} "
            f"(its fields: {', '.join(info.field_names)}){hint}",
            row=1,
            field=unknown[0],
        )
    missing = [f.name for f in info.fields if f.is_required and f.name not in seen]
    if missing:
        raise FormatError(
            path,
            f"required column(s) {', '.join(repr(n) for n in missing)} missing from the header",
            row=1,
            field=missing[0],
        )


def read_csv_batches(
    source: IO[bytes],
    info: EntityInfo,
    path: str,
    *,
    delimiter: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
) -> Iterator[RawBatch]:
    """The rows of ``info`` in a CSV file as raw text batches, with row numbers.

    Values are text or null (the ``text`` flavour), spreadsheet neutralisation
    undone, numbers with a decimal comma given with a point, for the columns
    present only. Rows with the wrong number of cells come as the batches'
    problems. ``delimiter``, ``decimal`` and ``encoding``: the dialect, each
    detected when not given (:func:`sniff_csv`).
    """
    dialect = _settle(source, info, path, delimiter, decimal, encoding)
    numeric = {f.name for f in info.fields if _numeric(f)} if dialect.decimal == "," else set()
    # Only pyarrow's parsing runs in the parsing thread (see _parsed); the rest
    # runs here, in the caller's thread, while the next block is parsed.
    pending: list[RowProblem] = []  # refused rows not yet handed over with a batch
    parsing = _Parsing()
    undecodable = _Undecodable()
    try:
        reader, names = _open(source, info, path, parsing.on_invalid_row, undecodable, dialect)
    except FormatError:
        if len(parsing.problems) < MAX_PENDING_PROBLEMS:
            raise
        names = _header_names(source, dialect) or []
        _check_header(names, info, path, dialect)
        yield _only(names, parsing.problems)
        raise _too_many(path, parsing.problems, dialect) from None
    _check_header(names, info, path, dialect)
    text_columns = {f.name for f in info.fields if _is_text(f)}
    row = 1  # the header
    parsed = ahead(_parsed(reader, parsing, undecodable), name="clen-csv")
    with contextlib.closing(parsed):
        for batch, problems, exc in parsed:
            pending.extend(problems)
            if exc is not None:
                # pyarrow reports the handler's "error" one call late, at the earliest.
                if len(pending) >= MAX_PENDING_PROBLEMS:
                    yield _only(names, pending)
                    raise _too_many(path, pending, dialect) from None
                if pending:
                    yield _only(names, pending)
                raise _arrow_error(
                    path,
                    exc,
                    names,
                    source=source,
                    undecodable=undecodable.seen,
                    dialect=dialect,
                ) from None
            if batch is None:
                continue
            # Row numbers: consecutive from the last one, skipping the rows pyarrow refused.
            taken = {p.row for p in pending if p.row > row}
            if taken:
                span = range(row + 1, row + 1 + batch.num_rows + len(taken))
                kept = [n for n in span if n not in taken][: batch.num_rows]
                numbers = pa.array(kept, pa.int64())
                last = kept[-1] if kept else row
            else:  # the usual case: no refused row, a plain range
                numbers = int_range(row + 1, row + 1 + batch.num_rows)
                last = row + batch.num_rows
            # pyarrow parses ahead: a problem past this batch's last row waits for its batch.
            mine = tuple(
                RowProblem(p.row if p.row >= 0 else row + 1, p.reason, p.text)
                for p in pending
                if p.row <= last
            )
            pending[:] = [p for p in pending if p.row > last]
            row = max([row, last, *(p.row for p in mine)])
            columns = [
                _restore(batch.column(i)) if name in text_columns else batch.column(i)
                for i, name in enumerate(names)
            ]
            out = pa.RecordBatch.from_arrays(columns, names=names)
            if numeric:
                out, numbers, mine = _comma_numbers(out, numbers, mine, numeric)
            yield RawBatch(out, numbers, mine)
    if pending:
        yield _only(names, pending)


class _Parsing:
    """The rows pyarrow refused while parsing (its invalid-row handler), taken batch by batch.

    One thread at a time touches ``problems``: the opening thread while pyarrow
    converts the first block, then the parsing thread, where pyarrow calls the
    handler from within ``read_next_batch`` and :func:`_parsed` takes them after.
    """

    def __init__(self) -> None:
        self.problems: list[RowProblem] = []
        self._reasons: dict[tuple[int, int], str] = {}

    def on_invalid_row(self, row: Any) -> str:
        """pyarrow's invalid-row handler: note the row and skip it."""
        if len(self.problems) >= MAX_PENDING_PROBLEMS:
            return "error"  # pyarrow gives no batch until a good row: memory would grow
        number = int(row.number) if row.number is not None else -1
        key = (row.expected_columns, row.actual_columns)
        reason = self._reasons.get(key)
        if reason is None:
            reason = self._reasons[key] = (
                f"expected {key[0]} cells (one per header column), found {key[1]}"
            )
        self.problems.append(RowProblem(number, reason, row.text))
        return "skip"

    def take(self) -> list[RowProblem]:
        """The rows refused since the last call."""
        taken, self.problems = self.problems, []
        return taken


def _parsed(
    reader: Any, parsing: _Parsing, undecodable: _Undecodable
) -> Iterator[tuple[Any, list[RowProblem], BaseException | None]]:
    """Each Arrow batch pyarrow parses, with the rows refused meanwhile; a failure ends it.

    Run in a thread of its own: pyarrow parses without the GIL, so the previous
    batch is numbered and restored (and checked) meanwhile on another core.
    """
    while True:
        try:
            with undecodable.active():
                batch = reader.read_next_batch()
        except StopIteration:
            break
        except (pa.ArrowException, UnicodeDecodeError) as exc:
            yield None, parsing.take(), exc
            return
        yield batch, parsing.take(), None
    yield None, parsing.take(), None


def _too_many(
    path: str, problems: list[RowProblem], dialect: Dialect = DEFAULT_DIALECT
) -> FormatError:
    return FormatError(
        path,
        f"{len(problems):,} rows in a row with the wrong number of cells; reading stops "
        f"there (is it CSV separated by {dialect.delimiter!r}, of this entity?)",
        row=max(p.row for p in problems) + 1,
    )


def _only(names: list[str], problems: list[RowProblem]) -> RawBatch:
    """A batch of no rows carrying ``problems``: rows pyarrow refused, given before an end."""
    empty = pa.RecordBatch.from_arrays([pa.array([], pa.string()) for _ in names], names=names)
    return RawBatch(empty, int_range(0, 0), tuple(problems))


def read_csv(
    source: IO[bytes],
    info: EntityInfo,
    path: str,
    *,
    delimiter: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
) -> Iterator[RawRecord | RowProblem]:
    """The records of ``info`` in a CSV file, one by one (see read_csv_batches)."""
    return records_from_batches(
        read_csv_batches(
            source, info, path, delimiter=delimiter, decimal=decimal, encoding=encoding
        )
    )


# --------------------------------------------------------------------------- detection

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def detect_csv(head: bytes) -> bool:
    """Whether ``head`` (a file's first bytes) starts with a header row of field names."""
    text = head.removeprefix(codecs.BOM_UTF8)
    if not text or text.lstrip()[:1] in (b"{", b"[") or text.startswith(b"PAR1"):
        return False
    end = min((i for i in (text.find(b"\n"), text.find(b"\r")) if i >= 0), default=-1)
    if end < 0:
        if len(head) >= 4096:  # a line too long to judge: maybe not the whole file
            return False
        end = len(text)
    try:
        line = text[:end].decode("utf-8")
    except UnicodeDecodeError:
        return False
    try:
        cells = next(csv.reader([line], strict=True), [])
    except csv.Error:
        return False
    return (
        len(cells) >= 2 and len(set(cells)) == len(cells) and all(_NAME.fullmatch(c) for c in cells)
    )


@hookimpl
def clen_detect_format(path: str, head: bytes) -> str | None:
    """``"csv"`` when the file starts with a header row of (at least two) field names."""
    return "csv" if detect_csv(head) else None


@hookimpl
def clen_register_formats(register: Callable[[Format], None]) -> None:
    """Register the ``csv`` format."""
    register(
        Format(
            name="csv",
            extensions=(".csv",),
            description=(
                "CSV: UTF-8, header of field names, lists and mappings as JSON in the cell, "
                "safe to open in a spreadsheet"
            ),
            flavour="text",
            read=read_csv,
            read_batches=read_csv_batches,
            write=write_csv,
            read_options=READ_OPTIONS,
            sniff=sniff_csv,
        )
    )
