"""clen_core's built-in JSON and JSON Lines formats, written as a third-party plugin would be.

It registers through the ``clen_core`` entry-point group like any other
plugin and uses only clen_core's public API. Two formats:

- ``json`` (``.json``): one JSON document, of one entity or of a whole dataset;
- ``jsonl`` (``.jsonl``, ``.ndjson``): JSON Lines, one record per line, one entity.

Records
-------

Every record is the entity object's JSON form, exactly as
:func:`clen_core.to_json` gives it, and valid against
:func:`clen_core.json_schema` of its entity: an object with every field of the
entity (a missing value is ``null``; an empty string stays ``""``); dates as
ISO text (``"2024-05-31"``); decimals (money) as exact text with their scale
(``"1250.00"``); enums as their values; floats as JSON numbers written with
Python's shortest round-trip form (``0.1``, ``-0.0``, ``5e-324``), so they read
back to the same float; lists as arrays and mappings as objects. Text is
UTF-8, written as is (not ``\\u`` escaped), except the characters U+0085,
U+2028 and U+2029, escaped so that no line reader splits a record (JSON
escapes the control characters anyway). The writers make the JSON text a
column at a time with Arrow's compute functions, and write exactly the bytes
that encoding each record on its own gives (a batch holding a value they cannot
write so, such as a NaN, which is refused, goes record by record).

The header
----------

Our writers put first, on the first line, a header that carries what
Parquet metadata carries (shown here wrapped)::

    {"format": "entity", "entity": "activity", "schema_version": 1,
     "library_version": "0.1.0", "key": ["activity_id"],
     "fields": {"activity_id": "<the field's description>", ...}}

``format`` is ``"entity"`` (one entity) or ``"dataset"`` (a JSON dataset
document, below); ``entity`` is the entity's name and ``schema_version`` its
schema version, both checked on reading (another entity or another schema
version is an error); ``library_version`` is the clen_core version that wrote
the file; ``key`` the key field(s); ``fields`` every field's description, in
declaration order. Readers need only ``format``; the header is optional for
files written by others.

JSON document of one entity (``.json``)
---------------------------------------

An object with the header under ``"clen_core"`` and the records, in order,
under ``"records"``; our writer puts one record a line::

    {"clen_core": {"format": "entity", "entity": "activity", ...},
    "records": [
    {"activity_id": "ACT-2024-001", "action": 5, ...},
    {"activity_id": "ACT-2024-002", "action": 5, ...}
    ]}

A bare JSON array of records (``[{...}, {...}]``) and a document without the
``"clen_core"`` header read too; records written by others may leave out
optional fields and give the fields in any order. Other keys at the top level
are an error.

JSON dataset document (``.json``)
---------------------------------

All the entities of a :class:`clen_core.Dataset` in one document, written by
``clen_core.write(dataset, "x.json")`` and read by
``clen_core.read_dataset("x.json")``: the records of each entity in an array
under ``"entities"``, keyed by entity name::

    {"clen_core": {"format": "dataset", "library_version": "0.1.0", "entities": {...}},
    "entities": {
    "activity": [
    {"activity_id": "ACT-2024-001", ...},
    {"activity_id": "ACT-2024-002", ...}
    ],
    "laboratory": [
    {"lab_id": "...", ...}
    ]
    }}

The header's ``entities`` names each entity of the document with its schema
version, in the order of the arrays: ``{"activity": {"schema_version": 1},
"laboratory": {"schema_version": 1}}``. Reading a dataset document with
``clen_core.read`` (or an entity document or bare array with
``clen_core.read_dataset``) is an error that says which to use.

JSON Lines (``.jsonl``, ``.ndjson``)
------------------------------------

One JSON object a line (UTF-8, lines ending in ``\\n``; ``\\r\\n`` reads too).
The first line may be the header, as ``{"clen_core": {...}}`` (our writer
always writes it); every other line is one record. Blank lines are skipped::

    {"clen_core": {"format": "entity", "entity": "activity", ...}}
    {"activity_id": "ACT-2024-001", "action": 5, ...}
    {"activity_id": "ACT-2024-002", "action": 5, ...}

Reading
-------

Both readers stream: memory does not grow with the number of records. Numbers
are read exactly: a number with a fraction or an exponent is read as a
decimal, so ``1250.5`` or ``123456789012345.67`` in a money field keeps every
digit, and a float field gets the float nearest to the written number (the
same float the writer wrote). ``NaN`` and ``Infinity`` are not JSON and are
refused. A UTF-8 byte order mark at the start is skipped. A header is checked
where it stands (our writers put it first, before any record).

Row numbers (in rejects and findings) are 1-based: in a JSON document, the
record's position in its array (first record = row 1, in each entity's array
of a dataset document); in JSON Lines, the line number in the file (the
header is line 1).

A record that cannot be read is rejected, naming its row, and the good records
are kept: an item of the array (or a line) that is not a JSON object; a key
that appears twice in one object, nested objects included (never silently
resolved); in a JSON document a list or object of more than ``max_items`` items,
or a record of more than 16 × ``max_items`` values in all (naming the field; the
rest of the value is read and dropped, never held); in JSON Lines also a line
that is not valid JSON, not valid UTF-8, nested deeper than ``max_nesting_depth``
or longer than ``max_field_bytes`` (the limits of :mod:`clen_core.limits`; such a
line is not kept in memory). A record that is an object but does not fit the
entity (wrong type, bad code, missing or unknown field, a list of more than
``max_items``, ...) is rejected naming the field.

Text is read exactly as JSON says it. A ``\\ud800`` escape without its pair (a
lone surrogate, which no Unicode text holds) is read as that lone surrogate (ijson's
C parser would make it ``?``: a document holding one is read by ijson's Python
parser instead), so its record is rejected naming the field, and the rejects file
writes it back as the escape it was.

A file that cannot be read as a whole is a
:class:`clen_core.io.formats.FormatError` naming the file and, when inside an
array, the row reached (and, in a dataset document, the entity); it is raised
after the good records before the fault were read. That is: malformed or
truncated JSON; an empty file; a document that is not an object or an array;
unknown or repeated keys at the top level; a header that names another
entity, another schema version or the other kind of document; an unknown
entity in a dataset document; nesting deeper than ``max_nesting_depth`` (100 levels,
:mod:`clen_core.limits`); one string, number or run of white space longer than
``max_field_bytes`` (1 MiB)
in a JSON document; in JSON Lines, a bad header line, a JSON document given
as JSON Lines, or an empty file.

Detection
---------

A file whose name ends in none of the extensions above is recognised by its
first bytes when it starts with our header: ``{"clen_core": {...}}`` alone on
the first line is JSON Lines; ``{"clen_core": {...},`` is a JSON document.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import IO, Any

import ijson
import pyarrow as pa
import pyarrow.compute as pc

import clen_core
from clen_core.plugin_api import (
    FIRST_DAY,
    LAST_DAY,
    ClenError,
    EntityInfo,
    Format,
    FormatError,
    ListShape,
    MapShape,
    RawRecord,
    RowProblem,
    ScalarShape,
    Shape,
    get_entity,
    hookimpl,
    json_rows,
    limits,
)

__all__ = [
    "JSON",
    "JSONL",
    "MAX_DEPTH",
    "clen_detect_format",
    "clen_register_formats",
    "read",
    "read_dataset",
    "read_lines",
    "write",
    "write_dataset",
    "write_lines",
]

MAX_DEPTH = 100
"""The default deepest nesting of arrays and objects (records need a few); the limit in
force is ``clen_core.limits.current().max_nesting_depth``."""

_BUFFER = 64 * 1024
_BOM = b"\xef\xbb\xbf"
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False)
_TEXT_LIMIT = 100_000
"""Characters of a rejected item kept as its text (the rest is cut)."""

Item = RawRecord | RowProblem


# --------------------------------------------------------------------------- the header


def _entity_header(info: EntityInfo) -> dict[str, Any]:
    return {
        "format": "entity",
        "entity": info.name,
        "schema_version": info.version,
        "library_version": clen_core.__version__,
        "key": list(info.key),
        "fields": {f.name: f.description for f in info.fields},
    }


def _dataset_header(infos: Iterable[EntityInfo]) -> dict[str, Any]:
    return {
        "format": "dataset",
        "library_version": clen_core.__version__,
        "entities": {info.name: {"schema_version": info.version} for info in infos},
    }


def _use_read(entity: object) -> str:
    name = entity if isinstance(entity, str) else "..."
    return f"read it with clen_core.read(path, entity={name!r})"


_USE_READ_DATASET = (
    "this is a dataset document (several entities): read it with clen_core.read_dataset(path)"
)


def _check_version(path: str, info: EntityInfo, version: object) -> None:
    if version is None:
        return
    if type(version) is not int:
        raise FormatError(path, f"the header's schema_version {version!r} is not a whole number")
    if version != info.version:
        raise FormatError(
            path,
            f"written with schema version {version} of {info.name!r}; "
            f"this clen_core reads version {info.version}",
        )


def _check_header(
    path: str, header: Any, info: EntityInfo | None, *, lines: bool = False
) -> EntityInfo | None:
    """Check a ``clen_core`` header against what is being read (``info``: one entity).

    Read as a dataset (``info`` None), a document of one entity that names it
    is a dataset of that one entity: its entity is returned.
    """
    if not isinstance(header, dict):
        raise FormatError(path, f"the 'clen_core' header must be an object, not {_kind(header)}")
    kind = header.get("format")
    if kind not in ("entity", "dataset"):
        raise FormatError(
            path, f"the 'clen_core' header's format is {kind!r}; expected 'entity' or 'dataset'"
        )
    if info is not None:
        if kind == "dataset":
            if lines:
                raise FormatError(path, "a JSON Lines file holds one entity, not a dataset")
            raise FormatError(path, _USE_READ_DATASET)
        name = header.get("entity")
        if name is not None and name != info.name:
            raise FormatError(
                path, f"the file holds {name!r} records, not {info.name!r}: {_use_read(name)}"
            )
        _check_version(path, info, header.get("schema_version"))
        return None
    if kind == "entity":
        name = header.get("entity")
        if not isinstance(name, str):
            raise FormatError(
                path, "this is a document of one entity that does not name it: " + _use_read(None)
            )
        named = _known_entity(path, name)
        _check_version(path, named, header.get("schema_version"))
        return named
    listed = header.get("entities", {})
    if not isinstance(listed, dict):
        raise FormatError(path, "the 'clen_core' header's 'entities' must be an object")
    for name, meta in listed.items():
        version = meta.get("schema_version") if isinstance(meta, dict) else None
        _check_version(path, _known_entity(path, name), version)
    return None


def _known_entity(path: str, name: str) -> EntityInfo:
    try:
        return get_entity(name)
    except ClenError:
        raise FormatError(path, f"unknown entity {name!r} in the dataset document") from None


# --------------------------------------------------------------------------- writing


_LINE_BREAKS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}
"""Characters that some line readers (Python's ``str.splitlines``, ...) take for line breaks."""


def _encode(value: Any) -> bytes:
    text = _ENCODER.encode(value)
    for char, escaped in _LINE_BREAKS.items():
        if char in text:
            text = text.replace(char, escaped)
    return text.encode("utf-8")


def _encode_rows(rows: list[dict[str, Any]], sep: str) -> bytes:
    text = sep.join(map(_ENCODER.encode, rows))
    for char, escaped in _LINE_BREAKS.items():
        if char in text:
            text = text.replace(char, escaped)
    return text.encode("utf-8")


# The columnar encoder: each column's JSON text is made by Arrow compute kernels and
# the columns joined into lines, instead of a dict and json.dumps per row (ten times
# slower). It writes exactly what the per-row encoder writes (tests check it byte for
# byte); a column it does not know how to match exactly raises _PerRow, and the batch
# is encoded row by row, as before.

_TEXT = pa.large_string()
_ESCAPED = r'[\x00-\x1f"\\\x{85}\x{2028}\x{2029}]'
"""Characters a JSON string cannot hold as they are (JSON's), or that some line readers
split lines at (``_LINE_BREAKS``): strings with one are encoded one by one."""
_SHORTEST_DECIMAL_SCALE = 6
"""Up to this scale ``str(Decimal)`` writes every value of a decimal column without an
exponent, as Arrow's cast to text does."""


class _PerRow(Exception):
    """A column (or value) the columnar encoder leaves to the per-row encoder."""


@functools.cache
def _lit(text: str) -> pa.Scalar:
    # Made when first used: pa.scalar at import would load pandas (see test_startup).
    return pa.scalar(text, _TEXT)


def _join(*parts: Any) -> pa.Array:
    return pc.binary_join_element_wise(*parts, _lit(""))


def _quoted(texts: pa.Array) -> pa.Array:
    """Strings as JSON strings (nulls stay null)."""
    texts = texts.cast(_TEXT)
    quoted = _join(_lit('"'), texts, _lit('"'))
    special = pc.fill_null(pc.match_substring_regex(texts, _ESCAPED), False)
    if pc.any(special).as_py():
        escaped = [_encode(v).decode("utf-8") for v in texts.filter(special).to_pylist()]
        quoted = pc.replace_with_mask(quoted, special, pa.array(escaped, _TEXT))
    return quoted


def _floats(values: pa.Array) -> pa.Array:
    """Doubles as Python's ``repr`` writes them (which json.dumps uses)."""
    if pc.any(pc.invert(pc.is_finite(values))).as_py():
        raise _PerRow  # JSON has no NaN: the per-row encoder refuses it, as it did
    texts = values.cast(_TEXT)
    # Arrow writes the same shortest round-trip digits as Python, laid out the same
    # between 1e-4 and 1e16 (where Python writes no exponent) when Arrow writes no
    # exponent either; Python then adds ".0" to a whole number. Other values (rare in
    # measurements) are written by Python.
    size = pc.abs(values)
    plain = pc.and_(
        pc.or_(pc.and_(pc.greater_equal(size, 1e-4), pc.less(size, 1e16)), pc.equal(size, 0)),
        pc.invert(pc.match_substring(texts, "e")),
    )
    texts = pc.if_else(pc.match_substring(texts, "."), texts, _join(texts, _lit(".0")))
    other = pc.invert(pc.fill_null(plain, True))
    if pc.any(other).as_py():
        written = [repr(v) for v in values.filter(other).to_pylist()]
        texts = pc.replace_with_mask(texts, other, pa.array(written, _TEXT))
    return texts


def _nested(
    offsets: pa.Array, items: pa.Array, valid: pa.Array, sep: str, ends: tuple[str, str]
) -> pa.Array:
    """Each list of ``items`` (JSON texts, by ``offsets``) joined with ``sep`` in ``ends``."""
    lists = pa.LargeListArray.from_arrays(offsets.cast(pa.int64()), items, mask=pc.invert(valid))
    joined = pc.binary_join(lists, _lit(sep))
    return _join(_lit(ends[0]), joined, _lit(ends[1]))


def _dates(column: pa.Array) -> pa.Array:
    """Dates as ISO text (Python's dates: a date beyond them is left to the per-row encoder,
    which refuses it)."""
    days = pc.min_max(column.cast(pa.int32()))
    low, high = days["min"].as_py(), days["max"].as_py()
    if low is not None and (low < FIRST_DAY or high > LAST_DAY):
        raise _PerRow
    return column.cast(_TEXT)


def _is_text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _is_exact_decimal(kind: pa.DataType) -> bool:
    return bool(pa.types.is_decimal(kind) and 0 <= kind.scale <= _SHORTEST_DECIMAL_SCALE)


def _json_texts(column: pa.Array, shape: Shape, *, nested: bool = False) -> pa.Array:
    """The JSON text of each value of ``column``, a field of ``shape`` (or, ``nested``, an
    item of one), as the per-row encoder writes it; null where the value is null."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        return pc.take(_json_texts(column.dictionary, shape, nested=nested), column.indices)
    if pa.types.is_map(kind) or pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return _json_nested(column, shape)
    if not isinstance(shape, ScalarShape):
        raise _PerRow  # the per-row encoder follows the shape, whatever the values
    # A field's date or decimal is made JSON-ready (text) only where the shape says
    # so, or inside a list or mapping; elsewhere json.dumps refuses it, as it did.
    as_text = nested or shape.py in (Decimal, dt.date)
    if _is_text(kind):
        return _quoted(column)
    if pa.types.is_integer(kind):
        return column.cast(_TEXT)
    if pa.types.is_boolean(kind):
        return pc.if_else(column, _lit("true"), _lit("false"))
    if pa.types.is_float64(kind):
        return _floats(column)
    if as_text and pa.types.is_date32(kind):
        return _quoted(_dates(column))
    if as_text and _is_exact_decimal(kind):
        return _quoted(column.cast(_TEXT))
    raise _PerRow


def _json_nested(column: pa.Array, shape: Shape) -> pa.Array:
    """The JSON text of lists (arrays) and maps (objects)."""
    if pa.types.is_map(column.type):
        if not isinstance(shape, MapShape):
            raise _PerRow
        keys, values = column.values.flatten()
        if not _is_text(keys.type):
            raise _PerRow
        texts = pc.fill_null(_json_texts(values, shape.value, nested=True), _lit("null"))
        pairs = _join(_quoted(keys), _lit(": "), texts)
        _refuse_repeated_keys(column.offsets, keys)
        return _nested(column.offsets, pairs, column.is_valid(), ", ", ("{", "}"))
    if not isinstance(shape, ListShape):
        raise _PerRow
    items = pc.fill_null(_json_texts(column.values, shape.item, nested=True), _lit("null"))
    return _nested(column.offsets, items, column.is_valid(), ", ", ("[", "]"))


def _refuse_repeated_keys(offsets: pa.Array, keys: pa.Array) -> None:
    """A key twice in one map is written once by the per-row encoder (a dict): left to it."""
    lists = pa.LargeListArray.from_arrays(offsets.cast(pa.int64()), keys)
    pairs = pa.table({"map": pc.list_parent_indices(lists), "key": pc.list_flatten(lists)})
    n = pairs.num_rows
    if n < 2:
        return
    # Sorted by map and key, a repeated key is next to itself (a sort, unlike a hash
    # group-by, starts no thread pool).
    pairs = pairs.take(
        pc.sort_indices(pairs, sort_keys=[("map", "ascending"), ("key", "ascending")])
    )
    maps, names = (pairs.column(i).combine_chunks() for i in range(2))
    same_map = pc.equal(maps.slice(1), maps.slice(0, n - 1))
    if pc.any(pc.and_(same_map, pc.equal(names.slice(1), names.slice(0, n - 1)))).as_py():
        raise _PerRow


def _bare(column: pa.Array, shape: Shape) -> pa.Array | None:
    """The text of a column of strings (or dates, or decimals) with no null and nothing to
    escape, to write as it is between quotes; else None."""
    kind = column.type
    if column.null_count or not isinstance(shape, ScalarShape):
        return None
    if shape.py in (Decimal, dt.date):
        if pa.types.is_date32(kind):
            return _dates(column)
        if _is_exact_decimal(kind):
            return column.cast(_TEXT)
    if not _is_text(kind) or pc.any(pc.match_substring_regex(column, _ESCAPED)).as_py():
        return None
    return column.cast(_TEXT)


def _encode_batch(batch: pa.RecordBatch, info: EntityInfo, end: str) -> memoryview | bytes:
    """The records of ``batch``, each followed by ``end``, exactly as
    ``_encode_rows(json_rows(batch, info), end)`` writes them with ``end`` after the last."""
    fields = [f for f in info.fields if f.name in batch.schema.names]
    if not fields:
        return _encode_rows(json_rows(batch, info), end) + end.encode()
    parts: list[Any] = []
    literal = "{"  # the text between two columns' values, which is the same on every line
    try:
        for i, f in enumerate(fields):
            literal += (", " if i else "") + _ENCODER.encode(f.name) + ": "
            column = batch.column(f.name)
            bare = _bare(column, f.shape)
            if bare is not None:  # the quotes go into the literals: one copy fewer
                parts += [pa.scalar(literal + '"', _TEXT), bare]
                literal = '"'
            else:
                parts += [
                    pa.scalar(literal, _TEXT),
                    pc.fill_null(_json_texts(column, f.shape), _lit("null")),
                ]
                literal = ""
    except _PerRow:
        return _encode_rows(json_rows(batch, info), end) + end.encode()
    lines = _join(*parts, pa.scalar(literal + "}" + end, _TEXT))
    offsets, data = lines.buffers()[1:]
    stops = memoryview(offsets).cast("q")
    return memoryview(data)[stops[lines.offset] : stops[lines.offset + len(lines)]]


def _write_records(
    sink: IO[bytes], info: EntityInfo, batches: Iterable[pa.RecordBatch], first: bytes
) -> None:
    """Records one a line, separated by commas; ``first`` goes before the first."""
    sep = first
    for batch in batches:
        if batch.num_rows:
            sink.write(sep)
            sink.write(_encode_batch(batch, info, ",\n")[:-2])
            sep = b",\n"


def write(
    sink: IO[bytes], entity: EntityInfo, batches: Iterable[pa.RecordBatch], path: str = "<stream>"
) -> None:
    """Write a JSON document of one entity: the header, then the records one a line.

    ``path`` (the file written) is the format contract's: every value has a JSON form."""
    sink.write(b'{"clen_core": ' + _encode(_entity_header(entity)) + b',\n"records": [')
    _write_records(sink, entity, batches, b"\n")
    sink.write(b"\n]}\n")


def write_dataset(
    sink: IO[bytes],
    tables: Iterable[tuple[EntityInfo, Iterable[pa.RecordBatch]]],
    path: str = "<stream>",
) -> None:
    """Write a JSON dataset document: the header, then each entity's records in an array."""
    tables = list(tables)  # the entities, for the header; their batches stay lazy
    sink.write(
        b'{"clen_core": '
        + _encode(_dataset_header(info for info, _ in tables))
        + b',\n"entities": {'
    )
    for i, (info, batches) in enumerate(tables):
        sink.write((b",\n" if i else b"\n") + _encode(info.name) + b": [")
        _write_records(sink, info, batches, b"\n")
        sink.write(b"\n]")
    sink.write(b"\n}}\n")


def write_lines(
    sink: IO[bytes], entity: EntityInfo, batches: Iterable[pa.RecordBatch], path: str = "<stream>"
) -> None:
    """Write JSON Lines: the header line, then one record a line (``path``: as for
    :func:`write`)."""
    sink.write(_encode({"clen_core": _entity_header(entity)}) + b"\n")
    for batch in batches:
        if batch.num_rows:
            sink.write(_encode_batch(batch, entity, "\n"))


# --------------------------------------------------------------------------- reading documents


class _TooDeep(Exception):
    pass


class _TooLong(Exception):
    pass


class _Position:
    """Where the reader is, for error messages: the array and the row being read."""

    __slots__ = ("name", "row")

    def __init__(self) -> None:
        self.name: str | None = None
        self.row: int | None = None


class _Surrogates(Exception):
    """The document escapes a lone surrogate (``\\ud800``): parse it with ijson's Python parser."""


# ijson's C parser (yajl) reads a \ud800 escape without its pair as "?", two high
# surrogates as one wrong character, and a lone low one not at all (a codec error for
# the whole file): the text would change silently, or the file fail naming no row.
# ijson's Python parser keeps them exactly (a string holding the lone surrogate), which
# the entity's check then refuses, naming the row and field. Such escapes are rare:
# finding one switches the document to that parser, from its start.
_LONE_SURROGATE = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)
_HIGH_SURROGATE = re.compile(rb"\\u[dD][89abAB]")
_ESCAPE_BYTES = 12
"""A surrogate pair's escapes: \\ud83d\\ude00."""


