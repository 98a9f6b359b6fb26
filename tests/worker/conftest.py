"""Fixtures for tests with real Celery workers: a Redis database per xdist worker and a queue per test."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import redis

REDIS_BASE = os.environ.get("INCIDENT_ENGINE_TEST_REDIS", "redis://127.0.0.1:6379")
# Parallel checkouts on one machine pass a different INCIDENT_ENGINE_TEST_REDIS_DB so they never flush each other.
REDIS_DB_BASE = int(os.environ.get("INCIDENT_ENGINE_TEST_REDIS_DB", "10"))
RABBITMQ_URL = os.environ.get("INCIDENT_ENGINE_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672//")


@pytest.fixture
def redis_url(worker_id: str) -> Iterator[str]:
    """A Redis database of its own for this xdist worker (10, 11, ...), empty before and after the test."""
    index = int(worker_id[2:]) if worker_id.startswith("gw") else 0
    url = f"{REDIS_BASE}/{REDIS_DB_BASE + index}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def queue() -> str:
    return f"ie-test-{uuid.uuid4().hex[:10]}"
