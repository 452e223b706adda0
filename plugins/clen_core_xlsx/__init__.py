"""clen_core's Excel format (a plugin: registered through the clen_core entry points).

Shipped with clen_core and registered like the built-ins; it needs no other
library. ``pip install 'clen_core[xlsx]'`` adds python-calamine, which reads
sheets of up to ``STREAM_ABOVE`` (64 MiB of XML) about 2.5 times as fast.
``.xlsx`` files, or any file starting with a workbook's zip parts.

**A sheet per entity.** ``clen_core.write(objects, "x.xlsx")`` writes a
workbook of one sheet named after the entity;
``clen_core.write(dataset, "x.xlsx")`` one sheet per entity of the dataset, in its order, and
``clen_core.read_dataset("x.xlsx")`` reads each sheet as the entity it is named
after (sheets without cells are skipped; another sheet name is an error).
``clen_core.read("x.xlsx", entity=...)`` reads the sheet named after the entity
or, failing that, the workbook's only sheet with cells (a laboratory's
``Sheet1``). The header is the first row holding a cell (row 1 when written:
the field names, bold, frozen, in declaration order), in any column; read, in
any order, optional ones left out, as in CSV.

**Values, written and read back exactly** (a Hypothesis test holds every
entity to it, value by value):

- text and enums: text cells, as they are. Characters XML cannot hold
  (control characters, CR, U+FFFE, U+FFFF) are written as Excel escapes them,
  ``_x000D_``, and text that looks like such an escape gets its ``_`` escaped
  (``_x005F_``), as Excel does; a text holding the very characters
  ``_xFFFE_`` or ``_xFFFF_`` (in either case) is refused (the reader could not
  tell it from the character). A cell holds at most 32,767 characters, a sheet 1,048,575 rows:
  more is refused when written (``FormatError``), nothing is cut.
- **spreadsheet safety**: as in CSV, a text or enum cell that starts with
  ``= + - @``, a tab or a CR is written with a ``'`` in front (``'=1+2``), and so
  is one that starts with ``'`` followed by one of those or by another ``'``;
  the empty string is a lone ``'`` (an empty cell is a missing value). The
  reader removes one leading ``'`` exactly then. No cell is ever a formula, and
  the workbook saved as CSV by Excel stays safe and reads back in clen_core.
- floats: number cells holding the shortest text that reads back as the same
  double (up to 17 significant digits: ``0.30000000000000004``, ``1e+308``):
  Excel keeps all of them (it shows 15). The values Excel cannot hold, ``-0.0``
  and subnormal numbers (``5e-324``), which it would make 0, are text cells
  (``-0.0``, ``5e-324``).
- whole numbers: number cells (format ``0``) up to 15 digits, text beyond
  (Excel shows and edits 15 digits).
- decimals: number cells with the field's number of decimals as format
  (``0.00``) when they have at most 15 digits (a double holds them exactly;
  read back with the field's scale), text beyond (``9999999999999999.99``).
- dates: Excel dates (day numbers, format ``yyyy-mm-dd``) from 1900-03-01 on;
  earlier ones (Excel counts a 29 February 1900) as ISO text.
- booleans: Excel's ``TRUE``/``FALSE``; lists and mappings: the compact JSON
  of the CSV cell (``["AT","DE"]``).

Reading takes what Excel users type too: a number in a text column is read as
its text (``123``, ``0.5``), a date cell in any date format as the date, text in
a number or date column as text (parsed like CSV: ``1.5``, ``2024-05-31``). The
cells are given to the entity's decoder as text (the ``text`` flavour), so the
columnar engine checks them as it checks CSV.

**Rejects** name Excel's row numbers: the header is the row it is on (row 1),
and every row after counts, empty rows included (they are skipped). A row with
a value right of the header's last column is rejected; a header that is empty,
names a column twice, names a non-field or misses a required field is a
``FormatError`` naming the sheet.

**Saved again by a spreadsheet program**: a workbook written here, opened and
saved by LibreOffice Calc 7.4 (a test does it when Calc is installed, as in CI),
reads back with every text, date, decimal, whole number and boolean as it was
(neutralised cells included: none becomes a formula), floats with the 15
significant digits Calc keeps, and CR LF in a text as LF (Calc's doing).

**Writing streams**: a batch at a time, each sheet compressed as it is written
(memory: one batch). **Reading streams a large sheet**: one whose XML is larger
than ``STREAM_ABOVE`` (64 MiB uncompressed, about 120,000 rows of 16 columns),
or any sheet without python-calamine, is parsed as it is decompressed (expat,
from the standard library), a megabyte at a time, and its rows handed on in
batches of 16,384: memory holds one batch and the workbook's shared strings,
whatever the number of rows. A smaller sheet is read by python-calamine, whole
(about 90 bytes a cell), which is faster. The two readers give the same cells
(a Hypothesis test holds them to it on workbooks of openpyxl and XlsxWriter),
and where python-calamine fails on a cell (a huge number in a time format) the
sheet reads on streamed from that row.

**Libraries, chosen by measurement** (100,000 rows of ``pt_score``, 21
columns, on the 2-core development machine, busy; ``z`` a random float):

- writing: openpyxl 3.1 (write_only) 15.2 s, XlsxWriter 3.3 (constant_memory)
  10.4 s, each changing 42,819 of the 100,000 values of ``z``: both write 16
  significant digits (``0.1 + 0.2`` comes back ``0.3``), and openpyxl writes
  ``""`` as an empty cell and stores CR as LF. The plugin writes the
  SpreadsheetML itself (a zip of six small XML parts, inline strings, so it
  streams): 1.5 s, no value changed.
- reading: openpyxl (read_only) 14.2 s; python-calamine 0.9 1.25 s for its
  rows, 2.8 s with the plugin's text batches. python-calamine: it also reads
  what Excel and others write (shared strings, styles, date formats) and
  decodes Excel's ``_xHHHH_`` escapes, which openpyxl leaves as they are. It
  holds the sheet whole, so large sheets are streamed by the plugin's own
  reader: 100,000 rows of ``analysis_result`` (16 columns, 55 MB of XML) parse
  in 3.8 s against python-calamine's 1.5 s, in 20 MB against 126 MB; reading
  all 1,000,000 rows of it (565 MB of XML) into objects peaked at 232 MB of
  memory streamed, 1.23 GB with python-calamine.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import math
import os
import re
import sys
import zipfile
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from functools import partial
from typing import IO, Any

import pyarrow as pa
import pyarrow.compute as pc

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
    get_entity,
    hookimpl,
    json_ready,
    records_from_batches,
)

from ._sheetml import Workbook, column_letters, has_cells, sheet_rows

__all__ = [
    "INSTALL",
    "MAX_CELL_CHARS",
    "MAX_ROWS",
    "STREAM_ABOVE",
    "XLSX",
    "available",
    "clen_detect_format",
    "clen_register_formats",
    "read_xlsx",
    "read_xlsx_batches",
    "read_xlsx_dataset",
    "write_xlsx",
    "write_xlsx_dataset",
]

INSTALL = "pip install 'clen_core[xlsx]'"
"""What brings python-calamine, the fast reader of sheets up to ``STREAM_ABOVE`` bytes."""
MAX_ROWS = 1_048_576
"""Rows an Excel sheet holds, the header included."""
MAX_CELL_CHARS = 32_767
"""Characters an Excel cell holds."""
BATCH_ROWS = 16_384
"""Rows per raw batch read."""
STREAM_ABOVE = 64 * 2**20
"""A sheet whose XML (uncompressed, as the workbook declares it) is larger than this many
bytes is streamed rather than read whole by python-calamine (about 120,000 rows of 16
columns): memory stays at one chunk of rows, the read takes about 2.5 times as long."""
_LISTED = 10


def available() -> bool:
    """Whether python-calamine, the fast reader of sheets up to ``STREAM_ABOVE``, is
    installed (without it every sheet is streamed: slower, same rows)."""
    if "python_calamine" in sys.modules:  # imported already, or blocked (None)
        return sys.modules["python_calamine"] is not None
    return importlib.util.find_spec("python_calamine") is not None


# --------------------------------------------------------------------------- cells

_DANGER = frozenset("=+-@\t\r")
_DANGER_OR_QUOTE = _DANGER | {"'"}
_ESCAPE = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9A-Fa-f]{4}_")
"""What a text needs escaped in a cell: XML's three, and what XML cannot hold (Excel's
``_xHHHH_``: control characters but tab and line feed, CR, U+FFFE, U+FFFF), and text that
looks like such an escape (its ``_`` written ``_x005F_``, as Excel does)."""
_LITERAL = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")
_UNSAYABLE = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]")
_NONCHARACTER_TEXT = re.compile(r"_x[Ff]{3}[EeFf]_")
"""Excel's escapes of U+FFFE and U+FFFF, in either case (LibreOffice writes ``_xfffe_``):
python-calamine, and so the streaming reader, decode only those below U+0100, which with
these two are all the escapes a spreadsheet program writes."""
_FIRST_DAY = dt.date(1900, 3, 1)
"""Excel's day numbers are right from here on (it counts a 29 February 1900)."""
_EPOCH = dt.date(1899, 12, 30)
_EXACT_INT = 10**15
"""Whole numbers below this (15 digits) Excel shows and edits exactly; others are text."""
_EXACT_DIGITS = 15
"""Decimals of at most this many digits a double holds exactly (others are text)."""
_SMALLEST_NORMAL = 2.2250738585072014e-308
"""Excel stores subnormal numbers as 0: they are written as text."""


