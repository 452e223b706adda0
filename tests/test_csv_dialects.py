"""CSV dialects: delimiter, decimal comma and encoding, detected when the file says, else given."""

from __future__ import annotations

import codecs
import io
from pathlib import Path
from typing import Any

import pytest

import clen_core
import clen_core_csv
from clen_core.errors import ArgumentError
from clen_core.io.formats import FormatError, get_format, read_format
from clen_core.model import get_entity

PTScore = get_entity("pt_score").cls
COLUMNS = ["study_id", "lab_id", "assigned_value", "sigma_pt", "value", "note"]
ROWS = [
    ["S-1", "LAB-é", 12.5, 0.25, 1234.5, "crème brûlée"],
    ["S-1", "LAB-2", 0.001, 1.0, -3.75, None],
    ["S-2", "LAB-3", 100.0, 2.5, None, "a;b|c,d"],
]
EXPECTED = [
    PTScore(study_id=r[0], lab_id=r[1], assigned_value=r[2], sigma_pt=r[3], value=r[4], note=r[5])
    for r in ROWS
]


def _cell(value: Any, delimiter: str, decimal: str) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        text = repr(value).replace(".", decimal)
        return f'"{text}"' if decimal == delimiter else text
    text = str(value)
    return f'"{text}"' if any(c in text for c in ',;|\t"') else text


def _file(tmp_path: Path, delimiter: str, decimal: str, encoding: str, name: str = "s") -> Path:
    lines = [delimiter.join(COLUMNS)]
    lines += [delimiter.join(_cell(v, delimiter, decimal) for v in row) for row in ROWS]
    path = tmp_path / f"{name}.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def _read(path: Path, **options: Any) -> list[Any]:
    fmt = get_format("csv").with_options(**options)
    objs = {}
    for engine in ("columnar", "object"):
        objs[engine] = list(clen_core.read(path, entity="pt_score", format=fmt, engine=engine))
    assert objs["columnar"] == objs["object"]
    return objs["columnar"]


ENCODINGS = ["utf-8", "utf-8-sig", "windows-1252", "utf-16", "utf-16-le"]


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("decimal", [".", ","])
@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_dialect_matrix_is_detected_and_reported(
    tmp_path: Path, delimiter: str, decimal: str, encoding: str
) -> None:
    path = _file(tmp_path, delimiter, decimal, encoding)
    if delimiter == "," and decimal == ",":
        # Decimal commas in comma-separated cells must be quoted; nothing says they are
        # there until a row fails: only given, the file reads.
        assert read_format(path, entity="pt_score").options["decimal"] == "."
        assert _read(path, decimal=",") == EXPECTED
        return
    fmt = read_format(path, entity="pt_score")
    assert fmt.options == {"delimiter": delimiter, "decimal": decimal, "encoding": encoding}
    assert _read(path) == EXPECTED  # detected by the reader itself too
    assert list(clen_core.read(path, entity="pt_score", format=fmt)) == EXPECTED


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_every_option_may_be_given(tmp_path: Path, delimiter: str) -> None:
    path = _file(tmp_path, delimiter, ",", "windows-1252")
    word = {";": "semicolon", "\t": "tab", "|": "pipe"}[delimiter]
    for d in (delimiter, word):
        assert _read(path, delimiter=d, decimal=",", encoding="cp1252") == EXPECTED


def test_latin1_reads_as_windows_1252_where_they_agree(tmp_path: Path) -> None:
    path = _file(tmp_path, ";", ",", "latin-1")
    assert read_format(path, entity="pt_score").options["encoding"] == "windows-1252"
    assert _read(path) == EXPECTED
    assert _read(path, encoding="latin-1") == EXPECTED


