"""Tests of clen_core.rules: every built-in rule with examples, the report, the registry,
the input forms of validate, the reference dataset, and properties over random objects."""

from __future__ import annotations

import functools
import itertools
import json
import re
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

import attrs
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clen_core import (
    Action,
    ActionPlanItem,
    Activity,
    AnalysisResult,
    AssignedValueSource,
    AttachePost,
    ClenError,
    Dataset,
    Finding,
    FundedAction,
    Laboratory,
    Method,
    Objective,
    Programme,
    ProjectGroup,
    PTResult,
    PTStudy,
    Report,
    ResultKind,
    Rule,
    Sample,
    Severity,
    SigmaPtSource,
    Substance,
    decide,
    get_entity,
    to_arrow,
    validate,
)
from clen_core import data as reference_data
from clen_core.codes import cus, hs
from clen_core.data import reference_dataset
from clen_core.model.entity import ENTITIES, entities
from clen_core.rules import (
    ROW_COLUMN,
    RULES,
    UnknownRuleError,
    fields_read,
    get_rule,
    record_rule,
    register_rule,
    rule,
    rules,
)
from clen_core.rules import registry as rule_registry
from clen_core.rules.builtin import _all_distinct, _is
from clen_core.rules.engine import Validation
from clen_core.rules.engine import validate as run_rules
from clen_core.testing.strategies import entity_kwargs, from_entity

F = TypeVar("F", bound=Callable[..., Any])

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

# --- helpers --------------------------------------------------------------------------------

COVERED: set[str] = set()
"""Rule IDs that have a firing example and a counter-example below (filled at import)."""


def covers(*rule_ids: str) -> Callable[[F], F]:
    """Mark a test as the examples of some rules (see test_every_builtin_rule_is_tested)."""

    def wrap(fn: F) -> F:
        COVERED.update(rule_ids)
        return fn

    return wrap


def builtin_rule_ids() -> set[str]:
    return {r.id for r in rules() if r.check.__module__ == "clen_core.rules.builtin"}


def run(data: Any, rule_id: str) -> list[Finding]:
    """The findings of one rule over ``data`` (every one kept)."""
    report = validate(data, only=[rule_id], max_findings=10_000)
    assert not report.truncated
    assert {f.rule for f in report} <= {rule_id}
    return report.findings


def check(
    f: Finding,
    rule_id: str,
    severity: Severity,
    entity: str,
    key: str,
    row: int,
    field: str | None,
    value: Any = ...,
) -> None:
    """Assert every part of a finding (``value`` only when given)."""
    assert f.rule == rule_id
    assert f.severity is severity
    assert get_rule(rule_id).severity is severity
    assert f.entity == entity
    assert f.key == key
    assert f.row == row
    assert f.field == field
    if value is not ...:
        assert f.value == value
    assert isinstance(f.message, str)
    assert f.message.strip()
    assert "\n" not in f.message


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, findings
    return findings[0]


D = date


def activity(activity_id: str = "A1", **kw: Any) -> Activity:
    base: dict[str, Any] = {
        "activity_id": activity_id,
        "action": 5,
        "kind": "workshop",
        "theme": "Gemmology",
        "city": "Vienna",
        "country": "AT",
        "start": D(2020, 3, 3),
        "end": D(2020, 3, 4),
    }
    return Activity(**(base | kw))


def lab(lab_id: str = "L1", **kw: Any) -> Laboratory:
    return Laboratory(**({"lab_id": lab_id, "name": f"Lab {lab_id}", "country": "AT"} | kw))


def group(group_id: str = "G1", **kw: Any) -> ProjectGroup:
    return ProjectGroup(**({"group_id": group_id, "action": 5, "theme": "Gemmology"} | kw))


def substance(cus_number: str = "0011481-8", **kw: Any) -> Substance:
    return Substance(**({"cus": cus_number, "names": {"en": ("x",)}} | kw))


def sample(sample_id: str = "S1", **kw: Any) -> Sample:
    return Sample(**({"sample_id": sample_id, "lab_id": "L1", "received": D(2024, 1, 10)} | kw))


def method(method_id: str = "M1", **kw: Any) -> Method:
    base: dict[str, Any] = {
        "method_id": method_id,
        "title": "Ethanol by densimetry",
        "analyte": "ethanol",
        "matrix": "spirits",
        "technique": "densimetry",
        "source": "official",
        "status": "approved",
    }
    return Method(**(base | kw))


def result(result_id: str = "R1", **kw: Any) -> AnalysisResult:
    base: dict[str, Any] = {
        "result_id": result_id,
        "sample_id": "S1",
        "method_id": "M1",
        "analyte": "ethanol",
        "value": 40.0,
        "unit": "% vol",
        "expanded_uncertainty": 0.2,
    }
    return AnalysisResult(**(base | kw))


def study(study_id: str = "PT1", **kw: Any) -> PTStudy:
    base: dict[str, Any] = {
        "study_id": study_id,
        "title": "Round",
        "purpose": "proficiency",
        "analyte": "ethanol",
        "unit": "% vol",
        "sigma_pt": 0.1,
    }
    return PTStudy(**(base | kw))


def pt_results(study_id: str, n: int, *, first: int = 0) -> list[PTResult]:
    return [
        PTResult(study_id=study_id, lab_id=f"L{i}", value=40.0 + i / 100)
        for i in range(first, first + n)
    ]


def objective(objective_id: str, level: str, parent: str | None = None) -> Objective:
    return Objective(
        objective_id=objective_id, level=level, title=f"Objective {objective_id}", parent=parent
    )


def item(item_id: str = "AP1", **kw: Any) -> ActionPlanItem:
    base: dict[str, Any] = {
        "item_id": item_id,
        "title": "Joint training",
        "objectives": ("1.a",),
        "lead": "NL",
        "start": D(2014, 1, 1),
    }
    return ActionPlanItem(**(base | kw))


def programme(programme_id: str = "P1", budget: str = "100.00", **kw: Any) -> Programme:
    base: dict[str, Any] = {
        "programme_id": programme_id,
        "name": "Customs",
        "managed_by": "DG TAXUD",
        "budget_eur": Decimal(budget),
        "start_year": 2021,
        "end_year": 2027,
    }
    return Programme(**(base | kw))


def funded(funded_id: str, budget: str, programme_id: str = "P1", **kw: Any) -> FundedAction:
    base: dict[str, Any] = {
        "funded_action_id": funded_id,
        "programme_id": programme_id,
        "action_type": "project_groups",
        "title": "CLEN project groups",
        "budget_eur": Decimal(budget),
    }
    return FundedAction(**(base | kw))


def post(post_id: str = "NL-SG", host: str = "SG", covered: tuple[str, ...] = ()) -> AttachePost:
    return AttachePost(post_id=post_id, host_country=host, covered_countries=covered)


# --- DUP-001 --------------------------------------------------------------------------------


@covers("DUP-001")
def test_dup_single_key_flags_later_occurrences_with_their_rows() -> None:
    acts = [activity("A1"), activity("A2"), activity("A1"), activity("A3"), activity("A1")]
    found = run(acts, "DUP-001")
    assert [f.row for f in found] == [3, 5]
    for f, row in zip(found, [3, 5], strict=True):
        check(f, "DUP-001", ERROR, "activity", "A1", row, "activity_id", "A1")


