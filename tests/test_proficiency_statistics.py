"""ISO 13528:2022 statistics: refereed by pt13528, worked by hand, properties and errors.

The referee is pt13528, an independent implementation of ISO 13528:2022 on NumPy and
SciPy: every function is compared with it on fixed data and on Hypothesis data, to
1e-9 relative (location estimates: 1e-9 of the scale), except the stopping rule
``stop="iso"``, defined by rounding, which must give the same iterations.

The worked examples were computed by hand from the standard's formulas (the arithmetic
is in the comments, or spelled out in plain Python in the test) or are printed in
Annex E of the standard (the table is cited); the clause is in each test's name or
docstring.
"""

from __future__ import annotations

import math
import random
import statistics as stdlib_statistics

import attrs
import pyarrow as pa
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pt13528 import assigned_value as pt_assigned
from pt13528 import homogeneity as pt_homogeneity
from pt13528 import robust as pt_robust
from pt13528 import scores as pt_scores
from pt13528 import sigma_pt as pt_sigma
from scipy import stats as scipy_stats

from clen_core.errors import StatisticsError
from clen_core.proficiency.statistics import (
    algorithm_a,
    algorithm_s,
    combine_uncertainty,
    d_percent,
    d_score,
    expanded_criterion_factors,
    homogeneity,
    negligible,
    pa_score,
    q_hampel,
    rescaled_sum_z,
    sigma_pt_from_precision,
    stability,
    sum_squared_z,
)

approx = pytest.approx
REL = 1e-9

# --------------------------------------------------------------------------- data of Annex E

# E.1, Table E.1: results with '<' values ignored / deleted, and printed (x*, s*).
E1_IGNORED = [10, 10, 12, 19, 20, 20, 23, 23, 25, 25, 26, 28, 28, 30, 28, 29, 30, 30, 31, 32, 32,
              45, 50]  # fmt: skip
E1_DELETED = [12, 19, 20, 23, 23, 25, 25, 26, 28, 28, 28, 29, 30, 30, 31, 32, 32, 45]
# E.2, Tables E.2 and E.3: arsenic in chocolate, 10 items in duplicate, and the stability check.
E2_HOMOGENEITY = [[0.185, 0.194], [0.187, 0.189], [0.182, 0.186], [0.188, 0.196],
                  [0.191, 0.181], [0.188, 0.180], [0.187, 0.196], [0.177, 0.186],
                  [0.179, 0.187], [0.188, 0.196]]  # fmt: skip
E2_STABILITY = [0.191, 0.198, 0.190, 0.196]
# E.3, Table E.4: atrazine in drinking water, 34 participants.
E3 = [0.040, 0.055, 0.178, 0.202, 0.206, 0.227, 0.228, 0.230, 0.230, 0.235, 0.236, 0.237, 0.243,
      0.244, 0.245, 0.2555, 0.260, 0.264, 0.267, 0.270, 0.273, 0.274, 0.274, 0.278, 0.2811, 0.287,
      0.287, 0.288, 0.289, 0.295, 0.296, 0.311, 0.331, 0.4246]  # fmt: skip
# E.13, Table E.11: standard deviations of 4 replicates (ν = 3), 25 participants.
E13_SD = [0.13, 0.21, 0.08, 0.24, 0.36, 0.32, 0.14, 0.26, 0.39, 0.53, 0.25, 0.24, 0.72, 0.26, 0.17,
          0.32, 0.4, 0.36, 0.33, 0.43, 0.40, 0.55, 0.39, 0.30, 0.22]  # fmt: skip
# Table B.1: g → (F1, F2), printed to two decimals.
TABLE_B1 = {20: (1.59, 0.57), 19: (1.60, 0.59), 18: (1.62, 0.62), 17: (1.64, 0.64),
            16: (1.67, 0.68), 15: (1.69, 0.71), 14: (1.72, 0.75), 13: (1.75, 0.80),
            12: (1.79, 0.86), 11: (1.83, 0.93), 10: (1.88, 1.01), 9: (1.94, 1.11),
            8: (2.01, 1.25), 7: (2.10, 1.43)}  # fmt: skip
ETOH = [40.02, 40.05, 39.98, 40.10, 39.95, 40.01, 40.07, 39.99, 40.45, 40.03, 39.97, 40.04]

# --------------------------------------------------------------------------- strategies

# Results reported to a fixed number of decimals (ties, repeated values) and arbitrary floats.
decimals = st.integers(-100_000, 100_000).map(lambda i: i / 1000)
coarse = st.integers(-30, 30).map(lambda i: i / 10)  # few distinct values: degenerate data
# Sane magnitudes: pt13528 squares values unscaled, and they underflow beyond a dynamic
# range of about 1e150 (test_extreme_magnitudes_neither_underflow_nor_overflow covers ours).
reals = st.one_of(st.just(0.0), st.floats(1e-6, 1e6), st.floats(-1e6, -1e-6))
samples = st.one_of(
    st.lists(decimals, min_size=2, max_size=30),
    st.lists(coarse, min_size=2, max_size=20),
    st.lists(reals, min_size=2, max_size=30),
)
spreads = st.lists(
    st.one_of(st.integers(0, 2000).map(lambda i: i / 1000), st.just(0.0), st.floats(1e-6, 1e4)),
    min_size=2,
    max_size=30,
)


def sig3(v: float) -> float:
    """v to three significant figures, by Python's own decimal formatting."""
    return float(f"{v:.3g}")


# --------------------------------------------------------------------------- Algorithm A, C.3.1


