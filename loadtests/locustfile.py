"""Agent desktops working incidents through any procedure at a given arrival rate (Locust).

    locust -f loadtests/locustfile.py --headless --host http://127.0.0.1:8000 -u 11 -r 11 -t 120s \\
        --procedure major_incident --incidents-per-hour 600 --csv out/stats --only-summary

One user is the dispatcher: it starts incidents at --incidents-per-hour and stops --drain-seconds before
the end of the run (default: a quarter of -t, 2..60 s), so the agents can finish what it started. Every
other user is an agent desktop (so -u = agents + 1): list the ready queue, claim the task when the server
has a claim endpoint, read its form, fill it with valid values (desk_values.py: booleans pass with
--pass-probability so check gateways fail now and then and rework loops run), complete it. A 409 because
another agent got there first is expected and counted as a conflict, not a failure. Agents only work
incidents this process started (add --work-any in distributed mode). Incidents are test incidents
(`"test": true`: any version may run, monitoring never counts them), which is how a fitness test runs a
version before it is approved; --live starts live incidents on the active version instead. Set
LOCUST_TOKEN to send a bearer token. At the end the counts (started, completed, conflicts, still open)
are logged and, with --summary-file, written as JSON.
"""
from __future__ import annotations

import json
import logging
import os
import random
import time
import uuid
from typing import Any

from desk_values import fill_task, start_data
from gevent.pool import Pool
from locust import HttpUser, events, task
from run_summary import summarize

log = logging.getLogger("loadtest")
COUNTS: dict[str, int] = {"started": 0, "start_failed": 0, "tasks_completed": 0, "completed_seen": 0,
                          "conflicts": 0}
OWN: set[str] = set()
IN_HAND: set[str] = set()  # tasks an agent of this process is working on: others pick something else
CLAIM: dict[str, bool | None] = {"supported": None}  # None until the first claim attempt tells us
DISPATCH: dict[str, Any] = {}
MAX_STARTS_IN_FLIGHT = 200


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    group = parser.add_argument_group("incident-engine")
    group.add_argument("--procedure", env_var="LOCUST_PROCEDURE", default="", help="procedure key to start")
    group.add_argument("--procedure-version", type=int, env_var="LOCUST_PROCEDURE_VERSION", default=0,
                       help="explicit version (0: the latest for test incidents, the active one with --live)")
    group.add_argument("--live", action="store_true", env_var="LOCUST_LIVE", default=False,
                       help="start live incidents (the active version only) instead of test incidents")
    group.add_argument("--incidents-per-hour", type=float, env_var="LOCUST_INCIDENTS_PER_HOUR", default=60.0)
    group.add_argument("--drain-seconds", type=float, env_var="LOCUST_DRAIN_SECONDS", default=-1.0,
                       help="stop starting incidents this long before the end (-1: a quarter of -t, 2..60 s)")
    group.add_argument("--pass-probability", type=float, env_var="LOCUST_PASS_PROBABILITY", default=0.8)
    group.add_argument("--optional-fill", type=float, env_var="LOCUST_OPTIONAL_FILL", default=0.7)
    group.add_argument("--choices", env_var="LOCUST_CHOICES", default="{}",
                       help='JSON per field: probability of true, {"option": weight}, or a fixed value')
    group.add_argument("--start-data", env_var="LOCUST_START_DATA", default="{}", help="JSON merged into start data")
    group.add_argument("--think-time", type=float, env_var="LOCUST_THINK_TIME", default=0.1)
    group.add_argument("--poll-interval", type=float, env_var="LOCUST_POLL_INTERVAL", default=0.5)
    group.add_argument("--work-any", action="store_true", default=False,
                       help="work every ready task of the procedure, not only incidents started here")
    group.add_argument("--summary-file", env_var="LOCUST_SUMMARY_FILE", default="")


def _json_option(text: str) -> dict[str, Any]:
    value = json.loads(text or "{}")
    if not isinstance(value, dict):
        raise SystemExit("--choices and --start-data take a JSON object")
    return value


class _Desk(HttpUser):
    abstract = True

    def on_start(self) -> None:
        self.opts = self.environment.parsed_options
        if not self.opts.procedure:
            raise SystemExit("--procedure is required")
        token = os.environ.get("LOCUST_TOKEN")
        if token:
            self.client.headers["Authorization"] = f"Bearer {token}"
        self.rng = random.Random()


