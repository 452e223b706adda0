"""Proficiency-testing statistics of ISO 13528:2022 (``domain.md`` §6).

Every public function names the clause (and formula) it implements.

Robust statistics of the participants' results (Annex C):

- :func:`median`, :func:`made` (``1.483·median|xᵢ − median|``) and :func:`niqr`
  (``0.7413·IQR``, quartiles by linear interpolation, Hyndman–Fan type 7), C.2;
- :func:`algorithm_a`: the robust mean x* and standard deviation s* (C.3), with
  the standard's three-significant-figure stopping rule (``stop="iso"``) or a
  tight relative tolerance (``stop="converged"``);
- :func:`algorithm_s`: the robust pooled standard deviation (or range) w* (C.4);
- :func:`q_hampel`: the Q-method standard deviation with the Hampel location (C.5).

Each iterative estimator reports its iterations, non-convergence and degenerate
data (most values identical) instead of a wrong number.

Test items, x_pt and σ_pt: :func:`homogeneity` (B.2, B.3, with
:func:`expanded_criterion_factors` of Table B.1) and :func:`stability` (B.5);
:func:`u_assigned` (7.7.7), :func:`combine_uncertainty` (7.2.2) and
:func:`negligible` (9.2.1); :func:`horwitz` (8.4) and
:func:`sigma_pt_from_precision` (8.5).

Scores of one result x against x_pt (Clause 9): :func:`d_score`,
:func:`d_percent`, :func:`pa_score`, :func:`z_score`, :func:`z_prime_score`,
:func:`zeta_score`, :func:`en_score`; :func:`classify_z` and
:func:`action_signal` interpret them; :func:`rescaled_sum_z` and
:func:`sum_squared_z` combine several z scores (9.9).
:mod:`clen_core.proficiency.evaluation` uses them to score a whole round.

The functions take a Python sequence of numbers or a pyarrow ``Array`` /
``ChunkedArray`` (converted once to floats). Empty input, a missing or
non-finite value, and σ ≤ 0 raise :class:`~clen_core.errors.StatisticsError`
(a :class:`ValueError`) naming what is wrong. Only the standard library is
used (pyarrow only to read an Arrow array).
"""

from __future__ import annotations

import math
import numbers
import sys
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from itertools import accumulate
from statistics import NormalDist
from typing import Any, Literal

import attrs

from clen_core.errors import StatisticsError
from clen_core.model.proficiency import ScoreClass

__all__ = [
    "MADE_FACTOR",
    "NIQR_FACTOR",
    "AlgorithmA",
    "AlgorithmS",
    "Homogeneity",
    "QHampel",
    "ScoreClass",
    "Stability",
    "action_signal",
    "algorithm_a",
    "algorithm_s",
    "classify_z",
    "combine_uncertainty",
    "d_percent",
    "d_score",
    "en_score",
    "expanded_criterion_factors",
    "homogeneity",
    "horwitz",
    "made",
    "median",
    "negligible",
    "niqr",
    "pa_score",
    "q_hampel",
    "rescaled_sum_z",
    "sigma_pt_from_precision",
    "stability",
    "sum_squared_z",
    "u_assigned",
    "z_prime_score",
    "z_score",
    "zeta_score",
]

MADE_FACTOR = 1.483
"""MADe = 1.483·median|xᵢ − median| (1/Φ⁻¹(0.75), rounded as ISO 13528 prints it)."""
NIQR_FACTOR = 0.7413
"""nIQR = 0.7413·(Q3 − Q1) (1/(2·Φ⁻¹(0.75)), rounded as ISO 13528 prints it)."""
_CLIP = 1.5
"""Algorithm A clips at x* ± 1.5·s*."""
_CONSISTENCY = 1.134
"""Algorithm A's factor on the standard deviation of the clipped values."""
_DEGENERATE_RATIO = 0.999
"""s* must shrink by at least this ratio per iteration to be called collapsing."""
_RATIO_STABLE = 1e-9
"""How steady that ratio must be, from one iteration to the next."""
_COLLAPSE = 1e-9
"""A scale below this fraction of its starting value has collapsed to 0 (as in pt13528)."""
_ALGORITHM_S = {
    1: (1.645, 1.097),
    2: (1.517, 1.054),
    3: (1.444, 1.039),
    4: (1.395, 1.032),
    5: (1.359, 1.027),
    6: (1.332, 1.024),
    7: (1.310, 1.021),
    8: (1.292, 1.019),
    9: (1.277, 1.018),
    10: (1.264, 1.017),
}
"""ISO 13528:2022 Table C.1: degrees of freedom ν → (limit factor η, adjustment factor ξ)."""
_HAMPEL_LIMITS = (1.5, 3.0, 4.5)
"""a, b, c of the Hampel ψ function, Formula (C.30)."""
_TABLE_B1 = range(7, 21)
"""The numbers of items g for which Table B.1 gives F1 and F2."""

Values = Sequence[float] | Iterable[Any]
"""A sequence of numbers, or a pyarrow Array or ChunkedArray."""
Stop = Literal["iso", "converged"]
"""Stopping rule of an iterative estimator: ISO's third significant figure, or a tolerance."""


# --------------------------------------------------------------------------- input


def _is_arrow(values: object) -> bool:
    return type(values).__module__.startswith("pyarrow") and hasattr(values, "to_pylist")


def _items(values: Values, what: str) -> list[Any]:
    """The items of a sequence or Arrow array, at least one, no nulls."""
    if isinstance(values, str | bytes):
        raise StatisticsError(f"{what}: expected numbers, got text")
    if _is_arrow(values):
        nulls = int(getattr(values, "null_count", 0))
        if nulls:
            raise StatisticsError(f"{what}: {nulls} missing value(s) (null)")
        items: list[Any] = getattr(values, "to_pylist")()  # noqa: B009 - any Arrow array
    else:
        try:
            items = list(values)
        except TypeError:
            raise StatisticsError(f"{what}: expected a sequence of numbers") from None
    if not items:
        raise StatisticsError(f"{what} is empty: at least one value is needed")
    return items


def _floats(values: Values, what: str = "values") -> list[float]:
    """The values as a list of finite floats (one conversion for an Arrow array)."""
    return [_number(v, f"{what}[{i}]") for i, v in enumerate(_items(values, what))]


def _number(x: object, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real | Decimal):
        raise StatisticsError(f"{what}: expected a number, got {type(x).__name__}")
    f = float(x)
    if not math.isfinite(f):
        raise StatisticsError(f"{what} is not finite: {f}")
    return f


