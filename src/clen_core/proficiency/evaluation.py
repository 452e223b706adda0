"""The evaluation of a proficiency-testing round (ISO 13528, ``domain.md`` §6).

:func:`evaluate` does a whole round: a :class:`~clen_core.model.proficiency.PTStudy`
and its results in, a :class:`PTSummary` of the statistics and one
:class:`~clen_core.model.proficiency.PTScore` per laboratory out, computed with
the functions of :mod:`clen_core.proficiency.statistics`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import attrs

from clen_core.errors import StatisticsError
from clen_core.model.proficiency import PTResult, PTScore, PTStudy, ScoreClass
from clen_core.proficiency.statistics import (
    AlgorithmA,
    _non_negative,
    _positive,
    action_signal,
    algorithm_a,
    classify_z,
    en_score,
    negligible,
    u_assigned,
    z_prime_score,
    z_score,
    zeta_score,
)

__all__ = ["PTEvaluation", "PTSummary", "evaluate"]

# --------------------------------------------------------------------------- a round


AssignedSource = Literal["given", "algorithm_a"]
USource = Literal["algorithm_a", "given", "assumed_zero"]


@attrs.frozen
class PTSummary:
    """The statistics of one round: what the scores were computed from."""

    study_id: str
    """The study."""
    analyte: str
    """What was measured."""
    unit: str
    """Unit of the values, x_pt, σ_pt and the uncertainties."""
    p: int
    """Number of results (laboratories)."""
    assigned_value: float
    """Assigned value x_pt."""
    assigned_value_source: AssignedSource
    """``given`` (the study's) or ``algorithm_a`` (the consensus x*)."""
    sigma_pt: float
    """σ_pt used for z and z′."""
    sigma_pt_source: AssignedSource
    """``given`` (the study's) or ``algorithm_a`` (the robust standard deviation s*)."""
    u_assigned_value: float
    """Standard uncertainty u(x_pt)."""
    u_assigned_value_source: USource
    """``algorithm_a`` (1.25·s*/√p), ``given`` (by the caller) or ``assumed_zero``."""
    negligible: bool
    """Whether u(x_pt) < 0.3·σ_pt; when not, z′ is the score to read (ISO 13528)."""
    coverage_factor: float
    """k turning standard uncertainties into expanded ones for Eₙ (U = k·u)."""
    counts: dict[ScoreClass, int]
    """Laboratories per class of z, every class present."""
    action_signals: int
    """Laboratories with |Eₙ| ≥ 1."""
    robust: AlgorithmA | None
    """Algorithm A on the results (None with fewer than 2 results)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        r = self.robust
        return {
            "study_id": self.study_id,
            "analyte": self.analyte,
            "unit": self.unit,
            "p": self.p,
            "assigned_value": self.assigned_value,
            "assigned_value_source": self.assigned_value_source,
            "robust_mean": None if r is None or r.degenerate else r.location,
            "robust_sd": None if r is None or r.degenerate else r.scale,
            "algorithm_a": None
            if r is None
            else {
                "location": r.location,
                "scale": r.scale,
                "iterations": r.iterations,
                "converged": r.converged,
                "degenerate": r.degenerate,
                "initial_scale": r.initial_scale,
            },
            "sigma_pt": self.sigma_pt,
            "sigma_pt_source": self.sigma_pt_source,
            "u_assigned_value": self.u_assigned_value,
            "u_assigned_value_source": self.u_assigned_value_source,
            "negligible": self.negligible,
            "coverage_factor": self.coverage_factor,
            "counts": {c.value: n for c, n in self.counts.items()},
            "action_signals": self.action_signals,
        }


@attrs.frozen
class PTEvaluation:
    """A round evaluated: the study, its summary and one score per laboratory."""

    study: PTStudy
    """The study."""
    summary: PTSummary
    """The statistics the scores come from."""
    scores: tuple[PTScore, ...]
    """One per result, in the order of the results."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``study``, ``summary`` and ``scores`` (as entity records)."""
        from clen_core.schema import to_json

        return {
            "study": to_json(self.study),
            "summary": self.summary.to_dict(),
            "scores": [to_json(s) for s in self.scores],
        }


def _robust_or_fail(study_id: str, robust: AlgorithmA | None, need: str) -> AlgorithmA:
    if robust is None:
        raise StatisticsError(
            f"study {study_id}: {need} needs Algorithm A, i.e. at least 2 results"
        )
    if robust.degenerate:
        raise StatisticsError(
            f"study {study_id}: {need} cannot come from the results: they are degenerate "
            "(most values identical, Algorithm A's s* collapses to 0); "
            "give the study an assigned value and σ_pt"
        )
    if not robust.converged:
        raise StatisticsError(
            f"study {study_id}: Algorithm A did not converge in {robust.iterations} iterations"
        )
    return robust


def evaluate(
    study: PTStudy,
    results: Iterable[PTResult],
    *,
    k: float = 2.0,
    u_assigned_value: float | None = None,
    tol: float = 1e-10,
    max_iter: int = 10_000,
) -> PTEvaluation:
    """Score every laboratory of a round (ISO 13528).

    - x_pt: the study's ``assigned_value`` when given, else the consensus x*
      of Algorithm A on the results.
    - σ_pt: the study's ``sigma_pt`` when given, else Algorithm A's s* (the
      participants' robust standard deviation; rule PT-002 notes such studies).
    - u(x_pt): 1.25·s*/√p for a consensus value; for a given value,
      ``u_assigned_value`` when the caller gives it, else 0 (the value is
      taken as exact: z′ = z).
    - Scores: z and z′ always; ζ and Eₙ when the laboratory reported its
      standard uncertainty u(x), with U = ``k``·u for Eₙ (both for the
      laboratory and x_pt); the class is the z-score's, the action signal
      is |Eₙ| ≥ 1.

    Raises ValueError when there is no result, a result belongs to another
    study, a laboratory appears twice, or x_pt or σ_pt must come from
    Algorithm A and it is degenerate or does not converge.
    """
    rs = list(results)
    if not rs:
        raise StatisticsError(f"study {study.study_id}: no result to evaluate")
    seen: set[str] = set()
    for r in rs:
        if r.study_id != study.study_id:
            raise StatisticsError(
                f"result of laboratory {r.lab_id} belongs to study {r.study_id}, "
                f"not {study.study_id}"
            )
        if r.lab_id in seen:
            raise StatisticsError(f"study {study.study_id}: laboratory {r.lab_id} has two results")
        seen.add(r.lab_id)
    coverage = _positive(k, "coverage factor k")
    values = [r.value for r in rs]
    p = len(values)
    robust = algorithm_a(values, tol=tol, max_iter=max_iter) if p >= 2 else None

    x_pt: float
    x_source: AssignedSource
    u_pt: float
    u_source: USource
    if study.assigned_value is not None:
        x_pt, x_source = study.assigned_value, "given"
        if u_assigned_value is None:
            u_pt, u_source = 0.0, "assumed_zero"
        else:
            u_pt, u_source = _non_negative(u_assigned_value, "u_assigned_value"), "given"
    else:
        a = _robust_or_fail(study.study_id, robust, "the assigned value")
        x_pt, x_source = a.location, "algorithm_a"
        u_pt, u_source = u_assigned(a.scale, p), "algorithm_a"
    sigma: float
    s_source: AssignedSource
    if study.sigma_pt is not None:
        sigma, s_source = study.sigma_pt, "given"
    else:
        sigma, s_source = _robust_or_fail(study.study_id, robust, "σ_pt").scale, "algorithm_a"

    scores = []
    for r in rs:
        zeta = en = None
        if r.uncertainty is not None and (r.uncertainty > 0 or u_pt > 0):
            zeta = zeta_score(r.value, x_pt, r.uncertainty, u_pt)
            en = en_score(r.value, x_pt, coverage * r.uncertainty, coverage * u_pt)
        z = z_score(r.value, x_pt, sigma)
        scores.append(
            PTScore(
                study_id=study.study_id,
                lab_id=r.lab_id,
                value=r.value,
                uncertainty=r.uncertainty,
                assigned_value=x_pt,
                sigma_pt=sigma,
                z=z,
                z_prime=z_prime_score(r.value, x_pt, sigma, u_pt),
                zeta=zeta,
                en=en,
                classification=classify_z(z),
                action_signal=en is not None and action_signal(en),
            )
        )
    counts = dict.fromkeys(ScoreClass, 0)
    for s in scores:
        counts[s.classification] += 1
    summary = PTSummary(
        study_id=study.study_id,
        analyte=study.analyte,
        unit=study.unit,
        p=p,
        assigned_value=x_pt,
        assigned_value_source=x_source,
        sigma_pt=sigma,
        sigma_pt_source=s_source,
        u_assigned_value=u_pt,
        u_assigned_value_source=u_source,
        negligible=negligible(u_pt, sigma),
        coverage_factor=coverage,
        counts=counts,
        action_signals=sum(s.action_signal for s in scores),
        robust=robust,
    )
    return PTEvaluation(study, summary, tuple(scores))
