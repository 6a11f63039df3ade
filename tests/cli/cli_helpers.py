"""Run `python -m cogflow_desktop ...` as a real process: one-shot commands and `serve`."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import requests

ADMIN = "admin"
ADMIN_PASSWORD = "durable admin passphrase"
URL_LINE = re.compile(r"server on (http://\S+)")


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COGFLOW_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def run_cli(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cogflow_desktop", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env or cli_env(),
        timeout=timeout,
    )


def create_admin(data_dir: Path) -> str:
    """The first researcher; returns the recovery key the command printed."""
    done = run_cli(
        "users", "create", ADMIN, "--password-stdin", "--data-dir", str(data_dir),
        stdin=f"{ADMIN_PASSWORD}\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    match = re.search(r"^\s+([A-Z2-7]{4}(?:-[A-Z2-7]{4}){7})\s*$", done.stdout, re.MULTILINE)
    assert match, done.stdout
    return match.group(1)


@dataclass
class ServeProcess:
    proc: subprocess.Popen[str]
    url: str
    stderr_path: Path
    lines: queue.Queue[str] = field(default_factory=queue.Queue)

    def kill(self) -> None:
        """SIGKILL on POSIX, TerminateProcess on Windows: no chance to clean up."""
        self.proc.kill()
        self.proc.wait(timeout=30)

    def stop(self, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.proc.wait(timeout=timeout)

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")


def _pump(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


def start_serve(data_dir: Path, *extra: str, timeout: float = 60) -> ServeProcess:
    """`serve --port 0`, waiting for the line that names its URL and for /healthz."""
    stderr_path = data_dir.parent / f"{data_dir.name}-serve-{time.monotonic_ns()}.log"
    with stderr_path.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cogflow_desktop", "serve", "--port", "0",
             "--data-dir", str(data_dir), *extra],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=cli_env(),
        )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True).start()
    deadline = time.monotonic() + timeout
    url = None
    while url is None:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"serve did not start: {stderr_path.read_text()}")
        try:
            match = URL_LINE.search(lines.get(timeout=0.5))
        except queue.Empty:
            continue
        url = match.group(1) if match else None
    served = ServeProcess(proc, url, stderr_path, lines)
    assert requests.get(f"{url}/healthz", timeout=30).json() == {"ok": True}
    return served
