"""Serving the app on a free local port for page tests (requests as the browser, or headless Chromium)."""
from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.services.engine_app import IncidentEngine
from tests.conftest import make_settings


@dataclass
class Served:
    base: str
    engine: IncidentEngine


@contextmanager
def serve(tmp_path: Path, template: Path, **settings: Any) -> Iterator[Served]:
    """The app on a copy of the migrated SQLite template, served by werkzeug (threaded) on 127.0.0.1."""
    from werkzeug.serving import make_server

    from api import create_app

    db = tmp_path / "web.sqlite3"
    shutil.copy(template, db)
    engine = IncidentEngine(make_settings(f"sqlite:///{db}", instance_dir=tmp_path / "instance", **settings))
    httpd = make_server("127.0.0.1", 0, create_app(engine.settings, engine), threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(f"http://127.0.0.1:{httpd.server_port}", engine)
    finally:
        httpd.shutdown()
        thread.join(timeout=10)
        engine.db.dispose()


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    match = _CSRF.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def chromium_driver(width: int = 1366, height: int = 1000) -> Any:
    """Headless Chromium (Debian's chromium and chromium-driver) with the house flags and the console log kept."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    assert Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists(), \
        "install chromium and chromium-driver (scripts/test.sh does)"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--no-first-run", f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
