"""``python -m clen_core``: build the embedded reference dataset, validate it, print the report.

Exit status 0 when the data has no error-severity finding, 1 otherwise.
"""

from __future__ import annotations

import sys

from clen_core import __version__, validate
from clen_core.data import reference_dataset


def main() -> int:
    """Run the reference job and return the exit status."""
    dataset = reference_dataset()
    print(f"clen_core {__version__}: reference dataset")
    for name, n in dataset.counts().items():
        print(f"  {name:<22}{n:>5}")
    print(f"  {'total':<22}{len(dataset):>5}\n")
    report = validate(dataset)
    print(report.format_table(limit=None))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
