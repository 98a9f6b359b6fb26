"""Every setting the service reads, from environment variables with safe defaults, in one place."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def _optional(name: str) -> str | None:
    return os.environ.get(name) or None


def _path(name: str) -> Path | None:
    raw = os.environ.get(name)
    return Path(raw) if raw else None


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
    # Bearer tokens (JWT). HS* verifies with a shared secret (default: generated into the instance folder);
    # RS*/PS*/ES* with a public key file or a JWKS file from the identity provider.
    jwt_algorithm: str = "HS256"
    jwt_secret: str | None = field(default=None, repr=False)
    jwt_public_key_file: Path | None = None
    jwt_jwks_file: Path | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_leeway: int = 30
    jwt_claim_user: str = "sub"
    jwt_claim_name: str = "name"
    jwt_claim_roles: str = "roles"
    jwt_claim_groups: str = "groups"

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
            "jwt_algorithm": os.environ.get("JWT_ALGORITHM") or "HS256",
            "jwt_secret": _optional("JWT_SECRET"),
            "jwt_public_key_file": _path("JWT_PUBLIC_KEY_FILE"),
            "jwt_jwks_file": _path("JWT_JWKS_FILE"),
            "jwt_issuer": _optional("JWT_ISSUER"),
            "jwt_audience": _optional("JWT_AUDIENCE"),
            "jwt_leeway": _int("JWT_LEEWAY", 30),
            "jwt_claim_user": os.environ.get("JWT_CLAIM_USER") or "sub",
            "jwt_claim_name": os.environ.get("JWT_CLAIM_NAME") or "name",
            "jwt_claim_roles": os.environ.get("JWT_CLAIM_ROLES") or "roles",
            "jwt_claim_groups": os.environ.get("JWT_CLAIM_GROUPS") or "groups",
        }
        if os.environ.get("BUNDLED_BPMN_DIR"):
            values["bundled_dir"] = Path(os.environ["BUNDLED_BPMN_DIR"])
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
