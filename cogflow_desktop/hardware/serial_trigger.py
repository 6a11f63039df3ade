"""Trigger codes on a serial port: the USB trigger boxes of EEG amplifiers take one byte (the
code) on a virtual COM port and put it on their parallel/TTL output.

A pulse is the code, then after `pulse_ms` a 0 byte (the line back to rest); `pulse_ms` 0 sends
the code alone, for boxes that shape the pulse themselves. Sends are scheduled on the LSL clock:
a code is written when that clock reaches the event's time plus the machine's delay, or at once
if that moment has passed, and each send records how late it was. One worker thread owns the
port, so the caller (the Qt main thread, a server thread) never waits for the device.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cogflow_desktop.hardware.lsl import local_clock

log = logging.getLogger(__name__)
SPIN_S = 0.002  # the last 2 ms before a deadline are waited by polling the clock (sleep is coarse)
WRITE_TIMEOUT_S = 1.0


class TriggerError(Exception):
    """The port could not be opened or written; the message is one sentence."""


def available_ports() -> list[tuple[str, str]]:
    """(device, description) of the serial ports this computer has (COM3, /dev/ttyUSB0, ...)."""
    from serial.tools import list_ports

    return [(p.device, p.description or p.device) for p in list_ports.comports()]


def wait_until(deadline: float, clock: Callable[[], float]) -> None:
    while True:
        left = deadline - clock()
        if left <= 0:
            return
        if left > SPIN_S:
            time.sleep(left - SPIN_S)


@dataclass
class TriggerJob:
    code: int
    target: float  # LSL time the code should go out at
    label: str = ""
    sent_at: float | None = None
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def lateness_ms(self) -> float | None:
        return None if self.sent_at is None else (self.sent_at - self.target) * 1000


def open_port(port: str, baud: int) -> Any:
    """A pyserial port for a device name or a pyserial URL (loop://, socket://, ...)."""
    import serial

    try:
        return serial.serial_for_url(
            port, baudrate=baud, timeout=0, write_timeout=WRITE_TIMEOUT_S, do_not_open=False
        )
    except (serial.SerialException, ValueError, OSError) as exc:
        raise TriggerError(f"The trigger port {port} could not be opened: {exc}") from exc


class TriggerPort:
    def __init__(
        self,
        port: str,
        baud: int = 115200,
        pulse_ms: float = 10.0,
        clock: Callable[[], float] = local_clock,
    ) -> None:
        self.port = port
        self.baud = baud
        self.pulse_ms = max(0.0, float(pulse_ms))
        self.clock = clock
        self.serial: Any = None
        self.last_error: str | None = None
        self._jobs: queue.Queue[TriggerJob | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def open(self) -> TriggerPort:
        """Open the port now (raises TriggerError with the reason) and start the sender."""
        with self._lock:
            if self.serial is None:
                self.serial = open_port(self.port, self.baud)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="cogflow-triggers", daemon=True
                )
                self._thread.start()
        return self

    def send(self, code: int, at: float | None = None, label: str = "") -> TriggerJob:
        """Queue a code for LSL time `at` (now if None or past); returns at once."""
        if not 0 <= int(code) <= 255:
            raise ValueError(f"A trigger code is a number from 0 to 255, not {code}.")
        job = TriggerJob(int(code), self.clock() if at is None else float(at), label)
        if self._thread is None:
            job.error = "The trigger port is not open."
            job.done.set()
            return job
        self._jobs.put(job)
        return job

    def test(self, code: int, timeout: float = 3.0) -> TriggerJob:
        """Send one code now and wait for the result (the Settings "Test trigger" button)."""
        self.open()
        job = self.send(code)
        if not job.done.wait(timeout):
            job.error = f"The trigger port {self.port} did not take the code within {timeout:g} s."
        return job

    def close(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._jobs.put(None)
            thread.join(5)
        with self._lock:
            if self.serial is not None:
                try:
                    self.serial.close()
                except Exception:  # closing a port that vanished (unplugged) is not an error
                    log.debug("closing %s failed", self.port, exc_info=True)
                self.serial = None

    # -- the sender thread -------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                self._pulse(job)
            except Exception as exc:
                job.error = f"The trigger code {job.code} could not be sent on {self.port}: {exc}"
                self.last_error = job.error
                log.warning("%s", job.error)
                self._reopen_later()
            finally:
                job.done.set()

    def _pulse(self, job: TriggerJob) -> None:
        port = self.serial
        if port is None:
            port = self.serial = open_port(self.port, self.baud)
        wait_until(job.target, self.clock)
        port.write(bytes((job.code,)))
        port.flush()
        job.sent_at = self.clock()
        if self.pulse_ms > 0 and job.code != 0:
            wait_until(job.sent_at + self.pulse_ms / 1000, self.clock)
            port.write(b"\x00")
            port.flush()

    def _reopen_later(self) -> None:
        """A failed port is closed; the next code opens it again (a box plugged back in)."""
        port, self.serial = self.serial, None
        if port is not None:
            try:
                port.close()
            except Exception:
                log.debug("closing %s after an error failed", self.port, exc_info=True)


def summarize(jobs: list[TriggerJob]) -> dict[str, Any]:
    """Counts and lateness of a run's triggers (jobs still queued count as pending)."""
    sent = [j for j in jobs if j.sent_at is not None]
    late = sorted(j.lateness_ms for j in sent if j.lateness_ms is not None)
    errors = [j.error for j in jobs if j.error]
    return {
        "sent": len(sent),
        "failed": len(errors),
        "pending": sum(1 for j in jobs if not j.done.is_set()),
        "lateness_ms_median": round(late[len(late) // 2], 3) if late else None,
        "lateness_ms_max": round(late[-1], 3) if late else None,
        "errors": errors[:5],
    }
