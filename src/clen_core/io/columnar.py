"""The columnar engine: raw Arrow batches in, valid batches and rejects out, no object per row.

:func:`check_batch` turns one batch of raw columns (text cells from CSV, or
typed columns from Parquet) into a batch in the entity's Arrow schema holding
the valid rows, canonicalised (``el`` → ``GR``), and a table of rejects: one
row per (rejected row, bad field) with the value and the reason, under rule
``READ-001``. It applies exactly the invariants the object path applies when
an object is built, and the text grammar of :mod:`clen_core.io.records`:

- vectorised with ``pyarrow.compute`` for text, numbers, dates, booleans and
  enums (lengths, patterns, ranges, finiteness, required);
- once per *distinct value* for code systems (CAS, CN, country, ...),
  decimals, lists and mappings: each distinct value goes through the field's
  own check, so those fields agree with the object path by construction;
  codes already canonical and valid are first picked out vectorised
  (:mod:`clen_core.codes._vector`) and kept as read, as ``parse`` would keep them;
  so are typed lists and mappings (Parquet, frames) whose items, keys and lengths
  are surely fine (text, codes, booleans), so that only the others are checked
  value by value;
- cross-field constraints (``end ≥ start``, all-or-none) on the rows whose
  fields are individually valid.

:func:`validate_batches` is a plain function of batches with no global
state, so it can be shipped to Spark (``mapInArrow``) or Dask workers.
:func:`objects_from_batch` materialises objects from checked columns without
checking them again.
"""

from __future__ import annotations

import bisect
import datetime as dt
import enum
from collections.abc import Callable, Collection, Iterable, Iterator
from typing import Any

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from clen_core import limits
from clen_core.codes._vector import canonical_mask, false_if_null
from clen_core.io.records import (
    FALSE_TEXT,
    FLOAT_TEXT,
    INT_TEXT,
    TOO_LARGE_FLOAT,
    TRUE_TEXT,
    Decoder,
    Flavour,
    RawBatch,
    too_many_items,
)
from clen_core.model.entity import EntityInfo, Ordered, Together, get_entity
from clen_core.model.fields import FieldInfo, ListShape, MapShape, ScalarShape, Spec
from clen_core.schema.arrow import (
    FIRST_DAY,
    ArrowStream,
    arrow_schema,
    arrow_stream,
    arrow_type,
    fit,
    int_range,
    python_values,
)

__all__ = [
    "REJECTS_SCHEMA",
    "Checked",
    "check_batch",
    "objects_from_batch",
    "validate_batches",
]

REJECTS_SCHEMA = pa.schema(
    [
        pa.field("row", pa.int64(), nullable=False),
        pa.field("field", pa.string()),
        pa.field("value", pa.string()),
        pa.field("reason", pa.string(), nullable=False),
    ]
)
"""One reject per (row, bad field): its 1-based source row, the field, the value as text, why."""


@attrs.frozen
class Checked:
    """What :func:`check_batch` made of one raw batch."""

    valid: pa.RecordBatch
    """The valid rows, in the entity's Arrow schema (only the fields asked for, when
    :func:`check_batch` was given some), canonicalised."""
    valid_rows: pa.Array
    """Source row number of each valid row."""
    rejects: pa.Table
    """One row per (rejected row, bad field), in :data:`REJECTS_SCHEMA`, by row."""
    rejected_rows: pa.Array
    """Source row numbers of the rejected rows, ascending (unreadable rows included)."""


# --------------------------------------------------------------------------- per field


@attrs.define
class _Column:
    """A field's typed values (null where bad or missing) and, per row, why it is bad."""

    typed: pa.Array
    reason: pa.Array  # string, null where the value is fine

    def fail(self, mask: pa.Array, reason: str | pa.Array) -> None:
        # The first failing check of a field names it, as in the object path.
        if not pc.any(mask).as_py():
            return  # the usual case on good data: nothing to record
        mask = pc.and_(false_if_null(mask), pc.is_null(self.reason))
        said = pa.scalar(reason) if isinstance(reason, str) else reason
        self.reason = pc.if_else(mask, said, self.reason)


_STRING = pa.string()


def _nulls(n: int, t: pa.DataType = _STRING) -> pa.Array:
    return pa.nulls(n, t)


