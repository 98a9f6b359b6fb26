"""The `incident-engine` command: serve, migrate, deploy."""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.config import Settings


def _prepare(settings: Settings) -> None:
    """Bring the schema up to date and deploy the bundled procedures (no-ops when already done)."""
    from engine.db.migrate import upgrade
    from engine.services.engine_app import IncidentEngine
    from engine.services.procedures import deploy_directory

    upgrade(settings.database_url)
    if settings.deploy_bundled and settings.bundled_dir.is_dir():
        engine = IncidentEngine(settings)
        try:
            for row in deploy_directory(engine, settings.bundled_dir):
                print(f"procedure {row['key']} v{row['version']} ready", file=sys.stderr)
        finally:
            engine.db.dispose()


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


def _serve(args: argparse.Namespace) -> int:
    from gunicorn.app.base import BaseApplication

    settings = Settings.from_env()
    _prepare(settings)
    _metrics_directory(settings)
    sqlite = settings.database_url.startswith("sqlite")
    options: dict[str, Any] = {
        "bind": f"{args.host}:{args.port}",
        "workers": args.workers or (1 if sqlite else 2),
        "threads": args.threads,
        "worker_class": "gthread",
        "timeout": 60,
        "accesslog": None,
        "errorlog": "-",
        "child_exit": _child_exit,
    }

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            from api import create_app

            return create_app(settings)

    Server().run()
    return 0


def _migrate(_args: argparse.Namespace) -> int:
    from engine.db.migrate import upgrade

    upgrade(Settings.from_env().database_url)
    return 0


def _deploy(args: argparse.Namespace) -> int:
    from engine.services.engine_app import IncidentEngine
    from engine.services.procedures import deploy

    engine = IncidentEngine(Settings.from_env())
    for path in args.files:
        with open(path, "rb") as handle:
            row, created = deploy(engine, handle.read(), process=args.process, actor=args.actor)
        print(f"{path}: {row['key']} v{row['version']} {'created' if created else 'unchanged'}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="incident-engine", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="migrate, deploy the bundled procedures and serve the API (gunicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=0, help="default: 1 on SQLite, 2 on PostgreSQL")
    serve.add_argument("--threads", type=int, default=8)
    serve.set_defaults(func=_serve)
    sub.add_parser("migrate", help="bring the database schema up to date").set_defaults(func=_migrate)
    dep = sub.add_parser("deploy", help="upload BPMN files as new procedure versions")
    dep.add_argument("files", nargs="+")
    dep.add_argument("--process", default=None)
    dep.add_argument("--actor", default="cli")
    dep.set_defaults(func=_deploy)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
