"""Decision rules: whether a result complies with a limit, and the risk of saying so.

A decision rule (ISO/IEC 17025:2017 3.7, 7.1.3, 7.8.6) says how the measurement
uncertainty is taken into account when a result is compared with a tolerance limit
TL. Following ILAC-G8:09/2019 4.2 and the Eurachem/CITAC guide "Use of uncertainty
information in compliance assessment" (2nd ed., 2021), a rule sets a guard band
``w`` and an acceptance limit ``AL`` (for an upper limit; a lower one is the mirror):

* simple acceptance (ILAC-G8 4.2.1): ``w = 0``, ``AL = TL``;
* a guard band ``w = r·U`` (ILAC-G8 4.2.2, 4.2.3), commonly ``r = 1``;
* a guard band from a specified risk α (Eurachem/CITAC): ``w = z₁₋α·u`` with the
  standard uncertainty ``u = U/k`` (``z = 1.645`` for α = 5 %, the guide's 1.64·u).

The guard band lies on one side of the limit or on both (:class:`Side`):

* ``acceptance``: ``AL = TL − w``, a binary rule; accepted (compliant) only when
  ``x ≤ AL``, so that any accepted result conforms with high confidence (release);
* ``rejection``: ``AL = TL + w``, a binary rule; rejected (non-compliant) only when
  ``x > AL``, non-compliance beyond reasonable doubt (enforcement: the customs
  practice for a CN subheading's limit, non-compliant only when ``x + U < L``);
* ``both``: the non-binary statement of ILAC-G8 4.2.3, three outcomes: compliant
  in the pass zone, non-compliant in the fail zone, inconclusive in between.

Whatever the rule, a result also gets its ILAC-G8 4.2.3 zone for the rule's ``w``:
``pass`` ``x ≤ TL − w``; ``conditional_pass`` ``TL − w < x ≤ TL``;
``conditional_fail`` ``TL < x < TL + w``; ``fail`` ``x ≥ TL + w`` (so that a
rejection-side rule keeps the side of the limit a result lies on), and the
specific probability that the true value lies beyond the limit, assuming a normal
distribution of standard deviation ``u`` centred on the result (JCGM 106:2012 9.5):
the risk taken by accepting it (``1 − Φ((TL − x)/u)``; 2.3 % at ``AL`` for ``w = U``
with ``k = 2``, α at ``AL`` for a rule set from α).

Acceptance limits are given to 12 significant digits, and thresholds are compared
with a tolerance of 2·10⁻¹¹ of the limit (or of w) when the guard band is not zero,
so that a result written on the acceptance limit is on it (in binary floating point
``10 − 0.2`` or ``0.1 − 0.04`` are not the decimal numbers the hand calculation
gives). :func:`decide` works on one value, :func:`decide_arrays` on Arrow arrays
with the same arithmetic; RES-004 uses the latter.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from statistics import NormalDist
from typing import Any, TypeAlias

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from clen_core.codes._vector import false_if_null
from clen_core.errors import ArgumentError

__all__ = [
    "DEFAULT_RULE",
    "RULE_PATTERN",
    "Decision",
    "DecisionRule",
    "LimitType",
    "Outcome",
    "RuleKind",
    "Side",
    "Zone",
    "acceptance_limit",
    "decide",
    "decide_arrays",
    "false_accept_risk",
]

_REL_TOL = 2e-11
"""Relative tolerance of the threshold comparisons when the guard band is not zero."""


class LimitType(enum.StrEnum):
    """Whether a limit caps a value from above, from below, or both (a tolerance interval)."""

    UPPER = "upper"
    LOWER = "lower"
    TWO_SIDED = "two_sided"


class Outcome(enum.StrEnum):
    """What the decision rule concludes."""

    COMPLIANT = "compliant"
    NON_COMPLIANT = "non_compliant"
    INCONCLUSIVE = "inconclusive"


class Zone(enum.StrEnum):
    """Where a result lies against the limit and its guard band (ILAC-G8:09/2019 4.2.3)."""

    PASS = "pass"
    CONDITIONAL_PASS = "conditional_pass"
    CONDITIONAL_FAIL = "conditional_fail"
    FAIL = "fail"


_ZONES = tuple(Zone)  # by severity: the worse of two sides is the larger index


class Side(enum.StrEnum):
    """Where the guard band lies: inside the limit, outside it, or on both sides."""

    ACCEPTANCE = "acceptance"
    """Inside: high confidence of correct acceptance (binary; Eurachem/CITAC, release)."""
    REJECTION = "rejection"
    """Outside: high confidence of correct rejection (binary; "beyond reasonable doubt")."""
    BOTH = "both"
    """Both: ILAC-G8 4.2.3's non-binary statement, with an inconclusive outcome between."""


class RuleKind(enum.StrEnum):
    """How a rule sets its guard band ``w``."""

    SIMPLE = "simple"
    """``w = 0``."""
    GUARD_BAND = "guard_band"
    """``w = r·U``."""
    FROM_RISK = "from_risk"
    """``w = z₁₋α·u``."""


_NUMBER = r"[0-9]{1,15}(\.[0-9]+)?"
_ALPHA = r"0\.(0+[1-9][0-9]*|[1-4][0-9]*)"
_SIDES = "(acceptance|rejection|both)"
RULE_PATTERN = rf"^(simple|guard_band\({_NUMBER}(, {_SIDES})?\)|from_risk\({_ALPHA}, {_SIDES}\))$"
"""The written form of a :class:`DecisionRule` (``str(rule)``), as a result stores it."""
_CODE = re.compile(
    r"(?P<kind>simple|guard_band|from_risk)(\((?P<p>[0-9.]+)(, (?P<side>[a-z]+))?\))?"
)


