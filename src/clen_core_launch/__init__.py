"""The ``clen`` command's launcher: it readies the process, then runs :mod:`clen_core.cli`.

It lives outside the ``clen_core`` package on purpose: importing ``clen_core``
imports pyarrow, and pyarrow imports numpy, so what must come before those
imports cannot be done from inside the package. Only the command does this;
importing clen_core as a library changes nothing in its user's process.

- pyarrow imports numpy when it is installed (35-60 ms), though clen_core never
  calls it. When every plugin installed is clen_core's own, numpy is kept out of
  the process (``sys.modules["numpy"] = None``): pyarrow then runs as it does
  without numpy, and an import of numpy fails with an ImportError. Another
  package's plugin may use numpy: then it loads as usual.
- numpy's OpenBLAS starts a thread per core when loaded, which spin-waits for a
  while: 0.13 s of CPU and up to 0.15 s of a million-row ``clen validate`` on two
  cores, for a library the command never calls. ``OPENBLAS_NUM_THREADS`` is set
  to 1 unless the environment already says otherwise (for when numpy loads).
- pyarrow's allocator (mimalloc) hands memory it has freed back to the system
  after a delay, and takes fresh pages again for the next batch, which the
  kernel zeroes: reading frees and allocates its buffers all the time. For
  ``clen validate``, when it kept every row for the rules, that was 0.2-0.4 s
  of system time a million CSV rows on the machines measured, so its memory was
  kept for reuse until it ended (``MIMALLOC_PURGE_DELAY=-1``). It now streams
  (past a million rows the keys go to disk, and DuckDB checks them at the end):
  memory kept by pyarrow then adds to DuckDB's (ten million substances: 598 MB
  against 355 MB), so it purges after 100 ms, as ``convert`` does. For
  ``clen convert``, which streams, kept memory raised its peak by a sixth, and
  more on a longer file: pyarrow 26's mimalloc keeps freed memory for a second
  (``purge_delay`` 1000 ms), in the heap of each thread that allocated it (one
  per pipeline stage). Its peak for ten million rows was 317-349 MB against
  292-327 MB for one million; ``MIMALLOC_PURGE_DELAY=100`` brings that to
  289-299 against 278-284 MB at the same speed (10 ms: 271-277 MB, but 10 %
  slower).
  Neither is set when the environment already says otherwise.
- pyarrow imports pandas (0.3 s) at its first array, though the command never
  uses it: once the plugins have loaded, and only when every one loaded is
  clen_core's own, pyarrow is told that pandas is absent (:func:`defer_pandas`,
  see :mod:`clen_core_launch.lazy_pandas`); should pandas be imported later,
  pyarrow is told then.
- A plugin that fails under ``CLEN_STRICT_PLUGINS=1`` stops the command that needs
  the plugins, which says so in one line (the load is tried again there), not
  here with a traceback; ``clen --help`` still works.
- Garbage collection is paused while the modules and plugins load (about a
  hundred collections that find nothing, 50 ms), and what they built is then
  frozen out of later collections (:func:`gc.freeze`).
- Ctrl-C while the modules load (a noticeable part of a second) ends the command
  as Ctrl-C at any later moment does: exit code 130, nothing printed (no
  ``KeyboardInterrupt`` traceback), a second Ctrl-C ignored while it ends.

:mod:`clen_core.cli` itself only parses, calls the library and renders; it
never imports this package.
"""

from __future__ import annotations

import gc
import os
import sys

__all__ = ["defer_pandas", "environment", "main", "only_own_plugins", "own_distribution"]

_PURGE_DELAY = {"validate": "100", "convert": "100"}
"""``MIMALLOC_PURGE_DELAY`` (ms) by command: how long freed memory is kept for reuse
(-1 would keep it until the end, for a command that held the whole file)."""


def environment(argv: list[str]) -> dict[str, str]:
    """What the command ``argv`` sets before numpy and pyarrow load (see the module's text)."""
    env = {"OPENBLAS_NUM_THREADS": "1"}
    command = next((a for a in argv[1:] if not a.startswith("-")), None)
    if command in _PURGE_DELAY:
        env["MIMALLOC_PURGE_DELAY"] = _PURGE_DELAY[command]
    return env


def own_distribution(name: str | None) -> bool:
    """Whether a plugin's distribution ``name`` is clen_core itself (any spelling of it)."""
    return (name or "").replace("-", "_").lower() == "clen_core"


def only_own_plugins() -> bool:
    """Whether every plugin installed (the ``clen_core`` entry points) is clen_core's own."""
    import importlib.metadata

    return all(
        own_distribution(e.dist.name if e.dist is not None else None)
        for e in importlib.metadata.entry_points(group="clen_core")
    )


def defer_pandas() -> None:
    """Keep pyarrow from importing pandas at its first array, when every plugin loaded
    is clen_core's own (another package's plugin may hand pandas values to pyarrow).

    Call it once the plugins have loaded (see :mod:`clen_core_launch.lazy_pandas`).
    """
    from clen_core import plugins
    from clen_core_launch.lazy_pandas import defer

    loaded = [p for p in plugins.list_plugins() if p.status == "loaded"]
    if all(own_distribution(p.distribution) for p in loaded):
        defer()


def main() -> None:
    """The console-script entry point of ``clen``.

    Ctrl-C at any moment, start-up included (the imports take a noticeable part of a
    second), ends the command with exit code 130 and nothing on stderr; once the
    command runs, :func:`clen_core.cli.main` handles it the same way.
    """
    try:
        _start()
    except KeyboardInterrupt:  # before clen_core.cli installed its own handler
        _quiet(130)
    except SystemExit as exc:
        if exc.code == 130:
            _quiet(130)
        raise


def _quiet(code: int) -> None:
    """Exit with ``code``, a second Ctrl-C ignored while the process ends."""
    import contextlib
    import signal

    with contextlib.suppress(ValueError, OSError):  # not the main thread
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise SystemExit(code)


def _start() -> None:
    for name, value in environment(sys.argv).items():
        os.environ.setdefault(name, value)
    collecting = gc.isenabled()
    gc.disable()
    try:
        if "numpy" not in sys.modules and only_own_plugins():
            sys.modules["numpy"] = None  # type: ignore[assignment]  # see the module's text
        from clen_core import cli
        from clen_core.plugins import get_plugin_manager

        try:
            get_plugin_manager()  # the plugins load here, not in the first command's time
        except Exception:  # the command that needs them says why, in one line
            pass
        else:
            defer_pandas()
    finally:
        if collecting:
            gc.enable()
    gc.freeze()
    cli.main()
