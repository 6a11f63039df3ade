"""Failed-attempt throttling (passwords, TOTP codes).

Each key (an account seen through one kind of client, a client address, ...) has tiers of
limits: so many failures a minute, more an hour, more a day. Reaching a tier makes the caller
wait until enough of its failures have aged out of that tier's window, so a steady guesser is
slowed from seconds to hours (tiered back-off). An attempt holds a slot from the moment it is
let in until its outcome is known: parallel attempts cannot slip past the limit while the
slow password hash of the others is still running.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from cogflow_desktop.services.errors import Throttled

Clock = Callable[[], float]


@dataclass(frozen=True)
class Tier:
    limit: int
    window_seconds: float


def standard_tiers(per_minute: int, minute_seconds: float = 60) -> tuple[Tier, ...]:
    """`per_minute` failures a minute, three times that an hour, ten times that a day."""
    return (
        Tier(per_minute, minute_seconds),
        Tier(3 * per_minute, 3600),
        Tier(10 * per_minute, 86400),
    )


class FailureThrottle:
    def __init__(self, tiers: Sequence[Tier], clock: Clock | None = None) -> None:
        self.tiers = tuple(sorted(tiers, key=lambda t: t.window_seconds))
        self._clock = clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._in_flight: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._clock() if self._clock is not None else time.monotonic()

    def _prune(self, key: str, now: float) -> deque[float]:
        q = self._failures[key]
        longest = self.tiers[-1].window_seconds
        while q and q[0] <= now - longest:
            q.popleft()
        return q

    def _wait(self, key: str, now: float) -> int | None:
        """Seconds until `key` may try again, or None if it may now."""
        q = self._prune(key, now)
        in_flight = self._in_flight.get(key, 0)
        wait = 0.0
        for tier in self.tiers:
            recent = [t for t in q if t > now - tier.window_seconds]
            excess = len(recent) + in_flight - tier.limit + 1
            if excess <= 0:
                continue
            if excess > len(recent):  # the slots are held by attempts still running
                wait = max(wait, 1.0)
            else:  # the moment enough of this tier's failures have aged out
                wait = max(wait, recent[excess - 1] + tier.window_seconds - now)
        return max(1, math.ceil(wait)) if wait > 0 else None

    def attempt(self, *keys: str) -> Attempt:
        """Let one attempt in for all `keys`, or raise Throttled (with the wait)."""
        now = self.now()
        with self._lock:
            waits = [w for w in (self._wait(k, now) for k in keys) if w is not None]
            if waits:
                raise Throttled(max(waits))
            for key in keys:
                self._in_flight[key] += 1
        return Attempt(self, keys)

    def check(self, *keys: str) -> None:
        """Raise Throttled if any key may not try now (nothing is held)."""
        self.attempt(*keys).release()

    def _settle(self, keys: Iterable[str], failed: bool, reset: Iterable[str] = ()) -> None:
        now = self.now()
        with self._lock:
            for key in keys:
                self._in_flight[key] -= 1
                if self._in_flight[key] <= 0:
                    del self._in_flight[key]
                if failed:
                    self._prune(key, now).append(now)
            for key in reset:
                self._failures.pop(key, None)

    def record_past_failure(self, key: str, seconds_ago: float) -> None:
        """A failure from before this process started (seeded from the audit log)."""
        with self._lock:
            q = self._failures[key]
            q.append(self.now() - max(0.0, seconds_ago))
            if len(q) > 1 and q[-2] > q[-1]:
                self._failures[key] = deque(sorted(q))

    def reset(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


class Attempt:
    """One attempt's held slot: settle it exactly once as failed, succeeded or released."""

    def __init__(self, throttle: FailureThrottle, keys: tuple[str, ...]) -> None:
        self._throttle = throttle
        self._keys = keys
        self._open = True

    def _close(self, failed: bool, reset: Iterable[str] = ()) -> None:
        if self._open:
            self._open = False
            self._throttle._settle(self._keys, failed, reset)

    def failed(self) -> None:
        self._close(True)

    def succeeded(self, reset: Iterable[str] = ()) -> None:
        self._close(False, reset)

    def release(self) -> None:
        """Neither outcome (the attempt could not be judged): free the slot."""
        self._close(False)