def _neutral(text: str) -> str:
    """A text cell's content: ``'`` in front of what a spreadsheet would run, and of ``""``."""
    if not text or text[0] in _DANGER:
        return "'" + text
    if text[0] == "'" and (len(text) == 1 or text[1] in _DANGER_OR_QUOTE):
        return "'" + text
    return text


def _restore(text: str) -> str:
    """Undo :func:`_neutral` (a lone ``'`` is the empty string)."""
    if text[:1] == "'" and (len(text) == 1 or text[1] in _DANGER_OR_QUOTE):
        return text[1:]
    return text


def _unsayable(match: re.Match[str]) -> str:
    return f"_x{ord(match.group()):04X}_"


def _xml(text: str) -> str:
    if _ESCAPE.search(text) is None:
        return text  # the usual case
    if _NONCHARACTER_TEXT.search(text):
        raise ValueError(
            "it holds the text _xFFFE_ or _xFFFF_, which an .xlsx reader takes for the "
            "character it escapes"
        )
    text = _LITERAL.sub("_x005F_", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _UNSAYABLE.sub(_unsayable, text)


_STRING = '<c r="{ref}" t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _string_cell(ref: str, text: str) -> str:
    if len(text) > MAX_CELL_CHARS:
        raise ValueError(
            f"{len(text):,} characters, more than the {MAX_CELL_CHARS:,} an Excel cell holds"
        )
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return _STRING.format(ref=ref, space=space, text=_xml(text))


Cell = Callable[[str, Any], str]
"""A cell's XML from its reference (``B7``) and the Arrow Python value (not ``None``)."""
Column = Callable[[str, range, Any], list[str]]
"""The cells of one column of a batch (``""`` where missing): from its letter, rows, values
(a Python list; floats: the Arrow array)."""

_HEADER_STYLE, _DATE_STYLE, _WHOLE_STYLE, _FIRST_DECIMAL_STYLE = 1, 2, 3, 4
_SLOW_TEXT = re.compile(r"^[=+\-@'\s]|[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9A-Fa-f]{4}_|\s$")
"""Text that is not written as it is: neutralised, escaped, or with spaces to keep."""


def _text_cell(ref: str, value: Any) -> str:
    return _string_cell(ref, _neutral(value))


def _text_column(letter: str, rows: range, values: list[Any]) -> list[str]:
    slow, limit = _SLOW_TEXT.search, MAX_CELL_CHARS
    return [
        ""
        if v is None
        else f'<c r="{letter}{n}" t="inlineStr"><is><t>{v}</t></is></c>'
        if v and len(v) <= limit and slow(v) is None
        else _text_cell(f"{letter}{n}", v)
        for n, v in zip(rows, values, strict=True)
    ]


def _int_column(letter: str, rows: range, values: list[Any]) -> list[str]:
    top = _EXACT_INT
    return [
        ""
        if v is None
        else f'<c r="{letter}{n}" s="{_WHOLE_STYLE}"><v>{v}</v></c>'
        if -top < v < top
        else _string_cell(f"{letter}{n}", str(v))
        for n, v in zip(rows, values, strict=True)
    ]


def _float_cell(ref: str, value: Any) -> str:
    if math.isfinite(value) and (
        abs(value) >= _SMALLEST_NORMAL or (value == 0 and math.copysign(1, value) > 0)
    ):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    return _string_cell(ref, repr(value))  # -0.0 and subnormals: Excel would make them 0


def _float_column(letter: str, rows: range, values: Any) -> list[str]:
    # Arrow writes the shortest text that reads back as the same double (as repr, 7x faster).
    texts = pc.cast(values, pa.string()).to_pylist()
    magnitude = pc.abs(values)
    normal = pc.and_(
        pc.greater_equal(magnitude, _SMALLEST_NORMAL), pc.less(magnitude, math.inf)
    ).to_pylist()
    return [
        ""
        if t is None
        else f'<c r="{letter}{n}"><v>{t}</v></c>'
        if ok
        else _float_cell(f"{letter}{n}", float(t))
        for n, t, ok in zip(rows, texts, normal, strict=True)
    ]


def _bool_column(letter: str, rows: range, values: list[Any]) -> list[str]:
    return [
        "" if v is None else f'<c r="{letter}{n}" t="b"><v>{int(v)}</v></c>'
        for n, v in zip(rows, values, strict=True)
    ]


def _date_column(letter: str, rows: range, values: list[Any]) -> list[str]:
    first, epoch = _FIRST_DAY, _EPOCH
    return [
        ""
        if v is None
        else f'<c r="{letter}{n}" s="{_DATE_STYLE}"><v>{(v - epoch).days}</v></c>'
        if v >= first
        else _string_cell(f"{letter}{n}", v.isoformat())
        for n, v in zip(rows, values, strict=True)
    ]


def _cells(cell: Cell) -> Column:
    def column(letter: str, rows: range, values: list[Any]) -> list[str]:
        return [
            "" if v is None else cell(f"{letter}{n}", v) for n, v in zip(rows, values, strict=True)
        ]

    return column


def _decimal_cell(style: int) -> Cell:
    def cell(ref: str, value: Any) -> str:
        text = format(value, "f")
        if len(value.as_tuple().digits) <= _EXACT_DIGITS:
            return f'<c r="{ref}" s="{style}"><v>{text}</v></c>'
        return _string_cell(ref, text)

    return cell


def _json_cell(shape: Shape) -> Cell:
    def cell(ref: str, value: Any) -> str:
        text = json.dumps(
            json_ready(shape, value), ensure_ascii=False, separators=(",", ":"), allow_nan=False
        )
        return _string_cell(ref, text)

    return cell


def _is_text(f: FieldInfo) -> bool:
    return isinstance(f.shape, ScalarShape) and (f.shape.enum is not None or f.shape.py is str)


def _decimal_scales(infos: Iterable[EntityInfo]) -> list[int]:
    return sorted(
        {
            f.spec.scale
            for info in infos
            for f in info.fields
            if isinstance(f.shape, ScalarShape) and f.shape.py is Decimal
        }
    )


def _writer(f: FieldInfo, scales: list[int]) -> Column:
    shape = f.shape
    if not isinstance(shape, ScalarShape):
        return _cells(_json_cell(shape))
    if _is_text(f):
        return _text_column
    if shape.py is bool:
        return _bool_column
    if shape.py is int:
        return _int_column
    if shape.py is float:
        return _float_column
    if shape.py is Decimal:
        return _cells(_decimal_cell(_FIRST_DECIMAL_STYLE + scales.index(f.spec.scale)))
    return _date_column


# --------------------------------------------------------------------------- writing

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"


def _content_types(count: int) -> str:
    sheets = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_SHEET_TYPE}"/>'
        for i in range(1, count + 1)
    )
    return (
        _XML + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        f"{sheets}</Types>"
    )


