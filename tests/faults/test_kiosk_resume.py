"""The participant's page dies mid-run and the experimenter continues the SAME run (#17): the
test kills the QtWebEngine renderer, chooses "Continue this run from trial N+1" in the kiosk's
dialog, finishes the run, and reads it back as a researcher: one completed run, trial indices
0..N-1 without gap or duplicate, in the order the run's seed determines, the interruption in its
result_payload."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gui_helpers import ROOT_STATE_JS, run_js, wait_js

# QtWebEngine must be imported before the QApplication exists (pytest-qt makes it lazily).
from PySide6.QtWebEngineWidgets import QWebEngineView  # noqa: F401
from PySide6.QtWidgets import QApplication, QMessageBox
from sqlalchemy import func, select

from cogflow_desktop.gui.main_window import MainWindow
from cogflow_desktop.gui.runtime import AppRuntime, start_runtime
from cogflow_desktop.services import results, users
from cogflow_desktop.store.models import RunSession, TrialRecord

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]
SCREENS = 8
PASSWORD = "a long lab password"
# Screens in an order the run's seed decides (randomize_order), each answered with its button.
STUDY = {
    "experiment_type": "trial-based",
    "task_type": "flanker",
    "randomize_order": True,
    "timeline": [
        {"type": "html-button-response", "stimulus": f"Screen {n}", "choices": ["Next"],
         "label": f"s{n}"}
        for n in range(SCREENS)
    ],
}  # fmt: skip
WAIT_MS = 60000
NEXT_INDEX_JS = (
    "(window.cogflowRun && window.cogflowRun.started) ? window.cogflowRun.nextIndex() : -1"
)
PRESS_JS = """(() => {
  const b = document.querySelector('#cogflow-root [data-choice="0"] button');
  if (!b) return false;
  b.dispatchEvent(new PointerEvent('pointerdown', {bubbles: true}));
  return true;
})()"""


@pytest.fixture()
def runtime(tmp_path: Path) -> Iterator[AppRuntime]:
    rt = start_runtime(tmp_path / "data", port=0)
    users.create_user(rt.ctx, "lab", PASSWORD)
    yield rt
    rt.stop()


def _stored(runtime: AppRuntime, run_id: str) -> int:
    with runtime.ctx.read() as s:
        return int(s.scalar(select(func.count()).where(TrialRecord.run_id == run_id)) or 0)


def _status(runtime: AppRuntime, run_id: str) -> str | None:
    with runtime.ctx.read() as s:
        return s.scalar(select(RunSession.status).where(RunSession.id == run_id))


def _crash_box() -> QMessageBox | None:
    for w in QApplication.topLevelWidgets():
        if isinstance(w, QMessageBox) and w.objectName() == "kioskCrashBox" and w.isVisible():
            return w
    return None


def _answer_until(qtbot, kiosk, index: int) -> None:  # type: ignore[no-untyped-def]
    """Press the screen's button as a participant would until the next trial index is `index`."""
    wait_js(qtbot, kiosk.page, NEXT_INDEX_JS, lambda v: isinstance(v, (int, float)) and v >= 0)
    while (now := int(run_js(qtbot, kiosk.page, NEXT_INDEX_JS))) < index:
        wait_js(qtbot, kiosk.page, PRESS_JS, bool)
        wait_js(qtbot, kiosk.page, NEXT_INDEX_JS, lambda v, n=now: v > n)