def test_algorithm_a_iso_stop_c31_worked_by_hand() -> None:
    """C.3.1 with the third-significant-figure rule, step by step in plain arithmetic."""
    data = [0.227, 0.230, 0.243, 0.255, 0.264, 0.270, 0.274, 0.281, 0.289, 0.311]
    # Start: median (0.264 + 0.270)/2 = 0.267; |xᵢ − 0.267| sorted: .003 .003 .007 .012 .014 |
    # .022 .024 .037 .040 .044 → median .018; MADe = 1.483 × .018 = .026694.
    x, s = stdlib_statistics.median(data), 1.483 * 0.018
    assert x == approx(0.267)
    # Iteration 1: δ = 1.5 × .026694 = .040041 → [.226959, .307041]: only .311 is clipped.
    # Σ = 2.644 − .311 + .307041 = 2.640041 → x* = .2640041.
    table = []
    for _ in range(10):
        lo, hi = x - 1.5 * s, x + 1.5 * s
        clipped = [min(max(v, lo), hi) for v in data]
        x_new = sum(clipped) / len(clipped)
        s_new = 1.134 * math.sqrt(sum((v - x_new) ** 2 for v in clipped) / (len(clipped) - 1))
        table.append((x_new, s_new))
        if len(table) > 1 and (sig3(x_new), sig3(s_new)) == (sig3(x), sig3(s)):
            break
        x, s = x_new, s_new
    # k   x*          s*           to 3 significant figures
    # 1   .2640041    .02915634    .264  .0292
    # 2   .2640739    .02930417    .264  .0293
    # 3   .2641030    .02936636    .264  .0294
    # 4   .2641153    .02939254    .264  .0294   ← no change from iteration 3: stop
    assert [(round(a, 7), round(b, 8)) for a, b in table] == [
        (0.2640041, 0.02915634), (0.2640739, 0.02930417),
        (0.264103, 0.02936636), (0.2641153, 0.02939254),
    ]  # fmt: skip
    iso = algorithm_a(data, stop="iso")
    assert (iso.iterations, iso.converged, iso.degenerate, iso.stop) == (4, True, False, "iso")
    assert (iso.location, iso.scale) == (approx(table[-1][0], rel=1e-12), approx(table[-1][1]))
    # The tolerance rule goes on to the fixed point, which the ISO rule stops short of.
    full = algorithm_a(data)
    assert full.stop == "converged"
    assert full.iterations > iso.iterations
    assert full.scale != approx(iso.scale, rel=1e-4)


def test_algorithm_a_iso_needs_two_updates() -> None:
    """C.3.1: "from one iteration to the next": the starting median/MADe are no iteration."""
    # [1, 2]: start 1.5, MADe .7415; update 1 changes s* (nothing clipped: 1.134 × .7071 = .8019),
    # update 2 repeats update 1 exactly: the earliest possible stop.
    a = algorithm_a([1.0, 2.0], stop="iso")
    assert (a.location, a.iterations) == (1.5, 2)
    assert a.scale == approx(1.134 * math.sqrt(0.5))


@pytest.mark.parametrize(
    ("data", "printed"),
    [(E1_IGNORED, (26.01, 7.23)), (E1_DELETED, (26.81, 5.29)), (E3, (0.2570, 0.0395))],
)
def test_algorithm_a_reproduces_annex_e(data: list[float], printed: tuple[float, float]) -> None:
    """Tables E.1 and E.5 print x*, s* as the C.3.1 stopping rule leaves them.

    The fixed point can differ by a unit of the last printed digit (E.1, first column:
    s* = 7.2296 with the ISO rule, 7.2373 at the fixed point).
    """
    places = 2 if printed[0] > 1 else 4
    iso = algorithm_a(data, stop="iso")
    assert (round(iso.location, places), round(iso.scale, places)) == printed
    full = algorithm_a(data)
    assert (full.location, full.scale) == approx(printed, abs=1.5 * 10**-places)
    assert algorithm_a(E3, stop="iso").iterations == 6  # Table E.4 iterates six times


FIXED_SETS = [
    ETOH,
    [1.0, 2.0, 3.0, 4.0, 100.0],
    [0.227, 0.230, 0.243, 0.255, 0.264, 0.270, 0.274, 0.281, 0.289, 0.311],
    E1_IGNORED,
    E1_DELETED,
    E3,
    [1, 1, 10],
    [5.0, 5.0, 5.0, 5.0, 5.1],
    [2.0] * 11 + [3.0],
    [7.25] * 6,
    [1e8 + 0.001 * i for i in (0, 1, 1, 2, 3, 5, 8, 13)],
]


def _iso_disagreement_is_a_rounding_tie(values: list[float], iterations: int) -> bool:
    """Whether an iterate lies on a boundary of the third significant figure.

    There, rounding noise in the last bit (pt13528 iterates in NumPy, with another
    summation order) decides the comparison, and either answer is right.
    """
    for k in range(1, iterations + 1):
        it = algorithm_a(values, stop="iso", max_iter=k)
        for v in (it.location, it.scale):
            if v and sig3(v * (1 + 1e-12)) != sig3(v * (1 - 1e-12)):
                return True
    return False


def _assert_iso_matches_pt(values: list[float]) -> None:
    ours = algorithm_a(values, stop="iso")
    ref = pt_robust.algorithm_a(values, tol="iso2022")
    if ours.degenerate or ref.degenerate:
        assert (ours.degenerate, ref.degenerate) == (True, True)
        assert ours.scale == ref.scale == 0.0
        assert ours.location == approx(ref.location, rel=REL)
        return
    if ours.iterations != ref.iterations:
        most = max(ours.iterations, ref.iterations)
        assert _iso_disagreement_is_a_rounding_tie(values, most), (ours, ref)
        return
    assert ours.converged == ref.converged
    assert ours.scale == approx(ref.scale, rel=REL)
    assert ours.location == approx(ref.location, rel=REL, abs=REL * ref.scale)


def _converged_matches_pt(values: list[float]) -> bool:
    """Whether the comparison was made (not when we stop at max_iter before convergence)."""
    ours = algorithm_a(values)
    ref = pt_robust.algorithm_a(values)
    assert ours.degenerate == ref.degenerate, (ours, ref)
    if ref.degenerate:
        assert ours.scale == ref.scale == 0.0
        assert ours.location == approx(ref.location, rel=REL)
        return True
    if not ours.converged:  # a very slow contraction: pt13528 allows 10 times more iterations
        return False
    assert ref.converged
    assert ours.scale == approx(ref.scale, rel=REL)
    assert ours.location == approx(ref.location, rel=REL, abs=REL * ref.scale)
    return True


@pytest.mark.parametrize("values", FIXED_SETS)
def test_algorithm_a_matches_pt13528_on_fixed_data(values: list[float]) -> None:
    ours = algorithm_a(values, stop="iso")
    ref = pt_robust.algorithm_a(values, tol="iso2022")
    assert (ours.iterations, ours.degenerate) == (ref.iterations, ref.degenerate)
    _assert_iso_matches_pt(values)
    assert _converged_matches_pt(values)


@given(values=samples)
def test_algorithm_a_iso_matches_pt13528(values: list[float]) -> None:
    _assert_iso_matches_pt(values)


@given(values=samples)
def test_algorithm_a_converged_matches_pt13528(values: list[float]) -> None:
    assume(_converged_matches_pt(values))


