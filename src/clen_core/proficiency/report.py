"""The provider's report of a proficiency-testing round (ISO 13528:2022, Clause 10).

:func:`render_html` turns a :class:`~clen_core.proficiency.RoundEvaluation`
(or one :class:`~clen_core.proficiency.PTEvaluation` or
:class:`~clen_core.proficiency.QualitativeEvaluation`, reported as a round of
one study) into one page that needs nothing but a browser: inline CSS, the
charts as inline SVG, no script, no web font, no external address (a
Content-Security-Policy says so to the browser too). The page has:

- a header: the round, its provider and coordinator, the closing and report
  dates, the report's issue, and the clen_core version;
- per quantitative study (one measurand of one test item): how x_pt, u(x_pt)
  and σ_pt were obtained, the counts (classes, not classified, censored,
  not returned, action signals), the homogeneity and stability data, and
  four graphics: a histogram of the results with a kernel density over it
  (bandwidth h = 0.9·s*·p^−1/5, 10.3) and x_pt, x_pt ± 2σ_pt and
  x_pt ± 3σ_pt marked; every laboratory's x ± U, sorted, with the band
  x_pt ± U(x_pt); the sorted bars of the score the classes are read from
  (z or z′) with lines at ±2 and ±3; and the table of laboratories;
- a Youden plot for each pair of quantitative studies of the same measurand
  on two test items (Clause 10);
- per qualitative study, the agreement summary (Clause 11);
- the laboratories' combined scores (RSZ, SSZ; 9.8), with the standard's
  caution;
- a footer with the formulas and the classification limits.

Laboratories are **pseudonymised** by default: each gets a code (``Lab 07``)
in an order set by a hash of the round and the laboratory, the same code in
every study of the report; :func:`pseudonyms` gives the key the provider
sends each laboratory (its own code), and ``reveal=True`` shows the real
identifiers. :func:`render_json` gives the same content as JSON,
pseudonymised the same way. :func:`write_report` writes either atomically,
and :func:`report_from_files` is what ``clen pt-report`` does.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import html
import io
import json
import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

from clen_core.errors import (
    ArgumentError,
    FormatError,
    RejectedRowsError,
    StatisticsError,
    UnknownStudyError,
)
from clen_core.model.dataset import Dataset
from clen_core.model.proficiency import (
    PTResult,
    PTRound,
    PTScore,
    PTStudy,
    ScoreClass,
    ScoreName,
)
from clen_core.proficiency.evaluation import (
    PTEvaluation,
    QualitativeEvaluation,
    RoundEvaluation,
    evaluate_round,
)
from clen_core.proficiency.qualitative import (
    AgreementLevel,
    ClassificationRound,
    IdentificationRound,
    NominalRound,
    OrdinalRound,
)

__all__ = [
    "COLOURS",
    "ReportFormat",
    "Reportable",
    "UnknownStudyError",
    "as_round",
    "histogram",
    "kernel_density",
    "load_round",
    "load_study",
    "pseudonyms",
    "render_html",
    "render_json",
    "report_data",
    "report_from_files",
    "write_key",
    "write_report",
    "youden_pairs",
]

ReportFormat = Literal["html", "json"]
Reportable = RoundEvaluation | PTEvaluation | QualitativeEvaluation
"""What the report accepts: a round, or one study's evaluation (a round of one)."""
Secret = str | bytes | None

# Okabe–Ito colours: told apart with every common colour-vision deficiency.
COLOURS = {
    ScoreClass.SATISFACTORY: "#009E73",
    ScoreClass.QUESTIONABLE: "#E69F00",
    ScoreClass.UNSATISFACTORY: "#D55E00",
}
_UNCLASSED = "#999999"
_BLUE = "#0072B2"
_SKY = "#56B4E9"
_LINE_2 = "#B07800"
_LINE_3 = "#B83F00"
_MINUS = "\u2212"
_K_PT = 2.0
"""Coverage factor of U(x_pt) = k·u(x_pt), as :func:`~clen_core.proficiency.evaluate` uses."""
_CAUTION = (
    "Combined scores can hide one poor result among good ones, or flag a laboratory for "
    "small consistent biases: ISO 13528:2022 (9.8) advises reading them alongside the "
    "individual scores, never instead of them."
)


# --------------------------------------------------------------------------- formatting


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _minus(text: str) -> str:
    return _MINUS + text[1:] if text.startswith("-") else text


def _num(v: float | None, digits: int = 6) -> str:
    """A number for people: ``digits`` significant figures, a real minus sign."""
    if v is None:
        return "—"
    return _minus(f"{v:.{digits}g}").replace("e-", f"e{_MINUS}")


def _fixed(v: float | None, decimals: int) -> str:
    """``decimals`` decimals, a real minus sign, no negative zero."""
    if v is None:
        return "—"
    text = f"{v:.{decimals}f}"
    if float(text) == 0:
        text = text.lstrip("-")
    return _minus(text)


def _score(v: float | None) -> str:
    return _fixed(v, 2)


def _decimals(sigma: float) -> int:
    """Decimals that resolve a tenth of σ_pt (D and the axes of a study)."""
    return max(0, 1 - math.floor(math.log10(sigma)))


def _read_name(name: ScoreName) -> str:
    return "z" if name is ScoreName.Z else "z′"


def _read(score: PTScore) -> float | None:
    """The score a laboratory's class is read from: z or z′."""
    return score.z if score.classified_by is ScoreName.Z else score.z_prime


def _value_text(score: PTScore, unit: str = "") -> str:
    prefix = "" if score.censoring is None else f"{score.censoring.value} "
    suffix = f" {unit}" if unit and score.value is not None else ""
    return f"{prefix}{_num(score.value, 7)}{suffix}"


def _code(digits: str) -> str:
    """A tariff code as printed: ``2208 90 69``."""
    return " ".join([digits[:4], *(digits[i : i + 2] for i in range(4, len(digits), 2))])


def _yes(flag: bool | None) -> str:
    return "—" if flag is None else "yes" if flag else "no"


# --------------------------------------------------------------------------- the round


def as_round(evaluation: Reportable) -> RoundEvaluation:
    """``evaluation`` as a round: a single study's evaluation becomes a round of one."""
    if isinstance(evaluation, RoundEvaluation):
        return evaluation
    if isinstance(evaluation, PTEvaluation | QualitativeEvaluation):
        return RoundEvaluation(None, (evaluation,), ())
    raise ArgumentError(
        "the report needs a RoundEvaluation, PTEvaluation or QualitativeEvaluation, "
        f"got {type(evaluation).__name__}"
    )


def _round_id(ev: RoundEvaluation) -> str:
    if ev.pt_round is not None:
        return ev.pt_round.round_id
    ids = {s.study.round_id for s in ev.studies}
    if len(ids) == 1 and None not in ids:
        return str(next(iter(ids)))
    return " + ".join(s.study.study_id for s in ev.studies)


def _study_labs(e: PTEvaluation | QualitativeEvaluation) -> list[str]:
    if isinstance(e, PTEvaluation):
        return [s.lab_id for s in e.scores]
    return [s.laboratory for s in e.outcome.scores] + list(e.not_returned)


def _laboratories(ev: RoundEvaluation) -> list[str]:
    seen: dict[str, None] = {}
    for e in ev.studies:
        for lab in _study_labs(e):
            seen.setdefault(lab, None)
    for c in ev.combined:
        seen.setdefault(c.lab_id, None)
    return list(seen)


def pseudonyms(evaluation: Reportable, *, secret: Secret = None) -> dict[str, str]:
    """The key of the pseudonymised report: laboratory ID → code (``Lab 07``), by code.

    Every laboratory of the round gets one code, the same in all its studies.
    The codes are numbered in the order of SHA-256(round ID, laboratory ID),
    not in the order of the IDs, so a code says nothing about who it stands
    for; the same round and laboratories always give the same codes. Without
    ``secret`` anyone who knows the round ID and the laboratories' IDs can
    recompute that order; with it (HMAC-SHA-256 keyed by ``secret``) only who
    holds the secret can. The provider sends each laboratory its own code.
    """
    ev = as_round(evaluation)
    rid = _round_id(ev)
    key = secret.encode("utf-8") if isinstance(secret, str) else secret

    def digest(lab: str) -> str:
        message = f"{rid}\x00{lab}".encode()
        if key is None:
            return hashlib.sha256(message).hexdigest()
        return hmac.new(key, message, hashlib.sha256).hexdigest()

    labs = sorted(_laboratories(ev), key=lambda lab: (digest(lab), lab))
    width = max(2, len(str(len(labs))))
    return {lab: f"Lab {i:0{width}d}" for i, lab in enumerate(labs, start=1)}


class _Names:
    """How the report names a laboratory: its code, or its ID when revealed."""

    def __init__(self, ev: RoundEvaluation, *, reveal: bool, secret: Secret) -> None:
        self.reveal = reveal
        self.codes = {} if reveal else pseudonyms(ev, secret=secret)

    def __call__(self, lab: str) -> str:
        return lab if self.reveal else self.codes[lab]

    def sort(self, labs: Iterable[str]) -> list[str]:
        """The laboratories (IDs) in the order of their names."""
        return sorted(labs, key=self)

    def shown(self, labs: Iterable[str]) -> list[str]:
        """The laboratories' names, sorted."""
        return sorted(map(self, labs))


def youden_pairs(evaluation: Reportable) -> list[tuple[PTEvaluation, PTEvaluation]]:
    """Pairs of quantitative studies of the round that make a Youden plot (Clause 10).

    Two studies pair when they score the same analyte, in the same unit, on two
    different test items (both with an ``item_id``); in the order of the round.
    """
    quant = [e for e in as_round(evaluation).studies if isinstance(e, PTEvaluation)]
    pairs = []
    for i, a in enumerate(quant):
        for b in quant[i + 1 :]:
            sa, sb = a.study, b.study
            if (
                sa.analyte == sb.analyte
                and sa.unit == sb.unit
                and sa.item_id is not None
                and sb.item_id is not None
                and sa.item_id != sb.item_id
            ):
                pairs.append((a, b))
    return pairs


def _youden_points(
    a: PTEvaluation, b: PTEvaluation
) -> tuple[list[tuple[str, float, float]], list[str]]:
    """``(lab, score on a, score on b)`` for labs with both scores; the labs with only one."""
    sa = {s.lab_id: _read(s) for s in a.scores}
    sb = {s.lab_id: _read(s) for s in b.scores}
    points, alone = [], []
    for lab in dict.fromkeys([*sa, *sb]):
        x, y = sa.get(lab), sb.get(lab)
        if x is not None and y is not None:
            points.append((lab, x, y))
        else:
            alone.append(lab)
    return points, alone


# --------------------------------------------------------------------------- statistics


