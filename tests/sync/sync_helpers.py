"""Helpers for the sync tests: a receiving server in another process, local runs seeded
in-process, and a count of what arrived on the receiving side (decrypted there)."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from central_server import SALT as CENTRAL_SALT
from central_server import CentralServer
from sqlalchemy import event, select

from cogflow_desktop.services import results, runs, studies, users
from cogflow_desktop.services.context import Context, open_context
from cogflow_desktop.settings import Settings
from cogflow_desktop.store.models import RunSession
from cogflow_desktop.sync.client import Credentials
from cogflow_desktop.sync.vocabulary import central_payload, central_rows

LAB_USER = "lab"
LAB_PASSWORD = "lab password long enough"
REMOTE_ADMIN = "admin"
REMOTE_PASSWORD = "remote admin password"
SERVER_LINE = re.compile(r"CogFlow Desktop server on (http://\S+)")
# Sync always logs in (an anonymous sync would make ownerless studies on the central server).
REMOTE_CREDENTIALS = Credentials(REMOTE_ADMIN, REMOTE_PASSWORD)


def cli(*args: str, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cogflow_desktop", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class ServerProcess:
    """`cogflow-desktop serve --port 0` on its own data folder, with an admin account."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.url = ""
        self._proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> ServerProcess:
        done = cli(
            "users",
            "create",
            REMOTE_ADMIN,
            "--password-stdin",
            "--data-dir",
            str(self.data_dir),
            stdin=REMOTE_PASSWORD + "\n",
        )
        assert done.returncode == 0, done.stderr
        log = (self.data_dir / "server.log").open("w")
        self._proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cogflow_desktop",
                "serve",
                "--port",
                "0",
                "--data-dir",
                str(self.data_dir),
            ],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        log.close()
        assert self._proc.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self._proc.stdout.readline()
            if not line:
                break
            match = SERVER_LINE.search(line)
            if match:
                self.url = match.group(1)
                return self
        self.stop()
        raise RuntimeError("the receiving server did not start")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(20)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(10)
        if self._proc is not None and self._proc.stdout is not None:
            self._proc.stdout.close()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def lab_context(data_dir: Path, *, fast_writes: bool = False) -> Context:
    """A local install with the lab researcher account. `fast_writes` skips fsync, to seed
    many runs quickly (seeding is not what is tested; close it and sync with a normal one)."""
    ctx = open_context(Settings.from_env(data_dir))
    if fast_writes:
        ctx.engine.dispose()
        event.listen(ctx.engine, "connect", _no_fsync)
    if users.user_count(ctx) == 0:
        users.create_user(ctx, LAB_USER, LAB_PASSWORD)
    return ctx


def _no_fsync(dbapi_conn: Any, _record: object) -> None:
    dbapi_conn.execute("PRAGMA synchronous=OFF")


def publish_local(ctx: Context, slug: str, label: str = "v1", task_type: str = "rdm") -> None:
    studies.publish(
        ctx,
        studies.PublishRequest(
            study_slug=slug,
            study_name=f"Study {slug}",
            config_version_label=label,
            config={"task_type": task_type, "experiment_type": "trial-based", "timeline": []},
            runtime_mode="django",
        ),
        actor="test",
        client=None,
    )


def make_trials(n: int, pad: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "trial_index": i,
            "rt_ms": 300 + i % 97,
            "response": "left" if i % 2 else "right",
            "correct": i % 3 != 0,
            "stimulus_onset_ms": 1000.5 + i,
            "pad": "x" * pad,
        }
        for i in range(n)
    ]


def seed_run(
    ctx: Context,
    slug: str,
    participant: str,
    trials: list[dict[str, Any]],
    status: str = "completed",
) -> str:
    started = runs.start_run(ctx, slug, participant, actor="test", client=None)
    run_id = started["run_session_id"]
    runs.submit(
        ctx,
        runs.SubmitRequest(
            run_id,
            status,
            len(trials),
            {"accuracy": 0.5, "n": len(trials)},
            {"format": "cogflow-result-v1", "timing": {"refresh_hz": 60.0}, "who": participant},
            trials,
        ),
        actor="test",
        client=None,
    )
    return run_id


