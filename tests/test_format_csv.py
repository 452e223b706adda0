"""The built-in CSV format plugin: dialect, round trips, spreadsheet safety, rejects, streaming."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import json
import math
import os
import tempfile
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import clen_core
import clen_core_csv
from clen_core import limits
from clen_core.data import reference_dataset
from clen_core.io.formats import FormatError, format_for_path, get_format
from clen_core.io.records import Decoder, RawBatch, RawRecord, RowProblem
from clen_core.model import entities, get_entity
from clen_core.testing import from_entity, text

ENTITY_NAMES = [e.name for e in entities()]
# Bytes that are not UTF-8 are read as Windows-1252 when the encoding is left to detection.
UTF8 = get_format("csv").with_options(encoding="utf-8")
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
HEADER = "activity_id,action,kind,theme,title,city,country,start,end,participants,notes"


def _activity(**changes: Any) -> clen_core.Activity:
    base: dict[str, Any] = {
        "activity_id": "A-1",
        "action": 5,
        "kind": "workshop",
        "theme": "Gemmology",
        "city": "Vienna",
        "country": "AT",
        "start": dt.date(2020, 3, 1),
        "end": dt.date(2020, 3, 2),
    }
    return clen_core.Activity(**{**base, **changes})


def _round_trip(objs: list[Any], name: str) -> list[Any]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{name}.csv"
        clen_core.write(objs, path, entity=name)
        return list(clen_core.read(path, entity=name))


def _memory_round_trip(objs: list[Any], name: str) -> list[Any]:
    """Objects through the plugin's writer and reader in memory (no file, no fsync)."""
    info = get_entity(name)
    sink = io.BytesIO()
    clen_core_csv.write_csv(sink, info, clen_core.to_arrow(objs, name).to_batches())
    decoder = Decoder(info, "text")
    items = clen_core_csv.read_csv(io.BytesIO(sink.getvalue()), info, "mem.csv")
    return [decoder.decode(item.values) for item in items if isinstance(item, RawRecord)]


def _raw_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _write_text(path: Path, content: str) -> Path:
    path.write_bytes(content.encode())
    return path


# --------------------------------------------------------------------------- registration


def test_the_plugin_registers_csv_as_a_text_format() -> None:
    fmt = get_format("csv")
    assert fmt.extensions == (".csv",)
    assert fmt.flavour == "text"
    assert fmt.read is clen_core_csv.read_csv
    assert fmt.write is clen_core_csv.write_csv
    assert fmt.plugin == "csv"
    assert format_for_path("x/activity.CSV") is fmt


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"activity_id,action,kind\n", "csv"),
        (b"\xef\xbb\xbfactivity_id,action\r\n1,2\r\n", "csv"),
        (b'"activity_id","action"\n"A",5\n', "csv"),
        (b"activity_id,action", "csv"),
        (b"", None),
        (b"{}", None),
        (b'{"activity": []}', None),
        (b"  [1, 2]", None),
        (b"PAR1\x15\x04", None),
        (b"activity_id\n", None),  # one column: could be any text
        (b"hello world, this is prose\n", None),
        (b"a,a\n", None),
        (b"a,b" + b"x" * 5000, None),
        (b"a,\xff\n", None),
        (b'a,"b\n', None),
    ],
)
def test_detection_is_conservative(head: bytes, expected: str | None) -> None:
    assert clen_core_csv.clen_detect_format(path="data", head=head) == expected


def test_a_file_without_extension_is_detected_and_read(tmp_path: Path) -> None:
    clen_core.write([_activity()], tmp_path / "activity.csv")
    plain = tmp_path / "export"
    plain.write_bytes((tmp_path / "activity.csv").read_bytes())
    assert list(clen_core.read(plain, entity="activity")) == [_activity()]


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("name", ENTITY_NAMES)
@settings(max_examples=30)
@given(data=st.data())
def test_round_trip_is_lossless_for_every_entity(name: str, data: st.DataObject) -> None:
    objs = data.draw(st.lists(from_entity(name), max_size=5))
    assert _round_trip(objs, name) == objs