def _plotted(e: PTEvaluation) -> list[float]:
    """The values in the robust statistics: numeric, not censored (there are ``summary.p``)."""
    return [s.value for s in e.scores if s.value is not None and s.censoring is None]


def histogram(
    values: Sequence[float], x_pt: float, sigma_pt: float, *, max_bins: int = 40
) -> tuple[float, list[tuple[float, float, int]]]:
    """Bin width and bins ``(low, high, count)`` of a histogram centred on x_pt.

    Bins are σ_pt/2 wide (a whole multiple of it when the results spread over more
    than ``max_bins`` such bins), with edges at x_pt + k·width, so that x_pt ± 2σ_pt
    and x_pt ± 3σ_pt fall on edges (at σ_pt/2); they span the results and
    x_pt ± 3σ_pt, with an empty bin to spare on each side (``max_bins`` + 2 at most). A bin
    holds the values ≥ its low edge and < its high edge; the counts add up to
    ``len(values)``.
    """
    lo = min([*values, x_pt - 3 * sigma_pt])
    hi = max([*values, x_pt + 3 * sigma_pt])
    width = sigma_pt / 2
    if (hi - lo) / width > max_bins - 1:  # one bin more may come from aligning on x_pt
        width *= math.ceil((hi - lo) / ((max_bins - 1) * width))
    # One empty bin more on each side, so that nothing sits on the frame.
    k_lo = math.floor((lo - x_pt) / width + 1e-9) - 1
    k_hi = max(k_lo + 1, math.ceil((hi - x_pt) / width - 1e-9)) + 1
    counts = [0] * (k_hi - k_lo)
    for v in values:
        i = math.floor((v - x_pt) / width + 1e-9) - k_lo
        counts[min(max(i, 0), len(counts) - 1)] += 1
    bins = [
        (x_pt + (k_lo + i) * width, x_pt + (k_lo + i + 1) * width, n) for i, n in enumerate(counts)
    ]
    return width, bins


def kernel_density(values: Sequence[float], bandwidth: float) -> Callable[[float], float]:
    """The Gaussian kernel density of ``values`` with bandwidth h (ISO 13528:2022, 10.3)."""
    if not values or bandwidth <= 0:
        raise StatisticsError("a kernel density needs values and a bandwidth > 0")
    c = 1 / (len(values) * bandwidth * math.sqrt(2 * math.pi))

    def f(x: float) -> float:
        return c * math.fsum(math.exp(-0.5 * ((x - v) / bandwidth) ** 2) for v in values)

    return f


def _bandwidth(e: PTEvaluation, p: int) -> tuple[float, str]:
    """h = 0.9·s*·p^−1/5 (Silverman's rule with the robust s*), σ_pt when s* is not usable."""
    r = e.summary.robust
    if r is not None and r.converged and not r.degenerate and r.scale > 0:
        return 0.9 * r.scale * p**-0.2, "s*"
    return 0.9 * e.summary.sigma_pt * p**-0.2, "σ_pt"


# --------------------------------------------------------------------------- SVG helpers


def _nice_step(span: float, target: int) -> float:
    raw = span / max(target, 1)
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        if raw <= m * mag * (1 + 1e-9):
            return float(m * mag)
    return float(10 * mag)


def _ticks(lo: float, hi: float, target: int = 6) -> tuple[float, float, list[float], int]:
    """Nice bounds around [lo, hi], their ticks, and the decimals the tick labels need."""
    if not hi > lo:
        pad = abs(lo) * 0.05 or 1.0
        lo, hi = lo - pad, hi + pad
    step = _nice_step(hi - lo, target)
    lo2, hi2 = math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step
    n = round((hi2 - lo2) / step)
    ticks = [lo2 + i * step for i in range(n + 1)]
    exp = math.floor(math.log10(step) + 1e-9)
    decimals = max(0, -exp) + (1 if round(step / 10**exp, 6) == 2.5 else 0)
    return lo2, hi2, ticks, decimals


def _score_limit(values: Iterable[float]) -> tuple[float, float]:
    """Symmetric axis limit and tick step for scores: at least ±4, whole numbers."""
    biggest = max((abs(v) for v in values), default=0.0)
    limit = max(4.0, math.ceil(biggest + 0.5))
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000):
        if limit / step <= 8:
            break
    else:
        step = int(10 ** max(3, math.ceil(math.log10(limit)) - 1))
    return math.ceil(limit / step) * step, float(step)


_MIN_PITCH = 16.0
"""Narrowest room per laboratory on a chart, in px."""
_LABEL_CHARS = 16
"""Longer laboratory names are shortened under a chart (their titles have them whole)."""


def _short(name: str) -> str:
    return name if len(name) <= _LABEL_CHARS else name[: _LABEL_CHARS - 1] + "…"


class _Strip:
    """The horizontal layout of a chart with one slot per laboratory, labels underneath."""

    def __init__(self, names: Sequence[str], left: int = 76, right: int = 48) -> None:
        n = len(names)
        self.n = n
        self.pitch = max(_MIN_PITCH, min(72.0, 960 / max(n, 1)))
        self.angle = 45 if self.pitch >= 30 else 65
        self.labels = [_short(t) for t in names]
        longest = max((len(t) for t in self.labels), default=0)
        self.left, self.right = left, right
        self.bottom = 48 + math.ceil(7 * longest * math.sin(math.radians(self.angle)))
        self.plot_w = max(960, math.ceil(n * self.pitch))
        self.width = left + self.plot_w + right
        self.x0 = left + (self.plot_w - n * self.pitch) / 2

    def centre(self, i: int) -> float:
        return self.x0 + (i + 0.5) * self.pitch

    def min_width(self) -> int:
        # Shrunk to the page while the text stays legible, scrolled beyond.
        return self.width if self.pitch <= _MIN_PITCH else min(self.width, 680)

    def labels_svg(self, y: float) -> str:
        return "".join(
            f'<text class="lab-label" x="{self.centre(i):.1f}" y="{y:.1f}" text-anchor="end" '
            f'transform="rotate(-{self.angle} {self.centre(i):.1f} {y:.1f})">{_e(t)}</text>'
            for i, t in enumerate(self.labels)
        )


def _svg_open(
    chart_id: str,
    kind: str,
    width: float,
    height: float,
    min_width: float,
    title: str,
    desc: str,
    *,
    fixed: bool = False,
) -> list[str]:
    # Stretched to the page's width (never below min_width: scrolled then); a fixed chart
    # (a square plot) is not stretched beyond its own width.
    limit = f";max-width:{width:.0f}px" if fixed else ""
    return [
        f'<svg id="{chart_id}" class="chart {kind}" data-chart="{kind}" role="img" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'style="min-width:{min_width:.0f}px{limit}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{_e(title)}</title>',
        f'<desc id="{chart_id}-desc">{_e(desc)}</desc>',
    ]


def _y_grid(
    ticks: Sequence[float],
    y: Callable[[float], float],
    left: float,
    right: float,
    label: str,
    decimals: int,
    top: float,
    plot_h: float,
) -> str:
    out = ['<g class="y-axis">']
    for t in ticks:
        ty = y(t)
        out.append(
            f'<line x1="{left - 5}" y1="{ty:.1f}" x2="{right}" y2="{ty:.1f}" class="grid"/>'
            f'<text x="{left - 8}" y="{ty + 4:.1f}" text-anchor="end">{_fixed(t, decimals)}</text>'
        )
    out.append(
        f'<text class="axis-label" transform="translate({left - 58},{top + plot_h / 2:.1f}) '
        f'rotate(-90)" text-anchor="middle">{_e(label)}</text></g>'
    )
    return "".join(out)


def _limit_lines(y: Callable[[float], float], x1: float, x2: float, label: str = "") -> str:
    out = ['<g class="limits">']
    for z, colour, dash, text in (
        (3, _LINE_3, "", "+3"), (2, _LINE_2, ' stroke-dasharray="6 4"', "+2"),
        (-2, _LINE_2, ' stroke-dasharray="6 4"', f"{_MINUS}2"),
        (-3, _LINE_3, "", f"{_MINUS}3"),
    ):  # fmt: skip
        ly = y(z)
        out.append(
            f'<line class="limit" data-z="{z}" x1="{x1}" y1="{ly:.1f}" x2="{x2}" y2="{ly:.1f}" '
            f'stroke="{colour}" stroke-width="2"{dash}/>'
            f'<text x="{x2 + 6}" y="{ly + 4:.1f}" fill="{colour}">{label}{text}</text>'
        )
    out.append(f'<line class="zero" x1="{x1}" y1="{y(0):.1f}" x2="{x2}" y2="{y(0):.1f}"/></g>')
    return "".join(out)


# --------------------------------------------------------------------------- the charts


