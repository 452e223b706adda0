"""Decision rules: worked examples from ILAC-G8:09/2019 and the Eurachem/CITAC guide (2021),
each computed by hand (the comment gives the arithmetic), and their properties.

Φ values used: Φ(0.5) = 0.69146, Φ(1) = 0.84134, Φ(1.64) = 0.94950, Φ(1.75) = 0.95994,
Φ(2) = 0.97725, z₀.₉₅ = 1.64485, z₀.₉₉ = 2.32635.
"""

from __future__ import annotations

import doctest
import math
import re
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import clen_core
from clen_core import AnalysisResult, ClenError, InvalidObjectError
from clen_core import compliance as public
from clen_core.compliance import (
    RULE_PATTERN,
    Decision,
    DecisionRule,
    Outcome,
    Zone,
    acceptance_limit,
    decide,
    decide_arrays,
    false_accept_risk,
)
from clen_core.model import compliance as model_compliance

approx = pytest.approx
GUARD = DecisionRule.guard_band  # w = r·U
RISK = DecisionRule.from_risk  # w = z₁₋α·u
C, N, INC = Outcome.COMPLIANT, Outcome.NON_COMPLIANT, Outcome.INCONCLUSIVE


def test_the_doctests_hold() -> None:
    for module in (model_compliance, public):
        assert doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0


def test_the_public_module_is_the_model_s() -> None:
    assert public.decide is model_compliance.decide
    for name in ("decide", "DecisionRule", "acceptance_limit", "false_accept_risk", "Decision"):
        assert getattr(clen_core, name) is getattr(public, name)
        assert name in clen_core.__all__


# --- ILAC-G8:09/2019 4.2.3: the four zones for an upper limit, w = U -------------------------


@pytest.mark.parametrize(
    ("x", "zone", "outcome", "risk"),
    [
        # TL = 10.0, U = 0.4 (k = 2, u = 0.2), w = U = 0.4: AL = 9.6, TL + w = 10.4.
        (9.5, Zone.PASS, C, 1 - 0.99379),  # 1 − Φ(0.5/0.2 = 2.5)
        (9.6, Zone.PASS, C, 1 - 0.97725),  # on AL: 1 − Φ(2) = 2.3 %
        (9.8, Zone.CONDITIONAL_PASS, INC, 1 - 0.84134),  # 1 − Φ(1)
        (10.0, Zone.CONDITIONAL_PASS, INC, 0.5),  # on TL
        (10.2, Zone.CONDITIONAL_FAIL, INC, 0.84134),  # Φ(1)
        (10.4, Zone.FAIL, N, 0.97725),  # on TL + w: fail (x ≥ TL + w)
        (10.6, Zone.FAIL, N, 0.99865),  # Φ(3)
    ],
)
def test_ilac_four_zones_upper_limit_w_equals_u(
    x: float, zone: Zone, outcome: Outcome, risk: float
) -> None:
    d = decide(x, upper=10.0, U=0.4, rule=GUARD(1))
    assert d.zone is zone
    assert d.outcome is outcome
    assert d.acceptance_limit == approx(9.6)
    assert d.guard_band == approx(0.4)
    assert d.false_accept_risk == approx(risk, abs=5e-5)
    assert d.false_reject_risk == approx(1 - risk, abs=5e-5)
    # The default rule is this one: w = U on both sides, three outcomes.
    assert decide(x, upper=10.0, U=0.4) == d


def test_ilac_binary_guarded_acceptance_and_rejection_share_the_zones() -> None:
    # ILAC-G8 4.2.2: w = U inside the limit (AL = 9.6) or outside it (AL = 10.4).
    for x, accept_side, reject_side in [(9.5, C, C), (9.8, N, C), (10.2, N, C), (10.5, N, N)]:
        a = decide(x, upper=10.0, U=0.4, rule=GUARD(1, "acceptance"))
        r = decide(x, upper=10.0, U=0.4, rule=GUARD(1, "rejection"))
        assert (a.outcome, r.outcome) == (accept_side, reject_side), x
        assert a.zone is r.zone is decide(x, upper=10.0, U=0.4).zone
        assert (a.acceptance_limit, r.acceptance_limit) == approx((9.6, 10.4))


