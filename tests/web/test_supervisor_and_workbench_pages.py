"""The supervisor's view, the designer's workbench and the start form, over the same services as /api/v1:
overriding a failed check with a reason, queue sizes, uploads with their findings and problems, comments
on elements, and escaping of what a model or a person typed."""
from __future__ import annotations

import io
import re
from typing import Any

from engine.services import checks, incidents, procedures, tasks
from engine.services.engine_app import IncidentEngine
from tests.conftest import BUNDLED, FIXTURES
from tests.support.incidents import complete, open_task
from tests.support.procedures import deploy_active
from tests.support.web import csrf_of
from tests.web.conftest import WEB_DESK

UNOWNED = FIXTURES / "bpmn" / "web_unowned.bpmn"
SUPERVISOR = ("sup1", ["supervisor"], ["service-desk", "incident-managers"])


def _failed_check(engine: IncidentEngine) -> dict[str, Any]:
    deploy_active(engine, BUNDLED / "major_incident.bpmn")
    view, _ = incidents.start(engine, procedure="major_incident", reference="CRM-9",
                              data={"priority": "P2", "summary": "switch down", "caller_id": "C-1"})
    view = complete(engine, view, "Task_LogIncident", {"summary": "switch down", "caller_id": "C-1",
                                                      "identity_verified": False})
    return complete(engine, view, "Task_Triage", {"priority": "P1", "priority_reason": "whole floor"})


def test_a_supervisor_overrides_a_failed_check_with_a_reason(web_engine: IncidentEngine, signed_in: Any) -> None:
    view = _failed_check(web_engine)
    sup = signed_in(*SUPERVISOR)
    page = sup.get(f"/incidents/{view['id']}")
    row = re.search(r'data-check="triage_complete"(.*?)</tr>', page.text, re.S)
    assert page.status_code == 200 and row and "failed" in row.group(1) and "Override" in row.group(1)
    url = f"/incidents/{view['id']}/checks/triage_complete/override"
    empty = sup.post(url, data={"csrf_token": csrf_of(page.text), "reason": " "}, follow_redirects=True)
    assert "was not overridden" in empty.text
    assert checks.incident_checks(web_engine, view["id"])[0]["outcome"] == "failed"
    done = sup.post(url, data={"csrf_token": csrf_of(page.text), "reason": "caller known <b>to</b> the duty manager"},
                    follow_redirects=True)
    assert "overridden; the incident takes its pass path" in done.text
    assert "caller known &lt;b&gt;to&lt;/b&gt; the duty manager" in done.text
    [status] = checks.incident_checks(web_engine, view["id"])
    assert status["outcome"] == "overridden" and status["overrides"][0]["actor"] == "sup1"

    agent = signed_in("agent1", ["agent"], ["service-desk"])
    assert "Override" not in agent.get(f"/incidents/{view['id']}").text  # agents see checks, not the button


def test_the_supervisor_sees_queue_sizes_and_reassigns(web_engine: IncidentEngine, signed_in: Any) -> None:
    deploy_active(web_engine, WEB_DESK)
    for n in range(3):
        incidents.start(web_engine, procedure="web_desk", reference=f"Q-{n}", data={"summary": "s"})
    sup = signed_in(*SUPERVISOR)
    page = sup.get("/supervisor")
    row = re.search(r'<tr data-lane="service-desk"[^>]*>(.*?)</tr>', page.text, re.S)
    assert row and re.findall(r"<td>(\d+)</td>", row.group(1)) == ["3", "3"]
    lane = sup.get("/supervisor?lane=service-desk")
    ids = re.findall(r'<tr data-task="([^"]+)"', lane.text)
    assert len(ids) == 3
    moved = sup.post(f"/tasks/{ids[0]}/assign", data={"csrf_token": csrf_of(lane.text), "user": "agent7",
                                                     "lane": "service-desk"}, follow_redirects=True)
    assert "now assigned to agent7" in moved.text and tasks.get(web_engine, ids[0])["assignee"] == "agent7"
    blank = sup.post(f"/tasks/{ids[1]}/assign", data={"csrf_token": csrf_of(lane.text), "user": ""},
                     follow_redirects=True)
    assert "was not reassigned" in blank.text and tasks.get(web_engine, ids[1])["assignee"] is None
    agent = signed_in("agent1", ["agent"], ["service-desk"])
    refused = agent.get("/supervisor")
    assert refused.status_code == 403 and "supervisor" in refused.text


