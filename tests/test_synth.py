"""Synthetic data (clen_core.synth): valid by default, exact error injection, deterministic,
streamed, and reachable through ``clen generate``."""

from __future__ import annotations

import datetime as dt
import enum
import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import clen_core
from clen_core.codes import cas, country, cus, hs
from clen_core.io import atomic_file
from clen_core.io.formats import get_format
from clen_core.model import Ordered, Together, entities, entity, field, get_entity
from clen_core.synth import KINDS, generate_batches, injected

ENTITY_NAMES = [e.name for e in entities()]
# Keys whose domain is smaller than the 300 rows asked for: they repeat, by design.
KEY_CAPACITY = {"action": 6, "member_state": 27}
ACTIVITY_KINDS = {"ge", "le", "enum", "code", "max_length", "empty", "ordered"}


def table_of(entity: Any, n: int, **kwargs: Any) -> pa.Table:
    info = entity if isinstance(entity, clen_core.EntityInfo) else get_entity(entity)
    schema = clen_core.arrow_schema(info)
    return pa.Table.from_batches(list(generate_batches(info, n, **kwargs)), schema=schema)


def write_file(path: Path, entity: Any, n: int, **kwargs: Any) -> None:
    """Write generated rows with the format of the file's extension, as ``clen generate`` does."""
    info = entity if isinstance(entity, clen_core.EntityInfo) else get_entity(entity)
    fmt = get_format(path.suffix.lstrip("."))
    assert fmt.write is not None
    with atomic_file(path) as sink:
        fmt.write(sink, info, generate_batches(info, n, **kwargs))


