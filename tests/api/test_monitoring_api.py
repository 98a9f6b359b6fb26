"""Monitoring over HTTP: metrics, recommendations and criteria status on the scripted data set."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Table

from engine.services.engine_app import IncidentEngine
from tests.conftest import make_settings
from tests.monitoring_data import KEY, SINCE, UNTIL, build, m

WINDOW = {"since": SINCE.isoformat(), "until": UNTIL.isoformat()}


def _client(engine: IncidentEngine) -> Any:
    from api import create_app
    from tests.conftest import admin_test_client

    app = create_app(engine.settings, engine)
    app.testing = True
    return admin_test_client(app)


@pytest.fixture
def loaded(engine: IncidentEngine) -> Any:
    build(engine)
    return _client(engine)


def test_metrics_endpoint(loaded: Any) -> None:
    response = loaded.get(f"/api/v1/monitoring/procedures/{KEY}", query_string=WINDOW)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["since"] == "2026-03-02T09:00:00+00:00" and body["until"] == "2026-03-03T09:00:00+00:00"
    assert body["incidents"]["started"] == 6 and body["cycle_time"]["p50"] == 5400.0
    assert {t["element_id"]: t["wait"]["p50"] for t in body["tasks"] if t["completed"]} == {
        "Task_LogIncident": 900.0, "Task_Triage": 1200.0, "Task_VerifyCallerIdentity": 600.0, "Task_Diagnose": 900.0}
    assert body["checks"][0]["first_time_pass_rate"] == 0.3333 and body["sla"][0]["breach_share"] == 0.5
    filtered = loaded.get(f"/api/v1/monitoring/procedures/{KEY}",
                          query_string={**WINDOW, "filter": "priority:P1", "version": 1}).get_json()
    assert filtered["filter"] == {"priority": "P1"} and filtered["version"] == 1
    assert filtered["cycle_time"]["count"] == 2


@pytest.mark.parametrize(("path", "query", "status"), [
    (f"/api/v1/monitoring/procedures/{KEY}", {"since": UNTIL.isoformat(), "until": SINCE.isoformat()}, 422),
    (f"/api/v1/monitoring/procedures/{KEY}", {"since": "yesterday"}, 422),
    (f"/api/v1/monitoring/procedures/{KEY}", {"filter": "priority"}, 422),
    (f"/api/v1/monitoring/procedures/{KEY}", {"version": 0}, 422),
    ("/api/v1/monitoring/procedures/nope", {}, 404),
    (f"/api/v1/monitoring/procedures/{KEY}", {"version": 7}, 404),
    ("/api/v1/monitoring/procedures/nope/recommendations", {}, 404),
    ("/api/v1/monitoring/criteria", {"margin": 2}, 422),
])
def test_bad_requests_are_problems(loaded: Any, path: str, query: dict[str, Any], status: int) -> None:
    response = loaded.get(path, query_string=query)
    assert response.status_code == status and response.mimetype == "application/problem+json"


def test_recommendations_endpoint(loaded: Any) -> None:
    body = loaded.get(f"/api/v1/monitoring/procedures/{KEY}/recommendations", query_string=WINDOW).get_json()
    assert body["procedure"] == KEY and "metrics" not in body
    # every figure of this small window rests on fewer than the 5 observations a rule needs
    assert body["items"] == []
    # ... and the answer says so in words rather than leaving an empty list to read as a fault
    assert body["none_because"].startswith("not enough data yet: every rule needs at least 5 observations")


def test_recommendations_with_a_smaller_sample(engine: IncidentEngine) -> None:
    build(engine)
    engine.settings = make_settings(engine.settings.database_url, monitoring_min_sample=3)
    body = _client(engine).get(f"/api/v1/monitoring/procedures/{KEY}/recommendations",
                               query_string=WINDOW).get_json()
    assert [(r["rank"], r["rule"], r["element_id"], r["score"]) for r in body["items"]] == [
        (1, "failing_check", "Gateway_TriageCheck", 0.6667)]
    assert body["none_because"] is None
    evidence = body["items"][0]["evidence"]
    assert (evidence["reached"], evidence["failures"], evidence["sample_size"]) == (3, 3, 3)
    assert evidence["window"] == {"since": SINCE.isoformat(), "until": UNTIL.isoformat(), "version": None}


@pytest.fixture
def criteria_table(engine: IncidentEngine) -> Table:
    """Governance's criteria table, with a strategy and objectives "1" and "2" for criteria to hang on."""
    from engine.db.tables import criteria, objectives, strategies

    now = datetime.now(UTC)
    with engine.db.begin() as conn:
        conn.execute(strategies.insert().values(id="s", name="Resilience", created_at=now))
        for objective in ("1", "2"):
            conn.execute(objectives.insert().values(id=objective, strategy_id="s", name=f"objective {objective}",
                                                    created_at=now))
    return criteria


