"""The in-memory copies of stored, unsent mails: bounded, and each handed out once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.outbox import unsent


@pytest.fixture(autouse=True)
def _empty() -> Iterator[None]:
    unsent.take(list(unsent._kept))
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
