"""Trigger codes on serial ports: pyserial's loop:// (in process, every platform) and a socat
pseudo-terminal pair (a real OS serial device, as a USB trigger box shows up; needs socat,
listed in scripts/os-packages-debian.txt)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from cogflow_desktop.hardware import machine
from cogflow_desktop.hardware.serial_trigger import TriggerError, TriggerPort, summarize


def test_codes_and_their_pulses_in_order_on_loop() -> None:
    port = TriggerPort("loop://", pulse_ms=2).open()
    try:
        jobs = [port.send(code) for code in (1, 2, 255, 7)]
        for job in jobs:
            assert job.done.wait(10) and job.error is None
        assert port.serial.read(64) == bytes([1, 0, 2, 0, 255, 0, 7, 0])
    finally:
        port.close()


def test_scheduled_codes_never_go_out_early() -> None:
    port = TriggerPort("loop://", pulse_ms=0).open()
    try:
        at = port.clock() + 0.05
        job = port.send(42, at)
        assert job.done.wait(10)
        assert job.sent_at is not None and job.sent_at >= at
        assert port.serial.read(8) == bytes([42])  # pulse 0: the box shapes the pulse
        assert summarize([job])["sent"] == 1
    finally:
        port.close()


def test_bad_codes_and_ports_are_sentences(tmp_path: Path) -> None:
    port = TriggerPort("loop://")
    with pytest.raises(ValueError, match="0 to 255"):
        port.send(256)
    closed = port.send(5)  # never opened
    assert closed.done.is_set() and closed.error == "The trigger port is not open."
    missing = tmp_path / "ttyNOPE"
    with pytest.raises(TriggerError, match="could not be opened"):
        TriggerPort(str(missing)).open()


def test_machine_settings_round_trip_and_refuse_nonsense(tmp_path: Path) -> None:
    assert machine.load(tmp_path) == machine.HardwareSettings()
    s = machine.HardwareSettings(
        lsl_enabled=True, trigger_port="COM3", pulse_ms=5, onset_delay_ms=16.7
    )
    machine.save(tmp_path, s)
    assert machine.load(tmp_path) == s
    with pytest.raises(ValueError, match="pulse width"):
        s.updated(pulse_ms=-1)
    machine.settings_path(tmp_path).write_text('{"pulse_ms": "wide"}', "utf-8")
    assert machine.load(tmp_path) == machine.HardwareSettings()  # logged, defaults


@pytest.fixture()
def pty_pair(tmp_path: Path) -> Iterator[tuple[str, str]]:
    socat = shutil.which("socat")
    if socat is None or sys.platform == "win32":
        pytest.skip("socat (apt-get install socat) makes the virtual serial port pair")
    a, b = tmp_path / "ttyA", tmp_path / "ttyB"
    proc = subprocess.Popen(
        [socat, "-d", f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while not (a.exists() and b.exists()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert a.exists() and b.exists(), "socat did not create the pty pair"
        yield str(a), str(b)
    finally:
        proc.terminate()
        proc.wait(10)


def test_every_code_arrives_on_the_other_end_of_a_pty_pair(pty_pair: tuple[str, str]) -> None:
    a, b = pty_pair
    with serial.Serial(b, 115200, timeout=0.2) as rx:
        rx.reset_input_buffer()
        port = TriggerPort(a, baud=115200, pulse_ms=1).open()
        try:
            codes = list(range(1, 41))
            jobs = [port.send(c) for c in codes]
            got = b""
            deadline = time.monotonic() + 20
            while len(got) < 2 * len(codes) and time.monotonic() < deadline:
                got += rx.read(2 * len(codes) - len(got))
            assert list(got) == [x for c in codes for x in (c, 0)]
            assert all(j.done.wait(10) and j.error is None for j in jobs)
        finally:
            port.close()