def _written(x: float) -> str:
    """A non-negative number without exponent, as short as round-trips (1.0 → ``1``)."""
    text = format(Decimal(repr(x)), "f")
    return text[:-2] if text.endswith(".0") else text


def _z(alpha: float) -> float:
    return NormalDist().inv_cdf(1.0 - alpha)


def _default_name(rule: DecisionRule) -> str:
    if rule.kind is RuleKind.SIMPLE:
        return "simple acceptance (w = 0)"
    if rule.kind is RuleKind.GUARD_BAND:
        w = f"w = {_written(rule.parameter)}·U"
    else:
        if not 0 < rule.parameter < 0.5:
            return ""  # refused by the checks that follow
        level = f"{_written(round(100 * (1 - rule.parameter), 10))} %"
        w = f"{level} one-sided, w = {rule.z:.3f}·u"
    return {
        Side.ACCEPTANCE: f"guarded acceptance, {w}",
        Side.REJECTION: f"guarded rejection (non-compliance beyond reasonable doubt), {w}",
        Side.BOTH: f"guard band on both sides of the limit, {w} (non-binary)",
    }[rule.side]


def _default_basis(rule: DecisionRule) -> str:
    if rule.kind is RuleKind.SIMPLE:
        return (
            "ILAC-G8:09/2019 4.2.1, simple acceptance: the result is compared with the "
            "limit; the specific risk of false acceptance reaches 50 % at the limit"
        )
    ilac = "ILAC-G8:09/2019 4.2.3" if rule.side is Side.BOTH else "ILAC-G8:09/2019 4.2.2"
    if rule.kind is RuleKind.GUARD_BAND:
        return f"{ilac}, guard band w = r·U"
    purpose = {
        Side.ACCEPTANCE: "high confidence of correct acceptance",
        Side.REJECTION: "high confidence of correct rejection (enforcement)",
        Side.BOTH: "high confidence of correct acceptance and of correct rejection",
    }[rule.side]
    return (
        f"Eurachem/CITAC guide 'Use of uncertainty information in compliance assessment' "
        f"(2nd ed., 2021), {purpose}: guard band g = z₁₋α·u; {ilac}"
    )


