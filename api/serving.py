"""The gunicorn worker `serve` runs: gthread, plus room for long polls that wait off the working threads.

A gthread worker answers requests with a fixed pool of `threads`. A long-polling fetchAndLock that waited
on one of them for asyncResponseTimeout (30 s by default) would take that thread from the API, and a few
idle external-task workers would starve everyone else. So this worker keeps two budgets:

- `threads` working slots, exactly as plain gthread: at most that many requests run at once;
- `LONG_POLL_MAX_WAITERS` parking slots: a fetch with nothing to return gives its working slot back and
  waits in a parking slot, blocked on a condition (no CPU), until a notification (engine.db.wakeup) or
  its deadline; it takes a working slot again only to answer.

The pool has threads + parking threads. A poll that finds no free parking slot is answered at once with
an empty list. Outside this worker (tests, `flask run`) waits are capped by the same number but share
the server's threads. When the worker is told to stop (Ctrl-C, SIGTERM), every parked poll answers at
once, empty, so stopping never waits out a 30 s poll.
"""
from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from concurrent import futures
from typing import Any

from gunicorn import util as gunicorn_util
from gunicorn.workers.gthread import ThreadWorker

PARKING = 64  # set by `incident-engine serve` from LONG_POLL_MAX_WAITERS before the workers fork


class _Slots:
    def __init__(self, working: int, parking: int) -> None:
        self.working = threading.Semaphore(working)
        self.parking = threading.BoundedSemaphore(max(parking, 1))
        self.parking_size = max(parking, 1)


_slots: _Slots | None = None
_fallback = threading.BoundedSemaphore(PARKING)


def write_problem(sock: Any, status: int, reason: str, message: str) -> None:
    """gunicorn's own error answers (414 URI too long, 431 headers too large, 400 malformed request) as
    application/problem+json instead of its HTML page."""
    body = json.dumps({"type": "about:blank", "title": reason, "status": status,
                       "detail": f"the server refused the request before the application saw it: {message}"[:1000]})
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/problem+json\r\n"
            f"Content-Length: {len(body.encode())}\r\n\r\n")
    gunicorn_util.write_nonblock(sock, (head + body).encode("latin-1", "replace"))


def _close_wakeup() -> None:
    """Parked long polls answer now (imported here: the gunicorn master loads this module and needs no
    database code)."""
    from engine.db.wakeup import WAKEUP

    WAKEUP.close()


class ParkingThreadWorker(ThreadWorker):  # type: ignore[misc]
    """gthread with a side pool for parked long polls (see the module docstring)."""

    def init_process(self) -> None:
        global _slots
        _slots = _Slots(self.cfg.threads, PARKING)
        gunicorn_util.write_error = write_problem  # this worker process's error pages, in our format
        super().init_process()

    def get_thread_pool(self) -> futures.ThreadPoolExecutor:
        assert _slots is not None
        return futures.ThreadPoolExecutor(max_workers=self.cfg.threads + _slots.parking_size)

    stopping = False  # told to stop (any signal): worker_exit leaves at once
    quitting = False  # told to stop now (SIGINT, SIGQUIT)

    def handle_exit(self, sig: Any, frame: Any) -> None:
        """SIGTERM: finish the requests in hand, then stop."""
        self.stopping = True
        _close_wakeup()  # parked long polls answer now, so stopping never waits out their timeout
        super().handle_exit(sig, frame)

    def handle_quit(self, sig: Any, frame: Any) -> None:
        """SIGINT or SIGQUIT: stop now. Ctrl-C in a terminal sends SIGINT to the whole process group and the
        master then sends SIGQUIT: the second signal must not raise a second SystemExit inside the clean-up
        the first one started (that skipped worker_exit and left a slow interpreter finalization)."""
        if self.quitting:
            return
        self.quitting = self.stopping = True
        _close_wakeup()
        super().handle_quit(sig, frame)

    def handle_request(self, req: Any, conn: Any) -> Any:
        assert _slots is not None
        with _slots.working:
            return super().handle_request(req, conn)


@contextlib.contextmanager
def parked() -> Iterator[bool]:
    """Wait here without holding a working slot; yields False when every parking slot is taken."""
    slots = _slots
    if slots is None:
        ok = _fallback.acquire(blocking=False)
        try:
            yield ok
        finally:
            if ok:
                _fallback.release()
        return
    if not slots.parking.acquire(blocking=False):
        yield False
        return
    slots.working.release()
    try:
        yield True
    finally:
        slots.working.acquire()
        slots.parking.release()


def exit_now_if_stopping(worker: Any) -> None:
    """The last step of a worker told to stop (gunicorn's worker_exit hook): leave at once with status 0.

    Its requests are answered and its scheduler stopped by then; what is left is the interpreter's own
    finalization (collecting the loaded procedures, SQLAlchemy and SpiffWorkflow, and daemon threads),
    measured at 2-7 s and sometimes past gunicorn's 30 s graceful timeout (then a SIGKILL). The database
    has nothing pending: every transaction is committed or rolled back with its request.
    """
    if not getattr(worker, "stopping", False):
        return
    import logging
    import os
    import sys

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(0)