def _histogram_svg(e: PTEvaluation, chart_id: str) -> str:
    sm = e.summary
    values = _plotted(e)
    x_pt, sigma, unit = sm.assigned_value, sm.sigma_pt, sm.unit
    width_bin, bins = histogram(values, x_pt, sigma)
    p = len(values)
    density: list[tuple[float, float]] = []
    h, h_from = _bandwidth(e, max(p, 1))
    if p >= 2:
        f = kernel_density(values, h)
        lo, hi = bins[0][0], bins[-1][1]
        density = [
            (lo + (hi - lo) * i / 240, p * width_bin * f(lo + (hi - lo) * i / 240))
            for i in range(241)
        ]
    top_count = max([n for _, _, n in bins] + [d for _, d in density] + [1])
    _, y_hi, y_ticks, _ = _ticks(0, top_count, 5)
    y_ticks = [t for t in y_ticks if abs(t - round(t)) < 1e-9] or [0.0, y_hi]
    left, right, top, plot_w, plot_h = 76, 56, 34, 900, 300
    width, height = left + plot_w + right, top + plot_h + 58
    x_lo, x_hi = bins[0][0], bins[-1][1]

    def x(v: float) -> float:
        return left + (v - x_lo) / (x_hi - x_lo) * plot_w

    def y(c: float) -> float:
        return top + plot_h - c / y_hi * plot_h

    title = f"Distribution of the {p} results of study {e.study.study_id}"
    desc = (
        f"Histogram of the results (bins of {_num(width_bin, 4)} {unit}) with their kernel "
        f"density (bandwidth {_num(h, 3)} {unit}); x_pt = {_num(x_pt)} {unit} marked with "
        "x_pt ± 2σ_pt (dashed) and x_pt ± 3σ_pt (solid)."
    )
    out = _svg_open(chart_id, "histogram", width, height, 680, title, desc)
    out.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" class="plot-area"/>')
    out.append(_y_grid(y_ticks, y, left, left + plot_w, "Results", 0, top, plot_h))
    _, _, x_ticks, dec = _ticks(x_lo, x_hi, 8)
    out.append('<g class="x-axis">')
    for t in x_ticks:
        if x_lo - 1e-9 <= t <= x_hi + 1e-9:
            out.append(
                f'<text x="{x(t):.1f}" y="{top + plot_h + 18}" text-anchor="middle">'
                f"{_fixed(t, dec)}</text>"
            )
    out.append(
        f'<text class="axis-label" x="{left + plot_w / 2:.1f}" y="{height - 10}" '
        f'text-anchor="middle">{_e(e.study.analyte)} ({_e(unit)})</text></g>'
    )
    out.append('<g class="bins">')
    for lo, hi, n in bins:
        if n:
            out.append(
                f'<rect class="bin" data-count="{n}" data-low="{lo!r}" data-high="{hi!r}" '
                f'x="{x(lo):.1f}" y="{y(n):.1f}" width="{x(hi) - x(lo):.1f}" '
                f'height="{y(0) - y(n):.1f}" fill="{_SKY}"><title>'
                f"{_e(f'{_num(lo)} to {_num(hi)} {unit}: {n} result(s)')}</title></rect>"
            )
    out.append("</g>")
    if density:
        path = " ".join(
            f"{'M' if i == 0 else 'L'}{x(v):.1f},{y(d):.1f}" for i, (v, d) in enumerate(density)
        )
        out.append(
            f'<path class="density" d="{path}" fill="none" stroke="{_BLUE}" stroke-width="2.2">'
            f"<title>{_e(f'kernel density, h = {_num(h, 3)} {unit} (from {h_from})')}</title>"
            "</path>"
        )
    out.append('<g class="marks">')
    for k, colour, dash, text in (
        (-3, _LINE_3, "", f"{_MINUS}3σ"), (-2, _LINE_2, ' stroke-dasharray="6 4"', f"{_MINUS}2σ"),
        (0, "#1b1f24", "", "x_pt"),
        (2, _LINE_2, ' stroke-dasharray="6 4"', "+2σ"), (3, _LINE_3, "", "+3σ"),
    ):  # fmt: skip
        mx = x(x_pt + k * sigma)
        out.append(
            f'<line class="mark" data-k="{k}" x1="{mx:.1f}" y1="{top}" x2="{mx:.1f}" '
            f'y2="{top + plot_h}" stroke="{colour}" stroke-width="{2.5 if k == 0 else 2}"{dash}/>'
            f'<text x="{mx:.1f}" y="{top - 8}" text-anchor="middle" fill="{colour}">{text}</text>'
        )
    out.append("</g></svg>")
    return "\n".join(out)


def _class_colour(s: PTScore) -> str:
    return _UNCLASSED if s.classification is None else COLOURS[s.classification]


def _class_name(s: PTScore) -> str:
    return "not classified" if s.classification is None else s.classification.value


def _xu_svg(e: PTEvaluation, chart_id: str, names: _Names) -> str:
    sm = e.summary
    unit = sm.unit
    drawn = sorted(
        ((s, s.value) for s in e.scores if s.value is not None and s.censoring is None),
        key=lambda sv: (sv[1], names(sv[0].lab_id)),
    )
    big_u_pt = _K_PT * sm.assigned_uncertainty
    strip = _Strip([names(s.lab_id) for s, _ in drawn])
    spans = [sm.assigned_value - big_u_pt, sm.assigned_value + big_u_pt]
    for s, v in drawn:
        spans += [v - (s.expanded_uncertainty or 0.0), v + (s.expanded_uncertainty or 0.0)]
    lo, hi, ticks, dec = _ticks(min(spans), max(spans), 7)
    top, plot_h = 24, 340
    height = top + plot_h + strip.bottom
    left, plot_w = strip.left, strip.plot_w

    def y(v: float) -> float:
        return top + (hi - v) / (hi - lo) * plot_h

    title = f"Results x ± U of {len(drawn)} laboratories in study {e.study.study_id}"
    desc = (
        f"Each laboratory's result with its expanded uncertainty U as reported, sorted by "
        f"result; the band is x_pt ± U(x_pt) = {_num(sm.assigned_value)} ± "
        f"{_num(big_u_pt, 3)} {unit} (k = 2)."
    )
    out = _svg_open(chart_id, "xu", strip.width, height, strip.min_width(), title, desc)
    out.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" class="plot-area"/>')
    out.append(
        _y_grid(ticks, y, left, left + plot_w, f"{e.study.analyte} ({unit})", dec, top, plot_h)
    )
    out.append(
        f'<rect class="band" x="{left}" y="{y(sm.assigned_value + big_u_pt):.1f}" '
        f'width="{plot_w}" height="{max(y(sm.assigned_value - big_u_pt) - y(sm.assigned_value + big_u_pt), 1):.1f}">'  # noqa: E501
        f"<title>{_e(f'x_pt ± U(x_pt): {_num(sm.assigned_value)} ± {_num(big_u_pt, 3)} {unit}')}"
        "</title></rect>"
        f'<line class="assigned" x1="{left}" y1="{y(sm.assigned_value):.1f}" '
        f'x2="{left + plot_w}" y2="{y(sm.assigned_value):.1f}"/>'
        f'<text x="{left + plot_w + 6}" y="{y(sm.assigned_value) + 4:.1f}">x_pt</text>'
    )
    out.append('<g class="points">')
    for i, (s, v) in enumerate(drawn):
        cx, cy = strip.centre(i), y(v)
        u = s.expanded_uncertainty
        stated = (
            f" ± {_num(u, 4)} {unit} (k = {_num(s.coverage_factor, 3)})"
            if u
            else f" {unit}, U not reported"
        )
        label = f"{names(s.lab_id)}: x = {_num(s.value, 7)}{stated} ({_class_name(s)})"
        bar = ""
        if u:
            y1, y2 = y(v + u), y(v - u)
            bar = (
                f'<line class="ebar" x1="{cx:.1f}" y1="{y1:.1f}" x2="{cx:.1f}" y2="{y2:.1f}"/>'
                f'<line class="ebar" x1="{cx - 5:.1f}" y1="{y1:.1f}" x2="{cx + 5:.1f}" y2="{y1:.1f}"/>'  # noqa: E501
                f'<line class="ebar" x1="{cx - 5:.1f}" y1="{y2:.1f}" x2="{cx + 5:.1f}" y2="{y2:.1f}"/>'  # noqa: E501
            )
        out.append(
            f'<g class="result" data-lab="{_e(names(s.lab_id))}" data-value="{s.value!r}">'
            f"<title>{_e(label)}</title>{bar}"
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4.5" fill="{_class_colour(s)}"/></g>'
        )
    out.append("</g>")
    out.append(strip.labels_svg(top + plot_h + 14))
    out.append(
        f'<text class="axis-label" x="{left + plot_w / 2:.1f}" y="{height - 8}" '
        'text-anchor="middle">Laboratory (sorted by result)</text></svg>'
    )
    return "\n".join(out)


def _z_svg(e: PTEvaluation, chart_id: str, names: _Names) -> str:
    read = e.summary.classified_by
    sym = _read_name(read)
    drawn = [(s, v) for s in e.scores if (v := _read(s)) is not None]
    drawn.sort(key=lambda sv: (sv[1], names(sv[0].lab_id)))
    strip = _Strip([names(s.lab_id) for s, _ in drawn], right=44)
    limit, step = _score_limit(v for _, v in drawn)
    top, plot_h = 20, 360
    height = top + plot_h + strip.bottom
    left, plot_w = strip.left, strip.plot_w

    def y(z: float) -> float:
        return top + (limit - z) / (2 * limit) * plot_h

    n = len(drawn)
    title = f"{sym}-scores of {n} laboratories in study {e.study.study_id}"
    desc = (
        f"One bar per laboratory, sorted by {sym}-score; dashed lines at {sym} = ±2 and "
        f"solid lines at {sym} = ±3. The classes are read from {sym}."
    )
    out = _svg_open(chart_id, "scores", strip.width, height, strip.min_width(), title, desc)
    out.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" class="plot-area"/>')
    ticks = [-limit + i * step for i in range(round(2 * limit / step) + 1)]
    out.append(_y_grid(ticks, y, left, left + plot_w, f"{sym}-score", 0, top, plot_h))
    out.append(_limit_lines(y, left, left + plot_w))
    out.append('<g class="bars">')
    bar_w = round(strip.pitch * 0.74, 1)
    for i, (s, v) in enumerate(drawn):
        bx = strip.centre(i) - bar_w / 2
        top_y, base_y = sorted((y(v), y(0)))
        h = max(base_y - top_y, 1.0)
        cls = _class_name(s)
        label = f"{names(s.lab_id)}: {sym} = {_score(v)} ({cls})"
        out.append(
            f'<rect class="bar {cls.replace(" ", "-")}" data-lab="{_e(names(s.lab_id))}" '
            f'data-score="{v!r}" data-class="{cls}" x="{bx:.1f}" y="{top_y:.1f}" '
            f'width="{bar_w}" height="{h:.1f}" fill="{_class_colour(s)}">'
            f"<title>{_e(label)}</title></rect>"
        )
        if strip.pitch >= 40:  # room for the value above (below) each bar
            vy = top_y - 5 if v >= 0 else top_y + h + 14
            out.append(
                f'<text class="bar-value" x="{strip.centre(i):.1f}" y="{vy:.1f}" '
                f'text-anchor="middle" aria-hidden="true">{_e(_score(v))}</text>'
            )
    out.append("</g>")
    out.append(strip.labels_svg(top + plot_h + 14))
    out.append(
        f'<text class="axis-label" x="{left + plot_w / 2:.1f}" y="{height - 8}" '
        f'text-anchor="middle">Laboratory (sorted by {sym}-score)</text></svg>'
    )
    return "\n".join(out)