@given(
    title=st.none() | text(),
    notes=st.none() | text(max_size=200),
    theme=text(min_size=1),
)
@example(title="", notes=None, theme="x")
@example(title=None, notes="", theme="x")
@example(title='"', notes='""', theme="a,b\nc")
@example(title="\r\n", notes="\n\n", theme="\r")
@example(title="NA", notes="null", theme="NULL")
@example(title="Ελληνικά 日本語 🧪", notes="\x00\x1f\u2028", theme="Zoë")
def test_text_round_trips_exactly_with_empty_string_apart_from_none(
    title: str | None, notes: str | None, theme: str
) -> None:
    try:
        obj = _activity(title=title, notes=notes, theme=theme)
    except clen_core.InvalidObjectError:
        return  # the entity refuses the value (e.g. blank theme): nothing to write
    assert _round_trip([obj], "activity") == [obj]


@pytest.mark.parametrize(
    "value",
    [
        -0.0,
        0.0,
        0.1,
        1e-300,
        5e-324,
        1.7976931348623157e308,
        -1.7976931348623157e308,
        2.2250738585072014e-308,
        1e16,
        123456789.123456789,
        100.0,
        1 / 3,
    ],
)
def test_floats_round_trip_exactly(value: float) -> None:
    obj = clen_core.AnalysisResult(
        result_id="R-1",
        sample_id="S-1",
        method_id="M-1",
        analyte="ethanol",
        value=value,
        unit="% vol",
        limit=value,
        limit_type=clen_core.LimitType.UPPER,
    )
    (back,) = _round_trip([obj], "analysis_result")
    assert back == obj
    assert repr(back.value) == repr(value)  # also keeps the sign of -0.0
    assert math.copysign(1.0, back.limit) == math.copysign(1.0, value)


@settings(max_examples=300)
@given(value=st.floats(allow_nan=False, allow_infinity=False))
def test_any_float_round_trips_exactly(value: float) -> None:
    obj = clen_core.AnalysisResult(
        result_id="R-1", sample_id="S-1", method_id="M-1", analyte="x", value=value, unit="u"
    )
    (back,) = _memory_round_trip([obj], "analysis_result")
    assert repr(back.value) == repr(value)


def test_values_are_written_as_documented(tmp_path: Path) -> None:
    ds = reference_dataset()
    clen_core.write(ds, tmp_path, format="csv")
    programme = (tmp_path / "programme.csv").read_text(encoding="utf-8")
    assert programme.startswith(
        "programme_id,name,managed_by,budget_eur,start_year,end_year,description\n"
    )
    assert ',"DG TAXUD",950000000.00,2021,2027,' in programme
    activity = (tmp_path / "activity.csv").read_text(encoding="utf-8")
    assert ',"workshop",' in activity
    assert ",2017-10-10,2017-10-12," in activity  # Tartu, 10-12 October 2017
    posts = _raw_rows(tmp_path / "attache_post.csv")
    assert any(r["covered_countries"].startswith('["') for r in posts)
    for r in posts:
        assert json.loads(r["covered_countries"]) == list(
            ds.get("attache_post", r["post_id"]).covered_countries
        )
    substances = _raw_rows(tmp_path / "substance.csv")
    water = next(r for r in substances if r["cas"] == "7732-18-5")
    assert water["names"] == '{"en":["water"],"de":["Wasser"],"fr":["eau"]}'
    labs = _raw_rows(tmp_path / "laboratory.csv")
    assert {r["accredited_17025"] for r in labs} <= {"true", "false"}
    assert b"\r\n" not in (tmp_path / "activity.csv").read_bytes()


def test_empty_string_is_quoted_and_none_is_an_empty_cell(tmp_path: Path) -> None:
    path = tmp_path / "activity.csv"
    clen_core.write([_activity(title="", notes=None, participants=None)], path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines == [
        "activity_id,action,kind,theme,title,city,country,start,end,participants,"
        "project_group_id,notes",
        '"A-1",5,"workshop","Gemmology","","Vienna","AT",2020-03-01,2020-03-02,,,',
    ]
    (back,) = clen_core.read(path, entity="activity")
    assert back.title == ""
    assert back.notes is None


def test_zero_objects_write_a_header_only_file_that_reads_as_nothing(tmp_path: Path) -> None:
    path = tmp_path / "substance.csv"
    clen_core.write([], path, entity="substance")
    assert path.read_text() == ",".join(get_entity("substance").field_names) + "\n"
    assert list(clen_core.read(path, entity="substance")) == []
    sink = io.BytesIO()
    clen_core_csv.write_csv(sink, get_entity("action"), [])
    assert sink.getvalue() == b"number,name,coordinator,coordinator_country,description\n"


# --------------------------------------------------------------------------- spreadsheet safety

_starts_dangerous = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from([*DANGEROUS, "'", *(f"'{c}" for c in (*DANGEROUS, "'"))]),
    text(max_size=20),
)


