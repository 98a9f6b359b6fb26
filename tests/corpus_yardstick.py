"""The Camunda 7 yardstick: how many of the engine's own test models load here, why the rest are refused,
and what happens when each loaded one is run.

    .venv/bin/python -m tests.corpus_yardstick [--run] [--list CATEGORY]

Every refusal falls in one category (the first that applies, in this order): Java code (`camunda:class`,
`expression`, `delegateExpression`, `variableMappingClass`, Java listeners and connectors, Camunda's
built-in mail/shell tasks, Java bean calls in expressions), a script in another language, a call across
files of a kind the deployment rules do not run yet, a model Camunda itself refuses (its parser tests),
or something this engine does not run yet (named by rule). A file with several executable processes
counts as accepted when each of them loads on its own. Running drives
each loaded model in memory (no database): people's tasks are completed with generated form data,
messages and signals delivered, service tasks settled and the clock moved past timers, until it completes,
fails with a named reason, stops with nothing left to do, or has taken MAX_STEPS steps.
"""
from __future__ import annotations

import argparse
import collections
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from lxml import etree

from engine import clock
from engine.bpmn.parser import load_procedure
from engine.errors import EngineError, Problem, ProcedureInvalid

MAX_STEPS = 200
JAVA = "Java code"
SCRIPT = "a script in another language"
CROSS_FILE = "a call across files not run yet (issue 13: calledElement expressions, multi-instance calls)"
CAMUNDA_REFUSES = "Camunda refuses it too"
_JAVA_RULES = {"unsupported.java", "unsupported.listener"}
# Camunda's own tests that expect its parser to refuse the file (without "Invalid" in the name)
CAMUNDA_PARSE_FAILURES = frozenset({
    # a timer/message start inside an embedded subprocess: "timerEventDefinition is not allowed on start event
    # within a subprocess" (BpmnParseTest.testParseMultipleStartEvent expects the ParseException)
    "engine__src__test__resources__org__camunda__bpm__engine__test__bpmn__parse__BpmnParseTest."
    "testParseMultipleStartEvent.bpmn20.xml",
})


def corpus() -> Path:
    """The Camunda 7 test models: $INCIDENT_ENGINE_CORPUS, else ../shared/corpus beside the checkout."""
    beside = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
    return Path(os.environ.get("INCIDENT_ENGINE_CORPUS") or beside) / "camunda-platform-tests"


def _category(problem: Problem) -> str:
    rule, message = problem.rule or "", problem.message
    if rule in _JAVA_RULES or (rule == "unsupported.service" and "camunda:type=" in message) or (
            rule == "unsupported.call" and "variableMappingClass" in message) or (
            rule == "expression" and ("is not allowed" in message and ("method" in message or "attribute" in message))):
        return JAVA
    if rule == "unsupported.script":
        return SCRIPT
    if rule == "unsupported.call" or (rule == "unsupported.element" and "business rule" in message):
        return CROSS_FILE
    if rule == "bpmn.camunda":
        return CAMUNDA_REFUSES
    return f"not run yet: {rule}"


_ORDER = (JAVA, SCRIPT, CROSS_FILE, CAMUNDA_REFUSES)


@dataclass(frozen=True)
class Verdict:
    name: str
    category: str | None  # None: accepted
    problems: tuple[Problem, ...] = ()
    processes: tuple[str | None, ...] = (None,)


def judge(path: Path) -> Verdict:
    """Accepted (every executable process of the file loads on its own) or refused with one category."""
    data = path.read_bytes()
    try:
        load_procedure(data)
        return Verdict(path.name, None)
    except ProcedureInvalid as exc:
        problems = list(exc.problems)
    if len(problems) == 1 and problems[0].rule == "bpmn.process" and "several executable" in problems[0].message:
        root = etree.fromstring(data)
        ids = [p.get("id") for p in root.iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}process")
               if (p.get("isExecutable") or "").strip().lower() == "true"]
        problems = []
        for process in ids:
            try:
                load_procedure(data, process=process)
            except ProcedureInvalid as exc:
                problems += exc.problems
        if not problems:
            return Verdict(path.name, None, processes=tuple(ids))
    if "BpmnParseTest.testInvalid" in path.name or "ParseInvalid" in path.name or path.name in CAMUNDA_PARSE_FAILURES:
        return Verdict(path.name, CAMUNDA_REFUSES, tuple(problems))
    categories = {_category(p) for p in problems}
    first = next((c for c in _ORDER if c in categories), sorted(categories)[0])
    return Verdict(path.name, first, tuple(problems))


