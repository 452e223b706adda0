"""The PT report: its page (parsed, and rendered by a real headless Chromium), JSON, and CLI.

The browser tests need Chromium from Debian's packages (``apt-get install chromium``)
and, for the second one, Playwright (``pip install playwright``, never
``playwright install``: it drives the system Chromium). Without them they skip,
saying why. Screenshots go to ``$CLEN_TEST_ARTIFACTS`` (default: pytest's tmp dir).
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar

import pytest
from typer.testing import CliRunner

import clen_core
from clen_core.cli import app
from clen_core.data import reference_dataset
from clen_core.errors import ArgumentError
from clen_core.model.proficiency import (
    Censoring,
    PTPurpose,
    PTResult,
    PTRound,
    PTStudy,
    ResultKind,
    ScoreName,
)
from clen_core.proficiency import (
    PTEvaluation,
    RoundEvaluation,
    evaluate,
    evaluate_qualitative,
    evaluate_round,
    homogeneity,
    stability,
)
from clen_core.proficiency.report import (
    COLOURS,
    as_round,
    histogram,
    kernel_density,
    pseudonyms,
    render_html,
    render_json,
    report_data,
    write_key,
    write_report,
    youden_pairs,
)

REF = reference_dataset()
LABS = {r.lab_id for r in REF.records("pt_result")}
COORDINATOR = "EL-ATH"
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CODE = re.compile(r"Lab \d\d")


# --------------------------------------------------------------------------- helpers


class Element:
    def __init__(self, tag: str, attrs: dict[str, str], ancestors: tuple[Element, ...]) -> None:
        self.tag, self.attrs, self.ancestors = tag, attrs, ancestors
        self.text = ""

    @property
    def parents(self) -> tuple[str, ...]:
        return tuple(a.tag for a in self.ancestors)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def inside(self, element_id: str) -> bool:
        return any(a.attrs.get("id") == element_id for a in self.ancestors)


class Page(HTMLParser):
    """Every element of a page, with its attributes, ancestors and direct text."""

    VOID: ClassVar[set[str]] = {"meta", "br", "img", "input", "link", "hr", "source", "col"}

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.stack: list[Element] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        el = Element(tag, {k: v or "" for k, v in attrs}, tuple(self.stack))
        self.elements.append(el)
        if tag not in self.VOID:
            self.stack.append(el)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(Element(tag, {k: v or "" for k, v in attrs}, tuple(self.stack)))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if self.stack:
            self.stack[-1].text += data

    def find(self, tag: str, cls: str | None = None, within: str | None = None) -> list[Element]:
        return [
            e
            for e in self.elements
            if e.tag == tag
            and (cls is None or cls in e.classes)
            and (within is None or e.inside(within))
        ]

    def by_id(self, element_id: str) -> Element:
        (el,) = [e for e in self.elements if e.attrs.get("id") == element_id]
        return el

    def bars(self, within: str | None = None) -> list[Element]:
        return [e for e in self.find("rect", "bar", within) if "svg" in e.parents]

    def facts(self, within: str) -> dict[str, str]:
        terms, values = self.find("dt", within=within), self.find("dd", within=within)
        return dict(zip([e.text for e in terms], [e.text for e in values], strict=True))

    def cards(self, within: str) -> dict[str, str]:
        out = {}
        for card in self.find("div", "card", within):
            (v,) = [e for e in self.find("div", "v") if card in e.ancestors]
            out[card.attrs["data-count"]] = v.text
        return out

    def text(self) -> str:
        return " ".join(e.text for e in self.elements)


def _round() -> RoundEvaluation:
    return evaluate_round(
        REF.records("pt_study"), REF.records("pt_result"), pt_round=REF.records("pt_round")[0]
    )


def _read(s: Any) -> float | None:
    return s.z if s.classified_by is ScoreName.Z else s.z_prime


@pytest.fixture(scope="module")
def round_eval() -> RoundEvaluation:
    return _round()


@pytest.fixture(scope="module")
def codes(round_eval: RoundEvaluation) -> dict[str, str]:
    return pseudonyms(round_eval)


@pytest.fixture(scope="module")
def page_text(round_eval: RoundEvaluation) -> str:
    return render_html(round_eval)


@pytest.fixture(scope="module")
def page(page_text: str) -> Page:
    return Page(page_text)


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("CLEN_TEST_ARTIFACTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _results_file(tmp: Path, results: list[PTResult], ext: str = "csv") -> Path:
    path = tmp / f"pt_result.{ext}"
    clen_core.write(results, path, entity="pt_result")
    return path


def _study(study_id: str, **kw: Any) -> PTStudy:
    fields: dict[str, Any] = {
        "title": f"Study {study_id}",
        "purpose": PTPurpose.PROFICIENCY,
        "analyte": "a",
        "unit": "mg/kg",
    }
    return PTStudy(study_id=study_id, **(fields | kw))


# --------------------------------------------------------------------------- sections


def test_every_section_is_there_for_the_reference_round(page: Page, page_text: str) -> None:
    header = page.facts("report-header")
    assert header["Round"] == "CLEN-PT-2024-1"
    assert header["Title"].startswith("Spirit drinks")
    assert header["Provider"] == "CLEN Action 2 (illustrative)"
    assert header["Coordinator"] == COORDINATOR
    assert header["Closing date"] == "2024-10-15"
    assert header["Report date"] == "2024-11-29"
    assert header["Report issue"] == "1"
    assert header["Laboratories"] == "12"
    assert header["Made by"] == f"clen_core {clen_core.__version__}"
    # One section per study, in the round's order, each linked from the contents.
    studies = list(page.find("section", "study"))
    assert [s.attrs["data-study"] for s in studies] == [
        "PT-2024-ETOH",
        "PT-2024-ETOH-B",
        "PT-2024-CN",
    ]
    links = {e.attrs["href"] for e in page.find("a")}
    assert links == {"#study-1", "#study-2", "#study-3", "#youden", "#combined", "#formulas"}
    for sid in ("study-1", "study-2"):
        kinds = [s.attrs["data-chart"] for s in page.find("svg", within=sid)]
        assert kinds == ["histogram", "xu", "scores"]
        assert page.find("table", "scores", sid)
        cards = page.cards(sid)
        assert set(cards) >= {
            "laboratories",
            "p",
            "satisfactory",
            "questionable",
            "unsatisfactory",
            "not_classified",
            "censored",
            "not_returned",
            "action_signals",
        }
        assert page.find("p", "reason", sid)[0].text.startswith("u(x_pt) = ")
        checks = {e.attrs["data-check"] for e in page.find("p", "check", sid)}
        assert checks == {"homogeneity", "stability"}
    facts_a = page.facts("study-1")
    assert facts_a["Assigned value x_pt"].startswith("40.027 % vol — participants' consensus")
    assert "1.25·s*/√p" in facts_a["u_char"]
    assert facts_a["σ_pt"].startswith("0.05769 % vol — participants' robust standard deviation")
    assert "3 iteration(s)" in facts_a["Robust statistics"]
    assert "third significant figure" in facts_a["Robust statistics"]
    assert facts_a["u(x_pt) < 0.3·σ_pt"].startswith("no")
    facts_b = page.facts("study-2")
    assert facts_b["Assigned value x_pt"] == "37.52 % vol — formulation of the test item"
    assert facts_b["u_hom"] == "0.008 % vol — given by the study"
    assert facts_b["σ_pt"] == "0.1 % vol — fitness for purpose, set by the provider"
    assert facts_b["δE (for PA)"] == "0.3 % vol"
    assert page.cards("study-1")["action_signals"] == "1"
    # The classification study: agreement chart, level table, per-lab table.
    assert [s.attrs["data-chart"] for s in page.find("svg", within="study-3")] == ["agreement"]
    assert page.facts("study-3")["Assigned code"] == "2208 90 69"
    assert page.facts("study-3")["Mode of the codes"] == "2208 90 69"
    assert page.by_id("youden-1").attrs["data-chart"] == "youden"
    caution = page.find("p", "caution", "combined")[0]
    assert "never instead of them" in caution.text
    assert len([e for e in page.find("tr", within="combined-table") if "tbody" in e.parents]) == 12
    footer = page.by_id("formulas")
    assert footer.tag == "footer"
    assert "z′ = D/√(σ_pt² + u²(x_pt))" in page_text
    assert "|Eₙ| ≥ 1 is an action signal" in page_text


def test_page_is_self_contained(page_text: str, page: Page) -> None:
    assert not re.search(r"(https?|ftp|file|data):|//[a-z0-9]", page_text, re.IGNORECASE)
    assert "url(" not in page_text
    assert "@import" not in page_text
    for tag in ("script", "link", "iframe", "img", "object", "embed"):
        assert not page.find(tag), tag
    for e in page.elements:
        for attr in ("src", "href", "xlink:href", "srcset", "action"):
            assert attr not in e.attrs or e.attrs[attr].startswith("#"), (e.tag, attr)
    csp = next(e for e in page.find("meta") if e.attrs.get("http-equiv"))
    assert "default-src 'none'" in csp.attrs["content"]
    assert page_text.startswith("<!DOCTYPE html>")
    # Every chart is an image with its own accessible title and description.
    ids = [e.attrs["id"] for e in page.elements if "id" in e.attrs]
    assert len(ids) == len(set(ids))
    for svg in page.find("svg"):
        assert svg.attrs["role"] == "img"
        title_id, desc_id = svg.attrs["aria-labelledby"].split()
        assert page.by_id(title_id).text
        assert page.by_id(desc_id).text


# --------------------------------------------------------------------------- the charts


def test_one_bar_per_classed_lab_sorted_coloured_and_titled(
    page: Page, round_eval: RoundEvaluation, codes: dict[str, str]
) -> None:
    for i, symbol in ((1, "z′"), (2, "z")):
        e = round_eval.studies[i - 1]
        assert isinstance(e, PTEvaluation)
        bars = page.bars(f"study-{i}-scores")
        classed = [s for s in e.scores if s.classification is not None]
        assert len(bars) == len(classed) == 12
        assert {b.attrs["data-lab"] for b in bars} == set(codes.values())
        scores = [float(b.attrs["data-score"]) for b in bars]
        assert scores == sorted(scores)
        for b in bars:
            s = next(s for s in e.scores if codes[s.lab_id] == b.attrs["data-lab"])
            assert float(b.attrs["data-score"]) == _read(s)
            assert b.attrs["data-class"] == s.classification.value  # type: ignore[union-attr]
            assert b.attrs["fill"] == COLOURS[s.classification]  # type: ignore[index]
            assert float(b.attrs["height"]) > 0
        outlier = bars[-1]
        assert outlier.attrs["data-lab"] == codes["IT-ROM"]
        assert outlier.attrs["data-class"] == "unsatisfactory"
        titles = [
            t.text for t in page.find("title", within=f"study-{i}-scores") if "rect" in t.parents
        ]
        assert len(titles) == 12
        assert any(t.startswith(f"{codes['IT-ROM']}: {symbol} = ") for t in titles)
        limits = page.find("line", "limit", f"study-{i}-scores")
        assert sorted(float(x.attrs["data-z"]) for x in limits) == [-3, -2, 2, 3]
        labels = {x.text for x in page.find("text", "axis-label", f"study-{i}-scores")}
        assert labels == {f"{symbol}-score", f"Laboratory (sorted by {symbol}-score)"}
    assert "IT-ROM: z′ = 6.90" not in page.text()


def test_histogram_counts_add_up_to_p(page: Page, round_eval: RoundEvaluation) -> None:
    data = report_data(round_eval)
    for i in (1, 2):
        e = round_eval.studies[i - 1]
        assert isinstance(e, PTEvaluation)
        bins = page.find("rect", "bin", f"study-{i}-histogram")
        assert sum(int(b.attrs["data-count"]) for b in bins) == e.summary.p == 12
        assert all(int(b.attrs["data-count"]) > 0 for b in bins)
        marks = page.find("line", "mark", f"study-{i}-histogram")
        assert sorted(int(m.attrs["data-k"]) for m in marks) == [-3, -2, 0, 2, 3]
        assert page.find("path", "density", f"study-{i}-histogram")
        hist = data["studies"][i - 1]["histogram"]
        assert sum(b["count"] for b in hist["bins"]) == 12
        assert hist["bin_width"] == pytest.approx(e.summary.sigma_pt / 2)
        assert hist["bandwidth_from"] == "s*"


def test_histogram_and_kernel_density_functions() -> None:
    width, bins = histogram([9.0, 10.0, 10.2, 10.4, 14.9], 10.0, 1.0)
    assert width == 0.5
    assert sum(n for *_, n in bins) == 5
    assert all(hi - lo == pytest.approx(0.5) for lo, hi, _ in bins)
    # x_pt ± 2σ_pt and ± 3σ_pt are edges; a spare empty bin at each end.
    edges = {round(lo, 9) for lo, _, _ in bins}
    assert {8.0, 7.0, 12.0, 13.0} <= edges
    assert bins[0][2] == bins[-1][2] == 0
    # A wild outlier widens the bins, never past 40 (+ the two spare ones).
    width, bins = histogram([*range(10), 1000.0], 5.0, 1.0)
    assert len(bins) <= 42
    assert width % 0.5 == 0
    assert sum(n for *_, n in bins) == 11
    f = kernel_density([0.0], 1.0)
    assert f(0.0) == pytest.approx(1 / math.sqrt(2 * math.pi))
    total = sum(f(-8 + i / 100) for i in range(1601)) / 100
    assert total == pytest.approx(1.0, rel=1e-3)


def test_results_with_uncertainties(
    page: Page, round_eval: RoundEvaluation, codes: dict[str, str]
) -> None:
    e = round_eval.studies[0]
    assert isinstance(e, PTEvaluation)
    points = page.find("g", "result", "study-1-xu")
    assert len(points) == 12
    values = [float(p.attrs["data-value"]) for p in points]
    assert values == sorted(values)
    bands = page.find("rect", "band", "study-1-xu")
    assert len(bands) == 1
    # NL-AMS reported no U: no error bar, said in its title.
    nl = next(p for p in points if p.attrs["data-lab"] == codes["NL-AMS"])
    title = next(t for t in page.find("title", within="study-1-xu") if nl in t.ancestors)
    assert "U not reported" in title.text
    bars = list(page.find("line", "ebar", "study-1-xu"))
    assert len(bars) == 3 * 11


def test_youden_plot_has_one_point_per_lab_with_both_scores(
    page: Page, round_eval: RoundEvaluation, codes: dict[str, str]
) -> None:
    pairs = youden_pairs(round_eval)
    assert [(a.study.study_id, b.study.study_id) for a, b in pairs] == [
        ("PT-2024-ETOH", "PT-2024-ETOH-B")
    ]
    a, b = pairs[0]
    points = page.find("g", "point", "youden-1")
    assert len(points) == 12
    assert {p.attrs["data-lab"] for p in points} == set(codes.values())
    for lab in LABS:
        p = next(p for p in points if p.attrs["data-lab"] == codes[lab])
        sa = next(s for s in a.scores if s.lab_id == lab)
        sb = next(s for s in b.scores if s.lab_id == lab)
        assert float(p.attrs["data-x"]) == _read(sa)
        assert float(p.attrs["data-y"]) == _read(sb)
    squares = page.find("rect", "limit-square", "youden-1")
    assert sorted(int(s.attrs["data-k"]) for s in squares) == [2, 3]
    titles = [t.text for t in page.find("title", within="youden-1") if "g" in t.parents]
    assert sum(t.startswith(codes["IT-ROM"] + ":") for t in titles) == 1
    labelled = {t.text for t in page.find("text", "point-label", "youden-1")}
    assert labelled == {codes["IT-ROM"]}  # the only point outside the ±2 square
    yd = report_data(round_eval)["youden"][0]
    assert (yd["x_score"], yd["y_score"]) == ("z_prime", "z")
    assert len(yd["points"]) == 12


def test_no_youden_plot_without_a_pair() -> None:
    rows = [r for r in REF.records("pt_result") if r.study_id == "PT-2024-ETOH"]
    ev = as_round(evaluate(REF.get("pt_study", "PT-2024-ETOH"), rows))
    assert youden_pairs(ev) == []
    page = Page(render_html(ev))
    assert not [e for e in page.elements if e.attrs.get("id") == "youden"]
    assert not [e for e in page.elements if e.attrs.get("id") == "combined"]


# --------------------------------------------------------------------------- pseudonyms


def test_pseudonyms_are_stable_distinct_and_not_alphabetical(
    round_eval: RoundEvaluation, codes: dict[str, str]
) -> None:
    assert set(codes) == LABS
    assert len(set(codes.values())) == 12
    assert all(CODE.fullmatch(c) for c in codes.values())
    assert list(codes.values()) == sorted(codes.values())  # the key is in the order of the codes
    assert list(codes) != sorted(codes)  # … which is not the order of the IDs
    assert pseudonyms(_round()) == codes  # the same again, from a fresh evaluation
    # Another round ID gives another order; a secret key, another again.
    assert pseudonyms(round_eval, secret="s3cret") != codes
    assert pseudonyms(round_eval, secret="s3cret") == pseudonyms(round_eval, secret=b"s3cret")
    # One study alone: its own labs, coded the same way.
    one = pseudonyms(round_eval.studies[0])
    assert set(one) == LABS


def test_same_code_for_one_lab_in_every_study(page: Page, codes: dict[str, str]) -> None:
    it_rom = codes["IT-ROM"]
    for table in ("study-1-table", "study-2-table", "study-3-table"):
        rows = [e for e in page.find("tr", within=table) if "tbody" in e.parents]
        assert {r.attrs["data-lab"] for r in rows} == set(codes.values())
        shown = [r.attrs["data-lab"] for r in rows]
        assert shown == sorted(shown)
    for sid in ("study-1-table", "study-2-table"):
        badge = [
            b
            for b in page.find("span", "badge", sid)
            if any(a.attrs.get("data-lab") == it_rom for a in b.ancestors)
        ]
        assert [b.text for b in badge] == ["unsatisfactory"]
    below = page.find("p", "below", "study-3")[0].text
    assert (
        below
        == "Below the required level: "
        + ", ".join(sorted(codes[lab] for lab in ("EL-ATH", "FR-PAR", "IT-ROM")))
        + "."
    )


def test_real_ids_absent_unless_revealed(
    round_eval: RoundEvaluation, codes: dict[str, str]
) -> None:
    text = render_html(round_eval)
    data = render_json(round_eval)
    for lab in LABS - {COORDINATOR}:
        assert lab not in text, lab
        assert lab not in data, lab
    # The coordinator is named as the round's organiser (header, round and study records), only.
    page = Page(text)
    where = [e for e in page.elements if COORDINATOR in e.text]
    assert [e.tag for e in where] == ["dd"]
    assert where[0].inside("report-header")
    assert COORDINATOR not in json.dumps(
        {k: v for k, v in json.loads(data).items() if k != "round"}
        | {"studies": [s.get("scores") or s.get("outcome") for s in json.loads(data)["studies"]]}
    )
    revealed = render_html(round_eval, reveal=True)
    revealed_json = render_json(round_eval, reveal=True)
    for lab in LABS:
        assert f'data-lab="{lab}"' in revealed
        assert f'"lab_id": "{lab}"' in revealed_json or f'"laboratory": "{lab}"' in revealed_json
    assert not CODE.search(revealed)
    assert not CODE.search(revealed_json)
    assert Page(revealed).facts("report-header")["Laboratory names"].startswith("real")


def test_write_key_csv_and_json(
    round_eval: RoundEvaluation, codes: dict[str, str], tmp_path: Path
) -> None:
    path = write_key(round_eval, tmp_path / "key.csv")
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["lab_id"]: r["code"] for r in rows} == codes
    assert json.loads(write_key(round_eval, tmp_path / "key.json").read_text("utf-8")) == codes
    # An ID a spreadsheet would run as a formula is neutralised.
    study = _study("S", assigned_value=1.0, sigma_pt=1.0)
    ev = evaluate(study, [PTResult(study_id="S", lab_id="=cmd()", value=1.0)])
    assert "'=cmd()" in write_key(ev, tmp_path / "k2.csv").read_text("utf-8")


# --------------------------------------------------------------------------- other rounds


def test_text_is_escaped(tmp_path: Path) -> None:
    hostile = '<script>alert("x")</script> & co'
    study = _study(
        "PT-<b>",
        title=hostile,
        analyte="a<b",
        unit="<u>",
        sigma_pt=1.0,
        assigned_value=0.0,
        round_id="R<1>",
        item_id="<i>",
    )
    qual = _study(
        "Q-<b>", title=hostile, kind=ResultKind.NOMINAL, assigned_category="<x>", round_id="R<1>"
    )
    labs = ("L<1>", 'L"2', "L&3")
    results = [
        PTResult(study_id="PT-<b>", lab_id=lab, value=v)
        for lab, v in zip(labs, (0.5, -2.5, 3.5), strict=True)
    ]
    results += [
        PTResult(study_id="Q-<b>", lab_id=lab, category=c)
        for lab, c in zip(labs, ("<x>", "<y>", "<script>"), strict=True)
    ]
    pt_round = PTRound(round_id="R<1>", title=hostile, provider=hostile, report_issue="<2>")
    ev = evaluate_round([study, qual], results, pt_round=pt_round)
    for reveal in (False, True):
        text = render_html(ev, reveal=reveal)
        assert "<script>" not in text
        assert "&lt;script&gt;" in text
        page = Page(text)
        assert page.facts("report-header")["Provider"] == hostile
        bars = page.bars("study-1-scores")
        assert [b.attrs["data-class"] for b in bars] == [
            "questionable",
            "satisfactory",
            "unsatisfactory",
        ]
        if reveal:
            assert {b.attrs["data-lab"] for b in bars} == set(labs)
            rows = [e for e in page.find("tr", within="study-2-table") if "tbody" in e.parents]
            assert {r.attrs["data-lab"] for r in rows} == set(labs)
    data = json.loads(render_json(ev, reveal=True))
    assert data["round"]["title"] == hostile


def test_censored_and_not_returned_labs_are_counted_and_listed(tmp_path: Path) -> None:
    study = _study("C", assigned_value=10.0, sigma_pt=1.0, round_id="R-C")
    results = [PTResult(study_id="C", lab_id=f"L{i}", value=10.0 + i / 4) for i in range(8)]
    results += [
        PTResult(study_id="C", lab_id="LOW", value=0.5, censoring=Censoring.BELOW),  # classed
        PTResult(study_id="C", lab_id="LT", value=10.5, censoring=Censoring.BELOW),  # not classed
        PTResult(study_id="C", lab_id="NONE"),  # not returned
    ]
    e = evaluate(study, results)
    page = Page(render_html(e))
    cards = page.cards("study-1")
    assert cards["laboratories"] == "11"
    assert cards["p"] == "8"
    assert cards["censored"] == "2"
    assert cards["not_returned"] == "1"
    assert cards["not_classified"] == "2"
    assert cards["unsatisfactory"] == "1"
    # Only scores are drawn: 8 bars; the histogram holds p = 8 results.
    assert len(page.bars("study-1-scores")) == 8
    assert sum(int(b.attrs["data-count"]) for b in page.find("rect", "bin", "study-1")) == 8
    assert len(page.find("g", "result", "study-1-xu")) == 8
    codes = pseudonyms(e)
    listed = {li.attrs["data-lab"]: li.text for li in page.find("li", within="study-1")}
    assert set(listed) == {codes["LOW"], codes["LT"], codes["NONE"]}
    assert "< 0.5" in listed[codes["LOW"]]
    assert "unsatisfactory" in listed[codes["LOW"]]
    assert "not classified" in listed[codes["LT"]]
    assert listed[codes["NONE"]].endswith("no result returned")
    row = next(
        e for e in page.find("tr", within="study-1-table") if e.attrs.get("data-lab") == codes["LT"]
    )
    cells = [c.text for c in page.find("td") if row in c.ancestors]
    assert cells[0] == "< 10.5"
    assert "not classified" in [b.text for b in page.find("span", "badge") if row in b.ancestors]
    assert any("reported < a limit" in c for c in cells)  # the note column is there


def test_homogeneity_and_stability_checks_are_tabled() -> None:
    study = _study("H", assigned_value=10.0, sigma_pt=0.5)
    results = [PTResult(study_id="H", lab_id=f"L{i}", value=10.0 + (i - 4) / 10) for i in range(9)]
    h = homogeneity(
        [
            [10.0, 10.1],
            [10.2, 10.1],
            [9.9, 10.0],
            [10.0, 10.0],
            [10.1, 10.2],
            [10.0, 9.9],
            [10.1, 10.1],
        ],
        sigma_pt=0.5,
    )
    s = stability([10.0, 10.1], [10.05, 10.2], sigma_pt=0.5, u_before=0.02, u_after=0.02)
    e = evaluate(study, results, homogeneity=h, stability=s)
    page = Page(render_html(e))
    tables = {t.attrs["data-check"]: t for t in page.find("table", "check", "study-1")}
    assert set(tables) == {"homogeneity", "stability"}

    def rows(t: Any) -> dict[str, str]:
        heads = [x for x in page.find("th") if t in x.ancestors]
        vals = [x for x in page.find("td") if t in x.ancestors]
        text = [
            v.text or " ".join(s.text for s in page.find("span") if v in s.ancestors) for v in vals
        ]
        return dict(zip([x.text for x in heads], text, strict=True))

    hom = rows(tables["homogeneity"])
    assert hom["Items g × replicates m"] == "7 × 2"
    assert hom["s_s ≤ 0.3·σ_pt"] == ("passed" if h.passed else "failed")
    assert hom["Criterion 0.3·σ_pt"] == "0.15 mg/kg"
    assert hom["Expanded criterion"] != "—"  # g = 7 is in Table B.1
    st = rows(tables["stability"])
    assert st["|ȳ₁ − ȳ₂|"] == "0.075 mg/kg"
    assert st["|ȳ₁ − ȳ₂| ≤ 0.3·σ_pt"] == "passed"
    facts = page.facts("study-1")
    assert facts["u_hom"].endswith("s_s of the homogeneity check (B.2)")
    assert facts["u_stab"].endswith("of the stability check (B.5)")
    data = report_data(e)["studies"][0]["summary"]
    assert data["homogeneity"]["g"] == 7
    assert data["stability"]["passed"] is True


def test_qualitative_studies_of_every_kind() -> None:
    studies = [
        _study("NOM", kind=ResultKind.NOMINAL, assigned_category="whisky", round_id="Q"),
        _study(
            "ORD", kind=ResultKind.ORDINAL, ordinal_scale=("low", "medium", "high"), round_id="Q"
        ),
        _study("IDP", kind=ResultKind.IDENTIFICATION, assigned_category="present", round_id="Q"),
        _study("CN", kind=ResultKind.CLASSIFICATION, assigned_category="2208 90 69", round_id="Q"),
    ]
    answers = {
        "NOM": ["whisky", "whisky", "brandy", None],
        "ORD": ["low", "medium", "medium", "high"],
        "IDP": ["present", "not detected", "maybe", "present"],
        "CN": ["2208 90 69", "2208 90 45", "9999", None],
    }
    results = [
        PTResult(study_id=sid, lab_id=f"L{i}", category=c)
        for sid, cs in answers.items()
        for i, c in enumerate(cs)
    ]
    ev = evaluate_round(studies, results)
    assert ev.pt_round is None
    page = Page(render_html(ev))
    codes = pseudonyms(ev)
    kinds = [s.attrs["data-kind"] for s in page.find("section", "qualitative")]
    assert kinds == ["nominal", "ordinal", "identification", "classification"]
    assert page.facts("report-header")["Round"] == "Q"
    assert page.cards("study-1") == {
        "laboratories": "4",
        "p": "3",
        "correct": "2",
        "not_returned": "1",
    }
    assert page.find("p", "not-returned", "study-1")[0].text == f"Not returned: {codes['L3']}."
    assert page.facts("study-2")["Median rank"] == "2"
    assert page.cards("study-2")["within_one"] == "4"
    assert page.cards("study-3")["invalid"] == "1"
    (invalid,) = page.find("li", within="study-3")
    assert invalid.attrs["data-lab"] == codes["L2"]
    assert "'maybe' is not a presence answer" in invalid.text
    cn_cards = page.cards("study-4")
    assert (cn_cards["invalid"], cn_cards["not_returned"], cn_cards["correct"]) == ("1", "1", "1")
    (bad,) = page.find("li", within="study-4")
    assert "not a valid HS, CN or TARIC code" in bad.text
    levels = page.find("rect", "level-bar", "study-4-agreement")
    assert [int(b.attrs["data-count"]) for b in levels] == [2, 2, 2, 1]
    data = report_data(ev)
    for st in data["studies"]:
        for s in st["outcome"]["scores"]:
            assert CODE.fullmatch(s["laboratory"])
    assert data["studies"][3]["outcome"]["invalid"] == [codes["L2"]]
    assert data["studies"][3]["not_returned"] == [codes["L3"]]


def test_single_evaluations_are_rounds_of_one() -> None:
    q = evaluate_qualitative(
        REF.get("pt_study", "PT-2024-CN"),
        [r for r in REF.records("pt_result") if r.study_id == "PT-2024-CN"],
    )
    ev = as_round(q)
    assert ev.studies == (q,)
    assert ev.pt_round is None
    assert ev.combined == ()
    page = Page(render_html(q))
    assert page.facts("report-header")["Round"] == "CLEN-PT-2024-1"
    assert page.facts("report-header")["Provider"] == "—"
    assert pseudonyms(q) == pseudonyms(_round())  # same round, same labs: same codes
    with pytest.raises(ArgumentError, match="RoundEvaluation"):
        as_round("nope")  # type: ignore[arg-type]


def test_many_labs_and_a_wild_outlier_still_one_bar_each() -> None:
    study = _study("BIG", sigma_pt=1.0)
    values = [float(i % 7) for i in range(119)] + [500.0]
    results = [PTResult(study_id="BIG", lab_id=f"L{i:03d}", value=v) for i, v in enumerate(values)]
    e = evaluate(study, results)
    codes = pseudonyms(e)
    assert all(re.fullmatch(r"Lab \d{3}", c) for c in codes.values())
    page = Page(render_html(e))
    assert len(page.bars("study-1-scores")) == 120
    grid = page.find("line", "grid", "study-1-scores")  # one per y tick: −500 … 500 by 100
    assert len(grid) == 11
    assert sum(int(b.attrs["data-count"]) for b in page.find("rect", "bin")) == 120
    assert len(page.find("rect", "bin")) <= 42


def test_json_report(round_eval: RoundEvaluation, tmp_path: Path) -> None:
    data = json.loads(render_json(round_eval))
    assert set(data) == {"report", "round", "studies", "youden", "combined"}
    assert data["report"]["pseudonymised"] is True
    assert data["report"]["round_id"] == "CLEN-PT-2024-1"
    assert data["report"]["laboratories"] == sorted(pseudonyms(round_eval).values())
    assert data["round"]["report_issue"] == "1"
    assert [s["kind"] for s in data["studies"]] == [
        "quantitative",
        "quantitative",
        "classification",
    ]
    a = data["studies"][0]
    assert len(a["scores"]) == 12
    assert [s["lab_id"] for s in a["scores"]] == sorted(s["lab_id"] for s in a["scores"])
    assert a["summary"]["p"] == 12
    assert a["summary"]["negligible"] is False
    assert a["summary"]["expanded_assigned_uncertainty"] == pytest.approx(
        2 * a["summary"]["assigned_uncertainty"]
    )
    # Each score is the pt_score entity's JSON form: it reads back as an object.
    for row in a["scores"]:
        clen_core.from_json(row, "pt_score")
    assert len(data["combined"]) == 12
    path = write_report(round_eval, tmp_path / "r.json", format="json")
    assert json.loads(path.read_text(encoding="utf-8")) == data
    with pytest.raises(ValueError, match="unknown report format"):
        write_report(round_eval, tmp_path / "r.txt", format="txt")  # type: ignore[arg-type]
    assert not (tmp_path / "r.txt").exists()


# --------------------------------------------------------------------------- the command


def _run(*args: str | Path) -> Any:
    return CliRunner().invoke(app, [str(a) for a in args])


def test_cli_round_html_with_key(tmp_path: Path) -> None:
    results = _results_file(tmp_path, REF.records("pt_result"), "parquet")
    out, key = tmp_path / "out" / "report.html", tmp_path / "key.csv"
    r = _run("pt-report", results, "--study", "CLEN-PT-2024-1", "--out", out, "--key", key)
    assert r.exit_code == 0, r.output
    assert "round CLEN-PT-2024-1, 3 study(ies)" in r.output
    assert "12 laboratories: 11 satisfactory, 0 questionable, 1 unsatisfactory" in r.output
    page = Page(out.read_text(encoding="utf-8"))
    assert len(page.find("section", "study")) == 3
    assert len(page.bars("study-1-scores")) == 12
    with key.open(encoding="utf-8", newline="") as f:
        assert {row["lab_id"]: row["code"] for row in csv.DictReader(f)} == pseudonyms(_round())


def test_cli_study_json_revealed(tmp_path: Path) -> None:
    results = _results_file(tmp_path, REF.records("pt_result"))
    out = tmp_path / "r.json"
    r = _run(
        "pt-report",
        results,
        "--study",
        "PT-2024-ETOH",
        "--out",
        out,
        "--format",
        "json",
        "--reveal-labs",
        "--json",
    )
    assert r.exit_code == 0, r.output
    printed = json.loads(r.output)
    assert printed["round_id"] == "CLEN-PT-2024-1"  # the study's round, for the header
    assert printed["pseudonymised"] is False
    assert printed["studies"][0]["counts"]["unsatisfactory"] == 1
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [s["study"]["study_id"] for s in data["studies"]] == ["PT-2024-ETOH"]
    assert {s["lab_id"] for s in data["studies"][0]["scores"]} == LABS


def test_cli_study_and_round_from_files(tmp_path: Path) -> None:
    a = _study("PT-X", assigned_value=10.0, sigma_pt=0.5, round_id="RX", item_id="A")
    b = _study("PT-Y", assigned_value=20.0, sigma_pt=0.5, round_id="RX", item_id="B")
    clen_core.write([a, b], tmp_path / "pt_study.json", entity="pt_study")
    rnd = PTRound(round_id="RX", title="Round X", provider="Provider X", report_issue="2")
    clen_core.write([rnd], tmp_path / "pt_round.csv", entity="pt_round")
    results = [PTResult(study_id="PT-X", lab_id=f"L{i}", value=10.0 + i / 2) for i in range(5)]
    results += [PTResult(study_id="PT-Y", lab_id=f"L{i}", value=20.0 - i / 4) for i in range(5)]
    results += REF.records("pt_result")  # rows of other studies are left out
    path = _results_file(tmp_path, results, "jsonl")
    out = tmp_path / "x.json"
    r = _run(
        "pt-report",
        path,
        "--study",
        "PT-X",
        "--studies",
        tmp_path / "pt_study.json",
        "--out",
        out,
        "-f",
        "json",
        "--reveal-labs",
    )
    assert r.exit_code == 0, r.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [s["z"] for s in data["studies"][0]["scores"]] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert data["studies"][0]["summary"]["assigned_value_source"] == "given"
    assert data["round"] is None  # RX is not in the embedded dataset's rounds
    out = tmp_path / "x.html"
    r = _run(
        "pt-report",
        path,
        "--study",
        "RX",
        "--studies",
        tmp_path / "pt_study.json",
        "--rounds",
        tmp_path / "pt_round.csv",
        "--out",
        out,
    )
    assert r.exit_code == 0, r.output
    page = Page(out.read_text(encoding="utf-8"))
    assert page.facts("report-header")["Provider"] == "Provider X"
    assert page.facts("report-header")["Report issue"] == "2"
    assert len(page.find("g", "point", "youden-1")) == 5


def test_cli_errors_exit_2_and_leave_the_report_untouched(tmp_path: Path) -> None:
    results = _results_file(tmp_path, REF.records("pt_result"))
    out, key = tmp_path / "report.html", tmp_path / "key.csv"
    out.write_text("old", encoding="utf-8")
    key.write_text("old key", encoding="utf-8")
    empty_secret = tmp_path / "secret"
    empty_secret.write_text("\n", encoding="utf-8")
    only_a = _results_file(
        tmp_path, [r for r in REF.records("pt_result") if r.study_id == "PT-2024-ETOH"], "json"
    )
    cases: list[tuple[list[Any], str]] = [
        ([results, "--study", "PT-NOPE"], "unknown study or round 'PT-NOPE'"),
        ([results, "--study", "PT-NOPE", "--studies", tmp_path / "none.csv"], "no such file"),
        ([results, "--study", "PT-2024-ETOH", "--rounds", tmp_path / "none.csv"], "no such file"),
        ([results, "--study", "PT-2024-ETOH", "--format", "pdf"], "pdf"),
        ([tmp_path / "missing.csv", "--study", "PT-2024-ETOH"], "no such file"),
        ([only_a, "--study", "CLEN-PT-2024-1"], "no result for study 'PT-2024-ETOH-B'"),
        ([results, "--study", "PT-2024-ETOH", "--secret-file", empty_secret], "is empty"),
    ]
    bad = tmp_path / "pt_result_bad.csv"
    bad.write_text("study_id,lab_id,value\nPT-2024-ETOH,L1,not-a-number\n", encoding="utf-8")
    cases.append(([bad, "--study", "PT-2024-ETOH"], "pt_result_bad.csv"))
    # A round with degenerate results and no σ_pt cannot be scored.
    degenerate = [
        PTResult(study_id="PT-2024-ETOH", lab_id=f"L{i}", value=40.0 + (i == 0) / 10)
        for i in range(8)
    ]
    dpath = tmp_path / "degenerate.json"
    clen_core.write(degenerate, dpath, entity="pt_result")
    cases.append(([dpath, "--study", "PT-2024-ETOH"], "degenerate"))
    for args, message in cases:
        r = _run("pt-report", *args, "--out", out, "--key", key)
        assert r.exit_code == 2, (args, r.output)
        assert message in r.output, (args, r.output)
        assert "Traceback" not in r.output
        if "--format" not in args:  # a usage error is the argument parser's message
            assert len(r.output.strip().splitlines()) == 1, r.output
    assert "degenerate.json" in r.output  # the file is named
    assert out.read_text(encoding="utf-8") == "old"
    assert key.read_text(encoding="utf-8") == "old key"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".clen-tmp")] == []


def test_cli_secret_file_changes_the_codes(tmp_path: Path) -> None:
    results = _results_file(tmp_path, REF.records("pt_result"))
    secret = tmp_path / "secret"
    secret.write_text("correct horse\n", encoding="utf-8")
    key = tmp_path / "key.json"
    r = _run(
        "pt-report",
        results,
        "--study",
        "CLEN-PT-2024-1",
        "--out",
        tmp_path / "r.html",
        "--key",
        key,
        "--secret-file",
        secret,
    )
    assert r.exit_code == 0, r.output
    assert json.loads(key.read_text("utf-8")) == pseudonyms(_round(), secret=b"correct horse")


# --------------------------------------------------------------------------- a real browser


def _chromium() -> str | None:
    explicit = os.environ.get("CLEN_CHROMIUM")
    if explicit:
        return explicit
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


CHROMIUM = _chromium()
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium to render the report: apt-get install chromium (or set CLEN_CHROMIUM)",
)


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture(scope="module")
def report_file(round_eval: RoundEvaluation, artifacts: Path) -> Path:
    return write_report(round_eval, artifacts / "pt-report-CLEN-PT-2024-1.html")


@needs_chromium
def test_chromium_renders_the_page(
    report_file: Path, artifacts: Path, codes: dict[str, str]
) -> None:
    assert CHROMIUM is not None
    profile = artifacts / "chromium-profile"
    common = [CHROMIUM, "--headless", *BROWSER_ARGS, f"--user-data-dir={profile}"]
    url = report_file.resolve().as_uri()
    dom = subprocess.run(
        [*common, "--dump-dom", url], capture_output=True, text=True, timeout=90, check=True
    ).stdout
    page = Page(dom)  # the DOM as the browser built it
    assert len(page.find("svg")) == 8
    assert len(page.bars("study-1-scores")) == 12
    assert {b.attrs["data-lab"] for b in page.bars("study-2-scores")} == set(codes.values())
    assert len(page.find("g", "point", "youden-1")) == 12
    shot = artifacts / "pt-report-chromium.png"
    shot.unlink(missing_ok=True)
    subprocess.run(
        [*common, "--hide-scrollbars", "--window-size=1280,1700", f"--screenshot={shot}", url],
        capture_output=True,
        timeout=90,
        check=True,
    )
    assert _png_size(shot) == (1280, 1700)
    assert shot.stat().st_size > 20_000  # a page with content, not a blank one
    shutil.rmtree(profile, ignore_errors=True)


@needs_chromium
def test_playwright_sees_every_chart_drawn_and_no_request(
    report_file: Path, artifacts: Path, codes: dict[str, str]
) -> None:
    sync_api = pytest.importorskip(
        "playwright.sync_api",
        reason="Playwright is not installed: pip install playwright (drives the system "
        "Chromium; never run `playwright install`)",
    )
    requests: list[str] = []
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(report_file.resolve().as_uri())
            charts = page.locator("svg.chart")
            assert charts.count() == 8
            for i in range(charts.count()):
                box = charts.nth(i).bounding_box()
                assert box is not None, i
                assert box["width"] > 400, i
                assert box["height"] > 150, i
            # No chart or table is wider than the page at 1280 px.
            overflow = page.evaluate(
                "[...document.querySelectorAll('figure.chart, .table-wrap')]"
                ".filter(e => e.scrollWidth > e.clientWidth + 1).length"
            )
            assert overflow == 0
            for sid in ("study-1", "study-2"):
                bars = page.locator(f"svg#{sid}-scores rect.bar")
                assert bars.count() == 12
                boxes = [bars.nth(i).bounding_box() for i in range(12)]
                assert all(b is not None and b["width"] > 10 and b["height"] >= 1 for b in boxes)
                xs = [b["x"] for b in boxes if b is not None]
                assert xs == sorted(xs)  # left to right, in the order of the scores
                fills = bars.evaluate_all("els => els.map(e => getComputedStyle(e).fill)")
                assert fills.count("rgb(213, 94, 0)") == 1  # the one unsatisfactory bar
                bins = page.locator(f"svg#{sid}-histogram rect.bin")
                heights = [bins.nth(i).bounding_box()["height"] for i in range(bins.count())]  # type: ignore[index]
                assert bins.count() >= 3
                assert all(h > 5 for h in heights)
                assert page.locator(f"svg#{sid}-xu g.result circle").count() == 12
                assert page.locator(f"table#{sid}-table tbody tr").count() == 12
            points = page.locator("svg#youden-1 g.point circle")
            assert points.count() == 12
            assert all(points.nth(i).bounding_box() for i in range(12))
            assert page.locator("svg#study-3-agreement rect.level-bar").count() == 4
            title = page.locator(
                f"svg#study-1-scores rect.bar[data-lab='{codes['IT-ROM']}'] title"
            ).text_content()
            assert title == f"{codes['IT-ROM']}: z′ = 6.90 (unsatisfactory)"
            page.screenshot(path=str(artifacts / "pt-report-playwright.png"), full_page=True)
            for name in (
                "study-1-histogram",
                "study-1-xu",
                "study-1-scores",
                "youden-1",
                "study-3-agreement",
            ):
                page.locator(f"svg#{name}").screenshot(path=str(artifacts / f"pt-{name}.png"))
        finally:
            browser.close()
    assert _png_size(artifacts / "pt-report-playwright.png")[0] == 1280
    assert requests == [report_file.resolve().as_uri()], "the page asked for something else"
    assert errors == []
