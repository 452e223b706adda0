"""benchmarks/peers.py: the peers get the entity's declared constraints, their findings and
clen's rejects are held to the injected rows, and the quick run writes a table per entity
and job (speed is not asserted: CI only proves the script works)."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clen_core.codes import get_code_system
from clen_core.model import ActivityKind
from clen_core.model.entity import get_entity

ROOT = Path(__file__).parents[1]
PEERS = ROOT / "benchmarks" / "peers.py"
MISSING = [n for n in ("dataframely", "pandera", "polars", "duckdb")
           if importlib.util.find_spec(n) is None]  # fmt: skip


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("clen_benchmarks_peers", PEERS)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


peers = _load()


# --------------------------------------------------------------------------- the contract


def test_the_contract_is_the_declaration() -> None:
    k = peers.contract("activity")
    assert [c.name for c in k.columns] == list(get_entity("activity").field_names)
    assert k.key == ("activity_id",)
    assert k.column("activity_id").in_key
    action = k.column("action").value
    assert (action.kind, action.ge, action.le) == ("int", 1, 6)
    assert k.column("participants").value.ge == 0
    assert k.column("participants").nullable
    assert not k.column("city").nullable
    assert k.column("city").value.min_length == 1
    assert k.column("city").value.max_length == 120
    assert k.column("kind").value.enum == tuple(m.value for m in ActivityKind)
    assert k.column("country").value.patterns == (get_code_system("country").pattern,)
    assert k.ordered == (("start", "end"),)
    assert k.gaps == ()
    assert "ACT-001" in k.rules
    assert "READ-001" not in k.rules  # the peers' field checks are READ-001
    assert "DUP-001" not in k.rules  # and their key check DUP-001


def test_lists_maps_and_codes_in_the_contract() -> None:
    lab = peers.contract("laboratory")
    expertise = lab.column("expertise")
    assert (expertise.container, expertise.unique_items, expertise.value.min_length) == (
        "list",
        True,
        1,
    )
    assert lab.column("kind").nullable  # a default: an empty cell takes it
    criteria = lab.column("participation_criteria")
    assert (criteria.container, criteria.value.kind, criteria.key.min_length) == ("map", "bool", 1)

    sub = peers.contract("substance")
    names = sub.column("names")
    assert names.container == "map"
    assert names.value_is_list
    assert names.min_items == 1  # the map, and each of its lists, as clen_core checks them
    assert names.key.patterns == (get_code_system("language").pattern,)
    assert {(g.field, g.kind) for g in sub.gaps} == {("cas", "code"), ("ec", "code")}

    result = peers.contract("analysis_result")
    assert result.together == (("limit", "limit_type"),)
    assert result.column("coverage_factor").value.gt == 0
    assert result.column("decision_rule").value.patterns == (
        get_entity("analysis_result").field("decision_rule").spec.pattern,
    )


def test_every_peer_program_is_python_that_compiles() -> None:
    for entity in peers.ENTITIES:
        programs = peers.peer_programs(peers.contract(entity))
        assert set(programs) == set(peers.PEER_LABELS)
        for name, source in programs.items():
            compile(source, f"{name}-{entity}.py", "exec")


def test_the_duckdb_query_names_every_constraint() -> None:
    query = peers.duckdb_query(peers.contract("activity"), "a.csv")
    assert 'PARTITION BY "activity_id"' in query  # duplicate keys
    assert '"action" >= 1' in query
    assert '"action" <= 6' in query
    assert 'length("city") <= 120' in query
    assert '("start" IS NULL OR "end" IS NULL OR "end" >= "start")' in query
    assert "'workshop'" in query


# --------------------------------------------------------------------------- the checks


def _data(tmp_path: Path, injected: dict[int, tuple[str, str]]) -> Any:
    data = peers.Data(
        "substance", 6, "errors", tmp_path / "s.csv", tmp_path / "s.parquet", injected
    )
    data._keys = {(f"K{i}",): i for i in range(6)}  # as read from the Parquet file
    return data


def _peer_check(tmp_path: Path, injected: dict[int, tuple[str, str]], found: list[int]) -> str:
    data = _data(tmp_path, injected)
    side = peers.peer_side(
        "validate-duckdb", data, peers.contract("substance"), tmp_path / "p.py", tmp_path
    )
    side.out.write_text(json.dumps({"invalid": [[f"K{i}"] for i in found]}))
    result: str = side.check()
    return result


def test_a_peer_finding_exactly_the_injected_rows_passes(tmp_path: Path) -> None:
    injected = {1: ("inchi", "pattern"), 4: ("names", "min_items")}
    assert _peer_check(tmp_path, injected, [4, 1]) == "2 of 2"


def test_a_peer_may_miss_only_what_it_cannot_express(tmp_path: Path) -> None:
    injected = {1: ("cas", "code"), 2: ("ec", "code"), 4: ("names", "min_items")}
    assert _peer_check(tmp_path, injected, [4]) == "1 of 3 (missed: 1 cas code, 1 ec code)"


def test_a_peer_missing_a_row_it_should_catch_stops_the_run(tmp_path: Path) -> None:
    injected = {1: ("cas", "code"), 4: ("un", "code")}  # UN numbers have no check digit
    with pytest.raises(peers.BenchError, match=r"misses injected rows.*\('un', 'code'\)"):
        _peer_check(tmp_path, injected, [])


def test_a_peer_rejecting_a_valid_row_stops_the_run(tmp_path: Path) -> None:
    with pytest.raises(peers.BenchError, match=r"finds valid rows invalid.*rows \[3\]"):
        _peer_check(tmp_path, {1: ("inchi", "pattern")}, [1, 3])


def _rejects(tmp_path: Path, rows: dict[int, str]) -> Path:
    path = tmp_path / "rejects.jsonl"
    lines = [json.dumps({"row": r, "errors": [{"field": f}]}) for r, f in rows.items()]
    path.write_text("".join(line + "\n" for line in lines))
    return path


def test_clen_must_reject_exactly_the_injected_rows(tmp_path: Path) -> None:
    data = _data(tmp_path, {1: ("inchi", "pattern"), 4: ("cas", "code")})
    csv, parquet = Path("s.csv"), Path("s.parquet")
    # A CSV's first row is its header; a Parquet file's rows count from 1.
    assert peers._clen_rejects(data, _rejects(tmp_path, {3: "inchi", 6: "cas"}), csv) == 2
    assert peers._clen_rejects(data, _rejects(tmp_path, {2: "inchi", 5: "cas"}), parquet) == 2
    with pytest.raises(peers.BenchError, match="not injected"):
        peers._clen_rejects(data, _rejects(tmp_path, {3: "inchi"}), csv)
    with pytest.raises(peers.BenchError, match="for other fields"):
        peers._clen_rejects(data, _rejects(tmp_path, {3: "inchi", 6: "ec"}), csv)


def test_the_targets_are_the_issues() -> None:
    assert peers.target("validate", "validate-duckdb", 1_000_000) == 1.2
    assert peers.target("convert", "convert-pyarrow", 1_000_000) == 0.8
    assert peers.target("convert", "convert-polars", 10_000_000) == 1.0
    assert peers.target("partition", "partition-pyarrow", 10) == 1.0
    assert peers.target("partition", "partition-polars", 10) is None
    assert peers.target("ndjson", "ndjson-polars", 10) == 1.0
    assert peers.target("ndjson", "ndjson-duckdb", 10) is None
    assert peers.Memory("activity", "validate", "clean", 10, 1, 125, 100).passed
    assert not peers.Memory("activity", "validate", "clean", 10, 1, 126, 100).passed


# --------------------------------------------------------------------------- the page


def test_markdown_replaces_only_its_own_section(tmp_path: Path) -> None:
    page = tmp_path / "performance.md"
    other = "<!-- run.py:begin -->\nrun.py's\n<!-- run.py:end -->\n"

    def page_with(section: str) -> str:
        return f"# Title\n\n{other}\n{peers.BEGIN}\n{section}{peers.END}\n\n## Kept\n"

    page.write_text(page_with("old\n"))
    peers.write_markdown(page, "new\n")
    assert page.read_text() == page_with("new\n")


# No "\r": the page is read with universal newlines, as any text file here.
text_without_markers = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\r")
).filter(lambda t: "peers.py:" not in t)


@given(text_without_markers, st.text(alphabet="abc \n", min_size=1))
def test_markdown_adds_its_section_once_and_keeps_the_page(page_text: str, body: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "performance.md"
        if page_text:
            page.write_text(page_text, encoding="utf-8")
        peers.write_markdown(page, body + "\n")
        once = page.read_text(encoding="utf-8")
        peers.write_markdown(page, body + "\n")
        assert page.read_text(encoding="utf-8") == once  # the section replaced, not added
        assert once.count(peers.BEGIN) == 1
        if page_text:
            assert once.startswith(page_text.rstrip("\n"))
        assert f"{peers.BEGIN}\n{body}\n{peers.END}\n" in once


# --------------------------------------------------------------------------- the script


@pytest.mark.skipif(bool(MISSING), reason=f"not installed: {', '.join(MISSING)} "
                    "(pip install dataframely 'pandera[polars]' polars duckdb)")  # fmt: skip
def test_quick_peers_benchmark_writes_a_table_per_entity_and_job(tmp_path: Path) -> None:
    out, report = tmp_path / "perf.md", tmp_path / "peers.json"
    result = subprocess.run(
        [sys.executable, str(PEERS), "--quick", "--out", str(out), "--json", str(report)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    # Exit 2 would mean a wrong output: a peer's rejects, or clen's, not the injected rows.
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    text = out.read_text(encoding="utf-8")
    assert text.count(peers.BEGIN) == text.count(peers.END) == 1
    assert "python benchmarks/peers.py --quick" in text
    row = re.compile(
        r"^\| 1,000 \| (?P<variant>clean|errors) \| (?P<side>[^|]+) \| [\d.]+ s \| [\d.]+ s "
        r"\| [\d,]+ MB \| (?P<ratio>—|\*\*[\d.]+×\*\*) \| (?P<rejects>[^|]+) \| "
        r"(?P<target>[^|]*) \| (?P<result>PASS|FAIL|—) \|$"
    )
    for entity in peers.ENTITIES:
        for job, title in peers.JOB_TITLES.items():
            heading = f"#### `{entity}`: {title}"
            assert heading in text, heading
            table = text.split(heading, 1)[1].split("\n\n", 2)[1]
            lines = [row.match(line) for line in table.splitlines()[2:]]
            assert all(lines), table
            peers_of_job = [n for n in peers.PEER_LABELS if n.startswith(job + "-")]
            assert len(lines) == 2 * (1 + len(peers_of_job)), table
            for m in lines:
                assert m is not None
                is_clen = m["side"].startswith("`clen")
                assert (m["ratio"] == "—") == is_clen
                if is_clen:
                    # 5 % of 1,000 rows injected, every one rejected.
                    injected = "50" if m["variant"] == "errors" else "0"
                    assert m["rejects"] == f"{injected} = injected"
                elif m["target"]:
                    assert m["result"] in ("PASS", "FAIL")
    # The substances' check digits are the peers' one blind spot, and it is said.
    assert "of 50 (missed: " in text
    assert "CAS RN check digit" in text
    got = json.loads(report.read_text(encoding="utf-8"))
    assert len(got["rows"]) == len(peers.ENTITIES) * 2 * (len(peers.JOBS) + len(peers.PEER_LABELS))
    assert {"polars", "duckdb", "dataframely", "pandera"} <= got["machine"].keys()
