"""A task whose form is a Camunda Form (.form): drawn by the vendored form-js viewer, its data posted as JSON
and validated by the engine (the same check as the task API), in the test client and in headless Chromium."""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.identity.principal import Principal
from engine.services import deployments, incidents, tasks
from engine.services.engine_app import IncidentEngine
from tests.conftest import FIXTURES
from tests.support.procedures import activate
from tests.support.web import chromium_driver, csrf_of

DEPLOY = FIXTURES / "deployments"
AGENT = Principal.of("agent1", ["agent"], ["service-desk"])


def _callback_task(engine: IncidentEngine) -> dict[str, Any]:
    deployments.deploy_files(engine, [(n, (DEPLOY / n).read_bytes()) for n in ("callback.bpmn", "callback.form")])
    activate(engine, "callback_flow")
    view, _ = incidents.start(engine, procedure="callback_flow", reference="CB-1",
                              data={"customerRef": "C-77"}, principal=AGENT)
    return view["open_tasks"][0]


def test_the_page_carries_the_schema_and_the_engine_checks_the_posted_data(
        web_engine: IncidentEngine, signed_in: Any) -> None:
    task = _callback_task(web_engine)
    alice = signed_in("agent1", ["agent"], ["service-desk"])
    page = alice.get(f"/tasks/{task['id']}")
    html = page.text
    assert page.status_code == 200 and 'id="form-js"' in html and "form-js/form-viewer.umd.js" in html
    schema = re.search(r'<script id="form-schema" type="application/json">(.*?)</script>', html, re.S)
    values = re.search(r'<script id="form-values" type="application/json">(.*?)</script>', html, re.S)
    assert schema and json.loads(schema.group(1))["id"] == "callback_form"
    assert values and json.loads(values.group(1))["customerRef"] == "C-77"  # pre-filled from the incident

    bad = alice.post(f"/tasks/{task['id']}/complete", data={
        "csrf_token": csrf_of(html), "data": json.dumps({"customerRef": "X-1", "amount": 5})})
    assert bad.status_code == 422 and "customerRef:" in bad.text and "pattern" in bad.text
    assert tasks.get(web_engine, task["id"])["state"] == "ready"
    for junk in ("not json", "[1, 2]", "x" * 70_000):
        refused = alice.post(f"/tasks/{task['id']}/complete", data={"csrf_token": csrf_of(html), "data": junk})
        assert refused.status_code == 422 and "Traceback" not in refused.text
    done = alice.post(f"/tasks/{task['id']}/complete", data={
        "csrf_token": csrf_of(html), "data": json.dumps({"customerRef": "C-1234", "amount": 12.5,
                                                         "severity": "high", "approved": True, "notes": "ok"})})
    assert done.status_code == 302
    incident = incidents.get(web_engine, task["incident_id"])
    assert incident["status"] == "completed" and incident["data"]["amount"] == 12.5


@pytest.fixture
def chromium() -> Iterator[Any]:
    driver = chromium_driver(height=1100)
    try:
        yield driver
    finally:
        driver.quit()


def test_form_js_draws_the_form_and_a_corrected_value_completes_the_task(
        tmp_path: Path, sqlite_template: Path, chromium: Any) -> None:
    from selenium.webdriver.common.by import By

    from engine.identity.keys import web_secret
    from engine.identity.sign_in_links import issue
    from tests.support.web import serve
    from tests.web.test_pages_in_chromium import _severe, _shot, _wait

    with serve(tmp_path, sqlite_template) as served:
        task = _callback_task(served.engine)
        link = issue(web_secret(served.engine.settings), served.base, user="agent1", roles=["agent"],
                     groups=["service-desk"])
        chromium.get(link)
        chromium.find_element(By.ID, "continue").click()
        _wait(chromium, lambda d: d.current_url.endswith("/inbox"))
        chromium.get(f"{served.base}/tasks/{task['id']}")
        _wait(chromium, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-form") == "ready")
        ref = chromium.find_element(By.CSS_SELECTOR, '#form-js input[id$="-Field_ref"]')
        assert ref.get_attribute("value") == "C-77"
        ref.clear()
        ref.send_keys("X-1")
        chromium.find_element(By.ID, "complete").click()
        error = _wait(chromium, lambda d: d.find_element(By.CSS_SELECTOR, "#form-js .fjs-form-field-error"))
        assert error.text  # form-js's own message beside the field; nothing was posted
        assert tasks.get(served.engine, task["id"])["state"] == "ready"
        assert chromium.find_elements(By.CSS_SELECTOR, ".fjs-powered-by, .fjs-powered-by-link, a[href*='bpmn.io']")
        _shot(chromium, "camunda-form.png")
        ref.clear()
        ref.send_keys("C-1234")
        chromium.find_element(By.ID, "complete").click()
        _wait(chromium, lambda d: "/incidents/" in d.current_url)
        assert chromium.find_element(By.CSS_SELECTOR, "#incident-summary .status").text == "completed"
        assert incidents.get(served.engine, task["incident_id"])["data"]["customerRef"] == "C-1234"
        assert _severe(chromium) == []
