"""Build ``src/clen_core/codes/hs2022.txt``: the six-digit subheadings of HS 2022.

Reads the published HS 2022 nomenclature (``harmonized-system.csv`` of the
``datasets/harmonized-system`` project, source UN Comtrade, licence ODC-PDDL 1.0) and
writes one six-digit subheading per line, sorted. Only level-6 rows are kept, and the
statistical row ``999999`` ("Commodities not specified according to kind") is dropped:
it is no goods code. The CSV has quoted descriptions with commas and line breaks, so it is
read with the csv module.

Usage::

    python scripts/build_hs_nomenclature.py [CSV] [--output PATH | --output -] [--check]

``--check`` compares with the output file instead of writing it (exit status 1 if they
differ). ``--output -`` writes to standard output.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CSV = REPO.parent / "shared/data/harmonized-system/harmonized-system.csv"
DEFAULT_OUTPUT = REPO / "src/clen_core/codes/hs2022.txt"
STATISTICAL_CODES = frozenset({"999999"})
"""Level-6 rows that are statistical, not goods codes."""

_SUBHEADING = re.compile(r"[0-9]{6}")


def subheadings(csv_path: Path) -> list[str]:
    """The sorted six-digit subheadings in the nomenclature CSV at ``csv_path``."""
    codes: set[str] = set()
    with csv_path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["level"] != "6":
                continue
            code = row["hscode"].strip()
            if _SUBHEADING.fullmatch(code) is None:
                raise ValueError(f"{csv_path}: level-6 row with code {code!r}")
            if code not in STATISTICAL_CODES:
                codes.add(code)
    return sorted(codes)


def render(csv_path: Path) -> str:
    """The text of ``hs2022.txt`` built from ``csv_path``."""
    return "".join(f"{code}\n" for code in subheadings(csv_path))


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", nargs="?", type=Path, default=DEFAULT_CSV, help="nomenclature CSV")
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT), help="file to write, or -")
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    text = render(args.csv)
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    output = Path(args.output)
    if args.check:
        current = output.read_text(encoding="ascii") if output.exists() else None
        if current != text:
            print(f"{output} is out of date; run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    output.write_text(text, encoding="ascii", newline="\n")
    print(f"wrote {text.count(chr(10))} subheadings to {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
