"""Proficiency testing with qualitative results (ISO 13528:2022, Clause 11; ``domain.md`` §6).

Clause 11 covers results that are not numbers: **nominal** results (categories, judged
by agreement with the assigned category, which an expert sets or which is the
participants' mode) and **ordinal** results (categories on an ordered scale, judged by
their rank against the assigned rank, and summarised by the distribution over the
ordered categories and the median rank; ranks have no distances, so no z-scores).

Customs rounds add two kinds of qualitative result:

- a **tariff classification** (about two thirds of a customs laboratory's work ends in
  one): the result is a CN code (8 digits) or TARIC code (10 digits), or an HS
  subheading (6 digits), and agreement with the assigned code is judged by *level*:
  chapter (2 digits), heading (4), HS subheading (6), CN subheading (8) and TARIC (10);
- an **identification**: whether a substance is present, or which substance it is (by
  CAS RN, CUS number or name).

Functions, one per kind, each returning a frozen result with ``to_dict()``:

- :func:`cn_agreement` (the :class:`AgreementLevel` of two codes) and
  :func:`score_classification` (a :class:`ClassificationRound`);
- :func:`score_nominal` (a :class:`NominalRound`);
- :func:`score_ordinal` (an :class:`OrdinalRound`);
- :func:`score_identification` (an :class:`IdentificationRound`).

Results are given as a mapping laboratory → result, or as ``(laboratory, result)``
pairs; a laboratory named twice, an empty round or a bad argument raises
:class:`~clen_core.StatisticsError` saying what is wrong. A code that a laboratory
reports and that is not a valid code does not stop the round: that laboratory is scored
*invalid*, with the reason, and counted apart from the ``p`` valid results the fractions
are computed over. Codes are parsed by :mod:`clen_core.codes` (so every written form it
accepts is accepted here, e.g. ``"2208 90 69"`` and ``"2208.90.69"``).
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, cast

import attrs

from clen_core.codes import cas, cn, cus, hs, taric
from clen_core.errors import CodeError, StatisticsError

__all__ = [
    "AgreementLevel",
    "ClassificationRound",
    "ClassificationScore",
    "IdentificationOutcome",
    "IdentificationRound",
    "IdentificationScore",
    "NominalRound",
    "NominalScore",
    "OrdinalRound",
    "OrdinalScore",
    "cn_agreement",
    "score_classification",
    "score_identification",
    "score_nominal",
    "score_ordinal",
]

Results = Mapping[str, Any] | Iterable[tuple[str, Any]]
"""Laboratory → result, as a mapping or as ``(laboratory, result)`` pairs."""

Reported = str | bool | None
"""A result as given, in a JSON-ready form: text, a boolean or None as they are, anything
else as its ``repr``."""


# --------------------------------------------------------------------------- shared helpers


def _entries(results: Results, what: str = "results") -> list[tuple[str, Any]]:
    """The ``(laboratory, result)`` pairs of ``results``: none empty, no laboratory twice."""
    if isinstance(results, str | bytes):
        raise StatisticsError(f"{what}: expected laboratory → result pairs, got text")
    if isinstance(results, Mapping):
        items: list[Any] = list(results.items())
    else:
        try:
            items = list(results)
        except TypeError:
            raise StatisticsError(
                f"{what}: expected a mapping laboratory → result or (laboratory, result) "
                f"pairs, got {type(results).__name__}"
            ) from None
    if not items:
        raise StatisticsError(f"{what} is empty: at least one laboratory's result is needed")
    out: list[tuple[str, Any]] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        if not (isinstance(item, tuple | list) and len(item) == 2):
            raise StatisticsError(
                f"{what}[{i}]: expected a (laboratory, result) pair, got {item!r}"
            )
        lab, value = item
        if not isinstance(lab, str) or not lab.strip():
            raise StatisticsError(
                f"{what}[{i}]: the laboratory must be non-empty text, got {lab!r}"
            )
        if lab in seen:
            raise StatisticsError(
                f"{what}: laboratory {lab!r} reported twice; one result per laboratory"
            )
        seen.add(lab)
        out.append((lab, value))
    return out


def _as_given(value: object) -> Reported:
    if value is None or isinstance(value, str | bool):
        return value
    return repr(value)


def _fraction(n: int, p: int) -> float | None:
    return n / p if p else None


def _modes(counts: Mapping[str, int]) -> tuple[str, ...]:
    """The most frequent keys, sorted (several when they tie; none when ``counts`` is empty)."""
    if not counts:
        return ()
    top = max(counts.values())
    return tuple(sorted(k for k, n in counts.items() if n == top))


def _by_frequency(counts: Counter[str]) -> dict[str, int]:
    """``counts`` as a dict, most frequent first, ties in sorted order (input order ignored)."""
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _category(lab: str, value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise StatisticsError(
            f"laboratory {lab!r}: the {what} must be non-empty text, got {value!r}"
        )
    return value


# --------------------------------------------------------------------------- classification


class AgreementLevel(enum.IntEnum):
    """How deep two tariff codes agree: the number of leading digits they share, counted
    in the nomenclature's steps (ISO 13528:2022, Clause 11: an ordinal judgement of a
    nominal result).

    An :class:`~enum.IntEnum` because the levels are ordered (``NONE < CHAPTER < … <
    TARIC``, so ``level >= required`` reads as it should) and each value *is* the number
    of agreeing digits (0, 2, 4, 6, 8, 10), which an ordered string enum would need extra
    code to say. Serialised by :attr:`label` (``"cn_subheading"``).

    >>> AgreementLevel.HEADING < AgreementLevel.CN_SUBHEADING, AgreementLevel.HEADING.digits
    (True, 4)
    """

    NONE = 0
    """Not even the chapter agrees."""
    CHAPTER = 2
    """The chapter (first 2 digits) agrees."""
    HEADING = 4
    """The HS heading (first 4 digits) agrees."""
    HS_SUBHEADING = 6
    """The HS subheading (first 6 digits) agrees."""
    CN_SUBHEADING = 8
    """The CN subheading (the 8-digit CN code) agrees."""
    TARIC = 10
    """The 10-digit TARIC code agrees (only when both codes are TARIC codes)."""

    @property
    def digits(self) -> int:
        """Number of leading digits that agree."""
        return int(self.value)

    @property
    def label(self) -> str:
        """Lower-case name, as serialised: ``"none"``, ``"chapter"``, …, ``"taric"``."""
        return self.name.lower()


_CODE_PARSERS: dict[int, Callable[[str], str]] = {6: hs.parse, 8: cn.parse, 10: taric.parse}
_CODE_EXPECTED = (
    "an HS subheading (6 digits), a CN code (8) or a TARIC code (10), "
    "e.g. '2208 90', '2208 90 69' or '2208 90 69 00'"
)


def _parse_tariff_code(value: object) -> str:
    """The canonical digits of an HS, CN or TARIC code; raises :class:`CodeError`.

    The parser is chosen by the number of digits (6 HS, 8 CN, 10 TARIC; any other number:
    CN, whose message then says how many digits there are and what that would be).
    """
    text = value if isinstance(value, str) else ""
    digits = sum(ch in "0123456789" for ch in text)
    parser = _CODE_PARSERS.get(digits, cn.parse)
    return parser(cast(str, value))  # every parser refuses a non-str with a CodeError


def _code_problem(value: object, exc: CodeError) -> str:
    if value is None:
        return "no code reported"
    # A wrong number of digits went to the CN parser, which says "not 8": say all three.
    reason = exc.reason.replace(" digit(s), not 8", " digit(s), not 6, 8 or 10", 1)
    return f"{value!r} is not a valid HS, CN or TARIC code: {reason}"


def _tariff_code(value: object, role: str) -> str:
    try:
        return _parse_tariff_code(value)
    except CodeError as exc:
        raise StatisticsError(
            f"{role} code: {_code_problem(value, exc)}; expected {_CODE_EXPECTED}"
        ) from None


def _level(a: str, b: str) -> AgreementLevel:
    """The deepest level at which canonical codes ``a`` and ``b`` agree."""
    deepest = AgreementLevel.NONE
    for level in AgreementLevel:
        if level is AgreementLevel.NONE:
            continue
        if level.digits > min(len(a), len(b)) or a[: level.digits] != b[: level.digits]:
            break
        deepest = level
    return deepest


def cn_agreement(assigned: str, reported: str) -> AgreementLevel:
    """The deepest level at which a reported tariff code agrees with the assigned one
    (ISO 13528:2022, Clause 11; customs classification rounds).

    Both codes may be HS subheadings (6 digits), CN codes (8) or TARIC codes (10), in any
    written form :mod:`clen_core.codes` accepts (``"2208 90 69"``, ``"2208.90.69"``). They
    agree at a level when their first 2, 4, 6, 8 or 10 digits are equal; a level deeper
    than the shorter code cannot be reached, so an HS subheading agrees at most at
    ``HS_SUBHEADING`` and ``TARIC`` needs two TARIC codes. The level is symmetric in the
    two codes.

    Raises :class:`~clen_core.StatisticsError` naming the code (``assigned`` or
    ``reported``) that is not a valid HS, CN or TARIC code, and why.

    >>> cn_agreement("2208 90 69", "2208.90.99").name
    'HS_SUBHEADING'
    >>> cn_agreement("2208 90 69 00", "22089069").name  # a CN code cannot agree at TARIC
    'CN_SUBHEADING'
    >>> cn_agreement("220890", "0401 10 10").name
    'NONE'
    """
    return _level(_tariff_code(assigned, "assigned"), _tariff_code(reported, "reported"))


@attrs.frozen
class ClassificationScore:
    """One laboratory's tariff classification, judged against the assigned code."""

    laboratory: str
    """The laboratory."""
    reported: Reported
    """The code as reported (a value that is not text: its ``repr``)."""
    code: str | None
    """The reported code's canonical digits; None when invalid."""
    level: AgreementLevel | None
    """Deepest level of agreement with the assigned code; None when invalid."""
    correct: bool
    """Whether ``level`` reaches the round's required level (False when invalid)."""
    error: str | None = None
    """Why the reported code is invalid; None when it is valid."""

    @property
    def valid(self) -> bool:
        """Whether the reported code is a valid HS, CN or TARIC code."""
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; the level by its label (``"heading"``)."""
        return {
            "laboratory": self.laboratory,
            "reported": self.reported,
            "code": self.code,
            "level": None if self.level is None else self.level.label,
            "digits": None if self.level is None else self.level.digits,
            "correct": self.correct,
            "valid": self.valid,
            "error": self.error,
        }


@attrs.frozen
class ClassificationRound:
    """A tariff-classification round scored by :func:`score_classification`.

    The counts and fractions are over the ``p`` laboratories with a valid code; those
    with an invalid one are listed in :attr:`invalid` and counted apart.
    """

    assigned: str
    """The assigned code, canonical (6, 8 or 10 digits)."""
    assigned_level: AgreementLevel
    """The deepest level the assigned code has (``CN_SUBHEADING`` for a CN code): no
    laboratory can agree deeper."""
    required: AgreementLevel
    """The level a laboratory must reach to be correct."""
    scores: tuple[ClassificationScore, ...]
    """One per laboratory, in the order of the results."""
    p: int
    """Number of laboratories with a valid code."""
    counts: dict[AgreementLevel, int]
    """Laboratories per exact level, from ``NONE`` to :attr:`assigned_level` (zeros kept);
    they add up to ``p``."""
    cumulative: dict[AgreementLevel, int]
    """Laboratories agreeing *at least* at each level, from ``CHAPTER`` to
    :attr:`assigned_level`; non-increasing with depth."""
    n_correct: int
    """Laboratories with a valid code agreeing at least at the required level."""
    modes: tuple[str, ...]
    """The most frequently reported valid codes, sorted (several when they tie)."""
    below_required: tuple[str, ...]
    """Laboratories with a valid code that does not reach the required level, in order."""
    invalid: tuple[str, ...]
    """Laboratories whose code is invalid, in order (the reasons are in their scores)."""

    @property
    def participants(self) -> int:
        """All laboratories: ``p`` plus the invalid ones."""
        return len(self.scores)

    @property
    def mode(self) -> str | None:
        """The most frequently reported code; None when several tie or none is valid."""
        return self.modes[0] if len(self.modes) == 1 else None

    @property
    def fraction_correct(self) -> float | None:
        """``n_correct / p``; None when no code is valid."""
        return _fraction(self.n_correct, self.p)

    @property
    def cumulative_fractions(self) -> dict[AgreementLevel, float | None]:
        """:attr:`cumulative` as fractions of ``p`` (None when no code is valid)."""
        return {level: _fraction(n, self.p) for level, n in self.cumulative.items()}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; levels by their labels."""
        fractions = self.cumulative_fractions
        return {
            "assigned": self.assigned,
            "assigned_level": self.assigned_level.label,
            "required": self.required.label,
            "participants": self.participants,
            "p": self.p,
            "counts": {level.label: n for level, n in self.counts.items()},
            "cumulative": {
                level.label: {"count": n, "fraction": fractions[level]}
                for level, n in self.cumulative.items()
            },
            "correct": self.n_correct,
            "fraction_correct": self.fraction_correct,
            "mode": self.mode,
            "modes": list(self.modes),
            "below_required": list(self.below_required),
            "invalid": list(self.invalid),
            "scores": [s.to_dict() for s in self.scores],
        }


