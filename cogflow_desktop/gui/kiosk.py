"""The participant's window: the Interpreter full-screen, locked down.

It watches the page's state (`#cogflow-root[data-cogflow-state]`):
- `saved`: the result is stored; the end screen stays for the configured time, then the window
  closes itself (or, with no time set, waits for the experimenter's key chord);
- `unsupported`: the study was refused before a trial; the window closes at once and the app
  shows the researcher the page's sentences (`window.cogflowRefusal.messages`).
While it runs, what the experimenter must know (never the participant) goes out as `notice`
(the main window's status bar): recording paused by a full disk or a locked database
(`window.cogflowRecording`, see persistence.js) and resumed, and little free space left.
If the page itself dies (renderer crash or kill), see kiosk_crash.py: what it recorded is handed
over, and the experimenter chooses to continue the same run from its next trial (where the app
holds where it stood), or to end it as failed with everything stored and start a new run.
During a run the key chord pauses the page (`window.cogflowPause()`) behind a password dialog:
cancel resumes it, a researcher's password ends the run as failed, keeping its data.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import urlencode

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QScreen, QShortcut
from PySide6.QtWebEngineCore import QWebEngineFullScreenRequest, QWebEnginePage
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QMessageBox, QVBoxLayout, QWidget

from cogflow_desktop.gui.dialogs.kiosk import KioskExitDialog
from cogflow_desktop.gui.kiosk_crash import (
    RECOVER_QUERY,
    PageCrash,
    ResumeOffer,
    crash_sentence,
    end_as_failed,
    resume_offer,
    resume_query,
)
from cogflow_desktop.gui.kiosk_outcome import KioskOutcome, exit_intro
from cogflow_desktop.gui.marker_bridge import attach_marker_bridge
from cogflow_desktop.gui.webviews import WebEnvironment, lock_view
from cogflow_desktop.services.context import Context
from cogflow_desktop.store.space import space_report

log = logging.getLogger(__name__)
INTERPRETER_PATH = "/interpreter/"
# Ctrl+Shift+Q on Windows and Linux; Qt maps Ctrl to Command on macOS.
EXIT_CHORD = "Ctrl+Shift+Q"
# How long the page may take to submit the aborted run before the window closes anyway
# (its checkpoints are already durable; the run then shows as interrupted).
ABORT_WAIT_MS = 20000
POLL_MS = 250
DEFAULT_END_SECONDS = 10
# Free space is checked when the run starts and then this often.
SPACE_CHECK_MS = 60000

# Everything the shell reads from the page, in one call (a few property reads: no work for
# the page's frame loop).
STATUS_JS = """JSON.stringify((() => {
  const root = document.getElementById('cogflow-root');
  const refusal = window.cogflowRefusal;
  return {
    state: root ? String(root.dataset.cogflowState || '') : '',
    result: window.cogflowResult || null,
    // All of the run's trials (a continued run's earlier ones are not in this page's rows).
    trials: window.cogflowRun && window.cogflowRun.rows
      ? (window.cogflowRun.firstIndex || 0) + window.cogflowRun.rows.length : null,
    messages: refusal && Array.isArray(refusal.messages) ? refusal.messages.map(String) : [],
    recording: window.cogflowRecording || null,
    run: window.cogflowRun && window.cogflowRun.start
      ? String(window.cogflowRun.start.run_session_id) : null,
  };
})())"""
PAUSE_JS = """JSON.stringify((() => {
  const root = document.getElementById('cogflow-root');
  const state = root ? String(root.dataset.cogflowState || '') : '';
  let paused = false;
  if (state === 'running' && typeof window.cogflowPause === 'function') {
    try { paused = Boolean(window.cogflowPause()); } catch (e) { paused = false; }
  }
  return {state, paused, result: window.cogflowResult || null};
})())"""
RESUME_JS = (
    "(typeof window.cogflowResume === 'function') ? Boolean(window.cogflowResume()) : false"
)
ABORT_JS = (
    "(typeof window.cogflowAbort === 'function') ? "
    "Boolean(window.cogflowAbort('experimenter_abort')) : false"
)
FINISHED_STATES = ("saved", "preview-done")
# Buttons of the crash dialog (tests click them by text).
CONTINUE_BUTTON = "Continue this run from trial {number}"
NEW_RUN_BUTTON = "End it as failed, start a new run"
CLOSE_BUTTON = "End it as failed, close the participant's screen"



def interpreter_query(study_slug: str, participant_id: str) -> str:
    return f"{INTERPRETER_PATH}?{urlencode({'study': study_slug, 'participant': participant_id})}"


def _parse(raw: Any) -> dict[str, Any]:
    try:
        value = json.loads(raw) if isinstance(raw, str) and raw else {}
    except ValueError:
        value = {}
    return value if isinstance(value, dict) else {}


def recording_notice(recording: Any) -> str:
    """The experimenter's sentence for the page's recording state ("" when all is well); short
    enough for the status bar (the server's own sentence goes to the log)."""
    if not isinstance(recording, dict):
        return ""
    if recording.get("state") == "paused":
        pending = recording.get("pending")
        count = pending if isinstance(pending, int) else 0
        waiting = "1 trial waits" if count == 1 else f"{count} trials wait"
        if recording.get("reason") == "disk_full":
            cause = "the disk of the data folder is full"
            fix = "free some space"
        else:
            cause = "the database cannot be written (another program holds it, or it is damaged)"
            fix = "close that program"
        return f"Recording paused: {cause}; {waiting} in the page, stored once you {fix}."
    if recording.get("resumed"):
        return "Recording resumed: every trial kept in the page while it was paused is stored."
    return ""


class KioskWindow(QWidget):
    ended = Signal(object)  # a KioskOutcome
    notice = Signal(str)  # one sentence for the experimenter (status bar), never the participant

    def __init__(
        self,
        env: WebEnvironment,
        ctx: Context,
        study_slug: str,
        participant_id: str,
        usernames: list[str],
        screen: QScreen | None = None,
        end_seconds: int = DEFAULT_END_SECONDS,
    ) -> None:
        super().__init__(
            None,
            Qt.WindowType.Window
            | Qt.WindowType.FramelessWindowHint
            | Qt.WindowType.WindowStaysOnTopHint,
        )
        self.setObjectName("kioskWindow")
        self.setWindowTitle("CogFlow")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._ctx = ctx
        self._usernames = usernames
        self.study_slug = study_slug
        self.end_seconds = max(0, int(end_seconds))
        self._may_close = False
        self._ended = False
        self._aborting_since: float | None = None
        self.paused = False  # the page said it paused behind the exit dialog
        self.page_state = ""
        self.trials: int | None = None
        self.result: dict[str, Any] | None = None
        self.run_saved = False
        self.exit_dialog: KioskExitDialog | None = None
        self.recording_notice = ""
        self.participant_id = participant_id
        self.run_id: str | None = None
        self.crash: PageCrash | None = None
        self._recovering_since: float | None = None
        self.crash_dialog: QMessageBox | None = None
        self._last_crash: PageCrash | None = None
        self._env = env
        self.view = QWebEngineView(self)
        self.page = env.kiosk_page(INTERPRETER_PATH, self.view)
        attach_marker_bridge(self.page, ctx, env.server_url)  # LSL markers, triggers
        self.view.setPage(self.page)
        lock_view(self.view)
        self.page.fullScreenRequested.connect(self._on_fullscreen_request)
        self.page.renderProcessTerminated.connect(self._on_renderer_terminated)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        if screen is not None:
            self.setScreen(screen)
            self.setGeometry(screen.geometry())
        # A window shortcut is matched before the key reaches the page, so the Interpreter
        # never sees the chord. (An application-wide event filter would also work, but
        # wrapping every QtWebEngine internal object for Python crashes PySide.)
        self.exit_shortcut = QShortcut(QKeySequence(EXIT_CHORD), self)
        self.exit_shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        self.exit_shortcut.setAutoRepeat(False)
        self.exit_shortcut.activated.connect(self.request_exit)
        self.poll_timer = QTimer(self)
        self.poll_timer.setInterval(POLL_MS)
        self.poll_timer.timeout.connect(self._poll)
        self.end_timer = QTimer(self)
        self.end_timer.setSingleShot(True)
        self.end_timer.timeout.connect(lambda: self._end("completed"))
        self.space_timer = QTimer(self)
        self.space_timer.setInterval(SPACE_CHECK_MS)
        self.space_timer.timeout.connect(self.check_space)
        self.view.load(env.url(interpreter_query(study_slug, participant_id)))

    def start(self) -> None:
        self.showFullScreen()
        self.raise_()
        self.activateWindow()
        self.view.setFocus()
        self.poll_timer.start()
        self.space_timer.start()
        self.check_space()

    def check_space(self) -> None:
        """Warn the experimenter before the disk fills (recording would pause)."""
        try:
            warning = space_report(self._ctx.settings.data_dir).warning
        except OSError as exc:
            log.warning("Free space of the data folder could not be read: %s", exc)
            return
        if warning:
            log.warning("%s", warning)
            self.notice.emit(warning)

    # -- watching the page -------------------------------------------------------------------
    def _poll(self) -> None:
        if not self._ended:
            self.page.runJavaScript(STATUS_JS, 0, self._on_status)

    def _on_status(self, raw: Any) -> None:
        if self._ended:
            return
        status = _parse(raw)
        self.page_state = str(status.get("state") or "")
        if isinstance(status.get("trials"), int):
            self.trials = status["trials"]
        if isinstance(status.get("result"), dict):
            self.result = status["result"]
        if isinstance(status.get("run"), str) and self.crash is None:
            self.run_id = status["run"]
        if self._recovering_since is not None:
            overdue = (time.monotonic() - self._recovering_since) * 1000 >= ABORT_WAIT_MS
            if self.page_state == "recovered" or overdue:
                self._recovered()
            return
        notice = recording_notice(status.get("recording"))
        if notice != self.recording_notice:
            self.recording_notice = notice
            if notice:
                detail = (status.get("recording") or {}).get("detail") or ""
                log.warning("%s %s", notice, detail)
                self.notice.emit(notice)
        if self.page_state == "resume-failed" and self.crash is None and self.run_id:
            # The continuing page could not take the run up again: end it as failed instead.
            self.crash = self._last_crash or PageCrash("unknown", 0)
            self._offer_after_crash(allow_resume=False)
            return
        if self.page_state == "unsupported":
            self._end("refused", messages=[str(m) for m in status.get("messages") or []])
        elif self.page_state in FINISHED_STATES and self.result is not None:
            if self._aborting_since is not None:
                self._end("aborted")
            elif not self.run_saved:
                self._run_saved()
        elif self._aborting_since is not None and self._abort_overdue():
            log.warning("The aborted run was not confirmed in time; it stays interrupted.")
            self._end("abort_unconfirmed")

    def _abort_overdue(self) -> bool:
        assert self._aborting_since is not None
        return (time.monotonic() - self._aborting_since) * 1000 >= ABORT_WAIT_MS

    def _run_saved(self) -> None:
        """The result is stored: show the end screen for a while, or wait for the chord."""
        self.run_saved = True
        if self.exit_dialog is not None:  # nothing left to end: the dialog has no purpose
            self.exit_dialog.reject()
        if self.end_seconds > 0:
            self.end_timer.start(self.end_seconds * 1000)

    # -- the page died ------------------------------------------------------------------------
    def _on_renderer_terminated(
        self, status: QWebEnginePage.RenderProcessTerminationStatus, exit_code: int
    ) -> None:
        normal = QWebEnginePage.RenderProcessTerminationStatus.NormalTerminationStatus
        if self._ended or status == normal:
            return
        crash = PageCrash(status.name, int(exit_code))
        log.error("The participant's page %s (%s, exit code %s)", crash.cause, crash.status,
                  exit_code)  # fmt: skip
        if self.exit_dialog is not None:
            self.exit_dialog.reject()
        if self.run_saved:  # the result is stored: nothing to recover
            self._end("completed")
            return
        if self.crash is not None or self.run_id is None:
            # It died again while recovering, or before a run started: nothing more to wait for.
            self.crash = self.crash or crash
            self._recovered()
            return
        self.crash = crash
        self.notice.emit(
            f"The participant's page {crash.cause}; the app is recovering what it recorded."
        )
        # A fresh page hands over what the dead one kept sealed, before the run is ended.
        self._recovering_since = time.monotonic()
        self.view.load(self._env.url(RECOVER_QUERY))
        self.poll_timer.start()

    def _recovered(self) -> None:
        self._recovering_since = None
        self._offer_after_crash(allow_resume=True)

    def _offer_after_crash(self, allow_resume: bool) -> None:
        """Ask the experimenter: continue the same run (when it can), or end it as failed."""
        self.poll_timer.stop()
        crash = self.crash or PageCrash("unknown", 0)
        offer = ResumeOffer(None, 0, "no run had started")
        if self.run_id is None:
            text = f"The participant's page {crash.cause}; no run had started."
        else:
            offer = resume_offer(self._ctx, self.run_id)
            if not allow_resume and offer.possible:
                offer = ResumeOffer(None, offer.stored, "the page could not take it up again")
            text = crash_sentence(crash.cause, self.study_slug, offer)
        self.notice.emit(text)
        box = QMessageBox(QMessageBox.Icon.Warning, "The participant's page stopped", text,
                          QMessageBox.StandardButton.NoButton, self)  # fmt: skip
        box.setObjectName("kioskCrashBox")
        box.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, True)
        go_on = None
        if offer.next_trial is not None:
            go_on = box.addButton(
                CONTINUE_BUTTON.format(number=offer.next_trial + 1),
                QMessageBox.ButtonRole.AcceptRole,
            )
        again = box.addButton(NEW_RUN_BUTTON, QMessageBox.ButtonRole.ActionRole)
        box.addButton(CLOSE_BUTTON, QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(go_on or again)
        box.finished.connect(lambda _r: self._after_crash_dialog(box.clickedButton(), go_on, again))
        self.crash_dialog = box
        box.open()

    def _after_crash_dialog(self, clicked: Any, go_on: Any, again: Any) -> None:
        self.crash_dialog = None
        if self._ended:
            return
        crash = self.crash or PageCrash("unknown", 0)
        if go_on is not None and clicked is go_on and self.run_id:
            self.continue_run(crash)
            return
        self._ended_as_failed(crash)
        if clicked is again:
            self.start_new_run()
        else:
            self._end("crashed")

    def _ended_as_failed(self, crash: PageCrash) -> None:
        """End the crashed run as failed with everything stored (as before #17's resume)."""
        if self.run_id is None:
            self.trials, self.result = 0, None
            return
        count = end_as_failed(self._ctx, self.run_id, crash)
        self.trials = count
        self.result = {"submitted": True, "status": "failed"}
        self.notice.emit(
            f"The participant's page {crash.cause}; the run of {self.study_slug} is saved as "
            f"failed with {count} trial{'' if count == 1 else 's'}, everything it had recorded."
        )

    def continue_run(self, crash: PageCrash) -> None:
        """Reload the Interpreter on the same run, from its next trial (resume.js)."""
        assert self.run_id is not None
        self._last_crash = crash
        self.crash = None
        self.result = None
        self.run_saved = False
        self.page_state = ""
        self.notice.emit(f"The run of {self.study_slug} continues after its page {crash.cause}.")
        self.view.load(self._env.url(resume_query(self._ctx, self.run_id, crash)))
        self.poll_timer.start()
        self.view.setFocus()

    def start_new_run(self) -> None:
        """After a crash: the same study and participant, as a new run."""
        self.crash_dialog = None
        self.crash = None
        self.run_id = None
        self.result = None
        self.trials = None
        self.run_saved = False
        self.page_state = ""
        self.view.load(self._env.url(interpreter_query(self.study_slug, self.participant_id)))
        self.poll_timer.start()
        self.view.setFocus()

    # -- the way out -------------------------------------------------------------------------
    def request_exit(self) -> None:
        if self.exit_dialog is not None or self._ended or self._aborting_since is not None:
            return
        if self.run_saved:  # the experimenter's key after the end screen: nothing to lose
            self._end("completed")
            return
        # Pause first, in the same call that reads the state, so nothing runs on behind the
        # dialog; then ask.
        self.page.runJavaScript(PAUSE_JS, 0, self._open_exit_dialog)

    def _open_exit_dialog(self, raw: Any) -> None:
        if self._ended or self.exit_dialog is not None:
            return
        status = _parse(raw)
        state = str(status.get("state") or "")
        self.paused = bool(status.get("paused"))
        if state in FINISHED_STATES and isinstance(status.get("result"), dict):
            self.result = status["result"]
            self._end("completed")
            return
        dialog = KioskExitDialog(
            self._ctx,
            self.study_slug,
            self._usernames,
            self,
            intro=exit_intro(state, self.paused),
        )
        dialog.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, True)
        dialog.accepted.connect(self.abort_run)
        dialog.rejected.connect(self._resume)
        dialog.finished.connect(lambda _r: setattr(self, "exit_dialog", None))
        self.exit_dialog = dialog
        dialog.open()

    def _resume(self) -> None:
        if self.paused and not self._ended:
            self.page.runJavaScript(RESUME_JS, 0, lambda _ok: None)
        self.paused = False
        self.view.setFocus()

    def abort_run(self) -> None:
        """Ask the page to submit the run as failed; the poll closes the window once it has."""
        self._aborting_since = time.monotonic()
        self.page.runJavaScript(ABORT_JS, 0, self._after_abort)

    def _after_abort(self, started: Any) -> None:
        if started or self._ended:
            return  # the poll sees the result (or the time running out)
        # No run in progress: it had already ended, or never started (an error screen).
        self._end("completed" if self.result is not None else "closed")

    def _end(self, outcome: str, messages: list[str] | None = None) -> None:
        if self._ended:
            return
        self._ended = True
        self.poll_timer.stop()
        self.end_timer.stop()
        self.space_timer.stop()
        if self.exit_dialog is not None:
            self.exit_dialog.reject()
        if self.crash_dialog is not None:
            self.crash_dialog.done(0)
            self.crash_dialog = None
        self.ended.emit(
            KioskOutcome(
                outcome=outcome,
                study_slug=self.study_slug,
                result=self.result,
                trials=self.trials,
                page_state=self.page_state,
                messages=tuple(messages or ()),
            )
        )
        self.force_close()

    def force_close(self) -> None:
        """Close without asking (the app is quitting): an unfinished run stays interrupted."""
        self._ended = True
        if self.run_id is not None:  # no page of this kiosk will continue it
            self._ctx.resume.drop(self.run_id)
        self.poll_timer.stop()
        self.end_timer.stop()
        self.space_timer.stop()
        self._may_close = True
        self.close()

    # -- participants cannot close or escape it ----------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        if self._may_close:
            self.view.stop()
            event.accept()
        else:
            event.ignore()

    def _on_fullscreen_request(self, request: QWebEngineFullScreenRequest) -> None:
        request.accept()  # the window is full-screen anyway; leaving it is the app's call
