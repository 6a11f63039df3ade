"""The main window: pages on the left, the current page on the right, the server and the
researcher's unlock state in the status bar. It also opens kiosk runs and exports."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QSize, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QIcon, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QStackedWidget,
    QWidget,
)

from cogflow_desktop.gui import icons, mfa_status, queries, theme
from cogflow_desktop.gui.dialogs.about import AboutDialog
from cogflow_desktop.gui.dialogs.kiosk import KioskStartDialog
from cogflow_desktop.gui.dialogs.wizard import FirstRunWizard
from cogflow_desktop.gui.errors import show_error
from cogflow_desktop.gui.export_flow import ExportFlow
from cogflow_desktop.gui.kiosk import KioskWindow
from cogflow_desktop.gui.kiosk_outcome import KioskOutcome
from cogflow_desktop.gui.pages.audit import AuditPage
from cogflow_desktop.gui.pages.base import Page, scrolling
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
from cogflow_desktop.store.space import space_report

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    def __init__(self, runtime: AppRuntime) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("CogFlow Desktop")
        self.resize(1180, 740)
        self.setMinimumSize(900, 560)
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
        self.nav.setFixedWidth(176)
        self.nav.setIconSize(QSize(20, 20))
        self.stack = QStackedWidget()
        for page in self.pages:
            self.nav.addItem(QListWidgetItem(page.title))
            # Settings is a long form: it scrolls rather than making the window taller than
            # a laptop's screen.
            self.stack.addWidget(scrolling(page) if page is self.settings_page else page)
        self.nav.currentRowChanged.connect(self._show_page)
        body = QWidget()
        layout = QHBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.nav)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(body)
        self.apply_theme(self.state.prefs.theme)
        self.settings_page.theme_changed.connect(self.apply_theme)
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
        space = space_report(runtime.ctx.settings.data_dir)
        if space.low:  # warned before recording pauses on a full disk (README, faults)
            self.statusBar().showMessage(space.warning)

    # -- look ------------------------------------------------------------------------------
    def apply_theme(self, choice: str) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            theme.apply(app, choice)
            if not app.property("cogflowFollowsSystem"):
                theme.follow_system(app)
                app.setProperty("cogflowFollowsSystem", True)
                QGuiApplication.styleHints().colorSchemeChanged.connect(
                    lambda _s: self._paint_icons()
                )
        self._paint_icons()

    def _paint_icons(self) -> None:
        colour = self.palette().color(QPalette.ColorRole.WindowText)
        selected = self.palette().color(QPalette.ColorRole.HighlightedText)
        for row, page in enumerate(self.pages):
            name = getattr(page, "icon_name", "") or page.title.lower()
            item_icon = icons.icon(name, colour)
            item_icon.addPixmap(
                icons.icon(name, selected).pixmap(20, 20), QIcon.Mode.Selected
            )
            self.nav.item(row).setIcon(item_icon)

    # -- menus (every action shows its shortcut) ----------------------------------------------
    def _action(
        self, menu: Any, text: str, slot: Any, shortcut: QKeySequence | str | None = None
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutVisibleInContextMenu(True)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menu(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self._action(
            file_menu,
            "Run a participant…",
            lambda: self.start_kiosk_dialog(self.studies.selected_slug()),
            "Ctrl+R",
        )
        self._action(file_menu, "Import config…", self.studies.choose_import, "Ctrl+O")
        self._action(
            file_menu,
            "Export results…",
            lambda: self._emit_export(),
            "Ctrl+E",
        )
        self.setup_action = self._action(
            file_menu, "Set up the researcher account…", self._setup_if_needed
        )
        file_menu.aboutToShow.connect(lambda: self.setup_action.setVisible(self.needs_first_run()))
        file_menu.addSeparator()
        self._action(file_menu, "Quit", self.close, "Ctrl+Q")  # Cmd+Q on macOS

        view = bar.addMenu("&View")
        for i, page in enumerate(self.pages):
            go = lambda _c=False, p=page: self.show_page(p)  # noqa: E731
            self._action(view, page.title, go, f"Ctrl+{i + 1}")
        view.addSeparator()
        self._action(view, "Refresh", self._refresh_current, "F5")

        results = bar.addMenu("&Results")
        self._action(
            results, "Decrypt selected runs", self._decrypt_selected, "Ctrl+D"
        )
        self._action(results, "Decrypt all runs", self._decrypt_all, "Ctrl+Shift+D")
        self._action(results, "Lock results", self.results.lock, "Ctrl+L")
        results.addSeparator()
        self._action(results, "Sync now", lambda: self.sync.sync_now(), "Ctrl+Shift+S")
        self._action(
            results,
            "Set up / replace authenticator…",
            self.settings_page.open_authenticator,
        )

        help_menu = bar.addMenu("&Help")
        self.about_action = self._action(help_menu, "About CogFlow Desktop", self.show_about)

    def _emit_export(self) -> None:
        on_results = self.stack.currentIndex() == self.pages.index(self.results)
        slug = self.results.study.currentText() if on_results else self.studies.selected_slug()
        if slug:
            self.exports.start(slug, [])

    def _decrypt_selected(self) -> None:
        self.show_page(self.results)
        self.results.decrypt_selected()

    def _decrypt_all(self) -> None:
        self.show_page(self.results)
        self.results.decrypt_all()

    def show_about(self) -> AboutDialog:
        dialog = AboutDialog(self.state.ctx.settings.resources, self)
        dialog.open()
        return dialog

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
        index = self.stack.currentIndex()
        if 0 <= index < len(self.pages):
            self.pages[index].refresh()

    def open_builder(self, slug: str | None = None) -> None:
        self.builder.open_study(slug)
        self.show_page(self.builder)

    def open_results(self, slug: str) -> None:
        self.show_page(self.results)
        self.results.open_study(slug)

    def _update_status(self) -> None:
        session = self.state.session
        self.mfa_label.setText(mfa_status.describe(session.username, session.fresh_until()))
        watchdog = self.state.runtime.watchdog
        if watchdog is not None and watchdog.last_event:  # the server was restarted (or not)
            self.server_label.setText(watchdog.last_event)

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
        kiosk.notice.connect(lambda sentence: self.statusBar().showMessage(sentence))
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