def _youden_svg(a: PTEvaluation, b: PTEvaluation, chart_id: str, names: _Names) -> str:
    points, _ = _youden_points(a, b)
    sx, sy = _read_name(a.summary.classified_by), _read_name(b.summary.classified_by)
    limit, step = _score_limit([v for _, x, y in points for v in (x, y)])
    left, top, size, right, bottom = 76, 24, 520, 170, 58
    width, height = left + size + right, top + size + bottom

    def px(v: float) -> float:
        return left + (v + limit) / (2 * limit) * size

    def py(v: float) -> float:
        return top + (limit - v) / (2 * limit) * size

    ia, ib = a.study.item_id, b.study.item_id
    title = f"Youden plot: {sx} on item {ia} against {sy} on item {ib} ({a.study.analyte})"
    desc = (
        f"One point per laboratory: its {sx}-score on item {ia} ({a.study.study_id}) across, "
        f"its {sy}-score on item {ib} ({b.study.study_id}) up. Dashed square at ±2, solid "
        "square at ±3; points along the diagonal show a bias common to both items."
    )
    out = _svg_open(chart_id, "youden", width, height, 420, title, desc, fixed=True)
    out.append(f'<rect x="{left}" y="{top}" width="{size}" height="{size}" class="plot-area"/>')
    ticks = [-limit + i * step for i in range(round(2 * limit / step) + 1)]
    out.append(_y_grid(ticks, py, left, left + size, f"{sy}-score, item {ib}", 0, top, size))
    out.append('<g class="x-axis">')
    for t in ticks:
        out.append(
            f'<line x1="{px(t):.1f}" y1="{top}" x2="{px(t):.1f}" y2="{top + size + 5}" '
            f'class="grid"/><text x="{px(t):.1f}" y="{top + size + 18}" text-anchor="middle">'
            f"{_fixed(t, 0)}</text>"
        )
    out.append(
        f'<text class="axis-label" x="{left + size / 2:.1f}" y="{height - 10}" '
        f'text-anchor="middle">{_e(f"{sx}-score, item {ia}")}</text></g>'
    )
    out.append(
        f'<line class="zero" x1="{left}" y1="{py(0):.1f}" x2="{left + size}" y2="{py(0):.1f}"/>'
        f'<line class="zero" x1="{px(0):.1f}" y1="{top}" x2="{px(0):.1f}" y2="{top + size}"/>'
        f'<line class="diagonal" x1="{px(-limit):.1f}" y1="{py(-limit):.1f}" '
        f'x2="{px(limit):.1f}" y2="{py(limit):.1f}"/>'
    )
    for k, colour, dash in ((2, _LINE_2, ' stroke-dasharray="6 4"'), (3, _LINE_3, "")):
        out.append(
            f'<rect class="limit-square" data-k="{k}" x="{px(-k):.1f}" y="{py(k):.1f}" '
            f'width="{px(k) - px(-k):.1f}" height="{py(-k) - py(k):.1f}" fill="none" '
            f'stroke="{colour}" stroke-width="2"{dash}/>'
        )
    out.append('<g class="points">')
    order = {c: i for i, c in enumerate(ScoreClass)}
    by_lab_a = {s.lab_id: s for s in a.scores}
    by_lab_b = {s.lab_id: s for s in b.scores}
    for lab, zx, zy in sorted(points, key=lambda p: names(p[0])):
        ca, cb = by_lab_a[lab].classification, by_lab_b[lab].classification
        worst = max((c for c in (ca, cb) if c is not None), key=order.__getitem__, default=None)
        colour = _UNCLASSED if worst is None else COLOURS[worst]
        name = names(lab)
        label = f"{name}: {sx} = {_score(zx)} (item {ia}), {sy} = {_score(zy)} (item {ib})"
        out.append(
            f'<g class="point" data-lab="{_e(name)}" data-x="{zx!r}" data-y="{zy!r}">'
            f"<title>{_e(label)}</title>"
            f'<circle cx="{px(zx):.1f}" cy="{py(zy):.1f}" r="5" fill="{colour}"/></g>'
        )
        if max(abs(zx), abs(zy)) > 2:  # name the points outside the ±2 square
            out.append(
                f'<text class="point-label" x="{px(zx) + 8:.1f}" y="{py(zy) + 4:.1f}">'
                f"{_e(_short(name))}</text>"
            )
    out.append("</g>")
    out.append(
        f'<g class="key" transform="translate({left + size + 16},{top + 10})">'
        f'<line x1="0" y1="0" x2="22" y2="0" stroke="{_LINE_2}" stroke-width="2" '
        f'stroke-dasharray="6 4"/><text x="28" y="4">±2</text>'
        f'<line x1="0" y1="20" x2="22" y2="20" stroke="{_LINE_3}" stroke-width="2"/>'
        f'<text x="28" y="24">±3</text>'
        f'<line class="diagonal" x1="0" y1="40" x2="22" y2="40"/><text x="28" y="44">'
        "equal scores</text></g></svg>"
    )
    return "\n".join(out)


def _cn_svg(q: QualitativeEvaluation, o: ClassificationRound, chart_id: str) -> str:
    levels = list(o.cumulative)
    left, top, bar_h, gap, plot_w = 180, 16, 26, 10, 560
    height = top + len(levels) * (bar_h + gap) + 44
    width = left + plot_w + 90
    title = f"Agreement with the assigned code in study {q.study.study_id}"
    desc = (
        "For each level of the nomenclature, the fraction of laboratories whose code agrees "
        f"with the assigned code {_code(o.assigned)} at least at that level."
    )
    out = _svg_open(chart_id, "agreement", width, height, 420, title, desc, fixed=True)
    for t in (0, 0.25, 0.5, 0.75, 1.0):
        gx = left + t * plot_w
        out.append(
            f'<line class="grid" x1="{gx:.1f}" y1="{top - 4}" x2="{gx:.1f}" '
            f'y2="{height - 34}"/><text x="{gx:.1f}" y="{height - 20}" '
            f'text-anchor="middle">{round(t * 100)} %</text>'
        )
    fractions = o.cumulative_fractions
    for i, level in enumerate(levels):
        by = top + i * (bar_h + gap)
        frac = fractions[level] or 0.0
        n = o.cumulative[level]
        required = level is o.required
        bold = ' font-weight="700"' if required else ""
        label = f"{_level_name(level)}: {n} of {o.p} ({frac:.0%})" + (
            ", the required level" if required else ""
        )
        out.append(
            f'<text x="{left - 8}" y="{by + bar_h / 2 + 4:.1f}" text-anchor="end"{bold}>'
            f"{_e(_level_name(level))}</text>"
            f'<rect class="level-bar" data-level="{level.label}" data-count="{n}" x="{left}" '
            f'y="{by}" width="{max(frac * plot_w, 1):.1f}" height="{bar_h}" '
            f'fill="{COLOURS[ScoreClass.SATISFACTORY] if required else _SKY}">'
            f"<title>{_e(label)}</title></rect>"
            f'<text x="{left + frac * plot_w + 6:.1f}" y="{by + bar_h / 2 + 4:.1f}">'
            f"{n}/{o.p}</text>"
        )
    out.append(
        f'<text class="axis-label" x="{left + plot_w / 2:.1f}" y="{height - 4}" '
        'text-anchor="middle">Laboratories agreeing at least at the level</text></svg>'
    )
    return "\n".join(out)


# --------------------------------------------------------------------------- the page: parts

_CSS = """
:root { color-scheme: light; --ink: #1b1f24; --muted: #57606a; --line: #d0d7de; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue",
       Arial, sans-serif; color: var(--ink); background: #fff; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h2 { font-size: 1.3rem; margin: 40px 0 8px; border-bottom: 2px solid var(--ink);
     padding-bottom: 4px; }
h3 { font-size: 1.05rem; margin: 26px 0 8px; }
.subtitle { color: var(--muted); margin: 0 0 12px; }
nav ol { columns: 2; margin: 8px 0 0; padding-left: 22px; }
nav a { color: #0057a3; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 14px 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px; min-width: 120px; }
.card .k { color: var(--muted); font-size: .8rem; }
.card .v { font-size: 1.3rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.card.satisfactory { border-left: 6px solid #009E73; }
.card.questionable { border-left: 6px solid #E69F00; }
.card.unsatisfactory { border-left: 6px solid #D55E00; }
.card.alert { border-left: 6px solid #1b1f24; }
.columns { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr));
           gap: 8px 32px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; font-variant-numeric: tabular-nums; }
.note { background: #fff8e6; border-left: 4px solid #E69F00; padding: 8px 12px; margin: 12px 0; }
.reason { background: #eef6fc; border-left: 4px solid #0072B2; padding: 8px 12px; margin: 12px 0; }
figure.chart { margin: 0; overflow-x: auto; }
figure.chart svg { width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); margin: 6px 0 0; font-size: .9rem; }
svg { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
svg .plot-area { fill: #fafbfc; stroke: var(--line); }
svg .grid { stroke: #e4e8ec; }
svg .zero { stroke: #1b1f24; stroke-width: 1.2; }
svg .axis-label { font-size: 13px; font-weight: 600; fill: #1b1f24; }
svg .bar, svg .bin { stroke: #1b1f24; stroke-width: .6; }
svg .bar-value { font-size: 11px; fill: #1b1f24; }
svg .lab-label { font-size: 12px; fill: #1b1f24; }
svg .band { fill: #0072B2; fill-opacity: .14; stroke: #0072B2; stroke-opacity: .5; }
svg .assigned { stroke: #0072B2; stroke-width: 2; }
svg .ebar { stroke: #1b1f24; stroke-width: 1.4; }
svg circle { stroke: #1b1f24; stroke-width: .8; }
svg .diagonal { stroke: #57606a; stroke-width: 1; stroke-dasharray: 2 4; }
svg .point-label { font-size: 11px; fill: #1b1f24; }
.legend { display: flex; gap: 18px; flex-wrap: wrap; margin: 8px 0 0; color: var(--muted); }
.swatch { display: inline-block; width: 14px; height: 14px; border: 1px solid #1b1f24;
          vertical-align: -2px; margin-right: 6px; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums;
        margin: 6px 0 12px; }
caption { text-align: left; color: var(--muted); padding-bottom: 4px; }
th, td { padding: 5px 7px; border-bottom: 1px solid var(--line); text-align: right; }
th { background: #f6f8fa; font-weight: 600; white-space: nowrap; }
table.compact { width: auto; min-width: 50%; }
th[scope="row"] { background: transparent; white-space: nowrap; }
th:first-child, td:first-child, .left { text-align: left; }
td { white-space: nowrap; }
td.note-cell { text-align: left; color: var(--muted); font-size: .85rem; min-width: 14em;
               white-space: normal; }
.badge { display: inline-block; border-radius: 10px; padding: 0 8px; font-size: .85rem;
         color: #fff; font-weight: 600; white-space: nowrap; }
.badge.satisfactory { background: #00785A; }
.badge.questionable { background: #8A5F00; }
.badge.unsatisfactory { background: #B03E00; }
.badge.none { background: #57606a; }
.signal { font-weight: 700; color: #B03E00; }
.pass { color: #00785A; font-weight: 600; }
.fail { color: #B03E00; font-weight: 600; }
footer { margin-top: 40px; color: var(--muted); font-size: .88rem; border-top: 1px solid
         var(--line); }
@media print { main { padding: 0; } figure.chart { overflow: visible; } section { break-inside:
               avoid-page; } }
"""

_X_SOURCES = {
    "formulation": "formulation of the test item",
    "certified_reference_material": "certified reference material",
    "reference_laboratory": "a reference laboratory",
    "expert_consensus": "expert laboratories' consensus",
    "given": "given by the study (no source stated)",
}
_ESTIMATORS = {
    "algorithm_a": "Algorithm A (ISO 13528:2022, C.3)",
    "q_hampel": "Q method with the Hampel estimator (C.5)",
}