def _parse(source: IO[bytes]) -> Iterator[tuple[str, Any]]:
    """The parser's events of a JSON document, chunk by chunk (numbers exact).

    When the parser fails, the events it produced before the failure come first,
    so the records before a fault are still read; then its exception is raised.
    A document escaping a lone surrogate is read again by ijson's Python parser, its
    events from where the first left off (see ``_LONE_SURROGATE``).
    """
    start = source.tell()
    given = 0
    try:
        for event in _events(source, ijson.basic_parse_coro, scan=True):
            given += 1
            yield event
    except _Surrogates:
        source.seek(start)
        python = ijson.get_backend("python").basic_parse_coro
        for n, event in enumerate(_events(source, python, scan=False)):
            if n >= given:
                yield event


def _events(source: IO[bytes], make: Any, *, scan: bool) -> Iterator[tuple[str, Any]]:
    """The events of parser ``make`` over ``source`` (``scan``: raise :class:`_Surrogates`
    before the parser sees a lone surrogate's escape)."""
    events = ijson.sendable_list()
    parser = make(events, use_float=False)
    max_bytes = limits.current().max_field_bytes
    quiet = 0  # bytes fed since the parser last produced an event
    held = seen = b""  # bytes not fed yet; the end of those fed
    first = True
    while True:
        chunk = source.read(_BUFFER)
        if first and chunk.startswith(_BOM):  # a byte order mark, which the parser refuses
            chunk = chunk[len(_BOM) :]
        first = False
        end = not chunk
        data = held + chunk
        fed = data
        if scan and data:
            cut = len(data)
            if not end:  # a high surrogate's escape at the end waits for what follows it
                near_end = _HIGH_SURROGATE.search(data, max(len(data) - _ESCAPE_BYTES, 0))
                if near_end is not None:
                    cut = near_end.start()
            context = seen + data
            if any(m.start() < len(seen) + cut for m in _LONE_SURROGATE.finditer(context)):
                raise _Surrogates  # before the parser has seen it
            fed, held = data[:cut], data[cut:]
            seen = (seen + fed)[-_ESCAPE_BYTES:]
        try:
            if fed:
                parser.send(fed)
            if end:
                parser.close()  # checks that the document is complete
        except ijson.JSONError:
            yield from events
            raise
        except Exception:
            # A value the parser could not convert (a number of thousands of digits): its
            # event, the last one, is unusable.
            yield from events[:-1]
            raise
        yield from events
        if end:
            return
        # One token (a string, a number, white space) longer than the limit would sit whole
        # in the parser's memory: stop once that many bytes have given no event.
        quiet = 0 if events else quiet + len(fed)
        if quiet > max_bytes:
            raise _TooLong
        del events[:]


