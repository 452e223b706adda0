"""Schemas derived from the entity declarations: Arrow, JSON Schema, Frictionless Table Schema."""

from clen_core.schema.arrow import arrow_schema, arrow_type, from_arrow, to_arrow
from clen_core.schema.json import from_json, json_schema, to_json
from clen_core.schema.table import table_schema

__all__ = [
    "arrow_schema",
    "arrow_type",
    "from_arrow",
    "from_json",
    "json_schema",
    "table_schema",
    "to_arrow",
    "to_json",
]