def _expected_raw(value: str) -> str:
    needs = value[:1] in DANGEROUS or (value[:1] == "'" and value[1:2] in (*DANGEROUS, "'"))
    return "'" + value if needs else value


@given(theme=_starts_dangerous, title=st.none() | _starts_dangerous, notes=_starts_dangerous)
@example(theme="=SUM(A1:A9)", title="'", notes="''")
@example(theme="+1", title="-1", notes="@cmd")
@example(theme="'=x", title="''=x", notes="'a")
@example(theme="\tx", title="\r", notes="'\r\n")
def test_dangerous_cells_are_neutralised_and_read_back_exactly(
    theme: str, title: str | None, notes: str
) -> None:
    try:
        obj = _activity(theme=theme, title=title, notes=notes)
    except clen_core.InvalidObjectError:
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "activity.csv"
        clen_core.write([obj], path)
        (raw,) = _raw_rows(path)
        for name in ("theme", "title", "notes"):
            value = getattr(obj, name)
            if value is None:
                assert raw[name] == ""
            else:
                assert raw[name] == _expected_raw(value)
                if value[:1] in DANGEROUS:
                    assert raw[name].startswith("'")
        assert list(clen_core.read(path, entity="activity")) == [obj]


@settings(max_examples=500)
@given(values=st.lists(st.none() | text() | _starts_dangerous, max_size=20))
def test_neutralisation_round_trips_every_string(values: list[str | None]) -> None:
    written = clen_core_csv._neutralise(pa.array(values, type=pa.string()))
    assert written.to_pylist() == [None if v is None else _expected_raw(v) for v in values]
    for cell in written.to_pylist():
        assert cell is None or cell[:1] not in DANGEROUS
    assert clen_core_csv._restore(written).to_pylist() == values


def test_nested_cells_are_not_neutralised(tmp_path: Path) -> None:
    lab = clen_core.Laboratory(
        lab_id="=L1", name="-Lab", country="AT", expertise=("-spectroscopy", "=x")
    )
    path = tmp_path / "laboratory.csv"
    clen_core.write([lab], path)
    (raw,) = _raw_rows(path)
    assert raw["lab_id"] == "'=L1"
    assert raw["name"] == "'-Lab"
    assert raw["expertise"] == '["-spectroscopy","=x"]'
    assert list(clen_core.read(path, entity="laboratory")) == [lab]


# --------------------------------------------------------------------------- rejects

GOOD = '"{id}",5,workshop,Gemmology,,Vienna,AT,2020-03-01,2020-03-02,{n},'
BAD_ROWS_CSV = "\n".join(
    [
        HEADER,
        GOOD.format(id="G1", n=10) + '"a note\nover three\nlines"',  # row 2
        GOOD.format(id="B1", n=10).replace(",5,", ",five,") + "x",  # row 3: int
        GOOD.format(id="G2", n="") + '"=still, fine"',  # row 4
        GOOD.format(id="B2", n=1).replace("2020-03-02", "2020-13-02"),  # row 5: date
        GOOD.format(id="B3", n=1).replace(",AT,", ",ZZ,"),  # row 6: country
        GOOD.format(id="B4", n=-3),  # row 7: negative count
        GOOD.format(id="B5", n=1) + ",extra",  # row 8: one cell too many
        GOOD.format(id="G3", n=2),  # row 9
    ]
)