def _seeded_order(seed: Any) -> list[str]:
    """The labels in the order compiler.js gives this study for the run seed (an uncrashed run
    with the same seed shows them in this order)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed; the expected schedule is compiled with Node.js")
    script = (
        "import('./resources/interpreter/compiler.js').then(({ compileConfig }) => {"
        f" const t = compileConfig({json.dumps(STUDY)}, {{ runSeed: {json.dumps(seed)} }}).trials;"
        " console.log(JSON.stringify(t.map((s) => s.meta.label))); });"
    )
    out = subprocess.run(
        [node, "--input-type=module", "-e", script], cwd=ROOT, capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip
    return list(json.loads(out.stdout))


def test_a_killed_page_continues_the_same_run_from_the_next_trial(
    qtbot, runtime: AppRuntime, tmp_path: Path
) -> None:
    window = MainWindow(runtime)
    qtbot.addWidget(window)
    window.show()
    try:
        path = tmp_path / "resume.json"
        path.write_text(json.dumps(STUDY), encoding="utf-8")
        slug = window.studies.import_file(path)
        assert slug
        kiosk = window.open_kiosk(slug, "P-resume")
        wait_js(qtbot, kiosk.page, ROOT_STATE_JS, lambda v: v == "running", timeout=WAIT_MS)
        _answer_until(qtbot, kiosk, 3)
        run_id = run_js(qtbot, kiosk.page, "window.cogflowRun.start.run_session_id")
        qtbot.waitUntil(lambda: _stored(runtime, run_id) == 3, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: kiosk.run_id == run_id, timeout=WAIT_MS)
        # The page has told the app where it stands: before trial index 3.
        qtbot.waitUntil(
            lambda: (runtime.ctx.resume.peek(run_id) or {}).get("next_trial_index") == 3,
            timeout=WAIT_MS,
        )

        pid = int(kiosk.page.renderProcessPid())
        assert pid > 0 and pid != os.getpid()
        os.kill(pid, signal.SIGKILL if hasattr(signal, "SIGKILL") else signal.SIGTERM)
        qtbot.waitUntil(lambda: _crash_box() is not None, timeout=WAIT_MS)
        box = _crash_box()
        assert box is not None
        shots = Path(os.environ.get("COGFLOW_SHOT_DIR", tmp_path))
        box.grab().save(str(shots / "kiosk-resume-box.png"))  # for a look by eye
        assert box.text() == (
            "The participant's page was killed (often because the computer ran out of memory); "
            f"the run of {slug} has 3 trials stored and can continue from trial 4."
        )
        assert {b.text() for b in box.buttons()} == {  # laid out as the platform does
            "Continue this run from trial 4",
            "End it as failed, start a new run",
            "End it as failed, close the participant's screen",
        }
        assert _status(runtime, run_id) == "started"

        next(b for b in box.buttons() if b.text().startswith("Continue")).click()
        resumed = wait_js(
            qtbot, kiosk.page, "JSON.stringify(window.cogflowResumed || null)",
            lambda v: v != "null", timeout=WAIT_MS,
        )  # fmt: skip
        assert json.loads(resumed)["ok"] is True, resumed
        wait_js(qtbot, kiosk.page, ROOT_STATE_JS, lambda v: v == "running", timeout=WAIT_MS)
        assert run_js(qtbot, kiosk.page, "window.cogflowRun.start.run_session_id") == run_id
        _answer_until(qtbot, kiosk, SCREENS)
        wait_js(qtbot, kiosk.page, ROOT_STATE_JS, lambda v: v == "saved", timeout=WAIT_MS)
        qtbot.waitUntil(lambda: _status(runtime, run_id) == "completed", timeout=WAIT_MS)
        assert runtime.ctx.resume.peek(run_id) is None  # dropped with the run's end

        with runtime.ctx.read() as s:
            assert s.scalar(select(func.count()).select_from(RunSession)) == 1  # no new run
        key = users.unlock_with_password(runtime.ctx, "lab", PASSWORD)
        with runtime.ctx.read() as s:
            answer = results.decrypt_run(s, key, run_id, True)
        assert answer["status"] == "completed"
        trials = answer["trials"]
        assert [t["trial_index"] for t in trials] == list(range(SCREENS))
        payload = answer["result_payload"]
        assert payload["trial_count"] == SCREENS
        labels = [t["label"] for t in trials]
        assert labels == _seeded_order(payload["run_seed"])
        assert sorted(labels) == [f"s{n}" for n in range(SCREENS)]  # each screen once
        (interruption,) = payload["interruptions"]
        assert interruption["reason"] == "page_crashed"
        assert interruption["renderer_status"] == "KilledTerminationStatus"
        assert interruption["at_trial"] == 3 and interruption["resumed_at_trial"] == 3
        assert interruption["trials_lost"] == 0
    finally:
        window.shutdown()
    # Where the run stood never reached the disk: not the snapshot, not the kiosk's address
    # with its one-time grant (the data folder holds the database and the web profile).
    needles = [b"cogflow-resume-v1", b"next_trial_index", b"not_resumable", b"grant="]
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for needle in needles:
                assert needle not in data, f"{needle!r} found in {path}"
