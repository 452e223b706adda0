"""Qualitative proficiency testing (ISO 13528:2022, Clause 11): worked examples, properties.

Every expected value below was worked out by hand (the reasoning is in the comments),
not by running the code.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clen_core.errors import ClenError, StatisticsError
from clen_core.proficiency.qualitative import (
    AgreementLevel,
    ClassificationRound,
    IdentificationOutcome,
    cn_agreement,
    score_classification,
    score_identification,
    score_nominal,
    score_ordinal,
)

L = AgreementLevel
O = IdentificationOutcome  # noqa: E741 - short alias in tables


def json_ready(d: dict[str, Any]) -> dict[str, Any]:
    """``d`` survives a JSON round trip unchanged (only plain types in it)."""
    loaded: dict[str, Any] = json.loads(json.dumps(d, allow_nan=False))
    assert loaded == d
    return loaded


def in_unit_interval(fraction: float | None, p: int) -> bool:
    """A fraction of ``p`` results: None when there is none, else in [0, 1]."""
    if fraction is None:
        return p == 0
    return p > 0 and 0 <= fraction <= 1


# --------------------------------------------------------------------------- AgreementLevel


def test_levels_are_ordered_and_count_digits() -> None:
    assert L.NONE < L.CHAPTER < L.HEADING < L.HS_SUBHEADING < L.CN_SUBHEADING < L.TARIC
    assert [lv.digits for lv in L] == [0, 2, 4, 6, 8, 10]
    assert [lv.label for lv in L] == [
        "none",
        "chapter",
        "heading",
        "hs_subheading",
        "cn_subheading",
        "taric",
    ]


# --------------------------------------------------------------------------- cn_agreement


@pytest.mark.parametrize(
    ("reported", "level"),
    [
        ("22089069", L.CN_SUBHEADING),  # the same CN code
        ("2208.90.69", L.CN_SUBHEADING),  # written with dots
        (" 2208 90 69 ", L.CN_SUBHEADING),  # with spaces, padded
        ("22089099", L.HS_SUBHEADING),  # 220890 | 69 ≠ 99
        ("2208 20 00", L.HEADING),  # 2208 | 90 ≠ 20
        ("2204 21 10", L.CHAPTER),  # 22 | 08 ≠ 04
        ("0401 10 10", L.NONE),  # 22 ≠ 04
        ("2208 90", L.HS_SUBHEADING),  # an HS subheading agrees at most at its own depth
        ("2208 90 69 10", L.CN_SUBHEADING),  # a TARIC code against a CN code: at most CN
    ],
)
def test_cn_agreement_by_hand(reported: str, level: AgreementLevel) -> None:
    assert cn_agreement("2208 90 69", reported) is level
    assert cn_agreement(reported, "2208 90 69") is level  # symmetric


def test_cn_agreement_at_taric_needs_two_taric_codes() -> None:
    assert cn_agreement("2208 90 69 00", "2208906900") is L.TARIC
    assert cn_agreement("2208 90 69 00", "2208906910") is L.CN_SUBHEADING  # 22089069 | 00 ≠ 10
    assert cn_agreement("2208906900", "22089069") is L.CN_SUBHEADING
    # An assigned HS subheading can only be agreed up to HS_SUBHEADING.
    assert cn_agreement("220890", "2208906900") is L.HS_SUBHEADING
    assert cn_agreement("220890", "220891") is L.HEADING


@pytest.mark.parametrize(
    ("assigned", "reported", "message"),
    [
        ("abc", "22089069", "assigned code: 'abc' is not a valid HS, CN or TARIC code"),
        ("22089069", "abc", "reported code: 'abc' is not a valid HS, CN or TARIC code"),
        ("22089069", "2208", "it has 4 digit(s), not 6, 8 or 10 (that is an HS heading)"),
        ("22089069", "220890691", "it has 9 digit(s), not 6, 8 or 10"),
        ("22089069", "7708 90 69", "chapter 77 is reserved"),
        ("22089069", "0008 90 69", "chapter 00 does not exist"),
        ("22089069", "ex 2208 90", "'ex' marks an entry"),
        ("22089069", "22089069123", "11 digit(s)"),  # a national 11th digit
        ("22089069", None, "reported code: no code reported"),
        ("22089069", 22089069, "it is of type int, not str"),
        ("22089069", "", "the value is empty"),
    ],
)
def test_cn_agreement_refuses_invalid_codes_naming_them(
    assigned: Any, reported: Any, message: str
) -> None:
    with pytest.raises(StatisticsError, match="expected an HS subheading") as info:
        cn_agreement(assigned, reported)
    assert message in str(info.value)
    assert isinstance(info.value, ClenError)
    assert isinstance(info.value, ValueError)


# --------------------------------------------------------------------------- score_classification

# The worked round of the brief: assigned 2208 90 69 (a CN code).
ROUND = {
    "L1": "22089069",  # CN subheading
    "L2": "2208 90 99",  # HS subheading
    "L3": "2208.20.00",  # heading 2208
    "L4": "2204 21 10",  # chapter 22
    "L5": "0401 10 10",  # none
    "L6": "abc",  # invalid
}


def test_classification_round_by_hand() -> None:
    r = score_classification("2208 90 69", ROUND)
    assert r.assigned == "22089069"
    assert r.assigned_level is L.CN_SUBHEADING
    assert r.required is L.CN_SUBHEADING
    assert r.participants == 6
    assert r.p == 5  # L6 is invalid, counted apart
    assert r.counts == {
        L.NONE: 1,
        L.CHAPTER: 1,
        L.HEADING: 1,
        L.HS_SUBHEADING: 1,
        L.CN_SUBHEADING: 1,
    }
    # At least at chapter: L1-L4; heading: L1-L3; HS subheading: L1, L2; CN: L1.
    assert r.cumulative == {L.CHAPTER: 4, L.HEADING: 3, L.HS_SUBHEADING: 2, L.CN_SUBHEADING: 1}
    assert r.cumulative_fractions == {
        L.CHAPTER: 0.8,
        L.HEADING: 0.6,
        L.HS_SUBHEADING: 0.4,
        L.CN_SUBHEADING: 0.2,
    }
    assert r.n_correct == 1
    assert r.fraction_correct == 0.2
    assert r.below_required == ("L2", "L3", "L4", "L5")
    assert r.invalid == ("L6",)
    # Five different codes, once each: all tie, no single mode.
    assert r.mode is None
    assert r.modes == ("04011010", "22042110", "22082000", "22089069", "22089099")
    by_lab = {s.laboratory: s for s in r.scores}
    assert [s.laboratory for s in r.scores] == list(ROUND)  # the order of the results
    assert by_lab["L2"].reported == "2208 90 99"
    assert by_lab["L2"].code == "22089099"
    assert by_lab["L2"].level is L.HS_SUBHEADING
    assert (by_lab["L1"].correct, by_lab["L2"].correct) == (True, False)
    bad = by_lab["L6"]
    assert (bad.valid, bad.code, bad.level, bad.correct) == (False, None, None, False)
    assert bad.error is not None
    assert "'abc' is not a valid HS, CN or TARIC code" in bad.error


def test_classification_required_level() -> None:
    # Required heading: L1, L2, L3 are correct (cumulative at heading = 3).
    r = score_classification("2208 90 69", ROUND, required=L.HEADING)
    assert r.n_correct == 3
    assert r.below_required == ("L4", "L5")
    assert r.fraction_correct == 0.6
    assert [s.correct for s in r.scores] == [True, True, True, False, False, False]


def test_classification_mode_is_of_normalised_codes() -> None:
    # 22089069 written three ways is one code, reported three times.
    r = score_classification(
        "22089069",
        {"A": "22089069", "B": "2208.90.69", "C": "2208 90 69", "D": "22089099", "E": "2208 90"},
    )
    assert r.mode == "22089069"
    assert r.modes == ("22089069",)
    assert r.n_correct == 3
    # E reported only the HS subheading: it agrees at HS_SUBHEADING, below the required CN.
    assert r.scores[-1].level is L.HS_SUBHEADING
    assert r.below_required == ("D", "E")


def test_classification_taric_round() -> None:
    r = score_classification(
        "2208 90 69 00",
        [("A", "2208906900"), ("B", "2208906910"), ("C", "22089069"), ("D", "220890")],
        required=L.TARIC,
    )
    assert r.assigned_level is L.TARIC
    assert [s.level for s in r.scores] == [
        L.TARIC,
        L.CN_SUBHEADING,
        L.CN_SUBHEADING,
        L.HS_SUBHEADING,
    ]
    assert r.counts == {
        L.NONE: 0,
        L.CHAPTER: 0,
        L.HEADING: 0,
        L.HS_SUBHEADING: 1,
        L.CN_SUBHEADING: 2,
        L.TARIC: 1,
    }
    assert r.cumulative == {
        L.CHAPTER: 4,
        L.HEADING: 4,
        L.HS_SUBHEADING: 4,
        L.CN_SUBHEADING: 3,
        L.TARIC: 1,
    }
    assert r.n_correct == 1
    # With the default requirement (CN subheading), A, B and C are correct.
    assert score_classification("2208 90 69 00", {"A": "2208906910"}).n_correct == 1


def test_classification_with_an_assigned_hs_subheading() -> None:
    # Levels stop at HS_SUBHEADING; requiring the CN subheading could never be met.
    with pytest.raises(StatisticsError, match="required level CN_SUBHEADING is deeper"):
        score_classification("2208 90", {"A": "22089069"})
    r = score_classification("2208 90", {"A": "22089069", "B": "220820"}, required=L.HS_SUBHEADING)
    assert list(r.counts) == [L.NONE, L.CHAPTER, L.HEADING, L.HS_SUBHEADING]
    assert r.cumulative == {L.CHAPTER: 2, L.HEADING: 2, L.HS_SUBHEADING: 1}
    assert r.n_correct == 1


def test_classification_invalid_codes_do_not_stop_the_round() -> None:
    r = score_classification(
        "22089069", {"A": None, "B": "7708 90 69", "C": 22089069, "D": "22089069"}
    )
    assert r.invalid == ("A", "B", "C")
    assert r.p == 1
    assert r.participants == 4
    errors = [s.error for s in r.scores]
    assert errors[0] == "no code reported"
    assert errors[1] is not None
    assert "chapter 77 is reserved" in errors[1]
    assert errors[2] is not None
    assert "it is of type int" in errors[2]
    assert errors[3] is None
    assert r.scores[2].reported == "22089069"  # a non-text value is kept as its repr
    # All invalid: nothing to compute fractions over, but the provider sees every reason.
    none_valid = score_classification("22089069", {"A": "abc", "B": ""})
    assert none_valid.p == 0
    assert none_valid.fraction_correct is None
    assert none_valid.mode is None
    assert none_valid.modes == ()
    assert set(none_valid.cumulative_fractions.values()) == {None}
    assert none_valid.invalid == ("A", "B")
    json_ready(none_valid.to_dict())


def test_classification_to_dict() -> None:
    d = json_ready(score_classification("2208 90 69", ROUND).to_dict())
    assert d["assigned"] == "22089069"
    assert d["assigned_level"] == "cn_subheading"
    assert d["required"] == "cn_subheading"
    assert (d["participants"], d["p"], d["correct"], d["fraction_correct"]) == (6, 5, 1, 0.2)
    assert d["counts"] == {
        "none": 1,
        "chapter": 1,
        "heading": 1,
        "hs_subheading": 1,
        "cn_subheading": 1,
    }
    assert d["cumulative"]["heading"] == {"count": 3, "fraction": 0.6}
    assert d["below_required"] == ["L2", "L3", "L4", "L5"]
    assert d["invalid"] == ["L6"]
    assert d["scores"][1] == {
        "laboratory": "L2",
        "reported": "2208 90 99",
        "code": "22089099",
        "level": "hs_subheading",
        "digits": 6,
        "correct": False,
        "valid": True,
        "error": None,
    }
    assert d["scores"][5]["valid"] is False
    assert d["scores"][5]["level"] is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"required": L.NONE}, "required level NONE would make every result correct"),
        ({"required": L.TARIC}, "required level TARIC is deeper than the assigned code's"),
        ({"required": "heading"}, "required: expected an AgreementLevel"),
        ({"required": True}, "required: expected an AgreementLevel"),
        ({"required": 5}, "required: expected an AgreementLevel"),
    ],
)
def test_classification_refuses_a_bad_required_level(kwargs: Any, message: str) -> None:
    with pytest.raises(StatisticsError, match=message):
        score_classification("22089069", {"A": "22089069"}, **kwargs)


def test_classification_accepts_a_plain_int_level() -> None:
    six: Any = 6  # typed AgreementLevel; an int that is a level's value is accepted too
    assert score_classification("22089069", {"A": "22089099"}, required=six).n_correct == 1


@pytest.mark.parametrize(
    ("results", "message"),
    [
        ({}, "results is empty"),
        ([], "results is empty"),
        ([("A", "22089069"), ("A", "22089099")], "laboratory 'A' reported twice"),
        ("22089069", "got text"),
        (42, "got int"),
        ([("A",)], r"results\[0\]: expected a \(laboratory, result\) pair"),
        (["AB"], r"results\[0\]: expected a \(laboratory, result\) pair"),
        ([(1, "22089069")], r"results\[0\]: the laboratory must be non-empty text"),
        ({" ": "22089069"}, "the laboratory must be non-empty text"),
    ],
)
def test_classification_refuses_bad_results(results: Any, message: str) -> None:
    with pytest.raises(StatisticsError, match=message):
        score_classification("22089069", results)


def test_classification_refuses_an_invalid_assigned_code() -> None:
    with pytest.raises(StatisticsError, match="assigned code: '2208' is not a valid"):
        score_classification("2208", {"A": "22089069"})


# --------------------------------------------------------------------------- score_nominal


def test_nominal_mode_by_hand() -> None:
    r = score_nominal({"A": "whisky", "B": "brandy", "C": "whisky", "D": "rum", "E": "whisky"})
    # whisky 3, brandy 1, rum 1: the mode is whisky; 3 of 5 agree.
    assert (r.assigned, r.assigned_by, r.mode) == ("whisky", "mode", "whisky")
    assert r.p == 5
    assert r.counts == {"whisky": 3, "brandy": 1, "rum": 1}
    assert list(r.counts) == ["whisky", "brandy", "rum"]  # most frequent first, then sorted
    assert r.n_agreeing == 3
    assert r.fraction_agreeing == 0.6
    assert [s.agrees for s in r.scores] == [True, False, True, False, True]


def test_nominal_tie_has_no_assigned_category_unless_given() -> None:
    results = [("A", "whisky"), ("B", "brandy"), ("C", "brandy"), ("D", "whisky")]
    r = score_nominal(results)
    assert r.assigned is None
    assert r.assigned_by == "mode"
    assert r.modes == ("brandy", "whisky")
    assert r.mode is None
    assert r.n_agreeing is None
    assert r.fraction_agreeing is None
    assert {s.agrees for s in r.scores} == {None}
    given_ = score_nominal(results, assigned="whisky")
    assert (given_.assigned, given_.assigned_by) == ("whisky", "given")
    assert given_.n_agreeing == 2
    assert [s.agrees for s in given_.scores] == [True, False, False, True]


def test_nominal_given_category_that_nobody_reported() -> None:
    r = score_nominal({"A": "whisky", "B": "whisky"}, assigned="grain spirit")
    assert r.n_agreeing == 0
    assert r.fraction_agreeing == 0.0
    assert r.mode == "whisky"


def test_nominal_categories_are_compared_exactly() -> None:
    r = score_nominal({"A": "Whisky", "B": "whisky", "C": "whisky"})
    assert r.counts == {"whisky": 2, "Whisky": 1}
    assert r.n_agreeing == 2


def test_nominal_to_dict() -> None:
    d = json_ready(score_nominal({"A": "x", "B": "y", "C": "x"}).to_dict())
    assert d == {
        "assigned": "x",
        "assigned_by": "mode",
        "p": 3,
        "counts": {"x": 2, "y": 1},
        "mode": "x",
        "modes": ["x"],
        "agreeing": 2,
        "fraction_agreeing": 2 / 3,
        "scores": [
            {"laboratory": "A", "category": "x", "agrees": True},
            {"laboratory": "B", "category": "y", "agrees": False},
            {"laboratory": "C", "category": "x", "agrees": True},
        ],
    }


@pytest.mark.parametrize(
    ("results", "kwargs", "message"),
    [
        ({"A": None}, {}, "laboratory 'A': the category must be non-empty text, got None"),
        ({"A": "  "}, {}, "laboratory 'A': the category must be non-empty text"),
        ({"A": 3}, {}, "laboratory 'A': the category must be non-empty text, got 3"),
        ({"A": "x"}, {"assigned": ""}, "assigned: expected a non-empty category"),
        ({}, {}, "results is empty"),
        ([("A", "x"), ("A", "y")], {}, "laboratory 'A' reported twice"),
    ],
)
def test_nominal_errors(results: Any, kwargs: Any, message: str) -> None:
    with pytest.raises(StatisticsError, match=message):
        score_nominal(results, **kwargs)


# --------------------------------------------------------------------------- score_ordinal

SCALE = ["absent", "trace", "low", "medium", "high"]


def test_ordinal_by_hand() -> None:
    r = score_ordinal(
        {"A": "trace", "B": "low", "C": "low", "D": "medium", "E": "high", "F": "absent"}, SCALE
    )
    # Ranks 2, 3, 3, 4, 5, 1 → sorted 1 2 3 | 3 4 5: the middle two are both 3 (low).
    assert r.order == tuple(SCALE)
    assert r.median_rank == 3.0
    assert r.median_category == "low"
    assert (r.assigned, r.assigned_rank, r.assigned_by) == ("low", 3, "median")
    assert [s.rank for s in r.scores] == [2, 3, 3, 4, 5, 1]
    assert [s.difference for s in r.scores] == [-1, 0, 0, 1, 2, -2]
    assert [s.agrees for s in r.scores] == [False, True, True, False, False, False]
    assert [s.within_one for s in r.scores] == [True, True, True, True, False, False]
    assert r.counts == {"absent": 1, "trace": 1, "low": 2, "medium": 1, "high": 1}
    assert list(r.counts) == SCALE  # in the order of the scale
    assert (r.n_agreeing, r.n_within_one) == (2, 4)
    assert r.fraction_agreeing == pytest.approx(2 / 6)
    assert r.fraction_within_one == pytest.approx(4 / 6)


def test_ordinal_median_between_two_categories() -> None:
    # Ranks 1 and 3: the median lies between low (rank 1) and high (rank 3).
    r = score_ordinal({"A": "low", "B": "high"}, ["low", "medium", "high"])
    assert r.median_rank == 2.0  # the midpoint, though nobody reported medium
    assert r.median_category is None
    assert r.assigned is None
    assert r.assigned_rank is None
    assert {s.difference for s in r.scores} == {None}
    assert (r.n_agreeing, r.fraction_within_one) == (None, None)
    assert r.counts == {"low": 1, "medium": 0, "high": 1}
    # Ranks 1, 2: median 1.5.
    half = score_ordinal({"A": "low", "B": "medium"}, ["low", "medium", "high"])
    assert (half.median_rank, half.median_category) == (1.5, None)
    # The provider gives the assigned category.
    given_ = score_ordinal({"A": "low", "B": "high"}, ["low", "medium", "high"], assigned="medium")
    assert (given_.assigned, given_.assigned_rank, given_.assigned_by) == ("medium", 2, "given")
    assert [s.difference for s in given_.scores] == [-1, 1]
    assert (given_.n_agreeing, given_.n_within_one) == (0, 2)


def test_ordinal_given_assigned_overrides_the_median() -> None:
    r = score_ordinal({"A": "low", "B": "low", "C": "high"}, SCALE, assigned="high")
    assert r.median_category == "low"
    assert [s.difference for s in r.scores] == [-2, -2, 0]
    assert (r.n_agreeing, r.n_within_one) == (1, 1)


def test_ordinal_to_dict() -> None:
    d = json_ready(score_ordinal({"A": "low", "B": "high", "C": "low"}, ["low", "high"]).to_dict())
    assert d == {
        "order": ["low", "high"],
        "assigned": "low",
        "assigned_rank": 1,
        "assigned_by": "median",
        "p": 3,
        "counts": {"low": 2, "high": 1},
        "median_rank": 1.0,
        "median_category": "low",
        "agreeing": 2,
        "fraction_agreeing": 2 / 3,
        "within_one": 3,
        "fraction_within_one": 1.0,
        "scores": [
            {
                "laboratory": "A",
                "category": "low",
                "rank": 1,
                "difference": 0,
                "agrees": True,
                "within_one": True,
            },
            {
                "laboratory": "B",
                "category": "high",
                "rank": 2,
                "difference": 1,
                "agrees": False,
                "within_one": True,
            },
            {
                "laboratory": "C",
                "category": "low",
                "rank": 1,
                "difference": 0,
                "agrees": True,
                "within_one": True,
            },
        ],
    }


@pytest.mark.parametrize(
    ("results", "order", "kwargs", "message"),
    [
        (
            {"A": "low", "B": "very high"},
            SCALE,
            {},
            r"laboratory 'B': 'very high' is not a category of the scale \(absent, trace, low",
        ),
        ({"A": None}, SCALE, {}, "laboratory 'A': None is not a category of the scale"),
        ({"A": "low"}, SCALE, {"assigned": "huge"}, "assigned: 'huge' is not a category"),
        ({"A": "low"}, "low high", {}, "order: expected a sequence of categories"),
        ({"A": "low"}, {"low", "high"}, {}, "order: expected a sequence of categories"),
        ({"A": "low"}, ["low"], {}, "needs at least 2 categories"),
        ({"A": "low"}, ["low", "high", "low"], {}, "categories listed more than once: low"),
        ({"A": "low"}, ["low", ""], {}, "every category must be non-empty text"),
        ({}, SCALE, {}, "results is empty"),
    ],
)
def test_ordinal_errors(results: Any, order: Any, kwargs: Any, message: str) -> None:
    with pytest.raises(StatisticsError, match=message):
        score_ordinal(results, order, **kwargs)


# --------------------------------------------------------------------------- identification


def test_presence_round_substance_present() -> None:
    r = score_identification(
        {"A": "present", "B": "Not  detected", "C": True, "D": "ABSENT", "E": "maybe"},
        present=True,
    )
    assert [s.outcome for s in r.scores] == [
        O.TRUE_POSITIVE,
        O.FALSE_NEGATIVE,
        O.TRUE_POSITIVE,
        O.FALSE_NEGATIVE,
        O.INVALID,
    ]
    assert [s.identified for s in r.scores] == [True, False, True, False, None]
    assert r.counts == {
        O.TRUE_POSITIVE: 2,
        O.TRUE_NEGATIVE: 0,
        O.FALSE_POSITIVE: 0,
        O.FALSE_NEGATIVE: 2,
    }
    assert (r.kind, r.present, r.substance, r.system) == ("presence", True, None, None)
    assert (r.p, r.participants, r.n_correct, r.fraction_correct) == (4, 5, 2, 0.5)
    assert r.invalid == ("E",)
    assert r.substances == {}
    error = r.scores[-1].error
    assert error is not None
    assert error.startswith("'maybe' is not a presence answer: expected True, False or absent")


def test_presence_round_substance_absent() -> None:
    r = score_identification(
        [("A", "detected"), ("B", "negative"), ("C", False), ("D", "yes"), ("E", "no")],
        present=False,
    )
    assert [s.outcome for s in r.scores] == [
        O.FALSE_POSITIVE,
        O.TRUE_NEGATIVE,
        O.TRUE_NEGATIVE,
        O.FALSE_POSITIVE,
        O.TRUE_NEGATIVE,
    ]
    assert r.counts[O.FALSE_POSITIVE] == 2
    assert r.n_correct == 3
    assert r.fraction_correct == 0.6


def test_substance_round_by_cas() -> None:
    r = score_identification(
        {"A": "64175", "B": "64\u201317\u20135", "C": "7732-18-5", "D": "64-17-6", "E": None},
        substance="64-17-5",
    )
    # A: undashed ethanol; B: en dashes; C: water; D: wrong check digit; E: none found.
    assert [s.outcome for s in r.scores] == [
        O.CORRECT,
        O.CORRECT,
        O.WRONG_SUBSTANCE,
        O.INVALID,
        O.FALSE_NEGATIVE,
    ]
    assert [s.identified for s in r.scores] == ["64-17-5", "64-17-5", "7732-18-5", None, None]
    assert (r.kind, r.substance, r.system) == ("substance", "64-17-5", "cas")
    assert r.counts == {O.CORRECT: 2, O.WRONG_SUBSTANCE: 1, O.FALSE_NEGATIVE: 1}
    assert (r.p, r.n_correct, r.fraction_correct) == (4, 2, 0.5)
    assert r.substances == {"64-17-5": 2, "7732-18-5": 1}
    assert r.invalid == ("D",)
    error = r.scores[3].error
    assert error is not None
    assert "check digit 6 is wrong" in error


def test_substance_round_by_cus_and_by_name() -> None:
    r = score_identification(
        {"A": "CUS 0011481-8", "B": "00114818", "C": "0011481"}, substance="0011481-8", system="cus"
    )
    assert [s.outcome for s in r.scores] == [O.CORRECT, O.CORRECT, O.INVALID]
    error = r.scores[2].error
    assert error is not None
    assert "it has 7 digit(s), a CUS number has 8" in error
    names = score_identification(
        {"A": "  Ethyl   ALCOHOL ", "B": "ethanol", "C": ""},
        substance="ethyl alcohol",
        system="name",
    )
    assert [s.outcome for s in names.scores] == [O.CORRECT, O.WRONG_SUBSTANCE, O.INVALID]
    assert names.scores[0].identified == "ethyl alcohol"
    assert names.substances == {"ethanol": 1, "ethyl alcohol": 1}


def test_identification_to_dict() -> None:
    d = json_ready(score_identification({"A": "64-17-5", "B": None}, substance="64175").to_dict())
    assert d == {
        "kind": "substance",
        "present": None,
        "substance": "64-17-5",
        "system": "cas",
        "participants": 2,
        "p": 2,
        "counts": {"correct": 1, "wrong_substance": 0, "false_negative": 1},
        "correct": 1,
        "fraction_correct": 0.5,
        "substances": {"64-17-5": 1},
        "invalid": [],
        "scores": [
            {
                "laboratory": "A",
                "reported": "64-17-5",
                "identified": "64-17-5",
                "outcome": "correct",
                "correct": True,
                "valid": True,
                "error": None,
            },
            {
                "laboratory": "B",
                "reported": None,
                "identified": None,
                "outcome": "false_negative",
                "correct": False,
                "valid": True,
                "error": None,
            },
        ],
    }
    presence = json_ready(score_identification({"A": 1.5}, present=True).to_dict())
    assert presence["scores"][0]["reported"] == "1.5"  # repr of a non-text value
    assert presence["invalid"] == ["A"]
    assert presence["fraction_correct"] is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "give exactly one of present"),
        ({"present": True, "substance": "64-17-5"}, "give exactly one of present"),
        ({"present": "yes"}, "present: expected True or False, got 'yes'"),
        ({"substance": "64-17-6"}, "substance: '64-17-6' is not a valid cas code"),
        ({"substance": "  ", "system": "name"}, "substance: .* the value is empty"),
        ({"substance": "64-17-5", "system": "ec"}, "system: expected 'cas', 'cus' or 'name'"),
    ],
)
def test_identification_errors(kwargs: Any, message: str) -> None:
    with pytest.raises(StatisticsError, match=message):
        score_identification({"A": "64-17-5"}, **kwargs)


def test_identification_duplicate_laboratory() -> None:
    with pytest.raises(StatisticsError, match="laboratory 'A' reported twice"):
        score_identification([("A", True), ("A", False)], present=True)


# --------------------------------------------------------------------------- properties

# Few chapters and two digits make shared prefixes, hence every level, frequent.
_CHAPTERS = st.sampled_from(["22", "04", "99"])


@st.composite
def tariff_codes(draw: st.DrawFn, length: int | None = None) -> str:
    n = draw(st.sampled_from([6, 8, 10])) if length is None else length
    return draw(_CHAPTERS) + draw(st.text("09", min_size=n - 2, max_size=n - 2))


def written(code: str, sep: str) -> str:
    """``code`` written in digit groups 4, 2, 2, 2 separated by ``sep``."""
    groups = [code[:4]] + [code[i : i + 2] for i in range(4, len(code), 2)]
    return sep.join(groups)


def reference_level(a: str, b: str) -> AgreementLevel:
    """The level from the shared prefix, rounded down to whole 2-digit steps."""
    shared = 0
    while shared < min(len(a), len(b)) and a[shared] == b[shared]:
        shared += 1
    return AgreementLevel(shared - shared % 2)


@given(tariff_codes(), tariff_codes(), st.sampled_from(["", " ", "."]))
def test_level_matches_the_shared_prefix(a: str, b: str, sep: str) -> None:
    level = cn_agreement(written(a, sep), b)
    assert level is reference_level(a, b)
    assert level.digits <= min(len(a), len(b))


@given(st.sampled_from([6, 8, 10]).flatmap(lambda n: st.tuples(tariff_codes(n), tariff_codes(n))))
def test_level_is_symmetric_for_codes_of_equal_length(pair: tuple[str, str]) -> None:
    a, b = pair
    assert cn_agreement(a, b) is cn_agreement(b, a)


@given(tariff_codes(), tariff_codes())
def test_level_is_symmetric(a: str, b: str) -> None:
    assert cn_agreement(a, b) is cn_agreement(b, a)


@given(tariff_codes(), st.sampled_from(["", " ", "."]))
def test_level_of_a_code_with_itself_is_its_depth(code: str, sep: str) -> None:
    assert cn_agreement(code, written(code, sep)) is AgreementLevel(len(code))


_JUNK = st.sampled_from(["abc", "", None, "7708 90 69", "2208", "ex 2208 90", "22.08.90.6"])
_REPORTED = st.one_of(tariff_codes(), tariff_codes().map(lambda c: written(c, " ")), _JUNK)


def _results(values: st.SearchStrategy[Any]) -> st.SearchStrategy[list[tuple[str, Any]]]:
    return st.lists(values, min_size=1, max_size=12).map(
        lambda vs: [(f"LAB{i:02d}", v) for i, v in enumerate(vs)]
    )


def _summary(d: dict[str, Any]) -> dict[str, Any]:
    """A round's ``to_dict`` without what depends on the order of the results."""
    out = {k: v for k, v in d.items() if k != "scores"}
    for key in ("below_required", "invalid"):
        if key in out:
            out[key] = sorted(out[key])
    return out


