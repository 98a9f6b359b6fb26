"""Every setting the service reads, from environment variables with safe defaults, in one place."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where used: the settings alone (serve's gunicorn master) need no BPMN code
    from engine.bpmn.containment import ModelLimits
    from engine.runtime.budget import Budgets

MODES = ("fire_and_forget", "wait")
SCHEDULERS = ("inprocess", "celery", "off")


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def _optional(name: str) -> str | None:
    return os.environ.get(name) or None


def _path(name: str) -> Path | None:
    raw = os.environ.get(name)
    return Path(raw) if raw else None


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw not in (None, "") else default


@dataclass(frozen=True)
class Topic:
    """How the side effects of one outbox topic (a service task's camunda:topic) are delivered.

    `mode`: fire_and_forget (the service task completes when the row is written) or wait (it completes
    when the delivery succeeds). `url`: webhook that receives a JSON POST. `email_to`: recipients of an
    e-mail through SMTP. `secret` overrides OUTBOX_WEBHOOK_SECRET for this topic's signature.
    """

    name: str
    mode: str = "fire_and_forget"
    url: str | None = None
    email_to: tuple[str, ...] = ()
    subject: str | None = None
    secret: str | None = None

    @classmethod
    def parse(cls, name: str, raw: Any) -> Topic:
        if not isinstance(raw, dict):
            raise ValueError(f"OUTBOX_TOPICS[{name!r}] must be an object")
        unknown = set(raw) - {"mode", "url", "email_to", "subject", "secret"}
        if unknown:
            raise ValueError(f"OUTBOX_TOPICS[{name!r}] has unknown keys: {', '.join(sorted(unknown))}")
        mode = raw.get("mode", "fire_and_forget")
        if mode not in MODES:
            raise ValueError(f"OUTBOX_TOPICS[{name!r}].mode must be one of {', '.join(MODES)}, not {mode!r}")
        to = raw.get("email_to") or ()
        topic = cls(name, mode, raw.get("url") or None, tuple([to] if isinstance(to, str) else to),
                    raw.get("subject"), raw.get("secret"))
        if topic.url and topic.email_to:
            raise ValueError(f"OUTBOX_TOPICS[{name!r}] has both url and email_to; a topic has one transport")
        if topic.mode == "wait" and not (topic.url or topic.email_to):
            raise ValueError(f"OUTBOX_TOPICS[{name!r}] waits for a delivery but has no url or email_to")
        return topic


def parse_topics(text: str | None) -> dict[str, Topic]:
    """OUTBOX_TOPICS: a JSON object {topic: {mode, url, email_to, subject, secret}}."""
    if not text:
        return {}
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"OUTBOX_TOPICS is not valid JSON: {err}") from None
    if not isinstance(raw, dict):
        raise ValueError("OUTBOX_TOPICS must be a JSON object keyed by topic")
    return {name: Topic.parse(name, value) for name, value in raw.items()}
# The bundled procedures' own push topic: "Notify stakeholders" sends its webhook or e-mail through the outbox
# (nothing is sent until OUTBOX_TOPICS gives it a url or email_to). Setting OUTBOX_TOPICS replaces this.
BUNDLED_TOPICS = {"notify-stakeholders": Topic("notify-stakeholders")}


def _networks(name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = os.environ.get(name)
    return default if raw is None else tuple(n.strip() for n in raw.split(",") if n.strip())


@dataclass(frozen=True)
class Settings:
    """Service settings; `from_env` is the only place that reads the environment."""

    database_url: str = "sqlite:///instance/incident-engine.sqlite3"
    # PostgreSQL: server-side prepared statements (off behind PgBouncer in transaction mode before 1.21)
    db_prepared_statements: bool = True
    max_upload_bytes: int = 2 * 1024 * 1024
    max_deployment_bytes: int = 8 * 1024 * 1024  # a whole deployment (each file is also under max_upload_bytes)
    max_deployment_files: int = 50
    call_depth_limit: int = 10  # incidents in one chain of call activities across files
    loop_cap: int = 500
    # the budget of one transition (issue 11): engine time, CPU, automatic steps, state and task-data size
    transition_wall_ms: int = 3000  # the backstop: the engine does no I/O, so only a starved machine spends wall time
    transition_cpu_ms: int = 500  # what a runaway model meets; a normal transition takes a few ms
    automatic_step_cap: int = 10_000
    max_state_bytes: int = 1024 * 1024
    max_task_data_bytes: int = 256 * 1024
    cycle_cap: int = 1000  # firings of a repeating timer without R<n>, per incident
    stall_sweep_seconds: float = 600.0  # how often running incidents that wait on nothing are looked for
    max_elements: int = 2000  # flow nodes of one uploaded procedure
    max_nesting: int = 10  # subprocess depth (and call depth) of one uploaded procedure
    max_page_bytes: int = 4 * 1024 * 1024  # JSON of one listing's items: past it the page ends early, with a cursor
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
    jwt_cache_size: int = 4096  # verified tokens remembered per process until their exp (0: off)
    jwt_claim_user: str = "sub"
    jwt_claim_name: str = "name"
    jwt_claim_roles: str = "roles"
    jwt_claim_groups: str = "groups"
    jwt_jwks_url: str | None = None
    # Web pages (issue #18): sign-in through the centre's OpenID Connect provider (authorization code + PKCE);
    # with no OIDC_ISSUER, the embedded default signs people in with `incident-engine login-link`.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = field(default=None, repr=False)
    oidc_scopes: str = "openid profile email"
    web_secret_key: str | None = field(default=None, repr=False)
    web_session_minutes: int = 480
    web_cookie_secure: str = "auto"  # auto (Secure when the request came over HTTPS) | always | never
    public_url: str = "http://127.0.0.1:8000"
    login_link_minutes: int = 10
    web_page_size: int = 50
    web_refresh_seconds: int = 20  # the inbox refreshes its group queue this often (0: never)
    # --- timers and workers
    celery_broker_url: str | None = None
    celery_queue: str = "incident-engine"
    fitness_queue: str = "incident-engine-fitness"
    scheduler: str = "inprocess"
    timer_tick_seconds: float = 10.0
    timer_batch: int = 100
    task_time_limit: int = 120
    task_max_retries: int = 5
    # --- outbox delivery
    outbox_topics: dict[str, Topic] = field(default_factory=lambda: dict(BUNDLED_TOPICS))
    outbox_webhook_secret: str | None = None
    outbox_max_attempts: int = 8
    outbox_backoff_seconds: float = 5.0
    outbox_backoff_max_seconds: float = 3600.0
    outbox_timeout_seconds: float = 10.0
    outbox_lease_seconds: float = 60.0
    outbox_batch: int = 20
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "incident-engine@localhost"
    smtp_starttls: bool = True

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

    metrics_token: str | None = None
    metrics_allow_networks: tuple[str, ...] = ("127.0.0.1/32", "::1/128")
    monitoring_margin: float = 0.1
    monitoring_min_sample: int = 5
    monitoring_window_days: int = 30
    # events (issue #12): waits a signal reaches per transaction
    signal_batch: int = 100
    # Camunda 7 REST dialect (issue #14): HTTP Basic users for clients that cannot send a bearer token
    basic_credentials_file: Path | None = None
    # camunda:type="external" topics that pull workers serve (fetchAndLock), unless OUTBOX_TOPICS pushes them;
    # "*" is every such topic
    external_task_topics: tuple[str, ...] = ("*",)
    long_poll_max_waiters: int = 64

    def pulls(self, topic: str) -> bool:
        """Whether an external task of `topic` waits for a pull worker (not pushed through the outbox)."""
        return topic not in self.outbox_topics and ("*" in self.external_task_topics
                                                    or topic in self.external_task_topics)

    # test incidents and the first start (issue #10)
    test_incident_retention_days: float = 7.0
    test_incident_purge_seconds: float = 3600.0
    bootstrap_bundled: bool = False
    bootstrap_fitness_seconds: int = 8
    # records (issue #17): the key of the audit hash chain (default: generated into the instance folder) and
    # the PostgreSQL role the service acts as (SET ROLE on every connection; the migrations create it)
    audit_hmac_key: str | None = field(default=None, repr=False)
    database_role: str | None = None
    personal_data_retention: str = "P2Y"  # after the incident ends, unless the procedure declares `retention`
    retention_job_seconds: float = 3600.0

    def topic(self, name: str) -> Topic:
        """The configuration of `name`; an unlisted topic is fire-and-forget with no transport."""
        return self.outbox_topics.get(name) or Topic(name)

    @property
    def budgets(self) -> Budgets:
        """The budgets of one transition (engine.runtime.budget)."""
        from engine.runtime.budget import Budgets

        return Budgets(self.transition_wall_ms / 1000, self.transition_cpu_ms / 1000, self.automatic_step_cap,
                       self.max_state_bytes, self.max_task_data_bytes)

    @property
    def model_limits(self) -> ModelLimits:
        """How big an uploaded procedure may be (engine.bpmn.containment)."""
        from engine.bpmn.containment import ModelLimits

        return ModelLimits(self.max_elements, self.max_nesting)

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        instance = Path(os.environ.get("INCIDENT_ENGINE_INSTANCE", "instance"))
        broker = _optional("CELERY_BROKER_URL")
        scheduler = os.environ.get("SCHEDULER") or ("celery" if broker else "inprocess")
        if scheduler not in SCHEDULERS:
            raise ValueError(f"SCHEDULER must be one of {', '.join(SCHEDULERS)}, not {scheduler!r}")
        values: dict[str, object] = {
            "database_url": os.environ.get("DATABASE_URL", f"sqlite:///{instance / 'incident-engine.sqlite3'}"),
            "db_prepared_statements": os.environ.get("DB_PREPARED_STATEMENTS", "1") not in ("0", "false", "no"),
            "max_upload_bytes": _int("MAX_UPLOAD_BYTES", 2 * 1024 * 1024),
            "max_deployment_bytes": _int("MAX_DEPLOYMENT_BYTES", 8 * 1024 * 1024),
            "max_deployment_files": _int("MAX_DEPLOYMENT_FILES", 50),
            "call_depth_limit": _int("CALL_DEPTH_LIMIT", 10),
            "loop_cap": _int("LOOP_CAP", 500),
            "transition_wall_ms": _int("TRANSITION_WALL_MS", 3000),
            "transition_cpu_ms": _int("TRANSITION_CPU_MS", 500),
            "automatic_step_cap": _int("AUTOMATIC_STEP_CAP", 10_000),
            "max_state_bytes": _int("MAX_STATE_BYTES", 1024 * 1024),
            "max_task_data_bytes": _int("MAX_TASK_DATA_BYTES", 256 * 1024),
            "cycle_cap": _int("CYCLE_CAP", 1000),
            "stall_sweep_seconds": _float("STALL_SWEEP_SECONDS", 600.0),
            "max_elements": _int("MAX_ELEMENTS", 2000),
            "max_nesting": _int("MAX_NESTING", 10),
            "max_page_bytes": _int("MAX_PAGE_BYTES", 4 * 1024 * 1024),
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
            "jwt_cache_size": _int("JWT_CACHE_SIZE", 4096),
            "jwt_claim_user": os.environ.get("JWT_CLAIM_USER") or "sub",
            "jwt_claim_name": os.environ.get("JWT_CLAIM_NAME") or "name",
            "jwt_claim_roles": os.environ.get("JWT_CLAIM_ROLES") or "roles",
            "jwt_claim_groups": os.environ.get("JWT_CLAIM_GROUPS") or "groups",
            "jwt_jwks_url": _optional("JWT_JWKS_URL"),
            "oidc_issuer": _optional("OIDC_ISSUER"),
            "oidc_client_id": _optional("OIDC_CLIENT_ID"),
            "oidc_client_secret": _optional("OIDC_CLIENT_SECRET"),
            "oidc_scopes": os.environ.get("OIDC_SCOPES") or "openid profile email",
            "web_secret_key": _optional("WEB_SECRET_KEY"),
            "web_session_minutes": _int("WEB_SESSION_MINUTES", 480),
            "web_cookie_secure": os.environ.get("WEB_COOKIE_SECURE") or "auto",
            "public_url": (os.environ.get("PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/"),
            "login_link_minutes": _int("LOGIN_LINK_MINUTES", 10),
            "web_page_size": _int("WEB_PAGE_SIZE", 50),
            "web_refresh_seconds": _int("WEB_REFRESH_SECONDS", 20),
            "celery_broker_url": broker,
            "celery_queue": os.environ.get("CELERY_QUEUE") or "incident-engine",
            "fitness_queue": os.environ.get("FITNESS_QUEUE") or "incident-engine-fitness",
            "scheduler": scheduler,
            "timer_tick_seconds": _float("TIMER_TICK_SECONDS", 10.0),
            "timer_batch": _int("TIMER_BATCH", 100),
            "task_time_limit": _int("TASK_TIME_LIMIT", 120),
            "task_max_retries": _int("TASK_MAX_RETRIES", 5),
            "outbox_topics": parse_topics(os.environ["OUTBOX_TOPICS"]) if "OUTBOX_TOPICS" in os.environ
            else dict(BUNDLED_TOPICS),
            "outbox_webhook_secret": _optional("OUTBOX_WEBHOOK_SECRET"),
            "outbox_max_attempts": _int("OUTBOX_MAX_ATTEMPTS", 8),
            "outbox_backoff_seconds": _float("OUTBOX_BACKOFF_SECONDS", 5.0),
            "outbox_backoff_max_seconds": _float("OUTBOX_BACKOFF_MAX_SECONDS", 3600.0),
            "outbox_timeout_seconds": _float("OUTBOX_TIMEOUT_SECONDS", 10.0),
            "outbox_lease_seconds": _float("OUTBOX_LEASE_SECONDS", 60.0),
            "outbox_batch": _int("OUTBOX_BATCH", 20),
            "smtp_host": _optional("SMTP_HOST"),
            "smtp_port": _int("SMTP_PORT", 587),
            "smtp_user": _optional("SMTP_USER"),
            "smtp_password": _optional("SMTP_PASSWORD"),
            "smtp_from": os.environ.get("SMTP_FROM") or "incident-engine@localhost",
            "smtp_starttls": os.environ.get("SMTP_STARTTLS", "1") not in ("0", "false", "no"),
            "fitness_max_failures": _int("FITNESS_MAX_FAILURES", 0),
            "fitness_p95_ms": _int("FITNESS_P95_MS", 500),
            "fitness_require_settled": os.environ.get("FITNESS_REQUIRE_SETTLED", "1") not in ("0", "false", "no"),
            "fitness_min_arrival_ratio": float(os.environ.get("FITNESS_MIN_ARRIVAL_RATIO") or 0.9),
            "fitness_default_duration_s": _int("FITNESS_DEFAULT_DURATION", 60),
            "fitness_drain_s": _int("FITNESS_DRAIN_SECONDS", 0),
            "fitness_pass_probability": float(os.environ.get("FITNESS_PASS_PROBABILITY") or 0.8),
            "fitness_admin_database_url": os.environ.get("FITNESS_ADMIN_DATABASE_URL") or None,
            "metrics_token": os.environ.get("METRICS_TOKEN") or None,
            "metrics_allow_networks": _networks("METRICS_ALLOW_NETWORKS", cls.metrics_allow_networks),
            "monitoring_margin": _float("MONITORING_MARGIN", 0.1),
            "monitoring_min_sample": _int("MONITORING_MIN_SAMPLE", 5),
            "monitoring_window_days": _int("MONITORING_WINDOW_DAYS", 30),
            "test_incident_retention_days": _float("TEST_INCIDENT_RETENTION_DAYS", 7.0),
            "test_incident_purge_seconds": _float("TEST_INCIDENT_PURGE_SECONDS", 3600.0),
            "bootstrap_fitness_seconds": _int("BOOTSTRAP_FITNESS_SECONDS", 8),
            "signal_batch": _int("SIGNAL_BATCH", 100),
        }
        values["audit_hmac_key"] = _optional("AUDIT_HMAC_KEY")
        values["database_role"] = _optional("DATABASE_ROLE")
        values["personal_data_retention"] = os.environ.get("PERSONAL_DATA_RETENTION") or "P2Y"
        values["retention_job_seconds"] = _float("RETENTION_JOB_SECONDS", 3600.0)
        values["basic_credentials_file"] = _path("BASIC_CREDENTIALS_FILE")
        values["external_task_topics"] = _networks("EXTERNAL_TASK_TOPICS", ("*",))
        values["long_poll_max_waiters"] = _int("LONG_POLL_MAX_WAITERS", 64)
        database_url = str(values["database_url"])
        values["bootstrap_bundled"] = os.environ.get(
            "BOOTSTRAP_BUNDLED", "1" if database_url.startswith("sqlite") else "0") not in ("0", "false", "no")
        if os.environ.get("FITNESS_WORK_DIR"):
            values["fitness_work_dir"] = Path(os.environ["FITNESS_WORK_DIR"])
        if os.environ.get("BUNDLED_BPMN_DIR"):
            values["bundled_dir"] = Path(os.environ["BUNDLED_BPMN_DIR"])
        values.update(overrides)
        settings = cls(**values)  # type: ignore[arg-type]
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse settings that would make delivery unsafe (a lease shorter than a delivery attempt)."""
        if self.outbox_lease_seconds <= self.outbox_timeout_seconds:
            raise ValueError("OUTBOX_LEASE_SECONDS must be longer than OUTBOX_TIMEOUT_SECONDS, or a slow "
                             "delivery would be taken over and sent twice")
        mailing = [t.name for t in self.outbox_topics.values() if t.email_to]
        if mailing and not self.smtp_host:
            raise ValueError(f"OUTBOX_TOPICS {', '.join(mailing)} send e-mail, but SMTP_HOST is not set")
        if min(self.transition_wall_ms, self.transition_cpu_ms, self.automatic_step_cap, self.max_state_bytes,
               self.max_task_data_bytes, self.cycle_cap, self.max_elements, self.max_nesting, self.max_page_bytes) < 1:
            raise ValueError("TRANSITION_WALL_MS, TRANSITION_CPU_MS, AUTOMATIC_STEP_CAP, MAX_STATE_BYTES, "
                             "MAX_TASK_DATA_BYTES, CYCLE_CAP, MAX_ELEMENTS, MAX_NESTING and MAX_PAGE_BYTES must be positive")
        if self.oidc_issuer and not self.oidc_client_id:
            raise ValueError("OIDC_ISSUER is set but OIDC_CLIENT_ID is not: the web sign-in needs both")
        if self.web_cookie_secure not in ("auto", "always", "never"):
            raise ValueError("WEB_COOKIE_SECURE must be auto, always or never")
        if not 1 <= self.login_link_minutes <= 60 or not 1 <= self.web_page_size <= 200:
            raise ValueError("LOGIN_LINK_MINUTES must be 1 to 60 and WEB_PAGE_SIZE 1 to 200")
        if self.signal_batch < 1:
            raise ValueError("SIGNAL_BATCH must be at least 1")
        if self.outbox_max_attempts < 1 or self.timer_tick_seconds <= 0:
            raise ValueError("OUTBOX_MAX_ATTEMPTS must be at least 1 and TIMER_TICK_SECONDS positive")
        from engine.calendar import parse_duration  # a bad default retention stops start-up, not the job

        parse_duration(self.personal_data_retention, datetime(2000, 1, 1, tzinfo=UTC))
        if self.retention_job_seconds <= 0:
            raise ValueError("RETENTION_JOB_SECONDS must be positive")
        if self.test_incident_retention_days < 0 or self.test_incident_purge_seconds <= 0:
            raise ValueError("TEST_INCIDENT_RETENTION_DAYS must not be negative and TEST_INCIDENT_PURGE_SECONDS "
                             "must be positive")
