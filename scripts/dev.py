"""One command to set up and run CogFlow Desktop or its tests, on Linux, Windows and macOS.

    python scripts/dev.py run [--] [app arguments...] # the app (headless `serve` without a display)
    python scripts/dev.py test   [pytest arguments...] # the whole test suite

Creates ./.venv on first use and installs the project into it (again only when pyproject.toml
changed). Needs nothing but Python 3.11+ and the OS packages the README names.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("COGFLOW_VENV", ROOT / ".venv"))


def _venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _ensure_env(extras: str) -> Path:
    if sys.version_info < (3, 11):  # noqa: UP036 - this script may be started by an older Python
        sys.exit("CogFlow Desktop needs Python 3.11 or newer.")
    python = _venv_python()
    if not python.exists():
        print(f"Creating a virtual environment in {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    pyproject = (ROOT / "pyproject.toml").read_bytes()
    stamp = VENV / f".cogflow-installed-{extras or 'app'}"
    digest = hashlib.sha256(pyproject).hexdigest()
    if not stamp.exists() or stamp.read_text() != digest:
        print("Installing CogFlow Desktop and its dependencies ...", flush=True)
        subprocess.run([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
        target = f".[{extras}]" if extras else "."
        subprocess.run([python, "-m", "pip", "install", "--quiet", "-e", target], cwd=ROOT,
                       check=True)
        stamp.write_text(digest)
    return python


def _has_display() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def app_args(args: list[str]) -> list[str]:
    """What goes to `cogflow-desktop`: `run -- users list` and `run users list` alike."""
    return args[1:] if args[:1] == ["--"] else args


def run(args: list[str]) -> int:
    python = _ensure_env("")
    args = app_args(args)
    if not args:
        args = [] if _has_display() else ["serve"]
        if args:
            print("No display found: starting the headless server (`cogflow-desktop serve`).",
                  flush=True)
    return subprocess.call([python, "-m", "cogflow_desktop", *args], cwd=ROOT)


def test(args: list[str]) -> int:
    python = _ensure_env("test")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen",
               QTWEBENGINE_CHROMIUM_FLAGS=os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS",
                                                          "--no-sandbox"))
    lint = subprocess.call([python, "-m", "ruff", "check", "."], cwd=ROOT, env=env)
    if lint != 0:
        print("ruff found problems (above); fix them before the tests run.", flush=True)
        return lint
    return subprocess.call([python, "-m", "pytest", *args], cwd=ROOT, env=env)


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("run", "test"):
        print(__doc__)
        return 2
    command, rest = sys.argv[1], sys.argv[2:]
    return run(rest) if command == "run" else test(rest)


if __name__ == "__main__":
    sys.exit(main())