def test_a_csv_written_by_excel_in_a_european_locale(tmp_path: Path) -> None:
    """What Excel (German, French, ... locale) saves as "CSV (separated by semicolons)"."""
    text = (
        "result_id;sample_id;method_id;analyte;value;unit;expanded_uncertainty;coverage_factor\r\n"
        "R-1;S-1;M-1;Éthanol;1.234,5;€/kg;0,25;2\r\n"
        "R-2;S-1;M-1;Saccharose;12,75;% vol;1,5;2\r\n"
        "R-3;S-2;M-2;Café;-0,5;mg/kg;0,1;2\r\n"
    )
    path = tmp_path / "Ergebnisse.csv"
    path.write_bytes(text.encode("cp1252"))
    assert b"\x80" in path.read_bytes()
    assert b"\xc9" in path.read_bytes()
    fmt = read_format(path, entity="analysis_result")
    assert fmt.options == {"delimiter": ";", "decimal": ",", "encoding": "windows-1252"}
    results = list(clen_core.read(path, entity="analysis_result"))
    assert [(r.analyte, r.value, r.unit, r.expanded_uncertainty) for r in results] == [
        ("Éthanol", 1234.5, "€/kg", 0.25),
        ("Saccharose", 12.75, "% vol", 1.5),
        ("Café", -0.5, "mg/kg", 0.1),
    ]
    # Through the library's commands: validated, and converted to clen_core's own CSV.
    checked = clen_core.validate_file(path, entity="analysis_result", format=fmt)
    assert (checked.read, checked.rejected) == (3, 0)
    done = clen_core.convert(path, tmp_path / "out.csv", entity="analysis_result", from_format=fmt)
    assert done.written == 3
    out = (tmp_path / "out.csv").read_bytes().decode("utf-8")
    assert out.startswith("result_id,sample_id,")
    assert '"€/kg"' in out
    assert ",1234.5," in out
    assert read_format(tmp_path / "out.csv", entity="analysis_result").options == {
        "delimiter": ",",
        "decimal": ".",
        "encoding": "utf-8",
    }