def seed_interrupted(
    ctx: Context, slug: str, participant: str, trials: list[dict[str, Any]]
) -> str:
    """A run that checkpointed some trials and never ended (flagged at the next start-up)."""
    started = runs.start_run(ctx, slug, participant, actor="test", client=None)
    run_id = started["run_session_id"]
    runs.checkpoint(
        ctx,
        runs.CheckpointRequest(run_id, "auto", 0, len(trials), {"partial": True}, trials),
        actor="test",
        client=None,
    )
    return run_id


def local_results(ctx: Context) -> dict[str, dict[str, Any]]:
    """Every local run, decrypted, by local run id."""
    key = users.unlock_with_password(ctx, LAB_USER, LAB_PASSWORD)
    out = {}
    with ctx.read() as s:
        for run_id in s.scalars(select(RunSession.id)).all():
            got = results.decrypt_run(s, key, run_id, include_trials=True)
            got["participant_id"] = results.unseal_participant_id(key, s.get(RunSession, run_id))
            out[run_id] = got
    return out


@dataclass
class Arrived:
    by_local_id: dict[str, list[dict[str, Any]]]  # local run id -> remote results
    statuses: Counter[str]  # remote run statuses, incl. orphans still "started"
    participant_keys: dict[str, str]  # remote run id -> participant_key


def arrived(remote_data_dir: Path) -> Arrived:
    """Open the (stopped) receiving server's data folder and decrypt every result there."""
    ctx = open_context(Settings.from_env(remote_data_dir))
    try:
        key = users.unlock_with_password(ctx, REMOTE_ADMIN, REMOTE_PASSWORD)
        found: dict[str, list[dict[str, Any]]] = {}
        statuses: Counter[str] = Counter()
        pkeys: dict[str, str] = {}
        with ctx.read() as s:
            rows = s.execute(select(RunSession.id, RunSession.status)).all()
            for run_id, status in rows:
                statuses[status] += 1
                if status not in ("completed", "failed"):
                    continue
                got = results.decrypt_run(s, key, run_id, include_trials=True)
                run = s.get(RunSession, run_id)
                got["participant_id"] = results.unseal_participant_id(key, run)
                local_id = got["result_payload"]["cogflow_provenance"]["local_run_session_id"]
                found.setdefault(local_id, []).append(got)
                pkeys[run_id] = got["participant_key"]
        return Arrived(found, statuses, pkeys)
    finally:
        ctx.close()


def arrived_central(central: CentralServer) -> Arrived:
    """What reached the central test server, in the shape `arrived` gives."""
    found: dict[str, list[dict[str, Any]]] = {}
    statuses: Counter[str] = Counter()
    pkeys: dict[str, str] = {}
    for run in list(central.runs.values()):
        statuses[run.status] += 1
        if run.payload is None:
            continue
        got = {
            "run_session_id": run.id,
            "status": run.status,
            "participant_key": run.participant_key,
            "config_version_id": run.version_id,
            "result_payload": run.payload,
            "trials": [t for _, t in sorted(run.trials.items())],
        }
        local_id = run.payload["cogflow_provenance"]["local_run_session_id"]
        found.setdefault(local_id, []).append(got)
        pkeys[run.id] = run.participant_key
    return Arrived(found, statuses, pkeys)


def central_key(participant_id: str) -> str:
    return hashlib.sha256(f"{CENTRAL_SALT}:{participant_id}".encode()).hexdigest()


def assert_same(
    local: dict[str, Any], remote: dict[str, Any], experiment_type: str | None = "trial-based"
) -> None:
    """The remote result is the local one: payload (plus provenance), summary, every trial
    (in the central vocabulary, which adds names and moves nothing out of reach)."""
    payload = dict(remote["result_payload"])
    provenance = payload.pop("cogflow_provenance")
    summary = payload.pop("_summary")
    expected = dict(local["result_payload"])
    expected.pop("_summary")
    assert payload == central_payload(expected, experiment_type)
    assert summary == local["result_payload"]["_summary"]
    assert provenance["local_run_session_id"] == local["run_session_id"]
    assert provenance["config_version_label"] == local["config_version_label"]
    assert remote["trials"] == central_rows(local["trials"], experiment_type)
    if "participant_id" in remote:
        assert remote["participant_id"] == local["participant_id"]
    else:  # the central test server keeps only the pseudonym, as the reference does
        assert remote["participant_key"] == central_key(local["participant_id"])
    interrupted = local.get("interrupted", False)
    assert remote["status"] == ("failed" if interrupted else local["status"])
    assert provenance["interrupted"] == interrupted
