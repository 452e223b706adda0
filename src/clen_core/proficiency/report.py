"""The proficiency-testing report: one self-contained HTML page, or JSON for programs.

:func:`render_html` turns a :class:`~clen_core.proficiency.PTEvaluation` into a
page that needs nothing but a browser: inline CSS, the chart as inline SVG,
no script, no web font, no external address (a Content-Security-Policy says
so to the browser too). The page has the study summary, the usual chart (every
laboratory's z-score as a bar, sorted, lines at ±2 and ±3, bars coloured by
class, each bar with a ``<title>`` that a screen reader or a tooltip shows)
and the table of laboratories and scores. :func:`render_json` gives the same
content as JSON. :func:`write_report` writes either atomically, and
:func:`report_from_files` is what ``clen pt-report`` does.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from clen_core.errors import ArgumentError, UnknownStudyError
from clen_core.model.dataset import Dataset
from clen_core.model.proficiency import PTResult, PTStudy, ScoreClass
from clen_core.proficiency.evaluation import PTEvaluation, evaluate

__all__ = [
    "ReportFormat",
    "UnknownStudyError",
    "load_study",
    "render_html",
    "render_json",
    "report_from_files",
    "write_report",
]

ReportFormat = Literal["html", "json"]

# Okabe–Ito colours: told apart with every common colour-vision deficiency.
COLOURS = {
    ScoreClass.SATISFACTORY: "#009E73",
    ScoreClass.QUESTIONABLE: "#E69F00",
    ScoreClass.UNSATISFACTORY: "#D55E00",
}
_LINE_2 = "#B07800"
_LINE_3 = "#B83F00"
_MINUS = "\u2212"


# --------------------------------------------------------------------------- formatting


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _num(v: float | None, digits: int = 6) -> str:
    """A number for people: ``digits`` significant figures, a real minus sign."""
    if v is None:
        return "—"
    text = f"{v:.{digits}g}"
    return text.replace("-", _MINUS) if not text.startswith("-") else _MINUS + text[1:]


def _score(v: float | None) -> str:
    if v is None:
        return "—"
    text = f"{v:.2f}"
    if text in ("-0.00", "0.00"):
        return "0.00"
    return _MINUS + text[1:] if text.startswith("-") else text


_SOURCES = {
    "given": "given by the study",
    "algorithm_a": "Algorithm A consensus",
    "assumed_zero": "not given: taken as 0",
}


# --------------------------------------------------------------------------- the chart


_MIN_PITCH = 16.0
"""Narrowest room per bar, in px."""
_LABEL_CHARS = 16
"""Longer laboratory IDs are shortened under the chart (their bar's title has them whole)."""


def _short(lab_id: str) -> str:
    return lab_id if len(lab_id) <= _LABEL_CHARS else lab_id[: _LABEL_CHARS - 1] + "…"


def _step(limit: float) -> int:
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000):
        if limit / step <= 8:
            return step
    return int(10 ** max(3, math.ceil(math.log10(limit)) - 1))


