"""Decision tables evaluated by our FEEL subset: unary tests, hit policies, result mapping, refused cells."""
from __future__ import annotations

from typing import Any

import pytest

from engine.decisions.cells import compile_decision
from engine.decisions.evaluate import DecisionFailed, evaluate, map_result
from engine.decisions.feel import FeelError, parse_expression, parse_unary_tests
from engine.decisions.feel_eval import evaluate as feel
from engine.decisions.feel_eval import matches
from engine.decisions.model import Cell, Decision, Output, Rule


@pytest.mark.parametrize(("tests", "value", "expected"), [
    ("[1..5]", 5, True), ("[1..5]", 6, False), ("]1..5[", 1, False), ("]1..5[", 3, True), ("(1..5)", 5, False),
    ("[1..5[", 5, False), ("< 10", 9.5, True), ("<= 10", 10, True), ("> 10", 10, False), (">= x", 4, True),
    ("not(1, 2)", 3, True), ("not(1, 2)", 2, False), ('"a", "b"', "b", True), ('"a", "b"', "c", False),
    ("-", None, True), ("", "anything", True), ("null", None, True), ("null", 0, False),
    ("true", True, True), ("true", 1, False), ("1", True, False), ('"1"', 1, False), ("!= 3", 4, True),
    ("[x..x + 2]", 6, True), ("< 5", "text", False), ("> -3", -2, True),
])
def test_unary_tests(tests: str, value: Any, expected: bool) -> None:
    assert matches(parse_unary_tests(tests), value, {"x": 4}) is expected


@pytest.mark.parametrize(("text", "expected"), [
    ('"P1"', "P1"), ("1 + 2 * 3", 7), ("(1 + 2) * 3", 9), ("2 ** 10", 1024), ("a.b - 1", 1), ("-a.b", -2),
    ('if a.b > 1 then "big" else "small"', "big"), ("missing + 1", None), ('"x" + "y"', "xy"),
    ("1 / 0", None), ("true and null", None), ("false and null", False), ("true or null", True), ("", None),
    ("a.b = 2", True), ("a.c.d", None),
])
def test_expressions(text: str, expected: Any) -> None:
    assert feel(parse_expression(text), {"a": {"b": 2}}) == expected


@pytest.mark.parametrize("text", ["__import__('os')", "x.__class__", "foo(1)", "x[0]", "a; b", "9 ** 9 ** 9",
                                  "x" * 2_001, "(" * 60 + "1" + ")" * 60, "'single quotes'", "1 +", "[1..]"])
def test_unsupported_or_unsafe_feel_is_refused(text: str) -> None:
    with pytest.raises(FeelError):
        parse_expression(text) if not text.startswith("[") else parse_unary_tests(text)


def test_a_huge_power_is_refused_when_the_table_is_compiled() -> None:
    with pytest.raises(FeelError, match="too large a power"):
        feel(parse_expression("2 ** 99999"), {})
    decision = _table("UNIQUE", [("r1", ["-"], ["2 ** 99999"])])
    compiled, problems = compile_decision(decision)
    assert compiled is None and "rule r1, output entry 1" in problems[0].message


def _table(policy: str, rules: list[tuple[str, list[str], list[str]]], aggregation: str | None = None,
           outputs: tuple[Output, ...] = (Output("result"),), inputs: tuple[str, ...] = ("amount",)) -> Decision:
    return Decision(id="d", name="d", hit_policy=policy, aggregation=aggregation,
                    inputs=tuple(Cell(i) for i in inputs), input_labels=inputs, outputs=outputs,
                    rules=tuple(Rule(rid, tuple(Cell(c) for c in ins), tuple(Cell(c) for c in outs))
                                for rid, ins, outs in rules))


_RULES = [("low", ["< 50"], ['"small"']), ("mid", ["[10..100]"], ['"medium"']), ("any", ["-"], ['"other"'])]