def test_bad_rows_are_rejected_and_good_rows_kept(tmp_path: Path) -> None:
    path = _write_text(tmp_path / "activity.csv", BAD_ROWS_CSV + "\n")
    reader = clen_core.read(path, entity="activity", on_reject="collect")
    objs = list(reader)
    assert [o.activity_id for o in objs] == ["G1", "G2", "G3"]
    assert objs[0].notes == "a note\nover three\nlines"
    assert objs[1].notes == "=still, fine"  # only one ' is ever removed, and none here
    assert objs[1].participants is None
    got = [(r.file, r.row, r.field) for r in reader.rejects]
    assert got == [
        (str(path), 3, "action"),
        (str(path), 5, "end"),
        (str(path), 6, "country"),
        (str(path), 7, "participants"),
        (str(path), 8, None),
    ]
    reasons = {r.row: r.reason for r in reader.rejects}
    assert "whole number" in reasons[3]
    assert "date" in reasons[5]
    assert "expected 11 cells" in reasons[8]
    assert "found 12" in reasons[8]
    assert reader.read_rows == 8
    assert reader.read_rows == reader.accepted + reader.rejected
    assert (reader.accepted, reader.rejected) == (3, 5)


def test_rejects_raise_after_the_good_rows_by_default(tmp_path: Path) -> None:
    path = _write_text(tmp_path / "activity.csv", BAD_ROWS_CSV)
    reader = clen_core.read(path, entity="activity")
    seen = [next(reader).activity_id for _ in range(3)]
    with pytest.raises(clen_core.RejectedRowsError) as exc:
        next(reader)
    assert seen == ["G1", "G2", "G3"]
    assert (exc.value.read, exc.value.rejected) == (8, 5)
    assert "row 3, field action" in str(exc.value)


def test_rejects_file_lists_every_rejected_row(tmp_path: Path) -> None:
    path = _write_text(tmp_path / "activity.csv", BAD_ROWS_CSV)
    out = tmp_path / "rejects.jsonl"
    reader = clen_core.read(path, entity="activity", on_reject="collect", rejects=out)
    assert len(list(reader)) == 3
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["row"] for line in lines] == [3, 5, 6, 7, 8]
    assert all(line["file"] == str(path) for line in lines)
    assert lines[0]["record"]["action"] == "five"
    assert lines[4]["errors"][0]["field"] is None
    assert "extra" in lines[4]["record"]


def test_reader_numbers_rows_around_multi_line_cells_and_invalid_rows() -> None:
    data = (
        HEADER + "\r\n"
        "1,2\r\n"  # row 2: too few
        + GOOD.format(id="A", n=1)
        + '"x\r\ny"\r\n'  # row 3, two lines
        + "\r\n"  # blank: skipped, not counted
        + GOOD.format(id="B", n=1)
        + ",,\r\n"  # row 4: too many
        + GOOD.format(id="C", n=1)
        + "\r\n"  # row 5
        + GOOD.format(id="D", n=1)
        + '"p\n\nq"\n'  # row 6
        + "x\n"  # row 7: too few
    )
    items = list(
        clen_core_csv.read_csv(io.BytesIO(data.encode()), get_entity("activity"), "mem.csv")
    )
    assert [(type(i).__name__, i.row) for i in items] == [
        ("RowProblem", 2),
        ("RawRecord", 3),
        ("RowProblem", 4),
        ("RawRecord", 5),
        ("RawRecord", 6),
        ("RowProblem", 7),
    ]
    first = items[1]
    assert isinstance(first, RawRecord)
    assert first.values["notes"] == "x\r\ny"
    assert first.values["title"] is None
    problem = items[0]
    assert isinstance(problem, RowProblem)
    assert problem.text == "1,2"


def test_row_numbers_stay_right_across_many_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clen_core_csv, "BLOCK_SIZE", 1 << 16)  # many blocks from a small file
    lines = [HEADER]
    for i in range(40_000):
        if i % 997 == 0:
            lines.append("broken,row")
        elif i % 501 == 0:
            lines.append(GOOD.format(id=f"M{i}", n=1) + '"two\nlines"')
        else:
            lines.append(GOOD.format(id=f"A{i}", n=1))
    data = ("\n".join(lines) + "\n").encode()
    assert len(data) > 20 * clen_core_csv.BLOCK_SIZE
    items = clen_core_csv.read_csv(io.BytesIO(data), get_entity("activity"), "mem.csv")
    for n, item in enumerate(items, start=2):
        assert item.row == n
        if isinstance(item, RowProblem):
            assert item.text == "broken,row"
        else:
            assert item.values["activity_id"][1:] == str(n - 2)


# --------------------------------------------------------------------------- header and file errors


