"""JSON Schema (draft 2020-12) of an entity, and objects to and from JSON-ready values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from clen_core.codes import get_code_system
from clen_core.errors import FieldError, InvalidObjectError
from clen_core.model.entity import EntityInfo, Ordered, Together, get_entity
from clen_core.model.fields import FieldInfo, ListShape, ScalarShape, Shape, Spec

if TYPE_CHECKING:
    import cattrs

__all__ = ["from_json", "json_schema", "to_json"]

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _converter() -> cattrs.Converter:
    # Imported at first use: cattrs is 10-15 ms of a start that many commands never need.
    from clen_core.schema.converter import get_converter

    return get_converter()


def _scalar_schema(shape: ScalarShape, spec: Spec, *, is_key: bool) -> dict[str, Any]:
    py = shape.py
    if shape.enum is not None:
        return {"type": "string", "enum": [m.value for m in shape.enum]}
    if py is str:
        out: dict[str, Any] = {"type": "string"}
        code = spec.key_code if is_key else spec.code
        if code is not None:
            out["pattern"] = get_code_system(code).pattern
        if is_key:
            return out | {"minLength": 1}
        if spec.min_length:
            out["minLength"] = spec.min_length
        if spec.max_length is not None:
            out["maxLength"] = spec.max_length
        if spec.pattern is not None:
            # A code system's canonical pattern and a field pattern must both hold.
            out = (
                {"allOf": [out, {"pattern": spec.pattern}]}
                if "pattern" in out
                else out | {"pattern": spec.pattern}
            )
        return out
    if py is bool:
        return {"type": "boolean"}
    if py is dt.date:
        return {"type": "string", "format": "date"}
    if py is Decimal:
        sign = "" if spec.ge is not None and spec.ge >= 0 else "-?"
        digits = spec.precision - spec.scale
        return {
            "type": "string",
            "pattern": rf"^{sign}(0|[1-9][0-9]{{0,{digits - 1}}})\.[0-9]{{{spec.scale}}}$",
        }
    out = {"type": "integer" if py is int else "number"}
    for attr, keyword in (("ge", "minimum"), ("gt", "exclusiveMinimum"), ("le", "maximum")):
        bound = getattr(spec, attr)
        if bound is not None:
            out[keyword] = bound
    return out


def _shape_schema(shape: Shape, spec: Spec) -> dict[str, Any]:
    if isinstance(shape, ScalarShape):
        return _scalar_schema(shape, spec, is_key=False)
    if isinstance(shape, ListShape):
        out: dict[str, Any] = {"type": "array", "items": _shape_schema(shape.item, spec)}
        if spec.min_items:
            out["minItems"] = spec.min_items
        if spec.unique_items:
            out["uniqueItems"] = True
        return out
    out = {
        "type": "object",
        "propertyNames": _scalar_schema(shape.key, spec, is_key=True),
        "additionalProperties": _shape_schema(shape.value, spec),
    }
    if spec.min_items:
        out["minProperties"] = spec.min_items
    return out


def _property(f: FieldInfo, default: Any) -> dict[str, Any]:
    inner = _shape_schema(f.shape, f.spec)
    out: dict[str, Any] = {"anyOf": [inner, {"type": "null"}]} if f.optional else dict(inner)
    out["description"] = f.description
    if f.spec.unit is not None:
        out["x-unit"] = f.spec.unit
    if f.spec.ref is not None:
        out["x-ref"] = f.spec.ref
    if f.has_default and default is not None:
        out["default"] = default
    return out


def _together_schema(c: Together) -> dict[str, Any]:
    # "all or none": either every field is null, or every field is present and non-null.
    non_null = {"not": {"type": "null"}}
    return {
        "anyOf": [
            {"properties": {f: {"type": "null"} for f in c.fields}},
            {"properties": dict.fromkeys(c.fields, non_null), "required": list(c.fields)},
        ]
    }


def json_schema(entity: str | type | EntityInfo) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one record of an entity, as its JSON form is written.

    Cross-field order (``end ≥ start``) cannot be said in JSON Schema: it is
    listed in ``$comment`` and checked when the record is read.
    """
    info = entity if isinstance(entity, EntityInfo) else get_entity(entity)
    defaults = _defaults(info)
    schema: dict[str, Any] = {
        "$schema": DIALECT,
        "$id": f"urn:clen-core:{info.name}:v{info.version}",
        "title": info.name,
        "description": info.description,
        "type": "object",
        "properties": {f.name: _property(f, defaults.get(f.name)) for f in info.fields},
        "required": [f.name for f in info.fields if f.is_required],
        "additionalProperties": False,
    }
    together = [c for c in info.constraints if isinstance(c, Together)]
    if together:
        schema["allOf"] = [_together_schema(c) for c in together]
    ordered = [c.describe() for c in info.constraints if isinstance(c, Ordered)]
    if ordered:
        schema["$comment"] = "Also checked on read: " + "; ".join(ordered)
    return schema


def _defaults(info: EntityInfo) -> dict[str, Any]:
    out: dict[str, Any] = {}
    conv = _converter()
    for a in attrs.fields(info.cls):
        default = a.default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            default = default.factory()
        if default is not attrs.NOTHING and default is not None:
            out[a.name] = conv.unstructure(default)
    return out


def to_json(obj: object) -> dict[str, Any]:
    """The JSON-ready form of an entity object (every field present, ``None`` as null)."""
    get_entity(obj)
    result: dict[str, Any] = _converter().unstructure(obj)
    return result


def from_json(data: Mapping[str, Any], entity: str | type) -> Any:
    """An entity object from its JSON-ready form; every problem named by field."""
    info = get_entity(entity)
    if not isinstance(data, Mapping):
        raise InvalidObjectError(
            info.name, [FieldError("(record)", data, "expected a JSON object")]
        )
    errors = [
        FieldError(f.name, None, "required, missing")
        for f in info.fields
        if f.is_required and f.name not in data
    ]
    known = set(info.field_names)
    errors += [
        FieldError(str(k), data[k], f"not a field of {info.name}") for k in data if k not in known
    ]
    if errors:
        raise InvalidObjectError(info.name, errors)
    converter = _converter()
    import cattrs  # loaded by now, with the converter

    try:
        return converter.structure(dict(data), info.cls)
    except InvalidObjectError:
        raise
    except (TypeError, ValueError, cattrs.BaseValidationError) as exc:
        raise InvalidObjectError(info.name, [FieldError("(record)", data, str(exc))]) from None