def _package_rels() -> str:
    return (
        _XML + f'<Relationships xmlns="{_PACKAGE_RELS}">'
        f'<Relationship Id="rId1" Type="{_RELS}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    )


def _workbook_xml(names: list[str]) -> str:
    sheets = "".join(
        f'<sheet name="{name}" sheetId="{i}" r:id="rId{i}"/>' for i, name in enumerate(names, 1)
    )
    return (
        _XML + f'<workbook xmlns="{_MAIN}" xmlns:r="{_RELS}">'
        '<bookViews><workbookView activeTab="0"/></bookViews>'
        f"<sheets>{sheets}</sheets></workbook>"
    )


def _workbook_rels(count: int) -> str:
    sheets = "".join(
        f'<Relationship Id="rId{i}" Type="{_RELS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, count + 1)
    )
    return (
        _XML + f'<Relationships xmlns="{_PACKAGE_RELS}">{sheets}'
        f'<Relationship Id="rId{count + 1}" Type="{_RELS}/styles" Target="styles.xml"/>'
        "</Relationships>"
    )


def _styles(scales: list[int]) -> str:
    formats = ['<numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd"/>']
    decimal_xfs = []
    for i, scale in enumerate(scales):
        code = "0" + ("." + "0" * scale if scale > 0 else "")
        formats.append(f'<numFmt numFmtId="{165 + i}" formatCode="{code}"/>')
        decimal_xfs.append(
            f'<xf numFmtId="{165 + i}" fontId="0" fillId="0" borderId="0" xfId="0" '
            'applyNumberFormat="1"/>'
        )
    font = '<sz val="11"/><name val="Calibri"/><family val="2"/>'
    xfs = [
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>',
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>',
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>',
        '<xf numFmtId="1" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>',
        *decimal_xfs,
    ]
    return (
        _XML + f'<styleSheet xmlns="{_MAIN}">'
        f'<numFmts count="{len(formats)}">{"".join(formats)}</numFmts>'
        f'<fonts count="2"><font>{font}</font><font><b/>{font}</font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        "</cellStyleXfs>"
        f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )


def _sheet_xml(
    info: EntityInfo, batches: Iterable[Any], scales: list[int], first: bool, path: str
) -> Iterator[bytes]:
    """The worksheet of one entity, in pieces: header, then one piece per batch (``path``:
    the workbook's, for errors)."""
    names = info.field_names
    letters = [column_letters(i) for i in range(len(names))]
    widths = "".join(
        f'<col min="{i}" max="{i}" width="{max(10, len(n) + 3)}" customWidth="1"/>'
        for i, n in enumerate(names, 1)
    )
    header = "".join(
        f'<c r="{c}1" s="{_HEADER_STYLE}" t="inlineStr"><is><t>{n}</t></is></c>'
        for c, n in zip(letters, names, strict=True)
    )
    selected = ' tabSelected="1"' if first else ""
    yield (
        _XML + f'<worksheet xmlns="{_MAIN}" xmlns:r="{_RELS}">'
        f'<sheetViews><sheetView{selected} workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft"/></sheetView></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/><cols>{widths}</cols>'
        f'<sheetData><row r="1">{header}</row>'
    ).encode()
    cells = [_writer(f, scales) for f in info.fields]
    row = 1
    for batch in batches:
        if not batch.num_rows:
            continue
        if row + batch.num_rows > MAX_ROWS:
            raise FormatError(
                path,
                f"sheet {info.name}: more than {MAX_ROWS - 1:,} rows, the most an Excel "
                "sheet holds; write CSV or Parquet instead",
            )
        numbers = range(row + 1, row + 1 + batch.num_rows)
        columns = []
        for j, f in enumerate(info.fields):
            if f.name not in batch.schema.names:
                raise ValueError(f"batch of {info.name} has no column {f.name!r}")
            column = batch.column(f.name)
            values = column if cells[j] is _float_column else column.to_pylist()
            try:
                columns.append(cells[j](letters[j], numbers, values))
            except ValueError as exc:
                probe = _probe(cells[j], letters[j], values)
                bad = next(n for n, c in zip(numbers, probe, strict=True) if c)
                raise FormatError(
                    path,
                    f"sheet {info.name}: a cell cannot be written: {exc}",
                    row=bad,
                    field=names[j],
                ) from None
        row = numbers[-1]
        yield "".join(
            f'<row r="{n}">{"".join(cells_)}</row>'
            for n, cells_ in zip(numbers, zip(*columns, strict=True), strict=True)
        ).encode()
    yield b"</sheetData></worksheet>"


def _probe(column: Column, letter: str, values: Any) -> Iterator[bool]:
    """For each value, whether its cell cannot be written (to name the row at fault)."""
    for v in values:
        try:
            column(letter, range(1, 2), [v.as_py() if isinstance(v, pa.Scalar) else v])
        except ValueError:
            yield True
        else:
            yield False


def _write_workbook(
    sink: IO[bytes], tables: list[tuple[EntityInfo, Iterable[Any]]], path: str
) -> None:
    names = [info.name for info, _ in tables]
    for name in names:
        if len(name) > 31:
            raise FormatError(
                path, f"sheet {name}: a sheet name holds at most 31 characters (an entity's name)"
            )
    scales = _decimal_scales(info for info, _ in tables)
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        book.writestr("[Content_Types].xml", _content_types(len(tables)))
        book.writestr("_rels/.rels", _package_rels())
        book.writestr("xl/workbook.xml", _workbook_xml(names))
        book.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(tables)))
        book.writestr("xl/styles.xml", _styles(scales))
        for i, (info, batches) in enumerate(tables, 1):
            with book.open(f"xl/worksheets/sheet{i}.xml", "w", force_zip64=True) as part:
                for piece in _sheet_xml(info, batches, scales, i == 1, path):
                    part.write(piece)


