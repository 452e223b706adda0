"""Hypothesis strategies for the code systems of :mod:`clen_core.codes`.

* :func:`valid_codes` draws canonical valid codes of a system (check digits computed);
* :func:`written_forms` draws accepted spellings of one canonical code (spaces, dots,
  lower case, prefixes, surrounding whitespace, …) that parse back to it;
* :func:`invalid_codes` draws strings that are certainly *not* valid codes of a system
  (wrong check digit, reserved chapter, wrong length, unknown country, …).

Systems are named as in :data:`clen_core.codes.CODE_SYSTEMS`; an unknown name raises
:class:`~clen_core.codes.UnknownCodeSystemError`. Hypothesis is a test dependency: import
this module from tests only.
"""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from clen_core.codes import CODE_SYSTEMS, cas, country, ec, eori, hs, language
from clen_core.codes._base import UnknownCodeSystemError

__all__ = ["invalid_codes", "valid_codes", "written_forms"]

_DIGITS = "0123456789"
_UPPER_ALNUM = _DIGITS + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ALNUM = _UPPER_ALNUM + "abcdefghijklmnopqrstuvwxyz"
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CHAPTERS = tuple(f"{n:02d}" for n in range(1, 100) if n != 77)
_PADDING = st.sampled_from(["", " ", "  ", "\t", "\n", "\u00a0", " \t "])


def _digits(size: int) -> SearchStrategy[str]:
    return st.text(alphabet=_DIGITS, min_size=size, max_size=size)


def _check(system: str) -> None:
    if system not in CODE_SYSTEMS:
        raise UnknownCodeSystemError(system, CODE_SYSTEMS)


# --- valid codes --------------------------------------------------------------------------


@st.composite
def _cas(draw: st.DrawFn) -> str:
    first = str(draw(st.integers(min_value=10, max_value=9_999_999)))
    middle = draw(_digits(2))
    return f"{first}-{middle}-{cas.check_digit(first + middle)}"


@st.composite
def _ec(draw: st.DrawFn) -> str:
    head = draw(
        _digits(3) | st.builds(str.__add__, st.sampled_from(sorted(ec.LETTER_VALUES)), _digits(2))
    )
    middle = draw(_digits(3))
    return f"{head}-{middle}-{ec.check_digit(head + middle)}"


def _nomenclature(length: int) -> SearchStrategy[str]:
    random = st.builds(str.__add__, st.sampled_from(_CHAPTERS), _digits(4))
    real = st.sampled_from(sorted(hs.subheadings()))
    return st.builds(str.__add__, random | real, _digits(length - 6))


_VALID: dict[str, Callable[[], SearchStrategy[str]]] = {
    "cas": _cas,
    "ec": _ec,
    "cus": lambda: _digits(8).map(lambda d: f"{d[:7]}-{d[7]}"),
    "un": lambda: st.integers(min_value=1, max_value=9999).map("{:04d}".format),
    "hs": lambda: _nomenclature(6),
    "cn": lambda: _nomenclature(8),
    "taric": lambda: _nomenclature(10),
    "country": lambda: st.sampled_from(sorted(country.CANONICAL_CODES)),
    "eori": lambda: st.builds(
        str.__add__,
        st.sampled_from(sorted(country.ACCEPTED_CODES)),
        st.text(alphabet=_UPPER_ALNUM, min_size=1, max_size=eori.MAX_IDENTIFIER_LENGTH),
    ),
    "language": lambda: st.sampled_from(sorted(language.CODES)),
}


def valid_codes(system: str) -> SearchStrategy[str]:
    """Canonical valid codes of code system ``system`` (e.g. ``"cas"``, ``"cn"``)."""
    _check(system)
    return _VALID[system]()


# --- written forms ------------------------------------------------------------------------


@st.composite
def _mixed_case(draw: st.DrawFn, text: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.swapcase() if flip else c for c, flip in zip(text, flips, strict=True))


@st.composite
def _grouped(draw: st.DrawFn, digits: str) -> str:
    """``digits`` split into groups at random places, joined by spaces or dots."""
    out = digits[0]
    for char in digits[1:]:
        out += draw(st.sampled_from(["", "", "", " ", ".", "  ", " . "])) + char
    return out


def _hs_forms(canonical: str) -> SearchStrategy[str]:
    pairs = [canonical[i : i + 2] for i in range(4, len(canonical), 2)]
    official = [canonical[:4], *pairs]
    return st.sampled_from(
        [
            canonical,
            " ".join(official),
            ".".join(official),
            ".".join([canonical[:2], canonical[2:4], *pairs]),
        ]
    ) | _grouped(canonical)


@st.composite
def _spaced(draw: st.DrawFn, text: str) -> str:
    """``text`` with spaces inserted at random places."""
    return "".join(c + draw(st.sampled_from(["", "", " "])) for c in text).rstrip()


def _forms(system: str, canonical: str) -> SearchStrategy[str]:
    undashed = canonical.replace("-", "")
    if system == "cas":
        padded = st.integers(min_value=1, max_value=4).map(lambda n: "0" * n + canonical)
        return st.sampled_from([canonical, undashed, canonical.replace("-", "\u2013")]) | padded
    if system == "ec":
        return st.sampled_from([canonical, undashed, canonical.replace("-", "\u2010")]).flatmap(
            _mixed_case
        )
    if system == "cus":
        return st.sampled_from(["", "CUS ", "CUS", "cus ", "Cus  "]).flatmap(
            lambda prefix: st.sampled_from([prefix + canonical, prefix + undashed])
        )
    if system == "un":
        return st.sampled_from(["", "UN ", "UN", "un ", "Un  "]).map(lambda p: p + canonical)
    if system in ("hs", "cn", "taric"):
        return _hs_forms(canonical)
    if system == "country":
        spellings = [canonical, *(a for a, c in country.ALIASES.items() if c == canonical)]
        return st.sampled_from(spellings).flatmap(_mixed_case)
    if system == "eori":
        return _mixed_case(canonical).flatmap(_spaced)
    return _mixed_case(canonical)  # language


