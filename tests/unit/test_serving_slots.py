"""serve's working and parking slots: a counting semaphore of C calls, and parking gives the working slot back."""
from __future__ import annotations

import threading

import pytest

from api import serving


def test_tokens_count_and_refuse_without_blocking_when_spent() -> None:
    tokens = serving._Tokens(2)
    assert tokens.acquire() and tokens.acquire(blocking=False)
    assert tokens.acquire(blocking=False) is False
    tokens.release()
    assert tokens.acquire(blocking=False)


def test_a_blocked_acquire_goes_on_when_a_token_comes_back() -> None:
    tokens = serving._Tokens(1)
    with tokens:
        got = threading.Event()
        waiter = threading.Thread(target=lambda: (tokens.acquire(), got.set()), daemon=True)
        waiter.start()
        assert not got.wait(0.2)  # every token is held
    assert got.wait(5)
    waiter.join(5)


def test_a_parked_request_frees_its_working_slot_until_it_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    slots = serving._Slots(working=1, parking=1)
    monkeypatch.setattr(serving, "_slots", slots)
    with slots.working:  # the request that parks holds the only working slot
        with serving.parked() as ok:
            assert ok
            assert slots.working.acquire(blocking=False)  # another request could run meanwhile
            with serving.parked() as second:
                assert second is False  # no parking slot left: answered at once
            slots.working.release()
        assert slots.working.acquire(blocking=False) is False  # taken back to answer
    assert slots.parking.acquire(blocking=False)
