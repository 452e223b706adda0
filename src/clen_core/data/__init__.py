"""The embedded reference dataset, built from public facts (``domain.md`` and the seeds).

Facts taken as published: the 27 Member States (with the year each joined),
the six actions and their coordinators, the
activities of the Commission's Action 5 listing, the strategy's objectives,
the Customs programme (EUR 950 million, 2021–2027, DG TAXUD), the partner
organisations and the attaché posts. Illustrative, and marked so in the
records: laboratory identifiers, CUS numbers (real CAS, EC, UN and CN codes,
but CUS numbers made up with valid check digits), samples, results, the PT
study and the action-plan items.

Its findings are deliberate, each showing one rule at work: the Belgrade
workshop (ACT-001, outside the Member States), the third-country lab with a
criterion not met (LAB-001), the ethanol sample declared as undenatured
alcohol but found below 80 % vol (RES-001, RES-004), the e-liquid whose
nicotine is inconclusive against the 20 mg/mL limit (RES-004), the Valletta
project-group meeting whose group the listing does not name (ACT-003), the
ECICS record known only by its CUS number (SUB-002), and the PT study that
estimates σ_pt from the results (PT-002). It has no error.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs

from clen_core.model import (
    Action,
    ActionPlanItem,
    Activity,
    ActivityKind,
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
    ProjectGroup,
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

__all__ = ["ACTIONS", "MEMBER_STATES", "reference_dataset"]

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
            expertise=("drug precursors", "handheld detection"),
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


def _activities() -> list[Activity]:
    # Commission listing of Action 5 activities (shared/examples/activity-listing.txt).
    rows = [
        ("Precursor Chemicals", "project_group_meeting", "Vienna", "AT", _D(2016, 3, 3), _D(2016, 3, 4), 41, "PG-PREC"),
        ("Precursor Chemicals", "project_group_meeting", "Riga", "LV", _D(2013, 6, 2), _D(2013, 6, 3), 19, "PG-PREC"),
        ("Precursor Chemicals", "project_group_meeting", "Rome", "IT", _D(2015, 9, 30), _D(2015, 10, 2), 12, "PG-PREC"),
        ("Precursor Chemicals", "workshop", "Dublin", "IE", _D(2018, 4, 18), _D(2018, 4, 19), 57, None),
        ("Handheld Detection Devices", "training_session", "Warsaw", "PL", _D(2019, 6, 5), _D(2019, 6, 6), 22, None),
        ("Handheld Detection Devices", "training_session", "Zagreb", "HR", _D(2019, 10, 1), _D(2019, 10, 1), 31, None),
        ("Gemmology", "project_group_meeting", "Antwerp", "BE", _D(2016, 3, 9), _D(2016, 3, 10), None, "PG-GEMM"),
        ("Gemmology", "project_group_meeting", "Helsinki", "FI", _D(2015, 5, 21), _D(2015, 5, 21), None, "PG-GEMM"),
        ("Gemmology", "project_group_meeting", "Valletta", "MT", _D(2015, 12, 2), _D(2015, 12, 2), None, None),
        ("Honey Authenticity", "workshop", "Thessaloniki", "EL", _D(2016, 5, 11), _D(2016, 5, 13), 64, None),
        ("Honey Authenticity", "workshop", "Belgrade", "RS", _D(2017, 11, 7), _D(2017, 11, 8), 15, None),
    ]  # fmt: skip
    titles = {"Honey Authenticity": "Isotope Ratio Techniques and other Authentication Methods"}
    return [
        Activity(
            activity_id=f"A5-{i:03d}",
            action=5,
            kind=ActivityKind(kind),
            theme=theme,
            title=titles.get(theme) if kind == "workshop" else None,
            city=city,
            country=country,
            start=start,
            end=end,
            participants=participants,
            project_group_id=group,
            notes="Valletta meeting: group not named in the listing"
            if city == "Valletta"
            else None,
        )
        for i, (theme, kind, city, country, start, end, participants, group) in enumerate(rows, 1)
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


def _cooperation() -> list[object]:
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
    return [*partners, *posts, exchange]


def reference_dataset() -> Dataset:
    """The embedded reference dataset: every entity, public facts plus a realistic sample."""
    member_states = [
        MemberState(country=c, name=name, joined=year, eu_code="EL" if c == "GR" else None)
        for c, name, year in MEMBER_STATES
    ]
    actions = [
        Action(number=n, name=name, coordinator=coord, coordinator_country=cc)
        for n, name, coord, cc in ACTIONS
    ]
    groups = [
        ProjectGroup(group_id="PG-PREC", action=5, theme="Precursor Chemicals", since=None),
        ProjectGroup(group_id="PG-GEMM", action=5, theme="Gemmology", members=11, since=2015),
    ]
    return Dataset(
        [
            *member_states,
            *actions,
            *_laboratories(),
            *groups,
            *_activities(),
            *_science(),
            *_proficiency(),
            *_enforcement(),
            *_programme(),
            *_cooperation(),
        ]
    )
