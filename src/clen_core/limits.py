"""The limits that keep reading hostile files bounded in time and memory, in one place.

Every reader of untrusted bytes consults :func:`current` when it starts
reading a file: the CSV, JSON, JSON Lines, Parquet and listing importers, the
JSON in CSV cells, the lists and mappings of every format, and the rejects and
findings kept in memory. The defaults suit
the network's data with a wide margin; change them for a whole process
with environment variables (read once, at the first use)::

    CLEN_MAX_FIELD_BYTES=4194304 clen convert big.csv big.parquet -e activity

or for a block of Python code (process-wide while the block runs: readers may work in
background threads):

.. code-block:: python

    import clen_core.limits

    with clen_core.limits.override(max_nesting_depth=20):
        ...  # files read here refuse JSON nested deeper than 20 levels

A value beyond a limit is never cut or dropped silently: the row is
rejected, naming file, row and field, or the file is refused with a
:class:`~clen_core.io.formats.FormatError` naming file and row (see
``docs/security.md`` for what each limit does in each format).
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections.abc import Iterator
from typing import Any

import attrs

from clen_core.errors import ArgumentError

__all__ = ["ENV_PREFIX", "Limits", "current", "json_too_deep", "override", "set_limits"]

ENV_PREFIX = "CLEN_"
"""Environment variables ``CLEN_<FIELD NAME IN CAPITALS>`` set the defaults of a process."""


def _positive(instance: Any, attribute: attrs.Attribute[int], value: int) -> None:
    if type(value) is not int or value < 1:
        raise ArgumentError(f"limit {attribute.name} must be a whole number ≥ 1, not {value!r}")


@attrs.frozen(kw_only=True)
class Limits:
    """Bounds on what one file may make clen_core do (all ≥ 1)."""

    max_field_bytes: int = attrs.field(default=1 << 20, validator=_positive)
    """Most bytes one value may take (1 MiB): a CSV row must fit in the CSV reader's
    block of ``max(2 MiB, max_field_bytes)`` bytes; one JSON string, number or run of
    white space in a JSON document; one line of JSON Lines; one line of a listing; one
    Parquet text (a longer one is a rejected row; a Parquet page may decompress to 64
    times this at most)."""
    max_nesting_depth: int = attrs.field(default=100, validator=_positive)
    """Deepest nesting of JSON arrays and objects: in a JSON document (the records
    included), in a JSON Lines line, in the JSON of a CSV cell."""
    max_findings: int = attrs.field(default=1000, validator=_positive)
    """Rejects and findings kept in memory per read or validation; the counts go on
    past it (the default of ``read(max_rejects=)``, ``read_dataset``,
    ``validate(max_findings=)`` and ``Report``)."""
    max_listing_bytes: int = attrs.field(default=64 << 20, validator=_positive)
    """Largest listing file (64 MiB): the listing importer reads a file whole."""
    max_items: int = attrs.field(default=100_000, validator=_positive)
    """Most items of one list or entries of one mapping (100,000): a row holding more is
    rejected, naming the field, before its items become Python objects (a Parquet
    column's lengths are checked vectorised; a JSON or CSV value's once parsed)."""


def _from_env(environ: dict[str, str] | os._Environ[str]) -> Limits:
    changes: dict[str, int] = {}
    for a in attrs.fields(Limits):
        text = environ.get(ENV_PREFIX + a.name.upper())
        if text is None or not text.strip():
            continue
        try:
            changes[a.name] = int(text.strip().replace("_", ""))
        except ValueError:
            raise ArgumentError(
                f"{ENV_PREFIX}{a.name.upper()}={text!r}: expected a whole number"
            ) from None
    return Limits(**changes)


_DEFAULT: Limits | None = None
_LOCK = threading.Lock()


def current() -> Limits:
    """The limits in force: those of :func:`set_limits` or an :func:`override`, else the
    environment's ``CLEN_*`` variables, else the defaults."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = _from_env(os.environ)
    return _DEFAULT


def set_limits(limits: Limits | None = None, /, **changes: int) -> Limits:
    """Change the process-wide limits (to ``limits``, or the current ones with ``changes``);
    ``set_limits(Limits())`` restores the defaults. Returns the new limits."""
    global _DEFAULT
    with _LOCK:
        _DEFAULT = attrs.evolve(limits if limits is not None else current(), **changes)
        return _DEFAULT


@contextlib.contextmanager
def override(**changes: int) -> Iterator[Limits]:
    """Limits changed for the ``with`` block, then restored (process-wide meanwhile)."""
    before = current()
    new = set_limits(before, **changes)
    try:
        yield new
    finally:
        set_limits(before)


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def json_too_deep(text: str, max_depth: int) -> bool:
    """Whether the JSON ``text`` nests arrays and objects deeper than ``max_depth``.

    Cheap for ordinary text (two counts); brackets inside strings do not count.
    Used before parsing, so that no recursive parser or printer ever meets deep data.
    """
    if text.count("[") + text.count("{") <= max_depth:
        return False
    depth = deepest = 0
    for c in _NOT_BRACKET.sub("", _STRING.sub("", text)):
        if c in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > max_depth:
                    return True
        else:
            depth -= 1
    return False