@given(values=samples, seed=st.integers(0, 2**32 - 1))
def test_algorithm_a_iso_is_permutation_invariant_and_bounded(
    values: list[float], seed: int
) -> None:
    shuffled = values[:]
    random.Random(seed).shuffle(shuffled)
    a = algorithm_a(values, stop="iso")
    assert algorithm_a(shuffled, stop="iso") == a
    assert min(values) <= a.location <= max(values)
    assert a.scale >= 0


@given(
    values=st.lists(decimals, min_size=2, max_size=20),
    a=st.sampled_from([-3.0, -1.0, 0.5, 2.0, 1000.0]),
    b=st.floats(-1e4, 1e4, allow_nan=False),
)
def test_algorithm_a_converged_is_equivariant(values: list[float], a: float, b: float) -> None:
    before = algorithm_a(values)
    after = algorithm_a([a * v + b for v in values])
    assume(before.usable)
    assert after.usable
    assert after.scale == approx(abs(a) * before.scale, rel=1e-6)
    assert after.location == approx(a * before.location + b, abs=1e-6 * abs(a) * before.scale)


def test_algorithm_a_iso_reports_degenerate_data() -> None:
    # [5, 5, 5, 5, 5.1]: s* shrinks by .951 per iteration (test_proficiency works it out):
    # its third figure changes every time, and the collapse is recognised before any stop.
    a = algorithm_a([5.0, 5.0, 5.0, 5.0, 5.1], stop="iso")
    assert (a.degenerate, a.scale, a.location, a.usable) == (True, 0.0, 5.0, False)


def test_algorithm_a_large_level_converges() -> None:
    # The iteration runs on (x − median)/max|x − median|: a level of 1e8 adds no rounding noise.
    data = [1e8 + v for v in (0.01, 0.02, 0.02, 0.03, 0.05, 0.08, 0.13)]
    a = algorithm_a(data)
    b = algorithm_a([v - 1e8 for v in data])
    assert a.usable
    assert a.scale == approx(b.scale, rel=1e-6)


@pytest.mark.parametrize("factor", [1e-200, 1e200])
def test_extreme_magnitudes_neither_underflow_nor_overflow(factor: float) -> None:
    """Scaled squares: the estimates follow a change of unit by 1e±200."""
    data = [0.0, 0.1, 0.1, 0.2, 0.25, 0.3, 1.0]
    for stop in ("iso", "converged"):
        a, b = algorithm_a(data, stop=stop), algorithm_a([factor * v for v in data], stop=stop)
        assert (b.location, b.scale) == (approx(factor * a.location), approx(factor * a.scale))
        assert b.iterations == a.iterations
        s, t = (
            algorithm_s(data, 2, stop=stop),
            algorithm_s([factor * v for v in data], 2, stop=stop),
        )
        assert (t.scale, t.iterations) == (approx(factor * s.scale), s.iterations)
    # pt13528 calls these degenerate (its squares underflow); in exact arithmetic they are not.
    # [0, 1, δ]: s* grows from MADe = 1.483 δ until nothing is clipped: x* = 1/3, s* = 1.134 ×
    # √(1/3) = .654715 (sample sd of 0, 1, 0: √((1/9 + 4/9 + 1/9)/2) = √(1/3)).
    a = algorithm_a([0.0, 1.0, 2.2e-211])
    assert (a.location, a.scale) == (approx(1 / 3), approx(1.134 * math.sqrt(1 / 3)))
    # [0, .001, δ]: w* is the limit of [0, .001, 0]: .001 × ξ/√3 (ν = 1, ξ = 1.097).
    assert algorithm_s([0.0, 0.001, 1.5e-179], 1).scale == approx(0.001 * 1.097 / math.sqrt(3))


# --------------------------------------------------------------------------- Algorithm S, C.4


def test_algorithm_s_c4_worked_by_hand() -> None:
    """C.4, Table C.1 with ν = 1 (ranges of duplicates): η = 1.645, ξ = 1.097."""
    w = [0.1, 0.2, 0.3, 1.0]
    # Start w* = median = .25. Iteration 1: ψ = 1.645 × .25 = .41125: 1.0 → .41125;
    # Σw² = .01 + .04 + .09 + .1691266 = .3091266; w* = 1.097 × √(.3091266/4) = .3049614.
    one = algorithm_s(w, 1, max_iter=1)
    assert one.scale == approx(0.3049614, rel=1e-6)
    assert (one.eta, one.xi, one.degrees_of_freedom, one.converged) == (1.645, 1.097, 1, False)
    # Iteration 2: ψ = 1.645 × .3049614 = .5016615; Σ = .14 + .2516642 = .3916642;
    # w* = 1.097 × √.09791605 = 1.097 × .3129154 = .3432682.
    assert algorithm_s(w, 1, max_iter=2).scale == approx(0.3432682, rel=1e-6)
    # Fixed point (1.0 stays clipped): w² = ξ²(.14 + η²w²)/4 → w²(1 − ξ²η²/4) = .035 ξ²;
    # ξη = 1.804565, ξ²η²/4 = .8141137; .035 × 1.203409 = .04211932; w² = .04211932/.1858863
    # = .2265866, w* = .4760111 (ψ = .783 < 1: the assumption holds).
    full = algorithm_s(w, 1)
    assert (full.converged, full.degenerate, full.stop) == (True, False, "converged")
    assert full.scale == approx(0.4760111, rel=1e-6)
    assert full.location == full.scale  # Algorithm S has no location of its own


def test_algorithm_s_iso_stop_by_hand() -> None:
    """C.4: four standard deviations of four replicates (ν = 3: η = 1.444, ξ = 1.039)."""
    # Start: median (.13 + .21)/2 = .17; ψ = .24548: nothing clipped; w* = 1.039 × √(.125/4)
    # = 1.039 × .1767767 = .1836710. Iteration 2: ψ = .2652 clips nothing either: the same w*,
    # third figure unchanged: stop.
    w = algorithm_s([0.13, 0.21, 0.08, 0.24], 3, stop="iso")
    assert (w.iterations, w.converged, w.stop) == (2, True, "iso")
    assert w.scale == approx(1.039 * math.sqrt(0.125 / 4), rel=1e-12)


def test_algorithm_s_reproduces_annex_e13() -> None:
    """E.13, Table E.11: w* = 0.34 of 25 standard deviations of 4 replicates."""
    for stop in ("iso", "converged"):
        assert round(algorithm_s(E13_SD, 3, stop=stop).scale, 2) == 0.34


