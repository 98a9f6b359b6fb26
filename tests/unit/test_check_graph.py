"""The graph searches the lint shares: breadth-first paths and cycle detection."""
from __future__ import annotations

from engine.checks.graph import cycles, path_to, search


def test_search_finds_shortest_paths_and_respects_the_filter() -> None:
    succ = {"a": ("b", "c"), "b": ("d",), "c": ("d",), "d": ()}
    parent = search(succ, ["a"])
    assert path_to(parent, "d") == ["a", "b", "d"]
    blocked = search(succ, ["a"], lambda _u, v: v != "b")
    assert path_to(blocked, "d") == ["a", "c", "d"]
    assert "d" not in search(succ, ["a"], lambda _u, v: v != "d")


def test_cycles_finds_loops_and_self_loops_only() -> None:
    succ = {"s": ("a",), "a": ("b",), "b": ("a", "c"), "c": ("c", "e"), "e": ()}
    found = sorted(sorted(c) for c in cycles(succ))
    assert found == [["a", "b"], ["c"]]


def test_removing_the_check_breaks_the_loop() -> None:
    succ = {"s": ("t",), "t": ("g",), "g": ("t", "e"), "e": ()}
    assert cycles(succ) and cycles(succ, frozenset({"g"})) == []


def test_cycles_handles_long_chains_without_recursion() -> None:
    n = 5000
    succ = {str(i): (str(i + 1),) for i in range(n)}
    succ[str(n)] = ("0",)
    [component] = cycles(succ)
    assert len(component) == n + 1
