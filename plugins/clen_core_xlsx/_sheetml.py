"""A streaming reader of SpreadsheetML (.xlsx) sheets, in the standard library alone.

python-calamine reads a sheet whole into its own memory (about 90 bytes a cell). This
reader parses the sheet's XML part as it is decompressed, a chunk at a time, with
expat, and hands on rows as it meets them: memory stays at one chunk of rows plus the
workbook's shared strings (which a sheet may refer to anywhere, so they are held).

Its cells are the Python values python-calamine gives, so that everything after it is
the same whichever read the sheet: ``""`` for an empty cell, ``str``, ``float`` (every
number), ``bool``, and for numbers in a date or time format ``datetime.date`` (a whole
day), ``datetime.datetime``, ``datetime.time`` (below one day) or ``datetime.timedelta``
(an elapsed-time format such as ``[h]:mm``), to the millisecond. Excel's ``_xHHHH_``
escapes are decoded. ``tests/test_format_xlsx.py`` holds the two readers to the same
rows on workbooks written by clen_core, openpyxl and XlsxWriter.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import zipfile
from collections.abc import Iterator
from typing import Any
from xml.parsers import expat

__all__ = ["Workbook", "column_letters", "format_kind", "has_cells", "sheet_rows"]

_CHUNK = 1 << 20
"""Bytes of XML parsed between two hand-overs of rows."""
_MS_PER_DAY = 86_400_000
_EPOCH_1900 = dt.datetime(1899, 12, 30)
_EPOCH_1904 = dt.datetime(1904, 1, 1)
_DIGITS = "0123456789"
_ESCAPED = re.compile(r"_x00([0-9A-Fa-f]{2})_")
"""Excel's escapes of characters XML cannot hold; python-calamine decodes those below
U+0100 (all Excel writes but U+FFFE and U+FFFF, which the plugin decodes after) and
leaves the rest as text: so does this reader."""
_RELATIONSHIP = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

_EARLIEST = -96_439_724
"""The earliest day number python-calamine reads as a time (its date library's first
day): a number below it in a date format stays a number."""
_DATE, _DURATION = 1, 2
"""What a number format makes of a number: a point in time, or an elapsed time."""
_BUILTIN_DATES = {*range(14, 23), *range(27, 37), 45, 47, *range(50, 59), *range(71, 82)}
"""ECMA-376 Part 1, 18.8.30: the built-in number formats that show dates and times."""
_BUILTIN_DURATIONS = {46}
"""``[h]:mm:ss``."""
_NOT_IN_FORMAT = re.compile(r'"[^"]*"|\\.|[_*].')
"""Parts of a format code that show as they are: quoted text, escaped and padding
characters."""
_BRACKETS = re.compile(r"\[([^\]]*)\]")


def _local(name: str) -> str:
    """An element's name without its namespace prefix (``x:row`` → ``row``)."""
    return name.rpartition(":")[2]


def _unescape(text: str) -> str:
    if "_x" not in text:
        return text
    return _ESCAPED.sub(_escaped_character, text)


def _escaped_character(match: re.Match[str]) -> str:
    return chr(int(match.group(1), 16))


def format_kind(code: str) -> int:
    """Whether a custom number format shows dates or times (``_DATE``), elapsed time
    (``_DURATION``) or neither (0)."""
    code = _NOT_IN_FORMAT.sub("", code)
    kind = 0
    for inside in _BRACKETS.findall(code):
        if inside.lower().strip("hms") == "" and inside:
            kind = _DURATION  # [h], [mm], [ss]: elapsed time
    if kind:
        return kind
    bare = _BRACKETS.sub("", code).split(";")[0].lower()
    return _DATE if any(c in bare for c in "dmyhs") else 0


def _parse(data: Iterator[bytes], parser: Any) -> Iterator[None]:
    """Feed ``data`` to ``parser`` a chunk at a time, yielding after each chunk."""
    for chunk in data:
        parser.Parse(chunk, False)
        yield None
    parser.Parse(b"", True)
    yield None


def _chunks(member: Any) -> Iterator[bytes]:
    while chunk := member.read(_CHUNK):
        yield chunk


