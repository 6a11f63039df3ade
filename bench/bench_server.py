"""Benchmark of the local server's participant path (not a test): prints JSON.

Starts `python -m cogflow_desktop serve --port 0` on a fresh temporary data folder, then runs
participant cycles — start, one checkpoint per trial, a final submit with every trial — with 1
and with 4 concurrent clients (separate processes, each with one keep-alive HTTP/1.1
connection), and prints cycles/s and checkpoint/submit latency percentiles for each client
count.

    python bench/bench_server.py [--trials 240] [--cycles 4] [--clients 1 4]
        [--client http.client|requests] [--source DIR] [--py-spy DIR]

`--client`: the HTTP client of each participant: `http.client` (the standard library's, one
persistent connection, as a browser page keeps one; the default) or `requests` (a Session; it
adds ~1 ms of client-side Python per request). `--source DIR`: run the server from another
checkout's code (e.g. a temporary clone of main, for before/after pairs in one session).
`--py-spy DIR`: record each round's server with py-spy (`pip install py-spy`) into SVG flame
graphs there (sampling slows the server: take numbers from a run without it).

Targets (issue #15, 2-core machine): checkpoint p50 <= 1 ms and p99 <= 1.5 ms with one
client; start+submit cycles with 4 clients >= 3x the central server's 35/s (measured there, not
here) and 240-trial submit p99 <= 25 ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import requests

STUDY = "bench-study"
TARGET_CHECKPOINT_P50_MS = 1.0
TARGET_CHECKPOINT_P99_MS = 1.5
TARGET_SUBMIT_P99_MS = 25.0
CENTRAL_CYCLES_PER_S = 35.0  # the central server, start + 240-trial submit, 4 clients (#15)


def _trial(index: int) -> dict[str, Any]:
    """A trial about the size the Interpreter records (~400 bytes of JSON)."""
    return {
        "trial_index": index,
        "block": index // 40,
        "task_type": "rdm",
        "stimulus": {"coherence": 0.32, "direction": 90 if index % 2 else 270, "dots": 150},
        "response": "left" if index % 3 else "right",
        "correct": index % 4 != 0,
        "rt_ms": 412.5 + index,
        "stimulus_onset_ms": 1000.0 + index * 1500.0,
        "ended_reason": "response",
        "frames": {"shown": 60, "dropped": 0, "refresh_hz": 60.0},
    }


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


class _Http:
    """One participant's HTTP connection: POST JSON, get (status, parsed answer)."""

    def __init__(self, url: str, kind: str) -> None:
        self.url = url
        self.kind = kind
        if kind == "requests":
            self._session = requests.Session()
        else:
            host, port = url.removeprefix("http://").rsplit(":", 1)
            self._conn = http.client.HTTPConnection(host.strip("[]"), int(port), timeout=60)

    def post(self, path: str, body: Any) -> tuple[int, Any]:
        if self.kind == "requests":
            resp = self._session.post(f"{self.url}{path}", json=body, timeout=60)
            return resp.status_code, resp.json()
        data = json.dumps(body).encode()
        self._conn.request("POST", path, data, {"Content-Type": "application/json"})
        answer = self._conn.getresponse()
        return answer.status, json.loads(answer.read())


def _client(
    url: str, cycles: int, trials: int, with_checkpoints: bool = True, kind: str = "http.client"
) -> dict[str, Any]:
    """One participant machine: `cycles` full runs; latencies in ms (encoding the body,
    the exchange and decoding the answer). Without checkpoints a cycle is start + submit only
    (the issue's "participant cycle" against the central server, which measured 35 cycles/s
    there with 4 clients)."""
    http = _Http(url, kind)
    checkpoints: list[float] = []
    submits: list[float] = []
    all_trials = [_trial(i) for i in range(trials)]
    for _ in range(cycles):
        status, answer = http.post("/api/v1/runs/start", {"study_slug": STUDY})
        if status != 201:
            raise RuntimeError(f"start refused: {status} {answer}")
        run_id = answer["run_session_id"]
        for i, trial in enumerate(all_trials if with_checkpoints else []):
            body = {
                "run_session_id": run_id,
                "checkpoint_label": f"trial-{i}",
                "checkpoint_index": i,
                "trial_count": i + 1,
                "result_payload": {"last_trial_index": i},
                "trials": [trial],
            }
            t0 = time.perf_counter()
            status, answer = http.post("/api/v1/results/checkpoint", body)
            checkpoints.append((time.perf_counter() - t0) * 1000)
            if status != 200 or not answer.get("stored"):
                raise RuntimeError(f"checkpoint refused: {status} {str(answer)[:200]}")
        final = {
            "run_session_id": run_id,
            "status": "completed",
            "trial_count": trials,
            "result_summary": {"accuracy": 0.75, "mean_rt_ms": 530.0},
            "result_payload": {"task_type": "rdm", "trials_recorded": trials},
            "trials": all_trials,
        }
        t0 = time.perf_counter()
        status, answer = http.post("/api/v1/results/submit", final)
        submits.append((time.perf_counter() - t0) * 1000)
        if status != 201:
            raise RuntimeError(f"submit refused: {status} {str(answer)[:200]}")
    return {"checkpoints": checkpoints, "submits": submits}


