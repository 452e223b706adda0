"""Proficiency testing: rounds, the measurands they score, the laboratories' results and scores.

A **round** (:class:`PTRound`) sends test items to laboratories. A **study**
(:class:`PTStudy`) is one measurand of one test item: the assigned value x_pt,
its standard uncertainty u(x_pt), σ_pt, and where each came from. A round of
two items and three measurands has six studies sharing its ``round_id``; a
one-measurand inter-comparison is a single study with no round. Each
laboratory reports one :class:`PTResult` per study and replicate;
``clen_core.proficiency.evaluate`` turns them into one :class:`PTScore` per
laboratory and study.

Every uncertainty field's name says what it holds: ``assigned_uncertainty``
is a standard uncertainty u(x_pt); ``expanded_uncertainty`` is an expanded
uncertainty U, stated with its ``coverage_factor`` k (so u = U/k; a
laboratory that states a standard uncertainty reports it with k = 1).
"""

import datetime as dt
import enum

from clen_core.model.entity import entity
from clen_core.model.fields import field

__all__ = [
    "AssignedValueSource",
    "Censoring",
    "PTPurpose",
    "PTResult",
    "PTRound",
    "PTScore",
    "PTStudy",
    "ResultKind",
    "RobustEstimator",
    "ScoreClass",
    "ScoreName",
    "SigmaPtSource",
]


class PTPurpose(enum.StrEnum):
    """The three purposes of an inter-comparison (Action 2)."""

    METHOD_VALIDATION = "method_validation"
    METHOD_COMPARISON = "method_comparison"
    PROFICIENCY = "proficiency"


class ResultKind(enum.StrEnum):
    """What a study's results are (ISO 13528:2022, Clauses 9 and 11)."""

    QUANTITATIVE = "quantitative"
    """A number in the study's unit, scored by z, z′, ζ, Eₙ, D, D% and PA."""
    NOMINAL = "nominal"
    """A category, judged by agreement with the assigned category (Clause 11)."""
    ORDINAL = "ordinal"
    """A category on an ordered scale, judged by its rank against the assigned one."""
    CLASSIFICATION = "classification"
    """A CN or TARIC code, judged by the level of agreement (chapter … CN subheading)."""
    IDENTIFICATION = "identification"
    """``present``/``absent``, or which substance (CAS or CUS number)."""


class AssignedValueSource(enum.StrEnum):
    """Where the assigned value x_pt comes from (ISO 13528:2022, Clause 7)."""

    FORMULATION = "formulation"
    CERTIFIED_REFERENCE_MATERIAL = "certified_reference_material"
    REFERENCE_LABORATORY = "reference_laboratory"
    EXPERT_CONSENSUS = "expert_consensus"
    PARTICIPANTS_CONSENSUS = "participants_consensus"


class SigmaPtSource(enum.StrEnum):
    """Where σ_pt comes from (ISO 13528:2022, Clause 8)."""

    FITNESS_FOR_PURPOSE = "fitness_for_purpose"
    HORWITZ = "horwitz"
    PRECISION_EXPERIMENT = "precision_experiment"
    PARTICIPANTS_DATA = "participants_data"


class RobustEstimator(enum.StrEnum):
    """The robust estimator of a participants' consensus (ISO 13528:2022, Annex C)."""

    ALGORITHM_A = "algorithm_a"
    Q_HAMPEL = "q_hampel"


class Censoring(enum.StrEnum):
    """A result reported as below or above a limit (``< 0.05``): the value is the limit."""

    BELOW = "<"
    ABOVE = ">"


class ScoreClass(enum.StrEnum):
    """Class of a z, z′ or ζ score (ISO 13528:2022, 9.4): |s| ≤ 2, 2 < |s| < 3, |s| ≥ 3."""

    SATISFACTORY = "satisfactory"
    QUESTIONABLE = "questionable"
    UNSATISFACTORY = "unsatisfactory"


class ScoreName(enum.StrEnum):
    """The score a laboratory's class was read from."""

    Z = "z"
    """u(x_pt) is negligible against σ_pt (u(x_pt) < 0.3·σ_pt, ISO 13528:2022, 9.2.1)."""
    Z_PRIME = "z_prime"
    """u(x_pt) is not negligible: z′ takes it into account (9.5)."""