def _kind(value: Any, event: str = "") -> str:
    """What a JSON value is, in words (``event``: the parser's event that starts it)."""
    if event == "start_map":
        return "an object"
    if event == "start_array":
        return "an array"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int | float | Decimal):
        return "a number"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _clip(text: str) -> str:
    return text if len(text) <= _TEXT_LIMIT else text[:_TEXT_LIMIT] + "…"


def _text(value: Any) -> str:
    return _clip(json.dumps(value, ensure_ascii=False, default=repr))


def _duplicates(keys: list[str]) -> str:
    return "; ".join(f"key {k!r} appears twice" for k in dict.fromkeys(keys))


_END = ("end_map", "end_array")


class _TooMany:
    """A value left unread: it holds more items than the limits let a record hold."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"<not kept: {self.reason}>"


_ALL_ITEMS_PER_LIMIT = 16
"""A record holds at most this many times ``max_items`` values in all (nested included)."""


def _skip(events: Iterator[tuple[str, Any]], open_containers: int) -> None:
    """Consume the events of the ``open_containers`` containers left open, keeping nothing."""
    for event, _ in events:
        if event == "start_map" or event == "start_array":
            open_containers += 1
        elif event in _END:
            open_containers -= 1
            if not open_containers:
                return
    raise ijson.IncompleteJSONError("parse error: premature EOF")  # pragma: no cover


def _value(
    events: Iterator[tuple[str, Any]], event: str, value: Any, depth: int, room: list[int]
) -> tuple[Any, list[str]]:
    """The JSON value that starts with ``(event, value)`` at nesting ``depth``, built from
    the parser's events without recursion, and the keys that appear twice in its objects.

    ``room``: the values the record may still hold (one number, shared by its fields). A
    list or object of more than ``max_items``, or a record past its room, is read no
    further: the value is a :class:`_TooMany` (memory stays bounded by the limits)."""
    if event == "start_map":
        root: Any = {}
    elif event == "start_array":
        root = []
    else:
        return value, []
    limit = limits.current()
    max_depth, max_items = limit.max_nesting_depth, limit.max_items
    if depth >= max_depth:
        raise _TooDeep
    dups: list[str] = []
    stack: list[Any] = [root]
    keys: list[Any] = [None]
    for event, value in events:
        if event == "map_key":
            if value in stack[-1]:
                dups.append(value)
            keys[-1] = value
            continue
        if event in _END:
            stack.pop()
            keys.pop()
            if not stack:
                return root, dups
            continue
        if event == "start_map":
            item: Any = {}
        elif event == "start_array":
            item = []
        else:
            item = value
        top = stack[-1]
        if type(top) is list:
            top.append(item)
        else:
            top[keys[-1]] = item
        room[0] -= 1
        if len(top) > max_items or room[0] < 0:
            open_containers = len(stack) + (event == "start_map" or event == "start_array")
            _skip(events, open_containers)
            what = "an object of" if type(top) is dict else "a list of"
            reason = (
                f"{what} more than {max_items:,} items (max_items)"
                if len(top) > max_items
                else f"more than {_ALL_ITEMS_PER_LIMIT * max_items:,} values in all "
                f"({_ALL_ITEMS_PER_LIMIT} × max_items)"
            )
            return _TooMany(reason), dups
        if event == "start_map" or event == "start_array":
            stack.append(item)
            keys.append(None)
            if depth + len(stack) > max_depth:
                raise _TooDeep
    raise ijson.IncompleteJSONError("parse error: premature EOF")  # pragma: no cover


def _room() -> list[int]:
    return [_ALL_ITEMS_PER_LIMIT * limits.current().max_items]


def _record(
    events: Iterator[tuple[str, Any]], depth: int
) -> tuple[dict[str, Any], list[str], tuple[str, str] | None]:
    """An object whose ``start_map`` at nesting ``depth`` has been read: :func:`_value`, with a
    fast path for the flat fields of a record. The third item: ``(field, reason)`` of the
    first value left unread (:class:`_TooMany`)."""
    if depth >= limits.current().max_nesting_depth:
        raise _TooDeep
    max_items = limits.current().max_items
    room = _room()
    record: dict[str, Any] = {}
    dups: list[str] = []
    unread: tuple[str, str] | None = None
    key = ""
    for event, value in events:
        if event == "map_key":
            if value in record:
                dups.append(value)
            key = value
        elif event == "end_map":
            return record, dups, unread
        elif event == "start_map" or event == "start_array":
            record[key], inner = _value(events, event, value, depth + 1, room)
            dups += inner
            if isinstance(record[key], _TooMany) and unread is None:
                unread = (key, record[key].reason)
        else:
            record[key] = value
        if len(record) > max_items and unread is None:
            _skip(events, 1)
            return record, dups, (key, f"an object of more than {max_items:,} fields (max_items)")
    raise ijson.IncompleteJSONError("parse error: premature EOF")  # pragma: no cover


def _items(
    events: Iterator[tuple[str, Any]], name: str, pos: _Position, depth: int
) -> Iterator[tuple[str, Item]]:
    """The records of one array, whose ``start_array`` has been read."""
    pos.name = name
    pos.row = 1
    for row, (event, value) in enumerate(events, 1):
        if event == "end_array":
            pos.name = pos.row = None
            return
        unread = None
        if event == "start_map":
            item, dups, unread = _record(events, depth)
        else:
            item, dups = _value(events, event, value, depth, _room())
        pos.row = row + 1
        if isinstance(item, _TooMany):
            yield name, RowProblem(row, item.reason, repr(item))
        elif type(item) is not dict:
            yield name, RowProblem(row, f"expected a JSON object, got {_kind(item)}", _text(item))
        elif unread is not None:
            field, reason = unread
            yield name, RowProblem(row, reason, _text(item), field=field)
        elif dups:
            yield name, RowProblem(row, _duplicates(dups), _text(item))
        else:
            yield name, RawRecord(row, item)
    raise ijson.IncompleteJSONError("parse error: premature EOF")  # pragma: no cover


def _entities(
    events: Iterator[tuple[str, Any]], path: str, pos: _Position
) -> Iterator[tuple[str, Item]]:
    """The arrays of a dataset document's ``"entities"`` object, whose start has been read."""
    seen: set[str] = set()
    for event, value in events:
        if event == "end_map":
            return
        if value in seen:
            raise FormatError(path, f"entity {value!r} appears twice in 'entities'")
        seen.add(value)
        info = _known_entity(path, value)
        event, first = next(events)
        if event != "start_array":
            raise FormatError(
                path, f"'entities' / {value!r} must be an array, not {_kind(first, event)}"
            )
        yield from _items(events, info.name, pos, 3)
    raise ijson.IncompleteJSONError("parse error: premature EOF")  # pragma: no cover


