"""Records between files and objects: raw records from readers, rejects, and the decoder.

A format's reader yields :class:`RawRecord` (the values of one row, with its
1-based row number in the source) or :class:`RowProblem` (a row it could not
read at all). The :class:`Decoder` turns a raw record into an entity object,
reporting every field that does not fit; values come in one of three
*flavours*, declared by the format:

- ``"text"``: every value is a string or ``None`` (CSV): numbers, dates and
  booleans are parsed; lists and mappings are one JSON document in the cell;
- ``"json"``: JSON values (decimals may arrive as :class:`~decimal.Decimal`
  when the reader parses JSON numbers exactly; dates and decimals as text);
- ``"python"``: already typed (Parquet): Arrow's Python values.

Writers get Arrow record batches in the entity's schema; :func:`json_rows`
turns a batch into JSON-ready dicts, the same form :func:`clen_core.to_json`
gives for an object.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, Literal

import attrs
import pyarrow as pa

from clen_core import limits
from clen_core.errors import FieldError, InvalidObjectError
from clen_core.model.entity import EntityInfo
from clen_core.model.fields import FieldInfo, ListShape, MapShape, ScalarShape, Shape

__all__ = [
    "DATE_TEXT",
    "DECIMAL_TEXT",
    "FALSE_TEXT",
    "FLOAT_TEXT",
    "INT_TEXT",
    "KEPT_CHARACTERS",
    "NON_FINITE",
    "TOO_LARGE_FLOAT",
    "TRUE_TEXT",
    "Decoder",
    "Flavour",
    "RawBatch",
    "RawRecord",
    "Reject",
    "RowProblem",
    "json_bytes",
    "json_ready",
    "json_rows",
    "json_value",
    "kept",
    "records_from_batches",
    "too_many_items",
]

Flavour = Literal["text", "json", "python"]


@attrs.frozen
class RawRecord:
    """One row as a reader found it: its values by field name, and where it was."""

    row: int
    """1-based row number in the source (a CSV header is row 1; see docs/formats.md)."""
    values: Mapping[str, Any]
    """Values by field name, in the reader's flavour."""


@attrs.frozen
class RowProblem:
    """A row the reader could not turn into values at all (malformed line, wrong column count)."""

    row: int
    """1-based row number in the source."""
    reason: str
    """What is wrong with the row."""
    text: str | None = None
    """The row's text, when the reader has it (or, with ``field``, the offending value's)."""
    field: str | None = None
    """The field at fault, when the reader can tell (e.g. a Parquet date out of range)."""
    values: Mapping[str, Any] | None = None
    """The row's values, JSON-ready, when the reader has them although the row cannot be
    read as it stands (a typed Parquet row with a value Python cannot hold): the rejects
    file keeps them, so that the row can be recovered."""

    @property
    def record(self) -> Any:
        """What the rejects file keeps of the row: its values when known, else its text."""
        return self.values if self.values is not None else self.text


@attrs.frozen
class RawBatch:
    """Rows as a columnar reader found them: raw columns, their row numbers, unreadable rows."""

    batch: pa.RecordBatch
    """Columns by field name, in the reader's flavour (text: strings)."""
    rows: pa.Array
    """1-based row number in the source of each row of ``batch`` (int64)."""
    problems: tuple[RowProblem, ...] = ()
    """Rows among (or just after) these that could not be read at all."""


def records_from_batches(batches: Iterable[RawBatch]) -> Iterator[RawRecord | RowProblem]:
    """The rows of raw batches one by one, problems in their place (for per-row readers)."""
    for raw in batches:
        problems = sorted(raw.problems, key=lambda p: p.row)
        names = raw.batch.schema.names
        columns = [c.to_pylist() for c in raw.batch.columns]
        i = 0
        for row, values in zip(raw.rows.to_pylist(), zip(*columns, strict=True), strict=True):
            while i < len(problems) and problems[i].row < row:
                yield problems[i]
                i += 1
            yield RawRecord(row, dict(zip(names, values, strict=True)))
        yield from problems[i:]


