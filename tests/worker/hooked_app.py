"""workers.celery_app with a test hook: the first timer firing hangs inside its transaction, to be killed there.

Used as `celery -A tests.worker.hooked_app worker` by the crash-safety tests. IE_TEST_HANG_MARKER names a
file: the first firing that finds it missing writes it (so the test knows the transaction is open and the
incident row is locked) and then blocks; once the file exists, firings run normally.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from engine.runtime.runner import Runner
from workers.celery_app import app

__all__ = ["app"]

_MARKER = os.environ.get("IE_TEST_HANG_MARKER")

if _MARKER:
    _original = Runner.fire_timers

    def _hang_once(self: Runner, state: str) -> Any:
        marker = Path(_MARKER)  # type: ignore[arg-type]
        if not marker.exists():
            marker.write_text(str(os.getpid()))
            time.sleep(300)  # SIGKILL arrives here, in the middle of the firing's transaction
        return _original(self, state)

    Runner.fire_timers = _hang_once  # type: ignore[method-assign]