def _facts(rows: Sequence[tuple[str, str]], cls: str = "facts") -> str:
    items = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in rows)
    return f'<dl class="{cls}">{items}</dl>'


def _card(label: str, value: object, key: str, cls: str = "") -> str:
    return (
        f'<div class="card {cls}" data-count="{_e(key)}"><div class="k">{_e(label)}</div>'
        f'<div class="v">{_e(value)}</div></div>'
    )


def _assigned_rows(e: PTEvaluation) -> list[tuple[str, str]]:
    st, sm = e.study, e.summary
    unit = f" {sm.unit}"
    p = sm.p
    est = _ESTIMATORS[sm.estimator.value]
    if sm.assigned_value_source == "participants_consensus":
        x_source = f"participants' consensus: robust mean x* by {est}"
    else:
        x_source = _X_SOURCES.get(sm.assigned_value_source, sm.assigned_value_source)
    r = sm.robust
    s_star = _num(r.scale, 4) if r is not None else "—"
    u_char = {
        "given": "given with the assigned value",
        "consensus": f"1.25·s*/√p = 1.25 × {s_star} / √{p} (7.7.3)",
        "assumed_zero": "none given: taken as 0",
    }[sm.characterisation_uncertainty_source]
    if st.homogeneity_uncertainty is not None:
        u_hom = "given by the study"
    elif sm.homogeneity is not None:
        u_hom = "s_s of the homogeneity check (B.2)"
    else:
        u_hom = "no homogeneity data, taken as 0"
    if st.stability_uncertainty is not None:
        u_stab = "given by the study"
    elif sm.stability is not None:
        u_stab = "|ȳ₁ − ȳ₂|/√3 of the stability check (B.5)"
    else:
        u_stab = "no stability data, taken as 0"
    src = sm.sigma_pt_source
    if src == "fitness_for_purpose" and st.sigma_pt is None and st.sigma_pt_relative:
        sigma = f"fitness for purpose: {_num(100 * st.sigma_pt_relative, 4)} % of x_pt"
    elif src == "fitness_for_purpose":
        sigma = "fitness for purpose, set by the provider"
    elif src == "horwitz":
        sigma = "Horwitz–Thompson equation at x_pt (8.4)"
    elif src == "precision_experiment" and st.sigma_pt is None:
        sigma = (
            f"precision experiment: √(σ_R² − σ_r²(1 − 1/n)), σ_R = "
            f"{_num(st.reproducibility_sd, 4)}, σ_r = {_num(st.repeatability_sd or 0.0, 4)}, "
            f"n = {st.replicates} (8.5)"
        )
    elif src == "participants_data":
        sigma = f"participants' robust standard deviation s* by {est} (8.6)"
    else:
        sigma = {"given": "given by the study (no source stated)"}.get(src, src.replace("_", " "))
    if r is None:
        robust = f"{est}: not run, fewer than 2 numeric results"
    elif r.degenerate:
        robust = f"{est}: degenerate data (most values identical), s* collapses to 0"
    else:
        robust = f"{est}: x* = {_num(r.location)}{unit}, s* = {_num(r.scale, 4)}{unit}"
        if sm.estimator.value == "algorithm_a":
            rule = (
                "until x* and s* no longer change in the third significant figure (C.3.1)"
                if sm.stop == "iso"
                else "until converged to a tight relative tolerance"
            )
            start = "MADe" if getattr(r, "initial_scale", "made") == "made" else "the sample sd"
            robust += f"; {r.iterations} iteration(s) from the median and {start}, {rule}" + (
                "" if r.converged else "; did not converge"
            )
        else:
            robust += f"; location by the {getattr(r, 'location_rule', 'hampel')} rule"
    rows = [
        ("Assigned value x_pt", f"{_num(sm.assigned_value)}{unit} — {x_source}"),
        ("u_char", f"{_num(sm.characterisation_uncertainty, 4)}{unit} — {u_char}"),
        ("u_hom", f"{_num(sm.homogeneity_uncertainty, 4)}{unit} — {u_hom}"),
        ("u_stab", f"{_num(sm.stability_uncertainty, 4)}{unit} — {u_stab}"),
        (
            "u(x_pt)",
            f"√(u_char² + u_hom² + u_stab²) = {_num(sm.assigned_uncertainty, 4)}{unit}; "
            f"U(x_pt) = 2·u(x_pt) = {_num(_K_PT * sm.assigned_uncertainty, 4)}{unit}",
        ),
        ("σ_pt", f"{_num(sm.sigma_pt, 4)}{unit} — {sigma}"),
        ("Robust statistics", robust),
        (
            "u(x_pt) < 0.3·σ_pt",
            ("yes: negligible, z is read" if sm.negligible else "no: not negligible, z′ is read"),
        ),
    ]
    if st.delta_e is not None:
        rows.append(("δE (for PA)", f"{_num(st.delta_e)}{unit}"))
    return rows


def _study_rows(st: PTStudy) -> list[tuple[str, str]]:
    rows = [("Study", st.study_id), ("Title", st.title)]
    if st.item_id:
        rows.append(("Test item", st.item_id))
    rows.append(("Measurand", f"{st.analyte} ({st.unit})"))
    if st.matrix:
        rows.append(("Matrix", st.matrix))
    rows.append(("Purpose", st.purpose.value.replace("_", " ")))
    if st.replicates > 1:
        rows.append(("Replicates asked", f"{st.replicates} (their mean is scored)"))
    if st.closing_date:
        rows.append(("Closing date", st.closing_date.isoformat()))
    return rows


def _counts(e: PTEvaluation) -> str:
    sm = e.summary
    cards = [
        _card("Laboratories", sm.laboratories, "laboratories"),
        _card("Results in the statistics (p)", sm.p, "p"),
    ]
    for c in ScoreClass:
        cards.append(_card(c.value.capitalize(), sm.counts[c], c.value, c.value))
    cards += [
        _card("Not classified", sm.not_classified, "not_classified"),
        _card("Censored (< L or > L)", sm.censored, "censored"),
        _card("Not returned", sm.not_returned, "not_returned"),
        _card("Action signals (|Eₙ| ≥ 1)", sm.action_signals, "action_signals", "alert"),
    ]
    return '<div class="cards">' + "".join(cards) + "</div>"


def _no_check(kind: str, symbol: str, value: float, unit: str, *, given: bool) -> str:
    """The line said in place of a homogeneity or stability check the evaluation lacks."""
    return (
        f'<p class="check" data-check="{kind}">No {kind} check in this evaluation: '
        f"{symbol} = {_e(_num(value, 4))}{_e(unit)} "
        + ("(given by the study)." if given else "(none).")
        + "</p>"
    )


def _check_table(sm: Any, st: PTStudy) -> str:
    unit = f" {sm.unit}"
    parts: list[str] = []
    h = sm.homogeneity
    if h is None:
        parts.append(
            _no_check(
                "homogeneity",
                "u_hom",
                sm.homogeneity_uncertainty,
                unit,
                given=st.homogeneity_uncertainty is not None,
            )
        )
    else:
        used = "the study's u_hom is used" if st.homogeneity_uncertainty is not None else "used"
        rows = [
            ("Items g × replicates m", f"{h.g} × {h.m}"),
            ("General mean", f"{_num(h.mean)}{unit}"),
            ("s_x (item means)", f"{_num(h.s_x, 4)}{unit}"),
            ("s_w (within items)", f"{_num(h.s_w, 4)}{unit}"),
            ("s_s (between items)", f"{_num(h.s_s, 4)}{unit}"),
            ("Criterion 0.3·σ_pt", f"{_num(h.criterion, 4)}{unit}"),
            ("s_s ≤ 0.3·σ_pt", "passed" if h.passed else "failed"),
            ("F1, F2 (Table B.1)", f"{_num(h.f1, 4)}, {_num(h.f2, 4)}"),
            ("Expanded criterion", f"{_num(h.expanded_criterion, 4)}{unit}"),
            ("s_s ≤ expanded criterion", _pass(h.passed_expanded)),
            ("u_hom = s_s", f"{_num(h.uncertainty, 4)}{unit} ({used})"),
        ]
        parts.append(_kv_table("homogeneity", "Homogeneity check (ISO 13528:2022, B.2, B.3)", rows))
    s = sm.stability
    if s is None:
        parts.append(
            _no_check(
                "stability",
                "u_stab",
                sm.stability_uncertainty,
                unit,
                given=st.stability_uncertainty is not None,
            )
        )
    else:
        used = "the study's u_stab is used" if st.stability_uncertainty is not None else "used"
        rows = [
            ("Mean before ȳ₁", f"{_num(s.mean_before)}{unit}"),
            ("Mean after ȳ₂", f"{_num(s.mean_after)}{unit}"),
            ("|ȳ₁ − ȳ₂|", f"{_num(s.difference, 4)}{unit}"),
            ("Criterion 0.3·σ_pt", f"{_num(s.criterion, 4)}{unit}"),
            ("|ȳ₁ − ȳ₂| ≤ 0.3·σ_pt", "passed" if s.passed else "failed"),
            ("Expanded criterion (B.18)", f"{_num(s.expanded_criterion, 4)}{unit}"),
            ("≤ expanded criterion", _pass(s.passed_expanded)),
            ("u_stab = |ȳ₁ − ȳ₂|/√3", f"{_num(s.uncertainty, 4)}{unit} ({used})"),
        ]
        parts.append(_kv_table("stability", "Stability check (ISO 13528:2022, B.5)", rows))
    return "\n".join(parts)


def _pass(flag: bool | None) -> str:
    return "not defined" if flag is None else "passed" if flag else "failed"


def _kv_table(check: str, caption: str, rows: Sequence[tuple[str, str]]) -> str:
    body = "".join(
        f'<tr><th scope="row">{_e(k)}</th><td>'
        + (
            f'<span class="{"pass" if v == "passed" else "fail"}">{_e(v)}</span>'
            if v in ("passed", "failed")
            else _e(v)
        )
        + "</td></tr>"
        for k, v in rows
    )
    return (
        f'<table class="check compact" data-check="{check}"><caption>{_e(caption)}</caption>'
        f"<tbody>{body}</tbody></table>"
    )


def _badge(cls: ScoreClass | None) -> str:
    if cls is None:
        return '<span class="badge none">not classified</span>'
    return f'<span class="badge {cls.value}">{cls.value}</span>'