@attrs.frozen
class DecisionRule:
    """A decision rule: how wide the guard band is, on which side of the limit, and why.

    Build one with :meth:`simple`, :meth:`guard_band` or :meth:`from_risk`; ``str(rule)``
    is its written form (``simple``, ``guard_band(1)``, ``from_risk(0.05, acceptance)``),
    which :meth:`parse` reads back and an :class:`~clen_core.model.AnalysisResult` stores;
    :meth:`to_dict` and :meth:`from_dict` keep the name and basis too.

    >>> str(DecisionRule.from_risk(0.05, "rejection"))
    'from_risk(0.05, rejection)'
    >>> round(DecisionRule.from_risk(0.05, "acceptance").z, 3)
    1.645
    """

    kind: RuleKind = attrs.field(converter=RuleKind)
    """How the guard band is set."""
    parameter: float = attrs.field(converter=float)
    """``r`` of a guard band ``w = r·U``; α of a rule from a risk; 0 for simple acceptance."""
    side: Side = attrs.field(converter=Side)
    """Where the guard band lies (:class:`Side`)."""
    name: str = attrs.field(
        default=attrs.Factory(_default_name, takes_self=True), kw_only=True, eq=False
    )
    """Short name to state on a report, e.g. ``guarded acceptance, w = 1·U``."""
    basis: str = attrs.field(
        default=attrs.Factory(_default_basis, takes_self=True), kw_only=True, eq=False
    )
    """Free text: the document and clause the rule follows, or the agreement with the client."""

    def __attrs_post_init__(self) -> None:
        p = self.parameter
        if self.kind is RuleKind.SIMPLE and p != 0:
            raise ArgumentError(f"simple acceptance has no parameter, got {p}")
        if self.kind is RuleKind.GUARD_BAND and not (math.isfinite(p) and p >= 0):
            raise ArgumentError(f"the guard band factor r must be a finite number ≥ 0, got {p}")
        if self.kind is RuleKind.FROM_RISK and not 0 < p < 0.5:
            raise ArgumentError(f"the risk α must be between 0 and 0.5 (exclusive), got {p}")

    @classmethod
    def simple(cls, *, name: str | None = None, basis: str | None = None) -> DecisionRule:
        """Simple acceptance: ``w = 0``, the result compared with the limit (ILAC-G8 4.2.1)."""
        return cls._make(RuleKind.SIMPLE, 0.0, Side.ACCEPTANCE, name, basis)

    @classmethod
    def guard_band(
        cls,
        r: float = 1.0,
        side: Side | str = Side.BOTH,
        *,
        name: str | None = None,
        basis: str | None = None,
    ) -> DecisionRule:
        """A guard band ``w = r·U``: on both sides by default (ILAC-G8 4.2.3, three outcomes),
        or ``side="acceptance"`` / ``"rejection"`` for a binary rule (ILAC-G8 4.2.2)."""
        return cls._make(RuleKind.GUARD_BAND, r, side, name, basis)

    @classmethod
    def from_risk(
        cls,
        alpha: float,
        side: Side | str,
        *,
        name: str | None = None,
        basis: str | None = None,
    ) -> DecisionRule:
        """A guard band ``w = z₁₋α·u`` for a specified one-sided risk α (Eurachem/CITAC 2021).

        ``side="acceptance"``: ``AL = TL − w``, an accepted result conforms with confidence
        at least 1 − α; ``"rejection"``: ``AL = TL + w``, a rejected one does not conform
        with confidence at least 1 − α (enforcement); ``"both"``: three outcomes.
        """
        return cls._make(RuleKind.FROM_RISK, alpha, side, name, basis)

    @classmethod
    def _make(
        cls, kind: RuleKind, p: float, side: Side | str, name: str | None, basis: str | None
    ) -> DecisionRule:
        try:
            side = Side(side)
        except ValueError:
            raise ArgumentError(
                f"side must be one of {', '.join(s.value for s in Side)}, got {side!r}"
            ) from None
        extra = {k: v for k, v in (("name", name), ("basis", basis)) if v is not None}
        return cls(kind, p, side, **extra)

    @classmethod
    def parse(cls, code: str) -> DecisionRule:
        """The rule written ``code`` (see :data:`RULE_PATTERN`), e.g. ``guard_band(1)``."""
        if not isinstance(code, str) or re.fullmatch(RULE_PATTERN, code) is None:
            raise ArgumentError(
                f"not a decision rule: {code!r}; expected simple, guard_band(r), "
                "guard_band(r, side) or from_risk(alpha, side), side acceptance, rejection "
                "or both"
            )
        m = _CODE.fullmatch(code)
        assert m is not None
        if m["kind"] == "simple":
            return cls.simple()
        p = float(m["p"])
        if m["kind"] == "guard_band":
            return cls.guard_band(p, m["side"] or Side.BOTH)
        return cls.from_risk(p, m["side"])

    def __str__(self) -> str:
        if self.kind is RuleKind.SIMPLE:
            return "simple"
        p = _written(self.parameter)
        if self.kind is RuleKind.GUARD_BAND and self.side is Side.BOTH:
            return f"guard_band({p})"
        return f"{self.kind.value}({p}, {self.side.value})"

    def to_dict(self) -> dict[str, str]:
        """``{"rule": str(self), "name": ..., "basis": ...}``: JSON-ready."""
        return {"rule": str(self), "name": self.name, "basis": self.basis}

    @classmethod
    def from_dict(cls, data: Mapping[str, str]) -> DecisionRule:
        """The rule :meth:`to_dict` gave, name and basis included."""
        rule = cls.parse(data["rule"])
        extra = {k: data[k] for k in ("name", "basis") if data.get(k) is not None}
        return attrs.evolve(rule, **extra)

    @property
    def alpha(self) -> float | None:
        """The specified risk of a rule set from one; ``None`` otherwise."""
        return self.parameter if self.kind is RuleKind.FROM_RISK else None

    @property
    def z(self) -> float:
        """``w/u`` of a rule set from a risk (``z₁₋α``); 0 for the others (their w is in U)."""
        return _z(self.parameter) if self.kind is RuleKind.FROM_RISK else 0.0

    @property
    def needs_uncertainty(self) -> bool:
        """Whether the guard band depends on the uncertainty (every rule but ``w = 0``)."""
        return not (self.kind is RuleKind.SIMPLE or self.parameter == 0)

    @property
    def is_binary(self) -> bool:
        """Whether it concludes compliant or non-compliant, never inconclusive."""
        return self.side is not Side.BOTH or not self.needs_uncertainty

    def width(self, U: float, u: float) -> float:
        """The guard band ``w`` for an expanded uncertainty ``U`` of standard uncertainty ``u``."""
        if self.kind is RuleKind.GUARD_BAND:
            return self.parameter * U
        if self.kind is RuleKind.FROM_RISK:
            return self.z * u
        return 0.0

    def risk_at_acceptance_limit(self, k: float = 2.0) -> float:
        """The specific risk of a result on the acceptance limit (normal, coverage factor k):
        of false acceptance (acceptance side, both), of false rejection (rejection side).

        0.5 for simple acceptance, ``1 − Φ(r·k)`` for ``w = r·U`` (2.3 % for r = 1, k = 2),
        α for a rule set from α.
        """
        if self.kind is RuleKind.FROM_RISK:
            return self.parameter
        return _beyond(self.parameter * k if self.kind is RuleKind.GUARD_BAND else 0.0, 1.0)


DEFAULT_RULE = DecisionRule.guard_band()
"""The rule used when none is given: ``w = U`` on both sides, three outcomes (ILAC-G8 4.2.3)."""


def _beyond(margin: float, u: float) -> float:
    """P(true value beyond a limit ``margin`` away from the result | normal, sd ``u``).

    ``margin`` is ``TL − x`` for an upper limit (``x − TL`` for a lower one): positive
    when the result is within the limit.
    """
    if u == 0:
        return 0.0 if margin >= 0 else 1.0
    return 0.5 * math.erfc(margin / (u * math.sqrt(2.0)))


# --------------------------------------------------------------------------- one value


