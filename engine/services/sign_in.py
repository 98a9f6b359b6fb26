"""Use case: the back-off on repeated failed HTTP Basic sign-ins, shared by every API process.

The edge asks `wait_before` before it checks a password (a blocked client costs no password hashing),
reports `failed` or `succeeded` after. Each failure also forgets a bounded batch of stale counters, so
the table holds only recent failures without a separate sweep.
"""
from __future__ import annotations

from datetime import timedelta

from engine import clock
from engine.db import sign_in_rows
from engine.identity import backoff

from .engine_app import IncidentEngine

PRUNE_BATCH = 100


def wait_before(engine: IncidentEngine, user: str, address: str | None) -> tuple[float, bool]:
    """(seconds the client must still wait, whether failures are on record for it)."""
    with engine.uow(write=False) as uow:
        row = sign_in_rows.get(uow.conn, backoff.key_of(user, address))
    if row is None:
        return 0.0, False
    until = row["blocked_until"]
    remaining = (until - clock.now()).total_seconds() if until is not None else 0.0
    return max(remaining, 0.0), True


def failed(engine: IncidentEngine, user: str, address: str | None) -> float:
    """Count a failure; returns the seconds the client must now wait (0 while it has free tries)."""
    now = clock.now()
    key = backoff.key_of(user, address)
    with engine.uow() as uow:
        failures = sign_in_rows.add_failure(uow.conn, key, now)
        delay = backoff.delay_after(failures)
        if delay:
            sign_in_rows.block(uow.conn, key, now + timedelta(seconds=delay))
        sign_in_rows.prune(uow.conn, older_than=now - timedelta(seconds=backoff.FORGET_SECONDS), now=now,
                           limit=PRUNE_BATCH)
        uow.commit()
    return delay


def succeeded(engine: IncidentEngine, user: str, address: str | None) -> None:
    """A correct password clears the client's failures."""
    with engine.uow() as uow:
        sign_in_rows.forget(uow.conn, backoff.key_of(user, address))
        uow.commit()
