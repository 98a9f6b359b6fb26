"""The parts of a DMN decision this engine runs: tables (inputs, outputs, rules, hit policy) and literals."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Cell:
    """One expression of a table (an input expression, an input entry or an output entry)."""

    text: str
    language: str | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    inputs: tuple[Cell, ...]
    outputs: tuple[Cell, ...]
    line: int | None = None


@dataclass(frozen=True)
class Output:
    name: str
    label: str | None = None
    type_ref: str | None = None
    values: tuple[str, ...] = ()  # output values in priority order (PRIORITY / OUTPUT ORDER)


@dataclass(frozen=True)
class Decision:
    id: str
    name: str
    hit_policy: str = "UNIQUE"
    aggregation: str | None = None
    inputs: tuple[Cell, ...] = ()
    input_labels: tuple[str, ...] = ()
    outputs: tuple[Output, ...] = ()
    rules: tuple[Rule, ...] = ()
    literal: Cell | None = None  # a literal-expression decision instead of a table
    literal_variable: str | None = None
    required: tuple[str, ...] = ()
    line: int | None = None
    version_tag: str | None = None


@dataclass(frozen=True)
class DmnFile:
    """Every decision of one DMN file, by id, and the file's definitions id (its requirements graph)."""

    definitions_id: str
    name: str
    decisions: dict[str, Decision] = field(default_factory=dict)
