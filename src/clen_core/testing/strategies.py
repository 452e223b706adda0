"""Hypothesis strategies for every entity, derived from the field declarations.

For plugin authors as much as for our own tests: ``from_entity("activity")``
builds valid objects of any registered entity, plugin entities included;
``invalid_values(field)`` gives values that break exactly that field's own
declaration.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from clen_core.model.entity import EntityInfo, Ordered, Together, get_entity
from clen_core.model.fields import FieldInfo, ListShape, MapShape, ScalarShape, Shape, Spec
from clen_core.testing.codes import invalid_codes, valid_codes

__all__ = ["entity_kwargs", "field_values", "from_entity", "invalid_values", "text"]

_MAX_TEXT = 30
_INT64 = 2**63


def text(min_size: int = 0, max_size: int = _MAX_TEXT) -> SearchStrategy[str]:
    """Any Unicode text that UTF-8 can encode (no lone surrogates)."""
    return st.text(st.characters(exclude_categories=["Cs"]), min_size=min_size, max_size=max_size)


def _str_values(spec: Spec, code: str | None) -> SearchStrategy[str]:
    if code is not None:
        return valid_codes(code)
    lo = spec.min_length or 0
    hi = min(spec.max_length or _MAX_TEXT, _MAX_TEXT)
    if spec.pattern is not None:
        return st.from_regex(spec.pattern, fullmatch=True).filter(lambda s: lo <= len(s) <= hi)
    return text(lo, hi)


def _scalar_values(shape: ScalarShape, spec: Spec, *, is_key: bool = False) -> SearchStrategy[Any]:
    py = shape.py
    if shape.enum is not None:
        return st.sampled_from(list(shape.enum))
    if py is str:
        if is_key:
            return valid_codes(spec.key_code) if spec.key_code else text(1)
        return _str_values(spec, spec.code)
    if py is bool:
        return st.booleans()
    if py is int:
        lo = spec.ge if spec.ge is not None else (spec.gt + 1 if spec.gt is not None else -_INT64)
        hi = spec.le if spec.le is not None else _INT64 - 1
        return st.integers(int(lo), int(hi))
    if py is float:
        low = spec.ge if spec.ge is not None else spec.gt
        return st.floats(
            min_value=None if low is None else float(low),
            max_value=None if spec.le is None else float(spec.le),
            exclude_min=spec.gt is not None,
            allow_nan=False,
            allow_infinity=False,
        )
    if py is Decimal:
        top = Decimal(10) ** (spec.precision - spec.scale) - Decimal(1).scaleb(-spec.scale)
        low = Decimal(str(spec.ge)) if spec.ge is not None else -top
        return st.decimals(min_value=low, max_value=top, places=spec.scale, allow_nan=False,
                           allow_infinity=False)  # fmt: skip
    if py is dt.date:
        return st.dates()
    raise TypeError(f"no strategy for {py!r}")  # pragma: no cover


def _values(shape: Shape, spec: Spec) -> SearchStrategy[Any]:
    if isinstance(shape, ScalarShape):
        return _scalar_values(shape, spec)
    if isinstance(shape, ListShape):
        return st.lists(
            _values(shape.item, spec),
            min_size=spec.min_items,
            max_size=max(spec.min_items, 4),
            unique=spec.unique_items,
        ).map(tuple)
    return st.dictionaries(
        _scalar_values(shape.key, spec, is_key=True),
        _values(shape.value, spec),
        min_size=spec.min_items,
        max_size=max(spec.min_items, 3),
    )


def field_values(f: FieldInfo, *, allow_none: bool = True) -> SearchStrategy[Any]:
    """Valid values of one field, in canonical form (``None`` too when the field is optional)."""
    values = _values(f.shape, f.spec)
    return st.none() | values if f.optional and allow_none else values


@st.composite
def _kwargs(draw: st.DrawFn, info: EntityInfo) -> dict[str, Any]:
    together = {name for c in info.constraints if isinstance(c, Together) for name in c.fields}
    out = {f.name: draw(field_values(f)) for f in info.fields if f.name not in together}
    for c in info.constraints:
        if isinstance(c, Together):
            given = draw(st.booleans())
            for name in c.fields:
                f = info.field(name)
                out[name] = draw(field_values(f, allow_none=False)) if given else None
    for c in info.constraints:
        if isinstance(c, Ordered):
            lo, hi = out[c.earlier], out[c.later]
            if lo is not None and hi is not None and hi < lo:
                out[c.earlier], out[c.later] = hi, lo
    return out


def entity_kwargs(entity: str | type) -> SearchStrategy[dict[str, Any]]:
    """Keyword arguments that build a valid object of ``entity`` (every field given)."""
    return _kwargs(get_entity(entity))


def from_entity(entity: str | type) -> SearchStrategy[Any]:
    """Valid objects of any registered entity."""
    info = get_entity(entity)
    return _kwargs(info).map(lambda kw: info.cls(**kw))


# --------------------------------------------------------------------------- invalid values


def _wrong_type(shape: Shape) -> SearchStrategy[Any]:
    if isinstance(shape, ListShape):
        return text(1) | st.integers()
    if isinstance(shape, MapShape):
        return st.lists(st.integers(), max_size=2) | text(1)
    py = shape.py
    if shape.enum is not None:
        return text().filter(lambda s: s not in {m.value for m in shape.enum or ()}) | st.integers()
    if py is str:
        return st.integers() | st.binary(min_size=1)
    if py is bool:
        return st.integers() | text()
    if py is int:
        return st.floats() | text() | st.booleans()
    if py is float:
        return text() | st.booleans() | st.decimals(allow_nan=False).map(str)
    if py is Decimal:
        return st.floats(allow_nan=False) | text()
    return st.datetimes() | text()  # dates: a datetime is not a date


def _broken_scalar(shape: ScalarShape, spec: Spec) -> list[SearchStrategy[Any]]:
    out = [_wrong_type(shape)]
    py = shape.py
    if py is str and shape.enum is None:
        out.append(st.just("x\ud800"))  # not encodable: no file could hold it
        if spec.code is not None:
            out.append(invalid_codes(spec.code))
        if spec.min_length:
            out.append(st.just(""))
        if spec.max_length is not None:
            n = spec.max_length
            out.append(text(n + 1, n + 3).filter(lambda s: len(s) > n))
        if spec.pattern is not None:
            regex = re.compile(spec.pattern)
            out.append(text(1).filter(lambda s: regex.fullmatch(s) is None))
    if py in (int, float, Decimal):
        as_type = {int: int, float: float, Decimal: Decimal}[py]
        if spec.ge is not None:
            out.append(st.just(as_type(spec.ge) - as_type(1)))
        if spec.gt is not None:
            out.append(st.just(as_type(spec.gt)))
        if spec.le is not None:
            out.append(st.just(as_type(spec.le) + as_type(1)))
    if py is float:
        out.append(st.sampled_from([float("nan"), float("inf"), float("-inf")]))
    if py is Decimal:
        out.append(st.just(Decimal(1).scaleb(-(spec.scale + 1))))  # too many decimals
        out.append(st.sampled_from([Decimal("NaN"), Decimal("Infinity")]))
    return out


def _broken(shape: Shape, spec: Spec) -> list[SearchStrategy[Any]]:
    if isinstance(shape, ScalarShape):
        return _broken_scalar(shape, spec)
    if isinstance(shape, ListShape):
        good = _values(shape.item, spec)
        out = [_wrong_type(shape)]
        out += [
            st.tuples(good, bad).map(lambda t: (t[0], t[1])) for bad in _broken(shape.item, spec)
        ]
        if spec.min_items:
            out.append(st.just(()))
        if spec.unique_items:
            out.append(good.map(lambda v: (v, v)))
        return out
    out = [_wrong_type(shape)]
    value = _values(shape.value, spec)
    if spec.key_code is not None:
        out.append(st.builds(lambda k, v: {k: v}, invalid_codes(spec.key_code), value))
    out += [
        st.builds(lambda k, v: {k: v}, _scalar_values(shape.key, spec, is_key=True), bad)
        for bad in _broken(shape.value, spec)
    ]
    if spec.min_items:
        out.append(st.just({}))
    return out


def invalid_values(f: FieldInfo) -> SearchStrategy[Any]:
    """Values that break ``f``'s own declaration (type, range, length, code, pattern, ...)."""
    strategies = _broken(f.shape, f.spec)
    if not f.optional:
        strategies.append(st.none())
    return st.one_of(strategies)
