"""Another program holds the database (a backup, sync or antivirus tool): a second real process
takes an exclusive lock. A write waits for it up to the documented busy timeout, then is
answered 503 with one sentence and Retry-After (it was a 500 after 30 s before); a lock let go
within the timeout only delays the write. Nothing acknowledged is lost."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import LiveServer, enrolled_researcher, start_live_server, stop_live_server
from fault_helpers import assert_one_sentence, checkpoint, publish_and_start, trial

from cogflow_desktop.store.faults import BUSY_TIMEOUT_SECONDS

# The other program: takes the exclusive lock, says so, holds it until told to let go.
LOCKER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], timeout=60, isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
conn.close()
print("released", flush=True)
"""


class Locker:
    def __init__(self, db: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", LOCKER, str(db)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "locked"

    def release(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        if self.proc.poll() is not None:
            return
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline().strip() == "released"
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_live_server(tmp_path_factory.mktemp("locked"))
    yield live
    stop_live_server(live)


def test_a_lock_held_past_the_timeout_is_503_and_nothing_acknowledged_is_lost(
    server: LiveServer,
) -> None:
    url = server.url
    reader = enrolled_researcher(server)
    run_id = publish_and_start(url)
    first = [trial(i) for i in range(5)]
    assert checkpoint(url, run_id, first, 0).status_code == 200

    locker = Locker(server.ctx.settings.db_path)
    try:
        second = [trial(i) for i in range(5, 10)]
        resp = checkpoint(url, run_id, second, 1)  # waits BUSY_TIMEOUT_SECONDS, then gives up
        detail = assert_one_sentence(resp, 503, "another program", "locked")
        assert f"{BUSY_TIMEOUT_SECONDS} seconds" in detail
    finally:
        locker.release()

    again = checkpoint(url, run_id, second, 1)  # the page sends it again: stored
    assert again.status_code == 200, again.text
    stored = reader.decrypt(run_id)
    assert sorted(t["trial_index"] for t in stored["trials"]) == list(range(10))


def test_a_lock_let_go_within_the_timeout_only_delays_the_write(server: LiveServer) -> None:
    url = server.url
    run_id = publish_and_start(url)
    locker = Locker(server.ctx.settings.db_path)
    answers: list[int] = []
    try:
        sender = threading.Thread(
            target=lambda: answers.append(checkpoint(url, run_id, [trial(0)], 0).status_code)
        )
        sender.start()
        sender.join(0.5)  # the request is waiting on the lock (or not yet sent)
        assert not answers  # nothing answered while the other program holds the database
        locker.release()
        sender.join(60)
    finally:
        locker.release()
    assert answers == [200]
