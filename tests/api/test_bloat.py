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


def test_the_page_size_cap_is_a_setting(database_url: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from engine.config import Settings
    from engine.services import incidents
    from engine.services.engine_app import IncidentEngine
    from tests.conftest import make_settings
    from tests.support.procedures import deploy_active

    monkeypatch.setenv("MAX_PAGE_BYTES", "12345")
    assert Settings.from_env().max_page_bytes == 12345
    engine = IncidentEngine(make_settings(database_url, max_page_bytes=100_000))
    try:
        deploy_active(engine, DOC)
        for n in range(3):
            incidents.start(engine, procedure="plain_task", data={"notes": "x" * 60_000}, actor="agent",
                            reference=f"P{n}")
        items, cursor = incidents.page(engine, limit=50)
        assert len(items) == 1 and cursor  # 60 KB fits 100 KB; the second would not
    finally:
        engine.db.dispose()
