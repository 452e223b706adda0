"""Findings and the validation report."""

from __future__ import annotations

import enum
import itertools
import json
import math
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol

import attrs
import pyarrow as pa

from clen_core import limits
from clen_core.model import _html

__all__ = ["FINDINGS_SCHEMA", "READ_RULE", "Finding", "Rejected", "Report", "Severity"]

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
    if isinstance(value, float) and not math.isfinite(value):  # JSON has no NaN: as text
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def _value_text(value: Any) -> str | None:
    # One column holds the values of every field (a code, a count, a list): text as it is,
    # numbers, booleans, lists and mappings as JSON, dates in ISO form, decimals as written.
    if isinstance(value, enum.Enum):
        return str(value.value)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool | int | float | list | tuple | dict):
        return json.dumps(_jsonable(value), ensure_ascii=False)
    return str(value)


FINDINGS_SCHEMA = pa.schema(
    [
        pa.field("rule", pa.string(), nullable=False),
        pa.field("severity", pa.string(), nullable=False),
        pa.field("entity", pa.string(), nullable=False),
        pa.field("key", pa.string()),
        pa.field("row", pa.int64()),
        pa.field("field", pa.string()),
        pa.field("value", pa.string()),
        pa.field("message", pa.string(), nullable=False),
        pa.field("file", pa.string()),
    ]
)
"""The columns of :meth:`Report.to_arrow`: one row per finding kept. ``value`` is text,
since one column holds the values of every field: text as it is; numbers, booleans,
lists and mappings as JSON; dates in ISO form; decimals as written."""


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
# Who gives way when a full report takes a more severe finding: info first, then warnings.
_LEAST_SEVERE_FIRST = (Severity.INFO, Severity.WARNING)


def _buckets() -> dict[Severity, list[Finding]]:
    return {s: [] for s in Severity}


def _severity(finding: Finding) -> Severity:
    if finding.severity.__class__ is Severity:
        return finding.severity
    try:
        return Severity(finding.severity)
    except ValueError:
        raise ValueError(
            f"finding {finding.rule} has severity {finding.severity!r}: "
            "expected one of error, warning, info"
        ) from None


