"""Field declarations: the one place where a field's type, constraints and docs are stated.

An entity field is declared once, with a Python type annotation and :func:`field`::

    participants: int | None = field("Number of participants.", ge=0, default=None)

From the annotation (``int``, optional) and the :class:`Spec` (``ge=0``, the
description) the library derives the construction-time check, the Arrow type,
the JSON Schema and Table Schema entries, the Hypothesis strategy and the
reference docs. Nothing else restates them.

Supported annotations: ``str``, ``int``, ``float``, ``bool``, ``decimal.Decimal``,
``datetime.date``, a :class:`enum.StrEnum` subclass, ``tuple[X, ...]`` (a list)
and ``Mapping[K, V]`` (a map), each optionally ``| None``.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
import types
import typing
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Union

import attrs

from clen_core.codes import get_code_system
from clen_core.errors import CodeError

__all__ = [
    "SPEC_KEY",
    "FieldInfo",
    "ListShape",
    "MapShape",
    "ScalarShape",
    "Shape",
    "Spec",
    "field",
]

SPEC_KEY = "clen_core"
"""Key of the :class:`Spec` in an attrs field's ``metadata``."""

_Number = int | float | Decimal


@attrs.frozen
class Spec:
    """The declarative constraints and documentation of one field."""

    description: str
    """One-sentence description; becomes the field's docs and schema description."""
    code: str | None = None
    """Code system of the (innermost) string values, e.g. ``"cas"``; values are canonicalised."""
    key_code: str | None = None
    """For a mapping: code system of its keys (e.g. ``"language"``)."""
    ge: _Number | None = None
    """Inclusive minimum of numbers."""
    gt: _Number | None = None
    """Exclusive minimum of numbers."""
    le: _Number | None = None
    """Inclusive maximum of numbers."""
    min_length: int | None = None
    """Minimum string length; by default 0 for an optional text field, else 1 (items too)."""
    max_length: int | None = None
    """Maximum string length."""
    pattern: str | None = attrs.field(default=None)
    """Regular expression the whole string must match, written ``^…$`` (JSON-Schema compatible)."""
    min_items: int = 0
    """Minimum number of items of a list or mapping."""
    unique_items: bool = False
    """Whether list items must be distinct."""
    unit: str | None = None
    """Unit of measurement of numbers, when fixed (e.g. ``"EUR"``)."""
    ref: str | None = None
    """Name of the entity whose key this field (or each of its items) refers to."""
    precision: int = 18
    """Total digits of a decimal."""
    scale: int = 2
    """Digits after the decimal point of a decimal."""

    @pattern.validator
    def _anchored(self, _: attrs.Attribute[str | None], value: str | None) -> None:
        # JSON Schema searches, Table Schema and the object check match whole strings:
        # only an anchored pattern means the same to all three.
        if value is not None and not (value.startswith("^") and value.endswith("$")):
            raise ValueError(f"pattern {value!r} must be anchored: ^...$")


def field(
    description: str,
    *,
    default: Any = attrs.NOTHING,
    factory: Callable[[], Any] | None = None,
    **constraints: Any,
) -> Any:
    """Declare an entity field: its description and constraints (see :class:`Spec`).

    An optional field (annotated ``X | None``) must say ``default=None`` (or another default).
    """
    spec = Spec(description, **constraints)
    if factory is not None:
        return attrs.field(factory=factory, metadata={SPEC_KEY: spec})
    return attrs.field(default=default, metadata={SPEC_KEY: spec})


# --------------------------------------------------------------------------- shapes


@attrs.frozen
class ScalarShape:
    """A single value of a Python type (str, int, float, bool, Decimal, date or a StrEnum)."""

    py: type
    """The Python type."""

    @property
    def enum(self) -> type[enum.StrEnum] | None:
        """The enum class, when the value is an enum."""
        return self.py if issubclass(self.py, enum.StrEnum) else None


@attrs.frozen
class ListShape:
    """A list of values (a ``tuple[X, ...]`` in Python)."""

    item: Shape
    """Shape of each item."""


@attrs.frozen
class MapShape:
    """A mapping from string keys to values (a ``Mapping[str, V]`` in Python)."""

    key: ScalarShape
    """Shape of the keys (always a string)."""
    value: Shape
    """Shape of the values."""


Shape = ScalarShape | ListShape | MapShape
_SCALARS = (str, int, float, bool, Decimal, dt.date)


