"""Decision rules and statements of conformity (ILAC-G8:09/2019, Eurachem/CITAC 2021).

The public face of :mod:`clen_core.model.compliance`, where the model derives a
result's decision (:attr:`~clen_core.model.AnalysisResult.decision`) and the rules
(RES-004) take the same arithmetic over Arrow. See ``docs/decision-rules.md``.

>>> from clen_core.compliance import DecisionRule, decide
>>> d = decide(10.1, upper=10.0, U=0.2, rule=DecisionRule.guard_band(1))
>>> d.outcome.value, d.zone.value
('inconclusive', 'conditional_fail')
"""

from clen_core.model import compliance as _model
from clen_core.model.compliance import *  # noqa: F403 - its __all__ is ours

__all__ = list(_model.__all__)
