"""The audit hash chain on SQLite and PostgreSQL: tampering directly in the database is detected, the
database refuses UPDATE and DELETE (PostgreSQL: a trigger, and the service role without those rights),
and erasing a personal payload keeps the chain valid."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from engine.db import audit_rows
from engine.services import audit_chain, test_incidents
from engine.services.engine_app import IncidentEngine
from tests.conftest import make_settings
from tests.support.incidents import deploy_bundled, frozen, major_in_diagnosis

SERVICE_ROLE = "incident_engine_service"


@contextmanager
def tampering(engine: IncidentEngine) -> Iterator[Connection]:
    """A connection that goes round the database's guard, as someone with the owner's rights would."""
    with engine.db.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")  # superuser: triggers off
        else:
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_no_update")
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_no_delete")
        yield conn


def _ids(engine: IncidentEngine, incident_id: str) -> list[int]:
    with engine.uow(write=False) as uow:
        return [r["id"] for r in audit_rows.for_incident(uow.conn, incident_id)]


def test_a_running_incident_has_a_valid_chain_numbered_from_one(engine: IncidentEngine) -> None:
    deploy_bundled(engine)
    view = major_in_diagnosis(engine)
    verdict = audit_chain.verify_incident(engine, view["id"])
    assert verdict["valid"] and verdict["first_broken"] is None
    assert verdict["chained"] == verdict["rows"] == len(_ids(engine, view["id"])) >= 4
    with engine.uow(write=False) as uow:
        seqs = [r["seq"] for r in audit_rows.for_incident(uow.conn, view["id"])]
    assert seqs == list(range(1, len(seqs) + 1))


def test_a_row_edited_in_the_database_is_reported_as_the_first_broken_row(engine: IncidentEngine) -> None:
    deploy_bundled(engine)
    view = major_in_diagnosis(engine)
    ids = _ids(engine, view["id"])
    with tampering(engine) as conn:
        conn.execute(text("UPDATE audit SET actor = 'someone-else' WHERE id = :id"), {"id": ids[2]})
    verdict = audit_chain.verify_incident(engine, view["id"])
    assert not verdict["valid"]
    assert verdict["first_broken"]["audit_id"] == ids[2] and verdict["first_broken"]["seq"] == 3


def test_a_deleted_row_is_detected_in_the_middle_and_at_the_end(engine: IncidentEngine) -> None:
    deploy_bundled(engine)
    first, second = major_in_diagnosis(engine), major_in_diagnosis(engine)
    middle, last = _ids(engine, first["id"])[1], _ids(engine, second["id"])[-1]
    with tampering(engine) as conn:
        conn.execute(text("DELETE FROM audit WHERE id IN (:a, :b)"), {"a": middle, "b": last})
    one = audit_chain.verify_incident(engine, first["id"])
    assert one["first_broken"]["seq"] == 3 and "missing" in one["first_broken"]["reason"]
    two = audit_chain.verify_incident(engine, second["id"])
    assert not two["valid"] and "removed from the end" in two["first_broken"]["reason"]
    everything = {v["incident_id"]: v["valid"] for v in audit_chain.verify_all(engine)}
    assert everything == {first["id"]: False, second["id"]: False}


def test_the_database_refuses_to_update_or_delete_audit_rows(engine: IncidentEngine) -> None:
    deploy_bundled(engine)
    view = major_in_diagnosis(engine)
    row = _ids(engine, view["id"])[0]
    for statement in ("UPDATE audit SET kind = 'nothing' WHERE id = :id", "DELETE FROM audit WHERE id = :id"):
        with pytest.raises(DBAPIError, match="append-only"), engine.db.begin() as conn:
            conn.execute(text(statement), {"id": row})
    assert audit_chain.verify_incident(engine, view["id"])["valid"]


def test_erasing_personal_payloads_keeps_the_chain_valid(engine: IncidentEngine) -> None:
    deploy_bundled(engine)
    view = major_in_diagnosis(engine)
    with engine.uow() as uow:
        audit_rows.append(uow.conn, [_row(view, {"caller_name": "Ann Smith", "phone": "07700 900123"})])
        uow.commit()
    assert audit_chain.verify_incident(engine, view["id"])["valid"]
    with tampering(engine) as conn:  # changing the payload (not erasing it) is an edit like any other
        conn.execute(text("UPDATE audit SET personal = :p WHERE personal IS NOT NULL"), {"p": '{"caller_name": "B"}'})
    assert not audit_chain.verify_incident(engine, view["id"])["valid"]
    with engine.uow() as uow:
        assert audit_rows.erase_personal(uow.conn, [view["id"]]) == 1
        uow.commit()
    verdict = audit_chain.verify_incident(engine, view["id"])
    assert verdict["valid"], verdict


def _row(view: dict[str, Any], personal: dict[str, Any]) -> dict[str, Any]:
    return {"incident_id": view["id"], "procedure_key": "major_incident", "procedure_version": 1,
            "kind": "note", "task_id": None, "element_id": None, "element_name": None, "element_type": None,
            "from_state": None, "to_state": None, "actor": "tester", "at": view["created_at"], "data": {"n": 1},
            "test": False, "personal": personal}


@pytest.mark.postgres
def test_the_service_role_may_insert_and_erase_but_not_update_or_delete(pg_url: str) -> None:
    engine = IncidentEngine(make_settings(pg_url, database_role=SERVICE_ROLE))
    try:
        deploy_bundled(engine)
        with frozen() as now:
            view = major_in_diagnosis(engine)  # every transition works with the service role's rights
            with engine.db.connect() as conn:
                assert conn.exec_driver_sql("SELECT current_user").scalar() == SERVICE_ROLE
            row = _ids(engine, view["id"])[0]
            for statement in ("UPDATE audit SET kind = 'nothing' WHERE id = :id",
                              "DELETE FROM audit WHERE id = :id", "TRUNCATE audit"):
                with pytest.raises(DBAPIError, match="permission denied"), engine.db.begin() as conn:
                    conn.execute(text(statement), {"id": row})
            with engine.uow() as uow:  # the one path it has: erasing personal payloads
                audit_rows.append(uow.conn, [_row(view, {"caller_name": "Ann Smith"})])
                assert audit_rows.erase_personal(uow.conn, [view["id"]]) == 1
                uow.commit()
            assert audit_chain.verify_incident(engine, view["id"])["valid"]
            # a test incident's rows still go with it, through the definer function
            old = major_in_diagnosis(engine, test=True)
            now.advance(timedelta(days=8))
            assert test_incidents.purge_expired(engine) == 1  # `view` is live: kept
            assert _ids(engine, old["id"]) == [] and _ids(engine, view["id"])
    finally:
        engine.db.dispose()


@pytest.mark.postgres
def test_two_incidents_never_wait_on_each_other_for_the_chain(pg_url: str) -> None:
    """One incident's appender holds its chain head; another incident's append goes through at once, and
    a second appender of the same incident queues (it would wait, so its lock_timeout fires)."""
    engine = IncidentEngine(make_settings(pg_url))
    try:
        deploy_bundled(engine)
        first, second = major_in_diagnosis(engine), major_in_diagnosis(engine)
        with engine.uow() as holder:
            audit_rows.append(holder.conn, [_row(first, {"caller_name": "A"})])  # first's head locked, open
            with engine.uow() as other:
                other.conn.exec_driver_sql("SET LOCAL lock_timeout = '2s'")
                audit_rows.append(other.conn, [_row(second, {"caller_name": "B"})])
                other.commit()
            with pytest.raises(DBAPIError, match="lock timeout"), engine.uow() as same:
                same.conn.exec_driver_sql("SET LOCAL lock_timeout = '200ms'")
                audit_rows.append(same.conn, [_row(first, {"caller_name": "C"})])
            holder.commit()
        assert audit_chain.verify_incident(engine, first["id"])["valid"]
        assert audit_chain.verify_incident(engine, second["id"])["valid"]
    finally:
        engine.db.dispose()
