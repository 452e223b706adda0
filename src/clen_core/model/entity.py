"""The ``@entity`` decorator, cross-field constraints, and the registry of entities.

An entity is an attrs frozen, slotted, keyword-only class whose fields are
declared with :func:`~clen_core.model.fields.field`. The decorator resolves the
declarations once into an :class:`EntityInfo`, installs the construction-time
check (every bad field reported together), writes the per-field docs into the
class docstring, and registers the entity under its snake_case name.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Protocol, TypeVar, dataclass_transform

import attrs

from clen_core.errors import FieldError, InvalidObjectError, UnknownEntityError
from clen_core.model import _html
from clen_core.model.fields import (
    FieldInfo,
    ListShape,
    MapShape,
    ScalarShape,
    Shape,
    field,
    shape_of,
)
from clen_core.registry import Registry

__all__ = [
    "Entity",
    "EntityInfo",
    "Ordered",
    "Together",
    "UnknownEntityError",
    "entities",
    "entity",
    "get_entity",
    "register_entity",
]


class Entity(Protocol):
    """What every entity class offers (for typing code that handles any entity)."""

    __clen_entity__: ClassVar[EntityInfo]


E = TypeVar("E")


@attrs.frozen
class Ordered:
    """Constraint: ``later`` is not before ``earlier`` when both are given (``end ≥ start``)."""

    earlier: str
    """Field that must not be greater."""
    later: str
    """Field that must not be smaller; the error names it."""

    @property
    def names(self) -> tuple[str, ...]:
        """The fields it involves."""
        return (self.earlier, self.later)

    def errors(self, obj: object) -> Iterable[FieldError]:
        """The violation on ``obj``, if any."""
        lo, hi = getattr(obj, self.earlier), getattr(obj, self.later)
        if lo is not None and hi is not None and hi < lo:
            yield FieldError(self.later, hi, f"must not be before {self.earlier} ({lo})")

    def describe(self) -> str:
        """One line for the docs."""
        return f"`{self.later}` ≥ `{self.earlier}` when both are given"


@attrs.frozen
class Together:
    """Constraint: the named fields are either all given or all missing."""

    fields: tuple[str, ...]
    """The fields that go together; an error names each missing one."""

    @property
    def names(self) -> tuple[str, ...]:
        """The fields it involves."""
        return self.fields

    def errors(self, obj: object) -> Iterable[FieldError]:
        """The violations on ``obj``: each missing field while another is given."""
        values = {f: getattr(obj, f) for f in self.fields}
        given = [f for f, v in values.items() if v is not None]
        if given and len(given) != len(self.fields):
            for f, v in values.items():
                if v is None:
                    yield FieldError(f, v, f"required when {', '.join(given)} is given")

    def describe(self) -> str:
        """One line for the docs."""
        return "all or none of " + ", ".join(f"`{f}`" for f in self.fields)


Constraint = Ordered | Together


@attrs.frozen
class EntityInfo:
    """An entity's resolved declaration: name, class, key, fields and constraints."""

    name: str
    """Snake-case entity name used by files and the CLI, e.g. ``"activity"``."""
    cls: type
    """The entity class."""
    key: tuple[str, ...]
    """Field(s) whose values identify a record."""
    description: str
    """First paragraph of the class docstring."""
    fields: tuple[FieldInfo, ...]
    """The fields, in declaration order."""
    constraints: tuple[Constraint, ...] = ()
    """Cross-field invariants."""
    version: int = 1
    """Schema version: bumped when a field changes incompatibly."""

    @property
    def field_names(self) -> tuple[str, ...]:
        """Names of the fields, in declaration order."""
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> FieldInfo:
        """The field called ``name``."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}")

    @property
    def references(self) -> tuple[FieldInfo, ...]:
        """Fields that refer to another entity's key."""
        return tuple(f for f in self.fields if f.spec.ref is not None)

    def key_of(self, obj: object) -> Any:
        """The key of ``obj``: its key field's value, or a tuple for a composite key."""
        if len(self.key) == 1:
            return getattr(obj, self.key[0])
        return tuple(getattr(obj, k) for k in self.key)

    def format_key(self, key: Any) -> str:
        """The key as text (composite keys joined with ``/``)."""
        if isinstance(key, tuple):
            return "/".join(str(k) for k in key)
        return str(key)

    def check(self, obj: object) -> list[FieldError]:
        """Canonicalise ``obj``'s fields in place and return every invariant it breaks."""
        errors: list[FieldError] = []
        bad: set[str] = set()
        for f in self.fields:
            value = getattr(obj, f.name)
            try:
                canonical = f.validate(value)
            except ValueError as exc:
                errors.append(FieldError(f.name, value, str(exc)))
                bad.add(f.name)
                continue
            if canonical is not value:
                # Frozen classes: the check canonicalises before the object escapes __init__.
                object.__setattr__(obj, f.name, canonical)
        for constraint in self.constraints:
            # A field that already failed its own check has nothing to compare.
            if bad.isdisjoint(constraint.names):
                errors.extend(constraint.errors(obj))
        return errors

    def __repr__(self) -> str:
        return (
            f"EntityInfo({self.name!r}, class={self.cls.__name__}, key={self.key!r}, "
            f"fields={len(self.fields)}, version={self.version})"
        )

    def _repr_html_(self) -> str:
        # What a notebook shows of an entity's schema: its fields, types and constraints.
        rows = (
            (f.name, _type_text(f.shape), "yes" if f.is_required else "",
             "; ".join(_constraint_texts(f)), f.description.replace("``", ""))
            for f in self.fields
        )  # fmt: skip
        head = ("field", "type", "required", "constraints", "description")
        together = "".join(f"<li>{_html.cell(c.describe().replace('`', ''))}</li>"
                           for c in self.constraints)  # fmt: skip
        return (
            f"<div><p><strong>{_html.cell(self.name)}</strong> "
            f"({_html.cell(self.cls.__name__)}, schema version {self.version}): "
            f"{_html.cell(self.description.replace('``', ''), 10 * _html.CHARS)}<br>"
            f"Key: {_html.cell(', '.join(self.key))}</p>"
            f"{_html.table(head, rows, limit=len(self.fields))}"
            + (f"<p>Across fields:</p><ul>{together}</ul>" if together else "")
            + "</div>"
        )


