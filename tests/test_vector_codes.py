"""The vectorised code checks say True only where the scalar parse keeps the value as it is.

:mod:`clen_core.codes._vector` lets the columnar engine accept canonical, valid codes
without a Python call per value. It must never accept what ``parse`` would refuse or
rewrite; python-stdnum is the referee of the CAS and EC check digits.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import casrn
from stdnum.eu import ecnumber

from clen_core.codes import CODE_SYSTEMS, cus
from clen_core.codes._vector import (
    canonical_mask,
    cas_check_digits,
    cus_check_digit_mask,
    ec_check_digits,
)
from clen_core.errors import CodeError
from clen_core.io import columnar
from clen_core.io.records import RawBatch
from clen_core.schema.arrow import int_range
from clen_core.testing.codes import invalid_codes, valid_codes, written_forms

VECTORISED = ("cas", "ec", "cus", "un", "hs", "cn", "taric", "country", "language")
FAST = settings(max_examples=80, deadline=None)

# Characters codes are made of, and the ones that trip them up: typographic dashes,
# whitespace at either end, a newline ("$" matches before one in Python), letters.
_ALPHABET = "0123456789--- \n\t\u2013CUSNunxAILO."
adversarial = st.text(alphabet=_ALPHABET, max_size=14)


def _parses_to(system: str, value: str) -> str | None:
    try:
        return CODE_SYSTEMS[system].parse(value)
    except CodeError:
        return None


@st.composite
def _mutated(draw: st.DrawFn, system: str) -> str:
    """A valid code, a written form of one, or one with a character changed or added."""
    code = draw(valid_codes(system))
    kind = draw(st.sampled_from(["as is", "written", "changed", "added", "dropped"]))
    if kind == "as is":
        return code
    if kind == "written":
        return draw(written_forms(system, code))
    i = draw(st.integers(0, len(code) - 1))
    c = draw(st.sampled_from(_ALPHABET))
    if kind == "changed":
        return code[:i] + c + code[i + 1 :]
    if kind == "added":
        return code[:i] + c + code[i:]
    return code[:i] + code[i + 1 :]


def _values(system: str) -> st.SearchStrategy[list[str | None]]:
    one = st.one_of(
        adversarial,
        st.text(max_size=12),
        _mutated(system),
        invalid_codes(system),
        st.none(),
    )
    return st.lists(one, max_size=30)


@pytest.mark.parametrize("system", VECTORISED)
@FAST
@given(data=st.data())
def test_the_mask_accepts_only_what_parse_returns_unchanged(system: str, data: Any) -> None:
    values = data.draw(_values(system))
    mask = canonical_mask(system, pa.array(values, pa.string()))
    assert mask is not None
    assert mask.null_count == 0
    for value, accepted in zip(values, mask.to_pylist(), strict=True):
        if accepted:
            assert value is not None
            assert _parses_to(system, value) == value


@pytest.mark.parametrize("system", VECTORISED)
@FAST
@given(data=st.data())
def test_the_mask_accepts_every_canonical_valid_code(system: str, data: Any) -> None:
    # The point of the mask: good data never goes through Python (ECHA letters aside).
    codes = data.draw(st.lists(valid_codes(system), min_size=1, max_size=20))
    mask = canonical_mask(system, pa.array(codes, pa.string()))
    assert mask is not None
    for code, accepted in zip(codes, mask.to_pylist(), strict=True):
        assert accepted or (system == "ec" and code[0].isalpha())


def test_systems_without_a_vectorised_check_say_so() -> None:
    assert canonical_mask("eori", pa.array(["DE123"])) is None


def test_aliases_and_other_cases_are_left_to_parse() -> None:
    # EL and UK parse to GR and GB; "De" and " de" to "de": not unchanged, so not accepted.
    assert canonical_mask("country", pa.array(["GR", "EL", "UK", "gr", "XI"])).to_pylist() == [
        True, False, False, False, True,
    ]  # fmt: skip
    assert canonical_mask("language", pa.array(["de", "De", " de", "deu", None])).to_pylist() == [
        True, False, False, False, False,
    ]  # fmt: skip


def test_examples_of_each_kind() -> None:
    values = pa.array(["7732-18-5", "7732-18-4", "07732-18-5", "773218-5", "7732-18-5\n", None])
    assert canonical_mask("cas", values).to_pylist() == [True, False, False, False, False, False]
    ec = pa.array(["200-001-8", "200-001-7", "2000018", "A00-001-5", "200\u2013001-8"])
    assert canonical_mask("ec", ec).to_pylist() == [True, False, False, False, False]


@FAST
@given(st.text(alphabet="0123456789", min_size=1, max_size=9))
def test_cas_check_digits_agree_with_stdnum(digits: str) -> None:
    got = cas_check_digits(pa.array([digits])).to_pylist()
    assert got == [int(casrn.calc_check_digit(digits))]


@FAST
@given(st.text(alphabet="0123456789", min_size=6, max_size=6))
def test_ec_check_digits_agree_with_stdnum(digits: str) -> None:
    assert ec_check_digits(pa.array([digits])).to_pylist() == [
        int(ecnumber.calc_check_digit(digits))
    ]


def test_ec_remainder_ten_is_written_one() -> None:
    # 1·3 + 6·3 = 21, and 21 mod 11 = 10: the ELINCS numbers with it were issued with 1.
    assert ec_check_digits(pa.array(["300003", "000005"])).to_pylist() == [1, 8]
    assert ecnumber.calc_check_digit("300003") == "1"


@FAST
@given(st.lists(st.one_of(_mutated("cus"), adversarial), max_size=30))
def test_cus_check_digit_mask_agrees_with_the_scalar_function(values: list[str]) -> None:
    got = cus_check_digit_mask(pa.array(values, pa.string())).to_pylist()
    for value, matches in zip(values, got, strict=True):
        if matches is None:  # not a canonical CUS number: left to the scalar function
            assert _parses_to("cus", value) != value
        else:
            assert cus.parse(value) == value
            assert matches == cus.check_digit_matches(value)


def _checked(values: list[str | None], field: str, *, vectorised: bool) -> columnar.Checked:
    raw = {name: pa.nulls(len(values), pa.string()) for name in ("cus", "names")}
    raw["cus"] = pa.array(["0011481-8"] * len(values), pa.string())
    raw["names"] = pa.array(['{"en": ["x"]}'] * len(values), pa.string())
    raw[field] = pa.array(values, pa.string())
    batch = RawBatch(pa.record_batch(raw), int_range(1, 1 + len(values)))
    saved = columnar.canonical_mask
    if not vectorised:
        columnar.canonical_mask = lambda system, values: None  # type: ignore[assignment]
    try:
        return columnar.check_batch("substance", batch, flavour="text")
    finally:
        columnar.canonical_mask = saved


@pytest.mark.parametrize(("field", "system"), [("cas", "cas"), ("ec", "ec"), ("cus", "cus"),
                                               ("un", "un"), ("cn_code", "cn")])  # fmt: skip
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_the_columnar_engine_gives_the_same_with_and_without_the_mask(
    field: str, system: str, data: Any
) -> None:
    values = data.draw(_values(system))
    fast = _checked(values, field, vectorised=True)
    slow = _checked(values, field, vectorised=False)
    assert fast.valid.equals(slow.valid)
    assert fast.valid_rows.equals(slow.valid_rows)
    assert fast.rejects.equals(slow.rejects)
    assert fast.rejected_rows.equals(slow.rejected_rows)


@given(st.lists(st.lists(st.none() | st.booleans(), max_size=12), min_size=1, max_size=3))
def test_false_if_null_reads_null_as_false_as_fill_null_does(
    chunks: list[list[bool | None]],
) -> None:
    from clen_core.codes._vector import false_if_null

    whole = pa.chunked_array([pa.array(c, pa.bool_()) for c in chunks], pa.bool_())
    for mask in (whole, whole.combine_chunks(), whole.combine_chunks().slice(1)):
        got = false_if_null(mask)
        assert got.null_count == 0
        assert got.to_pylist() == pa.compute.fill_null(mask, False).to_pylist()
