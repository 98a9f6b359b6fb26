"""A fresh clone without ../shared/corpus passes: the corpus tests are deselected with one clear line;
in CI (CI=true) the same absence is a failure (issue 10, part 4). Runs pytest itself on the corpus tests."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS_TESTS = ["tests/unit/test_corpus.py", "tests/api/test_corpus_api.py"]
OTHER = "tests/unit/test_lock_file.py"  # a few quick tests that need no corpus, so the run is not empty


def _pytest(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("CI", "INCIDENT_ENGINE_CORPUS", "PYTEST_ADDOPTS")}
    clean.update(INCIDENT_ENGINE_CORPUS=str(tmp_path / "no-corpus-here"), **env)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "0", *CORPUS_TESTS, OTHER],
                          cwd=ROOT, env=clean, capture_output=True, text=True, timeout=300)


def test_without_the_corpus_a_developer_run_deselects_its_tests_in_one_line(tmp_path: Path) -> None:
    run = _pytest(tmp_path)
    assert run.returncode == 0, run.stdout[-2000:]
    lines = [line for line in run.stdout.splitlines() if line.startswith("corpus tests deselected")]
    assert len(lines) == 1 and str(tmp_path / "no-corpus-here") in lines[0], run.stdout[-2000:]
    last = run.stdout.splitlines()[-1]
    assert " passed" in last and " deselected" in last and " failed" not in last and "skipped" not in last, last


def test_in_ci_a_missing_corpus_fails(tmp_path: Path) -> None:
    run = _pytest(tmp_path, CI="true")
    assert run.returncode == 1, run.stdout[-2000:]
    assert "test_the_corpus_is_there" in run.stdout and "corpus tests deselected" not in run.stdout
