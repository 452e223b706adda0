"""Examples for every documented behaviour of the entities and the Dataset."""

import datetime as dt
from decimal import Decimal

import attrs
import pytest

import clen_core
from clen_core import (
    Activity,
    AnalysisResult,
    Dataset,
    DuplicateKeyError,
    InvalidObjectError,
    Laboratory,
    Programme,
    ProjectGroup,
    Substance,
)
from clen_core.model import entities, get_entity

D = dt.date

ENTITY_CLASSES = {
    "member_state": "MemberState",
    "laboratory": "Laboratory",
    "action": "Action",
    "project_group": "ProjectGroup",
    "activity": "Activity",
    "method": "Method",
    "substance": "Substance",
    "sample": "Sample",
    "analysis_result": "AnalysisResult",
    "pt_round": "PTRound",
    "pt_study": "PTStudy",
    "pt_result": "PTResult",
    "pt_score": "PTScore",
    "objective": "Objective",
    "action_plan_item": "ActionPlanItem",
    "programme": "Programme",
    "funded_action": "FundedAction",
    "partner": "Partner",
    "attache_post": "AttachePost",
    "information_exchange": "InformationExchange",
}


def activity(**kw: object) -> Activity:
    base: dict[str, object] = {
        "activity_id": "A1",
        "action": 5,
        "kind": "workshop",
        "theme": "Gemmology",
        "city": "Antwerp",
        "country": "BE",
        "start": D(2016, 3, 9),
        "end": D(2016, 3, 10),
    }
    return Activity(**(base | kw))  # type: ignore[arg-type]


def test_every_entity_of_the_issue_exists_with_its_public_class() -> None:
    assert {e.name: e.cls.__name__ for e in entities()} == ENTITY_CLASSES
    for cls_name in ENTITY_CLASSES.values():
        assert cls_name in clen_core.__all__
        assert getattr(clen_core, cls_name) is get_entity(getattr(clen_core, cls_name)).cls


def test_activity_has_exactly_the_fields_of_the_contract() -> None:
    assert get_entity("activity").field_names == (
        "activity_id", "action", "kind", "theme", "title", "city", "country",
        "start", "end", "participants", "project_group_id", "notes",
    )  # fmt: skip


def test_end_before_start_raises_one_error_naming_end() -> None:
    with pytest.raises(InvalidObjectError) as info:
        activity(start=D(2016, 3, 10), end=D(2016, 3, 9))
    assert info.value.fields == ("end",)
    assert info.value.entity == "activity"
    assert "start" in str(info.value)


def test_one_day_event_has_end_equal_to_start() -> None:
    a = activity(start=D(2015, 5, 21), end=D(2015, 5, 21))
    assert a.start == a.end


def test_every_bad_field_is_listed_not_only_the_first() -> None:
    with pytest.raises(InvalidObjectError) as info:
        activity(action=9, kind="party", theme="", country="ZZ", participants=-1)
    assert info.value.fields == ("action", "kind", "theme", "country", "participants")
    reasons = {e.field: e.reason for e in info.value.errors}
    assert "≤ 6" in reasons["action"]
    assert "workshop" in reasons["kind"]  # says what was expected
    assert "ISO 3166-1" in reasons["country"]


def test_codes_are_canonicalised_at_construction() -> None:
    a = activity(country="el")
    assert a.country == "GR"
    s = Substance(cus="00114818", cas="64175", cn_code="2207.10.00", names={"EN": ["ethanol"]})
    assert (s.cus, s.cas, s.cn_code) == ("0011481-8", "64-17-5", "22071000")
    assert s.names == {"en": ("ethanol",)}


def test_enum_fields_accept_their_values_and_store_members() -> None:
    a = activity(kind="training_session")
    assert a.kind is clen_core.ActivityKind.TRAINING_SESSION


def test_a_datetime_is_not_a_date() -> None:
    with pytest.raises(InvalidObjectError) as info:
        activity(start=dt.datetime(2016, 3, 9, 10, 0))
    assert info.value.fields == ("start",)


def test_money_is_an_exact_decimal_never_a_float() -> None:
    kw = {"programme_id": "P", "name": "Customs", "managed_by": "DG TAXUD",
          "start_year": 2021, "end_year": 2027}  # fmt: skip
    p = Programme(budget_eur=Decimal("950000000"), **kw)
    assert p.budget_eur == Decimal("950000000.00")
    assert str(p.budget_eur) == "950000000.00"
    with pytest.raises(InvalidObjectError, match="never a float"):
        Programme(budget_eur=950e6, **kw)  # type: ignore[arg-type]
    with pytest.raises(InvalidObjectError, match="2 digits after"):
        Programme(budget_eur=Decimal("1.005"), **kw)


def test_bool_is_not_an_int_and_int_is_a_float() -> None:
    with pytest.raises(InvalidObjectError):
        activity(participants=True)
    r = AnalysisResult(result_id="R", sample_id="S", method_id="M", analyte="x", value=3, unit="g")
    assert r.value == 3.0
    assert isinstance(r.value, float)
    assert r.coverage_factor == 2.0


