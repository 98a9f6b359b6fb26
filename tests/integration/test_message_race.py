"""Two correlations of the same wait at the same moment on PostgreSQL: never both applied, never both lost."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from engine.errors import Conflict, NotFound
from engine.services import incidents, messages
from engine.services.engine_app import IncidentEngine
from tests.conftest import make_settings
from tests.support.events import deploy
from tests.support.incidents import complete, trail

pytestmark = pytest.mark.postgres
ROUNDS = 10


@pytest.fixture
def engine(pg_url: str) -> Iterator[IncidentEngine]:
    eng = IncidentEngine(make_settings(pg_url))
    deploy(eng, "message_waits")
    yield eng
    eng.db.dispose()


def _race(engine: IncidentEngine, incident_id: str, reference: str, name: str, senders: int = 2) -> list[Any]:
    """Both senders find the wait while the test holds the incident's row lock; then it lets them go, so
    the two deliveries really race for the lock (no sender can finish before the other has looked)."""
    results: list[Any] = [None] * senders

    def send(n: int) -> None:
        try:
            results[n] = messages.correlate(engine, name=name, reference=reference, variables={"sender": n},
                                            actor=f"crm-{n}")
        except (Conflict, NotFound) as err:
            results[n] = err

    with engine.db.connect() as holder:
        holder.execute(text("SELECT id FROM incidents WHERE id = :id FOR UPDATE"), {"id": incident_id})
        threads = [threading.Thread(target=send, args=(n,)) for n in range(senders)]
        for thread in threads:
            thread.start()
        _until_blocked(engine, senders)
        holder.rollback()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _until_blocked(engine: IncidentEngine, count: int) -> None:
    deadline = time.monotonic() + 20
    with engine.db.connect() as probe:
        while time.monotonic() < deadline:
            waiting = probe.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                         "AND datname = current_database()")).scalar()
            if waiting == count:
                return
            probe.rollback()
            time.sleep(0.01)
    raise AssertionError(f"the {count} senders never both waited for the incident's lock")


def test_one_wait_is_taken_by_exactly_one_of_two_racing_messages(engine: IncidentEngine) -> None:
    for round_ in range(ROUNDS):
        view, _ = incidents.start(engine, procedure="message_waits", reference=f"R{round_}", data={})
        view = complete(engine, view, "Task_Review", {})
        results = _race(engine, view["id"], f"R{round_}", "customerCalledBack")
        winners = [r for r in results if isinstance(r, dict)]
        losers = [r for r in results if not isinstance(r, dict)]
        assert len(winners) == 1 and len(losers) == 1, results
        assert isinstance(losers[0], Conflict), losers  # it had found the wait: 409, nothing delivered
        assert len(trail(engine, view["id"], "message_correlated")) == 1
        sender = winners[0]["results"][0]["incident"]["data"]["sender"]
        assert trail(engine, view["id"], "message_correlated")[0]["actor"] == f"crm-{sender}"


def test_racing_messages_to_a_listening_boundary_are_both_delivered(engine: IncidentEngine) -> None:
    """A non-interrupting boundary listens again after each message: the second sender is delivered after."""
    for round_ in range(ROUNDS):
        view, _ = incidents.start(engine, procedure="message_waits", reference=f"B{round_}", data={})
        results = _race(engine, view["id"], f"B{round_}", "customerInfo")
        assert all(isinstance(r, dict) for r in results), results
        assert len(trail(engine, view["id"], "message_correlated")) == 2
        final = incidents.get(engine, view["id"])
        assert [t["element_id"] for t in final["open_tasks"]].count("Task_ReadInfo") == 2