def _criterion(table: Table, engine: IncidentEngine, **values: Any) -> None:
    params = {k: values.pop(k) for k in ("task", "check", "timer") if k in values}
    target = values.pop("target")
    values.update(id=str(values["id"]), params=params, created_at=datetime.now(UTC),
                  target=target if str(target).startswith("P") else float(target))
    with engine.db.begin() as conn:
        conn.execute(table.insert().values(**values))


def test_no_criteria_no_items(loaded: Any) -> None:
    body = loaded.get("/api/v1/monitoring/criteria", query_string=WINDOW).get_json()
    assert body["items"] == [] and body["margin"] == 0.1


def test_criteria_status(engine: IncidentEngine, criteria_table: Table) -> None:
    build(engine)
    for values in (
        {"id": 1, "objective_id": 1, "name": "P1 cycle time", "metric": "cycle_time", "statistic": "p90",
         "comparator": "at_most", "target": "PT2H", "filter": {"priority": "P1"}, "procedure_key": KEY},
        {"id": 2, "objective_id": 1, "name": "Triage waits", "metric": "wait_time", "statistic": "p50",
         "comparator": "at_most", "target": "PT21M", "filter": {}, "procedure_key": KEY, "task": "Task_Triage"},
        {"id": 3, "objective_id": 2, "name": "Verified first time", "metric": "check_first_time_pass_rate",
         "statistic": "share", "comparator": "at_least", "target": "0.9", "filter": {}, "procedure_key": KEY,
         "check": "triage_complete"},
        {"id": 4, "objective_id": 2, "name": "Diagnosis SLA", "metric": "sla_breach_share", "statistic": "share",
         "comparator": "at_most", "target": "0.6", "filter": {}, "procedure_key": KEY,
         "timer": "BoundaryEvent_DiagnosisSla"},
    ):
        _criterion(criteria_table, engine, **values)
    engine.settings = make_settings(engine.settings.database_url, monitoring_min_sample=2)
    client = _client(engine)
    body = client.get("/api/v1/monitoring/criteria", query_string=WINDOW).get_json()
    got = {c["criterion_id"]: (c["status"], c["value"], c["target"], c["sample_size"]) for c in body["items"]}
    assert got == {"1": ("missed", 8460.0, 7200.0, 2),           # P1 cycle times 3600, 9000
                   "2": ("at_risk", 1200.0, 1260.0, 3),          # 1200 > 1260 x 0.9
                   "3": ("missed", 0.3333, 0.9, 3),
                   "4": ("met", 0.5, 0.6, 2)}
    only = client.get("/api/v1/monitoring/criteria", query_string={**WINDOW, "objective": "2", "margin": 0.25})
    assert [c["criterion_id"] for c in only.get_json()["items"]] == ["3", "4"]
    assert [c["status"] for c in only.get_json()["items"]] == ["missed", "at_risk"]   # 0.5 > 0.6 x 0.75


def test_a_criterion_missed_in_consecutive_windows_is_recommended(engine: IncidentEngine,
                                                                 criteria_table: Table) -> None:
    build(engine)
    _criterion(criteria_table, engine, id=9, objective_id=1, name="Cycle time", metric="cycle_time",
               statistic="p50", comparator="at_most", target="PT30M", filter={}, procedure_key=KEY)
    engine.settings = make_settings(engine.settings.database_url, monitoring_min_sample=1)
    client = _client(engine)
    # windows of 30 minutes: [m0, m30) nothing completes, [m30, m60) I0 (9000 s), [m60, m90) I1 (3600 s)
    body = client.get(f"/api/v1/monitoring/procedures/{KEY}/recommendations",
                      query_string={"since": m(60).isoformat(), "until": m(90).isoformat()}).get_json()
    top = body["items"][0]
    assert (top["rank"], top["rule"]) == (1, "criterion_missed_repeatedly")
    assert top["evidence"]["streak"] == 2 and top["evidence"]["values"] == [9000.0, 3600.0]
    assert top["evidence"]["window"]["since"] == m(60).isoformat()


def test_report_page_is_served_with_its_data(loaded: Any) -> None:
    page = loaded.get(f"/reports/procedures/{KEY}", query_string={**WINDOW, "version": 1})
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert 'id="bpmn-xml"' in html and 'id="overlay-data"' in html and "major_incident\n    v1" in html
    island = html.split('id="overlay-data" type="application/json">')[1].split("</script>")[0]
    assert json.loads(island)["Task_Triage"] == {"incidents": 3, "median_wait": 1200.0, "median_wait_text": "20m"}
    assert "/static/bpmn-js/bpmn-navigated-viewer.production.min.js" in html and "//" not in html.split("<body>")[0] \
        .replace("http://www.w3.org", "")
    assert loaded.get("/static/bpmn-js/bpmn-navigated-viewer.production.min.js").status_code == 200
    assert loaded.get("/static/report.js").status_code == 200
    missing = loaded.get("/reports/procedures/nope")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    assert loaded.get(f"/reports/procedures/{KEY}", query_string={"since": "soon"}).status_code == 422
    assert loaded.get(f"/reports/procedures/{KEY}", query_string={"since": "2026-03-02T09:00:00"}).status_code == 422
