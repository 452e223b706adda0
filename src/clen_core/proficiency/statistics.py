"""Proficiency-testing statistics (ISO 13528, ``domain.md`` §6).

Robust statistics of the participants' results:

- :func:`median`, :func:`made` (``1.483·median|xᵢ − median|``) and :func:`niqr`
  (``0.7413·IQR``, quartiles by linear interpolation, Hyndman–Fan type 7);
- :func:`algorithm_a`: the robust mean x* and robust standard deviation s* of
  ISO 13528 Annex C, with its stopping rule, its number of iterations, and
  non-convergence or degenerate data reported instead of a wrong number;
- :func:`u_assigned` (``1.25·s*/√p``) and :func:`negligible` (``u < 0.3·σ_pt``);
- :func:`horwitz`: σ_pt from the Horwitz–Thompson equation for a mass fraction.

Scores of one result x against the assigned value x_pt: :func:`z_score`,
:func:`z_prime_score`, :func:`zeta_score`, :func:`en_score`; :func:`classify_z`
and :func:`action_signal` interpret them. :mod:`clen_core.proficiency.evaluation`
uses them to score a whole round.

The functions take a Python sequence of numbers or a pyarrow ``Array`` /
``ChunkedArray`` (converted once to floats). Empty input, a missing or
non-finite value, and σ ≤ 0 raise :class:`ValueError` naming what is wrong.
Only the standard library is used (pyarrow only to read an Arrow array).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, Literal

import attrs

from clen_core.errors import StatisticsError
from clen_core.model.proficiency import ScoreClass

__all__ = [
    "MADE_FACTOR",
    "NIQR_FACTOR",
    "AlgorithmA",
    "ScoreClass",
    "action_signal",
    "algorithm_a",
    "classify_z",
    "en_score",
    "horwitz",
    "made",
    "median",
    "negligible",
    "niqr",
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

Values = Sequence[float] | Iterable[Any]
"""A sequence of numbers, or a pyarrow Array or ChunkedArray."""


# --------------------------------------------------------------------------- input


def _is_arrow(values: object) -> bool:
    return type(values).__module__.startswith("pyarrow") and hasattr(values, "to_pylist")


def _floats(values: Values, what: str = "values") -> list[float]:
    """The values as a list of finite floats (one conversion for an Arrow array)."""
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
    out: list[float] = []
    for i, v in enumerate(items):
        if isinstance(v, bool) or not isinstance(v, numbers.Real | Decimal):
            raise StatisticsError(f"{what}[{i}]: expected a number, got {type(v).__name__}")
        f = float(v)
        if not math.isfinite(f):
            raise StatisticsError(f"{what}[{i}] is not finite: {f}")
        out.append(f)
    return out


def _number(x: float, what: str) -> float:
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


# --------------------------------------------------------------------------- robust statistics


def _median_sorted(xs: list[float]) -> float:
    n = len(xs)
    mid = n // 2
    return xs[mid] if n % 2 else (xs[mid - 1] + xs[mid]) / 2


def median(values: Values) -> float:
    """The median (the mean of the two middle values when their number is even).

    >>> median([3.0, 1.0, 2.0, 10.0])
    2.5
    """
    return _median_sorted(sorted(_floats(values)))


def _made(xs: list[float]) -> float:
    med = _median_sorted(sorted(xs))
    return MADE_FACTOR * _median_sorted(sorted(abs(x - med) for x in xs))


def made(values: Values) -> float:
    """MADe, the scaled median absolute deviation: ``1.483·median|xᵢ − median(x)|``.

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
    """nIQR, the normalised interquartile range: ``0.7413·(Q3 − Q1)``.

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
    return math.fsum(xs) / len(xs)


def _sd(xs: list[float]) -> float:
    m = _mean(xs)
    return math.sqrt(math.fsum((x - m) ** 2 for x in xs) / (len(xs) - 1))


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

    @property
    def usable(self) -> bool:
        """Whether x* and s* can be used (converged, not degenerate)."""
        return self.converged and not self.degenerate


def algorithm_a(values: Values, *, tol: float = 1e-10, max_iter: int = 10_000) -> AlgorithmA:
    """Robust mean x* and standard deviation s* by ISO 13528 Algorithm A (Annex C.3).

    Start: x* = median, s* = MADe (the sample standard deviation when MADe is 0).
    Each iteration: δ = 1.5·s*; clip every value to [x* − δ, x* + δ]; the new
    x* is the mean of the clipped values and the new s* is 1.134 times their
    standard deviation (n − 1 divisor).

    Stopping rule: stop after the first iteration in which neither x* nor s*
    moves by more than ``tol`` times the new s* — a tolerance relative to the
    scale, so the result is unchanged by a change of units or origin. ISO's
    wording is "no change in the third significant figure of s* and the
    equivalent figure of x*", about ``tol`` = 1e-3; the default 1e-10 goes on
    to the fixed point itself, which then agrees with a hand calculation to
    any printed precision. Not stopped after ``max_iter`` iterations:
    ``converged`` is false.

    Degenerate data: when the values are all equal, or when s* collapses
    towards 0 (the values inside x* ± 1.5·s* are one repeated value and s*
    shrinks by a steady factor below 1 at each iteration, which happens when
    most values are identical), ``degenerate`` is true, ``scale`` is 0.0 and
    ``location`` is that repeated value: there is no usable s*.

    Raises ValueError for fewer than 2 values, a non-finite value, ``tol`` ≤ 0
    or ``max_iter`` < 1.

    >>> a = algorithm_a([1.0, 2.0, 3.0, 4.0, 100.0])
    >>> round(a.location, 3), round(a.scale, 3), a.converged
    (4.036, 4.096, True)
    """
    xs = _floats(values)
    p = len(xs)
    if p < 2:
        raise StatisticsError(f"Algorithm A needs at least 2 values, got {p}")
    if not (isinstance(tol, numbers.Real) and 0 < tol < 1):
        raise StatisticsError(f"tol must be between 0 and 1, got {tol}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise StatisticsError(f"max_iter must be a whole number ≥ 1, got {max_iter}")
    x = _median_sorted(sorted(xs))
    s = _made(xs)
    initial: Literal["made", "sd"] = "made"
    if s == 0:
        initial = "sd"
        if min(xs) == max(xs):
            return AlgorithmA(x, 0.0, 0, True, True, p, initial)
        s = _sd(xs)
    ratio: float | None = None
    for k in range(1, max_iter + 1):
        delta = _CLIP * s
        lo, hi = x - delta, x + delta
        clipped = [lo if v < lo else hi if v > hi else v for v in xs]
        x_new = _mean(clipped)
        s_new = _CONSISTENCY * _sd(clipped)
        if s_new == 0:  # s* reached 0 before the collapse was recognised
            return AlgorithmA(x_new, 0.0, k, False, True, p, initial)
        if abs(x_new - x) <= tol * s_new and abs(s_new - s) <= tol * s_new:
            return AlgorithmA(x_new, s_new, k, True, False, p, initial)
        # Degenerate: one repeated value v strictly inside, all others clipped. While s*
        # shrinks the others stay clipped, the update is homogeneous of degree 1 in
        # (x* − v, s*), and s* falls by the same factor each time: to 0 if below 1.
        inside = {v for v in xs if lo < v < hi}
        previous, ratio = ratio, s_new / s
        if len(inside) == 1:
            if (
                previous is not None
                and ratio < _DEGENERATE_RATIO
                and abs(ratio - previous) <= _RATIO_STABLE
            ):
                return AlgorithmA(inside.pop(), 0.0, k, False, True, p, initial)
        else:
            ratio = None
        x, s = x_new, s_new
    return AlgorithmA(x, s, max_iter, False, False, p, initial)


# --------------------------------------------------------------------------- σ_pt and u(x_pt)


def u_assigned(scale: float, p: int) -> float:
    """Standard uncertainty of a consensus assigned value: ``u(x_pt) = 1.25·s*/√p``.

    >>> u_assigned(0.4, 25)  # 1.25 × 0.4 / 5
    0.1
    """
    s = _non_negative(scale, "scale (s*)")
    if isinstance(p, bool) or not isinstance(p, int) or p < 1:
        raise StatisticsError(f"p (number of results) must be a whole number ≥ 1, got {p}")
    return 1.25 * s / math.sqrt(p)


def negligible(u: float, sigma_pt: float) -> bool:
    """Whether u(x_pt) is negligible against σ_pt: ``u(x_pt) < 0.3·σ_pt``.

    >>> negligible(0.29, 1.0), negligible(0.3, 1.0)
    (True, False)
    """
    return _non_negative(u, "u(x_pt)") < 0.3 * _positive(sigma_pt, "sigma_pt")


def horwitz(c: float) -> float:
    """σ_pt from the Horwitz–Thompson equation, for a mass fraction ``c`` (0 < c ≤ 1).

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


