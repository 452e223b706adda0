"""clen_core's built-in Parquet format, written as a third-party plugin would be.

It registers :mod:`clen_core.io.parquet`, the one Parquet reader and writer of
clen_core (partitioned datasets write and read their files through it too),
through the ``clen_core`` entry-point group like any other plugin. The file
layout is documented there, and in ``docs/formats.md``.
"""

from __future__ import annotations

from collections.abc import Callable

from clen_core.io import parquet
from clen_core.plugin_api import Format, hookimpl

__all__ = ["PARQUET", "clen_detect_format", "clen_register_formats"]

PARQUET = Format(
    name="parquet",
    extensions=(".parquet", ".pq"),
    description="Apache Parquet: zstd, a row group per batch, the entity's schema as metadata",
    flavour="python",
    read=parquet.read,
    read_batches=parquet.read_batches,
    write=parquet.write,
)
"""The format this plugin registers."""


@hookimpl
def clen_register_formats(register: Callable[[Format], None]) -> None:
    """Register the Parquet format."""
    register(PARQUET)


@hookimpl
def clen_detect_format(path: str, head: bytes) -> str | None:
    """``parquet`` for a file that starts with Parquet's magic bytes ``PAR1``."""
    return "parquet" if head.startswith(parquet.MAGIC) else None
