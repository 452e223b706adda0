"""The benchmark script runs at a tiny size, prints every figure with its ratio and target,
and writes its Markdown (speed is not asserted: CI only proves the script works)."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
RUN = ROOT / "benchmarks" / "run.py"
FIGURES = ("1.", "2.", "3.", "4.", "5.")
# A table row: figure, ours, reference, a ratio like 0.43×, a target like ≥ 0.6, PASS or FAIL.
ROW = re.compile(r"^\| (?P<figure>\d\.) .*\| \*\*(?P<ratio>[\d.]+)×\*\* \| (?P<target>[≥≤] [\d.]+)")


def test_quick_benchmark_runs_and_writes_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "perf.md"
    result = subprocess.run(
        [sys.executable, str(RUN), "--quick", "--out", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    printed = result.stdout
    for figure in FIGURES:
        line = next((x for x in printed.splitlines() if x.startswith(figure)), None)
        assert line is not None, f"figure {figure} not printed:\n{printed}"
        assert re.search(r"\d+\.\d+×", line), f"no ratio on: {line}"
        assert re.search(r"[≥≤] \d", line), f"no target on: {line}"
        assert re.search(r"\b(PASS|FAIL)\b", line), f"no verdict on: {line}"

    assert out.is_file()
    text = out.read_text(encoding="utf-8")
    rows = {m["figure"]: m for m in map(ROW.match, text.splitlines()) if m}
    assert sorted(rows) == list(FIGURES), text
    assert all(float(m["ratio"]) > 0 for m in rows.values())
    assert "python benchmarks/run.py --quick" in text  # the command
    assert "CPU:" in text
    assert "pyarrow:" in text


def test_markdown_replaces_only_its_own_section(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("clen_benchmarks_run", RUN)
    assert spec is not None
    assert spec.loader is not None
    run = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = run  # dataclasses look their module up
    try:
        spec.loader.exec_module(run)
    finally:
        del sys.modules[spec.name]
    page = tmp_path / "performance.md"

    def page_with(section: str) -> str:
        return f"# Title\n\nintro\n\n{run.BEGIN}\n{section}{run.END}\n\n## Kept\n\ntext\n"

    page.write_text(page_with("old\n"))
    run.write_markdown(page, "new\n")
    assert page.read_text() == page_with("new\n")
