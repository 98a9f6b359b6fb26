"""On SQLite, writers queue on a lock of ours, across threads and processes, instead of in SQLite's busy handler.

A BEGIN IMMEDIATE that finds another writer is retried by SQLite's busy handler, which sleeps in growing
steps (1, 2, 5, 10 ... up to 100 ms) however soon the lock is free again: with 8 threads writing, a
transition that needs 3 ms could wait 100 ms. So a write unit of work first takes this lock: a thread lock
(one writer per process at a time), then an exclusive `flock` on a file beside the database
(`<database>-writer.lock`), which the kernel hands to the next waiting process the moment it is let go, and
which it lets go itself when a process dies. One lock per database file in a process (whichever engine
writes to it), reentrant in a thread (a unit of work inside another). An in-memory database is of one
process: the thread lock alone.
"""
from __future__ import annotations

import fcntl
import os
import threading
import weakref

from sqlalchemy import Engine

WAIT_SECONDS = 30.0  # as long as SQLite's busy_timeout (engine.db.database); then SQLite's own waiting applies

_by_file: dict[str, WriterLock] = {}  # one per database file in a process, whichever engine writes to it
_by_engine: weakref.WeakKeyDictionary[Engine, WriterLock] = weakref.WeakKeyDictionary()  # in-memory databases
_guard = threading.Lock()


class WriterLock:
    """The thread lock of this process, then the file lock shared by every process of the database."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._threads = threading.RLock()
        self._depth = threading.local()
        self._fd: int | None = None
        self._fd_pid = 0

    def _file(self) -> int | None:
        if self.path is None:
            return None
        if self._fd is None or self._fd_pid != os.getpid():  # a forked child opens its own (flock is per open file)
            self._fd, self._fd_pid = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
        return self._fd

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Take the lock; False when the thread lock was not free in time (then SQLite's own waiting applies).
        The file lock is waited for without a limit: another process holds it only for one unit of work."""
        if not self._threads.acquire(blocking, timeout):
            return False
        depth = getattr(self._depth, "n", 0)
        if depth == 0:
            fd = self._file()
            if fd is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BaseException:
                    self._threads.release()
                    if not blocking:
                        return False
                    raise
        self._depth.n = depth + 1
        return True

    def release(self) -> None:
        depth = self._depth.n - 1
        self._depth.n = depth
        try:
            if depth == 0 and self._fd is not None and self._fd_pid == os.getpid():
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def held(self) -> bool:
        """Whether this thread holds it."""
        return getattr(self._depth, "n", 0) > 0


def lock_path(engine: Engine) -> str | None:
    """The file beside a SQLite database that its writers lock; None for an in-memory database."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return os.path.abspath(database) + "-writer.lock"


def writer_lock(engine: Engine) -> WriterLock | None:
    """The lock write units of work on `engine` take first; None when the database is not SQLite."""
    if engine.dialect.name != "sqlite":
        return None
    path = lock_path(engine)
    with _guard:
        lock = _by_file.get(path) if path else _by_engine.get(engine)
        if lock is None:
            lock = WriterLock(path)
            if path:
                _by_file[path] = lock
            else:
                _by_engine[engine] = lock
        return lock
