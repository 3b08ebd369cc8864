"""The in-memory copies of stored, unsent mails: bounded, and each handed out once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from bot.outbox import unsent


@pytest.fixture(autouse=True)
def _empty(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    unsent.take(list(unsent._kept))
    monkeypatch.setattr(unsent, "_taken_at", float("-inf"))  # no sender here took any yet
    yield
    unsent.take(list(unsent._kept))


def test_a_copy_is_taken_once() -> None:
    unsent.keep([(1, b"one"), (2, b"two")])
    assert unsent.take([2, 3]) == {2: b"two"}
    assert unsent.take([2]) == {}  # a second job (a retry) reads the row from PostgreSQL
    assert unsent.take([1]) == {1: b"one"}


def test_memory_stays_under_the_limit_oldest_go_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(unsent, "LIMIT", 1000)
    unsent.keep((i, bytes(100)) for i in range(30))
    assert unsent._size <= 1000
    assert unsent.take(range(30)).keys() == set(range(20, 30))
    assert unsent._size == 0


@pytest.fixture
def small(monkeypatch: pytest.MonkeyPatch) -> None:
    """Room for ten copies of 100 bytes."""
    monkeypatch.setattr(unsent, "LIMIT", 1000)


async def _waits_until_taken(mails: int, taken: list[int]) -> None:
    """room(mails) waits, and returns once the sender here has taken those copies."""
    waiting = asyncio.ensure_future(unsent.room(mails))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    unsent.take(taken)
    await asyncio.wait_for(waiting, 1)


async def test_a_bulk_send_waits_for_room_while_this_process_sends(small: None) -> None:
    unsent.keep((i, bytes(100)) for i in range(9))
    unsent.take([0])  # this process's sender is at work
    await _waits_until_taken(3, [1, 2])  # 300 more bytes fit only after two more are taken
    assert unsent._size == 600


async def test_without_a_sender_in_this_process_nobody_waits(
    small: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    unsent.keep((i, bytes(100)) for i in range(10))
    await asyncio.wait_for(unsent.room(5), 0.05)  # full, but nothing here takes copies
    unsent.take([0])
    monkeypatch.setattr(unsent, "IDLE_S", 0.05)
    started = time.monotonic()
    await asyncio.wait_for(unsent.room(5), 1)  # the sender stopped taking: the wait ends
    assert time.monotonic() - started >= 0.05


async def test_copies_nobody_takes_do_not_hold_room_for_good(
    small: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    unsent.keep((i, bytes(100)) for i in range(10))  # e.g. their transaction rolled back
    unsent.keep([(10, b"x")])
    unsent.take([10])  # a sender is at work
    monkeypatch.setattr(unsent, "STALE_S", 0.0)
    await asyncio.wait_for(unsent.room(5), 1)
    assert unsent._size == 0


async def test_mails_bigger_than_the_room_wait_for_half_of_it_not_for_good(small: None) -> None:
    unsent.keep((i, bytes(100)) for i in range(8))
    unsent.take([0])  # a sender is at work; 700 bytes kept
    await _waits_until_taken(50, [1, 2])  # 5,000 bytes never fit: half the room free will do
    assert unsent._size == 500


async def test_a_send_job_at_work_here_holds_the_wait_however_long_its_mails_take(
    small: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(unsent, "IDLE_S", 0.05)
    unsent.keep((i, bytes(100)) for i in range(10))
    with unsent.sending([0]) as kept:  # a job took one copy, and its mails take long to send
        assert kept == {0: bytes(100)}
        waiting = asyncio.ensure_future(unsent.room(5))
        await asyncio.sleep(0.2)  # four times IDLE_S without another copy taken
        assert not waiting.done()
    await asyncio.wait_for(waiting, 1)  # the job ended and nothing here sends: no more wait
    with unsent.sending([99]) as kept:  # a job whose mails this process does not hold
        assert kept == {}
        await asyncio.wait_for(unsent.room(5), 1)  # is no sender of copies: nobody waits
