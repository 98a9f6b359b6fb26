"""The fitness server's memory sampler survives a process that ends while its /proc entry is read."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.fitness import server


def test_the_tree_of_this_process_includes_itself() -> None:
    assert server._tree(os.getpid())[0] == os.getpid()


def test_a_process_ending_while_its_tasks_are_listed_is_no_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def gone(self: Path, pattern: str) -> list[Path]:
        raise ProcessLookupError(3, "No such process")  # what scandir of a vanishing /proc/<pid>/task raises

    monkeypatch.setattr(Path, "glob", gone)
    assert server._tree(123456) == [123456]
