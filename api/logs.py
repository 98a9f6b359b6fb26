"""Structured JSON logs, one object per line, with the request's method, path, status and duration."""
from __future__ import annotations

import json
import logging
import time
from typing import Any

from flask import Flask, Response, g, request


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname,
            "logger": record.name, "message": record.getMessage(),
        }
        for key in ("method", "path", "status", "duration_ms", "actor"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure(app: Flask, level: str) -> None:
    root = logging.getLogger()
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("spiff").setLevel(logging.WARNING)
    access = logging.getLogger("incident_engine.access")

    @app.before_request
    def _start_timer() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def _log_request(response: Response) -> Response:
        started = g.get("started")
        if started is not None:
            access.info("request", extra={
                "method": request.method, "path": request.path, "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2), "actor": g.get("actor")})
        return response
