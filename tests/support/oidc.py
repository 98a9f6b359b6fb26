"""A real OpenID Connect provider for sign-in tests: oidc-provider-mock (a test extra) as its own process.

The provider signs ID tokens with a key it makes at start-up (restart it on the same port and the keys
rotate), lets a test define a user's claims (PUT /users/<sub>), and shows a login form that takes a `sub`.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Provider:
    issuer: str
    port: int
    process: subprocess.Popen[bytes]

    def set_user(self, sub: str, **claims: Any) -> None:
        request = urllib.request.Request(f"{self.issuer}/users/{sub}", data=json.dumps(claims).encode(),
                                         method="PUT", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 204

    def discovery(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.issuer}/.well-known/openid-configuration", timeout=10) as r:
            return dict(json.load(r))


def _start(port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.Popen([sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(port),
                             "--require-nonce", "--token-max-age", "600"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)


def _wait(issuer: str, process: subprocess.Popen[bytes], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the OIDC provider exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration", timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the OIDC provider did not start within 30 s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def running_provider(port: int | None = None) -> Iterator[Provider]:
    """The provider on 127.0.0.1:<port> (a free one by default), stopped afterwards."""
    port = port or free_port()
    issuer = f"http://127.0.0.1:{port}"
    process = _start(port)
    provider = Provider(issuer, port, process)
    try:
        _wait(issuer, process)
        yield provider
    finally:
        _stop(provider.process)


def restart(provider: Provider) -> None:
    """Stop and start the provider on the same port: it comes back with new signing keys (and no users)."""
    _stop(provider.process)
    provider.process = _start(provider.port)
    _wait(provider.issuer, provider.process)