@st.composite
def classification_rounds(draw: st.DrawFn) -> tuple[str, list[tuple[str, Any]], AgreementLevel]:
    assigned = draw(tariff_codes())
    deepest = AgreementLevel(len(assigned))
    required = draw(st.sampled_from([lv for lv in AgreementLevel if L.NONE < lv <= deepest]))
    return assigned, draw(_results(_REPORTED)), required


def _check_classification(r: ClassificationRound) -> None:
    assert sum(r.counts.values()) == r.p
    assert r.p + len(r.invalid) == r.participants == len(r.scores)
    depths = list(r.cumulative)
    assert depths == sorted(depths)
    values = list(r.cumulative.values())
    assert values == sorted(values, reverse=True)  # non-increasing with depth
    assert r.cumulative[L.CHAPTER] == r.p - r.counts[L.NONE]
    assert r.cumulative[r.assigned_level] == r.counts[r.assigned_level]
    assert r.n_correct == r.cumulative[r.required]
    assert r.n_correct + len(r.below_required) == r.p
    for fraction in [r.fraction_correct, *r.cumulative_fractions.values()]:
        assert in_unit_interval(fraction, r.p)
    for s in r.scores:
        assert s.valid == (s.level is not None) == (s.code is not None)
        assert s.correct == (s.level is not None and s.level >= r.required)
    json_ready(r.to_dict())


