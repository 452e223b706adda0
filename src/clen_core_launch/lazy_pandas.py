"""Keep pyarrow from importing pandas at a command's first array.

pyarrow looks for pandas on its first ``pa.array``/``pa.scalar`` call (any
argument, even a list of ints, or a Python value handed to a compute function)
and, when pandas is installed, imports it: about 0.3 s, a quarter of a small
``clen convert``, for a library the command never uses. It looks twice, in two
places that each remember the answer:

- its Python layer (is this argument a pandas object?): :func:`defer` answers
  "no pandas", and should pandas be imported later it tells that layer at once,
  so ``pa.array(a_series)`` and ``pa.Table.from_pandas`` work as ever;
- its C++ sequence converter, which fetches ``pandas.NA`` and ``pandas.NaT`` to
  read them as nulls in Python lists: it is handed an empty stand-in, and keeps
  no such values for the rest of the process.

So, after :func:`defer`, a ``pd.NA`` or ``pd.NaT`` inside a Python list or an
object column is no longer read as null. Only the ``clen`` command's launcher
calls it (:func:`clen_core_launch.defer_pandas`, once the plugins have loaded),
and only when no other package's plugin is loaded: clen_core's own code never
hands pandas values to pyarrow, and a library must not change pyarrow's state
in its user's process.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

__all__ = ["defer"]


def defer() -> None:
    """Answer pyarrow's looks for pandas with "absent" (see the module's text)."""
    if "pandas" in sys.modules or any(isinstance(f, _Watch) for f in sys.meta_path):
        return
    import pyarrow as pa

    watch = _Watch()
    sys.meta_path.insert(0, watch)
    watch.refuse = True
    try:
        pa.array([], pa.int64())  # the Python layer notes "no pandas"; C++ finds none yet
    finally:
        watch.refuse = False
    sys.modules["pandas"] = ModuleType("pandas")  # without NA, NaT, Timestamp, ...
    try:
        pa.array([None])  # C++ takes the stand-in for pandas and stops looking
    finally:
        del sys.modules["pandas"]


def _tell_pyarrow() -> None:
    import pyarrow as pa

    # Its pandas handle, asked for, imports pandas again (now found) and keeps it.
    pa.lib._pandas_api.pd  # noqa: B018


class _Watch(importlib.abc.MetaPathFinder):
    """Finds nothing; when pandas is found by the others, runs its import, then tells pyarrow."""

    refuse = False
    """While true, importing pandas raises ImportError, as if it were not installed."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "pandas":
            return None
        if self.refuse:
            raise ImportError("pandas is not imported while pyarrow looks for it", name=fullname)
        sys.meta_path.remove(self)  # once, and not for the lookup just below
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module: Any) -> None:
            run(module)
            _tell_pyarrow()

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec
