"""`python -m clen_core`: the `clen` command; its main job, `demo`, on the installed package."""

import re
import subprocess
import sys
from pathlib import Path

from clen_core.data import reference_dataset


def test_main_job_validates_the_reference_dataset_and_exits_0(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "clen_core", "demo", str(tmp_path / "demo"), "-q"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert re.search(rf"^total\s+{len(reference_dataset())}$", out, re.MULTILINE)
    assert "validation: 0 error(s), 3 warning(s)" in out
    for rule_id in ("ACT-001", "LAB-001", "RES-001"):
        assert rule_id in out
    assert done.stderr == ""
