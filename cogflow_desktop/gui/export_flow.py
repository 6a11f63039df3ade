"""Export from the app: unlock if needed, choose options, then run it off the GUI thread with
a progress dialog that can cancel (nothing is left behind under the target name then)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from cogflow_desktop.export import ExportCancelled, ExportOptions, ExportProgress, ExportResult
from cogflow_desktop.gui import queries
from cogflow_desktop.gui.dialogs.export import ExportDialog
from cogflow_desktop.gui.dialogs.unlock import ensure_unlocked
from cogflow_desktop.gui.errors import plain_sentence, show_error
from cogflow_desktop.gui.researcher import Cancelled
from cogflow_desktop.gui.state import AppState
from cogflow_desktop.gui.workers import Job, JobControl


def documents_folder() -> Path:
    """Documents when this computer has that folder, else the home folder (which exists)."""
    found = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(found) if found and Path(found).is_dir() else Path.home()


class ExportFlow(QObject):
    done = Signal(object)  # ExportResult

    def __init__(self, state: AppState, parent_widget: QWidget) -> None:
        super().__init__(parent_widget)
        self.state = state
        self.parent_widget = parent_widget
        self.job: Job | None = None
        self.dialog: ExportDialog | None = None
        self.progress: QProgressDialog | None = None
        self.last_result: ExportResult | None = None

    def start(self, slug: str, run_ids: list[str]) -> None:
        names = queries.usernames(self.state.ctx, self.state.prefs.last_username)
        if not ensure_unlocked(self.parent_widget, self.state.session, names):
            return
        dialog = ExportDialog(slug, run_ids, documents_folder(), self.parent_widget)
        dialog.accepted.connect(lambda: self.run(dialog.options()))
        self.dialog = dialog
        dialog.open()

    def _failed(self, exc: BaseException) -> None:
        """Back to the dialog, with its choices and the sentence, so the researcher can fix
        the path (or whatever it was) and try again."""
        dialog = self.dialog
        if dialog is None:
            show_error(self.parent_widget, "Export failed", exc)
            return
        dialog.error.show_error(plain_sentence(exc))
        dialog.open()

    def run(self, options: ExportOptions) -> Job | None:
        if self.job is not None:
            return None
        session = self.state.session
        progress = QProgressDialog(
            f"Exporting {options.study_slug}…", "Cancel", 0, 0, self.parent_widget
        )
        progress.setObjectName("exportProgress")
        progress.setMinimumDuration(300)
        progress.setAutoClose(False)
        progress.setAutoReset(False)
        self.progress = progress

        def work(control: JobControl) -> ExportResult:
            def report(p: ExportProgress) -> None:
                control.progress(p.runs_done, max(p.runs_total, 1), f"{p.trials_done} trials")

            try:
                return session.export(options, report, lambda: control.cancelled)
            except ExportCancelled as exc:
                raise Cancelled(str(exc)) from exc

        def connect(job: Job) -> None:
            progress.canceled.connect(job.control.cancel)
            job.signals.progress.connect(self._progress)
            job.signals.succeeded.connect(self._succeeded)
            job.signals.failed.connect(self._failed)
            job.signals.finished.connect(self._finished)

        self.job = self.state.jobs.start(work, connect)
        return self.job

    def _progress(self, done: int, total: int, text: str) -> None:
        if self.progress is not None:
            self.progress.setMaximum(total)
            self.progress.setValue(done)
            self.progress.setLabelText(f"Exported {done} of {total} run(s), {text}.")

    def _succeeded(self, result: ExportResult) -> None:
        self.last_result = result
        self.dialog = None
        self.done.emit(result)

    def _finished(self) -> None:
        self.job = None
        if self.progress is not None:
            self.progress.close()
            self.progress.deleteLater()
            self.progress = None
