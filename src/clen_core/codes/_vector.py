"""Code checks over whole Arrow arrays: which values are surely canonical, valid codes.

The columnar engine checks a code field once per distinct value with the system's own
``parse``; when every value is distinct (one CAS RN per substance) that is one Python call
per row. :func:`canonical_mask` decides, vectorised, the usual case: a value that already
has the canonical shape and the right check digit is one ``parse`` returns unchanged.
Everything else (other written forms, wrong check digits, ECHA letters) is left to
``parse``, which alone words the findings: the mask may say False for a good code, never
True for a value ``parse`` would change or refuse (tests/test_vector_codes.py holds it to
that, with python-stdnum as the referee of the check digits).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from clen_core.codes._base import CodeSystem

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "canonical_mask",
    "cas_check_digits",
    "cus_check_digit_mask",
    "ec_check_digits",
    "false_if_null",
]


def false_if_null(mask: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """A boolean mask with null read as False.

    ``pc.fill_null(mask, False)`` does the same in five to ten times the time (its
    kernel is generic); a mask without nulls, the usual case, is returned as it is.
    """
    import pyarrow.compute as pc

    if not mask.null_count:
        return mask
    return pc.and_kleene(mask, pc.is_valid(mask))


def _weighted_from_right(number: pa.Array, weights: list[int]) -> pa.Array:
    """Sum of the decimal digits of ``number`` (int64, >= 0) times ``weights``, the first
    weight for the last digit. Integer arithmetic: a third of the time of slicing text."""
    import pyarrow.compute as pc

    total = None
    for weight in weights:
        rest = pc.divide(number, 10)  # integer division: truncates
        term = pc.subtract(number, pc.multiply(rest, 10))
        if weight != 1:
            term = pc.multiply(term, weight)
        total = term if total is None else pc.add(total, term)
        number = rest
    assert total is not None
    return total


def _mod(values: pa.Array, m: int) -> pa.Array:
    # pyarrow has no modulo kernel; integer divide truncates, and the values are >= 0.
    import pyarrow.compute as pc

    return pc.subtract(values, pc.multiply(pc.divide(values, m), m))


def _number(digits: pa.Array) -> pa.Array:
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.cast(digits, pa.int64())


def cas_check_digits(digits: pa.Array) -> pa.Array:
    """The CAS check digit of each string of 1 to 9 ASCII digits (no hyphens), as int64.

    Weighted 1, 2, 3, … from the right, summed, modulo 10: :func:`stdnum.casrn.calc_check_digit`
    over a column. The values must be digits only (the callers match a pattern first).
    """
    return _mod(_weighted_from_right(_number(digits), list(range(1, 10))), 10)


def ec_check_digits(digits: pa.Array) -> pa.Array:
    """The EC check digit of each string of exactly six ASCII digits, as int64.

    ``(1·N1 + … + 6·N6) mod 11``, a remainder of 10 written 1, as :mod:`stdnum.eu.ecnumber`.
    """
    import pyarrow.compute as pc

    remainder = _mod(_weighted_from_right(_number(digits), [6, 5, 4, 3, 2, 1]), 11)
    return pc.if_else(pc.equal(remainder, 10), 1, remainder)


def _shaped(values: pa.Array, pattern: str) -> pa.Array:
    import pyarrow.compute as pc

    return false_if_null(pc.match_substring_regex(values, pattern))


def _cas_mask(values: pa.Array) -> pa.Array:
    import pyarrow as pa
    import pyarrow.compute as pc

    shaped = _shaped(values, r"^[1-9][0-9]{1,6}-[0-9]{2}-[0-9]$")
    # Values of another shape get a stand-in that has a check digit, and are refused
    # by the shape anyway: the digit arithmetic then never sees a non-digit.
    plain = pc.replace_substring(pc.if_else(shaped, values, "10-00-1"), "-", "")
    body = pc.utf8_slice_codeunits(plain, 0, -1)
    last = pc.cast(pc.utf8_slice_codeunits(plain, -1), pa.int64())
    return pc.and_(shaped, pc.equal(cas_check_digits(body), last))


def _ec_mask(values: pa.Array) -> pa.Array:
    import pyarrow as pa
    import pyarrow.compute as pc

    # All-digit EC numbers only: the ECHA letters are rare and left to parse.
    shaped = _shaped(values, r"^[0-9]{3}-[0-9]{3}-[0-9]$")
    plain = pc.replace_substring(pc.if_else(shaped, values, "000-000-0"), "-", "")
    body = pc.utf8_slice_codeunits(plain, 0, 6)
    last = pc.cast(pc.utf8_slice_codeunits(plain, 6, 7), pa.int64())
    return pc.and_(shaped, pc.equal(ec_check_digits(body), last))


def cus_check_digit_mask(values: pa.Array) -> pa.Array:
    """Per value: True when it is a canonical CUS number whose last digit is the CAS check
    digit of the first seven (:func:`~clen_core.codes.cus.check_digit_matches`), False when
    it is such a number with another last digit, null when it is not a canonical CUS number
    (then ask the scalar function)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    shaped = _shaped(values, r"^[0-9]{7}-[0-9]$")
    text = pc.if_else(shaped, values, "0000000-0")
    body = pc.utf8_slice_codeunits(text, 0, 7)
    last = pc.cast(pc.utf8_slice_codeunits(text, 8, 9), pa.int64())
    matches = pc.equal(cas_check_digits(body), last)
    return pc.if_else(shaped, matches, pa.scalar(None, pa.bool_()))


def _pattern_mask(system: CodeSystem) -> Callable[[pa.Array], pa.Array]:
    # For these systems the canonical pattern says it all: parse returns a value
    # that matches it unchanged (no check digit, no table to look up).
    def mask(values: pa.Array) -> pa.Array:
        return _shaped(values, system.pattern)

    return mask


def _set_mask(canonical: Callable[[], frozenset[str]]) -> Callable[[pa.Array], pa.Array]:
    # For these systems parse returns a value unchanged exactly when it is one of a
    # table's canonical codes (country: ISO and customs codes, upper case; language:
    # ISO 639-1, lower case): a look-up in the table, made on first use.
    def mask(values: pa.Array) -> pa.Array:
        import pyarrow as pa
        import pyarrow.compute as pc

        table = pa.array(sorted(canonical()), pa.string())
        return false_if_null(pc.is_in(values, value_set=table))

    return mask


def _masks() -> dict[str, Callable[[pa.Array], pa.Array]]:
    from clen_core.codes import cn, country, cus, hs, language, taric, un

    out: dict[str, Callable[[pa.Array], pa.Array]] = {
        "cas": _cas_mask,
        "ec": _ec_mask,
        "country": _set_mask(lambda: country.CANONICAL_CODES),
        "language": _set_mask(lambda: language.CODES),
    }
    for module in (cus, un, hs, cn, taric):
        out[module.SYSTEM.name] = _pattern_mask(module.SYSTEM)
    return out


_MASKS: dict[str, Callable[[pa.Array], pa.Array]] = {}


def canonical_mask(system: str, values: pa.Array) -> pa.Array | None:
    """Per value of the string array ``values``: True when it is surely a valid code of
    ``system`` in canonical form (``parse`` would return it unchanged), else False (nulls
    included: ``parse`` must decide). None when ``system`` has no vectorised check."""
    if not _MASKS:
        _MASKS.update(_masks())
    mask = _MASKS.get(system)
    return None if mask is None else mask(values)