@given(classification_rounds(), st.randoms(use_true_random=False))
def test_classification_round_properties(round_: Any, random: Any) -> None:
    assigned, results, required = round_
    r = score_classification(assigned, results, required=required)
    _check_classification(r)
    shuffled = list(results)
    random.shuffle(shuffled)
    again = score_classification(assigned, dict(shuffled), required=required)
    _check_classification(again)
    assert _summary(again.to_dict()) == _summary(r.to_dict())  # permutation invariance


_CATEGORIES = st.sampled_from(["a", "b", "c", "d"])


@given(_results(_CATEGORIES), st.one_of(st.none(), _CATEGORIES), st.randoms(use_true_random=False))
def test_nominal_properties(results: Any, assigned: str | None, random: Any) -> None:
    r = score_nominal(results, assigned=assigned)
    assert sum(r.counts.values()) == r.p == len(results)
    assert all(r.counts[m] == max(r.counts.values()) for m in r.modes)
    if assigned is None and len(r.modes) == 1:
        assert r.assigned == r.modes[0]
    if r.assigned is not None:
        assert r.n_agreeing == r.counts.get(r.assigned, 0)
        assert r.fraction_agreeing is not None
        assert 0 <= r.fraction_agreeing <= 1
    json_ready(r.to_dict())
    shuffled = list(results)
    random.shuffle(shuffled)
    again = score_nominal(shuffled, assigned=assigned)
    assert _summary(again.to_dict()) == _summary(r.to_dict())
    assert list(again.counts.items()) == list(r.counts.items())


