"""`cogflow-desktop serve` as a real process: a taken port, and a clean stop on signals."""

from __future__ import annotations

import signal
import socket
import sys
from pathlib import Path

import pytest
import requests
from cli_helpers import create_admin, run_cli, start_serve


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("serve") / "data"
    create_admin(folder)
    return folder


def test_port_in_use_is_one_line_error(data_dir: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = run_cli("serve", "--port", str(port), "--data-dir", str(data_dir), timeout=60)
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines == [f"cogflow-desktop: Port {port} on 127.0.0.1 is already in use."]


def test_non_loopback_host_is_refused(data_dir: Path) -> None:
    done = run_cli("serve", "--host", "0.0.0.0", "--port", "0", "--data-dir", str(data_dir))
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "loopback" in lines[0]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_stops_cleanly_on_signal(data_dir: Path, signum: signal.Signals) -> None:
    server = start_serve(data_dir)
    try:
        # A kept-alive connection must not hold the shutdown up.
        http = requests.Session()
        assert http.get(f"{server.url}/healthz", timeout=30).ok
        server.proc.send_signal(signum)
        code = server.proc.wait(timeout=30)
    finally:
        if server.proc.poll() is None:
            server.kill()
    assert code == 0, server.stderr()
    assert "Server stopped." in server.stderr()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{server.url}/healthz", timeout=5)