# --- ILAC-G8 4.2.1: simple acceptance ----------------------------------------------------------


def test_simple_acceptance() -> None:
    rule = DecisionRule.simple()
    # TL = 10.0: accepted when x ≤ TL, whatever U; the specific risk reaches 50 % at TL.
    d = decide(9.9, upper=10.0, U=0.4, rule=rule)
    assert (d.outcome, d.zone, d.acceptance_limit, d.guard_band) == (C, Zone.PASS, 10.0, 0.0)
    assert d.false_accept_risk == approx(1 - 0.69146, abs=5e-5)  # 1 − Φ(0.1/0.2 = 0.5)
    assert decide(10.0, upper=10.0, U=0.4, rule=rule).false_accept_risk == approx(0.5)
    assert decide(10.01, upper=10.0, U=0.4, rule=rule).outcome is N
    assert decide(10.01, upper=10.0, U=0.4, rule=rule).zone is Zone.FAIL
    # Without an uncertainty only simple acceptance decides; the risk is then unknown.
    bare = decide(10.0, upper=10.0, rule="simple")
    assert (bare.outcome, bare.false_accept_risk) == (C, None)
    assert rule.risk_at_acceptance_limit() == 0.5
    assert not rule.needs_uncertainty
    assert rule.is_binary


# --- the specific risk at the acceptance limit --------------------------------------------


def test_false_accept_risk_at_the_acceptance_limit_w_equals_u_k_2() -> None:
    # ILAC-G8 4.2.2: w = U = 2u, so at AL the margin is 2u: 1 − Φ(2) = 2.275 %.
    assert false_accept_risk(9.6, upper=10.0, U=0.4) == approx(0.02275, abs=5e-6)
    assert GUARD(1).risk_at_acceptance_limit(k=2) == approx(0.02275, abs=5e-6)
    al = acceptance_limit(upper=10.0, U=0.4, rule=GUARD(1))
    assert decide(al, upper=10.0, U=0.4).false_accept_risk == approx(0.02275, abs=5e-6)
    assert decide(al, upper=10.0, U=0.4).outcome is C


def test_false_accept_risk_at_the_acceptance_limit_w_1_64_u() -> None:
    # Eurachem/CITAC: g = 1.64·u. With U = 0.4, k = 2: u = 0.2, g = 0.328, AL = 9.672;
    # at AL the margin is 1.64 u: 1 − Φ(1.64) = 5.05 % ≈ 5 %. guard_band(0.82) is 0.82·U = 1.64·u.
    rule = GUARD(0.82, "acceptance")
    assert acceptance_limit(upper=10.0, U=0.4, rule=rule) == approx(9.672)
    assert false_accept_risk(9.672, upper=10.0, U=0.4) == approx(0.0505, abs=5e-5)
    # From α = 5 % itself: z = 1.64485, the risk at AL is exactly α.
    al = acceptance_limit(upper=10.0, U=0.4, rule=RISK(0.05, "acceptance"))
    assert al == approx(10.0 - 1.64485 * 0.2, abs=1e-5)
    d = decide(al, upper=10.0, U=0.4, rule=RISK(0.05, "acceptance"))
    assert d.false_accept_risk == approx(0.05, rel=1e-9)
    assert d.outcome is C


def test_acceptance_limit_for_a_95_percent_one_sided_rule() -> None:
    # Eurachem/CITAC: an upper limit of 2.0 mg/kg, u = 0.2 mg/kg (U = 0.4, k = 2);
    # 95 % one-sided: AL = 2.0 − 1.645 × 0.2 = 1.671 mg/kg (1.672 with the guide's 1.64).
    for stated in ({"U": 0.4}, {"u": 0.2}, {"U": 0.4 / 2 * 1.96, "k": 1.96}):
        al = acceptance_limit(upper=2.0, rule=RISK(0.05, "acceptance"), **stated)
        assert al == approx(1.671, abs=5e-4), stated
    # 99 %: 2.0 − 2.326 × 0.2 = 1.535.
    assert acceptance_limit(upper=2.0, u=0.2, rule=RISK(0.01, "acceptance")) == approx(
        1.535, abs=5e-4
    )
    # The rejection side puts it outside: 2.0 + 0.329 = 2.329.
    assert acceptance_limit(upper=2.0, u=0.2, rule=RISK(0.05, "rejection")) == approx(
        2.329, abs=5e-4
    )
    assert RISK(0.05, "acceptance").z == approx(1.64485, abs=1e-5)


