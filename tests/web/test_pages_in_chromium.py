"""The pages in headless Chromium, signed in through a real OIDC provider process: an agent works an incident
from the queue to its end (one bad field on the way), a second agent sees the claimed task leave the group
queue without reloading, a supervisor reassigns, a designer uploads a file and reads its lint findings.
Screenshots go to test-artifacts/ (inbox.png, task-form.png, supervisor.png, workbench.png)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.identity.principal import Principal
from engine.services import incidents, tasks
from tests.support.oidc import Provider, running_provider
from tests.support.procedures import deploy_active
from tests.support.web import Served, chromium_driver, serve
from tests.web.conftest import WEB_DESK

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
UNOWNED = ROOT / "tests" / "fixtures" / "bpmn" / "web_unowned.bpmn"
STARTER = Principal.of("crm", ["agent"], ["service-desk"])


@pytest.fixture
def site(tmp_path: Path, sqlite_template: Path) -> Iterator[tuple[Served, Provider]]:
    with running_provider() as provider, serve(
            tmp_path, sqlite_template, oidc_issuer=provider.issuer, oidc_client_id="incident-engine-web",
            oidc_client_secret="s3cret", web_refresh_seconds=1) as served:
        provider.set_user("alice", name="Alice Agent", roles=["agent"], groups=["service-desk"])
        provider.set_user("bob", name="Bob Agent", roles=["agent"], groups=["service-desk"])
        provider.set_user("sam", name="Sam Supervisor", roles=["supervisor"], groups=["service-desk"])
        provider.set_user("dana", name="Dana Designer", roles=["designer"])
        deploy_active(served.engine, WEB_DESK)
        yield served, provider


@pytest.fixture
def browsers() -> Iterator[Callable[[], Any]]:
    opened: list[Any] = []

    def open_browser() -> Any:
        driver = chromium_driver()
        opened.append(driver)
        return driver

    try:
        yield open_browser
    finally:
        for driver in opened:
            driver.quit()


def _wait(driver: Any, condition: Callable[[Any], Any], seconds: float = 20) -> Any:
    """Until `condition` holds; an element replaced meanwhile (a navigation, the queue's refresh) is retried."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds, ignored_exceptions=(NoSuchElementException,
                                                              StaleElementReferenceException)).until(condition)


def _sign_in(driver: Any, served: Served, sub: str, path: str = "/inbox") -> None:
    """Open a page, get sent to the provider, sign in there as `sub`, land back on the page."""
    from selenium.webdriver.common.by import By

    driver.get(served.base + path)
    box = _wait(driver, lambda d: d.find_element(By.NAME, "sub"))
    box.send_keys(sub)
    box.find_element(By.XPATH, "./ancestor::form//button[@type='submit']").click()
    _wait(driver, lambda d: d.current_url.startswith(served.base + path))
    driver.get_log("browser")  # what the provider's own pages logged is not ours to judge


def _shot(driver: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    driver.execute_script("window.scrollTo(0, 0)")
    driver.save_screenshot(str(ARTIFACTS / name))


def _severe(driver: Any) -> list[Any]:
    """Console errors, less the 422 a refused form is answered with (the page shows it beside the field)."""
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"
            and not (e["source"] == "network" and "status of 422" in e["message"])]


def _start(served: Served, reference: str) -> dict[str, Any]:
    view, _ = incidents.start(served.engine, procedure="web_desk", reference=reference,
                              data={"priority": "P1", "summary": "Payments line down"}, principal=STARTER)
    return view


