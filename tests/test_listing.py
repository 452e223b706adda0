"""The ``listing`` importer: Commission activity listings (text from PDF) into activities.

The shared example gives exactly its expected CSV; Hypothesis writes listings from
random activities in every layout the importer claims to read and checks they come
back exactly; random garbage lines come back as problems with their line numbers;
random text and bytes never raise anything but the documented errors.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import clen_core
import clen_core_listing
from clen_core.data import ACTIONS
from clen_core.io import RejectedRowsError
from clen_core.io.formats import FormatError, format_for_path, get_format
from clen_core.io.records import Decoder, RawRecord, RowProblem
from clen_core.model.entity import get_entity
from clen_core_listing import parse_listing

HERE = Path(__file__).parent
EXAMPLE = HERE / "listings" / "activity-listing.txt"
EXPECTED = HERE / "listings" / "activity-listing.expected.csv"
SHARED = Path(__file__).parents[2] / "shared" / "examples"
COLUMNS = ["theme", "kind", "city", "country", "start", "end", "participants"]
CLEN = [sys.executable, "-c", "from clen_core.cli import main; main()"]
ACTIVITY = get_entity("activity")
DECODER = Decoder(ACTIVITY, "json")
GROUP_DECODER = Decoder(get_entity("project_group"), "json")
HEADING = "Action 5 of the Customs Laboratories European Network:\n\n"
_FUZZ_DIR = tempfile.TemporaryDirectory(prefix="clen-listing-")
"""Where Hypothesis tests write files (a fixture's tmp_path is per test, not per example)."""


def clen(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEN_")}
    return subprocess.run(
        [*CLEN, *map(str, args)], capture_output=True, text=True, timeout=120, env=env
    )


def records(text: str) -> list[dict[str, Any]]:
    return [dict(r.values) for r in parse_listing(text).items if isinstance(r, RawRecord)]


def problems(text: str) -> list[RowProblem]:
    return [r for r in parse_listing(text).items if isinstance(r, RowProblem)]


def only(text: str) -> dict[str, Any]:
    """The one record of ``HEADING + theme + text``, with no problem."""
    listing = parse_listing(HEADING + text)
    assert [p for p in listing.items if isinstance(p, RowProblem)] == []
    (record,) = listing.items
    assert isinstance(record, RawRecord)
    return dict(record.values)


# --------------------------------------------------------------------------- the example


def test_example_copy_matches_the_shared_example() -> None:
    if not SHARED.is_dir():
        pytest.skip("shared/ is not beside the repository")
    assert EXAMPLE.read_bytes() == (SHARED / "activity-listing.txt").read_bytes()
    assert EXPECTED.read_bytes() == (SHARED / "activity-listing.expected.csv").read_bytes()


def test_example_gives_exactly_the_expected_csv(tmp_path: Path) -> None:
    objs = list(clen_core.read(EXAMPLE, entity="activity", format="listing"))
    clen_core.write(objs, tmp_path / "out.csv")
    with open(tmp_path / "out.csv", newline="", encoding="utf-8") as f:
        got = [[row[c] for c in COLUMNS] for row in csv.DictReader(f)]
    with open(EXPECTED, newline="", encoding="utf-8") as f:
        expected_rows = list(csv.reader(f))
    assert expected_rows[0] == COLUMNS
    assert got == expected_rows[1:]


def test_example_titles_notes_ids_rows_and_every_line() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    listing = parse_listing(text)
    assert all(isinstance(r, RawRecord) for r in listing.items)
    recs = [dict(r.values) for r in listing.items if isinstance(r, RawRecord)]
    assert {r["action"] for r in recs} == {5}
    honey = [r for r in recs if r["theme"] == "Honey Authenticity"]
    assert {r["title"] for r in honey} == {
        "Isotope Ratio Techniques and other Authentication Methods"
    }
    assert all("title" not in r for r in recs if r["theme"] != "Honey Authenticity")
    # The summaries are the project groups' facts, not notes of the meetings.
    assert all("notes" not in r for r in recs)
    groups = {g.values["theme"]: (g.row, dict(g.values)) for g in listing.groups}
    assert {t: (row, v.get("meetings"), v.get("since"), v.get("members"))
            for t, (row, v) in groups.items()} == {
        "Precursor Chemicals": (15, 3, 2016, None),
        "Gemmology": (61, 3, 2015, 11),
    }  # fmt: skip
    for r in recs:
        meeting = r["kind"] == "project_group_meeting"
        assert r.get("project_group_id") == (groups[r["theme"]][1]["group_id"] if meeting else None)
    # Rows: the line where each entry starts.
    lines = text.splitlines()
    for r in listing.items:
        assert isinstance(r, RawRecord)
        assert r.values["city"] in lines[r.row - 1]
    # Deterministic and unique IDs.
    ids = [r["activity_id"] for r in recs]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith("L5-") for i in ids)
    assert ids == [r["activity_id"] for r in records(text)]
    # Nothing lost: every non-blank line is used by a record, or is the action's name and
    # the "Examples of activities" line.
    non_blank = {n for n, line in enumerate(lines, 1) if line.strip()}
    assert set(listing.lines) == non_blank
    structure = {n for n, how in listing.lines.items() if how == "structure"}
    assert {lines[n - 1].strip() for n in structure} == {
        "Scientific expertise",
        "Examples of activities carried out under Action 5:",
    }
    assert set(listing.lines.values()) == {"record", "structure"}


def test_example_unusual_place_is_kept_and_flagged() -> None:
    objs = list(clen_core.read(EXAMPLE, entity="activity", format="listing"))
    report = clen_core.validate(objs)
    flagged = [f for f in report if f.rule == "ACT-001"]
    assert [(f.value, f.field) for f in flagged] == [("RS", "country")]
    (belgrade,) = [o for o in objs if o.city == "Belgrade"]
    assert flagged[0].key == belgrade.activity_id


def test_listing_is_read_only_and_activity_only(tmp_path: Path) -> None:
    fmt = get_format("listing")
    assert fmt.read is clen_core_listing.read_listing
    assert fmt.write is None
    assert fmt.plugin == "listing"
    assert ".txt" not in fmt.extensions
    with pytest.raises(FormatError, match="activities only"):
        list(clen_core.read(EXAMPLE, entity="laboratory", format="listing"))
    # Its project groups: as an entity of their own, or with the activities as a dataset.
    groups = list(clen_core.read(EXAMPLE, entity="project_group", format="listing"))
    assert sorted(g.theme for g in groups) == ["Gemmology", "Precursor Chemicals"]
    ds = clen_core.read_dataset(EXAMPLE, format="listing")
    assert ds.records("project_group") == groups
    assert ds.records("activity") == list(
        clen_core.read(EXAMPLE, entity="activity", format="listing")
    )
    assert clen_core.validate(ds).by_rule == {"ACT-001": 1}  # Belgrade; every reference holds
    with pytest.raises(FormatError, match="cannot write"):
        clen_core.write([], tmp_path / "x.txt", entity="activity", format="listing")


# --------------------------------------------------------------------------- detection, CLI


@pytest.mark.parametrize(
    ("name", "head", "expected"),
    [
        ("a.txt", EXAMPLE.read_bytes(), "listing"),
        ("listing", EXAMPLE.read_bytes(), "listing"),
        ("a.TXT", b"Action 3 of the\nCustoms   Laboratories European Network\n", "listing"),
        ("a.txt", b"Riga (LV), 2 June 2013\n\xe2\x80\xa2 Rome (IT) 30 September 2015\n", "listing"),
        ("a.txt", b"Riga (LV), 2 June 2013\n", None),
        ("a.txt", b"Some notes\nabout nothing (AT)\n", None),
        ("a.txt", b"activity_id,action,kind\n", "csv"),
        ("a.dat", EXAMPLE.read_bytes(), None),
        ("a.txt", b"\xff\xfe garbage", None),
    ],
)
def test_detection(name: str, head: bytes, expected: str | None) -> None:
    from clen_core.plugins import detect_format

    assert detect_format(name, head) == expected
    if name.endswith(".dat"):
        assert clen_core_listing.clen_detect_format(path=name, head=head) is None


def test_detected_for_a_txt_file(tmp_path: Path) -> None:
    path = tmp_path / "listing.txt"
    path.write_bytes(EXAMPLE.read_bytes())
    assert format_for_path(path, head=path.read_bytes()[:4096]).name == "listing"
    assert len(list(clen_core.read(path, entity="activity"))) == 11


@pytest.mark.parametrize("from_listing", [True, False])
def test_cli_convert(tmp_path: Path, from_listing: bool) -> None:
    src = tmp_path / "listing.txt"
    src.write_bytes(EXAMPLE.read_bytes())
    out = tmp_path / "out.csv"
    args = ["--from", "listing"] if from_listing else []
    proc = clen("convert", src, out, "--entity", "activity", *args)
    assert proc.returncode == 0, proc.stderr
    assert "11 read, 11 written, 0 rejected" in proc.stdout
    with open(out, newline="", encoding="utf-8") as f:
        got = [[row[c] for c in COLUMNS] for row in csv.DictReader(f)]
    with open(EXPECTED, newline="", encoding="utf-8") as f:
        assert got == list(csv.reader(f))[1:]


def test_cli_reports_lines_not_understood(tmp_path: Path) -> None:
    src = tmp_path / "listing.txt"
    src.write_text(EXAMPLE.read_text(encoding="utf-8") + "\nPage 3 of 4\n", encoding="utf-8")
    lines = src.read_text(encoding="utf-8").splitlines()
    proc = clen("convert", src, tmp_path / "out.csv", "--entity", "activity", "--from", "listing")
    assert proc.returncode == 0, proc.stderr
    assert "12 read, 11 written, 1 rejected" in proc.stdout
    assert f"row {len(lines)}" in proc.stderr
    assert "Page 3 of 4" in proc.stderr
    strict = clen(
        "convert", src, tmp_path / "o2.csv", "--entity", "activity", "--from", "listing", "--strict"
    )
    assert strict.returncode == 1
    no_heading = tmp_path / "bare.txt"
    no_heading.write_text("Gemmology\nWorkshop\nRiga (LV), 2 June 2013\n", encoding="utf-8")
    proc = clen(
        "convert", no_heading, tmp_path / "o3.csv", "--entity", "activity", "--from", "listing"
    )
    assert proc.returncode == 2
    assert "no 'Action N of the Customs Laboratories European Network' heading" in proc.stderr


# --------------------------------------------------------------------------- particular shapes


@pytest.mark.parametrize(
    ("entry", "start", "end", "participants"),
    [
        ("Vienna (AT), 3-4 March 2016 – 41 participants", "2016-03-03", "2016-03-04", 41),
        ("Vienna (AT) 3-4 March 2016 - 41 participants", "2016-03-03", "2016-03-04", 41),
        ("Vienna (AT), 3-4 March 2016, 41 participants", "2016-03-03", "2016-03-04", 41),
        ("Vienna (AT), 3-4 March 2016- 41", "2016-03-03", "2016-03-04", 41),
        ("Vienna (AT), 3-4 March 2016 41 participants.", "2016-03-03", "2016-03-04", 41),
        ("Vienna (AT), 3-4 March 2016 (41 participants)", "2016-03-03", "2016-03-04", 41),
        ("Vienna (AT), 3 – 4 March 2016", "2016-03-03", "2016-03-04", None),
        ("Vienna (AT) – 23-25 November 2015 – 1 participant", "2015-11-23", "2015-11-25", 1),
        ("Riga (LV), 2nd & 3rd June 2013 – 19 participants", "2013-06-02", "2013-06-03", 19),
        ("Riga (LV), 4th & 5th July 2012", "2012-07-04", "2012-07-05", None),
        ("Riga (LV), 4 th and 5 th July 2012", "2012-07-04", "2012-07-05", None),
        ("Riga (LV), 4, 5 and 6 July 2012", "2012-07-04", "2012-07-06", None),
        ("Riga (LV), 4-6 Sept. 2012", "2012-09-04", "2012-09-06", None),
        ("Helsinki (FI), 21st May 2015", "2015-05-21", "2015-05-21", None),
        ("Helsinki (FI), 21 May, 2015;", "2015-05-21", "2015-05-21", None),
        ("Rome (IT), 30 September - 2 October 2015", "2015-09-30", "2015-10-02", None),
        ("Rome (IT), 30 September 2015 - 2 October 2015", "2015-09-30", "2015-10-02", None),
        ("Rome (IT), 30 December 2015 - 2 January 2016", "2015-12-30", "2016-01-02", None),
        ("Rome (IT), 30 December - 2 January 2016 – 9", "2015-12-30", "2016-01-02", 9),
        ("Rome (IT), 30 December to 2 January 2016", "2015-12-30", "2016-01-02", None),
        ("Zagreb (HR), 1st October 2019,", "2019-10-01", "2019-10-01", None),
    ],
)
def test_entry_shapes(entry: str, start: str, end: str, participants: int | None) -> None:
    for bullet in ("", "\uf0b7 ", "• ", "- ", "* ", "1. ", "  "):
        r = only(f"Gemmology\nSeminar\n{bullet}{entry}\n")
        assert (r["start"], r["end"], r.get("participants")) == (start, end, participants)
        assert r["theme"] == "Gemmology"
        assert r["kind"] == "seminar"


@pytest.mark.parametrize(
    ("cc", "expected"), [("EL", "GR"), ("el", "GR"), ("UK", "GB"), ("RS", "RS"), ("XK", "XK")]
)
def test_country_codes_are_canonical_and_kept(cc: str, expected: str) -> None:
    assert only(f"Gemmology\nWorkshop\nSomewhere ({cc}), 1 May 2015\n")["country"] == expected


def test_unknown_country_code_is_rejected_by_the_entity_check(tmp_path: Path) -> None:
    path = tmp_path / "l.txt"
    path.write_text(HEADING + "Gemmology\nWorkshop\nAtlantis (QQ), 1 May 2015\n", "utf-8")
    reader = clen_core.read(path, entity="activity", format="listing", on_reject="collect")
    assert list(reader) == []
    (reject,) = reader.rejects
    assert (reject.row, reject.field, reject.value) == (5, "country", "QQ")


@pytest.mark.parametrize(
    ("subheading", "kind", "title"),
    [
        ("Project Group Meetings", "project_group_meeting", None),
        ("Project Group Meeting on Samples", "project_group_meeting", "Samples"),
        ("Workshop", "workshop", None),
        ("Workshop on Isotope Ratio Techniques", "workshop", "Isotope Ratio Techniques"),
        ("Workshop: Honey", "workshop", "Honey"),
        ("Training Session", "training_session", None),
        ("Advanced Training Session", "training_session", "Advanced"),
        ("Training Session on Gemstones", "training_session", "Gemstones"),
        ("Training on Gemstones", "training_session", "Gemstones"),
        ("Seminar", "seminar", None),
        (
            "8th Seminar of European Customs Chemists",
            "seminar",
            "8th Seminar of European Customs Chemists",
        ),
        ("Plenary", "plenary", None),
        ("Plenary Meeting", "plenary", None),
        ("Study visit", "study_visit", None),
        ("Study Visits", "study_visit", None),
        ("Webinar on Gemmology", "other", "Webinar on Gemmology"),
        (
            "Technical Meetings on Handheld Devices",
            "other",
            "Technical Meetings on Handheld Devices",
        ),
    ],
)
def test_subheadings(subheading: str, kind: str, title: str | None) -> None:
    r = only(f"Gemmology\n{subheading}\nRiga (LV), 2 June 2013\n")
    assert (r["kind"], r.get("title")) == (kind, title)


def test_title_broken_over_lines_and_theme_over_two_lines() -> None:
    r = only(
        "Designer Drugs and New\n\n Psychoactive Substances \n"
        "Workshop on Isotope Ratio\n Techniques and other\n\nAuthentication Methods  \n"
        "\uf0b7 Thessaloniki (EL), 11-13\nMay 2016 - 64\n\nparticipants\n"
    )
    assert r["theme"] == "Designer Drugs and New Psychoactive Substances"
    assert r["title"] == "Isotope Ratio Techniques and other Authentication Methods"
    assert (r["country"], r["participants"]) == ("GR", 64)


@pytest.mark.parametrize(
    ("text", "facts"),
    [
        ("Project Group Meetings  3 meetings since 2016:\n", (3, 2016, None)),
        ("Project Group Meetings (3 meetings since 2016 – 11 members)\n", (3, 2016, 11)),
        ("Project Group Meetings 3 meetings since 2016 – 11\nmembers\n", (3, 2016, 11)),
        ("Project Group Meetings\n3 meetings since 2015 – 11\n\nmembers\n", (3, 2015, 11)),
        ("Project Group Meetings\n3 meetings since 2015\n– 11 members\n", (3, 2015, 11)),
        ("Project Group Meetings\n4 meetings since 2010 - 18 members:\n", (4, 2010, 18)),
        ("Project Group Meetings\n1 meeting in 2019\n", (1, 2019, None)),
        ("Project Group Meetings\n18 members\n", (None, None, 18)),
        ("Project Group Meetings\n", (None, None, None)),
        ("3 meetings since 2015 – 11 members\n", (3, 2015, 11)),
    ],
)
def test_summary_lines_are_the_project_groups_facts_never_events(
    text: str, facts: tuple[int | None, int | None, int | None]
) -> None:
    doc = HEADING + f"Gemmology\n{text}Antwerp (BE), 9th & 10th March 2016\n"
    r = only(f"Gemmology\n{text}Antwerp (BE), 9th & 10th March 2016\n")
    assert (r["kind"], r.get("notes")) == ("project_group_meeting", None)
    assert (r["start"], r["end"]) == ("2016-03-09", "2016-03-10")
    (group,) = parse_listing(doc).groups
    assert group.row == 4  # the sub-heading's line, or the summary's without one
    assert r["project_group_id"] == group.values["group_id"]
    assert group.values["theme"] == "Gemmology"
    values = group.values
    assert (values.get("meetings"), values.get("since"), values.get("members")) == facts


def test_a_project_group_is_one_per_theme_and_its_summaries_must_agree() -> None:
    meet = "Project Group Meetings\n{}Antwerp (BE), {} March 2016\n"
    same = parse_listing(
        HEADING + "Gemmology\n" + meet.format("3 meetings since 2015\n", 9)
        + "Workshop\nGent (BE), 1 May 2016\n" + meet.format("11 members\n", 10)
    )  # fmt: skip
    (group,) = same.groups
    assert (group.values["meetings"], group.values["members"]) == (3, 11)
    recs = [r for r in same.items if isinstance(r, RawRecord)]
    gid = group.values["group_id"]
    assert [r.values.get("project_group_id") for r in recs] == [gid, None, gid]
    other = parse_listing(
        HEADING + "Gemmology\n" + meet.format("3 meetings since 2015\n", 9)
        + meet.format("4 meetings since 2015\n", 10)
    )  # fmt: skip
    (group,) = other.groups
    assert group.values["meetings"] == 3
    (problem,) = [p for p in other.items if isinstance(p, RowProblem)]
    assert (problem.row, problem.text) == (8, "4 meetings since 2015")
    assert "differs from the one before (line 4)" in problem.reason


def test_several_actions_and_the_intro_fallback() -> None:
    text = (
        "Action 4 – Communication and strategy\n"
        "Customs Chemistry\n8th Seminar of European Customs Chemists\n"
        "Berlin (DE), 4-6 July 2023 – 210 participants\n"
        "Action 5 of the Customs Laboratories European Network\nScientific expertise\n"
        "Gemmology\nWorkshop\nRiga (LV), 2 June 2013\n"
    )
    recs = records(text)
    assert [(r["action"], r["theme"], r["kind"]) for r in recs] == [
        (4, "Customs Chemistry", "seminar"),
        (5, "Gemmology", "workshop"),
    ]
    assert problems(text) == []
    intro = "Examples of activities carried out under Action 3:\nGemmology\nWorkshop\n"
    assert [r["action"] for r in records(intro + "Riga (LV), 2 June 2013\n")] == [3]
    with pytest.raises(FormatError, match="heading found"):
        parse_listing("Gemmology\nWorkshop\nRiga (LV), 2 June 2013\n")


@pytest.mark.parametrize(
    "heading",
    [
        "Action 5 of the Customs Laboratories European Network (CLEN): Scientific expertise",
        "CLEN Action 5 – Scientific expertise",
        "Action 5 of the Customs Laboratories European Network\nScientific Expertise and Support",
        "Action 5 of the\nCustoms Laboratories\nEuropean Network\n\nScientific expertise",
    ],
)
def test_heading_forms_and_the_action_name(heading: str) -> None:
    text = heading + "\nGemmology\nWorkshop\nRiga (LV), 2 June 2013\n"
    listing = parse_listing(text)
    assert [(r["action"], r["theme"]) for r in records(text)] == [(5, "Gemmology")]
    assert problems(text) == []
    assert "problem" not in listing.lines.values()


def test_a_theme_without_subheading_at_the_start() -> None:
    r = only("Gemmology\nRiga (LV), 2 June 2013\n")
    assert (r["theme"], r["kind"]) == ("Gemmology", "other")


def test_a_subheading_without_theme_gives_the_theme() -> None:
    r = only("Seminar of European Customs Chemists\nBerlin (DE), 4-6 July 2023 – 210 participants")
    assert (r["theme"], r["kind"], r["title"]) == (
        "European Customs Chemists",
        "seminar",
        "European Customs Chemists",
    )
    r = only("Workshop\nBerlin (DE), 4-6 July 2023")
    assert (r["theme"], r["kind"], r.get("title")) == ("Workshop", "workshop", None)


@pytest.mark.parametrize(
    ("entry", "start", "end", "participants", "notes"),
    [
        (
            "Riga (LV), 2 June 2013 – 41 participants from 13 Member States",
            "2013-06-02", "2013-06-02", 41, "participants from 13 Member States",
        ),
        (
            "Riga (LV), 2 June 2013\n– 41 participants from 13 Member States",
            "2013-06-02", "2013-06-02", 41, "participants from 13 Member States",
        ),
        (
            "Amsterdam (NL), 4-7 and 11-14 October 2022 – 14 participants per session",
            "2022-10-04", "2022-10-14", 14, "participants per session",
        ),
        (
            "Riga (LV), March 3-4, 2016 – 5 participants (24 Member States)",
            "2016-03-03", "2016-03-04", 5, "participants (24 Member States)",
        ),
        ("Riga (LV), March 30 - April 2, 2016", "2016-03-30", "2016-04-02", None, None),
        ("Riga (LV), June 2nd-3rd 2013", "2013-06-02", "2013-06-03", None, None),
        ("Riga (LV), 2nd&3rd June2013–41participants", "2013-06-02", "2013-06-03", 41, None),
        ("Riga (LV), 2\nnd & 3\nrd June 2013", "2013-06-02", "2013-06-03", None, None),
        (
            "Riga (LV), 2 June\n\n2013 – 4 participants, mostly\n",
            "2013-06-02", "2013-06-02", 4, None,
        ),
    ],
)  # fmt: skip
def test_more_entry_shapes(
    entry: str, start: str, end: str, participants: int | None, notes: str | None
) -> None:
    doc = HEADING + "Gemmology\nWorkshop\n" + entry
    (r,) = records(doc)
    assert (r["start"], r["end"], r.get("participants"), r.get("notes")) == (
        start,
        end,
        participants,
        notes,
    )
    assert len(problems(doc)) == ("mostly" in entry)


@pytest.mark.parametrize(
    ("tail", "row", "reason", "text"),
    [
        ("Riga (LV), 2 June", 5, "ends before the dates", "Riga (LV), 2 June"),
        ("Riga (LV)", 5, "a place with no dates", "Riga (LV)"),
        ("Riga (LV), sometime in June", 5, "expected dates", "Riga (LV), sometime in June"),
        ("Riga (LV), 31 February 2016", 5, "no such day: 31 February 2016", None),
        ("Riga (LV), 2 June 2013 – 41 participants, then lunch", 5, "after", "then lunch"),
        ("Riga (LV), 2 June 2013\n7\n", 6, "after the event", "7"),
        ("Riga (LV), 2 June\n\n2013 – 4 participants, mostly\nchemists", 7, "after", "mostly"),
        ("March 2016 – 41", 5, "dates or participants with no entry", "March 2016 – 41"),
    ],
)
def test_entries_not_understood(tail: str, row: int, reason: str, text: str | None) -> None:
    doc = HEADING + "Gemmology\nWorkshop\n" + tail + "\nValletta (MT), 2nd December 2015\n"
    listing = parse_listing(doc)
    probs = [p for p in listing.items if isinstance(p, RowProblem)]
    assert probs, listing
    assert probs[0].row == row
    assert reason in probs[0].reason
    assert probs[0].text is not None
    assert (text or tail).split()[0] in probs[0].text
    # The next entry is still read, and every line is accounted for.
    assert records(doc)[-1]["city"] == "Valletta"
    non_blank = {n for n, line in enumerate(doc.splitlines(), 1) if line.strip()}
    assert set(listing.lines) == non_blank


def test_headings_with_no_event_and_stray_text_are_reported() -> None:
    doc = (
        HEADING  # lines 1-2
        + "Gemmology\nWorkshop\n"  # 3-4: no event under them
        + "Tobacco\nSeminar\nRiga (LV), 2 June 2013\n"  # 5-7
        + "Taxation and Customs Union\n"  # 8: page furniture
        + "Valletta (MT), 2nd December 2015\n"  # 9
        + "Page 2\n"  # 10
        + "Some header\nValletta (MT), 3rd December 2015\n"  # 11-12
        + "Waste\nStudy visit\n"  # 13-14: nothing under them
    )
    listing = parse_listing(doc)
    probs = {p.row: p.reason for p in listing.items if isinstance(p, RowProblem)}
    assert sorted(probs) == [3, 4, 8, 10, 11, 13, 14]
    assert "theme heading with no event" in probs[3]
    assert "sub-heading with no event" in probs[4]
    assert "plain text between the entries" in probs[11]
    assert [(r["theme"], r["city"]) for r in records(doc)] == [("Tobacco", "Riga")] + [
        ("Tobacco", "Valletta")
    ] * 2
    assert parse_listing(HEADING + "Gemmology\n").lines == {1: "problem", 3: "problem"}


def test_line_ends_and_odd_characters() -> None:
    doc = (
        "\ufeffAction 5 of the Customs Laboratories\r\nEuropean Network:\r\r\n"
        "Gem\u00admology\u00a0\r\nWork\u200bshop\n"
        "\x0c\t\uf0b7\u00a0Riga (LV),\u00a02\u2009June 2013"
    )
    (r,) = records(doc)
    assert (r["theme"], r["kind"], r["start"]) == ("Gemmology", "workshop", "2013-06-02")
    assert parse_listing(doc).items[0].row == 6


def test_docstring_converts_to_markdown() -> None:
    # docs/formats.md is generated from the docstring; inline literals convert line by line.
    doc = clen_core_listing.__doc__ or ""
    assert [line for line in doc.splitlines() if line.count("``") % 2] == []
    for heading in ("The layout", "What is recognised", "What ends up in the report"):
        assert f"\n{heading}\n{'-' * len(heading)}\n" in doc


def test_not_utf8_is_a_format_error(tmp_path: Path) -> None:
    path = tmp_path / "l.txt"
    path.write_bytes(HEADING.encode() + b"Gemmology\n\xff\n")
    with pytest.raises(FormatError, match=r"row 4.*UTF-8"):
        list(clen_core.read(path, entity="activity", format="listing"))


# --------------------------------------------------------------------------- Hypothesis

THEMES = [
    "Precursor Chemicals",
    "Handheld Detection Devices",
    "Gemmology",
    "Honey Authenticity",
    "Designer Drugs and New Psychoactive Substances",
    "Tobacco Products",
    "Textile Fibres",
    "Waste Codes",
    "Species Identification",
    "Cannabis and Cannabinoids",
]
# (kind, sub-heading text, title, characters that stay on its first line)
SUBHEADINGS = [
    ("project_group_meeting", "Project Group Meetings", None, 99),
    ("project_group_meeting", "Project Group Meeting", None, 99),
    ("workshop", "Workshop", None, 99),
    (
        "workshop",
        "Workshop on Isotope Ratio Techniques and other Authentication Methods",
        "Isotope Ratio Techniques and other Authentication Methods",
        len("Workshop on"),
    ),
    ("training_session", "Training Session", None, 99),
    ("training_session", "Handheld Devices Training Session", "Handheld Devices", 99),
    (
        "training_session",
        "Training Session on Gemstones and Pearls",
        "Gemstones and Pearls",
        len("Training Session"),
    ),
    ("seminar", "Seminar", None, 99),
    ("plenary", "Plenary", None, 99),
    ("study_visit", "Study visit", None, 99),
    ("other", "Webinar on Cannabis", "Webinar on Cannabis", len("Webinar")),
]
CITIES = [
    "Vienna",
    "Riga",
    "Rome",
    "Dublin",
    "Warsaw",
    "Zagreb",
    "Thessaloniki",
    "Belgrade",
    "Den Haag",
    "Frankfurt am Main",
    "Cluj-Napoca",
    "Saint-Étienne",
    "Łódź",
    "’s-Hertogenbosch",
]
COUNTRIES = {"AT": "AT", "LV": "LV", "EL": "GR", "GR": "GR", "RS": "RS", "UK": "GB", "CH": "CH"}
COUNTRIES |= {"IE": "IE", "PL": "PL", "HR": "HR", "BE": "BE", "MT": "MT", "TR": "TR"}
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
BULLETS = ["", "", " ", "\uf0b7 ", " \uf0b7 ", "• ", "- ", "* ", "▪ ", "1. ", "12) "]
BLANKS = st.lists(st.sampled_from(["", " ", "  \t", "\u00a0"]), max_size=2)
RANGE = st.sampled_from(["-", "–", " - ", " – ", "—", " to ", "- "])


@st.composite
def day_text(draw: st.DrawFn, day: int) -> str:
    style = draw(st.sampled_from(["plain", "ordinal", "spaced"]))
    if style == "plain":
        return str(day)
    suffix = "th" if day in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{' ' if style == 'spaced' else ''}{suffix}"


@st.composite
def month_text(draw: st.DrawFn, month: int) -> str:
    name = MONTHS[month - 1]
    return draw(st.sampled_from([name, name, name[:3], name[:3] + ".", name.upper()]))


@st.composite
def dates(draw: st.DrawFn) -> tuple[dt.date, dt.date, str]:
    """A date or range and one of its written forms."""
    style = draw(st.sampled_from(["one", "month", "list", "months", "years", "us"]))
    d = draw(st.dates(dt.date(2000, 1, 1), dt.date(2030, 12, 20)))
    day, month = day_text, month_text
    if style == "years":
        start = dt.date(d.year, 12, draw(st.integers(20, 31)))
        end = dt.date(d.year + 1, 1, draw(st.integers(1, 10)))
        first_year = draw(st.booleans())
        text = (
            f"{draw(day(start.day))} {draw(month(12))}{f' {start.year}' if first_year else ''}"
            f"{draw(RANGE)}{draw(day(end.day))} {draw(month(1))} {end.year}"
        )
        return start, end, text
    if style == "months":
        start = dt.date(d.year, min(d.month, 11), draw(st.integers(1, 28)))
        end = dt.date(d.year, start.month + 1, draw(st.integers(1, 28)))
        first_year = draw(st.booleans())
        text = (
            f"{draw(day(start.day))} {draw(month(start.month))}"
            f"{f' {start.year}' if first_year else ''}"
            f"{draw(RANGE)}{draw(day(end.day))} {draw(month(end.month))} {end.year}"
        )
        return start, end, text
    if style == "one":
        return d, d, f"{draw(day(d.day))} {draw(month(d.month))} {d.year}"
    if style == "us":  # month first: "March 3-4, 2016", "June 2, 2013"
        end = d + dt.timedelta(days=draw(st.integers(0, 3)))
        end = end if end.month == d.month else d
        days = f"{draw(day(d.day))}" + (f"{draw(RANGE)}{draw(day(end.day))}" if end != d else "")
        comma = draw(st.sampled_from([",", ""]))
        return d, end, f"{draw(month(d.month))} {days}{comma} {d.year}"
    end = d + dt.timedelta(days=draw(st.integers(1, 4)))
    if end.month != d.month:
        d, end = d.replace(day=1), d.replace(day=1 + (end - d).days)
    if style == "list" and (end - d).days >= 1:
        days = [draw(day(d.day + i)) for i in range((end - d).days + 1)]
        joiner = draw(st.sampled_from([" & ", " and ", ", "]))
        listed = ", ".join(days[:-1]) + draw(st.sampled_from([" & ", " and "])) + days[-1]
        text = (joiner.join(days) if len(days) == 2 else listed) + " "
    else:
        text = f"{draw(day(d.day))}{draw(RANGE)}{draw(day(end.day))} "
    return d, end, text + f"{draw(month(d.month))} {d.year}"


@st.composite
def entry(draw: st.DrawFn) -> tuple[dict[str, Any], str, int]:
    """An entry's expected values, its text, and where in it no line break may go."""
    city = draw(st.sampled_from(CITIES))
    cc = draw(st.sampled_from(sorted(COUNTRIES)))
    start, end, when = draw(dates())
    participants = draw(st.none() | st.integers(1, 400))
    place_sep = draw(st.sampled_from([", ", ", ", " ", ",", " – "]))
    text = f"{city} ({cc}){place_sep}{when}"
    unbreakable = len(text) + 999
    notes = None
    if participants is not None and draw(st.integers(0, 5)) == 0:
        text += f" ({participants} {draw(st.sampled_from(['participants', 'pax']))})"
    elif participants is not None:
        sep = draw(st.sampled_from([" – ", " - ", "- ", ", ", " ", " –", "–", ","]))
        word = draw(st.sampled_from(["participants", "participants", "pax", "participant(s)", ""]))
        if sep.strip() == "" and not word:
            word = "participants"
        text += f"{sep}{participants}"
        if word and draw(st.integers(0, 4)) == 0:
            # What follows the word on its line goes into the notes: no break from the word on.
            tail = draw(st.sampled_from(["from 13 Member States", "per session", "(5 countries)"]))
            unbreakable = len(text)
            notes = f"{word} {tail}"
            text += f" {word} {tail}"
        elif word:
            text += f" {word}"
    if notes is None:
        text += draw(st.sampled_from(["", "", " ", ".", ";"]))
    expected = {
        "city": city,
        "country": COUNTRIES[cc],
        "start": start.isoformat(),
        "end": end.isoformat(),
        "participants": participants,
        "notes": notes,
    }
    return expected, text, unbreakable


@st.composite
def broken(draw: st.DrawFn, text: str, keep: int = 0, until: int = 10**9) -> list[str]:
    """``text`` broken at random spaces (after its first ``keep`` characters, and before
    ``until``) into lines, with blank and whitespace-only lines and stray spaces around them."""
    cuts = [i for i, c in enumerate(text) if c == " " and keep < i < until]
    chosen = sorted(draw(st.sets(st.sampled_from(cuts), max_size=4))) if cuts else []
    pieces, last = [], 0
    for i in chosen:
        pieces.append(text[last:i])
        last = i + 1
    pieces.append(text[last:])
    lines: list[str] = []
    for n, piece in enumerate(pieces):
        if n:
            lines += draw(BLANKS)
        lines.append(
            draw(st.sampled_from(["", "", " "])) + piece + draw(st.sampled_from(["", " "]))
        )
    return lines


@st.composite
def listings(draw: st.DrawFn) -> tuple[list[list[str]], list[dict[str, Any]], int]:
    """A listing as blocks of lines (garbage may go between blocks and inside entries),
    the events it holds (with ``group``: the project group's facts, or None), and its
    action."""
    action = draw(st.integers(1, 6))
    heading = draw(
        st.sampled_from(
            [
                [f"Action {action} of the Customs Laboratories", "European Network:"],
                [f"Action {action} of the Customs Laboratories European Network:"],
                [f"Action {action} of the", "Customs Laboratories European Network"],
                [f"Action {action} – {ACTIONS[action - 1][1]}"],
            ]
        )
    )
    blocks: list[list[str]] = [heading]
    if draw(st.booleans()):
        blocks.append([ACTIONS[action - 1][1] + " "])
    if draw(st.booleans()):
        blocks.append([f"Examples of activities carried out under Action {action}:  "])
    events: list[dict[str, Any]] = []
    for theme in draw(st.lists(st.sampled_from(THEMES), min_size=1, max_size=3, unique=True)):
        blocks.append(draw(broken(theme)))
        sections = draw(st.lists(st.sampled_from(SUBHEADINGS), min_size=1, max_size=2))
        group: dict[str, int] | None = None  # one project group per theme, summed up once
        for kind, sub, title, keep in sections:
            lines = draw(broken(sub, keep=keep))
            if kind == "project_group_meeting" and group is None:
                group = {}
            if kind == "project_group_meeting" and not group and draw(st.booleans()):
                n, year = draw(st.integers(1, 9)), draw(st.integers(2000, 2030))
                members = draw(st.none() | st.integers(2, 40))
                group = {"meetings": n, "since": year} | ({"members": members} if members else {})
                summary = [f"{n} meetings since {year}" + (f" – {members}" if members else "")]
                if members and draw(st.booleans()):
                    summary.append("members")
                elif members:
                    summary[0] += " members"
                summary[-1] += draw(st.sampled_from(["", ":"]))
                if len(lines) == 1 and draw(st.booleans()):
                    lines = [lines[0] + "  " + summary[0], *summary[1:]]
                else:
                    lines += summary
            blocks.append(lines)
            for expected, text, until in draw(st.lists(entry(), min_size=1, max_size=3)):
                bullet = draw(st.sampled_from(BULLETS))
                pieces = draw(broken(text, keep=text.index(")") + 1, until=until))
                blocks.append([bullet + pieces[0].lstrip(), *pieces[1:]])
                events.append({**expected, "theme": theme, "kind": kind, "title": title})
                if kind == "project_group_meeting":
                    events[-1]["group"] = group
    return blocks, events, action


FIELDS = ["theme", "kind", "title", "city", "country", "start", "end", "participants", "notes"]


def _check_events(
    listing: clen_core_listing.Listing, events: list[dict[str, Any]], action: int
) -> None:
    got = [dict(r.values) for r in listing.items if isinstance(r, RawRecord)]
    assert [{f: r.get(f) for f in FIELDS} for r in got] == [
        {f: e.get(f) for f in FIELDS} for e in events
    ]
    assert {r["action"] for r in got} == {action}
    ids = [r["activity_id"] for r in got]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith(f"L{action}-") for i in ids)
    for r in got:  # every record decodes into an Activity
        DECODER.decode(r)
    # Project-group meetings name the group of their theme, which carries the summary.
    groups = {g.values["group_id"]: dict(g.values) for g in listing.groups}
    expected_groups = {}
    for r, e in zip(got, events, strict=True):
        if "group" not in e:
            assert "project_group_id" not in r
            continue
        group = groups[r["project_group_id"]]
        assert (group["action"], group["theme"]) == (action, e["theme"])
        expected_groups[r["project_group_id"]] = {
            "group_id": r["project_group_id"], "action": action, "theme": e["theme"], **e["group"]
        }  # fmt: skip
    assert groups == expected_groups
    for g in listing.groups:
        GROUP_DECODER.decode(g.values)