# --- relative uncertainty -------------------------------------------------------------------


def test_acceptance_limits_from_a_relative_uncertainty_at_the_limit() -> None:
    # U = 10 % of the limit 2.0 mg/kg → U = 0.2; w = U: AL = 1.8 (acceptance), 2.2 (rejection).
    assert acceptance_limit(upper=2.0, U=0.10, relative=True, rule=GUARD(1)) == approx(1.8)
    assert acceptance_limit(upper=2.0, U=0.10, relative=True, rule=GUARD(1, "rejection")) == approx(
        2.2
    )
    # u = 5 % of it → u = 0.1, 95 %: AL = 2.0 − 0.1645 = 1.8355.
    assert acceptance_limit(
        upper=2.0, u=0.05, relative=True, rule=RISK(0.05, "acceptance")
    ) == approx(1.8355, abs=5e-5)
    d = decide(1.9, upper=2.0, U=0.10, relative=True)  # AL 1.8 < x ≤ TL
    assert (d.zone, d.outcome) == (Zone.CONDITIONAL_PASS, INC)
    assert d.false_accept_risk == approx(1 - 0.84134, abs=5e-5)  # u = 0.1: 1 − Φ(1)
    # Two-sided: each limit gets its own U (1 % of 39.7 and of 40.3).
    lo, hi = acceptance_limit(lower=39.7, upper=40.3, U=0.01, relative=True)
    assert (lo, hi) == approx((39.7 + 0.397, 40.3 - 0.403))


# --- a two-sided tolerance ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "zone", "outcome"),
    [
        # Labelled 40.0 % vol ± 0.3 % vol: 39.7 to 40.3; U = 0.1, w = U: pass 39.8 to 40.2.
        (40.0, Zone.PASS, C),
        (40.2, Zone.PASS, C),
        (40.25, Zone.CONDITIONAL_PASS, INC),
        (39.75, Zone.CONDITIONAL_PASS, INC),
        (40.35, Zone.CONDITIONAL_FAIL, INC),
        (39.65, Zone.CONDITIONAL_FAIL, INC),
        (40.45, Zone.FAIL, N),
        (39.5, Zone.FAIL, N),
    ],
)
def test_a_two_sided_tolerance(x: float, zone: Zone, outcome: Outcome) -> None:
    d = decide(x, lower=39.7, upper=40.3, U=0.1)
    assert (d.zone, d.outcome) == (zone, outcome)
    assert d.acceptance_limit == approx((39.8, 40.2))
    assert d.guard_band == approx((0.1, 0.1))


def test_a_two_sided_risk_adds_both_tails() -> None:
    # x = 40.2, u = 0.05: P(> 40.3) = 1 − Φ(2) = 0.02275, P(< 39.7) = Φ(−10) ≈ 0.
    assert false_accept_risk(40.2, lower=39.7, upper=40.3, U=0.1) == approx(0.02275, abs=5e-6)
    # x = 40.0, U = 0.4 (u = 0.2): 2 × (1 − Φ(1.5)) = 2 × 0.066807 = 0.13361.
    assert false_accept_risk(40.0, lower=39.7, upper=40.3, U=0.4) == approx(0.13361, abs=5e-5)
    # With w = U = 0.4 the guard bands overlap: no result can pass.
    d = decide(40.0, lower=39.7, upper=40.3, U=0.4, rule=GUARD(1, "acceptance"))
    assert (d.zone, d.outcome) == (Zone.CONDITIONAL_PASS, N)


# --- the customs lower limit of CN 2207 10 (≥ 80 % vol), enforcement side --------------------


