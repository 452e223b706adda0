"""The PT report: its page (parsed, and rendered by a real headless Chromium), JSON, and CLI.

The browser tests need Chromium from Debian's packages (``apt-get install chromium``)
and, for the second one, Playwright (``pip install playwright``, never
``playwright install``: it drives the system Chromium). Without them they skip,
saying why. Screenshots go to ``$CLEN_TEST_ARTIFACTS`` (default: pytest's tmp dir).
"""

from __future__ import annotations

import json
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
from clen_core.model.proficiency import PTPurpose, PTResult, PTStudy
from clen_core.proficiency import PTEvaluation, evaluate
from clen_core.proficiency.report import COLOURS, render_html, render_json, write_report

LABS = {r.lab_id for r in reference_dataset().records("pt_result")}
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# --------------------------------------------------------------------------- helpers


class Element:
    def __init__(self, tag: str, attrs: dict[str, str], parents: tuple[str, ...]) -> None:
        self.tag, self.attrs, self.parents = tag, attrs, parents
        self.text = ""

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())


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
        el = Element(tag, {k: v or "" for k, v in attrs}, tuple(e.tag for e in self.stack))
        self.elements.append(el)
        if tag not in self.VOID:
            self.stack.append(el)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(
            Element(tag, {k: v or "" for k, v in attrs}, tuple(e.tag for e in self.stack))
        )

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if self.stack:
            self.stack[-1].text += data

    def find(self, tag: str, cls: str | None = None) -> list[Element]:
        return [e for e in self.elements if e.tag == tag and (cls is None or cls in e.classes)]

    def bars(self) -> list[Element]:
        return [e for e in self.find("rect", "bar") if "svg" in e.parents]


@pytest.fixture(scope="module")
def evaluation() -> PTEvaluation:
    ds = reference_dataset()
    return evaluate(ds.get("pt_study", "PT-2024-ETOH"), ds.records("pt_result"))


@pytest.fixture(scope="module")
def page_text(evaluation: PTEvaluation) -> str:
    return render_html(evaluation)


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


# --------------------------------------------------------------------------- the page


def test_chart_has_one_bar_per_lab_sorted_coloured_and_titled(page_text: str) -> None:
    page = Page(page_text)
    bars = page.bars()
    assert len(bars) == 12
    assert {b.attrs["data-lab"] for b in bars} == LABS
    zs = [float(b.attrs["data-z"]) for b in bars]
    assert zs == sorted(zs)
    for b in bars:
        cls = b.attrs["data-class"]
        assert b.attrs["fill"] == {c.value: colour for c, colour in COLOURS.items()}[cls]
        assert float(b.attrs["height"]) > 0
        assert float(b.attrs["width"]) > 0
    outlier = next(b for b in bars if b.attrs["data-lab"] == "IT-ROM")
    assert outlier is bars[-1]
    assert outlier.attrs["data-class"] == "unsatisfactory"
    assert sum(b.attrs["data-class"] == "satisfactory" for b in bars) == 11
    # Every bar has a <title> naming its laboratory (tooltips, screen readers).
    titles = [e for e in page.find("title") if "rect" in e.parents]
    assert len(titles) == 12
    assert {t.text.split(":")[0] for t in titles} == LABS
    assert any("IT-ROM: z = 7.33 (unsatisfactory)" in t.text for t in titles)
    # Lines at ±2 and ±3; axis labels; the chart's accessible name.
    assert sorted(float(e.attrs["data-z"]) for e in page.find("line", "limit")) == [-3, -2, 2, 3]
    labels = {e.text for e in page.find("text", "axis-label")}
    assert labels == {"z-score", "Laboratory (sorted by z-score)"}
    (svg,) = page.find("svg")
    assert svg.attrs["role"] == "img"
    assert svg.attrs["aria-labelledby"] == "chart-title chart-desc"
    chart_title = next(e for e in page.find("title") if e.attrs.get("id") == "chart-title")
    assert "12 laboratories" in chart_title.text
    assert {e.text for e in page.find("text", "lab-label")} == LABS


def test_page_is_self_contained(page_text: str) -> None:
    page = Page(page_text)
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


