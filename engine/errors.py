"""Domain errors the edges translate to HTTP problems or task failures."""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: a field, or a place in a BPMN file."""

    message: str
    field: str | None = None
    file: str | None = None
    line: int | None = None
    column: int | None = None
    element_id: str | None = None
    rule: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def in_file(self, file: str) -> Problem:
        """The same problem, naming the deployment resource it was found in."""
        return replace(self, file=file)


class EngineError(Exception):
    """Base of every error the engine raises on purpose."""

    title = "Engine error"

    def __init__(self, detail: str, problems: list[Problem] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.problems = problems or []
        self.extra = extra


class NotFound(EngineError):
    title = "Not found"


class Conflict(EngineError):
    title = "Conflict with the current state"


class Invalid(EngineError):
    """Well-formed input that breaks a rule (HTTP 422)."""

    title = "Invalid input"


class ProcedureInvalid(Invalid):
    title = "Invalid procedure"


class TooLarge(EngineError):
    title = "Payload too large"


class Forbidden(EngineError):
    title = "Forbidden"
