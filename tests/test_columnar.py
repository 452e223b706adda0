"""The columnar engine agrees with the object path: same rejected rows, fields and objects."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import clen_core
from clen_core.errors import InvalidObjectError
from clen_core.io import atomic_file
from clen_core.io.columnar import check_batch, objects_from_batch, validate_batches
from clen_core.io.formats import get_format
from clen_core.io.records import Decoder, Flavour, RawBatch
from clen_core.model import entities, get_entity
from clen_core.synth import generate_batches, injected
from clen_core.testing import from_entity, text

ENTITIES = [e.name for e in entities()]


def _cell(value: Any) -> str | None:
    """The text a CSV cell holds for a JSON-ready value."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        return repr(value)
    return str(value)


# Text that often breaks a field: junk, near-misses of every grammar, empty.
JUNK = st.one_of(
    text(0, 12),
    st.sampled_from(["", " 1", "1_000", "1e400", "nan", "-0", "12.", ".5", "2016-02-30",
                     "0000-01-01", "0001-01-01", "0001-02-30", "2023-02-29", "2024-02-29",
                     "9999-12-31", "2016-13-01", "2016-00-10", "2016-2-3",
                     "20160203", "true ", "TRUE", "yes", "[1]", "{}", "[\"ZZ\"]",
                     '{"zz": ["x"]}', "99999999999999999999", "-1", "7", "0", "EL", "el"]),
)  # fmt: skip


@st.composite
def _text_rows(draw: st.DrawFn, entity: str) -> list[dict[str, str | None]]:
    info = get_entity(entity)
    rows = []
    for obj in draw(st.lists(from_entity(entity), min_size=1, max_size=6)):
        cells = {k: _cell(v) for k, v in clen_core.to_json(obj).items()}
        for name in draw(st.lists(st.sampled_from(info.field_names), max_size=2, unique=True)):
            cells[name] = draw(st.none() | JUNK)
        rows.append(cells)
    return rows


def _object_path(
    entity: str, rows: list[dict[str, Any]], flavour: Any
) -> tuple[list[Any], dict[int, set[str]]]:
    decoder = Decoder(get_entity(entity), flavour)
    objs, bad = [], {}
    for i, values in enumerate(rows, 1):
        try:
            objs.append(decoder.decode(values))
        except InvalidObjectError as exc:
            bad[i] = {e.field for e in exc.errors}
    return objs, bad


def _columnar_path(
    entity: str, batch: pa.RecordBatch, flavour: Any
) -> tuple[list[Any], dict[int, set[str]]]:
    rows = pa.array(range(1, batch.num_rows + 1), pa.int64())
    checked = check_batch(entity, RawBatch(batch, rows), flavour=flavour)
    bad: dict[int, set[str]] = {}
    for r in checked.rejects.to_pylist():
        bad.setdefault(r["row"], set()).add(r["field"])
    return objects_from_batch(entity, checked.valid), bad


@pytest.mark.parametrize("entity", ENTITIES)
@settings(max_examples=40)
@given(data=st.data())
def test_text_cells_same_rejects_and_objects(entity: str, data: st.DataObject) -> None:
    rows = data.draw(_text_rows(entity))
    info = get_entity(entity)
    batch = pa.RecordBatch.from_pydict(
        {f: pa.array([r[f] for r in rows], pa.string()) for f in info.field_names}
    )
    assert _columnar_path(entity, batch, "text") == _object_path(entity, rows, "text")


@pytest.mark.parametrize("entity", ENTITIES)
@settings(max_examples=20)
@given(data=st.data())
def test_asking_for_some_fields_gives_those_columns_of_the_same_valid_rows(
    entity: str, data: st.DataObject
) -> None:
    rows = data.draw(_text_rows(entity))
    info = get_entity(entity)
    wanted = data.draw(st.sets(st.sampled_from(info.field_names)))
    batch = pa.RecordBatch.from_pydict(
        {f: pa.array([r[f] for r in rows], pa.string()) for f in info.field_names}
    )
    raw = RawBatch(batch, pa.array(range(1, batch.num_rows + 1), pa.int64()))
    every = check_batch(entity, raw, flavour="text")
    some = check_batch(entity, raw, flavour="text", fields=wanted)
    order = [n for n in info.field_names if n in wanted]
    assert some.valid.schema.names == order
    assert some.valid.equals(every.valid.select(order))
    assert some.rejects.equals(every.rejects)
    assert some.valid_rows.equals(every.valid_rows)