def test_page_has_the_summary_and_one_table_row_per_lab(page_text: str) -> None:
    page = Page(page_text)
    rows = [e for e in page.find("tr") if "tbody" in e.parents]
    assert {r.attrs["data-lab"] for r in rows} == LABS
    assert len(rows) == 12
    cards = [e for e in page.find("div", "card") if "data-class" in e.attrs]
    assert {e.attrs["data-class"] for e in cards} == {
        "satisfactory",
        "questionable",
        "unsatisfactory",
    }
    terms, values = page.find("dt"), page.find("dd")
    facts = dict(zip([e.text for e in terms], [e.text for e in values], strict=True))
    assert facts["Participants p"] == "12"
    assert facts["Assigned value x_pt"] == "40.027 % vol (Algorithm A consensus)"
    assert facts["σ_pt"].startswith("0.0576776 % vol")
    assert facts["u(x_pt) < 0.3·σ_pt"].startswith("no")
    assert "7.33" in page_text
    assert "6.90" in page_text
    assert "7.81" in page_text


def test_text_is_escaped() -> None:
    study = PTStudy(
        study_id="PT-<b>",
        title='<script>alert("x")</script> & co',
        purpose=PTPurpose.PROFICIENCY,
        analyte="a<b",
        unit="mg/kg",
        sigma_pt=1.0,
        assigned_value=0.0,
    )
    results = [
        PTResult(study_id="PT-<b>", lab_id=lab, value=v)
        for lab, v in (("L<1>", 0.5), ('L"2', -2.5), ("L&3", 3.5))
    ]
    text = render_html(evaluate(study, results))
    assert "<script>" not in text
    assert "&lt;script&gt;" in text
    page = Page(text)
    assert {b.attrs["data-lab"] for b in page.bars()} == {"L<1>", 'L"2', "L&3"}
    assert [b.attrs["data-class"] for b in page.bars()] == [
        "questionable", "satisfactory", "unsatisfactory",
    ]  # fmt: skip


def test_many_labs_and_a_wild_outlier_still_one_bar_each() -> None:
    study = PTStudy(
        study_id="BIG", title="Big", purpose="proficiency", analyte="a", unit="u", sigma_pt=1.0
    )
    values = [float(i % 7) for i in range(59)] + [500.0]
    results = [PTResult(study_id="BIG", lab_id=f"L{i:02d}", value=v) for i, v in enumerate(values)]
    page = Page(render_html(evaluate(study, results)))
    assert len(page.bars()) == 60
    grid = page.find("line", "grid")  # one per y tick: −500 … 500 by 100
    assert len(grid) == 11


def test_json_report(evaluation: PTEvaluation, tmp_path: Path) -> None:
    data = json.loads(render_json(evaluation))
    assert set(data) == {"study", "summary", "scores"}
    assert len(data["scores"]) == 12
    assert {s["lab_id"] for s in data["scores"]} == LABS
    assert data["summary"]["p"] == 12
    assert data["summary"]["negligible"] is False
    # Each score is the pt_score entity's JSON form: it reads back as an object.
    for row in data["scores"]:
        clen_core.from_json(row, "pt_score")
    path = write_report(evaluation, tmp_path / "r.json", format="json")
    assert json.loads(path.read_text(encoding="utf-8")) == data
    with pytest.raises(ValueError, match="unknown report format"):
        write_report(evaluation, tmp_path / "r.txt", format="txt")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the command


def _run(*args: str | Path) -> Any:
    return CliRunner().invoke(app, [str(a) for a in args])