def chart_svg(evaluation: PTEvaluation) -> str:
    """The z-score bar chart as an inline SVG element (sorted bars, lines at ±2 and ±3)."""
    scores = sorted(evaluation.scores, key=lambda s: (s.z, s.lab_id))
    n = len(scores)
    biggest = max((abs(s.z) for s in scores), default=0.0)
    limit = max(4.0, math.ceil(biggest + 0.5))
    step = _step(limit)
    limit = math.ceil(limit / step) * step
    # Bars share about 1000 px, between 16 px (labels still readable) and 54 px each.
    pitch = max(_MIN_PITCH, min(54.0, 1000 / max(n, 1)))
    bar_w = round(pitch * 0.74, 1)
    gap = round(pitch - bar_w, 1)
    angle = 45 if pitch >= 30 else 65
    labels = [_short(s.lab_id) for s in scores]
    longest = max((len(t) for t in labels), default=0)
    left, right, top = 70, 44, 20
    bottom = 48 + math.ceil(7 * longest * math.sin(math.radians(angle)))
    plot_w = max(640, math.ceil(n * pitch + gap))
    plot_h = 360
    width, height = left + plot_w + right, top + plot_h + bottom

    def y(z: float) -> float:
        return top + (limit - z) / (2 * limit) * plot_h

    unit = evaluation.summary.unit
    out = [
        '<svg id="z-chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        # Shrunk to the page while the text stays legible, scrolled beyond.
        f'style="min-width:{width if pitch <= _MIN_PITCH else min(width, 640)}px" '
        'aria-labelledby="chart-title chart-desc">',
        f'<title id="chart-title">z-scores of {n} laboratories in study '
        f"{_e(evaluation.study.study_id)}</title>",
        f'<desc id="chart-desc">One bar per laboratory, sorted by z-score; dashed lines at '
        f"z = ±2 and solid lines at z = ±3. Assigned value "
        f"{_e(_num(evaluation.summary.assigned_value))} {_e(unit)}, "
        f"σ_pt {_e(_num(evaluation.summary.sigma_pt))} {_e(unit)}.</desc>",
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" class="plot-area"/>',
    ]
    # Grid and y-axis ticks.
    out.append('<g class="y-axis">')
    tick = -limit
    while tick <= limit:
        ty = y(tick)
        out.append(
            f'<line x1="{left - 5}" y1="{ty:.1f}" x2="{left + plot_w}" y2="{ty:.1f}" '
            f'class="grid"/><text x="{left - 8}" y="{ty + 4:.1f}" text-anchor="end">'
            f"{_e(_num(tick))}</text>"
        )
        tick += step
    out.append(
        f'<text class="axis-label" transform="translate({left - 48},{top + plot_h / 2:.1f}) '
        'rotate(-90)" text-anchor="middle">z-score</text></g>'
    )
    # Reference lines.
    out.append('<g class="limits">')
    for z, colour, dash, label in (
        (3, _LINE_3, "", "+3"), (2, _LINE_2, ' stroke-dasharray="6 4"', "+2"),
        (-2, _LINE_2, ' stroke-dasharray="6 4"', f"{_MINUS}2"), (-3, _LINE_3, "", f"{_MINUS}3"),
    ):  # fmt: skip
        ly = y(z)
        out.append(
            f'<line class="limit" data-z="{z}" x1="{left}" y1="{ly:.1f}" x2="{left + plot_w}" '
            f'y2="{ly:.1f}" stroke="{colour}" stroke-width="2"{dash}/>'
            f'<text x="{left + plot_w + 6}" y="{ly + 4:.1f}" fill="{colour}">{label}</text>'
        )
    out.append(
        f'<line class="zero" x1="{left}" y1="{y(0):.1f}" x2="{left + plot_w}" y2="{y(0):.1f}"/>'
    )
    out.append("</g>")
    # Bars, their values and the laboratories' labels.
    out.append('<g class="bars">')
    x0 = left + (plot_w - n * pitch + gap) / 2
    for i, s in enumerate(scores):
        bx = x0 + i * pitch
        top_y, base_y = sorted((y(s.z), y(0)))
        h = max(base_y - top_y, 1.0)
        label = f"{s.lab_id}: z = {_score(s.z)} ({s.classification.value})"
        out.append(
            f'<rect class="bar {s.classification.value}" data-lab="{_e(s.lab_id)}" '
            f'data-z="{s.z!r}" data-class="{s.classification.value}" x="{bx:.1f}" '
            f'y="{top_y:.1f}" width="{bar_w}" height="{h:.1f}" '
            f'fill="{COLOURS[s.classification]}"><title>{_e(label)}</title></rect>'
        )
        if pitch >= 40:  # room for the value above (below) each bar
            vy = top_y - 5 if s.z >= 0 else top_y + h + 14
            out.append(
                f'<text class="bar-value" x="{bx + bar_w / 2:.1f}" y="{vy:.1f}" '
                f'text-anchor="middle" aria-hidden="true">{_e(_score(s.z))}</text>'
            )
        lx, ly = bx + bar_w / 2, top + plot_h + 14
        out.append(
            f'<text class="lab-label" x="{lx:.1f}" y="{ly:.1f}" text-anchor="end" '
            f'transform="rotate(-{angle} {lx:.1f} {ly:.1f})">{_e(labels[i])}</text>'
        )
    out.append("</g>")
    out.append(
        f'<text class="axis-label" x="{left + plot_w / 2:.1f}" y="{height - 8}" '
        'text-anchor="middle">Laboratory (sorted by z-score)</text>'
    )
    out.append("</svg>")
    return "\n".join(out)


