#!/usr/bin/env python3
"""Screenshots of the Builder at 1280x800 with a study open, for the docs.

Starts a real embedded server on a loopback port with a throwaway data folder, opens the
Builder in Debian's Chromium (Playwright), imports a compat config, selects its block and
writes docs/screenshots/builder-study.png (and builder-preview.png with the preview open).

Usage: python scripts/screenshot_builder.py [--chromium /usr/bin/chromium] [--config FILE]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from conftest import COMPAT_CONFIGS, start_live_server, stop_live_server  # noqa: E402

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
OUT = ROOT / "docs" / "screenshots"


def main() -> int:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--config", default=str(COMPAT_CONFIGS / "sample_simon_01.json"))
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cogflow-shot-") as tmp:
        live = start_live_server(Path(tmp))
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 800}, bypass_csp=True)
                page.goto(f"{live.url}/builder/")
                page.wait_for_selector('body[data-ready="true"]')
                with page.expect_file_chooser() as chooser:
                    page.get_by_role("button", name="Import…").click()
                chooser.value.set_files(args.config)
                page.get_by_label("Study name").fill("Simon task, lab pilot")
                block = page.get_by_role("treeitem").filter(has_text="Block")
                block.first.click()
                page.get_by_role("button", name="Loop", exact=True).click()  # show nesting
                block.first.click()
                page.mouse.move(0, 0)
                page.wait_for_function("document.getElementById('draft-state').textContent !== ''")
                page.screenshot(path=str(OUT / "builder-study.png"))
                page.get_by_role("button", name="Preview", exact=True).click()
                page.wait_for_timeout(2500)
                page.screenshot(path=str(OUT / "builder-preview.png"))
                browser.close()
        finally:
            stop_live_server(live)
    print(f"wrote {OUT / 'builder-study.png'} and {OUT / 'builder-preview.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