def _top_object(
    events: Iterator[tuple[str, Any]], path: str, info: EntityInfo | None, pos: _Position
) -> Iterator[tuple[str, Item]]:
    """The wrapper object, whose ``start_map`` has been read."""
    body = "entities" if info is None else "records"
    named: EntityInfo | None = None  # a one-entity document read as a dataset
    seen: set[str] = set()
    for event, key in events:
        if event == "end_map":
            break
        if key in seen:
            raise FormatError(path, f"key {key!r} appears twice at the top level")
        seen.add(key)
        event, value = next(events)
        if key == "clen_core":
            header, dups = _value(events, event, value, 1, _room())
            if dups:
                raise FormatError(path, f"the 'clen_core' header: {_duplicates(dups)}")
            named = _check_header(path, header, info)
            if named is not None:
                body = "records"
        elif key == "records" and (target := info or named) is not None:
            if event != "start_array":
                raise FormatError(path, f"'records' must be an array, not {_kind(value, event)}")
            yield from _items(events, target.name, pos, 2)
        elif key == "entities" and info is None and named is None:
            if event != "start_map":
                raise FormatError(path, f"'entities' must be an object, not {_kind(value, event)}")
            yield from _entities(events, path, pos)
        elif key == "entities":
            raise FormatError(path, _USE_READ_DATASET)
        elif key == "records":
            raise FormatError(path, "this is a document of one entity: " + _use_read(None))
        else:
            raise FormatError(
                path,
                f"unexpected key {key!r} at the top level: a clen_core document has "
                f"'clen_core' and {body!r}",
            )
    if body not in seen:
        raise FormatError(path, f"the document has no {body!r}")