def _cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a process has used, where /proc tells it (Linux): unlike
    latencies, it does not depend on what else the machine is busy with."""
    stat = Path(f"/proc/{pid}/stat")
    if not stat.exists():
        return None
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _run_round(
    url: str,
    pid: int,
    clients: int,
    cycles: int,
    trials: int,
    checkpoints: bool = True,
    kind: str = "http.client",
    flame: Path | None = None,
) -> dict[str, Any]:
    with ProcessPoolExecutor(max_workers=clients) as pool:
        _client(url, 1, 5, kind=kind)  # warm the server's caches and connections
        for _ in pool.map(_client, [url] * clients, [1] * clients, [5] * clients):
            pass  # and start the client processes before the clock starts
        spy = _start_py_spy(pid, flame) if flame else None
        cpu0 = _cpu_seconds(pid)
        t0 = time.perf_counter()
        futures = [
            pool.submit(_client, url, cycles, trials, checkpoints, kind) for _ in range(clients)
        ]
        parts = [f.result() for f in futures]
        elapsed = time.perf_counter() - t0
        cpu1 = _cpu_seconds(pid)
        if spy is not None:
            spy.send_signal(signal.SIGINT)  # py-spy writes the flame graph on SIGINT
            spy.wait(timeout=120)
    checkpoint_ms = [v for p in parts for v in p["checkpoints"]]
    submits = [v for p in parts for v in p["submits"]]
    return {
        "cycle": "start, a checkpoint per trial, submit" if checkpoints else "start, submit",
        "client": kind,
        "clients": clients,
        "cycles": clients * cycles,
        "trials_per_cycle": trials,
        "seconds": round(elapsed, 2),
        "cycles_per_s": round(clients * cycles / elapsed, 3),
        "checkpoints_per_s": round(len(checkpoint_ms) / elapsed, 1),
        # Server CPU for one whole cycle (start, checkpoints, submit), in ms.
        "server_cpu_ms_per_cycle": None
        if cpu0 is None or cpu1 is None
        else round((cpu1 - cpu0) * 1000 / (clients * cycles), 1),
        "checkpoint_ms": {
            "p50": round(_percentile(checkpoint_ms, 50), 2),
            "p99": round(_percentile(checkpoint_ms, 99), 2),
            "max": round(max(checkpoint_ms), 2),
        }
        if checkpoints
        else None,
        "submit_ms": {
            "p50": round(_percentile(submits, 50), 2),
            "p99": round(_percentile(submits, 99), 2),
            "max": round(max(submits), 2),
        },
    }


def _py_spy() -> str:
    """py-spy from PATH or beside this Python (a virtual environment's bin/ or Scripts/)."""
    beside = shutil.which("py-spy", path=str(Path(sys.executable).parent))
    return shutil.which("py-spy") or beside or "py-spy"


def _start_py_spy(pid: int, out: Path) -> subprocess.Popen[bytes]:
    """py-spy sampling the server's threads while they run on a CPU (500 Hz) until SIGINT,
    then writing an SVG flame graph, or collapsed stacks for a `.txt` path."""
    kind = "raw" if out.suffix == ".txt" else "flamegraph"
    spy = subprocess.Popen(
        [_py_spy(), "record", "--pid", str(pid), "--rate", "500",
         "--format", kind, "--output", str(out), "--threads"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(1.0)  # attached before the round starts
    return spy


def _commit_floor(folder: Path, commits: int = 200) -> dict[str, float]:
    """Latency of a bare SQLite commit (WAL, synchronous=FULL) on the same disk: no server can
    acknowledge a durable checkpoint faster than this."""
    import sqlite3

    conn = sqlite3.connect(folder / "floor.sqlite3", isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("CREATE TABLE t (b BLOB)")
        times = []
        for _ in range(commits):
            t0 = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO t VALUES (?)", (os.urandom(400),))
            conn.execute("COMMIT")
            times.append((time.perf_counter() - t0) * 1000)
    finally:
        conn.close()
    return {"p50": round(_percentile(times, 50), 2), "p99": round(_percentile(times, 99), 2)}


class Server:
    """`cogflow-desktop serve` in a child process on a free loopback port."""

    def __init__(self, data_dir: Path, source: Path | None = None) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("COGFLOW_")}
        env["PYTHONUNBUFFERED"] = "1"
        if source is not None:  # that checkout's package comes first on the path
            env["PYTHONPATH"] = str(source)
        self._log = (data_dir.parent / "serve.log").open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cogflow_desktop", "serve", "--port", "0",
             "--data-dir", str(data_dir)],
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=env,
            cwd=data_dir.parent,  # not this checkout: `-m` puts the working folder on the path
        )  # fmt: skip
        lines: queue.Queue[str] = queue.Queue()
        assert self.proc.stdout is not None
        stdout = self.proc.stdout
        threading.Thread(target=lambda: [lines.put(x) for x in stdout], daemon=True).start()
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit("The server did not start; see serve.log.")
            try:
                match = re.search(r"server on (http://\S+)", lines.get(timeout=0.5))
            except queue.Empty:
                continue
            if match:
                self.url = match.group(1)
                return

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._log.close()


_PREPARE = """
import sys
from pathlib import Path
import cogflow_desktop
from cogflow_desktop.services import users
from cogflow_desktop.services.context import open_context
from cogflow_desktop.settings import Settings
ctx = open_context(Settings.from_env(Path(sys.argv[1])))
try:
    users.create_user(ctx, "bench", "bench passphrase")
finally:
    ctx.close()
print(Path(cogflow_desktop.__file__).parent.parent)
"""


def _prepare(data_dir: Path, source: Path | None) -> str:
    """The first researcher (results are sealed to the install key it creates), made by the
    same code that will serve; returns the folder that code came from."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COGFLOW_")}
    if source is not None:
        env["PYTHONPATH"] = str(source)
    done = subprocess.run(
        [sys.executable, "-c", _PREPARE, str(data_dir)],
        env=env,
        check=True,
        timeout=300,
        cwd=data_dir.parent,  # not this checkout: `-c` puts the working folder on the path
        capture_output=True,
        text=True,
    )
    return done.stdout.strip().splitlines()[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=240, help="trials per cycle (240)")
    parser.add_argument("--cycles", type=int, default=4, help="cycles per client (4)")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4])
    parser.add_argument(
        "--submit-cycles", type=int, default=25,
        help="start+submit cycles per client in the 4-client round without checkpoints (25)",
    )  # fmt: skip
    parser.add_argument("--client", choices=["http.client", "requests"], default="http.client")
    parser.add_argument("--source", type=Path, help="run the server from this checkout's code")
    parser.add_argument("--py-spy", type=Path, help="write py-spy flame graphs (SVG) here")
    parser.add_argument(
        "--py-spy-raw", action="store_true", help="collapsed stacks (.txt) instead of SVG"
    )
    args = parser.parse_args()
    if args.py_spy:
        args.py_spy = args.py_spy.resolve()
        args.py_spy.mkdir(parents=True, exist_ok=True)

    def flame(name: str) -> Path | None:
        suffix = ".txt" if args.py_spy_raw else ".svg"
        return args.py_spy / f"{name}{suffix}" if args.py_spy else None

    with tempfile.TemporaryDirectory(prefix="cogflow-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        floor = _commit_floor(Path(tmp))
        code = _prepare(data_dir, args.source)
        server = Server(data_dir, args.source)
        try:
            requests.post(
                f"{server.url}/api/v1/configs/publish",
                json={
                    "study_slug": STUDY,
                    "study_name": "Benchmark",
                    "config_version_label": "v1",
                    "config": {"task_type": "rdm", "timeline": []},
                },
                timeout=60,
            ).raise_for_status()
            rounds = [
                _run_round(server.url, server.proc.pid, n, args.cycles, args.trials,
                           kind=args.client, flame=flame(f"checkpoint-{n}-client"))
                for n in args.clients
            ]  # fmt: skip
            start_submit = _run_round(
                server.url, server.proc.pid, 4, args.submit_cycles, args.trials, False,
                kind=args.client, flame=flame("start-submit-4-clients"),
            )  # fmt: skip
        finally:
            server.stop()
    one = min(rounds, key=lambda r: r["clients"])
    report = {
        "benchmark": "cogflow-desktop serve: participant cycles",
        "client": f"{args.client}, one keep-alive connection per client process",
        "server_code": code,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_1m": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        },
        "durability": "SQLite WAL, synchronous=FULL (every acknowledged checkpoint is fsynced)",
        "sqlite_full_commit_floor_ms": floor,
        "rounds": rounds,
        "start_submit_round": start_submit,
        "targets": {
            "checkpoint_one_client": {
                "p50_ms": TARGET_CHECKPOINT_P50_MS,
                "p99_ms": TARGET_CHECKPOINT_P99_MS,
                "met": one["checkpoint_ms"]["p50"] <= TARGET_CHECKPOINT_P50_MS
                and one["checkpoint_ms"]["p99"] <= TARGET_CHECKPOINT_P99_MS,
            },
            "start_submit_4_clients": {
                "cycles_per_s": 3 * CENTRAL_CYCLES_PER_S,
                "submit_p99_ms": TARGET_SUBMIT_P99_MS,
                "ratio_to_central": round(start_submit["cycles_per_s"] / CENTRAL_CYCLES_PER_S, 2),
                "met": start_submit["cycles_per_s"] >= 3 * CENTRAL_CYCLES_PER_S
                and start_submit["submit_ms"]["p99"] <= TARGET_SUBMIT_P99_MS,
            },
        },
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
