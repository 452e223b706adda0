"""Findings and the validation report."""

from __future__ import annotations

import enum
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol

import attrs

from clen_core import limits

__all__ = ["READ_RULE", "Finding", "Rejected", "Report", "Severity"]

READ_RULE = "READ-001"
"""Rule ID of a row rejected when read (it does not fit its entity)."""


class Rejected(Protocol):
    """A field of a row rejected when read, as the report needs it (a
    :class:`~clen_core.Reject` is one; the rules floor does not import the files floor)."""

    @property
    def file(self) -> str:
        """The file."""

    @property
    def row(self) -> int:
        """1-based row in the file."""

    @property
    def field(self) -> str | None:
        """The field at fault, if one is."""

    @property
    def value(self) -> Any:
        """The value as read."""

    @property
    def reason(self) -> str:
        """What is wrong."""


class Severity(enum.StrEnum):
    """How serious a finding is: ``error`` fails a validation, the others inform a reviewer."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


@attrs.frozen
class Finding:
    """One thing a rule found in one record."""

    rule: str
    """Stable rule ID, e.g. ``ACT-001``."""
    severity: Severity
    """Error, warning or info."""
    entity: str
    """Entity of the record."""
    key: str | None
    """Key of the record, as text (composite keys joined with ``/``)."""
    row: int | None
    """1-based row of the record in its source."""
    field: str | None
    """Field the finding is about, when it is about one."""
    value: Any
    """The offending value."""
    message: str
    """What is wrong, in one sentence."""
    file: str | None = None
    """The file the record was read from, when the validation read files."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "file": self.file,
            "rule": self.rule,
            "severity": self.severity.value,
            "entity": self.entity,
            "key": self.key,
            "row": self.row,
            "field": self.field,
            "value": _jsonable(self.value),
            "message": self.message,
        }


_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@attrs.define
class Report:
    """The findings of a validation: kept up to ``max_findings``, counted past it."""

    max_findings: int = attrs.field(factory=lambda: limits.current().max_findings)
    """How many findings are kept in memory; counts go on past the cap (default:
    ``clen_core.limits.current().max_findings``, 1000)."""
    findings: list[Finding] = attrs.field(factory=list)
    """The findings kept, in the order found."""
    by_rule: Counter[str] = attrs.field(factory=Counter)
    """Number of findings per rule ID (all of them, kept or not)."""
    by_severity: Counter[Severity] = attrs.field(factory=Counter)
    """Number of findings per severity (all of them, kept or not)."""
    records: dict[str, int] = attrs.field(factory=dict)
    """Number of records validated per entity."""
    rejected: dict[str, int] = attrs.field(factory=dict)
    """Rows rejected per entity while reading (not in ``records``; see rule ``READ-001``)."""

    def add_rejected_rows(self, entity: str, rejects: Sequence[Rejected], rows: int) -> None:
        """Report rows that were rejected when read: one ``READ-001`` error per row.

        ``rejects`` are the rejects kept (one per bad field, grouped here by row);
        ``rows`` is how many rows were rejected in all, kept or not.
        """
        by_row: dict[tuple[str, int], list[Rejected]] = {}
        for r in rejects:
            by_row.setdefault((r.file, r.row), []).append(r)
        self.rejected[entity] = self.rejected.get(entity, 0) + rows
        for (_, row), problems in by_row.items():
            first = problems[0]
            message = "; ".join(f"{p.field}: {p.reason}" if p.field else p.reason for p in problems)
            self.add(Finding(READ_RULE, Severity.ERROR, entity, None, row, first.field,
                             first.value, f"row rejected: {message}", first.file))  # fmt: skip
        self.count(READ_RULE, Severity.ERROR, max(rows - len(by_row), 0))

    def add(self, finding: Finding) -> None:
        """Count a finding, and keep it while under the cap."""
        self.count(finding.rule, finding.severity, 1)
        if len(self.findings) < self.max_findings:
            self.findings.append(finding)

    def count(self, rule: str, severity: Severity, n: int) -> None:
        """Count ``n`` findings of a rule without keeping them."""
        self.by_rule[rule] += n
        self.by_severity[severity] += n

    @property
    def room(self) -> int:
        """How many more findings will be kept."""
        return max(0, self.max_findings - len(self.findings))

    @property
    def total(self) -> int:
        """Number of findings, kept or not."""
        return sum(self.by_severity.values())

    @property
    def truncated(self) -> bool:
        """Whether some findings were counted but not kept."""
        return self.total > len(self.findings)

    @property
    def ok(self) -> bool:
        """True when there is no error-severity finding."""
        return self.by_severity[Severity.ERROR] == 0

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings)

    def __len__(self) -> int:
        return self.total

    def filter(
        self, *, rule: str | None = None, severity: Severity | str | None = None
    ) -> list[Finding]:
        """The kept findings of one rule and/or severity."""
        return [
            f
            for f in self.findings
            if (rule is None or f.rule == rule) and (severity is None or f.severity == severity)
        ]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: counts first, then the findings kept."""
        return {
            "ok": self.ok,
            "records": dict(self.records),
            "rejected": dict(self.rejected),
            "counts": {
                "total": self.total,
                "by_severity": {s.value: self.by_severity[s] for s in Severity},
                "by_rule": dict(sorted(self.by_rule.items())),
            },
            "truncated": self.truncated,
            "findings": [f.to_dict() for f in self.findings],
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """The report as a JSON document."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def format_table(self, *, limit: int | None = 50) -> str:
        """A plain-text table of the findings (worst first), then the counts."""
        rows: Iterable[Finding] = sorted(self.findings, key=lambda f: _ORDER[f.severity])
        shown = list(rows)[:limit] if limit is not None else list(rows)
        head = ("rule", "severity", "entity", "key", "row", "field", "message")
        cells = [head] + [
            (
                f.rule,
                f.severity.value,
                f.entity,
                f.key or "",
                "" if f.row is None else str(f.row),
                f.field or "",
                f.message,
            )
            for f in shown
        ]
        widths = [max(len(r[i]) for r in cells) for i in range(len(head) - 1)]
        lines = [
            "  ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1]
            for r in cells
        ]
        sev = ", ".join(f"{self.by_severity[s]} {s.value}(s)" for s in Severity)
        lines.append(f"{self.total} finding(s): {sev}")
        if len(shown) < self.total:
            lines.append(f"({self.total - len(shown)} more not shown)")
        return "\n".join(lines)