@pytest.mark.parametrize(
    ("x", "zone", "outcome"),
    [
        # U = 0.4 % vol; non-compliant only when x + U < 80, i.e. x < AL = 79.6.
        (79.5, Zone.FAIL, N),  # 79.9 < 80: below the limit beyond reasonable doubt
        (79.6, Zone.FAIL, C),  # x + U = 80: on AL, the benefit of the doubt
        (79.8, Zone.CONDITIONAL_FAIL, C),  # 80.2 ≥ 80: not shown to be below 80
        (80.1, Zone.CONDITIONAL_PASS, C),
        (80.5, Zone.PASS, C),
    ],
)
def test_customs_lower_limit_on_the_enforcement_side(
    x: float, zone: Zone, outcome: Outcome
) -> None:
    rule = GUARD(1, "rejection")
    d = decide(x, lower=80.0, U=0.4, rule=rule)
    assert (d.zone, d.outcome) == (zone, outcome)
    assert d.acceptance_limit == approx(79.6)


def test_customs_lower_limit_at_a_specified_risk_of_false_rejection() -> None:
    # Eurachem/CITAC, correct rejection at 95 %: u = 0.2, AL = 80 − 1.645 × 0.2 = 79.671.
    rule = RISK(0.05, "rejection")
    assert acceptance_limit(lower=80.0, U=0.4, rule=rule) == approx(79.671, abs=5e-4)
    d = decide(79.65, lower=80.0, U=0.4, rule=rule)
    assert d.outcome is N
    # The risk that it is in fact ≥ 80: 1 − Φ(0.35/0.2 = 1.75) = 4.0 % < 5 %.
    assert d.false_reject_risk == approx(1 - 0.95994, abs=5e-5)
    assert decide(79.7, lower=80.0, U=0.4, rule=rule).outcome is C
    assert rule.risk_at_acceptance_limit() == 0.05


def test_a_result_stores_its_rule_and_the_limit_source() -> None:
    r = AnalysisResult(
        result_id="R-002",
        sample_id="S-2024-002",
        method_id="M-ETOH-01",
        analyte="ethanol",
        value=79.5,
        unit="% vol",
        expanded_uncertainty=0.4,
        limit=80.0,
        limit_type="lower",
        limit_source="CN 2207 10",
        decision_rule=str(GUARD(1, "rejection")),
    )
    assert r.decision_rule == "guard_band(1, rejection)"
    assert r.decision is not None
    assert (r.decision.outcome, r.decision.zone) == (N, Zone.FAIL)
    text = r.conformity_statement
    assert text is not None
    assert text.startswith(
        "79.5 % vol against the lower limit 80 % vol (CN 2207 10): non-compliant"
    )
    assert "guarded rejection" in text
    assert "ILAC-G8:09/2019 4.2.2" in text
    assert "acceptance limit 79.6 % vol" in text
    with pytest.raises(InvalidObjectError):
        AnalysisResult(**{**_kw(r), "decision_rule": "guard_band(-1)"})
    with pytest.raises(InvalidObjectError):
        AnalysisResult(**{**_kw(r), "decision_rule": "from_risk(0.5, acceptance)"})


def _kw(r: AnalysisResult) -> dict[str, Any]:
    return {name: getattr(r, name) for name in clen_core.get_entity(r).field_names}


def test_a_less_than_result_is_decided_only_where_its_bound_decides() -> None:
    base = {"result_id": "R", "sample_id": "S", "method_id": "M", "analyte": "x", "unit": "g"}
    # "< 0.5" against an upper limit of 10: compliant whatever the true value.
    r = AnalysisResult(**base, value=0.5, less_than=True, limit=10.0, limit_type="upper",
                       decision_rule="simple")  # fmt: skip
    assert r.decision is not None
    assert r.decision.outcome is C
    # "< 0.5" against a lower limit of 10: non-compliant whatever the true value.
    r = AnalysisResult(**base, value=0.5, less_than=True, limit=10.0, limit_type="lower",
                       decision_rule="simple")  # fmt: skip
    assert r.decision is not None
    assert r.decision.outcome is N
    # "< 12" against an upper limit of 10: the true value may lie either side.
    r = AnalysisResult(**base, value=12.0, less_than=True, limit=10.0, limit_type="upper",
                       decision_rule="simple")  # fmt: skip
    assert r.decision is None


# --- the rule as data ---------------------------------------------------------------------