@pytest.mark.parametrize(
    ("content", "message", "field"),
    [
        (b"", "empty file", None),
        (b"\xef\xbb\xbf\n\n", "empty file", None),
        (HEADER.encode() + b",colour\n", "unknown column(s) 'colour'", "colour"),
        (HEADER.replace("city,", "").encode() + b"\n", "required column(s) 'city'", "city"),
        (HEADER.encode() + b",city\n", "'city' appears more than once", "city"),
        (b"activity_id,acti\xffon\n", "header row is not valid UTF-8", None),
    ],
)
def test_header_errors_are_format_errors(
    tmp_path: Path, content: bytes, message: str, field: str | None
) -> None:
    path = tmp_path / "activity.csv"
    path.write_bytes(content)
    with pytest.raises(FormatError) as exc:
        list(clen_core.read(path, entity="activity", format=UTF8))
    assert message in str(exc.value)
    assert str(path) in str(exc.value)
    assert exc.value.field == field


def test_invalid_utf8_in_a_row_names_file_row_and_column(tmp_path: Path) -> None:
    good = GOOD.format(id="G", n=1).encode()
    path = tmp_path / "activity.csv"
    path.write_bytes(HEADER.encode() + b"\n" + good + b"\n" + good.replace(b"Vienna", b"Wi\xe9n"))
    with pytest.raises(FormatError) as exc:
        list(clen_core.read(path, entity="activity", format=UTF8))
    assert exc.value.row == 3
    assert exc.value.field == "city"
    assert "UTF-8" in str(exc.value)


def test_a_quote_never_closed_is_a_format_error_or_a_rejected_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clen_core_csv, "BLOCK_SIZE", 1 << 20)
    path = _write_text(tmp_path / "activity.csv", HEADER + "\n" + '"A,5\n')
    reader = clen_core.read(path, entity="activity", on_reject="collect")
    assert list(reader) == []
    assert [r.row for r in reader.rejects] == [2]
    # Open from row 3 on: the cell would hold the rest of the file, more than a block.
    line = "B,5,workshop,Gemmology,,Vienna,AT,2020-03-01,2020-03-02,1,\n"
    path = _write_text(tmp_path / "activity.csv", HEADER + "\n" + line + '"A' + line * 40_000)
    with pytest.raises(FormatError, match="quoted cell is never closed"):
        list(clen_core.read(path, entity="activity"))


@pytest.mark.parametrize("ending", ["", "\n", "\r\n"])
def test_a_header_only_file_reads_as_nothing(tmp_path: Path, ending: str) -> None:
    path = _write_text(tmp_path / "activity.csv", HEADER + ending)
    assert list(clen_core.read(path, entity="activity")) == []


def test_crlf_bom_and_any_column_order_are_read(tmp_path: Path) -> None:
    names = HEADER.split(",")
    row = GOOD.format(id="A-1", n=12).split(",")
    row[-1] = '"two\r\nlines"'
    order = list(reversed(range(len(names))))
    text_ = ",".join(names[i] for i in order) + "\r\n" + ",".join(row[i] for i in order) + "\r\n"
    path = tmp_path / "activity.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text_.encode())
    (obj,) = clen_core.read(path, entity="activity")
    assert obj == _activity(participants=12, notes="two\r\nlines", title=None)


def test_optional_columns_may_be_left_out(tmp_path: Path) -> None:
    path = _write_text(
        tmp_path / "activity.csv",
        "country,activity_id,action,kind,theme,city,start,end\n"
        "AT,A-1,5,workshop,Gemmology,Vienna,2020-03-01,2020-03-02\n",
    )
    assert list(clen_core.read(path, entity="activity")) == [_activity()]
    with open(path, "rb") as source:
        item = next(clen_core_csv.read_csv(source, get_entity("activity"), str(path)))
    assert isinstance(item, RawRecord)
    assert set(item.values) == {
        "country",
        "activity_id",
        "action",
        "kind",
        "theme",
        "city",
        "start",
        "end",
    }


# ------------------------------------------------------------------------ atomic writes, datasets


