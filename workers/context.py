"""One IncidentEngine per worker process, built lazily after the fork and never shared across processes."""
from __future__ import annotations

import os
import threading

from celery import Celery

from engine.config import Settings
from engine.services.engine_app import IncidentEngine

_lock = threading.Lock()


def engine_for(app: Celery) -> IncidentEngine:
    """The engine of this process for `app` (its database pool must not cross a fork: rebuilt per pid)."""
    cached = getattr(app, "_incident_engine", None)
    if cached is not None and cached[0] == os.getpid():
        return cached[1]  # type: ignore[no-any-return]
    with _lock:
        cached = getattr(app, "_incident_engine", None)
        if cached is None or cached[0] != os.getpid():
            settings: Settings = getattr(app, "incident_settings", None) or Settings.from_env()
            cached = (os.getpid(), IncidentEngine(settings))
            app._incident_engine = cached  # type: ignore[attr-defined]
    return cached[1]  # type: ignore[no-any-return]
