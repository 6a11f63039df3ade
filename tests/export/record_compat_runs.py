"""Record one real run of every compat config that the Interpreter runs, for the export tests.

    .venv/bin/python tests/export/record_compat_runs.py [NAME ...]

Each config in tests/fixtures/compat/{configs,configs-authored} is published to a fresh local
server, run to completion in Chromium by the attentive-participant driver of the Interpreter's
end-to-end test, or of the family's own test for Gabor, SOC, MOT and continuous images (real
key presses, clicks and pointer moves, real frame timing), exported with the
service and stored as tests/fixtures/recorded/<name>.json: the trials as recorded, the result
summary, and the result payload without its copy of the trials. Configs the Interpreter
refuses (features not built yet) are listed and skipped. Run it again when components change
what they record; the export tests replay these files through the HTTP API.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
sys.path[:0] = [str(TESTS), str(TESTS / "web"), str(HERE)]

import test_eye_tracking_e2e  # noqa: E402
import test_gabor_e2e  # noqa: E402
import test_mot_cip_e2e  # noqa: E402
import test_soc_e2e  # noqa: E402
from conftest import (  # noqa: E402
    ADMIN_PASSWORD,
    ADMIN_USER,
    COMPAT_DIR,
    publish,
    start_live_server,
    stop_live_server,
)
from test_interpreter_e2e import CHROMIUM, CHROMIUM_ARGS, PARALLEL, run_one  # noqa: E402

from cogflow_desktop.export import ExportOptions, export_study  # noqa: E402
from cogflow_desktop.services import users  # noqa: E402

RECORDED = TESTS / "fixtures" / "recorded"
SOURCES = ("configs", "configs-authored")


def configs(names: list[str]) -> dict[str, Path]:
    found = {p.stem: p for src in SOURCES for p in sorted((COMPAT_DIR / src).glob("*.json"))}
    return {n: p for n, p in found.items() if not names or n in names}


async def drive_family(browser: Any, url: str, name: str, slug: str) -> dict[str, Any]:
    """The participant driver of the family's own end-to-end test (Gabor patches, the SOC
    dashboard, MOT, continuous images and eye tracking need their own), else the general one."""
    if name in test_gabor_e2e.GABOR_CONFIGS:
        return await test_gabor_e2e.run_one(browser, url, slug)
    if name in test_soc_e2e.SOC_CONFIGS:
        info = await test_soc_e2e.run_one(browser, url, slug, None)
        return {**info, "final": {"state": info["state"]}}
    if name in ("sample_eye_tracking_webgazer", "KAMI136-rdm-01"):
        # Its own browser: Chromium's fake camera showing a face, software WebGL for WebGazer.
        info = await test_eye_tracking_e2e.run_study(url, slug, camera=True)
        return {**info, "final": {"state": info["state"]}}
    if name in ("mot", "cip", "structural"):
        path = f"/interpreter/?study={slug}&participant=rec-{name}"
        memory = {"cip_mode": "keys"} if name == "cip" else {}  # the authored CIP uses keys
        return await test_mot_cip_e2e.participant(browser, url, path, memory)
    return await run_one(browser, url, slug, {})


async def run_each(url: str, slugs: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Every config in Chromium; one that the driver cannot finish is reported, not fatal."""
    from playwright.async_api import async_playwright

    sem = asyncio.Semaphore(PARALLEL)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        async def one(name: str, slug: str) -> tuple[str, dict[str, Any]]:
            async with sem:
                try:
                    return slug, await drive_family(browser, url, name, slug)
                except Exception as exc:  # reported per config, the others go on
                    return slug, {"final": {"state": f"driver gave up: {exc}"[:200]}}

        found = dict(await asyncio.gather(*(one(n, s) for n, s in slugs.items())))
        await browser.close()
    return found


def main(names: list[str]) -> int:
    chosen = configs(names)
    RECORDED.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        live = start_live_server(Path(tmp) / "data")
        try:
            slugs = {}
            for name, path in chosen.items():
                config = json.loads(path.read_text(encoding="utf-8"))
                slug = "rec-" + name.lower().replace("_", "-")[:40]
                slugs[name] = publish(live.url, slug, config)["study_slug"]
            results = asyncio.run(run_each(live.url, slugs))
            key = users.unlock_with_password(live.ctx, ADMIN_USER, ADMIN_PASSWORD)
            for name, slug in slugs.items():
                state = results[slug]["final"]["state"]
                if state != "saved":
                    print(f"skipped {name}: the run ended in state {state!r}")
                    continue
                out = Path(tmp) / f"{slug}.json"
                export_study(
                    live.ctx, key, ExportOptions(slug, "json", out), actor=ADMIN_USER, client="rec"
                )
                (run,) = json.loads(out.read_text(encoding="utf-8"))["runs"]
                payload: dict[str, Any] = dict(run["result_payload"])
                payload.pop("trials", None)
                record = {
                    "config": chosen[name].relative_to(COMPAT_DIR).as_posix(),
                    "task_type": run["task_type"],
                    "status": run["status"],
                    "result_summary": run["result_summary"],
                    "result_payload": payload,
                    "trials": run["trials"],
                }
                target = RECORDED / f"{name}.json"
                target.write_text(json.dumps(record, ensure_ascii=False, indent=0) + "\n")
                print(f"recorded {name}: {len(run['trials'])} trials")
        finally:
            stop_live_server(live)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