def write_xlsx(
    sink: IO[bytes], info: EntityInfo, batches: Iterable[Any], path: str = "<stream>"
) -> None:
    """Write batches of ``info``'s Arrow schema as a workbook of one sheet, named after it.

    ``path`` is the workbook's, for errors (``FormatError(path, ...)``)."""
    _write_workbook(sink, [(info, batches)], path)


def write_xlsx_dataset(
    sink: IO[bytes], tables: Iterable[tuple[EntityInfo, Iterable[Any]]], path: str = "<stream>"
) -> None:
    """Write several entities' batches as one workbook: a sheet per entity, in order."""
    _write_workbook(sink, list(tables), path)


# --------------------------------------------------------------------------- reading

ReadColumn = Callable[[tuple[Any, ...]], list["str | None"] | pa.Array]
"""A column's raw text (the ``text`` flavour) from python-calamine's values (``""``: empty)."""


def _plain(value: Any) -> str:
    """Any cell as text: what Excel shows, in clen_core's forms."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 2**63 else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _text(value: Any) -> str | None:
    if value == "" or value is None:
        return None
    if isinstance(value, str):
        if "_x" in value:
            value = _NONCHARACTER_TEXT.sub(lambda m: chr(int(m.group()[2:6], 16)), value)
        return _restore(value)
    return _plain(value)


def _read_text(values: tuple[Any, ...]) -> list[str | None]:
    return [
        v if type(v) is str and v and v[0] != "'" and "_x" not in v else _text(v) for v in values
    ]


def _read_plain(values: tuple[Any, ...]) -> list[str | None]:
    return [v if type(v) is str and v else None if v == "" else _plain(v) for v in values]


def _read_float(values: tuple[Any, ...]) -> list[str | None] | pa.Array:
    floats = [v if type(v) is float else None for v in values]
    texts = pc.cast(pa.array(floats, pa.float64()), pa.string())  # shortest exact text
    if all(v == "" for v, f in zip(values, floats, strict=True) if f is None):
        return texts  # the usual case: numbers and empty cells
    return [
        t if t is not None else None if v == "" else _plain(v)
        for t, v in zip(texts.to_pylist(), values, strict=True)
    ]


def _read_decimal(scale: int) -> ReadColumn:
    places = Decimal(1).scaleb(-scale)

    def read(value: Any) -> str | None:
        if value == "" or value is None:
            return None
        if isinstance(value, float | int) and not isinstance(value, bool):
            number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
            exponent = number.as_tuple().exponent
            if isinstance(exponent, int) and exponent > -scale:
                number = number.quantize(places)  # only zeros added: the number format's
            return format(number, "f")
        return _plain(value)

    def column(values: tuple[Any, ...]) -> list[str | None]:
        return [read(v) for v in values]

    return column


def _strings(values: list[str | None] | pa.Array) -> pa.Array:
    return values if isinstance(values, pa.Array) else pa.array(values, pa.string())


def _reader(f: FieldInfo) -> ReadColumn:
    shape = f.shape
    if _is_text(f):
        return _read_text
    if isinstance(shape, ScalarShape) and shape.py is float:
        return _read_float
    if isinstance(shape, ScalarShape) and shape.py is Decimal:
        return _read_decimal(f.spec.scale)
    return _read_plain


Rows = Iterator[tuple[int, list[Any]]]
"""``(Excel row number, cells)`` of the rows of a sheet that hold a cell."""


class _Book:
    """An open workbook: its parts (always), and python-calamine's reader (when installed
    and a sheet is small enough for it)."""

    def __init__(self, source: IO[bytes], path: str) -> None:
        self.source = source
        self.path = path
        try:
            self.parts = Workbook(zipfile.ZipFile(source))
        except Exception as exc:  # not a zip, no workbook part, bad XML, ...
            raise FormatError(path, f"cannot read as an .xlsx workbook: {_short(exc)}") from None
        self._calamine: Any = None

    def close(self) -> None:
        if self._calamine is not None:
            self._calamine.close()
        self.parts.archive.close()

    def used(self) -> list[tuple[str, str]]:
        """``(name, part)`` of the sheets holding a cell."""
        return [
            (n, p)
            for n, p in self.parts.sheets
            if self._guard(n, partial(has_cells, self.parts, p))
        ]

    def _guard(self, name: str, read: Callable[[], Any]) -> Any:
        try:
            return read()
        except FormatError:
            raise
        except Exception as exc:  # a torn zip member, bad XML, a bad cell, ...
            raise FormatError(self.path, f"cannot read sheet {name!r}: {_short(exc)}") from None

    def rows(self, name: str, part: str) -> tuple[Rows, int]:
        """A sheet's rows and the column its cells start at: python-calamine's (fast,
        the sheet held whole) for a sheet of at most ``STREAM_ABOVE`` bytes of XML,
        streamed (memory: one chunk of rows) above it or without python-calamine."""
        if available() and self.parts.size(part) <= STREAM_ABOVE:
            sheet = self._guard(name, lambda: self._calamine_book().get_sheet_by_name(name))
            if sheet.start is not None:
                return self._calamine_rows(name, part, sheet), sheet.start[1]
        return self._checked(name, sheet_rows(self.parts, part)), 0

    def _calamine_rows(self, name: str, part: str, sheet: Any) -> Rows:
        """python-calamine's rows; from where it fails on a cell (it raises or panics on a
        number in a time format beyond its range), the streamed rows: the same values, and
        the streamed reader's error if the sheet is broken."""
        rows = _calamine_rows(sheet)
        last = 0
        while True:
            try:
                row = next(rows, None)
            except Exception:
                break
            except BaseException as exc:  # pyo3's PanicException is not an Exception
                if type(exc).__name__ != "PanicException":
                    raise
                break
            if row is None:
                return
            last = row[0]
            yield row
        first = sheet.start[1]
        for number, cells in self._checked(name, sheet_rows(self.parts, part)):
            if number > last:
                yield number, cells[first:] if first else cells

    def _checked(self, name: str, rows: Rows) -> Rows:
        while True:
            row = self._guard(name, lambda: next(rows, None))
            if row is None:
                return
            yield row

    def _calamine_book(self) -> Any:
        if self._calamine is None:
            import python_calamine

            source = self.source
            source.seek(0)
            named = getattr(source, "name", None)
            if isinstance(named, str) and os.path.isfile(named):
                self._calamine = python_calamine.CalamineWorkbook.from_path(named)
            else:
                self._calamine = python_calamine.CalamineWorkbook.from_filelike(source)
        return self._calamine


