"""The ``clen`` command's launcher: it readies the process, then runs :mod:`clen_core.cli`.

It lives outside the ``clen_core`` package on purpose: importing ``clen_core``
imports pyarrow, and pyarrow imports numpy, so what must come before those
imports cannot be done from inside the package. Only the command does this;
importing clen_core as a library changes nothing in its user's process.

- numpy's OpenBLAS starts a thread per core when loaded, which spin-waits for a
  while: 0.13 s of CPU and up to 0.15 s of a million-row ``clen validate`` on two
  cores, for a library the command never calls. ``OPENBLAS_NUM_THREADS`` is set
  to 1 unless the environment already says otherwise.
- pyarrow's allocator (mimalloc) hands memory it has freed back to the system
  after 10 ms, and takes fresh pages again for the next batch: a streaming read
  frees and allocates its buffers all the time, and the kernel zeroes every
  fresh page. On the virtual machines measured that took 0.1-0.4 s of system
  time per million CSV rows. ``MIMALLOC_PURGE_DELAY=-1`` keeps freed memory for
  reuse until the command ends (the peak memory is the same: what is kept is
  reused), unless the environment already says otherwise.
- Garbage collection is paused while the modules and plugins load (about a
  hundred collections that find nothing, 50 ms), and what they built is then
  frozen out of later collections (:func:`gc.freeze`).
"""

from __future__ import annotations

import gc
import os

__all__ = ["ENVIRONMENT", "main"]

ENVIRONMENT = {"OPENBLAS_NUM_THREADS": "1", "MIMALLOC_PURGE_DELAY": "-1"}
"""Set (unless already set) before numpy and pyarrow load: see the module's text."""


def main() -> None:
    """The console-script entry point of ``clen``."""
    for name, value in ENVIRONMENT.items():
        os.environ.setdefault(name, value)
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
