"""The evaluation of a proficiency-testing round (ISO 13528:2022, ``domain.md`` §6).

- :func:`evaluate` scores one quantitative study (one measurand of one test
  item): x_pt and u(x_pt) from the study's declared source (with the
  homogeneity and stability contributions), σ_pt from its source, and every
  laboratory's D, D%, PA, z, z′, ζ and Eₙ with its own U and k.
- :func:`evaluate_qualitative` judges a nominal, ordinal, classification or
  identification study (Clause 11) with :mod:`clen_core.proficiency.qualitative`.
- :func:`evaluate_round` does a whole round: every study of it, and each
  laboratory's scores combined across the round's studies.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, Protocol

import attrs

from clen_core.errors import StatisticsError
from clen_core.model import _html
from clen_core.model.proficiency import (
    AssignedValueSource,
    Censoring,
    PTResult,
    PTRound,
    PTScore,
    PTStudy,
    ResultKind,
    RobustEstimator,
    ScoreClass,
    ScoreName,
    SigmaPtSource,
)
from clen_core.proficiency import qualitative
from clen_core.proficiency.statistics import (
    Homogeneity,
    Stability,
    _positive,
    action_signal,
    algorithm_a,
    classify_z,
    combine_uncertainty,
    d_percent,
    d_score,
    en_score,
    horwitz,
    negligible,
    pa_score,
    q_hampel,
    rescaled_sum_z,
    sigma_pt_from_precision,
    sum_squared_z,
    u_assigned,
    z_prime_score,
    z_score,
    zeta_score,
)

__all__ = [
    "CombinedScore",
    "PTEvaluation",
    "PTSummary",
    "QualitativeEvaluation",
    "RoundEvaluation",
    "evaluate",
    "evaluate_qualitative",
    "evaluate_round",
]

Stop = Literal["iso", "converged"]

_CUS = re.compile(r"\d{7}-\d")
_CAS = re.compile(r"[1-9]\d{1,6}-\d{2}-\d")

# Mass fraction of one unit of a result, for the Horwitz σ_pt (it is defined on mass fractions).
_MASS_FRACTION = {
    "g/g": 1.0,
    "kg/kg": 1.0,
    "mass fraction": 1.0,
    "%": 1e-2,
    "% m/m": 1e-2,
    "% w/w": 1e-2,
    "g/100 g": 1e-2,
    "g/100g": 1e-2,
    "g/kg": 1e-3,
    "mg/g": 1e-3,
    "mg/kg": 1e-6,
    "µg/g": 1e-6,
    "ug/g": 1e-6,
    "ppm": 1e-6,
    "µg/kg": 1e-9,
    "ug/kg": 1e-9,
    "ng/g": 1e-9,
    "ppb": 1e-9,
}


class Robust(Protocol):
    """What :func:`~clen_core.proficiency.statistics.algorithm_a` and ``q_hampel`` return."""

    @property
    def location(self) -> float: ...
    @property
    def scale(self) -> float: ...
    @property
    def converged(self) -> bool: ...
    @property
    def degenerate(self) -> bool: ...


# --------------------------------------------------------------------------- results


@attrs.frozen
class PTSummary:
    """The statistics of one study: what its scores were computed from, and their counts."""

    study_id: str
    """The study."""
    analyte: str
    """The measurand."""
    unit: str
    """Unit of the values, x_pt, σ_pt and the uncertainties."""
    item_id: str | None
    """The test item, in a round of several."""
    laboratories: int
    """Laboratories with at least one result record (returned or not)."""
    p: int
    """Results the robust statistics were computed from (numeric, not censored)."""
    censored: int
    """Results reported below or above a limit (``< 0.05``): not in the statistics."""
    not_returned: int
    """Laboratories whose records hold no value."""
    assigned_value: float
    """Assigned value x_pt."""
    assigned_value_source: str
    """An :class:`~clen_core.model.proficiency.AssignedValueSource` value, or ``given``."""
    characterisation_uncertainty: float
    """u_char: the study's ``assigned_uncertainty``, or 1.25·s*/√p for a consensus (7.7.3)."""
    characterisation_uncertainty_source: Literal["given", "consensus", "assumed_zero"]
    """``given`` (the study's), ``consensus`` (1.25·s*/√p) or ``assumed_zero`` (none given)."""
    homogeneity_uncertainty: float
    """u_hom: the study's, or s_s of the homogeneity check (Annex B); 0 when neither."""
    stability_uncertainty: float
    """u_stab: the study's, or the stability check's (Annex B); 0 when neither."""
    assigned_uncertainty: float
    """u(x_pt) = √(u_char² + u_hom² + u_stab²)."""
    sigma_pt: float
    """σ_pt used for z and z′."""
    sigma_pt_source: str
    """A :class:`~clen_core.model.proficiency.SigmaPtSource`, or ``given`` (no source said)."""
    negligible: bool
    """Whether u(x_pt) < 0.3·σ_pt (9.2.1)."""
    classified_by: ScoreName
    """z when u(x_pt) is negligible, else z′ (9.2.1, 9.5)."""
    classified_by_reason: str
    """One sentence: why that score was read."""
    counts: dict[ScoreClass, int]
    """Laboratories per class (of the score read), every class present."""
    not_classified: int
    """Laboratories not classed: no result, or a censored one its limit does not decide."""
    action_signals: int
    """Laboratories with |Eₙ| ≥ 1."""
    estimator: RobustEstimator
    """The robust estimator run on the results."""
    stop: Stop
    """Algorithm A's stopping rule (``iso``: the third significant figure, C.3.1)."""
    robust: Any
    """The estimator's result (``AlgorithmA`` or ``QHampel``); None with fewer than 2 results."""
    homogeneity: Homogeneity | None
    """The homogeneity check, when given (Annex B)."""
    stability: Stability | None
    """The stability check, when given (Annex B)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        r = self.robust
        usable = r is not None and r.converged and not r.degenerate
        return {
            "study_id": self.study_id,
            "analyte": self.analyte,
            "unit": self.unit,
            "item_id": self.item_id,
            "laboratories": self.laboratories,
            "p": self.p,
            "censored": self.censored,
            "not_returned": self.not_returned,
            "assigned_value": self.assigned_value,
            "assigned_value_source": self.assigned_value_source,
            "characterisation_uncertainty": self.characterisation_uncertainty,
            "characterisation_uncertainty_source": self.characterisation_uncertainty_source,
            "homogeneity_uncertainty": self.homogeneity_uncertainty,
            "stability_uncertainty": self.stability_uncertainty,
            "assigned_uncertainty": self.assigned_uncertainty,
            "sigma_pt": self.sigma_pt,
            "sigma_pt_source": self.sigma_pt_source,
            "negligible": self.negligible,
            "classified_by": self.classified_by.value,
            "classified_by_reason": self.classified_by_reason,
            "counts": {c.value: n for c, n in self.counts.items()},
            "not_classified": self.not_classified,
            "action_signals": self.action_signals,
            "estimator": self.estimator.value,
            "stop": self.stop,
            "robust_mean": r.location if usable else None,
            "robust_sd": r.scale if usable else None,
            "robust": None if r is None else _plain(attrs.asdict(r)),
            "homogeneity": None
            if self.homogeneity is None
            else _plain(attrs.asdict(self.homogeneity)),
            "stability": None if self.stability is None else _plain(attrs.asdict(self.stability)),
        }


def _plain(d: dict[str, Any]) -> dict[str, Any]:
    # attrs.asdict keeps tuples and enums; JSON wants lists and plain values.
    return {k: list(v) if isinstance(v, tuple) else getattr(v, "value", v) for k, v in d.items()}


@attrs.frozen
class PTEvaluation:
    """A quantitative study evaluated: the study, its summary and one score per laboratory."""

    study: PTStudy
    """The study."""
    summary: PTSummary
    """The statistics the scores come from."""
    scores: tuple[PTScore, ...]
    """One per laboratory, in the order the laboratories first appear in the results."""
    results: tuple[PTResult, ...] = ()
    """The results evaluated (every replicate), for the report."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``study``, ``summary`` and ``scores`` (as entity records)."""
        from clen_core.schema import to_json

        return {
            "kind": ResultKind.QUANTITATIVE.value,
            "study": to_json(self.study),
            "summary": self.summary.to_dict(),
            "scores": [to_json(s) for s in self.scores],
        }

    def __repr__(self) -> str:
        m = self.summary
        counts = ", ".join(f"{c.value}={n}" for c, n in m.counts.items())
        return (
            f"PTEvaluation(study={m.study_id!r}, analyte={m.analyte!r}, "
            f"x_pt={m.assigned_value:.6g} {m.unit}, sigma_pt={m.sigma_pt:.6g}, "
            f"laboratories={m.laboratories}, {counts})"
        )

    def _repr_html_(self) -> str:
        m = self.summary
        facts = [
            ("assigned value x_pt", f"{_html.text(m.assigned_value)} {m.unit}",
             m.assigned_value_source),
            ("u(x_pt)", _html.text(m.assigned_uncertainty), m.characterisation_uncertainty_source),
            ("σ_pt", _html.text(m.sigma_pt), m.sigma_pt_source),
            ("classed by", m.classified_by, m.classified_by_reason),
            ("laboratories", m.laboratories,
             f"{m.p} in the statistics, {m.censored} censored, {m.not_returned} not returned"),
            *((f"{c.value}", n, "") for c, n in m.counts.items()),
            ("not classified", m.not_classified, ""),
            ("action signals (|Eₙ| ≥ 1)", m.action_signals, ""),
        ]  # fmt: skip
        scores = (
            (s.lab_id, s.value, s.censoring, s.z, s.z_prime, s.zeta, s.en, s.classification,
             s.note)
            for s in self.scores
        )  # fmt: skip
        head = ("laboratory", "x", "censored", "z", "z′", "ζ", "Eₙ", "class", "note")
        return (
            f"<div><p><strong>Study {_html.cell(m.study_id)}</strong>: "
            f"{_html.cell(m.analyte)} ({_html.cell(m.unit)})</p>"
            f"{_html.table(('', 'value', 'how'), facts)}"
            f"{_html.table(head, scores, total=len(self.scores), what='laboratories')}</div>"
        )


