"""The fault tests reuse the GUI tests' page helpers (tests/gui/gui_helpers.py)."""

from __future__ import annotations

import sys
from pathlib import Path

_GUI_TESTS = str(Path(__file__).resolve().parent.parent / "gui")
if _GUI_TESTS not in sys.path:
    sys.path.append(_GUI_TESTS)