def test_a_failing_write_leaves_the_previous_file_untouched(tmp_path: Path) -> None:
    path = tmp_path / "activity.csv"
    clen_core.write([_activity()], path)
    before = path.read_bytes()

    def objects() -> Iterator[clen_core.Activity]:
        for i in range(50):
            yield _activity(activity_id=f"N{i}")
        raise RuntimeError("source broke")

    with pytest.raises(RuntimeError, match="source broke"):
        clen_core.write(objects(), path, batch_rows=10)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["activity.csv"]
    assert not list(tmp_path.glob(".*.clen-tmp"))


def test_a_dataset_round_trips_through_a_folder_of_csv_files(tmp_path: Path) -> None:
    ds = reference_dataset()
    result = clen_core.write(ds, tmp_path / "data", format="csv")
    assert {p.name for p in result.paths} == {f"{e.name}.csv" for e in ds.entities}
    assert all(p.suffix == ".csv" for p in (tmp_path / "data").iterdir())
    assert clen_core.read_dataset(tmp_path / "data") == ds


def test_frictionless_validates_the_csv_files_against_the_table_schemas(tmp_path: Path) -> None:
    import frictionless

    ds = reference_dataset()
    clen_core.write(ds, tmp_path, format="csv")
    package = frictionless.Package(
        {
            "resources": [
                {
                    "name": info.name,
                    "path": f"{info.name}.csv",
                    "format": "csv",
                    "schema": clen_core.table_schema(info),
                }
                for info in ds.entities
            ]
        },
        basepath=str(tmp_path),
    )
    report = package.validate()
    assert report.valid, report.flatten(["taskName", "rowNumber", "fieldName", "type", "note"])


# --------------------------------------------------------------------------- streaming


def _many_activities(n: int) -> Iterator[clen_core.Activity]:
    # Copies of one checked template with another (valid) ID: no check per object.
    template = _activity(title="Workshop on gemmology", participants=30, notes="=a note")
    for i in range(n):
        obj = copy.copy(template)
        object.__setattr__(obj, "activity_id", f"A-{i:07d}")
        yield obj