@given(listings(), st.sampled_from(["\n", "\r\n"]))
@settings(max_examples=150)
def test_random_listings_are_recovered_exactly(
    doc: tuple[list[list[str]], list[dict[str, Any]], int], newline: str
) -> None:
    blocks, events, action = doc
    text = newline.join(line for block in blocks for line in block) + newline
    listing = parse_listing(text)
    assert [p for p in listing.items if isinstance(p, RowProblem)] == []
    _check_events(listing, events, action)
    non_blank = {n for n, line in enumerate(text.split(newline), 1) if line.strip()}
    assert set(listing.lines) == non_blank
    assert "problem" not in listing.lines.values()
    assert parse_listing(text) == listing  # the same listing, the same records and IDs


GARBAGE = st.builds(
    lambda a, b: a + b,
    st.sampled_from(["#", "@", "%", "=", "~", "|", "^", "§", "[", "{"]),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=20),
)


@given(listings(), st.data())
@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
def test_garbage_lines_are_reported_with_their_line_numbers(
    doc: tuple[list[list[str]], list[dict[str, Any]], int], data: st.DataObject
) -> None:
    blocks, events, action = doc
    lines: list[str] = []
    garbage_rows: set[int] = set()

    def maybe_garbage() -> None:
        for g in data.draw(st.lists(GARBAGE, max_size=1)):
            lines.append(g)
            garbage_rows.add(len(lines))

    for n, block in enumerate(blocks):
        summary = any("meetings since" in x or x == "members" for x in block)
        for k, line in enumerate(block):
            if k and (n == 0 or summary):  # not inside the heading or a summary
                lines.append(line)
                continue
            if n or k:
                maybe_garbage()
            lines.append(line)
    maybe_garbage()
    text = "\n".join(lines) + "\n"
    listing = parse_listing(text)
    probs = [p for p in listing.items if isinstance(p, RowProblem)]
    assert {p.row for p in probs} == garbage_rows
    assert len(probs) == len(garbage_rows)
    for p in probs:
        assert p.text == clen_core_listing._clean(lines[p.row - 1])
        assert "not understood" in p.reason
    _check_events(listing, events, action)
    # Every non-blank line is in a record, the recognised structure, or a problem.
    non_blank = {n for n, line in enumerate(lines, 1) if line.strip()}
    assert set(listing.lines) == non_blank
    assert {n for n, how in listing.lines.items() if how == "problem"} == garbage_rows
    # Through clen_core.read: the problems are the rejects, and the counts add up.
    path = Path(_FUZZ_DIR.name) / "garbage.txt"
    path.write_text(text, encoding="utf-8")
    reader = clen_core.read(path, entity="activity", format="listing", on_reject="collect")
    assert len(list(reader)) == reader.accepted == len(events)
    assert reader.rejected == len(garbage_rows)
    assert reader.read_rows == len(events) + len(garbage_rows)
    assert {(r.row, r.field) for r in reader.rejects} == {(n, None) for n in garbage_rows}