def test_algorithm_s_reports_degenerate_data() -> None:
    # Median 0 → start √(.01/5) = .0447; ψ = .0736 clips .1; w* = 1.097 × .0736/√5 = .0361 < .0447
    # and every value under ψ is 0: w* shrinks by the same factor for ever.
    w = algorithm_s([0.0, 0.0, 0.0, 0.0, 0.1], 1)
    assert (w.degenerate, w.scale, w.location, w.usable) == (True, 0.0, 0.0, False)
    zero = algorithm_s([0.0, 0.0], 2)
    assert (zero.degenerate, zero.iterations, zero.converged) == (True, 0, True)


def _assert_algorithm_s_matches_pt(values: list[float], nu: int) -> None:
    for stop, tol in (("iso", "iso2022"), ("converged", 1e-10)):
        ours = algorithm_s(values, nu, stop=stop)  # type: ignore[arg-type]
        ref = pt_robust.algorithm_s(values, nu, tol=tol)
        if not (ours.converged or ours.degenerate):  # slow: pt13528 allows 10 times more
            assert ref.iterations > ours.iterations or not ref.converged
            continue
        assert ours.degenerate == ref.degenerate, (stop, ours, ref)
        if ref.degenerate:
            assert ours.scale == ref.scale == 0.0
            continue
        if stop == "iso" and ours.iterations != ref.iterations:  # a tie of the 3rd figure?
            most = max(ours.iterations, ref.iterations)
            its = [algorithm_s(values, nu, stop="iso", max_iter=k) for k in range(1, most + 1)]
            assert any(sig3(w.scale * (1 + 1e-12)) != sig3(w.scale * (1 - 1e-12)) for w in its)
            continue
        assert ours.converged == ref.converged
        assert ours.scale == approx(ref.scale, rel=REL)
        assert ours.location == approx(ref.location, rel=REL)


@pytest.mark.parametrize(
    ("values", "nu"),
    [(E13_SD, 3), ([0.13, 0.21, 0.08, 0.24], 3), ([0.1, 0.2, 0.3, 1.0], 1), ([0, 0, 0, 0, 0.1], 1),
     ([0.0, 0.0, 0.5, 0.7], 10), ([1e-200, 3e-200, 2e-200], 4), ([1e200, 3e200, 2e200], 4)],
)  # fmt: skip
def test_algorithm_s_matches_pt13528_on_fixed_data(values: list[float], nu: int) -> None:
    _assert_algorithm_s_matches_pt(values, nu)


@given(values=spreads, nu=st.integers(1, 10))
def test_algorithm_s_matches_pt13528(values: list[float], nu: int) -> None:
    _assert_algorithm_s_matches_pt(values, nu)


@pytest.mark.parametrize("nu", range(1, 11))
def test_table_c1_limit_factor_is_the_chi2_quantile(nu: int) -> None:
    """Table C.1: η = √(χ²₀.₉₀(ν)/ν), to the three printed decimals."""
    assert algorithm_s([1.0, 2.0], nu).eta == round(
        math.sqrt(scipy_stats.chi2.ppf(0.9, nu) / nu), 3
    )


@given(values=spreads, nu=st.integers(1, 10), a=st.floats(1e-3, 1e3), seed=st.integers(0, 99))
def test_algorithm_s_properties(values: list[float], nu: int, a: float, seed: int) -> None:
    w = algorithm_s(values, nu)
    shuffled = values[:]
    random.Random(seed).shuffle(shuffled)
    assert algorithm_s(shuffled, nu) == w
    assert 0 <= w.scale <= w.xi * max(values) * (1 + 1e-12)  # min(wᵢ, ψ) ≤ max wᵢ
    scaled = algorithm_s([a * v for v in values], nu)
    assert scaled.degenerate == w.degenerate
    if w.usable and scaled.usable:
        assert scaled.scale == approx(a * w.scale, rel=1e-6)


# --------------------------------------------------------------------------- Q method, Hampel, C.5


def test_q_hampel_c5_worked_by_hand() -> None:
    """C.5.2.2 (Q method) and C.5.3.3 (Hampel, finite steps) on three results."""
    # [1, 2, 4]: differences 1, 2, 3, each of weight 1/3; H1(0) = 0.
    # G1 at the middle of each step: (0, 0), (1, 1/6), (2, 1/2), (3, 5/6).
    # G1⁻¹(.25) = 1 + (.25 − 1/6)/(1/2 − 1/6) = 1.25; Φ⁻¹(.625) = .3186394;
    # s* = 1.25/(√2 × .3186394) = 1.25/.4506241 = 2.773929.
    r = q_hampel([1.0, 2.0, 4.0])
    assert r.scale == approx(2.773929, rel=1e-6)
    # Hampel: standardised (xᵢ − 2)/s* = −.3605, 0, .7210; near the median all of them are
    # within a = 1.5, where ψ is the identity: the root is their mean, x* = the mean 7/3.
    assert r.location == approx(7 / 3, rel=1e-12)
    assert (r.iterations, r.converged, r.degenerate, r.location_rule, r.p) == (
        0, True, False, "hampel", 3,
    )  # fmt: skip


def test_q_method_with_zero_differences_by_hand() -> None:
    """C.5.2.2: H1(0) > 0 moves both the quantile and the normal factor (Formula C.25)."""
    # [1, 1, 2]: differences 0, 1, 1; H1(0) = 1/3, H1(1) = 1; G1: (0, 0), (1, 2/3).
    # q = .25 + .75/3 = .5 → G1⁻¹(.5) = .75; Φ⁻¹(.625 + .375/3 = .75) = .6744898;
    # s* = .75/(√2 × .6744898) = .75/.9538726 = .786269.
    r = q_hampel([1.0, 1.0, 2.0])
    assert r.scale == approx(0.786269, rel=1e-6)
    assert r.location == approx(4 / 3, rel=1e-12)  # all within 1.5 s*: the mean


def test_q_method_with_replicates_by_hand() -> None:
    """C.5.2.2, Formula (C.23): differences between laboratories weighted 1/(nᵢ·nⱼ)."""
    # [[1, 3], [2]]: |1 − 2| = |3 − 2| = 1, each 1/2: H1 jumps to 1 at 1; G1: (0, 0), (1, .5);
    # G1⁻¹(.25) = .5; s* = .5/.4506241 = 1.109573. Laboratory means 2 and 2: x* = 2.
    r = q_hampel([[1.0, 3.0], [2.0]])
    assert r.scale == approx(1.109573, rel=1e-6)
    assert (r.location, r.p) == (2.0, 2)


