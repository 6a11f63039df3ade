"""Start-up time of the desktop app, one fresh process per sample; prints one JSON object.

Two moments, both from launching the process:

- **window**: the main window is shown and its event loop answers (the first event-loop turn
  after `show()`): it paints, its menus, page list and Quit take input, and the page area says
  "Opening the data folder…". This is what a researcher sees first.
- **ready** (the old measure): the database is open (lock, integrity and revision checks,
  migration when behind), the embedded server answers /healthz, and the first screen (the
  Studies page, or the first-run wizard) is built and filled. Only from here can the
  researcher act on studies. `server` is the moment the worker had the database open and the
  server healthy, just before the pages were built.

While the data folder opens on the worker thread, the app also records the longest time its
event loop went without answering (`max_event_loop_gap_ms`; a frame is 16 ms).

In the same run, alternating with the app, it times a bare PySide6 window holding one
QWebEngineView (the floor any Qt + QtWebEngine app pays on this machine: interpreter, Qt and
Chromium libraries, a shown window) and reports both moments as a ratio of it.

    python bench/bench_startup.py [--runs 7] [--program dist/CogFlowDesktop/cogflow-desktop]
                                  [--baseline /tmp/main-tree]

--program times a built app (scripts/build_app.py) instead of `python -m cogflow_desktop`.
--baseline also times another source tree of the app (e.g. `git archive main | tar -x -C
DIR`), alternating with this one, so a before/after pair sees the same machine load; a
version that opened the data folder before showing its window has window = ready.

Headless machines: run under a virtual display (xvfb-run) or set QT_QPA_PLATFORM=offscreen.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMAND = [sys.executable, "-m", "cogflow_desktop"]
# An installed app runs from compiled bytecode (pip writes it, PyInstaller bundles it); a
# source checkout under PYTHONDONTWRITEBYTECODE would compile every module on every launch.
# The children keep their bytecode in a cache of this run (PYTHONPYCACHEPREFIX), never in the
# checkout; the first, unmeasured launch fills it.
CHILD_ENV: dict[str, str] = {}


def _child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, **CHILD_ENV, **extra}


def one_run(data_dir: Path, cwd: Path | None = None) -> dict[str, float]:
    env = _child_env(COGFLOW_DATA_DIR=str(data_dir), COGFLOW_GUI_SMOKE="1", COGFLOW_PORT="0")
    if cwd is not None:  # `python -m cogflow_desktop` finds the package in its working folder
        env["PYTHONPYCACHEPREFIX"] = str(data_dir.parent / "pycache-baseline")
    started = time.perf_counter()
    proc = subprocess.Popen(
        COMMAND,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    sample: dict[str, float] = {}
    for line in proc.stdout:
        if not line.startswith("{"):
            continue
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        report = json.loads(line)
        if "window_ms" in report:
            sample["process_to_window_ms"] = elapsed
            sample["window_before_data"] = float(not report["data_ready"])
        elif "ready_ms" in report:
            sample["process_to_ready_ms"] = elapsed
            sample["in_app_ready_ms"] = float(report["ready_ms"])
            # The worker's moment, moved from the app's clock to this one.
            server_ms = report.get("server_ms", report["ready_ms"])
            sample["process_to_server_ms"] = round(elapsed - (report["ready_ms"] - server_ms), 1)
            sample["max_event_loop_gap_ms"] = float(report.get("max_event_loop_gap_ms", 0))
    proc.wait(timeout=120)
    if proc.returncode != 0 or "process_to_ready_ms" not in sample:
        raise SystemExit(f"The app did not start cleanly (exit status {proc.returncode}).")
    sample.setdefault("process_to_window_ms", sample["process_to_ready_ms"])  # an older app
    sample.setdefault("window_before_data", 0.0)
    return sample


BARE_WINDOW = """
import json, sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1])
window = QMainWindow()
window.setCentralWidget(QWebEngineView())
window.resize(1100, 720)
window.show()
gap = [0.0, time.perf_counter()]
def tick():
    now = time.perf_counter()
    gap[0] = max(gap[0], now - gap[1])
    gap[1] = now
pulse = QTimer()
pulse.setInterval(16)
pulse.timeout.connect(tick)
def ready():
    print(json.dumps({"ready": True}), flush=True)
    gap[1] = time.perf_counter()
    pulse.start()
def done():
    print(json.dumps({"idle_gap_ms": round(gap[0] * 1000, 1)}), flush=True)
    window.close()