def _required_level(required: object, assigned_level: AgreementLevel) -> AgreementLevel:
    names = ", ".join(lv.name for lv in AgreementLevel)
    if isinstance(required, bool) or not isinstance(required, int):
        raise StatisticsError(f"required: expected an AgreementLevel ({names}), got {required!r}")
    try:
        level = AgreementLevel(required)
    except ValueError:
        raise StatisticsError(
            f"required: expected an AgreementLevel ({names}), got {required!r}"
        ) from None
    if level is AgreementLevel.NONE:
        raise StatisticsError("required level NONE would make every result correct")
    if level > assigned_level:
        raise StatisticsError(
            f"required level {level.name} is deeper than the assigned code's "
            f"({assigned_level.name}): no laboratory could be correct"
        )
    return level


def score_classification(
    assigned: str,
    results: Results,
    *,
    required: AgreementLevel = AgreementLevel.CN_SUBHEADING,
) -> ClassificationRound:
    """Score a tariff-classification round (ISO 13528:2022, Clause 11, with the levels of
    the nomenclature as an ordinal scale of agreement).

    ``results`` maps each laboratory to the code it reported (or is ``(laboratory,
    code)`` pairs). Each code is normalised and compared with ``assigned`` by
    :func:`cn_agreement`; a laboratory is correct when it agrees at least at
    ``required`` (by default the CN subheading: the 8-digit CN code).

    A reported code that is not a valid HS, CN or TARIC code (or None: no code) does not
    stop the round: that laboratory's score is invalid, with the reason, it is listed in
    :attr:`ClassificationRound.invalid` and it is not among the ``p`` results the counts
    and fractions are over.

    Raises :class:`~clen_core.StatisticsError` when ``assigned`` is not a valid code,
    ``required`` is ``NONE`` or deeper than the assigned code, there are no results, or
    a laboratory is named twice.

    >>> r = score_classification(
    ...     "2208 90 69", {"A": "2208 90 69", "B": "2208.90.99", "C": "22089069", "D": "abc"}
    ... )
    >>> r.p, r.n_correct, r.below_required, r.invalid, r.mode
    (3, 2, ('B',), ('D',), '22089069')
    >>> {level.label: n for level, n in r.cumulative.items()}
    {'chapter': 3, 'heading': 3, 'hs_subheading': 3, 'cn_subheading': 2}
    """
    code = _tariff_code(assigned, "assigned")
    assigned_level = AgreementLevel(len(code))
    level_required = _required_level(required, assigned_level)
    scores: list[ClassificationScore] = []
    for lab, value in _entries(results):
        try:
            reported = _parse_tariff_code(value)
        except CodeError as exc:
            scores.append(
                ClassificationScore(
                    lab, _as_given(value), None, None, False, _code_problem(value, exc)
                )
            )
            continue
        level = _level(code, reported)
        scores.append(
            ClassificationScore(lab, _as_given(value), reported, level, level >= level_required)
        )
    valid = [s for s in scores if s.level is not None]
    levels = [lv for lv in AgreementLevel if lv <= assigned_level]
    counts = dict.fromkeys(levels, 0)
    for s in valid:
        counts[cast(AgreementLevel, s.level)] += 1
    cumulative: dict[AgreementLevel, int] = {
        lv: sum(n for deeper, n in counts.items() if deeper >= lv)
        for lv in levels
        if lv is not AgreementLevel.NONE
    }
    reported_codes = Counter(cast(str, s.code) for s in valid)
    return ClassificationRound(
        assigned=code,
        assigned_level=assigned_level,
        required=level_required,
        scores=tuple(scores),
        p=len(valid),
        counts=counts,
        cumulative=cumulative,
        n_correct=sum(s.correct for s in valid),
        modes=_modes(reported_codes),
        below_required=tuple(s.laboratory for s in valid if not s.correct),
        invalid=tuple(s.laboratory for s in scores if s.level is None),
    )


