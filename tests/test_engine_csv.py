"""Reading clen's CSV in Dask and Spark (``read_csv_dask``, ``read_csv_spark``): the rows as
clen_core's reader reads them, so that ``validate_dask``/``validate_spark`` on them give the
rejects and findings ``clen validate FILE.csv`` gives, row numbers included: an empty text
apart from a missing value, a neutralised cell, a cell with line breaks.

The Spark half is skipped where pyspark or Java is missing."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from clen_core.cli import app
from clen_core.io.bridges import (
    FILE,
    ROW,
    batch_rules,
    csv_schema,
    read_csv_dask,
    read_csv_spark,
    validate_dask,
    validate_spark,
)
from clen_core.io.commands import validate_file
from clen_core.io.formats import FormatError
from clen_core.rules.report import READ_RULE

ENTITIES = ("activity", "analysis_result")
Issue = tuple[Any, ...]


def generated(folder: Path, entity: str, n: int = 400) -> Path:
    path = folder / f"{entity}.csv"
    r = CliRunner().invoke(
        app, ["generate", entity, str(n), str(path), "--seed", "1", "--error-rate", "0.05"]
    )
    assert r.exit_code == 0, r.output
    return path


def doctored(folder: Path) -> Path:
    """Generated activities, and rows 2-7 (the first six records) rewritten by hand."""
    path = generated(folder, "activity", 300)
    lines = path.read_text(encoding="utf-8").split("\n")
    header, records = lines[0], lines[1:]
    names = header.split(",")
    row = dict.fromkeys(names, "")
    row |= {"action": "2", "kind": '"workshop"', "theme": '"Designer Drugs"', "city": '"Lyon"',
            "country": '"FR"', "start": "2020-03-01", "end": "2020-03-02"}  # fmt: skip

    def record(key: str, **cells: str) -> str:
        return ",".join((row | {"activity_id": f'"{key}"'} | cells)[n] for n in names)

    records[:6] = [
        record("H-1", city='""'),  # the empty text: a city must not be empty
        record("H-2", city=""),  # missing: required, got nothing
        record("H-3", title='""', notes='"two\nlines, and ""quotes"""'),  # one record, 2 lines
        record("H-4", title="", country='"\'=DE"'),  # neutralised: read as =DE, not a country
        record("H-5", title='"\'=1+2"'),  # neutralised: read as =1+2, valid
        record("H-6", participants='"12"'),  # a quoted number is still a number
    ]
    path.write_text("\n".join([header, *records]), encoding="utf-8")
    return path


class Expected:
    """What ``clen validate FILE.csv`` says of a file, as the engines can say it."""

    def __init__(self, path: Path, entity: str) -> None:
        done = validate_file(path, entity=entity, max_findings=10**6)
        self.rejects = {(r.row, r.field, r.reason) for r in done.rejects}
        run = {r.id for r in batch_rules(entity)} | {READ_RULE}
        found = done.report.to_arrow().to_pylist()
        self.findings = _findings([f for f in found if f["rule"] in run])
        self.file = str(path)


def _findings(rows: list[dict[str, Any]]) -> Counter[Issue]:
    keys = ("rule", "severity", "key", "row", "field", "value", "message")
    return Counter(tuple(r[k] for k in keys) for r in rows)


def _rejects(rows: list[dict[str, Any]]) -> set[Issue]:
    return {(r["row"], r["field"], r["reason"]) for r in rows}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("engine_csv")


@pytest.fixture(scope="module")
def files(folder: Path) -> dict[str, Path]:
    out = {e: generated(folder, e) for e in ENTITIES}
    (folder / "doctored").mkdir()
    out["doctored"] = doctored(folder / "doctored")
    return out


def test_the_doctored_file_tells_empty_from_missing_and_undoes_neutralising(
    files: dict[str, Path],
) -> None:
    # The truth the engines are held to, checked first: the hand-made rows say what they
    # should, so a reader that read them otherwise would be caught.
    want = Expected(files["doctored"], "activity")
    by_row = {(row, field): reason for row, field, reason in want.rejects if row <= 7}
    assert set(by_row) == {(2, "city"), (3, "city"), (5, "country")}
    assert by_row[2, "city"] == "must not be empty"
    assert by_row[3, "city"] == "required, got nothing"
    read = [f for f in want.findings if f[0] == READ_RULE and f[3] == 5]
    assert [f[5] for f in read] == ["=DE"]  # the value as read: neutralising undone
    assert len(want.rejects) > 10  # and the generated errors after them, rows counted on


# --------------------------------------------------------------------------- Dask


@pytest.mark.parametrize("name", [*ENTITIES, "doctored"])
def test_validate_dask_of_read_csv_dask_is_clen_validate(files: dict[str, Path], name: str) -> None:
    import dask

    entity = "activity" if name == "doctored" else name
    want = Expected(files[name], entity)
    result = validate_dask(read_csv_dask(files[name], entity), entity)
    rejects, findings, valid = dask.compute(result.rejects, result.findings, result.valid)
    assert _rejects(rejects.to_dict("records")) == want.rejects
    assert _findings(findings.to_dict("records")) == want.findings
    assert set(rejects["file"]) == {want.file}
    if name == "doctored":
        kept = {r["activity_id"]: r for r in valid.to_dict("records")}
        assert kept["H-6"]["title"] is None  # missing
        assert kept["H-3"]["title"] == ""  # the empty text
        assert kept["H-3"]["notes"] == 'two\nlines, and "quotes"'
        assert kept["H-5"]["title"] == "=1+2"
        assert kept["H-6"]["participants"] == 12
        assert not {"H-1", "H-2", "H-4"} & set(kept)
        bad = rejects[(rejects["row"] == 5) & (rejects["field"] == "country")]
        assert bad["value"].tolist() == ["=DE"]


