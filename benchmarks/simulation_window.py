"""How long a what-if simulation of a 30-day window takes for a procedure of 10 user tasks.

Side by side in one run: (a) bare SimPy doing as many queue requests and timeouts with no procedure logic
(the library's own floor), (b) reading the window's history from synthetic audit rows
(engine.simulation.history) and assembling the inputs, (c) the full simulation (engine.simulation.run)
with its replications, criteria and lanes; (c)/(a) is our model's cost over SimPy's. The issue's bar:
(b) + (c) under a minute. CPU seconds are printed beside wall seconds, because on a shared machine the
wall clock also counts the moments another process had the core.

    python benchmarks/simulation_window.py [--days 30] [--per-hour 10] [--replications 10]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import time
from pathlib import Path

import simpy

from engine.bpmn.parser import load_procedure
from engine.simulation.assemble import assemble
from engine.simulation.history import read_history
from engine.simulation.run import simulate

LANES = ("service-desk", "resolvers", "managers")


def procedure_xml(tasks: int = 10) -> bytes:
    """A procedure of `tasks` user tasks in three lanes: a check gateway with a rework loop after the
    third task, a parallel split over tasks 4-5 and 6, and a non-interrupting SLA timer on task 5."""
    ids = [f"Task_{i}" for i in range(1, tasks + 1)]
    nodes = [f'<bpmn:userTask id="{task}" name="Task {i + 1}" camunda:candidateGroups="{LANES[i % 3]}">'
             '<bpmn:extensionElements><camunda:formData><camunda:formField id="ok" label="ok" type="boolean"/>'
             '</camunda:formData></bpmn:extensionElements></bpmn:userTask>' for i, task in enumerate(ids)]
    chain = ["Start", "Task_1", "Task_2", "Task_3", "Gateway_Check", "Split", "Task_4", "Task_5", "Join",
             *ids[6:], "End"]
    flows = [(f"Flow_{a}_{b}", a, b, None) for a, b in zip(chain, chain[1:], strict=False)
             if (a, b) != ("Gateway_Check", "Split")]
    flows += [("Flow_Pass", "Gateway_Check", "Split", "${ok == true}"), ("Flow_Fail", "Gateway_Check", "Task_3", None),
              ("Flow_Split_6", "Split", "Task_6", None), ("Flow_6_Join", "Task_6", "Join", None),
              ("Flow_Sla", "Sla_5", "End_Sla", None)]
    xml = "".join(f'<bpmn:sequenceFlow id="{f}" sourceRef="{a}" targetRef="{b}">'
                  + (f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{c}</bpmn:conditionExpression>'
                     if c else "") + "</bpmn:sequenceFlow>" for f, a, b, c in flows)
    return f'''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="D" targetNamespace="http://bpmn.io/schema/bpmn">
<bpmn:process id="bench_ten" isExecutable="true">
<bpmn:startEvent id="Start"/>{"".join(nodes)}
<bpmn:exclusiveGateway id="Gateway_Check" default="Flow_Fail"><bpmn:extensionElements><camunda:properties>
<camunda:property name="check" value="ok"/></camunda:properties></bpmn:extensionElements></bpmn:exclusiveGateway>
<bpmn:parallelGateway id="Split"/><bpmn:parallelGateway id="Join"/>
<bpmn:boundaryEvent id="Sla_5" attachedToRef="Task_5" cancelActivity="false"><bpmn:extensionElements><camunda:properties>
<camunda:property name="sla" value="true"/></camunda:properties></bpmn:extensionElements>
<bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
<bpmn:endEvent id="End_Sla"/><bpmn:endEvent id="End"/>{xml}
</bpmn:process></bpmn:definitions>'''.encode()


def synthetic_history(days: int, per_hour: float, seed: int = 7) -> list[dict[str, object]]:
    """Audit rows as the engine writes them: incident starts, each task ready -> claimed -> completed, and
    the check gateway's decisions (a fifth fail the first time and pass the second)."""
    rng, rows, at, n = random.Random(seed), [], 0.0, 0
    horizon = days * 86400.0
    while True:
        at += rng.expovariate(per_hour / 3600.0)
        if at >= horizon:
            return rows
        n += 1
        incident, t = f"i{n}", at
        rows.append({"incident_id": incident, "kind": "incident_started", "at": t, "data": {}})
        for task in (f"Task_{i}" for i in range(1, 11)):
            tid = f"{incident}-{task}"
            rows.append({"incident_id": incident, "kind": "task", "task_id": tid, "element_id": task,
                         "to_state": "ready", "at": t})
            t += rng.expovariate(1 / 300.0)
            rows.append({"incident_id": incident, "kind": "task_claimed", "task_id": tid, "element_id": task, "at": t})
            t += rng.lognormvariate(5.5, 0.6)
            rows.append({"incident_id": incident, "kind": "task", "task_id": tid, "element_id": task,
                         "to_state": "completed", "at": t})
            if task == "Task_3":
                failed = rng.random() < 0.2
                for flow in (["Flow_Fail", "Flow_Pass"] if failed else ["Flow_Pass"]):
                    rows.append({"incident_id": incident, "kind": "gateway", "element_id": "Gateway_Check", "at": t,
                                 "data": {"taken": [{"flow": flow}]}})