@attrs.frozen
class Decision:
    """The decision on one result: outcome, ILAC zone, acceptance limit(s), risk, rule.

    The inputs are kept as given (``U`` or ``u``, ``k``, ``relative``), so that the
    statement on a report can be made from the decision alone (:meth:`statement`).
    """

    value: float
    """The measured value x."""
    upper: float | None
    """Upper tolerance limit, if any."""
    lower: float | None
    """Lower tolerance limit, if any."""
    rule: DecisionRule
    """The decision rule applied."""
    outcome: Outcome
    """Compliant, non-compliant or inconclusive (the latter only with a rule on both sides)."""
    zone: Zone
    """ILAC-G8 4.2.3 zone for the rule's guard band (the worse of the two sides, two-sided)."""
    upper_acceptance_limit: float | None
    """``TL − w`` (acceptance side, both) or ``TL + w`` (rejection side) of the upper limit."""
    lower_acceptance_limit: float | None
    """``TL + w`` (acceptance side, both) or ``TL − w`` (rejection side) of the lower limit."""
    upper_guard_band: float | None
    """Guard band ``w`` at the upper limit."""
    lower_guard_band: float | None
    """Guard band ``w`` at the lower limit (differs from the upper one with a relative U)."""
    false_accept_risk: float | None
    """Specific probability that the true value lies outside the limit(s), given the result
    (normal distribution): the risk taken by accepting it. ``None`` without an uncertainty."""
    U: float | None = None
    """Expanded uncertainty as given (a fraction of the limit when ``relative``)."""
    u: float | None = None
    """Standard uncertainty as given (a fraction of the limit when ``relative``)."""
    k: float = 2.0
    """Coverage factor of ``U``."""
    relative: bool = False
    """Whether ``U`` or ``u`` is a fraction of the limit."""

    @property
    def acceptance_limit(self) -> float | tuple[float, float]:
        """The acceptance limit; ``(lower, upper)`` for a two-sided limit."""
        return _one_or_both(self.lower_acceptance_limit, self.upper_acceptance_limit)

    @property
    def guard_band(self) -> float | tuple[float, float]:
        """The guard band ``w``; ``(lower, upper)`` for a two-sided limit."""
        return _one_or_both(self.lower_guard_band, self.upper_guard_band)

    @property
    def false_reject_risk(self) -> float | None:
        """Probability that the true value is within the limit(s): the risk of rejecting it."""
        return None if self.false_accept_risk is None else 1.0 - self.false_accept_risk

    def statement(self, unit: str = "", source: str | None = None) -> str:
        """A statement of conformity for a report (ISO/IEC 17025 7.8.6): the result, the
        limit and its source, the outcome and zone, the rule, ``w``, the acceptance limit
        and the specific risk.

        >>> d = decide(79.2, lower=80.0, U=0.3, rule=DecisionRule.guard_band(1, "rejection"))
        >>> print(d.statement("% vol", "CN 2207 10"))  # doctest: +NORMALIZE_WHITESPACE
        79.2 % vol against the lower limit 80 % vol (CN 2207 10): non-compliant (zone: fail).
        Decision rule: guarded rejection (non-compliance beyond reasonable doubt), w = 1·U
        (ILAC-G8:09/2019 4.2.2, guard band w = r·U); guard band 0.3 % vol, acceptance limit
        79.7 % vol. Probability that the true value is outside the limit: > 99.9 %.
        """
        sp = f" {unit}" if unit else ""

        def q(x: float) -> str:
            return f"{x:.6g}{sp}"

        if self.lower is not None and self.upper is not None:
            limit = f"the limits {q(self.lower)} to {q(self.upper)}"
        elif self.upper is not None:
            limit = f"the upper limit {q(self.upper)}"
        else:
            assert self.lower is not None
            limit = f"the lower limit {q(self.lower)}"
        src = f" ({source})" if source else ""
        outcome = self.outcome.value.replace("_", "-")
        zone = self.zone.value.replace("_", " ")
        w, al = self.guard_band, self.acceptance_limit
        w_text = f"{q(w[0])} and {q(w[1])}" if isinstance(w, tuple) else q(w)
        al_text = f"{q(al[0])} and {q(al[1])}" if isinstance(al, tuple) else q(al)
        text = (
            f"{q(self.value)} against {limit}{src}: {outcome} (zone: {zone}). "
            f"Decision rule: {self.rule.name} ({self.rule.basis}); guard band {w_text}, "
            f"acceptance limit {al_text}."
        )
        if self.false_accept_risk is not None:
            outside = "outside the limits" if isinstance(al, tuple) else "outside the limit"
            text += f" Probability that the true value is {outside}: "
            text += f"{_percent(self.false_accept_risk)}."
        return text


def _percent(p: float) -> str:
    pct = 100 * p
    if pct >= 99.95:
        return "> 99.9 %"
    if pct < 0.05:
        return "< 0.1 %"
    return f"{pct:.2g} %"


def _one_or_both(lower: float | None, upper: float | None) -> float | tuple[float, float]:
    if lower is not None and upper is not None:
        return (lower, upper)
    one = upper if upper is not None else lower
    assert one is not None, "a decision has a limit"
    return one


def _rule(rule: DecisionRule | str) -> DecisionRule:
    if isinstance(rule, DecisionRule):
        return rule
    return DecisionRule.parse(rule)


def _finite(name: str, x: float | None) -> None:
    if x is not None and (
        isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x)
    ):
        raise ArgumentError(f"{name} must be a finite number, got {x!r}")


@attrs.frozen
class _Sides:
    """The checked inputs of a decision, one entry per limit given: (limit, U, u, w)."""

    upper: tuple[float, float | None, float | None, float] | None
    lower: tuple[float, float | None, float | None, float] | None