def _per_distinct(f: FieldInfo, raw: pa.Array, convert: Callable[[Any], Any]) -> _Column:
    """The field's own check on each distinct raw value, spread back over the rows."""
    target = arrow_type(f.shape, f.spec)
    if pa.types.is_nested(raw.type):
        return _per_value_nested(f, raw, convert, target)
    canonical = _canonical_codes(f, raw)
    if canonical is not None:
        # Codes already canonical and valid (the usual case) are kept as read; only the
        # others, often none, go through the field's own check.
        slow = false_if_null(pc.and_(pc.invert(canonical), pc.is_valid(raw)))
        if not pc.any(slow).as_py():
            return _Column(raw, _nulls(len(raw)))
        part = _per_distinct_values(f, pc.filter(raw, slow), convert, target)
        where = _places(slow)
        return _Column(
            pc.if_else(slow, pc.take(part.typed.cast(raw.type), where), raw),
            pc.take(part.reason, where),
        )
    return _per_distinct_values(f, raw, convert, target)


def _places(mask: pa.Array) -> pa.Array:
    """Per row, its place among the rows ``mask`` selects (null for the others): taking a
    column of those rows' values by it spreads them back over all rows. On text, a
    third of ``replace_with_mask``'s time."""
    chosen = pc.sum(mask).as_py() or 0
    return pc.replace_with_mask(pa.nulls(len(mask), pa.int64()), mask, int_range(0, chosen))


def _canonical_codes(f: FieldInfo, raw: pa.Array) -> pa.Array | None:
    """Per row, whether a code field's text is surely a canonical, valid code (vectorised:
    :func:`clen_core.codes._vector.canonical_mask`); None when the field has no such test."""
    shape, spec = f.shape, f.spec
    if not (
        isinstance(shape, ScalarShape)
        and shape.py is str
        and spec.code is not None
        and spec.pattern is None
        and spec.max_length is None
        and (spec.min_length or 0) <= 1  # a code is never empty
        and raw.type.equals(_STRING)
    ):
        return None
    return canonical_mask(spec.code, raw)


def _per_distinct_values(
    f: FieldInfo, raw: pa.Array, convert: Callable[[Any], Any], target: pa.DataType
) -> _Column:
    # One hashing pass gives both the distinct values and where each row's value is.
    encoded = raw if pa.types.is_dictionary(raw.type) else pc.dictionary_encode(raw)
    distinct = encoded.dictionary.to_pylist()
    values: list[Any] = []
    reasons: list[str | None] = []
    for v in distinct:
        if v is None:  # a null entry of a dictionary read as such: the row holds nothing
            values.append(None)
            reasons.append(None)
            continue
        try:
            values.append(_to_arrow_value(f, f.validate(convert(v))))
            reasons.append(None)
        except (ValueError, TypeError) as exc:
            values.append(None)
            reasons.append(str(exc))
    idx = encoded.indices
    value_type = target.value_type if pa.types.is_dictionary(target) else target
    if raw.type.equals(value_type) and values == distinct:
        typed = raw  # every value valid and already canonical (the usual case): as read
    else:
        typed = pc.take(pa.array(values, value_type), idx)
    if any(r is not None for r in reasons):
        reason = pc.take(pa.array(reasons, pa.string()), idx)
    else:
        reason = _nulls(len(raw))
    return _Column(typed, reason)


def _hashable(v: Any) -> Any:
    if isinstance(v, list):
        return tuple(_hashable(x) for x in v)
    if isinstance(v, tuple):
        return tuple(_hashable(x) for x in v)
    return v


_NESTED_SLICE_ITEMS = 1 << 16
"""Items of a list or map column made Python objects at a time."""


def _per_value_nested(
    f: FieldInfo, raw: pa.Array, convert: Callable[[Any], Any], target: pa.DataType
) -> _Column:
    # Lists and maps already typed (Parquet, frames) are mostly fine: the rows surely fine
    # are kept as read, picked out vectorised; only the others go through the field's check.
    fast = _surely_valid(f.shape, f.spec, raw) if raw.type.equals(target) else None
    if fast is None:
        return _per_value_nested_slow(f, raw, convert, target)
    fine = pc.or_(fast, pc.is_null(raw))
    if pc.all(fine).as_py():
        return _Column(raw, _nulls(len(raw)))
    kept, other = pc.indices_nonzero(fine), pc.indices_nonzero(pc.invert(fine))
    part = _per_value_nested_slow(f, raw.take(other), convert, target)
    # Back in row order: the rows kept first, then the others, put where they came from.
    order = pc.sort_indices(pa.concat_arrays([kept, other]))
    return _Column(
        pa.concat_arrays([raw.take(kept), part.typed]).take(order),
        pa.concat_arrays([_nulls(len(kept)), part.reason]).take(order),
    )


