"""Compliance against a limit, with the expanded uncertainty as guard band (``domain.md`` §5).

For an upper limit L, a value x with expanded uncertainty U is non-compliant
when ``x − U > L`` (beyond doubt above), compliant when ``x + U ≤ L`` (beyond
doubt at or below), and inconclusive otherwise. A lower limit is the mirror
image. With ``U = 0`` this is the plain comparison ``x > L``.
"""

from __future__ import annotations

import enum
import math

from clen_core.errors import ArgumentError

__all__ = ["Decision", "LimitType", "decide"]


class LimitType(enum.StrEnum):
    """Whether a limit caps a value from above or from below."""

    UPPER = "upper"
    LOWER = "lower"


class Decision(enum.StrEnum):
    """Outcome of the decision rule."""

    COMPLIANT = "compliant"
    NON_COMPLIANT = "non_compliant"
    INCONCLUSIVE = "inconclusive"


def decide(value: float, uncertainty: float, limit: float, limit_type: LimitType | str) -> Decision:
    """Apply the guard-band decision rule to one value.

    >>> decide(10.5, 0.2, 10.0, "upper")
    <Decision.NON_COMPLIANT: 'non_compliant'>
    >>> decide(10.1, 0.2, 10.0, "upper")
    <Decision.INCONCLUSIVE: 'inconclusive'>
    """
    if not all(math.isfinite(v) for v in (value, uncertainty, limit)):
        raise ArgumentError("value, uncertainty and limit must be finite numbers")
    if uncertainty < 0:
        raise ArgumentError(f"expanded uncertainty must be ≥ 0, got {uncertainty}")
    if LimitType(limit_type) is LimitType.LOWER:
        # Mirror: a lower limit on x is an upper limit on -x.
        value, limit = -value, -limit
    if value - uncertainty > limit:
        return Decision.NON_COMPLIANT
    if value + uncertainty <= limit:
        return Decision.COMPLIANT
    return Decision.INCONCLUSIVE
