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

import attrs
import pyarrow as pa
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import clen_core
from clen_core.data import reference_dataset
from clen_core.errors import StatisticsError
from clen_core.model.proficiency import (
    AssignedValueSource,
    Censoring,
    PTPurpose,
    PTResult,
    PTScore,
    PTStudy,
    ResultKind,
    RobustEstimator,
    ScoreClass,
    ScoreName,
    SigmaPtSource,
)
from clen_core.proficiency import (
    AgreementLevel,
    PTEvaluation,
    action_signal,
    algorithm_a,
    classify_z,
    en_score,
    evaluate,
    evaluate_qualitative,
    evaluate_round,
    homogeneity,
    horwitz,
    made,
    median,
    negligible,
    niqr,
    q_hampel,
    stability,
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


# --------------------------------------------------------------------------- a whole study


def _study(**kw: object) -> PTStudy:
    base: dict[str, object] = {
        "study_id": "PT-T",
        "title": "Test round",
        "purpose": PTPurpose.PROFICIENCY,
        "analyte": "x",
        "unit": "mg/kg",
    }
    return PTStudy(**(base | kw))  # type: ignore[arg-type]


def _result(
    lab: str,
    value: float | None,
    big_u: float | None = None,
    k: float = 2.0,
    *,
    study: str = "PT-T",
    replicate: int = 1,
    censoring: Censoring | None = None,
) -> PTResult:
    return PTResult(
        study_id=study,
        lab_id=lab,
        replicate=replicate,
        value=value,
        censoring=censoring,
        expanded_uncertainty=big_u,
        coverage_factor=k,
    )


def test_evaluate_the_reference_item_a_by_consensus() -> None:
    ds = reference_dataset()
    study = ds.get("pt_study", "PT-2024-ETOH")
    results = [r for r in ds.records("pt_result") if r.study_id == study.study_id]
    ev = evaluate(study, results, stop="converged")
    sm = ev.summary
    assert (sm.p, sm.laboratories, len(ev.scores)) == (12, 12, 12)
    assert sm.assigned_value_source == AssignedValueSource.PARTICIPANTS_CONSENSUS
    assert sm.sigma_pt_source == SigmaPtSource.PARTICIPANTS_DATA
    assert sm.characterisation_uncertainty_source == "consensus"
    # x_pt = x* = 40.026956, σ_pt = s* = .0576776, u(x_pt) = 1.25 s*/√12 = .0208126 (the
    # Algorithm A fixed point, by hand above).
    assert sm.assigned_value == approx(40.026956, abs=1e-6)
    assert sm.sigma_pt == approx(0.0576776, rel=1e-5)
    assert sm.assigned_uncertainty == approx(0.0208126, rel=1e-5)
    # .0208 ≥ 0.3 × .0577 = .0173: not negligible, so the class is read from z′ (9.2.1).
    assert sm.negligible is False
    assert sm.classified_by is ScoreName.Z_PRIME
    assert "z′ is read" in sm.classified_by_reason
    assert sm.counts == {
        ScoreClass.SATISFACTORY: 11,
        ScoreClass.QUESTIONABLE: 0,
        ScoreClass.UNSATISFACTORY: 1,
    }
    by_lab = {s.lab_id: s for s in ev.scores}
    outlier = by_lab["IT-ROM"]  # 40.45, U = .20 with k = 2: u(x) = .10
    # d = .423044; z = .423044/.0576776 = 7.33463; z′ = .423044/√(.0576776² + .0208126²)
    # = .423044/.0613178 = 6.89921; ζ = .423044/√(.1² + .0208126²) = .423044/.1021430
    # = 4.14168; Eₙ = .423044/√(.2² + .0416252²) = .423044/.2042855 = 2.07084.
    assert (outlier.value, outlier.expanded_uncertainty, outlier.coverage_factor) == (
        40.45, 0.2, 2.0,
    )  # fmt: skip
    assert outlier.z == approx(7.33463, rel=2e-5)
    assert outlier.z_prime == approx(6.89921, rel=2e-5)
    assert outlier.zeta == approx(4.14168, rel=2e-5)
    assert outlier.en == approx(2.07084, rel=2e-5)
    assert outlier.classification is ScoreClass.UNSATISFACTORY
    assert outlier.action_signal
    # FR-PAR states a standard uncertainty: U = .05 with k = 1, so u(x) = .05 and, for Eₙ,
    # U(x) = .05 as reported: 40.07 − 40.026956 = .043044; ζ = .043044/√(.05² + .0208126²)
    # = .043044/.0541587 = .794776; Eₙ = .043044/√(.05² + .0416252²) = .043044/.0650588
    # = .661616.
    fr = by_lab["FR-PAR"]
    assert (fr.zeta, fr.en) == (approx(0.794776, rel=2e-5), approx(0.661616, rel=2e-5))
    # NL-AMS reported no U: no ζ, no Eₙ, but a class.
    nl = by_lab["NL-AMS"]
    assert (nl.zeta, nl.en, nl.action_signal) == (None, None, False)
    assert nl.classification is ScoreClass.SATISFACTORY
    assert [s.lab_id for s in ev.scores] == [r.lab_id for r in results]


def test_each_laboratory_s_own_u_and_k() -> None:
    """ISO 13528:2022 9.3-9.7 with x_pt = 10, u(x_pt) = 1 (U(x_pt) = 2), σ_pt = .75, δE = 2.

    z′ = D/1.25; ζ = D/√(u² + 1); Eₙ = D/√(U² + 4).

    lab  x      U       k     u(x)  D     D%   PA     z       z′     ζ     Eₙ
    A    11.5   1.5     2     .75   1.5   15   75     2       1.2    1.2   .6
    B    12.25  1.5     2     .75   2.25  22.5 112.5  3       1.8    1.8   .9
    K    11.5   1.2975  1.73  .75   1.5   15   75     2       1.2    1.2   .629192
    D    7.5    1.5     2     .75   −2.5  −25  −125   −3.333  −2     −2    −1
    Q    7.0    —       —     —     −3    −30  −150   −4      −2.4   —     —
    E    6.0    0       2     0     −4    −40  −200   −5.333  −3.2   −4    −2
    K's Eₙ: 1.5/√(1.2975² + 4) = 1.5/√5.68350625 = 1.5/2.3840105 = .629192.
    u(x_pt) = 1 ≥ .3 × .75: the class is read from z′ (9.2.1): B is satisfactory although
    its z is 3; Q is questionable although its z is −4.
    """
    study = _study(assigned_value=10.0, assigned_uncertainty=1.0, sigma_pt=0.75, delta_e=2.0)
    results = [
        _result("A", 11.5, 1.5),
        _result("B", 12.25, 1.5),
        _result("K", 11.5, 1.2975, 1.73),
        _result("D", 7.5, 1.5),
        _result("Q", 7.0),
        _result("E", 6.0, 0.0),
    ]
    ev = evaluate(study, results)
    sm = ev.summary
    assert (sm.assigned_value, sm.assigned_uncertainty, sm.sigma_pt) == (10.0, 1.0, 0.75)
    assert (sm.assigned_value_source, sm.sigma_pt_source) == ("given", "given")
    assert sm.characterisation_uncertainty_source == "given"
    assert sm.classified_by is ScoreName.Z_PRIME
    s = {x.lab_id: x for x in ev.scores}
    expected = {
        #     D      D%     PA      z        z′    ζ     Eₙ
        "A": (1.5, 15.0, 75.0, 2.0, 1.2, 1.2, 0.6),
        "B": (2.25, 22.5, 112.5, 3.0, 1.8, 1.8, 0.9),
        "K": (1.5, 15.0, 75.0, 2.0, 1.2, 1.2, 0.629192),
        "D": (-2.5, -25.0, -125.0, -10 / 3, -2.0, -2.0, -1.0),
        "Q": (-3.0, -30.0, -150.0, -4.0, -2.4, None, None),
        "E": (-4.0, -40.0, -200.0, -16 / 3, -3.2, -4.0, -2.0),
    }
    for lab, want in expected.items():
        got = (s[lab].d, s[lab].d_percent, s[lab].pa, s[lab].z, s[lab].z_prime, s[lab].zeta)
        assert got == tuple(approx(w, rel=1e-6) if w is not None else None for w in want[:6])
        assert s[lab].en == (None if want[6] is None else approx(want[6], rel=1e-5)), lab
    assert [s[x].classification for x in "ABKDQE"] == [
        ScoreClass.SATISFACTORY,
        ScoreClass.SATISFACTORY,
        ScoreClass.SATISFACTORY,
        ScoreClass.SATISFACTORY,
        ScoreClass.QUESTIONABLE,
        ScoreClass.UNSATISFACTORY,
    ]
    assert all(x.classified_by is ScoreName.Z_PRIME for x in ev.scores)
    assert [s[x].action_signal for x in "ABKDQE"] == [False, False, False, True, False, True]
    assert sm.action_signals == 2
    assert (s["K"].expanded_uncertainty, s["K"].coverage_factor) == (1.2975, 1.73)


def test_the_class_comes_from_z_prime_when_u_x_pt_is_not_negligible() -> None:
    # The laboratory: z = −3.05 but z′ = −2.59. With σ_pt = 1 and u(x_pt) = u,
    # z′/z = 1/√(1 + u²) = 2.59/3.05 → u = √((3.05/2.59)² − 1) = .621915.
    u = math.sqrt((3.05 / 2.59) ** 2 - 1)
    study = _study(assigned_value=0.0, assigned_uncertainty=u, sigma_pt=1.0)
    (score,) = evaluate(study, [_result("L", -3.05)]).scores
    assert score.z == approx(-3.05)
    assert score.z_prime == approx(-2.59)
    assert score.classification is ScoreClass.QUESTIONABLE
    assert score.classified_by is ScoreName.Z_PRIME
    # The same laboratory against an exact x_pt is read by z: unsatisfactory.
    (exact,) = evaluate(_study(assigned_value=0.0, sigma_pt=1.0), [_result("L", -3.05)]).scores
    assert (exact.classification, exact.classified_by) == (
        ScoreClass.UNSATISFACTORY, ScoreName.Z,
    )  # fmt: skip


def test_a_given_value_without_its_uncertainty_is_taken_as_exact_and_said_so() -> None:
    ev = evaluate(_study(assigned_value=10.0, sigma_pt=0.5), [_result("A", 10.5, 0.5)])
    assert ev.summary.characterisation_uncertainty_source == "assumed_zero"
    assert ev.summary.assigned_uncertainty == 0
    (s,) = ev.scores
    assert s.z == s.z_prime == 1.0
    assert s.zeta == approx(2.0)  # .5/.25


def test_u_x_pt_adds_homogeneity_and_stability_in_quadrature() -> None:
    # u_char = .3, u_hom = .4 → u(x_pt) = .5 (7.2.2, Formula 3); u_stab = 1.2 → 1.3.
    study = _study(assigned_value=10.0, assigned_uncertainty=0.3, sigma_pt=5.0)
    rs = [_result("A", 11.0)]
    assert evaluate(study, rs).summary.assigned_uncertainty == approx(0.3)
    with_hom = evaluate(attrs.evolve(study, homogeneity_uncertainty=0.4), rs).summary
    assert (with_hom.homogeneity_uncertainty, with_hom.assigned_uncertainty) == (0.4, approx(0.5))
    both = evaluate(
        attrs.evolve(study, homogeneity_uncertainty=0.4, stability_uncertainty=1.2), rs
    ).summary
    assert both.assigned_uncertainty == approx(1.3)
    # From the checks themselves (Annex B), when the study does not state them.
    check = homogeneity([[10.0, 10.2], [10.6, 10.8], [9.9, 10.1], [10.3, 10.5]], 5.0)
    from_check = evaluate(study, rs, homogeneity=check).summary
    assert from_check.homogeneity is check
    assert from_check.homogeneity_uncertainty == check.uncertainty == check.s_s
    assert from_check.assigned_uncertainty == approx(math.hypot(0.3, check.s_s))
    stab = stability([10.0, 10.2], [10.6, 10.8], 5.0)
    assert evaluate(study, rs, stability=stab).summary.stability_uncertainty == approx(
        0.6 / math.sqrt(3)
    )


def test_sigma_pt_from_each_source() -> None:
    rs = [_result(f"L{i}", v) for i, v in enumerate(ETOH)]
    # Fitness for purpose as a fraction of x_pt: 2 % of 40.
    rel = evaluate(_study(assigned_value=40.0, sigma_pt_relative=0.02), rs).summary
    assert (rel.sigma_pt, rel.sigma_pt_source) == (approx(0.8), "fitness_for_purpose")
    # Horwitz (8.4): 1 mg/kg is c = 1e-6: (1e-6)^.8495 = 10^−5.097 = 7.99834e-6, so
    # σ = .02 × 7.99834e-6 = 1.59967e-7, i.e. .159967 mg/kg (the classic 16 % at 1 ppm).
    hw = evaluate(_study(assigned_value=1.0, sigma_pt_source=SigmaPtSource.HORWITZ), rs).summary
    assert (hw.sigma_pt, hw.sigma_pt_source) == (approx(0.159967, rel=1e-5), "horwitz")
    # A precision experiment (8.5): σ_R = .5, σ_r = .3, duplicates: √(.25 − .09 × .5) = .452769.
    pe = evaluate(
        _study(
            assigned_value=40.0,
            sigma_pt_source=SigmaPtSource.PRECISION_EXPERIMENT,
            reproducibility_sd=0.5,
            repeatability_sd=0.3,
            replicates=2,
        ),
        rs,
    ).summary
    assert (pe.sigma_pt, pe.sigma_pt_source) == (approx(0.452769, rel=1e-6), "precision_experiment")
    # The participants' data: Algorithm A's s*.
    pd = evaluate(_study(assigned_value=40.0), rs, stop="converged").summary
    assert (pd.sigma_pt, pd.sigma_pt_source) == (approx(0.0576776, rel=1e-5), "participants_data")


def test_algorithm_a_stop_rule_and_q_hampel_as_the_consensus() -> None:
    rs = [_result(f"L{i}", v) for i, v in enumerate(ETOH)]
    iso = evaluate(_study(), rs).summary
    assert iso.stop == "iso"
    assert iso.assigned_value == algorithm_a(ETOH, stop="iso").location
    converged = evaluate(_study(), rs, stop="converged").summary
    assert converged.assigned_value == algorithm_a(ETOH).location
    qh = evaluate(_study(estimator=RobustEstimator.Q_HAMPEL), rs).summary
    want = q_hampel(ETOH)
    assert (qh.assigned_value, qh.sigma_pt) == (want.location, want.scale)
    assert qh.assigned_uncertainty == approx(1.25 * want.scale / math.sqrt(12))


def test_replicates_are_averaged_and_their_count_checked() -> None:
    study = _study(assigned_value=10.0, sigma_pt=1.0, replicates=2)
    rs = [
        _result("A", 10.2, 0.4, replicate=1),
        _result("A", 10.6, 0.4, replicate=2),
        _result("B", 9.0, 0.4, replicate=1),  # one of two asked
        _result("C", 11.0, 0.2, 1.0, replicate=1),
        _result("C", 11.0, 0.6, 2.0, replicate=2),  # differing U: the larger u is kept
    ]
    s = {x.lab_id: x for x in evaluate(study, rs).scores}
    assert (s["A"].value, s["A"].replicates, s["A"].note) == (approx(10.4), 2, None)
    assert s["B"].replicates == 1
    assert "1 replicate(s) reported, 2 asked" in (s["B"].note or "")
    assert (s["C"].expanded_uncertainty, s["C"].coverage_factor) == (0.6, 2.0)  # u .3 > .2
    assert "different U" in (s["C"].note or "")


def test_censored_and_missing_results_are_reported_never_dropped() -> None:
    # x_pt = 10, σ_pt = .5, u(x_pt) = 0: z is read.
    # "< 5": the limit scores (5 − 10)/.5 = −10, so whatever the true value, z ≤ −10.
    # "< 12": the limit scores +4: the result may be anything below: not classed.
    # "> 20": +20: unsatisfactory. "> 9": −2: not classed.
    study = _study(assigned_value=10.0, sigma_pt=0.5)
    rs = [
        _result("A", 10.2),
        _result("LOW", 5.0, censoring=Censoring.BELOW),
        _result("HIGH-LOQ", 12.0, censoring=Censoring.BELOW),
        _result("OVER", 20.0, censoring=Censoring.ABOVE),
        _result("ABOVE-9", 9.0, censoring=Censoring.ABOVE),
        _result("SILENT", None),
    ]
    ev = evaluate(study, rs)
    s = {x.lab_id: x for x in ev.scores}
    assert len(ev.scores) == 6
    assert s["LOW"].classification is ScoreClass.UNSATISFACTORY
    assert (s["LOW"].z, s["LOW"].censoring, s["LOW"].value) == (None, Censoring.BELOW, 5.0)
    assert s["OVER"].classification is ScoreClass.UNSATISFACTORY
    assert s["HIGH-LOQ"].classification is None
    assert s["ABOVE-9"].classification is None
    assert (s["SILENT"].classification, s["SILENT"].value) == (None, None)
    assert all(s[x].note for x in ("LOW", "HIGH-LOQ", "OVER", "ABOVE-9", "SILENT"))
    sm = ev.summary
    assert (sm.laboratories, sm.p, sm.censored, sm.not_returned) == (6, 1, 4, 1)
    assert sm.not_classified == 3
    assert sum(sm.counts.values()) + sm.not_classified == sm.laboratories
    # Censored results stay out of the consensus: x* of the numeric results only.
    consensus = evaluate(_study(sigma_pt=1.0), [*rs, _result("B", 10.4), _result("C", 9.8)])
    assert consensus.summary.p == 3
    assert consensus.summary.assigned_value == approx(
        algorithm_a([10.2, 10.4, 9.8], stop="iso").location
    )


def test_evaluate_refuses_what_it_cannot_score() -> None:
    with pytest.raises(StatisticsError, match="no result"):
        evaluate(_study(), [])
    with pytest.raises(StatisticsError, match="belongs to study OTHER"):
        evaluate(_study(), [_result("A", 1.0), _result("B", 2.0, study="OTHER")])
    with pytest.raises(StatisticsError, match="laboratory A has two results for replicate 1"):
        evaluate(_study(), [_result("A", 1.0), _result("A", 2.0)])
    with pytest.raises(StatisticsError, match="degenerate"):
        evaluate(_study(), [_result(f"L{i}", 5.0) for i in range(6)] + [_result("X", 5.1)])
    with pytest.raises(StatisticsError, match="fewer than 2 numeric results"):
        evaluate(_study(), [_result("A", 1.0)])
    crm = AssignedValueSource.CERTIFIED_REFERENCE_MATERIAL
    with pytest.raises(StatisticsError, match="certified reference material"):
        evaluate(_study(assigned_value_source=crm, sigma_pt=1.0), [_result("A", 1.0)])
    with pytest.raises(StatisticsError, match=r"mass fraction.*'% vol'"):
        evaluate(
            _study(assigned_value=40.0, unit="% vol", sigma_pt_source=SigmaPtSource.HORWITZ),
            [_result("A", 40.0)],
        )
    ffp = SigmaPtSource.FITNESS_FOR_PURPOSE
    with pytest.raises(StatisticsError, match="neither sigma_pt nor sigma_pt_relative"):
        evaluate(_study(assigned_value=1.0, sigma_pt_source=ffp), [_result("A", 1.0)])
    pe = SigmaPtSource.PRECISION_EXPERIMENT
    with pytest.raises(StatisticsError, match="reproducibility_sd"):
        evaluate(_study(assigned_value=1.0, sigma_pt_source=pe), [_result("A", 1.0)])
    with pytest.raises(StatisticsError, match="is classification: use evaluate_qualitative"):
        evaluate(_study(kind=ResultKind.CLASSIFICATION), [_result("A", 1.0)])
    # A degenerate round is fine when the study gives x_pt and σ_pt.
    ok = evaluate(
        _study(assigned_value=5.0, sigma_pt=0.05),
        [_result(f"L{i}", 5.0) for i in range(6)] + [_result("X", 5.1)],
    )
    assert ok.summary.robust is not None
    assert ok.summary.robust.degenerate
    assert {s.lab_id: s.z for s in ok.scores}["X"] == approx(2.0)


lab_values = st.lists(st.integers(-5000, 5000).map(lambda i: i / 100), min_size=3, max_size=12)


@given(
    values=lab_values,
    u=st.floats(0.01, 10),
    k=st.floats(1.0, 3.0),
    k2=st.floats(1.0, 3.0),
    which=st.integers(0, 11),
)
def test_a_laboratory_s_k_changes_only_its_own_en(
    values: list[float], u: float, k: float, k2: float, which: int
) -> None:
    """The same standard uncertainty u stated with another k: U = k·u. Only Eₙ may move."""
    which %= len(values)
    study = _study(assigned_value=0.0, assigned_uncertainty=0.2, sigma_pt=1.0)

    def round_with(kk: float) -> dict[str, PTScore]:
        rs = [
            _result(f"L{i}", v, u * (kk if i == which else 2.0), kk if i == which else 2.0)
            for i, v in enumerate(values)
        ]
        return {s.lab_id: s for s in evaluate(study, rs).scores}

    a, b = round_with(k), round_with(k2)
    for lab in a:
        sa, sb = a[lab], b[lab]
        assert (sa.z, sa.z_prime, sa.classification) == (sb.z, sb.z_prime, sb.classification)
        assert sa.zeta == approx(sb.zeta, rel=1e-9, abs=1e-12)
        if lab != f"L{which}":
            assert sa.en == sb.en
    la, lb = a[f"L{which}"], b[f"L{which}"]
    d = values[which]
    assert la.en == approx(d / math.hypot(k * u, 0.4), rel=1e-9, abs=1e-12)
    assert lb.en == approx(d / math.hypot(k2 * u, 0.4), rel=1e-9, abs=1e-12)


@given(values=lab_values, seed=st.integers(0, 2**32 - 1))
def test_scores_do_not_depend_on_the_order_of_the_results(values: list[float], seed: int) -> None:
    assume(len(set(values)) > len(values) // 2 + 1)  # not degenerate
    study = _study(sigma_pt=1.0)
    rs = [_result(f"L{i}", v, 0.5) for i, v in enumerate(values)]
    shuffled = rs[:]
    random.Random(seed).shuffle(shuffled)
    try:
        one = evaluate(study, rs, stop="converged")
    except StatisticsError:
        with pytest.raises(StatisticsError):
            evaluate(study, shuffled, stop="converged")
        return
    two = evaluate(study, shuffled, stop="converged")
    assert {s.lab_id: s for s in one.scores} == {s.lab_id: s for s in two.scores}


@given(
    values=lab_values,
    a=st.sampled_from([0.5, 2.0, 10.0]),
    b=st.sampled_from([-100.0, 0.0, 37.5]),
)
def test_z_and_classes_are_unchanged_by_a_change_of_unit_or_origin(
    values: list[float], a: float, b: float
) -> None:
    study = _study(assigned_value=1.0, assigned_uncertainty=0.3, sigma_pt=1.5)
    moved = _study(assigned_value=a * 1.0 + b, assigned_uncertainty=a * 0.3, sigma_pt=a * 1.5)
    one = evaluate(study, [_result(f"L{i}", v, 1.0) for i, v in enumerate(values)])
    two = evaluate(moved, [_result(f"L{i}", a * v + b, a * 1.0) for i, v in enumerate(values)])
    for s, t in zip(one.scores, two.scores, strict=True):
        for name in ("z", "z_prime", "zeta", "en"):
            assert getattr(t, name) == approx(getattr(s, name), rel=1e-9, abs=1e-9)
        if (
            s.z_prime is not None
            and abs(abs(s.z_prime) - 2) > 1e-9
            and abs(abs(s.z_prime) - 3) > 1e-9
        ):
            assert t.classification is s.classification


def test_scores_are_entities_and_round_trip_through_every_format(tmp_path: Path) -> None:
    ds = reference_dataset()
    study = ds.get("pt_study", "PT-2024-ETOH-B")
    ev = evaluate(study, [r for r in ds.records("pt_result") if r.study_id == study.study_id])
    info = clen_core.get_entity(PTScore)
    assert info.name == "pt_score"
    assert info.key == ("study_id", "lab_id")
    for ext in ("csv", "json", "jsonl", "parquet"):
        path = tmp_path / f"pt_score.{ext}"
        clen_core.write(ev.scores, path, entity="pt_score")
        assert list(clen_core.read(path, entity="pt_score")) == list(ev.scores)
    data = json.loads(json.dumps(ev.to_dict()))
    assert data["summary"]["counts"] == {"satisfactory": 11, "questionable": 0, "unsatisfactory": 1}
    assert data["summary"]["homogeneity_uncertainty"] == 0.008
    assert len(data["scores"]) == 12
    assert data["study"]["study_id"] == "PT-2024-ETOH-B"


# --------------------------------------------------------------------------- qualitative, rounds


def test_a_classification_study_is_scored_by_level() -> None:
    study = _study(kind=ResultKind.CLASSIFICATION, assigned_category="2208 90 69", unit="code")
    rs = [
        PTResult(study_id="PT-T", lab_id="A", category="2208 90 69"),
        PTResult(study_id="PT-T", lab_id="B", category="2208.90.48"),
        PTResult(study_id="PT-T", lab_id="C", category="2208 70 10"),
        PTResult(study_id="PT-T", lab_id="D", category="2204 21 79"),
        PTResult(study_id="PT-T", lab_id="E", category="0401 10 10"),
        PTResult(study_id="PT-T", lab_id="F"),  # returned nothing
    ]
    ev = evaluate_qualitative(study, rs)
    out = ev.outcome
    assert ev.not_returned == ("F",)
    assert {s.laboratory: s.level for s in out.scores} == {
        "A": AgreementLevel.CN_SUBHEADING,
        "B": AgreementLevel.HS_SUBHEADING,
        "C": AgreementLevel.HEADING,
        "D": AgreementLevel.CHAPTER,
        "E": AgreementLevel.NONE,
    }
    assert out.n_correct == 1
    data = json.loads(json.dumps(ev.to_dict()))
    assert data["kind"] == "classification"
    assert data["outcome"]["cumulative"]["heading"]["count"] == 3
    with pytest.raises(StatisticsError, match="assigned CN code"):
        evaluate_qualitative(_study(kind=ResultKind.CLASSIFICATION), rs)
    with pytest.raises(StatisticsError, match="quantitative: use evaluate"):
        evaluate_qualitative(_study(), rs)


def test_nominal_ordinal_and_identification_studies() -> None:
    def rs(*cats: str) -> list[PTResult]:
        return [PTResult(study_id="PT-T", lab_id=f"L{i}", category=c) for i, c in enumerate(cats)]

    nominal = evaluate_qualitative(_study(kind=ResultKind.NOMINAL), rs("x", "x", "y")).outcome
    assert (nominal.assigned, nominal.assigned_by, nominal.n_agreeing) == ("x", "mode", 2)
    scale = ("low", "medium", "high")
    ordinal = evaluate_qualitative(
        _study(kind=ResultKind.ORDINAL, ordinal_scale=scale, assigned_category="medium"),
        rs("low", "medium", "high", "high"),
    ).outcome
    assert [s.difference for s in ordinal.scores] == [-1, 0, 1, 1]
    with pytest.raises(StatisticsError, match="ordinal_scale"):
        evaluate_qualitative(_study(kind=ResultKind.ORDINAL), rs("low"))
    present = evaluate_qualitative(
        _study(kind=ResultKind.IDENTIFICATION, assigned_category="present"),
        rs("present", "absent", "detected"),
    ).outcome
    assert present.n_correct == 2
    # Which substance: the assigned CAS RN says the answers are CAS RNs.
    which = evaluate_qualitative(
        _study(kind=ResultKind.IDENTIFICATION, assigned_category="64-17-5"),
        rs("64-17-5", "67-56-1"),
    ).outcome
    assert (which.system, which.n_correct) == ("cas", 1)


def test_evaluate_round_on_the_reference_round() -> None:
    ds = reference_dataset()
    (pt_round,) = ds.records("pt_round")
    studies = [s for s in ds.records("pt_study") if s.round_id == pt_round.round_id]
    ev = evaluate_round(studies, ds.records("pt_result"), pt_round=pt_round)
    assert [type(e).__name__ for e in ev.studies] == [
        "PTEvaluation", "PTEvaluation", "QualitativeEvaluation",
    ]  # fmt: skip
    a, b = ev.studies[0], ev.studies[1]
    assert isinstance(a, PTEvaluation)
    assert isinstance(b, PTEvaluation)
    # Combined scores (9.8): each laboratory's two read scores (z′ for A, z for B).
    combined = {c.lab_id: c for c in ev.combined}
    assert len(combined) == 12
    for lab in combined:
        sa = {s.lab_id: s for s in a.scores}[lab]
        sb = {s.lab_id: s for s in b.scores}[lab]
        read = [sa.z_prime, sb.z]
        assert combined[lab].n == 2
        assert combined[lab].rescaled_sum_z == approx(sum(read) / math.sqrt(2))  # type: ignore[arg-type]
        assert combined[lab].sum_squared_z == approx(sum(x * x for x in read))  # type: ignore[operator]
    assert json.loads(json.dumps(ev.to_dict()))["round"]["round_id"] == "CLEN-PT-2024-1"
    with pytest.raises(StatisticsError, match="not in the round"):
        evaluate_round(studies[:1], ds.records("pt_result"))
    with pytest.raises(StatisticsError, match="at least one study"):
        evaluate_round([], [])


def test_the_reference_dataset_stores_the_scores_of_its_quantitative_studies() -> None:
    ds = reference_dataset()
    stored = {(s.study_id, s.lab_id): s for s in ds.records("pt_score")}
    for study in ds.records("pt_study"):
        if study.kind is not ResultKind.QUANTITATIVE:
            continue
        rs = [r for r in ds.records("pt_result") if r.study_id == study.study_id]
        for s in evaluate(study, rs).scores:
            assert stored[(s.study_id, s.lab_id)] == s
