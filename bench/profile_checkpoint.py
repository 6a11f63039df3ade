"""Where a checkpoint's time goes, in one process (not a test): prints JSON.

Builds the server's Flask app on a fresh data folder and sends checkpoints through Flask's
test client (the whole app: guards, parsing, validation, the service, the durable commit, the
audit append; no sockets, no waitress), then profiles a batch with cProfile and prints the
functions that took the most time, next to the per-layer cost of one checkpoint:

- `sqlite_commit_floor`: a bare one-row WAL `synchronous=FULL` commit on the same disk,
- `service`: runs.checkpoint() called directly (statements, encryption, audit, commit),
- `app`: the same through the Flask app (adds request parsing, validation and guards),
- `start` and `submit_240`: a run's start and its final 240-trial submit through the app (the
  issue's participant cycle), whose CPU time bounds the cycles/s one process can serve.

    python bench/profile_checkpoint.py [--checkpoints 2000] [--cycles 100] [--top 30]
        [--pstats out.prof] [--profile checkpoint|cycle]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_server import _trial

PORT = 5999  # only the Host the guards expect; nothing listens


def _body(run_id: str, i: int) -> dict[str, Any]:
    return {
        "run_session_id": run_id,
        "checkpoint_label": f"trial-{i}",
        "checkpoint_index": i,
        "trial_count": i + 1,
        "result_payload": {"last_trial_index": i},
        "trials": [_trial(i)],
    }


def _pct(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(pct / 100 * len(ordered)))], 3)


def _summary(times: list[float]) -> dict[str, float]:
    mean = round(statistics.mean(times), 3)
    return {"p50": _pct(times, 50), "p99": _pct(times, 99), "mean": mean}


def _floor(folder: Path, n: int) -> list[float]:
    conn = sqlite3.connect(folder / "floor.sqlite3", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE t (b BLOB)")
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t VALUES (?)", (os.urandom(400),))
        conn.execute("COMMIT")
        times.append((time.perf_counter() - t0) * 1000)
    conn.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoints", type=int, default=2000)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--cycles", type=int, default=100, help="start + submit cycles (100)")
    parser.add_argument("--pstats", help="also write the raw profile here (for snakeviz etc.)")
    parser.add_argument(
        "--profile", choices=["checkpoint", "cycle"], default="checkpoint",
        help="what cProfile records: checkpoints, or start + 240-trial submit cycles",
    )  # fmt: skip
    args = parser.parse_args()

    from cogflow_desktop.api import create_app
    from cogflow_desktop.services import runs, users
    from cogflow_desktop.services.context import open_context
    from cogflow_desktop.settings import Settings

    n = args.checkpoints
    with tempfile.TemporaryDirectory(prefix="cogflow-prof-") as tmp:
        floor = _floor(Path(tmp), n)
        env = {k: v for k, v in os.environ.items() if not k.startswith("COGFLOW_")}
        os.environ.clear()
        os.environ.update(env)
        ctx = open_context(Settings.from_env(Path(tmp) / "data"))
        try:
            users.create_user(ctx, "bench", "bench passphrase")
            app = create_app(ctx, PORT)
            http = app.test_client()
            base = f"http://127.0.0.1:{PORT}"
            published = http.post(
                f"{base}/api/v1/configs/publish",
                json={"study_slug": "bench-study", "study_name": "Benchmark",
                      "config_version_label": "v1", "config": {"task_type": "rdm", "timeline": []}},
            )  # fmt: skip
            assert published.status_code in (200, 201), published.get_data(as_text=True)

            def start() -> str:
                resp = http.post(f"{base}/api/v1/runs/start", json={"study_slug": "bench-study"})
                assert resp.status_code == 201, resp.get_data(as_text=True)
                return resp.get_json()["run_session_id"]

            def through_app(run_id: str, count: int, cpu: list[float] | None = None) -> list[float]:
                times = []
                for i in range(count):
                    body = _body(run_id, i)
                    c0 = time.thread_time()
                    t0 = time.perf_counter()
                    resp = http.post(f"{base}/api/v1/results/checkpoint", json=body)
                    times.append((time.perf_counter() - t0) * 1000)
                    if cpu is not None:
                        cpu.append((time.thread_time() - c0) * 1000)
                    assert resp.status_code == 200, resp.get_data(as_text=True)
                return times

            def through_service(run_id: str, count: int, cpu: list[float]) -> list[float]:
                times = []
                for i in range(count):
                    b = _body(run_id, i)
                    req = runs.CheckpointRequest(
                        run_id, b["checkpoint_label"], i, i + 1, b["result_payload"], b["trials"]
                    )
                    c0 = time.thread_time()
                    t0 = time.perf_counter()
                    runs.checkpoint(ctx, req, actor="anonymous", client="127.0.0.1")
                    times.append((time.perf_counter() - t0) * 1000)
                    cpu.append((time.thread_time() - c0) * 1000)
                return times

            trials = [_trial(i) for i in range(240)]
            json_headers = {"Content-Type": "application/json"}

            def cycles(count: int, start_cpu: list[float], submit_cpu: list[float]) -> None:
                for _ in range(count):
                    c0 = time.thread_time()
                    run_id = start()
                    start_cpu.append((time.thread_time() - c0) * 1000)
                    final = {"run_session_id": run_id, "status": "completed", "trial_count": 240,
                             "result_summary": {"accuracy": 0.75},
                             "result_payload": {"task_type": "rdm"}, "trials": trials}  # fmt: skip
                    # Encoded before the clock: the client's work is not the server's.
                    data = json.dumps(final).encode()
                    c1 = time.thread_time()
                    resp = http.post(
                        f"{base}/api/v1/results/submit", data=data, headers=json_headers
                    )
                    submit_cpu.append((time.thread_time() - c1) * 1000)
                    assert resp.status_code == 201, resp.get_data(as_text=True)

            through_app(start(), 50)  # warm caches and the connection pool
            cycles(3, [], [])
            service_cpu: list[float] = []
            app_cpu: list[float] = []
            start_cpu: list[float] = []
            submit_cpu: list[float] = []
            service = through_service(start(), n, service_cpu)
            app_times = through_app(start(), n, app_cpu)
            cycles(args.cycles, start_cpu, submit_cpu)
            profiler = cProfile.Profile()
            run_id = start()
            profiler.enable()
            if args.profile == "cycle":
                cycles(args.cycles, [], [])
            else:
                through_app(run_id, n)
            profiler.disable()
        finally:
            ctx.close()
    if args.pstats:
        profiler.dump_stats(args.pstats)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(args.top)
    by_self = out.getvalue()
    out = io.StringIO()
    stats.stream = out
    stats.sort_stats("cumulative").print_stats(args.top)
    report = {
        "benchmark": "checkpoint cost by layer, in process (Flask test client, no sockets)",
        "checkpoints": n,
        "load_average_1m": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "ms": {
            "sqlite_commit_floor": _summary(floor),
            "service": _summary(service),
            "app": _summary(app_times),
        },
        # CPU time of this thread (the commit's fsync wait is not CPU): steadier than wall
        # time on a shared, loaded machine; the Flask test client's own work is in "app".
        "cpu_ms": {
            "service": _summary(service_cpu),
            "app": _summary(app_cpu),
            "start": _summary(start_cpu),
            "submit_240": _summary(submit_cpu),
        },
        "profiled": args.profile,
        "ratio_app_p50_to_floor_p50": round(_pct(app_times, 50) / _pct(floor, 50), 2),
        "profile_by_self_time": by_self.splitlines(),
        "profile_by_cumulative_time": out.getvalue().splitlines(),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
