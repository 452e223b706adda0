"""Proficiency testing: studies (inter-comparisons) and the laboratories' results."""

import datetime as dt
import enum

from clen_core.model.entity import entity
from clen_core.model.fields import field

__all__ = ["PTPurpose", "PTResult", "PTScore", "PTStudy", "ScoreClass"]


class PTPurpose(enum.StrEnum):
    """The three purposes of an inter-comparison (Action 2)."""

    METHOD_VALIDATION = "method_validation"
    METHOD_COMPARISON = "method_comparison"
    PROFICIENCY = "proficiency"


@entity("pt_study", key="study_id")
class PTStudy:
    """An inter-comparison study: one analyte, its assigned value and σ_pt when known."""

    study_id: str = field("Identifier of the study.", max_length=64)
    title: str = field("Title of the study.", max_length=500)
    purpose: PTPurpose = field("Method validation, method comparison or proficiency.")
    analyte: str = field("What is measured.", max_length=200)
    unit: str = field("Unit of the results.", max_length=32)
    matrix: str | None = field("Material of the test items.", max_length=200, default=None)
    closing_date: dt.date | None = field("Date results were due.", default=None)
    coordinator_lab: str | None = field(
        "Laboratory that organised it.", ref="laboratory", default=None
    )
    assigned_value: float | None = field(
        "Assigned value x_pt, when known beforehand.", default=None
    )
    sigma_pt: float | None = field(
        "Standard deviation for proficiency assessment σ_pt.", gt=0, default=None
    )


@entity("pt_result", key=("study_id", "lab_id"))
class PTResult:
    """One laboratory's reported result in a study."""

    study_id: str = field("Study the result belongs to.", max_length=64, ref="pt_study")
    lab_id: str = field("Laboratory that reported it.", max_length=64, ref="laboratory")
    value: float = field("Reported value, in the study's unit.")
    uncertainty: float | None = field("Standard uncertainty u(x) of the value.", ge=0, default=None)


class ScoreClass(enum.StrEnum):
    """Classification of a z-score (ISO 13528): |z| ≤ 2, 2 < |z| < 3, |z| ≥ 3."""

    SATISFACTORY = "satisfactory"
    QUESTIONABLE = "questionable"
    UNSATISFACTORY = "unsatisfactory"


@entity("pt_score", key=("study_id", "lab_id"))
class PTScore:
    """One laboratory's scores in a study: z, z′, ζ and Eₙ, with the z-score's class.

    ``clen_core.proficiency.evaluate`` computes them from a study and its
    results. The action signal is ``|Eₙ| ≥ 1`` (false when Eₙ could not be
    computed: the laboratory reported no uncertainty).
    """

    study_id: str = field("Study the score belongs to.", max_length=64, ref="pt_study")
    lab_id: str = field("Laboratory scored.", max_length=64, ref="laboratory")
    value: float = field("The laboratory's reported value x.")
    uncertainty: float | None = field(
        "Standard uncertainty u(x) the laboratory reported.", ge=0, default=None
    )
    assigned_value: float = field("Assigned value x_pt the scores compare with.")
    sigma_pt: float = field("Standard deviation for proficiency assessment σ_pt used.", gt=0)
    z: float = field("z-score: (x − x_pt) / σ_pt.")
    z_prime: float = field("z′-score: (x − x_pt) / √(σ_pt² + u²(x_pt)).")
    zeta: float | None = field(
        "ζ-score: (x − x_pt) / √(u²(x) + u²(x_pt)); empty without u(x).", default=None
    )
    en: float | None = field(
        "Eₙ-score: (x − x_pt) / √(U²(x) + U²(x_pt)); empty without u(x).", default=None
    )
    classification: ScoreClass = field("Satisfactory, questionable or unsatisfactory (by z).")
    action_signal: bool = field("Whether |Eₙ| ≥ 1 (an action signal).")