class _PeakSampler:
    """Samples pyarrow's allocated bytes from a thread while the with-block runs."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.002):
            self.sample()

    def sample(self) -> None:
        self.peak = max(self.peak, pa.total_allocated_bytes())

    def __enter__(self) -> _PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _read_peak(path: Path, n: int) -> int:
    base = pa.total_allocated_bytes()
    count = 0
    with _PeakSampler() as sampler:
        for obj in clen_core.read(path, entity="activity"):
            count += 1
            if count % 2000 == 0:
                sampler.sample()
            assert obj.notes == "=a note"
    assert count == n
    return int(sampler.peak - base)


def test_reading_and_writing_stream_in_bounded_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Memory is bounded by the block and the batch size, not by the file: pyarrow reads
    # a few dozen blocks ahead, and a few batches are in flight. Small blocks and batches
    # show it on a file of many blocks.
    monkeypatch.setattr(clen_core_csv, "BLOCK_SIZE", 1 << 16)
    monkeypatch.setattr(clen_core.io.readwrite, "DEFAULT_BATCH_ROWS", 8192)
    small, large = tmp_path / "small" / "activity.csv", tmp_path / "large" / "activity.csv"
    with limits.override(max_field_bytes=1 << 16):  # the block's floor
        clen_core.write(_many_activities(20_000), small)
        with _PeakSampler() as writing:
            clen_core.write(_many_activities(200_000), large)
        assert large.stat().st_size > 9 * small.stat().st_size
        peak_small = _read_peak(small, 20_000)
        peak_large = _read_peak(large, 200_000)
    size = large.stat().st_size
    assert peak_large < 64 * 2**20, peak_large
    assert peak_large < size / 2, (peak_large, size)
    assert peak_large <= 2 * peak_small + 4 * 2**20, (peak_small, peak_large)
    assert writing.peak < 64 * 2**20


def test_decimals_are_plain_text_even_with_a_large_scale() -> None:
    from clen_core.model.fields import FieldInfo

    f = get_entity("programme").field("budget_eur")
    wide = FieldInfo(
        name=f.name,
        spec=attrs.evolve(f.spec, scale=10, precision=20),
        shape=f.shape,
        optional=f.optional,
        has_default=f.has_default,
        check=f.check,
    )
    column = pa.array([Decimal("0.0000000001"), None], type=pa.decimal128(20, 10))
    assert clen_core_csv._cell_type(wide, column.type) == pa.string()
    assert clen_core_csv._decimal_cells(column).to_pylist() == ["0.0000000001", None]
    assert clen_core_csv._cell_type(f, pa.decimal128(18, 2)) == pa.decimal128(18, 2)


def test_undecodable_malformed_rows_in_readers_on_several_threads_do_not_mix_up(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    import sys
    import threading

    good = GOOD.format(id="A-1", n=3)
    paths = []
    for i in range(4):
        # Row 3 has one cell too many and is not UTF-8: pyarrow cannot hand it over.
        body = (
            f"{HEADER}\n{good}\n".encode() + b"caf\xe9,x" * (i + 1) + b",1,2,3,4,5,6,7,8,9,10,11\n"
        )
        paths.append(tmp_path / f"a{i}.csv")
        paths[-1].write_bytes(body)
    clean = tmp_path / "clean.csv"
    clean.write_text(f"{HEADER}\n{good}\n{good.replace('A-1', 'A-2')}\n")
    hook = sys.unraisablehook
    errors: dict[str, str] = {}

    def read(path: Path) -> None:
        for _ in range(20):
            try:
                list(clen_core.read(path, entity="activity", on_reject="collect", format=UTF8))
            except FormatError as exc:
                errors[path.name] = str(exc)

    threads = [threading.Thread(target=read, args=(p,)) for p in [*paths, clean]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(errors) == sorted(p.name for p in paths)  # the clean file never fails
    assert all("row 3: not valid UTF-8" in e for e in errors.values()), errors
    assert sys.unraisablehook is hook
    assert "Exception ignored" not in capfd.readouterr().err


def test_a_file_is_read_by_pyarrow_natively_anything_else_as_it_is(tmp_path: Path) -> None:
    # A native file is read without the GIL; it must be the same bytes, from the same place.
    path = tmp_path / "a.csv"
    path.write_bytes(b"0123456789abcdefghij")
    with open(path, "rb") as source:
        source.seek(5)
        native = clen_core_csv._native(source)
        assert isinstance(native, pa.NativeFile)
        path.rename(tmp_path / "moved.csv")  # the open file, not whatever the path names
        assert native.read(10) == b"56789abcde"
        assert source.tell() == 5  # its own position: the caller's is left alone
    memory = io.BytesIO(b"abc")
    assert clen_core_csv._native(memory) is memory
    read_end, write_end = os.pipe()
    with os.fdopen(read_end, "rb") as pipe, os.fdopen(write_end, "wb"):
        assert clen_core_csv._native(pipe) is pipe


@pytest.mark.parametrize("good_before", [0, 5, 3000])
def test_reading_stops_after_too_many_refused_rows_in_a_row(
    monkeypatch: pytest.MonkeyPatch, good_before: int
) -> None:
    # pyarrow hands refused rows over only with the next good row: a file of nothing
    # but refused rows would fill memory, so reading stops after a bound of them.
    monkeypatch.setattr(clen_core_csv, "MAX_PENDING_PROBLEMS", 50)
    monkeypatch.setattr(clen_core_csv, "BLOCK_SIZE", 1 << 16)
    lines = [HEADER]
    lines += [GOOD.format(id=f"A{i}", n=1) for i in range(good_before)]
    lines += ["broken,row"] * 500
    lines += [GOOD.format(id="Z", n=1)]
    data = ("\n".join(lines) + "\n").encode()
    batches: list[RawBatch] = []

    def read_all() -> None:
        for raw in clen_core_csv.read_csv_batches(
            io.BytesIO(data), get_entity("activity"), "mem.csv"
        ):
            batches.append(raw)

    with limits.override(max_field_bytes=1 << 16), pytest.raises(FormatError) as exc:
        read_all()
    assert "rows in a row with the wrong number of cells" in str(exc.value)
    # What was read before the stop is handed over first, in order: the good rows of
    # the blocks before (pyarrow fails a whole block), then the refused rows.
    rows = [r for b in batches for r in b.rows.to_pylist()]
    assert rows == list(range(2, 2 + len(rows)))
    assert (len(rows) > 0) == (good_before > 1000)
    refused = [p.row for b in batches for p in b.problems]
    assert refused == list(range(2 + good_before, 2 + good_before + len(refused)))
    assert 50 <= len(refused) < 500
    assert exc.value.row == refused[-1] + 1
