"""Fixtures shared by the integration tests: an engine on a fresh copy of the migrated SQLite template."""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.services.engine_app import IncidentEngine
from tests.conftest import make_settings


@pytest.fixture
def sqlite_engine(sqlite_template: Path, tmp_path: Path) -> Iterator[IncidentEngine]:
    path = tmp_path / "engine.sqlite3"
    shutil.copy(sqlite_template, path)
    engine = IncidentEngine(make_settings(f"sqlite:///{path}"))
    yield engine
    engine.db.dispose()
