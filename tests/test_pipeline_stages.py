"""The background stage that lets reading, checking and writing overlap."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clen_core._pipeline import ahead


@given(st.lists(st.integers()), st.integers(1, 4))
def test_items_arrive_in_order(items: list[int], depth: int) -> None:
    assert list(ahead(iter(items), depth=depth)) == items


def test_an_exception_arrives_after_the_items_before_it() -> None:
    def source() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("bad block")

    stream = ahead(source())
    assert [next(stream), next(stream)] == [1, 2]
    with pytest.raises(ValueError, match="bad block"):
        next(stream)


def test_the_producer_runs_at_most_depth_items_ahead_and_stops_when_closed() -> None:
    produced: list[int] = []
    closed = threading.Event()
    threads: list[str] = []

    def source() -> Iterator[int]:
        try:
            for i in range(1_000):
                produced.append(i)
                threads.append(threading.current_thread().name)
                yield i
        finally:
            closed.set()

    stream = ahead(source(), depth=2)
    assert next(stream) == 0
    stream.close()
    # Closing returns once the producer has stopped and closed its source, in its thread.
    assert closed.is_set()
    # At most: the item handed over, two in the queue, one blocked on the full queue.
    assert len(produced) <= 4
    assert set(threads) == {"clen-stage"}
