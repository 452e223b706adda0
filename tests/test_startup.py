"""Start-up stays light: a command's import time is part of what its user waits for.

Timing is not asserted (shared, noisy machines): what is asserted is that the
heavy things a command rarely needs are not loaded by starting one.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pyarrow.parquet as pq
import pytest

# Loaded by the command line and every plugin, as `clen convert` does before its work.
PROBE = """
import json, sys
import clen_core.cli
import clen_core.io.columnar
import clen_core.io.partitioned
import clen_core.io.bridges
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


# Only what every command loads: the command line and the plugins.
LEAN = """
import json, sys
import clen_core.cli
from clen_core.plugins import get_plugin_manager
get_plugin_manager()
print(json.dumps(sorted(m for m in sys.argv[1:] if m in sys.modules)))
"""
LOADED_WHEN_USED = ("rich", "pyarrow.parquet", "cattrs", "stdnum", "ssl", "_hashlib", "ctypes.util")


def test_starting_a_command_leaves_what_some_commands_need_until_they_need_it() -> None:
    # rich (25 ms), pyarrow.parquet (20 ms, with pyarrow.fs and ssl), cattrs (10 ms),
    # python-stdnum (which loads ssl, 10 ms), OpenSSL's hashes and ctypes.util: a
    # twentieth of a command's start each time, for commands that do not print a
    # table, touch Parquet, build objects from JSON or check a CAS number.
    done = subprocess.run(
        [sys.executable, "-c", LEAN, *LOADED_WHEN_USED], capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout) == []


def test_the_lazily_loaded_modules_are_there_when_used(tmp_path: Path) -> None:
    # In a fresh process, as a command would: each first use imports what it needs.
    done = subprocess.run([sys.executable, "-c", USE, str(tmp_path)], capture_output=True,
                          text=True, check=True)  # fmt: skip
    assert done.stdout.split() == ["64-17-5", "200-578-6", "True", "True"]


USE = """
import sys
from pathlib import Path
import clen_core
from clen_core.codes import get_code_system
from clen_core.data import reference_dataset
print(get_code_system("cas").parse("64175"), get_code_system("ec").parse("200-578-6"))
activities = list(reference_dataset().records("activity"))
print(clen_core.from_json(clen_core.to_json(activities[0]), "activity") == activities[0])
clen_core.write(activities, Path(sys.argv[1]) / "a.parquet")
print(list(clen_core.read(Path(sys.argv[1]) / "a.parquet", entity="activity")) == activities)
"""


# Runs a whole command as `clen` does (through the launcher), then says which heavy
# modules it loaded.
COMMAND = """
import json, sys
from clen_core_launch import main
sys.argv = ["clen", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(m for m in ("pandas", "polars", "duckdb") if m in sys.modules)))
"""


