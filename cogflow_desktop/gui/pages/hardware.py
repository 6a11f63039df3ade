"""Settings, Lab hardware: whether this computer sends LSL event markers, and where trigger
codes go (port, baud, pulse width, onset delay), with a "Send test trigger" button.

A study turns markers and codes on in its config; these settings say whether and where this
computer sends them. They are saved in hardware.json in the data folder (`serve` reads them
too) and apply from the next run on.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QWidget,
)

from cogflow_desktop.hardware import lsl, machine, registry
from cogflow_desktop.hardware.serial_trigger import TriggerError, TriggerJob, available_ports
from cogflow_desktop.services.context import Context

NO_PORT_LABEL = "No trigger port"
POLL_MS = 50


def _note(text: str = "", name: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if name:
        label.setObjectName(name)
        label.setMinimumWidth(560)  # a status sentence, not a narrow column
    return label


class HardwareSection(QGroupBox):
    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__("Lab hardware: LSL markers and trigger codes", parent)
        self.setObjectName("hardwareSection")
        self.ctx = ctx
        self.host = registry.ensure_host(ctx)
        s = self.host.settings
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        form.addRow(
            _note(
                "Studies turn markers and trigger codes on in their configuration; here you "
                "choose whether this computer sends them, and where. Changes apply from the "
                "next run."
            )
        )
        self.lsl = QCheckBox("Send LSL event markers from this computer")
        self.lsl.setObjectName("lslEnabled")
        self.lsl.setChecked(s.lsl_enabled)
        form.addRow("LSL", self.lsl)
        self.lsl_status = _note(name="lslStatus")
        form.addRow("", self.lsl_status)

        self.port = QComboBox()
        self.port.setObjectName("triggerPort")
        self.port.setEditable(True)  # a port the list misses, or a pyserial URL
        self.port.setMinimumWidth(320)
        self.port.addItem(NO_PORT_LABEL, "")
        for device, description in available_ports():
            self.port.addItem(f"{device} ({description})", device)
        self._select_port(s.trigger_port)
        form.addRow("Trigger port", self.port)
        self.baud = QComboBox()
        self.baud.setObjectName("triggerBaud")
        for rate in machine.BAUD_RATES:
            self.baud.addItem(str(rate), rate)
        self.baud.setCurrentIndex(max(0, self.baud.findData(s.trigger_baud)))
        form.addRow("Baud rate", self.baud)
        self.pulse = QDoubleSpinBox()
        self.pulse.setObjectName("pulseMs")
        self.pulse.setRange(0, 1000)
        self.pulse.setDecimals(1)
        self.pulse.setSuffix(" ms")
        self.pulse.setSpecialValueText("0 ms (the box shapes the pulse)")
        self.pulse.setValue(s.pulse_ms)
        self.pulse.setMinimumWidth(240)
        form.addRow("Pulse width", self.pulse)
        self.delay = QDoubleSpinBox()
        self.delay.setObjectName("onsetDelayMs")
        self.delay.setRange(0, 1000)
        self.delay.setDecimals(1)
        self.delay.setSuffix(" ms")
        self.delay.setValue(s.onset_delay_ms)
        self.delay.setMinimumWidth(240)
        self.delay.setToolTip(
            "Display lag to add to onset codes, measured with a photodiode on the timing "
            "self-test page: the code then goes out when the stimulus reaches the screen."
        )
        form.addRow("Onset code delay", self.delay)
        self.test_code = QSpinBox()
        self.test_code.setObjectName("testCode")
        self.test_code.setRange(1, 255)
        self.test_code.setValue(s.test_code)
        self.test_button = QPushButton("Send test trigger")
        self.test_button.setObjectName("testTrigger")
        self.test_button.clicked.connect(self.send_test_trigger)
        test_row = QHBoxLayout()
        test_row.addWidget(QLabel("Code"))
        test_row.addWidget(self.test_code)
        test_row.addWidget(self.test_button)
        test_row.addStretch(1)
        form.addRow("Test", test_row)
        self.trigger_status = _note(name="triggerStatus")
        form.addRow("", self.trigger_status)

        self.lsl.toggled.connect(self.save)
        self.port.currentIndexChanged.connect(self.save)
        self.port.lineEdit().editingFinished.connect(self.save)
        for box in (self.baud,):
            box.currentIndexChanged.connect(self.save)
        for spin in (self.pulse, self.delay, self.test_code):
            spin.editingFinished.connect(self.save)
        self._test: tuple[threading.Thread, list[TriggerJob | str]] | None = None
        self._show_lsl_status()

    # -- reading and saving ------------------------------------------------------------------
    def _select_port(self, port: str) -> None:
        index = self.port.findData(port)
        if index < 0 and port:
            self.port.addItem(port, port)
            index = self.port.count() - 1
        self.port.setCurrentIndex(max(0, index))

    def port_value(self) -> str:
        text = self.port.currentText().strip()
        if self.port.currentIndex() >= 0 and text == self.port.itemText(self.port.currentIndex()):
            return str(self.port.currentData() or "")
        return "" if text == NO_PORT_LABEL else text

    def save(self) -> bool:
        try:
            new = self.host.settings.updated(
                lsl_enabled=self.lsl.isChecked(),
                trigger_port=self.port_value(),
                trigger_baud=int(self.baud.currentData()),
                pulse_ms=float(self.pulse.value()),
                onset_delay_ms=float(self.delay.value()),
                test_code=int(self.test_code.value()),
            )
        except ValueError as exc:
            self.trigger_status.setText(str(exc))
            return False
        if new == self.host.settings:
            return True
        machine.save(self.ctx.settings.data_dir, new)
        self.host.apply_settings(new)
        self._show_lsl_status()
        return True

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._show_lsl_status()  # studies published since: their streams open now

    def _show_lsl_status(self) -> None:
        if not self.host.settings.lsl_enabled:
            self.lsl_status.setText("Off: no markers are sent from this computer.")
            return
        ok, library = lsl.available()
        if not ok:
            self.lsl_status.setText(library)
            return
        opened, problems = self.host.open_study_streams()
        if problems:
            self.lsl_status.setText(problems[0])
        elif opened:
            names = ", ".join(o.name for o in opened)
            self.lsl_status.setText(f"On ({library}). Streams open for recorders: {names}.")
        else:
            self.lsl_status.setText(
                f"On ({library}). No published study turns LSL markers on yet; its stream "
                "opens when it is published and run."
            )

    # -- the test trigger (in a thread: a stuck port must not freeze the window) -------------
    def send_test_trigger(self) -> None:
        if self._test is not None or not self.save():
            return
        box: list[TriggerJob | str] = []

        def work() -> None:
            try:
                box.append(self.host.test_trigger())
            except TriggerError as exc:
                box.append(str(exc))

        thread = threading.Thread(target=work, name="cogflow-test-trigger", daemon=True)
        self._test = (thread, box)
        self.test_button.setEnabled(False)
        self.trigger_status.setText("Sending…")
        thread.start()
        QTimer.singleShot(POLL_MS, self._test_done)

    def _test_done(self) -> None:
        if self._test is None:
            return
        thread, box = self._test
        if thread.is_alive():
            QTimer.singleShot(POLL_MS, self._test_done)
            return
        self._test = None
        self.test_button.setEnabled(True)
        result = box[0] if box else "The test trigger did not finish."
        if isinstance(result, str):
            self.trigger_status.setText(result)
        elif result.error:
            self.trigger_status.setText(result.error)
        else:
            port = self.host.settings
            pulse = f"pulse {port.pulse_ms:g} ms" if port.pulse_ms else "no reset byte"
            self.trigger_status.setText(
                f"Sent code {result.code} on {port.trigger_port} at {port.trigger_baud} baud "
                f"({pulse})."
            )