# --------------------------------------------------------------------------- the page

_CSS = """
:root { color-scheme: light; --ink: #1b1f24; --muted: #57606a; --line: #d0d7de; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue",
       Arial, sans-serif; color: var(--ink); background: #fff; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h2 { font-size: 1.2rem; margin: 32px 0 12px; border-bottom: 1px solid var(--line);
     padding-bottom: 4px; }
.subtitle { color: var(--muted); margin: 0 0 16px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; min-width: 150px; }
.card .k { color: var(--muted); font-size: .82rem; }
.card .v { font-size: 1.35rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.card.satisfactory { border-left: 6px solid #009E73; }
.card.questionable { border-left: 6px solid #E69F00; }
.card.unsatisfactory { border-left: 6px solid #D55E00; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; font-variant-numeric: tabular-nums; }
.note { background: #fff8e6; border-left: 4px solid #E69F00; padding: 8px 12px; margin: 12px 0; }
.chart { overflow-x: auto; }
figure.chart { margin: 0; }
figure.chart svg { max-width: 100%; height: auto; }
svg { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
svg .plot-area { fill: #fafbfc; stroke: var(--line); }
svg .grid { stroke: #e4e8ec; }
svg .zero { stroke: #1b1f24; stroke-width: 1.5; }
svg .axis-label { font-size: 13px; font-weight: 600; fill: #1b1f24; }
svg .bar { stroke: #1b1f24; stroke-width: .6; }
svg .bar-value { font-size: 11px; fill: #1b1f24; }
svg .lab-label { font-size: 12px; fill: #1b1f24; }
.legend { display: flex; gap: 18px; flex-wrap: wrap; margin: 8px 0 0; color: var(--muted); }
.swatch { display: inline-block; width: 14px; height: 14px; border: 1px solid #1b1f24;
          vertical-align: -2px; margin-right: 6px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: right; }
th { background: #f6f8fa; font-weight: 600; }
th[scope="row"] { background: transparent; }
th:first-child, td:first-child, td.class, th.class { text-align: left; }
.badge { display: inline-block; border-radius: 10px; padding: 0 8px; font-size: .85rem;
         color: #fff; font-weight: 600; }
.badge.satisfactory { background: #00785A; }
.badge.questionable { background: #8A5F00; }
.badge.unsatisfactory { background: #B03E00; }
.signal { font-weight: 700; color: #B03E00; }
footer { margin-top: 32px; color: var(--muted); font-size: .85rem; }
@media print { main { padding: 0; } .chart { overflow: visible; } }
"""


def _facts(evaluation: PTEvaluation) -> str:
    st, sm = evaluation.study, evaluation.summary
    unit = f" {sm.unit}"
    rows: list[tuple[str, str]] = [
        ("Study", st.study_id),
        ("Purpose", st.purpose.value.replace("_", " ")),
        ("Analyte", st.analyte),
    ]
    if st.matrix:
        rows.append(("Matrix", st.matrix))
    rows.append(("Unit", st.unit))
    if st.closing_date:
        rows.append(("Closing date", st.closing_date.isoformat()))
    if st.coordinator_lab:
        rows.append(("Coordinator", st.coordinator_lab))
    x_pt = f"{_num(sm.assigned_value)}{unit} ({_SOURCES[sm.assigned_value_source]})"
    rows += [("Participants p", str(sm.p)), ("Assigned value x_pt", x_pt)]
    r = sm.robust
    if r is not None:
        if r.degenerate:
            rows.append(("Algorithm A", "degenerate data: s* collapses to 0"))
        else:
            rows.append(
                (
                    "Algorithm A",
                    f"x* = {_num(r.location)}{unit}, s* = {_num(r.scale)}{unit}; "
                    f"{r.iterations} iteration(s), "
                    + ("converged" if r.converged else "did not converge"),
                )
            )
    sigma_source = "given by the study" if sm.sigma_pt_source == "given" else "Algorithm A's s*"
    rows += [
        ("σ_pt", f"{_num(sm.sigma_pt)}{unit} ({sigma_source})"),
        (
            "u(x_pt)",
            f"{_num(sm.u_assigned_value)}{unit} ({_SOURCES[sm.u_assigned_value_source]}"
            + ("; 1.25·s*/√p" if sm.u_assigned_value_source == "algorithm_a" else "")
            + ")",
        ),
        (
            "u(x_pt) < 0.3·σ_pt",
            "yes: negligible" if sm.negligible else "no: not negligible, read z′",
        ),
        ("Coverage factor k (Eₙ)", _num(sm.coverage_factor)),
    ]
    items = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in rows)
    return f'<dl class="facts">{items}</dl>'