def test_read_csv_dask_gives_text_rows_numbers_and_files(files: dict[str, Path]) -> None:
    frame = read_csv_dask(files["doctored"], "activity").compute()
    assert list(frame.columns) == csv_schema("activity").names
    assert frame[ROW].tolist()[:7] == [2, 3, 4, 5, 6, 7, 8]  # the header is row 1
    assert set(frame[FILE]) == {str(files["doctored"])}
    assert frame["participants"].tolist()[5] == "12"
    # The record after the one with a line break is still row 5: records, not lines.
    assert frame.loc[frame["activity_id"] == "H-4", ROW].item() == 5


def test_a_folder_is_read_file_by_file(tmp_path: Path) -> None:
    for i in range(3):
        generated(tmp_path, "activity", 50 + i).rename(tmp_path / f"part-{i}.csv")
    ddf = read_csv_dask(tmp_path, "activity")
    assert ddf.npartitions == 3
    frame = ddf.compute()
    counts = frame.groupby(FILE)[ROW].agg(["min", "max", "count"])
    assert counts["min"].tolist() == [2, 2, 2]
    assert counts["count"].tolist() == [50, 51, 52]


def test_a_row_of_the_wrong_width_stops_the_read_naming_file_and_row(tmp_path: Path) -> None:
    path = generated(tmp_path, "activity", 20)
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[4] = '"A-X",1,"workshop"'
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(FormatError, match=r"row 5.*cannot be a row of the frame") as exc:
        read_csv_dask(path, "activity").compute()
    assert str(path) in str(exc.value)


def test_missing_paths_are_refused(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="no such file"):
        read_csv_dask(tmp_path / "nothing.csv", "activity")
    with pytest.raises(FormatError, match="no CSV file"):
        read_csv_dask(tmp_path, "activity")


# --------------------------------------------------------------------------- Spark


@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_validate_spark_of_read_csv_spark_is_clen_validate(
    spark: Any, files: dict[str, Path]
) -> None:
    # Two files at once: one task each, rows numbered per file.
    paths = [files["doctored"], files["activity"]]
    result = validate_spark(read_csv_spark(spark, paths, "activity"), "activity")
    try:
        rejects = [r.asDict() for r in result.rejects.collect()]
        findings = result.findings.toArrow()
        valid = {r["activity_id"]: r for r in (x.asDict() for x in result.valid.collect())}
    finally:
        result.unpersist()
    for path in paths:
        want = Expected(path, "activity")
        assert _rejects([r for r in rejects if r["file"] == str(path)]) == want.rejects
        mine = [f for f in findings.to_pylist() if f["file"] == str(path)]
        assert _findings(mine) == want.findings
    assert {r["file"] for r in rejects} == {str(p) for p in paths}
    assert valid["H-6"]["title"] is None
    assert valid["H-3"]["title"] == ""
    assert valid["H-3"]["notes"] == 'two\nlines, and "quotes"'
    assert valid["H-5"]["title"] == "=1+2"
    assert valid["H-6"]["participants"] == 12
    assert not {"H-1", "H-2", "H-4"} & set(valid)
    assert [r["value"] for r in rejects if r["row"] == 5 and r["file"] == str(paths[0])] == ["=DE"]


def test_a_frame_of_text_is_checked_as_a_csv_file_is() -> None:
    import pandas as pd

    from clen_core.io.bridges import validate_pandas

    text = pd.ArrowDtype(pa.string())
    frame = pd.DataFrame(
        {
            "activity_id": ["A-1", "A-2", "A-3"],
            "action": ["1", "x", "3"],
            "kind": ["workshop", "workshop", "seminar"],
            "theme": ["t", "t", "t"],
            "city": ["Lyon", "Lyon", "Lyon"],
            "country": ["FR", "FR", "FR"],
            "start": ["2020-01-01", "2020-01-02", "2020-01-03"],
            "end": ["2020-01-01", "2020-01-02", "2020-01-03"],
            "participants": ["5", None, "7"],
        },
        dtype=text,
    )
    rejects = validate_pandas(frame, "activity", "rejects")
    # Only the cell that is no whole number: the others are numbers written as text.
    assert rejects[["row", "field", "value", "reason"]].to_dict("records") == [
        {"row": None, "field": "action", "value": "x", "reason": "expected a whole number"}
    ]
    valid = validate_pandas(frame, "activity")
    assert valid["participants"].tolist() == [5, 7]
    # A frame with typed columns is checked as typed: "12" is no whole number there.
    typed = frame.assign(participants=pd.array([5, None, 7], dtype="Int64"))
    rejects = validate_pandas(typed.assign(action=frame["action"]), "activity", "rejects")
    assert {r["reason"] for r in rejects.to_dict("records")} == {"expected a whole number, got str"}
