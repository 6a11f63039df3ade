"""Settings, Lab hardware: turning LSL on opens the streams of the studies that ask for them,
the port and pulse are saved for this computer, and "Send test trigger" puts the code on the
port (pyserial's loop://, which hands back what was written) or says why it could not."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import lsl_helpers  # noqa: F401  (liblsl on loopback only, before anything opens a stream)
from PySide6.QtCore import Qt

from cogflow_desktop.gui.main_window import MainWindow
from cogflow_desktop.hardware import machine
from cogflow_desktop.services import studies, users

SHOTS = os.environ.get("COGFLOW_SCREENSHOT_DIR")


def publish_lsl_study(window: MainWindow) -> None:
    ctx = window.state.ctx
    users.create_user(ctx, "admin", "correct horse battery")
    config = {
        "experiment_type": "trial-based",
        "lsl": {"enabled": True},
        "triggers": {"enabled": True, "codes": {"flanker-trial": 10}},
        "timeline": [{"type": "instructions"}],
    }
    studies.publish(
        ctx,
        studies.PublishRequest("eeg-oddball", "EEG oddball", "v1", config),
        actor="t",
        client=None,
    )


def set_port(section: Any, text: str) -> None:
    section.port.setEditText(text)
    section.port.lineEdit().editingFinished.emit()


def test_lab_hardware_settings(qtbot: Any, window: MainWindow) -> None:
    publish_lsl_study(window)
    window.show_page(window.settings_page)
    section = window.settings_page.hardware
    data_dir: Path = window.state.ctx.settings.data_dir
    assert "Off" in section.lsl_status.text()

    section.lsl.setChecked(True)
    assert machine.load(data_dir).lsl_enabled is True
    assert "CogFlow-eeg-oddball" in section.lsl_status.text()
    assert section.host.outlets, "the study's stream is open for recorders"

    set_port(section, "loop://")
    section.pulse.setValue(2)
    section.pulse.editingFinished.emit()
    saved = machine.load(data_dir)
    assert (saved.trigger_port, saved.pulse_ms) == ("loop://", 2.0)

    section.test_code.setValue(77)
    qtbot.mouseClick(section.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: section.test_button.isEnabled(), timeout=10000)
    assert section.trigger_status.text() == "Sent code 77 on loop:// at 115200 baud (pulse 2 ms)."
    port = section.host.trigger_port
    assert port is not None and port.serial.read(8) == bytes([77, 0])
    if SHOTS:
        window.resize(1280, 900)
        window.grab().save(str(Path(SHOTS) / "settings-lab-hardware.png"))

    missing = data_dir / "no-such-port"
    set_port(section, str(missing))
    qtbot.mouseClick(section.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: section.test_button.isEnabled(), timeout=10000)
    assert "could not be opened" in section.trigger_status.text()
    assert str(missing) in section.trigger_status.text()

    section.lsl.setChecked(False)
    assert section.host.outlets == {} and "Off" in section.lsl_status.text()
