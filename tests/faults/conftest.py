"""The fault tests reuse the GUI tests' page helpers (tests/gui/gui_helpers.py), the browser
tests' Chromium settings (tests/web/chromium.py) and the sync tests' central-like server
(tests/sync/central_server.py)."""

from __future__ import annotations

import sys
from pathlib import Path

for _folder in ("gui", "web", "sync"):
    _path = str(Path(__file__).resolve().parent.parent / _folder)
    if _path not in sys.path:
        sys.path.append(_path)
