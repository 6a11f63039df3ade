"""Benchmark: one data folder at lab-network scale. Prints one JSON document.

    python bench/bench_scale.py --data-dir DIR [--studies 1000] [--runs 100000]
                                [--trials 10000000] [--samples 15] [--starts 5]

Seeds DIR once (later runs reuse it): `--studies` studies published through the studies
service, `--runs` finished runs holding `--trials` trials in all. One large study holds a fifth
of the runs, each of 240 trials; the other runs are spread over the other studies with the
trials left. Runs are written in large transactions through the recording path's own pieces
(store/driver statements, `runs._encrypt_trials` and `_write_rows`, envelopes sealed to the
install key, the sealed run manifest, the audit chain), so every row is one the app writes:
a sample of runs is then checked with the export's integrity check (`results.check_run`) and
decrypted. Seeding prints how long it took and the folder's size.

Then, against `cogflow-desktop serve` in its own process (HTTP on loopback, a researcher
logged in with a fresh TOTP code where the endpoint needs one), several samples each of:
the studies list, the first page of the large study's runs (the API's default page, 200 runs)
and one run's decrypt with its 240 trials; then, in this process, the queries the app's
Studies, Runs (500 runs) and Sync pages call (gui/queries.py). Start-up is timed from launching
`serve` to a healthy /healthz, alternating between this folder and a folder holding only a
researcher account, in the same run (ratio), with the pre-write integrity check timed alone on
both. Every process this starts ends by itself (servers get SIGTERM, then are killed).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

USER, PASSWORD = "bench", "bench password long enough"
LARGE_SLUG = "scale-large"
LARGE_TRIALS = 240  # trials of each run of the large study (a whole flanker session)
RUNS_PER_TRANSACTION = 400
SAMPLE_CHECKS = 40  # seeded runs verified and decrypted after seeding
CONFIG = {
    "experiment_type": "trial-based",
    "task_type": "flanker",
    "timeline": [
        {"type": "instructions", "text": "Press the arrow key the middle arrow points to."},
        {"type": "block", "component_type": "flanker-trial", "length": 240},
    ],
}


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):  # Windows
        return None


def _ctx(data_dir: Path) -> Any:
    from cogflow_desktop.services.context import open_context
    from cogflow_desktop.settings import Settings

    # Like a command-line tool beside the server: no interrupted-run flagging, no backups.
    return open_context(Settings.from_env(data_dir), flag_interrupted_runs=False)


def _trial(i: int, rng: random.Random) -> dict[str, Any]:
    """A flanker trial row as the Interpreter records it (the fields a researcher analyses)."""
    onset = 1000.0 + 1250.0 * i + rng.random()
    left = rng.random() < 0.5
    return {
        "trial_index": i,
        "component_type": "flanker-trial",
        "rt_ms": round(300.0 + rng.random() * 400.0, 3),
        "response": "arrowleft" if left else "arrowright",
        "correct": rng.random() < 0.9,
        "stimulus_onset_ms": round(onset, 3),
        "stimulus_frames": 12,
        "block_index": i // 60,
        "congruency": "congruent" if rng.random() < 0.5 else "incongruent",
        "stimulus": "<<<<<" if left else ">>>>>",
    }


def _plan(n_studies: int, n_runs: int, n_trials: int) -> list[tuple[int, int]]:
    """(study number, trials) of every run: a fifth of the runs in study 0 with LARGE_TRIALS
    each, the rest round-robin over the other studies sharing the remaining trials."""
    large = n_runs // 5
    rest = n_runs - large
    left = max(0, n_trials - large * LARGE_TRIALS)
    base, extra = divmod(left, rest) if rest else (0, 0)
    plan = [(0, LARGE_TRIALS)] * large
    plan += [(1 + r % (n_studies - 1), base + (1 if r < extra else 0)) for r in range(rest)]
    return plan


def seed(data_dir: Path, n_studies: int, n_runs: int, n_trials: int) -> dict[str, Any]:
    from cogflow_desktop.services import studies, users

    data_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    ctx = _ctx(data_dir)
    try:
        users.create_user(ctx, USER, PASSWORD)
        slugs = [LARGE_SLUG] + [f"scale-{n:04d}" for n in range(1, n_studies)]
        for n, slug in enumerate(slugs):
            studies.publish(
                ctx,
                studies.PublishRequest(slug, f"Scale study {n}", "v1", CONFIG),
                actor=USER,
                client=None,
            )
        t_studies = time.perf_counter() - t0
        plan = _plan(n_studies, n_runs, n_trials)
        rng = random.Random(15)
        # Runs started over the last two years, oldest first, as a lab collects them.
        start = datetime.now(UTC) - timedelta(days=730)
        step = timedelta(days=730) / max(1, len(plan))
        trials_written = 0
        for first in range(0, len(plan), RUNS_PER_TRANSACTION):
            batch = plan[first : first + RUNS_PER_TRANSACTION]
            trials_written += _write_runs(ctx, slugs, batch, first, start, step, rng)
            done = first + len(batch)
            if done % 10_000 < RUNS_PER_TRANSACTION or done == len(plan):
                print(
                    f"seeded {done} runs, {trials_written} trials,"
                    f" {time.perf_counter() - t0:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        ctx.close()
    with closing(sqlite3.connect(data_dir / "cogflow.sqlite3")) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # fold the WAL into the database
    return {
        "studies": n_studies,
        "runs": len(plan),
        "trials": trials_written,
        "studies_seconds": round(t_studies, 1),
        "seed_seconds": round(time.perf_counter() - t0, 1),
    }


def _write_runs(
    ctx: Any,
    slugs: list[str],
    batch: list[tuple[int, int]],
    first: int,
    start: datetime,
    step: timedelta,
    rng: random.Random,
) -> int:
    """One write transaction holding `batch`'s runs, each as start_run + submit store it."""
    from sqlalchemy import select

    from cogflow_desktop import audit
    from cogflow_desktop.security import envelopes, pseudonyms
    from cogflow_desktop.services import manifest, runs
    from cogflow_desktop.store import driver
    from cogflow_desktop.store.models import ConfigVersion, InstallKeys, Study

    written = 0
    with ctx.write() as s:
        public_key, salt = s.execute(
            select(InstallKeys.public_key, InstallKeys.participant_salt)
        ).one()
        ids = dict(
            s.execute(
                select(Study.slug, ConfigVersion.id).join(
                    ConfigVersion, ConfigVersion.study_id == Study.id
                )
            ).all()
        )
        study_ids = dict(s.execute(select(Study.slug, Study.id)).all())
        cur = driver.Cursor(s)
        cur.execute("PRAGMA cache_size=-262144")  # 256 MiB for this connection's index pages
        next_key = (cur.first("SELECT coalesce(max(id), 0) FROM run_keys") or (0,))[0] + 1
        run_rows, key_rows, trial_rows, envelope_rows, touched = [], [], [], [], {}
        for offset, (study_no, n_trials) in enumerate(batch):
            number = first + offset
            slug = slugs[study_no]
            study_id, version_id = study_ids[slug], ids[slug]
            run_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            participant = f"P{number:06d}"
            started = start + step * number
            completed = started + timedelta(minutes=5 + n_trials / 30)
            done_at = driver.sql_datetime(completed)
            status = "failed" if number % 37 == 0 else "completed"
            key, key_id = envelopes.new_key(), next_key
            next_key += 1
            fp = manifest.fingerprint(key)
            key_rows.append(
                (key_id, run_id, envelopes.seal(public_key, key, runs.bound_run_key_aad(run_id)),
                 driver.sql_datetime(started), fp)
            )  # fmt: skip
            trials = [_trial(i, rng) for i in range(n_trials)]
            trial_rows += runs._encrypt_trials(run_id, key_id, key, trials)
            written += n_trials
            correct = sum(t["correct"] for t in trials)
            submit = runs.SubmitRequest(
                run_id, status, n_trials,
                {"accuracy": round(correct / max(1, n_trials), 4)}, {"seed": number}, trials,
            )  # fmt: skip
            # The final envelope as runs._put_envelope seals it.
            envelope = envelopes.encrypt(
                key,
                runs._json_bytes({"result_payload": submit.result_payload,
                                  "result_summary": submit.result_summary}),
                runs.result_aad(run_id, "final"),
            )  # fmt: skip
            envelope_rows.append(
                (run_id, "final", key_id, envelope, status, n_trials, None, None, done_at, done_at)
            )
            pkey = pseudonyms.participant_key(salt, participant)
            sealed_manifest = (
                manifest.Manifest(run_id, study_id, version_id, pkey, "started", 0)
                .with_key(key_id, fp)
                .with_trials([t["trial_index"] for t in trials], key_id)
                .with_envelope("final", key_id, envelope)
                .with_state(status, n_trials)
                .seal(key)
            )
            submit_salt = os.urandom(16)
            run_rows.append(
                (run_id, study_id, version_id, pkey,
                 envelopes.seal(public_key, participant.encode(), runs.participant_aad(run_id)),
                 status, driver.sql_datetime(started), done_at, done_at, n_trials, submit_salt,
                 submit.digest(submit_salt), sealed_manifest, key_id)
            )  # fmt: skip
            touched[study_id] = done_at
            audit.record(s, "run.start", actor=audit.ANONYMOUS_ACTOR, target=run_id,
                         details={"study_slug": slug, "config_version_label": "v1"})  # fmt: skip
            audit.record(s, "run.submit", actor=audit.ANONYMOUS_ACTOR, target=run_id,
                         details={"status": status, "trials": n_trials})  # fmt: skip
        # Parents before children, as the recording path writes them (foreign keys are on).
        cur.execute_many(
            "INSERT INTO run_sessions (id, study_id, config_version_id, participant_key,"
            " participant_id_sealed, status, started_at, completed_at, last_activity_at,"
            " trial_count, submit_salt, submit_digest, bound, manifest, manifest_key_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
            run_rows,
        )
        cur.execute_many(
            "INSERT INTO run_keys (id, run_id, sealed_key, created_at, fingerprint)"
            " VALUES (?, ?, ?, ?, ?)",
            key_rows,
        )
        runs._write_rows(s, trial_rows)
        cur.execute_many(runs._ENVELOPE_UPSERT_SQL, envelope_rows)
        cur.execute_many(
            "UPDATE studies SET last_activity_at = ? WHERE id = ?",
            [(when, sid) for sid, when in touched.items()],
        )
        cur.close()
    return written