# --------------------------------------------------------------------------- nominal


@attrs.frozen
class NominalScore:
    """One laboratory's nominal result, judged by agreement with the assigned category."""

    laboratory: str
    """The laboratory."""
    category: str
    """The category reported."""
    agrees: bool | None
    """Whether it is the assigned category; None when the round has no assigned one."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"laboratory": self.laboratory, "category": self.category, "agrees": self.agrees}


@attrs.frozen
class NominalRound:
    """A round of nominal results scored by :func:`score_nominal`."""

    assigned: str | None
    """The assigned category; None when it was to be the mode and several categories tie."""
    assigned_by: Literal["given", "mode"]
    """``given`` (by an expert, the caller) or ``mode`` (the participants' most frequent)."""
    scores: tuple[NominalScore, ...]
    """One per laboratory, in the order of the results."""
    p: int
    """Number of results."""
    counts: dict[str, int]
    """Laboratories per category reported, most frequent first (ties in sorted order)."""
    modes: tuple[str, ...]
    """The most frequent categories, sorted (several when they tie)."""
    n_agreeing: int | None
    """Laboratories reporting the assigned category; None without an assigned category."""

    @property
    def mode(self) -> str | None:
        """The most frequent category; None when several tie."""
        return self.modes[0] if len(self.modes) == 1 else None

    @property
    def fraction_agreeing(self) -> float | None:
        """``n_agreeing / p``; None without an assigned category."""
        return None if self.n_agreeing is None else self.n_agreeing / self.p

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "assigned": self.assigned,
            "assigned_by": self.assigned_by,
            "p": self.p,
            "counts": dict(self.counts),
            "mode": self.mode,
            "modes": list(self.modes),
            "agreeing": self.n_agreeing,
            "fraction_agreeing": self.fraction_agreeing,
            "scores": [s.to_dict() for s in self.scores],
        }


