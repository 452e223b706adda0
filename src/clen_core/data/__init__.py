"""The embedded reference dataset: public facts from named source documents, and
illustrative records to show every entity, each record labelled with where it comes from.

**Provenance** is one mechanism for every record: :func:`provenance` gives the
:class:`Source` it comes from (:data:`SOURCES`), and where in it. A record either comes
from a source document, or comes from the source ``illustrative``: made up for the
examples, however real its codes.

From source documents: the 27 Member States (with the year each joined); the six actions,
their coordinators and what each does; the activities and project groups of the
Commission's Action 5 page (``action5.txt`` in this package, read with the project's
own ``listing`` importer: see :mod:`clen_core.data._action5`); the objectives of the
customs law enforcement strategy; the Customs programme; the partner organisations,
attaché posts and the information exchange of the Dutch customs' page on international
cooperation. Illustrative: the laboratories, the methods, the ECICS records (real CAS,
EC, UN and CN codes, but made-up CUS numbers with valid check digits), the samples and
results, the PT round, the action-plan items and the funded actions' amounts.

As published, the page writes ``Tartu (ET)``: ET is Ethiopia, and the record keeps it,
so rule ACT-001 flags it and asks ``did you mean EE (Estonia)?``. The other findings are
the illustrative records' and deliberate, each showing one rule at work: the
third-country lab with a criterion not met (LAB-001), the ethanol sample declared as
undenatured alcohol but found below 80 % vol (RES-001, RES-004), the e-liquid whose
nicotine is inconclusive against the 20 mg/mL limit (RES-004), the ECICS record known
only by its CUS number (SUB-002), and the PT study that estimates σ_pt from the results
(PT-002). It has no error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from functools import cache
from types import MappingProxyType
from typing import Any

import attrs

from clen_core.data import _action5
from clen_core.model import (
    Action,
    ActionPlanItem,
    AnalysisResult,
    AssignedValueSource,
    AttachePost,
    Dataset,
    FundedAction,
    FundedActionType,
    InformationExchange,
    ItemStatus,
    LabKind,
    Laboratory,
    LabStatus,
    MemberState,
    Method,
    MethodSource,
    MethodStatus,
    Objective,
    ObjectiveLevel,
    Partner,
    PartnerKind,
    Programme,
    PTPurpose,
    PTResult,
    PTRound,
    PTStudy,
    ResultKind,
    Sample,
    SigmaPtSource,
    Substance,
)
from clen_core.model.compliance import LimitType
from clen_core.model.entity import get_entity

__all__ = [
    "ACTIONS",
    "ACTION_DESCRIPTIONS",
    "ILLUSTRATIVE",
    "MEMBER_STATES",
    "SOURCES",
    "Provenance",
    "Source",
    "provenance",
    "reference_dataset",
]

_D = dt.date

MEMBER_STATES: tuple[tuple[str, str, int], ...] = (
    ("AT", "Austria", 1995), ("BE", "Belgium", 1958), ("BG", "Bulgaria", 2007),
    ("CY", "Cyprus", 2004), ("CZ", "Czechia", 2004), ("DE", "Germany", 1958),
    ("DK", "Denmark", 1973), ("EE", "Estonia", 2004), ("ES", "Spain", 1986),
    ("FI", "Finland", 1995), ("FR", "France", 1958), ("GR", "Greece", 1981),
    ("HR", "Croatia", 2013), ("HU", "Hungary", 2004), ("IE", "Ireland", 1973),
    ("IT", "Italy", 1958), ("LT", "Lithuania", 2004), ("LU", "Luxembourg", 1958),
    ("LV", "Latvia", 2004), ("MT", "Malta", 2004), ("NL", "Netherlands", 1958),
    ("PL", "Poland", 2004), ("PT", "Portugal", 1986), ("RO", "Romania", 2007),
    ("SE", "Sweden", 1995), ("SI", "Slovenia", 2004), ("SK", "Slovakia", 2004),
)  # fmt: skip
"""The 27 Member States: ISO code, short name, year joined (founders: the EEC's 1958)."""

ACTIONS: tuple[tuple[int, str, str, str | None], ...] = (
    (1, "ILIADe — database of analytical methods", "Italy", "IT"),
    (2, "Inter-comparisons and method validations", "Greece", "GR"),
    (3, "Networking on quality", "Greece", "GR"),
    (4, "Communication and strategy", "Austria", "AT"),
    (5, "Scientific expertise", "Netherlands", "NL"),
    (6, "ECICS — European Customs Inventory of Chemical Substances", "European Commission", None),
)
"""The network's six actions: number, name, coordinator, coordinating country (if any)."""

ACTION_DESCRIPTIONS: Mapping[int, str] = MappingProxyType(
    {
        1: "The database of analytical methods: official, international-standard and in-house "
        "methods, checked by a working group; open to the member laboratories, and to third "
        "countries on request.",
        2: "Proficiency-testing schemes for three purposes: method validation by collaborative "
        "trial, method comparison and laboratory performance; typically 10–50 laboratories, "
        "2–10 samples and 1–20 parameters per sample, with an ad-hoc working group per study.",
        3: "A project group on compliance assessment (measurement uncertainty, decision rules), "
        "a project group on sampling (the Samancta sampling manual, in 23 languages) and a "
        "triennial survey of the laboratories.",
        4: "An e-community for documents, and a Seminar of European Customs Chemists every "
        "three years (the 8th in Berlin, 2023).",
        5: "Created in 2009, dedicated to the study and solving of new challenges for customs "
        "laboratories and any other fields where customs need scientific support: project "
        "groups, workshops and training sessions (designer drugs, detection technologies, "
        "plants, tobacco, textiles, species identification, waste codes, …).",
        6: "The European Customs Inventory of Chemical Substances, a CLEN activity since 2009.",
    }
)
"""What each action does, by number (its source: :func:`provenance` of the action)."""


# --------------------------------------------------------------------------- provenance


@attrs.frozen
class Source:
    """A document records of the reference dataset come from (or ``illustrative``)."""

    source_id: str
    """Short identifier, e.g. ``"clen-action5"``."""
    title: str
    """The document's title, as published."""
    publisher: str
    """Who published it."""
    location: str
    """Where the text used is kept: a file of this package, or the project's notes."""

    @property
    def illustrative(self) -> bool:
        """Whether records from it are made up (the source ``illustrative``)."""
        return self.source_id == ILLUSTRATIVE


@attrs.frozen
class Provenance:
    """Where one record of the reference dataset comes from."""

    source: Source
    """The document (or ``illustrative``)."""
    where: str | None = None
    """Where in it (``line 81``), or what of the record is real (for illustrative ones)."""


ILLUSTRATIVE = "illustrative"
"""The source ID of records made up for the examples."""

SOURCES: Mapping[str, Source] = MappingProxyType(
    {
        s.source_id: s
        for s in (
            Source(
                "eu-members",
                "EU countries (the Member States and the year each joined)",
                "European Union (european-union.europa.eu)",
                "public record; domain.md §3 of the project's notes",
            ),
            Source(
                "clen-overview",
                "The Customs Laboratories European Network (Overview)",
                "European Commission, Taxation and Customs Union",
                "shared/seeds/000_c706efee7964be0d.txt of the project's notes",
            ),
            Source(
                "clen-actions",
                "The six actions of the CLEN, their coordinators and what each does",
                "European Commission, Taxation and Customs Union (the CLEN pages)",
                "domain.md §1 of the project's notes (a summary of the Commission's pages)",
            ),
            Source(
                "clen-action5",
                "Action 5 of the Customs Laboratories European Network: Scientific expertise",
                "European Commission, Taxation and Customs Union",
                "clen_core/data/action5.txt (shared/seeds/001_8fa727c55203dce2.txt)",
            ),
            Source(
                "law-enforcement-strategy",
                "Draft Strategy for the future customs law enforcement co-operation",
                "Council of the European Union (Customs Cooperation Working Party)",
                "shared/seeds/002_93b9a79be1042bbe.txt of the project's notes",
            ),
            Source(
                "customs-programme",
                "Customs: specific programme of collaboration in customs (2021–2027)",
                "European Commission, DG TAXUD (Regulation (EU) 2021/444)",
                "shared/seeds/003_f9ad988492c743a2.txt of the project's notes",
            ),
            Source(
                "nl-customs-international",
                "International cooperation",
                "Netherlands Customs (Douane)",
                "shared/seeds/004_c69b50b5e8a59ceb.txt of the project's notes",
            ),
            Source(
                ILLUSTRATIVE,
                "Illustrative records, made up for the examples",
                "clen_core",
                "this module",
            ),
        )
    }
)
"""Every source of the reference dataset, by ID."""


def _from(source_id: str, records: Iterable[Any], where: str | None = None) -> list[Any]:
    """``records`` with their provenance: ``(record, Provenance)`` pairs."""
    origin = Provenance(SOURCES[source_id], where)
    return [(r, origin) for r in records]


def _key(record: object) -> tuple[str, tuple[Any, ...]]:
    info = get_entity(type(record))
    return info.name, tuple(getattr(record, k) for k in info.key)


@cache
def _provenances() -> Mapping[tuple[str, tuple[Any, ...]], tuple[Any, Provenance]]:
    return MappingProxyType({_key(r): (r, origin) for r, origin in _sourced()})


def provenance(record: object) -> Provenance:
    """Where ``record``, a record of the reference dataset, comes from.

    Raises :class:`KeyError` for a record that is not in the reference dataset (no record
    of its entity with its key, or one that differs from it).
    """
    key = _key(record)
    known, origin = _provenances().get(key, (None, None))
    if origin is None or known != record:
        raise KeyError(f"not a record of the reference dataset: {key[0]} {key[1]}")
    return origin


# (lab_id, name, country, city)
_LABS = [
    ("AT-VIE", "Customs Laboratory Vienna", "AT", "Vienna"),
    ("BE-LEU", "Customs Laboratory Leuven", "BE", "Leuven"),
    ("DE-HAM", "Customs Laboratory Hamburg", "DE", "Hamburg"),
    ("EL-ATH", "General Chemical State Laboratory, Customs Directorate", "EL", "Athens"),
    ("ES-MAD", "Central Customs Laboratory Madrid", "ES", "Madrid"),
    ("FI-ESP", "Customs Laboratory Espoo", "FI", "Espoo"),
    ("FR-PAR", "Customs Laboratory Paris", "FR", "Paris"),
    ("IE-DUB", "State Laboratory Dublin", "IE", "Dublin"),
    ("IT-ROM", "Customs Chemical Laboratory Rome", "IT", "Rome"),
    ("LV-RIX", "Customs Laboratory Riga", "LV", "Riga"),
    ("NL-AMS", "Customs Laboratory Amsterdam", "NL", "Amsterdam"),
    ("PL-WAW", "Central Customs Laboratory Warsaw", "PL", "Warsaw"),
]


def _laboratories() -> list[Laboratory]:
    labs = [
        Laboratory(
            lab_id=i,
            name=n,
            country=c,
            city=city,
            accredited_17025=True,
            accreditation_body="national accreditation body",
        )
        for i, n, c, city in _LABS
    ]
    labs.append(
        Laboratory(
            lab_id="NL-MOB",
            name="Mobile Customs Laboratory (illustrative)",
            country="NL",
            kind=LabKind.MOBILE,
            expertise=("designer drugs", "detection technologies"),
        )
    )
    labs.append(
        Laboratory(
            lab_id="RS-BEG",
            name="Customs Laboratory Belgrade (illustrative)",
            country="RS",
            city="Belgrade",
            status=LabStatus.THIRD_COUNTRY,
            participation_criteria={"quality system": True, "confidentiality agreement": False},
        )
    )
    return labs


def _action5_records() -> list[Any]:
    """The project groups and activities of the Commission's Action 5 page, as published.

    Read from ``action5.txt`` by the ``listing`` importer when the package is built
    (``scripts/build_reference_listing.py``), not when it is loaded: the data must not
    depend on a plugin being enabled, nor change silently with the importer.
    """
    return [
        (record, Provenance(SOURCES["clen-action5"], f"line {line}"))
        for line, record in (*_action5.PROJECT_GROUPS, *_action5.ACTIVITIES)
    ]


def _science() -> list[object]:
    methods = [
        Method(
            method_id="M-ETOH-01",
            title="Alcoholic strength by volume of spirit drinks (reference method)",
            analyte="ethanol",
            matrix="spirit drinks",
            technique="distillation and densimetry",
            cn_chapters=("22",),
            source=MethodSource.OFFICIAL,
            status=MethodStatus.APPROVED,
            reference="Regulation (EC) No 2870/2000",
            lab_id="IT-ROM",
        ),
        Method(
            method_id="M-NIC-01",
            title="Nicotine in liquids for electronic cigarettes by GC-MS",
            analyte="nicotine",
            matrix="e-liquids",
            technique="GC-MS",
            cn_chapters=("24",),
            source=MethodSource.IN_HOUSE,
            status=MethodStatus.UNDER_REVIEW,
            lab_id="NL-AMS",
        ),
        Method(
            method_id="M-CAF-01",
            title="Caffeine in beverages by HPLC-UV",
            analyte="caffeine",
            matrix="non-alcoholic beverages",
            technique="HPLC-UV",
            cn_chapters=("21", "22"),
            source=MethodSource.INTERNATIONAL_STANDARD,
            status=MethodStatus.APPROVED,
            reference="ISO 20481",
        ),
    ]
    substances = [
        Substance(cus="0000013-5", cas="7732-18-5", ec="231-791-2", cn_code="2201 90 00",
                  names={"en": ("water",), "de": ("Wasser",), "fr": ("eau",)},
                  iupac_name="oxidane"),
        Substance(cus="0000024-8", cas="64-17-5", ec="200-578-6", un="1170", cn_code="2207 10 00",
                  names={"en": ("ethanol", "ethyl alcohol"), "it": ("etanolo",)},
                  iupac_name="ethanol", inchi="InChI=1S/C2H6O/c1-2-3/h3H,2H2,1H3"),
        Substance(cus="0000035-1", cas="58-08-2", ec="200-362-1", cn_code="2939 30 00",
                  names={"en": ("caffeine",), "nl": ("cafeïne",)}, inn="caffeine",
                  iupac_name="1,3,7-trimethylpurine-2,6-dione"),
        Substance(cus="0000046-4", cas="54-11-5", ec="200-193-3", un="1654", cn_code="2939 79 10",
                  names={"en": ("nicotine",), "el": ("νικοτίνη",)},
                  iupac_name="3-[(2S)-1-methylpyrrolidin-2-yl]pyridine"),
        Substance(cus="0011481-8", names={"en": ("ECICS example record (CUS from domain.md)",)}),
    ]  # fmt: skip
    samples = [
        Sample(sample_id="S-2024-001", lab_id="AT-VIE", received=_D(2024, 2, 12),
               declared_cn="2208 90 69", origin="GB", description="spirit drink, 0.7 l bottles"),
        Sample(sample_id="S-2024-002", lab_id="NL-AMS", received=_D(2024, 3, 4),
               declared_cn="2207 10 00", origin="UA", description="ethyl alcohol in 1,000 l IBC"),
        Sample(sample_id="S-2024-003", lab_id="NL-AMS", received=_D(2024, 5, 21),
               declared_cn="2404 12 00", origin="CN", description="nicotine e-liquid, 10 ml"),
        Sample(sample_id="S-2024-004", lab_id="PL-WAW", received=_D(2024, 6, 3),
               declared_cn="2202 99 19", origin="US", description="energy drink, cans"),
    ]  # fmt: skip
    results = [
        AnalysisResult(result_id="R-001", sample_id="S-2024-001", method_id="M-ETOH-01",
                       analyte="ethanol", value=40.1, unit="% vol", expanded_uncertainty=0.2,
                       cn_found="2208 90 69"),
        AnalysisResult(result_id="R-002", sample_id="S-2024-002", method_id="M-ETOH-01",
                       analyte="ethanol", value=79.2, unit="% vol", expanded_uncertainty=0.3, limit=80.0,
                       limit_type=LimitType.LOWER, cn_found="2208 90 99"),
        AnalysisResult(result_id="R-003", sample_id="S-2024-003", method_id="M-NIC-01",
                       analyte="nicotine", value=20.3, unit="mg/mL", expanded_uncertainty=1.0, limit=20.0,
                       limit_type=LimitType.UPPER, cn_found="2404 12 00"),
        AnalysisResult(result_id="R-004", sample_id="S-2024-004", method_id="M-CAF-01",
                       analyte="caffeine", value=298.0, unit="mg/L", expanded_uncertainty=12.0,
                       limit=320.0, limit_type=LimitType.UPPER, cn_found="2202 99 19"),
    ]  # fmt: skip
    return [*methods, *substances, *samples, *results]


def _evolve(study: PTStudy, **changes: Any) -> PTStudy:
    # attrs.evolve re-runs the entity's checks; mypy cannot see that PTStudy is an attrs class.
    return attrs.evolve(study, **changes)  # type: ignore[misc]


def _proficiency() -> list[object]:
    """One illustrative round: two test items of a spirit drink, and its classification.

    Item A's x_pt and σ_pt come from the participants (Algorithm A); item B's
    x_pt from the formulation and σ_pt for fitness for purpose, with
    duplicates; the classification study asks each laboratory for the CN code
    of item A. The figures are illustrative, not a published round.
    """
    pt_round = PTRound(
        round_id="CLEN-PT-2024-1",
        title="Spirit drinks: alcoholic strength and tariff classification (illustrative)",
        provider="CLEN Action 2 (illustrative)",
        coordinator_lab="EL-ATH",
        closing_date=_D(2024, 10, 15),
        report_date=_D(2024, 11, 29),
        report_issue="1",
    )
    item_a = PTStudy(
        study_id="PT-2024-ETOH",
        title="Alcoholic strength of a spirit drink, item A (illustrative round)",
        purpose=PTPurpose.PROFICIENCY,
        analyte="ethanol",
        unit="% vol",
        matrix="spirit drink",
        closing_date=_D(2024, 10, 15),
        coordinator_lab="EL-ATH",
        round_id=pt_round.round_id,
        item_id="A",
    )
    item_b = _evolve(
        item_a,
        study_id="PT-2024-ETOH-B",
        title="Alcoholic strength of a spirit drink, item B (illustrative round)",
        item_id="B",
        replicates=2,
        assigned_value=37.52,
        assigned_uncertainty=0.01,
        assigned_value_source=AssignedValueSource.FORMULATION,
        sigma_pt=0.1,
        sigma_pt_source=SigmaPtSource.FITNESS_FOR_PURPOSE,
        delta_e=0.3,
        homogeneity_uncertainty=0.008,
    )
    cn = _evolve(
        item_a,
        study_id="PT-2024-CN",
        title="Tariff classification of item A (illustrative round)",
        analyte="CN code",
        unit="code",
        kind=ResultKind.CLASSIFICATION,
        assigned_category="2208 90 69",
        assigned_value_source=AssignedValueSource.EXPERT_CONSENSUS,
    )
    labs = [lab_id for lab_id, *_ in _LABS]
    a = [40.02, 40.05, 39.98, 40.10, 39.95, 40.01, 40.07, 39.99, 40.45, 40.03, 39.97, 40.04]
    # Item B in duplicate: each laboratory's bias on A shows again on B (a Youden plot).
    b = [(37.51, 37.53), (37.55, 37.56), (37.47, 37.49), (37.60, 37.62), (37.44, 37.46),
         (37.50, 37.52), (37.57, 37.58), (37.49, 37.50), (37.93, 37.97), (37.53, 37.52),
         (37.46, 37.48), (37.54, 37.55)]  # fmt: skip
    # Most laboratories state U with k = 2; two state k = 1.73 and 1 (a standard uncertainty).
    k = [2.0, 2.0, 2.0, 1.73, 2.0, 2.0, 1.0, 2.0, 2.0, 2.0, 2.0, 2.0]
    big_u = [0.10, 0.08, 0.12, 0.09, 0.10, 0.06, 0.05, 0.10, 0.20, 0.10, None, 0.12]
    codes = ["2208 90 69", "2208 90 69", "2208 90 69", "2208 90 48", "2208 90 69",
             "2208 90 69", "2208 70 10", "2208 90 69", "2204 21 79", "2208 90 69",
             "2208 90 69", "2208 90 69"]  # fmt: skip
    results: list[PTResult] = []
    for i, lab in enumerate(labs):
        u, ki = big_u[i], k[i]
        results.append(
            PTResult(
                study_id=item_a.study_id,
                lab_id=lab,
                value=a[i],
                expanded_uncertainty=u,
                coverage_factor=ki,
            )
        )
        results += [
            PTResult(
                study_id=item_b.study_id,
                lab_id=lab,
                replicate=j + 1,
                value=v,
                expanded_uncertainty=u,
                coverage_factor=ki,
            )
            for j, v in enumerate(b[i])
        ]
        results.append(PTResult(study_id=cn.study_id, lab_id=lab, category=codes[i]))
    from clen_core.proficiency.evaluation import evaluate

    scores = [
        s
        for study in (item_a, item_b)
        for s in evaluate(study, [r for r in results if r.study_id == study.study_id]).scores
    ]
    return [pt_round, item_a, item_b, cn, *results, *scores]


def _enforcement() -> list[object]:
    objectives = [
        ("1", "Institutional co-operation", None),
        ("1.a", "Joint training", "1"),
        ("1.b", "A cohesive approach with the Commission, Eurojust and Europol", "1"),
        ("1.c", "Contribute to other law enforcement areas (COSI)", "1"),
        ("2", "Operational co-operation", None),
        ("2.a", "Best practice against cross-border and organised crime", "2"),
        ("2.b", "The EU policy cycle", "2"),
        ("2.c", "Pilot projects for joint actions", "2"),
        ("2.d", "The Naples II Convention (1997) on mutual assistance", "2"),
        ("3", "Information management and exchange", None),
        ("3.a", "Threat assessments and risk analysis", "3"),
        ("3.a.i", "Customs threat assessments", "3.a"),
        ("3.a.ii", "A Risk Analysis Coordination Mechanism", "3.a"),
        ("3.a.iii", "Synergies with Commission risk analysis", "3.a"),
        ("3.b", "Exchange systems", "3"),
        ("3.c", "Intelligence-exchange models", "3"),
    ]
    out: list[object] = [
        Objective(
            objective_id=i,
            level=ObjectiveLevel.STRATEGIC if parent is None else ObjectiveLevel.OPERATIONAL,
            title=title,
            parent=parent,
        )
        for i, title, parent in objectives
    ]
    out += [
        ActionPlanItem(
            item_id="AP-01",
            title="Joint training on detection of drug precursors (illustrative)",
            objectives=("1.a",),
            lead="NL",
            partners=("Europol",),
            start=_D(2013, 1, 1),
            end=_D(2014, 12, 31),
            status=ItemStatus.COMPLETED,
            indicators=("officers trained",),
            evaluation="Training material reused in two Member States.",
        ),
        ActionPlanItem(
            item_id="AP-02",
            title="Pilot joint customs operation on postal traffic (illustrative)",
            objectives=("2.c", "3.b"),
            lead="CCWP Presidency",
            partners=("OLAF", "Europol"),
            start=_D(2014, 3, 1),
            status=ItemStatus.ONGOING,
            indicators=("seizures", "messages exchanged"),
        ),
    ]
    return out


def _programme() -> list[object]:
    programme = Programme(
        programme_id="CUSTOMS-2021-2027",
        name="Customs programme",
        managed_by="DG TAXUD",
        budget_eur=Decimal("950000000.00"),
        start_year=2021,
        end_year=2027,
        description="Cooperation in the field of customs (Regulation (EU) 2021/444).",
    )
    # Illustrative amounts, one per funded-action type.
    funded = [
        ("seminars_workshops", "CLEN workshops and seminars", "1200000.00"),
        ("expert_networks", "Expert teams and thematic communities", "3500000.00"),
        ("project_groups", "CLEN project groups", "900000.00"),
        ("it_capability", "EU electronic customs systems", "450000000.00"),
        ("capacity_building", "Training of customs laboratory staff", "2500000.00"),
        ("studies_innovation_communication", "Study on laboratory detection technologies", "750000.00"),
    ]  # fmt: skip
    return [
        programme,
        *(
            FundedAction(
                funded_action_id=f"FA-{i:02d}",
                programme_id=programme.programme_id,
                action_type=FundedActionType(kind),
                title=title,
                budget_eur=Decimal(amount),
                year=2023,
            )
            for i, (kind, title, amount) in enumerate(funded, 1)
        ),
    ]


def _cooperation() -> tuple[list[Partner], list[AttachePost], InformationExchange]:
    partners = [
        Partner(partner_id="WCO", name="World Customs Organization", kind=PartnerKind.INTERNATIONAL_ORGANISATION, country="BE"),
        Partner(partner_id="ASEM", name="Asia-Europe Meeting", kind=PartnerKind.FORUM),
        Partner(partner_id="CCLEC", name="Caribbean Customs Law Enforcement Council", kind=PartnerKind.REGIONAL_COUNCIL),
        Partner(partner_id="OLAF", name="European Anti-Fraud Office", kind=PartnerKind.EU_BODY, country="BE"),
        Partner(partner_id="EUROPOL", name="Europol", kind=PartnerKind.EU_BODY, country="NL"),
        Partner(partner_id="EUROJUST", name="Eurojust", kind=PartnerKind.EU_BODY, country="NL"),
        Partner(partner_id="ABF", name="Australian Border Force", kind=PartnerKind.THIRD_COUNTRY_SERVICE, country="AU"),
    ]  # fmt: skip
    posts = [
        AttachePost(post_id="NL-CN", host_country="CN", focus=("trade", "drugs"), posted_by="NL"),
        AttachePost(post_id="NL-BR", host_country="BR", focus=("trade", "drugs"), posted_by="NL"),
        AttachePost(post_id="NL-RU", host_country="RU", focus=("trade",), posted_by="NL"),
        AttachePost(post_id="NL-SG", host_country="SG", covered_countries=("ID", "MY", "TH", "VN"),
                    focus=("trade", "drugs"), city="Singapore", posted_by="NL"),
        AttachePost(post_id="NL-GB", host_country="GB", focus=("trade",), posted_by="NL"),
        AttachePost(post_id="NL-US", host_country="US", focus=("tax policy",), city="Washington",
                    posted_by="NL"),
        AttachePost(post_id="NL-BE", host_country="BE", focus=("EU policy",), city="Brussels",
                    posted_by="NL"),
    ]  # fmt: skip
    exchange = InformationExchange(
        exchange_id="IX-ABF-01",
        partner_id="ABF",
        subject="Drug smuggling by post: synthetic drugs sent to Australia",
        country="NL",
    )
    return partners, posts, exchange


def _sourced() -> list[tuple[Any, Provenance]]:
    """Every record of the reference dataset, with its provenance."""
    member_states = [
        MemberState(country=c, name=name, joined=year, eu_code="EL" if c == "GR" else None)
        for c, name, year in MEMBER_STATES
    ]
    actions = [
        Action(
            number=n,
            name=name,
            coordinator=coord,
            coordinator_country=cc,
            description=ACTION_DESCRIPTIONS[n],
        )
        for n, name, coord, cc in ACTIONS
    ]
    science = _science()
    proficiency = _proficiency()
    enforcement = _enforcement()
    programme, *funded = _programme()
    partners, posts, exchange = _cooperation()
    action5 = "§1 table; the description from the Action 5 page's introduction"
    seat = "the country of its seat: public record"
    return [
        *_from("eu-members", member_states),
        *(
            (a, Provenance(SOURCES["clen-actions"], "§1 table" if a.number != 5 else action5))
            for a in actions
        ),
        *_from(ILLUSTRATIVE, _laboratories(), "names made up; countries and cities real"),
        *_action5_records(),
        *_from(ILLUSTRATIVE, science, "CAS, EC, UN and CN codes real"),
        *_from(ILLUSTRATIVE, proficiency),
        *_from("law-enforcement-strategy", [o for o in enforcement if isinstance(o, Objective)]),
        *_from(ILLUSTRATIVE, [o for o in enforcement if not isinstance(o, Objective)]),
        *_from("customs-programme", [programme]),
        *_from(ILLUSTRATIVE, funded, "amounts made up; action types from the programme"),
        # Europol and Eurojust are named by the strategy; the others by the Dutch page.
        *(
            (
                p,
                Provenance(
                    SOURCES[
                        "law-enforcement-strategy"
                        if p.partner_id in ("EUROPOL", "EUROJUST")
                        else "nl-customs-international"
                    ],
                    seat if p.country else None,
                ),
            )
            for p in partners
        ),
        *_from("nl-customs-international", [*posts, exchange]),
    ]


def reference_dataset() -> Dataset:
    """The embedded reference dataset: every entity, public facts plus illustrative records
    (:func:`provenance` says which is which)."""
    return Dataset([record for record, _ in _sourced()])
