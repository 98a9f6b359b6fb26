"""Containment figures, side by side from one run: what a runaway or bloating model costs with the budgets.

1. A zero-length repeating timer (`R/PT0S` from start data): time and steps until the transition budget
   stops it, for three wall-clock budgets, beside a normal start of the same procedure (`R/PT1H`).
2. Script tasks that each add a 100 KB value (the expression limit): every finished task keeps its own copy
   of the data, so the serialized state grows quadratically; where MAX_STATE_BYTES stops it.
3. A 1.9 MB documentation text: the bytes one task and a 40-task listing carry, capped (as uploaded now)
   beside copied whole (as before).

In process, no database and no HTTP; not a test. Usage: python benchmarks/containment.py
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.bpmn.parser import load_procedure  # noqa: E402
from engine.runtime.budget import Budgets  # noqa: E402
from engine.runtime.procedure import RuntimeProcedure, prepare_spec  # noqa: E402
from engine.runtime.runner import IncidentFailed, Runner  # noqa: E402
from engine.runtime.script_engine import SafeScriptEngine  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "bpmn" / "containment"
HEAD = ('<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/'
        '20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="D" targetNamespace="http://x">')


def runtime_of(data: bytes) -> RuntimeProcedure:
    definition = load_procedure(data)
    prepare_spec(definition.spec, definition.subprocess_specs)
    return RuntimeProcedure("id", definition.key, 1, "sha", definition, definition.spec, definition.subprocess_specs)


def runner(runtime: RuntimeProcedure, budgets: Budgets) -> Runner:
    return Runner(runtime, SafeScriptEngine(), loop_cap=50, budgets=budgets, cycle_cap=10**9)


def runaway() -> None:
    runtime = runtime_of((FIXTURES / "runaway_cycle.bpmn").read_bytes())
    print("1. zero-length repeating timer: one start, stopped by the transition budget")
    print(f"   {'case':34} {'ms':>9} {'steps':>7} {'ms/step':>8}  outcome")
    started = time.perf_counter()
    outcome = runner(runtime, Budgets()).start({"cycle": "R/PT1H"})
    normal = (time.perf_counter() - started) * 1000
    print(f"   {'normal start (R/PT1H)':34} {normal:9.1f} {'':>7} {'':>8}  {outcome.status}")
    for wall in (0.25, 0.5, 2.0):
        budgets = Budgets(wall_seconds=wall, cpu_seconds=wall, automatic_steps=10**9)
        r = runner(runtime, budgets)
        r.begin()
        started = time.perf_counter()
        try:
            r.start({"cycle": "R/PT0S"})
            result = "not stopped"
        except IncidentFailed as err:
            result = str(err).split(":")[0]
        took = (time.perf_counter() - started) * 1000
        steps = r._meter.steps if r._meter else 0  # noqa: SLF001 - a benchmark reads the meter
        print(f"   {f'R/PT0S, budget {wall * 1000:.0f} ms':34} {took:9.1f} {steps:7d} {took / max(steps, 1):8.3f}  "
              f"{result} ({took / normal:.0f}x a normal start)")


def chain(n: int) -> bytes:
    tasks = "".join(f'<bpmn:scriptTask id="S{i}" scriptFormat="python"><bpmn:script>v{i} = "x" * 100000</bpmn:script>'
                    f'</bpmn:scriptTask><bpmn:sequenceFlow id="F{i}" sourceRef="{"Start" if i == 0 else f"S{i - 1}"}" '
                    f'targetRef="S{i}"/>' for i in range(n))
    return (HEAD + '<bpmn:process id="chain" isExecutable="true"><bpmn:startEvent id="Start"/>' + tasks
            + f'<bpmn:userTask id="Work" camunda:candidateGroups="team"/><bpmn:sequenceFlow id="Fw" '
              f'sourceRef="S{n - 1}" targetRef="Work"/><bpmn:endEvent id="End"/><bpmn:sequenceFlow id="Fe" '
              'sourceRef="Work" targetRef="End"/></bpmn:process></bpmn:definitions>').encode()


def bloat() -> None:
    print("2. a chain of script tasks, each adding a 100 KB value")
    print(f"   {'script tasks':>12} {'state bytes':>12} {'x the data':>10}  with MAX_STATE_BYTES 1 MiB")
    for n in (5, 10, 20, 40):
        runtime = runtime_of(chain(n))
        free = runner(runtime, Budgets(state_bytes=10**10, task_data_bytes=10**10)).start({})
        try:
            runner(runtime, Budgets()).start({})
            capped = "accepted"
        except IncidentFailed as err:
            capped = "error: " + str(err).split(":")[0]
        print(f"   {n:12d} {len(free.state):12,d} {len(free.state) / (n * 100_000):10.1f}  {capped}")


def documentation() -> None:
    source = (FIXTURES / "plain_task.bpmn").read_text()
    doc = "Read this. " * (1_900_000 // 11)
    data = source.replace('<bpmn:userTask id="Task_Work" camunda:candidateGroups="team">',
                          f'<bpmn:userTask id="Task_Work" camunda:candidateGroups="team"><bpmn:documentation>{doc}'
                          '</bpmn:documentation>').encode()
    capped = load_procedure(data).user_task("Task_Work").documentation or ""
    print("3. a 1.9 MB documentation text on one user task")
    print(f"   {'':24} {'one task row':>14} {'40-task listing':>16}")
    for label, text in (("copied whole (before)", doc), ("capped at upload (now)", capped)):
        row = {"id": "0" * 36, "name": "Work", "documentation": text, "form": []}
        print(f"   {label:24} {len(json.dumps(row)):14,d} {len(json.dumps([row] * 40)):16,d}")


if __name__ == "__main__":
    runaway()
    bloat()
    documentation()