def _surely_valid(
    shape: ScalarShape | ListShape | MapShape, spec: Spec, values: pa.Array, *, is_key: bool = False
) -> pa.Array | None:
    """Per value (vectorised): True when the field's check surely accepts it and returns it
    unchanged, False (nulls included) when the check must decide; None when this cannot
    tell for this shape or type (a pattern, numbers in a list)."""
    if isinstance(shape, ScalarShape):
        if shape.py is bool and pa.types.is_boolean(values.type):
            return pc.is_valid(values)
        if shape.py is not str or shape.enum is not None or not values.type.equals(_STRING):
            return None
        if spec.pattern is not None and not is_key:
            return None  # RE2 and Python's re differ at the edges: the check decides
        try:
            values.validate(full=True)  # text that is not UTF-8 is the check's to refuse
        except pa.ArrowInvalid:
            return None
        ok = pc.is_valid(values)
        code = spec.key_code if is_key else spec.code
        if code is not None:
            known = canonical_mask(code, values)
            if known is None:
                return None
            ok = pc.and_(ok, known)
        low, high = (1, None) if is_key else (spec.min_length, spec.max_length)
        if low or high is not None:
            length = pc.utf8_length(values)
            if low:
                ok = pc.and_(ok, pc.greater_equal(length, low))
            if high is not None:
                ok = pc.and_(ok, pc.less_equal(length, high))
        return false_if_null(ok)
    if isinstance(shape, ListShape):
        if not pa.types.is_list(values.type):
            return None
        if spec.unique_items and not isinstance(shape.item, ScalarShape):
            return None
        lists = values
        entries = pc.list_flatten(lists)
        entry_ok = _surely_valid(shape.item, spec, entries)
    else:
        if not pa.types.is_map(values.type):
            return None
        lists = values.cast(_list_of_entries(values.type))
        entries = pc.list_flatten(lists)
        keys, items = entries.field(0), entries.field(1)
        key_ok = _surely_valid(shape.key, spec, keys, is_key=True)
        item_ok = _surely_valid(shape.value, spec, items)
        if key_ok is None or item_ok is None:
            return None
        entry_ok = pc.and_(key_ok, item_ok)
    if entry_ok is None:
        return None
    parents = pc.list_parent_indices(lists)
    bad = pc.filter(parents, pc.invert(entry_ok))
    if isinstance(shape, MapShape):
        bad = pa.concat_arrays([bad, _repeated(parents, keys)])
    elif spec.unique_items:  # the items surely fine are canonical: equal as read or not
        bad = pa.concat_arrays([bad, _repeated(parents, entries)])
    length = pc.list_value_length(lists)
    ok = pc.and_(
        pc.and_(pc.is_valid(lists), pc.greater_equal(length, spec.min_items)),
        pc.less_equal(length, limits.current().max_items),
    )
    if len(bad):
        ok = pc.and_(
            ok, pc.invert(pc.is_in(int_range(0, len(lists)), value_set=pc.cast(bad, pa.int64())))
        )
    return false_if_null(ok)


def _repeated(parents: pa.Array, keys: pa.Array) -> pa.Array:
    """The lists or maps (by ``parents``) in which an item or key appears twice."""
    n = len(keys)
    if n < 2:
        return pa.array([], parents.type)
    # Sorted by map and key, a repeated key is next to itself.
    pairs = pa.table({"map": parents, "key": keys})
    pairs = pairs.take(
        pc.sort_indices(pairs, sort_keys=[("map", "ascending"), ("key", "ascending")])
    )
    maps, names = (pairs.column(i).combine_chunks() for i in range(2))
    same = pc.and_(
        pc.equal(maps.slice(1), maps.slice(0, n - 1)),
        pc.equal(names.slice(1), names.slice(0, n - 1)),
    )
    return pc.filter(maps.slice(1), false_if_null(same))