def shape_of(tp: Any) -> tuple[Shape, bool]:
    """The shape of an annotation, and whether it admits ``None``."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) != 1:
            raise TypeError(f"unsupported union {tp!r}")
        return _shape(rest[0]), True
    return _shape(tp), False


def _shape(tp: Any) -> Shape:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return ListShape(_shape(args[0]))
    if origin in (Mapping, dict):
        key = _shape(args[0])
        if not (isinstance(key, ScalarShape) and key.py is str):
            raise TypeError(f"mapping keys must be str, not {args[0]!r}")
        return MapShape(key, _shape(args[1]))
    if isinstance(tp, type) and (issubclass(tp, _SCALARS) or issubclass(tp, enum.StrEnum)):
        return ScalarShape(tp)
    raise TypeError(f"unsupported field type {tp!r}")


# --------------------------------------------------------------------------- checks


class _Bad(ValueError):
    """A value fails a check; carries the reason (turned into a FieldError by the entity)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


Check = Callable[[Any], Any]
"""Returns the canonical form of a value or raises ``_Bad``."""


def _type_name(v: object) -> str:
    return type(v).__name__


def _compile_scalar(shape: ScalarShape, spec: Spec, *, is_key: bool = False) -> Check:
    py = shape.py
    code = spec.key_code if is_key else spec.code
    if shape.enum is not None:
        return _enum_check(shape.enum)
    if py is str:
        return _str_check(spec, code, is_key=is_key)
    if py is bool:

        def check_bool(v: Any) -> Any:
            if not isinstance(v, bool):
                raise _Bad(f"expected true or false, got {_type_name(v)}")
            return v

        return check_bool
    if py is int:
        return _int_check(spec)
    if py is float:
        return _float_check(spec)
    if py is Decimal:
        return _decimal_check(spec)
    if py is dt.date:

        def check_date(v: Any) -> Any:
            if not isinstance(v, dt.date) or isinstance(v, dt.datetime):
                raise _Bad(f"expected a date (YYYY-MM-DD), got {_type_name(v)}")
            return v

        return check_date
    raise TypeError(f"no check for {py!r}")  # pragma: no cover - guarded by _shape


def _enum_check(e: type[enum.StrEnum]) -> Check:
    allowed = ", ".join(m.value for m in e)

    def check_enum(v: Any) -> Any:
        if isinstance(v, e):
            return v
        if isinstance(v, str):
            try:
                return e(v)
            except ValueError:
                pass
        raise _Bad(f"expected one of {allowed}")

    return check_enum


def _str_check(spec: Spec, code: str | None, *, is_key: bool) -> Check:
    system = get_code_system(code) if code else None
    regex = re.compile(spec.pattern) if spec.pattern and not is_key else None
    max_length = None if is_key else spec.max_length
    min_length = 1 if is_key else spec.min_length

    def check_str(v: Any) -> Any:
        if not isinstance(v, str):
            raise _Bad(f"expected text, got {_type_name(v)}")
        if not v.isascii():
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                # Lone surrogates: no file format can hold them.
                raise _Bad("text is not valid Unicode (a lone surrogate)") from None
        if system is not None:
            try:
                v = system.parse(v)
            except CodeError as exc:
                raise _Bad(f"{exc.reason}; expected {exc.expected}") from None
        if min_length is not None and len(v) < min_length:
            raise _Bad("must not be empty" if min_length == 1 else f"at least {min_length} chars")
        if max_length is not None and len(v) > max_length:
            raise _Bad(f"at most {max_length} characters, got {len(v)}")
        if regex is not None and regex.fullmatch(v) is None:
            raise _Bad(f"must match {spec.pattern}")
        return v

    return check_str


def _range_check(spec: Spec, v: _Number) -> None:
    if spec.ge is not None and v < spec.ge:
        raise _Bad(f"must be ≥ {spec.ge}")
    if spec.gt is not None and v <= spec.gt:
        raise _Bad(f"must be > {spec.gt}")
    if spec.le is not None and v > spec.le:
        raise _Bad(f"must be ≤ {spec.le}")


def _int_check(spec: Spec) -> Check:
    def check_int(v: Any) -> Any:
        if isinstance(v, bool) or not isinstance(v, int):
            raise _Bad(f"expected a whole number, got {_type_name(v)}")
        if not -(2**63) <= v < 2**63:
            raise _Bad("outside the 64-bit integer range")
        _range_check(spec, v)
        return v

    return check_int


def _float_check(spec: Spec) -> Check:
    def check_float(v: Any) -> Any:
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise _Bad(f"expected a number, got {_type_name(v)}")
        try:
            v = float(v)
        except OverflowError:  # a whole number of hundreds of digits
            raise _Bad("a number too large for a float (beyond ±1.8e308)") from None
        if not math.isfinite(v):
            raise _Bad("expected a finite number, got NaN or infinity")
        _range_check(spec, v)
        return v

    return check_float