@attrs.frozen
class QualitativeEvaluation:
    """A nominal, ordinal, classification or identification study judged (Clause 11)."""

    study: PTStudy
    """The study."""
    outcome: Any
    """The round's judgement, from :mod:`clen_core.proficiency.qualitative`."""
    not_returned: tuple[str, ...] = ()
    """Laboratories whose records hold no category."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``study``, ``outcome`` and the laboratories that returned nothing."""
        from clen_core.schema import to_json

        return {
            "kind": self.study.kind.value,
            "study": to_json(self.study),
            "outcome": self.outcome.to_dict(),
            "not_returned": list(self.not_returned),
        }

    def __repr__(self) -> str:
        return (
            f"QualitativeEvaluation(study={self.study.study_id!r}, "
            f"kind={self.study.kind.value!r}, not_returned={len(self.not_returned)})"
        )

    def _repr_html_(self) -> str:
        # The outcome's own figures (its kind of study decides which): the plain ones.
        facts = [
            (k, v) for k, v in self.outcome.to_dict().items()
            if v is None or isinstance(v, str | int | float | bool)
        ]  # fmt: skip
        facts.append(("not returned", ", ".join(self.not_returned)))
        return (
            f"<div><p><strong>Study {_html.cell(self.study.study_id)}</strong>: "
            f"{_html.cell(self.study.analyte)} ({_html.cell(self.study.kind)})</p>"
            f"{_html.table(('', 'value'), facts)}</div>"
        )


