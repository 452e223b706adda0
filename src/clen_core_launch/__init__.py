"""The ``clen`` command's launcher: it readies the process, then runs :mod:`clen_core.cli`.

It lives outside the ``clen_core`` package on purpose: importing ``clen_core``
imports pyarrow, and pyarrow imports numpy, so what must come before those
imports cannot be done from inside the package. Only the command does this;
importing clen_core as a library changes nothing in its user's process.

- numpy's OpenBLAS starts a thread per core when loaded, which spin-waits for a
  while: 0.13 s of CPU and up to 0.15 s of a million-row ``clen validate`` on two
  cores, for a library the command never calls. ``OPENBLAS_NUM_THREADS`` is set
  to 1 unless the environment already says otherwise.
- Garbage collection is paused while the modules and plugins load (about a
  hundred collections that find nothing, 50 ms), and what they built is then
  frozen out of later collections (:func:`gc.freeze`).
"""

from __future__ import annotations

import gc
import os

__all__ = ["main"]


def main() -> None:
    """The console-script entry point of ``clen``."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    collecting = gc.isenabled()
    gc.disable()
    try:
        from clen_core import cli
        from clen_core.plugins import get_plugin_manager

        get_plugin_manager()  # the plugins load here, not in the first command's time
    finally:
        if collecting:
            gc.enable()
    gc.freeze()
    cli.main()