def score_nominal(results: Results, *, assigned: str | None = None) -> NominalRound:
    """Score a round of nominal results by agreement with the assigned category
    (ISO 13528:2022, Clause 11).

    The assigned category is ``assigned`` when given (an expert's, or the known
    category of the test item), otherwise the mode of the results. When several
    categories tie for the mode there is no assigned category: :attr:`NominalRound.assigned`
    is None, the tie is in :attr:`NominalRound.modes`, and the laboratories are not
    judged (``agrees`` is None) until the provider gives one.

    Categories are compared exactly as written (a reporting form gives fixed
    categories); normalise them beforehand if they may differ in case or spacing.

    Raises :class:`~clen_core.StatisticsError` for no results, a laboratory named twice,
    or a category (or ``assigned``) that is not non-empty text, naming it.

    >>> r = score_nominal({"A": "whisky", "B": "whisky", "C": "brandy"})
    >>> r.assigned, r.assigned_by, r.n_agreeing, r.counts
    ('whisky', 'mode', 2, {'whisky': 2, 'brandy': 1})
    >>> score_nominal({"A": "whisky", "B": "brandy"}).assigned is None  # a tie
    True
    """
    entries = [(lab, _category(lab, value, "category")) for lab, value in _entries(results)]
    counts = Counter(category for _, category in entries)
    modes = _modes(counts)
    if assigned is not None:
        if not isinstance(assigned, str) or not assigned.strip():
            raise StatisticsError(f"assigned: expected a non-empty category, got {assigned!r}")
        target: str | None = assigned
    else:
        target = modes[0] if len(modes) == 1 else None
    scores = tuple(
        NominalScore(lab, category, None if target is None else category == target)
        for lab, category in entries
    )
    return NominalRound(
        assigned=target,
        assigned_by="mode" if assigned is None else "given",
        scores=scores,
        p=len(scores),
        counts=_by_frequency(counts),
        modes=modes,
        n_agreeing=None if target is None else counts[target],
    )