def test_rules_are_written_and_read_back() -> None:
    cases = {
        "simple": DecisionRule.simple(),
        "guard_band(1)": GUARD(),
        "guard_band(0.5, acceptance)": GUARD(0.5, "acceptance"),
        "guard_band(2, rejection)": GUARD(2, "rejection"),
        "from_risk(0.05, acceptance)": RISK(0.05, "acceptance"),
        "from_risk(0.01, rejection)": RISK(0.01, "rejection"),
        "from_risk(0.00001, both)": RISK(1e-5, "both"),
    }
    for code, rule in cases.items():
        assert str(rule) == code
        assert DecisionRule.parse(code) == rule
        assert re.fullmatch(RULE_PATTERN, code)
        assert DecisionRule.from_dict(rule.to_dict()) == rule
    named = GUARD(1, "rejection", name="enforcement", basis="Customs agreement 2024")
    back = DecisionRule.from_dict(named.to_dict())
    assert (back.name, back.basis) == ("enforcement", "Customs agreement 2024")
    assert RISK(0.05, "acceptance").name == "guarded acceptance, 95 % one-sided, w = 1.645·u"
    assert "Eurachem/CITAC" in RISK(0.05, "rejection").basis
    assert "4.2.3" in GUARD().basis


@pytest.mark.parametrize(
    "bad",
    ["", "guard_band", "guard_band()", "guard_band(1, sideways)", "from_risk(0.05)",
     "from_risk(0.5, acceptance)", "from_risk(0, acceptance)", "guard_band(-1)", "Simple"],
)  # fmt: skip
def test_bad_rules_are_refused(bad: str) -> None:
    assert re.fullmatch(RULE_PATTERN, bad) is None
    with pytest.raises(ClenError, match="not a decision rule"):
        DecisionRule.parse(bad)


def test_bad_rule_parameters_are_refused() -> None:
    for make in (
        lambda: RISK(0.5, "acceptance"),
        lambda: RISK(0.0, "rejection"),
        lambda: RISK(0.05, "sideways"),
        lambda: GUARD(-0.1),
        lambda: GUARD(math.inf),
    ):
        with pytest.raises(ClenError):
            make()


@settings(max_examples=100)
@given(
    rule=st.builds(GUARD, st.floats(0, 100), st.sampled_from(["acceptance", "rejection", "both"]))
    | st.builds(
        RISK,
        st.floats(1e-9, 0.5, exclude_max=True),
        st.sampled_from(["acceptance", "rejection", "both"]),
    )
)
def test_any_rule_round_trips_through_its_written_form(rule: DecisionRule) -> None:
    code = str(rule)
    assert re.fullmatch(RULE_PATTERN, code)
    assert DecisionRule.parse(code) == rule


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"upper": 10.0}, "needs an uncertainty"),
        ({"upper": 10.0, "rule": "from_risk(0.05, acceptance)"}, "needs an uncertainty"),
        ({}, "give a limit"),
        ({"upper": 10.0, "U": -0.1}, "≥ 0"),
        ({"upper": 10.0, "U": 0.1, "u": 0.05}, "not both"),
        ({"upper": 10.0, "lower": 11.0, "U": 0.1}, "above the upper"),
        ({"upper": 10.0, "U": 0.1, "k": 0.0}, "k must be > 0"),
        ({"upper": math.nan, "U": 0.1}, "finite"),
        ({"upper": 10.0, "U": math.inf}, "finite"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ClenError, match=match):
        decide(9.0, **kwargs)
    assert decide_arrays([9.0], **kwargs).column("outcome").to_pylist() == [None]


def test_a_non_finite_value_is_refused_and_the_old_positional_call_is_gone() -> None:
    with pytest.raises(ClenError, match="finite"):
        decide(math.inf, upper=1.0, U=0.1)
    with pytest.raises(TypeError):
        decide(10.5, 0.2, 10.0, "upper")  # type: ignore[misc]
    with pytest.raises(ClenError, match="needs an uncertainty"):
        false_accept_risk(9.0, upper=10.0, rule="simple")