def _check(
    value: float | None,
    upper: float | None,
    lower: float | None,
    U: float | None,
    u: float | None,
    k: float,
    relative: bool,
    rule: DecisionRule,
    *,
    need_u: bool,
) -> _Sides:
    for name, x in (("value", value), ("upper", upper), ("lower", lower), ("U", U), ("u", u)):
        _finite(name, x)
    _finite("k", k)
    if upper is None and lower is None:
        raise ArgumentError("give a limit: upper, lower or both")
    if upper is not None and lower is not None and lower > upper:
        raise ArgumentError(f"the lower limit {lower} is above the upper limit {upper}")
    if U is not None and u is not None:
        raise ArgumentError(
            "give the expanded uncertainty U or the standard uncertainty u, not both"
        )
    for name, x in (("U", U), ("u", u)):
        if x is not None and x < 0:
            raise ArgumentError(f"the uncertainty {name} must be ≥ 0, got {x}")
    if not k > 0:
        raise ArgumentError(f"the coverage factor k must be > 0, got {k}")
    if U is None and u is None and (need_u or rule.needs_uncertainty):
        what = "this" if need_u else f"the decision rule {rule}"
        raise ArgumentError(
            f"{what} needs an uncertainty: give U (or u); only simple acceptance goes without"
        )

    def side(limit: float | None) -> tuple[float, float | None, float | None, float] | None:
        if limit is None:
            return None
        U_abs, u_abs = _absolute(limit, U, u, k, relative)
        w = 0.0
        if rule.needs_uncertainty and U_abs is not None and u_abs is not None:
            w = rule.width(U_abs, u_abs)
        return (limit, U_abs, u_abs, w)

    return _Sides(side(upper), side(lower))


def _absolute(
    limit: float, U: float | None, u: float | None, k: float, relative: bool
) -> tuple[float | None, float | None]:
    """(U, u) in the value's unit at ``limit`` (the same operations as the Arrow path)."""
    if U is not None:
        U_abs = U * abs(limit) if relative else U
        return U_abs, U_abs / k
    if u is not None:
        u_abs = u * abs(limit) if relative else u
        return k * u_abs, u_abs
    return None, None


def _tolerance(tl: float, w: float) -> float:
    return _REL_TOL * max(abs(tl), w) if w > 0 else 0.0


def _upper_zone(x: float, tl: float, w: float) -> tuple[int, bool]:
    """(zone index, rejected beyond the rejection-side AL) for an upper limit ``tl``."""
    tol = _tolerance(tl, w)
    within = x <= tl
    if x <= tl - w + tol and within:
        zone = 0
    elif within:
        zone = 1
    elif x >= tl + w - tol:
        zone = 3
    else:
        zone = 2
    return zone, not within and x > tl + w + tol


def _al(tl: float, w: float, side: Side) -> float:
    """The acceptance limit of an upper limit, shown to 12 significant digits when w > 0
    (``10 − 0.2`` is then 9.8, not a binary neighbour of it)."""
    al = tl + w if side is Side.REJECTION else tl - w
    return _snap(al) if w > 0 else al


def _snap(x: float) -> float:
    return float(f"{x:.12g}")


def decide(
    value: float,
    *,
    upper: float | None = None,
    lower: float | None = None,
    U: float | None = None,
    u: float | None = None,
    k: float = 2.0,
    relative: bool = False,
    rule: DecisionRule | str = DEFAULT_RULE,
) -> Decision:
    """Apply a decision rule to one result against an upper, a lower or a two-sided limit.

    ``U`` is the expanded uncertainty (coverage factor ``k``), or give ``u``, the
    standard uncertainty; with ``relative=True`` either is a fraction of the limit
    (``U=0.02`` is 2 % of it). Without an uncertainty only simple acceptance decides;
    any other rule raises :class:`~clen_core.errors.ArgumentError`, as do non-finite
    numbers, a negative uncertainty and a lower limit above the upper one.

    >>> d = decide(10.1, upper=10.0, U=0.2)  # w = U on both sides: ILAC-G8 4.2.3
    >>> d.outcome.value, d.zone.value, d.acceptance_limit
    ('inconclusive', 'conditional_fail', 9.8)
    >>> round(decide(9.8, upper=10.0, U=0.2).false_accept_risk, 4)  # 1 − Φ(2)
    0.0228
    """
    rule = _rule(rule)
    sides = _check(value, upper, lower, U, u, k, relative, rule, need_u=False)
    zone, accepted, rejected = 0, True, False
    al_up = al_lo = w_up = w_lo = None
    risk: float | None = 0.0
    if sides.upper is not None:
        tl, _, u_abs, w = sides.upper
        z, beyond = _upper_zone(value, tl, w)
        zone, accepted, rejected = max(zone, z), accepted and z == 0, rejected or beyond
        al_up, w_up = _al(tl, w, rule.side), w
        risk = None if u_abs is None or risk is None else risk + _beyond(tl - value, u_abs)
    if sides.lower is not None:
        # Mirror: a lower limit on x is an upper limit on -x.
        tl, _, u_abs, w = sides.lower
        z, beyond = _upper_zone(-value, -tl, w)
        zone, accepted, rejected = max(zone, z), accepted and z == 0, rejected or beyond
        al_lo, w_lo = -_al(-tl, w, rule.side), w
        risk = None if u_abs is None or risk is None else risk + _beyond(-tl - -value, u_abs)
    return Decision(
        value=value,
        upper=upper,
        lower=lower,
        rule=rule,
        outcome=_outcome(rule, zone, accepted, rejected),
        zone=_ZONES[zone],
        upper_acceptance_limit=al_up,
        lower_acceptance_limit=al_lo,
        upper_guard_band=w_up,
        lower_guard_band=w_lo,
        false_accept_risk=risk,
        U=U,
        u=u,
        k=k,
        relative=relative,
    )


