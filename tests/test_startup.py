"""Start-up stays light: a command's import time is part of what its user waits for.

Timing is not asserted (shared, noisy machines): what is asserted is that the
heavy things a command rarely needs are not loaded by starting one.
"""

from __future__ import annotations

import json
import subprocess
import sys

# Loaded by the command line and every plugin, as `clen convert` does before its work.
PROBE = """
import json, sys
import clen_core.cli
import clen_core.columnar
import clen_core.datasets
import clen_core.pipelines
from clen_core.plugins import get_plugin_manager
get_plugin_manager()
from clen_core.codes import language
print(json.dumps({
    "modules": sorted(m for m in ("pandas", "polars", "duckdb", "pyspark", "dask", "frictionless",
                                  "jsonschema", "hypothesis") if m in sys.modules),
    "language_table": language._tables.cache_info().currsize,
}))
"""


def test_starting_a_command_loads_no_optional_engine_and_no_language_table() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    found = json.loads(done.stdout)
    # pandas comes in through e.g. pa.scalar(a date) at import: ~0.3 s for nothing.
    assert found == {"modules": [], "language_table": 0}