@pytest.mark.parametrize("entity", ENTITIES)
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_files_with_injected_errors_same_rejects_both_engines(
    entity: str, fmt: str, tmp_path: Path
) -> None:
    info = get_entity(entity)
    path = tmp_path / f"x.{fmt}"
    with atomic_file(path) as sink:
        writer = get_format(fmt).write
        assert writer is not None
        writer(sink, info, generate_batches(entity, 400, seed=3, error_rate=0.1, batch_rows=150))
    results = {}
    for engine in ("object", "columnar"):
        reader = clen_core.read(path, entity=entity, on_reject="collect", engine=engine,
                                max_rejects=10_000)  # fmt: skip
        objs = list(reader)
        rejects = {(r.row, r.field) for r in reader.rejects}
        results[engine] = (objs, rejects, reader.read_rows, reader.rejected)
    assert results["object"] == results["columnar"]
    objs, rejects, read_rows, rejected = results["columnar"]
    assert read_rows == len(objs) + rejected == 400
    offset = 2 if fmt == "csv" else 1  # CSV: the header is row 1
    truth = injected(entity, 400, seed=3, error_rate=0.1, batch_rows=150)
    assert {row for row, _ in rejects} == {i + offset for i, _, _ in truth}


def test_codes_are_canonicalised_once_per_distinct_value() -> None:
    rows = [{"number": "5", "name": "S", "coordinator": "NL", "coordinator_country": c}
            for c in ("el", "EL", " uk ", None)]  # fmt: skip
    batch = pa.RecordBatch.from_pylist(rows)
    checked = check_batch("action", RawBatch(batch, pa.array([2, 3, 4, 5])), flavour="text")
    assert checked.valid.column("coordinator_country").to_pylist() == ["GR", "GR", "GB", None]


def test_validate_batches_is_a_plain_function_of_batches() -> None:
    batches = list(generate_batches("activity", 1_000, seed=9, error_rate=0.05, batch_rows=300))
    out = list(validate_batches("activity", batches))
    assert sum(c.valid.num_rows for c in out) == 950
    assert [len(c.rejected_rows) for c in out] == [15, 15, 15, 5]
    rows = [r for c in out for r in c.rejected_rows.to_pylist()]
    assert rows == [
        i + 1 for i, _, _ in injected("activity", 1_000, seed=9, error_rate=0.05, batch_rows=300)
    ]
    assert all(c.valid.schema.equals(clen_core.arrow_schema("activity")) for c in out)


def test_objects_from_checked_columns_equal_checked_objects() -> None:
    batch = next(generate_batches("substance", 200, seed=1))
    objs = objects_from_batch(
        "substance",
        check_batch("substance", RawBatch(batch, pa.array(range(1, 201))), flavour="python").valid,
    )
    assert objs == clen_core.from_arrow(pa.Table.from_batches([batch]), "substance")
    assert isinstance(objs[0].names, dict)
    assert {type(o.cus) for o in objs} == {str}


# Arrow's strptime alone would accept every one of these bad dates (it rolls impossible days
# over and knows a year 0); Python's calendar refuses them, and so must the columnar path.
DATES = ["2016-02-29", "2015-02-29", "0001-02-30", "0000-01-01", "0001-01-01", "9999-12-31",
         "2016-13-01", "2016-00-10", "2016-04-31", "2016-2-3", " 2016-02-03"]  # fmt: skip


def test_text_dates_checked_by_the_calendar_vectorised() -> None:
    import datetime as dt

    def python(v: str) -> dt.date | None:
        try:
            return dt.date.fromisoformat(v) if len(v) == 10 else None
        except ValueError:
            return None

    rows = [{"activity_id": f"A-{i}", "action": "1", "kind": "workshop", "theme": "T",
             "city": "Lyon", "country": "FR", "start": d, "end": "9999-12-31"}
            for i, d in enumerate(DATES)]  # fmt: skip
    batch = pa.RecordBatch.from_pylist(rows)
    checked = check_batch("activity", RawBatch(batch, pa.array(range(1, len(rows) + 1))),
                          flavour="text")  # fmt: skip
    expected_bad = [i + 1 for i, d in enumerate(DATES) if python(d) is None]
    assert checked.rejected_rows.to_pylist() == expected_bad == [2, 3, 4, 7, 8, 9, 10, 11]
    assert set(checked.rejects.column("field").to_pylist()) == {"start"}
    assert checked.valid.column("start").to_pylist() == [
        python(d) for d in DATES if python(d) is not None
    ]


