"""Benchmark: sync 1,000 runs of 240 trials to a local receiving server (a separate
`cogflow-desktop serve` process) with the sync engine, and the same requests and the same
durable bookkeeping in a plain sequential loop. Prints one JSON object.

    python bench/bench_sync.py [--runs 1000] [--trials 240] [--workers 4]

Both modes do the same work per run: read and decrypt it (its rows mapped to the central
vocabulary), publish once, ask for a participant link (this receiver has none: 404), start,
checkpoint when the trials need more than one piece, submit, and record the state durably. Both
log in to the receiver first (sync never runs anonymously). The loop does it one
run after another; the engine overlaps runs on a thread pool (and group-commits its state).
The receiving server's CPU time is printed too: it bounds what any client can reach, because
that server (one Python process) does the heavier part of the work (encrypting every trial).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event

from cogflow_desktop.services import runs, studies, users
from cogflow_desktop.services.context import Context, open_context
from cogflow_desktop.settings import Settings
from cogflow_desktop.sync import material, state
from cogflow_desktop.sync.client import CentralClient, Credentials, RemoteError
from cogflow_desktop.sync.engine import SyncEngine, SyncOptions
from cogflow_desktop.sync.pieces import cut

USER, PASSWORD = "bench", "bench password long enough"
RECEIVER = Credentials("admin", "receiver password long")


def _cli(*args: str, stdin: str | None = None) -> None:
    subprocess.run(
        [sys.executable, "-m", "cogflow_desktop", *args],
        input=stdin, text=True, check=True, capture_output=True,
    )  # fmt: skip


class Receiver:
    """A receiving server in its own process, on its own empty data folder."""

    def __init__(self, data_dir: Path) -> None:
        _cli("users", "create", "admin", "--password-stdin", "--data-dir", str(data_dir),
             stdin=RECEIVER.password + "\n")  # fmt: skip
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cogflow_desktop", "serve", "--port", "0",
             "--data-dir", str(data_dir)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            match = re.search(r"server on (http://\S+)", line)
            if match:
                self.url = match.group(1)
                return
        raise RuntimeError("the receiving server did not start")

    def cpu_seconds(self) -> float | None:
        """The receiving process's CPU time (Linux /proc; None elsewhere)."""
        stat = Path(f"/proc/{self.proc.pid}/stat")
        if not stat.exists():
            return None
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def seed(data_dir: Path, n_runs: int, n_trials: int) -> None:
    ctx = open_context(Settings.from_env(data_dir))
    users.create_user(ctx, USER, PASSWORD)
    # Seeding is not what is measured: skip fsync while filling the store.
    ctx.engine.dispose()
    event.listen(ctx.engine, "connect", lambda c, _r: c.execute("PRAGMA synchronous=OFF"))
    studies.publish(
        ctx,
        studies.PublishRequest("bench", "Bench", "v1", {"task_type": "rdm", "timeline": []}),
        actor="bench",
        client=None,
    )
    for i in range(n_runs):
        run_id = runs.start_run(ctx, "bench", f"B{i:05d}", actor="bench", client=None)[
            "run_session_id"
        ]
        trials = [
            {"trial_index": t, "rt_ms": 350.25 + t, "response": "left", "correct": t % 3 > 0,
             "stimulus_onset_ms": 1000.0 + 900 * t, "coherence": 0.128, "direction": 90}
            for t in range(n_trials)
        ]  # fmt: skip
        runs.submit(
            ctx,
            runs.SubmitRequest(run_id, "completed", n_trials, {"accuracy": 0.66},
                               {"timing": {"refresh_hz": 60}}, trials),
            actor="bench", client=None,
        )  # fmt: skip
    ctx.close()