def test_an_agent_works_an_incident_to_its_end_while_a_colleague_watches_the_queue(
        site: tuple[Served, Provider], browsers: Callable[[], Any]) -> None:
    from selenium.webdriver.common.by import By

    served, _provider = site
    view = _start(served, "CRM-100")
    task_id = view["open_tasks"][0]["id"]
    alice, bob = browsers(), browsers()
    _sign_in(alice, served, "alice")
    _sign_in(bob, served, "bob")
    row = f'#group-tasks tr[data-task="{task_id}"]'
    assert alice.find_elements(By.CSS_SELECTOR, row) and bob.find_elements(By.CSS_SELECTOR, row)
    assert "Alice Agent" in alice.find_element(By.CSS_SELECTOR, ".who").text
    _shot(alice, "inbox.png")

    alice.set_window_size(820, 1180)  # a tablet held upright: nothing runs off the side
    assert alice.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    _shot(alice, "inbox-tablet.png")
    alice.set_window_size(1366, 1000)

    # the keyboard alone reaches the claim button (Tab from the top of the page) and presses it
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    on_claim = ("var a = document.activeElement; return a.tagName === 'BUTTON' && !!a.closest("
                f"'#group-tasks tr[data-task=\"{task_id}\"]')")
    for _ in range(40):
        ActionChains(alice).send_keys(Keys.TAB).perform()
        if alice.execute_script(on_claim):
            break  # the queue does not refresh under the keyboard focus, so the button stays put
    assert alice.execute_script(on_claim), "the claim button is not reachable with Tab"
    ActionChains(alice).send_keys(Keys.ENTER).perform()
    _wait(alice, lambda d: d.current_url.endswith(f"/tasks/{task_id}"))
    # Bob's inbox refreshes its group queue without a reload: the task Alice took leaves it
    _wait(bob, lambda d: not d.find_elements(By.CSS_SELECTOR, row))
    assert bob.execute_script("return window.performance.getEntriesByType('navigation').length") == 1

    alice.find_element(By.ID, "f-summary").clear()
    alice.find_element(By.ID, "f-summary").send_keys("Payments line down")
    alice.find_element(By.ID, "f-callers").send_keys("many")
    alice.find_element(By.ID, "complete").click()
    error = _wait(alice, lambda d: d.find_element(By.ID, "e-callers"))
    assert "whole number" in error.text
    assert alice.find_element(By.ID, "f-callers").get_attribute("aria-invalid") == "true"
    _shot(alice, "task-form.png")
    assert tasks.get(served.engine, task_id)["state"] == "ready"

    callers = alice.find_element(By.ID, "f-callers")
    callers.clear()
    callers.send_keys("12")
    alice.find_element(By.ID, "f-urgent").click()
    alice.find_element(By.ID, "complete").click()
    _wait(alice, lambda d: d.find_element(By.ID, "task-name").text == "Resolve")
    alice.find_element(By.ID, "f-resolution").send_keys("Line card replaced")
    alice.find_element(By.ID, "complete").click()
    _wait(alice, lambda d: d.current_url.endswith(f"/incidents/{view['id']}"))
    assert alice.find_element(By.CSS_SELECTOR, "#incident-summary .status").text == "completed"
    assert incidents.get(served.engine, view["id"])["data"]["resolution"] == "Line card replaced"
    assert _severe(alice) == [] and _severe(bob) == []


def test_a_supervisor_reassigns_and_a_designer_reads_the_lint_findings(
        site: tuple[Served, Provider], browsers: Callable[[], Any]) -> None:
    from selenium.webdriver.common.by import By

    served, _provider = site
    view = _start(served, "CRM-200")
    task_id = view["open_tasks"][0]["id"]
    sam = browsers()
    _sign_in(sam, served, "sam", "/supervisor")
    lane_row = sam.find_element(By.CSS_SELECTOR, '#lanes tr[data-lane="service-desk"]')
    assert lane_row.text.split()[1:3] == ["1", "1"]
    lane_row.find_element(By.TAG_NAME, "a").click()
    box = _wait(sam, lambda d: d.find_element(By.ID, f"assign-{task_id}"))
    box.send_keys("bob")
    box.find_element(By.XPATH, "./ancestor::form//button").click()
    message = _wait(sam, lambda d: d.find_element(By.CSS_SELECTOR, ".flash-info"))
    assert "now assigned to bob" in message.text
    _shot(sam, "supervisor.png")
    assert tasks.get(served.engine, task_id)["assignee"] == "bob"

    dana = browsers()
    _sign_in(dana, served, "dana", "/procedures")
    dana.find_element(By.ID, "file").send_keys(str(UNOWNED))
    dana.find_element(By.ID, "deploy-button").click()
    _wait(dana, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-diagram"))
    assert dana.find_element(By.TAG_NAME, "body").get_attribute("data-diagram") == "ready"
    finding = dana.find_element(By.CSS_SELECTOR, '#findings tr[data-rule="task.no_owner"]')
    assert "Task_Orphan" in finding.text and "warning" in finding.text
    assert dana.find_element(By.ID, "gov-status").text == "draft"
    assert dana.find_elements(By.CSS_SELECTOR, "#blockers li")
    dana.find_element(By.ID, "element_id").send_keys("Orphan")
    dana.find_element(By.ID, "body").send_keys("Give this task to a lane")
    dana.find_element(By.ID, "comment-button").click()
    marker = _wait(dana, lambda d: d.find_element(By.CSS_SELECTOR, '.ie-comment-marker[data-element="Task_Orphan"]'))
    assert marker.text == "1"
    _shot(dana, "workbench.png")
    assert _severe(sam) == [] and _severe(dana) == []