_ORDER = ["a", "b", "c", "d"]


@given(_results(_CATEGORIES), st.one_of(st.none(), _CATEGORIES), st.randoms(use_true_random=False))
def test_ordinal_properties(results: Any, assigned: str | None, random: Any) -> None:
    r = score_ordinal(results, _ORDER, assigned=assigned)
    assert sum(r.counts.values()) == r.p == len(results)
    assert list(r.counts) == _ORDER
    assert 1 <= r.median_rank <= len(_ORDER)
    ranks = sorted(s.rank for s in r.scores)
    below = sum(rank < r.median_rank for rank in ranks)
    above = sum(rank > r.median_rank for rank in ranks)
    assert below <= r.p / 2
    assert above <= r.p / 2
    if r.median_category is not None:
        assert _ORDER.index(r.median_category) + 1 == r.median_rank
    if r.assigned_rank is not None:
        assert r.fraction_agreeing is not None
        assert r.fraction_within_one is not None
        assert 0 <= r.fraction_agreeing <= r.fraction_within_one <= 1
        for s in r.scores:
            assert s.difference == s.rank - r.assigned_rank
    json_ready(r.to_dict())
    shuffled = list(results)
    random.shuffle(shuffled)
    again = score_ordinal(shuffled, _ORDER, assigned=assigned)
    assert _summary(again.to_dict()) == _summary(r.to_dict())


_PRESENCE = st.sampled_from([True, False, "present", "Absent", "not detected", "maybe", None])
_SUBSTANCES = st.sampled_from(["64-17-5", "64175", "7732-18-5", "50-00-0", "64-17-6", None, ""])


@given(
    st.one_of(
        st.tuples(_results(_PRESENCE), st.booleans(), st.none()),
        st.tuples(_results(_SUBSTANCES), st.none(), st.sampled_from(["64-17-5", "50-00-0"])),
    ),
    st.randoms(use_true_random=False),
)
def test_identification_properties(case: Any, random: Any) -> None:
    results, present, substance = case
    r = score_identification(results, present=present, substance=substance)
    assert sum(r.counts.values()) == r.p
    assert r.p + len(r.invalid) == r.participants == len(results)
    assert r.n_correct == sum(n for outcome, n in r.counts.items() if outcome.correct)
    assert in_unit_interval(r.fraction_correct, r.p)
    assert sum(r.substances.values()) <= r.p
    json_ready(r.to_dict())
    shuffled = list(results)
    random.shuffle(shuffled)
    again = score_identification(shuffled, present=present, substance=substance)
    assert _summary(again.to_dict()) == _summary(r.to_dict())
