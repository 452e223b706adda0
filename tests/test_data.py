"""The embedded reference dataset is true to its sources.

Every record says where it comes from (a source document, or ``illustrative``); the
Action 5 activities and project groups are the Commission's page as published, read by
the project's own listing importer when the package is built, and checked here against
a table written by hand from the page; the six actions carry their descriptions.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import clen_core
from clen_core.data import (
    ACTION_DESCRIPTIONS,
    ACTIONS,
    ILLUSTRATIVE,
    SOURCES,
    Provenance,
    provenance,
    reference_dataset,
)
from clen_core.data import _action5 as page
from clen_core.io import RejectedRowsError
from clen_core.model import Action, Activity, ProjectGroup

REPO = Path(__file__).parents[1]
SEED = REPO.parent / "shared" / "seeds" / "001_8fa727c55203dce2.txt"
EXAMPLE = REPO.parent / "shared" / "examples" / "activity-listing.txt"
D = dt.date

# Written by hand from the page (shared/seeds/001): theme, kind, title, city, country as
# written, first and last day, participants.
THEMES = {
    "DD": "Designer Drugs",
    "CDT": "Customs Detection Technologies",
    "PL": "Plants",
    "LSC": "Liquid Scintillation Counting",
    "WC": "Customs Tariff Implementation of Environmental Waste Codes",
    "TOB": "Tobacco and tobacco products",
    "TS": "Textiles and Shoes",
    "SI": "Species Identification",
}
KINDS = {"pg": "project_group_meeting", "ws": "workshop", "tr": "training_session"}
SPECIES = "the Use of Molecular Biology Techniques and other Identification Techniques"
PUBLISHED = [
    ("DD", "pg", None, "Ispra", "IT", "2017-11-14", "2017-11-15", 24),
    ("DD", "pg", None, "Brussels", "BE", "2017-02-07", "2017-02-07", 36),
    ("DD", "pg", None, "Brussels", "BE", "2015-11-23", "2015-11-25", 66),
    ("DD", "pg", None, "Lisbon", "PT", "2015-02-05", "2015-02-07", 60),
    ("DD", "pg", None, "Ispra", "IT", "2014-02-06", "2014-02-07", 26),
    ("DD", "ws", None, "Berlin", "DE", "2012-09-27", "2012-09-28", 80),
    ("CDT", "ws", None, "Tartu", "ET", "2017-10-10", "2017-10-12", 128),
    ("CDT", "ws", None, "Budapest", "HU", "2014-10-07", "2014-10-09", 145),
    ("PL", "tr", "Microscopy", "Brussels", "BE", "2017-09-13", "2017-09-14", 20),
    ("PL", "ws", None, "Peyresq", "FR", "2014-07-07", "2014-07-09", 40),
    ("LSC", "tr", None, "Amsterdam", "NL", "2014-11-20", "2014-11-21", 33),
    ("WC", "ws", None, "Brussels", "BE", "2014-01-13", "2014-01-14", 114),
    ("TOB", "pg", None, "Sofia", "BG", "2014-01-23", "2014-01-24", None),
    ("TOB", "pg", None, "Budapest", "HU", "2012-07-04", "2012-07-05", None),
    ("TOB", "pg", None, "Prague", "CZ", "2011-05-25", "2011-05-25", None),
    ("TOB", "pg", None, "Bucharest", "RO", "2010-11-23", "2010-11-23", None),
    ("TS", "ws", None, "Athens", "GR", "2012-05-29", "2012-05-30", 88),
    ("SI", "ws", SPECIES, "Amsterdam", "NL", "2010-02-04", "2010-02-05", 42),
]


@pytest.fixture(scope="module")
def ds() -> clen_core.Dataset:
    return reference_dataset()


# --------------------------------------------------------------------------- provenance


def test_every_record_says_where_it_comes_from(ds: clen_core.Dataset) -> None:
    sources: dict[str, set[str]] = {}
    for record in ds:
        origin = provenance(record)
        assert isinstance(origin, Provenance)
        assert SOURCES[origin.source.source_id] is origin.source
        name = type(record).__name__
        sources.setdefault(origin.source.source_id, set()).add(name)
    assert sources == {
        "eu-members": {"MemberState"},
        "clen-actions": {"Action"},
        "clen-action5": {"ProjectGroup", "Activity"},
        "law-enforcement-strategy": {"Objective", "Partner"},
        "customs-programme": {"Programme"},
        "nl-customs-international": {"Partner", "AttachePost", "InformationExchange"},
        ILLUSTRATIVE: {
            "Laboratory", "Method", "Substance", "Sample", "AnalysisResult", "PTRound",
            "PTStudy", "PTResult", "PTScore", "ActionPlanItem", "FundedAction",
        },
    }  # fmt: skip
    assert {s.source_id for s in SOURCES.values() if s.illustrative} == {ILLUSTRATIVE}
    assert all(s.title and s.publisher and s.location for s in SOURCES.values())


def test_provenance_knows_only_the_reference_records(ds: clen_core.Dataset) -> None:
    (tartu,) = [a for a in ds.records(Activity) if a.city == "Tartu"]
    assert provenance(tartu) == Provenance(SOURCES["clen-action5"], "line 81")
    lab = ds.records("laboratory")[0]
    assert provenance(lab).source.illustrative
    with pytest.raises(KeyError):
        provenance(Action(number=1, name="x", coordinator="y", coordinator_country="IT"))


# --------------------------------------------------------------------------- Action 5


def test_the_action5_activities_are_the_published_ones(ds: clen_core.Dataset) -> None:
    activities = ds.records(Activity)
    got = [
        (a.theme, a.kind.value, a.title, a.city, a.country, a.start, a.end, a.participants)
        for a in activities
    ]
    assert got == [
        (THEMES[t], KINDS[k], title, city, cc, D.fromisoformat(s), D.fromisoformat(e), n)
        for t, k, title, city, cc, s, e, n in PUBLISHED
    ]
    assert {a.action for a in activities} == {5}
    assert all(a.notes is None for a in activities)  # the summaries are the groups' fields
    # Nothing of the illustrative listing (shared/examples) is presented as published.
    illustrative = {"Precursor Chemicals", "Handheld Detection Devices", "Gemmology", "Honey"}
    themes = {a.theme for a in activities} | {g.theme for g in ds.records(ProjectGroup)}
    assert not {t for t in themes if any(t.startswith(x) for x in illustrative)}
    # Each comes with the line of the page where its entry starts.
    text = importlib.resources.files("clen_core.data").joinpath("action5.txt").read_text("utf-8")
    lines = text.splitlines()
    for a in activities:
        where = provenance(a).where
        assert where is not None
        assert where.startswith("line ")
        assert f"{a.city} (" in lines[int(where.removeprefix("line ")) - 1]


def test_a_project_group_carries_its_published_meetings_and_members(
    ds: clen_core.Dataset,
) -> None:
    groups = {g.theme: g for g in ds.records(ProjectGroup)}
    assert {t: (g.action, g.meetings, g.since, g.members) for t, g in groups.items()} == {
        "Designer Drugs": (5, 5, 2014, None),  # "5 meetings since 2014"
        "Tobacco and tobacco products": (5, 4, 2010, 18),  # "4 meetings since 2010 – 18 members"
    }
    for a in ds.records(Activity):
        meeting = a.kind.value == "project_group_meeting"
        assert a.project_group_id == (groups[a.theme].group_id if meeting else None)
    # As many meetings listed as the summaries count.
    for g in groups.values():
        listed = [a for a in ds.records(Activity) if a.project_group_id == g.group_id]
        assert len(listed) == g.meetings


def test_tartu_stays_as_published_and_act001_asks_about_estonia(ds: clen_core.Dataset) -> None:
    report = clen_core.validate(ds)
    (finding,) = report.filter(rule="ACT-001")
    assert (finding.value, finding.field) == ("ET", "country")
    assert finding.message.endswith("did you mean EE (Estonia)?")
    assert ds.get(Activity, finding.key).city == "Tartu"


def test_the_findings_are_the_documented_ones(ds: clen_core.Dataset) -> None:
    report = clen_core.validate(ds)
    assert report.ok
    assert {(f.rule, f.severity.value) for f in report} >= {
        ("ACT-001", "warning"),  # Tartu (ET), as published
        ("LAB-001", "warning"),
        ("RES-001", "warning"),
        ("SUB-002", "info"),
        ("PT-002", "info"),
    }
    # Every activity and project group of the page is consistent: no other ACT-* finding.
    assert [f.rule for f in report if f.rule.startswith("ACT-")] == ["ACT-001"]


# --------------------------------------------------------------------------- the importer


def test_the_generated_records_are_what_the_importer_reads_today() -> None:
    script = REPO / "scripts" / "build_reference_listing.py"
    if not script.is_file():
        pytest.skip("the build scripts are not beside the installed package")
    done = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_the_shipped_page_read_with_the_listing_format_gives_the_same_records() -> None:
    # What a user gets with `clen convert --from listing`: the same records, and the page's
    # introduction (prose) reported as lines not understood.
    path = importlib.resources.files("clen_core.data").joinpath("action5.txt")
    with importlib.resources.as_file(path) as file, pytest.raises(RejectedRowsError) as raised:
        clen_core.read_dataset(file, format="listing")
    read = raised.value.dataset
    assert read.records(Activity) == [a for _, a in page.ACTIVITIES]
    assert read.records(ProjectGroup) == [g for _, g in page.PROJECT_GROUPS]
    assert sorted(r.row for r in raised.value.rejects) == list(page.INTRODUCTION_LINES)
    assert max(page.INTRODUCTION_LINES) < min(line for line, _ in page.PROJECT_GROUPS)


def test_the_shipped_page_is_the_published_one() -> None:
    if not SEED.is_file():
        pytest.skip("shared/ is not beside the repository")
    shipped = importlib.resources.files("clen_core.data").joinpath(page.SOURCE_FILE)
    assert shipped.read_bytes() == SEED.read_bytes()


def test_the_wheel_carries_the_page(tmp_path: Path) -> None:
    builder = pytest.importorskip("hatchling.builders.wheel")
    if not (REPO / "pyproject.toml").is_file():
        pytest.skip("not run from the source tree")
    (wheel,) = builder.WheelBuilder(str(REPO)).build(directory=str(tmp_path))
    names = zipfile.ZipFile(wheel).namelist()
    assert {"clen_core/data/action5.txt", "clen_core/data/_action5.py"} <= set(names)


def test_the_reference_dataset_needs_no_plugin() -> None:
    # Read at build time: disabling the listing plugin changes nothing.
    env = {**os.environ, "CLEN_DISABLE_PLUGINS": "listing"}
    code = "from clen_core.data import reference_dataset; print(len(reference_dataset()))"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert int(done.stdout) == len(reference_dataset())


# --------------------------------------------------------------------------- the actions


def test_the_six_actions_carry_their_descriptions(ds: clen_core.Dataset) -> None:
    actions = ds.records(Action)
    assert [a.number for a in actions] == [1, 2, 3, 4, 5, 6]
    assert [a.name for a in actions] == [name for _, name, _, _ in ACTIONS]
    assert {a.number: a.description for a in actions} == dict(ACTION_DESCRIPTIONS)
    assert all(a.description and len(a.description) > 40 for a in actions)
    assert "2009" in ACTION_DESCRIPTIONS[5]  # "The CLEN Action 5 ... was created in 2009"
    assert "Samancta" in ACTION_DESCRIPTIONS[3]
    assert [a.coordinator_country for a in actions] == ["IT", "GR", "GR", "AT", "NL", None]
