"""The end-of-run summary of a load test: this run's incidents still open, counted through the API.

Plain standard library (urllib), so these requests are not recorded in Locust's statistics.
"""
from __future__ import annotations

import json
import urllib.request
from collections.abc import Collection
from typing import Any


def still_open(host: str, procedure: str, own: Collection[str], token: str | None = None,
               test: bool = True) -> dict[str, int]:
    """How many of the incidents in `own` (test incidents, unless `test` is false) are still `running`, and
    how many ended in `error`."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    counts = {"running": 0, "error": 0}
    for status in counts:
        cursor = ""
        while True:
            url = (f"{host.rstrip('/')}/api/v1/incidents?procedure={procedure}&status={status}&limit=500"
                   f"&test={'true' if test else 'false'}{cursor}")
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as answer:
                page = json.loads(answer.read())
            counts[status] += sum(1 for item in page["items"] if item["id"] in own)
            if not page.get("next_cursor"):
                break
            cursor = f"&cursor={page['next_cursor']}"
    return counts


def summarize(counts: dict[str, Any], host: str, procedure: str, own: Collection[str],
              token: str | None = None, path: str = "", test: bool = True) -> dict[str, Any]:
    """The counters of the run plus the open incidents; written as JSON to `path` when one is given."""
    summary: dict[str, Any] = dict(counts)
    try:
        summary.update(still_open(host, procedure, own, token, test))
    except Exception as err:  # noqa: BLE001 - the summary is best effort; the run itself is over
        summary["count_error"] = str(err)
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(summary, handle)
    return summary