class Dispatcher(_Desk):
    """Starts incidents at the arrival rate, then drains. Starts follow a schedule and run concurrently (a
    gevent pool), so a slow server does not lower the rate: the achieved rate is measured, not assumed."""

    fixed_count = 1

    def on_start(self) -> None:
        super().on_start()
        self.t0, self.sent = time.monotonic(), 0
        self.interval = 3600.0 / max(self.opts.incidents_per_hour, 1e-6)
        self.data = _json_option(self.opts.start_data)
        self.pool = Pool(MAX_STARTS_IN_FLIGHT)
        run_time = float(getattr(self.opts, "run_time", 0) or 0)
        drain = self.opts.drain_seconds if self.opts.drain_seconds >= 0 else min(60.0, max(2.0, run_time / 4))
        self.stop_after = run_time - drain if run_time else None
        DISPATCH.update(t0=self.t0, stop_after=self.stop_after, requested_per_hour=self.opts.incidents_per_hour)

    def wait_time(self) -> float:
        if self.draining():
            return 1.0
        return max(0.0, self.t0 + self.sent * self.interval - time.monotonic())

    def draining(self) -> bool:
        return self.stop_after is not None and time.monotonic() - self.t0 >= self.stop_after

    def on_stop(self) -> None:
        self.pool.kill()

    @task
    def start_incident(self) -> None:
        if self.draining():
            return
        self.sent += 1
        self.pool.spawn(self._start, self.sent)

    def _start(self, n: int) -> None:
        body: dict[str, Any] = {"procedure": self.opts.procedure, "reference": f"loadtest-{uuid.uuid4()}",
                                "data": start_data(n, self.data), "test": not self.opts.live}
        if self.opts.procedure_version:
            body["version"] = self.opts.procedure_version
        with self.client.post("/api/v1/incidents", json=body, name="POST /api/v1/incidents",
                              catch_response=True) as response:
            if response.status_code == 201:
                OWN.add(response.json()["id"])
                COUNTS["started"] += 1
            else:
                COUNTS["start_failed"] += 1
                response.failure(f"{response.status_code}: {response.text[:300]}")


class Agent(_Desk):
    """An agent desktop: queue, claim, form, complete; idle agents poll the queue."""

    def on_start(self) -> None:
        super().on_start()
        self.idle = False
        self.choices = _json_option(self.opts.choices)

    def wait_time(self) -> float:
        return float(self.opts.poll_interval if self.idle else self.opts.think_time)

    def _pick(self) -> dict[str, Any] | None:
        params: dict[str, Any] = {"state": "ready", "limit": 100, "test": "false" if self.opts.live else "true"}
        for _page in range(3):
            response = self.client.get("/api/v1/tasks", params=params, name="GET /api/v1/tasks")
            if not response.ok:
                return None
            page = response.json()
            mine = [t for t in page["items"] if t.get("procedure") == self.opts.procedure
                    and t["id"] not in IN_HAND and (self.opts.work_any or t["incident_id"] in OWN)]
            if mine:
                return self.rng.choice(mine)
            if not page.get("next_cursor"):
                return None
            params["cursor"] = page["next_cursor"]
        return None

    def _claim(self, task_id: str) -> bool:
        if CLAIM["supported"] is False:
            return True
        with self.client.post(f"/api/v1/tasks/{task_id}/claim", name="POST /api/v1/tasks/[id]/claim",
                              catch_response=True) as response:
            if response.status_code in (404, 405) and CLAIM["supported"] is not True:
                CLAIM["supported"] = False  # this server has no claim endpoint: not a failure
                response.success()
                return True
            if response.status_code in (404, 409):
                COUNTS["conflicts"] += 1
                response.success()
                return False
            if not response.ok:
                response.failure(f"{response.status_code}: {response.text[:300]}")
                return False
            CLAIM["supported"] = True
            return True

    @task
    def work_one_task(self) -> None:
        picked = self._pick()
        self.idle = picked is None
        if picked is None:
            return
        IN_HAND.add(picked["id"])
        try:
            self._work(picked)
        finally:
            IN_HAND.discard(picked["id"])

    def _work(self, picked: dict[str, Any]) -> None:
        if not self._claim(picked["id"]):
            return
        detail = self.client.get(f"/api/v1/tasks/{picked['id']}", name="GET /api/v1/tasks/[id]")
        if not detail.ok or detail.json().get("state") != "ready":
            COUNTS["conflicts"] += detail.ok
            return
        data = fill_task(detail.json(), self.rng, pass_probability=self.opts.pass_probability,
                    optional_fill=self.opts.optional_fill, choices=self.choices)
        with self.client.post(f"/api/v1/tasks/{picked['id']}/complete", json={"data": data},
                              headers={"Idempotency-Key": str(uuid.uuid4())},
                              name="POST /api/v1/tasks/[id]/complete", catch_response=True) as response:
            if response.status_code == 200:
                COUNTS["tasks_completed"] += 1
                COUNTS["completed_seen"] += response.json().get("status") == "completed"
            elif response.status_code == 409:
                COUNTS["conflicts"] += 1  # another agent completed it first: expected with a shared queue
                response.success()
            else:
                response.failure(f"{response.status_code}: {response.text[:300]}")


@events.test_stop.add_listener
def _summary(environment: Any, **_kwargs: Any) -> None:
    options = environment.parsed_options
    counts: dict[str, Any] = dict(COUNTS)
    if DISPATCH:
        elapsed = time.monotonic() - DISPATCH["t0"]
        window = min(elapsed, DISPATCH["stop_after"]) if DISPATCH["stop_after"] is not None else elapsed
        counts.update(dispatch_seconds=round(window, 2), requested_per_hour=DISPATCH["requested_per_hour"])
    summary = summarize(counts, environment.host, options.procedure, OWN, os.environ.get("LOCUST_TOKEN"),
                        options.summary_file, test=not options.live)
    log.info("incident-engine load test summary: %s", json.dumps(summary))
