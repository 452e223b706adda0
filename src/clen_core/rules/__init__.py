"""Validation rules: the registry, the built-in rules, running them, and the report."""

from clen_core.rules import builtin as _builtin  # noqa: F401 - registers the built-in rules
from clen_core.rules.context import ROW_COLUMN, Context
from clen_core.rules.engine import validate
from clen_core.rules.registry import (
    RULES,
    Reads,
    Rule,
    UnknownRuleError,
    fields_read,
    get_rule,
    record_rule,
    register_rule,
    rule,
    rules,
)
from clen_core.rules.report import Finding, Report, Severity

__all__ = [
    "ROW_COLUMN",
    "RULES",
    "Context",
    "Finding",
    "Reads",
    "Report",
    "Rule",
    "Severity",
    "UnknownRuleError",
    "fields_read",
    "get_rule",
    "record_rule",
    "register_rule",
    "rule",
    "rules",
    "validate",
]
