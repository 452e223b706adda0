"""Fault injection: ``clen convert`` killed (SIGKILL) at random points loses nothing.

The target is always either the complete old file or the complete new one, never a
mix; the rejects file likewise; and the temporary files a killed process leaves
behind are gone after the next write of the same target.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clen_core.io import atomic_file

KILLS = 12
"""Kill runs per target format (random delays over a whole conversion)."""
CLEN = [sys.executable, "-c", "from clen_core.cli import main; main()"]


def _run(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*CLEN, *args], capture_output=True, check=False, timeout=600)


def _temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".clen-tmp"))


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("faults")
    src = folder / "activity.csv"
    done = _run("generate", "activity", "60000", str(src), "--error-rate", "0.01", "-q")
    assert done.returncode == 0, done.stderr
    return src


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl"])
def test_a_killed_conversion_leaves_the_old_target_or_the_new_one(
    source: Path, suffix: str, tmp_path: Path
) -> None:
    rng = random.Random(f"kill{suffix}")
    reference, ref_rejects = tmp_path / f"reference{suffix}", tmp_path / "reference.rejects"
    start = time.monotonic()
    done = _run("convert", str(source), str(reference), "-e", "activity", "--rejects",
                str(ref_rejects), "-q")  # fmt: skip
    took = time.monotonic() - start
    assert done.returncode == 0, done.stderr
    new, new_rejects = reference.read_bytes(), ref_rejects.read_bytes()

    work = tmp_path / "work"
    work.mkdir()
    target, rejects = work / f"out{suffix}", work / "out.rejects"
    old, old_rejects = b"the old file", b"the old rejects"
    outcomes = {"old": 0, "new": 0}
    for _ in range(KILLS):
        target.write_bytes(old)
        rejects.write_bytes(old_rejects)
        process = subprocess.Popen(
            [*CLEN, "convert", str(source), str(target), "-e", "activity",
             "--rejects", str(rejects), "-q"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(rng.uniform(0.0, took * 1.1))
        process.send_signal(signal.SIGKILL)
        process.wait()
        got = target.read_bytes()
        assert got in (old, new), "a mix of old and new"
        assert rejects.read_bytes() in (old_rejects, new_rejects)
        outcomes["old" if got == old else "new"] += 1
        # The next run cleans up what the killed one left behind, and finishes.
        again = _run("convert", str(source), str(target), "-e", "activity", "--rejects",
                     str(rejects), "-q")  # fmt: skip
        assert again.returncode == 0, again.stderr
        assert target.read_bytes() == new
        assert rejects.read_bytes() == new_rejects
        assert _temporaries(work) == []
    assert outcomes["old"] > 0  # some kills landed mid-conversion
    print(f"{KILLS} kills into {suffix}: {outcomes}")


def test_stale_temporaries_of_dead_writers_are_removed_and_live_ones_kept(
    tmp_path: Path,
) -> None:
    target = tmp_path / "a.csv"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".a.csv.{dead.pid}.x1y2.clen-tmp"
    live = tmp_path / f".a.csv.{os.getppid()}.x1y2.clen-tmp"  # a live process: pytest's parent
    other = tmp_path / ".b.csv.1.x1y2.clen-tmp"  # another target's: not ours to judge here
    unrelated = tmp_path / f".a.csv.{dead.pid}.notes"
    for p in (stale, live, other, unrelated):
        p.write_bytes(b"x")
    with atomic_file(target) as sink:
        sink.write(b"new")
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [target.name, live.name, other.name, unrelated.name]
    )
    old = time.time() - 2 * 24 * 3600
    os.utime(live, (old, old))  # a day old: abandoned even if the process lives
    with atomic_file(target) as sink:
        sink.write(b"newer")
    assert not live.exists()
    assert other.exists()
