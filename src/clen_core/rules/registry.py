"""The rule registry: stable IDs, severities, descriptions, and the checks behind them."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

import attrs

from clen_core.errors import UnknownRuleError
from clen_core.registry import Registry
from clen_core.rules.report import Severity

if TYPE_CHECKING:
    from clen_core.model.entity import EntityInfo
    from clen_core.rules.context import Context

__all__ = [
    "BUILTIN",
    "RULES",
    "Reads",
    "Rule",
    "UnknownRuleError",
    "fields_read",
    "get_rule",
    "record_rule",
    "register_rule",
    "rule",
    "rules",
]

_RULE_ID = re.compile(r"[A-Z][A-Z0-9]{1,7}-[0-9]{3}")

BUILTIN = "clen_core"
"""The :attr:`Rule.origin` of clen_core's own rules (and of rules registered directly,
outside any plugin)."""

RecordCheck = Callable[[Any], Iterable[tuple[str | None, Any, str]]]
"""A per-record check: yields ``(field, value, message)`` for each problem of one object."""

Reads: TypeAlias = (
    "tuple[str, ...] | Callable[[EntityInfo], Iterable[str]] | "
    "Mapping[str, tuple[str, ...] | None] | None"
)
"""What a rule reads of the tables of a validation (see :attr:`Rule.reads`): field names of
its entity's table, a function of the entity giving them (for a rule over any entity), a
mapping of entity name to field names (``None``: any field) when it reads other entities'
tables too, or ``None`` for "any field of any table"."""


@attrs.frozen
class Rule:
    """A validation rule: what a reviewer should look at, with a stable ID and a severity."""

    id: str
    """Stable identifier, e.g. ``ACT-001``: never reused for another meaning."""
    severity: Severity
    """Severity of its findings."""
    entity: str | None
    """Entity whose records it reports on; ``None`` for rules over any entity."""
    description: str
    """One line: what it looks for."""
    check: Callable[[Context], None] = attrs.field(repr=False, eq=False)
    """Runs over the tables of a validation and reports through the context."""
    origin: str = BUILTIN
    """Who registered it: the name of the plugin (its entry point) whose
    ``clen_register_rules`` hook did, set by the plugin manager; :data:`BUILTIN` otherwise."""
    reads: Reads = attrs.field(default=None, kw_only=True, repr=False, eq=False)
    """The fields of the tables it reads (what ``clen validate`` keeps of each row for the
    rules, the key always included):

    - names (``("start", "end")``): those of its entity's table (of each entity's, for a
      rule over any entity), and nothing of another entity's table;
    - a function of the :class:`~clen_core.model.entity.EntityInfo` giving them, for a
      rule over any entity (its key, its references), likewise;
    - a mapping of entity name to names, for a rule that also reads other entities'
      tables (``ctx.lookup``, ``ctx.table``): ``{"analysis_result": ("sample_id",),
      "sample": ("declared_cn",)}``; ``None`` for an entity: any field of it; an entity
      not in the mapping: none (its key is kept all the same);
    - ``None`` (the default): any field of any table."""
    rowwise: bool = attrs.field(default=False, kw_only=True, eq=False)
    """Whether it judges each row of its entity on that row alone (and the other entities'
    tables), reporting in row order: its findings on a table are then its findings on the
    consecutive parts of it, one part after the other. Such a rule may run batch by batch
    while a file is still being read (:class:`~clen_core.rules.engine.Validation`)."""

    @property
    def plugin(self) -> str | None:
        """The plugin that registered it (what ``clen rules`` shows); ``None`` for a
        built-in rule."""
        return None if self.origin == BUILTIN else self.origin

    def fields_read(self, info: EntityInfo) -> frozenset[str] | None:
        """The fields of ``info``'s table this rule reads, whichever entity it is over
        (``None``: any of them; empty: none, or only the key, which is always kept)."""
        reads = self.reads
        if reads is None:
            return None
        if isinstance(reads, Mapping):
            names = reads.get(info.name, ())
            return None if names is None else frozenset(names)
        if self.entity is not None and info.name != self.entity:
            return frozenset()  # names or a function: its own entity's table only
        return frozenset(reads(info) if callable(reads) else reads)

    def __attrs_post_init__(self) -> None:
        if not _RULE_ID.fullmatch(self.id):
            raise ValueError(f"rule ID {self.id!r} must look like ABC-001")
        if not self.description or "\n" in self.description:
            raise ValueError(f"rule {self.id} needs a one-line description")
        reads = self.reads
        declared = reads.values() if isinstance(reads, Mapping) else [reads]
        if any(isinstance(names, str) for names in declared):
            # ("cn_found") is the string, not a tuple: its letters would be the fields.
            raise ValueError(f"rule {self.id}: reads names fields as a tuple of names, not a str")


RULE_REGISTRY: Registry[Rule] = Registry(
    "rule",
    unknown=UnknownRuleError,
    same=lambda a, b: a.check is b.check,
    owner=lambda r: r.origin,
)
"""The registered rules by ID: the built-in ones and plugins'."""
RULES = RULE_REGISTRY.view
"""Read-only view of the registered rules by ID."""