# --------------------------------------------------------------------------- ordinal


@attrs.frozen
class OrdinalScore:
    """One laboratory's ordinal result, judged by its rank against the assigned rank."""

    laboratory: str
    """The laboratory."""
    category: str
    """The category reported."""
    rank: int
    """Its rank on the scale: 1 for the first (lowest) category."""
    difference: int | None
    """``rank − assigned rank`` (positive: higher on the scale); None without an assigned
    category."""

    @property
    def agrees(self) -> bool | None:
        """Whether the rank is the assigned rank; None without an assigned category."""
        return None if self.difference is None else self.difference == 0

    @property
    def within_one(self) -> bool | None:
        """Whether the rank is at most one step from the assigned rank."""
        return None if self.difference is None else abs(self.difference) <= 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "laboratory": self.laboratory,
            "category": self.category,
            "rank": self.rank,
            "difference": self.difference,
            "agrees": self.agrees,
            "within_one": self.within_one,
        }


@attrs.frozen
class OrdinalRound:
    """A round of ordinal results scored by :func:`score_ordinal`."""

    order: tuple[str, ...]
    """The scale: the categories, lowest first (rank 1 is the first)."""
    assigned: str | None
    """The assigned category; None when it was to be the median category and the median
    lies between two categories (see :attr:`median_category`)."""
    assigned_rank: int | None
    """Rank of the assigned category."""
    assigned_by: Literal["given", "median"]
    """``given`` (by an expert, the caller) or ``median`` (the participants' median)."""
    scores: tuple[OrdinalScore, ...]
    """One per laboratory, in the order of the results."""
    p: int
    """Number of results."""
    counts: dict[str, int]
    """Laboratories per category, in the order of the scale (zeros kept)."""
    median_rank: float
    """Median of the ranks: the middle rank, or for even ``p`` the midpoint of the two
    middle ranks (a summary only: it need not be the rank of a category reported)."""
    median_category: str | None
    """The median category: that of the middle result, or for even ``p`` that of the two
    middle results when they are in the same category; None when they are not (the median
    lies between two categories)."""
    n_agreeing: int | None
    """Laboratories at the assigned rank; None without an assigned category."""
    n_within_one: int | None
    """Laboratories at most one rank from the assigned; None without an assigned category."""

    @property
    def fraction_agreeing(self) -> float | None:
        """``n_agreeing / p``; None without an assigned category."""
        return None if self.n_agreeing is None else self.n_agreeing / self.p

    @property
    def fraction_within_one(self) -> float | None:
        """``n_within_one / p``; None without an assigned category."""
        return None if self.n_within_one is None else self.n_within_one / self.p

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; ``counts`` in the order of the scale."""
        return {
            "order": list(self.order),
            "assigned": self.assigned,
            "assigned_rank": self.assigned_rank,
            "assigned_by": self.assigned_by,
            "p": self.p,
            "counts": dict(self.counts),
            "median_rank": self.median_rank,
            "median_category": self.median_category,
            "agreeing": self.n_agreeing,
            "fraction_agreeing": self.fraction_agreeing,
            "within_one": self.n_within_one,
            "fraction_within_one": self.fraction_within_one,
            "scores": [s.to_dict() for s in self.scores],
        }


def _scale(order: Sequence[str]) -> tuple[str, ...]:
    if isinstance(order, str | bytes) or not isinstance(order, Sequence):
        raise StatisticsError(
            f"order: expected a sequence of categories, lowest first, got {order!r}"
        )
    scale = tuple(order)
    if len(scale) < 2:
        raise StatisticsError(f"order: an ordinal scale needs at least 2 categories, got {scale!r}")
    for category in scale:
        if not isinstance(category, str) or not category.strip():
            raise StatisticsError(f"order: every category must be non-empty text, got {category!r}")
    repeated = sorted(c for c, n in Counter(scale).items() if n > 1)
    if repeated:
        raise StatisticsError(f"order: categories listed more than once: {', '.join(repeated)}")
    return scale


def score_ordinal(
    results: Results, order: Sequence[str], *, assigned: str | None = None
) -> OrdinalRound:
    """Score a round of ordinal results by their rank against the assigned rank
    (ISO 13528:2022, Clause 11).

    ``order`` is the scale, lowest category first; a category's rank is its place on it
    (1 for the first). Each laboratory gets its rank and its signed difference from the
    assigned rank; the round gets the distribution over the scale, the median rank and
    the numbers of laboratories at the assigned rank and within one rank of it. Ranks
    are not measurements (the steps between categories need not be equal), so there is no
    mean and no z-score.

    The assigned category is ``assigned`` when given (an expert's, or the known one of
    the test item), otherwise the participants' **median** category: Clause 11 lets the
    assigned value of a qualitative scheme come from the participants' results, and of
    their summaries the median is the one that uses the order and nothing more (the mode
    ignores the order; a mean would need distances ranks do not have). When the median
    lies between two categories (even ``p`` and the two middle results in different
    categories: exactly half the results at or below the lower one) no category is
    assigned: :attr:`OrdinalRound.assigned` is None and the laboratories are not judged
    until the provider gives one.

    Raises :class:`~clen_core.StatisticsError` for no results, a laboratory named twice,
    a scale with fewer than 2 categories or one twice, and a reported (or assigned)
    category not on the scale, naming the laboratory and the value.

    >>> r = score_ordinal({"A": "low", "B": "medium", "C": "high"}, ["low", "medium", "high"])
    >>> r.assigned, r.median_rank, [s.difference for s in r.scores], r.n_within_one
    ('medium', 2.0, [-1, 0, 1], 3)
    """
    scale = _scale(order)
    ranks = {category: i for i, category in enumerate(scale, start=1)}
    entries: list[tuple[str, str, int]] = []
    for lab, value in _entries(results):
        rank = ranks.get(value) if isinstance(value, str) else None
        if rank is None:
            raise StatisticsError(
                f"laboratory {lab!r}: {value!r} is not a category of the scale ({', '.join(scale)})"
            )
        entries.append((lab, value, rank))
    ordered = sorted(rank for _, _, rank in entries)
    p = len(ordered)
    low, high = ordered[(p - 1) // 2], ordered[p // 2]
    median_rank = (low + high) / 2
    median_category = scale[low - 1] if low == high else None
    if assigned is not None:
        if not isinstance(assigned, str) or assigned not in ranks:
            raise StatisticsError(
                f"assigned: {assigned!r} is not a category of the scale ({', '.join(scale)})"
            )
        target: str | None = assigned
    else:
        target = median_category
    target_rank = None if target is None else ranks[target]
    scores = tuple(
        OrdinalScore(lab, category, rank, None if target_rank is None else rank - target_rank)
        for lab, category, rank in entries
    )
    counts = Counter(category for _, category, _ in entries)
    return OrdinalRound(
        order=scale,
        assigned=target,
        assigned_rank=target_rank,
        assigned_by="median" if assigned is None else "given",
        scores=scores,
        p=p,
        counts={category: counts[category] for category in scale},
        median_rank=median_rank,
        median_category=median_category,
        n_agreeing=None if target is None else sum(s.agrees is True for s in scores),
        n_within_one=None if target is None else sum(s.within_one is True for s in scores),
    )


# --------------------------------------------------------------------------- identification


class IdentificationOutcome(enum.StrEnum):
    """The outcome of one laboratory's identification (ISO 13528:2022, Clause 11)."""

    TRUE_POSITIVE = "true_positive"
    """Presence round: the substance is present and was reported present."""
    TRUE_NEGATIVE = "true_negative"
    """Presence round: the substance is absent and was reported absent."""
    FALSE_POSITIVE = "false_positive"
    """Presence round: the substance is absent but was reported present."""
    FALSE_NEGATIVE = "false_negative"
    """Presence round: present but reported absent; substance round: nothing identified."""
    CORRECT = "correct"
    """Substance round: the assigned substance was identified."""
    WRONG_SUBSTANCE = "wrong_substance"
    """Substance round: another substance was identified."""
    INVALID = "invalid"
    """The answer is not a valid code or presence answer (the score says why)."""

    @property
    def correct(self) -> bool:
        """Whether the outcome is a correct result."""
        return self in _CORRECT_OUTCOMES


