"""Waking long-polling fetches when an external task becomes fetchable, without polling the database.

A writer calls `announce(conn, topic)` inside its transaction. On PostgreSQL that is `pg_notify`, which the
server delivers only if the transaction commits, to every process: each API process keeps one listening
connection (a daemon thread, started on the first wait) that wakes its waiters. On SQLite, where the
service runs as one process, the announcement wakes the waiters of this process after the commit.
Waiters re-check the database when woken; a notification is a hint, never the state itself.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any

from sqlalchemy import Connection, text

log = logging.getLogger("incident_engine.wakeup")
CHANNEL = "incident_engine_external_tasks"
_AFTER_COMMIT = "incident_engine_wake_after_commit"


class Wakeup:
    """A generation counter under a condition: `wait` returns when it moves on or the timeout passes."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._generation = 0
        self._closed = False
        self._listeners: dict[str, threading.Thread] = {}

    @property
    def closed(self) -> bool:
        """True once the process is stopping: waiters answer at once instead of holding up the exit."""
        return self._closed

    def close(self) -> None:
        """The process is stopping (its server got SIGINT, SIGQUIT or SIGTERM): wake every waiter for good."""
        with self._cond:
            self._closed = True
            self._generation += 1
            self._cond.notify_all()

    def generation(self) -> int:
        with self._cond:
            return self._generation

    def wake(self) -> None:
        with self._cond:
            self._generation += 1
            self._cond.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        """Block until the generation differs from `seen` or `timeout` seconds pass; the new generation."""
        deadline = time.monotonic() + max(timeout, 0.0)
        with self._cond:
            while self._generation == seen and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            return self._generation

    def listen(self, url: str) -> None:
        """Start (once per process and database) the thread that turns notifications into wake-ups."""
        with self._cond:
            if url in self._listeners and self._listeners[url].is_alive():
                return
            thread = threading.Thread(target=self._listen, args=(url,), name="incident-engine-listen", daemon=True)
            self._listeners[url] = thread
            thread.start()

    def _listen(self, url: str) -> None:
        import psycopg

        dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
        pause = 0.5
        while True:
            try:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    pause = 0.5
                    self.wake()  # anything announced while we were not listening is looked at now
                    for _note in conn.notifies():
                        self.wake()
            except Exception as err:  # the database went away: listen again, with backoff
                if "does not exist" in str(err):  # dropped for good (a test or fitness database): stop
                    with self._cond:
                        self._listeners.pop(url, None)
                    return
                log.warning("external-task listener lost its connection (%s); retrying in %.1fs", err, pause)
                time.sleep(pause)
                pause = min(pause * 2, 30.0)


WAKEUP = Wakeup()  # one per process: only wake-ups live here, never state another process needs


def announce(conn: Connection, topic: str) -> None:
    """Tell waiting fetches that a task of `topic` may be fetchable once this transaction commits."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_notify(:channel, :topic)"), {"channel": CHANNEL, "topic": topic[:200]})
    else:
        conn.info[_AFTER_COMMIT] = True


def after_commit(conn: Any) -> None:
    """Called by the unit of work after a commit: wake this process's waiters (the SQLite path)."""
    if conn.info.pop(_AFTER_COMMIT, False):
        WAKEUP.wake()


def discard(conn: Any) -> None:
    conn.info.pop(_AFTER_COMMIT, None)
