"""HTML for notebook displays (``_repr_html_``): escaped, and capped in rows and characters.

The objects displayed hold values from data files, so every value is escaped here, and a
display never grows with the data: at most :data:`ROWS` rows a table and :data:`CHARS`
characters a cell, and it says how many rows are not shown.
"""

from __future__ import annotations

import enum
import html
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["CHARS", "ROWS", "cell", "more", "table", "text"]

ROWS = 50
"""Rows shown in a table of a notebook display; the rest are counted."""
CHARS = 120
"""Characters shown of a value; longer ones are cut with an ellipsis."""


def text(value: Any, limit: int = CHARS) -> str:
    """``value`` as text for a display (``None`` empty, an enum its value), cut at ``limit``."""
    if value is None:
        shown = ""
    elif isinstance(value, enum.Enum):
        shown = str(value.value)
    elif isinstance(value, float):
        shown = f"{value:.6g}"
    else:
        shown = str(value)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def cell(value: Any, limit: int = CHARS) -> str:
    """``value`` as escaped HTML text (see :func:`text`)."""
    return html.escape(text(value, limit), quote=True)


def more(hidden: int, what: str = "rows") -> str:
    """The line that says how many are not shown (empty when none is hidden)."""
    if hidden <= 0:
        return ""
    return f"<p><em>… and {hidden:,} more {html.escape(what)} not shown</em></p>"


def table(
    head: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    total: int | None = None,
    limit: int = ROWS,
    what: str = "rows",
) -> str:
    """An HTML table of at most ``limit`` of ``rows``; ``total``: rows in all, when more
    than ``rows`` gives (a capped report), for the line that says how many are not shown.

    Only the rows shown are taken from ``rows``, so an iterator of a million costs ``limit``.
    """
    shown: list[str] = []
    counted = 0
    for row in rows:
        counted += 1
        if len(shown) < limit:
            shown.append("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>")
        elif total is not None:
            break  # the total is known: no need to count the rest
    if total is None:
        total = counted
    header = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    return f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(shown)}</tbody></table>" + more(
        total - len(shown), what
    )
