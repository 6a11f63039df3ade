"""Retry policy: transient errors are retried with backoff, 429 waits at least Retry-After,
permanent errors are not retried, and cancelling interrupts a wait."""

from __future__ import annotations

import threading

import pytest

from cogflow_desktop.sync.client import RemoteError
from cogflow_desktop.sync.retry import Cancelled, RetryPolicy, call

FAST = RetryPolicy(max_attempts=4, base_seconds=0.001, cap_seconds=0.01)


class Flaky:
    def __init__(self, errors: list[RemoteError]) -> None:
        self.errors = errors
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def test_transient_errors_are_retried_until_success() -> None:
    fn = Flaky([RemoteError("cut off", retryable=True) for _ in range(3)])
    assert call(fn, FAST, threading.Event()) == "ok"
    assert fn.calls == 4


def test_attempts_run_out_with_the_last_reason() -> None:
    fn = Flaky([RemoteError(f"down {i}", retryable=True) for i in range(10)])
    with pytest.raises(RemoteError, match="down 3"):
        call(fn, FAST, threading.Event())
    assert fn.calls == 4


def test_permanent_errors_are_not_retried() -> None:
    fn = Flaky([RemoteError("refused", status=400, retryable=False)])
    with pytest.raises(RemoteError, match="refused"):
        call(fn, FAST, threading.Event())
    assert fn.calls == 1


def test_throttling_waits_at_least_retry_after() -> None:
    assert FAST.delay(1, 2.0) >= 2.0
    assert all(0 <= FAST.delay(a, None) <= FAST.cap_seconds for a in range(1, 30))
    too_long = RemoteError("slow down", status=429, retryable=True, retry_after=3600)
    fn = Flaky([too_long])
    with pytest.raises(RemoteError, match="slow down"):
        call(fn, FAST, threading.Event())
    assert fn.calls == 1


def test_cancel_interrupts_the_backoff_wait() -> None:
    slow = RetryPolicy(max_attempts=5, base_seconds=60, cap_seconds=60)
    cancel = threading.Event()
    fn = Flaky([RemoteError("cut off", retryable=True, retry_after=60)])
    threading.Timer(0.2, cancel.set).start()
    # Without the cancel the wait would end and the second call succeed: no Cancelled.
    with pytest.raises(Cancelled):
        call(fn, slow, cancel)
    assert fn.calls == 1