def _outcome(rule: DecisionRule, zone: int, accepted: bool, rejected: bool) -> Outcome:
    if rule.side is Side.ACCEPTANCE:
        return Outcome.COMPLIANT if accepted else Outcome.NON_COMPLIANT
    if rule.side is Side.REJECTION:
        return Outcome.NON_COMPLIANT if rejected else Outcome.COMPLIANT
    return (Outcome.COMPLIANT, Outcome.INCONCLUSIVE, Outcome.INCONCLUSIVE, Outcome.NON_COMPLIANT)[
        zone
    ]


def acceptance_limit(
    value: float | None = None,
    /,
    *,
    upper: float | None = None,
    lower: float | None = None,
    U: float | None = None,
    u: float | None = None,
    k: float = 2.0,
    relative: bool = False,
    rule: DecisionRule | str = DEFAULT_RULE,
) -> float | tuple[float, float]:
    """The acceptance limit of a rule: ``TL − w`` for an upper limit on the acceptance side
    (and both), ``TL + w`` on the rejection side, the mirror for a lower one;
    ``(lower, upper)`` for a two-sided limit. Same arguments as :func:`decide`; the
    result ``value`` may be given but does not matter.

    >>> rule = DecisionRule.from_risk(0.05, "acceptance")  # 95 % one-sided: w = 1.645·u
    >>> round(acceptance_limit(upper=10.0, U=0.2, rule=rule), 4)
    9.8355
    """
    rule = _rule(rule)
    sides = _check(value, upper, lower, U, u, k, relative, rule, need_u=False)
    up = None if sides.upper is None else _al(sides.upper[0], sides.upper[3], rule.side)
    lo = None if sides.lower is None else -_al(-sides.lower[0], sides.lower[3], rule.side)
    return _one_or_both(lo, up)


def false_accept_risk(
    value: float,
    /,
    *,
    upper: float | None = None,
    lower: float | None = None,
    U: float | None = None,
    u: float | None = None,
    k: float = 2.0,
    relative: bool = False,
    rule: DecisionRule | str | None = None,
) -> float:
    """The specific probability that the true value lies outside the limit(s) given the
    result ``value``, for a normal distribution of standard deviation ``u = U/k``
    (JCGM 106:2012 9.5.2): the risk of accepting this result. Needs an uncertainty.
    Same arguments as :func:`decide`; the rule does not change the risk of a result.

    >>> round(false_accept_risk(9.8, upper=10.0, U=0.2), 4)  # on AL for w = U, k = 2
    0.0228
    """
    d = decide(
        value,
        upper=upper,
        lower=lower,
        U=U,
        u=u,
        k=k,
        relative=relative,
        rule=DecisionRule.simple() if rule is None else _rule(rule),
    )
    if d.false_accept_risk is None:
        raise ArgumentError("the risk needs an uncertainty: give U (or u)")
    return d.false_accept_risk


# --------------------------------------------------------------------------- Arrow

ArrayLike: TypeAlias = "pa.Array | pa.ChunkedArray | Sequence[Any] | float | int | str | None"
"""What :func:`decide_arrays` takes for a column: an array, a sequence, or one value for all."""


def _array(x: Any, n: int, type_: pa.DataType) -> Any:
    """An array (or chunked array: kept in chunks) of ``type_`` and length ``n``."""
    if isinstance(x, pa.Array | pa.ChunkedArray):
        out = x if x.type.equals(type_) else x.cast(type_)
    elif x is None or isinstance(x, int | float | str | DecisionRule):
        out = pa.repeat(pa.scalar(x if not isinstance(x, DecisionRule) else str(x), type_), n)
    else:
        out = pa.array(list(x), type_)
    if len(out) != n:
        raise ArgumentError(f"arrays of different lengths: {len(out)} and {n}")
    return out


def _finite_mask(a: pa.Array) -> pa.Array:
    """True where valid and finite, false where null or not finite."""
    return false_if_null(pc.is_finite(a))