def _scores_table(e: PTEvaluation, names: _Names, table_id: str) -> str:
    st, sm = e.study, e.summary
    unit = _e(sm.unit)
    dec = _decimals(sm.sigma_pt)
    pa = st.delta_e is not None
    notes = any(s.note for s in e.scores)
    heads = [
        "Laboratory", "x", "n", "U", "k", "D", "D %", *(["PA %"] if pa else []),
        "z", "z′", "ζ", "Eₙ", "Class", "Read from", "Action signal", *(["Note"] if notes else []),
    ]  # fmt: skip
    head = "".join(f'<th scope="col">{h}</th>' for h in heads)
    rows = []
    for s in sorted(e.scores, key=lambda s: names(s.lab_id)):
        if s.en is None:
            signal = "—"
        else:
            signal = '<span class="signal">yes</span>' if s.action_signal else "no"
        cells = [
            _e(_value_text(s)), str(s.replicates),
            _e(_num(s.expanded_uncertainty, 4)),
            _e(_num(s.coverage_factor, 3)) if s.expanded_uncertainty is not None else "—",
            _e(_fixed(s.d, dec)), _e(_fixed(s.d_percent, 2)),
            *([_e(_fixed(s.pa, 1))] if pa else []),
            _e(_score(s.z)), _e(_score(s.z_prime)), _e(_score(s.zeta)), _e(_score(s.en)),
        ]  # fmt: skip
        read = _read_name(s.classified_by) if s.classification is not None else "—"
        rows.append(
            f'<tr data-lab="{_e(names(s.lab_id))}"><th scope="row">{_e(names(s.lab_id))}</th>'
            + "".join(f"<td>{c}</td>" for c in cells)
            + f'<td class="left">{_badge(s.classification)}</td><td>{read}</td>'
            f"<td>{signal}</td>"
            + (f'<td class="note-cell">{_e(s.note or "")}</td>' if notes else "")
            + "</tr>"
        )
    return (
        f'<div class="table-wrap"><table id="{table_id}" class="scores">'
        f"<caption>Results and scores per laboratory. x, U and D in {unit}; x: the mean of "
        f"the n replicates; U and its k as reported; D = x − x_pt; classes read from "
        f"{_read_name(sm.classified_by)}.</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _not_drawn(e: PTEvaluation, names: _Names) -> str:
    left = [s for s in e.scores if _read(s) is None]
    if not left:
        return ""
    items = []
    for s in sorted(left, key=lambda s: names(s.lab_id)):
        if s.value is None:
            what = "no result returned"
        else:
            what = f"reported {_value_text(s, e.summary.unit)}; {_class_name(s)}"
        items.append(f'<li data-lab="{_e(names(s.lab_id))}">{_e(names(s.lab_id))}: {_e(what)}</li>')
    return (
        '<div class="not-drawn"><p>Not drawn (no score to plot):</p>'
        f"<ul>{''.join(items)}</ul></div>"
    )


def _legend(sym: str) -> str:
    return "".join(
        f'<span><span class="swatch" style="background:{COLOURS[c]}"></span>'
        f"{c.value} ({label})</span>"
        for c, label in (
            (ScoreClass.SATISFACTORY, f"|{sym}| ≤ 2"),
            (ScoreClass.QUESTIONABLE, f"2 &lt; |{sym}| &lt; 3"),
            (ScoreClass.UNSATISFACTORY, f"|{sym}| ≥ 3"),
        )
    )


def _quantitative(e: PTEvaluation, i: int, names: _Names) -> str:
    st, sm = e.study, e.summary
    sid = f"study-{i}"
    sym = _read_name(sm.classified_by)
    p = len(_plotted(e))
    h, h_from = _bandwidth(e, max(p, 1))
    width_bin, _ = histogram(_plotted(e), sm.assigned_value, sm.sigma_pt)
    hist = (
        f'<figure class="chart">{_histogram_svg(e, f"{sid}-histogram")}<figcaption>Histogram '
        f"of the {p} results in the statistics (bins σ_pt/2 = {_e(_num(width_bin, 4))} "
        f"{_e(sm.unit)} wide{'' if width_bin * 2 <= sm.sigma_pt * 1.0001 else ', widened to fit'}"
        f") and their Gaussian kernel density (ISO 13528:2022, 10.3; bandwidth "
        f"h = 0.9·{h_from}·p<sup>−1/5</sup> = {_e(_num(h, 3))} {_e(sm.unit)}), scaled to the "
        "counts."
        f"</figcaption></figure>"
        if p
        else '<p class="note">No numeric result to draw.</p>'
    )
    xu = (
        f'<figure class="chart">{_xu_svg(e, f"{sid}-xu", names)}<figcaption>Points coloured '
        "by class; bars: the expanded uncertainty U each laboratory reported (none drawn when "
        "U was not reported); band: x_pt ± U(x_pt), k = 2.</figcaption></figure>"
        if p
        else ""
    )
    drawn = any(_read(s) is not None for s in e.scores)
    zchart = (
        f'<figure class="chart">{_z_svg(e, f"{sid}-scores", names)}'
        f'<figcaption class="legend">{_legend(sym)}</figcaption></figure>'
        if drawn
        else '<p class="note">No laboratory has a score to draw.</p>'
    )
    item = f"Item {st.item_id} — " if st.item_id else ""
    return f"""<section class="study quantitative" id="{sid}" data-study="{_e(st.study_id)}"
 aria-labelledby="{sid}-h">
<h2 id="{sid}-h">{_e(item)}{_e(st.analyte)} ({_e(st.unit)}) · {_e(st.study_id)}</h2>
<p class="subtitle">{_e(st.title)}</p>
{_counts(e)}
<div class="columns">
<div><h3>The study</h3>{_facts(_study_rows(st))}</div>
<div><h3>Assigned value and σ_pt</h3>{_facts(_assigned_rows(e))}</div>
</div>
<p class="reason">{_e(sm.classified_by_reason)}</p>
<h3 id="{sid}-checks">Homogeneity and stability</h3>
{_check_table(sm, st)}
<h3>Distribution of the results</h3>
{hist}
<h3>Results and their expanded uncertainties</h3>
{xu}
<h3>{sym}-scores</h3>
{zchart}
{_not_drawn(e, names)}
<h3>Laboratories</h3>
{_scores_table(e, names, f"{sid}-table")}
</section>"""


def _level_name(level: AgreementLevel) -> str:
    return {
        AgreementLevel.NONE: "none",
        AgreementLevel.CHAPTER: "chapter (2 digits)",
        AgreementLevel.HEADING: "heading (4)",
        AgreementLevel.HS_SUBHEADING: "HS subheading (6)",
        AgreementLevel.CN_SUBHEADING: "CN subheading (8)",
        AgreementLevel.TARIC: "TARIC (10)",
    }[level]


def _simple_table(
    table_id: str,
    caption: str,
    heads: Sequence[str],
    rows: Iterable[Sequence[str]],
    row_labs: Sequence[str] | None = None,
) -> str:
    head = "".join(f'<th scope="col" class="left">{_e(h)}</th>' for h in heads)
    body = []
    for i, r in enumerate(rows):
        attr = f' data-lab="{_e(row_labs[i])}"' if row_labs is not None else ""
        body.append(
            f'<tr{attr}><th scope="row">{_e(r[0])}</th>'
            + "".join(
                f'<td class="{"left note-cell" if len(c) > 40 else "left"}">{_e(c)}</td>'
                for c in r[1:]
            )
            + "</tr>"
        )
    return (
        f'<div class="table-wrap"><table id="{table_id}" '
        f'class="compact {table_id.split("-")[-1]}">'
        f"<caption>{_e(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _fraction(x: float | None) -> str:
    return "—" if x is None else f"{x:.0%}"


def _qualitative(q: QualitativeEvaluation, i: int, names: _Names) -> str:
    st, o = q.study, q.outcome
    sid = f"study-{i}"
    parts: list[str] = []
    cards: list[str] = []
    nr = names.shown(q.not_returned)
    if isinstance(o, ClassificationRound):
        cards = [
            _card("Laboratories", o.participants + len(nr), "laboratories"),
            _card("Valid codes (p)", o.p, "p"),
            _card(f"Correct at {_level_name(o.required)}", o.n_correct, "correct", "satisfactory"),
            _card("Below the required level", len(o.below_required), "below", "unsatisfactory"),
            _card("Invalid codes", len(o.invalid), "invalid"),
            _card("Not returned", len(nr), "not_returned"),
        ]
        facts = [
            ("Assigned code", _code(o.assigned)),
            ("Required level", _level_name(o.required)),
            (
                "Mode of the codes",
                _code(o.mode)
                if o.mode
                else ", ".join(_code(m) for m in o.modes) + " (tie)"
                if o.modes
                else "—",
            ),
            ("Correct", f"{o.n_correct} of {o.p} ({_fraction(o.fraction_correct)})"),
        ]
        parts.append(_facts(facts))
        parts.append(
            f'<figure class="chart">{_cn_svg(q, o, f"{sid}-agreement")}<figcaption>The '
            "required level in green.</figcaption></figure>"
        )
        fr = o.cumulative_fractions
        rows = [
            (
                _level_name(lv),
                str(o.counts.get(lv, 0)),
                str(o.cumulative[lv]) if lv in o.cumulative else "—",
                _fraction(fr.get(lv)) if lv in o.cumulative else "—",
            )
            for lv in o.counts
        ]
        parts.append(
            _simple_table(
                f"{sid}-levels",
                "Laboratories per level of agreement (exactly at the level; at least at it)",
                ["Level", "Exactly", "At least", "Cumulative fraction"],
                rows,
            )
        )
        below = ", ".join(names.shown(o.below_required)) or "none"
        parts.append(f'<p class="below">Below the required level: {_e(below)}.</p>')
        lab_rows: list[tuple[str, ...]] = [
            (
                names(s.laboratory),
                str(s.reported),
                "—" if s.level is None else _level_name(s.level),
                "yes" if s.correct else "no",
                s.error or "",
            )
            for s in sorted(o.scores, key=lambda s: names(s.laboratory))
        ]
        heads = ["Laboratory", "Code reported", "Agreement", "Correct", "Why invalid"]
    elif isinstance(o, NominalRound):
        cards = [
            _card("Laboratories", o.p + len(nr), "laboratories"),
            _card("Results (p)", o.p, "p"),
            _card(
                "Agreeing", "—" if o.n_agreeing is None else o.n_agreeing, "correct", "satisfactory"
            ),
            _card("Not returned", len(nr), "not_returned"),
        ]
        parts.append(
            _facts(
                [
                    ("Assigned category", o.assigned or "none (the mode is tied)"),
                    ("Assigned by", "the provider" if o.assigned_by == "given" else "the mode"),
                    ("Agreeing", f"{o.n_agreeing} of {o.p} ({_fraction(o.fraction_agreeing)})"),
                ]
            )
        )
        parts.append(
            _simple_table(
                f"{sid}-counts",
                "Laboratories per category",
                ["Category", "Laboratories"],
                [(c, str(n)) for c, n in o.counts.items()],
            )
        )
        lab_rows = [
            (names(s.laboratory), s.category, _yes(s.agrees))
            for s in sorted(o.scores, key=lambda s: names(s.laboratory))
        ]
        heads = ["Laboratory", "Category", "Agrees"]
    elif isinstance(o, OrdinalRound):
        cards = [
            _card("Laboratories", o.p + len(nr), "laboratories"),
            _card("Results (p)", o.p, "p"),
            _card(
                "Agreeing", "—" if o.n_agreeing is None else o.n_agreeing, "correct", "satisfactory"
            ),
            _card(
                "Within one step", "—" if o.n_within_one is None else o.n_within_one, "within_one"
            ),
            _card("Not returned", len(nr), "not_returned"),
        ]
        parts.append(
            _facts(
                [
                    ("Scale (lowest first)", " < ".join(o.order)),
                    ("Assigned category", o.assigned or "none (the median falls between two)"),
                    ("Assigned by", "the provider" if o.assigned_by == "given" else "the median"),
                    ("Median rank", _num(o.median_rank, 3)),
                    ("Agreeing", f"{o.n_agreeing} of {o.p} ({_fraction(o.fraction_agreeing)})"),
                    (
                        "Within one step",
                        f"{o.n_within_one} of {o.p} ({_fraction(o.fraction_within_one)})",
                    ),
                ]
            )
        )
        parts.append(
            _simple_table(
                f"{sid}-counts",
                "Laboratories per category",
                ["Category", "Laboratories"],
                [(c, str(n)) for c, n in o.counts.items()],
            )
        )
        lab_rows = [
            (
                names(s.laboratory),
                s.category,
                str(s.rank),
                "—" if s.difference is None else f"{s.difference:+d}".replace("-", _MINUS),
            )
            for s in sorted(o.scores, key=lambda s: names(s.laboratory))
        ]
        heads = ["Laboratory", "Category", "Rank", "Rank − assigned"]
    elif isinstance(o, IdentificationRound):
        cards = [
            _card("Laboratories", o.participants + len(nr), "laboratories"),
            _card("Valid answers (p)", o.p, "p"),
            _card("Correct", o.n_correct, "correct", "satisfactory"),
            _card("Invalid answers", len(o.invalid), "invalid"),
            _card("Not returned", len(nr), "not_returned"),
        ]
        what = (
            f"presence: the substance is {'present' if o.present else 'absent'}"
            if o.kind == "presence"
            else f"which substance: {o.substance} ({o.system})"
        )
        parts.append(
            _facts(
                [
                    ("Question", what),
                    ("Correct", f"{o.n_correct} of {o.p} ({_fraction(o.fraction_correct)})"),
                ]
            )
        )
        rows2 = [(k.value.replace("_", " "), str(n)) for k, n in o.counts.items()]
        rows2 += [(f"identified {k}", str(n)) for k, n in o.substances.items()]
        parts.append(
            _simple_table(
                f"{sid}-counts", "Laboratories per outcome", ["Outcome", "Laboratories"], rows2
            )
        )
        lab_rows = [
            (names(s.laboratory), str(s.reported), s.outcome.value.replace("_", " "), s.error or "")
            for s in sorted(o.scores, key=lambda s: names(s.laboratory))
        ]
        heads = ["Laboratory", "Answer", "Outcome", "Why invalid"]
    else:  # pragma: no cover - evaluate_qualitative returns one of the four
        raise ArgumentError(f"study {st.study_id}: unknown outcome {type(o).__name__}")
    invalid = getattr(o, "invalid", ())
    if invalid:
        reasons = {s.laboratory: s.error for s in o.scores}
        items = "".join(
            f'<li data-lab="{_e(names(lab))}">{_e(names(lab))}: {_e(reasons.get(lab) or "")}</li>'
            for lab in names.sort(invalid)
        )
        parts.append(f'<div class="invalid"><p>Invalid answers:</p><ul>{items}</ul></div>')
    if nr:
        parts.append(f'<p class="not-returned">Not returned: {_e(", ".join(nr))}.</p>')
    lab_rows += [(lab, "—", "not returned", *[""] * (len(heads) - 3)) for lab in nr]
    lab_rows.sort(key=lambda r: r[0])
    parts.append(
        _simple_table(
            f"{sid}-table", "Each laboratory's result", heads, lab_rows, [r[0] for r in lab_rows]
        )
    )
    item = f"Item {st.item_id} — " if st.item_id else ""
    body = "\n".join(parts)
    return f"""<section class="study qualitative" id="{sid}" data-study="{_e(st.study_id)}"
 data-kind="{st.kind.value}" aria-labelledby="{sid}-h">
<h2 id="{sid}-h">{_e(item)}{_e(st.analyte)} ({_e(st.kind.value)}) · {_e(st.study_id)}</h2>
<p class="subtitle">{_e(st.title)}</p>
<div class="cards">{"".join(cards)}</div>
{body}
</section>"""


def _youden_section(ev: RoundEvaluation, names: _Names) -> str:
    pairs = youden_pairs(ev)
    if not pairs:
        return ""
    figures = []
    for j, (a, b) in enumerate(pairs, start=1):
        _, alone = _youden_points(a, b)
        missing = (
            f" Not plotted (a score on one item only): {_e(', '.join(names.shown(alone)))}."
            if alone
            else ""
        )
        figures.append(
            f"<h3>{_e(a.study.analyte)}: item {_e(a.study.item_id)} ({_e(a.study.study_id)}) and "
            f"item {_e(b.study.item_id)} ({_e(b.study.study_id)})</h3>"
            f'<figure class="chart">{_youden_svg(a, b, f"youden-{j}", names)}<figcaption>'
            "Points coloured by the worse of the two classes; the laboratories outside the ±2 "
            f"square are named.{missing}</figcaption></figure>"
        )
    return (
        '<section id="youden" aria-labelledby="youden-h"><h2 id="youden-h">Youden plots</h2>'
        '<p class="subtitle">Each laboratory\'s score on one test item against its score on the '
        "other (ISO 13528:2022, Clause 10): a point far along the diagonal suggests a systematic "
        "error, one far across it a random error on one item.</p>" + "".join(figures) + "</section>"
    )


def _combined_section(ev: RoundEvaluation, names: _Names) -> str:
    if not ev.combined:
        return ""
    rows = [
        (names(c.lab_id), str(c.n), _score(c.rescaled_sum_z), _score(c.sum_squared_z))
        for c in sorted(ev.combined, key=lambda c: names(c.lab_id))
    ]
    head = "".join(
        f'<th scope="col">{h}</th>' for h in ("Laboratory", "Scores n", "RSZ = Σz/√n", "SSZ = Σz²")
    )
    body = "".join(
        f'<tr data-lab="{_e(r[0])}"><th scope="row">{_e(r[0])}</th>'
        + "".join(f"<td>{_e(c)}</td>" for c in r[1:])
        + "</tr>"
        for r in rows
    )
    return (
        '<section id="combined" aria-labelledby="combined-h"><h2 id="combined-h">Combined scores'
        f'</h2><p class="note caution">{_e(_CAUTION)}</p><div class="table-wrap">'
        '<table id="combined-table" class="compact combined"><caption>Each z is the score '
        "its study was classed by (z or z′); laboratories classed in at least two quantitative "
        "studies."
        f"</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div></section>"
    )


def _header(ev: RoundEvaluation, names: _Names) -> tuple[str, str]:
    from clen_core._version import __version__

    r = ev.pt_round
    first = ev.studies[0].study
    rid = _round_id(ev)
    title = r.title if r is not None else first.title if len(ev.studies) == 1 else rid
    coordinator = (r.coordinator_lab if r is not None else None) or first.coordinator_lab
    closing = (r.closing_date if r is not None else None) or first.closing_date
    rows = [
        ("Round", rid),
        ("Title", title),
        ("Provider", (r.provider if r else None) or "—"),
        ("Coordinator", coordinator or "—"),
        ("Closing date", closing.isoformat() if closing else "—"),
        ("Report date", r.report_date.isoformat() if r and r.report_date else "—"),
        ("Report issue", (r.report_issue if r else None) or "—"),
        ("Studies", str(len(ev.studies))),
        ("Laboratories", str(len(_laboratories(ev)))),
        (
            "Laboratory names",
            "real identifiers (revealed)"
            if names.reveal
            else "pseudonymised codes: each laboratory is told its own",
        ),
        ("Made by", f"clen_core {__version__}"),
    ]
    header = (
        f'<header id="report-header"><h1>Proficiency test {_e(rid)}</h1>'
        f'<p class="subtitle">{_e(title)}</p>{_facts(rows, "facts header-facts")}</header>'
    )
    return header, f"PT report {rid}: {title}"


def _nav(ev: RoundEvaluation) -> str:
    items = []
    for i, e in enumerate(ev.studies, start=1):
        st = e.study
        item = f"item {st.item_id}, " if st.item_id else ""
        items.append(
            f'<li><a href="#study-{i}">{_e(st.study_id)}</a> ({_e(item)}{_e(st.analyte)})</li>'
        )
    if youden_pairs(ev):
        items.append('<li><a href="#youden">Youden plots</a></li>')
    if ev.combined:
        items.append('<li><a href="#combined">Combined scores</a></li>')
    items.append('<li><a href="#formulas">Formulas and limits</a></li>')
    return f'<nav aria-label="Contents"><h2>Contents</h2><ol>{"".join(items)}</ol></nav>'


_FOOTER = """<footer id="formulas">
<h2>Formulas and classification limits (ISO 13528:2022)</h2>
<p>D = x − x_pt; D% = 100·D/x_pt; PA = 100·D/δE; z = D/σ_pt; z′ = D/√(σ_pt² + u²(x_pt));
ζ = D/√(u²(x) + u²(x_pt)) with the laboratory's u(x) = U(x)/k; Eₙ = D/√(U²(x) + U²(x_pt)) with
the laboratory's U as reported and U(x_pt) = 2·u(x_pt).
u(x_pt) = √(u_char² + u_hom² + u_stab²), with u_char = 1.25·s*/√p for a consensus value;
z is read when u(x_pt) &lt; 0.3·σ_pt, else z′ (9.2.1).</p>
<p>|z| ≤ 2 satisfactory; 2 &lt; |z| &lt; 3 questionable; |z| ≥ 3 unsatisfactory (the same limits for
z′ and ζ); |Eₙ| ≥ 1 is an action signal. A result reported as &lt; L (or &gt; L) is left out of
the statistics and classed only when its limit decides (the limit's own score ≤ −3, or ≥ 3).
RSZ = Σz/√n and SSZ = Σz² combine a laboratory's scores across the round (9.8).</p>"""


# --------------------------------------------------------------------------- the page


def render_html(evaluation: Reportable, *, reveal: bool = False, secret: Secret = None) -> str:
    """The report as one self-contained HTML page.

    Laboratories are shown by their codes (:func:`pseudonyms`, keyed by
    ``secret`` when given) unless ``reveal`` is true.
    """
    from clen_core._version import __version__

    ev = as_round(evaluation)
    names = _Names(ev, reveal=reveal, secret=secret)
    header, page_title = _header(ev, names)
    sections = []
    for i, e in enumerate(ev.studies, start=1):
        if isinstance(e, PTEvaluation):
            sections.append(_quantitative(e, i, names))
        else:
            sections.append(_qualitative(e, i, names))
    sections.append(_youden_section(ev, names))
    sections.append(_combined_section(ev, names))
    body = "\n".join(s for s in sections if s)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{_e(page_title)}</title>
<style>{_CSS}</style>
</head>
<body>
<main>
{header}
{_nav(ev)}
{body}
{_FOOTER}
<p>Made by clen_core {_e(__version__)}.</p>
</footer>
</main>
</body>
</html>
"""


# --------------------------------------------------------------------------- JSON


def _named_outcome(d: dict[str, Any], names: _Names) -> dict[str, Any]:
    out = dict(d)
    if "scores" in out:
        scores = [dict(s, laboratory=names(s["laboratory"])) for s in out["scores"]]
        out["scores"] = sorted(scores, key=lambda s: s["laboratory"])
    for key in ("below_required", "invalid"):
        if key in out:
            out[key] = names.shown(out[key])
    return out


def report_data(
    evaluation: Reportable, *, reveal: bool = False, secret: Secret = None
) -> dict[str, Any]:
    """The report's content as JSON-ready data (what :func:`render_json` writes).

    ``{"report", "round", "studies", "youden", "combined"}``: each quantitative
    study with its ``study``, ``summary``, ``scores`` (``pt_score`` records) and
    ``histogram``; each qualitative one with its ``outcome``. Laboratories are
    their codes unless ``reveal``; lists of laboratories are sorted by name.
    """
    from clen_core._version import __version__
    from clen_core.schema import to_json

    ev = as_round(evaluation)
    names = _Names(ev, reveal=reveal, secret=secret)
    studies: list[dict[str, Any]] = []
    for e in ev.studies:
        if isinstance(e, PTEvaluation):
            d = e.to_dict()
            d["scores"] = sorted(
                (dict(s, lab_id=names(s["lab_id"])) for s in d["scores"]),
                key=lambda s: s["lab_id"],
            )
            values = _plotted(e)
            d["summary"]["expanded_assigned_uncertainty"] = _K_PT * e.summary.assigned_uncertainty
            if values:
                width, bins = histogram(values, e.summary.assigned_value, e.summary.sigma_pt)
                h, h_from = _bandwidth(e, len(values))
                d["histogram"] = {
                    "bin_width": width,
                    "bins": [{"low": lo, "high": hi, "count": n} for lo, hi, n in bins],
                    "kernel_bandwidth": h if len(values) >= 2 else None,
                    "bandwidth_from": h_from,
                }
            else:
                d["histogram"] = None
        else:
            d = e.to_dict()
            d["outcome"] = _named_outcome(d["outcome"], names)
            d["not_returned"] = [names(lab) for lab in e.not_returned]
            d["not_returned"].sort()
        studies.append(d)
    youden = []
    for a, b in youden_pairs(ev):
        points, alone = _youden_points(a, b)
        youden.append(
            {
                "analyte": a.study.analyte,
                "x_study": a.study.study_id,
                "y_study": b.study.study_id,
                "x_item": a.study.item_id,
                "y_item": b.study.item_id,
                "x_score": a.summary.classified_by.value,
                "y_score": b.summary.classified_by.value,
                "points": sorted(
                    ({"lab_id": names(lab), "x": x, "y": y} for lab, x, y in points),
                    key=lambda p: str(p["lab_id"]),
                ),
                "not_plotted": sorted(names(lab) for lab in alone),
            }
        )
    labs = _laboratories(ev)
    return {
        "report": {
            "generator": f"clen_core {__version__}",
            "round_id": _round_id(ev),
            "pseudonymised": not reveal,
            "laboratories": sorted(names(lab) for lab in labs),
        },
        "round": None if ev.pt_round is None else to_json(ev.pt_round),
        "studies": studies,
        "youden": youden,
        "combined": sorted(
            (dict(c.to_dict(), lab_id=names(c.lab_id)) for c in ev.combined),
            key=lambda c: c["lab_id"],
        ),
    }


def render_json(evaluation: Reportable, *, reveal: bool = False, secret: Secret = None) -> str:
    """The report as JSON (see :func:`report_data`)."""
    data = report_data(evaluation, reveal=reveal, secret=secret)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- writing


def _write_text(path: str | Path, text: str) -> Path:
    from clen_core.io.atomic import atomic_file

    target = Path(path)
    with atomic_file(target) as sink:
        sink.write(text.encode("utf-8"))
    return target


def _render(evaluation: Reportable, format: str, *, reveal: bool, secret: Secret) -> str:
    if format == "html":
        return render_html(evaluation, reveal=reveal, secret=secret)
    if format == "json":
        return render_json(evaluation, reveal=reveal, secret=secret)
    raise ArgumentError(f"unknown report format {format!r}: html or json")


def write_report(
    evaluation: Reportable,
    path: str | Path,
    *,
    format: ReportFormat = "html",
    reveal: bool = False,
    secret: Secret = None,
) -> Path:
    """Write the report atomically (the old file stays whole if anything fails)."""
    return _write_text(path, _render(evaluation, format, reveal=reveal, secret=secret))


def _key_text(evaluation: Reportable, path: str | Path, secret: Secret) -> str:
    key = pseudonyms(evaluation, secret=secret)
    if Path(path).suffix.lower() == ".json":
        return json.dumps(key, indent=2, ensure_ascii=False) + "\n"
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["lab_id", "code"])
    for lab, code in key.items():
        # A cell a spreadsheet would run as a formula is quoted with a leading apostrophe.
        w.writerow(["'" + lab if lab[:1] in ("=", "+", "-", "@", "\t", "\r") else lab, code])
    return buf.getvalue()


def write_key(evaluation: Reportable, path: str | Path, *, secret: Secret = None) -> Path:
    """Write the pseudonyms' key (laboratory ID → code) atomically, for the provider only.

    JSON (an object) when ``path`` ends in ``.json``, else CSV with the columns
    ``lab_id,code`` (an ID that a spreadsheet would run as a formula is written
    with a leading apostrophe).
    """
    return _write_text(path, _key_text(evaluation, path, secret))


# --------------------------------------------------------------------------- from files


def _read_all(path: str | Path, entity: str) -> list[Any]:
    """Every record of a file; a row that does not fit the entity is one line of error."""
    from clen_core.io.readwrite import read

    try:
        with read(path, entity=entity) as reader:
            return list(reader)
    except RejectedRowsError as exc:
        if not exc.rejects:
            raise
        first = exc.rejects[0]
        more = f" ({exc.rejected} of {exc.read} row(s) do not fit {entity})"
        raise FormatError(
            first.file,
            f"{first.reason} (got {first.value!r}){more}",
            row=first.row,
            field=first.field,
        ) from None


def load_study(study_id: str, studies: str | Path | Dataset) -> PTStudy:
    """The study ``study_id`` from a ``pt_study`` file or from a dataset in memory
    (``clen pt-report`` gives the embedded reference dataset when no file is named)."""
    if not isinstance(studies, Dataset):
        for st in _read_all(studies, "pt_study"):
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


def load_round(
    ident: str,
    studies: str | Path | Dataset,
    rounds: str | Path | Dataset | None = None,
) -> tuple[PTRound | None, list[PTStudy]]:
    """The round and studies that ``ident`` names: one study (by its ``study_id``),
    or every study of a round (by its ``round_id``), in the order of ``studies``.

    The round's record comes from ``rounds`` (a ``pt_round`` file or a dataset)
    when it is there; a round ID that no study carries raises
    :class:`~clen_core.errors.UnknownStudyError`.
    """
    where = "the embedded reference dataset" if isinstance(studies, Dataset) else str(studies)
    all_studies: list[PTStudy] = (
        studies.records("pt_study")
        if isinstance(studies, Dataset)
        else _read_all(studies, "pt_study")
    )
    picked = [s for s in all_studies if s.study_id == ident]
    round_id = picked[0].round_id if picked else ident
    if not picked:
        picked = [s for s in all_studies if s.round_id == ident]
    if not picked:
        known_rounds = sorted({s.round_id for s in all_studies if s.round_id})
        known = sorted(s.study_id for s in all_studies)
        hint = " (give its pt_study file with --studies)" if isinstance(studies, Dataset) else ""
        raise UnknownStudyError(
            f"unknown study or round {ident!r} in {where}{hint}: studies "
            f"{', '.join(known) or 'none'}; rounds {', '.join(known_rounds) or 'none'}"
        )
    pt_round = None
    if round_id is not None and rounds is not None:
        records: list[PTRound] = (
            rounds.records("pt_round")
            if isinstance(rounds, Dataset)
            else _read_all(rounds, "pt_round")
        )
        pt_round = next((r for r in records if r.round_id == round_id), None)
    return pt_round, picked


def report_from_files(
    results: str | Path,
    study_id: str,
    out: str | Path,
    *,
    studies: str | Path | Dataset,
    rounds: str | Path | Dataset | None = None,
    format: ReportFormat = "html",
    reveal: bool = False,
    key: str | Path | None = None,
    secret: Secret = None,
) -> RoundEvaluation:
    """Read the studies and results, evaluate, write the report (and the key); what
    ``clen pt-report`` does.

    ``study_id`` names one study or a whole round (see :func:`load_round`).
    Nothing is written unless the whole report can be made; each file is
    written atomically.
    """
    pt_round, picked = load_round(study_id, studies, rounds)
    wanted = {s.study_id for s in picked}
    rows: list[PTResult] = [r for r in _read_all(results, "pt_result") if r.study_id in wanted]
    have = {r.study_id for r in rows}
    for s in picked:
        if s.study_id not in have:
            raise UnknownStudyError(f"{results}: no result for study {s.study_id!r}")
    try:
        evaluation = evaluate_round(picked, rows, pt_round=pt_round)
    except StatisticsError as exc:
        raise StatisticsError(f"{results}: {exc}") from None
    text = _render(evaluation, format, reveal=reveal, secret=secret)
    key_text = None if key is None else _key_text(evaluation, key, secret)
    _write_text(out, text)
    if key is not None and key_text is not None:
        _write_text(key, key_text)
    return evaluation
