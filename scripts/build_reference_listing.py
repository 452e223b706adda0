"""Build ``src/clen_core/data/_action5.py``: the published Action 5 activities, read by the
project's own ``listing`` importer.

The source is ``src/clen_core/data/action5.txt``, a byte-for-byte copy of the
Commission's page "Action 5 of the Customs Laboratories European Network: Scientific
expertise" (text from its PDF; ``shared/seeds/001_8fa727c55203dce2.txt``). The importer
(``clen_core_listing``, the ``listing`` format) reads it into ``activity`` and
``project_group`` records; this script checks each with its entity and writes them as
Python, with the line of the page each comes from. The only lines the importer may
report are those of the page's introduction (prose before the first theme): any other
problem stops the build.

Why at build time: the reference dataset must not depend on a plugin being enabled
(``CLEN_DISABLE_PLUGINS=listing``) nor change when the importer does; ``--check`` (run
by ``tests/test_data.py``) fails as soon as the importer reads the page otherwise.

Usage::

    python scripts/build_reference_listing.py [--output PATH | --output -] [--check]
"""

from __future__ import annotations

import argparse
import datetime as dt
import enum
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "src/clen_core/data/action5.txt"
DEFAULT_OUTPUT = REPO / "src/clen_core/data/_action5.py"

_HEADER = '''"""The Commission's Action 5 page, as the ``listing`` importer reads it (generated).

Written by ``python scripts/build_reference_listing.py`` from ``action5.txt`` (a copy
of the page "Action 5 of the Customs Laboratories European Network: Scientific
expertise"): do not edit; ``tests/test_data.py`` fails while this differs from what the
importer reads. Each record comes with the line of the page where it starts.
"""

import datetime as dt

from clen_core.model import Activity, ActivityKind, ProjectGroup

_D = dt.date

SOURCE_FILE = "action5.txt"
"""The page's text, shipped in this package."""

'''


def _literal(value: Any) -> str:
    if isinstance(value, enum.Enum):
        return f"{type(value).__name__}.{value.name}"
    if isinstance(value, dt.date):
        return f"_D({value.year}, {value.month}, {value.day})"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a Python literal too, in double quotes
    return repr(value)


def _construct(obj: Any, names: list[str]) -> str:
    args = ", ".join(f"{n}={_literal(getattr(obj, n))}" for n in names)
    return f"{type(obj).__name__}({args})"


Read = tuple[int, Any, list[str]]
"""A record read: its line, the checked object, the fields the importer gave."""


def read(source: Path = SOURCE) -> tuple[list[Read], list[Read], list[int]]:
    """The project groups and activities of the page, and the lines of its introduction
    that the importer reports. Raises ``ValueError`` on any other problem."""
    from clen_core.io.records import Decoder, RawRecord, RowProblem
    from clen_core.model.entity import get_entity
    from clen_core_listing import parse_listing

    listing = parse_listing(source.read_text(encoding="utf-8"), str(source))
    records = [r for r in listing.items if isinstance(r, RawRecord)]
    problems = [p for p in listing.items if isinstance(p, RowProblem)]
    if not records:
        raise ValueError(f"{source}: the importer found no activity")
    first = min(r.row for r in [*records, *listing.groups])
    late = [p for p in problems if p.row >= first]
    if late:
        raise ValueError(f"{source}: the importer does not read the page whole: {late}")

    def checked(entity: str, raws: list[RawRecord]) -> list[Read]:
        decoder = Decoder(get_entity(entity), "json")
        return [(r.row, decoder.decode(r.values), list(r.values)) for r in raws]

    return (
        checked("project_group", list(listing.groups)),
        checked("activity", records),
        [p.row for p in problems],
    )


def render(source: Path = SOURCE) -> str:
    """The text of ``_action5.py`` built from ``source``."""
    groups, activities, prose = read(source)
    # Only the fields the importer gave: the others keep their defaults.
    return "".join(
        [
            _HEADER,
            f"INTRODUCTION_LINES: tuple[int, ...] = {tuple(prose)!r}\n",
            '"""Lines the importer reports as not understood: the page\'s introduction."""\n',
            "\n# fmt: off\n",
            "PROJECT_GROUPS: tuple[tuple[int, ProjectGroup], ...] = (\n",
            *(f"    ({row}, {_construct(g, names)}),\n" for row, g, names in groups),
            ")\n",
            '"""The project groups the page names, each with its line (the sub-heading)."""\n\n',
            "ACTIVITIES: tuple[tuple[int, Activity], ...] = (\n",
            *(f"    ({row}, {_construct(a, names)}),\n" for row, a, names in activities),
            ")\n",
            '"""The activities, each with the line where its entry starts."""\n',
            "# fmt: on\n",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE, help="the page's text")
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT), help="file to write, or -")
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    text = render(args.source)
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    output = Path(args.output)
    if args.check:
        if not output.is_file() or output.read_text(encoding="utf-8") != text:
            print(f"{output} differs from what the importer reads from {args.source}: "
                  "run python scripts/build_reference_listing.py", file=sys.stderr)  # fmt: skip
            return 1
        return 0
    output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