def written_forms(system: str, canonical: str) -> SearchStrategy[str]:
    """Accepted spellings of the canonical code ``canonical`` of ``system``.

    Each parses back to ``canonical``: separators and groupings (``"2208 90 69"``), case,
    prefixes (``"UN 1170"``, ``"CUS 0011481-8"``), undashed digits, zero padding (CAS),
    EU aliases (``"el"`` for ``GR``) and surrounding whitespace.
    """
    _check(system)
    return st.tuples(_PADDING, _forms(system, canonical), _PADDING).map("".join)


# --- invalid codes ------------------------------------------------------------------------


def _wrong_last_digit(valid: SearchStrategy[str]) -> SearchStrategy[str]:
    return st.tuples(valid, st.integers(min_value=1, max_value=9)).map(
        lambda pair: pair[0][:-1] + str((int(pair[0][-1]) + pair[1]) % 10)
    )


def _invalid_nomenclature(length: int) -> SearchStrategy[str]:
    reserved = st.builds(str.__add__, st.sampled_from(["77", "00"]), _digits(length - 2))
    wrong_length = st.sampled_from([n for n in range(1, 13) if n != length]).flatmap(
        lambda n: st.builds(str.__add__, st.sampled_from(_CHAPTERS), _digits(max(n - 2, 0))).map(
            lambda code: code[:n]
        )
    )
    ex_entry = valid_codes({6: "hs", 8: "cn", 10: "taric"}[length]).map(lambda c: "ex " + c)
    letters = _nomenclature(length).map(lambda c: c[:3] + "A" + c[4:])
    return reserved | wrong_length | ex_entry | letters


def _two_letters() -> SearchStrategy[str]:
    return st.text(alphabet=_LETTERS, min_size=2, max_size=2)


_INVALID: dict[str, Callable[[], SearchStrategy[str]]] = {
    "cas": lambda: (
        _wrong_last_digit(_cas())
        | st.builds(lambda a, b, c: f"{a}-{b}-{c}", st.integers(1, 9), _digits(2), _digits(1))
        | st.builds(
            lambda a, b, c: f"{a}-{b}-{c}", st.integers(10**7, 10**9), _digits(2), _digits(1)
        )
        | st.sampled_from(["64-17", "6417", "64-17-5-1", "CAS", "64-17-X", "-64-17-5"])
    ),
    "ec": lambda: (
        _wrong_last_digit(_ec())
        | st.builds(lambda letter, rest: letter + rest, st.sampled_from("ILOilo"), _digits(5)).map(
            lambda body: f"{body[:3]}-{body[3:]}-{ec.check_digit('A' + body[1:])}"
        )
        | _digits(8)
        | _digits(6)
        | st.sampled_from(["200-0018", "20-0001-8", "AB0-001-5", "200_001_8"])
    ),
    "cus": lambda: (
        _digits(7)
        | _digits(9)
        | _digits(8).map(lambda d: f"{d[:6]}-{d[6:]}")
        | st.sampled_from(["CUS", "CUS-0011481-8", "0011481-X", "UN 0011481-8"])
    ),
    "un": lambda: (
        st.sampled_from(["0000", "UN 0000", "UN", "UN-1170", "U N1170"])
        | _digits(3)
        | _digits(5)
        | _digits(3).map(lambda d: "UN " + d)
    ),
    "hs": lambda: _invalid_nomenclature(6),
    "cn": lambda: _invalid_nomenclature(8),
    "taric": lambda: _invalid_nomenclature(10),
    "country": lambda: (
        _two_letters().filter(lambda c: c.upper() not in country.ACCEPTED_CODES)
        | st.text(alphabet=_LETTERS, min_size=3, max_size=4)
        | st.text(alphabet=_LETTERS, min_size=1, max_size=1)
        | _digits(2)
        | st.sampled_from(["G R", "D-E", "GR."])
    ),
    "eori": lambda: (
        st.builds(
            str.__add__,
            st.sampled_from(sorted(country.ACCEPTED_CODES)),
            st.text(alphabet=_ALNUM, min_size=eori.MAX_IDENTIFIER_LENGTH + 1, max_size=20),
        )
        | st.sampled_from(sorted(country.ACCEPTED_CODES))
        | st.builds(
            str.__add__,
            _two_letters().filter(lambda c: c.upper() not in country.ACCEPTED_CODES),
            st.text(alphabet=_ALNUM, min_size=1, max_size=10),
        )
        | st.builds(str.__add__, _digits(2), _digits(8))
        | st.sampled_from(["DE-123456", "DE_123", "DE123/45"])
    ),
    "language": lambda: (
        _two_letters().filter(lambda c: c.lower() not in language.CODES)
        | st.text(alphabet=_LETTERS, min_size=3, max_size=3)
        | st.text(alphabet=_LETTERS, min_size=1, max_size=1)
        | st.sampled_from(["e n", "en-GB", "12"])
    ),
}


def invalid_codes(system: str) -> SearchStrategy[str]:
    """Strings that are certainly not valid codes of ``system`` (nor any written form)."""
    _check(system)
    return _INVALID[system]()
