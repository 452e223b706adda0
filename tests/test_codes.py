"""Tests of clen_core.codes: documented examples, properties, python-stdnum as referee, fuzz."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import casrn
from stdnum.eu import ecnumber

from clen_core.codes import (
    CODE_SYSTEMS,
    CodeSystem,
    UnknownCodeSystemError,
    cas,
    cn,
    country,
    cus,
    ec,
    eori,
    get_code_system,
    hs,
    language,
    taric,
    un,
)
from clen_core.errors import ClenError, CodeError
from clen_core.testing.codes import invalid_codes, valid_codes, written_forms

REPO = Path(__file__).resolve().parents[1]
HS_CSV = Path(__file__).resolve().parents[2] / "shared/data/harmonized-system/harmonized-system.csv"
MODULES: dict[str, ModuleType] = {
    m.SYSTEM.name: m for m in (cas, ec, cus, un, hs, cn, taric, country, eori, language)
}
NAMES = sorted(MODULES)

FAST = settings(max_examples=60, deadline=None)


def rejects(module: ModuleType, value: object) -> CodeError:
    """The CodeError ``module.parse(value)`` raises."""
    with pytest.raises(CodeError) as info:
        module.parse(value)
    assert info.value.system == module.SYSTEM.name
    assert info.value.value is value
    return info.value


# --- registry -----------------------------------------------------------------------------


def test_registry_has_every_system() -> None:
    assert set(CODE_SYSTEMS) == set(MODULES)
    for name, module in MODULES.items():
        assert CODE_SYSTEMS[name] is module.SYSTEM
        assert get_code_system(name) is module.SYSTEM
        assert isinstance(module.SYSTEM, CodeSystem)


def test_registry_is_read_only() -> None:
    with pytest.raises(TypeError):
        CODE_SYSTEMS["x"] = cas.SYSTEM  # type: ignore[index]


@pytest.mark.parametrize("name", ["nope", "", "CAS", 3, None])
def test_unknown_code_system_lists_names(name: object) -> None:
    with pytest.raises(UnknownCodeSystemError) as info:
        get_code_system(name)  # type: ignore[arg-type]
    assert isinstance(info.value, ClenError)
    assert isinstance(info.value, LookupError)
    assert not isinstance(info.value, KeyError)
    for known in NAMES:
        assert known in str(info.value)


@pytest.mark.parametrize("name", NAMES)
def test_module_surface(name: str) -> None:
    module = MODULES[name]
    assert {"SYSTEM", "parse", "is_valid"} <= set(module.__all__)
    assert module.__doc__
    system = module.SYSTEM
    assert system.name == name
    assert system.title
    assert system.description
    assert system.parse is module.parse
    assert system.pattern.startswith("^")
    assert system.pattern.endswith("$")
    assert "(?<=" not in system.pattern
    assert "(?<!" not in system.pattern
    assert "\\d" not in system.pattern
    assert system.examples
    for example in system.examples:
        assert module.parse(example) == example
        assert re.fullmatch(system.pattern, example)
        assert system.matches_canonical(example)


# --- CAS ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("64-17-5", "64-17-5"),
        ("7732-18-5", "7732-18-5"),
        ("  7732-18-5\n", "7732-18-5"),
        ("64175", "64-17-5"),
        ("7732185", "7732-18-5"),
        ("0000064-17-5", "64-17-5"),
        ("64\u201317\u20135", "64-17-5"),
        ("9999999-99-5", "9999999-99-5"),
    ],
)
def test_cas_accepts(written: str, canonical: str) -> None:
    assert cas.parse(written) == canonical
    assert cas.is_valid(written)


def test_cas_wrong_check_digit_says_which_was_expected() -> None:
    error = rejects(cas, "64-17-6")
    assert "check digit" in error.reason
    assert "5" in error.reason
    assert "64-17-6" in str(error)
    assert error.expected in str(error)


@pytest.mark.parametrize(
    "bad",
    ["1-23-4", "12345678-12-3", "64-17", "6417", "64-17-X", "64 17 5", "CAS 64-17-5", "0-00-0"],
)
def test_cas_rejects(bad: str) -> None:
    rejects(cas, bad)


def test_cas_check_digit() -> None:
    assert cas.check_digit("6417") == 5
    assert cas.check_digit("773218") == 5
    assert cas.check_digit("64-17") == 5
    with pytest.raises(CodeError):
        cas.check_digit("64a17")
    with pytest.raises(CodeError):
        cas.check_digit("")


@FAST
@given(st.text(alphabet="0123456789", min_size=5, max_size=10))
def test_cas_agrees_with_stdnum_on_digit_strings(digits: str) -> None:
    dashed = f"{digits[:-3]}-{digits[-3:-1]}-{digits[-1]}"
    # We accept zero padding (and strip it), stdnum refuses it: compare on the stripped form.
    unpadded = f"{digits[:-3].lstrip('0')}-{digits[-3:-1]}-{digits[-1]}"
    assert cas.is_valid(dashed) == casrn.is_valid(unpadded)
    assert cas.is_valid(digits) == casrn.is_valid(unpadded)
    if digits[0] != "0":
        assert cas.is_valid(dashed) == casrn.is_valid(dashed)


@FAST
@given(valid_codes("cas"))
def test_generated_cas_pass_stdnum(code: str) -> None:
    assert casrn.is_valid(code)
    assert casrn.calc_check_digit(code[:-2]) == code[-1]


# --- EC -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("200-001-8", "200-001-8"),
        ("2000018", "200-001-8"),
        (" 231-791-2 ", "231-791-2"),
        ("A00-001-5", "A00-001-5"),
        ("a00-001-5", "A00-001-5"),
        ("A000015", "A00-001-5"),
    ],
)
def test_ec_accepts(written: str, canonical: str) -> None:
    assert ec.parse(written) == canonical


def test_ec_letter_values() -> None:
    assert ec.LETTER_VALUES["A"] == 10
    assert ec.LETTER_VALUES["H"] == 17
    assert ec.LETTER_VALUES["J"] == 18
    assert ec.LETTER_VALUES["K"] == 19
    assert ec.LETTER_VALUES["M"] == 20
    assert ec.LETTER_VALUES["N"] == 21
    assert ec.LETTER_VALUES["P"] == 22
    assert ec.LETTER_VALUES["Z"] == 32
    assert not {"I", "L", "O"} & set(ec.LETTER_VALUES)
    assert len(ec.LETTER_VALUES) == 23


def test_ec_remainder_ten_is_written_one() -> None:
    # 1·4 + 2·0 + 3·0 + 4·0 + 5·0 + 6·1 = 10 → check digit 1 (an ELINCS quirk)
    assert ec.check_digit("400001") == 1
    assert ec.parse("400-001-1") == "400-001-1"
    assert ecnumber.is_valid("400-001-1")


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ("200-001-9", "check digit"),
        ("I00-001-5", "I, L and O"),
        ("o00-001-5", "I, L and O"),
        ("A00-001-6", "check digit"),
        ("20-0001-8", "hyphens"),
        ("200-0018", "hyphens"),
        ("2A0-001-8", "first character"),
        ("200-001", "7"),
    ],
)
def test_ec_rejects(bad: str, words: str) -> None:
    assert words in rejects(ec, bad).reason


@FAST
@given(valid_codes("ec"))
def test_generated_digit_ec_pass_stdnum(code: str) -> None:
    if code[0].isdigit():
        assert ecnumber.is_valid(code)
    else:
        assert not ecnumber.is_valid(code)  # stdnum knows only the digit form


@FAST
@given(st.text(alphabet="0123456789", min_size=7, max_size=7))
def test_ec_agrees_with_stdnum_on_digit_strings(digits: str) -> None:
    assert ec.is_valid(digits) == ecnumber.is_valid(digits)
    dashed = f"{digits[:3]}-{digits[3:6]}-{digits[6]}"
    assert ec.is_valid(dashed) == ecnumber.is_valid(dashed)


# --- CUS ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written", ["0011481-8", "00114818", "CUS 0011481-8", "cus0011481-8", " CUS 00114818 "]
)
def test_cus_accepts(written: str) -> None:
    assert cus.parse(written) == "0011481-8"


def test_cus_has_no_check_digit_test() -> None:
    assert cus.parse("0011481-9") == "0011481-9"
    assert cus.check_digit_matches("0011481-8")
    assert cus.check_digit_matches("CUS 00114818")
    assert not cus.check_digit_matches("0011481-9")
    with pytest.raises(CodeError):
        cus.check_digit_matches("11481-8")


def test_cus_keeps_leading_zeros() -> None:
    error = rejects(cus, "11481-8")
    assert "leading zeros" in error.reason
    assert "0011481-8" in error.reason


@pytest.mark.parametrize("bad", ["001148-18", "0011481", "001148189", "CUS", "0011481-X"])
def test_cus_rejects(bad: str) -> None:
    rejects(cus, bad)


# --- UN -----------------------------------------------------------------------------------


@pytest.mark.parametrize("written", ["UN 1170", "UN1170", "1170", "un 1170", " UN  1170 "])
def test_un_accepts(written: str) -> None:
    assert un.parse(written) == "1170"


def test_un_keeps_leading_zeros() -> None:
    assert un.parse("UN 0004") == "0004"


@pytest.mark.parametrize("bad", ["0000", "UN 0000", "117", "11700", "UN", "UN-1170", "UNO 1170"])
def test_un_rejects(bad: str) -> None:
    rejects(un, bad)


# --- HS / CN / TARIC ----------------------------------------------------------------------


@pytest.mark.parametrize("written", ["2208 90", "2208.90", "220890", " 22.08.90 ", "2208 . 90"])
def test_hs_accepts(written: str) -> None:
    assert hs.parse(written) == "220890"


@pytest.mark.parametrize(
    "written", ["2208 90 69", "2208.90.69", "22089069", "2208 90.69", "  2208 90 69\t"]
)
def test_cn_accepts(written: str) -> None:
    assert cn.parse(written) == "22089069"


@pytest.mark.parametrize("written", ["2208 90 69 00", "2208906900", "2208.90.69.00"])
def test_taric_accepts(written: str) -> None:
    assert taric.parse(written) == "2208906900"


@pytest.mark.parametrize(
    ("module", "code"), [(hs, "770010"), (cn, "77001000"), (taric, "7700 10 00 00")]
)
def test_chapter_77_is_reserved(module: ModuleType, code: str) -> None:
    error = rejects(module, code)
    assert "77" in error.reason
    assert "reserved" in error.reason
    assert "no goods" in error.reason


@pytest.mark.parametrize(("module", "code"), [(hs, "001010"), (cn, "00101000")])
def test_chapter_00_does_not_exist(module: ModuleType, code: str) -> None:
    assert "00" in rejects(module, code).reason


def test_special_chapters_accepted_and_flagged() -> None:
    assert set(hs.SPECIAL_CHAPTERS) == {"98", "99"}
    assert hs.parse("9801 00") == "980100"
    assert cn.parse("9905 00 00") == "99050000"
    assert hs.is_special_chapter("980100")
    assert not hs.is_special_chapter("2208 90")
    assert hs.chapter("2208 90") == "22"


@pytest.mark.parametrize("written", ["ex 1102", "ex 1102 20 10", "EX 22089069", "ex1102 20 10"])
def test_cn_rejects_ex_entries(written: str) -> None:
    error = rejects(cn, written)
    assert "'ex'" in error.reason
    assert "partial" in error.reason or "part of" in error.reason
    assert "full code" in error.reason


@pytest.mark.parametrize(
    ("module", "bad", "words"),
    [
        (hs, "2208", "heading"),
        (hs, "22089069", "CN"),
        (cn, "220890", "HS subheading"),
        (cn, "2208906900", "TARIC"),
        (taric, "22089069001", "national"),
        (cn, "2208..90.69", "between"),
        (cn, ".2208 90 69", "between"),
        (cn, "2208-90-69", "only digits"),
        (cn, "2208 90 6a", "only digits"),
    ],
)
def test_nomenclature_rejects(module: ModuleType, bad: str, words: str) -> None:
    assert words in rejects(module, bad).reason


def test_parts() -> None:
    assert cn.hs_part("2208 90 69") == "220890"
    assert taric.cn_part("2208 90 69 00") == "22089069"
    with pytest.raises(CodeError):
        cn.hs_part("7700 10 00")


def test_in_nomenclature() -> None:
    assert hs.in_nomenclature("220890")
    assert hs.in_nomenclature("22089069")
    assert hs.in_nomenclature("2208 90 69 00")
    assert hs.in_nomenclature("010121")
    assert not hs.in_nomenclature("220899")  # made up
    assert not hs.in_nomenclature("999999")  # statistical row, no goods
    assert not hs.in_nomenclature("2208")
    assert not hs.in_nomenclature("ex 220890")
    assert not hs.in_nomenclature(220890)  # type: ignore[arg-type]


def test_shipped_nomenclature() -> None:
    codes = hs.subheadings()
    assert isinstance(codes, frozenset)
    # The source lists 5,613 level-6 rows; one is the statistical 999999, which is left out.
    assert len(codes) == 5612
    assert hs.subheadings() is codes  # cached
    assert all(re.fullmatch(hs.SYSTEM.pattern, code) for code in codes)
    assert {code[:2] for code in codes} == {f"{n:02d}" for n in range(1, 98) if n != 77}
    lines = (REPO / "src/clen_core/codes/hs2022.txt").read_text("ascii").splitlines()
    assert lines == sorted(codes)


@pytest.mark.skipif(not HS_CSV.is_file(), reason=f"HS 2022 source CSV not found at {HS_CSV}")
def test_shipped_nomenclature_is_what_the_script_builds() -> None:
    script = REPO / "scripts/build_hs_nomenclature.py"
    result = subprocess.run(
        [sys.executable, str(script), str(HS_CSV), "--output", "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    shipped = (REPO / "src/clen_core/codes/hs2022.txt").read_text("ascii")
    assert result.stdout == shipped


# --- country, EORI, language --------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("DE", "DE"),
        ("de", "DE"),
        (" fr ", "FR"),
        ("EL", "GR"),
        ("el", "GR"),
        ("GR", "GR"),
        ("UK", "GB"),
        ("GB", "GB"),
        ("XI", "XI"),
        ("xk", "XK"),
        ("XC", "XC"),
        ("XL", "XL"),
        ("XS", "XS"),
    ],
)
def test_country_accepts(written: str, canonical: str) -> None:
    assert country.parse(written) == canonical


@pytest.mark.parametrize("bad", ["ZZ", "DEU", "D", "G R", "12", "\ufb01"])
def test_country_rejects(bad: str) -> None:
    rejects(country, bad)


def test_country_alpha3_hint() -> None:
    assert "DE" in rejects(country, "DEU").reason


def test_eu_member_states() -> None:
    assert len(country.EU_MEMBER_STATES) == 27
    assert country.EU_MEMBER_STATES <= country.CANONICAL_CODES
    assert country.is_eu_member("EL")
    assert country.is_eu_member("gr")
    assert country.is_eu_member("DE")
    assert not country.is_eu_member("GB")
    assert not country.is_eu_member("UK")
    assert not country.is_eu_member("XI")
    assert not country.is_eu_member("ZZ")
    assert not country.is_eu_member(None)  # type: ignore[arg-type]


def test_country_names() -> None:
    assert country.name("EL") == "Greece"
    assert country.name("UK") == "United Kingdom"
    assert country.name("XI") == country.EXTRA_CODES["XI"]
    assert country.name("xk") == "Kosovo"
    assert set(country.EXTRA_CODES) == {"XI", "XK", "XC", "XL", "XS"}
    assert dict(country.ALIASES) == {"EL": "GR", "UK": "GB"}
    assert not set(country.ALIASES) & country.CANONICAL_CODES


def test_country_did_you_mean() -> None:
    # "Tartu (ET)" on the Commission's Action 5 page: ET is Ethiopia, Tartu is in Estonia.
    assert country.suggest("ET", "Tartu") == "EE"
    assert country.did_you_mean("ET", "Tartu") == "did you mean EE (Estonia)?"
    assert country.did_you_mean("et", " Tartu ") == "did you mean EE (Estonia)?"
    # A known city decides, either way; an unknown one leaves the language-code confusion.
    assert country.suggest("EE", "Tartu") is None
    assert country.suggest("FI", "Tartu") == "EE"
    assert country.suggest("ET") == "EE"
    assert country.suggest("SV", "Stockholm") == "SE"
    assert country.did_you_mean("SL") == "did you mean SI (Slovenia)?"
    assert country.did_you_mean("GA") == "did you mean IE (Ireland)?"
    # Nothing to suggest: a code meant as written, or not a code at all.
    assert country.suggest("RS", "Belgrade") is None
    assert country.suggest("EE") is None
    assert country.suggest("ZZ", "Tartu") is None
    assert country.did_you_mean("nope") is None
    # The table: a valid code that is a Member State's language code, for that Member State.
    for written, meant in country.LANGUAGE_CODE_CONFUSIONS.items():
        assert written in country.CANONICAL_CODES
        assert not country.is_eu_member(written)
        assert meant in country.EU_MEMBER_STATES
    assert set(country.CITY_COUNTRIES.values()) <= country.EU_MEMBER_STATES


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("DE1234567890123", "DE1234567890123"),
        ("de 1234 5678 90123", "DE1234567890123"),
        ("EL123456789", "EL123456789"),
        ("GR123456789", "GR123456789"),
        ("UK123456789000", "UK123456789000"),
        ("XI123456789000", "XI123456789000"),
        ("FR1", "FR1"),
        ("nlabc", "NLABC"),
    ],
)
def test_eori_accepts(written: str, canonical: str) -> None:
    assert eori.parse(written) == canonical


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ("DE", "nothing follows"),
        ("DE1234567890123456", "at most 15"),
        ("ZZ123", "country code"),
        ("1234567", "country code"),
        ("DE-123", "only letters"),
    ],
)
def test_eori_rejects(bad: str, words: str) -> None:
    assert words in rejects(eori, bad).reason


def test_eori_country_part() -> None:
    assert eori.country_part("EL123456789") == "GR"
    assert eori.country_part("uk123") == "GB"
    assert eori.country_part("XI123") == "XI"
    assert eori.country_part("DE1") == "DE"


@pytest.mark.parametrize(("written", "canonical"), [("en", "en"), ("EN", "en"), (" El ", "el")])
def test_language_accepts(written: str, canonical: str) -> None:
    assert language.parse(written) == canonical


@pytest.mark.parametrize("bad", ["xx", "eng", "e", "en-GB", "12"])
def test_language_rejects(bad: str) -> None:
    rejects(language, bad)


def test_language_codes() -> None:
    assert {"bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr"} <= (
        language.CODES
    )
    assert language.name("EN") == "English"
    assert "en" in rejects(language, "eng").reason


# --- every system: input that is not a str, messages --------------------------------------


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("value", [None, 64175, 1.5, b"64-17-5", ["DE"], object(), "", "   "])
def test_non_str_and_blank_raise_code_error(name: str, value: object) -> None:
    error = rejects(MODULES[name], value)
    assert error.reason
    assert error.expected
    assert not MODULES[name].is_valid(value)


@pytest.mark.parametrize("name", NAMES)
def test_messages_say_what_and_what_was_expected(name: str) -> None:
    error = rejects(MODULES[name], "?")
    message = str(error)
    assert repr("?") in message
    assert error.reason in message
    assert "expected " + error.expected in message
    assert isinstance(error, ValueError)


# --- properties ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@FAST
@given(data=st.data())
def test_canonical_is_a_fixed_point(name: str, data: st.DataObject) -> None:
    module = MODULES[name]
    code = data.draw(valid_codes(name))
    assert module.parse(code) == code
    assert module.is_valid(code)
    assert re.fullmatch(module.SYSTEM.pattern, code)
    assert module.SYSTEM.matches_canonical(code)


@pytest.mark.parametrize("name", NAMES)
@FAST
@given(data=st.data())
def test_written_forms_parse_to_canonical(name: str, data: st.DataObject) -> None:
    module = MODULES[name]
    code = data.draw(valid_codes(name))
    written = data.draw(written_forms(name, code))
    assert module.parse(written) == code
    assert module.parse(module.parse(written)) == module.parse(written)


@pytest.mark.parametrize("name", NAMES)
@FAST
@given(data=st.data())
def test_invalid_codes_are_rejected(name: str, data: st.DataObject) -> None:
    module = MODULES[name]
    bad = data.draw(invalid_codes(name))
    rejects(module, bad)
    assert not module.is_valid(bad)
    assert not module.SYSTEM.is_valid(bad)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=150, deadline=None)
@given(value=st.text() | st.binary().map(lambda b: b.decode("utf-8", "replace")))
def test_fuzz_parse_only_raises_code_error(name: str, value: str) -> None:
    module = MODULES[name]
    if not module.is_valid(value):
        assert rejects(module, value).system == name
        return
    result = module.parse(value)
    assert isinstance(result, str)
    assert module.is_valid(value)
    assert module.parse(result) == result
    assert re.fullmatch(module.SYSTEM.pattern, result)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=40, deadline=None)
@given(
    value=st.text(alphabet="0123456789-. UNCSELuncsel\t", max_size=16)
    | st.none()
    | st.integers()
    | st.floats()
    | st.binary()
    | st.lists(st.text(max_size=3), max_size=3)
    | st.dictionaries(st.text(max_size=2), st.integers(), max_size=2)
)
def test_fuzz_near_misses_and_other_types(name: str, value: object) -> None:
    module = MODULES[name]
    try:
        result = module.parse(value)
    except CodeError:
        assert not module.is_valid(value)
        return
    assert module.parse(result) == result


@pytest.mark.parametrize("name", NAMES)
def test_pattern_compiles_as_is(name: str) -> None:
    pattern = MODULES[name].SYSTEM.pattern
    re.compile(pattern)
    assert not re.search(r"\(\?<[=!]", pattern)  # no lookbehind (JSON Schema / ECMA-262)
    assert "\\d" not in pattern
    assert "\\w" not in pattern


@pytest.mark.parametrize("name", ["nope", "CAS"])
def test_strategies_reject_unknown_systems(name: str) -> None:
    for strategy in (valid_codes, invalid_codes):
        with pytest.raises(UnknownCodeSystemError):
            strategy(name)
    with pytest.raises(UnknownCodeSystemError):
        written_forms(name, "x")