def test_a_number_that_does_not_fit_the_decimal_comma_is_rejected_with_its_text(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes(
        b"study_id;lab_id;assigned_value;sigma_pt\n"
        b"S;L1;1,5;1\nS;L2;1.5;1\nS;L3;12.345.678,9;1\nS;L4;1,2,3;1\nS;L5;1.23;1\n"
    )
    for engine in ("columnar", "object"):
        reader = clen_core.read(
            path,
            entity="pt_score",
            on_reject="collect",
            engine=engine,
            format=get_format("csv").with_options(decimal=","),
        )
        assert [s.assigned_value for s in reader] == [1.5, 12345678.9]
        assert [(r.row, r.field, r.value) for r in reader.rejects] == [
            (3, "assigned_value", "1.5"),
            (5, "assigned_value", "1,2,3"),
            (6, "assigned_value", "1.23"),
        ]
        assert "decimal comma" in reader.rejects[0].reason


# --------------------------------------------------------------------------- ambiguous


@pytest.mark.parametrize(
    ("body", "message"),
    [
        # Only 1.234: a decimal point, or a thousands point? Nothing else says.
        (b"study_id;lab_id;assigned_value;sigma_pt\nS;L;1.234;1\n", "decimal separator"),
        (b"study_id;lab_id;assigned_value;sigma_pt\nS;L;1,234;1\n", "decimal separator"),
        # Both a decimal comma and a decimal point.
        (b"study_id;lab_id;assigned_value;sigma_pt\nS;L;1,5;2.5\n", "decimal comma"),
        # Not UTF-8, and bytes Windows-1252 does not have (0x8D, 0x9D: Czech in cp1250).
        (b"study_id;lab_id;assigned_value;sigma_pt\nS;\x8dL\x9d;1;1\n", "encoding"),
        # The header reads one way with ',' and another with ';', and so do the rows.
        (b"study_id,lab_id;assigned_value\nS,L;1\n", "delimiter"),
    ],
)
def test_what_the_file_does_not_say_is_an_error_naming_the_choices(
    tmp_path: Path, body: bytes, message: str
) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes(body)
    with pytest.raises(FormatError, match=message) as exc:
        read_format(path, entity="pt_score")
    with pytest.raises(FormatError, match=message):
        list(clen_core.read(path, entity="pt_score"))
    choices = {
        "decimal separator": "'.' or ','",
        "decimal comma": "'.' or ','",
        "encoding": "'cp1250'",
        "delimiter": "',' or ';'",
    }[message]
    assert choices in str(exc.value)


def test_ambiguity_goes_once_the_option_is_given(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes(b"study_id;lab_id;assigned_value;sigma_pt\nS;L;1.234;1\n")
    assert [s.assigned_value for s in _read(path, decimal=",")] == [1234.0]
    assert [s.assigned_value for s in _read(path, decimal=".")] == [1.234]


def test_a_one_column_file_is_read_alike_whatever_the_delimiter(tmp_path: Path) -> None:
    info = get_entity("pt_score")
    source = io.BytesIO(b"note\na,b\nc\n")
    assert clen_core_csv.sniff_csv(source, info, "x")["delimiter"] == ";"  # ',' splits row 2
    source = io.BytesIO(b"note\nab\ncd\n")
    assert clen_core_csv.sniff_csv(source, info, "x")["delimiter"] == ","
    assert source.tell() == 0  # left where it was


# --------------------------------------------------------------------------- options


def test_unknown_options_and_values_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ArgumentError, match="no read option sep"):
        get_format("csv").with_options(sep=";")
    with pytest.raises(ArgumentError, match="it takes none"):
        get_format("parquet").with_options(delimiter=";")
    path = _file(tmp_path, ";", ",", "utf-8")
    for options, message in [
        ({"delimiter": "ab"}, "cannot separate"),
        ({"delimiter": '"'}, "cannot separate"),
        ({"decimal": ";"}, "give '.' or ','"),
        ({"encoding": "klingon"}, "unknown encoding"),
    ]:
        with pytest.raises(FormatError, match=message):
            read_format(path, entity="pt_score", **options)


def test_options_left_as_none_are_detected_and_formats_compare_by_options() -> None:
    csv = get_format("csv")
    assert csv.with_options(delimiter=None) is csv
    assert csv.with_options(delimiter=";") == csv.with_options(delimiter=";")
    assert csv.with_options(delimiter=";") != csv
    assert csv.with_options(delimiter=";").with_options(decimal=",").options == {
        "delimiter": ";",
        "decimal": ",",
    }


def test_a_wrong_delimiter_given_says_which_it_may_be(tmp_path: Path) -> None:
    path = _file(tmp_path, ";", ",", "utf-8")
    with pytest.raises(FormatError, match="is the file ';'-separated"):
        list(
            clen_core.read(
                path,
                entity="pt_score",
                format=get_format("csv").with_options(delimiter=",", decimal="."),
            )
        )


def test_a_later_row_in_another_encoding_says_to_give_it(tmp_path: Path) -> None:
    head = "study_id,lab_id,assigned_value,sigma_pt\n" + "S,L{},1,1\n" * 1
    body = head.format(0) + "".join(f"S,L{i},1,1\n" for i in range(1, 9000))
    path = tmp_path / "s.csv"
    path.write_bytes(body.encode() + "S,Lé,1,1\n".encode("cp1252"))  # past the detection
    assert len(body) > clen_core_csv.SNIFF_BYTES
    with pytest.raises(FormatError, match=r"give it: e\.g\. 'windows-1252'"):
        list(clen_core.read(path, entity="pt_score"))
    fmt = get_format("csv").with_options(encoding="windows-1252")
    assert list(clen_core.read(path, entity="pt_score", format=fmt))[-1].lab_id == "Lé"


def test_a_header_of_many_unknown_columns_makes_a_short_message(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text(",".join(f"c{i}" for i in range(10_000)) + "\n")
    with pytest.raises(FormatError) as exc:
        list(clen_core.read(path, entity="pt_score"))
    assert "and 9,990 more" in str(exc.value)
    assert len(str(exc.value)) < 1000


def test_utf16_without_bom_is_told_by_its_zero_bytes() -> None:
    head = "study_id,lab_id\n".encode("utf-16-be")
    assert clen_core_csv._detect_encoding(head, True, "x") == "utf-16-be"
    assert clen_core_csv._detect_encoding(codecs.BOM_UTF8 + b"a", True, "x") == "utf-8-sig"
