"""File formats: what a format plugin registers, and the registry that finds one for a path.

A :class:`Format` reads raw records of one entity from a binary stream
(yielding :class:`~clen_core.io.records.RawRecord` or
:class:`~clen_core.io.records.RowProblem`), and/or writes Arrow record batches
in an entity's schema to a binary stream. Readers and writers are told the path
of the file, to name it in their errors. Formats that hold several entities in
one file (a JSON document of a whole dataset) also implement the dataset pair.
:mod:`clen_core.io` does the rest: choosing the format, atomic files, decoding,
rejects and counts.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, cast

import attrs
import pyarrow as pa

from clen_core.errors import ArgumentError, FormatError, UnknownFormatError
from clen_core.io.records import Flavour, RawBatch, RawRecord, RowProblem
from clen_core.model.entity import EntityInfo, get_entity
from clen_core.registry import Registry

__all__ = [
    "FORMATS",
    "Format",
    "FormatError",
    "PathlessWriteDatasetFn",
    "PathlessWriteFn",
    "ReadBatchesFn",
    "ReadDatasetFn",
    "ReadFn",
    "SniffFn",
    "UnknownFormatError",
    "WriteDatasetFn",
    "WriteFn",
    "format_for_path",
    "formats",
    "get_format",
    "read_format",
    "register_format",
]

ReadFn = Callable[[IO[bytes], EntityInfo, str], Iterator[RawRecord | RowProblem]]
"""``read(source, entity, path)``: the records of one entity, with their row numbers."""
WriteFn = Callable[[IO[bytes], EntityInfo, Iterable[pa.RecordBatch], str], None]
"""``write(sink, entity, batches, path)``: write batches in the entity's Arrow schema.

``path`` is the file being written, as the caller named it (not the temporary file the
bytes go to until the write succeeds): what the writer names in its errors, e.g.
``FormatError(path, "more than 1,048,575 rows")``."""
PathlessWriteFn = Callable[[IO[bytes], EntityInfo, Iterable[pa.RecordBatch]], None]
"""``write(sink, entity, batches)``: a writer written before writers were given the path.

Still accepted: :class:`Format` tells it by its signature when the format is made and
calls it without the path."""
ReadBatchesFn = Callable[[IO[bytes], EntityInfo, str], Iterator[RawBatch]]
"""``read_batches(source, entity, path)``: raw Arrow batches with row numbers (columnar path)."""
ReadDatasetFn = Callable[[IO[bytes], str], Iterator[tuple[str, RawRecord | RowProblem]]]
"""``read_dataset(source, path)``: ``(entity name, record)`` pairs of every entity in the file."""
_Tables = Iterable[tuple[EntityInfo, Iterable[pa.RecordBatch]]]
WriteDatasetFn = Callable[[IO[bytes], _Tables, str], None]
"""``write_dataset(sink, tables, path)``: write several entities' batches into one file
(``path`` as for :data:`WriteFn`)."""
PathlessWriteDatasetFn = Callable[[IO[bytes], _Tables], None]
"""``write_dataset(sink, tables)``: a dataset writer that takes no path (still accepted,
as :data:`PathlessWriteFn`)."""
SniffFn = Callable[..., Mapping[str, Any]]
"""``sniff(source, entity, path, **options)``: every read option of the format for this file,
those given as given and the others detected from its first bytes; raises
:class:`FormatError` when the file does not say (ambiguous), naming the choices."""
HEAD_BYTES = 4096
"""Bytes of a file's start given to ``clen_detect_format``."""


def _option_items(options: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(options.items()))


class _WithoutPath:
    """A writer that takes no path, called as one that does: the path is left out."""

    __slots__ = ("arguments", "writer")

    def __init__(self, writer: Callable[..., None], arguments: int) -> None:
        self.writer = writer
        self.arguments = arguments

    def __call__(self, *args: Any) -> None:
        self.writer(*args[: self.arguments])

    def __repr__(self) -> str:
        return f"{self.writer!r} (given no path)"


