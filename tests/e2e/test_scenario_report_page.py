"""The scenario report page in headless Chromium: the diagram drawn by the vendored bpmn-js with every
sequence flow marked covered, uncovered or not testable; a screenshot is kept in test-artifacts/."""
from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.identity.tokens import issue_token
from engine.services import procedures, scenario_tests
from engine.services.engine_app import IncidentEngine
from tests.conftest import BUNDLED, make_settings

from .test_report_page import ARTIFACTS, browser  # noqa: F401 - the shared headless Chromium fixture

# the first bundled scenario only (no rework loop, no SLA breach), and one flow declared not testable
SCENARIOS = (BUNDLED / "major_incident.scenarios.yaml").read_bytes().split(b"  - name: caller not verified")[0] + \
    b"not_testable:\n  - flow: Flow_DiagnosisEscalated\n    reason: escalations are drilled on paper\n"


@pytest.fixture
def server(tmp_path: Path, sqlite_template: Path) -> Iterator[tuple[str, str]]:
    from werkzeug.serving import make_server

    from api import create_app

    db = tmp_path / "scenarios.sqlite3"
    shutil.copy(sqlite_template, db)
    engine = IncidentEngine(make_settings(f"sqlite:///{db}"))
    procedures.deploy(engine, (BUNDLED / "major_incident.bpmn").read_bytes(), actor="dana")
    scenario_tests.upload(engine, "major_incident", 1, SCENARIOS, actor="dana")
    scenario_tests.run(engine, "major_incident", 1, actor="dana")
    httpd = make_server("127.0.0.1", 0, create_app(engine.settings, engine), threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}", issue_token(engine.settings, user="bob", roles=["approver"])
    finally:
        httpd.shutdown()
        thread.join(timeout=10)
        engine.db.dispose()


def test_the_diagram_marks_covered_uncovered_and_not_testable_flows(server: tuple[str, str], browser) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base, token = server
    browser.get(f"{base}/reports/procedures/major_incident/versions/1/scenario-tests?access_token={token}")
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-diagram"))
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "scenario-report.png"))
    assert browser.find_element(By.TAG_NAME, "body").get_attribute("data-diagram") == "ready"
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []

    def marked(flow: str) -> set[str]:
        element = browser.find_element(By.CSS_SELECTOR, f"#diagram svg [data-element-id='{flow}']")
        return set((element.get_attribute("class") or "").split())

    assert "ie-covered" in marked("Flow_IncidentReported") and "ie-covered" in marked("Flow_TriagePassed")
    assert "ie-uncovered" in marked("Flow_TriageFailed") and "ie-uncovered" in marked("Flow_DiagnosisOverdue")
    assert "ie-not_testable" in marked("Flow_DiagnosisEscalated")
    stroke = browser.execute_script("return getComputedStyle(document.querySelector("
                                    "\"[data-element-id='Flow_TriageFailed'] .djs-visual > path\")).stroke")
    assert stroke == "rgb(198, 40, 40)"
    reason = browser.find_element(By.CSS_SELECTOR, "#approval tr[data-flow='Flow_DiagnosisEscalated']").text
    assert "drilled on paper" in reason
