"""This computer's lab hardware settings, in `hardware.json` in the data folder (the app's
Settings page writes it; `serve` reads it and its flags override it for one launch).

A study turns markers and triggers on for itself (its config's `lsl` and `triggers`); this
computer decides whether it sends them at all and where: LSL markers are off until turned on
here, triggers need a port.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
FILE_NAME = "hardware.json"
BAUD_RATES = (9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600, 2000000)


@dataclass(frozen=True)
class HardwareSettings:
    lsl_enabled: bool = False
    trigger_port: str = ""  # COM3, /dev/ttyUSB0, or a pyserial URL; "" = no triggers
    trigger_baud: int = 115200
    pulse_ms: float = 10.0  # code held this long, then 0; 0 = the box shapes the pulse
    # Display lag to add to stimulus-onset triggers (measure it with a photodiode on
    # /interpreter/selftest): the code then goes out when the stimulus reaches the screen.
    onset_delay_ms: float = 0.0
    test_code: int = 255

    def __post_init__(self) -> None:
        problems = []
        if not 1 <= self.trigger_baud <= 10_000_000:
            problems.append(f"baud rate {self.trigger_baud} is out of range")
        if not 0 <= self.pulse_ms <= 1000:
            problems.append("the pulse width must be 0 to 1000 ms")
        if not 0 <= self.onset_delay_ms <= 1000:
            problems.append("the onset delay must be 0 to 1000 ms")
        if not 1 <= self.test_code <= 255:
            problems.append("the test code must be 1 to 255")
        if problems:
            raise ValueError("Lab hardware settings: " + "; ".join(problems) + ".")

    @property
    def triggers_configured(self) -> bool:
        return bool(self.trigger_port.strip())

    def updated(self, **changes: Any) -> HardwareSettings:
        return replace(self, **changes)


def settings_path(data_dir: Path) -> Path:
    return Path(data_dir) / FILE_NAME


def load(data_dir: Path) -> HardwareSettings:
    """The saved settings, or the defaults (a missing or unreadable file is logged, not fatal)."""
    path = settings_path(data_dir)
    try:
        raw = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return HardwareSettings()
    except (OSError, ValueError) as exc:
        log.warning("Lab hardware settings %s could not be read (%s); using defaults.", path, exc)
        return HardwareSettings()
    known = {f.name: f.type for f in fields(HardwareSettings)}
    values = {k: v for k, v in raw.items() if k in known} if isinstance(raw, dict) else {}
    try:
        return HardwareSettings(**values)
    except (TypeError, ValueError) as exc:
        log.warning("Lab hardware settings %s are invalid (%s); using defaults.", path, exc)
        return HardwareSettings()


def save(data_dir: Path, settings: HardwareSettings) -> None:
    """Written whole under a temporary name, then renamed: never half a file."""
    path = settings_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(asdict(settings), indent=2) + "\n", "utf-8")
    os.replace(tmp, path)