@entity("pt_round", key="round_id")
class PTRound:
    """A proficiency-testing round: who ran it, when, and the issue of its report."""

    round_id: str = field("Identifier of the round, e.g. ``CLEN-PT-2026-1``.", max_length=64)
    title: str = field("Title of the round.", max_length=500)
    provider: str | None = field("Who provides the scheme.", max_length=200, default=None)
    coordinator_lab: str | None = field(
        "Laboratory that organised it.", ref="laboratory", default=None
    )
    closing_date: dt.date | None = field("Date results were due.", default=None)
    report_date: dt.date | None = field("Date the report was issued.", default=None)
    report_issue: str | None = field(
        "Issue (version) of the report, e.g. ``1`` or ``2 (corrected)``.",
        max_length=64,
        default=None,
    )


@entity("pt_study", key="study_id")
class PTStudy:
    """One measurand of one test item: its assigned value, u(x_pt) and σ_pt, and their sources.

    Left empty, x_pt and σ_pt come from the participants' results
    (``participants_consensus``, ``participants_data``); a given value is
    used as given, with its source recorded.
    """

    study_id: str = field("Identifier of the study.", max_length=64)
    title: str = field("Title of the study.", max_length=500)
    purpose: PTPurpose = field("Method validation, method comparison or proficiency.")
    analyte: str = field("The measurand: what is measured.", max_length=200)
    unit: str = field("Unit of the results, x_pt, σ_pt and the uncertainties.", max_length=32)
    matrix: str | None = field("Material of the test items.", max_length=200, default=None)
    closing_date: dt.date | None = field("Date results were due.", default=None)
    coordinator_lab: str | None = field(
        "Laboratory that organised it.", ref="laboratory", default=None
    )
    round_id: str | None = field("Round the study belongs to.", ref="pt_round", default=None)
    item_id: str | None = field(
        "Test item (sample) of the round, e.g. ``A``.", max_length=64, default=None
    )
    kind: ResultKind = field(
        "Quantitative, nominal, ordinal, classification or identification.",
        default=ResultKind.QUANTITATIVE,
    )
    replicates: int = field(
        "Replicate results asked of each laboratory (their mean is scored).", ge=1, default=1
    )
    assigned_value: float | None = field(
        "Assigned value x_pt, when set beforehand; empty: the participants' consensus.",
        default=None,
    )
    assigned_uncertainty: float | None = field(
        "Standard uncertainty u(x_pt) of a given assigned value, from its characterisation.",
        ge=0,
        default=None,
    )
    assigned_value_source: AssignedValueSource | None = field(
        "Where x_pt comes from.", default=None
    )
    estimator: RobustEstimator = field(
        "Robust estimator of a consensus value and of the participants' σ_pt.",
        default=RobustEstimator.ALGORITHM_A,
    )
    assigned_category: str | None = field(
        "Assigned result of a qualitative study: category, CN code, substance or "
        "``present``/``absent``.",
        max_length=200,
        default=None,
    )
    ordinal_scale: tuple[str, ...] = field(
        "Categories of an ordinal study, lowest first.", default=(), unique_items=True
    )
    sigma_pt: float | None = field(
        "Standard deviation for proficiency assessment σ_pt, when set beforehand.",
        gt=0,
        default=None,
    )
    sigma_pt_relative: float | None = field(
        "σ_pt as a fraction of x_pt (fitness for purpose), e.g. ``0.05`` for 5 %.",
        gt=0,
        default=None,
    )
    sigma_pt_source: SigmaPtSource | None = field("Where σ_pt comes from.", default=None)
    reproducibility_sd: float | None = field(
        "Reproducibility standard deviation σ_R of a precision experiment.", gt=0, default=None
    )
    repeatability_sd: float | None = field(
        "Repeatability standard deviation σ_r of a precision experiment.", ge=0, default=None
    )
    delta_e: float | None = field(
        "Maximum permissible error δE, for the PA score.", gt=0, default=None
    )
    homogeneity_uncertainty: float | None = field(
        "Standard uncertainty from inhomogeneity u_hom (s_s of the check, Annex B).",
        ge=0,
        default=None,
    )
    stability_uncertainty: float | None = field(
        "Standard uncertainty from instability u_stab (Annex B).", ge=0, default=None
    )