def test_dup_distinct_keys_not_flagged() -> None:
    assert run([activity("A1"), activity("A2"), activity("a1")], "DUP-001") == []


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.none() | st.text("ab\u00e9\U0001f600", max_size=3), max_size=12),
    st.integers(1, 4),
    st.booleans(),
)
def test_all_distinct_agrees_with_a_set(keys: list[str | None], chunks: int, ordered: bool) -> None:
    # The fast check of DUP-001 (neighbours when in order, else a hash) against Python.
    if ordered:
        keys = sorted(k for k in keys if k is not None) + [k for k in keys if k is None]
    size = max(1, -(-len(keys) // chunks))
    parts = [keys[i : i + size] for i in range(0, len(keys), size)] or [[]]
    column = pa.chunked_array([pa.array(p, pa.string()) for p in parts], pa.string())
    assert _all_distinct(column) == (len(set(keys)) == len(keys))


def test_dup_is_per_entity() -> None:
    # The same key text in two entities is no duplicate; rows count within each entity.
    data = [activity("X"), lab("X"), lab("L2"), lab("X"), activity("Y")]
    (f,) = run(data, "DUP-001")
    check(f, "DUP-001", ERROR, "laboratory", "X", 3, "lab_id", "X")


def test_dup_integer_key() -> None:
    actions = [Action(number=n, name=f"a{n}", coordinator="Italy") for n in (1, 2, 1)]
    check(only(run(actions, "DUP-001")), "DUP-001", ERROR, "action", "1", 3, "number", 1)


def test_dup_composite_key() -> None:
    results = [
        PTResult(study_id="S1", lab_id="L1", value=1.0),
        PTResult(study_id="S1", lab_id="L2", value=1.0),
        PTResult(study_id="S1", lab_id="L1", value=2.0),
        PTResult(study_id="S2", lab_id="L1", value=2.0),
        PTResult(study_id="S1", lab_id="L1", value=3.0),
    ]
    found = run(results, "DUP-001")
    assert [f.row for f in found] == [3, 5]
    for f, row in zip(found, [3, 5], strict=True):
        check(f, "DUP-001", ERROR, "pt_result", "S1/L1/1", row, None)


def test_dup_composite_key_needs_every_part_equal() -> None:
    results = [
        PTResult(study_id="S1", lab_id="L1", value=1.0),
        PTResult(study_id="S1", lab_id="L2", value=1.0),
        PTResult(study_id="S2", lab_id="L1", value=1.0),
    ]
    assert run(results, "DUP-001") == []


# --- REF-001 --------------------------------------------------------------------------------


@covers("REF-001")
def test_ref_scalar_reference_missing() -> None:
    data = [lab("L1"), sample("S1", lab_id="L1"), sample("S2", lab_id="L9")]
    check(only(run(data, "REF-001")), "REF-001", ERROR, "sample", "S2", 2, "lab_id", "L9")


def test_ref_scalar_reference_present() -> None:
    assert run([lab("L1"), sample("S1", lab_id="L1")], "REF-001") == []


def test_ref_integer_reference() -> None:
    actions = [Action(number=n, name=f"a{n}", coordinator="Italy") for n in (1, 2)]
    data = [*actions, activity("A1", action=2), activity("A2", action=5)]
    check(only(run(data, "REF-001")), "REF-001", ERROR, "activity", "A2", 2, "action", 5)


def test_ref_not_checked_when_referenced_entity_absent() -> None:
    # No laboratory table: the sample's lab cannot be checked, so it is not reported.
    assert run([sample("S1", lab_id="L9")], "REF-001") == []
    # Activities name action 5 and group G9, but neither entity is part of the validation.
    assert run([activity("A1", project_group_id="G9")], "REF-001") == []


def test_ref_null_optional_reference_not_flagged() -> None:
    data = [
        lab("L1"),
        group("G1"),
        activity("A1", project_group_id=None),
        method("M1", lab_id=None),
        study("PT1", coordinator_lab=None),
    ]
    assert run(data, "REF-001") == []


def test_ref_list_reference_one_finding_per_missing_item() -> None:
    data = {
        "laboratory": [lab("L1"), lab("L4")],
        "project_group": [
            group("G0", member_labs=("L1", "L4")),
            group("G1", member_labs=("L1", "L2", "L4", "L3")),
        ],
    }
    found = run(data, "REF-001")
    assert [f.value for f in found] == ["L2", "L3"]
    for f, missing in zip(found, ["L2", "L3"], strict=True):
        check(f, "REF-001", ERROR, "project_group", "G1", 2, "member_labs", missing)


def test_ref_list_reference_action_plan_objectives() -> None:
    objectives = [objective("1", "strategic"), objective("1.a", "operational", "1")]
    items = [item("AP1", objectives=("1.a",)), item("AP2", objectives=("1", "9.z", "1.a"))]
    found = run([*objectives, *items], "REF-001")
    check(only(found), "REF-001", ERROR, "action_plan_item", "AP2", 2, "objectives", "9.z")


def test_ref_list_reference_all_present_or_empty() -> None:
    data = [lab("L1"), group("G1", member_labs=("L1",)), group("G2", member_labs=())]
    assert run(data, "REF-001") == []


def test_ref_self_reference() -> None:
    objectives = [objective("1", "strategic"), objective("3.a", "operational", "3")]
    check(only(run(objectives, "REF-001")), "REF-001", ERROR, "objective", "3.a", 2, "parent", "3")


# --- CN-001, CN-002 -------------------------------------------------------------------------


@covers("CN-001")
def test_cn_special_chapters_in_every_cn_field() -> None:
    data = [
        sample("S1", declared_cn="2208 90 69"),
        sample("S2", declared_cn="9801 00 00"),
        result("R1", cn_found="9905 00 00"),
        result("R2", cn_found="2208 90 69"),
        substance("0011481-8", cn_code="9999 99 99"),
        substance("0000024-8", cn_code=None),
    ]
    found = sorted(run(data, "CN-001"), key=lambda f: f.entity)
    assert len(found) == 3
    check(found[0], "CN-001", WARNING, "analysis_result", "R1", 1, "cn_found", "99050000")
    check(found[1], "CN-001", WARNING, "sample", "S2", 2, "declared_cn", "98010000")
    check(found[2], "CN-001", WARNING, "substance", "0011481-8", 1, "cn_code", "99999999")


def test_cn_regular_chapters_and_nulls_not_special() -> None:
    data = [
        sample("S1", declared_cn="2208 90 69"),
        sample("S2", declared_cn=None),
        sample("S3", declared_cn="9701 10 00"),  # chapter 97 is the last HS chapter
        result("R1", cn_found="0101 21 00"),
        substance("0011481-8", cn_code="2207 10 00"),
    ]
    assert run(data, "CN-001") == []


@covers("CN-002")
def test_cn_code_not_in_nomenclature() -> None:
    assert not hs.in_nomenclature("22089999")
    assert hs.in_nomenclature("22089069")
    data = [
        sample("S1", declared_cn="2208 90 69"),
        sample("S2", declared_cn="2208 99 99"),
        result("R1", cn_found="2208 99 99"),
        substance("0011481-8", cn_code="2208 99 99"),
    ]
    found = sorted(run(data, "CN-002"), key=lambda f: f.entity)
    assert len(found) == 3
    check(found[0], "CN-002", WARNING, "analysis_result", "R1", 1, "cn_found", "22089999")
    check(found[1], "CN-002", WARNING, "sample", "S2", 2, "declared_cn", "22089999")
    check(found[2], "CN-002", WARNING, "substance", "0011481-8", 1, "cn_code", "22089999")
    for f in found:
        assert "220899" in f.message


def test_cn_code_in_nomenclature_or_null_not_flagged() -> None:
    codes = ["22089069", "22071000", "29393000", "01012100"]
    assert all(hs.in_nomenclature(c) for c in codes)
    data = [sample(f"S{i}", declared_cn=c) for i, c in enumerate(codes)]
    data += [sample("SX", declared_cn=None), result("R1", cn_found=None)]
    assert run(data, "CN-002") == []


def test_cn_special_chapters_not_double_reported() -> None:
    special = ["98010000", "99050000", "99999999"]
    assert not any(hs.in_nomenclature(c) for c in special)
    data = [sample(f"S{i}", declared_cn=c) for i, c in enumerate(special, 1)]
    report = validate(data, only=["CN-001", "CN-002"])
    assert report.by_rule == {"CN-001": 3}
    assert [f.row for f in report] == [1, 2, 3]


# --- activities -----------------------------------------------------------------------------


@covers("ACT-001")
def test_act001_outside_member_states() -> None:
    data = [activity("A1"), activity("A2", country="RS", city="Belgrade")]
    f = only(run(data, "ACT-001"))
    check(f, "ACT-001", WARNING, "activity", "A2", 2, "country", "RS")
    assert "RS" in f.message


def test_act001_member_states_including_greek_alias() -> None:
    data = [
        activity("A1", country="EL"),
        activity("A2", country="GR"),
        activity("A3", country="mt"),
    ]
    assert run(data, "ACT-001") == []


def test_act001_asks_did_you_mean_when_a_member_state_was_plausibly_meant() -> None:
    data = [
        activity("A1", country="RS", city="Belgrade"),
        activity("A2", country="ET", city="Tartu"),  # as the Commission's page writes it
        activity("A3", country="SV", city="Stockholm"),  # sv: Swedish
        activity("A4", country="ET", city="Tartu"),
    ]
    found = {f.key: f for f in run(data, "ACT-001")}
    assert {k: f.message for k, f in found.items()} == {
        "A1": "RS is not an EU Member State",
        "A2": "ET is not an EU Member State: did you mean EE (Estonia)?",
        "A3": "SV is not an EU Member State: did you mean SE (Sweden)?",
        "A4": "ET is not an EU Member State: did you mean EE (Estonia)?",
    }
    check(found["A2"], "ACT-001", WARNING, "activity", "A2", 2, "country", "ET")  # kept as written
    assert run([activity("A1", country="EE", city="Tartu")], "ACT-001") == []


@covers("ACT-002")
def test_act002_long_activity() -> None:
    data = [
        activity("A1", start=D(2020, 1, 1), end=D(2020, 1, 1)),
        activity("A2", start=D(2020, 1, 1), end=D(2020, 3, 1)),
    ]
    check(only(run(data, "ACT-002")), "ACT-002", WARNING, "activity", "A2", 2, "end", D(2020, 3, 1))


def test_act002_one_month_is_not_too_long() -> None:
    data = [
        activity("A1", start=D(2020, 1, 1), end=D(2020, 1, 1)),
        activity("A2", start=D(2020, 1, 1), end=D(2020, 1, 31)),  # 31 days, first and last
        activity("A3", start=D(2020, 2, 1), end=D(2020, 3, 2)),  # 31 days across months
    ]
    assert run(data, "ACT-002") == []


def test_act002_boundary_counts_first_and_last_day() -> None:
    # `end` is the last day (equal to `start` for a one-day event), so 1 January to
    # 1 February is 32 days: more than 31, which the rule description says is flagged.
    data = [activity("A1", start=D(2020, 1, 1), end=D(2020, 2, 1))]
    check(only(run(data, "ACT-002")), "ACT-002", WARNING, "activity", "A1", 1, "end", D(2020, 2, 1))


@covers("ACT-003")
def test_act003_meeting_without_group() -> None:
    data = [
        activity("A1", kind="project_group_meeting", project_group_id="G1"),
        activity("A2", kind="project_group_meeting"),
    ]
    check(
        only(run(data, "ACT-003")), "ACT-003", INFO, "activity", "A2", 2, "project_group_id", None
    )


def test_act003_other_kinds_need_no_group() -> None:
    data = [
        activity("A1", kind="workshop"),
        activity("A2", kind="training_session"),
        activity("A3", kind="project_group_meeting", project_group_id="G1"),
    ]
    assert run(data, "ACT-003") == []


@covers("ACT-004")
def test_act004_group_of_another_action() -> None:
    data = [
        group("G1", action=5),
        group("G2", action=3),
        activity("A1", action=5, project_group_id="G1"),
        activity("A2", action=5, project_group_id="G2"),
    ]
    check(only(run(data, "ACT-004")), "ACT-004", WARNING, "activity", "A2", 2, "action", 5)


def test_act004_same_action_missing_group_or_no_group_table() -> None:
    data = [
        group("G1", action=5),
        activity("A1", action=5, project_group_id="G1"),
        activity("A2", action=3, project_group_id=None),
        activity("A3", action=3, project_group_id="G9"),  # missing group: REF-001's concern
    ]
    assert run(data, "ACT-004") == []
    assert run([activity("A1", action=3, project_group_id="G1")], "ACT-004") == []


# --- laboratories ---------------------------------------------------------------------------


@covers("LAB-001")
def test_lab001_third_country_criteria_unmet_or_unrecorded() -> None:
    data = [
        lab("L1", country="RS", status="third_country", participation_criteria={"a": True}),
        lab("L2", country="RS", status="third_country"),
        lab(
            "L3",
            country="RS",
            status="third_country",
            participation_criteria={"a": True, "b": False},
        ),
    ]
    found = run(data, "LAB-001")
    assert [f.key for f in found] == ["L2", "L3"]
    check(found[0], "LAB-001", WARNING, "laboratory", "L2", 2, "participation_criteria")
    check(found[1], "LAB-001", WARNING, "laboratory", "L3", 3, "participation_criteria")


def test_lab001_all_met_or_not_third_country() -> None:
    data = [
        lab(
            "L1",
            country="RS",
            status="third_country",
            participation_criteria={"quality": True, "confidentiality": True},
        ),
        lab("L2", participation_criteria={"a": False}),
        lab("L3", status="observer", country="CH"),
    ]
    assert run(data, "LAB-001") == []


@covers("LAB-002")
def test_lab002_member_outside_member_states() -> None:
    data = [lab("L1"), lab("L2", country="CH")]
    f = only(run(data, "LAB-002"))
    check(f, "LAB-002", WARNING, "laboratory", "L2", 2, "country", "CH")
    assert "CH" in f.message


def test_lab002_non_members_and_member_states() -> None:
    data = [
        lab("L1", country="EL"),
        lab("L2", country="RS", status="third_country", participation_criteria={"a": True}),
        lab("L3", country="CH", status="observer"),
    ]
    assert run(data, "LAB-002") == []


@covers("LAB-003")
def test_lab003_criteria_for_non_third_country() -> None:
    data = [
        lab("L1", country="RS", status="third_country", participation_criteria={"a": True}),
        lab("L2", participation_criteria={"a": True}),
        lab("L3", country="CH", status="observer", participation_criteria={"a": False}),
    ]
    found = run(data, "LAB-003")
    assert [f.key for f in found] == ["L2", "L3"]
    check(found[0], "LAB-003", INFO, "laboratory", "L2", 2, "participation_criteria")
    check(found[1], "LAB-003", INFO, "laboratory", "L3", 3, "participation_criteria")


def test_lab003_no_criteria_recorded() -> None:
    data = [lab("L1"), lab("L2", status="observer", country="CH", participation_criteria={})]
    assert run(data, "LAB-003") == []


# --- substances -----------------------------------------------------------------------------


@covers("SUB-001")
def test_sub001_cus_check_digit() -> None:
    assert cus.check_digit_matches("0011481-8")
    assert not cus.check_digit_matches("0011481-7")
    data = [substance("0011481-8"), substance("0011481-7")]
    f = only(run(data, "SUB-001"))
    check(f, "SUB-001", WARNING, "substance", "0011481-7", 2, "cus", "0011481-7")


def test_sub001_matching_check_digits_not_flagged() -> None:
    data = [substance(c) for c in ("0011481-8", "0000013-5", "0000024-8", "0000035-1")]
    assert run(data, "SUB-001") == []


@covers("SUB-002")
def test_sub002_no_cas_and_no_ec() -> None:
    data = [substance("0000024-8", cas="64-17-5", ec="200-578-6"), substance("0011481-8")]
    check(only(run(data, "SUB-002")), "SUB-002", INFO, "substance", "0011481-8", 2, None, None)


def test_sub002_either_identifier_is_enough() -> None:
    data = [substance("0000024-8", cas="64-17-5"), substance("0000013-5", ec="231-791-2")]
    assert run(data, "SUB-002") == []


# --- results --------------------------------------------------------------------------------


@covers("RES-001")
def test_res001_found_differs_from_declared() -> None:
    data = [
        sample("S1", declared_cn="2207 10 00"),
        sample("S2", declared_cn="2208 90 69"),
        result("R1", sample_id="S2", cn_found="2208 90 69"),
        result("R2", sample_id="S1", cn_found="2208 90 99"),
    ]
    f = only(run(data, "RES-001"))
    check(f, "RES-001", WARNING, "analysis_result", "R2", 2, "cn_found", "22089099")


def test_res001_nothing_to_compare() -> None:
    data = [
        sample("S1", declared_cn="2207 10 00"),
        sample("S2", declared_cn=None),
        result("R1", sample_id="S1", cn_found="22071000"),
        result("R2", sample_id="S1", cn_found=None),
        result("R3", sample_id="S2", cn_found="22089099"),
        result("R4", sample_id="S9", cn_found="22089099"),
    ]
    assert run(data, "RES-001") == []
    # Without the samples there is nothing to compare with.
    assert run([result("R1", cn_found="22089099")], "RES-001") == []


@covers("RES-002")
def test_res002_analyte_differs_from_method() -> None:
    data = [method("M1", analyte="ethanol"), result("R1"), result("R2", analyte="methanol")]
    f = only(run(data, "RES-002"))
    check(f, "RES-002", INFO, "analysis_result", "R2", 2, "analyte", "methanol")


def test_res002_same_analyte_ignoring_case_or_no_method() -> None:
    data = [method("M1", analyte="Ethanol"), result("R1", analyte="ETHANOL")]
    assert run(data, "RES-002") == []
    assert run([result("R1", analyte="methanol")], "RES-002") == []


@covers("RES-003")
def test_res003_withdrawn_method() -> None:
    data = [
        method("M1", status="approved"),
        method("M2", status="withdrawn"),
        result("R1", method_id="M1"),
        result("R2", method_id="M2"),
    ]
    check(
        only(run(data, "RES-003")),
        "RES-003",
        WARNING,
        "analysis_result",
        "R2",
        2,
        "method_id",
        "M2",
    )


def test_res003_other_statuses_or_no_method() -> None:
    methods = [
        method(f"M{i}", status=s) for i, s in enumerate(["draft", "under_review", "approved"])
    ]
    results = [result(f"R{i}", method_id=f"M{i}") for i in range(3)]
    assert run([*methods, *results], "RES-003") == []
    assert run([result("R1", method_id="M9")], "RES-003") == []


RES004_CASES = [
    # value, U, limit, limit type, decision rule (None: the default), expected outcome
    (10.5, 0.2, 10.0, "upper", None, "non_compliant"),
    (10.1, 0.2, 10.0, "upper", None, "inconclusive"),
    (9.7, 0.2, 10.0, "upper", None, "compliant"),
    (9.5, 0.5, 10.0, "upper", None, "compliant"),  # x + U = L: pass
    (10.0, None, 10.0, "upper", "simple", "compliant"),  # simple acceptance: x ≤ L
    (10.5, None, 10.0, "upper", "simple", "non_compliant"),
    (9.5, 0.2, 10.0, "lower", None, "non_compliant"),
    (9.9, 0.2, 10.0, "lower", None, "inconclusive"),
    (10.3, 0.2, 10.0, "lower", None, "compliant"),
    (10.5, 0.5, 10.0, "lower", None, "compliant"),  # x − U = L: pass
    (79.2, 0.3, 80.0, "lower", None, "non_compliant"),
    (20.3, 1.0, 20.0, "upper", None, "inconclusive"),
    (79.8, 0.3, 80.0, "lower", "guard_band(1, rejection)", "compliant"),  # benefit of doubt
    (9.9, 0.2, 10.0, "upper", "from_risk(0.05, acceptance)", "non_compliant"),  # not by w
    (10.1, 0.2, 10.0, "upper", "guard_band(1, acceptance)", "non_compliant"),
]


def _res004_result(result_id: str, case: tuple[Any, ...]) -> AnalysisResult:
    v, u, lim, lt, rule_code, _ = case
    return result(
        result_id,
        value=v,
        expanded_uncertainty=u,
        limit=lim,
        limit_type=lt,
        decision_rule=rule_code,
    )


@covers("RES-004")
def test_res004_non_compliant_and_inconclusive_name_outcome_and_zone() -> None:
    results = [_res004_result(f"R{i}", case) for i, case in enumerate(RES004_CASES, 1)]
    results.append(result("RX", value=1e9, expanded_uncertainty=None))  # no limit: no decision
    found = {f.key: f for f in run(results, "RES-004")}
    expected = {f"R{i}": case[-1] for i, case in enumerate(RES004_CASES, 1)}
    assert set(found) == {k for k, d in expected.items() if d != "compliant"}
    for key, f in found.items():
        check(f, "RES-004", INFO, "analysis_result", key, int(key[1:]), "value")
        r = results[int(key[1:]) - 1]
        assert r.decision is not None
        word = {"non_compliant": "non-compliant", "inconclusive": "inconclusive"}[expected[key]]
        assert f.message.startswith(f"{word} ({r.decision.zone.value.replace('_', ' ')})")
    # Each (outcome, zone) has its own message.
    assert len({f.message for f in found.values()}) == len(
        {(expected[k], results[int(k[1:]) - 1].decision.zone) for k in found}  # type: ignore[union-attr]
    )


def test_res004_cases_agree_with_decide() -> None:
    for i, case in enumerate(RES004_CASES):
        v, u, lim, lt, rule_code, expected = case
        limits = {"upper": lim} if lt == "upper" else {"lower": lim}
        d = decide(v, **limits, U=u, rule=rule_code or "guard_band(1)")
        assert d.outcome == expected, case
        r = _res004_result(f"R{i}", case)
        assert r.decision == d


def test_res004_compliant_or_without_decision_not_flagged() -> None:
    results = [
        result("R1", value=9.0, expanded_uncertainty=0.5, limit=10.0, limit_type="upper"),
        result("R2", value=11.0, expanded_uncertainty=0.5, limit=10.0, limit_type="lower"),
        result("R3", value=1e6, expanded_uncertainty=None),
        # No U under a rule that needs one: no decision (RES-005 says so).
        result("R4", value=11.0, expanded_uncertainty=None, limit=10.0, limit_type="upper"),
        # "< 12" against an upper limit of 10: the true value may be either side.
        result("R5", value=12.0, less_than=True, limit=10.0, limit_type="upper"),
    ]
    assert run(results, "RES-004") == []
    assert [r.decision for r in results] == [results[0].decision, results[1].decision] + [None] * 3


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@settings(max_examples=200)
@given(
    value=finite | st.floats(allow_nan=False, allow_infinity=False),
    uncertainty=st.none() | st.floats(min_value=0, max_value=1e3, allow_nan=False),
    limit=finite | st.sampled_from([0.0, 10.0, -10.0]),
    limit_type=st.sampled_from(["upper", "lower"]),
    rule_code=st.sampled_from([None, "simple", "guard_band(0.5, acceptance)"])
    | st.sampled_from(["from_risk(0.05, rejection)", "from_risk(0.01, both)"]),
)
def test_res004_agrees_with_decide(
    value: float,
    uncertainty: float | None,
    limit: float,
    limit_type: str,
    rule_code: str | None,
) -> None:
    r = result(
        "R1",
        value=value,
        expanded_uncertainty=uncertainty,
        limit=limit,
        limit_type=limit_type,
        decision_rule=rule_code,
    )
    decision = r.decision
    if uncertainty is not None or rule_code == "simple":
        limits = {"upper": limit} if limit_type == "upper" else {"lower": limit}
        assert decision == decide(value, **limits, U=uncertainty, rule=rule_code or "guard_band(1)")
    else:
        assert decision is None
    found = run([r], "RES-004")
    assert bool(found) == (decision is not None and decision.outcome != "compliant")
    if found:
        assert decision is not None
        f = only(found)
        check(f, "RES-004", INFO, "analysis_result", "R1", 1, "value", value)
        wanted = "non-compliant" if decision.outcome == "non_compliant" else "inconclusive"
        assert f.message.lower().startswith(wanted)


@settings(max_examples=40)
@given(st.lists(from_entity("analysis_result"), min_size=1, max_size=8))
def test_res004_agrees_with_decision_property_on_random_results(
    results: list[AnalysisResult],
) -> None:
    results = [
        AnalysisResult(**{**_fields(r), "result_id": f"R{i}"}) for i, r in enumerate(results, 1)
    ]
    flagged = {f.row: f for f in run(results, "RES-004")}
    for row, r in enumerate(results, 1):
        decision = r.decision
        assert (row in flagged) == (decision is not None and decision.outcome != "compliant")
        if row in flagged:
            assert decision is not None
            word = "non-compliant" if decision.outcome == "non_compliant" else "inconclusive"
            assert flagged[row].message.lower().startswith(word)


def _fields(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in get_entity(obj).field_names}


# --- proficiency ----------------------------------------------------------------------------


@covers("PT-001")
def test_pt001_too_few_results() -> None:
    studies = [study("PT1"), study("PT2"), study("PT3")]
    data = [*studies, *pt_results("PT1", 8), *pt_results("PT2", 7)]
    found = run(data, "PT-001")
    assert [f.key for f in found] == ["PT2", "PT3"]
    check(found[0], "PT-001", WARNING, "pt_study", "PT2", 2, None, 7)
    check(found[1], "PT-001", WARNING, "pt_study", "PT3", 3, None, 0)  # no result at all
    assert "8" in found[0].message


def test_pt001_zero_results_with_empty_result_table() -> None:
    found = run({"pt_study": [study("PT1")], "pt_result": []}, "PT-001")
    check(only(found), "PT-001", WARNING, "pt_study", "PT1", 1, None, 0)


def test_pt001_enough_results_or_no_result_table() -> None:
    data = [study("PT1"), study("PT2"), *pt_results("PT1", 8), *pt_results("PT2", 12)]
    assert run(data, "PT-001") == []
    # Without any pt_result table the rule has nothing to count: it does not run.
    assert run([study("PT1"), study("PT2")], "PT-001") == []


def test_pt001_counts_laboratories_not_replicates() -> None:
    duplicates = [
        PTResult(study_id="PT1", lab_id=f"L{i}", replicate=j, value=40.0 + i / 100)
        for i in range(5)
        for j in (1, 2)
    ]
    found = run([study("PT1"), *duplicates], "PT-001")
    check(only(found), "PT-001", WARNING, "pt_study", "PT1", 1, None, 5)


@covers("PT-002")
def test_pt002_no_sigma() -> None:
    data = [study("PT1", sigma_pt=0.5), study("PT2", sigma_pt=None)]
    check(only(run(data, "PT-002")), "PT-002", INFO, "pt_study", "PT2", 2, "sigma_pt", None)


def test_pt002_sigma_given() -> None:
    assert run([study("PT1", sigma_pt=0.5), study("PT2", sigma_pt=1e-9)], "PT-002") == []


def test_pt002_sigma_from_another_source_or_a_qualitative_study() -> None:
    data = [
        study("PT1", sigma_pt=None, sigma_pt_relative=0.02),
        study("PT2", sigma_pt=None, sigma_pt_source=SigmaPtSource.HORWITZ),
        study("PT3", sigma_pt=None, kind=ResultKind.CLASSIFICATION),
        study("PT4", sigma_pt=None, sigma_pt_source=SigmaPtSource.PARTICIPANTS_DATA),
    ]
    check(only(run(data, "PT-002")), "PT-002", INFO, "pt_study", "PT4", 4, "sigma_pt", None)


@covers("PT-003")
def test_pt003_source_without_value() -> None:
    crm = AssignedValueSource.CERTIFIED_REFERENCE_MATERIAL
    data = [
        study("PT1", assigned_value_source=crm, assigned_value=10.0),
        study("PT2", assigned_value_source=crm),
        study("PT3", assigned_value_source=AssignedValueSource.PARTICIPANTS_CONSENSUS),
        study("PT4"),
        study("PT5", assigned_value_source=crm, kind=ResultKind.NOMINAL),
    ]
    check(only(run(data, "PT-003")), "PT-003", ERROR, "pt_study", "PT2", 2, "assigned_value", None)


# --- enforcement ----------------------------------------------------------------------------


@covers("OBJ-001")
def test_obj001_level_and_parent_mismatches() -> None:
    objectives = [
        objective("1", "strategic"),
        objective("1.a", "strategic", "1"),  # strategic with a dot
        objective("2", "operational"),  # operational without a dot
        objective("3.a.ii", "operational", "3"),  # wrong parent
        objective("4", "strategic", "1"),  # strategic with a parent
        objective("5.b", "operational"),  # operational with no parent
    ]
    found = run(objectives, "OBJ-001")
    got = sorted((f.key, f.field) for f in found)
    assert got == [
        ("1.a", "level"),
        ("2", "level"),
        ("3.a.ii", "parent"),
        ("4", "parent"),
        ("5.b", "parent"),
    ]
    by = {(f.key, f.field): f for f in found}
    check(by["1.a", "level"], "OBJ-001", ERROR, "objective", "1.a", 2, "level", "strategic")
    check(by["2", "level"], "OBJ-001", ERROR, "objective", "2", 3, "level", "operational")
    check(by["3.a.ii", "parent"], "OBJ-001", ERROR, "objective", "3.a.ii", 4, "parent", "3")
    check(by["4", "parent"], "OBJ-001", ERROR, "objective", "4", 5, "parent", "1")
    check(by["5.b", "parent"], "OBJ-001", ERROR, "objective", "5.b", 6, "parent", None)


def test_obj001_consistent_tree() -> None:
    objectives = [
        objective("1", "strategic"),
        objective("1.a", "operational", "1"),
        objective("3", "strategic"),
        objective("3.a", "operational", "3"),
        objective("3.a.ii", "operational", "3.a"),
        objective("12", "strategic"),
        objective("12.c", "operational", "12"),
    ]
    assert run(objectives, "OBJ-001") == []


@covers("API-001")
def test_api001_completed_without_evaluation() -> None:
    data = [
        item("AP1", status="completed", evaluation="Reused in two Member States."),
        item("AP2", status="completed"),
    ]
    check(
        only(run(data, "API-001")),
        "API-001",
        WARNING,
        "action_plan_item",
        "AP2",
        2,
        "evaluation",
        None,
    )


def test_api001_not_completed_needs_no_evaluation() -> None:
    data = [item(f"AP{i}", status=s) for i, s in enumerate(["planned", "ongoing", "cancelled"])]
    assert run(data, "API-001") == []


# --- programme ------------------------------------------------------------------------------


@covers("FUN-001")
def test_fun001_over_budget() -> None:
    data = [
        programme("P1", "100.00"),
        programme("P2", "100.00"),
        funded("F1", "60.00", "P1"),
        funded("F2", "40.00", "P2"),
        funded("F3", "40.01", "P1"),
    ]
    f = only(run(data, "FUN-001"))
    check(f, "FUN-001", ERROR, "programme", "P1", 1, "budget_eur", Decimal("100.00"))


def test_fun001_exactly_equal_or_under_is_fine() -> None:
    data = [
        programme("P1", "100.00"),
        programme("P2", "100.00"),
        programme("P3", "0.00"),  # nothing funded
        funded("F1", "60.00", "P1"),
        funded("F2", "40.00", "P1"),
        funded("F3", "99.99", "P2"),
        funded("F4", "500.00", "P9"),  # another programme's money does not count
    ]
    assert run(data, "FUN-001") == []
    assert run([programme("P1", "0.00")], "FUN-001") == []


def test_fun001_sum_beyond_decimal_precision_is_reported_not_raised() -> None:
    # Budgets are decimal(18, 2); the sum of two large funded actions does not fit that
    # type, but it is certainly over the budget: a finding, not a crash.
    data = [
        programme("P1", "9999999999999999.99"),
        funded("F1", "9000000000000000.00"),
        funded("F2", "9000000000000000.00"),
    ]
    f = only(run(data, "FUN-001"))
    check(f, "FUN-001", ERROR, "programme", "P1", 1, "budget_eur", Decimal("9999999999999999.99"))


@covers("FUN-002")
def test_fun002_year_outside_programme() -> None:
    data = [
        programme("P1"),
        funded("F1", "1.00", year=2021),
        funded("F2", "1.00", year=2020),
        funded("F3", "1.00", year=2028),
    ]
    found = run(data, "FUN-002")
    assert [f.key for f in found] == ["F2", "F3"]
    check(found[0], "FUN-002", WARNING, "funded_action", "F2", 2, "year", 2020)
    check(found[1], "FUN-002", WARNING, "funded_action", "F3", 3, "year", 2028)


def test_fun002_year_inside_unknown_or_no_programme() -> None:
    data = [
        programme("P1"),
        funded("F1", "1.00", year=2021),
        funded("F2", "1.00", year=2027),
        funded("F3", "1.00", year=None),
        funded("F4", "1.00", "P9", year=1999),  # unknown programme: REF-001's concern
    ]
    assert run(data, "FUN-002") == []
    assert run([funded("F1", "1.00", year=1999)], "FUN-002") == []


# --- cooperation ----------------------------------------------------------------------------


@covers("ATT-001")
def test_att001_host_among_covered() -> None:
    data = [
        post("NL-SG", "SG", ("ID", "MY", "TH", "VN")),
        post("NL-XX", "SG", ("ID", "SG", "MY")),
    ]
    f = only(run(data, "ATT-001"))
    check(f, "ATT-001", WARNING, "attache_post", "NL-XX", 2, "covered_countries", "SG")


def test_att001_host_not_covered() -> None:
    data = [post("NL-SG", "SG", ("ID", "MY")), post("NL-US", "US"), post("NL-GB", "GB", ("IE",))]
    assert run(data, "ATT-001") == []


# --- coverage of the rules by the tests above -----------------------------------------------


def test_every_builtin_rule_is_tested() -> None:
    assert builtin_rule_ids() == COVERED
    assert len(COVERED) == 32


# --- the report -----------------------------------------------------------------------------


def _rs_activities(n: int) -> list[Activity]:
    return [activity(f"A{i}", country="RS") for i in range(1, n + 1)]


def test_report_cap_keeps_n_and_counts_all() -> None:
    data = [*_rs_activities(5), activity("A1")]  # 5 × ACT-001 (warning), 1 × DUP-001 (error)
    report = validate(data, only=["ACT-001", "DUP-001"], max_findings=3)
    assert len(report.findings) == 3
    assert report.total == 6
    assert len(report) == 6
    assert report.truncated
    assert report.by_rule == {"ACT-001": 5, "DUP-001": 1}
    assert report.by_severity[WARNING] == 5
    assert report.by_severity[ERROR] == 1
    assert not report.ok
    # The error, found after them, takes the place of the last warning kept.
    assert [f.rule for f in report] == ["DUP-001", "ACT-001", "ACT-001"]
    d = report.to_dict()
    assert d["truncated"] is True
    assert d["counts"]["total"] == 6
    assert len(d["findings"]) == 3


def test_report_cap_zero_and_uncapped() -> None:
    report = validate(_rs_activities(4), only=["ACT-001"], max_findings=0)
    assert report.findings == []
    assert report.total == 4
    assert report.truncated
    full = validate(_rs_activities(4), only=["ACT-001"])
    assert len(full.findings) == full.total == 4
    assert not full.truncated
    assert full.by_rule == {"ACT-001": 4}


def test_report_cap_across_calls_of_one_rule() -> None:
    # REF-001 reports per entity and per field: the cap holds across its calls.
    data = [lab("L1"), *[sample(f"S{i}", lab_id="L9") for i in range(3)]]
    data += [method(f"M{i}", lab_id="L8") for i in range(3)]
    report = validate(data, only=["REF-001"], max_findings=4)
    assert len(report.findings) == 4
    assert report.total == 6
    assert report.by_rule == {"REF-001": 6}


def test_report_to_json() -> None:
    data = [
        programme("P1", "1.00"),
        funded("F1", "2.00"),
        activity("A1", country="RS", start=D(2020, 1, 1), end=D(2020, 6, 1)),
    ]
    report = validate(data)
    doc = json.loads(report.to_json())
    assert set(doc) == {"ok", "records", "rejected", "counts", "truncated", "findings"}
    assert doc["ok"] is False
    assert doc["truncated"] is False
    assert doc["records"] == {"programme": 1, "funded_action": 1, "activity": 1}
    assert set(doc["counts"]) == {"total", "by_severity", "by_rule"}
    assert doc["counts"]["total"] == report.total == len(doc["findings"])
    assert doc["counts"]["by_severity"] == {"error": 1, "warning": 2, "info": 0}
    assert doc["counts"]["by_rule"] == {"ACT-001": 1, "ACT-002": 1, "FUN-001": 1}
    keys = {"file", "rule", "severity", "entity", "key", "row", "field", "value", "message"}
    for f in doc["findings"]:
        assert set(f) == keys
        assert f["severity"] in {"error", "warning", "info"}
    by_rule = {f["rule"]: f for f in doc["findings"]}
    assert by_rule["FUN-001"]["value"] == "1.00"  # a Decimal, as text
    assert by_rule["ACT-002"]["value"] == "2020-06-01"  # a date, as text
    assert by_rule["ACT-001"]["value"] == "RS"
    assert json.loads(report.to_json(indent=None)) == doc


def test_report_format_table() -> None:
    data = [*_rs_activities(3), activity("A1"), study("PT1", sigma_pt=None)]
    report = validate(data)
    text = report.format_table()
    for rule_id in ("ACT-001", "DUP-001", "PT-002"):
        assert rule_id in text
    assert "rule" in text.splitlines()[0]
    assert "5 finding(s)" in text
    lines = text.splitlines()
    # Worst first: the error comes before the warnings and the info.
    assert lines[1].startswith("DUP-001")
    assert lines[-2].startswith("PT-002")
    short = report.format_table(limit=2)
    assert "3 more not shown" in short
    assert "PT-002" not in short


def test_report_ok_iff_error() -> None:
    warnings_only = validate(_rs_activities(2))
    assert warnings_only.total == 2
    assert warnings_only.ok
    infos = validate([study("PT1", sigma_pt=None)])
    assert infos.total == 1
    assert infos.ok
    errors = validate([activity("A1"), activity("A1")])
    assert not errors.ok
    assert errors.by_severity[ERROR] == 1
    assert validate([]).ok


def test_report_records_and_filter() -> None:
    data = [*_rs_activities(3), lab("L1"), lab("L2"), study("PT1", sigma_pt=None)]
    report = validate(data)
    assert report.records == {"activity": 3, "laboratory": 2, "pt_study": 1}
    assert len(report.filter(rule="ACT-001")) == 3
    assert len(report.filter(severity="info")) == 1
    assert len(report.filter(severity=INFO, rule="ACT-001")) == 0
    assert report.filter() == report.findings


def test_report_counts_directly() -> None:
    report = Report(max_findings=1)
    finding = Finding("ACT-001", WARNING, "activity", "A1", 1, "country", "RS", "outside")
    report.add(finding)
    report.add(finding)
    report.count("DUP-001", ERROR, 2)
    assert report.findings == [finding]
    assert report.total == 4
    assert report.room == 0
    assert report.truncated
    assert not report.ok


# --- the registry ---------------------------------------------------------------------------

RULE_ID = re.compile(r"[A-Z][A-Z0-9]{1,7}-[0-9]{3}")


def test_registry_rules_are_well_formed() -> None:
    all_rules = rules()
    ids = [r.id for r in all_rules]
    assert len(ids) == len(set(ids))
    assert ids == sorted(ids)
    assert set(RULES) == set(ids)
    for r in all_rules:
        assert RULE_ID.fullmatch(r.id)
        assert r.description.strip()
        assert "\n" not in r.description
        assert isinstance(r.severity, Severity)
        assert r.severity in set(Severity)
        assert r.entity is None or r.entity in ENTITIES
        assert get_rule(r.id) is r
        assert callable(r.check)


def test_registry_by_entity() -> None:
    ids = {r.id for r in rules(entity="activity")}
    assert {"ACT-001", "ACT-002", "ACT-003", "ACT-004"} <= ids
    any_entity = {r.id for r in rules() if r.entity is None}
    assert any_entity == {"DUP-001", "REF-001", "CN-001", "CN-002", "READ-001"}
    assert any_entity <= ids
    assert not any(i.startswith("LAB-") for i in ids)
    assert ids == {r.id for r in rules() if r.entity in (None, "activity")}
    lab_ids = {r.id for r in rules(entity="laboratory")}
    assert {"LAB-001", "LAB-002", "LAB-003"} <= lab_ids
    assert not any(i.startswith("ACT-") for i in lab_ids)


def test_registry_unknown_rule() -> None:
    with pytest.raises(UnknownRuleError) as info:
        get_rule("NOPE-001")
    assert isinstance(info.value, ClenError)
    assert isinstance(info.value, LookupError)
    with pytest.raises(UnknownRuleError):
        validate([activity()], only=["NOPE-001"])


def test_registry_refuses_a_second_rule_under_a_taken_id() -> None:
    before = dict(rule_registry.RULES)
    other = Rule("ACT-001", WARNING, "activity", "Something else.", lambda ctx: None)
    with pytest.raises(ClenError):
        register_rule(other)
    with pytest.raises(ClenError):
        rule("DUP-001", "error", None, "Something else.")(lambda ctx: None)
    assert dict(rule_registry.RULES) == before
    assert get_rule("ACT-001").description != "Something else."
    # Registering the very same rule again is harmless.
    assert register_rule(get_rule("ACT-001")) is get_rule("ACT-001")


@pytest.mark.parametrize("bad", ["ACT-1", "act-001", "A-001", "ABCDEFGHI-001", "ACT001", ""])
def test_rule_id_must_look_like_abc_001(bad: str) -> None:
    with pytest.raises(ValueError, match="ABC-001"):
        Rule(bad, WARNING, None, "A description.", lambda ctx: None)


@pytest.mark.parametrize("description", ["", "two\nlines"])
def test_rule_needs_a_one_line_description(description: str) -> None:
    with pytest.raises(ValueError, match="one-line"):
        Rule("TST-999", WARNING, None, description, lambda ctx: None)


@pytest.fixture
def theme_rule() -> Iterator[Rule]:
    """A temporary per-record rule TST-901 on activities, removed afterwards."""
    assert "TST-901" not in RULES
    try:

        @record_rule("TST-901", "warning", "activity", "Test rule: a theme must not be 'X'.")
        def check_theme(a: Activity) -> Iterator[tuple[str | None, Any, str]]:
            if a.theme == "X":
                yield "theme", a.theme, "theme X is not allowed"
            if a.participants == 0:
                yield None, None, "nobody came"

        yield check_theme
    finally:
        rule_registry.RULE_REGISTRY.remove("TST-901")
    assert "TST-901" not in RULES


def test_record_rule_fires_with_row_and_key(theme_rule: Rule) -> None:
    assert get_rule("TST-901") is theme_rule
    assert theme_rule.severity is WARNING
    assert theme_rule.entity == "activity"
    assert theme_rule.origin == "clen_core"
    assert "TST-901" in {r.id for r in rules(entity="activity")}
    data = [activity("A1"), activity("A2", theme="X"), activity("A3", participants=0)]
    found = run(data, "TST-901")
    assert len(found) == 2
    check(found[0], "TST-901", WARNING, "activity", "A2", 2, "theme", "X")
    check(found[1], "TST-901", WARNING, "activity", "A3", 3, None, None)
    # It runs with the built-in rules, and sees source rows of an Arrow table.
    table = to_arrow(data).append_column(ROW_COLUMN, pa.array([7, 8, 9], pa.int64()))
    report = validate({"activity": table})
    assert [(f.key, f.row) for f in report.filter(rule="TST-901")] == [("A2", 8), ("A3", 9)]
    # Not run when no activity is validated.
    assert validate([lab("L1")], only=["TST-901"]).total == 0


def test_record_rule_counter_example(theme_rule: Rule) -> None:
    assert run([activity("A1", theme="Y", participants=3)], "TST-901") == []


def test_record_rule_origin_and_duplicate() -> None:
    try:

        @record_rule("TST-902", INFO, "laboratory", "Test rule.", origin="my-plugin")
        def never(lab: Laboratory) -> Iterator[tuple[str | None, Any, str]]:
            return iter(())

        assert get_rule("TST-902").origin == "my-plugin"
        assert get_rule("TST-902").severity is INFO
        with pytest.raises(ClenError, match="my-plugin"):
            record_rule("TST-902", INFO, "laboratory", "Another.")(never)
        assert run([lab("L1")], "TST-902") == []
    finally:
        rule_registry.RULE_REGISTRY.remove("TST-902")


# --- input forms ----------------------------------------------------------------------------


def _form_objects() -> list[Any]:
    return [
        lab("L1"),
        lab("L2", country="CH"),  # LAB-002, laboratory row 2
        activity("A1"),
        activity("A2", country="RS"),  # ACT-001, activity row 2
        sample("S1", lab_id="L1"),
        sample("S2", lab_id="L9", declared_cn="9801 00 00"),  # REF-001, CN-001, sample row 2
    ]


EXPECTED_FORM_FINDINGS = {
    ("ACT-001", "activity", "A2", 2),
    ("CN-001", "sample", "S2", 2),
    ("LAB-002", "laboratory", "L2", 2),
    ("REF-001", "sample", "S2", 2),
}


def _summary(report: Report) -> set[tuple[str, str, str | None, int | None]]:
    return {(f.rule, f.entity, f.key, f.row) for f in report}


def _by_entity(objs: list[Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for o in objs:
        out.setdefault(get_entity(o).name, []).append(o)
    return out


def test_validate_accepts_a_plain_list_of_mixed_objects() -> None:
    report = validate(_form_objects())
    assert _summary(report) == EXPECTED_FORM_FINDINGS
    assert report.records == {"laboratory": 2, "activity": 2, "sample": 2}


def test_validate_accepts_a_dataset() -> None:
    report = validate(Dataset(_form_objects()))
    assert _summary(report) == EXPECTED_FORM_FINDINGS
    assert report.records == {"laboratory": 2, "activity": 2, "sample": 2}


def test_validate_accepts_a_mapping_of_names() -> None:
    report = validate(_by_entity(_form_objects()))
    assert _summary(report) == EXPECTED_FORM_FINDINGS


def test_validate_accepts_a_mapping_of_classes() -> None:
    by_class = {get_entity(name).cls: objs for name, objs in _by_entity(_form_objects()).items()}
    assert set(by_class) == {Laboratory, Activity, Sample}
    report = validate(by_class)
    assert _summary(report) == EXPECTED_FORM_FINDINGS


def test_validate_accepts_a_generator() -> None:
    report = validate(o for o in _form_objects())
    assert _summary(report) == EXPECTED_FORM_FINDINGS


def test_validate_accepts_arrow_tables_without_row_column() -> None:
    tables = {name: to_arrow(objs, name) for name, objs in _by_entity(_form_objects()).items()}
    report = validate(tables)
    assert _summary(report) == EXPECTED_FORM_FINDINGS


def test_validate_arrow_tables_with_row_column_carry_those_rows() -> None:
    tables = {}
    for offset, (name, objs) in enumerate(_by_entity(_form_objects()).items()):
        rows = pa.array([100 * (offset + 1) + i for i in range(len(objs))], pa.int64())
        tables[name] = to_arrow(objs, name).append_column(ROW_COLUMN, rows)
    report = validate(tables)
    assert _summary(report) == {
        ("ACT-001", "activity", "A2", 201),
        ("CN-001", "sample", "S2", 301),
        ("LAB-002", "laboratory", "L2", 101),
        ("REF-001", "sample", "S2", 301),
    }
    assert report.records == {"laboratory": 2, "activity": 2, "sample": 2}


def test_validate_row_column_with_duplicates_and_list_refs() -> None:
    groups = [group("G1", member_labs=("L1", "L7")), group("G2"), group("G1")]
    table = to_arrow(groups).append_column(ROW_COLUMN, pa.array([11, 12, 13], pa.int64()))
    report = validate({"project_group": table, Laboratory: [lab("L1")]})
    assert _summary(report) == {
        ("REF-001", "project_group", "G1", 11),
        ("DUP-001", "project_group", "G1", 13),
    }


def test_validate_mixes_tables_and_objects_in_one_mapping() -> None:
    data = {"laboratory": to_arrow([lab("L1")]), "sample": [sample("S1", lab_id="L2")]}
    assert _summary(validate(data, only=["REF-001"])) == {("REF-001", "sample", "S1", 1)}


def test_validate_bare_arrow_table() -> None:
    table = to_arrow([activity("A1", country="RS")])
    assert _summary(validate(table, only=["ACT-001"])) == {("ACT-001", "activity", "A1", 1)}
    bare = pa.table({"activity_id": ["A1"]})
    with pytest.raises(ValueError, match="metadata"):
        validate(bare)


# --- the reference dataset ------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference_report() -> Report:
    return validate(reference_dataset())


def test_reference_dataset_has_no_error(reference_report: Report) -> None:
    assert reference_report.ok
    assert reference_report.by_severity[ERROR] == 0
    assert not reference_report.filter(severity=ERROR)
    assert not reference_report.truncated


def test_reference_dataset_warnings_are_the_deliberate_ones(reference_report: Report) -> None:
    warnings = {(f.rule, f.key) for f in reference_report.filter(severity=WARNING)}
    # The Tartu workshop as published ("Tartu (ET)"), the third-country lab with a criterion
    # not met, the ethanol sample found to be another CN code.
    assert warnings == {("ACT-001", "L5-ee7d82f7"), ("LAB-001", "RS-BEG"), ("RES-001", "R-002")}
    assert reference_report.by_severity[WARNING] == 3
    (tartu,) = reference_report.filter(rule="ACT-001")
    assert tartu.value == "ET"
    assert tartu.message == "ET is not an EU Member State: did you mean EE (Estonia)?"


def test_reference_dataset_shows_every_rule_its_docstring_names(reference_report: Report) -> None:
    doc = reference_data.__doc__ or ""
    named = set(re.findall(r"\b[A-Z]{2,}-\d{3}\b", doc))
    assert named >= {"ACT-001", "LAB-001", "RES-001", "RES-004", "SUB-002", "PT-002"}
    assert named <= set(reference_report.by_rule)
    decisions = {f.key: f.message for f in reference_report.filter(rule="RES-004")}
    assert set(decisions) == {"R-002", "R-003"}
    assert decisions["R-002"].startswith("non-compliant")
    assert decisions["R-003"].startswith("inconclusive")


def test_reference_dataset_records(reference_report: Report) -> None:
    ds = reference_dataset()
    assert reference_report.records == ds.counts()


# --- properties over random valid objects ---------------------------------------------------

ENTITY_NAMES = [info.name for info in entities()]


@st.composite
def mixed_objects(draw: st.DrawFn) -> list[Any]:
    out: list[Any] = []
    for name in ENTITY_NAMES:
        out += draw(st.lists(from_entity(name), max_size=3))
    return draw(st.permutations(out))


def _assert_findings_in_range(objs: list[Any], report: Report) -> None:
    counts: dict[str, int] = {}
    for o in objs:
        name = get_entity(o).name
        counts[name] = counts.get(name, 0) + 1
    assert report.records == counts
    for f in report:
        assert f.entity in counts
        assert f.row is not None
        assert 1 <= f.row <= counts[f.entity]
        assert f.rule in RULES
        assert f.severity is RULES[f.rule].severity
        assert f.message
        assert f.key is not None
        # The key names a record of that entity at that row.
        record = [o for o in objs if get_entity(o).name == f.entity][f.row - 1]
        info = get_entity(f.entity)
        assert f.key == info.format_key(info.key_of(record))
    assert report.total == len(report.findings)
    assert sum(report.by_rule.values()) == report.total
    json.loads(report.to_json())


@settings(max_examples=40)
@given(mixed_objects())
def test_validate_random_objects_of_every_entity(objs: list[Any]) -> None:
    report = validate(objs)
    _assert_findings_in_range(objs, report)


# Keys and references drawn from a tiny pool, so that duplicates, references,
# lookups and sums between entities happen often. Amounts stay moderate: sums beyond
# the decimal type are test_fun001_sum_beyond_decimal_precision_is_reported_not_raised.
POOL = ["K1", "K2"]
AMOUNTS = st.decimals(min_value=0, max_value=10**9, places=2)


def _poolable(name: str, field: str) -> bool:
    f = get_entity(name).field(field)
    return f.scalar.py is str and f.spec.code is None and f.spec.pattern is None


@st.composite
def linked_object(draw: st.DrawFn, name: str) -> Any:
    info = get_entity(name)
    kw = draw(entity_kwargs(name))
    for f in info.fields:
        if f.scalar.py is Decimal:
            kw[f.name] = draw(AMOUNTS)
        target = f.spec.ref
        is_ref = target is not None and _poolable(target, get_entity(target).key[0])
        if (f.name in info.key or is_ref) and _poolable(name, f.name):
            if isinstance(kw[f.name], tuple):
                kw[f.name] = tuple(
                    draw(st.lists(st.sampled_from(POOL), unique=True, min_size=f.spec.min_items))
                )
            elif kw[f.name] is not None or draw(st.booleans()):
                kw[f.name] = draw(st.sampled_from(POOL))
    return info.cls(**kw)


@st.composite
def linked_objects(draw: st.DrawFn) -> list[Any]:
    out: list[Any] = []
    for name in ENTITY_NAMES:
        out += draw(st.lists(linked_object(name), max_size=3))
    return out


def _in_chunks(table: pa.Table, size: int) -> pa.Table:
    return pa.Table.from_batches(table.to_batches(max_chunksize=size), table.schema)


def _seen(report: Report) -> list[tuple[Any, ...]]:
    return [(f.rule, f.entity, f.key, f.row, f.field, f.value, f.message) for f in report]


@settings(max_examples=40)
@given(linked_objects(), st.integers(1, 4), st.integers(1, 30))
def test_validate_random_linked_objects(objs: list[Any], size: int, room: int) -> None:
    report = validate(objs)
    _assert_findings_in_range(objs, report)
    # Random rows as an Arrow table with a _row column: rows are carried over.
    tables = {}
    for name, group_objs in _by_entity(objs).items():
        rows = pa.array(range(1001, 1001 + len(group_objs)), pa.int64())
        tables[name] = to_arrow(group_objs, name).append_column(ROW_COLUMN, rows)
    from_tables = validate(tables)
    assert [(f.rule, f.entity, f.key, f.row - 1000) for f in from_tables] == [
        (f.rule, f.entity, f.key, f.row) for f in report
    ]
    # Tables in chunks (as a reader's batches come) give the same findings, kept or not.
    chunked = {name: _in_chunks(t, size) for name, t in tables.items()}
    assert _seen(validate(chunked)) == _seen(from_tables)
    assert _seen(validate(chunked, max_findings=room)) == _seen(validate(tables, max_findings=room))


@covers("READ-001")
def test_read001_rejected_rows_are_reported_once_per_row(tmp_path: Any) -> None:
    from clen_core.io.records import Reject

    report = Report(max_findings=2)
    rejects = [
        Reject("a.csv", 3, "action", "9", "must be ≤ 6"),
        Reject("a.csv", 3, "theme", "", "must not be empty"),
        Reject("a.csv", 5, None, "x,y", "wrong number of cells"),
    ]
    report.add_rejected_rows("activity", rejects, rows=4)  # 4 rows, 2 kept
    assert report.rejected == {"activity": 4}
    assert report.by_rule["READ-001"] == 4
    assert report.by_severity[ERROR] == 4
    assert not report.ok
    first, second = report.findings
    assert (first.rule, first.row, first.field, first.entity) == (
        "READ-001",
        3,
        "action",
        "activity",
    )
    assert first.message == "row rejected: action: must be ≤ 6; theme: must not be empty"
    assert (second.row, second.field, second.message) == (
        5,
        None,
        "row rejected: wrong number of cells",
    )
    assert validate([], only=["READ-001"]).total == 0  # tables never hold rejected rows


# --- what the rules read ----------------------------------------------------------------------


def _with_rows(table: pa.Table) -> pa.Table:
    return table.append_column(ROW_COLUMN, pa.array(range(2, table.num_rows + 2), pa.int64()))


@functools.cache
def _tables_of(name: str) -> list[pa.Table]:
    """The embedded reference records of ``name`` and generated ones (errors left out)."""
    from clen_core.io.columnar import validate_batches
    from clen_core.synth import generate_batches

    out = []
    reference = list(reference_dataset().records(name))
    if reference:
        out.append(to_arrow(reference, name))
    checked = validate_batches(name, generate_batches(name, 600, seed=4, error_rate=0.05))
    out.append(pa.Table.from_batches([c.valid for c in checked]))
    return out


@pytest.mark.parametrize("name", sorted(ENTITIES))
def test_an_entity_validated_on_its_own_needs_only_the_fields_its_rules_read(name: str) -> None:
    kept = fields_read(name)
    assert kept is not None  # every built-in rule declares what it reads
    assert set(get_entity(name).key) <= kept <= set(get_entity(name).field_names)
    for table in _tables_of(name):
        # The rules engine itself: clen_core.validate would check the rows, and refuse a
        # table without the required fields.
        whole = run_rules({name: _with_rows(table)}, max_findings=100_000)
        # A rule reading a field it did not declare fails here (no such column).
        part = run_rules({name: _with_rows(table.select(sorted(kept)))}, max_findings=100_000)
        assert part.to_dict() == whole.to_dict()


def test_a_rule_that_may_read_any_field_keeps_every_field(theme_rule: Rule) -> None:
    # A per-record rule builds whole objects of its entity, and reads no other table.
    assert theme_rule.fields_read(get_entity("activity")) is None
    assert theme_rule.fields_read(get_entity("laboratory")) == frozenset()
    assert fields_read("activity") is None
    assert fields_read("laboratory") is not None  # it is not over laboratories


def test_reads_as_names_or_as_a_function_of_the_entity() -> None:
    activity_info = get_entity("activity")
    assert get_rule("ACT-002").fields_read(activity_info) == {"start", "end"}
    assert get_rule("DUP-001").fields_read(activity_info) == {"activity_id"}
    assert get_rule("REF-001").fields_read(activity_info) == {
        f.name for f in activity_info.references
    }
    # A reference to the entity itself needs its key too.
    objective = get_entity("objective")
    assert "objective_id" in get_rule("REF-001").fields_read(objective)
    assert Rule("TST-999", WARNING, None, "A description.", lambda ctx: None).reads is None


@given(
    chunks=st.lists(
        st.lists(st.sampled_from(["member", "observer", "third_country", None]), max_size=30),
        min_size=1,
        max_size=4,
    ),
    value=st.sampled_from(["member", "third_country", "absent"]),
    index_type=st.sampled_from([pa.int8(), pa.int32()]),
)
def test_enum_equality_on_the_dictionary_matches_equality_on_the_decoded_text(
    chunks: list[list[str | None]], value: str, index_type: pa.DataType
) -> None:
    # Each chunk has a dictionary of its own (as batches read one by one do).
    encoded = pa.chunked_array(
        [pa.array(c, pa.string()).dictionary_encode().cast(pa.dictionary(index_type, pa.string()))
         for c in chunks],
        pa.dictionary(index_type, pa.string()),
    )  # fmt: skip
    expected = pa.compute.equal(encoded.cast(pa.string()), value)
    assert _is(encoded, value).to_pylist() == expected.to_pylist()
    first = encoded.chunk(0)
    assert (
        _is(first, value).to_pylist()
        == pa.compute.equal(first.dictionary_decode(), value).to_pylist()
    )
    plain = pa.chunked_array([pa.array(c, pa.string()) for c in chunks], pa.string())
    assert _is(plain, value).to_pylist() == expected.to_pylist()


@given(
    st.lists(st.sampled_from(["member", "observer", None]), min_size=1, max_size=5),
    st.lists(st.none() | st.integers(0, 4), max_size=20),
    st.sampled_from(["member", "observer", "absent"]),
)
def test_enum_equality_holds_on_dictionaries_with_repeats_and_null_entries(
    dictionary: list[str | None], picks: list[int | None], value: str
) -> None:
    # Arrow lets a dictionary repeat a value or hold a null; other writers make such.
    indices = pa.array([None if p is None else p % len(dictionary) for p in picks], pa.int32())
    column = pa.DictionaryArray.from_arrays(indices, pa.array(dictionary, pa.string()))
    assert _is(column, value).to_pylist() == [
        None if p is None or dictionary[p % len(dictionary)] is None
        else dictionary[p % len(dictionary)] == value
        for p in picks
    ]  # fmt: skip


def _by_parts(name: str, rows: pa.Table, cuts: list[int], max_findings: int) -> Report:
    validation = Validation(name, max_findings=max_findings)
    bounds = [0, *sorted(cuts), rows.num_rows]
    for start, end in itertools.pairwise(bounds):
        validation.add(rows.slice(start, end - start))
    return validation.finish()


@pytest.mark.parametrize("name", sorted(ENTITIES))
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_validating_part_by_part_reports_as_validating_the_whole(
    name: str, data: st.DataObject
) -> None:
    for table in _tables_of(name):
        rows = _with_rows(table)
        cuts = data.draw(st.lists(st.integers(0, rows.num_rows), max_size=4), label="cuts")
        max_findings = data.draw(st.sampled_from([0, 1, 5, 100_000]), label="max_findings")
        whole = validate({name: rows}, max_findings=max_findings)
        assert _by_parts(name, rows, cuts, max_findings).to_dict() == whole.to_dict()


def test_part_by_part_runs_the_rowwise_rules_on_each_part_and_the_others_at_the_end() -> None:
    (table, *_) = _tables_of("activity")[-1:]
    rows = _with_rows(table)
    whole = validate({"activity": rows}, max_findings=100_000)
    # The generated rows give findings of a rowwise rule and run one that is not.
    assert get_rule("ACT-001").rowwise
    assert whole.by_rule["ACT-001"] > 10
    assert not get_rule("DUP-001").rowwise
    seen: list[int] = []
    validation = Validation("activity", max_findings=100_000)
    for start in range(0, rows.num_rows, 100):
        validation.add(rows.slice(start, 100))
        seen.append(validation._found["ACT-001"].by_rule["ACT-001"])
    assert seen[0] < seen[-1] == whole.by_rule["ACT-001"]  # counted as the parts came
    assert validation.finish().to_dict() == whole.to_dict()
    with pytest.raises(ValueError, match="add a table first"):
        Validation("activity").finish()


def test_only_the_rules_that_need_more_than_one_row_are_not_rowwise() -> None:
    # A rule that is not rowwise does not run in Spark and Dask batches, and makes a
    # file's validation hold its rows: only these need other rows than the one judged.
    whole_table = {
        "DUP-001",  # other rows with the same key
        "REF-001",  # the rows of the referenced entity
        "READ-001",  # reported by the readers
        "FUN-001",  # the funded actions of the programme
        "PT-001",  # the results of the study
    }
    builtin = [r for r in rules() if r.plugin is None]
    assert len(builtin) > 30
    assert {r.id for r in builtin if not r.rowwise} == whole_table


@pytest.mark.parametrize("max_findings", [0, 2, 5, 100])
def test_rules_with_several_messages_report_in_row_order(max_findings: int) -> None:
    # RES-004 has a message per (outcome, zone), OBJ-001 one per field, ACT-001 one per "did you
    # mean": found row by row, the findings a cap keeps are the same whether the rows come
    # whole or one at a time.
    cases = [c for c in RES004_CASES if c[-1] != "compliant"]
    results = [_res004_result(f"R{i}", c) for i, c in enumerate([*cases[::-1], *cases], 1)]
    zones = {r.decision.zone for r in results if r.decision is not None}
    assert len(zones) > 1  # the rows alternate between the rule's messages
    objectives = [
        objective("1.a", "strategic"),  # both fields wrong
        objective("2", "strategic"),
        objective("2.b", "operational", "3"),
        objective("4.c", "strategic", "4"),
    ]
    activities = [
        activity("A1", country="ET", city="Tartu"),  # "did you mean EE (Estonia)?"
        activity("A2", country="TR", city="Ankara"),
        activity("A3", country="UK", city="Oxford"),
        activity("A4", country="TR", city="Izmir"),
        activity("A5", country="ET", city="Tartu"),
    ]
    for name, objs, rule_id in (
        ("analysis_result", results, "RES-004"),
        ("objective", objectives, "OBJ-001"),
        ("activity", activities, "ACT-001"),
    ):
        rows = _with_rows(to_arrow(objs, name))
        whole = validate({name: rows}, only=[rule_id], max_findings=max_findings)
        found = [f.row for f in run_rules({name: rows}, only=[rule_id])]
        assert found == sorted(found)
        assert len(found) > 3
        validation = Validation(name, only=[rule_id], max_findings=max_findings)
        for i in range(rows.num_rows):
            validation.add(rows.slice(i, 1))
        assert validation.finish().to_dict() == whole.to_dict()


def test_a_per_record_rule_is_rowwise(theme_rule: Rule) -> None:
    assert theme_rule.rowwise
    objs = [
        attrs.evolve(a, theme="X" if i % 3 == 0 else a.theme, participants=i % 2)
        for i, a in enumerate(reference_dataset().records("activity"))
    ]
    rows = _with_rows(to_arrow(objs, "activity"))
    whole = validate({"activity": rows}, max_findings=7)
    assert whole.by_rule["TST-901"] > 7
    for cuts in ([], [1], [2, 3], [0, len(objs)]):
        assert _by_parts("activity", rows, cuts, 7).to_dict() == whole.to_dict()


# --- decision rules on results and method validation data (RES-005, RES-006, MET-*) ----------


@covers("RES-005")
def test_res005_a_limit_without_the_uncertainty_its_rule_needs() -> None:
    data = [
        result("R1", expanded_uncertainty=None, limit=80.0, limit_type="lower"),  # default rule
        result("R2", expanded_uncertainty=None, limit=80.0, limit_type="lower",
               decision_rule="from_risk(0.05, rejection)"),
        result("R3", expanded_uncertainty=None, limit=80.0, limit_type="lower",
               decision_rule="simple"),  # simple acceptance needs no U
        result("R4", expanded_uncertainty=None, limit=80.0, limit_type="lower",
               decision_rule="guard_band(0)"),  # w = 0·U: none either
        result("R5", expanded_uncertainty=0.3, limit=80.0, limit_type="lower"),
        result("R6", expanded_uncertainty=None),  # no limit
    ]  # fmt: skip
    found = run(data, "RES-005")
    assert [f.key for f in found] == ["R1", "R2"]
    check(found[0], "RES-005", WARNING, "analysis_result", "R1", 1, "expanded_uncertainty", None)
    assert "needs U" in found[0].message
    assert [r.decision is None for r in data] == [True, True, False, False, False, True]


@covers("RES-006")
def test_res006_a_two_sided_limit_needs_its_upper_end_and_only_it() -> None:
    data = [
        result("R1", value=40.1, limit=39.7, limit_type="two_sided"),
        result("R2", value=40.1, limit=39.7, limit_type="lower", limit_high=40.3),
        result("R3", value=40.1, limit_high=40.3),
        result("R4", value=40.1, limit=39.7, limit_type="two_sided", limit_high=40.3),
        result("R5", value=40.1, limit=39.7, limit_type="lower"),
        result("R6", value=40.1, limit=40.3, limit_type="two_sided", limit_high=39.7),
    ]
    found = run(data, "RES-006")
    assert [f.key for f in found] == ["R1", "R2", "R3", "R6"]
    check(found[0], "RES-006", ERROR, "analysis_result", "R1", 1, "limit_high", None)
    assert "needs limit_high" in found[0].message
    assert "only with limit_type two_sided" in found[1].message
    assert "not below limit" in found[3].message
    assert [r.decision is None for r in data] == [True, True, True, False, False, True]
    d = data[3].decision
    assert d is not None
    assert d.acceptance_limit == pytest.approx((39.9, 40.1))  # w = U = 0.2 on each side
    assert d.zone == "pass"


def _scoped_method(**kw: Any) -> Method:
    return method("M1", unit="% vol", loq=0.5, lod=0.2, **kw)


@covers("MET-001")
def test_met001_a_result_below_the_loq_reported_as_a_number() -> None:
    data = [
        _scoped_method(),
        result("R1", value=0.3),  # below the LOQ, as a number
        result("R2", value=0.5, less_than=True),  # "< 0.5": as it should be
        result("R3", value=0.5),  # at the LOQ
        result("R4", value=0.3, unit="%VOL"),  # the same unit written otherwise
        result("R5", value=0.3, unit="mg/L"),  # another unit: not compared
        result("R6", value=0.3, method_id="M9"),  # unknown method
    ]
    found = run(data, "MET-001")
    assert [f.key for f in found] == ["R1", "R4"]
    check(found[0], "MET-001", WARNING, "analysis_result", "R1", 1, "value", 0.3)
    assert "< LOQ" in found[0].message
    assert run(data[1:], "MET-001") == []  # no method table: nothing to compare with
    assert run([method("M1"), result("R1", value=0.0)], "MET-001") == []  # no LOQ stated


@covers("MET-002")
def test_met002_a_sample_declared_outside_the_method_scope() -> None:
    data = [
        method("M1", cn_chapters=("22",)),
        method("M2", cn_codes=("2207", "24041200")),
        method("M3", cn_chapters=("04",), cn_codes=("220710",)),
        method("M4"),  # no stated scope
        sample("S1", declared_cn="2207 10 00"),
        sample("S2", declared_cn="2208 90 69"),
        sample("S3"),  # no declared code
        result("R1", method_id="M1", sample_id="S1"),
        result("R2", method_id="M2", sample_id="S1"),
        result("R3", method_id="M2", sample_id="S2"),  # 2208 is not 2207
        result("R4", method_id="M3", sample_id="S1"),
        result("R5", method_id="M3", sample_id="S2"),  # neither chapter 04 nor 2207 10
        result("R6", method_id="M4", sample_id="S2"),
        result("R7", method_id="M1", sample_id="S3"),
    ]
    found = run(data, "MET-002")
    assert [f.key for f in found] == ["R3", "R5"]
    check(found[0], "MET-002", WARNING, "analysis_result", "R3", 3, "method_id", "22089069")
    assert "outside the method's scope" in found[0].message
    assert run([d for d in data if not isinstance(d, Sample)], "MET-002") == []


def test_method_scope_codes_are_headings_subheadings_or_cn_codes() -> None:
    assert method(cn_codes=("2207", "220710", "22071000")).cn_codes == (
        "2207",
        "220710",
        "22071000",
    )
    for bad in ("22", "2207 10", "7701", "220710001"):
        with pytest.raises(ClenError):
            method(cn_codes=(bad,))


@covers("MET-003")
def test_met003_a_result_obtained_after_the_method_review_date() -> None:
    data = [
        method("M1", approved=D(2020, 1, 1), review_date=D(2024, 1, 1)),
        method("M2"),  # no review date
        sample("S1", received=D(2024, 2, 1)),
        sample("S2", received=D(2023, 6, 1)),
        result("R1", sample_id="S1"),  # received after the review date
        result("R2", sample_id="S2"),
        result("R3", sample_id="S2", analysed=D(2024, 1, 2)),  # analysed after it
        result("R4", sample_id="S1", analysed=D(2023, 12, 31)),  # analysed before it
        result("R5", sample_id="S1", method_id="M2"),
    ]
    found = run(data, "MET-003")
    assert [f.key for f in found] == ["R1", "R3"]
    check(found[0], "MET-003", WARNING, "analysis_result", "R1", 1, "method_id", D(2024, 1, 1))
    assert "past its review date (2024-01-01)" in found[0].message
    # Without the samples only the results' own dates count.
    assert [f.key for f in run([d for d in data if not isinstance(d, Sample)], "MET-003")] == ["R3"]
    with pytest.raises(ClenError):
        method("M1", approved=D(2024, 1, 2), review_date=D(2024, 1, 1))


@covers("MET-004")
def test_met004_uncertainty_levels_are_numbers() -> None:
    data = [
        method("M1", unit="% vol", uncertainty_by_level={"40": 0.1, "80.0": 0.2, "1e2": 0.3}),
        method("M2", uncertainty_by_level={"high": 0.5, "40": 0.1, " 96 ": 0.2, "4O": 0.1}),
        method("M3"),
    ]
    found = run(data, "MET-004")
    assert [(f.key, f.value) for f in found] == [("M2", "high"), ("M2", "4O")]
    check(found[0], "MET-004", ERROR, "method", "M2", 2, "uncertainty_by_level", "high")


def test_method_validation_data_is_ordered() -> None:
    m = method(
        version="2.1",
        approved=D(2023, 3, 1),
        review_date=D(2028, 3, 1),
        reference="ISO 2448",
        unit="% vol",
        range_low=0.5,
        range_high=96.0,
        lod=0.02,
        loq=0.05,
        repeatability_sd=0.04,
        reproducibility_sd=0.08,
        recovery=99.5,
        uncertainty_by_level={"40": 0.1},
        cn_codes=("2207", "2208"),
    )
    assert m.loq == 0.05
    for bad in (
        {"lod": 0.1, "loq": 0.05},
        {"range_low": 10.0, "range_high": 1.0},
        {"repeatability_sd": 0.2, "reproducibility_sd": 0.1},
        {"recovery": 0.0},
        {"uncertainty_by_level": {"40": -0.1}},
    ):
        with pytest.raises(ClenError):
            method(**bad)


def test_a_method_rules_run_on_the_reference_dataset_without_a_finding(
    reference_report: Report,
) -> None:
    assert not {f.rule for f in reference_report} & {
        "MET-001",
        "MET-002",
        "MET-003",
        "MET-004",
        "RES-005",
        "RES-006",
    }