class Workbook:
    """A workbook's parts that its sheets need: names, shared strings, styles, dates."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.sheets = self._sheets()
        """``(name, part)`` of every worksheet, in the workbook's order."""
        self._strings: list[str] | None = None
        self._kinds: list[int] | None = None

    def _read(self, part: str) -> bytes | None:
        try:
            return self.archive.read(part)
        except KeyError:
            return None

    def _sheets(self) -> list[tuple[str, str]]:
        workbook = self._read("xl/workbook.xml")
        if workbook is None:
            raise ValueError("no xl/workbook.xml part: not a workbook")
        targets: dict[str, str] = {}
        rels = self._read("xl/_rels/workbook.xml.rels")
        if rels is not None:
            for attrs in _elements(rels, "Relationship"):
                target = attrs.get("Target", "")
                target = target[1:] if target.startswith("/") else posixpath.join("xl", target)
                targets[attrs.get("Id", "")] = posixpath.normpath(target)
        sheets: list[tuple[str, str]] = []
        self.date1904 = False
        for name, attrs in _elements_named(workbook, {"sheet", "workbookPr"}):
            if name == "workbookPr":
                self.date1904 = attrs.get("date1904", "0").lower() in {"1", "true"}
                continue
            rid = next((v for k, v in attrs.items() if _local(k) == "id"), "")
            part = targets.get(rid, f"xl/worksheets/sheet{len(sheets) + 1}.xml")
            sheets.append((attrs.get("name", ""), part))
        return sheets

    def size(self, part: str) -> int:
        """The uncompressed size of a part, as the archive declares it (0 if absent)."""
        try:
            return self.archive.getinfo(part).file_size
        except KeyError:
            return 0

    @property
    def strings(self) -> list[str]:
        """The shared strings (read once, when a sheet first needs them)."""
        if self._strings is None:
            self._strings = _shared_strings(self.archive)
        return self._strings

    @property
    def kinds(self) -> list[int]:
        """For each cell style (``s=``), what its number format makes of a number."""
        if self._kinds is None:
            self._kinds = _style_kinds(self._read("xl/styles.xml"))
        return self._kinds


def _elements(data: bytes, wanted: str) -> list[dict[str, str]]:
    return [attrs for _, attrs in _elements_named(data, {wanted})]


def _elements_named(data: bytes, wanted: set[str]) -> list[tuple[str, dict[str, str]]]:
    """The attributes of every element of a small part whose local name is wanted."""
    found: list[tuple[str, dict[str, str]]] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        local = _local(name)
        if local in wanted:
            found.append((local, attrs))

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.Parse(data, True)
    return found


def _style_kinds(styles: bytes | None) -> list[int]:
    if styles is None:
        return []
    custom: dict[int, str] = {}
    kinds: list[int] = []
    depth = {"cellXfs": False}

    def start(name: str, attrs: dict[str, str]) -> None:
        local = _local(name)
        if local == "numFmt":
            custom[int(attrs.get("numFmtId", "-1"))] = attrs.get("formatCode", "")
        elif local == "cellXfs":
            depth["cellXfs"] = True
        elif local == "xf" and depth["cellXfs"]:
            number = int(attrs.get("numFmtId", "0"))
            if number in custom:
                kinds.append(format_kind(custom[number]))
            elif number in _BUILTIN_DURATIONS:
                kinds.append(_DURATION)
            else:
                kinds.append(_DATE if number in _BUILTIN_DATES else 0)

    def end(name: str) -> None:
        if _local(name) == "cellXfs":
            depth["cellXfs"] = False

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.Parse(styles, True)
    return kinds


def _shared_strings(archive: zipfile.ZipFile) -> list[str]:
    try:
        member = archive.open("xl/sharedStrings.xml")
    except KeyError:
        return []
    strings: list[str] = []
    text: list[str] = []
    state: dict[str, Any] = {"in_t": False, "phonetic": 0, "mark": 0, "preserve": False}

    def start(name: str, attrs: dict[str, str]) -> None:
        local = _local(name)
        if local == "t" and not state["phonetic"]:
            state["in_t"] = True
            state["mark"] = len(text)
            state["preserve"] = attrs.get("xml:space") == "preserve"
        elif local == "rPh":
            state["phonetic"] += 1  # the pronunciation of East Asian text: not the text
        elif local == "si":
            text.clear()

    def end(name: str) -> None:
        local = _local(name)
        if local == "t":
            if state["in_t"]:
                _drop_blank(text, state["mark"], state["preserve"])
            state["in_t"] = False
        elif local == "rPh":
            state["phonetic"] -= 1
        elif local == "si":
            strings.append(_unescape("".join(text)))

    def characters(data: str) -> None:
        if state["in_t"]:
            text.append(data)

    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    with member:
        for _ in _parse(_chunks(member), parser):
            pass
    return strings


def _drop_blank(text: list[str], mark: int, preserve: bool) -> None:
    """A ``<t>`` of only white space without ``xml:space="preserve"`` holds nothing (as
    python-calamine reads it; Excel writes ``preserve`` whenever white space counts)."""
    if not preserve and mark < len(text) and not "".join(text[mark:]).strip(" \t\r\n"):
        del text[mark:]


def _column(ref: str) -> int:
    """The 0-based column of a cell reference (``AB12`` → 27)."""
    number = 0
    for char in ref:
        if "A" <= char <= "Z":
            number = number * 26 + ord(char) - 64
        elif "a" <= char <= "z":
            number = number * 26 + ord(char) - 96
        else:
            break
    return number - 1


