"""Science: analytical methods (ILIADe), substances (ECICS), samples and results."""

import datetime as dt
import enum
from collections.abc import Mapping

from clen_core.errors import ArgumentError
from clen_core.model.compliance import (
    DEFAULT_RULE,
    RULE_PATTERN,
    Decision,
    DecisionRule,
    LimitType,
    Outcome,
    decide,
)
from clen_core.model.entity import Ordered, Together, entity
from clen_core.model.fields import field

__all__ = [
    "AnalysisResult",
    "Method",
    "MethodSource",
    "MethodStatus",
    "Sample",
    "Substance",
]

# Chapters 01-99 without 00 and the reserved 77.
_CHAPTER = r"^(0[1-9]|[1-6][0-9]|7[0-68-9]|[89][0-9])$"
# A heading (4 digits), an HS subheading (6) or a CN code (8), digits only.
_CN_SCOPE = r"^(0[1-9]|[1-6][0-9]|7[0-68-9]|[89][0-9])([0-9]{2}){1,3}$"


class MethodSource(enum.StrEnum):
    """Where a method comes from."""

    OFFICIAL = "official"
    INTERNATIONAL_STANDARD = "international_standard"
    IN_HOUSE = "in_house"


class MethodStatus(enum.StrEnum):
    """Where a method stands in ILIADe's review by the working group."""

    DRAFT = "draft"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    WITHDRAWN = "withdrawn"


@entity(
    "method",
    key="method_id",
    constraints=[
        Ordered("range_low", "range_high"),
        Ordered("lod", "loq"),
        Ordered("repeatability_sd", "reproducibility_sd"),
        Ordered("approved", "review_date"),
    ],
)
class Method:
    """An analytical method in ILIADe: what it measures, in what, how, for which goods, and
    its validation data (working range, LOD, LOQ, precision, recovery, uncertainty).

    Its scope is the union of ``cn_chapters`` and ``cn_codes``: a result on a sample
    declared under another code is flagged (MET-002), as is a result below the LOQ
    reported as a number (MET-001) and one obtained after the review date (MET-003).
    The validation figures are in ``unit``; results in another unit are not compared.
    """

    method_id: str = field("Identifier of the method.", max_length=64)
    title: str = field("Title of the method.", max_length=500)
    analyte: str = field("What it measures, e.g. ``ethanol``.", max_length=200)
    matrix: str = field("What it measures in, e.g. ``spirits``.", max_length=200)
    technique: str = field("Analytical technique, e.g. ``GC-FID``.", max_length=200)
    cn_chapters: tuple[str, ...] = field(
        "CN chapters (two digits) of the goods it applies to.",
        default=(),
        pattern=_CHAPTER,
        unique_items=True,
    )
    source: MethodSource = field("Official, international standard or in-house.")
    status: MethodStatus = field("Review status.", default=MethodStatus.DRAFT)
    reference: str | None = field(
        "Standard or regulation it follows, e.g. ``ISO 2448``.", default=None
    )
    lab_id: str | None = field("Laboratory that contributed it.", ref="laboratory", default=None)
    cn_codes: tuple[str, ...] = field(
        "CN headings (4 digits), HS subheadings (6) or CN codes (8) of the goods it applies to, "
        "digits only, e.g. ``2207``, ``220710``; with ``cn_chapters``, its scope.",
        default=(),
        pattern=_CN_SCOPE,
        unique_items=True,
    )
    version: str | None = field("Version of the method, e.g. ``2.1``.", max_length=32, default=None)
    approved: dt.date | None = field(
        "Date this version was approved (status ``approved``).", default=None
    )
    review_date: dt.date | None = field(
        "Date by which the method is to be reviewed; a result obtained after it is flagged.",
        default=None,
    )
    unit: str | None = field(
        "Unit of the working range, LOD, LOQ, standard deviations and uncertainties, "
        "e.g. ``% vol``.",
        max_length=32,
        default=None,
    )
    range_low: float | None = field("Lower end of the validated working range.", default=None)
    range_high: float | None = field("Upper end of the validated working range.", default=None)
    lod: float | None = field("Limit of detection.", ge=0, default=None)
    loq: float | None = field(
        "Limit of quantification: a result below it is reported as ``< LOQ``.", ge=0, default=None
    )
    repeatability_sd: float | None = field(
        "Repeatability standard deviation s_r (ISO 5725-2).", ge=0, default=None
    )
    reproducibility_sd: float | None = field(
        "Reproducibility standard deviation s_R (ISO 5725-2).", ge=0, default=None
    )
    recovery: float | None = field("Mean recovery, in %.", gt=0, unit="%", default=None)
    uncertainty_by_level: Mapping[str, float] = field(
        "Expanded uncertainty U (k = 2) at stated levels: the level, a number written as "
        'text, → U, both in ``unit``, e.g. ``{"40": 0.1, "80": 0.2}``.',
        ge=0,
        factory=dict,
    )


@entity("substance", key="cus")
class Substance:
    """A chemical substance of ECICS, identified by its CUS number."""

    cus: str = field("ECICS CUS number, e.g. ``0011481-8``.", code="cus")
    cas: str | None = field("CAS Registry Number.", code="cas", default=None)
    ec: str | None = field(
        "EC number (EINECS, ELINCS, NLP or ECHA list number).", code="ec", default=None
    )
    un: str | None = field("UN dangerous-goods number.", code="un", default=None)
    cn_code: str | None = field(
        "CN code (8 digits) the substance is classified under.", code="cn", default=None
    )
    names: Mapping[str, tuple[str, ...]] = field(
        "Names by ISO 639-1 language: the name first, then synonyms.",
        key_code="language",
        min_items=1,
    )
    inn: str | None = field("International Non-proprietary Name (pharmaceuticals).", default=None)
    iso_name: str | None = field("ISO common name (pesticides).", default=None)
    iupac_name: str | None = field("IUPAC name.", default=None)
    inchi: str | None = field(
        "IUPAC International Chemical Identifier.", pattern=r"^InChI=1S?/\S+$", default=None
    )
    characteristics: str | None = field("Further characteristics.", max_length=4000, default=None)