@given(
    st.lists(st.none() | st.text(max_size=12), max_size=8),
    st.none() | st.integers(0, 6),
    st.none() | st.integers(0, 30),
)
def test_byte_lengths_skip_counting_the_characters_of_a_text_only_when_its_length_fits(
    texts: list[str | None], low: int | None, high: int | None
) -> None:
    from clen_core.io.columnar import _char_lengths

    lengths = _char_lengths(pa.array(texts, pa.string()), low, high)
    counted = [None] * len(texts) if lengths is None else lengths.to_pylist()
    for cell, n in zip(texts, counted, strict=True):
        if n is not None:  # counted: exactly
            assert cell is not None
            assert n == len(cell)
        elif cell is not None:  # not counted: only when its length surely fits
            assert not low or len(cell) >= low
            assert high is None or len(cell) <= high


# Text shaped like a date, near and far from valid: years 0-9999, months 0-19, days 0-39,
# sometimes a digit short or a separator off.
DATE_LIKE = st.builds(
    lambda y, m, d, sep, cut: f"{y:04d}{sep}{m:02d}{sep}{d:02d}"[: 10 - cut],
    st.integers(0, 9999), st.integers(0, 19), st.integers(0, 39),
    st.sampled_from(["-", "-", "-", "/"]), st.sampled_from([0, 0, 0, 1]),
)  # fmt: skip


@given(st.lists(DATE_LIKE, min_size=1, max_size=20))
def test_text_dates_agree_with_pythons_calendar_on_either_route(texts: list[str]) -> None:
    import datetime as dt

    from clen_core.io.columnar import _text_date

    def python(v: str) -> dt.date | None:
        try:
            return dt.date.fromisoformat(v) if len(v) == 10 and v[4] == v[7] == "-" else None
        except ValueError:
            return None

    raw = pa.array(texts, pa.string())
    # The whole column (a bad value sends it the row-by-row route), then only its good values
    # (Arrow's one-pass cast).
    for column in (raw, pa.array([t for t in texts if python(t)], pa.string())):
        col = _text_date(column, pa.array([True] * len(column)), len(column))
        expected = [python(t) for t in column.to_pylist()]
        assert col.typed.to_pylist() == expected
        assert [r is None for r in col.reason.to_pylist()] == [e is not None for e in expected]


# Whole numbers spelt the ways Arrow's cast reads (and a few it reads but INT_TEXT refuses:
# hexadecimal), so that whole columns take the one-cast route as often as the long one.
INT_LIKE = st.one_of(
    st.integers(-(2**63), 2**63 - 1).map(str),
    st.integers(0, 50).map(str),
    st.integers(0, 50).map(lambda i: f"{i:04d}"),
    st.integers(0, 50).map(lambda i: f"+{i}"),
    st.integers(0, 255).map(lambda i: f"0x{i:X}"),
    st.integers(0, 255).map(lambda i: f"0X{i:x}"),
    st.sampled_from(["-0", "99999999999999999999", "1e3", "", "x", "0x"]),
)


@settings(max_examples=200)
@given(st.lists(st.tuples(INT_LIKE, st.none() | INT_LIKE), min_size=1, max_size=8))
def test_whole_number_columns_agree_with_the_object_path(cells: list[tuple[str, Any]]) -> None:
    rows = [
        {"activity_id": f"A-{i}", "action": action, "kind": "workshop", "theme": "T",
         "city": "Lyon", "country": "FR", "start": "2020-01-01", "end": "2020-01-02",
         "participants": participants}
        for i, (action, participants) in enumerate(cells)
    ]  # fmt: skip
    batch = pa.RecordBatch.from_pylist(rows)
    assert _columnar_path("activity", batch, "text") == _object_path("activity", rows, "text")