def _calamine_rows(sheet: Any) -> Rows:
    if sheet.start is None:
        return
    # python-calamine's rows begin at the sheet's row 1 (those above its first cell
    # empty), its cells at the first column holding one (sheet.start[1]):
    # test_the_streamed_rows_are_python_calamines_cell_by_cell holds it to that.
    for number, cells in enumerate(sheet.iter_rows(), start=1):
        if any(c != "" for c in cells):
            yield number, cells


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:200] + "..."


def _sheet_of(book: _Book, info: EntityInfo) -> tuple[str, str]:
    """The sheet named after the entity, else the workbook's only sheet with cells."""
    for name, part in book.parts.sheets:
        if name.lower() == info.name:
            return name, part
    used = book.used()
    if len(used) == 1:
        return used[0]
    names = [n for n, _ in book.parts.sheets]
    listed = ", ".join(repr(n) for n in names[:_LISTED])
    raise FormatError(
        book.path,
        f"no sheet named {info.name!r} and {len(used)} sheets with cells ({listed}): "
        "name the sheet after the entity",
    )


def _listed(names: list[str]) -> str:
    shown = ", ".join(repr(n if len(n) <= 80 else n[:80] + "...") for n in names[:_LISTED])
    return shown + (f" and {len(names) - _LISTED:,} more" if len(names) > _LISTED else "")


