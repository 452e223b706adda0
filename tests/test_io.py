"""clen_core.io independent of any real format: atomic files, rejects, counts, policies.

A tiny in-test format ("lines": one JSON object per line) stands in for the real ones.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import clen_core
from clen_core import Format, FormatError, RejectedRowsError, hookimpl
from clen_core.io import atomic_file
from clen_core.io.readwrite import _gathered
from clen_core.io.records import RawBatch, RawRecord, Reject, RowProblem, json_rows
from clen_core.model import EntityInfo
from clen_core.plugins import register_plugin, unregister_plugin


def _read(source: IO[bytes], info: EntityInfo, path: str) -> Iterator[RawRecord | RowProblem]:
    for row, line in enumerate(source.read().decode().splitlines(), 1):
        if line.startswith("!"):
            yield RowProblem(row, "unreadable line", line)
        else:
            yield RawRecord(row, json.loads(line))


def _write(sink: IO[bytes], info: EntityInfo, batches: Iterable[pa.RecordBatch]) -> None:
    for batch in batches:
        for record in json_rows(batch, info):
            sink.write(json.dumps(record).encode() + b"\n")


class Lines:
    @hookimpl
    def clen_register_formats(self, register: Any) -> None:
        register(
            Format(
                name="lines", extensions=(".lines",), description="test", read=_read, write=_write
            )
        )


@pytest.fixture(autouse=True)
def lines_format() -> Iterator[None]:
    register_plugin(Lines(), "lines-plugin")
    yield
    unregister_plugin("lines-plugin")


def action(n: int, name: str = "ILIADe") -> clen_core.Action:
    return clen_core.Action(number=n, name=name, coordinator="Italy")


GOOD = '{"number": 1, "name": "ILIADe", "coordinator": "Italy"}'
BAD_NUMBER = '{"number": 9, "name": "X", "coordinator": "Y"}'
TWO_BAD = '{"number": 0, "name": "", "coordinator": "Y"}'
UNKNOWN = '{"number": 2, "name": "X", "coordinator": "Y", "colour": "red"}'


def _file(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "a.lines"
    path.write_text("\n".join(lines) + "\n")
    return path


# --------------------------------------------------------------------------- atomic files


def test_atomic_file_replaces_the_target_only_when_complete(tmp_path: Path) -> None:
    target = tmp_path / "t.bin"
    target.write_bytes(b"old")

    def interrupted() -> None:
        with atomic_file(target) as f:
            f.write(b"new, half")
            raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        interrupted()
    assert target.read_bytes() == b"old"
    assert list(tmp_path.iterdir()) == [target]
    with atomic_file(target) as f:
        f.write(b"new")
    assert target.read_bytes() == b"new"
    assert list(tmp_path.iterdir()) == [target]


def test_atomic_file_gets_ordinary_permissions(tmp_path: Path) -> None:
    mask = os.umask(0o022)
    try:
        with atomic_file(tmp_path / "p.bin") as f:
            f.write(b"x")
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "p.bin").stat().st_mode) == 0o644


def test_write_failing_half_way_leaves_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "a.lines"
    clen_core.write([action(1)], target)
    before = target.read_bytes()

    def objects() -> Iterator[clen_core.Action]:
        yield action(2)
        raise RuntimeError("source failed")

    with pytest.raises(RuntimeError, match="source failed"):
        clen_core.write(objects(), target, batch_rows=1)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["a.lines"]


# --------------------------------------------------------------------------- writing


def test_write_infers_the_entity_and_counts(tmp_path: Path) -> None:
    result = clen_core.write((action(n) for n in range(1, 7)), tmp_path / "a.lines", batch_rows=4)
    assert result.rows == {"action": 6}
    assert result.paths == (tmp_path / "a.lines",)
    assert [a.number for a in clen_core.read(tmp_path / "a.lines", entity="action")] == list(
        range(1, 7)
    )


def test_writing_nothing_needs_the_entity(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="entity="):
        clen_core.write([], tmp_path / "a.lines")
    assert clen_core.write([], tmp_path / "a.lines", entity="action").rows == {"action": 0}
    assert list(clen_core.read(tmp_path / "a.lines", entity="action")) == []


def test_writing_mixed_entities_is_refused(tmp_path: Path) -> None:
    lab = clen_core.Laboratory(lab_id="L", name="Lab", country="AT")
    with pytest.raises(TypeError, match="not a Action"):
        clen_core.write([action(1), lab], tmp_path / "a.lines")
    assert not (tmp_path / "a.lines").exists()


# --------------------------------------------------------------------------- reading


def test_read_collects_rejects_with_file_row_field_and_keeps_good_rows(tmp_path: Path) -> None:
    path = _file(tmp_path, GOOD, BAD_NUMBER, "!garbage", TWO_BAD, UNKNOWN, GOOD)
    reader = clen_core.read(path, entity="action", on_reject="collect")
    assert [a.number for a in reader] == [1, 1]
    assert (reader.read_rows, reader.accepted, reader.rejected) == (6, 2, 4)
    assert reader.read_rows == reader.accepted + reader.rejected
    assert [(r.row, r.field) for r in reader.rejects] == [
        (2, "number"),
        (3, None),
        (4, "number"),
        (4, "name"),
        (5, "colour"),
    ]
    assert all(r.file == str(path) for r in reader.rejects)
    assert "≤ 6" in reader.rejects[0].reason
    assert str(reader.rejects[0]).startswith(f"{path}, row 2, field number: must be ≤ 6")


def test_default_raises_after_yielding_every_good_row(tmp_path: Path) -> None:
    path = _file(tmp_path, GOOD, BAD_NUMBER, GOOD)
    got: list[clen_core.Action] = []
    with pytest.raises(RejectedRowsError) as info:
        got.extend(clen_core.read(path, entity="action"))
    assert len(got) == 2
    assert (info.value.read, info.value.rejected) == (3, 1)
    assert "row 2, field number" in str(info.value)


def test_fail_stops_at_the_first_bad_row(tmp_path: Path) -> None:
    path = _file(tmp_path, GOOD, BAD_NUMBER, GOOD)
    reader = clen_core.read(path, entity="action", on_reject="fail")
    assert next(reader).number == 1
    with pytest.raises(RejectedRowsError, match="row 2"):
        next(reader)


def test_a_callback_sees_every_reject(tmp_path: Path) -> None:
    seen: list[Reject] = []
    path = _file(tmp_path, TWO_BAD, GOOD)
    assert len(list(clen_core.read(path, entity="action", on_reject=seen.append))) == 1
    assert [r.field for r in seen] == ["number", "name"]


def test_rejects_file_has_every_rejected_row_with_its_errors(tmp_path: Path) -> None:
    path = _file(tmp_path, GOOD, TWO_BAD, "!x", GOOD)
    out = tmp_path / "rejects.jsonl"
    reader = clen_core.read(path, entity="action", on_reject="collect", rejects=out, max_rejects=1)
    assert len(list(reader)) == 2
    assert len(reader.rejects) == 1  # kept in memory: capped
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["row"] for x in lines] == [2, 3]  # the file has them all
    assert [e["field"] for e in lines[0]["errors"]] == ["number", "name"]
    assert lines[0]["record"] == json.loads(TWO_BAD)
    assert lines[1]["record"] == "!x"


def test_missing_file_is_a_format_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"nope\.lines: no such file"):
        clen_core.read(tmp_path / "nope.lines", entity="action")


# --------------------------------------------------------------------------- datasets


def test_dataset_folder_round_trip_and_unknown_files(tmp_path: Path) -> None:
    ds = clen_core.Dataset(
        [action(1), action(2), clen_core.Laboratory(lab_id="L", name="Lab", country="EL")]
    )
    result = clen_core.write(ds, tmp_path / "ds", format="lines")
    assert {p.name for p in result.paths} == {"action.lines", "laboratory.lines"}
    assert clen_core.read_dataset(tmp_path / "ds") == ds
    (tmp_path / "ds" / "notes.lines").write_text("")
    with pytest.raises(FormatError, match="not an entity file"):
        clen_core.read_dataset(tmp_path / "ds")


def test_dataset_duplicate_keys_become_rejects(tmp_path: Path) -> None:
    folder = tmp_path / "ds"
    folder.mkdir()
    (folder / "action.lines").write_text(f"{GOOD}\n{GOOD}\n{BAD_NUMBER}\n")
    with pytest.raises(RejectedRowsError) as info:
        clen_core.read_dataset(folder)
    err = info.value
    assert (err.read, err.rejected) == (3, 2)
    assert [(r.row, r.field) for r in err.rejects] == [(2, "number"), (3, "number")]
    assert err.dataset is not None
    assert len(err.dataset["action"]) == 1


def test_decoder_reports_every_bad_field_of_a_record(tmp_path: Path) -> None:
    line = json.dumps(
        {
            "activity_id": "A",
            "action": "five",
            "kind": "workshop",
            "theme": "",
            "city": "Gent",
            "country": "BE",
            "start": "2016-13-01",
            "end": "2016-03-01",
        }
    )
    path = _file(tmp_path, line)
    reader = clen_core.read(path, entity="activity", on_reject="collect")
    assert list(reader) == []
    # Every bad field at once; the good date "end" is not blamed.
    assert {r.field for r in reader.rejects} == {"action", "theme", "start"}


def test_json_rows_turn_nested_maps_into_objects_at_every_depth() -> None:
    from clen_core.model import entity, field
    from clen_core.model.entity import ENTITY_REGISTRY

    @entity("tst_nested", key="thing_id")
    class Nested:
        """A thing with nested mappings."""

        thing_id: str = field("Id.")
        deep: Mapping[str, Mapping[str, int]] = field("Map of maps.", factory=dict)
        rows: tuple[Mapping[str, int], ...] = field("List of maps.", default=())

    try:
        obj = Nested(thing_id="x", deep={"a": {"b": 1}}, rows=({"c": 2},))
        info = clen_core.get_entity("tst_nested")
        assert json_rows(clen_core.to_arrow([obj]), info) == [clen_core.to_json(obj)]
    finally:
        ENTITY_REGISTRY.remove("tst_nested")


def test_a_row_with_a_bad_field_still_reports_broken_constraints_and_no_default_fields(
    tmp_path: Path,
) -> None:
    line = json.dumps(
        {"result_id": "R", "sample_id": "S", "method_id": "M", "analyte": "x", "value": "high",
         "unit": "g", "limit": 2.0}
    )  # fmt: skip
    reader = clen_core.read(_file(tmp_path, line), entity="analysis_result", on_reject="collect")
    assert list(reader) == []
    # value does not parse; limit_type must come with limit; coverage_factor defaults.
    assert {(r.field) for r in reader.rejects} == {"value", "limit_type"}


# --- gathering read batches before the check ------------------------------------------------


class _Stop(Exception):
    pass


@st.composite
def raw_batches(draw: st.DrawFn) -> list[RawBatch]:
    """Raw batches of 0-7 rows, numbered on, some with problems, some with other columns."""
    out, row = [], 1
    for _ in range(draw(st.integers(0, 8))):
        n = draw(st.integers(0, 7))
        names = draw(st.sampled_from([("a",), ("a",), ("a", "b")]))
        batch = pa.RecordBatch.from_arrays(
            [pa.array([f"{name}{row + i}" for i in range(n)], pa.string()) for name in names],
            names=list(names),
        )
        problems = tuple(
            RowProblem(row + n + k, "bad", "x") for k in range(draw(st.integers(0, 2)))
        )
        out.append(RawBatch(batch, pa.array(range(row, row + n), pa.int64()), problems))
        row += n + len(problems)
    return out


def _flat(raws: Iterable[RawBatch]) -> tuple[list[Any], list[Any], list[Any]]:
    rows, cells, problems = [], [], []
    for raw in raws:
        rows += raw.rows.to_pylist()
        cells += [tuple(c) for c in zip(*raw.batch.to_pydict().values(), strict=True)]
        problems += raw.problems
    return rows, cells, problems


@settings(max_examples=300, deadline=None)
@given(raw_batches(), st.integers(1, 12), st.booleans())
def test_gathered_batches_keep_every_row_and_problem_in_order(
    raws: list[RawBatch], size: int, fails: bool
) -> None:
    def source() -> Iterator[RawBatch]:
        yield from raws
        if fails:
            raise _Stop

    got: list[RawBatch] = []
    if fails:
        with pytest.raises(_Stop):
            got.extend(_gathered(source(), size))
    else:
        got.extend(_gathered(source(), size))
    assert _flat(got) == _flat(raws)  # what was read before an error comes out first
    for i, raw in enumerate(got):
        assert raw.batch.num_rows == len(raw.rows)
        # A batch ends short of the size only at the end or where the columns change.
        if i + 1 < len(got) and raw.batch.num_rows < size:
            assert got[i + 1].batch.schema != raw.batch.schema


@pytest.mark.parametrize("engine", ["object", "columnar"])
def test_batches_carry_each_rows_own_number_around_rejects(tmp_path: Path, engine: str) -> None:
    # JSON Lines has no columnar reader: its batches are built from objects, and a reject
    # before a good row must not shift that row's number (findings name it).
    acts = [
        clen_core.Activity(activity_id=f"A-{i}", action=1, kind="workshop", theme="T",
                           city="Lyon", country="FR", start=dt.date(2020, 1, 1),
                           end=dt.date(2020, 1, 2))
        for i in range(1, 7)
    ]  # fmt: skip
    path = tmp_path / "a.jsonl"
    clen_core.write(acts, path)
    lines = path.read_text().splitlines()
    for line in (2, 5):  # file lines 3 and 6: the header is line 1
        lines[line] = json.dumps({**json.loads(lines[line]), "action": 99})
    path.write_text("\n".join(lines) + "\n")
    csv_path = tmp_path / "a.csv"
    clen_core.write(acts, csv_path)
    for source in (path, csv_path) if engine == "columnar" else (path,):
        reader = clen_core.read(source, entity="activity", on_reject="collect")
        got = [
            (key, row)
            for batch, rows in reader.batches()
            for key, row in zip(
                batch.column("activity_id").to_pylist(), rows.to_pylist(), strict=True
            )
        ]
        expected = {path: [("A-1", 2), ("A-3", 4), ("A-4", 5), ("A-6", 7)],
                    csv_path: [(f"A-{i}", i + 1) for i in range(1, 7)]}[source]  # fmt: skip
        assert got == expected
        if source == path:
            assert sorted(r.row for r in reader.rejects) == [3, 6]
