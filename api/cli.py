"""The `incident-engine` command: serve, migrate, deploy, bootstrap, worker, beat, and sign development tokens."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.config import Settings


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _prepare(settings: Settings) -> None:
    """Bring the schema up to date and deploy the bundled procedures (no-ops when already done); with
    BOOTSTRAP_BUNDLED (the embedded default), take those without an active version through governance."""
    from engine.db.migrate import upgrade
    from engine.services.bootstrap import bootstrap_bundled
    from engine.services.engine_app import IncidentEngine
    from engine.services.procedures import deploy_directory

    upgrade(settings.database_url)
    if settings.deploy_bundled and settings.bundled_dir.is_dir():
        engine = IncidentEngine(settings)
        try:
            if settings.bootstrap_bundled:
                bootstrap_bundled(engine, settings.bundled_dir, say=_say)
            else:
                for row in deploy_directory(engine, settings.bundled_dir):
                    _say(f"procedure {row['key']} v{row['version']} ready ({row['status']})")
        finally:
            engine.db.dispose()


def prepare_from_env() -> None:
    """`serve`'s preparing child: the settings from the same environment as the server's."""
    _prepare(Settings.from_env())


def _metrics_directory(settings: Settings) -> None:
    """Prometheus multiprocess mode for gunicorn's workers: PROMETHEUS_MULTIPROC_DIR (default
    <instance>/prometheus), emptied of the previous run's files before any worker starts."""
    directory = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or settings.instance_dir / "prometheus").resolve()
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)