# Numbers spelt the ways Arrow's cast reads, and the words it reads but FLOAT_TEXT refuses
# (nan, inf, infinity in any case), so that whole columns take the one-cast route too.
FLOAT_LIKE = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(-999, 999).map(str),
    st.integers(0, 99).map(lambda i: f"{i}."),
    st.integers(0, 99).map(lambda i: f".{i}"),
    st.integers(0, 99).map(lambda i: f"+{i}e-{i % 7}"),
    st.sampled_from(["nan", "NaN", "inf", "-inf", "Infinity", "INF", "1e400", "-1e999", "",
                     "1e", ".", "1.5.5", "0x1p3", "1,5", " 1", "1\n", "e5"]),
)  # fmt: skip


@settings(max_examples=200)
@given(st.lists(st.tuples(FLOAT_LIKE, st.none() | FLOAT_LIKE), min_size=1, max_size=8))
def test_number_columns_agree_with_the_object_path(cells: list[tuple[str, Any]]) -> None:
    rows = [
        {"result_id": f"R-{i}", "sample_id": "S", "method_id": "M", "analyte": "A",
         "value": value, "unit": "%", "expanded_uncertainty": uncertainty,
         "coverage_factor": "2", "less_than": "false"}
        for i, (value, uncertainty) in enumerate(cells)
    ]  # fmt: skip
    batch = pa.RecordBatch.from_pylist(rows)
    assert _columnar_path("analysis_result", batch, "text") == _object_path(
        "analysis_result", rows, "text"
    )
    # And in the same words (nan is not a number in the text, rather than a NaN).
    decoder = Decoder(get_entity("analysis_result"), "text")
    said = set()
    for i, values in enumerate(rows, 1):
        try:
            decoder.decode(values)
        except InvalidObjectError as exc:
            said |= {(i, e.field, e.reason) for e in exc.errors}
    checked = check_batch(
        "analysis_result", RawBatch(batch, pa.array(range(1, len(rows) + 1))), flavour="text"
    )
    assert {(r["row"], r["field"], r["reason"]) for r in checked.rejects.to_pylist()} == said


# --------------------------------------------------------------------------- one pass per column


@settings(max_examples=200)
@given(
    st.lists(st.none() | st.text(alphabet="0123456789-+xXab é", max_size=6), max_size=12),
    st.data(),
)
def test_a_letter_in_a_text_column_is_never_missed(values: list[str | None], data: Any) -> None:
    from clen_core.io.columnar import _may_contain

    def truly(arr: pa.Array) -> bool:
        return any(v is not None and ("x" in v or "X" in v) for v in arr.to_pylist())

    whole = pa.array(values, pa.string())
    assert _may_contain(whole, b"xX") == truly(whole)  # built from values: exactly
    start = data.draw(st.integers(0, len(values)))
    part = whole.slice(start, data.draw(st.integers(0, len(values) - start)))
    assert _may_contain(part, b"xX") >= truly(part)  # a slice: never a false "no"
    assert _may_contain(whole.cast(pa.large_string()), b"xX") == truly(whole)


COUNTRY_CELLS = st.sampled_from(["FR", "DE", "GR", "el", "EL", " uk ", "XX", "fr1", "", None])


@settings(max_examples=100)
@given(st.lists(COUNTRY_CELLS, min_size=1, max_size=10))
def test_a_code_column_is_checked_per_distinct_value_as_each_value_alone(
    cells: list[str | None],
) -> None:
    from clen_core.codes import get_code_system

    rows = [{"number": "5", "name": "S", "coordinator": "NL", "coordinator_country": c}
            for c in cells]  # fmt: skip
    batch = pa.RecordBatch.from_pylist(rows, schema=pa.schema([(k, pa.string()) for k in rows[0]]))
    checked = check_batch(
        "action", RawBatch(batch, pa.array(range(1, len(rows) + 1))), flavour="text"
    )
    bad = {r["row"]: r["reason"] for r in checked.rejects.to_pylist()}
    good = iter(checked.valid.column("coordinator_country").to_pylist())
    for row, cell in enumerate(cells, 1):
        try:
            expected = None if cell is None else get_code_system("country").parse(cell)
        except ValueError:
            assert row in bad
            continue
        assert row not in bad
        assert next(good) == expected