@attrs.define
class Report:
    """The findings of a validation: the most severe kept up to ``max_findings``, all counted.

    A full report that is given a finding more severe than one it keeps drops the least
    severe finding it keeps (the latest of them), so that whatever order the findings come
    in, it keeps the errors first, then the warnings, then the info, each in the order
    found, up to the cap. The counts by rule and by severity take every finding, kept or not.
    """

    max_findings: int = attrs.field(factory=lambda: limits.current().max_findings)
    """How many findings are kept in memory; counts go on past it (default:
    ``clen_core.limits.current().max_findings``, 1000)."""
    by_rule: Counter[str] = attrs.field(factory=Counter)
    """Number of findings per rule ID (all of them, kept or not)."""
    by_severity: Counter[Severity] = attrs.field(factory=Counter)
    """Number of findings per severity (all of them, kept or not)."""
    records: dict[str, int] = attrs.field(factory=dict)
    """Number of records validated per entity."""
    rejected: dict[str, int] = attrs.field(factory=dict)
    """Rows rejected per entity while reading (not in ``records``; see rule ``READ-001``)."""
    # One list per severity, in the order found: a displaced finding is the last of the
    # least severe list, and nothing is ever sorted.
    _kept: dict[Severity, list[Finding]] = attrs.field(factory=_buckets, init=False, repr=False)

    @property
    def findings(self) -> list[Finding]:
        """The findings kept, worst first: the errors in the order found, then the
        warnings, then the info (a new list). Assigning a list replaces the findings kept
        (the most severe up to the cap, as :meth:`add` keeps them), not the counts."""
        return [f for s in Severity for f in self._kept[s]]

    @findings.setter
    def findings(self, findings: Iterable[Finding]) -> None:
        kept = _buckets()
        for f in findings:
            kept[_severity(f)].append(f)
        excess = sum(map(len, kept.values())) - self.max_findings
        for s in (*_LEAST_SEVERE_FIRST, Severity.ERROR):
            if excess <= 0:
                break
            cut = min(excess, len(kept[s]))
            del kept[s][len(kept[s]) - cut :]
            excess -= cut
        self._kept = kept

    def add_rejected_rows(self, entity: str, rejects: Sequence[Rejected], rows: int) -> None:
        """Report rows that were rejected when read: one ``READ-001`` error per row.

        ``rejects`` are the rejects kept (one per bad field, grouped here by row);
        ``rows`` is how many rows were rejected in all, kept or not. Being errors, they
        take the place of warnings and info kept in a full report.
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
        """Count a finding, and keep it if it is among the most severe ``max_findings``
        so far: under the cap it is kept; at the cap it takes the place of the latest
        of the least severe findings kept, if they are less severe than it."""
        severity = _severity(finding)
        self.count(finding.rule, severity, 1)
        kept = self._kept
        if self.kept < self.max_findings:
            kept[severity].append(finding)
            return
        rank = _ORDER[severity]
        for lower in _LEAST_SEVERE_FIRST:
            if _ORDER[lower] <= rank:
                return
            if kept[lower]:
                kept[lower].pop()
                kept[severity].append(finding)
                return

    def count(self, rule: str, severity: Severity, n: int) -> None:
        """Count ``n`` findings of a rule without keeping them (findings that would not
        be kept: :meth:`room_for` says how many of a severity would be)."""
        self.by_rule[rule] += n
        self.by_severity[severity] += n

    @property
    def kept(self) -> int:
        """Number of findings kept (at most ``max_findings``)."""
        return sum(map(len, self._kept.values()))

    @property
    def room(self) -> int:
        """How many more findings will be kept without taking the place of one kept."""
        return max(0, self.max_findings - self.kept)

    def room_for(self, severity: Severity | str) -> int:
        """How many more findings of ``severity`` will be kept: the room left, plus the
        less severe findings kept whose places they would take."""
        rank = _ORDER[Severity(severity)]
        held = sum(len(v) for s, v in self._kept.items() if _ORDER[s] <= rank)
        return max(0, self.max_findings - held)

    @property
    def total(self) -> int:
        """Number of findings, kept or not."""
        return sum(self.by_severity.values())

    @property
    def truncated(self) -> bool:
        """Whether some findings were counted but not kept."""
        return self.total > self.kept

    @property
    def ok(self) -> bool:
        """True when there is no error-severity finding."""
        return self.by_severity[Severity.ERROR] == 0

    def __iter__(self) -> Iterator[Finding]:
        return itertools.chain.from_iterable(self._kept[s] for s in Severity)

    def __len__(self) -> int:
        return self.total

    def filter(
        self, *, rule: str | None = None, severity: Severity | str | None = None
    ) -> list[Finding]:
        """The kept findings of one rule and/or severity (worst first, as kept)."""
        return [
            f
            for f in self
            if (rule is None or f.rule == rule) and (severity is None or f.severity == severity)
        ]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: counts first, then the findings kept (worst first)."""
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
        shown = list(itertools.islice(self, limit))
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

    def to_arrow(self) -> pa.Table:
        """The findings kept as an Arrow table in :data:`FINDINGS_SCHEMA`, worst first
        (each severity in the order found).

        Each value is text, whatever its field's type, so that one column holds them all.
        """
        found = self.findings
        columns = [
            [f.rule for f in found],
            [f.severity.value for f in found],
            [f.entity for f in found],
            [f.key for f in found],
            [f.row for f in found],
            [f.field for f in found],
            [_value_text(f.value) for f in found],
            [f.message for f in found],
            [f.file for f in found],
        ]
        arrays = [pa.array(c, f.type) for c, f in zip(columns, FINDINGS_SCHEMA, strict=True)]
        return pa.Table.from_arrays(arrays, schema=FINDINGS_SCHEMA)

    def to_polars(self) -> Any:
        """The findings kept as a Polars DataFrame (see :meth:`to_arrow`); needs Polars."""
        polars = _optional("polars", "Report.to_polars()", "Polars")
        return polars.from_arrow(self.to_arrow())

    def to_pandas(self) -> Any:
        """The findings kept as a pandas DataFrame of Arrow-backed columns (a row number
        stays a whole number where some are missing; see :meth:`to_arrow`); needs pandas."""
        pandas = _optional("pandas", "Report.to_pandas()", "pandas")
        return self.to_arrow().to_pandas(types_mapper=pandas.ArrowDtype)

    def __repr__(self) -> str:
        counts = ", ".join(f"{s.value}={self.by_severity[s]}" for s in Severity)
        kept = f", kept={self.kept}" if self.truncated else ""
        return f"Report(ok={self.ok}, total={self.total}, {counts}{kept}, records={self.records})"

    def _repr_html_(self) -> str:
        counts = ", ".join(f"{self.by_severity[s]:,} {s.value}" for s in Severity)
        verdict = "no error" if self.ok else "errors found"
        records = "; ".join(f"{name} {n:,}" for name, n in self.records.items()) or "none"
        rejected = "".join(
            f"; {n:,} {name} row(s) rejected when read" for name, n in self.rejected.items() if n
        )
        head = (
            f"<p><strong>Report: {verdict}</strong>: {self.total:,} finding(s) ({counts}).<br>"
            f"Records validated: {_html.cell(records, 10 * _html.CHARS)}"
            f"{_html.cell(rejected, 10 * _html.CHARS)}.</p>"
        )
        if not self.total:
            return f"<div>{head}</div>"
        rows = (
            (f.severity, f.rule, f.entity, f.key, f.row, f.field, _value_text(f.value),
             f.message, f.file)
            for f in itertools.islice(self, _html.ROWS)
        )  # fmt: skip
        head_row = ("severity", "rule", "entity", "key", "row", "field", "value", "message", "file")
        return f"<div>{head}{_html.table(head_row, rows, total=self.total, what='findings')}</div>"


def _optional(module: str, what: str, name: str) -> Any:
    """An optional library, or an ImportError that says what to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ModuleNotFoundError(
            f"{what} needs {name}, which clen_core does not install: pip install {module}",
            name=module,
        ) from None