def _takes_path(writer: Callable[..., None], arguments: int) -> bool:
    """Whether ``writer`` takes the path after its ``arguments`` other positional ones."""
    if isinstance(writer, _WithoutPath):
        return True  # adapted already (attrs.evolve makes the format again)
    try:
        signature = inspect.signature(writer)
    except (TypeError, ValueError):  # no signature to read (a builtin): the contract's
        return True
    try:
        signature.bind_partial(*range(arguments + 1))
    except TypeError:
        return False
    return True


def _writer(writer: WriteFn | PathlessWriteFn | None) -> WriteFn | None:
    # Told once, when the format is made: no write looks at the signature again.
    if writer is None or _takes_path(writer, 3):
        return cast("WriteFn | None", writer)
    return _WithoutPath(writer, 3)


def _dataset_writer(
    writer: WriteDatasetFn | PathlessWriteDatasetFn | None,
) -> WriteDatasetFn | None:
    if writer is None or _takes_path(writer, 2):
        return cast("WriteDatasetFn | None", writer)
    return _WithoutPath(writer, 2)


@attrs.frozen
class Format:
    """A file format registered by a plugin."""

    name: str
    """Short name, e.g. ``"csv"``: used by ``format=`` and ``--from/--to``."""
    extensions: tuple[str, ...]
    """File name endings it owns, with the dot, e.g. ``(".csv",)``."""
    description: str
    """One line for ``clen formats``."""
    flavour: Flavour = "json"
    """How its reader gives values: ``text``, ``json`` or ``python`` (see clen_core.io.records)."""
    read: ReadFn | None = attrs.field(default=None, eq=False)
    """Reader of one entity, or ``None`` when it cannot read."""
    write: WriteFn | None = attrs.field(default=None, eq=False, converter=_writer)
    """Writer of one entity, or ``None`` when it cannot write. A writer that takes no path
    (:data:`PathlessWriteFn`) is given here as one that does."""
    read_batches: ReadBatchesFn | None = attrs.field(default=None, eq=False)
    """Columnar reader: raw Arrow batches, for the engine that checks whole columns."""
    read_dataset: ReadDatasetFn | None = attrs.field(default=None, eq=False)
    """Reader of a whole dataset in one file, when the format holds several entities."""
    write_dataset: WriteDatasetFn | None = attrs.field(
        default=None, eq=False, converter=_dataset_writer
    )
    """Writer of a whole dataset in one file, when the format holds several entities (one
    that takes no path, :data:`PathlessWriteDatasetFn`, given here as one that does)."""
    plugin: str | None = None
    """Name of the plugin that registered it (set at registration)."""
    read_options: tuple[str, ...] = ()
    """Keyword options its readers take (CSV: ``delimiter``, ``decimal``, ``encoding``), each
    detected when not given; fixed with :meth:`with_options`."""
    sniff: SniffFn | None = attrs.field(default=None, eq=False)
    """What settles the read options for one file (see :data:`SniffFn`), if any."""
    options: Mapping[str, Any] = attrs.field(factory=dict, eq=_option_items)
    """The read options fixed on this format (by :meth:`with_options`): empty as registered."""

    def __attrs_post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"format name {self.name!r} must be a short word")
        for ext in self.extensions:
            if not ext.startswith(".") or ext != ext.lower():
                raise ValueError(f"extension {ext!r} must be lower case and start with a dot")

    def with_options(self, **options: Any) -> Format:
        """This format with read options fixed: its readers get them as keyword arguments.

        Options given as ``None`` are left out (the reader detects them). An option
        the format does not take is an :class:`~clen_core.errors.ArgumentError`.
        ``get_format("csv").with_options(delimiter=";", decimal=",")`` reads an
        Excel CSV of a European locale, wherever a ``format=`` is taken.
        """
        given = {k: v for k, v in options.items() if v is not None}
        unknown = sorted(set(given) - set(self.read_options))
        if unknown:
            takes = (
                f"it takes {', '.join(self.read_options)}" if self.read_options else "it takes none"
            )
            raise ArgumentError(
                f"format {self.name!r} has no read option {', '.join(unknown)} ({takes})"
            )
        if not given:
            return self

        def bind(fn: Any) -> Any:
            return None if fn is None else functools.partial(fn, **given)

        return attrs.evolve(
            self,
            options={**self.options, **given},
            read=bind(self.read),
            read_batches=bind(self.read_batches),
            read_dataset=bind(self.read_dataset),
        )


