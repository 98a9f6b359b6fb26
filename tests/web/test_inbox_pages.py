"""The agent inbox and task pages over the same engine services as /api/v1: queue, claim, a form with
server-side errors beside the fields, the next task, escaping of everything a model or a form brought."""
from __future__ import annotations

import re
from typing import Any

from engine.identity.principal import Principal
from engine.services import incidents, tasks
from engine.services.engine_app import IncidentEngine
from tests.support.procedures import deploy_active
from tests.support.web import csrf_of
from tests.web.conftest import WEB_DESK

AGENT = Principal.of("agent1", ["agent"], ["service-desk"])


def _start(engine: IncidentEngine, reference: str = "CRM-1", summary: str = "Line down") -> dict[str, Any]:
    deploy_active(engine, WEB_DESK)
    view, _ = incidents.start(engine, procedure="web_desk", reference=reference,
                              data={"priority": "P1", "summary": summary}, principal=AGENT)
    return view


def _task_id(view: dict[str, Any]) -> str:
    return str(view["open_tasks"][0]["id"])


def test_the_inbox_lists_the_groups_queue_and_a_claim_moves_the_task_to_mine(
        web_engine: IncidentEngine, signed_in: Any) -> None:
    view = _start(web_engine)
    task_id = _task_id(view)
    alice, bob = signed_in("agent1", ["agent"], ["service-desk"]), signed_in("agent2", ["agent"], ["service-desk"])
    page = alice.get("/inbox").text
    group = page.split('id="group-tasks"')[1]
    assert f'data-task="{task_id}"' in group and "CRM-1" in group and "P1" in group and "web_desk" in group
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page

    refused = alice.post(f"/tasks/{task_id}/claim")  # no CSRF token: nothing changes
    assert refused.status_code == 400
    assert tasks.get(web_engine, task_id)["assignee"] is None

    claimed = alice.post(f"/tasks/{task_id}/claim", data={"csrf_token": csrf_of(page)})
    assert claimed.status_code == 302 and claimed.headers["Location"] == f"/tasks/{task_id}"
    assert tasks.get(web_engine, task_id)["assignee"] == "agent1"
    mine = alice.get("/inbox").text.split('id="my-tasks"')[1].split('id="group-tasks"')[0]
    assert f'data-task="{task_id}"' in mine

    bob_page = bob.get("/inbox").text
    assert f'data-task="{task_id}"' not in bob_page
    late = bob.post(f"/tasks/{task_id}/claim", data={"csrf_token": csrf_of(bob_page)}, follow_redirects=True)
    assert late.status_code == 200 and "Someone else got there first" in late.text
    assert "claimed by agent1" in late.text


def test_a_bad_field_is_shown_beside_it_and_the_next_task_follows(web_engine: IncidentEngine, signed_in: Any) -> None:
    view = _start(web_engine, summary="<script>alert('summary')</script>")
    task_id = _task_id(view)
    alice = signed_in("agent1", ["agent"], ["service-desk"])
    page = alice.get(f"/tasks/{task_id}")
    assert page.status_code == 200
    html = page.text
    for payload in ("<script>alert('task')</script>", "<img src=x onerror=alert('label')>",
                    "<img src=x onerror=alert('doc')>", "<i>outage</i>", "<script>alert('summary')</script>"):
        assert payload not in html, payload
    assert "&lt;img src=x onerror=alert(&#39;label&#39;)&gt;" in html
    assert 'value="&lt;script&gt;alert(&#39;summary&#39;)&lt;/script&gt;"' in html  # pre-filled, escaped
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]

    bad = alice.post(f"/tasks/{task_id}/complete", data={
        "csrf_token": csrf_of(html), "summary": "Payments <b>down</b>", "callers": "many", "category": "network"})
    assert bad.status_code == 422
    field = re.search(r'data-field="callers">(.*?)</div>', bad.text, re.S)
    assert field and "must be a whole number" in field.group(1) and 'aria-invalid="true"' in field.group(1)
    assert 'value="Payments &lt;b&gt;down&lt;/b&gt;"' in bad.text  # what was typed stays, escaped
    assert tasks.get(web_engine, task_id)["state"] == "ready"

    done = alice.post(f"/tasks/{task_id}/complete", data={
        "csrf_token": csrf_of(html), "summary": "Payments down", "callers": "12", "urgent": "true",
        "category": "network"})
    assert done.status_code == 302
    incident = incidents.get(web_engine, view["id"])
    assert incident["data"]["callers"] == 12 and incident["data"]["urgent"] is True
    resolve = incident["open_tasks"][0]
    assert resolve["element_id"] == "Task_Resolve" and done.headers["Location"] == f"/tasks/{resolve['id']}"

    next_page = alice.get(done.headers["Location"])
    assert "Completed" in next_page.text and "Resolve" in next_page.text
    finished = alice.post(f"/tasks/{resolve['id']}/complete",
                          data={"csrf_token": csrf_of(next_page.text), "resolution": "Rebooted"})
    assert finished.status_code == 302 and finished.headers["Location"] == f"/incidents/{view['id']}"
    end = alice.get(finished.headers["Location"])
    assert "status-completed" in end.text and 'data-kind="incident_completed"' in end.text


def test_a_task_that_is_not_yours_is_a_plain_not_found_page(web_engine: IncidentEngine, signed_in: Any) -> None:
    view = _start(web_engine)
    outsider = signed_in("agent9", ["agent"], ["billing"])
    page = outsider.get(f"/tasks/{_task_id(view)}")
    assert page.status_code == 404 and page.mimetype == "text/html" and "not one of yours" in page.text
    inbox = outsider.get("/inbox").text
    posted = outsider.post(f"/tasks/{_task_id(view)}/complete", data={"csrf_token": csrf_of(inbox), "summary": "x"})
    assert posted.status_code == 404 and "Traceback" not in posted.text
    assert tasks.get(web_engine, _task_id(view))["state"] == "ready"
