"""`python -m clen_core`, the README's main job, on the installed package."""

import re
import subprocess
import sys

from clen_core.data import reference_dataset


def test_main_job_validates_the_reference_dataset_and_exits_0() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "clen_core"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert re.search(rf"^\s+total\s+{len(reference_dataset())}$", out, re.MULTILINE)
    assert "0 error(s), 3 warning(s)" in out
    for rule_id in ("ACT-001", "LAB-001", "RES-001"):
        assert rule_id in out
    assert done.stderr == ""