# --- properties -----------------------------------------------------------------------------

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
uncertainty = st.floats(min_value=0, max_value=1e3, allow_nan=False)
sides = st.sampled_from(["acceptance", "rejection", "both"])
rules = (
    st.just(DecisionRule.simple())
    | st.builds(GUARD, st.floats(0, 3), sides)
    | st.builds(RISK, st.sampled_from([0.05, 0.01, 0.1, 0.2]), sides)
)
ORDER = {C: 0, INC: 1, N: 2}
ZONE_ORDER = {z: i for i, z in enumerate(Zone)}


def _rank(d: Decision) -> tuple[int, int]:
    return ORDER[d.outcome], ZONE_ORDER[d.zone]


@given(x=finite, d=st.floats(min_value=0, max_value=1e3), u=uncertainty, limit=finite, rule=rules)
def test_monotonic_in_the_value(x: float, d: float, u: float, limit: float, rule: Any) -> None:
    # A larger value is never more compliant with an upper limit, nor less with a lower one.
    up = [decide(v, upper=limit, U=u, rule=rule) for v in (x, x + d)]
    lo = [decide(v, lower=limit, U=u, rule=rule) for v in (x, x + d)]
    assert _rank(up[1]) >= _rank(up[0])
    assert _rank(lo[1]) <= _rank(lo[0])
    assert up[1].false_accept_risk >= up[0].false_accept_risk  # type: ignore[operator]


@given(x=finite, u=uncertainty, limit=finite, rule=rules, relative=st.booleans())
def test_lower_limit_mirrors_upper(
    x: float, u: float, limit: float, rule: DecisionRule, relative: bool
) -> None:
    lo = decide(x, lower=limit, U=u, rule=rule, relative=relative)
    up = decide(-x, upper=-limit, U=u, rule=rule, relative=relative)
    assert (lo.outcome, lo.zone) == (up.outcome, up.zone)
    assert lo.acceptance_limit == -up.acceptance_limit  # type: ignore[operator]
    assert lo.false_accept_risk == up.false_accept_risk


@given(x=finite, u=st.none() | uncertainty, limit=finite)
def test_zero_guard_band_is_a_plain_comparison(x: float, u: float | None, limit: float) -> None:
    for rule in (DecisionRule.simple(), GUARD(0), GUARD(0, "acceptance"), GUARD(0, "rejection")):
        up = decide(x, upper=limit, U=u, rule=rule)
        lo = decide(x, lower=limit, U=u, rule=rule)
        assert up.outcome == (N if x > limit else C)
        assert lo.outcome == (N if x < limit else C)
        assert up.zone == (Zone.FAIL if x > limit else Zone.PASS)
        assert lo.zone == (Zone.FAIL if x < limit else Zone.PASS)
        assert up.acceptance_limit == lo.acceptance_limit == limit


@given(
    limit=st.floats(-1e3, 1e3),
    u=st.floats(1e-2, 1e2),
    alpha=st.floats(1e-4, 0.49),
    side=st.sampled_from(["acceptance", "both"]),
    k=st.sampled_from([2.0, 1.96, 3.0]),
)
def test_the_risk_at_the_acceptance_limit_is_alpha(
    limit: float, u: float, alpha: float, side: str, k: float
) -> None:
    rule = RISK(alpha, side)
    al = acceptance_limit(upper=limit, U=k * u, k=k, rule=rule)
    d = decide(al, upper=limit, U=k * u, k=k, rule=rule)
    assert d.outcome is C  # on the acceptance limit: accepted
    assert d.false_accept_risk == approx(alpha, rel=1e-5)
    lower = decide(-al, lower=-limit, U=k * u, k=k, rule=rule)
    assert lower.false_accept_risk == d.false_accept_risk
    # And on the rejection side, at AL = TL + w, the risk of false rejection is α.
    rej = RISK(alpha, "rejection")
    al = acceptance_limit(upper=limit, U=k * u, k=k, rule=rej)
    assert decide(al, upper=limit, U=k * u, k=k, rule=rej).false_reject_risk == approx(
        alpha, rel=1e-5
    )


