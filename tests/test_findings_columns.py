"""Findings made as Arrow columns by the rules' context (for the engines' one pass) are
the findings made as objects, column for column, in the same order."""

from __future__ import annotations

import sys
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clen_core.rules.context import Context
from clen_core.rules.registry import rules
from clen_core.rules.report import Report
from clen_core.synth import generate_batches

ENTITIES = ["activity", "analysis_result", "substance", "laboratory", "sample", "method"]


class _Columns(Report):
    """A report that takes findings as columns, as the engines' batches do."""

    def __init__(self) -> None:
        super().__init__(max_findings=sys.maxsize)
        self.parts: list[pa.Table] = []

    def add_columns(self, found: pa.Table) -> None:
        self.parts.append(found)


def _run(tables: dict[str, pa.Table], report: Report) -> None:
    ctx = Context(tables, report)
    for r in rules():
        if all(ctx.has(e) for e in ([r.entity] if r.entity else ctx.entities)):
            ctx.rule = r
            r.check(ctx)


@pytest.mark.parametrize("entity", ENTITIES)
@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 300), seed=st.integers(0, 2**31), twice=st.integers(0, 20))
def test_findings_as_columns_are_the_findings_as_objects(
    entity: str, n: int, seed: int, twice: int
) -> None:
    # Generated rows (valid ones: the rules see only those), some written twice for DUP-001.
    table = pa.Table.from_batches(list(generate_batches(entity, n, seed=seed)))
    table = pa.concat_tables([table, table.slice(0, twice)])
    objects = Report(max_findings=sys.maxsize)
    columns = _Columns()
    _run({entity: table}, objects)
    _run({entity: table}, columns)
    want = objects.to_arrow()
    got: Any = pa.concat_tables(columns.parts) if columns.parts else want.schema.empty_table()
    # Objects are kept worst first; columns in the order found: compare as found per rule.
    key = [("rule", "ascending"), ("row", "ascending"), ("field", "ascending")]
    assert got.sort_by(key).equals(want.sort_by(key))
    assert objects.total == got.num_rows


_TYPED = st.one_of(
    st.tuples(st.just(pa.int64()), st.lists(st.none() | st.integers(-(2**63), 2**63 - 1))),
    st.tuples(st.just(pa.int32()), st.lists(st.none() | st.integers(-(2**31), 2**31 - 1))),
    st.tuples(st.just(pa.date32()), st.lists(st.none() | st.dates())),
    st.tuples(st.just(pa.bool_()), st.lists(st.none() | st.booleans())),
    st.tuples(st.just(pa.string()), st.lists(st.none() | st.text(max_size=4))),
    st.tuples(st.just(pa.float64()), st.lists(st.none() | st.floats())),
    st.tuples(st.just(pa.list_(pa.string())), st.lists(st.none() | st.lists(st.text(max_size=3)))),
    st.tuples(
        st.just(pa.map_(pa.string(), pa.bool_())),
        st.lists(st.none() | st.dictionaries(st.text(max_size=3), st.booleans(), max_size=2)),
    ),
)


@given(_TYPED, st.booleans())
def test_value_texts_are_each_values_text(
    typed: tuple[pa.DataType, list[Any]], encode: bool
) -> None:
    from clen_core.rules.context import _python_values, _value_texts
    from clen_core.rules.report import _value_text

    kind, values = typed
    column = pa.array([list(v.items()) if isinstance(v, dict) else v for v in values], kind)
    if encode and pa.types.is_string(kind):
        column = column.dictionary_encode()
    assert _value_texts(column).to_pylist() == [_value_text(v) for v in _python_values(column)]
