"""#12.9: publishing over collected data keeps the runs' config (a new version, said so), an
empty timeline is not published, and the Builder's "Run it in the Interpreter" opens the kiosk
dialog in the app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gui_helpers import FLANKER, WAIT_MS, Researcher, record_run, run_js, wait_js
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from cogflow_desktop.gui.main_window import MainWindow
from cogflow_desktop.gui.runtime import AppRuntime
from cogflow_desktop.services import studies
from cogflow_desktop.store.models import ConfigVersion, RunSession

pytestmark = pytest.mark.gui

CONFIG = {"task_type": "flanker", "timeline": [{"type": "instructions", "stimulus": "One"}]}


def _publish(runtime: AppRuntime, config: dict, label: str = "v1") -> dict:
    return studies.publish(
        runtime.ctx,
        studies.PublishRequest("stable", "Stable", label, config),
        actor="test",
        client="test",
    )


def test_publishing_over_collected_runs_stores_a_new_version(
    runtime: AppRuntime, researcher: Researcher
) -> None:
    first = _publish(runtime, CONFIG)
    assert _publish(runtime, CONFIG)["config_version_id"] == first["config_version_id"]
    run_id = record_run(runtime, "stable", "P1", 2, submit="completed")
    # Same content again: nothing changes (a retried publish).
    again = _publish(runtime, CONFIG)
    assert again["config_version_id"] == first["config_version_id"]
    assert again["config_version_label_adjusted"] is False
    changed = {**CONFIG, "timeline": [{"type": "instructions", "stimulus": "Two"}]}
    answer = _publish(runtime, changed)
    assert answer["config_version_label"] == "v1-2"
    assert answer["requested_config_version_label"] == "v1"
    assert answer["config_version_label_adjusted"] is True
    assert answer["config_version_id"] != first["config_version_id"]
    with runtime.ctx.read() as s:
        run = s.get(RunSession, run_id)
        assert run is not None
        used = s.get(ConfigVersion, run.config_version_id)
        assert used is not None and used.label == "v1"
        assert used.config["timeline"][0]["stimulus"] == "One"
    assert studies.latest_config(runtime.ctx, "stable")["config_version_label"] == "v1-2"
    # Once more over v1: the next free label.
    third = {**CONFIG, "timeline": [{"type": "instructions", "stimulus": "Three"}]}
    assert _publish(runtime, third)["config_version_label"] == "v1-3"


def test_an_empty_timeline_is_not_imported(qtbot, window: MainWindow, tmp_path: Path) -> None:
    path = tmp_path / "empty.json"
    path.write_text(json.dumps({"task_type": "flanker", "timeline": []}), encoding="utf-8")
    assert window.studies.import_file(path) is None
    boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    assert len(boxes) == 1 and "timeline is empty" in boxes[0].text()
    assert studies.list_studies(window.state.ctx) == []


def test_run_it_in_the_interpreter_opens_the_kiosk_dialog(
    qtbot, window: MainWindow, researcher: Researcher
) -> None:
    slug = window.studies.import_file(FLANKER)
    assert slug
    page = window.builder
    window.open_builder(slug)
    if not page.installed:
        pytest.skip("the Builder is not part of this checkout")
    assert page.view is not None
    # The Builder marks itself ready once its schema is loaded and its library drawn.
    wait_js(qtbot, page.view.page(), "Boolean(document.body && document.body.dataset.ready)")
    # The link the Builder shows after a publish (target=_blank, as in a browser), clicked.
    raw = run_js(
        qtbot,
        page.view.page(),
        "(() => { const a = document.createElement('a');"
        f"a.href = '../interpreter/?study={slug}'; a.target = '_blank'; a.rel = 'noopener';"
        "a.textContent = 'Run it in the Interpreter'; a.id = 'run-link';"
        "a.style = 'position:fixed;left:10px;top:10px;z-index:99999;font-size:30px';"
        "document.body.append(a); const r = a.getBoundingClientRect();"
        "return JSON.stringify([Math.round(r.left + r.width / 2),"
        " Math.round(r.top + r.height / 2)]);"
        "})()",
    )
    rect = json.loads(raw)
    target = page.view.focusProxy() or page.view
    QTest.mouseClick(target, Qt.MouseButton.LeftButton, pos=QPoint(rect[0], rect[1]))
    qtbot.waitUntil(
        lambda: window.kiosk_dialog is not None and window.kiosk_dialog.isVisible(),
        timeout=WAIT_MS,
    )
    assert window.kiosk_dialog.study.currentText() == slug
    assert window.kiosk is None  # nothing runs before the researcher types a participant id
