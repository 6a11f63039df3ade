"""Benchmark: how close the sync engine gets to what the receiving server can take.

    python bench/bench_sync.py [--runs 1000] [--trials 240] [--workers 4] [--plain-loop]

In one run, each against a fresh receiving server (a separate `cogflow-desktop serve` process
on its own empty data folder), on the same seeded lab data (1,000 runs of 240 trials):

1. the receiver's capacity: an ideal client sends the engine's own requests for every run
   (built beforehand by `engine.plan_requests`, encoded to bytes; only the remote run id is
   put into the submit once `runs/start` answers) over `--workers` raw keep-alive
   connections (`http.client`), each sending its next request as soon as the last one is
   answered: runs/s the receiver takes, and its CPU per run;
2. the sync engine (`--workers` workers), which also reads and decrypts every run, records
   its progress durably and logs in first: runs/s, its CPU, the receiver's CPU per run;
3. with `--plain-loop`, the same requests in a plain sequential loop (the old comparison).

Per run both send what the engine sends to this receiver: a participant-link request (this
receiver has none: 404), `runs/start`, checkpoints when the trials need more than one piece,
and `results/submit`. Prints one JSON object with `engine_share_of_receiver_capacity` (the
goal of issue 15 is 0.8 or more) and the load average (the machine may be shared).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import orjson
import requests
from sqlalchemy import event

from cogflow_desktop.services import runs, studies, users
from cogflow_desktop.services.context import Context, open_context
from cogflow_desktop.settings import Settings
from cogflow_desktop.sync import material, state
from cogflow_desktop.sync.client import CentralClient, Credentials, RemoteError, encode
from cogflow_desktop.sync.engine import SyncEngine, SyncOptions, plan_requests
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


# Where the remote run id goes in a prebuilt body (orjson escapes the NULs: it cannot clash).
_ID_MARK = "\x00remote run id\x00"


class _Prebuilt:
    """One run's requests as bytes, ready to send; the remote run id is spliced in."""

    def __init__(self, mat: material.RunMaterial, slug: str, version_id: str) -> None:
        plan = plan_requests(mat, remote_id=_ID_MARK)
        total = len(plan.pieces)
        self.link_path = f"/api/v1/studies/{quote(slug, safe='')}/participant-links"
        self.link = encode(
            {"participant_external_id": mat.participant_id, "task_order": [version_id],
             "task_order_strict": True, "counterbalance_enabled": False}
        )  # fmt: skip
        self.start = encode({"study_slug": slug, "participant_external_id": mat.participant_id})
        self.checkpoints = [
            _split(SyncEngine._piece_body(_ID_MARK, piece, total, mat))
            for piece in plan.checkpointed
        ]
        self.submit = _split(plan.submit_body)


def _split(body: dict[str, Any]) -> tuple[bytes, bytes]:
    before, after = encode(body).split(encode(_ID_MARK), 1)
    return before, after


