"""clen_core.convert and clen_core.validate_file: what `clen convert` and `clen validate` do,
called from Python. Every row read is written or rejected; the report is validate()'s."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import attrs
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import clen_core
from clen_core import Format, hookimpl
from clen_core.errors import ArgumentError, RejectedRowsError, UnknownEntityError
from clen_core.io.atomic import atomic_file
from clen_core.io.formats import format_for_path
from clen_core.model.entity import EntityInfo, get_entity
from clen_core.plugins import register_plugin, unregister_plugin
from clen_core.rules.report import READ_RULE
from clen_core.synth import generate_batches, injected

N, SEED, RATE = 3_000, 4, 0.02
BAD = int(N * RATE)


def _generate(path: Path, n: int = N, error_rate: float = RATE) -> Path:
    fmt = format_for_path(path)
    assert fmt.write is not None
    with atomic_file(path) as sink:
        batches = generate_batches("activity", n, seed=SEED, error_rate=error_rate)
        fmt.write(sink, get_entity("activity"), batches)
    return path


@pytest.fixture(scope="module")
def bad_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _generate(tmp_path_factory.mktemp("commands") / "a.csv")


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --------------------------------------------------------------------------- convert


@pytest.mark.parametrize("ext", ["parquet", "jsonl", "csv"])
def test_convert_counts_add_up_and_rejects_hold_the_rest(
    bad_csv: Path, tmp_path: Path, ext: str
) -> None:
    dst, rejects = tmp_path / f"out.{ext}", tmp_path / "rejects.jsonl"
    seen: list[int] = []
    done = clen_core.convert(bad_csv, dst, entity="activity", rejects=rejects, progress=seen.append)
    bad_rows = {i + 2 for i, _, _ in injected("activity", N, seed=SEED, error_rate=RATE)}
    assert (done.read, done.rejected) == (N, len(bad_rows))
    assert done.written + done.rejected == done.read
    assert (done.source, done.target, done.paths) == (bad_csv, dst, (dst,))
    assert (done.entity, done.source_format, done.target_format) == ("activity", "csv", ext)
    assert not done.dataset
    assert done.rejects_path == rejects
    # Every accepted row is in the output, every rejected one in the rejects file.
    assert len(list(clen_core.read(dst, entity="activity"))) == done.written
    lines = [json.loads(x) for x in rejects.read_text(encoding="utf-8").splitlines()]
    assert {x["row"] for x in lines} == bad_rows
    assert {r.row for r in done.rejects} == bad_rows
    # Progress: rows read so far, after each batch, up to every row.
    assert seen == sorted(seen)
    assert seen[-1] == N


def test_convert_strict_raises_and_leaves_no_target(bad_csv: Path, tmp_path: Path) -> None:
    dst, rejects = tmp_path / "out.parquet", tmp_path / "rejects.jsonl"
    with pytest.raises(RejectedRowsError) as caught:
        clen_core.convert(bad_csv, dst, entity="activity", strict=True, rejects=rejects)
    assert (caught.value.read, caught.value.rejected) == (N, BAD)
    assert caught.value.rejects
    assert _files(tmp_path) == ["rejects.jsonl"]  # no target, no temporary file
    # A previous target stays as it was; so does a dataset folder.
    dst.write_text("previous")
    with pytest.raises(RejectedRowsError):
        clen_core.convert(bad_csv, dst, entity="activity", strict=True)
    assert dst.read_text() == "previous"
    with pytest.raises(RejectedRowsError):
        clen_core.convert(bad_csv, tmp_path / "ds", entity="activity", strict=True,
                          partition_by="year")  # fmt: skip
    # (the dataset's lock file stays, for the next writer)
    assert _files(tmp_path) == [".ds.clen-lock", "out.parquet", "rejects.jsonl"]


def test_convert_strict_without_rejects_writes(tmp_path: Path) -> None:
    src = _generate(tmp_path / "good.jsonl", 500, 0.0)
    done = clen_core.convert(src, tmp_path / "good.parquet", entity="activity", strict=True)
    assert (done.read, done.written, done.rejected, done.rejects) == (500, 500, 0, ())
    assert pq.read_metadata(tmp_path / "good.parquet").num_rows == 500


def test_convert_to_a_partitioned_dataset_and_append(bad_csv: Path, tmp_path: Path) -> None:
    dst = tmp_path / "ds"
    done = clen_core.convert(bad_csv, dst, entity="activity", partition_by=["year", "country"],
                             max_rows_per_file=50)  # fmt: skip
    assert done.dataset
    assert done.target_format == "parquet"
    assert done.written + done.rejected == done.read == N
    dataset = clen_core.open_partitioned(dst)
    assert dataset.partition_by == ("year", "country")
    assert dataset.count_rows() == done.written
    assert set(done.paths) == set(dataset.files)
    assert max(pq.read_metadata(p).num_rows for p in done.paths) <= 50
    # Its own keys; the same rows again, so told to keep them.
    again = clen_core.convert(bad_csv, dst, entity="activity", append=True,
                              on_duplicate_key="keep")  # fmt: skip
    assert clen_core.open_partitioned(dst).count_rows() == 2 * done.written
    assert not set(again.paths) & set(done.paths)


def test_convert_refuses_bad_arguments_with_clen_errors(bad_csv: Path, tmp_path: Path) -> None:
    with pytest.raises(ArgumentError, match="partitioned dataset is Parquet"):
        clen_core.convert(bad_csv, tmp_path / "ds", entity="activity", partition_by="year",
                          to_format="csv")  # fmt: skip
    with pytest.raises(UnknownEntityError):
        clen_core.convert(bad_csv, tmp_path / "x.csv", entity="nope")
    with pytest.raises(clen_core.FormatError, match="no such file"):
        clen_core.convert(tmp_path / "missing.csv", tmp_path / "x.csv", entity="activity")
    with pytest.raises(clen_core.ClenError, match="cannot tell the format"):
        clen_core.convert(bad_csv, tmp_path / "x.xyz", entity="activity", rejects=tmp_path / "r")
    assert _files(tmp_path) == []


def test_a_refused_target_leaves_no_rejects_file(bad_csv: Path, tmp_path: Path) -> None:
    (tmp_path / "ds").mkdir()
    (tmp_path / "ds" / "other.txt").write_text("not ours")
    with pytest.raises(clen_core.FormatError, match="not empty"):
        clen_core.convert(bad_csv, tmp_path / "ds", entity="activity", partition_by="year",
                          rejects=tmp_path / "rejects.jsonl")  # fmt: skip
    assert [n for n in _files(tmp_path) if "rejects" in n] == []


def _first_batch_only(sink: IO[bytes], info: EntityInfo, batches: Iterable[pa.RecordBatch]) -> None:
    for batch in batches:
        sink.write(f"{batch.num_rows}\n".encode())
        return


class _Careless:
    @hookimpl
    def clen_register_formats(self, register: Any) -> None:
        register(Format(name="careless", extensions=(".careless",), description="test",
                        write=_first_batch_only))  # fmt: skip


def test_a_writer_that_stops_early_is_an_error_and_replaces_nothing(tmp_path: Path) -> None:
    src = _generate(tmp_path / "a.parquet", 200_000, 0.0)  # several batches
    dst = tmp_path / "out.careless"
    dst.write_text("previous")
    register_plugin(_Careless(), "careless-plugin")
    try:
        with pytest.raises(clen_core.FormatError, match="stopped before the last row"):
            clen_core.convert(src, dst, entity="activity")
    finally:
        unregister_plugin("careless-plugin")
    assert dst.read_text() == "previous"
    assert _files(tmp_path) == ["a.parquet", "out.careless"]


# --------------------------------------------------------------------------- validate_file


def _validate_as_objects(path: Path) -> clen_core.Report:
    """clen_core.validate on the rows of ``path`` that fit, each with its row in the file."""
    reader = clen_core.read(path, entity="activity", on_reject="collect")
    objects, rows = [], []
    for obj in reader:
        objects.append(obj)
        rows.append(reader.row)
    table = clen_core.to_arrow(objects, "activity")
    return clen_core.validate({"activity": table.append_column("_row", pa.array(rows, pa.int64()))})


@pytest.mark.parametrize("max_findings", [None, 7])
def test_validate_file_report_is_validate_of_the_same_rows(
    bad_csv: Path, tmp_path: Path, max_findings: int | None
) -> None:
    seen: list[int] = []
    done = clen_core.validate_file(
        bad_csv,
        entity="activity",
        max_findings=max_findings,
        report_path=tmp_path / "report.json",
        progress=seen.append,
    )
    assert (done.read, done.rejected) == (N, BAD)
    assert done.accepted + done.rejected == done.read
    assert (done.path, done.entity, done.format) == (bad_csv, "activity", "csv")
    assert not done.ok  # a rejected row is an error
    assert seen[-1] == N

    expected = _validate_as_objects(bad_csv)
    report = done.report
    assert report.records == expected.records == {"activity": done.accepted}
    assert report.rejected == {"activity": done.rejected}
    assert report.by_rule[READ_RULE] == done.rejected
    assert {k: n for k, n in report.by_rule.items() if k != READ_RULE and n} == {
        k: n for k, n in expected.by_rule.items() if n
    }
    kept = [f for f in report.findings if f.rule != READ_RULE]
    cap = report.max_findings
    # Each finding names the file validated; the object path's findings name none.
    assert {f.file for f in report.findings} == {str(bad_csv)}
    # Errors are kept first (the rejected rows' READ-001 among them), then the rest in order.
    reads = len(report.findings) - len(kept)
    assert reads == min(done.rejected, max(cap - expected.by_severity[clen_core.Severity.ERROR], 0))
    assert [attrs.evolve(f, file=None) for f in kept] == expected.findings[: len(kept)]
    assert len(report.findings) == min(cap, report.total)
    assert json.loads((tmp_path / "report.json").read_text(encoding="utf-8")) == report.to_dict()
    assert done.report_path == tmp_path / "report.json"
    assert len(done.rejects) <= cap
    assert {f.row for f in report.findings if f.rule == READ_RULE} <= {r.row for r in done.rejects}


def test_validate_file_of_good_rows_is_ok(tmp_path: Path) -> None:
    src = _generate(tmp_path / "good.parquet", 800, 0.0)
    done = clen_core.validate_file(src, entity="activity")
    assert (done.read, done.accepted, done.rejected, done.rejects) == (800, 800, 0, ())
    assert done.ok
    assert done.report_path is None
    assert done.report.by_rule == _validate_as_objects(src).by_rule


def test_validate_file_errors_are_clen_errors(tmp_path: Path) -> None:
    with pytest.raises(clen_core.FormatError, match="no such file"):
        clen_core.validate_file(tmp_path / "missing.csv", entity="activity")
    (tmp_path / "x.csv").write_text("activity_id\n")
    with pytest.raises(UnknownEntityError):
        clen_core.validate_file(tmp_path / "x.csv", entity="nope")


def test_the_commands_are_public() -> None:
    for name in ("convert", "validate_file", "ConvertResult", "FileValidation"):
        assert name in clen_core.__all__
        assert name in clen_core.io.__all__
        assert getattr(clen_core, name) is getattr(clen_core.io.commands, name)
