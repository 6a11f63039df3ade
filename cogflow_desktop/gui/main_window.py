"""The main window: pages on the left, the current page on the right, the server and the
researcher's unlock state in the status bar. It also opens kiosk runs and exports.

It shows in two steps, so the researcher sees it while the data folder opens: the frame (page
names, menus, an "Opening the data folder…" notice) needs only Qt; `attach(runtime)` builds the
pages once the database is open and the local server answers. The pages and everything below
them (SQLAlchemy, Flask, the models) are therefore imported in `attach` and the methods that
need them, not at the top of this module (tests/unit/test_startup_imports.py checks it)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QIcon, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from cogflow_desktop.gui import icons, theme

if TYPE_CHECKING:
    from cogflow_desktop.gui.dialogs.about import AboutDialog
    from cogflow_desktop.gui.dialogs.kiosk import KioskStartDialog
    from cogflow_desktop.gui.dialogs.wizard import FirstRunWizard
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
    from cogflow_desktop.gui.runtime import AppRuntime
    from cogflow_desktop.gui.state import AppState

log = logging.getLogger(__name__)
# The pages' names and icons before they exist (attach() renames the items from the pages'
# own titles, so a renamed page cannot leave a stale name here for long).
PAGE_NAMES = [
    ("Studies", "studies"),
    ("Builder", "builder"),
    ("Results", "results"),
    ("Sync", "sync"),
    ("Audit", "audit"),
    ("Settings", "settings"),
]
OPENING = "Opening the data folder…"


def _show_error(parent: QWidget, title: str, exc: BaseException | str) -> Any:
    from cogflow_desktop.gui.errors import show_error

    return show_error(parent, title, exc)


def _opening_notice() -> QWidget:
    """What the page area shows until the data folder is open (a second or two)."""
    notice = QWidget()
    notice.setObjectName("openingNotice")
    layout = QVBoxLayout(notice)
    layout.addStretch(1)
    # Plain text, no animated busy bar: repainting one would take the interpreter from the
    # worker thread sixty times a second while it opens the folder.
    label = QLabel(OPENING)
    label.setObjectName("openingLabel")
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    layout.addWidget(label)
    layout.addStretch(2)
    return notice


class MainWindow(QMainWindow):
    """`MainWindow(runtime)` is ready at once; `MainWindow()` shows the frame and waits for
    `attach(runtime)` (the app does that when its background start has finished)."""

    # The pages and the export flow exist from attach() on.
    studies: StudiesPage
    builder: BuilderPage
    results: ResultsPage
    sync: SyncPage
    audit: AuditPage
    settings_page: SettingsPage
    exports: ExportFlow

    def __init__(self, runtime: AppRuntime | None = None, theme_choice: str = "system") -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("CogFlow Desktop")
        self.resize(1180, 740)
        self.setMinimumSize(900, 560)
        self.state: AppState = None  # type: ignore[assignment]  # set by attach()
        self.pages: list[Page] = []
        self.kiosk: KioskWindow | None = None
        self.last_kiosk_outcome: KioskOutcome | None = None
        self._shut_down = False
        self.wizard: FirstRunWizard | None = None
        self.kiosk_dialog: KioskStartDialog | None = None
        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setFixedWidth(176)
        self.nav.setIconSize(QSize(20, 20))
        for title, _icon in PAGE_NAMES:
            self.nav.addItem(QListWidgetItem(title))
        self.stack = QStackedWidget()
        self.opening = _opening_notice()
        self.stack.addWidget(self.opening)
        self.nav.currentRowChanged.connect(self._show_page)
        body = QWidget()
        layout = QHBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.nav)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(body)
        self.theme_choice = ""
        self.apply_theme(theme_choice)
        # Actions that need the database or the server wait for attach().
        self.data_actions: list[QAction] = []
        self._build_menu()
        self.server_label = QLabel(OPENING)
        self.server_label.setObjectName("serverLabel")
        self.mfa_label = QLabel()
        self.statusBar().addWidget(self.server_label)
        self.statusBar().addPermanentWidget(self.mfa_label)
        self.status_timer = QTimer(self)
        self.status_timer.timeout.connect(self._update_status)
        self.nav.setCurrentRow(0)
        if runtime is not None:
            self.attach(runtime)

    @property
    def ready(self) -> bool:
        """The data folder is open and the pages are built."""
        return self.state is not None

    @property
    def is_shut_down(self) -> bool:
        return self._shut_down

    def show_startup_failure(self) -> None:
        """The data folder could not be opened: the notice says so (the reason is in the
        message box app.startup_failed shows over it)."""
        label = self.opening.findChild(QLabel, "openingLabel")
        if label is not None:
            label.setText("CogFlow Desktop cannot start.")
        self.server_label.setText("The data folder is not open.")

    def attach(self, runtime: AppRuntime) -> None:
        """The data folder is open and the server answers: build the pages over them."""
        from cogflow_desktop.gui.export_flow import ExportFlow
        from cogflow_desktop.gui.pages.audit import AuditPage
        from cogflow_desktop.gui.pages.base import scrolling
        from cogflow_desktop.gui.pages.builder import BuilderPage
        from cogflow_desktop.gui.pages.results import ResultsPage
        from cogflow_desktop.gui.pages.settings import SettingsPage
        from cogflow_desktop.gui.pages.studies import StudiesPage
        from cogflow_desktop.gui.pages.sync import SyncPage
        from cogflow_desktop.gui.prefs import Prefs
        from cogflow_desktop.gui.researcher import ResearcherSession
        from cogflow_desktop.gui.state import AppState
        from cogflow_desktop.gui.workers import JobRunner
        from cogflow_desktop.store.space import space_report

        if self.ready:
            raise RuntimeError("The main window is already attached to a runtime.")
        data_dir = runtime.ctx.settings.data_dir
        self.state = AppState(
            runtime=runtime,
            session=ResearcherSession(runtime.ctx),
            prefs=Prefs.load(data_dir),
            jobs=JobRunner(self),
        )
        self.studies = StudiesPage(self.state)
        self.builder = BuilderPage(self.state)
        self.results = ResultsPage(self.state)
        self.sync = SyncPage(self.state)
        self.audit = AuditPage(self.state)
        self.settings_page = SettingsPage(self.state)
        self.pages = [
            self.studies,
            self.builder,
            self.results,
            self.sync,
            self.audit,
            self.settings_page,
        ]
        self.exports = ExportFlow(self.state, self)
        row = max(self.nav.currentRow(), 0)  # the page the researcher chose while it opened
        self.stack.removeWidget(self.opening)
        self.opening.deleteLater()
        for index, page in enumerate(self.pages):
            self.nav.item(index).setText(page.title)
            # Settings is a long form: it scrolls rather than making the window taller than
            # a laptop's screen.
            self.stack.addWidget(scrolling(page) if page is self.settings_page else page)
        if self.state.prefs.theme != self.theme_choice:
            self.apply_theme(self.state.prefs.theme)
        else:
            self._paint_icons()  # the pages' own icon names
        self.settings_page.theme_changed.connect(self.apply_theme)
        self.server_label.setText(f"Local server {runtime.url} ✔")
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
        for action in self.data_actions:
            action.setEnabled(True)
        self.status_timer.start(5000)
        self.nav.blockSignals(True)
        self.nav.setCurrentRow(-1)
        self.nav.blockSignals(False)
        self.nav.setCurrentRow(row)
        self._update_status()
        space = space_report(data_dir)
        if space.low:  # warned before recording pauses on a full disk (README, faults)
            self.statusBar().showMessage(space.warning)

    # -- look ------------------------------------------------------------------------------
    def apply_theme(self, choice: str) -> None:
        self.theme_choice = choice
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
        names = [getattr(p, "icon_name", "") or p.title.lower() for p in self.pages] or [
            name for _title, name in PAGE_NAMES
        ]
        for row, name in enumerate(names):
            item_icon = icons.icon(name, colour)
            item_icon.addPixmap(
                icons.icon(name, selected).pixmap(20, 20), QIcon.Mode.Selected
            )
            self.nav.item(row).setIcon(item_icon)

    # -- menus (every action shows its shortcut) ----------------------------------------------
    def _action(
        self,
        menu: Any,
        text: str,
        slot: Any,
        shortcut: QKeySequence | str | None = None,
        needs_data: bool = True,
    ) -> QAction:
        """A menu action; one that `needs_data` stays disabled until the data folder is open
        (its slot may then use the pages, which exist from attach() on)."""
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutVisibleInContextMenu(True)
        action.triggered.connect(slot)
        menu.addAction(action)
        if needs_data:
            action.setEnabled(self.ready)
            self.data_actions.append(action)
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
        self._action(file_menu, "Import config…", lambda: self.studies.choose_import(), "Ctrl+O")
        self._action(
            file_menu,
            "Export results…",
            lambda: self._emit_export(),
            "Ctrl+E",
        )
        self.setup_action = self._action(
            file_menu, "Set up the researcher account…", self._setup_if_needed
        )
        file_menu.aboutToShow.connect(
            lambda: self.setup_action.setVisible(self.ready and self.needs_first_run())
        )
        file_menu.addSeparator()
        self._action(file_menu, "Quit", self.close, "Ctrl+Q", needs_data=False)  # Cmd+Q, macOS

        view = bar.addMenu("&View")
        for i, (title, _icon) in enumerate(PAGE_NAMES):
            go = lambda _c=False, row=i: self.show_row(row)  # noqa: E731
            self._action(view, title, go, f"Ctrl+{i + 1}", needs_data=False)
        view.addSeparator()
        self._action(view, "Refresh", self._refresh_current, "F5")

        results = bar.addMenu("&Results")
        self._action(
            results, "Decrypt selected runs", self._decrypt_selected, "Ctrl+D"
        )
        self._action(results, "Decrypt all runs", self._decrypt_all, "Ctrl+Shift+D")
        self._action(results, "Lock results", lambda: self.results.lock(), "Ctrl+L")
        results.addSeparator()
        self._action(results, "Sync now", lambda: self.sync.sync_now(), "Ctrl+Shift+S")
        self._action(
            results,
            "Set up / replace authenticator…",
            lambda: self.settings_page.open_authenticator(),
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
        from cogflow_desktop.gui.dialogs.about import AboutDialog

        dialog = AboutDialog(self.state.ctx.settings.resources, self)
        dialog.open()
        return dialog

    # -- navigation --------------------------------------------------------------------------
    def _show_page(self, index: int) -> None:
        if not 0 <= index < len(self.pages):  # still opening: the notice stays
            return
        self.stack.setCurrentIndex(index)
        try:
            self.pages[index].shown()
        except Exception as exc:  # a page that cannot load says so, the window stays usable
            _show_error(self, f"{self.pages[index].title} could not be shown", exc)

    def show_row(self, row: int) -> None:
        if self.nav.currentRow() == row:
            self._show_page(row)  # already current: still reload what it shows
        else:
            self.nav.setCurrentRow(row)

    def show_page(self, page: Page) -> None:
        self.show_row(self.pages.index(page))

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
        from cogflow_desktop.gui import mfa_status

        if not self.ready:
            return
        session = self.state.session
        self.mfa_label.setText(mfa_status.describe(session.username, session.fresh_until()))
        watchdog = self.state.runtime.watchdog
        if watchdog is not None and watchdog.last_event:  # the server was restarted (or not)
            self.server_label.setText(watchdog.last_event)

    # -- first run ---------------------------------------------------------------------------
    def needs_first_run(self) -> bool:
        from cogflow_desktop.services import users

        return users.user_count(self.state.ctx) == 0

    def start_first_run(self) -> FirstRunWizard:
        from cogflow_desktop.gui.dialogs.wizard import FirstRunWizard

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
        from cogflow_desktop.gui import queries
        from cogflow_desktop.gui.dialogs.kiosk import KioskStartDialog

        if self.kiosk is not None:
            _show_error(self, "A run is in progress", "A participant's run is already open.")
            return None
        if self.needs_first_run():
            _show_error(
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
        from cogflow_desktop.gui import queries
        from cogflow_desktop.gui.kiosk import KioskWindow

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
            box = _show_error(self, title, text)
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
        if not self.ready:  # closed while the data folder was opening: nothing runs yet
            return
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