@attrs.frozen
class Reject:
    """One problem of one rejected row: file, row, field, value and reason."""

    file: str
    """Path of the source file."""
    row: int
    """1-based row number in the source."""
    field: str | None
    """Field at fault; ``None`` when the whole row is unreadable."""
    value: Any
    """The offending value, as read."""
    reason: str
    """What is wrong and what was expected."""

    def __str__(self) -> str:
        where = f"{self.file}, row {self.row}" + (f", field {self.field}" if self.field else "")
        got = repr(self.value)
        if len(got) > _SHOWN:  # a 10 MB cell makes no useful message
            got = got[:_SHOWN] + f"... ({len(got):,} characters)"
        return f"{where}: {self.reason} (got {got})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "file": self.file,
            "row": self.row,
            "field": self.field,
            "value": json_value(self.value),
            "reason": self.reason,
        }


KEPT_CHARACTERS = 1000
"""Characters of a rejected value kept in memory (``Reader.rejects``, reports, ``--json``);
the rejects file has it whole."""
_KEPT_ITEMS = 100


def kept(reject: Reject) -> Reject:
    """``reject`` as it is kept in memory, among up to ``max_findings`` others: its value
    cut when long (a text to :data:`KEPT_CHARACTERS`, a list or mapping to its first 100
    items), so that what is kept is bounded by the limits whatever the rows hold."""
    value = reject.value
    if isinstance(value, str):
        if len(value) <= KEPT_CHARACTERS:
            return reject
        short: Any = value[:KEPT_CHARACTERS] + f"… ({len(value):,} characters)"
    elif isinstance(value, list | tuple):
        if len(value) <= _KEPT_ITEMS and not any(_long(v) for v in value):
            return reject
        short = [_short(v) for v in value[:_KEPT_ITEMS]]
        if len(value) > _KEPT_ITEMS:
            short.append(f"… ({len(value):,} items)")
    elif isinstance(value, Mapping):
        if len(value) <= _KEPT_ITEMS and not any(_long(v) for v in value.values()):
            return reject
        short = {k: _short(v) for k, v in list(value.items())[:_KEPT_ITEMS]}
    else:
        return reject
    return attrs.evolve(reject, value=short)


def _long(value: Any) -> bool:
    return isinstance(value, str) and len(value) > KEPT_CHARACTERS


def _short(value: Any) -> Any:
    if _long(value):
        return value[:KEPT_CHARACTERS] + f"… ({len(value):,} characters)"
    return value


# --------------------------------------------------------------------------- decoding


class _Unfit(ValueError):
    pass


_SHOWN = 200
"""Characters of a rejected value shown in a message."""


# The grammar of text cells, one definition for the object decoder and the columnar
# engine (which runs the same patterns vectorised): both must refuse the same cells.
INT_TEXT = r"^[+-]?[0-9]+$"
"""A whole number: optional sign, digits; no spaces, no underscores."""
FLOAT_TEXT = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
"""A number: decimal or exponent notation; no spaces, no ``nan``/``inf``."""
DECIMAL_TEXT = r"^[+-]?[0-9]+(\.[0-9]+)?$"
"""An exact decimal: sign, digits, optional fraction; no exponent."""
DATE_TEXT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
"""A date: ``YYYY-MM-DD``."""
TRUE_TEXT = ("true", "True", "TRUE", "1")
"""Text read as true."""
FALSE_TEXT = ("false", "False", "FALSE", "0")
"""Text read as false."""

_INT = re.compile(INT_TEXT)
_FLOAT = re.compile(FLOAT_TEXT)
_DECIMAL = re.compile(DECIMAL_TEXT)
_DATE = re.compile(DATE_TEXT)
_TRUE = frozenset(TRUE_TEXT)
_FALSE = frozenset(FALSE_TEXT)

Convert = Callable[[Any], Any]


def _grammar(pattern: re.Pattern[str], convert: Callable[[str], Any], message: str) -> Convert:
    """A text parser: the cell must match ``pattern`` whole, then ``convert`` reads it."""

    def parse(v: str) -> Any:
        if not pattern.fullmatch(v):
            raise _Unfit(message)
        return convert(v)

    return parse


