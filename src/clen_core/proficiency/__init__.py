"""Proficiency testing (ISO 13528, ``domain.md`` §6): the floor above the files.

- :mod:`~clen_core.proficiency.statistics`: robust statistics and scores of
  single results (median, MADe, nIQR, Algorithm A, Horwitz, z, z′, ζ, Eₙ);
- :mod:`~clen_core.proficiency.evaluation`: a whole round scored, a
  :class:`PTSummary` and one score per laboratory;
- :mod:`~clen_core.proficiency.report`: the provider's report (HTML or JSON).

A new statistic goes in ``statistics``; what a round does with it, in
``evaluation``.
"""

from clen_core.proficiency.evaluation import PTEvaluation, PTSummary, evaluate
from clen_core.proficiency.statistics import (
    MADE_FACTOR,
    NIQR_FACTOR,
    AlgorithmA,
    ScoreClass,
    action_signal,
    algorithm_a,
    classify_z,
    en_score,
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

__all__ = [
    "MADE_FACTOR",
    "NIQR_FACTOR",
    "AlgorithmA",
    "PTEvaluation",
    "PTSummary",
    "ScoreClass",
    "action_signal",
    "algorithm_a",
    "classify_z",
    "en_score",
    "evaluate",
    "horwitz",
    "made",
    "median",
    "negligible",
    "niqr",
    "u_assigned",
    "z_prime_score",
    "z_score",
    "zeta_score",
]
