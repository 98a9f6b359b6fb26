"""Two agents claim (or claim-and-complete) the same task at the same moment on PostgreSQL: exactly one wins."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from engine.errors import Conflict
from engine.identity.principal import Principal
from engine.services import claims, incidents, tasks
from engine.services.engine_app import IncidentEngine
from tests.conftest import FIXTURES, make_settings
from tests.support.procedures import deploy_active

pytestmark = pytest.mark.postgres

# A 1-in-4 flake cannot hide in 50 rounds (each round is one start and two racing requests: about 50 ms).
ROUNDS = 50
AGENTS = (Principal.of("alice", ["agent"], ["team-a"]), Principal.of("bob", ["agent"], ["team-a"]))


@pytest.fixture
def engine(pg_url: str) -> Iterator[IncidentEngine]:
    eng = IncidentEngine(make_settings(pg_url))
    deploy_active(eng, FIXTURES / "bpmn" / "simple_flow.bpmn")
    yield eng
    eng.db.dispose()


def _race(action: Callable[[Principal], Any], agents: tuple[Principal, ...] = AGENTS) -> dict[str, Any]:
    """Run `action` for each agent at once (released together by a barrier); each result or error by thread."""
    barrier = threading.Barrier(len(agents))
    outcome: dict[str, Any] = {}

    def run(n: int, agent: Principal) -> None:
        barrier.wait()
        key = agent.user_id if len(set(agents)) == len(agents) else f"{agent.user_id}#{n}"
        try:
            outcome[key] = action(agent)
        except Exception as err:  # noqa: BLE001 - the loser's error is what we assert on
            outcome[key] = err

    threads = [threading.Thread(target=run, args=(n, agent)) for n, agent in enumerate(agents)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcome


def _task(engine: IncidentEngine) -> str:
    incident, _ = incidents.start(engine, procedure="simple_flow", data={})
    return str(incident["open_tasks"][0]["id"])


def _one_winner(outcome: dict[str, Any]) -> str:
    winners = [user for user, result in outcome.items() if not isinstance(result, Exception)]
    losers = [result for result in outcome.values() if isinstance(result, Exception)]
    assert len(winners) == 1, outcome
    assert len(losers) == 1 and isinstance(losers[0], Conflict), outcome
    return winners[0]


def test_concurrent_claims_have_exactly_one_winner(engine: IncidentEngine) -> None:
    for _round in range(ROUNDS):
        task_id = _task(engine)
        outcome = _race(lambda agent, task_id=task_id: claims.claim(engine, task_id, principal=agent))
        winner = _one_winner(outcome)
        loser = next(r for r in outcome.values() if isinstance(r, Exception))
        assert loser.extra["assignee"] == winner
        assert tasks.get(engine, task_id)["assignee"] == winner
        claimed = [r for r in _trail(engine, task_id) if r["kind"] == "task_claimed"]
        assert [r["actor"] for r in claimed] == [winner]


def test_concurrent_claim_and_complete_has_exactly_one_winner(engine: IncidentEngine) -> None:
    for _round in range(ROUNDS):
        task_id = _task(engine)
        outcome = _race(lambda agent, task_id=task_id: tasks.complete(
            engine, task_id, {"summary": agent.user_id, "ok": True}, principal=agent))
        winner = _one_winner(outcome)
        row = tasks.get(engine, task_id)
        assert (row["state"], row["assignee"], row["ended_by"]) == ("completed", winner, winner)
        completed = [r for r in _trail(engine, task_id) if r["to_state"] == "completed"]
        assert [(r["actor"], r["data"]["summary"]) for r in completed] == [(winner, winner)]


def test_a_double_click_claims_once(engine: IncidentEngine) -> None:
    alice = AGENTS[0]
    for _round in range(5):
        task_id = _task(engine)
        outcome = _race(lambda agent, task_id=task_id: claims.claim(engine, task_id, principal=agent), (alice, alice))
        assert [r["assignee"] for r in outcome.values()] == ["alice", "alice"], outcome
        assert [r["actor"] for r in _trail(engine, task_id) if r["kind"] == "task_claimed"] == ["alice"]


def _trail(engine: IncidentEngine, task_id: str) -> list[dict[str, Any]]:
    from engine.services import audit

    incident_id = tasks.get(engine, task_id)["incident_id"]
    return [r for r in audit.for_incident(engine, incident_id) if r["task_id"] == task_id]