def plain_loop(ctx: Context, url: str) -> int:
    """The same requests and state records as the engine, one after another."""
    key = users.unlock_with_password(ctx, USER, PASSWORD)
    client = CentralClient(url, credentials=RECEIVER)
    client.connect()
    client.me()
    due = state.due_runs(ctx, client.base_url).run_ids
    published: dict[int, dict[str, Any]] = {}
    for run_id in due:
        mat = material.load(ctx, key, run_id)
        pieces = cut(mat.trials)
        ref = mat.config
        if ref.config_version_id not in published:
            published[ref.config_version_id] = client.publish(ref.publish_body())
        remote = published[ref.config_version_id]
        version = str(remote["config_version_id"])
        try:
            link = client.participant_link(remote["study_slug"], mat.participant_id, [version])
        except RemoteError as exc:
            if exc.status != 404:
                raise
            link = {}
        answer = client.start_run(
            remote["study_slug"], mat.participant_id, launch_token=link.get("launch_token")
        )
        remote_id = answer["run_session_id"]
        state.record_started(
            ctx, run_id, client.base_url, remote_id, remote["study_slug"],
            remote["config_version_label"], str(answer["config_version_id"]),
        )  # fmt: skip
        for piece in pieces:
            client.checkpoint(SyncEngine._piece_body(remote_id, piece, len(pieces), mat))
        client.submit({**SyncEngine._submit_body(remote_id, mat)})
        state.record_acknowledged(
            ctx, run_id, pieces=len(pieces), actor=USER, server_url=client.base_url, details={}
        )
    return len(due)


def measure(fn: Any) -> dict[str, float]:
    wall0, cpu0 = time.perf_counter(), time.process_time()
    done = fn()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return {
        "runs": done,
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "cpu_share_of_wall": round(cpu / wall, 3),
        "runs_per_second": round(done / wall, 1),
    }


def _bound(results: dict[str, Any]) -> float | None:
    server_cpu = results["engine"].get("receiving_server_cpu_seconds")
    if not server_cpu:
        return None
    return round(results["plain_loop"]["wall_seconds"] / server_cpu, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--trials", type=int, default=240)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="cogflow-bench-sync-"))
    try:
        seed_started = time.perf_counter()
        seed(root / "lab-engine", args.runs, args.trials)
        shutil.copytree(root / "lab-engine", root / "lab-loop")
        seed_seconds = time.perf_counter() - seed_started

        results: dict[str, Any] = {}
        for name in ("plain_loop", "engine"):
            receiver = Receiver(root / f"receiver-{name}")
            ctx = open_context(Settings.from_env(root / f"lab-{name.split('_')[-1]}"))
            server_cpu0 = receiver.cpu_seconds()
            try:
                if name == "engine":
                    key = users.unlock_with_password(ctx, USER, PASSWORD)
                    engine = SyncEngine(
                        ctx, CentralClient(receiver.url, credentials=RECEIVER), key, actor=USER,
                        options=SyncOptions(workers=args.workers),
                    )  # fmt: skip
                    results[name] = measure(lambda e=engine: e.run().acknowledged)
                else:
                    results[name] = measure(lambda c=ctx, u=receiver.url: plain_loop(c, u))
                server_cpu1 = receiver.cpu_seconds()
                if server_cpu0 is not None and server_cpu1 is not None:
                    results[name]["receiving_server_cpu_seconds"] = round(
                        server_cpu1 - server_cpu0, 2
                    )
            finally:
                ctx.close()
                receiver.stop()
        print(
            json.dumps(
                {
                    "benchmark": "sync",
                    "runs": args.runs,
                    "trials_per_run": args.trials,
                    "workers": args.workers,
                    "cpu_count": os.cpu_count(),
                    "load_average_1m": round(os.getloadavg()[0], 2)
                    if hasattr(os, "getloadavg")
                    else None,
                    "python": platform.python_version(),
                    "seed_seconds": round(seed_seconds, 1),
                    **results,
                    "engine_speedup_over_plain_loop": round(
                        results["plain_loop"]["wall_seconds"] / results["engine"]["wall_seconds"],
                        2,
                    ),
                    # No client can finish before the receiving server has done its own work.
                    "speedup_bound_by_receiving_server_cpu": _bound(results),
                },
                indent=2,
            )
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
