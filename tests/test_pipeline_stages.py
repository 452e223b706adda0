"""The background stage that lets reading, checking and writing overlap."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clen_core.io.stages import ahead, behind


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


@given(st.lists(st.integers()), st.integers(1, 4))
def test_behind_consumes_every_item_in_order_in_another_thread(
    items: list[int], depth: int
) -> None:
    seen: list[str] = []

    def consume(stream: Iterator[int]) -> list[int]:
        seen.append(threading.current_thread().name)
        return list(stream)

    assert behind(consume, iter(items), depth=depth) == items
    assert seen == ["clen-stage"]


def test_behind_a_failing_producer_abandons_the_consumer_and_raises_here() -> None:
    got: list[int] = []
    abandoned: list[BaseException] = []

    def source() -> Iterator[int]:
        yield 1
        raise KeyError("cursor gone")

    def consume(stream: Iterator[int]) -> None:
        try:
            for x in stream:
                got.append(x)
        except BaseException as exc:
            abandoned.append(exc)
            raise

    with pytest.raises(KeyError, match="cursor gone"):
        behind(consume, source())
    assert got == [1]
    assert len(abandoned) == 1


def test_behind_a_failing_consumer_stops_the_producer_and_raises_here() -> None:
    produced: list[int] = []

    def source() -> Iterator[int]:
        for i in range(1_000_000):
            produced.append(i)
            yield i

    def consume(stream: Iterator[int]) -> None:
        next(stream)
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        behind(consume, source())
    assert len(produced) < 100


def test_clen_threads_0_runs_every_stage_in_the_callers_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CLEN_THREADS", "0")
    here = threading.current_thread().name
    seen: list[str] = []

    def source() -> Iterator[int]:
        seen.append(threading.current_thread().name)
        yield from range(3)

    def consume(stream: Iterator[int]) -> list[int]:
        seen.append(threading.current_thread().name)
        return list(stream)

    assert list(ahead(source())) == [0, 1, 2]
    assert behind(consume, iter([4, 5])) == [4, 5]
    assert seen == [here, here]
