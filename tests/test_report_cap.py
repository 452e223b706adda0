"""A capped report keeps the most severe findings (errors, then warnings, then info), in
whatever order they come, and counts every one: the report alone, each producer of
findings (the rules, the rows rejected when read, a folder's entities), and `clen validate`."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import clen_core
from clen_core import Finding, Report, Severity
from clen_core.io.records import Reject
from clen_core.synth import generate_batches

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
_RANK = {ERROR: 0, WARNING: 1, INFO: 2}
_RULE = {ERROR: "TST-001", WARNING: "TST-002", INFO: "TST-003"}
UNCAPPED = 10**6
"""A cap no test reaches: the report of every finding."""
CLEN = [sys.executable, "-c", "from clen_core_launch import main; main()"]


def _finding(i: int, severity: Severity) -> Finding:
    return Finding(_RULE[severity], severity, "activity", f"A{i}", i, "country", "TR", "m")


def _first_by_severity(found: list[Finding], cap: int) -> list[Finding]:
    """What the cap must keep, computed naively: every finding, sorted by severity
    (stable, so each severity stays in the order found), cut at the cap."""
    return sorted(found, key=lambda f: _RANK[f.severity])[:cap]


def _counts(found: list[Finding]) -> tuple[Counter[str], Counter[Severity]]:
    return Counter(f.rule for f in found), Counter(f.severity for f in found)


def test_errors_found_after_the_cap_is_full_of_info_are_all_kept() -> None:
    # The case, a thousandth of its size: rule findings first, the rejects last.
    report = Report(max_findings=100)
    for i in range(1, 1001):
        report.add(_finding(i, INFO))
    rejects = [Reject("a.csv", 1000 + i, "end", "2024-01-01", "must not be before start")
               for i in range(1, 51)]  # fmt: skip
    report.add_rejected_rows("activity", rejects, rows=50)
    kept = report.findings
    assert len(kept) == report.kept == 100
    assert [f.row for f in kept[:50]] == list(range(1001, 1051))  # the 50 errors, in order
    assert {f.rule for f in kept[:50]} == {"READ-001"}
    assert [f.row for f in kept[50:]] == list(range(1, 51))  # then the first 50 info
    assert report.by_severity == {INFO: 1000, ERROR: 50}
    assert report.by_rule == {"TST-003": 1000, "READ-001": 50}
    assert report.total == len(report) == 1050
    assert report.truncated
    assert not report.ok
    d = report.to_dict()
    assert d["counts"]["by_severity"] == {"error": 50, "warning": 0, "info": 1000}
    assert [f["rule"] for f in d["findings"]] == ["READ-001"] * 50 + ["TST-003"] * 50


def test_a_full_report_drops_its_latest_least_severe_finding_first() -> None:
    report = Report(max_findings=3)
    for i, severity in enumerate([WARNING, INFO, INFO], start=1):
        report.add(_finding(i, severity))
    report.add(_finding(4, WARNING))  # takes the place of info 3, the latest info
    assert [f.row for f in report] == [1, 4, 2]
    report.add(_finding(5, INFO))  # no less severe finding to displace: counted only
    assert [f.row for f in report] == [1, 4, 2]
    report.add(_finding(6, ERROR))  # then of info 2
    report.add(_finding(7, ERROR))  # then of warning 4, the latest warning
    assert [(f.row, f.severity) for f in report] == [(6, ERROR), (7, ERROR), (1, WARNING)]
    assert report.by_severity == {ERROR: 2, WARNING: 2, INFO: 3}


def test_room_for_a_severity_counts_the_places_it_may_take() -> None:
    report = Report(max_findings=5)
    for i, severity in enumerate([INFO, WARNING, INFO, ERROR], start=1):
        report.add(_finding(i, severity))
    assert report.room == 1
    assert (report.room_for(ERROR), report.room_for("warning"), report.room_for(INFO)) == (4, 3, 1)
    report.add(_finding(5, INFO))
    assert report.room == report.room_for(INFO) == 0
    assert report.room_for(ERROR) == 4


def test_assigned_findings_are_kept_as_add_keeps_them_and_the_counts_stay() -> None:
    report = Report(max_findings=3)
    report.count("TST-002", WARNING, 10)
    report.findings = [_finding(1, INFO), _finding(2, WARNING), _finding(3, INFO),
                       _finding(4, ERROR), _finding(5, WARNING)]  # fmt: skip
    assert [f.row for f in report.findings] == [4, 2, 5]
    assert report.total == 10
    # What the readers do: the same findings, each naming its file; the order stays.
    report.findings = [attrs.evolve(f, file="a.csv") for f in report.findings]
    assert [(f.row, f.file) for f in report] == [(4, "a.csv"), (2, "a.csv"), (5, "a.csv")]


def test_a_finding_of_an_unknown_severity_is_refused_naming_it() -> None:
    bad = attrs.evolve(_finding(1, ERROR), severity="fatal")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"TST-001 has severity 'fatal': expected one of error"):
        Report().add(bad)


# A step adds findings of one severity: one by one, or rows rejected when read (errors).
_steps = st.lists(
    st.tuples(st.sampled_from([ERROR, WARNING, INFO, "rejects"]), st.integers(1, 12)),
    max_size=30,
)


@given(_steps, st.integers(0, 60))
def test_whatever_the_order_the_kept_findings_are_the_first_by_severity(
    steps: list[tuple[Severity | str, int]], cap: int
) -> None:
    report = Report(max_findings=cap)
    found: list[Finding] = []
    for what, n in steps:
        start = len(found) + 1
        if what == "rejects":
            rejects = [Reject("a.csv", start + i, "end", "x", "must not be before start")
                       for i in range(n)]  # fmt: skip
            report.add_rejected_rows("activity", rejects, rows=n)
            found += [Finding("READ-001", ERROR, "activity", None, r.row, "end", "x",
                              "row rejected: end: must not be before start", "a.csv")
                      for r in rejects]  # fmt: skip
        else:
            assert isinstance(what, Severity)
            batch = [_finding(start + i, what) for i in range(n)]
            for f in batch:
                report.add(f)
            found += batch
        assert report.kept <= cap  # memory stays within the cap at every step
    expected = _first_by_severity(found, cap)
    assert report.findings == list(report) == expected
    assert len(report.findings) == min(cap, len(found))
    assert (report.by_rule, report.by_severity) == _counts(found)
    assert report.total == len(found)
    assert report.truncated == (len(found) > cap)
    assert report.to_arrow().column("row").to_pylist() == [f.row for f in expected]


def _activities(n: int, seed: int, error_rate: float) -> pa.Table:
    batches = generate_batches("activity", n, seed=seed, error_rate=error_rate, batch_rows=64)
    return pa.Table.from_batches(list(batches), schema=clen_core.arrow_schema("activity"))


def _seen(report: Report) -> list[tuple[Any, ...]]:
    return [(f.rule, f.severity, f.key, f.row, f.field, f.message) for f in report]


@settings(max_examples=15)
@given(st.integers(1, 400), st.integers(0, 2**31), st.sampled_from([0.02, 0.1, 0.3]),
       st.integers(0, 30), st.integers(0, 120))  # fmt: skip
def test_the_rules_and_the_rejects_keep_the_first_findings_by_severity(
    tmp_path_factory: pytest.TempPathFactory,
    n: int,
    seed: int,
    error_rate: float,
    twice: int,
    cap: int,
) -> None:
    # Activities give warnings (ACT-001) and info (ACT-003) found before their errors:
    # a rule's (DUP-001, the first rows written twice) and READ-001 (rows that do not
    # fit). A table (the columnar check) and a file (read in batches, the rowwise rules
    # on each) keep the uncapped report's first findings.
    rows = _activities(n, seed, error_rate)
    rows = pa.concat_tables([rows, rows.slice(0, twice)])
    path = tmp_path_factory.mktemp("cap") / "activity.parquet"
    pq.write_table(rows, path)
    for whole, capped in (
        [clen_core.validate(rows, entity="activity", max_findings=m) for m in (UNCAPPED, cap)],
        [clen_core.validate_file(path, entity="activity", max_findings=m).report
         for m in (UNCAPPED, cap)],
    ):  # fmt: skip
        assert _seen(capped) == _seen(whole)[:cap]
        assert (capped.by_rule, capped.by_severity) == (whole.by_rule, whole.by_severity)
        assert capped.truncated == (whole.total > cap)


def test_a_folder_keeps_the_errors_of_every_entity_first(tmp_path: Path) -> None:
    for name in ("activity", "laboratory"):
        batches = generate_batches(name, 300, seed=7, error_rate=0.05)
        table = pa.Table.from_batches(list(batches), schema=clen_core.arrow_schema(name))
        pq.write_table(table, tmp_path / f"{name}.parquet")
    whole = clen_core.validate_path(tmp_path, max_findings=UNCAPPED).report
    errors = whole.by_severity[ERROR]
    assert errors
    assert whole.by_severity[WARNING]
    assert whole.by_severity[INFO]
    for cap in (errors - 1, errors + 5):
        capped = clen_core.validate_path(tmp_path, max_findings=cap).report
        assert _seen(capped) == _seen(whole)[:cap]
        assert [f.severity for f in capped][: min(errors, cap)] == [ERROR] * min(errors, cap)
        assert {f.entity for f in capped if f.rule == "READ-001"} == {"activity", "laboratory"}
        assert (capped.by_rule, capped.by_severity) == (whole.by_rule, whole.by_severity)


def _clen(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLEN, *map(str, args)], capture_output=True, text=True, timeout=300)


def test_clen_validate_keeps_the_injected_errors_under_a_small_cap(tmp_path: Path) -> None:
    data = tmp_path / "activity.csv"
    made = _clen("generate", "activity", "2000", data, "--error-rate", "0.02", "-q")
    assert made.returncode == 0, made.stderr
    whole = json.loads(_clen("validate", data, "-e", "activity", "--json", "-q",
                             "--max-findings", str(UNCAPPED)).stdout)  # fmt: skip
    counts = whole["counts"]["by_severity"]
    assert counts["error"] == 40
    assert counts["warning"] > 40
    assert counts["info"] > 40
    # Rules run first, the rejects last: before, a cap of 60 kept 60 warnings, no error.
    report = tmp_path / "report.json"
    done = _clen("validate", data, "-e", "activity", "--json", "-q", "--max-findings", "60",
                 "--report", report)  # fmt: skip
    assert done.returncode == 1, done.stderr
    capped = json.loads(done.stdout)
    kept = capped["findings"]
    assert [f["severity"] for f in kept] == ["error"] * 40 + ["warning"] * 20
    assert {f["rule"] for f in kept[:40]} == {"READ-001"}
    assert kept == whole["findings"][:60]
    assert capped["counts"] == whole["counts"]
    assert capped["truncated"] is True
    assert json.loads(report.read_text())["findings"] == kept
    # The table on screen lists the worst first and says where the 60 kept are.
    shown = _clen("validate", data, "-e", "activity", "-q", "--max-findings", "60",
                  "--show", "3")  # fmt: skip
    total = whole["counts"]["total"]
    assert f"first 3 of {total:,} finding(s); 60 kept in --report and --json" in shown.stdout
    listed = shown.stdout.split("first 3 of")[1]
    assert listed.count("READ-001") == 3
    assert "ACT-001" not in listed


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 120), st.integers(0, 2**31), st.sampled_from([0.05, 0.3, 1.0]),
       st.integers(0, 40), st.integers(3, 50))  # fmt: skip
def test_rejects_past_the_cap_are_counted_and_the_first_kept_as_the_object_path_keeps_them(
    tmp_path_factory: pytest.TempPathFactory,
    n: int,
    seed: int,
    error_rate: float,
    cap: int,
    batch: int,
) -> None:
    # Past the cap, the columnar reader counts rejected rows without building them: over
    # batches of any size, the rejects it keeps and the rows it counts are those of the
    # object path, which builds every one.
    from unittest import mock

    from clen_core.io import readwrite

    path = tmp_path_factory.mktemp("rejects") / "activity.parquet"
    pq.write_table(_activities(n, seed, error_rate), path, row_group_size=batch)

    def read(engine: str, cap: int) -> clen_core.Reader:
        reader = clen_core.read(
            path, entity="activity", on_reject="collect", max_rejects=cap, engine=engine
        )
        with mock.patch.object(readwrite, "DEFAULT_BATCH_ROWS", batch):
            assert sum(1 for _ in reader) == reader.accepted
        return reader

    def seen(reader: clen_core.Reader) -> list[tuple[int, str | None]]:
        # The engines agree on rows and fields (a few reasons are worded apart).
        return [(r.row, r.field) for r in reader.rejects]

    every = {engine: read(engine, UNCAPPED) for engine in ("columnar", "object")}
    assert seen(every["columnar"]) == seen(every["object"])
    for engine in ("columnar", "object"):
        capped = read(engine, cap)
        assert capped.rejected == every[engine].rejected
        assert capped.rejects == every[engine].rejects[:cap]