_TOO_EARLY = "the JSON ends too early (is the file cut short?)"


def _json_error(exc: BaseException) -> str:
    message: Any = exc.args[0] if exc.args else ""
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    first = str(message).strip().split("\n", 1)[0].strip().rstrip(".")
    if "premature EOF" in first:
        return _TOO_EARLY
    if isinstance(exc, _TooLong):
        return (
            f"a string, number or run of white space longer than "
            f"{limits.current().max_field_bytes:,} bytes (max_field_bytes)"
        )
    if isinstance(exc, RecursionError | _TooDeep):
        return f"nested more than {limits.current().max_nesting_depth} levels deep"
    if isinstance(exc, SystemError | ValueError) and not isinstance(exc, ijson.JSONError):
        cause = exc.__cause__ or exc.__context__
        first = str(cause or exc).split("\n", 1)[0].split(":", 1)[0]
        return f"a value cannot be read ({first})"
    return f"not valid JSON ({first or type(exc).__name__})"


def _walk(source: IO[bytes], path: str, info: EntityInfo | None) -> Iterator[tuple[str, Item]]:
    """``(entity name, record)`` of a JSON document: of ``info`` or, if None, a dataset."""
    pos = _Position()
    events = _parse(source)
    started = False
    try:
        event, value = next(events, ("", None))
        started = bool(event)
        if event == "start_map":
            yield from _top_object(events, path, info, pos)
        elif event == "start_array":
            if info is None:
                raise FormatError(
                    path, "this is an array of records of one entity: " + _use_read(None)
                )
            yield from _items(events, info.name, pos, 1)
        else:
            raise FormatError(
                path, f"expected a JSON object or an array of records, got {_kind(value)}"
            )
        for _ in events:  # the parser checks there is nothing after the document
            raise FormatError(path, "unexpected content after the document")  # pragma: no cover
    except FormatError:
        raise
    except (ijson.JSONError, _TooDeep, _TooLong, RecursionError, ValueError, SystemError) as exc:
        message = _json_error(exc)
        if not started and message == _TOO_EARLY:
            message = "the file is empty (or only white space)"
        where = f" (in the {pos.name!r} records)" if info is None and pos.name else ""
        raise FormatError(path, message + where, row=pos.row) from None


