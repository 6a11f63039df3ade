"""Settings > Timing self-test opens /interpreter/selftest full screen on the participant
screen; the page measures the display and flashes its patch for the planned frames; Esc closes."""

from __future__ import annotations

import json
from typing import Any

from gui_helpers import wait_js
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from cogflow_desktop.gui.main_window import MainWindow


def test_settings_opens_the_timing_self_test(qtbot: Any, window: MainWindow) -> None:
    window.show_page(window.settings_page)
    qtbot.mouseClick(window.settings_page.selftest_button, Qt.MouseButton.LeftButton)
    test_window = window.settings_page.selftest_window
    assert test_window is not None and test_window.isFullScreen()
    wait_js(qtbot, test_window.page, "document.body.dataset.selftestState", lambda s: s == "ready",
            timeout=60000)
    # Start a short test through the page's own form and wait for its report.
    wait_js(qtbot, test_window.page,
            "(() => { const f = document.querySelector('[data-role=\"form\"]');"
            " f.elements.frames.value = 3; f.elements.flashes.value = 4; f.requestSubmit();"
            " return true; })()")
    wait_js(qtbot, test_window.page, "window.cogflowSelftest.state", lambda s: s == "done",
            timeout=60000)
    summary = json.loads(
        wait_js(qtbot, test_window.page, "JSON.stringify(window.cogflowSelftest.summary)")
    )
    assert summary["flashes"] == 4 and summary["planned_frames"] == 3, summary
    QTest.keyClick(test_window, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: window.settings_page.selftest_window is None, timeout=10000)
