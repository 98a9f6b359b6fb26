"""GET /metrics in the Prometheus text format, for a scraper holding METRICS_TOKEN or on an allowed network.

Access: `Authorization: Bearer <METRICS_TOKEN>` (compared in constant time) when METRICS_TOKEN is set, or a
client address inside METRICS_ALLOW_NETWORKS (default 127.0.0.1/32 and ::1/128; empty allows no network).
Behind a reverse proxy the client address is the proxy's: use the token there.
"""
from __future__ import annotations

import hmac
import ipaddress
import os
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.registry import Collector

from . import prom
from .db_collector import DatabaseCollector
from .extensions import engine
from .problems import problem

blp = Blueprint("metrics", __name__)


class _ProcessMetrics(Collector):
    """This process's own registry (single-process mode)."""

    def collect(self) -> Iterator[Any]:
        yield from REGISTRY.collect()


def _allowed() -> Response | None:
    settings = engine().settings
    header = request.headers.get("Authorization", "")
    if settings.metrics_token and header.startswith("Bearer ") and hmac.compare_digest(
            header[len("Bearer "):].strip().encode(), settings.metrics_token.encode()):
        return None
    try:
        client = ipaddress.ip_address(request.remote_addr or "")
        if any(client in ipaddress.ip_network(n, strict=False) for n in settings.metrics_allow_networks):
            return None
    except ValueError:
        pass
    if settings.metrics_token:
        return problem(401, "Unauthorized", "send Authorization: Bearer <METRICS_TOKEN>",
                       headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    return problem(403, "Forbidden", "the client's network is not in METRICS_ALLOW_NETWORKS")


def registry() -> CollectorRegistry:
    """What a scrape exports: this process's metrics (or every worker's, in multiprocess mode) plus the
    database gauges."""
    combined = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(combined)
    else:
        combined.register(_ProcessMetrics())
    combined.register(DatabaseCollector(engine()))
    return combined


@blp.get("/metrics")
def metrics() -> Response:
    refused = _allowed()
    if refused is not None:
        return refused
    return Response(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)


def instrument(app: Flask) -> None:
    """Count the engine's commits and time every request by endpoint (the URL rule) and status."""
    prom.install()

    @app.before_request
    def _start() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.pop("metrics_started", None)
        if started is not None:
            rule = request.url_rule.rule if request.url_rule is not None else "unmatched"
            prom.HTTP_LATENCY.labels(request.method, rule, str(response.status_code)).observe(
                time.perf_counter() - started)
        return response