def verify_sample(data_dir: Path, n: int = SAMPLE_CHECKS) -> dict[str, Any]:
    """The export's integrity check and a full decrypt on runs picked across the folder."""
    from sqlalchemy import select

    from cogflow_desktop.services import results, users
    from cogflow_desktop.store.models import RunSession

    ctx = _ctx(data_dir)
    try:
        key = users.unlock_with_password(ctx, USER, PASSWORD)
        with ctx.read() as s:
            ids = list(
                s.scalars(select(RunSession.id).order_by(RunSession.started_at).limit(n // 2))
            ) + list(
                s.scalars(
                    select(RunSession.id).order_by(RunSession.started_at.desc()).limit(n // 2)
                )
            )
            verdicts: dict[str, int] = {}
            trials = 0
            for run_id in ids:
                verdict = results.check_run(s, results.RunKeys(s, key, run_id), run_id)
                verdicts[verdict] = verdicts.get(verdict, 0) + 1
                answer = results.decrypt_run(s, key, run_id, include_trials=True)
                assert len(answer["trials"]) == answer["trial_count"], run_id
                trials += len(answer["trials"])
        return {"runs_checked": len(ids), "verdicts": verdicts, "trials_decrypted": trials}
    finally:
        ctx.close()


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# --- measuring through `cogflow-desktop serve` ----------------------------------------------


def _serve(data_dir: Path) -> tuple[subprocess.Popen[str], str, float]:
    """Launch the server; returns it, its URL and the seconds from launch to a healthy
    /healthz."""
    import requests

    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cogflow_desktop", "serve", "--port", "0",
         "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    url = ""
    for line in proc.stdout:
        if "server on " in line:
            url = line.split("server on ", 1)[1].split()[0]
            break
    if not url:
        proc.wait(timeout=30)
        raise SystemExit(f"`serve` did not start on {data_dir} (exit status {proc.returncode}).")
    while True:
        if requests.get(f"{url}/healthz", timeout=30).status_code == 200:
            return proc, url, time.perf_counter() - t0
        time.sleep(0.005)


def _wait_for_daily_backup(data_dir: Path, limit_s: float = 900.0) -> float | None:
    """A recording process backs the database up at start when the last backup is a day old
    (store/backups.py), in a thread beside the server: wait for it, so it does not share the
    machine with the measurements. Seconds waited, None when none was being made."""
    backups = data_dir / "backups"
    time.sleep(1.0)  # the thread starts with the database, before the server answers
    t0 = time.perf_counter()
    if not list(backups.glob("*.partial")):
        return None
    while list(backups.glob("*.partial")):
        if time.perf_counter() - t0 > limit_s:
            raise SystemExit(f"The start-up backup of {data_dir} took over {limit_s:.0f} s.")
        time.sleep(0.1)
    return round(time.perf_counter() - t0 + 1.0, 1)


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def _stats(samples: list[float]) -> dict[str, float]:
    ms = sorted(x * 1000 for x in samples)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return {"p50_ms": round(statistics.median(ms), 1), "p95_ms": round(p95, 1),
            "max_ms": round(ms[-1], 1), "samples": len(ms)}  # fmt: skip


def _timed(call: Any, n: int) -> tuple[dict[str, float], Any]:
    call()  # the first request warms the connection pool and the page cache
    times, answer = [], None
    for _ in range(n):
        t0 = time.perf_counter()
        answer = call()
        times.append(time.perf_counter() - t0)
    return _stats(times), answer


def _researcher(data_dir: Path, url: str) -> Any:
    """A new account (a TOTP step is accepted once per account), logged in over HTTP with a
    fresh TOTP code; created beside the running server as `users add` would."""
    import pyotp
    import requests

    from cogflow_desktop.services import users

    name = f"scale{uuid.uuid4().hex[:8]}"
    ctx = _ctx(data_dir)
    try:
        users.create_user(
            ctx, name, PASSWORD, unlocked_key=users.unlock_with_password(ctx, USER, PASSWORD)
        )
    finally:
        ctx.close()
    http = requests.Session()
    resp = http.post(f"{url}/api/v1/auth/login", json={"username": name, "password": PASSWORD},
                     timeout=60)  # fmt: skip
    resp.raise_for_status()
    http.headers["X-CSRFToken"] = http.cookies["csrftoken"]
    secret = http.post(f"{url}/api/v1/auth/mfa/setup", json={}, timeout=60).json()["totp_secret"]
    code = pyotp.TOTP(secret).now()
    http.post(f"{url}/api/v1/auth/mfa/verify", json={"code": code}, timeout=60).raise_for_status()
    return http


def measure_http(data_dir: Path, samples: int) -> dict[str, Any]:
    from cogflow_desktop.services import studies

    proc, url, _ = _serve(data_dir)
    try:
        backup_s = _wait_for_daily_backup(data_dir)
        http = _researcher(data_dir, url)
        page = studies.RUNS_DEFAULT_LIMIT
        answer: dict[str, Any] = {"load_average": _load(), "runs_page_size": page}
        answer["waited_for_start_up_backup_s"] = backup_s

        def studies_list() -> Any:
            resp = http.get(f"{url}/api/v1/studies", timeout=60)
            resp.raise_for_status()
            return resp.json()

        def run_list() -> Any:
            resp = http.get(f"{url}/api/v1/studies/{LARGE_SLUG}/runs?limit={page}", timeout=60)
            resp.raise_for_status()
            return resp.json()

        answer["studies_list"], listed = _timed(studies_list, samples)
        answer["studies_list"]["studies"] = len(listed["studies"])
        answer["large_study_run_list"], runs_page = _timed(run_list, samples)
        answer["large_study_run_list"]["total_run_count"] = runs_page["total_run_count"]
        answer["large_study_run_list"]["runs_returned"] = runs_page["runs_returned"]
        # A different run each sample (none of it cached), from the first page.
        picks = iter([r["run_session_id"] for r in runs_page["runs"]] * 2)

        def decrypt() -> Any:
            resp = http.post(
                f"{url}/api/v1/results/decrypt",
                json={"run_session_id": next(picks), "include_trials": True},
                timeout=60,
            )
            resp.raise_for_status()
            return resp.json()

        answer["one_run_decrypt"], opened = _timed(decrypt, samples)
        answer["one_run_decrypt"]["trials"] = len(opened["trials"])
        answer["one_run_decrypt"]["integrity"] = opened["integrity"]
        answer["load_average_after"] = _load()
        return answer
    finally:
        _stop(proc)


def measure_gui_queries(data_dir: Path, samples: int) -> dict[str, Any]:
    """The read-only queries the app's Studies, Runs and Sync pages call (gui/queries.py, no
    Qt), in this process on the same folder."""
    from cogflow_desktop.gui import queries

    ctx = _ctx(data_dir)
    try:
        answer: dict[str, Any] = {"load_average": _load()}
        answer["studies_page_rows"], rows = _timed(lambda: queries.study_rows(ctx), samples)
        answer["studies_page_rows"]["studies"] = len(rows)
        answer["large_study_runs_page_rows"], rows = _timed(
            lambda: queries.run_rows(ctx, LARGE_SLUG), samples
        )
        answer["large_study_runs_page_rows"]["runs"] = len(rows)
        answer["sync_page_rows"], rows = _timed(lambda: queries.sync_rows(ctx), samples)
        answer["sync_page_rows"]["runs"] = len(rows)
        return answer
    finally:
        ctx.close()


def _empty_folder(parent: Path) -> Path:
    """A data folder with one researcher and nothing else (a new installation)."""
    from cogflow_desktop.services import users

    folder = parent / "empty"
    ctx = _ctx(folder)
    try:
        users.create_user(ctx, USER, PASSWORD)
    finally:
        ctx.close()
    return folder


def measure_startup(data_dir: Path, empty: Path, starts: int) -> dict[str, Any]:
    """Launch -> healthy /healthz for `serve`, alternating between the folders."""
    times: dict[str, list[float]] = {"scale": [], "empty": []}
    for folder in (empty, data_dir):  # unmeasured: compiles bytecode, makes the day's backup
        proc, _url, _ = _serve(folder)
        _stop(proc)
    for _ in range(starts):
        for name, folder in (("empty", empty), ("scale", data_dir)):
            proc, _url, took = _serve(folder)
            times[name].append(took)
            _stop(proc)
    # What start-up does in proportion to the file: the pre-write integrity check
    # (store/backups.py check_database, SQLite's quick_check over every page), alone.
    from cogflow_desktop.store.backups import quick_check

    checks: dict[str, float] = {}
    for name, folder in (("empty", empty), ("scale", data_dir)):
        c0 = time.perf_counter()
        assert quick_check(folder / "cogflow.sqlite3") is None
        checks[name] = round(time.perf_counter() - c0, 2)
    empty_ms = statistics.median(times["empty"]) * 1000
    scale_ms = statistics.median(times["scale"]) * 1000
    return {
        "serve_to_healthz_empty": _stats(times["empty"]),
        "serve_to_healthz_scale": _stats(times["scale"]),
        "ratio_scale_to_empty": round(scale_ms / empty_ms, 2),
        "quick_check_alone_s": checks,
        "load_average": _load(),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--studies", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=100_000)
    ap.add_argument("--trials", type=int, default=10_000_000)
    ap.add_argument("--samples", type=int, default=15)
    ap.add_argument("--starts", type=int, default=5)
    ap.add_argument("--seed-only", action="store_true")
    ap.add_argument("--verify", action="store_true", help="check a sample of a seeded folder")
    args = ap.parse_args()
    report: dict[str, Any] = {
        "benchmark": "scale",
        "python": sys.version.split()[0],
        "platform": sys.platform,
        "cpus": os.cpu_count(),
        "load_average_at_start": _load(),
    }
    db = args.data_dir / "cogflow.sqlite3"
    if not db.exists():
        report["seeding"] = seed(args.data_dir, args.studies, args.runs, args.trials)
        report["seeding"]["verify_sample"] = verify_sample(args.data_dir)
    elif args.verify:
        report["verify_sample"] = verify_sample(args.data_dir)
    report["database_mib"] = round(db.stat().st_size / 2**20)
    report["folder_mib"] = round(folder_size(args.data_dir) / 2**20)
    if not args.seed_only:
        report["http"] = measure_http(args.data_dir, args.samples)
        report["gui_queries"] = measure_gui_queries(args.data_dir, args.samples)
        with tempfile.TemporaryDirectory(prefix="cogflow-scale-") as tmp:
            report["startup"] = measure_startup(
                args.data_dir, _empty_folder(Path(tmp)), args.starts
            )
            shutil.rmtree(Path(tmp) / "empty", ignore_errors=True)
    report["load_average_at_end"] = _load()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
