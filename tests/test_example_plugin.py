"""The third-party example plugin (examples/clen-example-plugin), installed as a user would.

It is built and installed into a temporary folder with pip; fresh Python
processes then see it (or not) through ``PYTHONPATH``, so nothing leaks into
this test process or the environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "clen-example-plugin"

# Runs in a fresh interpreter; prints what it found as one JSON document.
PROBE = r"""
import datetime as dt, json, sys, tempfile
from pathlib import Path

import clen_core
from clen_core.io.formats import formats
from clen_core.model import Activity, Laboratory
from clen_core.plugins import list_plugins

out = {
    "plugins": {p.name: p.to_dict() for p in list_plugins()},
    "formats": {f.name: f.plugin for f in formats()},
    "rules": {
        r.id: [r.severity.value, r.entity, r.origin, r.description] for r in clen_core.rules.rules()
    },
}

def activity(i, participants, **kw):
    return Activity(
        activity_id=f"A-{i}", action=5, kind="workshop", theme="Gemmology", city="Vienna",
        country="AT", start=dt.date(2024, 3, i), end=dt.date(2024, 3, i + 1),
        participants=participants, **kw,
    )

acts = [
    activity(1, 600, notes='tab\there, "quoted", new\nline, carriage\rreturn, ünïcødé 🧪'),
    activity(2, 500, title="Ünïcødé"),
    activity(3, None),
]
folder = Path(tempfile.mkdtemp())
try:
    clen_core.write(acts, folder / "activities.tsv")
except clen_core.ClenError as exc:
    out["tsv"] = type(exc).__name__
else:
    data = (folder / "activities.tsv").read_bytes()
    out["tsv_header"] = data.split(b"\r\n")[0].decode().split("\t")
    back = list(clen_core.read(folder / "activities.tsv", entity="activity"))
    out["tsv_round_trip"] = back == acts
    labs = [
        Laboratory(
            lab_id="RS-BEG-1", name="Lab", country="RS", kind="fixed", status="third_country",
            accredited_17025=False, expertise=("tobacco", "text\tiles"),
            participation_criteria={"staff": True, "equipment": False},
        )
    ]
    clen_core.write(labs, folder / "labs.tsv")
    back = list(clen_core.read(folder / "labs.tsv", entity="laboratory"))
    out["tsv_nested_round_trip"] = back == labs
    (folder / "bad.tsv").write_bytes(data.replace(b"\tAT\t", b"\tXX\t", 1))
    reader = clen_core.read(folder / "bad.tsv", entity="activity", on_reject="collect")
    out["tsv_good_rows"] = len(list(reader))
    out["tsv_rejects"] = [[r.row, r.field, r.value] for r in reader.rejects]
report = clen_core.validate(acts)
out["findings"] = [[f.rule, f.severity.value, f.key, f.field, f.value] for f in report]
json.dump(out, sys.stdout)
"""


@pytest.fixture(scope="session")
def plugin_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example plugin, built and installed with pip into a folder of its own."""
    target = tmp_path_factory.mktemp("example-plugin")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "--no-input",
            "--target",
            str(target),
            str(EXAMPLE),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert (target / "clen_example_plugin" / "__init__.py").is_file()
    return target


def _probe(plugin_dir: Path | None, **env: str) -> dict[str, Any]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CLEN_")}
    paths = [p for p in environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if plugin_dir is not None:
        paths.insert(0, str(plugin_dir))
    environ["PYTHONPATH"] = os.pathsep.join(paths)
    environ.update(env)
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.fixture(scope="session")
def installed(plugin_dir: Path) -> dict[str, Any]:
    return _probe(plugin_dir)


@pytest.fixture(scope="session")
def absent() -> dict[str, Any]:
    return _probe(None)


@pytest.fixture(scope="session")
def disabled(plugin_dir: Path) -> dict[str, Any]:
    return _probe(plugin_dir, CLEN_DISABLE_PLUGINS="example")


def test_the_plugin_is_listed_with_its_version_and_hooks(installed: dict[str, Any]) -> None:
    example = installed["plugins"]["example"]
    assert example["status"] == "loaded", example
    assert example["version"] == "0.1.0"
    assert example["distribution"].replace("_", "-") == "clen-example-plugin"
    assert example["hooks"] == ["clen_register_formats", "clen_register_rules"]
    assert example["error"] is None
    # The built-in plugins still load beside it.
    assert installed["plugins"]["parquet"]["status"] == "loaded"


def test_its_format_and_rule_are_registered(installed: dict[str, Any]) -> None:
    assert installed["formats"]["tsv"] == "example"
    severity, entity, origin, description = installed["rules"]["EXA-001"]
    assert (severity, entity, origin) == ("warning", "activity", "example")
    assert description == "An activity has more than 500 participants."


def test_tsv_files_are_written_and_read_back(installed: dict[str, Any]) -> None:
    assert installed["tsv_header"][:3] == ["activity_id", "action", "kind"]
    assert installed["tsv_round_trip"] is True
    assert installed["tsv_nested_round_trip"] is True
    # A bad value in a TSV is a reject naming row (the header is row 1) and field.
    assert installed["tsv_good_rows"] == 2
    assert installed["tsv_rejects"] == [[2, "country", "XX"]]


def test_validate_flags_a_large_activity_with_the_plugin_rule(installed: dict[str, Any]) -> None:
    flagged = [f for f in installed["findings"] if f[0] == "EXA-001"]
    assert flagged == [["EXA-001", "warning", "A-1", "participants", 600]]


def test_without_the_plugin_there_is_no_trace(absent: dict[str, Any]) -> None:
    assert "example" not in absent["plugins"]
    assert "tsv" not in absent["formats"]
    assert "EXA-001" not in absent["rules"]
    assert absent["tsv"] == "UnknownFormatError"
    assert not [f for f in absent["findings"] if f[0] == "EXA-001"]
    assert absent["plugins"]["parquet"]["status"] == "loaded"


def test_a_disabled_plugin_is_listed_as_such_and_registers_nothing(
    disabled: dict[str, Any],
) -> None:
    example = disabled["plugins"]["example"]
    assert example["status"] == "disabled"
    assert example["hooks"] == []
    assert "tsv" not in disabled["formats"]
    assert "EXA-001" not in disabled["rules"]
    assert disabled["tsv"] == "UnknownFormatError"
    assert not [f for f in disabled["findings"] if f[0] == "EXA-001"]
    assert {"csv", "json", "parquet"} <= {
        name for name, p in disabled["plugins"].items() if p["status"] == "loaded"
    }


def test_the_plugin_uses_only_public_names() -> None:
    source = (EXAMPLE / "clen_example_plugin" / "__init__.py").read_text("utf-8")
    imports = [line for line in source.splitlines() if line.startswith(("from ", "import "))]
    clen_imports = [line for line in imports if "clen_core" in line]
    assert clen_imports
    for line in clen_imports:
        module, _, names = line.partition(" import ")
        assert "._" not in module, line
        assert not any(n.strip().startswith("_") for n in names.split(",")), line