def _child_exit(_server: Any, worker: Any) -> None:
    """gunicorn hook: a worker's live gauges go when it does (its counters stay, merged at scrape)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def gunicorn_options(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    """Gunicorn settings for `serve`. With SCHEDULER=inprocess (no broker), every web worker process also
    runs the in-process scheduler (timers and outbox; single machine only). It starts after the fork, so
    no database connection is ever shared between processes."""
    sqlite = settings.database_url.startswith("sqlite")
    options: dict[str, Any] = {
        "bind": f"{args.host}:{args.port}",
        "workers": args.workers or (1 if sqlite else 2),
        "threads": args.threads,
        # gthread plus parking slots for long-polling fetchAndLock requests (api/serving.py)
        "worker_class": "api.serving.ParkingThreadWorker",
        "timeout": 60,
        # Request limits, chosen: an 8 KB request line (longer URLs get 414), header lines up to 32 KB (a
        # bearer token with a few hundred groups fits; the service refuses tokens over 16 KB itself), at
        # most 100 headers. What gunicorn refuses it answers in problem+json (api/serving.py).
        "limit_request_line": 8190,
        "limit_request_field_size": 32768,
        "limit_request_fields": 100,
        "accesslog": None,
        "errorlog": "-",
        "child_exit": _child_exit,
    }
    def worker_exit(_server: Any, worker: Any) -> None:
        from api.serving import exit_now_if_stopping

        scheduler = getattr(worker, "incident_scheduler", None)
        if scheduler is not None:
            scheduler.stop()
        exit_now_if_stopping(worker)  # Ctrl-C stops serve in about a second, never gunicorn's 30 s

    options["worker_exit"] = worker_exit
    if settings.scheduler == "inprocess":

        def post_worker_init(worker: Any) -> None:
            from workers.inprocess import InProcessScheduler

            worker.incident_scheduler = InProcessScheduler(settings).start()

        options.update(post_worker_init=post_worker_init)
    return options


def _serve(args: argparse.Namespace) -> int:
    from gunicorn.app.base import BaseApplication

    settings = Settings.from_env()
    # Migrations and the bundled deploy run in a child process, so the gunicorn master (and every worker
    # forked from it) does not carry Alembic, the BPMN parser's start-up garbage or a database pool. A plain
    # interpreter, not multiprocessing's spawn: that would leave its resource tracker running beside the
    # server (13 MB) for as long as it serves.
    preparing = subprocess.run([sys.executable, "-c", "from api.cli import prepare_from_env; prepare_from_env()"],
                               stdin=subprocess.DEVNULL, check=False)
    if preparing.returncode:
        print("migration or deploying the bundled procedures failed; not serving", file=sys.stderr)
        return abs(preparing.returncode) or 1
    _metrics_directory(settings)
    from api import serving

    serving.PARKING = settings.long_poll_max_waiters  # inherited by the forked workers
    options = gunicorn_options(settings, args)

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            from api import create_app

            return create_app(settings)

    Server().run()
    return 0


def _worker(args: argparse.Namespace) -> int:
    from workers.celery_app import create_celery

    settings = Settings.from_env()
    if args.fitness:  # Locust runs: their own queue, one at a time in this worker
        argv = ["worker", f"--loglevel={args.loglevel}", f"--queues={settings.fitness_queue}",
                f"--pool={args.pool}", "--concurrency=1", "--prefetch-multiplier=1"]
    else:
        argv = ["worker", f"--loglevel={args.loglevel}", f"--queues={settings.celery_queue}",
                f"--pool={args.pool}"]
        if args.concurrency:
            argv.append(f"--concurrency={args.concurrency}")
    create_celery(settings).worker_main(argv)
    return 0


def _beat(args: argparse.Namespace) -> int:
    from workers.celery_app import create_celery

    settings = Settings.from_env()
    settings.instance_dir.mkdir(parents=True, exist_ok=True)
    create_celery(settings).start(["beat", f"--loglevel={args.loglevel}"])
    return 0


def _migrate(_args: argparse.Namespace) -> int:
    from engine.db.migrate import upgrade

    upgrade(Settings.from_env().database_url)
    return 0


def _bootstrap(_args: argparse.Namespace) -> int:
    """Migrate, then take every bundled procedure without an active version through governance."""
    from engine.db.migrate import upgrade
    from engine.services.bootstrap import bootstrap_bundled
    from engine.services.engine_app import IncidentEngine

    settings = Settings.from_env()
    upgrade(settings.database_url)
    engine = IncidentEngine(settings)
    try:
        outcome = bootstrap_bundled(engine, settings.bundled_dir, say=_say)
    finally:
        engine.db.dispose()
    for key, what in outcome.items():
        print(f"{key}: {what}")
    return 0 if all("not activated" not in what for what in outcome.values()) else 1


def _deploy(args: argparse.Namespace) -> int:
    from engine.services.engine_app import IncidentEngine
    from engine.services.procedures import deploy

    engine = IncidentEngine(Settings.from_env())
    for path in args.files:
        with open(path, "rb") as handle:
            row, created = deploy(engine, handle.read(), process=args.process, actor=args.actor)
        print(f"{path}: {row['key']} v{row['version']} {'created' if created else 'unchanged'}")
    return 0


def _token(args: argparse.Namespace) -> int:
    from engine.identity.keys import KeyConfigError
    from engine.identity.principal import ROLES
    from engine.identity.tokens import issue_token, parse_ttl

    unknown = sorted(set(args.role) - set(ROLES))
    if unknown:
        print(f"unknown role(s) {', '.join(unknown)}; roles are {', '.join(ROLES)}", file=sys.stderr)
        return 2
    try:
        ttl = parse_ttl(args.ttl)
        print(issue_token(Settings.from_env(), user=args.user, roles=args.role, groups=args.group,
                          name=args.name, ttl=ttl, private_key=args.private_key, kid=args.kid))
    except (KeyConfigError, ValueError) as err:
        print(f"cannot sign a token: {err}", file=sys.stderr)
        return 2
    return 0


def _login_link(args: argparse.Namespace) -> int:
    """Print a one-time web sign-in link (the embedded default, with no identity provider configured)."""
    from engine.identity.keys import KeyConfigError, web_secret
    from engine.identity.sign_in_links import issue

    settings = Settings.from_env()
    if settings.oidc_issuer:
        print(f"people sign in through {settings.oidc_issuer}; sign-in links are for the embedded default "
              "(no OIDC_ISSUER)", file=sys.stderr)
        return 2
    try:
        print(issue(web_secret(settings), args.base_url or settings.public_url, user=args.user, roles=args.role,
                    groups=args.group, name=args.name, minutes=args.minutes or settings.login_link_minutes))
    except (KeyConfigError, ValueError) as err:
        print(f"cannot make a sign-in link: {err}", file=sys.stderr)
        return 2
    return 0


def _credentials(args: argparse.Namespace) -> int:
    """Add or replace an HTTP Basic user (for Camunda clients) in the credentials file, password hashed."""
    import getpass

    from engine.identity.credentials import CredentialsError, add_user

    path = args.file or Settings.from_env().basic_credentials_file
    if path is None:
        print("name the file with --file or BASIC_CREDENTIALS_FILE", file=sys.stderr)
        return 2
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("password: ")
    if len(password) < 6:
        print("the password must have at least 6 characters", file=sys.stderr)
        return 2
    try:
        add_user(Path(path), args.user, password, args.role, args.group)
    except CredentialsError as err:
        print(str(err), file=sys.stderr)
        return 2
    print(f"{args.user} written to {path}")
    return 0


def _audit_verify(args: argparse.Namespace) -> int:
    """Recompute the audit hash chains; one line per broken incident (or each, with --verbose); exit 1 if any."""
    from engine.services.audit_chain import verify_all
    from engine.services.engine_app import IncidentEngine

    engine = IncidentEngine(Settings.from_env())
    checked = broken = 0
    try:
        for verdict in verify_all(engine, args.incident):
            checked += 1
            fault = verdict["first_broken"]
            if fault is not None:
                broken += 1
                print(f"{verdict['incident_id']}: BROKEN at chain row {fault['seq']} (audit id {fault['audit_id']}): "
                      f"{fault['reason']}")
            elif args.verbose:
                print(f"{verdict['incident_id']}: ok, {verdict['chained']} chained row(s)"
                      + (f", {verdict['unchained']} written before the chain" if verdict["unchained"] else ""))
    finally:
        engine.db.dispose()
    print(f"{checked} incident chain(s) verified, {broken} broken")
    return 1 if broken else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="incident-engine", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="migrate, deploy the bundled procedures and serve the API (gunicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=0, help="default: 1 on SQLite, 2 on PostgreSQL")
    serve.add_argument("--threads", type=int, default=8)
    serve.set_defaults(func=_serve)
    sub.add_parser("migrate", help="bring the database schema up to date").set_defaults(func=_migrate)
    audit = sub.add_parser("audit", help="the audit trail").add_subparsers(dest="audit_command", required=True)
    verify = audit.add_parser("verify", help="recompute the audit hash chains and report the first broken row")
    verify.add_argument("--incident", default=None, help="only this incident's chain")
    verify.add_argument("--verbose", action="store_true", help="a line for every incident, not only broken ones")
    verify.set_defaults(func=_audit_verify)
    dep = sub.add_parser("deploy", help="upload BPMN files as new procedure versions")
    dep.add_argument("files", nargs="+")
    dep.add_argument("--process", default=None)
    dep.add_argument("--actor", default="cli")
    dep.set_defaults(func=_deploy)
    sub.add_parser("bootstrap", help="take the bundled procedures live through governance (declaration, a real "
                                     "fitness test, approval by incident-engine:bootstrap); serve does this on "
                                     "first start on the embedded default").set_defaults(func=_bootstrap)
    tok = sub.add_parser("token", help="print a signed bearer token for development and tests",
                         description="Signs with JWT_SECRET (or the instance's generated secret) for HS*, "
                                     "or with --private-key for RS*/PS*/ES*; uses the configured claim names, "
                                     "JWT_ISSUER and JWT_AUDIENCE.")
    tok.add_argument("--user", required=True, help="the user id (the `sub` claim)")
    tok.add_argument("--role", action="append", default=[], help="a role; repeat for several")
    tok.add_argument("--group", action="append", default=[], help="a group (lane); repeat for several")
    tok.add_argument("--name", default=None, help="the display name")
    tok.add_argument("--ttl", default="8h", help="lifetime: 8h, 30m, 1d or seconds (default 8h)")
    tok.add_argument("--private-key", type=Path, default=None, help="PEM private key for RS/PS/ES algorithms")
    tok.add_argument("--kid", default=None, help="key id to put in the header (for a JWKS with several keys)")
    tok.set_defaults(func=_token)
    link = sub.add_parser("login-link", help="print a one-time sign-in link for the web pages (no identity "
                                             "provider configured)",
                          description="Signed with WEB_SECRET_KEY (or the instance's generated web secret); "
                                      "works once, for LOGIN_LINK_MINUTES (default 10).")
    link.add_argument("--user", required=True)
    link.add_argument("--role", action="append", default=[], help="a role; repeat for several")
    link.add_argument("--group", action="append", default=[], help="a group (lane); repeat for several")
    link.add_argument("--name", default=None, help="the display name")
    link.add_argument("--minutes", type=int, default=0, help="lifetime (default LOGIN_LINK_MINUTES)")
    link.add_argument("--base-url", default=None, help="the service's address (default PUBLIC_URL)")
    link.set_defaults(func=_login_link)
    cred = sub.add_parser("credentials", help="add an HTTP Basic user for Camunda clients (argon2id hash)")
    cred.add_argument("--file", type=Path, default=None, help="default: BASIC_CREDENTIALS_FILE")
    cred.add_argument("--user", required=True)
    cred.add_argument("--role", action="append", default=[], help="a role; repeat for several")
    cred.add_argument("--group", action="append", default=[],
                      help="a group; for the integration role, a topic it may serve (* for all)")
    cred.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    cred.set_defaults(func=_credentials)
    work = sub.add_parser("worker", help="run a Celery worker (timers, outbox deliveries; with --fitness, "
                                         "fitness tests); needs the broker")
    work.add_argument("--concurrency", type=int, default=0, help="default: one process per CPU")
    work.add_argument("--pool", default="prefork", choices=("prefork", "solo", "threads"))
    work.add_argument("--loglevel", default="INFO")
    work.add_argument("--fitness", action="store_true",
                      help="serve FITNESS_QUEUE instead: fitness tests (Locust runs), one at a time")
    work.set_defaults(func=_worker)
    beat = sub.add_parser("beat", help="run Celery beat: a timer and outbox tick every TIMER_TICK_SECONDS")
    beat.add_argument("--loglevel", default="INFO")
    beat.set_defaults(func=_beat)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
