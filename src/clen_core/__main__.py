"""``python -m clen_core``: the ``clen`` command (``python -m clen_core --help``).

The same commands, options and exit codes as the ``clen`` script; only the
launcher's tuning of the process (:mod:`clen_core_launch`) is left out, since
the package is already imported when this module runs.
"""

from __future__ import annotations

from clen_core.cli import main

if __name__ == "__main__":
    main(prog_name="python -m clen_core")