def test_a_designer_uploads_reads_findings_and_comments_on_an_element(
        web_engine: IncidentEngine, signed_in: Any) -> None:
    dana = signed_in("dana", ["designer"])
    page = dana.get("/procedures")
    up = dana.post("/procedures", data={"csrf_token": csrf_of(page.text),
                                        "file": (io.BytesIO(UNOWNED.read_bytes()), "web_unowned.bpmn")},
                   content_type="multipart/form-data")
    assert up.status_code == 302 and up.headers["Location"] == "/procedures/web_unowned/versions/1"
    version = dana.get(up.headers["Location"])
    html = version.text
    assert 'data-rule="task.no_owner"' in html and "Task_Orphan" in html
    assert "<script>alert('name')</script>" not in html and "&lt;script&gt;alert(&#39;name&#39;)" in html
    assert "<img src=x onerror" not in html
    xml = re.search(r'<script id="bpmn-xml" type="application/json">(.*?)</script>', html, re.S)
    assert xml and "<" not in xml.group(1)  # the embedded BPMN cannot close its script element
    assert 'id="gov-status">draft' in html and 'data-code="' in html

    said = dana.post("/procedures/web_unowned/versions/1/comments", data={
        "csrf_token": csrf_of(html), "element_id": "Task_Orphan", "body": "<script>alert('comment')</script>"},
        follow_redirects=True)
    assert "Comment added." in said.text and "&lt;script&gt;alert(&#39;comment&#39;)" in said.text
    assert "<script>alert('comment')" not in said.text
    assert re.search(r'<script id="comment-data" type="application/json">\{"Task_Orphan": 1\}</script>', said.text)
    wrong = dana.post("/procedures/web_unowned/versions/1/comments", data={
        "csrf_token": csrf_of(html), "element_id": "Nope", "body": "x"}, follow_redirects=True)
    assert "no such BPMN element" in wrong.text

    broken = dana.post("/procedures", data={"csrf_token": csrf_of(html),
                                            "file": (io.BytesIO(b"<bpmn:definitions"), "broken.bpmn")},
                       content_type="multipart/form-data")
    assert broken.status_code == 422 and 'id="upload-errors"' in broken.text and "line 1" in broken.text
    assert [p["key"] for p in procedures.latest(web_engine)] == ["web_unowned"]

    agent = signed_in("agent1", ["agent"], ["service-desk"])
    listing = agent.get("/procedures")
    assert listing.status_code == 200 and 'id="upload-form"' not in listing.text  # reading, not deploying
    refused = agent.post("/procedures", data={"csrf_token": csrf_of(listing.text),
                                              "file": (io.BytesIO(UNOWNED.read_bytes()), "x.bpmn")},
                         content_type="multipart/form-data")
    assert refused.status_code == 403


def test_an_agent_starts_an_incident_from_the_start_form(web_engine: IncidentEngine, signed_in: Any) -> None:
    deploy_active(web_engine, BUNDLED / "major_incident.bpmn")
    alice = signed_in("agent1", ["agent"], ["service-desk"])
    form = alice.get("/incidents/new?procedure=major_incident")
    assert form.status_code == 200 and 'name="caller_id"' in form.text
    missing = alice.post("/incidents", data={"csrf_token": csrf_of(form.text), "procedure": "major_incident",
                                             "summary": "Payments down", "priority": "P1"})
    assert missing.status_code == 422 and re.search(r'data-field="caller_id">.*?class="error"', missing.text, re.S)
    started = alice.post("/incidents", data={"csrf_token": csrf_of(form.text), "procedure": "major_incident",
                                             "reference": "CRM-77", "summary": "Payments down", "priority": "P1",
                                             "caller_id": "C-77"})
    assert started.status_code == 302 and started.headers["Location"].startswith("/tasks/")
    task = tasks.get(web_engine, started.headers["Location"].rsplit("/", 1)[1])
    assert task["element_id"] == "Task_LogIncident"
    incident = incidents.get(web_engine, task["incident_id"])
    assert incident["reference"] == "CRM-77" and incident["created_by"] == "agent1"
    assert open_task(incident, "Task_LogIncident")["id"] == task["id"]