def decide_arrays(
    value: ArrayLike,
    *,
    upper: ArrayLike = None,
    lower: ArrayLike = None,
    U: ArrayLike = None,
    u: ArrayLike = None,
    k: ArrayLike = 2.0,
    relative: bool = False,
    rule: ArrayLike | DecisionRule = DEFAULT_RULE,
    limits: bool = True,
    risk: bool = False,
) -> pa.Table:
    """:func:`decide` over Arrow arrays (or sequences; a single number or rule applies to all).

    ``rule`` is a rule, or an array of written rules (``str(rule)``), null for the default
    rule. Returns a table, one row per value: ``outcome`` and ``zone`` (dictionary-encoded
    text), ``lower_acceptance_limit`` and ``upper_acceptance_limit`` (unless
    ``limits=False``) and, with ``risk=True``, ``false_accept_risk`` (computed value by
    value). A row on which :func:`decide` would raise (no value or no limit, a needed
    uncertainty missing, a bad number) is null throughout. The arithmetic is
    :func:`decide`'s, operation for operation, so the two agree exactly.

    >>> t = decide_arrays([9.7, 9.9, 10.1, 10.3], upper=10.0, U=0.2)
    >>> t.column("zone").to_pylist()
    ['pass', 'conditional_pass', 'conditional_fail', 'fail']
    """
    f64 = pa.float64()
    n = len(value) if isinstance(value, pa.Array | pa.ChunkedArray | list | tuple) else 1
    x = _array(value, n, f64)
    tu, tl_ = _array(upper, n, f64), _array(lower, n, f64)
    big_u, small_u, kk = _array(U, n, f64), _array(u, n, f64), _array(k, n, f64)

    ok = pc.and_(_finite_mask(x), pc.or_(pc.is_valid(tu), pc.is_valid(tl_)))
    for a in (tu, tl_, big_u, small_u):
        ok = pc.and_(ok, pc.or_(pc.is_null(a), _finite_mask(a)))
    ok = pc.and_(ok, pc.invert(pc.and_(pc.is_valid(big_u), pc.is_valid(small_u))))
    ok = pc.and_(ok, pc.and_(_finite_mask(kk), false_if_null(pc.greater(kk, 0.0))))
    for a in (big_u, small_u):
        ok = pc.and_(ok, pc.fill_null(pc.greater_equal(a, 0.0), True))
    ok = _combined(false_if_null(pc.and_(ok, pc.fill_null(pc.less_equal(tl_, tu), True))))
    # Work on the rows that may get a decision only (often a few: those with a limit),
    # then put them back in place.
    everything = ok.false_count == 0
    if not everything:
        x, tu, tl_, big_u, small_u, kk = (
            pc.filter(a, ok) for a in (x, tu, tl_, big_u, small_u, kk)
        )
        if isinstance(rule, pa.Array | pa.ChunkedArray) or not isinstance(
            rule, DecisionRule | str | None
        ):
            rule = pc.filter(_array(_codes(rule), n, pa.string()), ok)
    rules = _rule_columns(rule, len(x))
    has_u = pc.or_(pc.is_valid(big_u), pc.is_valid(small_u))
    decided = _combined(false_if_null(pc.and_(rules.valid, pc.or_(pc.invert(rules.needs), has_u))))
    if decided.false_count:
        x, tu, tl_, big_u, small_u, kk = (
            pc.filter(a, decided) for a in (x, tu, tl_, big_u, small_u, kk)
        )
        rules = rules.filter(decided)
        if everything:
            ok, everything = decided, False
        else:
            ok = _combined(false_if_null(pc.take(decided, _positions(ok))))
    m = len(x)
    has_big = pc.is_valid(big_u)

    def absolute(limit: pa.Array) -> tuple[pa.Array, pa.Array]:
        scale = pc.abs(limit)
        big = pc.multiply(big_u, scale) if relative else big_u
        small = pc.multiply(small_u, scale) if relative else small_u
        U_abs = pc.if_else(has_big, big, pc.multiply(kk, small))
        u_abs = pc.if_else(has_big, pc.divide(U_abs, kk), small)
        return U_abs, u_abs

    zone: Any = pa.scalar(0, pa.int8())
    accepted_all: Any = pa.scalar(True)
    rejected_any: Any = pa.scalar(False)
    als: dict[str, pa.Array] = {}
    risk_inputs: dict[str, tuple[pa.Array, pa.Array]] = {}
    for name, limit, sign in (("upper", tu, 1.0), ("lower", tl_, -1.0)):
        present = pc.is_valid(limit)
        U_abs, u_abs = absolute(limit)
        w = pc.if_else(
            rules.needs,
            pc.if_else(
                rules.guard,
                pc.multiply(rules.factor, U_abs),
                pc.multiply(rules.factor, u_abs),
            ),
            0.0,
        )
        xs, tl = (x, limit) if sign > 0 else (pc.negate(x), pc.negate(limit))
        positive = false_if_null(pc.greater(w, 0.0))
        tol = pc.if_else(positive, pc.multiply(_REL_TOL, pc.max_element_wise(pc.abs(tl), w)), 0.0)
        within = pc.less_equal(xs, tl)
        passed = pc.and_(pc.less_equal(xs, pc.add(pc.subtract(tl, w), tol)), within)
        failed = pc.greater_equal(xs, pc.subtract(pc.add(tl, w), tol))
        side_zone = pc.if_else(passed, 0, pc.if_else(within, 1, pc.if_else(failed, 3, 2)))
        side_zone = pc.fill_null(pc.cast(side_zone, pa.int8()), 0)  # no limit: no constraint
        zone = pc.max_element_wise(zone, side_zone)
        accepted_all = pc.and_(accepted_all, pc.equal(side_zone, 0))
        beyond = pc.and_(pc.invert(within), pc.greater(xs, pc.add(pc.add(tl, w), tol)))
        rejected_any = pc.or_(rejected_any, pc.and_(present, false_if_null(beyond)))
        if limits:
            al = pc.if_else(rules.rejection, pc.add(tl, w), pc.subtract(tl, w))
            al = pc.if_else(positive, _snap_array(al), al)
            als[name] = al if sign > 0 else pc.negate(al)
        risk_inputs[name] = (pc.subtract(tl, xs), u_abs)

    zone = pc.cast(zone, pa.int8())
    if isinstance(zone, pa.Scalar):  # no limit on any row
        zone = pa.repeat(zone, m)
    # Outcome codes follow Outcome: 0 compliant, 1 non-compliant, 2 inconclusive.
    both = pc.if_else(pc.equal(zone, 0), 0, pc.if_else(pc.equal(zone, 3), 1, 2))
    outcome = pc.if_else(
        rules.acceptance,
        pc.if_else(accepted_all, 0, 1),
        pc.if_else(rules.rejection, pc.if_else(rejected_any, 1, 0), both),
    )
    columns: dict[str, pa.Array] = {
        "outcome": _labels(pc.cast(outcome, pa.int8()), Outcome, m),
        "zone": _labels(zone, Zone, m),
    }
    if limits:
        columns["lower_acceptance_limit"] = als["lower"]
        columns["upper_acceptance_limit"] = als["upper"]
    if risk:
        columns["false_accept_risk"] = _risks(risk_inputs)
    if not everything:
        where = _positions(ok)
        columns = {name: pc.take(c, where) for name, c in columns.items()}
    return pa.table(columns)