def column_letters(column: int) -> str:
    """A 0-based column's letters (27 → ``AB``)."""
    letters = ""
    column += 1
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _timed(value: float, kind: int, date1904: bool) -> Any:
    """A number shown in a date or time format as python-calamine gives it (the number
    itself when no date or duration is that far)."""
    try:
        if kind == _DURATION:
            return dt.timedelta(milliseconds=round(value * _MS_PER_DAY))
        ms = round(value * _MS_PER_DAY)
        if value < _EARLIEST:
            return value
        if value < 1:  # a time of day (python-calamine: negative ones too, modulo a day)
            return (dt.datetime.min + dt.timedelta(milliseconds=ms % _MS_PER_DAY)).time()
        if not date1904 and value < 60:
            ms += _MS_PER_DAY  # Excel counts a 29 February 1900, which never was
        moment = (_EPOCH_1904 if date1904 else _EPOCH_1900) + dt.timedelta(milliseconds=ms)
    except OverflowError:
        return value
    return moment.date() if value.is_integer() else moment


def has_cells(book: Workbook, part: str) -> bool:
    """Whether a sheet holds a cell with a value (parsed up to the first one)."""
    return next(sheet_rows(book, part, peek=True), None) is not None


def sheet_rows(book: Workbook, part: str, *, peek: bool = False) -> Iterator[tuple[int, list[Any]]]:
    """``(Excel row number, cells from column A)`` of every row of a sheet holding a
    cell, in order, as the sheet's XML is decompressed and parsed (``peek``: shared
    strings are not looked up, their cells hold ``"s"``)."""
    try:
        member = book.archive.open(part)
    except KeyError:
        raise ValueError(f"the workbook has no part {part}") from None
    strings: list[str] | None = None
    kinds = book.kinds
    date1904 = book.date1904
    done: list[tuple[int, list[Any]]] = []
    row: list[Any] = []
    text: list[str] = []
    # The state of the cell being read: its column, type, style; whether text counts; the
    # depth in phonetic runs; where the current <t> began in text, and its xml:space.
    cell: list[Any] = [0, "n", 0, False, 0, 0, False]
    number = [0]
    columns: dict[str, int] = {}

    def start(name: str, attrs: dict[str, str]) -> None:
        local = name if ":" not in name else _local(name)
        if local == "c":
            ref = attrs.get("r")
            if ref is None:
                cell[0] = len(row)
            else:
                letters = ref.rstrip(_DIGITS)
                column = columns.get(letters)
                if column is None:
                    column = columns[letters] = _column(letters)
                cell[0] = column
            cell[1] = attrs.get("t", "n")
            style = attrs.get("s")
            cell[2] = int(style) if style else 0
            text.clear()
        elif local == "v":
            cell[3] = True
        elif local == "t" and not cell[4]:
            cell[3] = True
            cell[5] = len(text)
            cell[6] = attrs.get("xml:space") == "preserve"
        elif local == "row":
            ref = attrs.get("r")
            number[0] = int(ref) if ref else number[0] + 1
            row.clear()
        elif local == "rPh":
            cell[4] += 1

    def end(name: str) -> None:
        nonlocal strings
        local = name if ":" not in name else _local(name)
        if local == "c":
            value: Any = "".join(text)
            kind = cell[1]
            if kind == "s":
                if strings is None:
                    strings = book.strings if not peek else []
                if peek:
                    value = "s"
                else:
                    index = int(value) if value.isdigit() else -1
                    if not 0 <= index < len(strings):
                        raise ValueError(
                            f"cell {column_letters(cell[0])}{number[0]} refers to shared string "
                            f"{value!r}, which the workbook does not hold"
                        )
                    value = strings[index]
            elif kind in ("inlineStr", "str"):
                value = _unescape(value)
            elif kind == "b":
                value = value == "1" if value else ""
            elif value and kind == "n":
                try:
                    value = float(value)
                except ValueError:
                    raise ValueError(
                        f"cell {column_letters(cell[0])}{number[0]} holds {value[:40]!r} "
                        "as a number"
                    ) from None
                style = cell[2]
                if style < len(kinds) and kinds[style]:
                    value = _timed(value, kinds[style], date1904)
            elif value and kind == "d":
                value = _iso_moment(value)
            elif kind == "e":
                value = value  # an error's text (#DIV/0!): as it is shown
            column = cell[0]
            if value != "":
                if column >= len(row):
                    row.extend([""] * (column + 1 - len(row)))
                row[column] = value
            cell[3] = False
        elif local == "t":
            if cell[3]:
                _drop_blank(text, cell[5], cell[6])
            cell[3] = False
        elif local == "v":
            cell[3] = False
        elif local == "row":
            if row:
                done.append((number[0], row.copy()))
        elif local == "rPh":
            cell[4] -= 1

    def characters(data: str) -> None:
        if cell[3]:
            text.append(data)

    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.buffer_size = _CHUNK
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    with member:
        for _ in _parse(_chunks(member), parser):
            yield from done
            done.clear()


def _iso_moment(text: str) -> Any:
    """A ``t="d"`` cell (ISO 8601), as a date, a date and time, or a time."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        try:
            return dt.time.fromisoformat(text)
        except ValueError:
            return text
    return moment.date() if "T" not in text and " " not in text else moment
