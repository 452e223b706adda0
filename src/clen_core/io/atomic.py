"""Atomic files: a write that replaces its target whole, or not at all.

Every writer of clen_core (single files, datasets in one document, PT reports)
goes through :func:`atomic_file`; partitioned datasets, which replace a whole
folder, build on the same temporary-then-rename idea in
:mod:`clen_core.io.partitioned`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

__all__ = ["atomic_file"]


@contextlib.contextmanager
def atomic_file(path: str | Path) -> Iterator[IO[bytes]]:
    """A binary file that replaces ``path`` only if the ``with`` block completes.

    The data goes to a hidden temporary file in the same folder (so the final
    rename is atomic); on any exception it is removed and ``path`` is untouched.
    The temporary file's name holds the writer's process ID
    (``.NAME.PID.RANDOM.clen-tmp``): a process killed outright (SIGKILL, power
    loss) leaves it behind, and the next write of the same target removes those
    of its temporary files whose process is gone (or that are a day old).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(target)
    fd, tmp = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.{os.getpid()}.", suffix=_TMP_SUFFIX
    )
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


_TMP_SUFFIX = ".clen-tmp"
_STALE_SECONDS = 24 * 3600


def _remove_stale_temporaries(target: Path) -> None:
    """Remove the temporary files of earlier writes of ``target`` whose writer is gone."""
    prefix = f".{target.name}."
    try:
        names = [n for n in os.listdir(target.parent) if n.startswith(prefix)]
    except OSError:
        return
    for name in names:
        middle = name[len(prefix) :]
        pid, _, rest = middle.partition(".")
        if not (name.endswith(_TMP_SUFFIX) and pid.isdigit() and rest.count(".") == 1):
            continue  # only our own pattern: .NAME.PID.RANDOM.clen-tmp
        file = target.parent / name
        with contextlib.suppress(OSError):
            if _alive(int(pid)) and time.time() - file.lstat().st_mtime < _STALE_SECONDS:
                continue  # a write in progress (this or another process)
            if file.is_file() and not file.is_symlink():
                file.unlink()


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by another user
        return True
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
