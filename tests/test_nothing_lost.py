"""Nothing lost: rows read = rows written + rows rejected, for every format (Hypothesis).

Random mixes of valid objects and invalid rows (typed values that break an invariant,
written by the format's own writer, plus rows no reader can parse) go through each
format; the rejects are exactly the invalid rows, each with its reason in the rejects
file, and the valid rows come out equal to the valid input, in order, both as objects
and through the streaming convert path (``Reader.batches`` into a Parquet writer).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import clen_core
from clen_core.io.formats import get_format
from clen_core.model import get_entity
from clen_core.testing import from_entity

INFO = get_entity("activity")
SCHEMA = clen_core.arrow_schema("activity")


def _break(row: dict[str, Any], how: str) -> dict[str, Any]:
    row = dict(row)
    if how == "count":
        row["participants"] = -1
    elif how == "country":
        row["country"] = "XX"
    elif how == "kind":
        row["kind"] = "party"
    elif how == "action":
        row["action"] = 9
    elif how == "id":
        row["activity_id"] = "A" * 65
    else:  # the end before the start
        row["start"], row["end"] = dt.date(2020, 1, 2), dt.date(2020, 1, 1)
    return row


BREAKS = ["count", "country", "kind", "action", "id", "order"]
ROWS = st.lists(
    st.one_of(
        from_entity("activity").map(lambda o: ("ok", o)),
        st.tuples(from_entity("activity"), st.sampled_from(BREAKS)).map(lambda t: ("bad", t)),
    ),
    max_size=12,
)
GARBAGE = {
    "csv": b'"only","three","cells"\n',
    "jsonl": b"this is not JSON\n",
    "json": b"42,\n",
}


def _file(tmp_path: Path, fmt: str, rows: list[tuple[str, Any]], garbage: int) -> Path:
    """The rows written by the format's writer, ``garbage`` unparseable rows first."""
    dicts = []
    for kind, value in rows:
        if kind == "ok":
            dicts.append(clen_core.to_arrow([value], "activity").to_pylist()[0])
        else:
            obj, how = value
            dicts.append(_break(clen_core.to_arrow([obj], "activity").to_pylist()[0], how))
    table = pa.Table.from_pylist(dicts, schema=SCHEMA)
    path = tmp_path / f"in.{fmt}"
    writer = get_format(fmt).write
    assert writer is not None
    with path.open("wb") as sink:
        writer(sink, INFO, table.to_batches())
    if garbage:
        data = path.read_bytes()
        junk = GARBAGE[fmt] * garbage
        if fmt == "json":  # items at the start of the records array
            at = data.index(b'"records": [') + len(b'"records": [')
            data = data[:at] + b"\n" + junk[:-2] + (b",\n" if rows else b"\n") + data[at:]
        else:  # lines right after the header line
            at = data.index(b"\n") + 1
            data = data[:at] + junk + data[at:]
        path.write_bytes(data)
    return path


FIRST_ROW = {"csv": 2, "jsonl": 2, "json": 1, "parquet": 1}


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=ROWS, garbage=st.integers(0, 3), fmt=st.sampled_from(["csv", "json", "jsonl", "parquet"])
)
def test_rows_read_equal_rows_written_plus_rows_rejected(
    rows: list[tuple[str, Any]], garbage: int, fmt: str, tmp_path_factory: Any
) -> None:
    tmp_path = tmp_path_factory.mktemp("lost")
    garbage = 0 if fmt == "parquet" else garbage
    path = _file(tmp_path, fmt, rows, garbage)
    first = FIRST_ROW[fmt]
    expected_bad = list(range(first, first + garbage)) + [
        first + garbage + i for i, (kind, _) in enumerate(rows) if kind == "bad"
    ]
    valid = [value for kind, value in rows if kind == "ok"]
    engines = ["columnar", "object"] if fmt in ("csv", "parquet") else ["columnar"]
    for engine in engines:
        rejects_file = tmp_path / f"rejects-{engine}.jsonl"
        reader = clen_core.read(
            path, entity="activity", on_reject="collect", rejects=rejects_file, engine=engine
        )
        got = list(reader)
        assert reader.read_rows == len(rows) + garbage
        assert reader.read_rows == len(got) + reader.rejected
        assert got == valid
        assert sorted({r.row for r in reader.rejects}) == expected_bad
        text = rejects_file.read_text("utf-8")
        lines = [json.loads(x) for x in text.splitlines()]  # JSON Lines any reader can split
        assert [x["row"] for x in lines] == expected_bad
        assert all(e["reason"] for x in lines for e in x["errors"])

    # The convert path: valid batches straight from the reader to a writer.
    out = tmp_path / "out.parquet"
    reader = clen_core.read(path, entity="activity", on_reject="collect")
    parquet = get_format("parquet").write
    assert parquet is not None
    with clen_core.io.atomic_file(out) as sink:
        parquet(sink, INFO, (batch for batch, _ in reader.batches()))
    assert list(clen_core.read(out, entity="activity")) == valid
    assert reader.read_rows == len(valid) + reader.rejected