def _decimal_check(spec: Spec) -> Check:
    quantum = Decimal(1).scaleb(-spec.scale)
    max_int_digits = spec.precision - spec.scale

    def check_decimal(v: Any) -> Any:
        if isinstance(v, bool) or not isinstance(v, Decimal | int):
            hint = " (money is never a float: pass Decimal('1.10'))" if isinstance(v, float) else ""
            raise _Bad(f"expected an exact decimal, got {_type_name(v)}{hint}")
        d = Decimal(v)
        if not d.is_finite():
            raise _Bad("expected a finite decimal")
        try:
            q = d.quantize(quantum)
        except InvalidOperation:
            raise _Bad(f"more than {max_int_digits} digits before the point") from None
        if q != d:
            raise _Bad(f"at most {spec.scale} digits after the decimal point")
        if q.adjusted() >= max_int_digits:
            raise _Bad(f"more than {max_int_digits} digits before the point")
        _range_check(spec, q)
        return q

    return check_decimal


def _compile(shape: Shape, spec: Spec) -> Check:
    if isinstance(shape, ScalarShape):
        return _compile_scalar(shape, spec)
    if isinstance(shape, ListShape):
        return _list_check(_compile(shape.item, spec), spec)
    return _map_check(
        _compile_scalar(shape.key, spec, is_key=True), _compile(shape.value, spec), spec
    )


def _list_check(item: Check, spec: Spec) -> Check:
    def check_list(v: Any) -> Any:
        if isinstance(v, str | bytes | Mapping) or not isinstance(v, list | tuple):
            raise _Bad(f"expected a list, got {_type_name(v)}")
        out = []
        for i, x in enumerate(v):
            if x is None:
                raise _Bad(f"item {i + 1}: must not be empty (null)")
            try:
                out.append(item(x))
            except _Bad as exc:
                raise _Bad(f"item {i + 1}: {exc.reason}") from None
        if len(out) < spec.min_items:
            raise _Bad(f"at least {spec.min_items} item(s)")
        if spec.unique_items and len(set(out)) != len(out):
            raise _Bad("items must be distinct")
        return tuple(out)

    return check_list


def _map_check(key: Check, value: Check, spec: Spec) -> Check:
    def check_map(v: Any) -> Any:
        if not isinstance(v, Mapping):
            raise _Bad(f"expected a mapping, got {_type_name(v)}")
        out: dict[Any, Any] = {}
        for k, x in v.items():
            try:
                ck = key(k)
            except _Bad as exc:
                raise _Bad(f"key {k!r}: {exc.reason}") from None
            if ck in out:
                raise _Bad(f"key {k!r} appears twice once canonical ({ck!r})")
            if x is None:
                raise _Bad(f"key {k!r}: value must not be null")
            try:
                out[ck] = value(x)
            except _Bad as exc:
                raise _Bad(f"key {k!r}: {exc.reason}") from None
        if len(out) < spec.min_items:
            raise _Bad(f"at least {spec.min_items} entr(y/ies)")
        return out

    return check_map


# --------------------------------------------------------------------------- FieldInfo


@attrs.frozen
class FieldInfo:
    """Everything known about one field of an entity, resolved from its declaration."""

    name: str
    """Field name."""
    spec: Spec
    """The declared constraints and description."""
    shape: Shape
    """Structure and Python type of the value."""
    optional: bool
    """Whether ``None`` is allowed."""
    has_default: bool
    """Whether the constructor may omit it."""
    check: Check = attrs.field(repr=False, eq=False)
    """Canonicalising check of a non-None value (raises an internal error on bad values)."""

    @classmethod
    def from_attribute(cls, a: attrs.Attribute[Any]) -> FieldInfo:
        """Resolve an attrs attribute that was declared with :func:`field`."""
        spec = a.metadata.get(SPEC_KEY)
        if not isinstance(spec, Spec):
            raise TypeError(f"field {a.name!r} must be declared with clen_core.model.field()")
        shape, optional = shape_of(a.type)
        if spec.min_length is None:
            # Only an optional plain text field may be empty ("" is not None there);
            # required text, list items and map values need something.
            spec = attrs.evolve(
                spec, min_length=0 if optional and isinstance(shape, ScalarShape) else 1
            )
        return cls(
            name=a.name,
            spec=spec,
            shape=shape,
            optional=optional,
            has_default=a.default is not attrs.NOTHING,
            check=_compile(shape, spec),
        )

    @property
    def description(self) -> str:
        """The field's description."""
        return self.spec.description

    @property
    def is_required(self) -> bool:
        """Whether a record must give a value (not optional, no default)."""
        return not self.optional and not self.has_default

    @property
    def scalar(self) -> ScalarShape:
        """The innermost scalar shape (of a list's items or a mapping's values)."""
        shape = self.shape
        while not isinstance(shape, ScalarShape):
            shape = shape.item if isinstance(shape, ListShape) else shape.value
        return shape

    def validate(self, value: Any) -> Any:
        """Return the canonical form of ``value`` or raise :class:`ValueError` with the reason."""
        if value is None:
            if self.optional:
                return None
            raise _Bad("required, got nothing")
        return self.check(value)
