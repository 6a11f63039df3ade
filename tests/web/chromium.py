"""Where the browser tests find Chromium, and the flags every driver launches it with."""

from __future__ import annotations

import shutil

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"

# Headless and quiet (no GPU, no background traffic), and no throttling of timers or frames in
# pages Chromium thinks are hidden: the Interpreter's frame clock must keep its pace.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-renderer-backgrounding",
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
]
