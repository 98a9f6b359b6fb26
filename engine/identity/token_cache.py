"""Remembering verified bearer tokens, so an agent desktop's every request does not pay for a JWT decode.

Keyed by the token's SHA-256 (the token itself is never kept), bounded (least recently used goes first),
an entry is used only before the token's `exp` (no leeway) and only while the verification keys are the
ones that verified it: a rotated JWKS file clears the cache. Only immutable things are kept (a Principal
for a token), so a process may hold it (DESIGN.md, "Caches hold only immutable things").
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from .principal import Principal


class VerifiedTokens:
    """token digest -> (Principal, exp as epoch seconds), for tokens verified under one key generation."""

    def __init__(self, size: int, clock: Callable[[], float] = time.time) -> None:
        self.size = size
        self._clock = clock
        self._entries: OrderedDict[bytes, tuple[Principal, float]] = OrderedDict()
        self._generation: Hashable = None
        self._lock = threading.Lock()

    @staticmethod
    def _digest(token: str) -> bytes:
        return hashlib.sha256(token.encode()).digest()

    def get(self, token: str, generation: Hashable) -> Principal | None:
        if self.size <= 0:
            return None
        key = self._digest(token)
        with self._lock:
            if generation != self._generation:
                self._entries.clear()
                self._generation = generation
                return None
            found = self._entries.get(key)
            if found is None:
                return None
            principal, exp = found
            if self._clock() >= exp:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return principal

    def put(self, token: str, generation: Hashable, principal: Principal, exp: float) -> None:
        if self.size <= 0 or self._clock() >= exp:
            return
        key = self._digest(token)
        with self._lock:
            if generation != self._generation:
                self._entries.clear()
                self._generation = generation
            self._entries[key] = (principal, exp)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
