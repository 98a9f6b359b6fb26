"""Nothing a model or its data does makes a listing or a task grow without bound."""
from __future__ import annotations

from .helpers import FIXTURES, upload_active

DOC = FIXTURES / "containment" / "plain_task.bpmn"


def _with_documentation(chars: int) -> bytes:
    text = DOC.read_text()
    return text.replace('<bpmn:userTask id="Task_Work" camunda:candidateGroups="team">',
                        '<bpmn:userTask id="Task_Work" camunda:candidateGroups="team"><bpmn:documentation>'
                        + "Read this. " * (chars // 11) + "</bpmn:documentation>").encode()


def test_long_documentation_is_capped_once_with_a_warning(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/procedures", data=_with_documentation(200_000), content_type="application/xml")
    assert response.status_code == 201, response.get_json()
    warned = [w for w in response.get_json()["warnings"] if w.get("rule") == "containment.documentation"]
    assert warned and warned[0]["element_id"] == "Task_Work"
    from tests.support.procedures import activate

    activate(client, "plain_task", 1)
    for n in range(3):
        assert client.post("/api/v1/incidents", json={"procedure": "plain_task", "reference": f"D{n}"}).status_code == 201
    listed = client.get("/api/v1/tasks")
    assert len(listed.get_json()["items"]) == 3
    assert all(len(t["documentation"]) <= 8000 for t in listed.get_json()["items"])
    assert len(listed.get_data()) < 3 * 9000 + 5000


def test_a_listing_ends_early_with_a_cursor_rather_than_grow(client) -> None:  # type: ignore[no-untyped-def]
    upload_active(client, DOC)
    for n in range(80):  # 80 x 60 KB of incident data: over the 4 MB a page may hold
        response = client.post("/api/v1/incidents", json={"procedure": "plain_task", "reference": f"B{n}",
                                                          "data": {"notes": "x" * 60_000}})
        assert response.status_code == 201
    first = client.get("/api/v1/incidents?limit=500")
    body = first.get_json()
    assert 0 < len(body["items"]) < 80 and body["next_cursor"]
    assert len(first.get_data()) <= 4 * 1024 * 1024 + 100_000
    seen = {i["id"] for i in body["items"]}
    while body["next_cursor"]:
        body = client.get(f"/api/v1/incidents?limit=500&cursor={body['next_cursor']}").get_json()
        seen |= {i["id"] for i in body["items"]}
    assert len(seen) == 80  # nothing lost between the shortened pages