# --- running ----------------------------------------------------------------------------------------------
def _value(field: Any) -> Any:
    if field.options:
        return field.options[0].id
    return {"long": max(1, int(field.minimum or 1)), "double": float(field.minimum or 1.0), "boolean": True,
            "date": "2026-01-05"}.get(field.type, "x" * max(1, field.min_length or 1))


def run(path: Path, process: str | None = None) -> tuple[str, int, str]:
    """('completed' | 'error' | 'stalled' | 'stopped' | 'steps', steps taken, reason) for one accepted model."""
    from engine.runtime.procedure import RuntimeProcedure, prepare_spec
    from engine.runtime.runner import IncidentFailed, Runner
    from engine.runtime.script_engine import SafeScriptEngine
    from engine.services.incidents import plain_start

    definition = load_procedure(path.read_bytes(), process=process)
    prepare_spec(definition.spec, definition.subprocess_specs)
    runner = Runner(RuntimeProcedure("id", definition.key, 1, "sha", definition, definition.spec,
                                     definition.subprocess_specs), SafeScriptEngine())
    fixed = clock.FixedClock()
    token = clock.use(fixed)
    steps = 0
    try:
        try:
            begin = plain_start(definition)
        except EngineError as err:
            return "error", 0, str(err)
        outcome = runner.start({}, start_event=begin.element_id if begin else None,
                               start_kind=begin.kind if begin else "none")
        while outcome.status == "running" and steps < MAX_STEPS:
            steps += 1
            if outcome.open_tasks:
                task = outcome.open_tasks[0]
                user_task = definition.user_task(task.element_id)
                values = {f.id: _value(f) for f in (user_task.form if user_task else ())}
                outcome = runner.complete(outcome.state, task.id, values)
            elif outcome.services:
                outcome = runner.finish_service(outcome.state, outcome.services[0].task_id, {})
            elif outcome.waits:
                outcome = runner.deliver(outcome.state, outcome.waits[0], {})
            elif outcome.next_timer_at is not None:
                fixed.set(max(fixed.now(), outcome.next_timer_at) + timedelta(seconds=1))
                outcome = runner.fire_timers(outcome.state)
            elif outcome.conditions:
                return "stopped", steps, (f"waits on a condition ({', '.join(outcome.conditions)}): the driver "
                                          "does not know which variables would make it true")
            else:
                return "stopped", steps, "running with nothing to do (no task, wait, service or timer)"
        if outcome.status == "stalled":  # the runner's rule (engine.runtime.stall): nothing can move it on
            return "stalled", steps, outcome.error or ""
        return ("completed" if outcome.status == "completed" else "steps"), steps, outcome.status
    except IncidentFailed as err:
        return "error", steps, str(err)
    except Exception as err:  # noqa: BLE001 - the yardstick reports a crash instead of stopping
        return "crash", steps, f"{type(err).__name__}: {err}"
    finally:
        clock.reset(token)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", action="store_true", help="also run every accepted model")
    parser.add_argument("--list", metavar="CATEGORY", help="list the files of categories containing this text")
    args = parser.parse_args()
    verdicts = [judge(p) for p in sorted(corpus().iterdir()) if p.is_file()]
    accepted = [v for v in verdicts if v.category is None]
    by = collections.Counter(v.category for v in verdicts if v.category)
    print(f"{len(verdicts)} Camunda 7 test models: {len(accepted)} accepted, {len(verdicts) - len(accepted)} refused")
    for category, n in by.most_common():
        print(f"  {n:4d}  {category}")
    if args.list:
        for v in verdicts:
            if v.category and args.list in v.category:
                print(f"{v.name}\n    " + "\n    ".join(p.message[:200] for p in v.problems[:3]))
    if args.run:
        results: collections.Counter[str] = collections.Counter()
        for v in accepted:
            for process in v.processes:
                kind, steps, reason = run(corpus() / v.name, process)
                results[kind] += 1
                if kind != "completed":
                    print(f"  {kind:9s} {v.name} {process or ''}: {reason[:160]}")
        print("runs:", dict(results))


if __name__ == "__main__":
    main()