@attrs.frozen
class CombinedScore:
    """One laboratory's scores combined across the quantitative studies of a round (9.8).

    Combined scores can hide one bad result among good ones, or flag a
    laboratory for small consistent biases: ISO 13528:2022 advises reading them
    alongside the individual scores, never instead of them.
    """

    lab_id: str
    """The laboratory."""
    n: int
    """Scores combined (studies where the laboratory was classed)."""
    rescaled_sum_z: float
    """RSZ = Σz/√n, each z being the score its study was classed by (z or z′)."""
    sum_squared_z: float
    """SSZ = Σz²."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return attrs.asdict(self)


@attrs.frozen
class RoundEvaluation:
    """A round evaluated: each study's evaluation and each laboratory's combined scores."""

    pt_round: PTRound | None
    """The round (None for studies that belong to none)."""
    studies: tuple[PTEvaluation | QualitativeEvaluation, ...]
    """One per study, in the order given."""
    combined: tuple[CombinedScore, ...]
    """One per laboratory classed in at least two quantitative studies."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        from clen_core.schema import to_json

        return {
            "round": None if self.pt_round is None else to_json(self.pt_round),
            "studies": [s.to_dict() for s in self.studies],
            "combined": [c.to_dict() for c in self.combined],
        }

    def __repr__(self) -> str:
        name = None if self.pt_round is None else self.pt_round.round_id
        return (
            f"RoundEvaluation(round={name!r}, studies={len(self.studies)}, "
            f"combined={len(self.combined)})"
        )

    def _repr_html_(self) -> str:
        title = (
            "Studies evaluated"
            if self.pt_round is None
            else f"Round {_html.cell(self.pt_round.round_id)}: {_html.cell(self.pt_round.title)}"
        )
        rows = (_study_row(e) for e in self.studies)
        head = ("study", "analyte", "kind", "laboratories", "x_pt", "σ_pt", *_CLASSES)
        combined = ""
        if self.combined:
            rows_c = ((c.lab_id, c.n, c.rescaled_sum_z, c.sum_squared_z) for c in self.combined)
            combined = (
                "<p>Combined scores (read alongside the individual ones, 9.8):</p>"
                + _html.table(("laboratory", "n", "RSZ", "SSZ"), rows_c,
                              total=len(self.combined), what="laboratories")
            )  # fmt: skip
        details = "".join(
            f"<details><summary>{_html.cell(e.study.study_id)}</summary>{e._repr_html_()}</details>"
            for e in self.studies[: _html.ROWS]
        )
        return (
            f"<div><p><strong>{title}</strong></p>"
            f"{_html.table(head, rows, total=len(self.studies), what='studies')}"
            f"{combined}{details}</div>"
        )