def _cards(evaluation: PTEvaluation) -> str:
    sm = evaluation.summary
    cards = [
        f'<div class="card"><div class="k">Laboratories</div><div class="v">{sm.p}</div></div>'
    ]
    for c in ScoreClass:
        cards.append(
            f'<div class="card {c.value}" data-class="{c.value}">'
            f'<div class="k">{c.value.capitalize()}</div><div class="v">{sm.counts[c]}</div></div>'
        )
    cards.append(
        '<div class="card"><div class="k">Action signals (|Eₙ| ≥ 1)</div>'
        f'<div class="v">{sm.action_signals}</div></div>'
    )
    return '<div class="cards">' + "".join(cards) + "</div>"


def _table(evaluation: PTEvaluation) -> str:
    unit = _e(evaluation.summary.unit)
    head = (
        f'<tr><th scope="col">Laboratory</th><th scope="col">x ({unit})</th>'
        f'<th scope="col">u(x) ({unit})</th><th scope="col">z</th><th scope="col">z′</th>'
        '<th scope="col">ζ</th><th scope="col">Eₙ</th><th scope="col" class="class">Class (z)</th>'
        '<th scope="col">Action signal</th></tr>'
    )
    rows = []
    for s in sorted(evaluation.scores, key=lambda s: s.lab_id):
        signal = '<span class="signal">yes</span>' if s.action_signal else "no"
        rows.append(
            f'<tr data-lab="{_e(s.lab_id)}"><th scope="row">{_e(s.lab_id)}</th>'
            f"<td>{_e(_num(s.value))}</td><td>{_e(_num(s.uncertainty))}</td>"
            f"<td>{_e(_score(s.z))}</td><td>{_e(_score(s.z_prime))}</td>"
            f"<td>{_e(_score(s.zeta))}</td><td>{_e(_score(s.en))}</td>"
            f'<td class="class"><span class="badge {s.classification.value}">'
            f"{s.classification.value}</span></td><td>{signal}</td></tr>"
        )
    return (
        '<table id="scores"><caption class="subtitle" style="text-align:left">'
        "Scores per laboratory (sorted by laboratory)</caption>"
        f"<thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"
    )


def render_html(evaluation: PTEvaluation) -> str:
    """The report as one self-contained HTML page."""
    from clen_core._version import __version__

    st, sm = evaluation.study, evaluation.summary
    legend = "".join(
        f'<span><span class="swatch" style="background:{COLOURS[c]}"></span>'
        f"{c.value} ({label})</span>"
        for c, label in (
            (ScoreClass.SATISFACTORY, "|z| ≤ 2"),
            (ScoreClass.QUESTIONABLE, "2 < |z| < 3"),
            (ScoreClass.UNSATISFACTORY, "|z| ≥ 3"),
        )
    )
    note = ""
    if not sm.negligible:
        note = (
            '<p class="note">u(x_pt) is not negligible against σ_pt (it is not below '
            "0.3·σ_pt): ISO 13528 recommends reading the z′-scores, which take it into "
            "account. The classes and the chart use z.</p>"
        )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>PT report {_e(st.study_id)}: {_e(st.title)}</title>