_CORRECT_OUTCOMES = frozenset(
    {
        IdentificationOutcome.TRUE_POSITIVE,
        IdentificationOutcome.TRUE_NEGATIVE,
        IdentificationOutcome.CORRECT,
    }
)
_PRESENCE_OUTCOMES = (
    IdentificationOutcome.TRUE_POSITIVE,
    IdentificationOutcome.TRUE_NEGATIVE,
    IdentificationOutcome.FALSE_POSITIVE,
    IdentificationOutcome.FALSE_NEGATIVE,
)
_SUBSTANCE_OUTCOMES = (
    IdentificationOutcome.CORRECT,
    IdentificationOutcome.WRONG_SUBSTANCE,
    IdentificationOutcome.FALSE_NEGATIVE,
)
_PRESENT_WORDS = {"present": True, "detected": True, "positive": True, "yes": True}
_ABSENT_WORDS = {"absent": False, "not detected": False, "negative": False, "no": False}
_PRESENCE_WORDS = {**_PRESENT_WORDS, **_ABSENT_WORDS}

IdentificationSystem = Literal["cas", "cus", "name"]
_SUBSTANCE_PARSERS: dict[str, Callable[[str], str]] = {"cas": cas.parse, "cus": cus.parse}


@attrs.frozen
class IdentificationScore:
    """One laboratory's identification, judged against the truth of the test item."""

    laboratory: str
    """The laboratory."""
    reported: Reported
    """The answer as reported (a value that is not text, bool or None: its ``repr``)."""
    identified: str | bool | None
    """The answer normalised: True/False (present/absent) in a presence round; the
    canonical CAS RN or CUS number, or the name case-folded with single spaces, in a
    substance round (None: nothing identified); None when invalid."""
    outcome: IdentificationOutcome
    """True/false positive/negative, correct, wrong substance, or invalid."""
    error: str | None = None
    """Why the answer is invalid; None when it is valid."""

    @property
    def correct(self) -> bool:
        """Whether the outcome is a correct result."""
        return self.outcome.correct

    @property
    def valid(self) -> bool:
        """Whether the answer could be read."""
        return self.outcome is not IdentificationOutcome.INVALID

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "laboratory": self.laboratory,
            "reported": self.reported,
            "identified": self.identified,
            "outcome": self.outcome.value,
            "correct": self.correct,
            "valid": self.valid,
            "error": self.error,
        }