_CLASSES = tuple(c.value for c in ScoreClass)


def _study_row(e: PTEvaluation | QualitativeEvaluation) -> tuple[Any, ...]:
    if isinstance(e, QualitativeEvaluation):
        return (e.study.study_id, e.study.analyte, e.study.kind, None, None, None,
                *(None for _ in _CLASSES))  # fmt: skip
    m = e.summary
    return (m.study_id, m.analyte, e.study.kind, m.laboratories, m.assigned_value, m.sigma_pt,
            *(m.counts.get(c, 0) for c in ScoreClass))  # fmt: skip


# --------------------------------------------------------------------------- one study


@attrs.frozen
class _Lab:
    """One laboratory's replicates reduced to the result that is scored."""

    lab_id: str
    value: float | None
    replicates: int
    censoring: Censoring | None
    expanded_uncertainty: float | None
    coverage_factor: float
    notes: tuple[str, ...]


def _check_results(study: PTStudy, results: Iterable[PTResult]) -> list[PTResult]:
    rs = list(results)
    seen: set[tuple[str, int]] = set()
    for r in rs:
        if not isinstance(r, PTResult):
            raise StatisticsError(
                f"study {study.study_id}: expected PTResult, got {type(r).__name__}"
            )
        if r.study_id != study.study_id:
            raise StatisticsError(
                f"result of laboratory {r.lab_id} belongs to study {r.study_id}, "
                f"not {study.study_id}"
            )
        if (r.lab_id, r.replicate) in seen:
            raise StatisticsError(
                f"study {study.study_id}: laboratory {r.lab_id} has two results "
                f"for replicate {r.replicate}"
            )
        seen.add((r.lab_id, r.replicate))
    if not rs:
        raise StatisticsError(f"study {study.study_id}: no result to evaluate")
    return rs


def _by_lab(rs: list[PTResult]) -> dict[str, list[PTResult]]:
    out: dict[str, list[PTResult]] = {}
    for r in rs:
        out.setdefault(r.lab_id, []).append(r)
    return out


def _reduce(study: PTStudy, lab_id: str, reps: list[PTResult]) -> _Lab:
    notes: list[str] = []
    given = [r for r in reps if r.value is not None]
    k = 2.0
    big_u: float | None = None
    with_u = [r for r in given if r.expanded_uncertainty is not None]
    if with_u:
        # One U per laboratory: the largest reported, so that differing replicates never
        # make the laboratory look more certain than it said it was.
        top = max(with_u, key=lambda r: (r.expanded_uncertainty or 0.0) / r.coverage_factor)
        big_u, k = top.expanded_uncertainty, top.coverage_factor
        if len({(r.expanded_uncertainty, r.coverage_factor) for r in with_u}) > 1:
            notes.append("replicates state different U or k: the largest u = U/k is used")
    if not given:
        return _Lab(lab_id, None, 0, None, None, 2.0, ("no result returned",))
    censored = [r for r in given if r.censoring is not None]
    if censored:
        first = censored[0]
        if len(censored) < len(given):
            notes.append(
                f"{len(censored)} of {len(given)} replicates reported as {first.censoring} "
                "a limit: the result is taken as censored"
            )
        return _Lab(lab_id, first.value, len(given), first.censoring, big_u, k, tuple(notes))
    if len(given) != study.replicates:
        notes.append(f"{len(given)} replicate(s) reported, {study.replicates} asked")
    value = math.fsum(r.value for r in given if r.value is not None) / len(given)
    return _Lab(lab_id, value, len(given), None, big_u, k, tuple(notes))


