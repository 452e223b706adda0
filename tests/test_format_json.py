"""The built-in JSON document and JSON Lines formats (plugin ``clen_core_json``)."""

import json
import math
import tracemalloc
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import clen_core
import clen_core_json
from clen_core.data import reference_dataset
from clen_core.io.formats import FormatError, format_for_path, get_format
from clen_core.io.records import RawRecord, RowProblem
from clen_core.model import Dataset, entities, get_entity
from clen_core.testing import from_entity

ENTITY_NAMES = [e.name for e in entities()]
FORMATS = {"json": ".json", "jsonl": ".jsonl"}
REF = reference_dataset()


def _validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        clen_core.json_schema(name), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def _plain(obj: object) -> dict[str, Any]:
    """``to_json(obj)`` as it reads back from JSON text."""
    result: dict[str, Any] = json.loads(json.dumps(clen_core.to_json(obj), ensure_ascii=False))
    return result


def _parts(path: Path, fmt: str) -> tuple[dict[str, Any], list[Any]]:
    """The header and the records of a file we wrote, parsed with the standard library."""
    if fmt == "json":
        doc = json.loads(path.read_text("utf-8"))
        return doc["clen_core"], doc["records"]
    lines = [json.loads(line) for line in path.read_text("utf-8").split("\n") if line]
    return lines[0]["clen_core"], lines[1:]


def _read_all(path: Path, entity: str, **kwargs: Any) -> list[Any]:
    return list(clen_core.read(path, entity=entity, **kwargs))


# --------------------------------------------------------------------------- registration


