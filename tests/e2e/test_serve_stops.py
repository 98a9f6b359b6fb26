"""Ctrl-C stops `incident-engine serve` in under 5 s, also with a long poll parked and an idle connection
open (issue 10, part 7). A terminal sends SIGINT to the whole process group; the master then sends SIGQUIT
to its workers, so each worker gets two signals: the case that used to end in a 30 s wait and a SIGKILL."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

from tests.e2e.test_cli_serve import _cli, _env, _free_port, _tail

STOP_WITHIN_S = 5.0


def _wait_healthy(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, _tail(log)
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"serve did not come up:\n{_tail(log)}")


def _long_poll(base: str, token: str, answered: list[float]) -> None:
    body = {"workerId": "w", "maxTasks": 1, "asyncResponseTimeout": 30000,
            "topics": [{"topicName": "nothing-here", "lockDuration": 1000}]}
    request = urllib.request.Request(base + "/engine-rest/external-task/fetchAndLock", data=json.dumps(body).encode(),
                                     method="POST", headers={"Content-Type": "application/json",
                                                             "Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            answer.read()
    except OSError:
        pass
    answered.append(time.monotonic())


def test_ctrl_c_stops_serve_quickly_even_with_a_parked_long_poll(tmp_path: Path) -> None:
    env = {**_env(tmp_path, tmp_path / "e.sqlite3"), "DEPLOY_BUNDLED": "0", "LOG_LEVEL": "INFO"}
    token = subprocess.run([*_cli(), "token", "--user", "crm", "--role", "integration", "--group", "*"], env=env,
                           capture_output=True, text=True, timeout=60, check=True).stdout.strip()
    for round_ in range(2):
        port, log = _free_port(), tmp_path / f"serve-{round_}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen([*_cli(), "serve", "--port", str(port)], env=env, cwd=tmp_path, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(base, proc, log)
            answered: list[float] = []
            poller = threading.Thread(target=_long_poll, args=(base, token, answered), daemon=True)
            poller.start()
            idle = socket.create_connection(("127.0.0.1", port))  # connected, never sends a request
            time.sleep(1.5)  # the poll is parked by now
            assert not answered
            pressed = time.monotonic()
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(timeout=40)
            took = time.monotonic() - pressed
            idle.close()
            poller.join(10)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        text = _tail(log)
        assert proc.returncode == 0, text
        assert took < STOP_WITHIN_S, f"round {round_}: {took:.1f} s after Ctrl-C\n{text}"
        assert "SIGKILL" not in text
        assert answered and answered[0] - pressed < STOP_WITHIN_S  # the parked poll was answered, not cut off