def read(source: IO[bytes], entity: EntityInfo, path: str) -> Iterator[Item]:
    """The records of a JSON document of one entity (or a bare array of records), streaming."""
    for _, item in _walk(source, path, entity):
        yield item


def read_dataset(source: IO[bytes], path: str) -> Iterator[tuple[str, Item]]:
    """``(entity name, record)`` of every record of a JSON dataset document, streaming;
    a document of one entity whose header names it reads as a dataset of that entity."""
    return _walk(source, path, None)


# --------------------------------------------------------------------------- reading JSON Lines


class _Pairs:
    """An ``object_pairs_hook`` that builds dicts and notes the keys that appear twice."""

    __slots__ = ("dups",)

    def __init__(self) -> None:
        self.dups: list[str] = []

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(pairs)
        if len(result) != len(pairs):
            seen: set[str] = set()
            for k, _ in pairs:
                if k in seen:
                    self.dups.append(k)
                seen.add(k)
        return result


_HEADER_START = re.compile(r'\s*\{\s*"clen_core"\s*:')


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _bounded_lines(source: IO[bytes], max_bytes: int) -> Iterator[tuple[int, bytes, bool]]:
    """``(line number, line, whole)``: a line longer than ``max_bytes`` comes cut
    (``whole`` false), the rest of it skipped without holding it in memory."""
    number = 0
    while raw := source.readline(max_bytes + 1):
        number += 1
        if len(raw) <= max_bytes or raw.endswith(b"\n"):
            yield number, raw, True
            continue
        rest = raw
        while rest and not rest.endswith(b"\n"):
            rest = source.readline(max_bytes + 1)
        yield number, raw, False


