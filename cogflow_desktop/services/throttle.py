"""Failed-attempt throttling (logins, TOTP codes) per account and per client."""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque

from cogflow_desktop.services.errors import Throttled


class FailureThrottle:
    def __init__(self, limit: int, window_seconds: int) -> None:
        self.limit = limit
        self.window = window_seconds
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _prune(self, key: str, now: float) -> deque[float]:
        q = self._failures[key]
        while q and q[0] <= now - self.window:
            q.popleft()
        return q

    def check(self, *keys: str) -> None:
        """Raise Throttled if any key has used up its failures in the window."""
        now = time.monotonic()
        with self._lock:
            for key in keys:
                q = self._prune(key, now)
                if len(q) >= self.limit:
                    raise Throttled(max(1, math.ceil(q[0] + self.window - now)))

    def fail(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._prune(key, now).append(now)

    def reset(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)