def _type_text(shape: Shape) -> str:
    if isinstance(shape, ListShape):
        return f"list of {_type_text(shape.item)}"
    if isinstance(shape, MapShape):
        return f"map {_type_text(shape.key)} → {_type_text(shape.value)}"
    return "enum" if shape.enum is not None else shape.py.__name__


def _constraint_texts(f: FieldInfo) -> list[str]:
    s = f.spec
    out = []
    if s.code:
        out.append(f"code {s.code}")
    if s.key_code:
        out.append(f"keys: code {s.key_code}")
    if f.scalar.enum is not None:
        out.append("one of " + ", ".join(m.value for m in f.scalar.enum))
    out += [f"{sym} {getattr(s, a)}" for a, sym in (("ge", "≥"), ("gt", ">"), ("le", "≤"))
            if getattr(s, a) is not None]  # fmt: skip
    if f.scalar.py is str and s.min_length and s.min_length > 1:
        out.append(f"≥ {s.min_length} chars")
    if f.scalar.py is str and s.max_length is not None:
        out.append(f"≤ {s.max_length} chars")
    if s.pattern:
        out.append(f"matches {s.pattern}")
    if s.min_items:
        out.append(f"≥ {s.min_items} item(s)")
    if s.unique_items:
        out.append("distinct items")
    if s.unit:
        out.append(f"unit {s.unit}")
    if s.ref:
        out.append(f"refers to {s.ref}")
    return out


ENTITY_REGISTRY: Registry[EntityInfo] = Registry(
    "entity",
    unknown=UnknownEntityError,
    same=lambda a, b: a.cls is b.cls,
    owner=lambda info: info.cls,
)
"""The registered entities by name: clen_core's own (at class creation) and plugins'."""
ENTITIES = ENTITY_REGISTRY.view
"""Read-only view of the registered entities by name."""