def test_q_hampel_reproduces_annex_e3() -> None:
    """E.3, Table E.5: Q/Hampel x* = 0.2600, s* = 0.0426."""
    r = q_hampel(E3)
    assert (round(r.location, 4), round(r.scale, 4)) == (0.2600, 0.0426)


def test_q_hampel_reports_degenerate_data_and_ties() -> None:
    r = q_hampel([3.5, 3.5, 3.5])
    assert (r.degenerate, r.scale, r.location, r.location_rule, r.usable) == (
        True, 0.0, 3.5, "median", False,
    )  # fmt: skip
    # Two mirror-image clusters far apart (s* ≈ .4): two roots equally near the median.
    clusters = [0.0, 0.1, 0.2, 0.3, 100.0, 100.1, 100.2, 100.3]
    tie = q_hampel(clusters)
    assert (tie.location_rule, tie.degenerate) == ("median", False)
    assert tie.location == pt_robust.q_hampel(clusters).location == 50.15


def _assert_q_hampel_matches_pt(results: list[float] | list[list[float]]) -> None:
    ours = q_hampel(results)
    ref = pt_robust.q_hampel(results)
    assert ours.degenerate == ref.degenerate
    assert ours.scale == approx(ref.scale, rel=REL)
    assert ours.location == approx(ref.location, rel=REL, abs=REL * ref.scale)


@pytest.mark.parametrize(
    "results",
    [E3, ETOH, [1.0, 2.0, 4.0], [1.0, 2.0, 3.0, 4.0, 100.0], E1_IGNORED, [[1.0, 3.0], [2.0]],
     [[0.1, 0.2], [0.3], [0.25, 0.35, 0.2], [0.9]], [3.5, 3.5, 3.5]],
)  # fmt: skip
def test_q_hampel_matches_pt13528_on_fixed_data(results: list[float]) -> None:
    _assert_q_hampel_matches_pt(results)


@given(results=samples)
def test_q_hampel_matches_pt13528(results: list[float]) -> None:
    _assert_q_hampel_matches_pt(results)


@given(results=st.lists(st.lists(decimals, min_size=1, max_size=4), min_size=2, max_size=12))
def test_q_hampel_with_replicates_matches_pt13528(results: list[list[float]]) -> None:
    _assert_q_hampel_matches_pt(results)


@given(
    values=st.lists(decimals, min_size=2, max_size=20),
    a=st.sampled_from([-2.0, 0.5, 3.0]),
    b=st.sampled_from([-100.0, 0.0, 7.5]),
    seed=st.integers(0, 99),
)
def test_q_hampel_properties(values: list[float], a: float, b: float, seed: int) -> None:
    r = q_hampel(values)
    shuffled = values[:]
    random.Random(seed).shuffle(shuffled)
    assert q_hampel(shuffled) == r
    assert min(values) <= r.location <= max(values)
    moved = q_hampel([a * v + b for v in values])
    assert moved.scale == approx(abs(a) * r.scale, rel=1e-9, abs=1e-12)
    if r.location_rule == "hampel" == moved.location_rule:
        assert moved.location == approx(a * r.location + b, abs=1e-9 * (abs(a) * r.scale + 1))


# --------------------------------------------------------------------------- homogeneity, B.2, B.3


def test_homogeneity_by_hand_b3() -> None:
    """B.3 (Formulae B.11 to B.16, duplicates), B.2.2 and B.2.3 with g = 7 items."""
    items = [[10, 12], [11, 11], [9, 11], [12, 14], [10, 10], [11, 13], [10, 12]]
    # Item means 11 11 10 13 10 12 11; general mean 78/7 = 11.142857.
    # Deviations² .020408 .020408 1.306122 3.448980 1.306122 .734694 .020408: Σ 6.857143;
    # s_x² = 6.857143/6 = 1.142857, s_x = 1.069045.
    # Ranges 2 0 2 2 0 2 2: s_w² = Σw²/(2g) = 20/14 = 1.428571, s_w = 1.195229.
    # s_s² = 1.142857 − 1.428571/2 = .428571, s_s = .654654.
    h = homogeneity(items, sigma_pt=2.0)
    assert (h.g, h.m, h.mean) == (7, 2, approx(11.142857, rel=1e-6))
    assert (h.s_x, h.s_w, h.s_s) == (approx(1.069045, rel=1e-6), approx(1.195229, rel=1e-6),
                                     approx(0.654654, rel=1e-6))  # fmt: skip
    # B.2.2: .654654 > 0.3 × 2 = .6: not adequately homogeneous.
    assert (h.criterion, h.passed) == (approx(0.6), False)
    # B.2.3 with Table B.1 (g = 7: F1 = 2.10, F2 = 1.43):
    # c = 2.10 × .36 + 1.43 × 1.428571 = .756 + 2.042857 = 2.798857, √c = 1.67298 ≥ s_s.
    assert (h.f1, h.f2) == (approx(2.10, abs=0.005), approx(1.43, abs=0.005))
    assert h.expanded_criterion == approx(1.67298, rel=3e-3)
    assert h.passed_expanded is True
    assert h.uncertainty == h.s_s  # u_hom = s_s


def test_homogeneity_between_items_is_zero_when_within_dominates() -> None:
    """B.10: s_s = 0 when s_x² − s_w²/m < 0; outside Table B.1 there is no expanded criterion."""
    # Means 10.1 10.1 10.0: s_x² = .003333; ranges .2 0 .2: s_w² = .08/6 = .013333;
    # .003333 − .013333/2 < 0 → s_s = 0.
    h = homogeneity([[10.0, 10.2], [10.1, 10.1], [9.9, 10.1]], sigma_pt=0.5)
    assert (h.s_s, h.passed, h.uncertainty) == (0.0, True, 0.0)
    assert (h.f1, h.f2, h.expanded_criterion, h.passed_expanded) == (None, None, None, None)


def test_homogeneity_reproduces_annex_e2() -> None:
    """E.2, Tables E.2 and E.3 (arsenic in chocolate), σ_pt = 15 % of the mean."""
    h = homogeneity(E2_HOMOGENEITY, sigma_pt=0.15 * 0.18715)
    assert (round(h.mean, 5), round(h.s_x, 5), round(h.s_w, 5), round(h.s_s, 5)) == (
        0.18715, 0.00398, 0.00556, 0.00060,
    )  # fmt: skip
    assert (round(h.criterion, 5), h.passed, h.passed_expanded) == (0.00842, True, True)
    flat = [v for item in E2_HOMOGENEITY for v in item]
    s = stability(flat, E2_STABILITY, sigma_pt=0.15 * h.mean)
    assert (round(s.mean_after, 5), round(s.difference, 5), s.passed) == (0.19375, 0.0066, True)


