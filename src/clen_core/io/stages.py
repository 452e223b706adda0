"""Stages of a batch pipeline run side by side: one background thread per stage.

Reading a CSV block, checking a batch and compressing a Parquet row group are
mostly Arrow work that releases the GIL, so a stage in a thread overlaps with
the next stage on another core. :func:`ahead` runs an iterator in a thread and
hands its items over through a bounded queue; :func:`behind` runs the consumer
in a thread instead. At most ``depth`` items wait, which keeps memory bounded
by the batch size, not the file.

``CLEN_THREADS=0`` in the environment runs every stage in the caller's thread
instead (for profilers that see one thread, and for debugging).
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import Any, TypeVar

__all__ = ["ahead", "behind"]

T = TypeVar("T")
R = TypeVar("R")

_DONE = object()


def _threads() -> bool:
    return os.environ.get("CLEN_THREADS", "1").strip() != "0"


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
    if not _threads():
        yield from items
        return
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


class _Abandoned(Exception):
    """Raised inside a consumer whose producer failed: its work is to be thrown away."""


def behind(consume: Callable[[Iterator[T]], R], items: Iterable[T], *, depth: int = 1) -> R:
    """``consume(items)``, with ``consume`` in a background thread and ``items`` in this one.

    The mirror of :func:`ahead`, for when the items come from the caller's code
    (a generator over a database cursor must stay in its thread): this thread
    produces, the background thread consumes (e.g. compresses and writes). An
    exception on either side ends both and is raised here.
    """
    if not _threads():
        return consume(iter(items))
    handoff: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stopped = threading.Event()  # the consumer has returned or raised
    result: list[R] = []
    error: list[BaseException] = []

    def stream() -> Iterator[T]:
        while True:
            item = handoff.get()
            if item is _DONE:
                return
            if isinstance(item, _Raised):
                raise _Abandoned from item.exc
            yield item

    def run() -> None:
        try:
            result.append(consume(stream()))
        except BaseException as exc:  # raised again in the caller's thread
            error.append(exc)
        finally:
            stopped.set()

    def put(item: Any) -> None:
        while not stopped.is_set():
            try:
                handoff.put(item, timeout=0.05)
                return
            except queue.Full:
                continue

    thread = threading.Thread(target=run, name="clen-stage", daemon=True)
    thread.start()
    try:
        for item in items:
            if stopped.is_set():
                break
            put(item)
    except BaseException as exc:
        put(_Raised(exc))
        thread.join()
        raise
    put(_DONE)
    thread.join()
    if error:
        raise error[0]
    return result[0]