def _header(
    cells: list[Any], info: EntityInfo, path: str, row: int, sheet: str, first: int
) -> tuple[int, list[str]]:
    """The header's field names, and the index in ``cells`` of its first one."""
    names = [_plain(c) for c in cells]
    while names and names[-1] == "":
        names.pop()
    start = 0
    while start < len(names) and names[start] == "":
        start += 1
    names = names[start:]
    where = f"sheet {sheet}: "
    for i, name in enumerate(names):
        if name == "":
            raise FormatError(
                path, f"{where}the header's column {column_letters(first + start + i)} is empty",
                row=row,
            )  # fmt: skip
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise FormatError(
                path, f"{where}column {name!r} appears more than once in the header", row=row,
                field=name,
            )  # fmt: skip
        seen.add(name)
    unknown = [n for n in names if n not in info.field_names]
    if unknown:
        raise FormatError(
            path,
            f"{where}unknown column(s) {_listed(unknown)}: not field(s) of {info.name} "
            f"(its fields: {', '.join(info.field_names)})",
            row=row,
            field=unknown[0],
        )
    missing = [f.name for f in info.fields if f.is_required and f.name not in seen]
    if missing:
        raise FormatError(
            path,
            f"{where}required column(s) {_listed(missing)} missing from the header",
            row=row,
            field=missing[0],
        )
    return start, names


