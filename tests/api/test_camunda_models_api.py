"""Camunda 7 models through the API: input/output mappings (issue 12); on SQLite and PostgreSQL."""
from __future__ import annotations

from typing import Any

from .helpers import FIXTURES, complete, open_task, start, upload


def test_an_io_mapped_procedure_runs_through_the_api(client: Any) -> None:
    assert upload(client, FIXTURES / "camunda" / "io_mapping.bpmn").status_code == 201
    incident = start(client, "io_mapping", {"case_id": "C-9", "amount": 2}, test=True).get_json()
    done = complete(client, open_task(incident, "Task_Review"), {"decision": "refund"})
    assert done.status_code == 200, done.get_json()
    # the case file holds what people and systems submitted; the mapping's locals never reach it
    assert done.get_json()["data"] == {"case_id": "C-9", "amount": 2, "decision": "refund"}
    assert open_task(done.get_json(), "Task_Call")


def test_a_mapping_that_names_an_unknown_variable_puts_the_incident_in_error(client: Any) -> None:
    assert upload(client, FIXTURES / "camunda" / "io_mapping.bpmn").status_code == 201
    incident = start(client, "io_mapping", {"case_id": "C-9"}, test=True)  # no `amount`
    body = incident.get_json()
    assert incident.status_code == 201 and body["status"] == "error", body
    assert "inputParameter 'doubled' of Task_Review" in body["error"] and "amount" in body["error"]
