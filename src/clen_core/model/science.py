"""Science: analytical methods (ILIADe), substances (ECICS), samples and results."""

import datetime as dt
import enum
from collections.abc import Mapping

from clen_core.model.compliance import Decision, LimitType, decide
from clen_core.model.entity import Together, entity
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


@entity("method", key="method_id")
class Method:
    """An analytical method in ILIADe: what it measures, in what, how, and for which goods."""

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

    When a limit is given, :attr:`decision` applies the guard-band decision
    rule (``domain.md`` §5); the decision is derived, never stored.
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
    limit: float | None = field("Legal or specification limit, in the value's unit.", default=None)
    limit_type: LimitType | None = field(
        "Whether the limit is an upper or a lower one.", default=None
    )
    cn_found: str | None = field(
        "CN code the laboratory found (its opinion).", code="cn", default=None
    )

    @property
    def decision(self) -> Decision | None:
        """Compliance with the limit, U as guard band; ``None`` without a limit."""
        if self.limit is None or self.limit_type is None:
            return None
        return decide(self.value, self.expanded_uncertainty or 0.0, self.limit, self.limit_type)