FORMAT_REGISTRY: Registry[Format] = Registry(
    "format",
    unknown=UnknownFormatError,
    same=lambda a, b: a.plugin == b.plugin,
    owner=lambda fmt: fmt.plugin,
)
"""The registered formats by name (every one comes from a plugin)."""
FORMATS = FORMAT_REGISTRY.view
"""Read-only view of the registered formats by name (after plugins load)."""

Detector = Callable[[str, bytes], "str | None"]
"""``detect(path, head)``: the name of a file's format from its first bytes, or ``None``."""
_detector: Detector | None = None


def set_detector(detector: Detector | None) -> None:
    """Install what :func:`format_for_path` asks when an extension says nothing (the plugin
    manager installs its ``clen_detect_format`` hook)."""
    global _detector
    _detector = detector


def register_format(fmt: Format, *, plugin: str | None = None) -> Format:
    """Add a format; a name already taken by another plugin is an error."""
    if plugin is not None:
        fmt = attrs.evolve(fmt, plugin=plugin)
    return FORMAT_REGISTRY.add(fmt.name, fmt)


def formats() -> tuple[Format, ...]:
    """Every registered format, by name."""
    return tuple(sorted(FORMAT_REGISTRY.values(), key=lambda f: f.name))


def get_format(name: str) -> Format:
    """The format called ``name``."""
    return FORMAT_REGISTRY.get(name)


def read_format(
    path: str | Path,
    *,
    entity: str | type,
    format: str | Format | None = None,
    **options: Any,
) -> Format:
    """The format to read the file ``path`` of ``entity`` with, every read option settled.

    The format is ``format``, else the one the file's name or first bytes say.
    ``options`` are its read options (CSV: ``delimiter``, ``decimal``,
    ``encoding``); ``None`` or absent ones are detected from the file, and the
    format returned has them all in :attr:`Format.options` (what was detected,
    to report). A file whose options cannot be told raises
    :class:`FormatError` naming the choices; an option the format does not take,
    :class:`~clen_core.errors.ArgumentError`. Pass the result as ``format=`` to
    :func:`~clen_core.read`, :func:`~clen_core.validate_file` or
    :func:`~clen_core.convert` (``from_format=``).
    """
    path = Path(path)
    if isinstance(format, Format):
        fmt = format
    elif format is not None:
        fmt = get_format(format)
    else:
        with open(path, "rb") as f:
            fmt = format_for_path(path, head=f.read(HEAD_BYTES))
    fmt = fmt.with_options(**options)
    if fmt.sniff is None:
        return fmt
    with open(path, "rb") as source:
        settled = fmt.sniff(source, get_entity(entity), str(path), **fmt.options)
    return fmt.with_options(**settled)


def format_for_path(path: str | Path, *, head: bytes | None = None) -> Format:
    """The format of a file: by its extension, else by the ``clen_detect_format`` hook."""
    registered = FORMAT_REGISTRY.values()
    name = Path(path).name.lower()
    by_ext = [(len(ext), f) for f in registered for ext in f.extensions if name.endswith(ext)]
    if by_ext:
        return max(by_ext, key=lambda t: t[0])[1]
    if head is not None and _detector is not None:
        detected = _detector(str(path), head)
        if detected is not None:
            return get_format(detected)
    raise UnknownFormatError(
        f"cannot tell the format of {path}: its name ends in no known extension "
        f"({', '.join(e for f in registered for e in f.extensions)}); give format="
    )


def describe(fmt: Format) -> dict[str, Any]:
    """A format as a row of ``clen formats``."""
    return {
        "name": fmt.name,
        "extensions": list(fmt.extensions),
        "read": fmt.read is not None,
        "write": fmt.write is not None,
        "dataset": fmt.write_dataset is not None,
        "plugin": fmt.plugin,
        "description": fmt.description,
    }
