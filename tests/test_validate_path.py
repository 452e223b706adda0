"""``validate_path``: a folder, a dataset document, a partitioned dataset or one file,
every entity read and every rule run across them, each finding naming its file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import clen_core
from clen_core import FormatError, validate_path
from clen_core.data import reference_dataset
from clen_core.errors import ArgumentError

REF = reference_dataset()


def _rules(v: clen_core.PathValidation) -> dict[str, int]:
    return {r: n for r, n in v.report.by_rule.items() if n}


def _balanced(v: clen_core.PathValidation) -> None:
    for name in v.read:
        assert v.read[name] == v.accepted[name] + v.rejected[name], name


def test_a_folder_a_document_and_one_file_give_the_same_findings(tmp_path: Path) -> None:
    clen_core.write_dataset(REF, tmp_path / "csv", format="csv")
    clen_core.write_dataset(REF, tmp_path / "parquet", format="parquet")
    clen_core.write_dataset(REF, tmp_path / "all.json")
    expected = dict(clen_core.validate(REF).by_rule)
    expected = {r: n for r, n in expected.items() if n}
    for path, kind in (
        (tmp_path / "csv", "folder"),
        (tmp_path / "parquet", "folder"),
        (tmp_path / "all.json", "document"),
    ):
        v = validate_path(path)
        assert v.kind == kind
        assert _rules(v) == expected, path
        assert v.read == REF.counts()
        _balanced(v)
        assert all(f.file is not None for f in v.report.findings)
    folder = validate_path(tmp_path / "csv")
    files = {f.entity: f.file for f in folder.report.findings}
    assert files["activity"] == str(tmp_path / "csv" / "activity.csv")


def test_cross_entity_rules_run_across_the_files(tmp_path: Path) -> None:
    clen_core.write_dataset(REF, tmp_path / "ds", format="csv")
    # A sample received by a laboratory that is not in laboratory.csv (REF-001).
    path = tmp_path / "ds" / "sample.csv"
    text = path.read_text(encoding="utf-8")
    lab = REF.records("sample")[0].lab_id
    path.write_text(text.replace(f',"{lab}",', ',"XX-NOWHERE",', 1), encoding="utf-8")
    v = validate_path(tmp_path / "ds")
    (ref,) = [f for f in v.report.findings if f.rule == "REF-001"]
    assert (ref.file, ref.row, ref.field, ref.value) == (str(path), 2, "lab_id", "XX-NOWHERE")
    assert not v.ok
    # One file alone cannot see the laboratories: no REF-001 there.
    alone = validate_path(path, entity="sample")
    assert "REF-001" not in _rules(alone)


def test_rejected_rows_and_duplicates_name_file_and_row(tmp_path: Path) -> None:
    folder = tmp_path / "ds"
    clen_core.write_dataset(REF, folder, format="csv")
    path = folder / "activity.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.append(lines[1])  # a duplicate key: a rule's finding, not a reject
    header = lines[0].split(",")
    bad = lines[2].split(",")
    bad[header.index("participants")] = "-5"
    lines[2] = ",".join(bad)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    v = validate_path(folder)
    assert v.rejected["activity"] == 1
    _balanced(v)
    (read_error,) = [f for f in v.report.findings if f.rule == "READ-001"]
    assert (read_error.file, read_error.row, read_error.field) == (str(path), 3, "participants")
    (dup,) = [f for f in v.report.findings if f.rule == "DUP-001" and f.entity == "activity"]
    assert (dup.file, dup.row) == (str(path), len(lines))


def test_the_entity_comes_from_the_file_when_it_says(tmp_path: Path) -> None:
    acts = REF.records("activity")
    clen_core.write(acts, tmp_path / "a.parquet", entity="activity")
    clen_core.write(acts, tmp_path / "a.json", entity="activity")
    clen_core.write(acts, tmp_path / "a.csv", entity="activity")
    for name, kind in (("a.parquet", "file"), ("a.json", "document")):
        v = validate_path(tmp_path / name)
        assert (v.kind, v.read) == (kind, {"activity": len(acts)})
        assert all(f.file == str(tmp_path / name) for f in v.report.findings)
    with pytest.raises(ArgumentError, match="does not say which entity"):
        validate_path(tmp_path / "a.csv")
    assert validate_path(tmp_path / "a.csv", entity="activity").read == {"activity": len(acts)}


def test_a_partitioned_dataset(tmp_path: Path) -> None:
    acts = REF.records("activity")
    clen_core.write(acts, tmp_path / "a.parquet", entity="activity")
    clen_core.convert(tmp_path / "a.parquet", tmp_path / "part", entity="activity",
                      partition_by="country")  # fmt: skip
    v = validate_path(tmp_path / "part")
    assert (v.kind, v.read, v.rejected) == ("partitioned", {"activity": len(acts)}, {"activity": 0})
    single = validate_path(tmp_path / "a.parquet")
    assert _rules(v) == _rules(single)
    # Rows are numbered per file: findings of rules name the key, not a row.
    assert all(f.row is None and f.key for f in v.report.findings)


def test_what_cannot_be_validated(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="no such file or folder"):
        validate_path(tmp_path / "nothing")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(clen_core.ClenError):
        validate_path(tmp_path / "notes.txt")


def test_the_report_file_and_json(tmp_path: Path) -> None:
    clen_core.write_dataset(REF, tmp_path / "all.json")
    v = validate_path(tmp_path / "all.json", report_path=tmp_path / "r.json")
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert data["findings"][0]["file"] == str(tmp_path / "all.json")
    assert v.report_path == tmp_path / "r.json"


def test_a_json_lines_file_says_its_entity_in_its_header(tmp_path: Path) -> None:
    acts = REF.records("activity")
    path = tmp_path / "a.jsonl"
    clen_core.write(acts, path, entity="activity")
    assert clen_core.read_dataset(path) == clen_core.Dataset(acts)
    v = validate_path(path)
    assert (v.kind, v.read) == ("document", {"activity": len(acts)})
    # Rows are the file's lines: the header is line 1.
    rows = {f.key: f.row for f in v.report.findings}
    keys = [a.activity_id for a in acts]
    assert all(rows[k] == keys.index(k) + 2 for k in rows)
    bare = tmp_path / "b.jsonl"
    bare.write_text('{"activity_id": "x"}\n', encoding="utf-8")
    with pytest.raises(FormatError, match="does not name its entity"):
        validate_path(bare)