def _sheet_batches(book: _Book, sheet: tuple[str, str], info: EntityInfo) -> Iterator[RawBatch]:
    """The rows of one sheet as raw text batches, numbered as Excel numbers them."""
    name, path = sheet[0], book.path
    rows, first = book.rows(*sheet)
    head = next(rows, None)
    if head is None:
        raise FormatError(
            path, f"sheet {name} is empty: it starts with a header row of field names"
        )
    start, names = _header(head[1], info, path, head[0], name, first)
    fields = {f.name: f for f in info.fields}
    readers = [_reader(fields[n]) for n in names]
    end = start + len(names)
    chunk: list[list[Any]] = []
    numbers: list[int] = []
    problems: list[RowProblem] = []

    def batch() -> RawBatch:
        values = list(zip(*chunk, strict=True)) if chunk else [() for _ in names]
        arrays = [_strings(read(v)) for read, v in zip(readers, values, strict=True)]
        out = RawBatch(
            pa.RecordBatch.from_arrays(arrays, names=names),
            pa.array(numbers, pa.int64()),
            tuple(problems),
        )
        chunk.clear()
        numbers.clear()
        problems.clear()
        return out

    for number, cells in rows:
        outside = [
            (i, c) for i, c in enumerate(cells) if (i < start or i >= end) and c != ""
        ] if len(cells) > end or start else ()  # fmt: skip
        if outside:
            column, beyond = outside[0]
            side = "left of the header's first" if column < start else "right of the header's last"
            problems.append(
                RowProblem(
                    number,
                    f"a value in column {column_letters(first + column)}, {side} column, "
                    "which has no header",
                    _plain(beyond),
                )
            )
            continue
        cells = cells[start:end]
        if len(cells) < len(names):
            cells = [*cells, *[""] * (len(names) - len(cells))]
        if all(c == "" for c in cells):
            continue  # an empty row: skipped, still counted (Excel's numbers)
        chunk.append(cells)
        numbers.append(number)
        if len(numbers) >= BATCH_ROWS:
            yield batch()
    if numbers or problems:
        yield batch()


