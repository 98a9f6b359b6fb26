"""The ops report page in headless Chromium: no console errors, the BPMN diagram drawn by the vendored bpmn-js
with every task, overlays with the scripted figures, charts and recommendations; a screenshot is kept in
test-artifacts/report.png."""
from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.identity.tokens import issue_token
from engine.services.engine_app import IncidentEngine
from tests.conftest import make_settings
from tests.monitoring_data import KEY, SINCE, UNTIL, build

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
USER_TASKS = ("Task_LogIncident", "Task_Triage", "Task_VerifyCallerIdentity", "Task_Diagnose",
              "Task_EscalateDiagnosis", "Task_SendStakeholderUpdate", "Task_Resolve", "Task_Debrief")
# incidents that reached each task in the window, and its median wait (tests/monitoring_data.py)
OVERLAYS = {"Task_LogIncident": "6 · 15m", "Task_Triage": "3 · 20m", "Task_VerifyCallerIdentity": "1 · 10m",
            "Task_Diagnose": "2 · 15m", "Task_SendStakeholderUpdate": "0 · n/a", "Task_Resolve": "0 · n/a",
            "Task_EscalateDiagnosis": "0 · n/a", "Task_Debrief": "0 · n/a"}

WITH_FIGURES = ("Task_LogIncident", "Task_Triage", "Task_VerifyCallerIdentity", "Task_Diagnose")
WITHOUT_FIGURES = ("Send stakeholder update", "Resolve", "Escalate", "Debrief")


@pytest.fixture
def server(tmp_path: Path, sqlite_template: Path) -> Iterator[tuple[str, str]]:
    """The app on a scripted SQLite database, served by werkzeug on a free local port."""
    from werkzeug.serving import make_server

    from api import create_app

    db = tmp_path / "report.sqlite3"
    shutil.copy(sqlite_template, db)
    engine = IncidentEngine(make_settings(f"sqlite:///{db}", monitoring_min_sample=3))
    build(engine)
    httpd = make_server("127.0.0.1", 0, create_app(engine.settings, engine), threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}", issue_token(engine.settings, user="ops", roles=["ops"])
    finally:
        httpd.shutdown()
        thread.join(timeout=10)
        engine.db.dispose()


@pytest.fixture
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    assert Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists(), \
        "install chromium and chromium-driver (scripts/test.sh does)"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--no-first-run", "--window-size=1400,2200"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def test_report_page_in_a_browser(server: tuple[str, str], browser: Any) -> None:
    base, token = server
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{base}/reports/procedures/{KEY}?access_token={token}&since={SINCE.isoformat().replace('+00:00', 'Z')}"
                f"&until={UNTIL.isoformat().replace('+00:00', 'Z')}")
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-diagram"))
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "report.png"))
    assert browser.find_element(By.TAG_NAME, "body").get_attribute("data-diagram") == "ready"

    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == [], severe

    svg = browser.find_element(By.CSS_SELECTOR, "#diagram svg")
    drawn = {el.get_attribute("data-element-id") for el in svg.find_elements(By.CSS_SELECTOR, "[data-element-id]")}
    assert set(USER_TASKS) <= drawn and "Gateway_TriageCheck" in drawn

    shown = {el.get_attribute("data-task"): el.text.strip()
             for el in browser.find_elements(By.CSS_SELECTOR, ".ie-overlay")}
    assert shown == OVERLAYS

    bars = browser.find_elements(By.CSS_SELECTOR, "#chart-cycle-time rect.bar")
    assert {(b.get_attribute("data-label"), b.get_attribute("data-series"), b.get_attribute("data-seconds"))
            for b in bars} >= {("version 1 (3 completed)", "p50", "7200.0"), ("version 2 (1 completed)", "p90", "3600.0")}
    # tasks with figures get bars; the ones without data share one line instead of a stack of "n/a"
    assert len(browser.find_elements(By.CSS_SELECTOR, "#chart-task-times rect.bar")) == 4 * len(WITH_FIGURES)
    assert "n/a" not in browser.find_element(By.ID, "chart-task-times").text
    no_data = browser.find_element(By.ID, "no-task-data").text
    assert no_data.startswith("No wait or work figures in this window for:")
    assert all(name in no_data for name in WITHOUT_FIGURES), no_data
    check_row = browser.find_element(By.CSS_SELECTOR, "#checks tr[data-check='triage_complete']").text
    assert "Gateway_TriageCheck 3 1 33% 3 1" in check_row
    rules = [li.get_attribute("data-rule") for li in browser.find_elements(By.CSS_SELECTOR, "#recommendations li")]
    assert rules == ["failing_check"]
    assert "No criteria are agreed" in browser.find_element(By.ID, "criteria").text
