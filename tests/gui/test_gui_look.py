"""Look and feel: menus show their shortcuts, the About box names versions and licences, the
theme follows the choice (light/dark), the navigation has icons, and the studies overview
reads at a glance."""

from __future__ import annotations

import pytest
from gui_helpers import FLANKER, Researcher, record_run
from PySide6.QtCharts import QBarSeries
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from cogflow_desktop.gui.main_window import MainWindow
from cogflow_desktop.gui.pages.base import table_model
from cogflow_desktop.gui.prefs import Prefs
from cogflow_desktop.services.context import open_context

pytestmark = pytest.mark.gui


def test_menus_show_shortcuts_and_pages_have_icons(qtbot, window: MainWindow) -> None:
    actions = {
        a.text(): a
        for menu in window.menuBar().findChildren(type(window.menuBar().addMenu("x")))
        for a in menu.actions()
    }
    for text in ("Run a participant…", "Import config…", "Results", "Sync now", "Quit"):
        assert not actions[text].shortcut().isEmpty(), text
    actions["Results"].trigger()
    assert window.stack.currentWidget() is window.results
    for row in range(window.nav.count()):
        assert not window.nav.item(row).icon().isNull()


def test_about_box_names_versions_and_licences(qtbot, window: MainWindow) -> None:
    dialog = window.show_about()
    qtbot.addWidget(dialog)
    text = dialog.text.toPlainText()
    for needle in ("CogFlow Desktop", "Chromium", "SQLite", "Qt / PySide6", "jspsych"):
        assert needle in text
    assert "filelock" in text and "MIT" in text and "LGPL" in text


def test_theme_choice_light_and_dark(qtbot, window: MainWindow) -> None:
    page = window.settings_page
    page.theme.setCurrentIndex(page.theme.findData("dark"))
    app = QApplication.instance()
    assert app.palette().color(QPalette.ColorRole.Window).lightness() < 100
    assert Prefs.load(window.state.ctx.settings.data_dir).theme == "dark"
    page.theme.setCurrentIndex(page.theme.findData("light"))
    assert app.palette().color(QPalette.ColorRole.Window).lightness() > 200


def test_studies_overview_reads_at_a_glance(
    qtbot, window: MainWindow, researcher: Researcher
) -> None:
    slug = window.studies.import_file(FLANKER)
    assert slug
    rt = window.state.runtime
    record_run(rt, slug, "P1", 3, submit="completed")
    record_run(rt, slug, "P2", 3, submit="completed")
    record_run(rt, slug, "P3", 1)
    open_context(rt.ctx.settings).close()  # as after a restart: the open run is interrupted
    page = window.studies
    window.show_page(page)
    row = table_model(page.table).row(0)
    assert row["runs_last_7_days"] == 3 and row["problems"] == "1 interrupted"
    assert abs(row["completion_rate"] - 2 / 3) < 1e-9
    assert page.cards["statWeek"][0].text() == "3"
    assert page.cards["statCompletion"][0].text() == "67 %"
    assert page.cards["statProblems"][0].text() == "1"
    assert page.cards["statSync"][0].text() == "never"
    (series,) = [s for s in page.per_day.chart.series() if isinstance(s, QBarSeries)]
    bars = series.barSets()[0]
    assert [bars.at(i) for i in range(bars.count())][-1] == 3