QTimer.singleShot(0, ready)
QTimer.singleShot(1500, done)
app.exec()
"""


def bare_window_ms() -> tuple[float, float]:
    """Launch to the first event-loop turn after showing a window with one QWebEngineView
    (the same moment the app reports its window), and the longest its idle event loop then
    went without answering a 16 ms timer over 1.5 s (what this machine's load alone costs)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", BARE_WINDOW],
        env=_child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    elapsed = None
    idle_gap = 0.0
    for line in proc.stdout:
        if '"ready"' in line:
            elapsed = round((time.perf_counter() - started) * 1000, 1)
        elif "idle_gap_ms" in line:
            idle_gap = float(json.loads(line)["idle_gap_ms"])
    proc.wait(timeout=120)
    if elapsed is None:
        raise SystemExit(f"The bare window did not start (exit status {proc.returncode}).")
    return elapsed, idle_gap


def version_ms() -> float:
    """The same interpreter and package imports without Qt or a window: the floor under the
    app's start-up on this machine (`cogflow-desktop --version` imports every command)."""
    started = time.perf_counter()
    subprocess.run([*COMMAND, "--version"], capture_output=True, check=True, env=_child_env())
    return round((time.perf_counter() - started) * 1000, 1)


def _baseline_report(base: list[dict[str, float]], bare_ms: float) -> dict[str, object]:
    window = statistics.median(s["process_to_window_ms"] for s in base)
    ready = statistics.median(s["process_to_ready_ms"] for s in base)
    return {
        "baseline": {
            "median_process_to_window_ms": window,
            "median_process_to_ready_ms": ready,
            "ratio_window_to_bare_window": round(window / bare_ms, 2),
            "ratio_ready_to_bare_window": round(ready / bare_ms, 2),
            "samples_process_to_ready_ms": [s["process_to_ready_ms"] for s in base],
        }
    }


def _load() -> float | None:
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--program", help="a built app's console program to time instead")
    parser.add_argument("--baseline", type=Path, help="another source tree to time alongside")
    args = parser.parse_args()
    if args.program:
        COMMAND[:] = [str(Path(args.program).resolve())]
    os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox")
    load_before = _load()
    with tempfile.TemporaryDirectory() as tmp:
        CHILD_ENV["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        # The first launch creates and migrates the database (and compiles the bytecode);
        # later ones open it.
        first = one_run(Path(tmp) / "data")
        version_ms()  # --version imports every command: their bytecode too
        if args.baseline:
            one_run(Path(tmp) / "base" / "data", cwd=args.baseline)  # its first launch
        warm, bare, idle_gaps, base = [], [], [], []
        for _ in range(args.runs):  # alternating, so all see the same machine load
            warm.append(one_run(Path(tmp) / "data"))
            bare_ms, idle_gap = bare_window_ms()
            bare.append(bare_ms)
            idle_gaps.append(idle_gap)
            if args.baseline:
                base.append(one_run(Path(tmp) / "base" / "data", cwd=args.baseline))
        floor = [version_ms() for _ in range(args.runs)]
    from PySide6 import __version__ as pyside_version

    def median(key: str) -> float:
        return round(statistics.median(s[key] for s in warm), 1)

    bare_ms = statistics.median(bare)
    report = {
        "benchmark": "startup_window_and_ready",
        "program": "frozen build" if args.program else "python -m cogflow_desktop",
        "runs": args.runs,
        "median_process_to_window_ms": median("process_to_window_ms"),
        "median_process_to_server_ms": median("process_to_server_ms"),
        "median_process_to_ready_ms": median("process_to_ready_ms"),
        "median_max_event_loop_gap_ms": median("max_event_loop_gap_ms"),
        "median_max_idle_event_loop_gap_ms_bare_window": statistics.median(idle_gaps),
        "window_shown_before_data_open": all(s["window_before_data"] for s in warm),
        "first_launch_process_to_window_ms": first["process_to_window_ms"],
        "first_launch_process_to_ready_ms": first["process_to_ready_ms"],
        "bytecode": "cached, as installed (first launch compiles it)",
        "median_cli_version_ms": statistics.median(floor),
        "median_bare_qwebengine_window_ms": bare_ms,
        "ratio_window_to_bare_window": round(median("process_to_window_ms") / bare_ms, 2),
        "ratio_ready_to_bare_window": round(median("process_to_ready_ms") / bare_ms, 2),
        "targets": {"process_to_usable_window_ms": 1000, "ratio_to_bare_window": 3.0},
        "load_average_1m_before": load_before,
        "load_average_1m_after": _load(),
        "samples_process_to_window_ms": [s["process_to_window_ms"] for s in warm],
        "samples_process_to_ready_ms": [s["process_to_ready_ms"] for s in warm],
        "samples_bare_window_ms": bare,
        **(_baseline_report(base, bare_ms) if base else {}),
        "platform": platform.platform(),
        "qpa": os.environ.get("QT_QPA_PLATFORM", "default"),
        "python": platform.python_version(),
        "pyside6": pyside_version,
        "cpus": os.cpu_count(),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