def register_rule(r: Rule) -> Rule:
    """Add a rule to the registry; an ID already taken by another rule is an error."""
    return RULE_REGISTRY.add(r.id, r)


def rules(entity: str | None = None) -> tuple[Rule, ...]:
    """Registered rules (plugins' too) sorted by ID; with ``entity``, those that report on it."""
    out = sorted(RULE_REGISTRY.values(), key=lambda r: r.id)
    if entity is not None:
        out = [r for r in out if r.entity in (None, entity)]
    return tuple(out)


def fields_read(entity: str | type | EntityInfo) -> frozenset[str] | None:
    """The fields of ``entity`` that the registered rules read, its key included: those
    the rules over it read and those rules over other entities read of it (a look-up of
    its records), so what a validation must keep of its rows, alone or with other
    entities (``None``: every field, because some rule that does not say may read any)."""
    from clen_core.model.entity import EntityInfo, get_entity

    info = entity if isinstance(entity, EntityInfo) else get_entity(entity)
    names = set(info.key)
    for r in rules():
        read = r.fields_read(info)
        if read is None:
            return None
        names |= read
    return frozenset(names)


def get_rule(rule_id: str) -> Rule:
    """The rule with that ID."""
    return RULE_REGISTRY.get(rule_id)


def rule(
    id: str,
    severity: Severity | str,
    entity: str | None,
    description: str,
    *,
    reads: Reads = None,
    rowwise: bool = False,
    register: bool = True,
) -> Callable[[Callable[[Context], None]], Rule]:
    """Make a table rule from a function of the validation :class:`~clen_core.rules.Context`.

    ``reads`` names the fields of the entity's table it reads, or per entity the fields of
    each table it reads (see :attr:`Rule.reads`): declared, ``clen validate`` keeps only
    those of each row, not the whole file.
    ``rowwise``: it judges each row on its own (see :attr:`Rule.rowwise`).
    Registers it, unless ``register=False`` (a plugin registers through its hook).
    """

    def wrap(fn: Callable[[Context], None]) -> Rule:
        r = Rule(id, Severity(severity), entity, description, fn, reads=reads, rowwise=rowwise)
        return register_rule(r) if register else r

    return wrap


def record_rule(
    id: str,
    severity: Severity | str,
    entity: str,
    description: str,
    *,
    origin: str = BUILTIN,
    register: bool = True,
) -> Callable[[RecordCheck], Rule]:
    """Make a per-record rule: a function of one object yielding ``(field, value, message)``.

    Convenient for plugin authors; it materialises objects, so a table rule is
    faster on large data. Registers it unless ``register=False``.
    """

    def wrap(fn: RecordCheck) -> Rule:
        def check(ctx: Context) -> None:
            for index, obj in enumerate(ctx.objects(entity)):
                for field, value, message in fn(obj) or ():
                    ctx.flag_one(entity, index, field, value, message)

        # One object at a time, in order: rowwise by construction. Whole objects of its
        # entity, and nothing of another's.
        r = Rule(id, Severity(severity), entity, description, check, origin,
                 reads={entity: None}, rowwise=True)  # fmt: skip
        return register_rule(r) if register else r

    return wrap