def test_both_formats_are_registered_by_the_plugin() -> None:
    fmt = get_format("json")
    assert fmt.extensions == (".json",)
    assert fmt.flavour == "json"
    assert fmt.plugin == "json"
    assert None not in (fmt.read, fmt.write, fmt.read_dataset, fmt.write_dataset)
    lines = get_format("jsonl")
    assert lines.extensions == (".jsonl", ".ndjson")
    assert lines.flavour == "json"
    assert lines.plugin == "json"
    assert None not in (lines.read, lines.write)
    # A JSON Lines file reads as a dataset of the one entity its header names; it
    # cannot hold several, so it writes none.
    assert lines.read_dataset is not None
    assert lines.write_dataset is None
    assert format_for_path("a/b.JSON").name == "json"
    assert format_for_path("b.ndjson").name == "jsonl"


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("name", ENTITY_NAMES)
@settings(max_examples=25)  # each example writes and reads both formats
@given(data=st.data())
def test_round_trip_is_lossless_and_every_record_matches_the_json_schema(
    name: str, data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    objs = data.draw(st.lists(from_entity(name), max_size=4))
    folder = tmp_path_factory.mktemp("rt")
    validator = _validator(name)
    for fmt, ext in FORMATS.items():
        path = folder / f"{name}{ext}"
        result = clen_core.write(objs, path, entity=name, batch_rows=2)
        assert result.rows == {name: len(objs)}
        assert _read_all(path, name) == objs
        header, records = _parts(path, fmt)
        assert header["entity"] == name
        # Each record is exactly the object's JSON form, and valid against the entity's schema.
        assert records == [_plain(o) for o in objs]
        for record in records:
            validator.validate(record)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_the_header_carries_what_parquet_metadata_carries(fmt: str, tmp_path: Path) -> None:
    info = get_entity("activity")
    path = tmp_path / f"a{FORMATS[fmt]}"
    clen_core.write(REF.records("activity"), path)
    header, records = _parts(path, fmt)
    assert header == {
        "format": "entity",
        "entity": "activity",
        "schema_version": info.version,
        "library_version": clen_core.__version__,
        "key": list(info.key),
        "fields": {f.name: f.description for f in info.fields},
    }
    assert list(header["fields"]) == list(info.field_names)
    assert len(records) == len(REF.records("activity"))


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_layout_is_one_record_a_line_in_utf8(fmt: str, tmp_path: Path) -> None:
    objs = REF.records("laboratory")
    path = tmp_path / f"laboratory{FORMATS[fmt]}"
    clen_core.write(objs, path)
    raw = path.read_bytes()
    assert b"\\u" not in raw  # text as is, not escaped
    lines = raw.decode("utf-8").split("\n")
    if fmt == "json":
        assert lines[0].startswith('{"clen_core": {"format": "entity"')
        assert lines[0].endswith(",")
        assert lines[1] == '"records": ['
        body, tail = lines[2 : 2 + len(objs)], lines[2 + len(objs) :]
        assert tail == ["]}", ""]
        assert [json.loads(line.removesuffix(",")) for line in body] == [_plain(o) for o in objs]
    else:
        assert json.loads(lines[0])["clen_core"]["entity"] == "laboratory"
        assert [json.loads(line) for line in lines[1:-1]] == [_plain(o) for o in objs]
        assert lines[-1] == ""


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_extreme_floats_and_unicode_round_trip_exactly(fmt: str, tmp_path: Path) -> None:
    base = REF.records("pt_result")[0]
    cls = type(base)
    floats = [0.1, -0.0, 1e-300, 5e-324, -5e-324, 1.7976931348623157e308, -1.7976931348623157e308]
    floats += [1 / 3, 2.0**53 + 2, 123456.789e-10]
    objs = [
        cls(study_id=f"S-{i}-ü€😀", lab_id=base.lab_id, value=v, expanded_uncertainty=None)
        for i, v in enumerate(floats)
    ]
    path = tmp_path / f"pt_result{FORMATS[fmt]}"
    clen_core.write(objs, path)
    back = _read_all(path, "pt_result")
    assert back == objs
    for a, b in zip(back, objs, strict=True):
        assert math.copysign(1.0, a.value) == math.copysign(1.0, b.value)
        assert a.value.hex() == b.value.hex()


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_empty_string_and_missing_stay_different(fmt: str, tmp_path: Path) -> None:
    base = REF.records("activity")[0]
    objs = [attrs.evolve(base, activity_id="E1", notes=""), attrs.evolve(base, activity_id="E2")]
    assert objs[1].notes is None
    path = tmp_path / f"a{FORMATS[fmt]}"
    clen_core.write(objs, path)
    assert _read_all(path, "activity") == objs
    _, records = _parts(path, fmt)
    assert records[0]["notes"] == ""
    assert records[1]["notes"] is None


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_writing_nothing_gives_a_file_that_reads_as_nothing(fmt: str, tmp_path: Path) -> None:
    path = tmp_path / f"a{FORMATS[fmt]}"
    clen_core.write([], path, entity="activity")
    header, records = _parts(path, fmt)
    assert header["entity"] == "activity"
    assert records == []
    assert _read_all(path, "activity") == []


# --------------------------------------------------------------------------- datasets


def test_reference_dataset_round_trips_through_one_document(tmp_path: Path) -> None:
    path = tmp_path / "reference.json"
    result = clen_core.write(REF, path)
    assert result.paths == (path,)
    assert result.rows == REF.counts()
    back = clen_core.read_dataset(path)
    assert back == REF
    doc = json.loads(path.read_text("utf-8"))
    assert doc["clen_core"] == {
        "format": "dataset",
        "library_version": clen_core.__version__,
        "entities": {i.name: {"schema_version": i.version} for i in REF.entities},
    }
    assert list(doc["entities"]) == [i.name for i in REF.entities]
    for info in REF.entities:
        validator = _validator(info.name)
        records = doc["entities"][info.name]
        assert records == [_plain(o) for o in REF.records(info.name)]
        for record in records:
            validator.validate(record)


@st.composite
def _datasets(draw: st.DrawFn) -> Dataset:
    names = draw(st.lists(st.sampled_from(ENTITY_NAMES), min_size=1, max_size=3, unique=True))
    dataset = Dataset()
    for name in names:
        info = get_entity(name)
        dataset.extend(draw(st.lists(from_entity(name), max_size=3, unique_by=info.key_of)))
    return dataset


@settings(max_examples=40)
@given(dataset=_datasets())
def test_any_small_dataset_round_trips_through_one_document(
    dataset: Dataset, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("ds") / "dataset.json"
    clen_core.write(dataset, path)
    assert clen_core.read_dataset(path) == dataset


def test_dataset_and_entity_documents_are_not_mixed_up(tmp_path: Path) -> None:
    dataset_path = tmp_path / "all.json"
    clen_core.write(REF, dataset_path)
    with pytest.raises(FormatError, match=r"dataset document.*read_dataset"):
        _read_all(dataset_path, "activity")
    entity_path = tmp_path / "activity.json"
    clen_core.write(REF.records("activity"), entity_path)
    # A document of one entity that names it reads as a dataset of that entity.
    assert clen_core.read_dataset(entity_path) == clen_core.Dataset(REF.records("activity"))
    unnamed = tmp_path / "unnamed.json"
    unnamed.write_text('{"clen_core": {"format": "entity"}, "records": []}')
    with pytest.raises(FormatError, match="does not name it"):
        clen_core.read_dataset(unnamed)
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps([_plain(REF.records("activity")[0])]))
    with pytest.raises(FormatError, match=r"clen_core\.read\("):
        clen_core.read_dataset(bare)
    lines = tmp_path / "activity.jsonl"
    lines.write_text('{"clen_core": {"format": "dataset", "entities": {}}}\n')
    with pytest.raises(FormatError, match="one entity, not a dataset"):
        _read_all(lines, "activity")


def test_a_document_read_as_json_lines_says_so(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    clen_core.write(REF.records("activity"), path, format="json")
    with pytest.raises(FormatError, match=r"a JSON document, not JSON Lines.*format='json'"):
        _read_all(path, "activity", format="jsonl")
    assert _read_all(path, "activity") == REF.records("activity")  # detected


def test_an_empty_dataset_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "empty.json"
    clen_core.write(Dataset(), path)
    assert json.loads(path.read_text())["entities"] == {}
    assert clen_core.read_dataset(path) == Dataset()


def test_dataset_document_problems(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    good = json.dumps(_plain(REF.records("activity")[0]))
    path.write_text('{"records": []}')
    with pytest.raises(FormatError, match=r"document of one entity.*clen_core\.read\("):
        clen_core.read_dataset(path)
    path.write_text('{"entities": []}')
    with pytest.raises(FormatError, match="'entities' must be an object, not an array"):
        clen_core.read_dataset(path)
    path.write_text('{"entities": {"activity": {}}}')
    with pytest.raises(FormatError, match="'activity' must be an array, not an object"):
        clen_core.read_dataset(path)
    path.write_text('{"clen_core": {"format": "dataset", "entities": []}, "entities": {}}')
    with pytest.raises(FormatError, match="header's 'entities' must be an object"):
        clen_core.read_dataset(path)
    path.write_text('{"entities": {"spaceship": []}}')
    with pytest.raises(FormatError, match="unknown entity 'spaceship'"):
        clen_core.read_dataset(path)
    path.write_text(f'{{"entities": {{"activity": [{good}], "activity": []}}}}')
    with pytest.raises(FormatError, match="'activity' appears twice"):
        clen_core.read_dataset(path)
    header = {"format": "dataset", "entities": {"activity": {"schema_version": 99}}}
    path.write_text(json.dumps({"clen_core": header, "entities": {}}))
    with pytest.raises(FormatError, match="schema version 99"):
        clen_core.read_dataset(path)
    # Rows are counted in each entity's array; a bad record is a reject naming its row.
    bad = json.dumps(_plain(REF.records("activity")[1]) | {"participants": -3})
    lab = json.dumps(_plain(REF.records("laboratory")[0]))
    path.write_text(f'{{"entities": {{"laboratory": [{lab}], "activity": [{good}, {bad}, 7]}}}}')
    with pytest.raises(clen_core.RejectedRowsError) as exc:
        clen_core.read_dataset(path)
    assert [(r.row, r.field) for r in exc.value.rejects] == [(2, "participants"), (3, None)]
    assert exc.value.dataset is not None
    assert exc.value.dataset.counts() == {"laboratory": 1, "activity": 1}
    # A truncated dataset document names the entity's array and the row reached.
    path.write_text(f'{{"entities": {{"laboratory": [{lab}], "activity": [{good}, {good[:20]}')
    with pytest.raises(FormatError, match=r"row 2: .*ends too early.*'activity'"):
        clen_core.read_dataset(path)


# --------------------------------------------------------------------------- bad records


GOOD = [_plain(o) for o in REF.records("activity")[:3]]


def _bad_items() -> list[tuple[str, str | None, str]]:
    """(JSON text of one item, field blamed, words of the reason), in file order."""
    g = GOOD
    dup = json.dumps(g[0] | {"activity_id": "DUP"})[:-1] + ', "city": "Graz"}'
    missing = {k: v for k, v in g[1].items() if k != "kind"} | {"activity_id": "MISS"}
    return [
        (json.dumps(g[0]), "", ""),
        (
            json.dumps(g[1] | {"activity_id": "T", "participants": "many"}),
            "participants",
            "whole number",
        ),
        (json.dumps(g[1]), "", ""),
        (json.dumps(g[0] | {"activity_id": "C", "country": "ZZ"}), "country", "ZZ"),
        (json.dumps(missing), "kind", "required, missing"),
        (json.dumps(g[0] | {"activity_id": "U", "colour": "red"}), "colour", "not a field"),
        ("42", None, "expected a JSON object, got a number"),
        ('["A5-001"]', None, "expected a JSON object, got an array"),
        (dup, None, "key 'city' appears twice"),
        (json.dumps(g[2], ensure_ascii=False), "", ""),
    ]


def _check_rejects(
    path: Path, rows: list[int], items: list[tuple[str, str | None, str]], extra: int = 0
) -> None:
    expected_bad = [(row, field, why) for row, (_, field, why) in zip(rows, items, strict=True)]
    expected_bad = [b for b in expected_bad if b[1] != ""]
    reader = clen_core.read(path, entity="activity", on_reject="collect")
    got = list(reader)
    assert [_plain(o) for o in got] == GOOD[:2] + GOOD[2:]
    assert reader.accepted == 3
    assert reader.rejected == len(expected_bad) + extra
    assert reader.read_rows == reader.accepted + reader.rejected
    rejects = [r for r in reader.rejects if r.row in {b[0] for b in expected_bad}]
    assert [(r.row, r.field) for r in rejects] == [(b[0], b[1]) for b in expected_bad]
    for reject, (_, _, why) in zip(rejects, expected_bad, strict=True):
        assert reject.file == str(path)
        assert why in reject.reason or why in str(reject.value)
        assert str(reject).startswith(f"{path}, row {reject.row}")
    # By default the rejects are raised, once every good row has been yielded.
    yielded: list[Any] = []
    with pytest.raises(clen_core.RejectedRowsError) as exc:
        yielded.extend(clen_core.read(path, entity="activity"))
    assert yielded == got
    assert exc.value.read == reader.read_rows
    assert exc.value.rejected == reader.rejected


def test_bad_records_in_a_document_are_rejected_and_the_good_kept(tmp_path: Path) -> None:
    items = _bad_items()
    path = tmp_path / "activity.json"
    header = json.dumps({"clen_core": {"format": "entity", "entity": "activity"}})[:-1]
    path.write_text(header + ', "records": [\n' + ",\n".join(t for t, _, _ in items) + "\n]}")
    _check_rejects(path, list(range(1, len(items) + 1)), items)
    # The same records in a bare array (written by others) read the same way.
    bare = tmp_path / "bare.json"
    bare.write_text("[" + ", ".join(t for t, _, _ in items) + "]", "utf-8")
    _check_rejects(bare, list(range(1, len(items) + 1)), items)


def test_bad_lines_in_json_lines_are_rejected_and_the_good_kept(tmp_path: Path) -> None:
    items = _bad_items()
    header = json.dumps({"clen_core": {"format": "entity", "entity": "activity"}})
    lines = [header, *(t for t, _, _ in items[:5]), "   ", *(t for t, _, _ in items[5:])]
    lines += ['{"activity_id": "A5-009", ', "", "\t", b"\xff\xfe".decode("latin-1"), "null"]
    path = tmp_path / "activity.jsonl"
    path.write_bytes(
        "\n".join(lines).encode("utf-8").replace("ÿþ".encode(), b'{"x": "\xff\xfe"}') + b"\n"
    )
    # Line numbers: header is line 1, the blank line 7 is skipped.
    rows = [2, 3, 4, 5, 6, 8, 9, 10, 11, 12]
    _check_rejects(path, rows, items, extra=3)
    reader = clen_core.read(path, entity="activity", on_reject="collect")
    list(reader)
    by_row = {r.row: r for r in reader.rejects}
    assert "not valid JSON" in by_row[13].reason
    assert by_row[13].value == '{"activity_id": "A5-009", '
    assert "not valid UTF-8" in by_row[16].reason
    assert by_row[17].reason == "expected a JSON object, got null"
    assert set(by_row) == {3, 5, 6, 8, 9, 10, 11, 13, 16, 17}


@pytest.mark.parametrize(
    ("header", "words"),
    [
        ('{"clen_core": {"format": "entity", "format": "entity"}}', "key 'format' appears twice"),
        ('{"clen_core": {"format": "entity"}, "activity_id": "x"}', "other keys: 'activity_id'"),
        ('{"clen_core": {"format": "entity", "entity": "sample"}}', "'sample' records"),
        ('{"clen_core": null}', "header must be an object, not null"),
    ],
)
def test_a_bad_json_lines_header_is_a_format_error(header: str, words: str, tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text("\n" + header + "\n" + json.dumps(GOOD[0]) + "\n")
    error, got = _format_error(path)
    assert words in str(error)
    assert got == []


def test_line_breaks_other_than_newline_are_escaped(tmp_path: Path) -> None:
    base = REF.records("activity")[0]
    odd = "a\u2028b\u2029c\x85d\ne\rf\x0bg"
    objs = [attrs.evolve(base, notes=odd, title="\u2028")]
    for ext in (".json", ".jsonl"):
        path = tmp_path / f"a{ext}"
        clen_core.write(objs, path)
        raw = path.read_bytes()
        for char in ("\u2028", "\u2029", "\x85", "\x0b", "\r"):
            assert char.encode() not in raw
        assert _read_all(path, "activity") == objs
        assert len(raw.decode().splitlines()) == (4 if ext == ".json" else 2)


def test_json_lines_without_header_and_with_crlf_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "activity.ndjson"
    path.write_bytes(b"\xef\xbb\xbf" + b"\r\n".join(json.dumps(g).encode() for g in GOOD) + b"\r\n")
    assert [_plain(o) for o in _read_all(path, "activity")] == GOOD
    doc = tmp_path / "activity.json"
    doc.write_bytes(b"\xef\xbb\xbf" + json.dumps({"records": GOOD}).encode())
    assert [_plain(o) for o in _read_all(doc, "activity")] == GOOD


def test_rows_of_raw_records_are_positions_and_line_numbers(tmp_path: Path) -> None:
    info = get_entity("activity")
    doc = tmp_path / "a.json"
    doc.write_text(json.dumps(GOOD, indent=2))
    with doc.open("rb") as f:
        items = list(clen_core_json.read(f, info, str(doc)))
    assert [(type(i), i.row) for i in items] == [(RawRecord, 1), (RawRecord, 2), (RawRecord, 3)]
    lines = tmp_path / "a.jsonl"
    lines.write_text("\n\n" + json.dumps(GOOD[0]) + "\n[]\n")
    with lines.open("rb") as f:
        items2 = list(clen_core_json.read_lines(f, info, str(lines)))
    assert [(type(i), i.row) for i in items2] == [(RawRecord, 3), (RowProblem, 4)]


def test_decimals_given_as_json_numbers_read_exactly(tmp_path: Path) -> None:
    base = _plain(REF.records("funded_action")[0])
    values = ["1250.5", "123456789012345.67", "1e3", "7", "0.10"]
    expected = [Decimal(v) for v in values]
    written = json.dumps(base["budget_eur"])
    records = [
        json.dumps(base | {"funded_action_id": f"F{i}"}).replace(written, v)
        for i, v in enumerate(values)
    ]
    doc = tmp_path / "funded_action.json"
    doc.write_text("[" + ",".join(records) + "]")
    lines = tmp_path / "funded_action.jsonl"
    lines.write_text("\n".join(records))
    for path in (doc, lines):
        got = [o.budget_eur for o in _read_all(path, "funded_action")]
        assert got == expected
        assert all(isinstance(v, Decimal) for v in got)
        assert str(got[1]) == "123456789012345.67"


def test_numbers_that_python_cannot_hold_are_errors_not_crashes(tmp_path: Path) -> None:
    record = json.dumps(GOOD[0] | {"participants": 12345})
    huge = record.replace("12345", "9" * 5000)
    doc = tmp_path / "a.json"
    doc.write_text(f"[{record}, {huge}]")
    got = []
    with pytest.raises(FormatError, match="row 2"):
        got.extend(clen_core.read(doc, entity="activity"))
    assert len(got) == 1
    doc.write_text(f"[{record.replace('12345', 'NaN')}]")
    with pytest.raises(FormatError, match="not valid JSON"):
        _read_all(doc, "activity")
    lines = tmp_path / "a.jsonl"
    lines.write_text("\n".join([huge, record.replace("12345", "NaN"), record]))
    reader = clen_core.read(lines, entity="activity", on_reject="collect")
    assert len(list(reader)) == 1
    assert [r.row for r in reader.rejects] == [1, 2]
    assert "NaN is not a JSON value" in reader.rejects[1].reason


# --------------------------------------------------------------------------- file errors


def _format_error(path: Path, entity: str = "activity") -> tuple[FormatError, list[Any]]:
    got: list[Any] = []
    with pytest.raises(FormatError) as exc:
        got.extend(clen_core.read(path, entity=entity))
    assert exc.value.path == str(path)
    return exc.value, got


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_a_header_of_another_entity_or_version_is_a_format_error(fmt: str, tmp_path: Path) -> None:
    path = tmp_path / f"a{FORMATS[fmt]}"
    clen_core.write(REF.records("activity"), path)
    error, got = _format_error(path, "laboratory")
    assert "'activity' records, not 'laboratory'" in str(error)
    assert "entity='activity'" in str(error)
    assert got == []
    text = path.read_text("utf-8").replace('"schema_version": 1', '"schema_version": 2', 1)
    path.write_text(text, "utf-8")
    error, _ = _format_error(path)
    assert "schema version 2" in str(error)


def test_a_truncated_document_yields_the_good_rows_then_names_the_row(tmp_path: Path) -> None:
    objs = REF.records("activity")[:10]
    path = tmp_path / "a.json"
    clen_core.write(objs, path)
    lines = path.read_bytes().split(b"\n")
    # Lines: header, "records": [, then record k on line k + 2. Cut inside record 6.
    cut = b"\n".join(lines[:7]) + b"\n" + lines[7][: len(lines[7]) // 2]
    path.write_bytes(cut)
    error, got = _format_error(path)
    assert got == objs[:5]
    assert error.row == 6
    assert "ends too early" in str(error)
    assert f"{path}, row 6:" in str(error)
    # Cut right after a record's comma: the row reached is the next one.
    path.write_bytes(b"\n".join(lines[:7]) + b"\n")
    error, got = _format_error(path)
    assert got == objs[:5]
    assert error.row == 6
    # Cut after the array: every record is read, then the error.
    path.write_bytes(b"\n".join(lines[:12]) + b"\n]")
    error, got = _format_error(path)
    assert got == objs
    assert error.row is None


def test_malformed_json_far_into_a_file_comes_after_every_good_row(tmp_path: Path) -> None:
    # Beyond the parser's first chunks, with good rows in the same chunk as the fault.
    lines = [json.dumps(GOOD[0] | {"activity_id": f"A-{i}"}) for i in range(3000)]
    lines[2500] = lines[2500].replace('"action": 5', '"action": 5 5')
    path = tmp_path / "a.json"
    path.write_text("[\n" + ",\n".join(lines) + "\n]")
    error, got = _format_error(path)
    assert len(got) == 2500
    assert got[-1].activity_id == "A-2499"
    assert error.row == 2501
    assert "not valid JSON" in str(error)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "the file is empty"),
        (b"   \n", "the file is empty"),
        (b"hello, world", "not valid JSON"),
        (b"name,country\nx,AT\n", "not valid JSON"),
        (b'"just a string"', "got a string"),
        (b"42", "got a number"),
        (b"null", "got null"),
        (b"[] []", "not valid JSON"),
        (b'{"records": []} x', "not valid JSON"),
        (b'{"records": [], "extra": 1}', "unexpected key 'extra'"),
        (b'{"records": [], "records": []}', "'records' appears twice"),
        (b'{"records": {}}', "'records' must be an array, not an object"),
        (b'{"records": true}', "'records' must be an array, not true"),
        (b'{"entities": {}}', "dataset document (several entities)"),
        (b'{"clen_core": {"format": "entity"}}', "no 'records'"),
        (b'{"clen_core": [], "records": []}', "header must be an object"),
        (b'{"clen_core": {"format": "x"}, "records": []}', "format is 'x'"),
        (b'{"clen_core": {"format": "entity", "format": "entity"}, "records": []}', "twice"),
        (
            b'{"clen_core": {"format": "entity", "entity": "activity", "schema_version": "1"}, '
            b'"records": []}',
            "not a whole number",
        ),
        (b'["\xff"]', "not valid JSON"),
        (b"\xff\xfe[\x00]\x00", "not valid JSON"),
    ],
)
def test_files_that_are_not_our_json_are_format_errors(
    content: bytes, words: str, tmp_path: Path
) -> None:
    path = tmp_path / "a.json"
    path.write_bytes(content)
    error, got = _format_error(path)
    assert words in str(error)
    assert got == []
    assert "\n" not in str(error)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_deeply_nested_garbage_fails_fast_without_crashing(fmt: str, tmp_path: Path) -> None:
    depth = 100_000
    path = tmp_path / f"a{FORMATS[fmt]}"
    path.write_bytes(b"[" * depth + b"]" * depth + b"\n")
    if fmt == "json":
        error, _ = _format_error(path)
        assert f"nested more than {clen_core_json.MAX_DEPTH} levels deep" in str(error)
        assert error.row == 1
        dataset = tmp_path / "d.json"
        dataset.write_bytes(b'{"entities": {"activity": ' + b"[" * depth)
        with pytest.raises(FormatError, match=r"row 1: nested .* \(in the 'activity' records\)$"):
            clen_core.read_dataset(dataset)
    else:
        reader = clen_core.read(path, entity="activity", on_reject="collect")
        assert list(reader) == []
        assert [(r.row, r.reason) for r in reader.rejects] == [
            (1, f"not readable: nested more than {clen_core_json.MAX_DEPTH} levels deep")
        ]


def test_records_nested_within_the_limit_are_rejects_not_errors(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    deep = "[" * 50 + "]" * 50
    path.write_text(f'{{"records": [{json.dumps(GOOD[0])}, {{"notes": {deep}}}]}}')
    reader = clen_core.read(path, entity="activity", on_reject="collect")
    assert len(list(reader)) == 1
    assert reader.rejected == 1


# --------------------------------------------------------------------------- atomic writes


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_a_failing_write_leaves_the_previous_file_untouched(fmt: str, tmp_path: Path) -> None:
    objs = REF.records("activity")
    path = tmp_path / f"activity{FORMATS[fmt]}"
    clen_core.write(objs, path)
    before = path.read_bytes()

    def failing() -> Iterator[Any]:
        yield from objs[:4]
        raise RuntimeError("source broke half-way")

    with pytest.raises(RuntimeError, match="half-way"):
        clen_core.write(failing(), path, batch_rows=2)
    assert path.read_bytes() == before
    assert not list(tmp_path.glob(".*.clen-tmp"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_a_failing_dataset_write_leaves_the_previous_file_untouched(tmp_path: Path) -> None:
    path = tmp_path / "all.json"
    clen_core.write(REF, path)
    before = path.read_bytes()

    class Broken(Dataset):
        def records(self, entity: Any) -> Any:
            if get_entity(entity).name == "activity":
                raise RuntimeError("cannot list activities")
            return super().records(entity)

    with pytest.raises(RuntimeError, match="cannot list"):
        clen_core.write(Broken(REF), path)
    assert path.read_bytes() == before
    assert not list(tmp_path.glob(".*.clen-tmp"))


# --------------------------------------------------------------------------- detection


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_files_without_extension_are_recognised_by_their_header(fmt: str, tmp_path: Path) -> None:
    path = tmp_path / f"a{FORMATS[fmt]}"
    objs = REF.records("activity")
    clen_core.write(objs, path)
    renamed = path.rename(tmp_path / "activities.data")
    assert clen_core_json.clen_detect_format(str(renamed), renamed.read_bytes()[:4096]) == fmt
    assert _read_all(renamed, "activity") == objs


def test_detection_answers_only_for_our_files(tmp_path: Path) -> None:
    detect = clen_core_json.clen_detect_format
    dataset = tmp_path / "d.json"
    clen_core.write(REF, dataset)
    assert detect("d", dataset.read_bytes()[:4096]) == "json"
    assert detect("x", b'\xef\xbb\xbf {"clen_core": {"format": "entity"}}\r\n{"a": 1}') == "jsonl"
    assert detect("x", b'{"clen_core" : {"format": "entity"} ,\n"records": []}') == "json"
    assert detect("x", b'{"clen_core": {"format": "entity"}}') == "jsonl"  # header only
    for head in [
        b"",
        b"[1, 2]",
        b'{"records": []}',
        b"name,country\n",
        b"PAR1\x00",
        b'{"clen_core": {"format": "entity", "fields": {"a": "' + b"x" * 5000,  # cut: unsure
        b'{"clen_core": {"format": "other"}}\n',
        b'{"clen_core": 1}\n',
        b'{"clen_core": {"format": "entity"} "records"',
        b'{"clen_core": {"format": "entity"}} {"a": 1}\n',
    ]:
        assert detect("x", head[:4096]) is None


# --------------------------------------------------------------------------- streaming


def _pt_lines(n: int) -> Iterator[bytes]:
    base = _plain(REF.records("pt_result")[0])
    before, after = json.dumps(base | {"study_id": "@"}).encode().split(b'"@"')
    for i in range(n):
        yield b'%s"PT-%07d"%s' % (before, i, after)


def _write_big(path: Path, n: int) -> None:
    with path.open("wb") as f:
        if path.suffix == ".json":
            f.write(b'{"records": [\n')
            for i, line in enumerate(_pt_lines(n)):
                f.write((b",\n" if i else b"") + line)
            f.write(b"\n]}\n")
        else:
            for line in _pt_lines(n):
                f.write(line + b"\n")


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_reading_streams_with_bounded_memory(fmt: str, tmp_path: Path) -> None:
    path = tmp_path / f"big{FORMATS[fmt]}"
    _write_big(path, 200_000)
    read = get_format(fmt).read
    assert read is not None
    info = get_entity("pt_result")
    count = peak_first = 0
    tracemalloc.start()
    try:
        with path.open("rb") as f:
            for item in read(f, info, str(path)):
                count += isinstance(item, RawRecord)
                if count == 20_000:
                    peak_first = tracemalloc.get_traced_memory()[1]
                    tracemalloc.reset_peak()
        peak_rest = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 200_000
    # Reading 180,000 more records takes no more memory than the first 20,000 did.
    assert peak_rest < 1.5 * peak_first + 100_000, (peak_first, peak_rest)
    assert peak_first < path.stat().st_size / 8, (peak_first, path.stat().st_size)
    # Through the public API: the first object comes without reading the file.
    tracemalloc.start()
    try:
        with clen_core.read(path, entity="pt_result") as reader:
            first = next(reader)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert first.study_id == "PT-0000000"
    assert peak < path.stat().st_size / 8, (peak, path.stat().st_size)