def read_xlsx_batches(source: IO[bytes], info: EntityInfo, path: str) -> Iterator[RawBatch]:
    """The rows of ``info`` in a workbook (its sheet, or its only sheet) as raw text batches."""
    book = _Book(source, path)
    try:
        yield from _sheet_batches(book, _sheet_of(book, info), info)
    finally:
        book.close()


def read_xlsx(source: IO[bytes], info: EntityInfo, path: str) -> Iterator[RawRecord | RowProblem]:
    """The records of ``info`` in a workbook, one by one (see :func:`read_xlsx_batches`)."""
    return records_from_batches(read_xlsx_batches(source, info, path))


def read_xlsx_dataset(source: IO[bytes], path: str) -> Iterator[tuple[str, RawRecord | RowProblem]]:
    """``(entity, record)`` of every sheet of a workbook, each named after its entity."""
    book = _Book(source, path)
    try:
        sheets = book.used()  # empty sheets: nothing
        infos = []
        for name, _ in sheets:
            try:
                infos.append(get_entity(name.lower()))
            except Exception:
                raise FormatError(
                    path,
                    f"sheet {name!r} is not named after an entity: a dataset workbook has one "
                    "sheet per entity, named after it (activity, laboratory, ...)",
                ) from None
        for sheet, info in zip(sheets, infos, strict=True):
            for item in records_from_batches(_sheet_batches(book, sheet, info)):
                yield info.name, item
    finally:
        book.close()


# --------------------------------------------------------------------------- registration

XLSX = Format(
    name="xlsx",
    extensions=(".xlsx",),
    description=(
        "Excel workbook: a sheet per entity, a whole dataset in one, exact values"
        + ("" if available() else f" (reads faster with: {INSTALL})")
    ),
    flavour="text",
    read=read_xlsx,
    read_batches=read_xlsx_batches,
    write=write_xlsx,
    read_dataset=read_xlsx_dataset,
    write_dataset=write_xlsx_dataset,
)
"""The format this plugin registers."""


@hookimpl
def clen_register_formats(register: Callable[[Format], None]) -> None:
    """Register the ``xlsx`` format."""
    register(XLSX)


@hookimpl
def clen_detect_format(path: str, head: bytes) -> str | None:
    """``xlsx`` for a zip file holding a workbook's parts (``xl/...``)."""
    return "xlsx" if head.startswith(b"PK\x03\x04") and b"xl/" in head else None