@pytest.mark.parametrize("g", sorted(TABLE_B1))
def test_expanded_criterion_factors_reproduce_table_b1(g: int) -> None:
    f1, f2 = expanded_criterion_factors(g)
    assert (round(f1, 2), round(f2, 2)) == TABLE_B1[g]
    assert (f1, f2) == approx(pt_homogeneity.expanded_criterion_factors(g), rel=REL)


@pytest.mark.parametrize("g", [7, 10, 20])
@pytest.mark.parametrize("m", [2, 3, 5])
def test_expanded_criterion_factors_match_scipy_and_pt13528(g: int, m: int) -> None:
    f1 = scipy_stats.chi2.ppf(0.95, g - 1) / (g - 1)
    f2 = (scipy_stats.f.ppf(0.95, g - 1, g * (m - 1)) - 1) / m
    assert expanded_criterion_factors(g, m) == approx((f1, f2), rel=1e-12)
    assert expanded_criterion_factors(g, m) == approx(
        pt_homogeneity.expanded_criterion_factors(g, m)
    )


@st.composite
def item_tables(draw: st.DrawFn) -> list[list[float]]:
    g = draw(st.integers(2, 22))
    m = draw(st.integers(2, 4))
    level = draw(st.sampled_from([0.0, 10.0, 1000.0]))
    row = st.lists(decimals.map(lambda v: level + v / 100), min_size=m, max_size=m)
    return draw(st.lists(row, min_size=g, max_size=g))


def _close(ours: float, theirs: float, noise: float) -> bool:
    return abs(ours - theirs) <= REL * abs(theirs) + noise


@given(items=item_tables(), sigma_pt=st.floats(1e-3, 1e3))
def test_homogeneity_matches_pt13528(items: list[list[float]], sigma_pt: float) -> None:
    ours = homogeneity(items, sigma_pt)
    ref = pt_homogeneity.homogeneity(items, sigma_pt=sigma_pt)
    assert (ours.g, ours.m) == (ref.g, ref.m)
    assert ours.mean == approx(ref.mean, rel=REL)
    # s_s = √(s_x² − s_w²/m): near 0 the difference of squares is rounding noise of size
    # eps·s_x², amplified by the root.
    noise = 1e-7 * (ours.s_x + ours.s_w)
    for a, b in ((ours.s_x, ref.s_x), (ours.s_w, ref.s_w), (ours.s_s, ref.s_s)):
        assert _close(a, b, noise)
    assert ours.criterion == approx(ref.criterion, rel=REL)
    if abs(ours.s_s - ours.criterion) > noise:
        assert ours.passed == ref.sufficient
    if ours.g in TABLE_B1:
        assert ours.expanded_criterion == approx(ref.expanded_criterion, rel=REL)
        if abs(ours.s_s - ref.expanded_criterion) > noise:
            assert ours.passed_expanded == ref.sufficient_expanded
    else:
        assert ours.expanded_criterion is None


@given(items=item_tables(), a=st.sampled_from([-2.0, 0.5, 10.0]), b=st.floats(-100, 100))
def test_homogeneity_properties(items: list[list[float]], a: float, b: float) -> None:
    h = homogeneity(items, 1.0)
    assert 0 <= h.s_s <= h.s_x * (1 + 1e-12)
    assert h.uncertainty == h.s_s
    assert homogeneity(items[::-1], 1.0) == h  # the order of the items does not matter
    moved = homogeneity([[a * v + b for v in row] for row in items], 1.0)
    noise = 1e-6 * abs(a) * (h.s_x + h.s_w + abs(h.mean))
    assert _close(moved.s_x, abs(a) * h.s_x, noise)
    assert _close(moved.s_w, abs(a) * h.s_w, noise)


# --------------------------------------------------------------------------- stability, B.5


def test_stability_by_hand_b5() -> None:
    """B.5.1 (Formula B.17), B.5.2 (Formula B.18) and u_stab = |ȳ₁ − ȳ₂|/√3."""
    # ȳ₁ = 10.1, ȳ₂ = 10.4: difference .3 > 0.3 × .8 = .24: not adequately stable.
    s = stability([10.0, 10.2], [10.3, 10.5], sigma_pt=0.8)
    assert (s.mean_before, s.mean_after) == (approx(10.1), approx(10.4))
    assert (s.difference, s.criterion, s.passed) == (approx(0.3), approx(0.24), False)
    assert (s.expanded_criterion, s.passed_expanded) == (None, None)
    assert s.uncertainty == approx(0.3 / math.sqrt(3))  # .173205
    # With u(ȳ₁) = .03, u(ȳ₂) = .04: .24 + 2 × .05 = .34 ≥ .3: stable within the uncertainties.
    e = stability([10.0, 10.2], [10.3, 10.5], sigma_pt=0.8, u_before=0.03, u_after=0.04)
    assert (e.expanded_criterion, e.passed_expanded) == (approx(0.34), True)


@given(
    before=st.lists(decimals, min_size=1, max_size=10),
    after=st.lists(decimals, min_size=1, max_size=10),
    sigma_pt=st.floats(1e-3, 1e3),
    u=st.one_of(st.none(), st.tuples(st.floats(0, 10), st.floats(0, 10))),
)
def test_stability_matches_pt13528(
    before: list[float], after: list[float], sigma_pt: float, u: tuple[float, float] | None
) -> None:
    u1, u2 = u if u is not None else (None, None)
    ours = stability(before, after, sigma_pt, u_before=u1, u_after=u2)
    ref = pt_homogeneity.stability(before, after, sigma_pt=sigma_pt, u_y1=u1, u_y2=u2)
    assert ours.difference == approx(ref.difference, rel=REL, abs=1e-12)
    assert ours.criterion == approx(ref.criterion, rel=REL)
    assert ours.uncertainty == approx(ours.difference / math.sqrt(3), rel=1e-15)
    if abs(ours.difference - ours.criterion) > 1e-9:
        assert ours.passed == ref.stable
    if u is None:
        assert ours.expanded_criterion is ref.expanded_criterion is None
    else:
        assert ours.expanded_criterion == approx(ref.expanded_criterion, rel=REL)
        if abs(ours.difference - ref.expanded_criterion) > 1e-9:
            assert ours.passed_expanded == ref.stable_expanded


