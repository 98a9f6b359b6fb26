"""What the API shows about a deployed decision, stored beside it so listing never re-parses the DMN."""
from __future__ import annotations

from typing import Any

from .model import Decision, DmnFile


def summarize_decision(dmn: DmnFile, decision: Decision) -> dict[str, Any]:
    return {
        "definitions_id": dmn.definitions_id,
        "hit_policy": decision.hit_policy if decision.literal is None else None,
        "aggregation": decision.aggregation,
        "inputs": [{"expression": c.text, "label": label} for c, label in zip(decision.inputs,
                                                                              decision.input_labels, strict=False)],
        "outputs": [o.name for o in decision.outputs] if decision.literal is None else [decision.literal_variable],
        "rules": len(decision.rules),
        "required_decisions": list(decision.required),
    }