def test_cli_writes_html_and_json(tmp_path: Path) -> None:
    results = _results_file(tmp_path, reference_dataset().records("pt_result"), "parquet")
    out = tmp_path / "out" / "report.html"
    r = _run("pt-report", results, "--study", "PT-2024-ETOH", "--out", out)
    assert r.exit_code == 0, r.output
    assert "12 laboratories: 11 satisfactory, 0 questionable, 1 unsatisfactory" in r.output
    assert len(Page(out.read_text(encoding="utf-8")).bars()) == 12
    r = _run(
        "pt-report", results, "--study", "PT-2024-ETOH", "--out", tmp_path / "r.json",
        "--format", "json", "--json",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["counts"]["unsatisfactory"] == 1
    assert len(json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["scores"]) == 12


def test_cli_study_from_a_studies_file(tmp_path: Path) -> None:
    study = PTStudy(
        study_id="PT-X", title="X", purpose="proficiency", analyte="a", unit="u",
        assigned_value=10.0, sigma_pt=0.5,
    )  # fmt: skip
    clen_core.write([study], tmp_path / "pt_study.json", entity="pt_study")
    results = [PTResult(study_id="PT-X", lab_id=f"L{i}", value=10.0 + i / 2) for i in range(5)]
    # Rows of other studies in the same file are left out.
    results += reference_dataset().records("pt_result")
    path = _results_file(tmp_path, results, "jsonl")
    out = tmp_path / "x.json"
    r = _run("pt-report", path, "--study", "PT-X", "--studies", tmp_path / "pt_study.json",
             "--out", out, "-f", "json")  # fmt: skip
    assert r.exit_code == 0, r.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [s["z"] for s in data["scores"]] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert data["summary"]["assigned_value_source"] == "given"


def test_cli_errors_exit_2_and_leave_the_report_untouched(tmp_path: Path) -> None:
    results = _results_file(tmp_path, reference_dataset().records("pt_result"))
    out = tmp_path / "report.html"
    out.write_text("old", encoding="utf-8")
    cases = [
        (["--study", "PT-NOPE"], "unknown study 'PT-NOPE'"),
        (["--study", "PT-NOPE", "--studies", tmp_path / "none.csv"], "no such file"),
        (["--study", "PT-2024-ETOH", "--format", "pdf"], "pdf"),
    ]
    for extra, message in cases:
        r = _run("pt-report", results, "--out", out, *extra)
        assert r.exit_code == 2, r.output
        assert message in r.output
    r = _run("pt-report", tmp_path / "missing.csv", "--study", "PT-2024-ETOH", "--out", out)
    assert r.exit_code == 2
    assert "no such file" in r.output
    bad = tmp_path / "pt_result_bad.csv"
    bad.write_text("study_id,lab_id,value\nPT-2024-ETOH,L1,not-a-number\n", encoding="utf-8")
    r = _run("pt-report", bad, "--study", "PT-2024-ETOH", "--out", out)
    assert r.exit_code == 2, r.output
    # A round with degenerate results and no σ_pt cannot be scored.
    degenerate = [
        PTResult(study_id="PT-2024-ETOH", lab_id=f"L{i}", value=40.0 + (i == 0) / 10)
        for i in range(8)
    ]
    r = _run("pt-report", _results_file(tmp_path, degenerate, "json"), "--study",
             "PT-2024-ETOH", "--out", out)  # fmt: skip
    assert r.exit_code == 2
    assert "degenerate" in r.output
    assert out.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".report")] == []


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
def report_file(evaluation: PTEvaluation, artifacts: Path) -> Path:
    return write_report(evaluation, artifacts / "pt-report-PT-2024-ETOH.html")


@needs_chromium
def test_chromium_renders_the_page_with_one_bar_per_lab(report_file: Path, artifacts: Path) -> None:
    assert CHROMIUM is not None
    profile = artifacts / "chromium-profile"
    common = [CHROMIUM, "--headless", *BROWSER_ARGS, f"--user-data-dir={profile}"]
    url = report_file.resolve().as_uri()
    dom = subprocess.run(
        [*common, "--dump-dom", url], capture_output=True, text=True, timeout=90, check=True
    ).stdout
    page = Page(dom)  # the DOM as the browser built it
    assert len(page.bars()) == 12
    assert {b.attrs["data-lab"] for b in page.bars()} == LABS
    shot = artifacts / "pt-report-chromium.png"
    shot.unlink(missing_ok=True)
    subprocess.run(
        [*common, "--hide-scrollbars", "--window-size=1280,1700", f"--screenshot={shot}", url],
        capture_output=True, timeout=90, check=True,
    )  # fmt: skip
    assert _png_size(shot) == (1280, 1700)
    assert shot.stat().st_size > 20_000  # a page with a chart, not a blank one
    shutil.rmtree(profile, ignore_errors=True)


@needs_chromium
def test_playwright_sees_every_bar_drawn_and_no_request(report_file: Path, artifacts: Path) -> None:
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
            bars = page.locator("svg#z-chart rect.bar")
            assert bars.count() == 12
            boxes = [bars.nth(i).bounding_box() for i in range(12)]
            assert all(b is not None and b["width"] > 10 and b["height"] >= 1 for b in boxes)
            xs = [b["x"] for b in boxes if b is not None]
            assert xs == sorted(xs)  # left to right, in the order of z
            fills = bars.evaluate_all("els => els.map(e => getComputedStyle(e).fill)")
            assert fills.count("rgb(213, 94, 0)") == 1  # the one unsatisfactory bar, #D55E00
            assert page.locator("table#scores tbody tr").count() == 12
            title = page.locator("svg#z-chart rect.bar[data-lab='IT-ROM'] title").text_content()
            assert title == "IT-ROM: z = 7.33 (unsatisfactory)"
            shot = artifacts / "pt-report-playwright.png"
            page.screenshot(path=str(shot), full_page=True)
            page.locator("svg#z-chart").screenshot(path=str(artifacts / "pt-chart.png"))
        finally:
            browser.close()
    assert _png_size(shot)[0] == 1280
    assert requests == [report_file.resolve().as_uri()], "the page asked for something else"
    assert errors == []
