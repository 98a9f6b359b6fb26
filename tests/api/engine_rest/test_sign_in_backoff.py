"""The back-off on repeated failed HTTP Basic sign-ins: shared in the database, per user and address, pruned."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from engine import clock
from engine.db import sign_in_rows
from engine.db.tables import sign_in_failures
from engine.identity import backoff
from engine.services import sign_in
from engine.services.engine_app import IncidentEngine

from .conftest import REST, basic
from .shapes import is_error

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def now() -> Iterator[clock.FixedClock]:
    fixed = clock.FixedClock(T0)
    token = clock.use(fixed)
    yield fixed
    clock.reset(token)


def test_the_delay_doubles_after_the_free_tries_and_is_capped() -> None:
    assert [backoff.delay_after(n) for n in range(backoff.FREE_FAILURES)] == [0.0] * backoff.FREE_FAILURES
    assert [backoff.delay_after(backoff.FREE_FAILURES + n) for n in range(4)] == [1.0, 2.0, 4.0, 8.0]
    assert backoff.delay_after(10_000) == backoff.MAX_DELAY_SECONDS
    assert backoff.key_of("alice", "10.0.0.1") != backoff.key_of("alice", "10.0.0.2")
    assert "alice" not in backoff.key_of("alice", "10.0.0.1")


def _count(engine: IncidentEngine) -> int:
    with engine.uow(write=False) as uow:
        return int(uow.conn.execute(select(func.count()).select_from(sign_in_failures)).scalar_one())


def test_repeated_failures_make_the_client_wait_and_a_success_clears_them(app: Any, engine: IncidentEngine,
                                                                          now: clock.FixedClock) -> None:
    client = app.test_client()
    wrong, right = basic("alice", "guess"), basic("alice", "alice-pass")
    for _ in range(backoff.FREE_FAILURES - 1):
        response = client.get(f"{REST}/version", headers=wrong)
        is_error(response, 401, "AuthenticationException")
        assert "Retry-After" not in response.headers
    blocked = client.get(f"{REST}/version", headers=wrong)  # the fifth failure: wait 1 s
    assert is_error(blocked, 401)["message"].endswith("in 1 s") and blocked.headers["Retry-After"] == "1"
    assert "Basic" in blocked.headers["WWW-Authenticate"]
    # while blocked even the right password is refused, without hashing it
    refused = client.get(f"{REST}/version", headers=right)
    assert refused.status_code == 401 and refused.headers["Retry-After"] == "1"
    now.advance(timedelta(seconds=1))
    again = client.get(f"{REST}/version", headers=wrong)  # the sixth failure doubles the wait
    assert again.headers["Retry-After"] == "2"
    elsewhere = client.get(f"{REST}/version", headers=wrong, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert "Retry-After" not in elsewhere.headers  # another address keeps its own count
    assert is_error(elsewhere, 401)["message"] == "Invalid username or password"
    now.advance(timedelta(seconds=2))
    assert client.get(f"{REST}/version", headers=right).status_code == 200
    assert _count(engine) == 1  # this address's failures are forgotten; 10.1.2.3 keeps its one
    assert "Retry-After" not in client.get(f"{REST}/version", headers=wrong).headers


def test_a_remembered_success_needs_no_lookup_and_outlives_an_attackers_block(app: Any, engine: IncidentEngine,
                                                                              now: clock.FixedClock) -> None:
    client = app.test_client()
    assert client.get(f"{REST}/version", headers=basic("worker", "s3cret-worker")).status_code == 200
    for _ in range(backoff.FREE_FAILURES + 1):
        client.get(f"{REST}/version", headers=basic("worker", "wrong"))
    assert sign_in.wait_before(engine, "worker", "127.0.0.1")[0] > 0
    # the worker's own (correct, recently verified) pair still works: the block only slows guessing
    assert client.get(f"{REST}/version", headers=basic("worker", "s3cret-worker")).status_code == 200


def test_each_failure_is_counted_and_the_free_tries_do_not_block(engine: IncidentEngine, now: clock.FixedClock) -> None:
    for _ in range(3):
        sign_in.failed(engine, "bob", "10.0.0.9")
    with engine.uow(write=False) as uow:
        row = sign_in_rows.get(uow.conn, backoff.key_of("bob", "10.0.0.9"))
    assert row is not None and row["failures"] == 3 and row["blocked_until"] is None


def test_each_failure_prunes_a_bounded_batch_of_stale_counters(engine: IncidentEngine, now: clock.FixedClock) -> None:
    """The pruning loop: stale counters go a batch per failure, recent and still-blocked ones stay."""
    old = T0 - timedelta(seconds=backoff.FORGET_SECONDS + 60)
    with engine.uow() as uow:
        for n in range(sign_in.PRUNE_BATCH + 50):
            uow.conn.execute(sign_in_failures.insert().values(key=f"stale-{n:04d}", failures=2, last_failed_at=old))
        uow.conn.execute(sign_in_failures.insert().values(key="recent", failures=2, last_failed_at=T0))
        uow.conn.execute(sign_in_failures.insert().values(key="blocked", failures=40, last_failed_at=old,
                                                          blocked_until=T0 + timedelta(minutes=5)))
        uow.commit()
    sign_in.failed(engine, "carol", "10.0.0.1")
    assert _count(engine) == 50 + 3  # one batch gone; recent, blocked and carol's stay
    sign_in.failed(engine, "carol", "10.0.0.1")
    with engine.uow(write=False) as uow:
        keys = set(uow.conn.execute(select(sign_in_failures.c.key)).scalars())
    assert keys == {"recent", "blocked", backoff.key_of("carol", "10.0.0.1")}
    now.advance(timedelta(minutes=6))
    with engine.uow() as uow:
        assert sign_in_rows.prune(uow.conn, older_than=clock.now() - timedelta(seconds=backoff.FORGET_SECONDS),
                                  now=clock.now(), limit=10) == 1  # the block ran out: forgotten too
        uow.commit()


def test_an_expired_remembered_pair_is_dropped(credentials_file: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.identity import credentials

    basic_users = credentials.BasicCredentials(credentials_file)
    monkeypatch.setattr(credentials, "REMEMBER_SECONDS", -1.0)
    assert basic_users.verify("alice", "alice-pass") is not None
    assert basic_users.remembered("alice", "alice-pass") is None
    assert basic_users._remembered == {}  # dropped, not kept