def _robust(study: PTStudy, values: list[float], stop: Stop) -> Any:
    if len(values) < 2:
        return None
    if study.estimator is RobustEstimator.Q_HAMPEL:
        return q_hampel(values)
    return algorithm_a(values, stop=stop)


def _usable(study: PTStudy, robust: Robust | None, need: str) -> Robust:
    name = study.estimator.value.replace("_", " ")
    if robust is None:
        raise StatisticsError(
            f"study {study.study_id}: {need} needs the participants' results, "
            "but fewer than 2 numeric results were reported"
        )
    if robust.degenerate:
        raise StatisticsError(
            f"study {study.study_id}: {need} cannot come from the results: they are degenerate "
            f"(most values identical, the {name} scale collapses to 0); "
            "give the study an assigned value and σ_pt"
        )
    if not robust.converged:
        raise StatisticsError(f"study {study.study_id}: the {name} estimator did not converge")
    return robust


def _assigned(
    study: PTStudy, robust: Robust | None, p: int
) -> tuple[float, str, float, Literal["given", "consensus", "assumed_zero"]]:
    source = study.assigned_value_source
    if study.assigned_value is not None:
        u = study.assigned_uncertainty
        return (
            study.assigned_value,
            "given" if source is None else source.value,
            0.0 if u is None else u,
            "assumed_zero" if u is None else "given",
        )
    if source not in (None, AssignedValueSource.PARTICIPANTS_CONSENSUS):
        raise StatisticsError(
            f"study {study.study_id}: x_pt comes from {source.value.replace('_', ' ')} "
            "(assigned_value_source) but the study gives no assigned_value"
        )
    a = _usable(study, robust, "the assigned value")
    return (
        a.location,
        AssignedValueSource.PARTICIPANTS_CONSENSUS.value,
        u_assigned(a.scale, p),
        "consensus",
    )


def _sigma(study: PTStudy, x_pt: float, robust: Robust | None) -> tuple[float, str]:
    source = study.sigma_pt_source
    sid = study.study_id
    if study.sigma_pt is not None:
        return study.sigma_pt, "given" if source is None else source.value
    if study.sigma_pt_relative is not None:
        if x_pt == 0:
            raise StatisticsError(f"study {sid}: σ_pt as a fraction of x_pt, but x_pt is 0")
        return study.sigma_pt_relative * abs(x_pt), SigmaPtSource.FITNESS_FOR_PURPOSE.value
    if source is SigmaPtSource.HORWITZ:
        factor = _MASS_FRACTION.get(study.unit.strip())
        if factor is None:
            raise StatisticsError(
                f"study {sid}: the Horwitz σ_pt needs a mass fraction, and unit "
                f"{study.unit!r} is not one (use one of: {', '.join(_MASS_FRACTION)})"
            )
        return horwitz(x_pt * factor) / factor, source.value
    if source is SigmaPtSource.PRECISION_EXPERIMENT:
        if study.reproducibility_sd is None:
            raise StatisticsError(
                f"study {sid}: σ_pt from a precision experiment needs reproducibility_sd (σ_R)"
            )
        sigma = sigma_pt_from_precision(
            study.reproducibility_sd, study.repeatability_sd or 0.0, study.replicates
        )
        return sigma, source.value
    if source is SigmaPtSource.FITNESS_FOR_PURPOSE:
        raise StatisticsError(
            f"study {sid}: σ_pt is for fitness for purpose but the study gives neither "
            "sigma_pt nor sigma_pt_relative"
        )
    return _usable(study, robust, "σ_pt").scale, SigmaPtSource.PARTICIPANTS_DATA.value