# --------------------------------------------------------------------------- u(x_pt) and σ_pt


def test_combine_uncertainty_by_hand_722() -> None:
    """7.2.2, Formula (3): √(.1² + .2² + .2² + .4²) = √.25 = .5."""
    assert combine_uncertainty(0.1, u_hom=0.2, u_stab=0.2, u_trans=0.4) == approx(0.5)
    assert combine_uncertainty(0.3) == 0.3


@given(u=st.lists(st.floats(0, 1e6), min_size=4, max_size=4))
def test_combine_uncertainty_matches_pt13528(u: list[float]) -> None:
    ours = combine_uncertainty(u[0], u_hom=u[1], u_stab=u[2], u_trans=u[3])
    assert ours == approx(
        pt_assigned.combine_uncertainty(u[0], u_hom=u[1], u_trans=u[3], u_stab=u[2])
    )
    assert ours >= max(u)


def test_sigma_pt_from_precision_reproduces_annex_e10() -> None:
    """8.5.1, Formula (9); E.10: σ_R = 23.2, σ_r = 14.3, n = 2 → √(538.24 − 102.245) = 20.88."""
    assert sigma_pt_from_precision(23.2, 14.3, 2) == approx(math.sqrt(538.24 - 204.49 / 2))
    assert round(sigma_pt_from_precision(23.2, 14.3, 2), 1) == 20.9
    assert sigma_pt_from_precision(23.2, 14.3, 1) == 23.2  # single results: σ_pt = σ_R


@given(sigma_R=st.floats(0, 1e3), sigma_r=st.floats(0, 1e3), n=st.integers(1, 10))
def test_sigma_pt_from_precision_matches_pt13528(sigma_R: float, sigma_r: float, n: int) -> None:
    try:
        ref = pt_sigma.from_precision(sigma_R, sigma_r, n)
    except ValueError:  # pt13528 refuses: so do we
        with pytest.raises(StatisticsError):
            sigma_pt_from_precision(sigma_R, sigma_r, n)
        return
    if sigma_r > sigma_R or sigma_R == 0:  # we also refuse inconsistent σ_r > σ_R, and σ_R = 0
        with pytest.raises(StatisticsError):
            sigma_pt_from_precision(sigma_R, sigma_r, n)
        return
    assert sigma_pt_from_precision(sigma_R, sigma_r, n) == approx(ref, rel=REL)


@given(u=st.floats(0, 10), sigma_pt=st.floats(1e-3, 10))
def test_negligible_matches_pt13528(u: float, sigma_pt: float) -> None:
    """9.2.1, Formula (10)."""
    assert negligible(u, sigma_pt) == pt_scores.uncertainty_negligible(u, sigma_pt=sigma_pt)


# --------------------------------------------------------------------------- D, D%, PA, 9.3


def test_difference_scores_reproduce_annex_e4() -> None:
    """9.3, Formulae (11) to (13); E.4, Table E.7: x_pt = .044, δE = 3σ_pt = .0198."""
    # L04: x = .013: D = −.031; D% = −.031/.044 = −70.45 % (printed −70.5); PA = −.031/.0198
    # = −156.6 %. L01: x = .053: D% = .009/.044 = 20.45 % (20.5); PA = 45.45 % (45.5).
    assert d_score(0.013, 0.044) == approx(-0.031)
    assert round(d_percent(0.013, 0.044), 1) == -70.5
    assert round(pa_score(0.013, 0.044, 3 * 0.0066), 1) == -156.6
    assert round(d_percent(0.053, 0.044), 1) == 20.5
    assert round(pa_score(0.053, 0.044, 3 * 0.0066), 1) == 45.5


@given(x=reals, x_pt=reals, delta_e=st.floats(1e-3, 1e3))
def test_difference_scores_match_pt13528(x: float, x_pt: float, delta_e: float) -> None:
    assert d_score(x, x_pt) == pt_scores.difference(x, x_pt)
    assert pa_score(x, x_pt, delta_e) == approx(
        pt_scores.percent_allowed(x, x_pt, delta_e), rel=REL
    )
    if x_pt == 0:  # both refuse
        with pytest.raises(ZeroDivisionError):
            pt_scores.percent_difference(x, x_pt)
        with pytest.raises(StatisticsError, match="x_pt is 0"):
            d_percent(x, x_pt)
    else:
        assert d_percent(x, x_pt) == approx(pt_scores.percent_difference(x, x_pt), rel=REL)


# --------------------------------------------------------------------------- combined scores, 9.9


def test_combined_scores_by_hand() -> None:
    # z = 1, −2, 2, 3: Σz = 4, RSZ = 4/√4 = 2; SSZ = 1 + 4 + 4 + 9 = 18.
    assert rescaled_sum_z([1.0, -2.0, 2.0, 3.0]) == 2.0
    assert sum_squared_z([1.0, -2.0, 2.0, 3.0]) == 18.0
    # The standard's caution: opposite bad scores cancel in RSZ.
    assert rescaled_sum_z([4.0, -4.0]) == 0.0
    assert sum_squared_z([4.0, -4.0]) == 32.0


@given(z=st.floats(-10, 10), n=st.integers(1, 50))
def test_rsz_of_equal_scores_is_z_root_n(z: float, n: int) -> None:
    assert rescaled_sum_z([z] * n) == approx(z * math.sqrt(n), rel=1e-12, abs=1e-300)
    assert sum_squared_z([z] * n) == approx(n * z * z, rel=1e-12)


@given(zs=st.lists(st.floats(-100, 100), min_size=1, max_size=40), seed=st.integers(0, 99))
def test_combined_scores_properties(zs: list[float], seed: int) -> None:
    shuffled = zs[:]
    random.Random(seed).shuffle(shuffled)
    rsz, ssz = rescaled_sum_z(zs), sum_squared_z(zs)
    assert (rescaled_sum_z(shuffled), sum_squared_z(shuffled)) == (rsz, ssz)
    assert ssz >= 0
    assert rsz**2 <= ssz * (1 + 1e-12) + 1e-300  # Cauchy–Schwarz: (Σz)² ≤ n·Σz²


# --------------------------------------------------------------------------- input


