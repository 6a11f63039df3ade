"""A system clock set back (by hand, or by NTP) must not extend a researcher's MFA freshness:
the window is also measured on a clock that only moves forward. The jump is faked by moving
the wall clock the server reads back by an hour."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from conftest import LiveServer, enrolled_researcher, start_live_server, stop_live_server
from fault_helpers import checkpoint, publish_and_start, trial

from cogflow_desktop.services import auth, clock

WINDOW = 2  # seconds of MFA freshness in this test


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_live_server(tmp_path_factory.mktemp("clock"), mfa_reauth_seconds=WINDOW)
    yield live
    stop_live_server(live)


def _decrypt(http, url: str, run_id: str) -> int:  # type: ignore[no-untyped-def]
    resp = http.post(
        f"{url}/api/v1/results/decrypt", json={"run_session_id": run_id}, timeout=60
    )
    return int(resp.status_code)


def test_setting_the_clock_back_does_not_extend_mfa_freshness(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = publish_and_start(server.url)
    assert checkpoint(server.url, run_id, [trial(0)], 0).status_code == 200
    researcher = enrolled_researcher(server)
    assert _decrypt(researcher, server.url, run_id) == 200  # fresh right after the code

    real = auth.utcnow
    monkeypatch.setattr(auth, "utcnow", lambda: real() - timedelta(hours=1))  # clock set back
    started = clock.elapsed()
    while clock.elapsed() - started < WINDOW + 0.5:
        time.sleep(0.1)
    # By the wall clock the code was verified an hour in the future: still "fresh". It is not.
    assert _decrypt(researcher, server.url, run_id) == 403


def test_the_elapsed_clock_never_goes_back() -> None:
    readings = [clock.elapsed() for _ in range(1000)]
    assert readings == sorted(readings)