def read_lines(source: IO[bytes], entity: EntityInfo, path: str) -> Iterator[Item]:
    """The records of a JSON Lines file, streaming; the row is the line number."""
    pairs = _Pairs()
    decode = json.JSONDecoder(
        parse_float=Decimal, parse_constant=_no_constant, object_pairs_hook=pairs
    ).decode
    first = True
    found = False
    limit = limits.current()
    for number, raw, whole in _bounded_lines(source, limit.max_field_bytes):
        if not raw.strip():
            continue
        found = True
        if not whole:
            text = raw[:_TEXT_LIMIT].decode("utf-8", "replace")
            reason = f"line longer than {limit.max_field_bytes:,} bytes (max_field_bytes)"
            yield RowProblem(number, reason, _clip(text) + "…")
            first = False
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            yield RowProblem(
                number, f"not valid UTF-8 (byte {exc.start + 1} of the line)", _clip(text)
            )
            first = False
            continue
        if first and line.startswith("\ufeff"):
            line = line[1:]
        line = line.rstrip("\r\n")
        if limits.json_too_deep(line, limit.max_nesting_depth):
            reason = f"not readable: nested more than {limit.max_nesting_depth} levels deep"
            yield RowProblem(number, reason, _clip(line))
            first = False
            continue
        pairs.dups.clear()
        try:
            value = decode(line)
        except json.JSONDecodeError as exc:
            if first and _HEADER_START.match(line):
                raise FormatError(
                    path, "this is a JSON document, not JSON Lines: read it with format='json'"
                ) from None
            problem = f"not valid JSON: {exc.msg} (column {exc.colno})"
            yield RowProblem(number, problem, _clip(line))
            first = False
            continue
        except RecursionError:
            yield RowProblem(number, "not readable: nested too deeply", _clip(line))
            first = False
            continue
        except ValueError as exc:
            reason = str(exc).split(":", 1)[0]  # e.g. a number of thousands of digits
            yield RowProblem(number, f"not valid JSON: {reason}", _clip(line))
            first = False
            continue
        if first and type(value) is dict and "clen_core" in value:
            first = False
            if pairs.dups:
                raise FormatError(path, f"the header line: {_duplicates(pairs.dups)}", row=number)
            if len(value) != 1:
                others = ", ".join(repr(k) for k in value if k != "clen_core")
                raise FormatError(path, f"the header line has other keys: {others}", row=number)
            _check_header(path, value["clen_core"], entity, lines=True)
            continue
        first = False
        if type(value) is not dict:
            yield RowProblem(number, f"expected a JSON object, got {_kind(value)}", _clip(line))
        elif pairs.dups:
            yield RowProblem(number, _duplicates(pairs.dups), _clip(line))
        else:
            yield RawRecord(number, value)
    if not found:  # never written by us (our header comes first): a transfer cut short?
        raise FormatError(
            path, "the file is empty (or only white space): no header line and no records"
        )


