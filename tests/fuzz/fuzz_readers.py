"""Atheris harness: every importer and code-system parser on arbitrary bytes.

Run it for a bounded time (``tests/test_fuzz.py`` does, a few seconds in CI)::

    python tests/fuzz/fuzz_readers.py -max_total_time=60

The first byte of the input chooses the target (a format with an entity, or a code
system); the rest is the file or the code. The only exceptions allowed out are the
documented ones (docs/security.md): :class:`clen_core.ClenError` and its subclasses
(``FormatError``, ``CodeError``, ``RejectedRowsError``, ...). Anything else is a crash.
"""

from __future__ import annotations

import contextlib
import io
import sys

if __name__ == "__main__":  # instrument our own code only (pyarrow & co. take minutes)
    import atheris

    _instrumented = atheris.instrument_imports(
        include=["clen_core", "clen_core_csv", "clen_core_json", "clen_core_listing",
                 "clen_core_parquet"]
    )  # fmt: skip
else:  # imported by tests/test_fuzz.py for its Hypothesis tests
    _instrumented = contextlib.nullcontext()

with _instrumented:
    import clen_core
    from clen_core.codes import CODE_SYSTEMS
    from clen_core.errors import ClenError
    from clen_core.io.columnar import check_batch, objects_from_batch
    from clen_core.io.formats import get_format
    from clen_core.io.records import Decoder, RowProblem
    from clen_core.model import get_entity

FORMATS = ("csv", "json", "jsonl", "parquet", "listing", "xlsx")
ENTITIES = ("activity", "laboratory", "programme", "analysis_result")
SYSTEMS = tuple(sorted(CODE_SYSTEMS))
TARGETS = [(f, e) for f in FORMATS for e in ENTITIES] + [("code", s) for s in SYSTEMS]


def run(data: bytes) -> None:
    """One input through one target; raises only what a bug raises."""
    if not data:
        return
    kind, name = TARGETS[data[0] % len(TARGETS)]
    body = data[1:]
    try:
        if kind == "code":
            CODE_SYSTEMS[name].parse(body.decode("utf-8", "replace"))
            return
        fmt = get_format(kind)
        info = get_entity(name)
        assert fmt.read is not None
        decoder = Decoder(info, fmt.flavour)
        for item in fmt.read(io.BytesIO(body), info, f"fuzz.{kind}"):
            if not isinstance(item, RowProblem):
                with contextlib.suppress(clen_core.InvalidObjectError):
                    decoder.decode(item.values)
        if fmt.read_batches is not None:  # the columnar path, as clen convert takes it
            for raw in fmt.read_batches(io.BytesIO(body), info, f"fuzz.{kind}"):
                checked = check_batch(info, raw, flavour=fmt.flavour)
                objects_from_batch(info, checked.valid)
    except ClenError:
        pass


def main() -> None:
    atheris.Setup(sys.argv, lambda data: run(bytes(data)))
    atheris.Fuzz()


if __name__ == "__main__":
    main()