def test_a_column_of_canonical_codes_is_passed_on_as_read() -> None:
    codes = pa.array(["FR", "DE", None, "FR"], pa.string())
    rows = pa.RecordBatch.from_arrays(
        [pa.array(["5"] * 4), pa.array(["S"] * 4), pa.array(["NL"] * 4), codes],
        names=["number", "name", "coordinator", "coordinator_country"],
    )
    checked = check_batch("action", RawBatch(rows, pa.array([2, 3, 4, 5])), flavour="text")
    # No copy taken from the distinct values: the very buffers read.
    column = checked.valid.column("coordinator_country")
    assert column.buffers()[2].address == codes.buffers()[2].address


def _activity_rows(kinds: pa.Array, flavour: str) -> pa.RecordBatch:
    """Good activities with the given ``kind`` column, as a reader of ``flavour`` gives them."""
    n = len(kinds)
    cells = {"activity_id": [f"A-{i}" for i in range(n)], "action": ["1"] * n, "theme": ["T"] * n,
             "city": ["Lyon"] * n, "country": ["FR"] * n, "start": ["2020-01-01"] * n,
             "end": ["2020-01-02"] * n}  # fmt: skip
    arrays = {k: pa.array(v) for k, v in cells.items()}
    if flavour == "python":  # typed, as Parquet gives them
        arrays["action"] = arrays["action"].cast(pa.int64())
        arrays["start"] = arrays["start"].cast(pa.date32())
        arrays["end"] = arrays["end"].cast(pa.date32())
    arrays["kind"] = kinds
    return pa.RecordBatch.from_arrays(list(arrays.values()), names=list(arrays))


KIND_CELLS = st.sampled_from(["workshop", "training_session", "seminar", "Workshop", "nope", None])


@settings(max_examples=100)
@given(st.lists(KIND_CELLS, min_size=1, max_size=10))
def test_an_enum_column_is_checked_on_its_distinct_values_and_stays_encoded(
    kinds: list[str | None],
) -> None:
    members = {"workshop", "training_session", "seminar"}
    cases: list[tuple[Flavour, pa.Array]] = [
        ("text", pa.array(kinds, pa.string())),
        ("python", pa.array(kinds, pa.string()).dictionary_encode()),
    ]
    for flavour, column in cases:
        batch = _activity_rows(column, flavour)
        rows = pa.array(range(1, len(kinds) + 1))
        checked = check_batch("activity", RawBatch(batch, rows), flavour=flavour)
        bad = {r["row"] for r in checked.rejects.to_pylist() if r["field"] == "kind"}
        assert bad == {i for i, k in enumerate(kinds, 1) if k not in members}  # None: required
        valid = checked.valid.column("kind")
        assert valid.type == clen_core.arrow_schema("activity").field("kind").type
        assert valid.to_pylist() == [k for k in kinds if k in members]
        objs = objects_from_batch("activity", checked.valid)
        assert [o.kind for o in objs] == valid.to_pylist()


def test_an_unused_unknown_entry_of_a_read_dictionary_does_not_reach_the_objects() -> None:
    # A Parquet column's dictionary may hold values no row uses: one is not a member here.
    kinds = pa.DictionaryArray.from_arrays(pa.array([0, 0], pa.int32()), ["workshop", "bogus"])
    batch = _activity_rows(kinds, "python")
    checked = check_batch("activity", RawBatch(batch, pa.array([1, 2])), flavour="python")
    assert checked.rejects.num_rows == 0
    assert [o.kind.value for o in objects_from_batch("activity", checked.valid)] == ["workshop"] * 2


@pytest.mark.parametrize("entries", [["FR", "el", None], ["FR", "XX", None], ["DE", None]])
def test_a_dictionary_code_column_is_checked_as_its_decoded_values(
    entries: list[str | None],
) -> None:
    # Rows pointing at a null entry of the dictionary hold nothing, as a null row does
    # (an activity's country is required: those rows are rejected as missing it).
    indices = pa.array([i % len(entries) for i in range(7)], pa.int32())
    encoded = pa.DictionaryArray.from_arrays(indices, pa.array(entries, pa.string()))
    results = []
    for column in (encoded, encoded.cast(pa.string())):
        batch = _activity_rows(pa.array(["workshop"] * 7), "text")
        batch = batch.set_column(batch.schema.get_field_index("country"), "country", column)
        checked = check_batch("activity", RawBatch(batch, pa.array(range(1, 8))), flavour="text")
        results.append((checked.valid.to_pylist(), checked.rejects.to_pylist()))
    assert results[0] == results[1]
    assert {r["row"] for r in results[0][1]} >= {
        i + 1 for i in range(7) if entries[i % len(entries)] is None
    }