def _loaded_by(*args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", COMMAND, *args], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def test_generate_convert_and_validate_run_without_importing_pandas(tmp_path: Path) -> None:
    pytest.importorskip("pandas")  # installed: the case where pyarrow would import it
    src, dst = tmp_path / "a.csv", tmp_path / "a.parquet"
    assert _loaded_by("generate", "activity", "200", str(src), "--seed", "3") == []
    assert _loaded_by("convert", str(src), str(dst), "--entity", "activity", "--quiet") == []
    assert pq.read_metadata(dst).num_rows == 200
    assert _loaded_by("validate", str(src), "--entity", "activity", "--quiet") == []


# After defer(), pandas imported later must work with pyarrow as if nothing happened.
AFTER_DEFER = """
import json, math, sys
import pyarrow as pa
from clen_core_launch.lazy_pandas import defer
defer()
ints, text = pa.array([1, None]), pa.scalar("x")  # pyarrow's looks for pandas
before = "pandas" in sys.modules
import pandas as pd
frame = pd.DataFrame({"x": [1.0, math.nan], "c": pd.Categorical(["a", "b"])})
table = pa.Table.from_pandas(frame)
print(json.dumps({
    "before": before,
    "series_nan_is_null": pa.array(frame["x"]).null_count,
    "categorical": str(pa.array(frame["c"]).type),
    "table": [table.column("x").null_count, str(table.column("c").type)],
    "back": table.to_pandas()["x"].isna().tolist(),
}))
"""


def test_pandas_imported_after_defer_works_with_pyarrow_as_before() -> None:
    pytest.importorskip("pandas")
    done = subprocess.run(
        [sys.executable, "-c", AFTER_DEFER], capture_output=True, text=True, check=True
    )
    found = json.loads(done.stdout)
    plain = subprocess.run(
        [sys.executable, "-c", AFTER_DEFER.replace("defer()\n", "")],
        capture_output=True,
        text=True,
        check=True,
    )
    expected = json.loads(plain.stdout)
    assert found.pop("before") is False
    assert expected.pop("before") is True  # without defer(), the first array imports it
    assert found == expected
    assert found["series_nan_is_null"] == 1


# Another package's plugin may hand pandas values to pyarrow: then nothing is deferred.
FOREIGN = """
import sys
import pyarrow as pa
import clen_core.plugins
from clen_core.plugins import PluginInfo
from clen_core_launch import defer_pandas
if sys.argv[1] == "foreign":
    ours = clen_core.plugins.list_plugins
    other = PluginInfo("xlsx", "clen-xlsx", "1.0", (), "loaded")
    clen_core.plugins.list_plugins = lambda: [*ours(), other]
defer_pandas()
pa.array([1])
print("pandas" in sys.modules)
"""


@pytest.mark.parametrize(("plugins", "looks"), [("own", False), ("foreign", True)])
def test_a_foreign_plugin_keeps_pyarrow_looking_for_pandas(plugins: str, looks: bool) -> None:
    pytest.importorskip("pandas")
    done = subprocess.run(
        [sys.executable, "-c", FOREIGN, plugins], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(looks)


def test_the_command_line_leaves_process_tuning_to_the_launcher() -> None:
    # clen_core.cli parses, calls the library and renders: it never imports the launcher.
    probe = "import sys, clen_core.cli; print([m for m in sys.modules if 'launch' in m])"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# The launcher readies the process, then hands over to clen_core.cli.main (here a probe).
LAUNCH = """
import gc, json, os, sys
import clen_core.cli as cli

def probe():
    print(json.dumps({
        "blas": os.environ.get("OPENBLAS_NUM_THREADS"),
        "purge": os.environ.get("MIMALLOC_PURGE_DELAY"),
        "collecting": gc.isenabled(),
        "frozen": gc.get_freeze_count() > 0,
    }))

cli.main = probe
from clen_core_launch import main
main()
"""


@pytest.mark.parametrize(
    ("argv", "given", "expected"),
    [
        (["validate", "x.csv"], {}, {"blas": "1", "purge": "100"}),
        (
            ["--debug", "validate", "x.csv"],
            {"OPENBLAS_NUM_THREADS": "4"},
            {"blas": "4", "purge": "100"},
        ),
        (["validate", "x.csv"], {"MIMALLOC_PURGE_DELAY": "10"}, {"blas": "1", "purge": "10"}),
        (["convert", "x.csv", "y.parquet"], {}, {"blas": "1", "purge": "100"}),
        (["generate", "activity", "9", "y.csv"], {}, {"blas": "1", "purge": None}),
        ([], {}, {"blas": "1", "purge": None}),
    ],
)
def test_the_launcher_sets_blas_threads_and_allocator_unless_told_and_collects_again(
    argv: list[str], given: dict[str, str], expected: dict[str, str | None]
) -> None:
    unset = ("OPENBLAS_NUM_THREADS", "MIMALLOC_PURGE_DELAY")
    env = {k: v for k, v in os.environ.items() if k not in unset} | given
    done = subprocess.run(
        [sys.executable, "-c", LAUNCH, *argv], capture_output=True, text=True, check=True, env=env
    )
    assert json.loads(done.stdout) == expected | {"collecting": True, "frozen": True}


# The whole launcher on `clen --version`; what became of numpy is told at exit.
NUMPY = """
import atexit, json, sys
import clen_core_launch
if sys.argv[1] == "foreign":
    clen_core_launch.only_own_plugins = lambda: False

@atexit.register
def tell():
    import pyarrow as pa
    print(json.dumps({
        "kept_out": sys.modules.get("numpy", 0) is None,
        "loaded": sys.modules.get("numpy") is not None,
        "arrow": pa.array([1, None]).to_pylist() == [1, None],
    }))

sys.argv = ["clen", "--version"]
clen_core_launch.main()
"""


@pytest.mark.parametrize(
    ("plugins", "expected"),
    [
        ("own", {"kept_out": True, "loaded": False, "arrow": True}),
        ("foreign", {"kept_out": False, "loaded": True, "arrow": True}),
    ],
)
def test_the_launcher_keeps_numpy_out_unless_another_packages_plugin_is_installed(
    plugins: str, expected: dict[str, bool]
) -> None:
    pytest.importorskip("numpy")  # installed: the case where pyarrow would import it
    done = subprocess.run(
        [sys.executable, "-c", NUMPY, plugins], capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines()[0].startswith("clen_core ")  # the command ran
    assert json.loads(done.stdout.splitlines()[-1]) == expected


def test_only_own_plugins_looks_at_the_distribution_of_every_entry_point(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from clen_core_launch import only_own_plugins

    assert only_own_plugins()  # this checkout's four built-in format plugins
    ours = list(importlib.metadata.entry_points(group="clen_core"))
    other = SimpleNamespace(name="xlsx", dist=SimpleNamespace(name="clen-xlsx"))
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda **kw: [*ours, other])
    assert not only_own_plugins()


def test_the_clen_command_starts_through_the_launcher() -> None:
    (script,) = importlib.metadata.entry_points(group="console_scripts", name="clen")
    assert script.value == "clen_core_launch:main"


# validate and convert start importing rich (for their report) while they read.
MEANWHILE = """
import json, sys, threading
import clen_core.cli as cli
before = "rich.console" in sys.modules
cli._import_rich_meanwhile()
(thread,) = [t for t in threading.enumerate() if t.name == "clen-import"]
thread.join()
loaded = [m in sys.modules for m in ("rich.console", "rich.table")]
print(json.dumps([before, thread.daemon, *loaded]))
"""


def test_rich_is_imported_in_the_background_while_a_file_is_read() -> None:
    done = subprocess.run(
        [sys.executable, "-c", MEANWHILE], capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout) == [False, True, True, True]
