"""The main window: pages on the left, the current page on the right, the server and the
researcher's unlock state in the status bar. It also opens kiosk runs and exports."""

from __future__ import annotations

import logging

from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QStackedWidget,
    QWidget,
)

from cogflow_desktop.gui import mfa_status, queries
from cogflow_desktop.gui.dialogs.kiosk import KioskStartDialog
from cogflow_desktop.gui.dialogs.wizard import FirstRunWizard
from cogflow_desktop.gui.errors import show_error
from cogflow_desktop.gui.export_flow import ExportFlow
from cogflow_desktop.gui.kiosk import KioskWindow
from cogflow_desktop.gui.kiosk_outcome import KioskOutcome
from cogflow_desktop.gui.pages.audit import AuditPage
from cogflow_desktop.gui.pages.base import Page
from cogflow_desktop.gui.pages.builder import BuilderPage
from cogflow_desktop.gui.pages.results import ResultsPage
from cogflow_desktop.gui.pages.settings import SettingsPage
from cogflow_desktop.gui.pages.studies import StudiesPage
from cogflow_desktop.gui.pages.sync import SyncPage
from cogflow_desktop.gui.prefs import Prefs
from cogflow_desktop.gui.researcher import ResearcherSession
from cogflow_desktop.gui.runtime import AppRuntime
from cogflow_desktop.gui.state import AppState
from cogflow_desktop.gui.workers import JobRunner
from cogflow_desktop.services import users

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    def __init__(self, runtime: AppRuntime) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("CogFlow Desktop")
        self.resize(1180, 760)
        data_dir = runtime.ctx.settings.data_dir
        self.state = AppState(
            runtime=runtime,
            session=ResearcherSession(runtime.ctx),
            prefs=Prefs.load(data_dir),
            jobs=JobRunner(self),
        )
        self.kiosk: KioskWindow | None = None
        self.last_kiosk_outcome: KioskOutcome | None = None
        self._shut_down = False
        self.wizard: FirstRunWizard | None = None
        self.kiosk_dialog: KioskStartDialog | None = None
        self.studies = StudiesPage(self.state)
        self.builder = BuilderPage(self.state)
        self.results = ResultsPage(self.state)
        self.sync = SyncPage(self.state)
        self.audit = AuditPage(self.state)
        self.settings_page = SettingsPage(self.state)
        self.pages: list[Page] = [
            self.studies,
            self.builder,
            self.results,
            self.sync,
            self.audit,
            self.settings_page,
        ]
        self.exports = ExportFlow(self.state, self)
        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setFixedWidth(150)
        self.stack = QStackedWidget()
        for page in self.pages:
            self.nav.addItem(page.title)
            self.stack.addWidget(page)
        self.nav.currentRowChanged.connect(self._show_page)
        body = QWidget()
        layout = QHBoxLayout(body)
        layout.addWidget(self.nav)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(body)
        self._build_menu()
        self.server_label = QLabel(f"Local server {runtime.url} ✔")
        self.server_label.setObjectName("serverLabel")
        self.mfa_label = QLabel()
        self.statusBar().addWidget(self.server_label)
        self.statusBar().addPermanentWidget(self.mfa_label)
        self.status_timer = QTimer(self)
        self.status_timer.timeout.connect(self._update_status)
        self.status_timer.start(5000)
        self.studies.open_builder.connect(self.open_builder)
        self.builder.run_study.connect(self.start_kiosk_dialog)
        self.studies.run_study.connect(self.start_kiosk_dialog)
        self.studies.show_results.connect(self.open_results)
        self.studies.export_study.connect(lambda slug: self.exports.start(slug, []))
        self.results.export_requested.connect(self.exports.start)
        self.exports.done.connect(
            lambda r: self.statusBar().showMessage(
                f"Exported {r.runs} run(s), {r.trials} trial(s) to {r.out}.", 15000
            )
        )
        self.state.listeners.append(self._refresh_current)
        self.nav.setCurrentRow(0)
        self._update_status()

    def _build_menu(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        run = QAction("Run a participant…", self)
        run.triggered.connect(lambda: self.start_kiosk_dialog(self.studies.selected_slug()))
        file_menu.addAction(run)
        imp = QAction("Import config…", self)
        imp.triggered.connect(self.studies.choose_import)
        file_menu.addAction(imp)
        self.setup_action = QAction("Set up the researcher account…", self)
        self.setup_action.triggered.connect(self._setup_if_needed)
        file_menu.addAction(self.setup_action)
        file_menu.aboutToShow.connect(lambda: self.setup_action.setVisible(self.needs_first_run()))
        file_menu.addSeparator()
        quit_action = QAction("Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

    # -- navigation --------------------------------------------------------------------------
    def _show_page(self, index: int) -> None:
        if index < 0:
            return
        self.stack.setCurrentIndex(index)
        try:
            self.pages[index].shown()
        except Exception as exc:  # a page that cannot load says so, the window stays usable
            show_error(self, f"{self.pages[index].title} could not be shown", exc)

    def show_page(self, page: Page) -> None:
        index = self.pages.index(page)
        if self.nav.currentRow() == index:
            self._show_page(index)  # already current: still reload what it shows
        else:
            self.nav.setCurrentRow(index)

    def _refresh_current(self) -> None:
        page = self.stack.currentWidget()
        if isinstance(page, Page):
            page.refresh()

    def open_builder(self, slug: str | None = None) -> None:
        self.builder.open_study(slug)
        self.show_page(self.builder)

    def open_results(self, slug: str) -> None:
        self.show_page(self.results)
        self.results.open_study(slug)

    def _update_status(self) -> None:
        session = self.state.session
        self.mfa_label.setText(mfa_status.describe(session.username, session.fresh_until()))

    # -- first run ---------------------------------------------------------------------------
    def needs_first_run(self) -> bool:
        return users.user_count(self.state.ctx) == 0

    def start_first_run(self) -> FirstRunWizard:
        wizard = FirstRunWizard(self.state.session, self)
        wizard.finished.connect(self._first_run_done)
        self.wizard = wizard
        wizard.open()
        return wizard

    def _setup_if_needed(self) -> None:
        if self.needs_first_run() and self.wizard is None:
            self.start_first_run()

    def _first_run_done(self, _result: int) -> None:
        if self.wizard is not None and self.wizard.skipped_authenticator:
            self.statusBar().showMessage(
                "No authenticator is set up yet: results cannot be read until it is "
                "(Settings, or Decrypt on the Results page, offers it).",
                0,
            )
        name = self.state.session.username
        if name:
            self.state.prefs.last_username = name
            self.state.save_prefs()
        self.wizard = None
        self._update_status()
        self._refresh_current()

    # -- kiosk runs --------------------------------------------------------------------------
    def start_kiosk_dialog(self, slug: str | None = None) -> KioskStartDialog | None:
        if self.kiosk is not None:
            show_error(self, "A run is in progress", "A participant's run is already open.")
            return None
        if self.needs_first_run():
            show_error(
                self,
                "No researcher yet",
                "Create the researcher account first: results are sealed to it.",
            )
            return None
        slugs = [r["study_slug"] for r in queries.study_rows(self.state.ctx)]
        dialog = KioskStartDialog(slugs, slug, self.state.prefs.kiosk_screen, self)
        dialog.accepted.connect(lambda: self.open_kiosk(*dialog.values))
        self.kiosk_dialog = dialog
        dialog.open()
        return dialog

    def open_kiosk(self, slug: str, participant_id: str, screen_index: int = 0) -> KioskWindow:
        screens = QGuiApplication.screens()
        screen = screens[screen_index] if 0 <= screen_index < len(screens) else None
        names = queries.usernames(self.state.ctx, self.state.prefs.last_username)
        # Whoever sits here after the run sees this window: results are locked first.
        if self.state.session.username is not None:
            self.state.session.sign_out()
            self._update_status()
        kiosk = KioskWindow(
            self.state.web(),
            self.state.ctx,
            slug,
            participant_id,
            names,
            screen,
            end_seconds=self.state.prefs.kiosk_end_seconds,
        )
        kiosk.ended.connect(self._kiosk_ended)
        kiosk.destroyed.connect(lambda *_: setattr(self, "kiosk", None))
        self.kiosk = kiosk
        log.info("Kiosk run opened for study %s", slug)
        kiosk.start()
        return kiosk

    def _kiosk_ended(self, outcome: KioskOutcome) -> None:
        self.kiosk = None
        self.last_kiosk_outcome = outcome
        sentence = outcome.sentence()
        log.info("Kiosk run ended (%s): %s", outcome.outcome, sentence)
        self.statusBar().showMessage(sentence, 60000)
        if outcome.problem:
            text = sentence
            if outcome.messages:
                text += "\n\n" + "\n".join(f"• {m}" for m in outcome.messages)
            title = "This study cannot run" if outcome.outcome == "refused" else "Run not saved"
            box = show_error(self, title, text)
            box.setObjectName("kioskProblemBox")
        self.state.changed()

    # -- shutdown ----------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Stop what runs, then free web pages before their profile (QtWebEngine needs that
        order to end its helper processes cleanly). The caller stops the server afterwards."""
        if self._shut_down:
            return
        self._shut_down = True
        self.status_timer.stop()
        self.sync.timer.stop()
        self.results.timer.stop()
        if self.kiosk is not None:
            self.kiosk.force_close()  # a run still open stays 'interrupted', with its data
            self.kiosk = None
        self.state.jobs.cancel_all()
        self.state.jobs.wait(30000)
        self.builder.release()
        if self.state.has_web:
            self.state.web().release()
            self.state.forget_web()
        self.state.session.sign_out()