def _per_value_nested_slow(
    f: FieldInfo, raw: pa.Array, convert: Callable[[Any], Any], target: pa.DataType
) -> _Column:
    # Arrow has no distinct kernel for lists and maps: these (rare, small) columns are
    # checked value by value, each distinct value once. A value of more than max_items
    # is refused from its length alone, before any of its items becomes a Python object;
    # the others are made objects a slice of rows at a time, so that a batch of long
    # lists never exists whole as Python objects.
    max_items = limits.current().max_items
    as_list = raw.cast(_list_of_entries(raw.type)) if pa.types.is_map(raw.type) else raw
    lengths = pc.fill_null(pc.list_value_length(as_list), 0)
    over = pc.greater(lengths, max_items)
    too_long = pc.indices_nonzero(over).to_pylist() if pc.any(over).as_py() else []
    refused = {
        i: too_many_items(n, max_items, f.shape)
        for i, n in zip(too_long, pc.take(lengths, pa.array(too_long, pa.int64())).to_pylist(),
                        strict=True)
    }  # fmt: skip
    seen: dict[Any, tuple[Any, str | None]] = {}
    values: list[Any] = []
    reasons: list[str | None] = []
    n = len(raw)
    start = 0
    total = pc.cumulative_sum(lengths).to_pylist() if n else []
    while start < n:
        # Rows up to about _NESTED_SLICE_ITEMS items (at least one row), those over the
        # limit left out: their items are never read.
        base = total[start - 1] if start else 0
        stop = max(start + 1, bisect.bisect_right(total, base + _NESTED_SLICE_ITEMS, lo=start))
        rows = [i for i in range(start, stop) if i not in refused]
        part = raw.take(pa.array(rows, pa.int64())).to_pylist() if rows else []
        got = dict(zip(rows, part, strict=True))
        for i in range(start, stop):
            if i in refused:
                values.append(None)
                reasons.append(refused[i])
                continue
            v = got[i]
            if v is None:
                values.append(None)
                reasons.append(None)
                continue
            key = _hashable(v)
            if key not in seen:
                try:
                    seen[key] = (_to_arrow_value(f, f.validate(convert(v))), None)
                except (ValueError, TypeError) as exc:
                    seen[key] = (None, str(exc))
            value, reason = seen[key]
            values.append(value)
            reasons.append(reason)
        start = stop
    return _Column(pa.array(values, target), pa.array(reasons, pa.string()))


def _list_of_entries(t: pa.MapType) -> pa.DataType:
    """A map type as the list of its key/value structs (a cast that copies nothing)."""
    return pa.list_(pa.struct([pa.field("key", t.key_type, nullable=False), t.item_field]))


def _to_arrow_value(f: FieldInfo, v: Any) -> Any:
    if isinstance(f.shape, MapShape) and v is not None:
        return list(v.items())
    return v


def _decoder_convert(info: EntityInfo, f: FieldInfo, flavour: Flavour) -> Callable[[Any], Any]:
    # The object path's own parse of one value: the same words, the same verdicts.
    return Decoder(info, flavour).converter(f.name)