@entity("sample", key="sample_id")
class Sample:
    """A sample a customs laboratory received: goods as declared, where from, when."""

    sample_id: str = field("Identifier of the sample.", max_length=64)
    lab_id: str = field("Laboratory that received it.", ref="laboratory")
    received: dt.date = field("Date of receipt.")
    declared_cn: str | None = field("CN code declared for the goods.", code="cn", default=None)
    customs_office: str | None = field("Customs office that took it.", max_length=64, default=None)
    origin: str | None = field("Declared country of origin.", code="country", default=None)
    description: str | None = field("Description of the goods.", max_length=2000, default=None)


@entity(
    "analysis_result",
    key="result_id",
    constraints=[Together(("limit", "limit_type"))],
)
class AnalysisResult:
    """A result: one analyte measured in a sample by a method, with its expanded uncertainty.

    When a limit is given, :attr:`decision` applies the result's decision rule
    (``decision_rule``; by default a guard band w = U on both sides, ILAC-G8:09/2019
    4.2.3) to it; the decision is derived, never stored. The limit's legal source
    (``limit_source``) and the rule are stored with the result, so that a report can
    state both (ISO/IEC 17025 7.8.6, :attr:`conformity_statement`).
    """

    result_id: str = field("Identifier of the result.", max_length=64)
    sample_id: str = field("Sample analysed.", ref="sample")
    method_id: str = field("Method used.", ref="method")
    analyte: str = field("What was measured.", max_length=200)
    value: float = field("Measured value.")
    unit: str = field("Unit of the value, e.g. ``% vol``.", max_length=32)
    expanded_uncertainty: float | None = field(
        "Expanded uncertainty U, in the value's unit.", ge=0, default=None
    )
    coverage_factor: float = field("Coverage factor k of U.", gt=0, default=2.0)
    limit: float | None = field(
        "Legal or specification limit, in the value's unit; the lower end of a two-sided one.",
        default=None,
    )
    limit_type: LimitType | None = field(
        "Whether the limit is an upper, a lower or a two-sided one (then with ``limit_high``).",
        default=None,
    )
    cn_found: str | None = field(
        "CN code the laboratory found (its opinion).", code="cn", default=None
    )
    limit_high: float | None = field(
        "Upper end of a two-sided limit (``limit_type`` ``two_sided``; not below ``limit``), "
        "in the value's unit.",
        default=None,
    )
    limit_source: str | None = field(
        "Where the limit comes from, e.g. ``CN 2207 10`` or ``Regulation (EU) 2019/787``.",
        max_length=200,
        default=None,
    )
    decision_rule: str | None = field(
        "Decision rule applied, as written by ``DecisionRule``: ``simple``, "
        "``guard_band(1)``, ``guard_band(0.5, acceptance)``, ``from_risk(0.05, rejection)``; "
        "none means ``guard_band(1)`` (w = U, three outcomes).",
        pattern=RULE_PATTERN,
        default=None,
    )
    less_than: bool = field(
        "Reported as below a limit (``< value``, e.g. below the method's LOQ): ``value`` is "
        "then that limit, an upper bound of the result.",
        default=False,
    )
    analysed: dt.date | None = field("Date of the analysis.", default=None)

    @property
    def limits(self) -> tuple[float | None, float | None] | None:
        """``(lower, upper)`` from ``limit``, ``limit_type`` and ``limit_high``; ``None``
        without a limit, or when ``limit_high`` does not go with the limit type or lies below
        ``limit`` (RES-006)."""
        if self.limit is None or self.limit_type is None:
            return None
        two_sided = self.limit_type is LimitType.TWO_SIDED
        if two_sided != (self.limit_high is not None):
            return None
        if two_sided:
            assert self.limit_high is not None
            return None if self.limit_high < self.limit else (self.limit, self.limit_high)
        if self.limit_type is LimitType.UPPER:
            return (None, self.limit)
        return (self.limit, None)

    @property
    def rule(self) -> DecisionRule:
        """The decision rule applied: ``decision_rule``, or the default ``guard_band(1)``."""
        code = self.decision_rule
        return DEFAULT_RULE if code is None else DecisionRule.parse(code)

    @property
    def decision(self) -> Decision | None:
        """The decision on the limit under the result's rule; ``None`` without a (complete)
        limit, or without the uncertainty the rule needs (RES-005).

        A result reported ``< value`` is decided on that bound only where every value below
        it gets the same outcome: compliant with an upper limit, non-compliant with a lower
        one; otherwise ``None``.
        """
        try:
            rule = self.rule
        except ArgumentError:  # written as the pattern says, but no number it can use
            return None
        limits = self.limits
        if limits is None or (rule.needs_uncertainty and self.expanded_uncertainty is None):
            return None
        lower, upper = limits
        d = decide(
            self.value,
            upper=upper,
            lower=lower,
            U=self.expanded_uncertainty,
            k=self.coverage_factor,
            rule=rule,
        )
        if self.less_than and not (
            (lower is None and d.outcome is Outcome.COMPLIANT)
            or (upper is None and d.outcome is Outcome.NON_COMPLIANT)
        ):
            return None
        return d

    @property
    def conformity_statement(self) -> str | None:
        """The statement of conformity for a report (:meth:`Decision.statement`), or ``None``."""
        d = self.decision
        return None if d is None else d.statement(self.unit, self.limit_source)