# --------------------------------------------------------------------------- fuzzing

WORDS = st.sampled_from(
    [
        "Vienna (AT),", "Riga (LV)", "(EL)", "3-4", "2nd", "&", "3rd", "June", "March", "2016",
        "–", "-", ",", "41", "participants", "Workshop", "Project Group Meetings", "Seminar",
        "3 meetings since 2015", "members", "Gemmology", "\n", "\n", "\n\n", " ", "\uf0b7",
        "Action 5 of the Customs Laboratories", "European Network:", "31 February", "(", ")",
        "Examples of activities carried out under Action 2:", "Action 9 –", "99999", ".",
    ]
)  # fmt: skip


def _read_all(data: bytes) -> None:
    path = Path(_FUZZ_DIR.name) / "fuzz.txt"
    path.write_bytes(data)
    try:
        reader = clen_core.read(path, entity="activity", format="listing", on_reject="collect")
        objs = list(reader)
    except (FormatError, RejectedRowsError):
        return
    assert reader.read_rows == reader.accepted + reader.rejected
    assert len(objs) == reader.accepted


@given(st.text())
@example("Action 5 of the Customs Laboratories\n\nX\nWorkshop\nRiga (LV), 99 June 2013")
def test_fuzz_text(text: str) -> None:
    _read_all(text.encode("utf-8", "surrogatepass"))
    _read_all((HEADING + text).encode("utf-8", "surrogatepass"))


@given(st.binary())
def test_fuzz_bytes(data: bytes) -> None:
    _read_all(data)
    _read_all(HEADING.encode() + data)


@given(st.lists(WORDS, max_size=60).map(" ".join))
@settings(max_examples=200)
def test_fuzz_listing_words(text: str) -> None:
    _read_all(text.encode())
    _read_all((HEADING + text).encode())
    # Whatever happens, every non-blank line is accounted for.
    try:
        listing = parse_listing(HEADING + text)
    except FormatError:
        return
    lines = (HEADING + text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    non_blank = {n for n, line in enumerate(lines, 1) if clen_core_listing._clean(line)}
    assert set(listing.lines) == non_blank
    # A line marked "problem" is in the text of a problem reported at it or above it.
    probs = [p for p in listing.items if isinstance(p, RowProblem)]
    for n, how in listing.lines.items():
        if how == "problem":
            line = clen_core_listing._clean(lines[n - 1])
            assert any(p.row <= n and line in (p.text or "") for p in probs), (n, line, probs)
