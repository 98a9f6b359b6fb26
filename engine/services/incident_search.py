"""Finding incidents by procedure, reference, status and the values in their data (offset-paged).

Data conditions (`caller_id eq C-77`, `amount gt 100`, `summary like %down%`) are applied in Python to the
rows the SQL filters leave, because the data column is JSON with a different operator set per dialect.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from engine.db import incident_rows, task_rows
from engine.errors import Invalid, Problem
from engine.identity import policy
from engine.identity.principal import Principal

from .engine_app import IncidentEngine
from .incidents import visible_view
from .views import incident_view

OPERATORS = ("eq", "neq", "gt", "gteq", "lt", "lteq", "like")
_CONDITION = re.compile(r"^(.+?)_(eq|neq|gteq|gt|lteq|lt|like)_(.*)$", re.S)
MAX_SCAN = 10_000


@dataclass(frozen=True)
class DataCondition:
    name: str
    operator: str
    value: str

    @classmethod
    def parse(cls, text: str) -> DataCondition:
        """`name_op_value`, Camunda's form; a name may itself contain underscores (`caller_id_eq_C-1`)."""
        match = _CONDITION.match(text)
        if not match:
            raise Invalid(f"'{text}' is not a condition of the form name_operator_value "
                          f"(operators: {', '.join(OPERATORS)})", [Problem("bad condition", field="variables")])
        return cls(match.group(1), match.group(2), match.group(3))

    def holds(self, data: dict[str, Any]) -> bool:
        if self.name not in data:
            return False
        actual, wanted = data[self.name], self._typed(data[self.name])
        if self.operator == "like":
            pattern = "^" + ".*".join(re.escape(part) for part in self.value.split("%")) + "$"
            return isinstance(actual, str) and re.match(pattern, actual, re.S) is not None
        if self.operator in ("eq", "neq"):
            return (actual == wanted) == (self.operator == "eq")
        try:
            return {"gt": actual > wanted, "gteq": actual >= wanted,
                    "lt": actual < wanted, "lteq": actual <= wanted}[self.operator]
        except TypeError:
            return False

    def _typed(self, actual: Any) -> Any:
        """The condition's text read as the type of the stored value (numbers and booleans)."""
        if isinstance(actual, bool):
            return self.value.lower() == "true" if self.value.lower() in ("true", "false") else self.value
        if isinstance(actual, int | float):
            try:
                return float(self.value)
            except ValueError:
                return self.value
        return self.value


def search(engine: IncidentEngine, *, procedure: str | None = None, procedure_id: str | None = None,
           reference: str | None = None, ids: Iterable[str] | None = None,
           statuses: Iterable[str] | None = ("running", "error"), data: Iterable[DataCondition] = (),
           offset: int = 0, limit: int | None = None, principal: Principal | None = None) -> list[dict[str, Any]]:
    """Incidents the caller takes part in, oldest first, matching every filter (each a conjunction)."""
    policy.require(principal, "incidents.read")
    conditions = list(data)
    with engine.uow(write=False) as uow:
        rows = incident_rows.search(uow.conn, procedure=procedure, procedure_id=procedure_id, reference=reference,
                                    ids=list(ids) if ids is not None else None,
                                    statuses=list(statuses) if statuses is not None else None,
                                    visible_to=policy.visibility(principal), limit=MAX_SCAN)
        rows = [r for r in rows if all(c.holds(r["data"] or {}) for c in conditions)]
        rows = rows[offset:offset + limit if limit is not None else None]
        open_tasks = task_rows.open_for(uow.conn, [r["id"] for r in rows])
    return [visible_view(incident_view(r, open_tasks[r["id"]]), principal) for r in rows]