# --------------------------------------------------------------------------- registration


def read_dataset_lines(source: IO[bytes], path: str) -> Iterator[tuple[str, Item]]:
    """``(entity name, record)`` of a JSON Lines file whose header line names its entity:
    a dataset of that one entity (so that the file says what it holds)."""
    start = source.tell()
    line = source.readline(limits.current().max_field_bytes).removeprefix(_BOM)
    try:
        header = json.loads(line).get("clen_core") if _HEADER_START.match(line.decode()) else None
    except (ValueError, AttributeError):
        header = None
    if not isinstance(header, dict):
        header = {}
    name = header.get("entity")
    if not isinstance(name, str) or header.get("format") != "entity":
        raise FormatError(
            path, "a JSON Lines file whose header line does not name its entity: " + _use_read(None)
        )
    info = _known_entity(path, name)
    source.seek(start)
    for item in read_lines(source, info, path):
        yield info.name, item


JSON = Format(
    name="json",
    extensions=(".json",),
    description="JSON document: one entity's records, or a whole dataset, with a header",
    flavour="json",
    read=read,
    write=write,
    read_dataset=read_dataset,
    write_dataset=write_dataset,
)
"""The JSON document format."""

JSONL = Format(
    name="jsonl",
    extensions=(".jsonl", ".ndjson"),
    description="JSON Lines: a header line, then one record per line (one entity)",
    flavour="json",
    read=read_lines,
    write=write_lines,
    read_dataset=read_dataset_lines,
)
"""The JSON Lines format."""


@hookimpl
def clen_register_formats(register: Any) -> None:
    """Register the ``json`` and ``jsonl`` formats."""
    register(JSON)
    register(JSONL)


_DECODER = json.JSONDecoder()


@hookimpl
def clen_detect_format(path: str, head: bytes) -> str | None:
    """``"jsonl"`` or ``"json"`` for a file that starts with our header; else None."""
    text = head.removeprefix(_BOM).decode("utf-8", "ignore")
    start = _HEADER_START.match(text)
    if start is None:
        return None
    body = text[start.end() :]
    try:
        header, end = _DECODER.raw_decode(body, len(body) - len(body.lstrip(" \t\r\n")))
    except ValueError:
        return None  # not JSON, or the header goes on past the head: cannot tell
    if not isinstance(header, dict) or header.get("format") not in ("entity", "dataset"):
        return None
    after = body[end:].lstrip(" \t")
    if after.startswith("}") and after[1:].lstrip(" \t")[:1] in ("\n", "\r", ""):
        return "jsonl"  # the header is a whole line
    if after.startswith(","):
        return "json"  # the header is followed by the records
    return None
