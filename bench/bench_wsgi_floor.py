"""The HTTP server's own floor on this machine (not a test): prints JSON.

A trivial WSGI app (reads the body, answers `{}`) behind waitress — the server the app embeds
— and, when installed (`pip install cheroot`), cheroot, each in its own process, alternating;
one client process sends keep-alive POSTs of a checkpoint's size through `http.client`.
Reports latency percentiles and the server's CPU per request (from /proc, Linux), i.e. what
any checkpoint pays before Flask, the guards and the service start.

    python bench/bench_wsgi_floor.py [--requests 1000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

_SERVE = r"""
import sys

def app(environ, start_response):
    environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "2")])
    return [b"{}"]

if sys.argv[1] == "cheroot":
    from cheroot import wsgi
    server = wsgi.Server(("127.0.0.1", 0), app, numthreads=8)
    server.prepare()
    print(server.bind_addr[1], flush=True)
    server.serve()
else:
    from waitress.server import create_server
    server = create_server(app, host="127.0.0.1", port=0, threads=8)
    print(server.effective_port, flush=True)
    server.run()
"""
# A one-trial checkpoint's body size (~500 bytes).
_BODY = json.dumps(
    {"run_session_id": "0" * 36, "checkpoint_label": "trial-1", "checkpoint_index": 1,
     "trial_count": 2, "result_payload": {"last_trial_index": 1},
     "trials": [{"trial_index": 1, "stimulus": {"coherence": 0.32, "dots": 150}, "x": "y" * 300}]}
).encode()  # fmt: skip


def _cpu_seconds(pid: int) -> float | None:
    stat = Path(f"/proc/{pid}/stat")
    if not stat.exists():
        return None
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _round(kind: str, requests: int) -> dict[str, object]:
    proc = subprocess.Popen([sys.executable, "-c", _SERVE, kind], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Content-Type": "application/json"}

        def post() -> None:
            conn.request("POST", "/", _BODY, headers)
            conn.getresponse().read()

        for _ in range(50):  # warm up
            post()
        cpu0 = _cpu_seconds(proc.pid)
        times = []
        for _ in range(requests):
            t0 = time.perf_counter()
            post()
            times.append((time.perf_counter() - t0) * 1000)
        cpu1 = _cpu_seconds(proc.pid)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    times.sort()
    return {
        "server": kind,
        "p50_ms": round(times[len(times) // 2], 3),
        "p99_ms": round(times[int(len(times) * 0.99)], 3),
        "server_cpu_ms_per_request": None
        if cpu0 is None or cpu1 is None
        else round((cpu1 - cpu0) * 1000 / requests, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    kinds = ["waitress"] + (["cheroot"] if importlib.util.find_spec("cheroot") else [])
    rounds = [_round(kind, args.requests) for _ in range(args.rounds) for kind in kinds]
    report = {
        "benchmark": "HTTP server floor: a trivial WSGI app, keep-alive POSTs via http.client",
        "load_average_1m": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "rounds": rounds,
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