@given(r=st.floats(0, 3), k=st.sampled_from([2.0, 1.96, 3.0]), limit=st.floats(-1e3, 1e3))
def test_the_risk_at_a_guard_band_acceptance_limit(r: float, k: float, limit: float) -> None:
    rule = GUARD(r, "acceptance")
    al = acceptance_limit(upper=limit, U=1.0, k=k, rule=rule)
    risk = false_accept_risk(al, upper=limit, U=1.0, k=k)
    assert risk == approx(rule.risk_at_acceptance_limit(k), rel=1e-5, abs=1e-12)


@given(x=finite, u1=uncertainty, u2=uncertainty, limit=finite)
def test_more_uncertainty_never_turns_inconclusive_into_a_verdict(
    x: float, u1: float, u2: float, limit: float
) -> None:
    small, large = sorted((u1, u2))
    if decide(x, upper=limit, U=small).outcome is INC:
        assert decide(x, upper=limit, U=large).outcome is INC


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    """Arguments of decide, sometimes bad ones (then decide raises and the row is null)."""
    number = st.floats(-1e4, 1e4) | st.sampled_from([0.0, 10.0, 80.0, math.inf, math.nan])
    kind = draw(st.sampled_from(["upper", "lower", "both", "none"]))
    a, b = draw(number), draw(number)
    case: dict[str, Any] = {"value": draw(number | st.just(10.0))}
    if kind in ("upper", "both"):
        case["upper"] = b if kind == "upper" else max(a, b)
    if kind in ("lower", "both"):
        case["lower"] = a if kind == "lower" else min(a, b)
    unc = draw(st.sampled_from(["U", "u", "none", "both"]))
    for name in ("U", "u"):
        if unc in (name, "both"):
            case[name] = draw(st.floats(0, 100) | st.sampled_from([0.0, -1.0, math.nan]))
    case["k"] = draw(st.sampled_from([2.0, 1.96, 0.0]))
    case["rule"] = draw(rules)
    return case


@settings(max_examples=150)
@given(
    st.lists(cases(), min_size=1, max_size=12),
    st.booleans(),
)
def test_the_arrow_path_equals_the_per_value_path(
    rows: list[dict[str, Any]], relative: bool
) -> None:
    def column(name: str) -> list[Any]:
        return [r.get(name) for r in rows]

    table = decide_arrays(
        pa.array(column("value"), pa.float64()),
        upper=column("upper"),
        lower=column("lower"),
        U=column("U"),
        u=column("u"),
        k=column("k"),
        relative=relative,
        rule=pa.array([str(r["rule"]) for r in rows]),
        risk=True,
    )
    for row, got in zip(rows, table.to_pylist(), strict=True):
        kwargs = {k: v for k, v in row.items() if k != "value"}
        try:
            d = decide(row["value"], relative=relative, **kwargs)
        except ClenError:
            assert set(got.values()) == {None}, (row, got)
            continue
        assert got == {
            "outcome": d.outcome.value,
            "zone": d.zone.value,
            "lower_acceptance_limit": d.lower_acceptance_limit,
            "upper_acceptance_limit": d.upper_acceptance_limit,
            "false_accept_risk": d.false_accept_risk,
        }, row


def test_the_arrow_path_takes_chunked_arrays_and_one_rule_for_all() -> None:
    values = pa.chunked_array([[9.5, 9.7], [9.9, 10.3]])
    t = decide_arrays(values, upper=10.0, U=0.4, rule=GUARD(1, "acceptance"))
    assert t.column("outcome").to_pylist() == ["compliant"] + ["non_compliant"] * 3
    assert t.column("zone").to_pylist() == [
        "pass",
        "conditional_pass",
        "conditional_pass",
        "conditional_fail",
    ]
    assert t.column_names == [
        "outcome",
        "zone",
        "lower_acceptance_limit",
        "upper_acceptance_limit",
    ]
    with pytest.raises(ClenError, match="different lengths"):
        decide_arrays([1.0, 2.0], upper=[1.0])


@given(x=finite, u=st.floats(1e-3, 1e3), lo=finite, w=st.floats(0, 1e3))
def test_the_risk_is_a_probability(x: float, u: float, lo: float, w: float) -> None:
    assume(w > 0)
    r = false_accept_risk(x, lower=lo, upper=lo + w, U=u)
    assert 0.0 <= r <= 1.0 + 1e-12
