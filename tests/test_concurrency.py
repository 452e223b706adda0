"""Concurrency on single files: two writers of one target, readers during writes.

What is guaranteed (docs/security.md): a write is a rename of a complete temporary
file, so the target is at every moment one complete version; two writers of the same
target do not corrupt it, the last to finish wins; a reader sees one complete version
(a file already open keeps its version while it is replaced).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import clen_core

CLEN = [sys.executable, "-c", "from clen_core.cli import main; main()"]


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("sources")
    a, b = folder / "a.csv", folder / "b.csv"
    for path, seed in ((a, "1"), (b, "2")):
        done = subprocess.run(
            [*CLEN, "generate", "activity", "40000", str(path), "--seed", seed, "-q"],
            capture_output=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    return a, b


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_two_processes_converting_to_one_target(
    sources: tuple[Path, Path], suffix: str, tmp_path: Path
) -> None:
    a, b = sources
    expected = []
    for src in (a, b):
        ref = tmp_path / f"ref-{src.stem}{suffix}"
        subprocess.run([*CLEN, "convert", str(src), str(ref), "-e", "activity", "-q"], check=True)
        expected.append(ref.read_bytes())
    target = tmp_path / "out" / f"target{suffix}"
    target.parent.mkdir()
    for _ in range(3):
        runs = [
            subprocess.Popen(
                [*CLEN, "convert", str(src), str(target), "-e", "activity", "-q"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for src in (a, b)
        ]
        for run in runs:
            _, err = run.communicate(timeout=300)
            assert run.returncode == 0, err
        assert target.read_bytes() in expected  # one whole version, the last to finish
        assert [p.name for p in target.parent.iterdir()] == [target.name]


WRITER = textwrap.dedent(
    """
    import sys, clen_core
    from clen_core.data import reference_dataset
    labs = list(reference_dataset().records("laboratory"))
    for i in range(40):
        clen_core.write(labs if i % 2 else labs[:3], sys.argv[1])
    """
)


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".json", ".jsonl"])
def test_reading_while_another_process_writes(suffix: str, tmp_path: Path) -> None:
    from clen_core.data import reference_dataset

    labs = list(reference_dataset().records("laboratory"))
    target = tmp_path / f"labs{suffix}"
    clen_core.write(labs[:3], target)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(target)])
    try:
        while writer.poll() is None:
            got = list(clen_core.read(target, entity="laboratory"))  # never a torn file
            assert got in (labs, labs[:3])
    finally:
        writer.wait(timeout=300)
    assert writer.returncode == 0
    assert list(clen_core.read(target, entity="laboratory")) == labs
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".clen-tmp")]
