"""Proficiency testing (ISO 13528, ``domain.md`` §6): the floor above the files.

- :mod:`~clen_core.proficiency.statistics`: robust statistics and scores of
  single results (median, MADe, nIQR, Algorithm A, Horwitz, z, z′, ζ, Eₙ);
- :mod:`~clen_core.proficiency.qualitative`: nominal, ordinal, classification
  (CN codes by level of agreement) and identification results (Clause 11);
- :mod:`~clen_core.proficiency.evaluation`: a study and a whole round scored,
  a :class:`PTSummary` and one score per laboratory, combined scores;
- :mod:`~clen_core.proficiency.report`: the provider's report (HTML or JSON).

A new statistic goes in ``statistics``; what a round does with it, in
``evaluation``.
"""

from clen_core.proficiency import evaluation, qualitative, statistics
from clen_core.proficiency.evaluation import *  # noqa: F403 - its __all__ is part of ours
from clen_core.proficiency.qualitative import *  # noqa: F403 - its __all__ is part of ours
from clen_core.proficiency.statistics import *  # noqa: F403 - its __all__ is part of ours

__all__ = sorted({*statistics.__all__, *qualitative.__all__, *evaluation.__all__})
