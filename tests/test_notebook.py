"""Notebook displays: a short repr and an HTML table for a Report, a Dataset, a PT evaluation
and an entity's schema (EntityInfo). Values come from data files, so the HTML escapes them;
a display never grows with the data (the first rows, and how many more)."""

from __future__ import annotations

import datetime as dt
import html
import time
from html.parser import HTMLParser
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import clen_core
from clen_core import Activity, Dataset, Finding, Report, Severity
from clen_core.data import reference_dataset
from clen_core.model import _html
from clen_core.model.entity import ENTITIES
from clen_core.proficiency.evaluation import (
    PTEvaluation,
    QualitativeEvaluation,
    RoundEvaluation,
    evaluate,
    evaluate_round,
)

SCRIPT = "<script>alert('x')</script>"
VOID = {"br", "hr", "img", "input", "meta", "link", "col", "wbr"}


class _Tags(HTMLParser):
    """Checks that every element is closed, in order, and collects the text."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.rows = 0
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        assert tag != "script", "a script element got through"
        if tag not in VOID:
            self.open.append(tag)
        if tag == "tr":
            self.rows += 1

    def handle_endtag(self, tag: str) -> None:
        assert self.open, f"</{tag}> closes nothing"
        assert self.open[-1] == tag, f"</{tag}> closes <{self.open[-1]}>"
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parsed(markup: str) -> _Tags:
    tags = _Tags()
    tags.feed(markup)
    tags.close()
    assert tags.open == [], f"unclosed: {tags.open}"
    return tags


def _activity(activity_id: str = "A1", **kw: Any) -> Activity:
    base: dict[str, Any] = {
        "activity_id": activity_id, "action": 5, "kind": "workshop", "theme": "Gemmology",
        "city": "Vienna", "country": "AT", "start": dt.date(2020, 3, 3),
        "end": dt.date(2020, 3, 4),
    }  # fmt: skip
    return Activity(**(base | kw))


# --------------------------------------------------------------------------- the helpers


@given(st.text())
def test_a_cell_shows_the_text_escaped_and_cut(value: str) -> None:
    cell = _html.cell(value)
    assert "<" not in cell
    assert ">" not in cell
    assert '"' not in cell
    shown = html.unescape(cell)
    if len(value) <= _html.CHARS:
        assert shown == value
    else:
        assert len(shown) == _html.CHARS
        assert shown.endswith("…")
        assert value.startswith(shown[:-1])


@given(st.integers(0, 3 * _html.ROWS), st.integers(1, 2 * _html.ROWS))
def test_a_table_shows_at_most_its_limit_and_counts_the_rest(n: int, limit: int) -> None:
    markup = _html.table(("n",), ([i] for i in range(n)), limit=limit)
    tags = _parsed(markup)
    assert tags.rows == 1 + min(n, limit)  # the header row, then the rows shown
    hidden = n - min(n, limit)
    assert (f"… and {hidden:,} more rows not shown" in markup) == (hidden > 0)


# --------------------------------------------------------------------------- Report


def _finding(i: int, severity: Severity = Severity.WARNING, **kw: Any) -> Finding:
    base: dict[str, Any] = {
        "rule": "ACT-001", "severity": severity, "entity": "activity", "key": f"A{i}",
        "row": i, "field": "country", "value": "TR", "message": "TR is not an EU Member State",
    }  # fmt: skip
    return Finding(**(base | kw))


def test_report_repr_is_one_short_line() -> None:
    report = Report(max_findings=5)
    for i in range(1, 8):
        report.add(_finding(i, Severity.ERROR if i == 3 else Severity.WARNING))
    report.records = {"activity": 10}
    assert repr(report) == (
        "Report(ok=False, total=7, error=1, warning=6, info=0, kept=5, records={'activity': 10})"
    )


def test_report_html_shows_counts_and_findings_worst_first() -> None:
    report = Report()
    report.records = {"activity": 3}
    report.add(_finding(1, Severity.INFO))
    report.add(_finding(2, Severity.WARNING))
    report.add(_finding(3, Severity.ERROR, message="country missing"))
    report.rejected = {"activity": 1}
    markup = report._repr_html_()
    tags = _parsed(markup)
    assert tags.rows == 4
    text = "".join(tags.text)
    assert "errors found" in text
    assert "3 finding(s) (1 error, 1 warning, 1 info)" in text
    assert "activity 3" in text
    assert "1 activity row(s) rejected when read" in text
    assert markup.index("country missing") < markup.index("TR is not")  # the error first
    assert "not shown" not in markup
    assert "no error" in Report()._repr_html_()


def test_report_html_escapes_values_from_data() -> None:
    report = Report()
    report.add(_finding(1, key=SCRIPT, value=SCRIPT, field="<b>", message=f"bad {SCRIPT}",
                        file="<img src=x onerror=alert(1)>.csv"))  # fmt: skip
    report.records = {SCRIPT: 1}
    markup = report._repr_html_()
    _parsed(markup)
    assert "<script" not in markup
    assert "<img" not in markup
    assert "<b>" not in markup
    assert html.escape(SCRIPT) in markup


def test_a_report_of_a_million_findings_shows_the_first_and_says_how_many_more() -> None:
    report = Report(max_findings=2_000_000)
    one = _finding(1)
    report.findings = [one] * 1_000_000
    report.count("ACT-001", Severity.WARNING, 1_000_000)
    report.add(_finding(2, Severity.ERROR, message="the one error"))
    started = time.perf_counter()
    markup = report._repr_html_()
    assert time.perf_counter() - started < 2
    tags = _parsed(markup)
    assert tags.rows == 1 + _html.ROWS
    assert f"… and {1_000_001 - _html.ROWS:,} more findings not shown" in markup
    assert "the one error" in markup  # found last, shown first
    assert len(markup) < 100_000
    assert len(repr(report)) < 200


def test_a_capped_report_says_how_many_findings_were_not_kept() -> None:
    report = Report(max_findings=3)
    for i in range(1, 11):
        report.add(_finding(i))
    markup = report._repr_html_()
    assert _parsed(markup).rows == 4
    assert "… and 7 more findings not shown" in markup


def test_a_validation_report_displays(tmp_path: Any) -> None:
    report = clen_core.validate(reference_dataset())
    markup = report._repr_html_()
    _parsed(markup)
    for f in report.findings:
        assert html.escape(f.message) in markup


# --------------------------------------------------------------------------- Dataset


def test_dataset_repr_and_html() -> None:
    ds = Dataset([_activity(f"A{i}", theme=SCRIPT) for i in range(1, 14)])
    assert repr(ds) == "Dataset(activity=13)"
    markup = ds._repr_html_()
    tags = _parsed(markup)
    assert "<script" not in markup
    assert html.escape(SCRIPT) in markup
    assert "… and 3 more activity records not shown" in markup
    # The summary (header + 1 entity) and the preview (header + 10 records).
    assert tags.rows == 2 + 11
    text = "".join(tags.text)
    assert "13 record(s)" in text
    for name in Activity.__clen_entity__.field_names:
        assert f"<th>{name}</th>" in markup


def test_the_reference_dataset_displays_every_entity() -> None:
    ds = reference_dataset()
    markup = ds._repr_html_()
    _parsed(markup)
    for info in ds.entities:
        assert f"<summary>{info.name} ({len(ds[info.name]):,})</summary>" in markup
    assert "<div>" in Dataset()._repr_html_()


# --------------------------------------------------------------------------- an entity's schema


@pytest.mark.parametrize("name", sorted(ENTITIES))
def test_an_entity_schema_displays_every_field(name: str) -> None:
    info = clen_core.get_entity(name)
    assert repr(info) == (
        f"EntityInfo({name!r}, class={info.cls.__name__}, key={info.key!r}, "
        f"fields={len(info.fields)}, version={info.version})"
    )
    markup = info._repr_html_()
    tags = _parsed(markup)
    assert tags.rows == 1 + len(info.fields)  # never capped: a schema is short
    for f in info.fields:
        assert f"<td>{html.escape(f.name)}</td>" in markup
    assert "``" not in markup


def test_an_entity_schema_shows_types_and_constraints() -> None:
    markup = clen_core.get_entity("activity")._repr_html_()
    assert "<td>participants</td><td>int</td><td></td><td>≥ 0</td>" in markup
    assert "<td>country</td><td>str</td><td>yes</td><td>code country</td>" in markup
    assert "`end` ≥ `start`" not in markup
    assert "end ≥ start when both are given" in markup
    substance = clen_core.get_entity("substance")._repr_html_()
    assert "map str → list of str" in substance


# --------------------------------------------------------------------------- PT evaluations


@pytest.fixture(scope="module")
def round_evaluation() -> RoundEvaluation:
    ds = reference_dataset()
    (pt_round,) = ds.records("pt_round")
    return evaluate_round(ds.records("pt_study"), ds.records("pt_result"), pt_round=pt_round)


def test_a_study_evaluation_displays_its_statistics_and_scores(
    round_evaluation: RoundEvaluation,
) -> None:
    study = next(e for e in round_evaluation.studies if isinstance(e, PTEvaluation))
    m = study.summary
    assert repr(study).startswith(f"PTEvaluation(study={m.study_id!r}, analyte={m.analyte!r}, ")
    assert "satisfactory=" in repr(study)
    assert "\n" not in repr(study)
    markup = study._repr_html_()
    tags = _parsed(markup)
    assert tags.rows == 1 + 10 + 1 + len(study.scores)  # the figures, then the scores
    for s in study.scores:
        assert f"<td>{s.lab_id}</td>" in markup
    assert f"{m.sigma_pt:.6g}" in markup
    assert m.classified_by_reason in html.unescape(markup)


def test_a_round_evaluation_displays_each_study(round_evaluation: RoundEvaluation) -> None:
    e = round_evaluation
    assert repr(e) == (
        f"RoundEvaluation(round={e.pt_round.round_id!r}, studies={len(e.studies)}, "
        f"combined={len(e.combined)})"
    )
    markup = e._repr_html_()
    _parsed(markup)
    for study in e.studies:
        assert f"<summary>{study.study.study_id}</summary>" in markup
    assert "Combined scores" in markup
    qualitative = next(s for s in e.studies if isinstance(s, QualitativeEvaluation))
    assert repr(qualitative) == (
        f"QualitativeEvaluation(study={qualitative.study.study_id!r}, "
        f"kind={qualitative.study.kind.value!r}, not_returned=0)"
    )
    _parsed(qualitative._repr_html_())


def test_a_study_display_escapes_values_from_data() -> None:
    ds = reference_dataset()
    study = next(s for s in ds.records("pt_study") if s.kind.value == "quantitative")
    hostile = attrs.evolve(study, analyte=SCRIPT, unit="<b>")
    results = [
        attrs.evolve(r, lab_id=f"{SCRIPT}{i}") if i == 0 else r
        for i, r in enumerate(x for x in ds.records("pt_result") if x.study_id == study.study_id)
    ]
    evaluation = evaluate(hostile, results)
    markup = evaluation._repr_html_()
    _parsed(markup)
    assert "<script" not in markup
    assert "<b>" not in markup
    assert html.escape(SCRIPT) in markup
    rounds = evaluate_round([hostile], results)._repr_html_()
    _parsed(rounds)
    assert "<script" not in rounds
    assert "Studies evaluated" in rounds