<style>{_CSS}</style>
</head>
<body>
<main>
<header>
<h1>Proficiency test {_e(st.study_id)}</h1>
<p class="subtitle">{_e(st.title)} — {_e(st.analyte)} in {_e(st.unit)}</p>
</header>
<section aria-labelledby="h-summary">
<h2 id="h-summary">Summary</h2>
{_cards(evaluation)}
{_facts(evaluation)}
{note}
</section>
<section aria-labelledby="h-chart">
<h2 id="h-chart">z-scores</h2>
<figure class="chart">
{chart_svg(evaluation)}
<figcaption class="legend">{legend}</figcaption>
</figure>
</section>
<section aria-labelledby="h-table">
<h2 id="h-table">Laboratories and scores</h2>
{_table(evaluation)}
</section>
<footer>
<p>Scores (ISO 13528): z = (x − x_pt)/σ_pt; z′ = (x − x_pt)/√(σ_pt² + u²(x_pt));
ζ = (x − x_pt)/√(u²(x) + u²(x_pt)); Eₙ = (x − x_pt)/√(U²(x) + U²(x_pt)) with U = k·u.
|z| ≤ 2 satisfactory, 2 &lt; |z| &lt; 3 questionable, |z| ≥ 3 unsatisfactory; |Eₙ| ≥ 1 is an
action signal. ζ and Eₙ need the laboratory's u(x) (— when not reported).</p>
<p>Made by clen_core {_e(__version__)}.</p>
</footer>
</main>
</body>
</html>
"""


def render_json(evaluation: PTEvaluation) -> str:
    """The report as JSON: ``study``, ``summary`` and ``scores``."""
    return json.dumps(evaluation.to_dict(), indent=2, ensure_ascii=False) + "\n"


def write_report(
    evaluation: PTEvaluation,
    path: str | Path,
    *,
    format: ReportFormat = "html",
) -> Path:
    """Write the report atomically (the old file stays whole if anything fails)."""
    from clen_core.io.atomic import atomic_file

    if format == "html":
        text = render_html(evaluation)
    elif format == "json":
        text = render_json(evaluation)
    else:
        raise ArgumentError(f"unknown report format {format!r}: html or json")
    target = Path(path)
    with atomic_file(target) as sink:
        sink.write(text.encode("utf-8"))
    return target


# --------------------------------------------------------------------------- from files


def load_study(study_id: str, studies: str | Path | Dataset) -> PTStudy:
    """The study ``study_id`` from a ``pt_study`` file or from a dataset in memory
    (``clen pt-report`` gives the embedded reference dataset when no file is named)."""
    from clen_core.io.readwrite import read

    if not isinstance(studies, Dataset):
        with read(studies, entity="pt_study") as reader:
            for st in reader:
                if st.study_id == study_id:
                    return st  # type: ignore[no-any-return]
        raise UnknownStudyError(f"{studies}: no study {study_id!r}")
    known = studies["pt_study"]
    if study_id in known:
        return known[study_id]  # type: ignore[no-any-return]
    raise UnknownStudyError(
        f"unknown study {study_id!r}: give its pt_study file with --studies "
        f"(the embedded reference dataset has {', '.join(sorted(known)) or 'none'})"
    )


def _results(path: str | Path, study_id: str) -> list[PTResult]:
    from clen_core.io.readwrite import read

    with read(path, entity="pt_result") as reader:
        rows: Iterable[PTResult] = list(reader)
    mine = [r for r in rows if r.study_id == study_id]
    if not mine:
        raise UnknownStudyError(f"{path}: no result for study {study_id!r}")
    return mine


def report_from_files(
    results: str | Path,
    study_id: str,
    out: str | Path,
    *,
    studies: str | Path | Dataset,
    format: ReportFormat = "html",
) -> PTEvaluation:
    """Read the study and its results, evaluate the round, write the report; what
    ``clen pt-report`` does."""
    study = load_study(study_id, studies)
    rs = _results(results, study_id)
    evaluation = evaluate(study, rs)
    write_report(evaluation, out, format=format)
    return evaluation
