"""SpiffWorkflow script engine that runs model expressions and scripts with engine.expressions, never eval/exec."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine import clock
from engine.calendar import business_deadline, iso_duration, parse_duration, signed_iso_duration
from engine.expressions import ExpressionError, compile_expression, compile_script

TIMER_FUNCTIONS: frozenset[str] = frozenset({"business_days", "business_days_from", "from_time"})
SERVICE_TASK_MESSAGE = "service tasks are run by the engine's outbox, not the script engine"


def _moment(timestamp: Any, what: str) -> datetime:
    """An aware datetime from an ISO 8601 string or a datetime (naive means UTC)."""
    if isinstance(timestamp, datetime):
        moment = timestamp
    elif isinstance(timestamp, str):
        try:
            moment = datetime.fromisoformat(timestamp.strip())
        except ValueError:
            raise ExpressionError(f"{what}: {timestamp!r} is not an ISO 8601 date-time") from None
    else:
        raise ExpressionError(f"{what} needs an ISO 8601 date-time, not {type(timestamp).__name__}")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def from_time(timestamp: str | datetime, duration: str) -> str:
    """ISO duration from now until `timestamp` (ISO 8601; naive = UTC) + `duration`.

    A deadline already past gives a negative duration (`-PT3600S`): the timer fires at once and keeps
    the true deadline, so an SLA breach says how late it is.
    GDPR example: `${from_time(aware_at, 'PT72H')}` fires 72 hours after the breach became known.
    """
    moment = _moment(timestamp, "from_time")
    try:
        return signed_iso_duration(parse_duration(duration, moment) - clock.now())
    except ValueError as err:
        raise ExpressionError(f"from_time: {err}") from None


def _whole(n: Any, what: str) -> int:
    if not isinstance(n, int) or isinstance(n, bool):
        raise ExpressionError(f"{what} needs a whole number, not {type(n).__name__}")
    return n


def business_days_function(country: str = "GB", subdivision: str = "ENG") -> Callable[[int], str]:
    """`business_days(n)`: ISO duration from now to close of business on the n-th business day after today."""

    def business_days(n: int) -> str:
        days = _whole(n, "business_days")
        now = clock.now()
        try:
            return iso_duration(business_deadline(now, days, country=country, subdivision=subdivision) - now)
        except ValueError as err:
            raise ExpressionError(f"business_days: {err}") from None

    return business_days


def business_days_from_function(country: str = "GB", subdivision: str = "ENG") -> Callable[[Any, int], str]:
    """`business_days_from(ts, n)`: ISO duration from now to close of business on the n-th business day
    after the day of `ts` (FCA DISP: "the third business day following the day on which it is received").
    Negative when that moment has passed, so the timer fires at once with its true deadline."""

    def business_days_from(timestamp: Any, n: int) -> str:
        moment = _moment(timestamp, "business_days_from")
        days = _whole(n, "business_days_from")
        try:
            deadline = business_deadline(moment, days, country=country, subdivision=subdivision)
        except ValueError as err:
            raise ExpressionError(f"business_days_from: {err}") from None
        return signed_iso_duration(deadline - clock.now())

    return business_days_from


class SafeEnvironment(BasePythonScriptEngineEnvironment):
    """The environment SpiffWorkflow calls directly (no task) for process completion conditions and
    message correlations: replacing only the engine's methods would leave those paths on eval()."""

    def __init__(self, engine: SafeScriptEngine) -> None:
        super().__init__({})
        self.engine = engine

    def evaluate(self, expression: str, context: Mapping[str, Any],
                 external_context: Mapping[str, Any] | None = None) -> Any:
        # missing_as_none: a Camunda form field left empty is absent from task data, and a gateway
        # condition such as `${empty comment}` or `reason == None` must still be decidable.
        compiled = compile_expression(expression, self.engine.allowed_functions)
        return compiled.evaluate({**(external_context or {}), **context}, self.engine.functions,
                                 missing_as_none=True)

    def execute(self, script: str, context: dict[str, Any], external_context: Mapping[str, Any] | None = None) -> bool:
        compiled = compile_script(script, self.engine.allowed_functions)
        context.update(compiled.execute({**(external_context or {}), **context}, self.engine.functions))
        return True

    def call_service(self, context: Mapping[str, Any], **kwargs: Any) -> Any:
        raise ExpressionError(SERVICE_TASK_MESSAGE)


class SafeScriptEngine(PythonScriptEngine):
    """Evaluates gateway conditions, timers and script tasks of untrusted models with the safe evaluator.

    Expressions accept the engine.expressions language (including `${...}` JUEL and bare ISO 8601 literals,
    so a Camunda-style `<bpmn:timeDuration>PT4H</bpmn:timeDuration>` works) plus TIMER_FUNCTIONS. Every
    refusal or failure surfaces as WorkflowTaskException, which SpiffWorkflow turns into a task in ERROR.
    """

    def __init__(self, region_country: str = "GB", region_subdivision: str = "ENG",
                 functions: Mapping[str, Callable[..., Any]] | None = None) -> None:
        self.region = (region_country, region_subdivision)
        self.functions: dict[str, Callable[..., Any]] = {
            "business_days": business_days_function(region_country, region_subdivision),
            "business_days_from": business_days_from_function(region_country, region_subdivision),
            "from_time": from_time,
            **(functions or {}),
        }
        self.allowed_functions = frozenset(self.functions)
        super().__init__(environment=SafeEnvironment(self))

    def validate(self, expression: str) -> None:
        """Raise ExpressionError if refused; ExpressionSyntaxError is also a SyntaxError, as DMN expects."""
        compile_expression(expression, self.allowed_functions)

    def evaluate(self, task: Any, expression: str, external_context: Mapping[str, Any] | None = None) -> Any:
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except ExpressionError as err:
            raise WorkflowTaskException(f"Error evaluating expression '{expression}': {err}",
                                        task=task, exception=err) from err

    def execute(self, task: Any, script: str, external_context: Mapping[str, Any] | None = None) -> bool:
        try:
            return self.environment.execute(script, task.data, external_context)
        except ExpressionError as err:
            lines = script.splitlines() if isinstance(script, str) else []
            error_line = lines[err.line - 1].strip() if err.line and err.line <= len(lines) else ""
            raise WorkflowTaskException(f"Error in script: {err}", task=task, exception=err,
                                        line_number=err.line, error_line=error_line) from err

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        raise WorkflowTaskException(SERVICE_TASK_MESSAGE, task=task)


def script_engine(**opts: Any) -> SafeScriptEngine:
    """A SafeScriptEngine; options as for SafeScriptEngine (region_country, region_subdivision, functions)."""
    return SafeScriptEngine(**opts)
