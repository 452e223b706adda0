"""Atomic files: a write that replaces its target whole, or not at all.

Every writer of clen_core (single files, datasets in one document, PT reports)
goes through :func:`atomic_file`; partitioned datasets, which replace a whole
folder, build on the same temporary-then-rename idea in
:mod:`clen_core.io.partitioned`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from clen_core.errors import ArgumentError

__all__ = ["atomic_file", "naming", "paths_apart"]


@contextlib.contextmanager
def atomic_file(path: str | Path) -> Iterator[IO[bytes]]:
    """A binary file that replaces ``path`` only if the ``with`` block completes.

    The data goes to a hidden temporary file in the same folder (so the final
    rename is atomic); on any exception it is removed and ``path`` is untouched.
    The temporary file's name holds the writer's process ID
    (``.NAME.PID.RANDOM.clen-tmp``): a process killed outright (SIGKILL, power
    loss) leaves it behind, and the next write of the same target removes those
    of its temporary files whose process is gone (or that are a day old).

    A symbolic link is followed: the file it names is replaced (in its own folder),
    and the link stays a link to it, as a partitioned dataset's link does. A system
    error that names no file (a full disk) is raised naming ``path``.
    """
    target = Path(os.path.realpath(path))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_temporaries(target)
        fd, tmp = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.{os.getpid()}.", suffix=_TMP_SUFFIX
        )
    except OSError as exc:
        raise naming(exc, path) from None
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if _errno_of(exc) in _WRITE_ERRORS:  # not an error of what the block reads
            raise naming(exc, path) from None
        raise
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


_WRITE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO}


def naming(exc: OSError, path: str | Path) -> OSError:
    """``exc``, or when it names no file, the same error naming ``path`` (its kind and
    number kept, Arrow's wording of it reduced to the system's)."""
    if exc.filename is not None:
        return exc
    number = _errno_of(exc)
    if number is None:
        return exc
    named = OSError(number, os.strerror(number), str(path))
    named.__cause__ = exc
    return named


def _errno_of(exc: OSError) -> int | None:
    return exc.errno if exc.errno is not None else _errno_in(str(exc))


def _errno_in(text: str) -> int | None:
    # Arrow words a system error as "... [errno 28] No space left on device".
    found = re.search(r"\[errno (\d+)\]", text, re.IGNORECASE)
    return int(found[1]) if found else None


def paths_apart(**paths: str | Path | None) -> None:
    """Refuse, before anything is read or written, two paths of one command (by role:
    ``source=``, ``target=``, ``rejects=``, ``report=``) that are the same file or folder,
    or of which one lies inside the other: a rejects file that is the target would be
    replaced by it; one inside a dataset folder would be swapped away with the old
    version; a target that is the source would replace it. Symbolic links and ``..``
    are resolved, and hard links of an existing file are seen as the same file.

    Raises :class:`~clen_core.errors.ArgumentError` naming both paths.
    """
    given = {role: Path(p) for role, p in paths.items() if p is not None}
    real = {role: Path(os.path.realpath(p)) for role, p in given.items()}
    roles = list(given)
    for i, first in enumerate(roles):
        for later in roles[i + 1 :]:
            one, other = real[later], real[first]
            if one == other or _same_file(given[later], given[first]):
                how = "is the same file as"
            elif one.is_relative_to(other):
                how = "lies inside"
            elif other.is_relative_to(one):
                how = "contains"
            else:
                continue
            raise ArgumentError(
                f"{given[later]}: the {_ROLE.get(later, later)} {how} the "
                f"{_ROLE.get(first, first)} {given[first]}; give them paths apart"
            )


_ROLE = {"source": "source", "target": "target", "rejects": "rejects file", "report": "report"}


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one does not exist (yet)
        return False


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
