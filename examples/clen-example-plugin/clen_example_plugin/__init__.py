"""An example clen_core plugin: a tab-separated format and one validation rule.

It uses only clen_core's public API and registers through the ``clen_core``
entry-point group (see ``pyproject.toml``), as any third-party plugin does.

The ``tsv`` format
------------------

One entity per file, UTF-8, tab-separated, written and read with the
standard library's :mod:`csv` module (``delimiter="\\t"``):

- the first line is the header: the entity's field names, in declaration
  order; data rows follow, row 2 being the first record (row numbers in
  rejects count the header as row 1);
- an empty cell is a missing value (``None``);
- numbers, dates (``YYYY-MM-DD``), decimals and booleans (``true``/``false``)
  are written as text and parsed back by clen_core (the format's flavour is
  ``"text"``, as for CSV);
- lists and mappings are one JSON document in the cell, e.g.
  ``["tobacco", "textiles"]`` or ``{"en": ["water"]}``;
- lines end with CRLF, as the :mod:`csv` module writes them; a cell holding
  a tab, a line break or a double quote is quoted with double quotes the
  :mod:`csv` way (``"a\\tb"``, a quote doubled), so any text round-trips.

Its limits, being a plain TSV:

- it cannot tell an empty string from a missing value: both are an empty
  cell, read back as ``None`` (so an optional field's ``""`` comes back as
  ``None``, and a required field's ``""`` is rejected); use CSV, JSON or
  Parquet when that difference matters;
- no type information and no metadata travel in the file: the reader must be
  told the entity (``entity=``), and every value is parsed from text;
- quoting makes it "TSV with CSV quoting", which strict TSV readers (that
  forbid tabs and newlines in cells) may not accept.

The ``EXA-001`` rule
--------------------

A warning on activities with more than 500 participants: large events are
worth a second look. It is a table rule, run vectorised over the Arrow
column of participants.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

import pyarrow as pa
import pyarrow.compute as pc

from clen_core.plugin_api import (
    Context,
    EntityInfo,
    Format,
    FormatError,
    RawRecord,
    RowProblem,
    Rule,
    hookimpl,
    json_rows,
    rule,
)

__all__ = ["MAX_PARTICIPANTS", "TSV", "clen_register_formats", "clen_register_rules"]

MAX_PARTICIPANTS = 500
"""Above this many participants, EXA-001 flags an activity."""


# --------------------------------------------------------------------------- the format


def _cell(value: Any) -> str:
    """A JSON-ready value as the text of one cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def write_tsv(sink: IO[bytes], entity: EntityInfo, batches: Iterable[pa.RecordBatch]) -> None:
    """Write the batches of one entity as TSV, a header line first."""
    text = io.TextIOWrapper(sink, encoding="utf-8", newline="")
    try:
        # The csv module's own line end (CRLF): with "\n" it would not quote a lone "\r".
        out = csv.writer(text, delimiter="\t")
        names = entity.field_names
        out.writerow(names)
        for batch in batches:
            for record in json_rows(batch, entity):
                out.writerow([_cell(record[name]) for name in names])
        text.flush()
    finally:
        text.detach()  # the sink belongs to clen_core: do not close it


def read_tsv(source: IO[bytes], entity: EntityInfo, path: str) -> Iterator[RawRecord | RowProblem]:
    """The rows of a TSV file of one entity, as text values (``None`` for an empty cell)."""
    text = io.TextIOWrapper(source, encoding="utf-8", newline="")
    try:
        rows = csv.reader(text, delimiter="\t")
        header = next(rows, None)
        if header is None:
            return
        unknown = [name for name in header if name not in entity.field_names]
        if unknown:
            raise FormatError(
                path, f"not fields of {entity.name}: {', '.join(unknown)}", row=1, field=unknown[0]
            )
        if len(set(header)) != len(header):
            raise FormatError(path, "a column name appears twice in the header", row=1)
        for row, cells in enumerate(rows, start=2):
            if not cells:
                continue  # a blank line
            if len(cells) != len(header):
                yield RowProblem(
                    row, f"expected {len(header)} cells, found {len(cells)}", "\t".join(cells)
                )
                continue
            values = {name: cell or None for name, cell in zip(header, cells, strict=True)}
            yield RawRecord(row, values)
    except UnicodeDecodeError as exc:
        raise FormatError(path, f"not UTF-8 text ({exc.reason})") from None
    finally:
        text.detach()


TSV = Format(
    name="tsv",
    extensions=(".tsv",),
    description="Tab-separated values (example plugin); lists and maps as JSON in the cell",
    flavour="text",
    read=read_tsv,
    write=write_tsv,
)
"""The format this plugin registers."""


# --------------------------------------------------------------------------- the rule


@rule(
    "EXA-001",
    "warning",
    "activity",
    f"An activity has more than {MAX_PARTICIPANTS} participants.",
    reads=("participants",),  # all `clen validate` keeps of each row for this rule
    register=False,  # registered through the hook below, so it can be disabled with the plugin
)
def large_activity(ctx: Context) -> None:
    """Flag activities with more than MAX_PARTICIPANTS participants."""
    participants = ctx.column("activity", "participants")
    ctx.flag(
        "activity",
        pc.greater(participants, MAX_PARTICIPANTS),
        "participants",
        lambda n: f"{n} participants, more than {MAX_PARTICIPANTS}: worth a second look",
    )


# --------------------------------------------------------------------------- the hooks


@hookimpl
def clen_register_formats(register: Callable[[Format], None]) -> None:
    """Register the ``tsv`` format."""
    register(TSV)


@hookimpl
def clen_register_rules(register: Callable[[Rule], None]) -> None:
    """Register the ``EXA-001`` rule."""
    register(large_activity)