def _positive(x: float, what: str) -> float:
    f = _number(x, what)
    if f <= 0:
        raise StatisticsError(f"{what} must be > 0, got {f}")
    return f


def _non_negative(x: float, what: str) -> float:
    f = _number(x, what)
    if f < 0:
        raise StatisticsError(f"{what} must be ≥ 0, got {f}")
    return f


def _whole(n: int, what: str, least: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < least:
        raise StatisticsError(f"{what} must be a whole number ≥ {least}, got {n!r}")
    return n


def _iteration_args(stop: str, tol: float, max_iter: int) -> None:
    if stop not in ("iso", "converged"):
        raise StatisticsError(f"stop must be 'iso' or 'converged', got {stop!r}")
    if not (isinstance(tol, numbers.Real) and 0 < tol < 1):
        raise StatisticsError(f"tol must be between 0 and 1, got {tol}")
    _whole(max_iter, "max_iter", 1)


# --------------------------------------------------------------------------- robust statistics


def _median_sorted(xs: list[float]) -> float:
    n = len(xs)
    mid = n // 2
    if n % 2:
        return xs[mid]
    m = (xs[mid - 1] + xs[mid]) / 2
    return m if math.isfinite(m) else xs[mid - 1] / 2 + xs[mid] / 2  # near the float limit


def median(values: Values) -> float:
    """The median, ISO 13528:2022 C.2.1 (with an even number of values, the middle two's mean).

    >>> median([3.0, 1.0, 2.0, 10.0])
    2.5
    """
    return _median_sorted(sorted(_floats(values)))


def _made(xs: list[float]) -> float:
    med = _median_sorted(sorted(xs))
    return MADE_FACTOR * _median_sorted(sorted(abs(x - med) for x in xs))


def made(values: Values) -> float:
    """MADe, the scaled median absolute deviation ``1.483·median|xᵢ − median(x)|`` (C.2.2).

    >>> round(made([1.0, 2.0, 3.0, 4.0, 100.0]), 6)  # median 3; |xᵢ − 3| = 2,1,0,1,97
    1.483
    """
    return _made(_floats(values))


def _quantile(xs: list[float], q: float) -> float:
    # Hyndman & Fan type 7: h = (n − 1)·q, linear between the order statistics around h.
    h = (len(xs) - 1) * q
    lo = math.floor(h)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (h - lo) * (xs[hi] - xs[lo])


def niqr(values: Values) -> float:
    """nIQR, the normalised interquartile range ``0.7413·(Q3 − Q1)`` (C.2.3).

    The quartiles are Hyndman & Fan's type 7 (linear interpolation between
    order statistics at ``h = (n − 1)·q``; R's and NumPy's default, Excel's
    ``QUARTILE.INC``, Python's ``statistics.quantiles(method="inclusive")``).
    Other quantile definitions give slightly different values for small n.

    >>> round(niqr([1.0, 2.0, 3.0, 4.0, 5.0]), 6)  # Q1 = 2, Q3 = 4
    1.4826
    """
    xs = sorted(_floats(values))
    return NIQR_FACTOR * (_quantile(xs, 0.75) - _quantile(xs, 0.25))


def _mean(xs: list[float]) -> float:
    try:
        return math.fsum(xs) / len(xs)
    except OverflowError:  # values near the float limit: divide first
        return math.fsum(x / len(xs) for x in xs)


def _spread(xs: list[float], what: str) -> tuple[float, float]:
    """min and max of xs; StatisticsError when their difference overflows."""
    lowest, highest = min(xs), max(xs)
    if not math.isfinite(highest - lowest):
        raise StatisticsError(f"{what} span more than the floating-point range")
    return lowest, highest


def _finite_scale(scale: float, what: str) -> float:
    if not math.isfinite(scale):
        raise StatisticsError(f"{what} exceeds the floating-point range")
    return scale


def _rms(xs: Iterable[float], n: int) -> float:
    """√(Σx²/n), scaled by max|x| so that squares neither underflow nor overflow."""
    xs = list(xs)
    big = max(map(abs, xs))
    return big * math.sqrt(math.fsum((x / big) ** 2 for x in xs) / n) if big else 0.0


def _sd(xs: list[float]) -> float:
    m = _mean(xs)
    return _rms((x - m for x in xs), len(xs) - 1)


def _sig3(v: float) -> float:
    """v rounded to three significant figures (``round``: half to even on the binary value)."""
    return round(v, 2 - math.floor(math.log10(abs(v)))) if v else 0.0


@attrs.frozen
class AlgorithmA:
    """The result of :func:`algorithm_a`.

    Use ``location`` and ``scale`` only when ``converged`` and not ``degenerate``.
    """

    location: float
    """Robust mean x*; for degenerate data, the repeated value the data collapse onto."""
    scale: float
    """Robust standard deviation s*; 0.0 for degenerate data."""
    iterations: int
    """Updates of x* and s* made (0 when the data are all equal)."""
    converged: bool
    """Whether the stopping rule was met within ``max_iter`` iterations."""
    degenerate: bool
    """Whether s* is 0 or collapses to 0 (most values identical): no usable scale."""
    p: int
    """Number of values."""
    initial_scale: Literal["made", "sd"]
    """The starting s*: MADe, or the sample standard deviation when MADe is 0."""
    stop: Stop = "converged"
    """The stopping rule used: ``iso`` (third significant figure) or ``converged`` (tolerance)."""

    @property
    def usable(self) -> bool:
        """Whether x* and s* can be used (converged, not degenerate)."""
        return self.converged and not self.degenerate


def algorithm_a(
    values: Values, *, stop: Stop = "converged", tol: float = 1e-10, max_iter: int = 10_000
) -> AlgorithmA:
    """Robust mean x* and standard deviation s* by Algorithm A, ISO 13528:2022 C.3.1.

    Start (Formulae C.5, C.6): x* = median, s* = MADe (the sample standard
    deviation when MADe is 0, C.3.1 NOTE 2). Each iteration (C.7 to C.10):
    δ = 1.5·s*; clip every value to [x* − δ, x* + δ]; the new x* is the mean of
    the clipped values and the new s* is 1.134 times their standard deviation
    (n − 1 divisor).

    Stopping rule, ``stop``:

    - ``"iso"``, the standard's: stop when x* and s* no longer change in their
      third significant figure *from one iteration to the next*. The starting
      median and MADe are not an iteration, so the earliest stop is after the
      second update. Both are rounded with Python's ``round`` to 3 significant
      figures (half to even, on the binary value), which reproduces pt13528's
      ``algorithm_a(x, tol="iso2022")`` and the worked examples of Annex E. It
      stops short of the fixed point, and as significant figures depend on the
      unit and the origin of the results, so does the result. ``tol`` is not used.
    - ``"converged"`` (the default): stop after the first iteration in which
      neither x* nor s* moves by more than ``tol`` times the new s*, a tolerance
      relative to the scale, so the result does not depend on the unit or the
      origin. The default 1e-10 goes on to the fixed point itself, which agrees
      with a hand calculation to any printed precision.

    Not stopped after ``max_iter`` iterations: ``converged`` is false.

    Degenerate data: when the values are all equal, or when s* collapses
    towards 0 (the values inside x* ± 1.5·s* are one repeated value and s*
    shrinks by a steady factor below 1 at each iteration, which happens when
    most values are identical), ``degenerate`` is true, ``scale`` is 0.0 and
    ``location`` is that repeated value: there is no usable s*. So it is, with
    x* the last mean, when s* falls below 1e-9 of its starting value (a
    majority agreeing to nine figures; pt13528's rule too).

    The iteration runs on (x − median)/max|x − median|, so that rounding noise
    of a large level does not mask a collapse nor stop the convergence, and
    squares are scaled so that they neither overflow nor underflow.

    Raises :class:`~clen_core.errors.StatisticsError` for fewer than 2 values,
    a non-finite value, an unknown ``stop``, ``tol`` outside (0, 1) or
    ``max_iter`` < 1.

    >>> a = algorithm_a([1.0, 2.0, 3.0, 4.0, 100.0])
    >>> round(a.location, 3), round(a.scale, 3), a.converged
    (4.036, 4.096, True)
    >>> iso = algorithm_a([1.0, 2.0, 3.0, 4.0, 100.0], stop="iso")
    >>> round(iso.location, 2), round(iso.scale, 2), iso.iterations
    (3.99, 3.99, 36)
    """
    xs = _floats(values)
    p = len(xs)
    if p < 2:
        raise StatisticsError(f"Algorithm A needs at least 2 values, got {p}")
    _iteration_args(stop, tol, max_iter)
    lowest, highest = _spread(xs, "values")
    c = _median_sorted(sorted(xs))
    d = max(c - lowest, highest - c)
    if d == 0:
        return AlgorithmA(c, 0.0, 0, True, True, p, "sd", stop)
    ys = [(v - c) / d for v in xs]
    x, s = 0.0, _made(ys)  # x* starts at c, the median as computed (so does pt13528)
    initial: Literal["made", "sd"] = "made"
    if s == 0:
        initial, s = "sd", _sd(ys)
    s0 = s

    def result(x: float, s: float, k: int, converged: bool, degenerate: bool) -> AlgorithmA:
        # The mean of clipped values lies within the data: keep rounding from leaving them.
        location = min(max(c + d * x, lowest), highest)
        scale = _finite_scale(d * s, "s*")
        return AlgorithmA(location, scale, k, converged, degenerate, p, initial, stop)

    ratio: float | None = None
    for k in range(1, max_iter + 1):
        delta = _CLIP * s
        lo, hi = x - delta, x + delta
        clipped = [lo if y < lo else hi if y > hi else y for y in ys]
        x_new = _mean(clipped)
        s_new = _CONSISTENCY * _sd(clipped)
        if s_new < _COLLAPSE * s0:  # s* fell to 0 before the steady ratio was recognised
            return result(x_new, 0.0, k, False, True)
        # Degenerate: one repeated value v strictly inside, all others clipped. While s*
        # shrinks the others stay clipped, the update is homogeneous of degree 1 in
        # (x* − v, s*), and s* falls by the same factor each time: to 0 if below 1.
        inside = {v for v, y in zip(xs, ys, strict=True) if lo < y < hi}
        previous, ratio = ratio, s_new / s
        if len(inside) != 1:
            ratio = None
        elif (
            previous is not None
            and ratio < _DEGENERATE_RATIO
            and abs(ratio - previous) <= _RATIO_STABLE
        ):
            return AlgorithmA(inside.pop(), 0.0, k, False, True, p, initial, stop)
        if stop == "iso":
            done = (
                k > 1
                and _sig3(c + d * x_new) == _sig3(c + d * x)
                and _sig3(d * s_new) == _sig3(d * s)
            )
        else:
            done = abs(x_new - x) <= tol * s_new and abs(s_new - s) <= tol * s_new
        if done:
            return result(x_new, s_new, k, True, False)
        x, s = x_new, s_new
    return result(x, s, max_iter, False, False)


@attrs.frozen
class AlgorithmS:
    """The result of :func:`algorithm_s`.

    Use ``scale`` only when ``converged`` and not ``degenerate``.
    """

    scale: float
    """Robust pooled standard deviation (or range) w*; 0.0 for degenerate data."""
    location: float
    """w* again. Algorithm S estimates a single quantity, the pooled spread: it has no
    location of its own. The value is repeated so that every robust result reads alike
    (pt13528's ``algorithm_s`` returns w* as both, too)."""
    iterations: int
    """Updates of w* made (0 when every value is 0)."""
    converged: bool
    """Whether the stopping rule was met within ``max_iter`` iterations."""
    degenerate: bool
    """Whether w* is 0 or collapses to 0 (most values are 0): no usable w*."""
    p: int
    """Number of values pooled."""
    degrees_of_freedom: int
    """ν, the degrees of freedom of each value (1 for ranges of duplicates, m − 1 for sds of m)."""
    eta: float
    """Limit factor η of Table C.1: values above ψ = η·w* are replaced by ψ."""
    xi: float
    """Adjustment factor ξ of Table C.1: w* = ξ·√(Σ min(wᵢ, ψ)²/p)."""
    stop: Stop
    """The stopping rule used: ``iso`` (third significant figure) or ``converged`` (tolerance)."""

    @property
    def usable(self) -> bool:
        """Whether w* can be used (converged, not degenerate)."""
        return self.converged and not self.degenerate


def algorithm_s(
    values: Values,
    degrees_of_freedom: int,
    *,
    stop: Stop = "converged",
    tol: float = 1e-10,
    max_iter: int = 10_000,
) -> AlgorithmS:
    """Robust pooled standard deviation (or range) w* by Algorithm S, ISO 13528:2022 C.4.

    ``values`` are p standard deviations (or ranges) w₁…w_p, each with
    ``degrees_of_freedom`` ν (m − 1 for the sd of m replicates, 1 for the range
    of duplicates). Start: w* = median(wᵢ) (√(Σwᵢ²/p) when the median is 0, as
    pt13528 does). Each iteration (Formulae C.11 to C.14): ψ = η·w*; replace
    every wᵢ > ψ by ψ; w* = ξ·√(Σ wᵢ²/p), with η and ξ from Table C.1, which
    covers ν = 1 to 10 (more degrees of freedom raise an error).

    ``stop`` is as in :func:`algorithm_a`: ``"iso"`` stops when the third
    significant figure of w* does not change from one iteration to the next
    (the starting median is not an iteration); ``"converged"`` when w* moves by
    at most ``tol`` times itself. When every value is 0, or w* collapses to 0
    (every value under ψ is 0: most values are 0; or w* falls below 1e-9 of
    its start), ``degenerate`` is true and w* is 0.0.

    Raises :class:`~clen_core.errors.StatisticsError` for fewer than 2 values, a
    negative or non-finite value, ν outside Table C.1, an unknown ``stop``,
    ``tol`` outside (0, 1) or ``max_iter`` < 1.

    >>> w = algorithm_s([0.13, 0.21, 0.08, 0.24], 3)  # sds of 4 replicates: ν = 3
    >>> round(w.scale, 4), (w.eta, w.xi)
    (0.1837, (1.444, 1.039))
    """
    ws = _floats(values, "values (standard deviations or ranges)")
    p = len(ws)
    if p < 2:
        raise StatisticsError(f"Algorithm S needs at least 2 values to pool, got {p}")
    if min(ws) < 0:
        raise StatisticsError(f"standard deviations and ranges cannot be negative, got {min(ws)}")
    nu = _whole(degrees_of_freedom, "degrees_of_freedom", 1)
    if nu not in _ALGORITHM_S:
        raise StatisticsError(
            f"Table C.1 gives η and ξ for 1 ≤ ν ≤ 10 degrees of freedom, got {nu}"
        )
    _iteration_args(stop, tol, max_iter)
    eta, xi = _ALGORITHM_S[nu]
    top = max(ws)

    def result(w: float, k: int, converged: bool, degenerate: bool = False) -> AlgorithmS:
        w = _finite_scale(top * w, "w*")
        return AlgorithmS(w, w, k, converged, degenerate, p, nu, eta, xi, stop)

    if top == 0:
        return result(0.0, 0, True, True)
    a = [v / top for v in ws]  # unit scale: squares neither overflow nor underflow
    w = w0 = _median_sorted(sorted(a)) or _rms(a, p)
    for k in range(1, max_iter + 1):
        psi = eta * w
        new = xi * _rms((min(v, psi) for v in a), p)
        # All values under ψ are 0: w* is a fixed multiple of itself, and shrinks to 0.
        if new < _COLLAPSE * w0 or (new < w and not any(0 < v <= psi for v in a)):
            return result(0.0, k, False, True)
        if stop == "iso":
            done = k > 1 and _sig3(top * new) == _sig3(top * w)
        else:
            done = abs(new - w) <= tol * new
        w = new
        if done:
            return result(w, k, True)
    return result(w, max_iter, False)


@attrs.frozen
class QHampel:
    """The result of :func:`q_hampel`.

    Use ``location`` and ``scale`` only when not ``degenerate``.
    """

    location: float
    """Robust mean x*: the Hampel estimate, or the median (see ``location_rule``)."""
    scale: float
    """Robust (reproducibility) standard deviation s* of the Q method; 0.0 for degenerate data."""
    iterations: int
    """0: the finite-step algorithm of C.5.3.3 finds x* without iterating."""
    converged: bool
    """Always true: the finite-step algorithm always ends (kept so that results read alike)."""
    degenerate: bool
    """Whether s* is 0 (all results equal): no usable scale, and x* is the median."""
    p: int
    """Number of laboratories."""
    location_rule: Literal["hampel", "median"]
    """``hampel``: the solution of the Hampel equation nearest the median; ``median``: s* is
    0, or two different solutions are equally near the median, and x* is the median."""

    @property
    def usable(self) -> bool:
        """Whether x* and s* can be used (not degenerate)."""
        return self.converged and not self.degenerate


def _labs(results: Values | Sequence[Values]) -> list[list[float]]:
    """One list of results per laboratory: a number, or a sequence of replicates."""
    out: list[list[float]] = []
    for i, r in enumerate(_items(results, "results")):
        if isinstance(r, bool | numbers.Real | Decimal):
            out.append([_number(r, f"results[{i}]")])
        else:
            out.append(_floats(r, f"results[{i}]"))
    return out


def _interp(x: float, xp: list[float], fp: list[float]) -> float:
    """Linear interpolation in the increasing xp, constant beyond its ends (``numpy.interp``)."""
    if x <= xp[0]:
        return fp[0]
    if x >= xp[-1]:
        return fp[-1]
    k = bisect_right(xp, x) - 1
    return fp[k] + (x - xp[k]) * (fp[k + 1] - fp[k]) / (xp[k + 1] - xp[k])


def _q_method(labs: list[list[float]]) -> float:
    """The Q method's s*, C.5.2.2 (Formulae C.22 to C.25); 0.0 when all results are equal."""
    p = len(labs)
    # Every difference between results of two laboratories, weighted 1/(nᵢ·nⱼ) (C.23).
    pairs = sorted(
        (abs(a - b), 1.0 / (len(li) * len(lj)))
        for i, li in enumerate(labs)
        for lj in labs[i + 1 :]
        for a in li
        for b in lj
    )
    # Differences equal in decimal (results reported to fixed decimals) differ by rounding
    # noise in binary: merge those within 4 eps·max|x| of a step's first difference, so that
    # H1 has one step per distinct difference, as pt13528 does.
    tie = 4 * sys.float_info.epsilon * max(abs(v) for lab in labs for v in lab)
    steps: list[float] = []
    mass: list[float] = []
    for diff, weight in pairs:
        diff = 0.0 if diff <= tie else diff
        if steps and diff - steps[-1] <= tie:
            mass[-1] += weight
        else:
            steps.append(diff)
            mass.append(weight)
    if steps == [0.0]:
        return 0.0
    h = [v * 2.0 / (p * (p - 1)) for v in accumulate(mass)]  # H1 at each step
    h0 = h[0] if steps[0] == 0 else 0.0
    # G1: H1 taken at the middle of each step, linear in between, G1(0) = 0 (C.24).
    mids = [0.5 * (h[k] + h[k - 1]) for k in range(1, len(h))]
    if steps[0] == 0:
        xs, gs = steps, [0.0, *mids]
    else:
        xs, gs = [0.0, *steps], [0.0, 0.5 * h[0], *mids]
    top = _interp(0.25 + 0.75 * h0, gs, xs)
    return top / (math.sqrt(2.0) * NormalDist().inv_cdf(0.625 + 0.375 * h0))  # (C.25)


def _psi(u: float) -> float:
    """Hampel's ψ, Formula (C.30), with a = 1.5, b = 3, c = 4.5."""
    a, b, c = _HAMPEL_LIMITS
    size = abs(u)
    if size <= a:
        return u
    if size <= b:
        return math.copysign(a, u)
    return math.copysign(c - size, u) if size <= c else 0.0


def _hampel(ys: list[float], scale: float) -> tuple[float, bool]:
    """Hampel location by the finite-step algorithm, C.5.3.3: (x*, whether a unique root).

    On standardised values qᵢ = (yᵢ − median)/s*, Σψ(qᵢ − t) is linear in t between
    the nodes qᵢ ± a, b, c: its roots are found exactly, and the one nearest the median
    is x*. No root nearest alone (two equally near): the median, as pt13528 does.
    """
    med = _median_sorted(sorted(ys))
    if scale == 0:
        return med, False
    qs = [(y - med) / scale for y in ys]
    nodes = sorted(q + k for q in qs for c in _HAMPEL_LIMITS for k in (-c, c))
    sums = [math.fsum(_psi(q - t) for q in qs) for t in nodes]
    # A sum of terms of at most 1.5 below 1e-12 is a zero; roots closer than `tiny` (the
    # rounding of the nodes) are one root, found at a node and on the segment beside it.
    tiny = 1e-12 * max(1.0, max(abs(q) for q in qs))
    roots: list[float] = []
    for k in range(len(nodes) - 1):
        a, b = sums[k], sums[k + 1]
        roots += [t for t, v in ((nodes[k], a), (nodes[k + 1], b)) if abs(v) < 1e-12]
        if a * b < 0 and nodes[k + 1] - nodes[k] > tiny:
            roots.append(nodes[k] - a / ((b - a) / (nodes[k + 1] - nodes[k])))
    if not roots:  # the outermost nodes are always roots (ψ = 0 beyond c); kept for safety
        return med, False
    nearest = min(abs(r) for r in roots)
    best = [r for r in roots if abs(r) - nearest <= tiny]
    if max(best) - min(best) > tiny:  # two different roots equally near the median
        return med, False
    return med + scale * best[0], True


def q_hampel(results: Values | Sequence[Values]) -> QHampel:
    """Robust mean and standard deviation by the Q method and the Hampel estimator (C.5).

    ``results`` holds one entry per laboratory: a number, or a sequence of that
    laboratory's replicate results (numbers and sequences may be mixed).

    - s*, the Q method (C.5.2.2, Formulae C.22 to C.25): H1 is the weighted
      distribution of the absolute differences between results of different
      laboratories (weight 1/(nᵢ·nⱼ) for laboratories with nᵢ and nⱼ results,
      Formula C.23); G1 interpolates it linearly between the midpoints of its
      steps; s* = G1⁻¹(0.25 + 0.75·H1(0)) / (√2·Φ⁻¹(0.625 + 0.375·H1(0))).
    - x*, the Hampel estimator (C.5.3, ψ of Formula C.30 with a = 1.5, b = 3,
      c = 4.5) by the finite-step algorithm of C.5.3.3, on the laboratory means
      with s* as scale: the root of Σψ((yᵢ − x)/s*) = 0 nearest the median
      (C.5.4, Q/Hampel).

    When all results are equal, s* is 0: ``degenerate`` is true and x* is the
    median. When two different roots are equally near the median, x* is the
    median and ``location_rule`` says so.

    Raises :class:`~clen_core.errors.StatisticsError` for fewer than 2
    laboratories, a laboratory without results, or a non-finite value.

    >>> r = q_hampel([1.0, 2.0, 3.0, 4.0, 100.0])
    >>> round(r.location, 9), round(r.scale, 6), r.location_rule
    (2.5, 3.106802, 'hampel')
    """
    labs = _labs(results)
    _spread([v for lab in labs for v in lab], "results")
    p = len(labs)
    if p < 2:
        raise StatisticsError(f"the Q method needs at least 2 laboratories, got {p}")
    scale = _finite_scale(_q_method(labs), "s*")
    location, unique = _hampel([_mean(lab) for lab in labs], scale)
    return QHampel(location, scale, 0, True, scale == 0, p, "hampel" if unique else "median")


# --------------------------------------------------------------------------- homogeneity, stability


def _chi2_cdf(x: float, nu: int) -> float:
    """P(χ²_ν ≤ x) for a whole ν ≥ 1 (closed forms of the regularised gamma function)."""
    if x <= 0:
        return 0.0
    h = x / 2
    if nu % 2 == 0:
        return 1.0 - math.fsum(
            math.exp(j * math.log(h) - h - math.lgamma(j + 1)) for j in range(nu // 2)
        )
    tail = (math.exp((j + 0.5) * math.log(h) - h - math.lgamma(j + 1.5)) for j in range(nu // 2))
    return math.erf(math.sqrt(h)) - math.fsum(tail)


def _beta_inc(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b), by its continued fraction (Lentz)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    if x > (a + 1) / (a + b + 2):  # the fraction converges fast only below this point
        return 1.0 - _beta_inc(b, a, 1 - x)
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    f = d
    for m in range(1, 1000):
        for num in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            f *= c * d
        if abs(c * d - 1.0) < 1e-16:
            break
    return front * f / a


def _inverse(cdf: Callable[[float], float], prob: float) -> float:
    """The x ≥ 0 with cdf(x) = prob, by bisection down to adjacent floats."""
    lo, hi = 0.0, 1.0
    while cdf(hi) < prob:
        lo, hi = hi, 2 * hi
    while (mid := (lo + hi) / 2) not in (lo, hi):
        lo, hi = (mid, hi) if cdf(mid) < prob else (lo, mid)
    return mid


def expanded_criterion_factors(g: int, m: int = 2) -> tuple[float, float]:
    """F1 and F2 of the expanded homogeneity criterion, ISO 13528:2022 B.2.3, Table B.1.

    Computed from their definitions, ``F1 = χ²₀.₉₅(g − 1)/(g − 1)`` and
    ``F2 = (F₀.₉₅(g − 1, g(m − 1)) − 1)/m`` (for duplicates, m = 2, the
    ``(F₀.₉₅(g − 1, g) − 1)/2`` behind Table B.1, which prints them to two
    decimals; for m > 2 the same derivation with g(m − 1) degrees of freedom
    for s_w, as pt13528 does). Table B.1 covers 7 ≤ g ≤ 20 items: any other g
    raises :class:`~clen_core.errors.StatisticsError`, as does m < 2.

    >>> [round(f, 2) for f in expanded_criterion_factors(10)]  # Table B.1: 1.88, 1.01
    [1.88, 1.01]
    """
    g = _whole(g, "g (number of items)", 1)
    m = _whole(m, "m (replicates per item)", 2)
    if g not in _TABLE_B1:
        raise StatisticsError(
            f"Table B.1 gives F1 and F2 for 7 ≤ g ≤ 20 items only, got g = {g}: "
            "the expanded criterion is not defined for that number of items"
        )
    f1 = _inverse(lambda x: _chi2_cdf(x, g - 1), 0.95) / (g - 1)
    d1, d2 = g - 1, g * (m - 1)
    f_95 = _inverse(lambda x: _beta_inc(d1 / 2, d2 / 2, d1 * x / (d1 * x + d2)), 0.95)
    return f1, (f_95 - 1) / m


@attrs.frozen
class Homogeneity:
    """The result of :func:`homogeneity` (ISO 13528:2022 B.2, B.3)."""

    g: int
    """Number of test items."""
    m: int
    """Replicate results per item."""
    mean: float
    """General mean: the mean of the item means."""
    s_x: float
    """Standard deviation of the item means (Formula B.7; B.14 for m = 2)."""
    s_w: float
    """Within-item standard deviation, √(mean of the items' variances) (B.8; B.15)."""
    s_s: float
    """Between-item standard deviation √(s_x² − s_w²/m), 0.0 when that is negative (B.10; B.16)."""
    criterion: float
    """0.3·σ_pt, the limit for s_s (B.2.2, Formula B.1)."""
    passed: bool
    """Whether s_s ≤ 0.3·σ_pt: the items are adequately homogeneous."""
    f1: float | None
    """F1 of Table B.1 (see :func:`expanded_criterion_factors`); None when g is outside 7…20."""
    f2: float | None
    """F2 of Table B.1; None when g is outside 7…20."""
    expanded_criterion: float | None
    """√(F1·(0.3·σ_pt)² + F2·s_w²), the limit for s_s that allows for the sampling error
    of s_s (B.2.3); None when g is outside Table B.1 (7…20): not defined there."""
    passed_expanded: bool | None
    """Whether s_s ≤ the expanded criterion; None when that is not defined."""
    uncertainty: float
    """u_hom = s_s, the inhomogeneity's contribution to u(x_pt) (Formula 3, 7.2.2; B.2.5)."""


def _table(items: Sequence[Values], what: str) -> list[list[float]]:
    rows = [_floats(row, f"{what}[{i}]") for i, row in enumerate(_items(items, what))]
    m = len(rows[0])
    for i, row in enumerate(rows):
        if len(row) != m:
            raise StatisticsError(
                f"{what}: every item needs the same number of replicates; "
                f"{what}[0] has {m}, {what}[{i}] has {len(row)}"
            )
    return rows


def homogeneity(items: Sequence[Values], sigma_pt: float) -> Homogeneity:
    """Homogeneity check of g test items with m replicates each, ISO 13528:2022 B.2, B.3.

    ``items`` holds one sequence of m ≥ 2 replicate results per item (g ≥ 2
    items). From the item means x̄ₜ and variances sₜ² (Formulae B.4 to B.10;
    B.11 to B.16 are the same for m = 2): s_x² is the variance of the x̄ₜ,
    s_w² the mean of the sₜ², and s_s² = s_x² − s_w²/m (0 when negative).
    The items are adequately homogeneous when s_s ≤ 0.3·σ_pt (B.2.2); the
    expanded criterion of B.2.3, s_s ≤ √(F1·(0.3·σ_pt)² + F2·s_w²), allows for
    the sampling error of s_s and is given for the g of Table B.1 only.

    Raises :class:`~clen_core.errors.StatisticsError` for fewer than 2 items,
    fewer than 2 replicates, unequal numbers of replicates, a non-finite
    value, or σ_pt ≤ 0.

    >>> h = homogeneity([[10.0, 10.2], [10.1, 10.1], [9.9, 10.1]], sigma_pt=0.5)
    >>> round(h.s_x, 4), round(h.s_w, 4), round(h.s_s, 4), h.passed, h.f1
    (0.0577, 0.1155, 0.0, True, None)
    """
    rows = _table(items, "items")
    sigma = _positive(sigma_pt, "sigma_pt")
    g, m = len(rows), len(rows[0])
    if g < 2:
        raise StatisticsError(f"the homogeneity check needs at least 2 items, got {g}")
    if m < 2:
        raise StatisticsError(
            f"the homogeneity check needs at least 2 replicates per item, got {m}"
        )
    means = [_mean(row) for row in rows]
    s_x = _sd(means)
    s_w = _rms((_sd(row) for row in rows), g)
    big = max(s_x, s_w) or 1.0  # s_s = √(s_x² − s_w²/m), scaled: squares cannot overflow
    s_s = big * math.sqrt(max(0.0, (s_x / big) ** 2 - (s_w / big) ** 2 / m))
    criterion = 0.3 * sigma
    f1 = f2 = expanded = None
    if g in _TABLE_B1:
        f1, f2 = expanded_criterion_factors(g, m)
        expanded = math.hypot(math.sqrt(f1) * criterion, math.sqrt(f2) * s_w)
    return Homogeneity(
        g=g,
        m=m,
        mean=_mean(means),
        s_x=s_x,
        s_w=s_w,
        s_s=s_s,
        criterion=criterion,
        passed=s_s <= criterion,
        f1=f1,
        f2=f2,
        expanded_criterion=expanded,
        passed_expanded=None if expanded is None else s_s <= expanded,
        uncertainty=s_s,
    )


@attrs.frozen
class Stability:
    """The result of :func:`stability` (ISO 13528:2022 B.5)."""

    mean_before: float
    """ȳ₁, the mean of the results before (or at the first time)."""
    mean_after: float
    """ȳ₂, the mean of the results after (or at the second time)."""
    difference: float
    """|ȳ₁ − ȳ₂|."""
    criterion: float
    """0.3·σ_pt, the limit for the difference (B.5.1, Formula B.17)."""
    passed: bool
    """Whether |ȳ₁ − ȳ₂| ≤ 0.3·σ_pt: the items are adequately stable."""
    expanded_criterion: float | None
    """0.3·σ_pt + 2·√(u²(ȳ₁) + u²(ȳ₂)) (B.5.2, Formula B.18); None without the uncertainties."""
    passed_expanded: bool | None
    """Whether the difference ≤ the expanded criterion; None without the uncertainties."""
    uncertainty: float
    """u_stab = |ȳ₁ − ȳ₂|/√3: the change taken as the half-width of a rectangular distribution
    (GUM 4.3.7). ISO 13528 names u_stab in Formula (3) of 7.2.2 but gives no formula for it;
    this is the usual convention (as in ISO Guide 35). Add it to u(x_pt) with
    :func:`combine_uncertainty` when the instability is not negligible."""


def stability(
    before: Values,
    after: Values,
    sigma_pt: float,
    *,
    u_before: float | None = None,
    u_after: float | None = None,
) -> Stability:
    """Stability check of the test items, ISO 13528:2022 B.5 (and B.6, transport).

    The items are adequately stable when the means of the results before and
    after (at two times, or before and after transport) differ by at most
    0.3·σ_pt (B.5.1, Formula B.17). Given the standard uncertainties of the two
    means, ``u_before`` and ``u_after``, the expanded criterion of B.5.2
    (Formula B.18) is evaluated too: |ȳ₁ − ȳ₂| ≤ 0.3·σ_pt + 2·√(u²(ȳ₁) + u²(ȳ₂)).

    Raises :class:`~clen_core.errors.StatisticsError` for an empty or
    non-finite input, σ_pt ≤ 0, a negative uncertainty, or only one of
    ``u_before`` and ``u_after``.

    >>> s = stability([10.0, 10.2], [10.3, 10.1], sigma_pt=1.0)
    >>> round(s.difference, 6), s.criterion, s.passed, round(s.uncertainty, 6)
    (0.1, 0.3, True, 0.057735)
    """
    y1 = _floats(before, "before")
    y2 = _floats(after, "after")
    sigma = _positive(sigma_pt, "sigma_pt")
    m1, m2 = _mean(y1), _mean(y2)
    diff = abs(m1 - m2)
    if not math.isfinite(diff):
        raise StatisticsError("before and after: the difference of the means overflows")
    criterion = 0.3 * sigma
    expanded = None
    if (u_before is None) != (u_after is None):
        raise StatisticsError(
            "give both u_before and u_after for the expanded criterion, or neither"
        )
    if u_before is not None and u_after is not None:
        u1 = _non_negative(u_before, "u_before")
        expanded = criterion + 2 * math.hypot(u1, _non_negative(u_after, "u_after"))
    return Stability(
        mean_before=m1,
        mean_after=m2,
        difference=diff,
        criterion=criterion,
        passed=diff <= criterion,
        expanded_criterion=expanded,
        passed_expanded=None if expanded is None else diff <= expanded,
        uncertainty=diff / math.sqrt(3),
    )


# --------------------------------------------------------------------------- σ_pt and u(x_pt)


def u_assigned(scale: float, p: int) -> float:
    """Standard uncertainty of a consensus value ``u(x_pt) = 1.25·s*/√p`` (7.7.7, Formula 6).

    >>> u_assigned(0.4, 25)  # 1.25 × 0.4 / 5
    0.1
    """
    s = _non_negative(scale, "scale (s*)")
    p = _whole(p, "p (number of results)", 1)
    return 1.25 * s / math.sqrt(p)


def combine_uncertainty(
    u_char: float, u_hom: float = 0.0, u_stab: float = 0.0, u_trans: float = 0.0
) -> float:
    """``u(x_pt) = √(u_char² + u_hom² + u_stab² + u_trans²)``, ISO 13528:2022 7.2.2, Formula (3).

    u_char from the characterisation (e.g. :func:`u_assigned`), u_hom from the
    inhomogeneity (:attr:`Homogeneity.uncertainty`), u_stab and u_trans from
    instability in storage and transport (:attr:`Stability.uncertainty`).

    >>> combine_uncertainty(0.3, 0.4)
    0.5
    """
    return math.hypot(
        _non_negative(u_char, "u_char"),
        _non_negative(u_hom, "u_hom"),
        _non_negative(u_stab, "u_stab"),
        _non_negative(u_trans, "u_trans"),
    )


def negligible(u: float, sigma_pt: float) -> bool:
    """Whether u(x_pt) is negligible: ``u(x_pt) < 0.3·σ_pt`` (9.2.1, Formula 10).

    >>> negligible(0.29, 1.0), negligible(0.3, 1.0)
    (True, False)
    """
    return _non_negative(u, "u(x_pt)") < 0.3 * _positive(sigma_pt, "sigma_pt")


def horwitz(c: float) -> float:
    """σ_pt by the Horwitz–Thompson equation, mass fraction ``c`` (0 < c ≤ 1), 8.4, Formula (8).

    ``0.22·c`` when c < 1.2×10⁻⁷; ``0.02·c^0.8495`` when 1.2×10⁻⁷ ≤ c ≤ 0.138;
    ``0.01·√c`` when c > 0.138. Both c and σ_pt are mass fractions (1 mg/kg is
    1e-6): convert to the study's unit before using it as σ_pt.

    >>> horwitz(0.25)  # 0.01 × 0.5
    0.005
    """
    c = _positive(c, "mass fraction c")
    if c > 1:
        raise StatisticsError(f"mass fraction c must be ≤ 1, got {c}")
    if c < 1.2e-7:
        return 0.22 * c
    if c <= 0.138:
        return 0.02 * math.pow(c, 0.8495)
    return 0.01 * math.sqrt(c)


def sigma_pt_from_precision(sigma_R: float, sigma_r: float, n: int) -> float:
    """σ_pt from a precision experiment: ``√(σ_R² − σ_r²·(1 − 1/n))``, 8.5.1, Formula (9).

    For results that are means of n replicates, from the reproducibility σ_R
    and repeatability σ_r of the method. σ_r > σ_R is inconsistent (σ_R² is
    σ_L² + σ_r²) and raises :class:`~clen_core.errors.StatisticsError`, as do
    σ_R ≤ 0, σ_r < 0 and n < 1.

    >>> round(sigma_pt_from_precision(23.2, 14.3, 2), 1)  # Annex E.10
    20.9
    """
    big = _positive(sigma_R, "sigma_R")
    small = _non_negative(sigma_r, "sigma_r")
    n = _whole(n, "n (replicates per result)", 1)
    if small > big:
        raise StatisticsError(
            f"sigma_r ({small}) exceeds sigma_R ({big}): inconsistent precision data "
            "(the reproducibility sd includes the repeatability sd)"
        )
    return big * math.sqrt(1 - (small / big) ** 2 * (1 - 1 / n))  # scaled: no overflow


# --------------------------------------------------------------------------- scores


def d_score(x: float, x_pt: float) -> float:
    """The difference ``D = x − x_pt``, ISO 13528:2022 9.3.1, Formula (11).

    >>> d_score(10.5, 10.0)
    0.5
    """
    return _number(x, "x") - _number(x_pt, "x_pt")


def d_percent(x: float, x_pt: float) -> float:
    """The percent difference ``D% = 100·(x − x_pt)/x_pt``, 9.3.1, Formula (12).

    Undefined for x_pt = 0: :class:`~clen_core.errors.StatisticsError`.

    >>> d_percent(10.5, 10.0)
    5.0
    """
    x_pt = _number(x_pt, "x_pt")
    if x_pt == 0:
        raise StatisticsError("x_pt is 0: the percent difference D% is undefined")
    return 100 * (_number(x, "x") - x_pt) / x_pt


def pa_score(x: float, x_pt: float, delta_e: float) -> float:
    """The PA score ``PA = 100·(x − x_pt)/δE``, 9.3, Formula (13): D in % of the maximum
    permissible error δE (acceptable when |PA| < 100, 9.3.2).

    >>> pa_score(10.5, 10.0, 2.0)
    25.0
    """
    d = _number(x, "x") - _number(x_pt, "x_pt")
    return 100 * d / _positive(delta_e, "delta_e")


def z_score(x: float, x_pt: float, sigma_pt: float) -> float:
    """``z = (x − x_pt) / σ_pt``, ISO 13528:2022 9.4.1, Formula (14).

    >>> z_score(10.5, 10.0, 0.25)
    2.0
    """
    return (_number(x, "x") - _number(x_pt, "x_pt")) / _positive(sigma_pt, "sigma_pt")


def z_prime_score(x: float, x_pt: float, sigma_pt: float, u_x_pt: float) -> float:
    """``z′ = (x − x_pt) / √(σ_pt² + u²(x_pt))``, 9.5.1, Formula (15).

    >>> z_prime_score(10.5, 10.0, 0.3, 0.4)  # 0.5 / 0.5
    1.0
    """
    d = _number(x, "x") - _number(x_pt, "x_pt")
    sigma = _positive(sigma_pt, "sigma_pt")
    u = _non_negative(u_x_pt, "u_x_pt")
    return d / math.hypot(sigma, u)


def _ratio_of(d: float, a: float, b: float, names: str) -> float:
    den = math.hypot(a, b)
    if den == 0:
        raise StatisticsError(f"{names} are both 0: the score is undefined")
    return d / den


def zeta_score(x: float, x_pt: float, u_x: float, u_x_pt: float) -> float:
    """``ζ = (x − x_pt) / √(u²(x) + u²(x_pt))``, standard uncertainties, 9.6.1, Formula (19).

    >>> zeta_score(10.5, 10.0, 0.3, 0.4)
    1.0
    """
    d = _number(x, "x") - _number(x_pt, "x_pt")
    u = _non_negative(u_x, "u_x")
    u_pt = _non_negative(u_x_pt, "u_x_pt")
    return _ratio_of(d, u, u_pt, "u_x and u_x_pt")


def en_score(x: float, x_pt: float, U_x: float, U_x_pt: float) -> float:
    """``Eₙ = (x − x_pt) / √(U²(x) + U²(x_pt))``, expanded uncertainties, 9.7.1, Formula (20).

    >>> en_score(10.5, 10.0, 0.3, 0.4)
    1.0
    """
    d = _number(x, "x") - _number(x_pt, "x_pt")
    big_u = _non_negative(U_x, "U_x")
    big_u_pt = _non_negative(U_x_pt, "U_x_pt")
    return _ratio_of(d, big_u, big_u_pt, "U_x and U_x_pt")


def classify_z(z: float) -> ScoreClass:
    """Satisfactory if |z| ≤ 2, questionable if 2 < |z| < 3, unsatisfactory if |z| ≥ 3 (9.4.2).

    The same limits apply to z′ and ζ.

    >>> classify_z(-2.0).value, classify_z(2.5).value, classify_z(-3.0).value
    ('satisfactory', 'questionable', 'unsatisfactory')
    """
    a = abs(_number(z, "z"))
    if a <= 2:
        return ScoreClass.SATISFACTORY
    if a < 3:
        return ScoreClass.QUESTIONABLE
    return ScoreClass.UNSATISFACTORY


def action_signal(en: float) -> bool:
    """Whether an Eₙ score is an action signal: ``|Eₙ| ≥ 1`` (9.7.2).

    >>> action_signal(0.99), action_signal(-1.0)
    (False, True)
    """
    return abs(_number(en, "En")) >= 1


# --------------------------------------------------------------------------- combined scores


def rescaled_sum_z(zs: Values) -> float:
    """The rescaled sum of z scores ``RSZ = Σzᵢ/√n`` over n items or rounds.

    ISO 13528:2022 (9.9) discusses combined scores without a formula; RSZ and
    SSZ are the classic pair (ISO 13528:2005, the IUPAC Harmonized Protocol).

    For independent z scores of a laboratory without bias, RSZ is distributed
    like a single z (standard normal): read it with the limits of z. It is
    sensitive to a consistent bias, insensitive to scatter.

    Caution (ISO 13528:2022, 9.9): a combined score can hide a bad result
    (large z of opposite signs cancel in RSZ; one large z is diluted among
    small ones) and assumes independent scores on one scale. Use it alongside
    the individual scores, never instead of them.

    >>> rescaled_sum_z([1.0, 1.0, 1.0, 1.0])  # 4 / 2
    2.0
    """
    values = _floats(zs, "z scores")
    return _mean(values) * math.sqrt(len(values))


def sum_squared_z(zs: Values) -> float:
    """The sum of squared z scores ``SSZ = Σzᵢ²`` over n items or rounds (9.9, as RSZ).

    For independent z scores of a laboratory without bias, SSZ is distributed
    as χ² with n degrees of freedom: compare it with the χ²_n quantiles. It is
    sensitive to bias and to scatter, and does not show their direction.

    Caution (ISO 13528:2022, 9.9): a combined score can hide a bad result
    (large z of opposite signs cancel in RSZ; one large z is diluted among
    small ones) and assumes independent scores on one scale. Use it alongside
    the individual scores, never instead of them.

    >>> sum_squared_z([1.0, -2.0, 2.0])
    9.0
    """
    return math.fsum(z * z for z in _floats(zs, "z scores"))
