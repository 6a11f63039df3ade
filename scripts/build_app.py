"""Build the one-folder app with PyInstaller (build.spec) and smoke-test what was built:
`--version`, `serve --port 0` answering /healthz, and the desktop app opening its window
and a web view (headless Linux: Qt's offscreen platform). Slow (minutes): not in the tests.

    python scripts/build_app.py            # build, then test
    python scripts/build_app.py --no-build # test an existing dist/CogFlowDesktop
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist" / "CogFlowDesktop"
SERVE_RE = re.compile(r"http://127\.0\.0\.1:(\d+)")


def cli_program() -> Path:
    return DIST / ("cogflow-desktop.exe" if os.name == "nt" else "cogflow-desktop")


def build() -> None:
    subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "build.spec"],
        cwd=ROOT,
        check=True,
    )


def check_version(program: Path) -> str:
    out = subprocess.run(
        [str(program), "--version"], capture_output=True, text=True, timeout=120, check=True
    )
    version = out.stdout.strip()
    if not version.startswith("cogflow-desktop "):
        raise SystemExit(f"--version printed {version!r}.")
    return version


def check_serve(program: Path) -> str:
    """Start the bundled server, read its address from its output, ask /healthz."""
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "COGFLOW_DATA_DIR": data}
        proc = subprocess.Popen(
            [str(program), "serve", "--port", "0"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            url = _wait_for_url(proc)
            with urllib.request.urlopen(f"{url}/healthz", timeout=10) as resp:
                body = resp.read().decode()
            if resp.status != 200 or '"ok"' not in body:
                raise SystemExit(f"/healthz answered {resp.status}: {body}")
            return url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def check_gui(program: Path) -> dict[str, object]:
    """Start the app in its smoke mode: it reports a usable window and a loaded web view."""
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "COGFLOW_DATA_DIR": data, "COGFLOW_GUI_SMOKE": "1"}
        env["COGFLOW_PORT"] = "0"
        if sys.platform.startswith("linux") and not env.get("DISPLAY"):
            env["QT_QPA_PLATFORM"] = "offscreen"
        if hasattr(os, "geteuid") and os.geteuid() == 0:  # Chromium refuses root with a sandbox
            env["QTWEBENGINE_CHROMIUM_FLAGS"] = "--no-sandbox"
        out = subprocess.run([str(program)], env=env, capture_output=True, text=True, timeout=180)
    report: dict[str, object] = {}
    for line in out.stdout.splitlines():
        if line.startswith("{"):
            report.update(json.loads(line))
    if out.returncode != 0 or report.get("web_loaded") is not True:
        raise SystemExit(
            f"The bundled app did not open a working web view (exit {out.returncode}):\n"
            + out.stderr[-3000:]
        )
    return report


def _wait_for_url(proc: subprocess.Popen[str], timeout: float = 120) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        seen.append(line)
        found = SERVE_RE.search(line)
        if found:
            return found.group(0)
    raise SystemExit("The bundled server did not say where it listens:\n" + "".join(seen[-20:]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-build", action="store_true", help="test the existing build only")
    args = parser.parse_args()
    started = time.monotonic()
    if not args.no_build:
        build()
    program = cli_program()
    if not program.exists():
        raise SystemExit(f"{program} was not built.")
    version = check_version(program)
    url = check_serve(program)
    gui = check_gui(program)
    size = sum(f.stat().st_size for f in DIST.rglob("*") if f.is_file() and not f.is_symlink())
    print(
        f"OK: {version}; `serve` answered /healthz at {url}; the app window was ready in "
        f"{gui['ready_ms']} ms and loaded a web view; "
        f"{size / 2**20:.0f} MiB in {DIST}; {time.monotonic() - started:.0f} s."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
