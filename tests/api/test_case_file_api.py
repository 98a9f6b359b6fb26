"""Values the workflow sets at process scope are in the case file on both edges: `data` of /api/v1 and the
Camunda REST variables (issue 12); locals are not, personal ones stay erasable and erased. SQLite and PostgreSQL."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.db.tables import incidents
from engine.services.engine_app import IncidentEngine

from .helpers import FIXTURES, complete, open_task, start, upload

REST = "/engine-rest/process-instance"
EMAIL = "c@example.org"


def _prepared(client: Any) -> dict[str, Any]:
    assert upload(client, FIXTURES / "camunda" / "case_file.bpmn").status_code == 201
    incident = start(client, "case_file", {"case_id": "C-7", "amount": 5, "surname": "Roe", "customer_email": EMAIL},
                     test=True).get_json()
    done = complete(client, open_task(incident, "Task_Prepare"), {})
    assert done.status_code == 200, done.get_json()
    return done.get_json()


def test_mapped_values_are_in_the_case_file_on_both_edges_and_locals_are_not(client: Any) -> None:
    incident = _prepared(client)
    for shown in (incident["data"], client.get(f"/api/v1/incidents/{incident['id']}").get_json()["data"]):
        assert shown["prepared_by"] == "desk-C-7" and shown["score"] == 10  # output parameter, script result
        assert shown["contacted_by"] == "phone" and shown["attempts"] == 1  # the subprocess's output and write
        assert "local_note" not in shown and "channel" not in shown  # inputParameter locals stay local
    variables = client.get(f"{REST}/{incident['id']}/variables").get_json()
    assert variables["score"] == {"value": 10, "type": "Integer", "valueInfo": {}}
    assert variables["prepared_by"]["value"] == "desk-C-7" and "local_note" not in variables
    one = client.get(f"{REST}/{incident['id']}/variables/contacted_by").get_json()
    assert one == {"value": "phone", "type": "String", "valueInfo": {}}
    assert client.get(f"{REST}/{incident['id']}/variables/channel").status_code == 404
    assert client.get(f"{REST}/{incident['id']}/variables/local_note").status_code == 404


def test_a_personal_value_the_workflow_made_is_kept_apart_and_stays_erased(engine: IncidentEngine, client: Any,
                                                                           client_as: Any) -> None:
    incident = _prepared(client)
    # both edges resolve it from the personal-data store; the stored case file and workflow hold the marker
    assert client.get(f"/api/v1/incidents/{incident['id']}").get_json()["data"]["customer_name"] == "Jane Roe"
    assert client.get(f"{REST}/{incident['id']}/variables/customer_name").get_json()["value"] == "Jane Roe"
    with engine.db.connect() as conn:
        stored = conn.execute(select(incidents.c.data, incidents.c.state).where(incidents.c.id == incident["id"])).one()
    assert stored.data["customer_name"] == "[personal]" and "Jane" not in stored.state
    dpo = client_as("dee-dpo", ["dpo"])
    erased = dpo.post("/api/v1/data-subjects/erasure", json={"subject_id": EMAIL, "legal_basis": "Art. 17(1)(a)"})
    assert erased.status_code == 200 and erased.get_json()["values_erased"] == 2, erased.get_json()
    assert client.get(f"/api/v1/incidents/{incident['id']}").get_json()["data"]["customer_name"] == "[erased]"
    assert client.get(f"{REST}/{incident['id']}/variables/customer_name").get_json()["value"] == "[erased]"
    # the incident goes on; nothing brings the value back
    done = complete(client, open_task(incident, "Task_Check"), {})
    assert done.status_code == 200 and done.get_json()["status"] == "completed", done.get_json()
    assert client.get(f"/api/v1/incidents/{incident['id']}").get_json()["data"]["customer_name"] == "[erased]"
    exported = dpo.get(f"/api/v1/data-subjects/{EMAIL}/export").get_json()
    assert "Jane Roe" not in str(exported)


def test_a_mapped_value_over_the_size_limit_puts_the_incident_in_error_and_is_not_kept(client: Any) -> None:
    data = (FIXTURES / "camunda" / "case_file.bpmn").read_bytes().replace(b"score = amount * 2",
                                                                          b"score = 'x' * 90000\nfiller = score + 'y'\nmore = score + 'z'")
    assert client.post("/api/v1/procedures", data=data, content_type="application/xml").status_code == 201
    incident = start(client, "case_file", {"case_id": "C-8", "amount": 1, "surname": "Roe"}, test=True).get_json()
    done = complete(client, open_task(incident, "Task_Prepare"), {})
    assert done.status_code == 200 and done.get_json()["status"] == "error", done.get_json()
    assert "MAX_TASK_DATA_BYTES" in done.get_json()["error"]
    kept = client.get(f"/api/v1/incidents/{incident['id']}").get_json()["data"]
    assert not {"score", "filler", "more"} & kept.keys()
