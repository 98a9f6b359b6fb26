"""Every setting the service reads, from environment variables with safe defaults, in one place."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw not in (None, "") else default


def _networks(name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = os.environ.get(name)
    return default if raw is None else tuple(n.strip() for n in raw.split(",") if n.strip())


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
    metrics_token: str | None = None
    metrics_allow_networks: tuple[str, ...] = ("127.0.0.1/32", "::1/128")
    monitoring_margin: float = 0.1
    monitoring_min_sample: int = 5
    monitoring_window_days: int = 30

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
            "metrics_token": os.environ.get("METRICS_TOKEN") or None,
            "metrics_allow_networks": _networks("METRICS_ALLOW_NETWORKS", cls.metrics_allow_networks),
            "monitoring_margin": _float("MONITORING_MARGIN", 0.1),
            "monitoring_min_sample": _int("MONITORING_MIN_SAMPLE", 5),
            "monitoring_window_days": _int("MONITORING_WINDOW_DAYS", 30),
        }
        if os.environ.get("BUNDLED_BPMN_DIR"):
            values["bundled_dir"] = Path(os.environ["BUNDLED_BPMN_DIR"])
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