# --- lists and maps already typed: the rows surely fine are kept without the check -----------

from clen_core.io import columnar as _engine  # noqa: E402
from clen_core.model.fields import ListShape, MapShape, ScalarShape  # noqa: E402
from clen_core.schema.arrow import arrow_type  # noqa: E402
from clen_core.testing.codes import invalid_codes, valid_codes, written_forms  # noqa: E402

_NESTED = [
    (info.name, f.name)
    for info in entities()
    for f in info.fields
    if not isinstance(f.shape, ScalarShape)
]


def _scalars(shape: ScalarShape, code: str | None) -> st.SearchStrategy[Any]:
    if shape.py is bool:
        return st.booleans()
    if shape.enum is not None:
        return st.sampled_from([e.value for e in shape.enum])
    others: dict[type, st.SearchStrategy[Any]] = {
        int: st.integers(-3, 3),
        float: st.floats(-1e3, 1e3),
        dt.date: st.dates(),
        Decimal: st.decimals(-100, 100, places=2),
    }
    if shape.py is not str:
        return others[shape.py]
    # Small alphabets, so that repeated items and keys are common.
    plain = st.text(alphabet="ab \u00e9", max_size=3)
    if code is None:
        return plain
    canonical = valid_codes(code)
    return st.one_of(
        canonical,
        canonical.flatmap(lambda c: written_forms(code, c)),
        invalid_codes(code),
        plain,
    )


def _nested_values(shape: Any, spec: Any) -> st.SearchStrategy[Any]:
    if isinstance(shape, ScalarShape):
        return _scalars(shape, spec.code)
    if isinstance(shape, ListShape):
        return st.lists(_nested_values(shape.item, spec), max_size=4)
    assert isinstance(shape, MapShape)
    key = _scalars(shape.key, spec.key_code)
    return st.lists(st.tuples(key, _nested_values(shape.value, spec)), max_size=4)


@pytest.mark.parametrize(("entity", "name"), _NESTED)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_typed_lists_and_maps_kept_without_the_check_are_what_the_check_keeps(
    entity: str, name: str, data: st.DataObject
) -> None:
    info = get_entity(entity)
    f = info.field(name)
    value = _nested_values(f.shape, f.spec)
    rows = data.draw(st.lists(st.one_of(st.none(), value), max_size=12), label="rows")
    target = arrow_type(f.shape, f.spec)
    try:
        raw = pa.array(rows, target)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return  # not a value of the type (an item the type holds no room for)
    start = data.draw(st.integers(0, len(raw)), label="start")  # sliced: offsets in use
    raw = raw.slice(start)
    convert = _engine._decoder_convert(info, f, get_format("parquet").flavour)
    fast = _engine._per_value_nested(f, raw, convert, target)
    slow = _engine._per_value_nested_slow(f, raw, convert, target)
    assert fast.typed.to_pylist() == slow.typed.to_pylist()
    assert fast.reason.to_pylist() == slow.reason.to_pylist()


def test_typed_lists_and_maps_of_good_rows_never_reach_the_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The point of the fast path: good substance names and lab criteria stay vectorised.
    def refuse(*_: Any) -> Any:
        raise AssertionError("a good row went through the per-value check")

    for entity in ("substance", "laboratory"):
        batch = next(generate_batches(entity, 500, seed=3))
        info = get_entity(entity)
        monkeypatch.setattr(_engine, "_per_value_nested_slow", refuse)
        raw = RawBatch(batch, pa.array(range(1, batch.num_rows + 1), pa.int64()))
        checked = check_batch(info, raw, flavour=get_format("parquet").flavour)
        assert checked.valid.num_rows == batch.num_rows
        monkeypatch.undo()
