"""Retrying transient failures: exponential backoff with full jitter, 429 waits honoured,
and a cancellation event that interrupts any wait."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from cogflow_desktop.sync.client import RemoteError

T = TypeVar("T")
log = logging.getLogger(__name__)


class Cancelled(Exception):
    """The sync was cancelled; the run keeps the state it reached."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_seconds: float = 0.5
    cap_seconds: float = 30.0
    # A server asking us to wait longer than this is treated as unavailable for now.
    max_retry_after: float = 120.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        backoff = random.uniform(0, min(self.cap_seconds, self.base_seconds * 2 ** (attempt - 1)))
        return backoff if retry_after is None else max(retry_after, backoff)


def call(fn: Callable[[], T], policy: RetryPolicy, cancel: threading.Event) -> T:
    """fn() until it succeeds, a permanent error, or the attempts run out (the last error)."""
    attempt = 0
    while True:
        if cancel.is_set():
            raise Cancelled
        try:
            return fn()
        except RemoteError as exc:
            attempt += 1
            if not exc.retryable or attempt >= policy.max_attempts:
                raise
            if exc.retry_after is not None and exc.retry_after > policy.max_retry_after:
                raise
            wait = policy.delay(attempt, exc.retry_after)
            log.info("retrying in %.2f s (attempt %d): %s", wait, attempt, exc.reason)
            if cancel.wait(wait):
                raise Cancelled from exc
