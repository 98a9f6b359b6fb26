"""What started an incident when it was not the API's plain start: a message, a signal or a timer firing."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Trigger:
    """The start event an incident begins at (`kind` message, signal or timer) and what fired it."""

    kind: str
    element_id: str
    name: str | None = None
    due_at: datetime | None = None

    def audit(self, data: dict[str, Any]) -> dict[str, Any]:
        """The `incident_started` audit data of a triggered start: who started it (`by`), where, and the data."""
        found: dict[str, Any] = {"by": self.kind, "start_event": self.element_id}
        if self.name is not None:
            found[self.kind] = self.name
        if self.due_at is not None:
            found["due_at"] = self.due_at.isoformat()
        return {**found, "data": data}
