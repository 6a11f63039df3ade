"""The shell's own preferences, kept as JSON in the data folder (a lab machine's whole state
lives in one folder that can be backed up and moved)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

PREFS_FILE = "desktop-prefs.json"


@dataclass
class Prefs:
    sync_server_url: str = ""
    sync_username: str = ""
    auto_sync: bool = False
    auto_sync_minutes: int = 15
    kiosk_screen: int = 0
    # After a stored run the end screen stays this long, then the kiosk closes itself;
    # 0 = it waits for the experimenter's key chord.
    kiosk_end_seconds: int = 10
    last_username: str = ""
    theme: str = "system"  # system (follows the OS), light or dark

    @classmethod
    def load(cls, data_dir: Path) -> Prefs:
        path = data_dir / PREFS_FILE
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in raw.items() if k in known} if isinstance(raw, dict) else {}
        try:
            return cls(**values)
        except TypeError:
            return cls()

    def save(self, data_dir: Path) -> None:
        path = data_dir / PREFS_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")
        os.replace(tmp, path)  # atomic, so a crash never leaves half a file
