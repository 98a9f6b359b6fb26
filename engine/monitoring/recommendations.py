"""Recommendations from monitoring data (seed 2.6): pure rules over a window's metrics and past evaluations.

Each rule is `rule(metrics, history, limits) -> Recommendation | None`: it looks at one kind of problem,
picks the worst instance, and explains it with the figures, the window and the sample size, naming the
BPMN element it concerns. `recommend` runs them all and ranks what fired by score (higher is more urgent).
`history` holds `criteria`: the criteria evaluations of consecutive earlier windows, oldest first, each a
list of evaluate_criterion results (the current window last).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from .stats import human


@dataclass(frozen=True)
class Limits:
    """When a rule fires; every figure must rest on at least `min_sample` observations."""

    min_sample: int = 5
    bottleneck_share: float = 0.3      # a task's waiting takes at least this share of cycle time
    check_pass_rate: float = 0.8       # a check passes first time less often than this
    sla_breach_share: float = 0.2      # this share of incidents breach an SLA timer, or more
    rework_share: float = 0.25         # this share of incidents loop back through a task, or more
    path_min_reached: int = 20         # a gateway reached this often has never taken one of its flows
    lane_growth: float = 1.2           # a lane receives this many times the tasks it finishes, or more
    consecutive_misses: int = 2        # a criterion missed in this many windows in a row


@dataclass(frozen=True)
class Recommendation:
    rule: str
    score: float
    title: str
    message: str
    element_id: str | None
    evidence: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


Rule = Callable[[Mapping[str, Any], Mapping[str, Any], Limits], "Recommendation | None"]


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _window(metrics: Mapping[str, Any]) -> dict[str, Any]:
    return {"since": _iso(metrics.get("since")), "until": _iso(metrics.get("until")),
            "version": metrics.get("version")}


def _label(item: Mapping[str, Any]) -> str:
    return f"{item.get('name') or item['element_id']} ({item['element_id']})"


def bottleneck_task(metrics: Mapping[str, Any], history: Mapping[str, Any], limits: Limits) -> Recommendation | None:
    """The task whose waiting takes the largest share of the cycle time of the incidents completed."""
    cycle = metrics.get("cycle_time") or {}
    tasks = [t for t in metrics.get("tasks") or [] if t.get("wait_share") is not None]
    if not tasks or int(cycle.get("count") or 0) < limits.min_sample:
        return None
    worst = max(tasks, key=lambda t: t["wait_share"])
    if worst["wait_share"] < limits.bottleneck_share:
        return None
    lane = worst.get("lane") or "its lane"
    return Recommendation(
        "bottleneck_task", round(worst["wait_share"], 4), f"Bottleneck: {worst.get('name') or worst['element_id']}",
        f"Waiting for {_label(worst)} took {worst['wait_share']:.0%} of the cycle time of the {cycle['count']} "
        f"incidents completed in the window (median wait {human(worst['wait']['p50'])}, 90th percentile "
        f"{human(worst['wait']['p90'])}). Put more people in {lane}, or let them pick this task up sooner.",
        worst["element_id"], {"wait_share": worst["wait_share"], "wait": worst["wait"],
                              "cycle_time": cycle, "sample_size": cycle["count"], "window": _window(metrics)})


def failing_check(metrics: Mapping[str, Any], history: Mapping[str, Any], limits: Limits) -> Recommendation | None:
    """The check that fails first time most often: review the form or guidance of the task before it."""
    checks = [c for c in metrics.get("checks") or [] if c["reached"] >= limits.min_sample
              and c.get("first_time_pass_rate") is not None]
    if not checks:
        return None
    worst = min(checks, key=lambda c: c["first_time_pass_rate"])
    rate = worst["first_time_pass_rate"]
    if rate >= limits.check_pass_rate:
        return None
    before = ", ".join(worst.get("before") or []) or "the task before it"
    return Recommendation(
        "failing_check", round(1 - rate, 4), f"Check {worst['check']} often fails",
        f"Check {worst['check']} ({worst['gateway_id']}) passed at the first attempt in only {rate:.0%} of "
        f"{worst['reached']} incidents ({worst['failures']} failures, {worst['overrides']} overrides). Review "
        f"the form and guidance of {before} so the data it needs is collected the first time.",
        worst["gateway_id"], {**{k: worst[k] for k in ("check", "reached", "first_time_passed",
                                                       "first_time_pass_rate", "failures", "overrides",
                                                       "before")},
                              "sample_size": worst["reached"], "window": _window(metrics)})


def sla_breached_often(metrics: Mapping[str, Any], history: Mapping[str, Any], limits: Limits) -> Recommendation | None:
    """The SLA timer breached in the largest share of the incidents that started its task."""
    timers = [s for s in metrics.get("sla") or [] if (s.get("armed") or 0) >= limits.min_sample
              and s.get("breach_share") is not None]
    if not timers:
        return None
    worst = max(timers, key=lambda s: s["breach_share"])
    if worst["breach_share"] < limits.sla_breach_share:
        return None
    lane = worst.get("lane") or "the lane that works it"
    return Recommendation(
        "sla_breached_often", round(worst["breach_share"], 4), f"SLA {worst.get('name') or worst['element_id']} "
        "often breached",
        f"{_label(worst)} was breached in {worst['incidents_breached']} of {worst['armed']} incidents "
        f"({worst['breach_share']:.0%}), late by {human(worst['late_by']['p50'])} at the median. Put more "
        f"people in {lane} at the busy times, or revisit the target with the people who agreed it.",
        worst["element_id"], {**{k: worst[k] for k in ("task", "lane", "breaches", "incidents_breached", "armed",
                                                       "breach_share", "late_by")},
                              "sample_size": worst["armed"], "window": _window(metrics)})


def frequent_rework(metrics: Mapping[str, Any], history: Mapping[str, Any], limits: Limits) -> Recommendation | None:
    """The task most often done again in the same incident (a rework loop)."""
    tasks = [t for t in metrics.get("tasks") or [] if t["incidents"] >= limits.min_sample and t["rework"]["loops"]]
    if not tasks:
        return None
    worst = max(tasks, key=lambda t: (t["rework"]["share"], t["rework"]["loops"]))
    if worst["rework"]["share"] < limits.rework_share:
        return None
    return Recommendation(
        "frequent_rework", round(worst["rework"]["share"], 4), f"Rework loops through {worst.get('name')}",
        f"{_label(worst)} had to be done again in {worst['rework']['incidents']} of {worst['incidents']} "
        f"incidents ({worst['rework']['share']:.0%}; {worst['rework']['loops']} extra passes). Find out what "
        "sends the work back and collect it right the first time.",
        worst["element_id"], {"rework": worst["rework"], "incidents": worst["incidents"],
                              "procedure_rework": metrics.get("rework"), "sample_size": worst["incidents"],
                              "window": _window(metrics)})


def path_never_taken(metrics: Mapping[str, Any], history: Mapping[str, Any], limits: Limits) -> Recommendation | None:
    """A gateway reached often that never once took one of its flows."""
    candidates = [(g, f) for g in metrics.get("gateways") or [] if g["reached"] >= limits.path_min_reached
                  for f in g["flows"] if f["taken"] == 0]
    if not candidates:
        return None
    gateway, flow = max(candidates, key=lambda pair: pair[0]["reached"])
    return Recommendation(
        "path_never_taken", 0.1, f"Path {flow.get('name') or flow['flow']} never taken",
        f"Gateway {gateway['element_id']} decided {gateway['reached']} times in the window and never took "
        f"{flow['flow']} (to {flow['target']}). Check whether the path is still needed or its condition can "
        "ever hold.",
        flow["flow"], {"gateway": gateway["element_id"], "flow": flow, "reached": gateway["reached"],
                       "sample_size": gateway["reached"], "window": _window(metrics)})


def lane_queue_growing(metrics: Mapping[str, Any], history: Mapping[str, Any], limits: Limits) -> Recommendation | None:
    """The lane whose queue grew over the window because it received more tasks than it finished."""
    lanes = [lane for lane in metrics.get("lanes") or [] if lane["arrived"] >= limits.min_sample
             and lane["open"] > lane["open_at_start"]
             and lane["arrived"] >= limits.lane_growth * max(lane["drained"], 1)]
    if not lanes:
        return None
    worst = max(lanes, key=lambda lane: (lane["arrived"] - lane["drained"]) / lane["arrived"])
    growth = round((worst["arrived"] - worst["drained"]) / worst["arrived"], 4)
    return Recommendation(
        "lane_queue_growing", growth, f"Queue of {worst['lane']} is growing",
        f"{worst['lane']} received {worst['arrived']} tasks and finished {worst['drained']} in the window; its "
        f"queue went from {worst['open_at_start']} to {worst['open']} (oldest waiting {human(worst['oldest_age'])})."
        " Add people to the lane or move some of its work elsewhere.",
        None, {**worst, "sample_size": worst["arrived"], "window": _window(metrics)})


def criterion_missed_repeatedly(metrics: Mapping[str, Any], history: Mapping[str, Any],
                                limits: Limits) -> Recommendation | None:
    """A criterion missed in the latest `consecutive_misses` windows (or more) in a row."""
    windows: Sequence[Sequence[Mapping[str, Any]]] = history.get("criteria") or []
    streaks: dict[Any, list[Mapping[str, Any]]] = {}
    for evaluations in windows:
        seen = {e.get("criterion_id"): e for e in evaluations}
        for key in list(streaks):
            if seen.get(key, {}).get("status") != "missed":
                del streaks[key]
        for key, evaluation in seen.items():
            if evaluation.get("status") == "missed":
                streaks.setdefault(key, []).append(evaluation)
    long = [s for s in streaks.values() if len(s) >= limits.consecutive_misses]
    if not long:
        return None
    worst = max(long, key=len)
    latest = worst[-1]
    return Recommendation(
        "criterion_missed_repeatedly", round(1.0 + 0.1 * len(worst), 4),
        f"Criterion {latest.get('name') or latest.get('criterion_id')} missed {len(worst)} times in a row",
        f"{latest.get('name') or latest.get('criterion_id')} ({latest.get('metric')} {latest.get('statistic')} "
        f"{latest.get('comparator')} {latest.get('target')}) was missed in each of the last {len(worst)} "
        f"windows (latest value {latest.get('value')} over {latest.get('sample_size')} observations). Review the "
        "procedure with its owners, or agree a realistic target.",
        latest.get("element_id"), {"criterion_id": latest.get("criterion_id"), "streak": len(worst),
                                   "values": [e.get("value") for e in worst], "target": latest.get("target"),
                                   "sample_size": latest.get("sample_size"), "window": _window(metrics)})


RULES: tuple[Rule, ...] = (criterion_missed_repeatedly, bottleneck_task, failing_check, sla_breached_often,
                           frequent_rework, lane_queue_growing, path_never_taken)


def recommend(metrics: Mapping[str, Any], history: Mapping[str, Any] | None = None,
              limits: Limits | None = None) -> list[dict[str, Any]]:
    """Every rule that fires, most urgent first, each with its rank."""
    limits = limits or Limits()
    fired = [r for r in (rule(metrics, history or {}, limits) for rule in RULES) if r is not None]
    fired.sort(key=lambda r: -r.score)
    return [{"rank": n, **r.as_dict()} for n, r in enumerate(fired, start=1)]