def register_entity(info: EntityInfo) -> None:
    """Add an entity to the registry (plugins call this through their hook)."""
    ENTITY_REGISTRY.add(info.name, info)


def entities() -> tuple[EntityInfo, ...]:
    """Every registered entity (plugins' too), in registration order."""
    return ENTITY_REGISTRY.values()


def get_entity(name: str | type | object) -> EntityInfo:
    """The entity called ``name``, or of a class or object."""
    if isinstance(name, str):
        return ENTITY_REGISTRY.get(name)
    info = getattr(name, "__clen_entity__", None)
    if not isinstance(info, EntityInfo):
        # A data frame's repr is a page of its rows: the type says what was given.
        what = repr(name) if isinstance(name, type) else f"an object of type {type(name).__name__}"
        raise UnknownEntityError(f"{what} is not a clen_core entity")
    return info


def _post_init(self: Any) -> None:
    info: EntityInfo = type(self).__clen_entity__
    errors = info.check(self)
    if errors:
        raise InvalidObjectError(info.name, errors)


def _transform(cls: type, fields: list[attrs.Attribute[Any]]) -> list[attrs.Attribute[Any]]:
    hints = typing.get_type_hints(cls)
    out = []
    for a in fields:
        shape, optional = shape_of(hints[a.name])
        changes: dict[str, Any] = {"type": hints[a.name]}
        if optional and a.default is attrs.NOTHING:
            # Stated in the declaration, where type checkers see it too.
            raise TypeError(f"{cls.__name__}.{a.name} is optional: declare it with default=None")
        if isinstance(shape, MapShape):
            # dicts are unhashable: equality still compares them, hashing skips them.
            changes["hash"] = False
        out.append(a.evolve(**changes))
    return out


def _shape_text(shape: Shape) -> str:
    if isinstance(shape, ScalarShape):
        return shape.py.__name__
    if isinstance(shape, ListShape):
        return f"list of {_shape_text(shape.item)}"
    return f"map {_shape_text(shape.key)} → {_shape_text(shape.value)}"


def _docstring(doc: str, fields: tuple[FieldInfo, ...]) -> str:
    lines = [doc.rstrip(), "", "Attributes:"]
    for f in fields:
        kind = _shape_text(f.shape) + (", optional" if f.optional else "")
        lines.append(f"    {f.name} ({kind}): {f.description}")
    return "\n".join(lines) + "\n"


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(field,))
def entity(
    name: str,
    *,
    key: str | tuple[str, ...],
    constraints: Iterable[Constraint] = (),
    version: int = 1,
    register: bool = True,
) -> Callable[[type[E]], type[E]]:
    """Make a class an entity: frozen, slotted, keyword-only, checked at construction.

    ``register=False`` leaves registration to a plugin's ``clen_register_entities`` hook.
    """

    def wrap(cls: type[E]) -> type[E]:
        doc = inspect.cleandoc(cls.__doc__ or "")
        if not doc:
            raise TypeError(f"entity {cls.__name__} needs a docstring")
        cls.__attrs_post_init__ = _post_init  # type: ignore[attr-defined]
        new = attrs.frozen(cls, kw_only=True, field_transformer=_transform)
        fields = tuple(FieldInfo.from_attribute(a) for a in attrs.fields(new))  # type: ignore[arg-type]
        info = EntityInfo(
            name=name,
            cls=new,
            key=(key,) if isinstance(key, str) else tuple(key),
            description=doc.split("\n\n")[0].replace("\n", " "),
            fields=fields,
            constraints=tuple(constraints),
            version=version,
        )
        names = set(info.field_names)
        referenced = set(info.key)
        for c in info.constraints:
            referenced.update(c.names)
        if not referenced <= names:
            raise TypeError(f"{name}: unknown field(s) {sorted(referenced - names)}")
        new.__clen_entity__ = info  # type: ignore[attr-defined]
        new.__doc__ = _docstring(doc, fields)
        if register:
            register_entity(info)
        return new

    return wrap