class _RawConnection:
    """One keep-alive HTTP/1.1 connection, as thin as the standard library makes it."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        parts = urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
        self.headers = headers

    def post(self, path: str, body: bytes, expect: tuple[int, ...] = (200, 201)) -> Any:
        self.conn.request("POST", path, body, self.headers)
        resp = self.conn.getresponse()
        data = resp.read()
        if resp.status not in expect:
            raise RuntimeError(f"{path} answered {resp.status}: {data[:200]!r}")
        return orjson.loads(data) if resp.status < 300 else None


def _login(url: str) -> dict[str, str]:
    """Log in once as the engine does (session cookie + CSRF token): the headers to send."""
    http = requests.Session()
    http.get(url + "/api/v1/auth/csrf", timeout=30).raise_for_status()
    token = http.cookies.get("csrftoken") or ""
    http.post(
        url + "/api/v1/auth/login",
        json={"username": RECEIVER.username, "password": RECEIVER.password},
        headers={"X-CSRFToken": token},
        timeout=60,
    ).raise_for_status()
    http.get(url + "/api/v1/auth/csrf", timeout=30).raise_for_status()
    cookies = "; ".join(f"{c.name}={c.value}" for c in http.cookies if c.value is not None)
    return {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "Cookie": cookies,
        "X-CSRFToken": http.cookies.get("csrftoken") or "",
    }


def receiver_capacity(ctx: Context, receiver: Receiver, workers: int) -> dict[str, Any]:
    """Runs/s the receiver takes from an ideal client: prebuilt bodies over `workers` raw
    keep-alive connections, each sending as soon as it is answered."""
    headers = _login(receiver.url)
    key = users.unlock_with_password(ctx, USER, PASSWORD)
    due = state.due_runs(ctx, receiver.url).run_ids
    first = material.load(ctx, key, due[0])
    publish = _RawConnection(receiver.url, headers)
    remote = publish.post("/api/v1/configs/publish", encode(first.config.publish_body()))
    slug, version = str(remote["study_slug"]), str(remote["config_version_id"])
    # Reading and encoding every run is the client's work, not the receiver's: done first.
    prebuilt = [_Prebuilt(material.load(ctx, key, run_id), slug, version) for run_id in due]
    todo = iter(prebuilt)
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work() -> None:
        conn = _RawConnection(receiver.url, headers)
        try:
            while True:
                with lock:
                    run = next(todo, None)
                if run is None:
                    return
                conn.post(run.link_path, run.link, expect=(404, 405))
                mark = orjson.dumps(
                    str(conn.post("/api/v1/runs/start", run.start)["run_session_id"])
                )
                for before, after in run.checkpoints:
                    conn.post("/api/v1/results/checkpoint", before + mark + after)
                answer = conn.post("/api/v1/results/submit", run.submit[0] + mark + run.submit[1])
                if answer.get("stored") is False:
                    raise RuntimeError(f"the receiver did not store a run: {answer}")
        except BaseException as exc:  # reported after the threads are joined
            errors.append(exc)

    cpu0 = receiver.cpu_seconds()
    wall0 = time.perf_counter()
    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - wall0
    cpu1 = receiver.cpu_seconds()
    if errors:
        raise errors[0]
    answer: dict[str, Any] = {
        "runs": len(prebuilt),
        "requests_per_run": 3 + sum(len(r.checkpoints) for r in prebuilt) / len(prebuilt),
        "wall_seconds": round(wall, 2),
        "runs_per_second": round(len(prebuilt) / wall, 1),
    }
    if cpu0 is not None and cpu1 is not None:
        answer["receiving_server_cpu_seconds"] = round(cpu1 - cpu0, 2)
        answer["receiving_server_cpu_ms_per_run"] = round((cpu1 - cpu0) / len(prebuilt) * 1e3, 1)
    return answer


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


def _load() -> list[float] | None:
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def _server_cpu(receiver: Receiver, before: float | None, runs: int) -> dict[str, float]:
    after = receiver.cpu_seconds()
    if before is None or after is None or not runs:
        return {}
    return {
        "receiving_server_cpu_seconds": round(after - before, 2),
        "receiving_server_cpu_ms_per_run": round((after - before) / runs * 1e3, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--trials", type=int, default=240)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--plain-loop", action="store_true", help="also time a plain loop")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="cogflow-bench-sync-"))
    try:
        seed_started = time.perf_counter()
        seed(root / "lab", args.runs, args.trials)
        phases = ["capacity", "engine"] + (["plain_loop"] if args.plain_loop else [])
        for name in phases[1:]:
            shutil.copytree(root / "lab", root / f"lab-{name}")
        seed_seconds = time.perf_counter() - seed_started

        results: dict[str, Any] = {"load_average_at_start": _load()}
        for name in phases:
            receiver = Receiver(root / f"receiver-{name}")
            lab = root / ("lab" if name == "capacity" else f"lab-{name}")
            ctx = open_context(Settings.from_env(lab))
            try:
                if name == "capacity":
                    results["receiver_capacity"] = receiver_capacity(ctx, receiver, args.workers)
                    continue
                server_cpu0 = receiver.cpu_seconds()
                if name == "engine":
                    key = users.unlock_with_password(ctx, USER, PASSWORD)
                    engine = SyncEngine(
                        ctx, CentralClient(receiver.url, credentials=RECEIVER), key, actor=USER,
                        options=SyncOptions(workers=args.workers),
                    )  # fmt: skip
                    results[name] = measure(lambda e=engine: e.run().acknowledged)
                else:
                    results[name] = measure(lambda c=ctx, u=receiver.url: plain_loop(c, u))
                results[name].update(_server_cpu(receiver, server_cpu0, results[name]["runs"]))
            finally:
                ctx.close()
                receiver.stop()
        capacity = results["receiver_capacity"]["runs_per_second"]
        report: dict[str, Any] = {
            "benchmark": "sync",
            "runs": args.runs,
            "trials_per_run": args.trials,
            "workers": args.workers,
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "seed_seconds": round(seed_seconds, 1),
            **results,
            "load_average_at_end": _load(),
            "engine_share_of_receiver_capacity": round(
                results["engine"]["runs_per_second"] / capacity, 2
            ),
        }
        if args.plain_loop:
            report["engine_speedup_over_plain_loop"] = round(
                results["plain_loop"]["wall_seconds"] / results["engine"]["wall_seconds"], 2
            )
        print(json.dumps(report, indent=2))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
