"""What a plugin author imports: the one module a clen_core plugin needs.

clen_core's own formats (``plugins/clen_core_csv``, ``clen_core_json``,
``clen_core_listing``, ``clen_core_parquet``) import only this module and the
public model and code systems (:mod:`clen_core.model`, :mod:`clen_core.codes`),
exactly as a third party's plugin would; nothing here is private, and nothing
a plugin needs is elsewhere. What is here, by what a plugin does:

**Declare hooks.** :data:`hookimpl` marks an implementation of a hook of
:mod:`clen_core.hookspecs` (``clen_register_formats``, ``clen_register_rules``,
``clen_register_entities``, ``clen_configure_converter``,
``clen_detect_format``); the plugin declares itself in the ``clen_core``
entry-point group.

**A format.** :class:`Format` (name, extensions, reader and writer
functions, of the types :data:`ReadFn`, :data:`WriteFn`,
:data:`ReadBatchesFn`, :data:`ReadDatasetFn`, :data:`WriteDatasetFn`). A
reader yields :class:`RawRecord` (a row's raw values, by field, with its
1-based row) or :class:`RowProblem` (a row that cannot be represented at
all); a columnar reader yields :class:`RawBatch` (an Arrow batch and its row
numbers). A reader may take keyword options (``read_options``, such as CSV's
``delimiter``), settled per file by ``sniff`` (:data:`SniffFn`) when not given.
``flavour`` (:data:`Flavour`) says how raw values are given:
``text``, ``json`` or ``python``. A file that cannot be read raises
:class:`FormatError` naming file, row and field. A writer receives Arrow
batches in :func:`arrow_schema` and the path of the file it writes (the
target, not the temporary file), to name in a :class:`FormatError` for data
the format cannot hold; :func:`conform` casts a batch to it,
:func:`python_values` turns a column into Python values,
:func:`json_rows`/:func:`json_ready`/:func:`json_value` into JSON-ready ones,
:func:`records_from_batches` raw batches into records, :func:`int_range` makes
row numbers; :data:`FIRST_DAY`/:data:`LAST_DAY` bound the dates Python holds.
:mod:`limits` gives the process's limits on what a hostile file may make a
reader do (``limits.current()``), read when a file starts. :func:`ahead`
runs a producer in a thread of its own, one item ahead (a parser beside its
consumer).

**A rule.** :func:`rule` (over Arrow tables, through a :class:`Context`) or
:func:`record_rule` (per object), each with a stable ID and a
:class:`Severity`; registered as :class:`Rule`\\ s.

**An entity.** :func:`entity` and :func:`field`, as the built-in entities are
declared; :func:`get_entity` gives an :class:`EntityInfo` (its
:class:`FieldInfo`\\ s and their shapes, :class:`ScalarShape`,
:class:`ListShape`, :class:`MapShape`).

**Tests.** :mod:`clen_core.testing` has Hypothesis strategies for every
entity and code system (imported on its own: Hypothesis is a test
dependency, ``pip install 'clen_core[testing]'``, not something a plugin
loads in production); ``docs/plugins.md`` has a plugin's test file to start
from.
"""

from __future__ import annotations

from clen_core import limits
from clen_core.errors import ClenError, CodeError, FormatError
from clen_core.hookspecs import HOOK_NAMES, hookimpl, hookspec
from clen_core.io.formats import (
    Format,
    ReadBatchesFn,
    ReadDatasetFn,
    ReadFn,
    SniffFn,
    WriteDatasetFn,
    WriteFn,
)
from clen_core.io.records import (
    Flavour,
    RawBatch,
    RawRecord,
    Reject,
    RowProblem,
    json_ready,
    json_rows,
    json_value,
    records_from_batches,
)
from clen_core.io.stages import ahead, behind
from clen_core.model.entity import EntityInfo, entity, get_entity
from clen_core.model.fields import FieldInfo, ListShape, MapShape, ScalarShape, Shape, field
from clen_core.rules.context import Context
from clen_core.rules.registry import Rule, record_rule, rule
from clen_core.rules.report import Severity
from clen_core.schema.arrow import (
    FIRST_DAY,
    LAST_DAY,
    arrow_schema,
    conform,
    int_range,
    python_values,
)

__all__ = [
    "FIRST_DAY",
    "HOOK_NAMES",
    "LAST_DAY",
    "ClenError",
    "CodeError",
    "Context",
    "EntityInfo",
    "FieldInfo",
    "Flavour",
    "Format",
    "FormatError",
    "ListShape",
    "MapShape",
    "RawBatch",
    "RawRecord",
    "ReadBatchesFn",
    "ReadDatasetFn",
    "ReadFn",
    "Reject",
    "RowProblem",
    "Rule",
    "ScalarShape",
    "Severity",
    "Shape",
    "SniffFn",
    "WriteDatasetFn",
    "WriteFn",
    "ahead",
    "arrow_schema",
    "behind",
    "conform",
    "entity",
    "field",
    "get_entity",
    "hookimpl",
    "hookspec",
    "int_range",
    "json_ready",
    "json_rows",
    "json_value",
    "limits",
    "python_values",
    "record_rule",
    "records_from_batches",
    "rule",
]
