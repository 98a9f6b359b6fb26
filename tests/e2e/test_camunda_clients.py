"""Real Camunda clients against a real server process (`incident-engine serve`, gunicorn, SQLite):
pycamunda 0.6.1 and camunda-external-task-client-python3 4.5.0, unchanged, over HTTP Basic and Bearer."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from engine.identity.credentials import add_user

from .test_cli_serve import _cli, _free_port

ROOT = Path(__file__).resolve().parents[2]
CHARGE = ROOT / "tests" / "fixtures" / "bpmn" / "external_charge.bpmn"
SECRET = "e2e-secret-for-the-camunda-clients-0123456789"


def _activate(url: str, key: str) -> None:
    """Take the uploaded version live through governance, on the served database (tests/support/procedures.py)."""
    from engine.services.engine_app import IncidentEngine
    from tests.conftest import make_settings
    from tests.support.procedures import activate

    engine = IncidentEngine(make_settings(url))
    try:
        activate(engine, key)
    finally:
        engine.db.dispose()


class Server:
    def __init__(self, base: str, env: dict[str, str]) -> None:
        self.base, self.env = base, env
        self.rest = f"{base}/engine-rest"

    def token(self, user: str, *roles: str, group: str | None = None) -> str:
        args = [*_cli(), "token", "--user", user, *[a for r in roles for a in ("--role", r)]]
        args += ["--group", group] if group else []
        done = subprocess.run(args, env=self.env, capture_output=True, text=True, timeout=60, check=True)
        return done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One gunicorn worker with ONE working thread: a parked long poll must not take it from the API."""
    tmp = tmp_path_factory.mktemp("camunda-e2e")
    credentials = tmp / "basic.json"
    add_user(credentials, "demo", "demo-pass", ["agent", "supervisor", "designer"], ["service-desk"])
    add_user(credentials, "robot", "robot-pass", ["integration"], ["charge-card"])
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "OUTBOX_TOPICS")}
    env.update(DATABASE_URL=f"sqlite:///{tmp / 'e2e.sqlite3'}", INCIDENT_ENGINE_INSTANCE=str(tmp),
               LOG_LEVEL="WARNING", JWT_SECRET=SECRET, BASIC_CREDENTIALS_FILE=str(credentials),
               SCHEDULER="off", LONG_POLL_MAX_WAITERS="8", BOOTSTRAP_BUNDLED="0")
    port = _free_port()
    process = subprocess.Popen([*_cli(), "serve", "--host", "127.0.0.1", "--port", str(port), "--threads", "1"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.3)
            assert process.poll() is None, process.stderr.read().decode()[-3000:] if process.stderr else ""
        served = Server(base, env)
        designer = {"Authorization": f"Bearer {served.token('dana', 'designer')}"}
        upload = requests.post(f"{base}/api/v1/procedures", data=CHARGE.read_bytes(), timeout=30,
                               headers={**designer, "Content-Type": "application/xml"})
        assert upload.status_code == 201, upload.text
        for key in ("external_charge", "major_incident"):  # serve deployed the bundled ones as drafts
            _activate(env["DATABASE_URL"], key)
        yield served
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def test_pycamunda_start_list_claim_complete_get_delete(server: Server) -> None:
    import pycamunda.processdef
    import pycamunda.processinst
    import pycamunda.task
    from requests.auth import HTTPBasicAuth

    auth = HTTPBasicAuth("demo", "demo-pass")

    def send(request: Any) -> Any:
        request.auth = auth
        return request()

    start = pycamunda.processdef.StartInstance(server.rest, key="major_incident", business_key="PY-1")
    for name, value in (("priority", "P1"), ("summary", "Payments line down"), ("caller_id", "C-77")):
        start.add_variable(name, value)
    instance = send(start)
    assert instance.business_key == "PY-1" and instance.definition_id
    found = send(pycamunda.task.GetList(server.rest, candidate_group="service-desk", process_instance_id=instance.id_))
    assert [t.task_definition_key for t in found] == ["Task_LogIncident"]
    task = found[0]
    assert task.created is not None and task.priority == 50
    send(pycamunda.task.Claim(server.rest, id_=task.id_, user_id="demo"))
    assert send(pycamunda.task.Get(server.rest, id_=task.id_)).assignee == "demo"
    complete = pycamunda.task.Complete(server.rest, id_=task.id_)
    complete.add_variable("summary", "Payments line down")
    complete.add_variable("caller_id", "C-77")
    complete.add_variable("identity_verified", True, type_="Boolean")
    send(complete)
    got = send(pycamunda.processinst.Get(server.rest, id_=instance.id_))
    assert got.id_ == instance.id_ and got.business_key == "PY-1"
    send(pycamunda.processinst.Delete(server.rest, id_=instance.id_))
    with pytest.raises(pycamunda.NotFound):
        send(pycamunda.processinst.Get(server.rest, id_=instance.id_))
    definitions = send(pycamunda.processdef.GetList(server.rest, key="external_charge"))
    assert [d.key for d in definitions] == ["external_charge"]


def test_pycamunda_deploys_and_correlates_a_message(server: Server, tmp_path: Path) -> None:
    """deployment.Create (its resource-N parts and "False"/"True" booleans), then CorrelateSingle with
    result_enabled=True, as pycamunda users must against Camunda too (its 204 otherwise has no JSON)."""
    import pycamunda
    import pycamunda.deployment
    import pycamunda.message
    import pycamunda.processdef
    import pycamunda.processinst
    import pycamunda.task
    from requests.auth import HTTPBasicAuth

    auth = HTTPBasicAuth("demo", "demo-pass")

    def send(request: Any) -> Any:
        request.auth = auth
        return request()

    create = pycamunda.deployment.Create(server.rest, name="callbacks", source="pycamunda",
                                         enable_duplicate_filtering=True)
    with (ROOT / "tests" / "fixtures" / "bpmn" / "events" / "message_waits.bpmn").open("rb") as diagram:
        create.add_resource(diagram)
        deployment = send(create)
    assert deployment.name == "callbacks" and deployment.deployment_time is not None
    [definition] = deployment.deployed_process_definitions.values()
    assert (definition.key, definition.version, definition.resource) == ("message_waits", 1, "message_waits.bpmn")
    assert send(pycamunda.deployment.Get(server.rest, id_=deployment.id_)).source == "pycamunda"
    broken = tmp_path / "broken.bpmn"
    broken.write_bytes(b"<bpmn:definitions xmlns:bpmn='http://www.omg.org/spec/BPMN/20100524/MODEL'><oops>")
    bad = pycamunda.deployment.Create(server.rest, name="broken")
    with broken.open("rb") as handle:
        bad.add_resource(handle)
        with pytest.raises(pycamunda.BadRequest, match="ENGINE-09005 Could not parse BPMN process"):
            send(bad)

    _activate(server.env["DATABASE_URL"], "message_waits")
    instance = send(pycamunda.processdef.StartInstance(server.rest, key="message_waits", business_key="PYM-1"))
    [task] = send(pycamunda.task.GetList(server.rest, process_instance_id=instance.id_))
    send(pycamunda.task.Complete(server.rest, id_=task.id_))
    correlate = pycamunda.message.CorrelateSingle(server.rest, message_name="customerCalledBack",
                                                  business_key="PYM-1", result_enabled=True)
    correlate.add_process_variable("note", "called at 10")
    [result] = send(correlate)
    assert result.result_type == pycamunda.message.ResultType.execution
    assert result.execution.process_instance_id == instance.id_
    variables = requests.get(f"{server.rest}/process-instance/{instance.id_}/variables", auth=auth, timeout=30)
    assert variables.json()["note"]["value"] == "called at 10"
    with pytest.raises(pycamunda.BadRequest, match="Cannot correlate message"):  # nothing waits for it now
        send(pycamunda.message.CorrelateSingle(server.rest, message_name="customerCalledBack",
                                               business_key="PYM-1", result_enabled=True))


def test_pycamunda_deletes_a_draft_deployment_and_is_told_why_not_an_active_one(server: Server) -> None:
    """deployment.Delete sends cascade, skipCustomListeners and skipIoMappings (false by default): a draft
    deployment goes (204), one whose version is active is a BadRequest saying why (a governance record)."""
    import pycamunda
    import pycamunda.deployment
    from requests.auth import HTTPBasicAuth

    auth = HTTPBasicAuth("demo", "demo-pass")

    def send(request: Any) -> Any:
        request.auth = auth
        return request()

    create = pycamunda.deployment.Create(server.rest, name="to-delete", source="pycamunda")
    with (ROOT / "tests" / "fixtures" / "bpmn" / "simple_flow.bpmn").open("rb") as diagram:
        create.add_resource(diagram)
        draft = send(create)
    send(pycamunda.deployment.Delete(server.rest, id_=draft.id_))
    with pytest.raises(pycamunda.NotFound):
        send(pycamunda.deployment.Get(server.rest, id_=draft.id_))
    with pytest.raises(pycamunda.NotFound):
        send(pycamunda.deployment.Delete(server.rest, id_=draft.id_, cascade=True))
    listed = requests.get(f"{server.rest}/deployment?source=pycamunda", auth=auth, timeout=30).json()
    active = next(d for d in listed if d["name"] == "callbacks")  # message_waits went live in the test above
    with pytest.raises(pycamunda.BadRequest, match="governance record"):
        send(pycamunda.deployment.Delete(server.rest, id_=active["id"], cascade=True))


def _start_charges(server: Server, amounts: list[float], prefix: str) -> list[str]:
    ids = []
    for number, amount in enumerate(amounts):
        response = requests.post(f"{server.rest}/process-definition/key/external_charge/start", timeout=30,
                                 auth=("demo", "demo-pass"),
                                 json={"businessKey": f"{prefix}-{number}", "variables": {"amount": {"value": amount}}})
        assert response.status_code == 200, response.text
        ids.append(response.json()["id"])
    return ids


def test_external_task_worker_completes_fails_and_raises_bpmn_errors(server: Server) -> None:
    from camunda.external_task.external_task_worker import ExternalTaskWorker

    ids = _start_charges(server, [10.0, 20.0, 30.0, 666.0, 999.0], "worker")
    handled: list[float] = []

    def handle(task: Any) -> Any:
        amount = task.get_variable("amount")
        handled.append(amount)
        if amount == 666.0:
            return task.failure("card service down", "trace", max_retries=0, retry_timeout=0)
        if amount == 999.0:
            return task.bpmn_error("CARD_DECLINED", "declined", {"decline_reason": "funds"})
        return task.complete({"charged": amount, "provider": task.get_extension_property("provider")})

    worker = ExternalTaskWorker("worker-1", base_url=server.rest, config={
        "auth_basic": {"username": "robot", "password": "robot-pass"}, "maxTasks": 1, "lockDuration": 10000,
        "asyncResponseTimeout": 2000, "sleepSeconds": 0})
    for _ in range(5):
        worker.fetch_and_execute("charge-card", handle)
    assert sorted(handled) == [10.0, 20.0, 30.0, 666.0, 999.0]
    demo = ("demo", "demo-pass")
    states = {}
    for instance_id, amount in zip(ids, [10.0, 20.0, 30.0, 666.0, 999.0], strict=True):
        tasks = requests.get(f"{server.rest}/task?processInstanceId={instance_id}", auth=demo, timeout=30).json()
        states[amount] = [t["taskDefinitionKey"] for t in tasks]
    assert states == {10.0: ["Task_Confirm"], 20.0: ["Task_Confirm"], 30.0: ["Task_Confirm"], 666.0: [],
                      999.0: ["Task_HandleDecline"]}
    supervisor = {"Authorization": f"Bearer {server.token('sam', 'supervisor', 'ops')}"}
    incidents = requests.get(f"{server.rest}/incident?processInstanceId={ids[3]}", headers=supervisor, timeout=30)
    assert [i["incidentMessage"] for i in incidents.json()] == ["card service down"]
    variables = requests.get(f"{server.rest}/process-instance/{ids[0]}/variables", auth=demo, timeout=30).json()
    assert variables["charged"]["value"] == 10.0 and variables["provider"]["value"] == "acme"


def test_a_parked_long_poll_leaves_the_working_thread_free(server: Server) -> None:
    """The server has one working thread; while a fetch waits (up to 4 s), other requests still answer,
    and a task started meanwhile reaches the waiting worker at once."""
    robot = ("robot", "robot-pass")
    body = {"workerId": "parked", "maxTasks": 1, "asyncResponseTimeout": 4000,
            "topics": [{"topicName": "charge-card", "lockDuration": 10000}]}
    requests.post(f"{server.rest}/external-task/fetchAndLock", json={**body, "maxTasks": 100,
                                                                    "asyncResponseTimeout": 0}, auth=robot, timeout=30)
    got: dict[str, Any] = {}

    def poll() -> None:
        started = time.monotonic()
        got["tasks"] = requests.post(f"{server.rest}/external-task/fetchAndLock", json=body, auth=robot,
                                     timeout=30).json()
        got["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=poll)
    thread.start()
    time.sleep(0.5)
    started = time.monotonic()
    assert requests.get(f"{server.rest}/version", auth=robot, timeout=30).status_code == 200
    assert time.monotonic() - started < 1.5
    _start_charges(server, [1.0], "parked")
    thread.join(timeout=30)
    assert len(got["tasks"]) == 1 and got["seconds"] < 3.5, got


def test_the_cli_writes_credentials(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    done = subprocess.run([*_cli(), "credentials", "--file", str(path), "--user", "w", "--role", "integration",
                           "--group", "charge-card", "--password-stdin"], input="pw-123\n", text=True,
                          capture_output=True, timeout=60, env={**os.environ})
    assert done.returncode == 0, done.stderr
    from engine.identity.credentials import BasicCredentials

    principal = BasicCredentials(path).verify("w", "pw-123")
    assert principal is not None and principal.roles == {"integration"} and principal.groups == {"charge-card"}
    assert sys.executable  # the same interpreter runs the CLI
