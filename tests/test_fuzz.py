"""Fuzzing: every parser on random bytes and structured garbage lets out only documented errors.

The documented errors (docs/security.md) are :class:`clen_core.ClenError` and its
subclasses. Hypothesis runs here in the normal test run; the atheris harness in
``tests/fuzz`` runs for a few seconds (longer with ``CLEN_FUZZ_SECONDS``).
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent / "fuzz"))
import contextlib

from fuzz_readers import FORMATS, TARGETS, run  # type: ignore[import-not-found]

import clen_core
from clen_core.codes import CODE_SYSTEMS
from clen_core.errors import ClenError

FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
HARNESS = Path(__file__).parent / "fuzz" / "fuzz_readers.py"


@FUZZ
@given(
    st.sampled_from(sorted(CODE_SYSTEMS)),
    st.text() | st.binary().map(lambda b: b.decode("latin-1")),
)
def test_code_system_parsers_raise_only_code_errors(system: str, text: str) -> None:
    with contextlib.suppress(ClenError):
        CODE_SYSTEMS[system].parse(text)


@FUZZ
@given(st.integers(0, len(TARGETS) - 1), st.binary(max_size=2000))
def test_random_bytes_through_every_importer(target: int, body: bytes) -> None:
    run(bytes([target]) + body)


# Structured garbage: almost-right files, so that the parsers get past their first check.
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = ["activity_id", "action", "kind", "theme", "city", "country", "start", "end",
          "participants", "notes", "x"]  # fmt: skip
RECORDS = st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES, max_size=10)


def _structured(fmt: str, records: list[dict[str, object]], cut: int) -> bytes:
    if fmt == "json":
        data = json.dumps(records).encode()
    elif fmt == "jsonl":
        data = b"\n".join(json.dumps(r).encode() for r in records)
    elif fmt == "csv":
        header = ",".join(FIELDS[:-1]).encode()
        rows = [",".join(json.dumps(r.get(f)) for f in FIELDS[:-1]).encode() for r in records]
        data = b"\n".join([header, *rows])
    else:  # listing
        data = b"Action 5 of the Customs Laboratories\n" + b"\n".join(
            f"{r.get('city', 'Vienna')} ({r.get('country', 'AT')}), {r.get('start', '3 May')} "
            f"{r.get('participants', 2016)}".encode()
            for r in records
        )
    return data[: len(data) - cut] if cut < len(data) else data


@FUZZ
@given(
    fmt=st.sampled_from(["csv", "json", "jsonl", "listing"]),
    records=st.lists(RECORDS, max_size=6),
    cut=st.integers(0, 40),
)
def test_structured_garbage_through_the_read_api(
    fmt: str, records: list[dict[str, object]], cut: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / f"f.{'txt' if fmt == 'listing' else fmt}"
    path.write_bytes(_structured(fmt, records, cut))
    try:
        reader = clen_core.read(path, entity="activity", format=fmt, on_reject="collect")
        got = list(reader)
    except ClenError:
        return
    assert reader.read_rows == len(got) + reader.rejected


def test_the_harness_covers_every_format() -> None:
    assert set(FORMATS) == {f.name for f in clen_core.io.formats.formats()}
    assert run(b"") is None
    run(io.BytesIO(b"\x00").getvalue())


@pytest.mark.skipif(importlib.util.find_spec("atheris") is None, reason="atheris not installed")
def test_the_atheris_harness_runs_for_a_bounded_time(tmp_path: Path) -> None:
    seconds = os.environ.get("CLEN_FUZZ_SECONDS", "5")
    done = subprocess.run(
        [sys.executable, str(HARNESS), f"-max_total_time={seconds}", "-rss_limit_mb=2048",
         f"-artifact_prefix={tmp_path}/"],
        capture_output=True, text=True, timeout=int(seconds) + 120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Done" in done.stderr