@entity("pt_result", key=("study_id", "lab_id", "replicate"))
class PTResult:
    """One laboratory's reported result in a study (one replicate).

    A quantitative result is ``value`` (with ``censoring`` for ``< 0.05``);
    a qualitative one is ``category``. Neither: the laboratory returned no
    result, which the evaluation counts.
    """

    study_id: str = field("Study the result belongs to.", max_length=64, ref="pt_study")
    lab_id: str = field("Laboratory that reported it.", max_length=64, ref="laboratory")
    replicate: int = field("Replicate number, from 1.", ge=1, default=1)
    value: float | None = field("Reported value, in the study's unit.", default=None)
    censoring: Censoring | None = field(
        "``<`` or ``>`` when reported as below or above a limit; the value is that limit.",
        default=None,
    )
    category: str | None = field(
        "Qualitative result: category, CN code, substance or ``present``/``absent``.",
        max_length=200,
        default=None,
    )
    expanded_uncertainty: float | None = field(
        "Expanded uncertainty U of the value, in the study's unit.", ge=0, default=None
    )
    coverage_factor: float = field(
        "Coverage factor k of U (u = U/k; 1 when a standard uncertainty is reported).",
        gt=0,
        default=2.0,
    )
    method_id: str | None = field("Method used.", ref="method", default=None)


@entity("pt_score", key=("study_id", "lab_id"))
class PTScore:
    """One laboratory's scores in a study, the class read from z or z′, and the Eₙ signal.

    ``clen_core.proficiency.evaluate`` computes them. Scores that cannot be
    computed are empty: ζ and Eₙ without the laboratory's U, D% when x_pt is
    0, PA without δE, all of them for a censored result (``< L``), which is
    classed only when its limit decides (``note`` says why).
    """

    study_id: str = field("Study the score belongs to.", max_length=64, ref="pt_study")
    lab_id: str = field("Laboratory scored.", max_length=64, ref="laboratory")
    value: float | None = field(
        "Result x scored: the mean of the replicates, or the limit.", default=None
    )
    replicates: int = field("Replicates averaged into x.", ge=0, default=1)
    censoring: Censoring | None = field("``<`` or ``>`` for a censored result.", default=None)
    expanded_uncertainty: float | None = field(
        "Expanded uncertainty U(x) the laboratory reported.", ge=0, default=None
    )
    coverage_factor: float = field("Coverage factor k of that U.", gt=0, default=2.0)
    assigned_value: float = field("Assigned value x_pt the scores compare with.")
    assigned_uncertainty: float = field(
        "Standard uncertainty u(x_pt) used (with homogeneity and stability).", ge=0, default=0.0
    )
    sigma_pt: float = field("Standard deviation for proficiency assessment σ_pt used.", gt=0)
    d: float | None = field("Difference D = x − x_pt.", default=None)
    d_percent: float | None = field("D% = 100·(x − x_pt)/x_pt.", default=None)
    pa: float | None = field("PA = 100·(x − x_pt)/δE, with δE the study's.", default=None)
    z: float | None = field("z-score: (x − x_pt) / σ_pt.", default=None)
    z_prime: float | None = field("z′-score: (x − x_pt) / √(σ_pt² + u²(x_pt)).", default=None)
    zeta: float | None = field(
        "ζ-score: (x − x_pt) / √(u²(x) + u²(x_pt)), with u(x) = U/k.", default=None
    )
    en: float | None = field(
        "Eₙ-score: (x − x_pt) / √(U²(x) + U²(x_pt)), U(x_pt) = 2·u(x_pt).", default=None
    )
    classification: ScoreClass | None = field(
        "Satisfactory, questionable or unsatisfactory; empty when not classed.", default=None
    )
    classified_by: ScoreName = field("Score the class was read from.", default=ScoreName.Z)
    action_signal: bool = field("Whether |Eₙ| ≥ 1 (an action signal).", default=False)
    note: str | None = field("Why a score is missing or how it was classed.", default=None)