@attrs.frozen
class IdentificationRound:
    """An identification round scored by :func:`score_identification`.

    The counts and fractions are over the ``p`` laboratories with a valid answer; those
    with an invalid one are listed in :attr:`invalid` and counted apart.
    """

    kind: Literal["presence", "substance"]
    """``presence`` (is the substance there?) or ``substance`` (which substance is it?)."""
    present: bool | None
    """Presence round: whether the substance is present; None in a substance round."""
    substance: str | None
    """Substance round: the assigned substance, normalised; None in a presence round."""
    system: IdentificationSystem | None
    """Substance round: how substances are named (``cas``, ``cus``, ``name``)."""
    scores: tuple[IdentificationScore, ...]
    """One per laboratory, in the order of the results."""
    p: int
    """Number of laboratories with a valid answer."""
    counts: dict[IdentificationOutcome, int]
    """Laboratories per outcome (the outcomes of the kind of round, zeros kept; invalid
    answers are not among them); they add up to ``p``."""
    n_correct: int
    """Laboratories with a correct result."""
    substances: dict[str, int]
    """Substance round: laboratories per substance identified, most frequent first (ties in
    sorted order); empty in a presence round."""
    invalid: tuple[str, ...]
    """Laboratories whose answer is invalid, in order (the reasons are in their scores)."""

    @property
    def participants(self) -> int:
        """All laboratories: ``p`` plus the invalid ones."""
        return len(self.scores)

    @property
    def fraction_correct(self) -> float | None:
        """``n_correct / p``; None when no answer is valid."""
        return _fraction(self.n_correct, self.p)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "kind": self.kind,
            "present": self.present,
            "substance": self.substance,
            "system": self.system,
            "participants": self.participants,
            "p": self.p,
            "counts": {outcome.value: n for outcome, n in self.counts.items()},
            "correct": self.n_correct,
            "fraction_correct": self.fraction_correct,
            "substances": dict(self.substances),
            "invalid": list(self.invalid),
            "scores": [s.to_dict() for s in self.scores],
        }


