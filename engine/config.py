"""Every setting the service reads, from environment variables with safe defaults, in one place."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    """Service settings; `from_env` is the only place that reads the environment."""

    database_url: str = "sqlite:///instance/incident-engine.sqlite3"
    max_upload_bytes: int = 2 * 1024 * 1024
    loop_cap: int = 50
    deploy_bundled: bool = True
    bundled_dir: Path = field(default_factory=lambda: Path(__file__).resolve().parent.parent / "bpmn")
    instance_dir: Path = field(default_factory=lambda: Path("instance"))
    log_level: str = "INFO"
    calendar_country: str = "GB"
    calendar_subdivision: str = "ENG"
    # procedure governance: fitness-test thresholds and runner (issue #6)
    fitness_max_failures: int = 0
    fitness_p95_ms: int = 500
    fitness_require_settled: bool = True
    fitness_min_arrival_ratio: float = 0.9
    fitness_default_duration_s: int = 60
    fitness_drain_s: int = 0
    fitness_pass_probability: float = 0.8
    fitness_admin_database_url: str | None = None
    fitness_work_dir: Path | None = None

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        instance = Path(os.environ.get("INCIDENT_ENGINE_INSTANCE", "instance"))
        values: dict[str, object] = {
            "database_url": os.environ.get("DATABASE_URL", f"sqlite:///{instance / 'incident-engine.sqlite3'}"),
            "max_upload_bytes": _int("MAX_UPLOAD_BYTES", 2 * 1024 * 1024),
            "loop_cap": _int("LOOP_CAP", 50),
            "deploy_bundled": os.environ.get("DEPLOY_BUNDLED", "1") not in ("0", "false", "no"),
            "instance_dir": instance,
            "log_level": os.environ.get("LOG_LEVEL", "INFO"),
            "calendar_country": os.environ.get("CALENDAR_COUNTRY", "GB"),
            "calendar_subdivision": os.environ.get("CALENDAR_SUBDIVISION", "ENG"),
            "fitness_max_failures": _int("FITNESS_MAX_FAILURES", 0),
            "fitness_p95_ms": _int("FITNESS_P95_MS", 500),
            "fitness_require_settled": os.environ.get("FITNESS_REQUIRE_SETTLED", "1") not in ("0", "false", "no"),
            "fitness_min_arrival_ratio": float(os.environ.get("FITNESS_MIN_ARRIVAL_RATIO") or 0.9),
            "fitness_default_duration_s": _int("FITNESS_DEFAULT_DURATION", 60),
            "fitness_drain_s": _int("FITNESS_DRAIN_SECONDS", 0),
            "fitness_pass_probability": float(os.environ.get("FITNESS_PASS_PROBABILITY") or 0.8),
            "fitness_admin_database_url": os.environ.get("FITNESS_ADMIN_DATABASE_URL") or None,
        }
        if os.environ.get("FITNESS_WORK_DIR"):
            values["fitness_work_dir"] = Path(os.environ["FITNESS_WORK_DIR"])
        if os.environ.get("BUNDLED_BPMN_DIR"):
            values["bundled_dir"] = Path(os.environ["BUNDLED_BPMN_DIR"])
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