def _text_scalar(shape: ScalarShape) -> Convert:
    py = shape.py
    if shape.enum is not None or py is str:
        return lambda v: v
    if py is int:
        return _grammar(_INT, int, "expected a whole number")
    if py is float:
        return _grammar(_FLOAT, _finite_float, "expected a number")
    if py is Decimal:
        return _grammar(_DECIMAL, Decimal, "expected a decimal number such as 1250.00")
    if py is bool:

        def to_bool(v: str) -> bool:
            if v in _TRUE:
                return True
            if v in _FALSE:
                return False
            raise _Unfit("expected true or false")

        return to_bool
    return _iso_date


def _iso_date(v: Any) -> Any:
    if not isinstance(v, str):
        return v  # the entity check names the type
    if not _DATE.fullmatch(v):
        raise _Unfit("expected a date YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(v)
    except ValueError:
        raise _Unfit("expected a date YYYY-MM-DD") from None


def _json_scalar(shape: ScalarShape) -> Convert:
    py = shape.py
    if py is float:
        return _json_float
    if py is int:
        return _json_int
    if py is Decimal:

        def to_decimal(v: Any) -> Any:
            if isinstance(v, str):
                if not _DECIMAL.fullmatch(v):
                    raise _Unfit("expected a decimal number such as '1250.00'")
                return Decimal(v)
            return v

        return to_decimal
    if py is dt.date:
        return _iso_date
    return lambda v: v


TOO_LARGE_FLOAT = "a number too large for a float (beyond ±1.8e308)"
"""The reason a number no float holds is refused (in text, JSON or a Python int)."""
_TOO_LARGE = TOO_LARGE_FLOAT


def _json_float(v: Any) -> Any:
    # Exact JSON parsing gives Decimal (or int); its nearest float is the literal's float.
    if isinstance(v, Decimal | int) and not isinstance(v, bool):
        try:
            f = float(v)
        except OverflowError:  # an int of hundreds of digits
            raise _Unfit(_TOO_LARGE) from None
        if math.isinf(f) and (isinstance(v, int) or v.is_finite()):
            raise _Unfit(_TOO_LARGE)
        return f
    return v


def _finite_float(text: str) -> float:
    # The text is a number (FLOAT_TEXT): an infinite float means one too large for it.
    f = float(text)
    if math.isinf(f):
        raise _Unfit(_TOO_LARGE)
    return f


def _json_int(v: Any) -> Any:
    # 1e999999999 is integral, but int() of it would take minutes: beyond 19 digits no
    # int64 holds it anyway.
    if isinstance(v, Decimal) and v.is_finite() and v == v.to_integral_value():
        if v.adjusted() > 18:
            raise _Unfit("expected a whole number, got one of more than 19 digits")
        return int(v)
    return v


def too_many_items(n: int, max_items: int, shape: Shape) -> str:
    """The reason a list or mapping of ``n`` items is refused (over ``max_items``)."""
    what = "a mapping of {:,} entries" if isinstance(shape, MapShape) else "a list of {:,} items"
    return f"{what.format(n)}, more than {max_items:,} (max_items)"


def _json_shape(shape: Shape, max_items: int) -> Convert:
    if isinstance(shape, ScalarShape):
        return _json_scalar(shape)
    if isinstance(shape, ListShape):
        item = _json_shape(shape.item, max_items)

        def to_list(v: Any) -> Any:
            if not isinstance(v, list | tuple):
                return v  # the entity check says "expected a list"
            if len(v) > max_items:
                raise _Unfit(too_many_items(len(v), max_items, shape))
            return tuple(None if x is None else item(x) for x in v)

        return to_list
    value = _json_shape(shape.value, max_items)

    def to_map(v: Any) -> Any:
        if not isinstance(v, Mapping):
            return v
        if len(v) > max_items:
            raise _Unfit(too_many_items(len(v), max_items, shape))
        return {k: None if x is None else value(x) for k, x in v.items()}

    return to_map


def _python_shape(shape: Shape, max_items: int) -> Convert:
    if isinstance(shape, ScalarShape):
        return lambda v: v
    if isinstance(shape, ListShape):
        item = _python_shape(shape.item, max_items)

        def to_list(v: Any) -> Any:
            if len(v) > max_items:
                raise _Unfit(too_many_items(len(v), max_items, shape))
            return tuple(None if x is None else item(x) for x in v)

        return to_list
    value = _python_shape(shape.value, max_items)

    def to_map(v: Any) -> Any:
        # Arrow gives maps as lists of (key, value) pairs, which may repeat a key: never
        # resolved silently (the JSON and CSV readers refuse a repeated key too).
        if len(v) > max_items:
            raise _Unfit(too_many_items(len(v), max_items, shape))
        out = {k: None if x is None else value(x) for k, x in v}
        if len(out) != len(v):
            seen: set[Any] = set()
            twice = next(k for k, _ in v if k in seen or seen.add(k))  # type: ignore[func-returns-value]
            raise _Unfit(f"key {twice!r} appears twice")
        return out

    return to_map


def _text_shape(shape: Shape, max_items: int) -> Convert:
    if isinstance(shape, ScalarShape):
        return _text_scalar(shape)
    nested = _json_shape(shape, max_items)

    def from_json_cell(v: str) -> Any:
        depth = limits.current().max_nesting_depth
        if limits.json_too_deep(v, depth):
            raise _Unfit(f"JSON in the cell nested more than {depth} levels deep")
        try:
            return nested(json.loads(v, parse_float=Decimal, object_pairs_hook=_unique_keys))
        except json.JSONDecodeError as exc:
            raise _Unfit(f"expected a JSON {_kind(shape)} in the cell ({exc.msg})") from None

    return from_json_cell


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        twice = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise _Unfit(f"key {twice!r} appears twice in the JSON of the cell")
    return result


def _kind(shape: Shape) -> str:
    return "array" if isinstance(shape, ListShape) else "object"


_MAKERS: dict[str, Callable[[Shape, int], Convert]] = {
    "text": _text_shape,
    "json": _json_shape,
    "python": _python_shape,
}


class Decoder:
    """Turns raw records of one entity, in one flavour, into objects; names every bad field."""

    def __init__(self, info: EntityInfo, flavour: Flavour) -> None:
        self.info = info
        """The entity decoded."""
        make = _MAKERS[flavour]
        # Read once per decoder, that is per file (or per checked batch).
        max_items = limits.current().max_items
        self._fields: list[tuple[FieldInfo, Convert]] = [
            (f, make(f.shape, max_items)) for f in info.fields
        ]
        self._names = frozenset(info.field_names)
        self._defaults = {
            a.name: a.default
            for a in attrs.fields(info.cls)
            if not isinstance(a.default, attrs.Factory)  # type: ignore[arg-type]
        }

    def converter(self, name: str) -> Callable[[Any], Any]:
        """How this flavour turns one non-null value of field ``name`` into its Python type."""
        for f, convert in self._fields:
            if f.name == name:
                return convert
        raise KeyError(name)

    @staticmethod
    def python_converter(shape: Shape) -> Callable[[Any], Any]:
        """How an Arrow Python value of ``shape`` becomes the field's value (maps, tuples)."""
        return _python_shape(shape, limits.current().max_items)

    def decode(self, values: Mapping[str, Any]) -> Any:
        """The entity object, or :class:`~clen_core.InvalidObjectError` listing every bad field."""
        errors = [
            FieldError(str(k), values[k], f"not a field of {self.info.name}")
            for k in values
            if k not in self._names
        ]
        kwargs: dict[str, Any] = {}
        for f, convert in self._fields:
            if f.name not in values:
                if f.is_required:
                    errors.append(FieldError(f.name, None, "required, missing"))
                continue
            v = values[f.name]
            try:
                kwargs[f.name] = None if v is None else convert(v)
            except _Unfit as exc:
                errors.append(FieldError(f.name, v, str(exc)))
            except (TypeError, ValueError, AttributeError, ArithmeticError) as exc:
                errors.append(FieldError(f.name, v, f"cannot be read: {exc}"))
        if errors:
            # Also report the fields that do not fit although they parsed, and the
            # cross-field constraints among the good ones: as construction would.
            bad = {e.field for e in errors}
            good: dict[str, Any] = {}
            for f, _ in self._fields:
                if f.name in bad:
                    continue
                if f.name not in kwargs:  # absent, not required: its default applies
                    good[f.name] = self._defaults.get(f.name)
                    continue
                try:
                    good[f.name] = f.validate(kwargs.get(f.name))
                except ValueError as exc:
                    errors.append(FieldError(f.name, kwargs.get(f.name), str(exc)))
                    bad.add(f.name)
            for c in self.info.constraints:
                if bad.isdisjoint(c.names):
                    errors.extend(c.errors(SimpleNamespace(**good)))
            raise InvalidObjectError(self.info.name, errors)
        return self.info.cls(**kwargs)


# --------------------------------------------------------------------------- encoding


NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}
"""How a NaN or infinite float is written in JSON output (rejects files, reports,
``--json``): as these strings, since JSON has no such numbers."""