def _presence(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _PRESENCE_WORDS.get(" ".join(value.split()).casefold())
    return None


def _name(value: object) -> str:
    if not isinstance(value, str):
        raise CodeError("name", value, f"it is of type {type(value).__name__}, not str", "a name")
    key = " ".join(value.split()).casefold()
    if not key:
        raise CodeError("name", value, "the value is empty", "a substance name")
    return key


def _substance_parser(system: object) -> Callable[[object], str]:
    if system == "name":
        return _name
    parser = _SUBSTANCE_PARSERS.get(system) if isinstance(system, str) else None
    if parser is None:
        raise StatisticsError(f"system: expected 'cas', 'cus' or 'name', got {system!r}")
    return lambda value: parser(cast(str, value))  # a non-str is refused with a CodeError


def score_identification(
    results: Results,
    *,
    present: bool | None = None,
    substance: str | None = None,
    system: IdentificationSystem = "cas",
) -> IdentificationRound:
    """Score an identification round (ISO 13528:2022, Clause 11: nominal results).

    Give exactly one of:

    - ``present`` (a **presence** round: whether the substance is in the test item).
      Each laboratory answers True/False or, in any case and spacing, ``present`` /
      ``absent``, ``detected`` / ``not detected``, ``positive`` / ``negative``, ``yes`` /
      ``no``. Outcomes: true/false positive/negative.
    - ``substance`` (a **substance** round: which substance the test item holds), named in
      ``system``: ``cas`` (CAS RN) or ``cus`` (CUS number), both normalised and validated
      by :mod:`clen_core.codes` (``"64175"`` is ``"64-17-5"``), or ``name``, compared
      without regard to case or spacing. Each laboratory answers a substance in the same
      system, or None for none found. Outcomes: correct, wrong substance, false negative
      (None).

    An answer that cannot be read (an unknown presence word, an invalid CAS RN or CUS
    number, an empty name) does not stop the round: that laboratory's outcome is
    ``invalid``, with the reason, listed in :attr:`IdentificationRound.invalid` and not
    among the ``p`` answers the counts and fractions are over.

    Raises :class:`~clen_core.StatisticsError` when both or neither of ``present`` and
    ``substance`` are given, ``present`` is not a bool, ``substance`` is not valid in
    ``system``, ``system`` is unknown, there are no results, or a laboratory is named
    twice.

    >>> r = score_identification({"A": "present", "B": "Not detected", "C": True}, present=True)
    >>> r.n_correct, [s.outcome.value for s in r.scores]
    (2, ['true_positive', 'false_negative', 'true_positive'])
    >>> r = score_identification({"A": "64175", "B": "7732-18-5"}, substance="64-17-5")
    >>> [s.outcome.value for s in r.scores], r.substances
    (['correct', 'wrong_substance'], {'64-17-5': 1, '7732-18-5': 1})
    """
    if (present is None) == (substance is None):
        raise StatisticsError(
            "give exactly one of present (a presence round) and substance (a substance round)"
        )
    entries = _entries(results)
    scores: list[IdentificationScore] = []
    if present is not None:
        if not isinstance(present, bool):
            raise StatisticsError(f"present: expected True or False, got {present!r}")
        for lab, value in entries:
            answer = _presence(value)
            if answer is None:
                words = ", ".join(sorted(_PRESENCE_WORDS))
                error = f"{value!r} is not a presence answer: expected True, False or {words}"
                scores.append(
                    IdentificationScore(
                        lab, _as_given(value), None, IdentificationOutcome.INVALID, error
                    )
                )
                continue
            if answer:
                outcome = (
                    IdentificationOutcome.TRUE_POSITIVE
                    if present
                    else IdentificationOutcome.FALSE_POSITIVE
                )
            else:
                outcome = (
                    IdentificationOutcome.FALSE_NEGATIVE
                    if present
                    else IdentificationOutcome.TRUE_NEGATIVE
                )
            scores.append(IdentificationScore(lab, _as_given(value), answer, outcome))
        return _identification_round("presence", present, None, None, scores)
    parse = _substance_parser(system)
    try:
        target = parse(substance)
    except CodeError as exc:
        raise StatisticsError(f"substance: {exc}") from None
    for lab, value in entries:
        if value is None:
            scores.append(
                IdentificationScore(lab, None, None, IdentificationOutcome.FALSE_NEGATIVE)
            )
            continue
        try:
            identified = parse(value)
        except CodeError as exc:
            scores.append(
                IdentificationScore(
                    lab, _as_given(value), None, IdentificationOutcome.INVALID, str(exc)
                )
            )
            continue
        outcome = (
            IdentificationOutcome.CORRECT
            if identified == target
            else IdentificationOutcome.WRONG_SUBSTANCE
        )
        scores.append(IdentificationScore(lab, _as_given(value), identified, outcome))
    return _identification_round("substance", None, target, system, scores)


def _identification_round(
    kind: Literal["presence", "substance"],
    present: bool | None,
    substance: str | None,
    system: IdentificationSystem | None,
    scores: list[IdentificationScore],
) -> IdentificationRound:
    valid = [s for s in scores if s.valid]
    outcomes = _PRESENCE_OUTCOMES if kind == "presence" else _SUBSTANCE_OUTCOMES
    counts = dict.fromkeys(outcomes, 0)
    for s in valid:
        counts[s.outcome] += 1
    identified = Counter(s.identified for s in valid if isinstance(s.identified, str))
    return IdentificationRound(
        kind=kind,
        present=present,
        substance=substance,
        system=system,
        scores=tuple(scores),
        p=len(valid),
        counts=counts,
        n_correct=sum(s.correct for s in valid),
        substances=_by_frequency(identified) if kind == "substance" else {},
        invalid=tuple(s.laboratory for s in scores if not s.valid),
    )