def test_arrow_input_gives_the_same_results() -> None:
    assert algorithm_a(pa.array(ETOH), stop="iso") == algorithm_a(ETOH, stop="iso")
    assert algorithm_s(pa.array(E13_SD), 3) == algorithm_s(E13_SD, 3)
    assert q_hampel(pa.array(E3)) == q_hampel(E3)
    assert q_hampel(pa.array([[1.0, 3.0], [2.0]])) == q_hampel([[1.0, 3.0], [2.0]])
    assert homogeneity(pa.array(E2_HOMOGENEITY), 0.03) == homogeneity(E2_HOMOGENEITY, 0.03)
    assert stability(pa.array([1.0, 2.0]), pa.chunked_array([[1.5]]), 1.0).difference == 0.0
    assert rescaled_sum_z(pa.array([1.0, 1.0])) == approx(math.sqrt(2))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: algorithm_a([], stop="iso"), "values is empty"),
        (lambda: algorithm_a([1.0], stop="iso"), "at least 2 values"),
        (lambda: algorithm_a([1.0, math.nan], stop="iso"), r"values\[1\] is not finite"),
        (lambda: algorithm_a([1.0, 2.0], stop="iso2022"), "stop must be 'iso' or 'converged'"),
        (lambda: algorithm_s([0.1, 0.2], 11), "1 ≤ ν ≤ 10"),
        (lambda: algorithm_s([0.1, 0.2], 0), "degrees_of_freedom must be a whole number ≥ 1"),
        (lambda: algorithm_s([0.1, 0.2], 2.0), "degrees_of_freedom must be a whole number"),
        (lambda: algorithm_s([0.1, -0.2], 2), "cannot be negative"),
        (lambda: algorithm_s([0.1], 2), "at least 2 values"),
        (lambda: algorithm_s([0.1, 0.2], 2, stop="fast"), "stop must be"),
        (lambda: algorithm_s([0.1, 0.2], 2, max_iter=0), "max_iter"),
        (lambda: q_hampel([1.0]), "at least 2 laboratories"),
        (lambda: q_hampel([[1.0], []]), r"results\[1\] is empty"),
        (lambda: q_hampel([1.0, math.inf]), r"results\[1\] is not finite"),
        (lambda: q_hampel([1.0, True]), "expected a number, got bool"),
        (lambda: q_hampel("12"), "got text"),
        (lambda: homogeneity([[1.0, 2.0]], 1.0), "at least 2 items"),
        (lambda: homogeneity([[1.0], [2.0]], 1.0), "at least 2 replicates"),
        (lambda: homogeneity([[1.0, 2.0], [1.0, 2.0, 3.0]], 1.0), "same number of replicates"),
        (lambda: homogeneity([[1.0, 2.0], 3.0], 1.0), r"items\[1\]: expected a sequence"),
        (lambda: homogeneity([[1.0, 2.0], [1.0, 2.0]], 0.0), "sigma_pt must be > 0"),
        (lambda: homogeneity([[1.0, 2.0], [1.0, 2.0]], -1.0), "sigma_pt must be > 0"),
        (lambda: expanded_criterion_factors(6), "7 ≤ g ≤ 20"),
        (lambda: expanded_criterion_factors(21), "7 ≤ g ≤ 20"),
        (lambda: expanded_criterion_factors(10, m=1), "m .replicates per item. must be"),
        (lambda: stability([], [1.0], 1.0), "before is empty"),
        (lambda: stability([1.0], [1.0], 0.0), "sigma_pt must be > 0"),
        (lambda: stability([1.0], [1.0], 1.0, u_before=0.1), "both u_before and u_after"),
        (lambda: stability([1.0], [1.0], 1.0, u_before=0.1, u_after=-0.1), "u_after must be ≥ 0"),
        (lambda: combine_uncertainty(-0.1), "u_char must be ≥ 0"),
        (lambda: combine_uncertainty(0.1, u_trans=math.nan), "u_trans is not finite"),
        (lambda: sigma_pt_from_precision(1.0, 2.0, 2), "exceeds sigma_R"),
        (lambda: sigma_pt_from_precision(0.0, 0.0, 2), "sigma_R must be > 0"),
        (lambda: sigma_pt_from_precision(2.0, 1.0, 0), "n .replicates per result. must be"),
        (lambda: d_percent(1.0, 0.0), "x_pt is 0"),
        (lambda: d_score(math.nan, 0.0), "x is not finite"),
        (lambda: pa_score(1.0, 0.0, 0.0), "delta_e must be > 0"),
        (lambda: rescaled_sum_z([]), "z scores is empty"),
        (lambda: sum_squared_z([1.0, math.inf]), r"z scores\[1\] is not finite"),
    ],
)
def test_clear_errors(call: object, message: str) -> None:
    with pytest.raises(StatisticsError, match=message):
        call()  # type: ignore[operator]


any_floats = st.floats(allow_nan=False, allow_infinity=False)


def _floats_of(result: object) -> list[float]:
    if isinstance(result, float):
        return [result]
    return [v for v in attrs.asdict(result).values() if isinstance(v, float)]  # type: ignore[arg-type]


@given(
    values=st.lists(any_floats, min_size=1, max_size=8),
    other=st.lists(any_floats, min_size=1, max_size=4),
    positive=st.floats(min_value=0.0, exclude_min=True, allow_infinity=False),
)
def test_any_finite_input_gives_a_number_or_a_statistics_error(
    values: list[float], other: list[float], positive: float
) -> None:
    """Extreme magnitudes: a StatisticsError, or no NaN (∞ only where the value exceeds floats)."""
    robust = [
        lambda: algorithm_a(values, stop="iso", max_iter=200),
        lambda: algorithm_a(values, max_iter=200),
        lambda: algorithm_s([abs(v) for v in values], 2, max_iter=200),
        lambda: q_hampel(values),
        lambda: q_hampel([values, other]),
    ]
    others = [
        lambda: homogeneity([values[:2], other[:2]] * 4, positive),
        lambda: stability(values, other, positive, u_before=positive, u_after=positive),
        lambda: rescaled_sum_z(values),
        lambda: sum_squared_z(values),
        lambda: d_percent(values[0], other[0]),
        lambda: pa_score(values[0], other[0], positive),
        lambda: sigma_pt_from_precision(positive, abs(values[0]), 3),
        lambda: combine_uncertainty(positive, abs(values[0])),
    ]
    for call in robust + others:
        try:
            numbers = _floats_of(call())
        except StatisticsError:
            continue
        assert not any(math.isnan(v) for v in numbers), numbers
        if call in robust:
            assert all(math.isfinite(v) for v in numbers), numbers