def _censored_class(read: float, censoring: Censoring) -> tuple[ScoreClass | None, str]:
    # "< L": the true result is at most L, so its score is at most the score of L;
    # only a limit already 3 σ below x_pt (or above, for "> L") decides the class.
    bound = read if censoring is Censoring.BELOW else -read
    side = "below" if censoring is Censoring.BELOW else "above"
    if bound <= -3:
        return ScoreClass.UNSATISFACTORY, (
            f"reported {censoring.value} a limit whose own score is {read:.2f}: "
            f"the result is {side} x_pt by 3 σ or more"
        )
    return None, (
        f"reported {censoring.value} a limit (score of the limit {read:.2f}): "
        "not scored, the limit does not decide the class"
    )


def evaluate(
    study: PTStudy,
    results: Iterable[PTResult],
    *,
    stop: Stop = "iso",
    homogeneity: Homogeneity | None = None,
    stability: Stability | None = None,
    assigned_coverage_factor: float = 2.0,
) -> PTEvaluation:
    """Score every laboratory of one quantitative study (ISO 13528:2022, Clauses 7–9).

    - **Each laboratory's result** is the mean of its replicates; a result
      reported as ``< L`` or ``> L`` is censored: it is left out of the robust
      statistics and classed only when its limit decides (``< L`` with the
      limit's score ≤ −3 is unsatisfactory whatever the true value); a record
      with no value counts as not returned. Nothing is dropped: every
      laboratory gets a :class:`~clen_core.model.proficiency.PTScore`.
    - **x_pt**: the study's ``assigned_value`` (its ``assigned_value_source``
      recorded), else the participants' consensus by the study's
      ``estimator`` (Algorithm A with the ``stop`` rule, or Q/Hampel).
    - **u(x_pt)** = √(u_char² + u_hom² + u_stab²): u_char is the study's
      ``assigned_uncertainty`` (0 when not given, said so in the summary) or
      1.25·s*/√p for a consensus (7.7.3); u_hom and u_stab are the study's
      fields, else the ``homogeneity`` and ``stability`` checks' (Annex B).
    - **σ_pt**: the study's ``sigma_pt``; else ``sigma_pt_relative``·|x_pt|;
      else by ``sigma_pt_source``: Horwitz (units of mass fraction), a
      precision experiment (σ_R, σ_r and the study's ``replicates``, 8.5);
      else the participants' robust standard deviation s*.
    - **Scores**: D and D% (9.3), PA when the study has δE, z (9.4), z′ (9.5),
      ζ with the laboratory's u(x) = U/k (9.6), Eₙ with its U as reported and
      U(x_pt) = ``assigned_coverage_factor``·u(x_pt) (9.7).
    - **Class**: from z when u(x_pt) < 0.3·σ_pt, else from z′ (9.2.1); the
      summary says which and why. The action signal is |Eₙ| ≥ 1.

    Raises :class:`~clen_core.errors.StatisticsError` when there is no
    result, a result belongs to another study, a laboratory has two results
    for one replicate, the study is qualitative, or a value must come from
    the results and they are too few, degenerate or do not converge.
    """
    if study.kind is not ResultKind.QUANTITATIVE:
        raise StatisticsError(
            f"study {study.study_id} is {study.kind.value}: use evaluate_qualitative"
        )
    rs = _check_results(study, results)
    k_pt = _positive(assigned_coverage_factor, "assigned_coverage_factor")
    labs = [_reduce(study, lab, reps) for lab, reps in _by_lab(rs).items()]
    values = [b.value for b in labs if b.value is not None and b.censoring is None]
    p = len(values)
    robust = _robust(study, values, stop)
    x_pt, x_source, u_char, u_char_source = _assigned(study, robust, p)
    u_hom = study.homogeneity_uncertainty
    if u_hom is None:
        u_hom = 0.0 if homogeneity is None else homogeneity.uncertainty
    u_stab = study.stability_uncertainty
    if u_stab is None:
        u_stab = 0.0 if stability is None else stability.uncertainty
    u_pt = combine_uncertainty(u_char, u_hom=u_hom, u_stab=u_stab)
    sigma, sigma_source = _sigma(study, x_pt, robust)
    small = negligible(u_pt, sigma)
    read = ScoreName.Z if small else ScoreName.Z_PRIME
    reason = (
        f"u(x_pt) = {u_pt:.4g} is {'below' if small else 'not below'} 0.3·σ_pt = "
        f"{0.3 * sigma:.4g}: {'z' if small else 'z′'} is read (ISO 13528:2022, 9.2.1)"
    )

    scores = [
        _score(study, b, x_pt=x_pt, u_pt=u_pt, sigma=sigma, read=read, big_u_pt=k_pt * u_pt)
        for b in labs
    ]
    counts = dict.fromkeys(ScoreClass, 0)
    for s in scores:
        if s.classification is not None:
            counts[s.classification] += 1
    summary = PTSummary(
        study_id=study.study_id,
        analyte=study.analyte,
        unit=study.unit,
        item_id=study.item_id,
        laboratories=len(labs),
        p=p,
        censored=sum(b.censoring is not None for b in labs),
        not_returned=sum(b.value is None for b in labs),
        assigned_value=x_pt,
        assigned_value_source=x_source,
        characterisation_uncertainty=u_char,
        characterisation_uncertainty_source=u_char_source,
        homogeneity_uncertainty=u_hom,
        stability_uncertainty=u_stab,
        assigned_uncertainty=u_pt,
        sigma_pt=sigma,
        sigma_pt_source=sigma_source,
        negligible=small,
        classified_by=read,
        classified_by_reason=reason,
        counts=counts,
        not_classified=sum(s.classification is None for s in scores),
        action_signals=sum(s.action_signal for s in scores),
        estimator=study.estimator,
        stop=stop,
        robust=robust,
        homogeneity=homogeneity,
        stability=stability,
    )
    return PTEvaluation(study, summary, tuple(scores), tuple(rs))


