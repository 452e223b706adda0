"""Frictionless Table Schema of an entity, for its CSV form.

Lists and mappings are ``array`` / ``object`` fields: one JSON document in the
cell. Frictionless patterns are implicitly anchored, so the anchors of the
declared patterns are dropped.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from clen_core.codes import get_code_system
from clen_core.model.entity import EntityInfo, get_entity
from clen_core.model.fields import FieldInfo, ListShape, ScalarShape

__all__ = ["table_schema"]

_TYPES: dict[type, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    Decimal: "number",
    dt.date: "date",
}


def _unanchor(pattern: str) -> str:
    return pattern.removeprefix("^").removesuffix("$")


def _field(f: FieldInfo) -> dict[str, Any]:
    spec = f.spec
    constraints: dict[str, Any] = {}
    if f.is_required:
        # As in JSON Schema: a field with a default may be left empty, and takes it.
        constraints["required"] = True
    shape = f.shape
    if isinstance(shape, ScalarShape):
        ftype = "string" if shape.enum is not None else _TYPES[shape.py]
        if shape.enum is not None:
            constraints["enum"] = [m.value for m in shape.enum]
        if shape.py is str:
            if spec.min_length:
                constraints["minLength"] = spec.min_length
            if spec.max_length is not None:
                constraints["maxLength"] = spec.max_length
            pattern = spec.pattern or (get_code_system(spec.code).pattern if spec.code else None)
            if pattern is not None:
                constraints["pattern"] = _unanchor(pattern)
        for attr, keyword in (("ge", "minimum"), ("le", "maximum")):
            bound = getattr(spec, attr)
            if bound is not None:
                constraints[keyword] = bound
    else:
        ftype = "array" if isinstance(shape, ListShape) else "object"
    out: dict[str, Any] = {"name": f.name, "type": ftype, "description": f.description}
    if constraints:
        out["constraints"] = constraints
    return out


def table_schema(entity: str | type | EntityInfo) -> dict[str, Any]:
    """The Frictionless Table Schema descriptor of an entity's CSV form."""
    info = entity if isinstance(entity, EntityInfo) else get_entity(entity)
    schema: dict[str, Any] = {
        "fields": [_field(f) for f in info.fields],
        "primaryKey": list(info.key),
        "missingValues": [""],
    }
    foreign = []
    for f in info.references:
        if isinstance(f.shape, ScalarShape):
            target = get_entity(f.spec.ref or "")
            if len(target.key) == 1:
                foreign.append(
                    {
                        "fields": f.name,
                        "reference": {"resource": target.name, "fields": target.key[0]},
                    }
                )
    if foreign:
        schema["foreignKeys"] = foreign
    return schema