def test_governance_from_the_workbench_goes_through_the_same_rules(web_engine: IncidentEngine, signed_in: Any) -> None:
    dana = signed_in("dana", ["designer"])
    page = dana.get("/procedures")
    dana.post("/procedures", data={"csrf_token": csrf_of(page.text),
                                   "file": (io.BytesIO(UNOWNED.read_bytes()), "web_unowned.bpmn")},
              content_type="multipart/form-data")
    version = dana.get("/procedures/web_unowned/versions/1").text
    assert 'id="action-submit"' in version and 'id="action-approve"' not in version  # designers submit
    base = "/procedures/web_unowned/versions/1"
    dana.post(f"{base}/comments", data={"csrf_token": csrf_of(version), "element_id": "Task_Orphan",
                                        "body": "Give it a lane"})
    submitted = dana.post(f"{base}/actions/submit", data={"csrf_token": csrf_of(version)}, follow_redirects=True)
    assert "Done: submit." in submitted.text and 'id="gov-status">in review' in submitted.text

    bob = signed_in("bob", ["approver"])
    review = bob.get(base).text
    # in review without evidence: an approver may reject; approving is refused by the same rules as the API
    assert 'id="action-reject"' in review and 'id="action-approve"' not in review and 'id="action-submit"' not in review
    refused = bob.post(f"{base}/actions/approve", data={"csrf_token": csrf_of(review)}, follow_redirects=True)
    assert "Not done:" in refused.text
    assert procedures.version(web_engine, "web_unowned", 1)["status"] == "in_review"
    no_reason = bob.post(f"{base}/actions/reject", data={"csrf_token": csrf_of(review)}, follow_redirects=True)
    assert "needs a reason" in no_reason.text

    comment_id = re.search(r'data-comment="([^"]+)"', review)
    assert comment_id
    resolved = dana.post(f"{base}/comments/{comment_id.group(1)}/resolve",
                         data={"csrf_token": csrf_of(version), "reply": "Put in the service-desk lane in v2"},
                         follow_redirects=True)
    assert "Comment resolved." in resolved.text and "Put in the service-desk lane in v2" in resolved.text
    rejected = bob.post(f"{base}/actions/reject", data={"csrf_token": csrf_of(review), "reason": "no lane yet"},
                        follow_redirects=True)
    assert "Done: reject." in rejected.text and procedures.version(web_engine, "web_unowned", 1)["status"] == "rejected"
    assert dana.post(f"{base}/actions/approve", data={"csrf_token": csrf_of(version)}).status_code == 403


def test_a_designer_tries_a_draft_as_a_test_incident_in_the_browser(web_engine: IncidentEngine, signed_in: Any) -> None:
    draft, _ = procedures.deploy(web_engine, WEB_DESK.read_bytes(), actor="dana")
    assert draft["status"] == "draft"
    dana = signed_in("dana", ["designer"])
    version = dana.get("/procedures/web_desk/versions/1").text
    link = re.search(r'id="try-it" href="([^"]+)"', version)
    assert link
    form = dana.get(link.group(1).replace("&amp;", "&"))
    assert form.status_code == 200 and "Start a test incident" in form.text and 'name="version" value="1"' in form.text
    started = dana.post("/incidents", data={"csrf_token": csrf_of(form.text), "procedure": "web_desk",
                                            "version": "1", "summary": "trying my draft"})
    assert started.status_code == 302 and started.headers["Location"].startswith("/tasks/")
    task = tasks.get(web_engine, started.headers["Location"].rsplit("/", 1)[1])
    assert task["test"] is True
    inbox = dana.get("/inbox").text  # a designer's inbox is the tasks of their test incidents
    assert f'data-task="{task["id"]}"' in inbox and "test incidents" in inbox
    page = dana.get(started.headers["Location"])
    assert page.status_code == 200 and 'id="task-form"' in page.text
    done = dana.post(started.headers["Location"] + "/complete", data={
        "csrf_token": csrf_of(page.text), "summary": "tried", "callers": "1"})
    assert done.status_code == 302 and done.headers["Location"].startswith("/tasks/")
    agent = signed_in("agent1", ["agent"], ["service-desk"])
    assert f'data-task="{task["id"]}"' not in agent.get("/inbox").text  # test work stays out of live queues
