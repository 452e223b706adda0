"""Stages of a batch pipeline run side by side: one background thread per stage.

Reading a CSV block, checking a batch and compressing a Parquet row group are
mostly Arrow work that releases the GIL, so a stage in a thread overlaps with
the next stage on another core. :func:`ahead` runs an iterator in a thread and
hands its items over through a bounded queue: at most ``depth`` items wait,
which keeps memory bounded by the batch size, not the file.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from typing import Any, TypeVar

__all__ = ["ahead"]

T = TypeVar("T")

_DONE = object()


class _Raised:
    """An exception of the producer, to be raised again in the consumer."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def ahead(
    items: Iterator[T], *, depth: int = 1, name: str = "clen-stage"
) -> Generator[T, None, None]:
    """The items of ``items``, produced in a background thread up to ``depth`` ahead.

    Items and a final exception arrive in order. Closing the generator early
    stops the producer at its next item and closes ``items`` in its own thread.
    """
    handoff: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        # A bounded wait, so that a consumer gone away cannot leave the producer stuck.
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as exc:  # handed to the consumer, which raises it
            put(_Raised(exc))
            return
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()
        put(_DONE)

    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()
    try:
        while True:
            item = handoff.get()
            if item is _DONE:
                return
            if isinstance(item, _Raised):
                raise item.exc
            yield item
    finally:
        stop.set()
        thread.join()
