"""The Excel format plugin: exact round trips, spreadsheet safety, rejects, datasets, absence."""

from __future__ import annotations

import datetime as dt
import io
import math
import sys
import tempfile
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import openpyxl
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

import clen_core
import clen_core_xlsx
from clen_core.data import reference_dataset
from clen_core.errors import RejectedRowsError
from clen_core.io.formats import FormatError, format_for_path, get_format
from clen_core.model import entities, get_entity
from clen_core.testing import from_entity

ENTITY_NAMES = [e.name for e in entities()]
PTScore = get_entity("pt_score").cls
Programme = get_entity("programme").cls
Activity = get_entity("activity").cls


@pytest.fixture(autouse=True, params=["calamine", "stream"])
def reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test reads once through python-calamine and once streaming: the same rows."""
    if request.param == "stream":
        monkeypatch.setattr(clen_core_xlsx, "STREAM_ABOVE", -1)
    return str(request.param)


_FIXTURE = HealthCheck.function_scoped_fixture
"""The reader fixture holds for every example of a Hypothesis test."""


def _score(**changes: Any) -> Any:
    return PTScore(
        **{"study_id": "S-1", "lab_id": "L-1", "assigned_value": 1.0, "sigma_pt": 1.0, **changes}
    )


def _same(a: list[Any], b: list[Any]) -> None:
    """Equal objects, and equal floats to the bit (``-0.0 == 0.0`` would hide a sign)."""
    assert a == b
    for x, y in zip(a, b, strict=True):
        for f in attrs.fields(type(x)):
            u, v = getattr(x, f.name), getattr(y, f.name)
            if isinstance(u, float):
                assert repr(u) == repr(v), f.name


def _round_trip(objs: list[Any], name: str, tmp: Path, engine: str = "columnar") -> list[Any]:
    path = tmp / f"{name}.xlsx"
    clen_core.write(objs, path, entity=name, batch_rows=3)
    return list(clen_core.read(path, entity=name, engine=engine))


# --------------------------------------------------------------------------- registration


def test_the_plugin_registers_xlsx_like_the_builtins() -> None:
    fmt = get_format("xlsx")
    assert fmt.extensions == (".xlsx",)
    assert fmt.flavour == "text"
    assert fmt.plugin == "xlsx"
    assert fmt.read_dataset is not None
    assert fmt.write_dataset is not None
    assert format_for_path("results/Round-7.XLSX") is fmt
    assert "xlsx" in {p.name for p in clen_core.plugins.list_plugins() if p.status == "loaded"}


def test_a_workbook_without_extension_is_detected(tmp_path: Path) -> None:
    clen_core.write([_score()], tmp_path / "x.xlsx")
    plain = tmp_path / "export"
    plain.write_bytes((tmp_path / "x.xlsx").read_bytes())
    assert list(clen_core.read(plain, entity="pt_score")) == [_score()]
    assert clen_core_xlsx.clen_detect_format(path="x", head=b"PK\x03\x04 word/document.xml") is None


# --------------------------------------------------------------------------- exactness


@pytest.mark.parametrize("entity", ENTITY_NAMES)
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, _FIXTURE])
@given(data=st.data())
def test_every_entity_round_trips_value_by_value(entity: str, data: st.DataObject) -> None:
    objs = data.draw(st.lists(from_entity(entity), max_size=5))
    engine = data.draw(st.sampled_from(["columnar", "object"]))
    with tempfile.TemporaryDirectory() as folder:
        _same(_round_trip(objs, entity, Path(folder), engine), objs)


FLOATS = [
    0.1 + 0.2,
    5e-324,
    1e308,
    -0.0,
    0.0,
    2.2250738585072014e-308,
    1 / 3,
    -1.7976931348623157e308,
    123456789012345680.0,
    1e-7,
]
TEXTS = [
    "",
    "\r",
    "a\r\nb",
    "\r\n",
    "=cmd",
    "=1+2",
    "+43 1 234",
    "-x",
    "@SUM(A1)",
    "\tx",
    "'",
    "''",
    "'=x",
    "'a",
    "  lead",
    "tail  ",
    "<&>",
    "é€",
    "x\x00y\x0b\x1f",
    "\ufffe\uffff",
    "_x000D_",
    "_x005F_",
    "1.5",
    "TRUE",
    "2024-01-01",
    "[1]",
]


@pytest.mark.parametrize("engine", ["columnar", "object"])
def test_floats_and_texts_excel_cannot_hold_as_they_are_come_back_exactly(
    engine: str, tmp_path: Path
) -> None:
    objs = [
        _score(lab_id=f"L-{i}", value=FLOATS[i % len(FLOATS)], note=TEXTS[i % len(TEXTS)])
        for i in range(max(len(FLOATS), len(TEXTS)))
    ]
    objs.append(_score(lab_id="none", value=None, note=None))
    _same(_round_trip(objs, "pt_score", tmp_path, engine), objs)


def test_floats_are_numbers_of_17_digits_and_the_rest_text(tmp_path: Path) -> None:
    clen_core.write([_score(value=0.1 + 0.2, z=-0.0, zeta=5e-324, d=1e308)], tmp_path / "s.xlsx")
    sheet = zipfile.ZipFile(tmp_path / "s.xlsx").read("xl/worksheets/sheet1.xml").decode()
    assert "<v>0.30000000000000004</v>" in sheet
    assert "<v>1e+308</v>" in sheet
    book = openpyxl.load_workbook(tmp_path / "s.xlsx")  # a reader of its own: the same numbers
    row = {h.value: c.value for h, c in zip(book["pt_score"][1], book["pt_score"][2], strict=True)}
    assert row["value"] == 0.1 + 0.2
    assert row["d"] == 1e308
    assert (row["z"], row["zeta"]) == ("-0.0", "5e-324")  # Excel would make both 0: text


def test_dates_decimals_and_whole_numbers(tmp_path: Path) -> None:
    activities = [
        Activity(
            activity_id=f"A-{i}",
            action=5,
            kind="workshop",
            theme="t",
            city="c",
            country="AT",
            start=day,
            end=day,
            participants=n,
        )
        for i, (day, n) in enumerate(
            [
                (dt.date(2024, 2, 29), 0),
                (dt.date(1900, 3, 1), 10**15 - 1),
                (dt.date(1900, 2, 28), 10**15),  # before Excel's day numbers are right: text
                (dt.date(1, 1, 1), 2**63 - 1),
                (dt.date(9999, 12, 31), 12),
            ]
        )
    ]
    programmes = [
        Programme(
            programme_id=f"P-{i}",
            name="n",
            managed_by="m",
            budget_eur=amount,
            start_year=2021,
            end_year=2027,
        )
        for i, amount in enumerate(
            [
                Decimal("950000000.00"),
                Decimal("0.10"),
                Decimal("9999999999999999.99"),
                Decimal("1234567890123.45"),
            ]
        )
    ]
    dataset = clen_core.Dataset()
    for obj in [*activities, *programmes]:
        dataset.add(obj)
    clen_core.write(dataset, tmp_path / "d.xlsx")
    assert clen_core.read_dataset(tmp_path / "d.xlsx") == dataset
    back = clen_core.read_dataset(tmp_path / "d.xlsx")
    assert [str(p.budget_eur) for p in back.records("programme")] == [
        "950000000.00",
        "0.10",
        "9999999999999999.99",
        "1234567890123.45",
    ]
    book = openpyxl.load_workbook(tmp_path / "d.xlsx")
    act, prog = book["activity"], book["programme"]
    assert act["H2"].value == dt.datetime(2024, 2, 29)
    assert act["H2"].number_format == "yyyy\\-mm\\-dd"
    assert act["H4"].value == "1900-02-28"
    assert (act["J3"].value, act["J4"].value) == (10**15 - 1, "1000000000000000")
    assert prog["D2"].value == 950000000
    assert prog["D2"].number_format == "0.00"
    assert prog["D4"].value == "9999999999999999.99"  # 18 digits: a double cannot hold it


# --------------------------------------------------------------------------- spreadsheet safety


def test_cells_a_spreadsheet_would_run_are_neutralised_and_still_round_trip(
    tmp_path: Path,
) -> None:
    texts = ["=cmd|'/c calc'!A1", "+1", "-1", "@x", "\tx", "\rx", "'=x", "", "ok"]
    objs = [_score(lab_id=f"L-{i}", note=t) for i, t in enumerate(texts)]
    _same(_round_trip(objs, "pt_score", tmp_path), objs)
    sheet = openpyxl.load_workbook(tmp_path / "pt_score.xlsx")["pt_score"]
    notes = [c.value for c in sheet["U"][1:]]
    # (openpyxl leaves Excel's escape of CR, _x000D_, as it is; Excel and calamine decode it.)
    assert notes == [
        "'=cmd|'/c calc'!A1",
        "'+1",
        "'-1",
        "'@x",
        "'\tx",
        "'_x000D_x",
        "''=x",
        "'",
        "ok",
    ]
    assert all(c.data_type == "s" for c in sheet["U"][1:])  # text, never a formula
    xml = zipfile.ZipFile(tmp_path / "pt_score.xlsx").read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in xml


def test_the_sheet_is_a_plain_table_with_a_frozen_bold_header(tmp_path: Path) -> None:
    clen_core.write([_score()], tmp_path / "s.xlsx")
    book = openpyxl.load_workbook(tmp_path / "s.xlsx")
    assert book.sheetnames == ["pt_score"]
    sheet = book["pt_score"]
    assert tuple(c.value for c in sheet[1]) == get_entity("pt_score").field_names
    assert sheet["A1"].font.b
    assert sheet.freeze_panes == "A2"


def test_a_cell_excel_cannot_hold_is_refused_with_row_and_field(tmp_path: Path) -> None:
    objs = [_score(lab_id="L-1"), _score(lab_id="L-2", note="x" * 32_768)]
    with pytest.raises(FormatError) as exc:
        clen_core.write(objs, tmp_path / "s.xlsx")
    assert (exc.value.row, exc.value.field) == (3, "note")
    assert exc.value.path == str(tmp_path / "s.xlsx")  # the workbook, not a temporary file
    assert str(exc.value).startswith(
        f"{tmp_path / 's.xlsx'}, row 3, field note: sheet pt_score: a cell cannot be written"
    )
    assert "32,767" in str(exc.value)
    assert not (tmp_path / "s.xlsx").exists()
    with pytest.raises(FormatError, match="_xFFFE_"):
        clen_core.write([_score(note="a _xFFFE_ b")], tmp_path / "s.xlsx")


def test_too_many_rows_for_a_sheet_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clen_core_xlsx, "MAX_ROWS", 3)
    with pytest.raises(FormatError, match="most an Excel sheet holds"):
        clen_core.write([_score(lab_id=f"L-{i}") for i in range(3)], tmp_path / "s.xlsx")
    clen_core.write([_score(lab_id=f"L-{i}") for i in range(2)], tmp_path / "s.xlsx")


# --------------------------------------------------------------------------- reading others' books


def _excel_like(path: Path, rows: list[list[Any]], sheet: str = "Sheet1") -> Path:
    """A workbook as Excel writes it (shared strings, dates as styled numbers)."""
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet(sheet)
    day = book.add_format({"num_format": "dd/mm/yyyy"})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, dt.date):
                ws.write_datetime(r, c, value, day)
            else:
                ws.write(r, c, value)
    book.close()
    return path


def test_rejects_name_excel_row_numbers(tmp_path: Path) -> None:
    header = ["activity_id", "action", "kind", "theme", "city", "country", "start", "end"]
    good = [
        "A-1",
        5,
        "workshop",
        "Gemmology",
        "Wien",
        "AT",
        dt.date(2024, 3, 1),
        dt.date(2024, 3, 2),
    ]
    rows = [
        header,
        good,
        ["A-2", "five", *good[2:]],  # row 3: a text where a number goes
        [None] * 8,  # row 4: empty, skipped but counted
        ["A-3", 5, "workshop", "Gemmology", "Wien", "AT", "1st March", dt.date(2024, 3, 2)],
        ["A-4", 5, "meeting", "Gemmology", "Wien", "AT", *good[6:]],  # row 6: bad enum
        [*good[:1], 5, "workshop", "Gemmology", "Wien", "AT", *good[6:], None, "stray"],
    ]
    rows[6][0] = "A-5"
    path = _excel_like(tmp_path / "activity.xlsx", rows)
    for engine in ("columnar", "object"):
        reader = clen_core.read(path, entity="activity", on_reject="collect", engine=engine)
        assert [a.activity_id for a in reader] == ["A-1"]
        assert [(r.row, r.field) for r in reader.rejects] == [
            (3, "action"),
            (5, "start"),
            (6, "kind"),
            (7, None),
        ]
        assert reader.rejects[0].value == "five"
        assert (reader.read_rows, reader.rejected) == (5, 4)


def test_a_workbook_of_excel_reads_dates_and_shared_strings(tmp_path: Path) -> None:
    header = ["activity_id", "action", "kind", "theme", "city", "country", "start", "end"]
    row = [
        "A-1",
        5,
        "workshop",
        "Gemmology",
        "Wien",
        "AT",
        dt.date(2024, 3, 1),
        dt.date(2024, 3, 2),
    ]
    path = _excel_like(tmp_path / "anything.xlsx", [header, row], sheet="Results")
    (activity,) = clen_core.read(path, entity="activity")
    assert (activity.start, activity.city, activity.action) == (dt.date(2024, 3, 1), "Wien", 5)


def test_header_problems_are_format_errors_naming_the_sheet(tmp_path: Path) -> None:
    path = _excel_like(tmp_path / "a.xlsx", [["activity_id", "colour"]], sheet="activity")
    with pytest.raises(FormatError, match="sheet activity: unknown column"):
        list(clen_core.read(path, entity="activity"))
    empty = _excel_like(tmp_path / "e.xlsx", [], sheet="activity")
    with pytest.raises(FormatError, match="empty"):
        list(clen_core.read(empty, entity="activity"))
    book = xlsxwriter.Workbook(str(tmp_path / "two.xlsx"))
    for name in ("Results", "Notes"):
        book.add_worksheet(name).write(0, 0, "activity_id")
    book.close()
    with pytest.raises(FormatError, match="no sheet named 'activity' and 2 sheets with cells"):
        list(clen_core.read(tmp_path / "two.xlsx", entity="activity"))


def test_not_a_workbook_is_a_format_error(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"not a zip")
    with pytest.raises(FormatError, match=r"cannot read as an \.xlsx workbook"):
        list(clen_core.read(path, entity="activity"))


# --------------------------------------------------------------------------- datasets


def test_a_whole_dataset_is_one_workbook_with_a_sheet_per_entity(tmp_path: Path) -> None:
    ds = reference_dataset()
    result = clen_core.write(ds, tmp_path / "all.xlsx")
    assert result.paths == (tmp_path / "all.xlsx",)
    assert openpyxl.load_workbook(tmp_path / "all.xlsx").sheetnames == [
        info.name for info in ds.entities
    ]
    assert clen_core.read_dataset(tmp_path / "all.xlsx") == ds
    # One entity of it, by its sheet.
    name = ds.entities[0].name
    assert list(clen_core.read(tmp_path / "all.xlsx", entity=name)) == ds.records(name)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow, _FIXTURE])
@given(data=st.data())
def test_a_dataset_of_every_entity_round_trips(data: st.DataObject) -> None:
    ds = clen_core.Dataset()
    for name in ENTITY_NAMES:
        for obj in data.draw(st.lists(from_entity(name), max_size=2)):
            if get_entity(name).key_of(obj) not in ds[name]:
                ds.add(obj)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ds.xlsx"
        clen_core.write(ds, path)
        assert clen_core.read_dataset(path) == ds


def test_a_sheet_not_named_after_an_entity_is_refused_in_a_dataset(tmp_path: Path) -> None:
    path = _excel_like(tmp_path / "x.xlsx", [["a"]], sheet="Notes")
    with pytest.raises(FormatError, match="'Notes' is not named after an entity"):
        clen_core.read_dataset(path)


def test_dataset_rejects_name_sheet_rows(tmp_path: Path) -> None:
    path = _excel_like(
        tmp_path / "x.xlsx",
        [
            ["programme_id", "name", "managed_by", "budget_eur", "start_year", "end_year"],
            ["P-1", "n", "m", 10.5, 2021, 2027],
            ["P-2", "n", "m", -1, 2021, 2027],
        ],
        sheet="programme",
    )
    with pytest.raises(RejectedRowsError) as exc:
        clen_core.read_dataset(path)
    assert [(r.row, r.field) for r in exc.value.rejects] == [(3, "budget_eur")]
    assert exc.value.dataset.records("programme")[0].budget_eur == Decimal("10.50")


# --------------------------------------------------------------------------- absence


def test_without_python_calamine_every_sheet_is_streamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    objs = [_score(lab_id=f"L-{i}", value=FLOATS[i], note=TEXTS[i]) for i in range(len(FLOATS))]
    clen_core.write(objs, tmp_path / "s.xlsx")  # writing needs no library
    monkeypatch.setitem(sys.modules, "python_calamine", None)  # import fails
    assert not clen_core_xlsx.available()
    _same(list(clen_core.read(tmp_path / "s.xlsx", entity="pt_score")), objs)


def test_writing_streams_batch_by_batch() -> None:
    info = get_entity("pt_score")
    seen = []

    def batches() -> Any:
        for i in range(3):
            seen.append(i)
            yield clen_core.to_arrow([_score(lab_id=f"L-{i}")], "pt_score").to_batches()[0]

    sink = io.BytesIO()
    clen_core_xlsx.write_xlsx(sink, info, batches())
    assert seen == [0, 1, 2]
    back = list(clen_core_xlsx.read_xlsx(io.BytesIO(sink.getvalue()), info, "mem.xlsx"))
    assert [r.row for r in back] == [2, 3, 4]


# --------------------------------------------------------------------------- streaming

_FORMATS = ["General", "0.00", "dd/mm/yyyy", "yyyy-mm-dd hh:mm", "hh:mm:ss", "[h]:mm", "@"]
_CELLS = st.one_of(
    st.none(),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12),
    st.sampled_from(["_x000D_", "_x005F_x0041_", "a_xFFFE_", "'=1", " x ", "\r\n"]),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300).filter(
        lambda f: f == 0 or abs(f) > 1e-300
    ),
    st.integers(-(10**15), 10**15),
    st.booleans(),
    st.dates(min_value=dt.date(1900, 3, 1)),
    st.datetimes(min_value=dt.datetime(1900, 3, 1)).map(
        lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)
    ),
    st.times().map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000)),
)


def _others_book(path: Path, grid: list[list[Any]], styles: list[str], writer: str) -> None:
    """A workbook of another writer: shared strings, styled numbers, dates and times."""
    if writer == "openpyxl":
        book = openpyxl.Workbook()
        ws = book.active
        for r, row in enumerate(grid):
            for c, value in enumerate(row):
                if value is not None:
                    cell = ws.cell(row=r + 3, column=c + 2, value=value)
                    if not isinstance(value, str | dt.date | dt.time):
                        cell.number_format = styles[c % len(styles)]
        book.save(path)
        return
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet()
    formats = [book.add_format({"num_format": f}) for f in styles]
    moment = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss.000"})
    for r, row in enumerate(grid):
        for c, value in enumerate(row):
            if isinstance(value, dt.date | dt.time):
                ws.write_datetime(r + 2, c + 1, value, moment)
            elif isinstance(value, str):
                ws.write_string(r + 2, c + 1, value)
            elif value is not None:
                ws.write(r + 2, c + 1, value, formats[c % len(formats)])
    book.close()


def _cells_of(rows: Any, first: int) -> dict[tuple[int, int], Any]:
    return {
        (number, first + i): (type(v).__name__, repr(v))
        for number, cells in rows
        for i, v in enumerate(cells)
        if v != ""
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, _FIXTURE])
@given(
    grid=st.lists(st.lists(_CELLS, min_size=1, max_size=5), min_size=1, max_size=6),
    styles=st.lists(st.sampled_from(_FORMATS), min_size=1, max_size=3),
    writer=st.sampled_from(["openpyxl", "xlsxwriter"]),
)
def test_the_streamed_rows_are_python_calamines_cell_by_cell(
    grid: list[list[Any]], styles: list[str], writer: str
) -> None:
    import python_calamine

    from clen_core_xlsx import _sheetml

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "b.xlsx"
        try:
            _others_book(path, grid, styles, writer)
        except openpyxl.utils.exceptions.IllegalCharacterError:
            reject()  # openpyxl refuses control characters (XlsxWriter escapes them)
        sheet = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
        try:
            theirs = _cells_of(clen_core_xlsx._calamine_rows(sheet), (sheet.start or (0, 0))[1])
        except BaseException as exc:  # python-calamine fails on some numbers in time formats
            if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
                raise
            reject()
        with zipfile.ZipFile(path) as archive:
            book = _sheetml.Workbook(archive)
            ours = _cells_of(_sheetml.sheet_rows(book, book.sheets[0][1]), 0)
    assert ours == theirs


def test_where_python_calamine_fails_the_sheet_reads_on_streamed(tmp_path: Path) -> None:
    header = ["study_id", "lab_id", "assigned_value", "sigma_pt", "value"]
    path = tmp_path / "s.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("pt_score")
    hours = book.add_format({"num_format": "[h]:mm"})
    for r, row in enumerate([header, ["S", "L-1", 1, 1, 2.5], ["S", "L-2", 1, 1, 1e300]]):
        for c, value in enumerate(row):
            ws.write(r, c, value, hours if value == 1e300 else None)
    book.close()
    scores = list(clen_core.read(path, entity="pt_score"))
    assert [(s.lab_id, s.value) for s in scores] == [
        ("L-1", 2.5),
        ("L-2", 1e300),
    ]


def test_a_header_need_not_start_at_a1(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws["B3"], ws["C3"], ws["D3"] = "lab_id", "name", "country"
    ws["B4"], ws["C4"], ws["D4"] = "AT-001", "Zollamt Wien", "AT"
    ws["A6"], ws["B6"], ws["C6"], ws["D6"] = "x", "AT-002", "Labor", "AT"
    book.save(tmp_path / "labs.xlsx")
    reader = clen_core.read(tmp_path / "labs.xlsx", entity="laboratory", on_reject="collect")
    assert [lab.lab_id for lab in reader] == ["AT-001"]
    (reject,) = reader.rejects
    assert reject.row == 6
    assert "column A, left of the header's first column" in reject.reason


def test_a_sheet_over_the_threshold_is_streamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reader: str
) -> None:
    clen_core.write([_score(lab_id=f"L-{i}") for i in range(50)], tmp_path / "s.xlsx")
    size = zipfile.ZipFile(tmp_path / "s.xlsx").getinfo("xl/worksheets/sheet1.xml").file_size
    streamed: list[str] = []

    def spy(book: Any, part: str, **kw: Any) -> Any:
        streamed.append(part)
        return clen_core_xlsx._sheetml.sheet_rows(book, part, **kw)

    monkeypatch.setattr(clen_core_xlsx, "sheet_rows", spy)
    for threshold, expected in ((size, []), (size - 1, ["xl/worksheets/sheet1.xml"])):
        monkeypatch.setattr(clen_core_xlsx, "STREAM_ABOVE", threshold)
        streamed.clear()
        assert len(list(clen_core.read(tmp_path / "s.xlsx", entity="pt_score"))) == 50
        assert streamed == expected


def test_streaming_memory_does_not_grow_with_the_sheet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reader: str
) -> None:
    import tracemalloc

    from clen_core_xlsx import _sheetml

    if reader != "stream":
        pytest.skip("the bound is the streaming reader's")
    monkeypatch.setattr(clen_core_xlsx, "BATCH_ROWS", 500)
    monkeypatch.setattr(_sheetml, "_CHUNK", 1 << 16)
    info = get_entity("pt_score")
    peaks = []
    for rows in (4_000, 16_000):
        path = tmp_path / f"s{rows}.xlsx"
        clen_core.write(
            [_score(lab_id=f"L-{i:06d}", value=i / 7, note="n" * 40) for i in range(rows)], path
        )
        with path.open("rb") as source:
            tracemalloc.start()
            count = sum(len(b.rows) for b in clen_core_xlsx.read_xlsx_batches(source, info, "s"))
            peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
        assert count == rows
    assert peaks[1] < 1.3 * peaks[0], peaks  # four times the rows, not more memory


def test_a_torn_or_malformed_sheet_is_a_format_error_naming_it(tmp_path: Path) -> None:
    clen_core.write([_score()], tmp_path / "s.xlsx")
    with zipfile.ZipFile(tmp_path / "s.xlsx") as source:
        parts = {n: source.read(n) for n in source.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    broken = {
        "bad xml": parts[sheet].replace(b"</sheetData>", b"</sheetDat>"),
        "bad string": parts[sheet].replace(
            b'<c r="A2"', b'<c r="A2" t="s"><v>7</v></c><c r="Z2"', 1
        ),
    }
    for case, xml in broken.items():
        path = tmp_path / f"{case}.xlsx"
        with zipfile.ZipFile(path, "w") as out:
            for name, data in parts.items():
                out.writestr(name, xml if name == sheet else data)
        with pytest.raises(FormatError, match=r"sheet .?pt_score") as exc:
            list(clen_core.read(path, entity="pt_score"))
        assert "\n" not in str(exc.value), case


# --------------------------------------------------------------------------- a spreadsheet program


@pytest.fixture(scope="module")
def saved_by_calc(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[Any]]:
    """Our workbooks opened and saved again by LibreOffice Calc (a spreadsheet program no
    one here wrote), when it is installed (CI installs it)."""
    import shutil
    import subprocess

    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice Calc (soffice) is not installed")
    folder = tmp_path_factory.mktemp("calc")
    scores = [
        _score(lab_id=f"L-{i:02d}", value=FLOATS[i % len(FLOATS)], note=TEXTS[i])
        for i in range(len(TEXTS))
    ]
    clen_core.write(scores, folder / "scores.xlsx")
    clen_core.write(reference_dataset(), folder / "dataset.xlsx")
    subprocess.run(
        [soffice, "--headless", "--calc", "--convert-to", "xlsx:Calc MS Excel 2007 XML",
         "--outdir", str(folder / "saved"), str(folder / "scores.xlsx"),
         str(folder / "dataset.xlsx")],
        check=True, capture_output=True, timeout=300,
        env={**__import__("os").environ, "HOME": str(folder)},
    )  # fmt: skip
    return folder / "saved" / "scores.xlsx", folder / "saved" / "dataset.xlsx", scores


def test_a_workbook_saved_again_by_libreoffice_calc_reads_back(
    saved_by_calc: tuple[Path, Path, list[Any]],
) -> None:
    scores_path, dataset_path, scores = saved_by_calc
    back = clen_core.read(scores_path, entity="pt_score", on_reject="collect")
    got = list(back)
    assert not back.rejects
    assert len(got) == len(scores)
    for ours, theirs in zip(scores, got, strict=True):
        # Calc keeps every text as it is (the neutralised ones too: none became a formula)
        # but CR LF, which it stores as LF; numbers it saves with 15 digits.
        note = ours.note
        if note is not None:  # the cell as written, CR LF made LF, read back
            cell = clen_core_xlsx._neutral(note).replace("\r\n", "\n")
            note = clen_core_xlsx._restore(cell) if cell != "'" else ""
        expected = attrs.evolve(ours, note=note)
        assert attrs.evolve(theirs, value=None) == attrs.evolve(expected, value=None)
        if isinstance(ours.value, float) and theirs.value != ours.value:
            assert math.isclose(theirs.value, ours.value, rel_tol=5e-15), ours.value
    assert b"<f>" not in zipfile.ZipFile(scores_path).read("xl/worksheets/sheet1.xml")
    dataset = clen_core.read_dataset(dataset_path)
    ours = reference_dataset()
    for info in ours.entities:
        if info.name != "pt_score":  # its floats: 15 digits, as above
            assert dataset.records(info.name) == ours.records(info.name), info.name
