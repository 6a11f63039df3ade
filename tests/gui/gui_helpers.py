"""Helpers the GUI tests share: a researcher account with TOTP, an in-memory keyring."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pyotp

from cogflow_desktop.gui.researcher import ResearcherSession
from cogflow_desktop.gui.runtime import AppRuntime
from cogflow_desktop.services import users

RESEARCHER = "lab-researcher"
PASSWORD = "a long lab password"
COMPAT_CONFIGS = Path(__file__).resolve().parents[1] / "fixtures" / "compat" / "configs"
FLANKER = COMPAT_CONFIGS / "ABC1234-flanker-01.json"
WAIT_MS = 30000


class Researcher:
    """A researcher account with an enrolled authenticator, as the wizard leaves it."""

    def __init__(self, runtime: AppRuntime) -> None:
        created = users.create_user(runtime.ctx, RESEARCHER, PASSWORD)
        self.recovery_key = created.recovery_key
        session = ResearcherSession(runtime.ctx)
        session.sign_in(RESEARCHER, PASSWORD)
        self.totp = pyotp.TOTP(session.enrol_totp().secret)
        session.verify_code(self.totp.now())
        session.sign_out()

    def next_code(self) -> str:
        """The next step's code: enrolment used this step's, and each step is accepted once
        (one step of drift is allowed, so this works once per test)."""
        return self.totp.at(time.time() + 30)


def record_run(
    runtime: AppRuntime, slug: str, participant: str, trials: int, submit: str | None = None
) -> str:
    """A run recorded through the same services the Interpreter's requests reach."""
    from cogflow_desktop.services import runs

    started = runs.start_run(runtime.ctx, slug, participant, actor="anonymous", client="test")
    run_id = started["run_session_id"]
    rows = [
        {"trial_index": i, "rt_ms": 300 + i, "response": "f", "correct": i % 2 == 0}
        for i in range(trials)
    ]
    runs.checkpoint(
        runtime.ctx,
        runs.CheckpointRequest(run_id, "t", trials, trials, {"partial": True}, rows),
        actor="anonymous",
        client="test",
    )
    if submit:
        runs.submit(
            runtime.ctx,
            runs.SubmitRequest(run_id, submit, trials, {"n": trials}, {"done": True}, rows),
            actor="anonymous",
            client="test",
        )
    return run_id


_NOTHING = object()


def run_js(qtbot: Any, page: Any, script: str, timeout: int = WAIT_MS) -> Any:
    """Run a script in the page and wait for its value (QtWebEngine answers asynchronously)."""
    box: list[Any] = [_NOTHING]
    page.runJavaScript(script, 0, lambda value: box.__setitem__(0, value))
    qtbot.waitUntil(lambda: box[0] is not _NOTHING, timeout=timeout)
    return box[0]


def wait_js(
    qtbot: Any, page: Any, script: str, predicate: Any = bool, timeout: int = WAIT_MS
) -> Any:
    """Evaluate the script until predicate(value) holds; fail after `timeout` ms."""
    deadline = time.monotonic() + timeout / 1000
    while True:
        value = run_js(qtbot, page, script)
        if predicate(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{script!r} never satisfied the condition; last {value!r}")
        qtbot.wait(100)


ROOT_STATE_JS = "String(document.getElementById('cogflow-root')?.dataset.cogflowState)"
ROWS_JS = "window.cogflowRun ? window.cogflowRun.rows.length : -1"


def answer_trials(qtbot: Any, kiosk: Any, count: int, timeout: int = 90000) -> int:
    """Press keys as a participant would (into the view's focus proxy) until the run has
    recorded `count` trials."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    wait_js(qtbot, kiosk.page, ROOT_STATE_JS, lambda v: v == "running")
    wait_js(qtbot, kiosk.page, "document.body.innerText.includes('Press F')")
    deadline = time.monotonic() + timeout / 1000
    rows = -1
    while time.monotonic() < deadline:
        target = kiosk.view.focusProxy() or kiosk.view
        QTest.keyClick(target, Qt.Key.Key_F)  # F also passes the instructions (any key)
        qtbot.wait(150)
        rows = run_js(qtbot, kiosk.page, ROWS_JS)
        if rows >= count:
            return int(rows)
    raise AssertionError(f"only {rows} trial(s) recorded after {timeout} ms of key presses")


CENTRAL_ADMIN = "central-admin"
CENTRAL_PASSWORD = "central admin password"


class CentralServer:
    """A second server standing in for the lab's central one: its own data folder and
    database, a real server on a loopback port, one account that sync logs in with."""

    def __init__(self, data_dir: Path) -> None:
        from cogflow_desktop.api.server import EmbeddedServer
        from cogflow_desktop.services.context import open_context
        from cogflow_desktop.settings import Settings

        self.ctx = open_context(Settings.from_env(data_dir, extra_origins=()))
        users.create_user(self.ctx, CENTRAL_ADMIN, CENTRAL_PASSWORD)
        self.server = EmbeddedServer(self.ctx, port=0).start()
        self.url = self.server.url

    def stop(self) -> None:
        self.server.stop()
        self.ctx.close()


def click_in_box(object_name: str, button_text: str, timeout_ms: int = WAIT_MS) -> list[str]:
    """Click a button of the modal message box named `object_name` once it is up (it runs its
    own event loop, so this is scheduled before the call that opens it). Returns the box's text
    in a list, filled once clicked."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    seen: list[str] = []
    deadline = time.monotonic() + timeout_ms / 1000

    def poll() -> None:
        box = next(
            (
                w
                for w in QApplication.topLevelWidgets()
                if isinstance(w, QMessageBox) and w.objectName() == object_name and w.isVisible()
            ),
            None,
        )
        if box is None:
            if time.monotonic() < deadline:
                QTimer.singleShot(50, poll)
            return
        seen.append(box.text())
        for button in box.buttons():
            if button.text() == button_text:
                button.click()
                return
        raise AssertionError(f"no button {button_text!r} in {object_name}")

    QTimer.singleShot(0, poll)
    return seen