def _score(
    study: PTStudy,
    b: _Lab,
    *,
    x_pt: float,
    u_pt: float,
    sigma: float,
    read: ScoreName,
    big_u_pt: float,
) -> PTScore:
    common: dict[str, Any] = {
        "study_id": study.study_id,
        "lab_id": b.lab_id,
        "value": b.value,
        "replicates": b.replicates,
        "censoring": b.censoring,
        "expanded_uncertainty": b.expanded_uncertainty,
        "coverage_factor": b.coverage_factor,
        "assigned_value": x_pt,
        "assigned_uncertainty": u_pt,
        "sigma_pt": sigma,
        "classified_by": read,
    }
    notes = list(b.notes)
    if b.value is None:
        return PTScore(**common, note="; ".join(notes))
    x = b.value
    if b.censoring is not None:
        limit_score = (
            z_score(x, x_pt, sigma) if read is ScoreName.Z else z_prime_score(x, x_pt, sigma, u_pt)
        )
        cls, why = _censored_class(limit_score, b.censoring)
        return PTScore(**common, classification=cls, note="; ".join([why, *notes]))
    z = z_score(x, x_pt, sigma)
    z_prime = z_prime_score(x, x_pt, sigma, u_pt)
    zeta = en = None
    if b.expanded_uncertainty is not None:
        u_x = b.expanded_uncertainty / b.coverage_factor
        if u_x > 0 or u_pt > 0:
            zeta = zeta_score(x, x_pt, u_x, u_pt)
            en = en_score(x, x_pt, b.expanded_uncertainty, big_u_pt)
        else:
            notes.append("U(x) and u(x_pt) are both 0: ζ and Eₙ are undefined")
    return PTScore(
        **common,
        d=d_score(x, x_pt),
        d_percent=None if x_pt == 0 else d_percent(x, x_pt),
        pa=None if study.delta_e is None else pa_score(x, x_pt, study.delta_e),
        z=z,
        z_prime=z_prime,
        zeta=zeta,
        en=en,
        classification=classify_z(z if read is ScoreName.Z else z_prime),
        action_signal=en is not None and action_signal(en),
        note="; ".join(notes) or None,
    )


# --------------------------------------------------------------------------- qualitative


