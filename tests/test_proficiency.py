"""ISO 13528 statistics: worked examples computed by hand, properties, and a whole round.

Every expected number below was worked out by hand from the formulas of
``domain.md`` §6 (the arithmetic is in the comments), not by running the code.
Hand arithmetic carries about 7 significant figures, hence the tolerances.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import clen_core
from clen_core.data import reference_dataset
from clen_core.model.proficiency import PTPurpose, PTResult, PTScore, PTStudy, ScoreClass
from clen_core.proficiency import (
    action_signal,
    algorithm_a,
    classify_z,
    en_score,
    evaluate,
    horwitz,
    made,
    median,
    negligible,
    niqr,
    u_assigned,
    z_prime_score,
    z_score,
    zeta_score,
)

approx = pytest.approx

# The reference round PT-2024-ETOH (ethanol, % vol), 12 laboratories.
ETOH = [40.02, 40.05, 39.98, 40.10, 39.95, 40.01, 40.07, 39.99, 40.45, 40.03, 39.97, 40.04]


# --------------------------------------------------------------------------- median, MADe, nIQR


def test_median_made_niqr_by_hand() -> None:
    assert median([3, 1, 2]) == 2
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5  # (2 + 3) / 2
    # [1, 2, 3, 4, 100]: median 3; |xᵢ − 3| = 2, 1, 0, 1, 97 → sorted 0, 1, 1, 2, 97 → 1;
    # MADe = 1.483 × 1 = 1.483.
    assert made([1, 2, 3, 4, 100]) == approx(1.483)
    # ETOH sorted: 39.95 39.97 39.98 39.99 40.01 40.02 | 40.03 40.04 40.05 40.07 40.10 40.45;
    # median (40.02 + 40.03)/2 = 40.025; |xᵢ − 40.025| sorted: .005 .005 .015 .015 .025 .035 |
    # .045 .045 .055 .075 .075 .425 → median (.035 + .045)/2 = .040; MADe = 1.483 × .04 = .05932.
    assert median(ETOH) == approx(40.025)
    assert made(ETOH) == approx(0.05932)
    # Type-7 quartiles of [1, 2, 3, 4, 5]: h = 4 × .25 = 1 → 2; h = 4 × .75 = 3 → 4;
    # nIQR = 0.7413 × (4 − 2) = 1.4826.
    assert niqr([5, 4, 3, 2, 1]) == approx(1.4826)
    # [1, 2, 3, 4]: Q1 at h = 3 × .25 = .75 → 1 + .75 × (2 − 1) = 1.75; Q3 at h = 2.25 →
    # 3 + .25 × 1 = 3.25; nIQR = 0.7413 × 1.5 = 1.11195.
    assert niqr([1, 2, 3, 4]) == approx(1.11195)
    # ETOH: h = 11 × .25 = 2.75 → 39.98 + .75 × .01 = 39.9875; h = 8.25 → 40.05 + .25 × .02 =
    # 40.055; nIQR = 0.7413 × .0675 = .05003775.
    assert niqr(ETOH) == approx(0.05003775)


# --------------------------------------------------------------------------- Algorithm A by hand


def test_algorithm_a_small_dataset_iteration_by_iteration() -> None:
    data = [1.0, 2.0, 3.0, 4.0, 100.0]
    # Start: x* = 3, s* = MADe = 1.483.
    # Iteration 1: δ = 1.5 × 1.483 = 2.2245 → [0.7755, 5.2245]; 100 → 5.2245.
    #   x* = (1 + 2 + 3 + 4 + 5.2245)/5 = 15.2245/5 = 3.0449
    #   deviations −2.0449 −1.0449 −0.0449 0.9551 2.1796; squares 4.18161601 1.09181601
    #   0.00201601 0.91221601 4.75065616; sum 10.9383202; /4 = 2.73458005; √ = 1.6536566;
    #   s* = 1.134 × 1.6536566 = 1.8752466
    one = algorithm_a(data, max_iter=1)
    assert (one.location, one.scale) == (approx(3.0449), approx(1.8752466, rel=1e-7))
    assert (one.iterations, one.converged, one.initial_scale) == (1, False, "made")
    # Iteration 2: δ = 1.5 × 1.8752466 = 2.8128699 → [0.2320301, 5.8577699]; 100 → 5.8577699.
    #   x* = 15.8577699/5 = 3.17155398
    #   deviations −2.17155398 −1.17155398 −0.17155398 0.82844602 2.68621592; squares
    #   4.71564669 1.37253873 0.02943077 0.68632281 7.21575597; sum 14.01969497; /4 =
    #   3.50492374; √ = 1.87214416; s* = 1.134 × 1.87214416 = 2.12301148
    two = algorithm_a(data, max_iter=2)
    assert (two.location, two.scale) == (approx(3.17155398), approx(2.12301148, rel=1e-7))
    # The fixed point: 1..4 stay inside, 100 is clipped to x* + 1.5 s*. Then
    #   5 x* = 10 + x* + 1.5 s*  →  x* = 2.5 + 0.375 s*
    #   Σ(inside − x*)² = Σ(xᵢ − 2.5)² + 4 (0.375 s*)² = 5 + 0.5625 s*²; outlier: (1.5 s*)²
    #   s*² = (1.134²/4)(5 + 2.8125 s*²) = 1.607445 + 0.90418781 s*²
    #   s*² = 1.607445 / 0.09581219 = 16.7770406 → s* = 4.0959786; x* = 4.0359920
    # (check: x* + 1.5 s* = 10.18 < 100, x* − 1.5 s* = −2.11 < 1: the assumption holds).
    # The contraction is slow (factor ≈ 0.9 per iteration): many iterations to converge.
    fixed = algorithm_a(data)
    assert fixed.converged
    assert not fixed.degenerate
    assert (fixed.location, fixed.scale) == (approx(4.035992, rel=1e-6), approx(4.0959786))
    assert fixed.iterations > 100


def _fixed_point_one_high_outlier(inside: list[float]) -> tuple[float, float]:
    """Algorithm A's fixed point when all values but one stay inside and one is clipped high.

    With m = len(inside), p = m + 1, S = Σ inside, Q = Σ (inside − c)² about c = S/m:
      p x* = S + x* + 1.5 s*            →  x* = c + 1.5 s*/m
      Σ(inside − x*)² = Q + m (1.5 s*/m)² ;  outlier deviation 1.5 s*
      s*² = 1.134²/(p − 1) · (Q + 2.25 s*²/m + 2.25 s*²)  →  s*² = A Q / (1 − A · 2.25 (1 + 1/m))
    with A = 1.134²/m: a closed form, derived here and not in the code.
    """
    m = len(inside)
    c = math.fsum(inside) / m
    q = math.fsum((v - c) ** 2 for v in inside)
    a = 1.134**2 / m
    s = math.sqrt(a * q / (1 - a * 2.25 * (1 + 1 / m)))
    return c + 1.5 * s / m, s


def test_algorithm_a_on_the_reference_round_by_hand() -> None:
    # Iteration 1 (start x* = 40.025, s* = MADe = .05932): δ = .08898 → [39.93602, 40.11398];
    # only 40.45 is outside → 40.11398. With dᵢ = xᵢ − 40 for the 11 others (in 0.01):
    # 2 5 −2 10 −5 1 7 −1 3 −3 4: Σd = .21, Σd² = .0243.
    #   x* = (440.21 + 40.11398)/12 = 480.32398/12 = 40.0269983; e = x* − 40 = .0269983
    #   Σ inside (xᵢ − x*)² = .0243 − 2 × .21 e + 11 e² = .0243 − .0113393 + .0080180 = .0209787
    #   outlier: (40.11398 − 40.0269983)² = .0869817² = .0075658
    #   s* = 1.134 × √(.0285445/11) = 1.134 × √.00259496 = 1.134 × .05094075 = .0577668
    one = algorithm_a(ETOH, max_iter=1)
    assert (one.location, one.scale) == (approx(40.0269983), approx(0.0577668, rel=1e-5))
    # The fixed point (40.45 clipped, the 11 others inside): with e = x* − 40,
    #   11 e = .21 + 1.5 s*;  Σ inside (dᵢ − e)² − 0.0441/11 ... gives
    #   s*² = (1.285956/11)(.0202909091 + 2.4545455 s*²) → s*² (1 − .28694886) = .00237211
    #   s*² = .0033267047, s* = .0576776; x* = 40 + (.21 + 1.5 × .0576776)/11 = 40.0269560
    full = algorithm_a(ETOH)
    assert full.converged
    assert not full.degenerate
    assert full.p == 12
    assert full.location == approx(40.0269560, abs=2e-7)
    assert full.scale == approx(0.0576776, rel=1e-5)
    assert (round(full.location, 3), round(full.scale, 4)) == (40.027, 0.0577)
    # The same fixed point from the closed form of the helper.
    x_closed, s_closed = _fixed_point_one_high_outlier([v for v in ETOH if v != 40.45])
    assert (full.location, full.scale) == (approx(x_closed, rel=1e-12), approx(s_closed))
    # u(x_pt) = 1.25 × .0576776/√12 = .072097/3.4641016 = .0208126: not < 0.3 σ_pt = .0173
    assert u_assigned(full.scale, 12) == approx(0.0208126, rel=1e-5)
    assert not negligible(u_assigned(full.scale, 12), full.scale)


def test_nothing_clipped_at_the_end_gives_mean_and_1134_sd() -> None:
    # [1, 1, 10]: median 1, MADe 0 → start with the sample sd: mean 4, deviations −3 −3 6,
    # Σ² 54, /2 = 27, sd = 5.196152. Fixed point with nothing clipped: x* = mean = 4,
    # s* = 1.134 × √27 = 5.892437; then x* + 1.5 s* = 12.84 > 10: indeed nothing clipped.
    a = algorithm_a([1, 1, 10])
    assert (a.initial_scale, a.converged, a.degenerate) == ("sd", True, False)
    assert (a.location, a.scale) == (approx(4.0), approx(5.892437, rel=1e-6))


@pytest.mark.parametrize(
    "data",
    [
        [5.0] * 4 + [5.1],  # all but one equal
        [1, 1, 1, 1, 10],
        [2.0] * 11 + [3.0],
        [7.25] * 6,  # all equal
    ],
)
def test_degenerate_data_are_reported_not_scored(data: list[float]) -> None:
    # [5, 5, 5, 5, 5.1]: MADe = 0; sd start = √(.008/4) = .0447; δ = .067 < .1, so 5.1 is
    # clipped and only the value 5 is inside. Clipped at x* + 1.5 s*, with e = x* − 5:
    # 5 e = e + 1.5 s → e = .375 s; Σ² = 4 e² + (1.5 s)² = 2.8125 s²;
    # s' = 1.134 √(2.8125/4) s = .951 s: s* shrinks by .951 each time, to 0.
    a = algorithm_a(data)
    assert a.degenerate
    assert a.scale == 0.0
    assert a.location == min(data)  # the repeated value
    assert not a.usable


def test_all_equal_stops_at_once() -> None:
    a = algorithm_a([3.5, 3.5, 3.5])
    assert (a.location, a.scale, a.iterations, a.converged, a.degenerate) == (
        3.5, 0.0, 0, True, True,
    )  # fmt: skip


def test_two_of_three_equal_is_not_degenerate_but_a_big_majority_is() -> None:
    # With m equal values and k = 1 clipped above, s* shrinks by
    # 1.134 × 1.5 × √((1/m + 1)/(p − 1)): m = 2 → 1.70 × √(1.5/2) = 1.47 > 1 (not degenerate);
    # m = 4 → .951 (degenerate, above).
    assert algorithm_a([1, 1, 10]).usable
    assert algorithm_a([1, 1, 1, 1, 10]).degenerate


def test_non_convergence_is_reported() -> None:
    a = algorithm_a([1.0, 2.0, 3.0, 4.0, 100.0], max_iter=5)
    assert not a.converged
    assert a.iterations == 5
    assert not a.usable


# --------------------------------------------------------------------------- Horwitz


def test_horwitz_branches_at_their_boundaries() -> None:
    # c < 1.2e-7: 0.22 c.  1e-8 → 2.2e-9; just below the boundary 1.1999e-7 → 2.63978e-8.
    assert horwitz(1e-8) == approx(2.2e-9)
    assert horwitz(1.1999e-7) == approx(2.63978e-8)
    # c = 1.2e-7 is in the middle branch: ln 1.2e-7 = .1823216 − 16.1180957 = −15.9357741;
    # × .8495 = −13.5374401; e^−13.5374401 = 2.2603294e-6 × .5842419 = 1.3205791e-6;
    # × .02 = 2.6411582e-8 (the branches almost meet: 0.22 × 1.2e-7 = 2.64e-8).
    assert horwitz(1.2e-7) == approx(2.6411582e-8, rel=1e-6)
    # 1 mg/kg = 1e-6: 10^(−6 × .8495) = 10^−5.097 = 7.998348e-6; × .02 = 1.59967e-7 (16 %).
    assert horwitz(1e-6) == approx(1.59967e-7, rel=1e-5)
    # c = 0.138 (middle branch, inclusive): ln .138 = −1.9805016; × .8495 = −1.6824361;
    # e^−1.6824361 = .2018965 × .9208703 = .1859205; × .02 = .00371841.
    assert horwitz(0.138) == approx(0.00371841, rel=1e-5)
    # Above: 0.01 √c. √.138 = .3714835 → .003714835 just above .138; 0.25 → .01 × .5.
    assert horwitz(0.1380001) == approx(0.003714835, rel=1e-6)
    assert horwitz(0.25) == approx(0.005)
    assert horwitz(1.0) == approx(0.01)


@pytest.mark.parametrize("c", [0.0, -1e-6, 1.5, math.nan, math.inf])
def test_horwitz_refuses_what_is_no_mass_fraction(c: float) -> None:
    with pytest.raises(ValueError, match="mass fraction"):
        horwitz(c)


# --------------------------------------------------------------------------- scores by hand


def test_scores_by_hand() -> None:
    # x_pt = 10, σ_pt = 0.75, u(x_pt) = 1: √(σ_pt² + u²) = √(.5625 + 1) = 1.25.
    # x = 11.5: d = 1.5; z = 1.5/.75 = 2; z′ = 1.5/1.25 = 1.2.
    assert z_score(11.5, 10, 0.75) == 2.0
    assert z_prime_score(11.5, 10, 0.75, 1.0) == approx(1.2)
    # u(x) = .75 with u(x_pt) = 1: √(.5625 + 1) = 1.25; ζ = 1.5/1.25 = 1.2.
    assert zeta_score(11.5, 10, 0.75, 1.0) == approx(1.2)
    # U(x) = 1.5, U(x_pt) = 2: √(2.25 + 4) = 2.5; Eₙ = 1.5/2.5 = .6; x = 7.5: −2.5/2.5 = −1.
    assert en_score(11.5, 10, 1.5, 2.0) == approx(0.6)
    assert en_score(7.5, 10, 1.5, 2.0) == -1.0
    assert action_signal(-1.0)
    assert not action_signal(0.6)
    # ζ and Eₙ use the uncertainties only: with u(x_pt) = 0, ζ = d/u(x).
    assert zeta_score(10.3, 10.0, 0.1, 0.0) == approx(3.0)


@pytest.mark.parametrize(
    ("z", "expected"),
    [
        (0.0, ScoreClass.SATISFACTORY),
        (2.0, ScoreClass.SATISFACTORY),
        (-2.0, ScoreClass.SATISFACTORY),
        (math.nextafter(2.0, 3.0), ScoreClass.QUESTIONABLE),
        (-2.5, ScoreClass.QUESTIONABLE),
        (math.nextafter(3.0, 0.0), ScoreClass.QUESTIONABLE),
        (3.0, ScoreClass.UNSATISFACTORY),
        (-3.0, ScoreClass.UNSATISFACTORY),
        (1e9, ScoreClass.UNSATISFACTORY),
    ],
)
def test_classify_z_boundaries(z: float, expected: ScoreClass) -> None:
    assert classify_z(z) is expected


def test_action_signal_boundary() -> None:
    assert action_signal(1.0)
    assert action_signal(-1.0)
    assert not action_signal(math.nextafter(1.0, 0.0))


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: algorithm_a([]), "empty"),
        (lambda: median([]), "empty"),
        (lambda: made([]), "empty"),
        (lambda: niqr([]), "empty"),
        (lambda: algorithm_a([1.0]), "at least 2"),
        (lambda: algorithm_a([1.0, math.nan]), r"values\[1\] is not finite"),
        (lambda: algorithm_a([1.0, math.inf, 2.0]), "not finite"),
        (lambda: algorithm_a([1.0, "2"]), "expected a number, got str"),
        (lambda: algorithm_a([1.0, None]), "expected a number, got NoneType"),
        (lambda: algorithm_a("12"), "got text"),
        (lambda: algorithm_a([1.0, 2.0], tol=0), "tol"),
        (lambda: algorithm_a([1.0, 2.0], max_iter=0), "max_iter"),
        (lambda: algorithm_a(pa.array([1.0, None, 2.0])), "1 missing value"),
        (lambda: z_score(1, 0, 0), "sigma_pt must be > 0"),
        (lambda: z_score(1, 0, -1), "sigma_pt must be > 0"),
        (lambda: z_score(math.nan, 0, 1), "x is not finite"),
        (lambda: z_prime_score(1, 0, 0, 0.1), "sigma_pt must be > 0"),
        (lambda: z_prime_score(1, 0, 1, -0.1), "u_x_pt must be ≥ 0"),
        (lambda: zeta_score(1, 0, 0, 0), "both 0"),
        (lambda: zeta_score(1, 0, -1, 1), "u_x must be ≥ 0"),
        (lambda: en_score(1, 0, 0, 0), "both 0"),
        (lambda: en_score(1, math.inf, 1, 1), "x_pt is not finite"),
        (lambda: u_assigned(1.0, 0), "p "),
        (lambda: u_assigned(-1.0, 4), "scale"),
        (lambda: negligible(0.1, 0), "sigma_pt must be > 0"),
        (lambda: classify_z(math.nan), "z is not finite"),
    ],
)
def test_clear_errors(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]


# --------------------------------------------------------------------------- Arrow input


def test_arrow_arrays_give_the_same_results_as_lists() -> None:
    expected = algorithm_a(ETOH)
    assert algorithm_a(pa.array(ETOH)) == expected
    assert algorithm_a(pa.chunked_array([ETOH[:5], ETOH[5:]])) == expected
    assert algorithm_a(pa.array(ETOH, pa.float32())).location == approx(expected.location)
    assert median(pa.array([3, 1, 2], pa.int64())) == 2
    assert niqr(pa.array(ETOH)) == niqr(ETOH)
    assert made(pa.array(ETOH)) == made(ETOH)


# --------------------------------------------------------------------------- properties

spread_values = st.lists(
    st.integers(-100_000, 100_000).map(lambda i: i / 100), min_size=2, max_size=15
)
scales = st.sampled_from([-7.5, -2.0, -1.0, -0.1, 0.01, 0.5, 1.0, 3.0, 1000.0])
shifts = st.floats(-1e4, 1e4, allow_nan=False)


@given(values=spread_values, a=scales, b=shifts)
def test_algorithm_a_is_location_and_scale_equivariant(
    values: list[float], a: float, b: float
) -> None:
    before = algorithm_a(values)
    after = algorithm_a([a * v + b for v in values])
    assume(before.converged or before.degenerate)
    assert after.degenerate == before.degenerate
    if before.degenerate:
        assert after.location == approx(a * before.location + b, rel=1e-9, abs=1e-9)
        return
    assert after.converged
    assert after.scale == approx(abs(a) * before.scale, rel=1e-6)
    assert after.location == approx(a * before.location + b, abs=1e-6 * abs(a) * before.scale)


@given(values=spread_values, seed=st.integers(0, 2**32 - 1))
def test_algorithm_a_is_permutation_invariant(values: list[float], seed: int) -> None:
    shuffled = values[:]
    random.Random(seed).shuffle(shuffled)
    assert algorithm_a(shuffled) == algorithm_a(values)


@given(values=st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=2, max_size=15))
def test_robust_mean_lies_between_min_and_max(values: list[float]) -> None:
    a = algorithm_a(values)
    assert min(values) <= a.location <= max(values)
    assert a.scale >= 0
    assert min(values) <= median(values) <= max(values)
    assert made(values) >= 0
    assert niqr(values) >= 0


@given(
    x_pt=st.floats(-1e6, 1e6, allow_nan=False),
    sigma=st.floats(1e-6, 1e6),
    u=st.floats(0, 1e6),
)
def test_the_assigned_value_scores_zero(x_pt: float, sigma: float, u: float) -> None:
    assert z_score(x_pt, x_pt, sigma) == 0
    assert z_prime_score(x_pt, x_pt, sigma, u) == 0
    assert zeta_score(x_pt, x_pt, sigma, u) == 0
    assert en_score(x_pt, x_pt, sigma, u) == 0
    assert classify_z(0.0) is ScoreClass.SATISFACTORY


@given(z=st.floats(-1e6, 1e6, allow_nan=False), w=st.floats(-1e6, 1e6, allow_nan=False))
def test_classify_z_is_symmetric_and_monotonic_in_the_size(z: float, w: float) -> None:
    order = list(ScoreClass)
    assert classify_z(z) is classify_z(-z)
    small, large = sorted((abs(z), abs(w)))
    assert order.index(classify_z(small)) <= order.index(classify_z(large))


@given(d=st.floats(-1e3, 1e3, allow_nan=False), sigma=st.floats(1e-3, 1e3), u=st.floats(0, 1e3))
def test_z_prime_never_exceeds_z(d: float, sigma: float, u: float) -> None:
    assert abs(z_prime_score(d, 0.0, sigma, u)) <= abs(z_score(d, 0.0, sigma)) * (1 + 1e-12)


# --------------------------------------------------------------------------- a whole round


def _study(**kw: object) -> PTStudy:
    base: dict[str, object] = {
        "study_id": "PT-T",
        "title": "Test round",
        "purpose": PTPurpose.PROFICIENCY,
        "analyte": "x",
        "unit": "mg/kg",
    }
    return PTStudy(**(base | kw))  # type: ignore[arg-type]


def _result(lab: str, value: float, u: float | None = None, study: str = "PT-T") -> PTResult:
    return PTResult(study_id=study, lab_id=lab, value=value, uncertainty=u)


def test_evaluate_the_reference_round() -> None:
    ds = reference_dataset()
    study = ds.get("pt_study", "PT-2024-ETOH")
    results = ds.records("pt_result")
    ev = evaluate(study, results)
    sm = ev.summary
    assert sm.p == 12
    assert len(ev.scores) == 12
    assert (sm.assigned_value_source, sm.sigma_pt_source) == ("algorithm_a", "algorithm_a")
    # x_pt = x* = 40.026956, σ_pt = s* = .0576776, u(x_pt) = .0208126 (by hand, above).
    assert sm.assigned_value == approx(40.026956, abs=1e-6)
    assert sm.sigma_pt == approx(0.0576776, rel=1e-5)
    assert sm.u_assigned_value == approx(0.0208126, rel=1e-5)
    assert sm.negligible is False  # 1.25/√12 = .361 ≥ 0.3
    assert sm.counts == {
        ScoreClass.SATISFACTORY: 11,
        ScoreClass.QUESTIONABLE: 0,
        ScoreClass.UNSATISFACTORY: 1,
    }
    assert sm.action_signals == 1
    by_lab = {s.lab_id: s for s in ev.scores}
    outlier = by_lab["IT-ROM"]  # 40.45
    # d = 40.45 − 40.026956 = .423044
    # z  = .423044/.0576776 = 7.33463
    # z′ = .423044/√(.0576776² + .0208126²) = .423044/√(.003326705 + .000433164)
    #    = .423044/.06131777 = 6.89921
    # ζ  = .423044/√(.05² + .0208126²) = .423044/√.002933164 = .423044/.0541587 = 7.81119
    # Eₙ = .423044/√(.1² + .0416252²) = ζ/2 = 3.90560 → action signal
    assert outlier.value == 40.45
    assert outlier.uncertainty == 0.05
    assert outlier.z == approx(7.33463, rel=2e-5)
    assert outlier.z_prime == approx(6.89921, rel=2e-5)
    assert outlier.zeta == approx(7.81119, rel=2e-5)
    assert outlier.en == approx(3.90560, rel=2e-5)
    assert outlier.classification is ScoreClass.UNSATISFACTORY
    assert outlier.action_signal
    # ES-MAD, 39.95: d = −.076956; z = −1.33424; z′ = −1.25504; ζ = −1.42093; Eₙ = −.71047.
    low = by_lab["ES-MAD"]
    assert (low.z, low.z_prime) == (approx(-1.33424, rel=2e-5), approx(-1.25504, rel=2e-5))
    assert (low.zeta, low.en) == (approx(-1.42093, rel=2e-5), approx(-0.71047, rel=2e-5))
    assert low.classification is ScoreClass.SATISFACTORY
    assert not low.action_signal
    assert all(s.classification is ScoreClass.SATISFACTORY for s in ev.scores if s is not outlier)
    assert [s.lab_id for s in ev.scores] == [r.lab_id for r in results]


def test_evaluate_with_a_given_assigned_value_sigma_and_uncertainty() -> None:
    # x_pt = 10, σ_pt = .75, u(x_pt) = 1, k = 2 (U = 2u):
    #   lab   x      u(x)  d     z      z′ = d/1.25  ζ = d/√(u² + 1)   Eₙ = d/√((2u)² + 4)
    #   A    11.5   .75   1.5   2      1.2          1.2               .6      satisfactory
    #   B    12.25  .75   2.25  3      1.8          1.8               .9      unsatisfactory
    #   C     8.0   —    −2    −2.667 −1.6          —                 —       questionable
    #   D     7.5   .75  −2.5  −3.333 −2.0         −2.0              −1.0     unsat., signal
    #   E    10.0   0     0     0      0            0                 0       satisfactory
    study = _study(assigned_value=10.0, sigma_pt=0.75)
    results = [
        _result("A", 11.5, 0.75),
        _result("B", 12.25, 0.75),
        _result("C", 8.0),
        _result("D", 7.5, 0.75),
        _result("E", 10.0, 0.0),
    ]
    ev = evaluate(study, results, u_assigned_value=1.0)
    sm = ev.summary
    assert (sm.assigned_value, sm.sigma_pt, sm.u_assigned_value) == (10.0, 0.75, 1.0)
    assert (sm.assigned_value_source, sm.sigma_pt_source, sm.u_assigned_value_source) == (
        "given", "given", "given",
    )  # fmt: skip
    assert sm.negligible is False  # 1 ≥ .225
    s = {x.lab_id: x for x in ev.scores}
    assert (s["A"].z, s["A"].z_prime, s["A"].zeta, s["A"].en) == (
        2.0, approx(1.2), approx(1.2), approx(0.6),
    )  # fmt: skip
    assert s["A"].classification is ScoreClass.SATISFACTORY
    assert (s["B"].z, s["B"].en) == (3.0, approx(0.9))
    assert s["B"].classification is ScoreClass.UNSATISFACTORY
    assert not s["B"].action_signal
    assert s["C"].z == approx(-8 / 3)
    assert s["C"].z_prime == approx(-1.6)
    assert (s["C"].zeta, s["C"].en, s["C"].action_signal) == (None, None, False)
    assert s["C"].classification is ScoreClass.QUESTIONABLE
    assert (s["D"].z_prime, s["D"].en, s["D"].action_signal) == (approx(-2.0), -1.0, True)
    assert (s["E"].z, s["E"].z_prime, s["E"].zeta, s["E"].en) == (0.0, 0.0, 0.0, 0.0)
    assert sm.counts == {
        ScoreClass.SATISFACTORY: 2,
        ScoreClass.QUESTIONABLE: 1,
        ScoreClass.UNSATISFACTORY: 2,
    }
    assert sm.action_signals == 1
    # Without u(x_pt), a given value is taken as exact: z′ = z, ζ = d/u(x).
    exact = evaluate(study, results)
    assert exact.summary.u_assigned_value_source == "assumed_zero"
    assert all(x.z_prime == x.z for x in exact.scores)
    assert {x.lab_id: x.zeta for x in exact.scores}["A"] == approx(2.0)  # 1.5/.75
    assert {x.lab_id: x.zeta for x in exact.scores}["E"] is None  # u(x) = u(x_pt) = 0


def test_evaluate_sigma_given_assigned_value_by_consensus() -> None:
    study = _study(sigma_pt=0.1)
    ev = evaluate(study, [_result(f"L{i}", v) for i, v in enumerate(ETOH)])
    assert ev.summary.sigma_pt == 0.1
    assert ev.summary.sigma_pt_source == "given"
    assert ev.summary.assigned_value == approx(40.026956, abs=1e-6)
    # u(x_pt) = .0208126 < .03: negligible.
    assert ev.summary.negligible is True


def test_evaluate_refuses_what_it_cannot_score() -> None:
    with pytest.raises(ValueError, match="no result"):
        evaluate(_study(), [])
    with pytest.raises(ValueError, match="belongs to study OTHER"):
        evaluate(_study(), [_result("A", 1.0), _result("B", 2.0, study="OTHER")])
    with pytest.raises(ValueError, match="laboratory A has two results"):
        evaluate(_study(), [_result("A", 1.0), _result("A", 2.0)])
    with pytest.raises(ValueError, match="degenerate"):
        evaluate(_study(), [_result(f"L{i}", 5.0) for i in range(6)] + [_result("X", 5.1)])
    with pytest.raises(ValueError, match="at least 2 results"):
        evaluate(_study(), [_result("A", 1.0)])
    with pytest.raises(ValueError, match="coverage factor"):
        evaluate(_study(), [_result("A", 1.0), _result("B", 2.0)], k=0)
    # A degenerate round is fine when the study gives x_pt and σ_pt.
    ok = evaluate(
        _study(assigned_value=5.0, sigma_pt=0.05),
        [_result(f"L{i}", 5.0) for i in range(6)] + [_result("X", 5.1)],
    )
    assert ok.summary.robust is not None
    assert ok.summary.robust.degenerate
    assert {s.lab_id: s.z for s in ok.scores}["X"] == approx(2.0)


def test_scores_are_entities_and_round_trip_through_every_format(tmp_path: Path) -> None:
    ds = reference_dataset()
    ev = evaluate(ds.get("pt_study", "PT-2024-ETOH"), ds.records("pt_result"))
    info = clen_core.get_entity(PTScore)
    assert info.name == "pt_score"
    assert info.key == ("study_id", "lab_id")
    for ext in ("csv", "json", "jsonl", "parquet"):
        path = tmp_path / f"pt_score.{ext}"
        clen_core.write(ev.scores, path, entity="pt_score")
        assert list(clen_core.read(path, entity="pt_score")) == list(ev.scores)
    # The whole evaluation is JSON-ready.
    data = json.loads(json.dumps(ev.to_dict()))
    assert data["summary"]["counts"] == {"satisfactory": 11, "questionable": 0, "unsatisfactory": 1}
    assert len(data["scores"]) == 12
    assert data["study"]["study_id"] == "PT-2024-ETOH"