def clen(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the installed ``clen`` console script (or its entry point with this Python)."""
    script = Path(sys.executable).with_name("clen")
    command = (
        [str(script)]
        if script.exists()
        else [sys.executable, "-c", "from clen_core.cli import main; main()"]
    )
    return subprocess.run(
        [*command, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


# --------------------------------------------------------------------------- valid by default


@pytest.mark.parametrize("name", ENTITY_NAMES)
def test_every_entity_gives_valid_rows_in_its_schema(name: str) -> None:
    info = get_entity(name)
    schema = clen_core.arrow_schema(name)
    for seed in (0, 11):
        batches = list(generate_batches(name, 300, seed=seed, batch_rows=128))
        assert [b.num_rows for b in batches] == [128, 128, 44]
        for b in batches:
            assert b.schema.equals(schema, check_metadata=True)
        table = pa.Table.from_batches(batches)
        objects = clen_core.from_arrow(table, name)  # raises on any invalid row
        assert len(objects) == 300
        keys = [info.key_of(o) for o in objects]
        assert len(set(keys)) == min(300, KEY_CAPACITY.get(name, 300))


def test_zero_rows_give_no_batch() -> None:
    assert list(generate_batches("activity", 0)) == []
    assert injected("activity", 0, error_rate=0.5) == []


def test_activity_is_realistic() -> None:
    rows = table_of("activity", 5000, seed=3).to_pylist()
    countries_of_city: dict[str, set[str]] = {}
    for r in rows:
        countries_of_city.setdefault(r["city"], set()).add(r["country"])
        assert dt.date(2005, 1, 1) <= r["start"] <= r["end"] <= dt.date(2025, 12, 31)
        assert 1 <= (r["end"] - r["start"]).days + 1 <= 5
        assert r["participants"] is None or 5 <= r["participants"] <= 150
        assert r["activity_id"].startswith("A-3-")
        if r["project_group_id"] is not None:
            assert r["kind"] == "project_group_meeting"
    assert all(len(c) == 1 for c in countries_of_city.values())  # a city is in one country
    outside = {r["country"] for r in rows} - country.EU_MEMBER_STATES
    eu_share = sum(r["country"] in country.EU_MEMBER_STATES for r in rows) / len(rows)
    assert {"RS", "TR"} <= outside  # ACT-001 fires sometimes...
    assert eu_share > 0.8  # ...but most events are in the Member States
    themes = Counter(r["theme"] for r in rows)
    assert {"Precursor Chemicals", "Gemmology", "Honey Authenticity", "Tobacco"} <= set(themes)
    assert sum(r["participants"] is None for r in rows) > 0
    assert len({r["kind"] for r in rows}) == 7


def test_codes_are_real_and_check_digits_hold() -> None:
    substances = table_of("substance", 3000, seed=5).to_pylist()
    assert all(cus.check_digit_matches(s["cus"]) for s in substances)
    assert all(cas.is_valid(s["cas"]) for s in substances if s["cas"])
    assert all(hs.in_nomenclature(s["cn_code"]) for s in substances if s["cn_code"])
    samples = table_of("sample", 3000, seed=5).to_pylist()
    declared = [s["declared_cn"] for s in samples if s["declared_cn"]]
    assert declared
    assert all(len(c) == 8 and hs.in_nomenclature(c) for c in declared)


def test_references_resolve_among_the_targets_first_rows() -> None:
    seed = 4
    labs = {r["lab_id"] for r in table_of("laboratory", 80, seed=seed).to_pylist()}
    methods = {r["method_id"]: r for r in table_of("method", 200, seed=seed).to_pylist()}
    samples = table_of("sample", 1000, seed=seed).to_pylist()
    assert {s["lab_id"] for s in samples} <= labs
    for r in table_of("analysis_result", 3000, seed=seed).to_pylist():
        assert r["analyte"] == methods[r["method_id"]]["analyte"]  # RES-002 stays quiet
        assert r["sample_id"] in {s["sample_id"] for s in samples}
    objectives = {r["objective_id"] for r in table_of("objective", 40, seed=seed).to_pylist()}
    for item in table_of("action_plan_item", 500, seed=seed).to_pylist():
        assert set(item["objectives"]) <= objectives


def test_a_whole_generated_dataset_has_no_error_finding() -> None:
    seed = 2
    data = {
        name: clen_core.from_arrow(table_of(name, n, seed=seed), name)
        for name, n in [
            ("laboratory", 80),
            ("action", 6),
            ("project_group", 30),
            ("activity", 2000),
            ("method", 200),
            ("sample", 1000),
            ("analysis_result", 3000),
            ("pt_study", 50),
            ("pt_result", 1200),
            ("objective", 40),
            ("action_plan_item", 300),
        ]
    }
    report = clen_core.validate(data)
    errors = {k: v for k, v in report.by_rule.items() if k in ("REF-001", "DUP-001", "OBJ-001")}
    assert sum(errors.values()) == 0, errors


# --------------------------------------------------------------------------- determinism


def test_same_arguments_give_the_same_rows() -> None:
    for name in ("activity", "substance", "analysis_result", "attache_post"):
        a = table_of(name, 1000, seed=42, error_rate=0.05, batch_rows=256)
        b = table_of(name, 1000, seed=42, error_rate=0.05, batch_rows=256)
        assert a.equals(b)
        other = table_of(name, 1000, seed=43, error_rate=0.05, batch_rows=256)
        assert not a.equals(other)
        assert a.column(0).to_pylist() != other.column(0).to_pylist()


def test_valid_rows_do_not_depend_on_the_batch_size() -> None:
    a = table_of("activity", 3000, seed=8, batch_rows=1000)
    b = table_of("activity", 3000, seed=8)
    assert a.equals(b)


def test_another_seed_gives_other_rows() -> None:
    a = table_of("activity", 200, seed=1).to_pylist()
    b = table_of("activity", 200, seed=2).to_pylist()
    strip = [{k: v for k, v in r.items() if k != "activity_id"} for r in a]
    other = [{k: v for k, v in r.items() if k != "activity_id"} for r in b]
    assert sum(x == y for x, y in zip(strip, other, strict=True)) < 5


def test_arguments_are_checked_at_once() -> None:
    with pytest.raises(ValueError, match="n must be"):
        generate_batches("activity", -1)
    with pytest.raises(ValueError, match="error_rate"):
        generate_batches("activity", 10, error_rate=1.5)
    with pytest.raises(ValueError, match="batch_rows"):
        injected("activity", 10, batch_rows=0)
    with pytest.raises(clen_core.ClenError):
        generate_batches("no_such_entity", 10)


# --------------------------------------------------------------------------- error injection


def test_injected_errors_are_exactly_the_rejected_rows(tmp_path: Path) -> None:
    path = tmp_path / "activity.parquet"
    write_file(path, "activity", 20_000, seed=9, error_rate=0.01)
    truth = injected("activity", 20_000, seed=9, error_rate=0.01)
    assert len(truth) == 200
    reader = clen_core.read(path, entity="activity", on_reject="collect", max_rejects=10_000)
    accepted = sum(1 for _ in reader)
    assert reader.rejected == 200
    assert accepted == 20_000 - 200
    # Parquet rows are 1-based; each invalid row has exactly one bad field, the injected one.
    assert sorted((r.row, r.field) for r in reader.rejects) == [(i + 1, f) for i, f, _ in truth]
    assert {kind for *_, kind in truth} == ACTIVITY_KINDS
    assert {kind for *_, kind in truth} <= set(KINDS)


def test_each_batch_has_round_rows_times_rate_errors() -> None:
    truth = injected("activity", 2500, seed=1, error_rate=0.013, batch_rows=1000)
    per_batch = Counter(row // 1000 for row, _, _ in truth)
    assert per_batch == {0: round(1000 * 0.013), 1: round(1000 * 0.013), 2: round(500 * 0.013)}
    assert len({row for row, _, _ in truth}) == len(truth)  # one field per row


def test_error_rate_one_breaks_every_row() -> None:
    table = table_of("activity", 300, seed=6, error_rate=1.0, batch_rows=100)
    truth = injected("activity", 300, seed=6, error_rate=1.0, batch_rows=100)
    assert [row for row, _, _ in truth] == list(range(300))
    for i in (0, 150, 299):
        with pytest.raises(clen_core.InvalidObjectError) as info:
            clen_core.from_arrow(table.slice(i, 1), "activity")
        assert [e.field for e in info.value.errors] == [truth[i][1]]


@pytest.mark.parametrize("name", ENTITY_NAMES)
def test_injection_matches_the_reader_for_every_entity(name: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.parquet"
    write_file(path, name, 1000, seed=5, error_rate=0.05, batch_rows=300)
    truth = injected(name, 1000, seed=5, error_rate=0.05, batch_rows=300)
    reader = clen_core.read(path, entity=name, on_reject="collect", max_rejects=10_000)
    assert sum(1 for _ in reader) == 1000 - len(truth)
    assert sorted((r.row - 1, r.field) for r in reader.rejects) == [(i, f) for i, f, _ in truth]


def test_kinds_follow_the_declarations() -> None:
    def kinds(name: str) -> set[str]:
        return {k for *_, k in injected(name, 2000, seed=0, error_rate=0.1)}

    assert "together" in kinds("analysis_result")
    assert "gt" in kinds("analysis_result")
    assert {"pattern", "unique_items"} <= kinds("method")
    assert {"min_items", "code", "pattern"} <= kinds("substance")
    # replicate, value and U (ge), k (gt), category (max_length), censoring (enum)
    assert kinds("pt_result") == {"ge", "gt", "max_length", "enum"}


# A plugin-style entity (not registered: no side effect on other tests) with every shape.
class Grade(enum.StrEnum):
    LOW = "low"
    HIGH = "high"


@entity(
    "synth_probe",
    key="code",
    constraints=[Ordered("first_year", "last_year"), Together(("limit", "grade"))],
    register=False,
)
class Probe:
    """An entity declared only for these tests: every shape and constraint."""

    code: str = field("Key with a pattern.", pattern=r"^[A-Z]{2}-[0-9]+$", max_length=20)
    cas_rn: str = field("A CAS RN.", code="cas")
    country: str | None = field("A country.", code="country", default=None)
    amount: Decimal = field("Money.", ge=0, le=5000, precision=10, scale=2)
    ratio: float = field("A ratio.", gt=0, le=1)
    first_year: int = field("First year.", ge=1990, le=2030)
    last_year: int | None = field("Last year.", ge=1990, le=2030, default=None)
    limit: float | None = field("A limit.", default=None)
    grade: Grade | None = field("A grade.", default=None)
    grades: tuple[Grade, ...] = field("Grades.", default=(), unique_items=True)
    tags: tuple[str, ...] = field("Tags.", min_items=1, unique_items=True, max_length=30)
    labels: Mapping[str, tuple[str, ...]] = field("Labels.", key_code="language", factory=dict)
    day: dt.date = field("A day.")
    flag: bool = field("A flag.", default=False)
    note: str | None = field("Free text.", pattern=r"^[a-z ]+$", default=None)


def test_a_plugin_entity_gets_a_generic_generator(tmp_path: Path) -> None:
    info = get_entity(Probe)
    table = table_of(info, 500, seed=3, batch_rows=200)
    objects = clen_core.from_arrow(table, Probe)
    assert len({o.code for o in objects}) == 500
    assert any(o.limit is not None for o in objects)
    assert all((o.limit is None) == (o.grade is None) for o in objects)
    assert all(o.last_year is None or o.last_year >= o.first_year for o in objects)

    # JSON, not Parquet: the Parquet plugin cannot read a list of enums back (a pyarrow limit).
    path = tmp_path / "probe.json"
    write_file(path, info, 2000, seed=3, error_rate=0.1, batch_rows=700)
    truth = injected(info, 2000, seed=3, error_rate=0.1, batch_rows=700)
    reader = clen_core.read(path, entity=Probe, on_reject="collect", max_rejects=10_000)
    assert sum(1 for _ in reader) == 2000 - len(truth)
    assert sorted((r.row - 1, r.field) for r in reader.rejects) == [(i, f) for i, f, _ in truth]
    assert {k for *_, k in truth} == set(KINDS)  # this entity has every kind of invariant


# --------------------------------------------------------------------------- the CLI


def test_clen_generate_and_validate(tmp_path: Path) -> None:
    args = ["generate", "activity", "5000", "out.csv", "--seed", "7", "--error-rate", "0.01"]
    done = clen(*args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    first = (tmp_path / "out.csv").read_bytes()

    checked = clen("validate", "out.csv", "--entity", "activity", "--json", cwd=tmp_path)
    assert checked.returncode == 1, checked.stderr
    report = json.loads(checked.stdout)
    assert report["rejected"]["activity"] == 50
    truth = injected("activity", 5000, seed=7, error_rate=0.01)
    read_errors = [f for f in report["findings"] if f["rule"] == "READ-001"]
    # CSV: the header is row 1, so data row i (0-based) is row i + 2.
    assert sorted((f["row"], f["field"]) for f in read_errors) == [
        (i + 2, name) for i, name, _ in truth
    ]

    again = clen(*args, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "out.csv").read_bytes() == first

    clean = clen("generate", "activity", "5000", "ok.csv", "--seed", "7", "-q", cwd=tmp_path)
    assert clean.returncode == 0, clean.stderr
    valid = clen("validate", "ok.csv", "--entity", "activity", "--json", cwd=tmp_path)
    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert json.loads(valid.stdout)["counts"]["by_severity"]["error"] == 0


# --------------------------------------------------------------------------- streaming


def test_generation_streams_with_bounded_memory() -> None:
    peak_small = 0
    peak = 0
    rows = 0
    start = time.perf_counter()
    for batch in generate_batches("activity", 2_000_000, seed=1):
        rows += batch.num_rows
        peak = max(peak, pa.total_allocated_bytes())
        if rows <= 200_000:
            peak_small = peak
    elapsed = time.perf_counter() - start
    assert rows == 2_000_000
    assert peak < 2 * peak_small + (4 << 20), (peak_small, peak)
    print(f"activity: {rows / elapsed:,.0f} rows/s, peak Arrow memory {peak / 1e6:.1f} MB")
