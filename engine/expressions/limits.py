"""The limits every expression and script runs under, and the error they raise."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_SOURCE = 10_000          # characters of expression text
MAX_SCRIPT_SOURCE = 100_000  # characters of script text
MAX_NODES = 2_000            # AST nodes per expression
MAX_DEPTH = 100              # AST nesting per expression
MAX_LENGTH = 100_000         # items/characters of a computed str, bytes, list, tuple, dict or set
MAX_ALLOCATED = 1_000_000    # items/characters computed by one evaluation, all results together
MAX_EXPONENT = 100
MAX_INT_BITS = 13_300        # about 4000 decimal digits
TIME_BUDGET = 0.1            # seconds of CPU time (thread_time) per expression
SCRIPT_TIME_BUDGET = 0.5     # seconds of CPU time per script
ALIASES: Mapping[str, Any] = {"true": True, "false": False, "null": None}
SCRIPT_RULE = "script tasks may only contain assignments of the form name = expression"


class ExpressionError(Exception):
    """An expression or script that is not allowed, or that failed while being evaluated."""

    def __init__(self, message: str, expression: str | None = None, line: int | None = None) -> None:
        super().__init__(message if line is None else f"line {line}: {message}")
        self.message = message
        self.expression = expression
        self.line = line


class ExpressionSyntaxError(ExpressionError, SyntaxError):
    """Unparsable text; also a SyntaxError because SpiffWorkflow's DMN engine relies on that."""
