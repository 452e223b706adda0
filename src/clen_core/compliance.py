"""Decision rules and statements of conformity (ILAC-G8:09/2019, Eurachem/CITAC 2021).

The public face of :mod:`clen_core.model.compliance`, where the model derives a
result's decision (:attr:`~clen_core.model.AnalysisResult.decision`) and the rules
(RES-004) take the same arithmetic over Arrow. See ``docs/decision-rules.md``.

>>> from clen_core.compliance import DecisionRule, decide
>>> d = decide(10.1, upper=10.0, U=0.2, rule=DecisionRule.guard_band(1))
>>> d.outcome.value, d.zone.value
('inconclusive', 'conditional_fail')
"""

from clen_core.model.compliance import (
    DEFAULT_RULE,
    RULE_PATTERN,
    Decision,
    DecisionRule,
    LimitType,
    Outcome,
    RuleKind,
    Side,
    Zone,
    acceptance_limit,
    decide,
    decide_arrays,
    false_accept_risk,
)

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
