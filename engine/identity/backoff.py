"""How long a client waits after failed sign-ins: a few free tries, then a delay that doubles, capped.

Pure arithmetic over a failure count; the counts live in the database (sign_in_failures) so that every
API process applies the same back-off.
"""
from __future__ import annotations

import hashlib

FREE_FAILURES = 5  # typing a password wrong a few times costs nothing
FIRST_DELAY_SECONDS = 1.0
MAX_DELAY_SECONDS = 900.0
FORGET_SECONDS = 3600.0  # a key with no failure for this long (and not blocked) starts again from zero


def delay_after(failures: int) -> float:
    """Seconds a client must wait after its `failures`-th consecutive failure (0: it may try again now)."""
    if failures < FREE_FAILURES:
        return 0.0
    return min(MAX_DELAY_SECONDS, FIRST_DELAY_SECONDS * 2.0 ** min(failures - FREE_FAILURES, 32))


def key_of(user: str, address: str | None) -> str:
    """The counter's key: one per user and client address, hashed so that neither is stored in clear."""
    return hashlib.sha256(f"{user}\0{address or '-'}".encode()).hexdigest()
