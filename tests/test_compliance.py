"""The guard-band decision rule: examples from domain.md §5 and its properties."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clen_core import Decision, LimitType, decide

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
uncertainty = st.floats(min_value=0, max_value=1e3, allow_nan=False)
ORDER = {Decision.COMPLIANT: 0, Decision.INCONCLUSIVE: 1, Decision.NON_COMPLIANT: 2}


@pytest.mark.parametrize(
    ("x", "u", "limit", "kind", "expected"),
    [
        (10.5, 0.2, 10.0, "upper", Decision.NON_COMPLIANT),  # x - U > L
        (9.8, 0.2, 10.0, "upper", Decision.COMPLIANT),  # x + U <= L (equality compliant)
        (10.1, 0.2, 10.0, "upper", Decision.INCONCLUSIVE),
        (9.5, 0.2, 10.0, "lower", Decision.NON_COMPLIANT),  # x + U < L
        (10.5, 0.2, 10.0, "lower", Decision.COMPLIANT),
        (9.9, 0.2, 10.0, "lower", Decision.INCONCLUSIVE),
        (80.0, 0.0, 80.0, "lower", Decision.COMPLIANT),
    ],
)
def test_examples(x: float, u: float, limit: float, kind: str, expected: Decision) -> None:
    assert decide(x, u, limit, kind) is expected


def test_negative_uncertainty_is_refused() -> None:
    with pytest.raises(ValueError, match="≥ 0"):
        decide(1.0, -0.1, 2.0, LimitType.UPPER)


@given(x=finite, u=uncertainty, limit=finite)
def test_zero_uncertainty_is_a_plain_comparison(x: float, u: float, limit: float) -> None:
    assert decide(x, 0.0, limit, "upper") == (
        Decision.NON_COMPLIANT if x > limit else Decision.COMPLIANT
    )
    assert decide(x, 0.0, limit, "lower") == (
        Decision.NON_COMPLIANT if x < limit else Decision.COMPLIANT
    )


@given(x=finite, d=st.floats(min_value=0, max_value=1e3), u=uncertainty, limit=finite)
def test_monotonic_in_the_value(x: float, d: float, u: float, limit: float) -> None:
    # A larger value is never more compliant with an upper limit, nor less with a lower one.
    assert ORDER[decide(x + d, u, limit, "upper")] >= ORDER[decide(x, u, limit, "upper")]
    assert ORDER[decide(x + d, u, limit, "lower")] <= ORDER[decide(x, u, limit, "lower")]


@given(x=finite, u=uncertainty, limit=finite)
def test_lower_limit_mirrors_upper(x: float, u: float, limit: float) -> None:
    assert decide(x, u, limit, "lower") is decide(-x, u, -limit, "upper")


@given(x=finite, u1=uncertainty, u2=uncertainty, limit=finite)
def test_more_uncertainty_never_turns_inconclusive_into_a_verdict(
    x: float, u1: float, u2: float, limit: float
) -> None:
    small, large = sorted((u1, u2))
    if decide(x, small, limit, "upper") is Decision.INCONCLUSIVE:
        assert decide(x, large, limit, "upper") is Decision.INCONCLUSIVE


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_numbers_are_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        decide(bad, 0.1, 1.0, "upper")
    with pytest.raises(ValueError, match="finite"):
        decide(1.0, bad, 1.0, "upper")
