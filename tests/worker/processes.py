"""Starting real `celery worker` and `celery beat` processes for tests, and stopping them for sure."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))


def celery_env(tmp: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OUTBOX_", "CELERY_", "SCHEDULER"))}
    env.update(PYTHONPATH=str(ROOT), INCIDENT_ENGINE_INSTANCE=str(tmp), DEPLOY_BUNDLED="0",
               TIMER_TICK_SECONDS="0.5", LOG_LEVEL="INFO", **values)
    return env


def start(kind: str, env: dict[str, str], tmp: Path, app: str = "workers.celery_app") -> subprocess.Popen[bytes]:
    """`celery -A app worker|beat`, its output in tmp/<kind>-<n>.log; its own session so it dies alone."""
    if kind == "worker":
        args = ["worker", "--pool=solo", f"--queues={env['CELERY_QUEUE']}", f"--hostname=t-{uuid.uuid4().hex[:8]}@%h",
                "--without-mingle", "--without-gossip", "--without-heartbeat", "--loglevel=INFO"]
    else:
        args = ["beat", f"--schedule={tmp / f'beat-{uuid.uuid4().hex[:6]}'}", "--loglevel=INFO"]
    log = open(tmp / f"{kind}-{uuid.uuid4().hex[:6]}.log", "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen([CELERY, "-A", app, *args], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    proc.log = log  # type: ignore[attr-defined]
    return proc


def kill9(proc: subprocess.Popen[bytes]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    proc.log.close()  # type: ignore[attr-defined]


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    proc.log.close()  # type: ignore[attr-defined]


def wait_for(check: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"gave up after {timeout} s waiting for {what or check}")