def evaluate_qualitative(study: PTStudy, results: Iterable[PTResult]) -> QualitativeEvaluation:
    """Judge a nominal, ordinal, classification or identification study (Clause 11).

    Each laboratory's ``category`` (its first replicate's) is judged against
    the study's ``assigned_category``: by agreement (nominal; the mode when no
    category is assigned), by rank on the study's ``ordinal_scale`` (ordinal),
    by the level at which CN codes agree (classification), or as present or
    absent / which substance (identification). Laboratories with no category
    are listed as not returned.
    """
    if study.kind is ResultKind.QUANTITATIVE:
        raise StatisticsError(f"study {study.study_id} is quantitative: use evaluate")
    rs = _check_results(study, results)
    reported: dict[str, str] = {}
    silent: list[str] = []
    for lab, reps in _by_lab(rs).items():
        given = sorted((r for r in reps if r.category is not None), key=lambda r: r.replicate)
        if given and given[0].category is not None:
            reported[lab] = given[0].category
        else:
            silent.append(lab)
    assigned = study.assigned_category
    outcome: Any
    if study.kind is ResultKind.CLASSIFICATION:
        if assigned is None:
            raise StatisticsError(
                f"study {study.study_id}: a classification round needs the assigned CN code "
                "(assigned_category)"
            )
        outcome = qualitative.score_classification(assigned, reported)
    elif study.kind is ResultKind.NOMINAL:
        outcome = qualitative.score_nominal(reported, assigned=assigned)
    elif study.kind is ResultKind.ORDINAL:
        if not study.ordinal_scale:
            raise StatisticsError(
                f"study {study.study_id}: an ordinal study needs its ordinal_scale"
            )
        outcome = qualitative.score_ordinal(reported, study.ordinal_scale, assigned=assigned)
    else:
        outcome = _identification(study, reported)
    return QualitativeEvaluation(study, outcome, tuple(silent))


def _identification(study: PTStudy, reported: Mapping[str, str]) -> Any:
    assigned = (study.assigned_category or "").strip()
    if assigned.lower() in {"present", "absent"}:
        return qualitative.score_identification(reported, present=assigned.lower() == "present")
    if not assigned:
        raise StatisticsError(
            f"study {study.study_id}: an identification round needs assigned_category "
            "(present, absent, or the substance's CAS or CUS number)"
        )
    # The assigned substance's own form says how the answers are compared.
    system: Literal["cas", "cus", "name"] = (
        "cus" if _CUS.fullmatch(assigned) else "cas" if _CAS.fullmatch(assigned) else "name"
    )
    return qualitative.score_identification(reported, substance=assigned, system=system)


# --------------------------------------------------------------------------- a round


def evaluate_round(
    studies: Sequence[PTStudy],
    results: Iterable[PTResult],
    *,
    pt_round: PTRound | None = None,
    stop: Stop = "iso",
    homogeneity: Mapping[str, Homogeneity] | None = None,
    stability: Mapping[str, Stability] | None = None,
) -> RoundEvaluation:
    """Evaluate every study of a round and combine each laboratory's scores across them.

    ``homogeneity`` and ``stability`` map a study ID to its check. Results
    of a study not in ``studies`` raise :class:`~clen_core.errors.StatisticsError`.
    The combined scores (RSZ and SSZ, 9.8) use, per study, the score it was
    classed by; a laboratory classed in fewer than two studies gets none.
    """
    if not studies:
        raise StatisticsError("a round needs at least one study")
    by_study: dict[str, list[PTResult]] = {s.study_id: [] for s in studies}
    if len(by_study) != len(studies):
        raise StatisticsError("a study appears twice in the round")
    for r in results:
        if r.study_id not in by_study:
            raise StatisticsError(
                f"result of laboratory {r.lab_id} belongs to study {r.study_id}, "
                "which is not in the round"
            )
        by_study[r.study_id].append(r)
    homogeneity = homogeneity or {}
    stability = stability or {}
    out: list[PTEvaluation | QualitativeEvaluation] = []
    for s in studies:
        if s.kind is ResultKind.QUANTITATIVE:
            out.append(
                evaluate(
                    s,
                    by_study[s.study_id],
                    stop=stop,
                    homogeneity=homogeneity.get(s.study_id),
                    stability=stability.get(s.study_id),
                )
            )
        else:
            out.append(evaluate_qualitative(s, by_study[s.study_id]))
    return RoundEvaluation(pt_round, tuple(out), _combine(out))


def _combine(
    evaluations: Sequence[PTEvaluation | QualitativeEvaluation],
) -> tuple[CombinedScore, ...]:
    per_lab: dict[str, list[float]] = {}
    for e in evaluations:
        if not isinstance(e, PTEvaluation):
            continue
        for s in e.scores:
            read = s.z if s.classified_by is ScoreName.Z else s.z_prime
            if read is not None:
                per_lab.setdefault(s.lab_id, []).append(read)
    return tuple(
        CombinedScore(lab, len(zs), rescaled_sum_z(zs), sum_squared_z(zs))
        for lab, zs in per_lab.items()
        if len(zs) >= 2
    )