# --------------------------------------------------------------------------- scores


def z_score(x: float, x_pt: float, sigma_pt: float) -> float:
    """``z = (x − x_pt) / σ_pt``.

    >>> z_score(10.5, 10.0, 0.25)
    2.0
    """
    return (_number(x, "x") - _number(x_pt, "x_pt")) / _positive(sigma_pt, "sigma_pt")


def z_prime_score(x: float, x_pt: float, sigma_pt: float, u_x_pt: float) -> float:
    """``z′ = (x − x_pt) / √(σ_pt² + u²(x_pt))``.

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
    """``ζ = (x − x_pt) / √(u²(x) + u²(x_pt))``, with standard uncertainties.

    >>> zeta_score(10.5, 10.0, 0.3, 0.4)
    1.0
    """
    d = _number(x, "x") - _number(x_pt, "x_pt")
    u = _non_negative(u_x, "u_x")
    u_pt = _non_negative(u_x_pt, "u_x_pt")
    return _ratio_of(d, u, u_pt, "u_x and u_x_pt")


def en_score(x: float, x_pt: float, U_x: float, U_x_pt: float) -> float:
    """``Eₙ = (x − x_pt) / √(U²(x) + U²(x_pt))``, with expanded uncertainties.

    >>> en_score(10.5, 10.0, 0.3, 0.4)
    1.0
    """
    d = _number(x, "x") - _number(x_pt, "x_pt")
    big_u = _non_negative(U_x, "U_x")
    big_u_pt = _non_negative(U_x_pt, "U_x_pt")
    return _ratio_of(d, big_u, big_u_pt, "U_x and U_x_pt")


def classify_z(z: float) -> ScoreClass:
    """Satisfactory when |z| ≤ 2, questionable when 2 < |z| < 3, unsatisfactory when |z| ≥ 3.

    The same limits apply to z′.

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
    """Whether an Eₙ score is an action signal: ``|Eₙ| ≥ 1``.

    >>> action_signal(0.99), action_signal(-1.0)
    (False, True)
    """
    return abs(_number(en, "En")) >= 1