def test_limit_and_limit_type_go_together_and_imply_the_decision() -> None:
    kw = {"result_id": "R", "sample_id": "S", "method_id": "M", "analyte": "x", "unit": "g"}
    with pytest.raises(InvalidObjectError) as info:
        AnalysisResult(value=1.0, limit=2.0, **kw)
    assert info.value.fields == ("limit_type",)
    assert AnalysisResult(value=1.0, **kw).decision is None
    r = AnalysisResult(value=10.5, expanded_uncertainty=0.2, limit=10.0, limit_type="upper", **kw)
    assert r.decision is not None
    assert r.decision.outcome == clen_core.Outcome.NON_COMPLIANT
    # A two-sided limit upside down is no limit (RES-006 reports it).
    r = AnalysisResult(value=1.0, limit=2.0, limit_type="two_sided", limit_high=1.0, **kw)
    assert r.limits is None
    assert r.decision is None


def test_objects_are_frozen_slotted_and_hashable() -> None:
    a = activity()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        a.city = "Gent"  # type: ignore[misc]
    assert not hasattr(a, "__dict__")
    assert hash(a) == hash(activity())
    lab = Laboratory(lab_id="L", name="Lab", country="RS", participation_criteria={"x": True})
    assert hash(lab) == hash(Laboratory(lab_id="L", name="Lab", country="RS"))  # map not hashed
    assert lab != Laboratory(lab_id="L", name="Lab", country="RS")  # but compared


def test_positional_arguments_are_refused() -> None:
    with pytest.raises(TypeError):
        Activity("A1")  # type: ignore[misc]


def test_docstring_documents_every_field() -> None:
    for info in entities():
        doc = info.cls.__doc__ or ""
        for f in info.fields:
            assert f"    {f.name} (" in doc
            assert f.description in doc


def test_input_lists_are_copied_into_tuples() -> None:
    labs = ["L1", "L2"]
    g = ProjectGroup(group_id="G", action=5, theme="T", member_labs=labs)  # type: ignore[arg-type]
    labs.append("L3")
    assert g.member_labs == ("L1", "L2")


# --------------------------------------------------------------------------- Dataset


def test_dataset_keys_records_and_resolves_references() -> None:
    group = ProjectGroup(group_id="PG", action=5, theme="Gemmology", member_labs=("L1", "L9"))
    lab = Laboratory(lab_id="L1", name="Lab", country="BE")
    a = activity(kind="project_group_meeting", project_group_id="PG")
    ds = Dataset([group, lab, a])
    assert ds[Activity]["A1"] is a
    assert ds["project_group"]["PG"] is group
    assert ds.resolve(a, "project_group_id") is group
    assert ds.resolve(group, "member_labs") == (lab, None)
    assert ds.counts() == {"project_group": 1, "laboratory": 1, "activity": 1}
    assert len(ds) == 3
    assert set(ds) == {group, lab, a}
    with pytest.raises(ValueError, match="not a reference"):
        ds.resolve(a, "city")


def test_dataset_refuses_a_second_record_with_the_same_key() -> None:
    ds = Dataset([activity()])
    with pytest.raises(DuplicateKeyError, match="A1"):
        ds.add(activity(city="Gent"))


def test_composite_keys() -> None:
    r = clen_core.PTResult(study_id="S", lab_id="L", value=1.0)
    ds = Dataset([r])
    assert ds.get("pt_result", ("S", "L", 1)) is r
    with pytest.raises(DuplicateKeyError, match="S/L/1"):
        ds.add(clen_core.PTResult(study_id="S", lab_id="L", value=2.0))
    # A second replicate is another record.
    ds.add(clen_core.PTResult(study_id="S", lab_id="L", replicate=2, value=2.0))
    assert len(ds["pt_result"]) == 2


def test_unknown_entity_names_list_the_known_ones() -> None:
    with pytest.raises(clen_core.model.UnknownEntityError, match="activity"):
        get_entity("activities")


def test_reference_dataset_builds_and_has_every_entity() -> None:
    from clen_core.data import reference_dataset

    ds = reference_dataset()
    assert set(ds.counts()) == set(ENTITY_CLASSES)
    assert len(ds["action"]) == 6
    # The Member States of the data and of the country code system are one fact.
    from clen_core.codes.country import EU_MEMBER_STATES

    assert set(ds["member_state"]) == EU_MEMBER_STATES
    assert ds.get("member_state", "GR").eu_code == "EL"


def test_subpackages_are_not_shadowed_by_functions() -> None:
    import importlib
    import types

    for sub in ("columnar", "stages", "atomic", "bridges", "partitioned"):
        importlib.import_module(f"clen_core.io.{sub}")  # some load only when first used
    importlib.import_module("clen_core.proficiency.report")

    for name in ("rules", "codes", "model", "schema", "plugins", "io", "proficiency"):
        assert isinstance(getattr(clen_core, name), types.ModuleType), name
    for name in ("formats", "records", "readwrite", "partitioned", "columnar", "stages", "bridges"):
        assert isinstance(getattr(clen_core.io, name), types.ModuleType), f"io.{name}"
    for name in ("statistics", "qualitative", "evaluation", "report"):
        module = getattr(clen_core.proficiency, name)
        assert isinstance(module, types.ModuleType), f"proficiency.{name}"