def bare_simpy(arrivals: int, days: int, tasks: int, agents: int, mean_work: float, seed: int) -> float:
    """The floor: as many arrivals each making `tasks` resource requests and timeouts, no procedure logic."""
    rng, env = random.Random(seed), simpy.Environment()
    lanes = [simpy.Resource(env, capacity=agents) for _ in LANES]
    horizon = days * 86400.0

    def incident(start: float):  # type: ignore[no-untyped-def]
        yield env.timeout(start)
        for i in range(tasks):
            with lanes[i % 3].request() as request:
                yield request
                yield env.timeout(rng.expovariate(1 / mean_work))

    for _ in range(arrivals):
        env.process(incident(rng.uniform(0, horizon)))
    began = time.perf_counter()
    env.run(until=horizon)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--per-hour", type=float, default=10.0)
    parser.add_argument("--replications", type=int, default=10)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    definition = load_procedure(procedure_xml())
    hours = args.days * 24
    rows = synthetic_history(args.days, args.per_hour)
    began, cpu = time.perf_counter(), time.process_time()
    history = read_history(rows, hours, {n.id: n.type for n in definition.nodes.values()})
    inputs = assemble(definition, history, {"agents": {lane: 4 for lane in LANES},
                                            "replications": args.replications}, hours)
    read_s, read_cpu = time.perf_counter() - began, time.process_time() - cpu
    criteria = [{"id": "c", "name": "cycle time p90", "metric": "cycle_time", "statistic": "p90",
                 "comparator": "at_most", "target": "PT8H"},
                {"id": "s", "name": "task 5 SLA", "metric": "sla_breach_share", "statistic": "share",
                 "comparator": "at_most", "target": 0.1, "params": {"timer": "Sla_5"}}]
    began, cpu = time.perf_counter(), time.process_time()
    report = simulate(definition, inputs, lambda element, data, now: 3600.0, criteria, margin=0.1, min_sample=5)
    sim_s, sim_cpu = time.perf_counter() - began, time.process_time() - cpu
    cpu = time.process_time()
    floor_s = sum(bare_simpy(history.incidents, args.days, 11, 4, 300.0, seed) for seed in range(args.replications))
    floor_cpu = time.process_time() - cpu
    figures = {
        "days": args.days, "incidents_per_run": history.incidents, "audit_rows": len(rows),
        "replications": args.replications, "load_average_before": round(load, 2),
        "a_bare_simpy_s": round(floor_s, 2), "b_read_history_s": round(read_s, 2), "c_simulate_s": round(sim_s, 2),
        "c_over_a": round(sim_s / floor_s, 2) if floor_s else None, "b_plus_c_s": round(read_s + sim_s, 2),
        "cpu_s": {"a_bare_simpy": round(floor_cpu, 2), "b_read_history": round(read_cpu, 2),
                  "c_simulate": round(sim_cpu, 2), "b_plus_c": round(read_cpu + sim_cpu, 2)},
        "criteria": {c["name"]: {"status": c["status"], "value": c["value"], "min": c["spread"]["min"],
                                 "max": c["spread"]["max"]} for c in report["criteria"]},
    }
    print(json.dumps(figures, indent=2))
    if load > 1.5:
        print(f"warning: other processes were running (load average {load:.1f}); re-run on a quiet machine")
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / "simulation_window.json").write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