def _combined(a: Any) -> pa.Array:
    return a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a


def _positions(mask: pa.Array) -> pa.Array:
    """For each row, its position among the rows where ``mask`` is true (null elsewhere)."""
    return pc.if_else(mask, pc.subtract(pc.cumulative_sum(pc.cast(mask, pa.int64())), 1), None)


def _codes(rule: Any) -> Any:
    """Written rules: an array as it is, a sequence with its rules written."""
    if isinstance(rule, pa.Array | pa.ChunkedArray):
        return rule
    return [str(r) if isinstance(r, DecisionRule) else r for r in rule]


def _labels(codes: Any, names: type[enum.StrEnum], m: int) -> pa.Array:
    """Codes (indices into ``names``) as a dictionary array of the names."""
    if isinstance(codes, pa.ChunkedArray):
        codes = codes.combine_chunks()
    elif not isinstance(codes, pa.Array):
        codes = pa.repeat(codes, m)
    return pa.DictionaryArray.from_arrays(
        pc.cast(codes, pa.int8()), pa.array([e.value for e in names])
    )


def _snap_array(a: pa.Array) -> pa.Array:
    """:func:`_snap` of each value (once per distinct value)."""
    if isinstance(a, pa.ChunkedArray):
        a = a.combine_chunks()
    encoded = pc.dictionary_encode(a)
    snapped = [None if x is None else _snap(x) for x in encoded.dictionary.to_pylist()]
    return pc.take(pa.array(snapped, pa.float64()), encoded.indices)


def _risks(inputs: dict[str, tuple[pa.Array, pa.Array]]) -> pa.Array:
    """Per row: the sum over the limits given of ``_beyond(margin, u)``, as :func:`decide`."""
    (m_up, u_up), (m_lo, u_lo) = inputs["upper"], inputs["lower"]
    out: list[float | None] = []
    for a, ua, b, ub in zip(
        m_up.to_pylist(), u_up.to_pylist(), m_lo.to_pylist(), u_lo.to_pylist(), strict=True
    ):
        if (a is not None and ua is None) or (b is not None and ub is None):
            out.append(None)
            continue
        r = 0.0
        if a is not None:
            r = r + _beyond(a, ua)
        if b is not None:
            r = r + _beyond(b, ub)
        out.append(r)
    return pa.array(out, pa.float64())


@attrs.frozen
class _RuleColumns:
    """Per row, what the arithmetic needs of the rule (or one value for all rows)."""

    valid: Any
    """The rule could be read."""
    needs: Any
    """It needs an uncertainty."""
    guard: Any
    """``w = factor·U`` (else ``w = factor·u``)."""
    factor: Any
    """``r`` of a guard band, ``z₁₋α`` of a rule from a risk, 0 for simple acceptance."""
    acceptance: Any
    """Its guard band is on the acceptance side."""
    rejection: Any
    """Its guard band is on the rejection side."""

    def filter(self, mask: Any) -> _RuleColumns:
        return _RuleColumns(
            *(
                pc.filter(v, mask) if isinstance(v, pa.Array | pa.ChunkedArray) else v
                for v in attrs.astuple(self, recurse=False)
            )
        )


def _rule_facts(r: DecisionRule | None) -> tuple[Any, ...]:
    if r is None:
        return (False, None, None, None, None, None)
    factor = r.parameter if r.kind is RuleKind.GUARD_BAND else r.z
    return (
        True,
        r.needs_uncertainty,
        r.kind is RuleKind.GUARD_BAND,
        factor,
        r.side is Side.ACCEPTANCE,
        r.side is Side.REJECTION,
    )


_FACT_TYPES = (pa.bool_(), pa.bool_(), pa.bool_(), pa.float64(), pa.bool_(), pa.bool_())


def _rule_columns(rule: Any, n: int) -> _RuleColumns:
    """What the arithmetic needs of each row's rule: scalars for one rule, else arrays
    (each distinct written rule read once)."""
    if isinstance(rule, DecisionRule | str) or rule is None:
        try:
            one = DEFAULT_RULE if rule is None else _rule(rule)
        except ArgumentError:
            one = None
        return _RuleColumns(
            *(pa.scalar(v, t) for v, t in zip(_rule_facts(one), _FACT_TYPES, strict=True))
        )
    codes = _array(_codes(rule), n, pa.string())
    if isinstance(codes, pa.ChunkedArray):
        codes = codes.combine_chunks()
    encoded = pc.dictionary_encode(codes)
    parsed: list[DecisionRule | None] = []
    for code in encoded.dictionary.to_pylist():
        try:
            parsed.append(DecisionRule.parse(code))
        except ArgumentError:
            parsed.append(None)
    parsed.append(DEFAULT_RULE)  # for the null codes
    idx = pc.fill_null(encoded.indices, len(parsed) - 1)
    facts = list(zip(*(_rule_facts(r) for r in parsed), strict=True))
    columns = (pc.take(pa.array(v, t), idx) for v, t in zip(facts, _FACT_TYPES, strict=True))
    valid, *rest = columns
    return _RuleColumns(valid, *(false_if_null(c) if c.type == pa.bool_() else c for c in rest))