def json_value(value: Any) -> Any:
    """A Python value in JSON-ready form: dates ISO, decimals exact text, tuples as lists,
    NaN and infinities as the strings of :data:`NON_FINITE`."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else NON_FINITE[repr(value)]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    return str(value)


def _date_or_decimal(value: Any) -> str:
    # json.dumps calls this only for what it cannot write itself.
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


_LINE_BREAKS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def json_bytes(value: Any, *, indent: int | None = None) -> bytes:
    """``value`` as JSON text in UTF-8 that every JSON reader takes, whatever it holds.

    Non-finite floats become the strings of :data:`NON_FINITE` (JSON has no NaN),
    dates and decimals their text (:func:`json_value`); a lone surrogate (which UTF-8
    cannot hold: it comes from a ``\\ud800`` escape in a JSON file) is written as that
    escape again, so the text read is kept exactly (a high and a low surrogate side by
    side, which JSON reads as one character, cannot come from a JSON file); U+0085,
    U+2028 and U+2029 are escaped, so that no line reader splits a line of JSON Lines.
    """
    try:
        # Dates and decimals (in every rejected record read from Parquet) as json_value
        # writes them, in the one pass: walking the value first doubled the time.
        text = json.dumps(
            value, ensure_ascii=False, allow_nan=False, indent=indent, default=_date_or_decimal
        )
    except (TypeError, ValueError):  # a NaN, or another type: made JSON-ready first
        text = json.dumps(json_value(value), ensure_ascii=False, allow_nan=False, indent=indent)
    if not text.isascii():
        for char, escaped in _LINE_BREAKS.items():
            if char in text:
                text = text.replace(char, escaped)
    # Inside a JSON string a lone surrogate's backslash escape is the JSON escape itself.
    return text.encode("utf-8", "backslashreplace")


def json_ready(shape: Shape, value: Any) -> Any:
    """An Arrow Python value of ``shape`` in JSON-ready form (a map, which Arrow gives
    as ``(key, value)`` pairs at every depth, as an object)."""
    if value is None:
        return None
    if isinstance(shape, MapShape):
        return {str(k): json_ready(shape.value, v) for k, v in value}
    if isinstance(shape, ListShape):
        return [json_ready(shape.item, v) for v in value]
    return json_value(value)


def _json_column(shape: Shape, values: list[Any]) -> list[Any]:
    if isinstance(shape, ScalarShape) and shape.py not in (Decimal, dt.date):
        return values  # already JSON-ready: skip the per-value call
    return [json_ready(shape, v) for v in values]


def json_rows(batch: pa.RecordBatch | pa.Table, info: EntityInfo) -> list[dict[str, Any]]:
    """JSON-ready dicts (as :func:`clen_core.to_json` gives) for every row of a batch."""
    columns = {
        f.name: _json_column(f.shape, batch.column(f.name).to_pylist())
        for f in info.fields
        if f.name in batch.schema.names
    }
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]