def _run(decision: Decision, **variables: Any) -> Any:
    compiled, problems = compile_decision(decision)
    assert compiled is not None, problems
    return evaluate({"d": compiled}, "d", variables)


def test_hit_policies() -> None:
    assert _run(_table("FIRST", _RULES), amount=20).matched == ["low"]
    assert _run(_table("RULE ORDER", _RULES), amount=20).matched == ["low", "mid", "any"]
    assert [r["result"] for r in _run(_table("COLLECT", _RULES), amount=20).results] == ["small", "medium", "other"]
    assert _run(_table("UNIQUE", _RULES[:2]), amount=5).matched == ["low"]
    with pytest.raises(DecisionFailed, match="low, mid"):
        _run(_table("UNIQUE", _RULES), amount=20)
    ranked = (Output("result", values=("medium", "other", "small")),)
    assert _run(_table("PRIORITY", _RULES, outputs=ranked), amount=20).matched == ["mid"]
    assert _run(_table("OUTPUT ORDER", _RULES, outputs=ranked), amount=20).matched == ["mid", "any", "low"]
    same = [("a", ["< 50"], ['"x"']), ("b", ["< 60"], ['"x"'])]
    assert _run(_table("ANY", same), amount=1).results == [{"result": "x"}]
    with pytest.raises(DecisionFailed, match="different outputs"):
        _run(_table("ANY", _RULES), amount=20)
    assert _run(_table("UNIQUE", _RULES[:2]), amount=500).results == []


@pytest.mark.parametrize(("aggregation", "expected"), [("SUM", 60), ("MIN", 10), ("MAX", 30), ("COUNT", 3)])
def test_collect_aggregations(aggregation: str, expected: int) -> None:
    rules = [("a", ["-"], ["10"]), ("b", ["> 0"], ["20"]), ("c", ["> 1"], ["30"]), ("d", ["> 100"], ["40"])]
    assert _run(_table("COLLECT", rules, aggregation), amount=5).results == [{"result": expected}]


def test_map_decision_result() -> None:
    one = _run(_table("FIRST", _RULES), amount=20)
    many = _run(_table("RULE ORDER", _RULES), amount=20)
    assert map_result(one, "singleEntry") == "small" and map_result(one, "singleResult") == {"result": "small"}
    assert map_result(many, "collectEntries") == ["small", "medium", "other"]
    assert map_result(many, "resultList") == [{"result": v} for v in ("small", "medium", "other")]
    for how in ("singleEntry", "singleResult"):
        with pytest.raises(DecisionFailed):
            map_result(many, how)
    assert map_result(_run(_table("UNIQUE", _RULES[:2]), amount=500), "singleEntry") is None


def test_juel_cells_run_through_the_safe_evaluator() -> None:
    decision = _table("FIRST", [("big", ["${cellInput > 100}"], ["${amount * 2}"]), ("rest", ["-"], ["0"])])
    assert _run(decision, amount=150).results == [{"result": 300}]
    assert _run(decision, amount=5).matched == ["rest"]
    escape = _table("FIRST", [("r", ["-"], ["${().__class__.__base__.__subclasses__()}"])])
    compiled, problems = compile_decision(escape)
    assert compiled is None and problems[0].rule == "dmn.feel" and "rule r" in problems[0].message


def test_an_unknown_expression_language_is_refused() -> None:
    decision = Decision(id="d", name="d", inputs=(Cell("x", "javascript"),), input_labels=("x",),
                        outputs=(Output("o"),), rules=())
    assert "javascript" in compile_decision(decision)[1][0].message


def test_a_hundred_rule_table_finds_its_rule() -> None:
    rules = [(f"r{i}", [f"[{i * 10}..{i * 10 + 9}]"], [f'"band {i}"']) for i in range(100)]
    compiled, _ = compile_decision(_table("UNIQUE", rules))
    assert compiled is not None
    result = evaluate({"d": compiled}, "d", {"amount": 995})
    assert (result.matched, result.results) == (["r99"], [{"result": "band 99"}])