def _text_scalar(f: FieldInfo, raw: pa.Array, n: int) -> _Column:
    shape = f.shape
    assert isinstance(shape, ScalarShape)
    py = shape.py
    present = pc.is_valid(raw)
    if shape.enum is not None or py is str:
        return _Column(raw, _nulls(n))
    if py is bool:
        is_true = pc.is_in(raw, value_set=pa.array(TRUE_TEXT))
        is_false = pc.is_in(raw, value_set=pa.array(FALSE_TEXT))
        col = _Column(pc.if_else(is_true, True, pc.if_else(is_false, False, None)), _nulls(n))
        col.fail(pc.and_(present, pc.invert(pc.or_(is_true, is_false))), "expected true or false")
        return col
    if py is dt.date:
        return _text_date(raw, present, n)
    typed = _all_int_text(raw) if py is int else _all_float_text(raw)
    if typed is not None:
        col = _Column(typed, _nulls(n))
        if py is float:
            col.fail(pc.is_inf(typed), TOO_LARGE_FLOAT)
        return col
    pattern, target, message = (
        (INT_TEXT, pa.int64(), "expected a whole number")
        if py is int
        else (FLOAT_TEXT, pa.float64(), "expected a number")
    )
    ok = pc.match_substring_regex(raw, pattern)
    try:
        typed = pc.cast(pc.if_else(ok, raw, None), target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return _Column(_nulls(n, target), _nulls(n))  # overflow: the caller goes per value
    col = _Column(typed, _nulls(n))
    col.fail(pc.and_(present, pc.invert(false_if_null(ok))), message)
    if py is float:
        # A number written in the text that no float holds (401 digits, 1e400): as the
        # object path says it, not as the infinity Arrow makes of it.
        col.fail(pc.is_inf(typed), TOO_LARGE_FLOAT)
    return col


def _all_int_text(raw: pa.Array) -> pa.Array | None:
    """The column as int64 when every value is a whole number in INT_TEXT, else None.

    The usual case in one strict cast, without the regular expression (half the
    time). Arrow reads ``-?[0-9]+`` (a subset of INT_TEXT) and hexadecimal
    ``0x1F``, which INT_TEXT refuses: a column with an x goes the long way.
    """
    try:
        typed = pc.cast(raw, pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None  # some value is not Arrow's whole number (or overflows)
    if _may_contain(raw, b"xX"):
        return None
    return typed


def _all_float_text(raw: pa.Array) -> pa.Array | None:
    """The column as float64 when every value is a number in FLOAT_TEXT, else None.

    Arrow's strict cast reads every FLOAT_TEXT number, and besides only the words
    ``nan``, ``inf`` and ``infinity`` in any case (a fuzzed comparison of the two
    found nothing else): a column without their letters needs no regular
    expression (2.5 ms of 3.7 for 65,536 values).
    """
    try:
        typed = pc.cast(raw, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if _may_contain(raw, b"nNaAiIfFtTyY"):
        return None
    return typed


def _may_contain(values: pa.Array, letters: bytes) -> bool:
    """Whether some value of a text column may contain one of the ASCII ``letters``.

    One scan of the column's character data (for a slice, the data of the values
    around it too: a false "may", never a false "no"). Two ``match_substring``
    passes took 18 ms a million short values; this takes a fraction of one.
    """
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return any(pc.any(pc.match_substring(values, chr(c))).as_py() for c in letters)
    data = values.buffers()[2]
    if data is None:
        return False
    blob = data.to_pybytes()
    return any(bytes([c]) in blob for c in letters)


# Python's first day as date32 counts it (days since 1970-01-01): a number, because
# pa.scalar(a date) imports pandas, when installed, at import.
def _text_date(raw: pa.Array, present: pa.Array, n: int) -> _Column:
    # Text dates follow records.DATE_TEXT and Python's calendar, as the object path's parse.
    try:
        # The usual case, every date good: Arrow's strict ISO cast (impossible days refused,
        # as by Python's calendar) does it in one pass and raises on any bad value.
        typed = pc.cast(raw, pa.date32())
        fine = None  # every present value read exactly
    except pa.ArrowInvalid:
        # Some bad value: Arrow's strptime rolls impossible dates over (0001-02-30 →
        # 0001-03-02), so a date is kept only when it prints back as the very same text
        # (which also enforces DATE_TEXT: only that shape prints back the same).
        typed = pc.cast(
            pc.strptime(raw, format="%Y-%m-%d", unit="s", error_is_null=True), pa.date32()
        )
        fine = false_if_null(pc.equal(pc.cast(typed, pa.string()), raw))
    # Both routes take the year 0000, which Python's calendar lacks.
    early = false_if_null(pc.less(typed.cast(pa.int32()), FIRST_DAY))
    if pc.any(early).as_py():
        fine = pc.invert(early) if fine is None else pc.and_(fine, pc.invert(early))
    if fine is None:
        return _Column(typed, _nulls(n))
    col = _Column(pc.if_else(fine, typed, None), _nulls(n))
    col.fail(pc.and_(present, pc.invert(fine)), "expected a date YYYY-MM-DD")
    return col


def _vectorised(f: FieldInfo) -> bool:
    shape = f.shape
    return (
        isinstance(shape, ScalarShape)
        and f.spec.code is None
        and shape.py in (str, int, float, bool, dt.date)
    ) or (isinstance(shape, ScalarShape) and shape.enum is not None)


def _char_lengths(values: pa.Array, low: int | None, high: int | None) -> pa.Array | None:
    """Lengths in characters of the texts whose byte length leaves a bound in doubt (null
    for the others), or None when the byte lengths settle every one.

    A UTF-8 character takes 1 to 4 bytes, so bytes bound characters from both sides;
    byte lengths come from the offsets alone, and counting characters reads every byte:
    only the few texts in doubt (the long ones, on good data none) are counted.
    """
    if not low and high is None:
        return None
    nbytes = pc.binary_length(values)
    doubt = None
    if low:  # c characters take b bytes with c <= b <= 4c: b >= 4*low - 3 means c >= low
        doubt = pc.less(nbytes, 4 * low - 3)
    if high is not None:
        over = pc.greater(nbytes, high)
        doubt = over if doubt is None else pc.or_(doubt, over)
    assert doubt is not None
    doubt = false_if_null(doubt)
    if not pc.any(doubt).as_py():
        return None
    counted = pc.utf8_length(pc.filter(values, doubt))
    return pc.take(counted, _places(doubt))


def _check_scalar(f: FieldInfo, col: _Column) -> None:
    """The field's invariants on typed values, vectorised (as ``FieldInfo.validate``)."""
    shape = f.shape
    assert isinstance(shape, ScalarShape)
    spec, values = f.spec, col.typed
    if shape.enum is not None:
        members = [m.value for m in shape.enum]
        # Checked on the distinct values (one hashing pass), and kept dictionary-encoded,
        # as the schema has it, when all are members (the usual case).
        encoded = values if pa.types.is_dictionary(values.type) else pc.dictionary_encode(values)
        if set(encoded.dictionary.to_pylist()) <= set(members):
            col.typed = encoded
            return
        text = pc.cast(values, pa.string()) if pa.types.is_dictionary(values.type) else values
        col.typed = text
        allowed = ", ".join(members)
        known = pa.array(members)
        unknown = pc.and_(pc.is_valid(text), pc.invert(pc.is_in(text, value_set=known)))
        col.fail(unknown, f"expected one of {allowed}")
        return
    if shape.py is str:
        length = _char_lengths(values, spec.min_length, spec.max_length)
        if length is not None:  # some length may be out of bounds: count characters
            if spec.min_length:
                word = (
                    "must not be empty"
                    if spec.min_length == 1
                    else f"at least {spec.min_length} chars"
                )
                col.fail(pc.less(length, spec.min_length), word)
            if spec.max_length is not None:
                too_long = false_if_null(pc.greater(length, spec.max_length))
                if pc.any(too_long).as_py():
                    # Each row's own length, as the object path says it: worded for the
                    # few rows too long only, then put in their places.
                    said = pc.binary_join_element_wise(
                        f"at most {spec.max_length} characters, got ",
                        pc.cast(pc.filter(length, too_long), _STRING),
                        "",
                    )
                    col.fail(too_long, pc.take(said, _places(too_long)))
        if spec.pattern is not None:
            col.fail(pc.invert(pc.match_substring_regex(values, spec.pattern)),
                     f"must match {spec.pattern}")  # fmt: skip
        return
    if shape.py is float:
        col.fail(pc.invert(pc.is_finite(values)), "expected a finite number, got NaN or infinity")
    if shape.py in (int, float):
        if spec.ge is not None:
            col.fail(pc.less(values, spec.ge), f"must be ≥ {spec.ge}")
        if spec.gt is not None:
            col.fail(pc.less_equal(values, spec.gt), f"must be > {spec.gt}")
        if spec.le is not None:
            col.fail(pc.greater(values, spec.le), f"must be ≤ {spec.le}")


def _field(
    info: EntityInfo, f: FieldInfo, raw: pa.Array | None, n: int, flavour: Flavour
) -> _Column:
    target = arrow_type(f.shape, f.spec)
    if raw is None:  # an absent column: the field's default, as the object path gives
        return _Column(_absent(info, f, n, target), _nulls(n))
    if flavour == "text" and pa.types.is_null(raw.type):
        raw = raw.cast(_STRING)  # a column of nothing but empty cells
    if _vectorised(f) and not (flavour == "python" and not _typed_ok(f, raw)):
        col = _text_scalar(f, raw, n) if flavour == "text" else _Column(raw, _nulls(n))
        if col.typed.null_count == n and raw.null_count != n and col.reason.null_count == n:
            col = _per_distinct(f, raw, _decoder_convert(info, f, flavour))  # numeric overflow
        else:
            _check_scalar(f, col)
    else:
        col = _per_distinct(f, raw, _decoder_convert(info, f, flavour))
    if not f.optional:
        col.fail(pc.and_(pc.is_null(raw), pc.is_null(col.reason)), "required, got nothing")
    return col


def _absent(info: EntityInfo, f: FieldInfo, n: int, target: pa.DataType) -> pa.Array:
    """The column of a field the file does not have: its default on every row, else null."""
    default = attrs.fields_dict(info.cls)[f.name].default
    if default is None or default is attrs.NOTHING:
        return _nulls(n, target)
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        # A list or mapping made fresh per object (empty): the same empty value here, as
        # the object path gives it, not a null a required field cannot hold.
        made = _to_arrow_value(f, default.factory())
        one = pa.array([made], target)
        return pa.repeat(one[0], n) if n else pa.array([], target)
    value = default.value if isinstance(default, enum.Enum) else default
    one = pa.array([value])
    return pa.repeat(one[0], n).cast(target) if n else pa.array([], target)


def _typed_ok(f: FieldInfo, raw: pa.Array) -> bool:
    shape = f.shape
    assert isinstance(shape, ScalarShape)
    t = raw.type
    if shape.enum is not None:
        return bool(pa.types.is_string(t) or pa.types.is_dictionary(t))
    check = {
        str: pa.types.is_string,
        int: pa.types.is_int64,
        float: pa.types.is_float64,
        bool: pa.types.is_boolean,
        dt.date: pa.types.is_date32,
    }[shape.py]
    return bool(check(t))


# --------------------------------------------------------------------------- per batch


def _constraint_masks(
    info: EntityInfo, cols: dict[str, _Column]
) -> list[tuple[str, pa.Array, str]]:
    out = []
    for c in info.constraints:
        fine = None
        for name in c.names:
            ok = pc.is_null(cols[name].reason)
            fine = ok if fine is None else pc.and_(fine, ok)
        if isinstance(c, Ordered):
            lo, hi = cols[c.earlier].typed, cols[c.later].typed
            bad = pc.and_(fine, false_if_null(pc.less(hi, lo)))
            out.append((c.later, bad, f"must not be before {c.earlier}"))
        elif isinstance(c, Together):
            given = [pc.is_valid(cols[name].typed) for name in c.fields]
            anyg = given[0]
            for g in given[1:]:
                anyg = pc.or_(anyg, g)
            for name, g in zip(c.fields, given, strict=True):
                others = ", ".join(x for x in c.fields if x != name)
                out.append((name, pc.and_(fine, pc.and_(anyg, pc.invert(g))),
                            f"required when {others} is given"))  # fmt: skip
    return out


def _as_text(values: pa.Array) -> pa.Array:
    try:
        return pc.cast(values, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.array([None if v is None else str(v) for v in values.to_pylist()], pa.string())


def check_batch(
    entity: str | type | EntityInfo,
    raw: RawBatch,
    *,
    flavour: Flavour,
    fields: Collection[str] | None = None,
) -> Checked:
    """Check one raw batch: the valid rows (entity schema, canonical) and the rejects.

    ``fields``: give only these fields of the valid rows (every field is checked all
    the same); taking the valid rows out of a column costs a copy of it.
    """
    info = entity if isinstance(entity, EntityInfo) else get_entity(entity)
    batch = raw.batch
    n = batch.num_rows
    names = set(batch.schema.names)
    cols = {
        f.name: _field(info, f, batch.column(f.name) if f.name in names else None, n, flavour)
        for f in info.fields
    }
    # Only the fields with a bad value cost anything past this point: on good data, none.
    problems: list[tuple[str, pa.Array, pa.Array, pa.Array | str]] = []
    for f in info.fields:
        col = cols[f.name]
        if col.reason.null_count < n:
            raw_col = batch.column(f.name) if f.name in names else _nulls(n)
            problems.append((f.name, pc.is_valid(col.reason), raw_col, col.reason))
    for name, bad, reason in _constraint_masks(info, cols):
        if pc.any(bad).as_py():
            raw_col = batch.column(name) if name in names else _nulls(n)
            problems.append((name, bad, raw_col, reason))
    bad_any = None
    for _, bad, _, _ in problems:
        bad_any = bad if bad_any is None else pc.or_(bad_any, bad)
    order = {name: i for i, name in enumerate(info.field_names)}
    pieces = []
    for name, bad, raw_col, reason in problems:
        idx = pc.indices_nonzero(bad)
        why = (
            pa.array([reason] * len(idx), pa.string())
            if isinstance(reason, str)
            else pc.take(reason, idx)
        )
        pieces.append(
            pa.table(
                {
                    "row": pc.take(raw.rows, idx),
                    "field": pa.array([name] * len(idx), pa.string()),
                    "value": _as_text(pc.take(raw_col, idx)),
                    "reason": why,
                    "_order": pa.array([order[name]] * len(idx), pa.int64()),
                }
            )
        )
    if raw.problems:  # one table for them all: a hostile file may have a million
        pieces.append(
            pa.table(
                {
                    "row": pa.array([p.row for p in raw.problems], pa.int64()),
                    "field": pa.array([p.field for p in raw.problems], pa.string()),
                    "value": pa.array([p.text for p in raw.problems], pa.string()),
                    "reason": pa.array([p.reason for p in raw.problems], pa.string()),
                    "_order": pa.array([-1] * len(raw.problems), pa.int64()),
                }
            )
        )
    rejects = (
        pa.concat_tables(pieces).sort_by([("row", "ascending"), ("_order", "ascending")])
        .drop_columns(["_order"]).cast(REJECTS_SCHEMA)
        if pieces
        else REJECTS_SCHEMA.empty_table()
    )  # fmt: skip
    keep = None if bad_any is None else pc.invert(bad_any)
    schema = arrow_schema(info)
    if fields is not None:
        schema = pa.schema([schema.field(n) for n in info.field_names if n in fields],
                           metadata=schema.metadata)  # fmt: skip
    arrays = [_final(info.field(n), cols[n].typed, keep) for n in schema.names]
    rejected = pc.unique(rejects.column("row").combine_chunks())
    rejected = pc.take(rejected, pc.sort_indices(rejected))
    valid_rows = raw.rows if keep is None else pc.filter(raw.rows, keep)
    if arrays:
        valid = pa.RecordBatch.from_arrays(arrays, schema=schema)
    else:  # no field asked for: a batch of no columns still has its rows
        empty = pa.array([{}] * len(valid_rows), pa.struct([]))
        valid = pa.RecordBatch.from_struct_array(empty).replace_schema_metadata(schema.metadata)
    return Checked(valid, valid_rows, rejects, rejected)


def _final(f: FieldInfo, typed: pa.Array, keep: pa.Array | None) -> pa.Array:
    target = arrow_type(f.shape, f.spec)
    kept = typed if keep is None else pc.filter(typed, keep)
    if not kept.type.equals(target):
        kept = kept.cast(target)
    return kept


def validate_batches(
    entity: str | type | EntityInfo,
    batches: Iterable[pa.RecordBatch | RawBatch] | ArrowStream,
    *,
    flavour: Flavour = "python",
) -> Iterator[Checked]:
    """Check a stream of batches (a plain function: no global state, fit for workers).

    ``batches`` may also be any Arrow-compatible table or stream (a Polars DataFrame, a
    DuckDB relation: :func:`~clen_core.schema.arrow.arrow_stream`), its columns cast to
    the fields' types where that loses nothing (:func:`~clen_core.schema.arrow.fit`).
    Plain record batches are numbered from 1 on, unless they carry a ``_row`` column.
    """
    info = entity if isinstance(entity, EntityInfo) else get_entity(entity)
    if isinstance(batches, ArrowStream):
        batches = (fit(b, info) for b in arrow_stream(batches))
    row = 0
    for b in batches:
        if isinstance(b, RawBatch):
            raw = b
        elif "_row" in b.schema.names:
            raw = RawBatch(b.drop_columns(["_row"]), b.column("_row"))
        else:
            raw = RawBatch(b, int_range(row + 1, row + 1 + b.num_rows))
        if len(raw.rows):
            row = max(row, pc.max(raw.rows).as_py())
        yield check_batch(info, raw, flavour=flavour)


# --------------------------------------------------------------------------- objects


def _py_values(f: FieldInfo, column: pa.Array) -> list[Any]:
    shape = f.shape
    if isinstance(shape, ScalarShape):
        # Enum members once per distinct value; dates from their day count.
        return python_values(column, shape.enum)
    convert = Decoder.python_converter(shape)
    return [None if v is None else convert(v) for v in column.to_pylist()]


def objects_from_batch(entity: str | type | EntityInfo, batch: pa.RecordBatch) -> list[Any]:
    """Objects from a batch of checked, canonical values, without checking them again."""
    info = entity if isinstance(entity, EntityInfo) else get_entity(entity)
    cls = info.cls
    n = batch.num_rows
    objs: list[Any] = [object.__new__(cls) for _ in range(n)]
    for f in info.fields:
        # The slot's own descriptor sets it directly: frozen __setattr__ is for users.
        setter = cls.__dict__[f.name].__set__
        for obj, value in zip(objs, _py_values(f, batch.column(f.name)), strict=True):
            setter(obj, value)
    return objs
