"""Benchmark: CSV export of 1,000 runs x 240 trials. Prints one JSON document.

    python bench/bench_export.py [--runs 1000] [--trials 240] [--data-dir DIR] [--pairs 3]

Seeds a throwaway data folder through the services in process (start_run + submit, the same
encryption the HTTP path uses), then measures, each in a fresh child process so numbers do not
mix: export throughput (trial rows/s), peak memory for 100 and for all runs (tracemalloc peak of
Python allocations, and the child's max RSS where the OS reports it), where the time goes (the
export's own stages timed inside a real export, then fetch alone and fetch + decrypt + parse
alone) and per-row primitives. The ratio issue 15 asks for (export rows/s over the floor's, the
floor being "fetch, decrypt and parse every trial", goal 0.5 or more) is measured in `--pairs`
back-to-back pairs of fresh processes, export then floor, in wall and in CPU time; the median
pair is the answer (a shared machine's load changes between pairs). Seeding takes minutes:
pass --data-dir to keep the seeded folder and reuse it. On a shared machine wall time includes
waiting for a core, so CPU-time rates are given too, and the load average is reported beside
every measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

USER, PASSWORD = "bench", "bench password long enough"
SLUG = "bench-study"


def _ctx(data_dir: Path) -> Any:
    from cogflow_desktop.services.context import open_context
    from cogflow_desktop.settings import Settings

    return open_context(Settings.from_env(data_dir))


def _trial(i: int) -> dict[str, Any]:
    onset = 1000.0 + 1250.0 * i + (i % 7) * 0.37
    return {
        "trial_index": i,
        "component_type": "flanker-trial",
        "task_type": "flanker",
        "rt_ms": 350.0 + (i * 37 % 400) + 0.125,
        "response": "arrowleft" if i % 2 else "arrowright",
        "correct": i % 5 != 0,
        "stimulus_onset_ms": onset,
        "ended_reason": "response",
        "trial_start_ms": onset - 500.0,
        "trial_end_ms": onset + 900.0,
        "stimulus_offset_ms": onset + 200.0,
        "stimulus_frames": 12,
        "block_index": i // 60,
        "block_trial_index": i % 60,
        "label": "main",
        "stimulus_type": "arrows",
        "target_direction": "left" if i % 2 else "right",
        "congruency": "congruent" if i % 3 else "incongruent",
        "correct_key": "arrowleft" if i % 2 else "arrowright",
        "stimulus": "<<<<<" if i % 2 else ">>>>>",
    }


def seed(data_dir: Path, n_runs: int, n_trials: int) -> float:
    from cogflow_desktop.services import runs, studies, users

    ctx = _ctx(data_dir)
    t0 = time.perf_counter()
    try:
        users.create_user(ctx, USER, PASSWORD)
        studies.publish(
            ctx,
            studies.PublishRequest(
                SLUG,
                "Bench",
                "v1",
                {"experiment_type": "trial-based", "task_type": "flanker", "timeline": []},
            ),
            actor="bench",
            client=None,
        )
        trials = [_trial(i) for i in range(n_trials)]
        for r in range(n_runs):
            started = runs.start_run(ctx, SLUG, f"P{r:05d}", actor="bench", client=None)
            runs.submit(
                ctx,
                runs.SubmitRequest(
                    started["run_session_id"],
                    "completed",
                    n_trials,
                    {"accuracy": 0.8},
                    {"seed": r},
                    trials,
                ),
                actor="bench",
                client=None,
            )
    finally:
        ctx.close()
    return time.perf_counter() - t0


def child(data_dir: Path, limit: int, mode: str, out_dir: Path) -> dict[str, Any]:
    """One measurement in this (fresh) process."""
    from sqlalchemy import select

    from cogflow_desktop.export import ExportOptions, export_study
    from cogflow_desktop.services import users
    from cogflow_desktop.store.models import RunSession

    ctx = _ctx(data_dir)
    key = users.unlock_with_password(ctx, USER, PASSWORD)
    with ctx.read() as s:
        ids = tuple(s.scalars(select(RunSession.id).order_by(RunSession.started_at).limit(limit)))
    if mode == "mem":
        tracemalloc.start()
    out = out_dir / f"bench-{limit}-{mode}.csv"
    t0, c0 = time.perf_counter(), time.process_time()
    stages: dict[str, float] = {}
    if mode == "fetch":
        rows = _fetch_only(ctx, ids)
    elif mode == "decrypt":
        rows = _decrypt_only(ctx, key, ids)
    else:
        if mode == "stages":
            _time_stages(stages)
        result = export_study(ctx, key, ExportOptions(SLUG, "csv", out, run_ids=ids), actor=USER)
        rows = result.trials
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    answer: dict[str, Any] = {"runs": len(ids), "rows": rows, "seconds": round(elapsed, 3)}
    if stages:
        stages["rest_of_export"] = cpu - sum(stages.values())
        answer["cpu_us_per_row"] = {k: round(v / rows * 1e6, 2) for k, v in stages.items()}
    answer["rows_per_s"] = round(rows / elapsed)
    # On a shared machine wall time includes waiting for a core; CPU time does not.
    answer["cpu_seconds"] = round(cpu, 3)
    answer["rows_per_cpu_s"] = round(rows / cpu)
    if mode == "mem":
        answer["tracemalloc_peak_mib"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 2)
        tracemalloc.stop()
    if out.exists():
        answer["csv_mib"] = round(out.stat().st_size / 2**20, 1)
        out.unlink()
    answer["max_rss_mib"] = _max_rss_mib()
    answer["load_average"] = _load()
    ctx.close()
    return answer


def _time_stages(acc: dict[str, float]) -> None:
    """CPU time of the export's stages, measured inside a real export by wrapping them."""
    from cogflow_desktop.export import csv_format
    from cogflow_desktop.services import results

    pages, add, finish = (
        results.trial_pages,
        csv_format.CsvSink.add_trials,
        csv_format.CsvSink.finish,
    )
    acc.update(fetch_decrypt_parse=0.0, csv_rows_to_spill=0.0, assemble_hash_fsync=0.0)

    def timed_pages(*args: Any, **kw: Any) -> Any:
        it = pages(*args, **kw)
        while True:
            c0 = time.process_time()
            page = next(it, None)
            acc["fetch_decrypt_parse"] += time.process_time() - c0
            if page is None:
                return
            yield page

    def timed_add(self: Any, trials: Any) -> None:
        c0 = time.process_time()
        add(self, trials)
        acc["csv_rows_to_spill"] += time.process_time() - c0

    def timed_finish(self: Any) -> Any:
        c0 = time.process_time()
        try:
            return finish(self)
        finally:
            acc["assemble_hash_fsync"] += time.process_time() - c0

    results.trial_pages = timed_pages  # type: ignore[assignment]
    csv_format.CsvSink.add_trials = timed_add  # type: ignore[method-assign]
    csv_format.CsvSink.finish = timed_finish  # type: ignore[method-assign]


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):  # Windows
        return None


def _fetch_only(ctx: Any, ids: tuple[str, ...]) -> int:
    """Reading the ciphertext rows alone (the fetcher trial_pages pages with)."""
    from cogflow_desktop.store.engine import trial_page_fetcher

    n = 0
    with ctx.read() as s:
        fetch = trial_page_fetcher(s)
        try:
            for run_id in ids:
                n += len(fetch(run_id, -1, 1000))
        finally:
            fetch.close()
    return n


def _decrypt_only(ctx: Any, key: Any, ids: tuple[str, ...]) -> int:
    from cogflow_desktop.services import results

    n = 0
    with ctx.read() as s:
        for run_id in ids:
            keys = results.RunKeys(s, key, run_id)
            for page in results.trial_pages(s, keys, run_id, 1000):
                n += len(page)
    return n


def _max_rss_mib() -> float | None:
    try:
        import resource
    except ImportError:  # Windows
        return None
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(rss / (2**20 if sys.platform == "darwin" else 2**10), 1)


def primitives(n: int = 100_000) -> dict[str, float]:
    """Per-row cost of the steps every exported row needs, alone (per CPU second)."""
    import csv
    import io

    import orjson

    from cogflow_desktop.export.columns import VOCAB_COLUMNS
    from cogflow_desktop.export.csv_rows import RowFormatter
    from cogflow_desktop.security import envelopes

    trial = _trial(7)
    plain = json.dumps(trial, separators=(",", ":")).encode()
    key = envelopes.new_key()
    aad = b"cogflow:trial:00000000-0000-4000-8000-000000000000:7"
    blob = envelopes.encrypt(key, plain, aad)
    cipher = envelopes.Cipher(key)
    formatter = RowFormatter(list(VOCAB_COLUMNS))
    formatter.format([trial], "")
    (template,) = formatter._templates.values()
    fields = formatter.fields
    writer = csv.writer(io.StringIO())
    timings = {
        # envelopes.decrypt builds its AES-GCM object per call; the export reuses one per key.
        "envelopes_decrypt_per_cpu_s": lambda: envelopes.decrypt(key, blob, aad),
        "cipher_reused_decrypt_per_cpu_s": lambda: cipher.decrypt(blob, aad),
        "json_loads_per_cpu_s": lambda: json.loads(plain),
        "orjson_loads_per_cpu_s": lambda: orjson.loads(plain),
        "csv_writerow_per_cpu_s": lambda: writer.writerow(list(map(trial.get, fields))),
        "shape_template_row_per_cpu_s": lambda: template(*trial.values()),
    }
    answer: dict[str, float] = {"trial_json_bytes": len(plain)}
    for name, step in timings.items():
        c0 = time.process_time()
        for _ in range(n):
            step()
        answer[name] = round(n / (time.process_time() - c0))
    return answer


def _run_child(data_dir: Path, limit: int, mode: str, out_dir: Path) -> dict[str, Any]:
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            mode,
            "--limit",
            str(limit),
            "--data-dir",
            str(data_dir),
            "--out-dir",
            str(out_dir),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def floor_ratio(data_dir: Path, runs: int, out_dir: Path, pairs: int) -> dict[str, Any]:
    """Export against the floor (fetch + decrypt + parse every trial), back to back."""
    measured = []
    for _ in range(pairs):
        export = _run_child(data_dir, runs, "time", out_dir)
        floor = _run_child(data_dir, runs, "decrypt", out_dir)
        measured.append(
            {
                "export_rows_per_s": export["rows_per_s"],
                "floor_rows_per_s": floor["rows_per_s"],
                "export_rows_per_cpu_s": export["rows_per_cpu_s"],
                "floor_rows_per_cpu_s": floor["rows_per_cpu_s"],
                "wall_ratio": round(export["rows_per_s"] / floor["rows_per_s"], 3),
                "cpu_ratio": round(export["rows_per_cpu_s"] / floor["rows_per_cpu_s"], 3),
                "load_average": floor["load_average"],
            }
        )
    return {
        "median_wall_ratio": statistics.median(m["wall_ratio"] for m in measured),
        "median_cpu_ratio": statistics.median(m["cpu_ratio"] for m in measured),
        "pairs": measured,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--trials", type=int, default=240)
    ap.add_argument("--data-dir", type=Path)
    ap.add_argument("--out-dir", type=Path)
    ap.add_argument("--child", choices=["time", "stages", "mem", "fetch", "decrypt"])
    ap.add_argument("--limit", type=int)
    ap.add_argument("--pairs", type=int, default=3, help="export/floor pairs for the ratio")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.data_dir, args.limit, args.child, args.out_dir)))
        return
    with tempfile.TemporaryDirectory(prefix="cogflow-bench-") as tmp:
        data_dir = args.data_dir or Path(tmp) / "data"
        out_dir = Path(tmp)
        seeded = not (data_dir / "cogflow.sqlite3").exists()
        seed_s = seed(data_dir, args.runs, args.trials) if seeded else None
        small = max(1, args.runs // 10)
        report = {
            "benchmark": "export csv",
            "python": sys.version.split()[0],
            "platform": sys.platform,
            "cpus": os.cpu_count(),
            "runs": args.runs,
            "trials_per_run": args.trials,
            "load_average_at_start": _load(),
            "seed_seconds": None if seed_s is None else round(seed_s, 1),
            "export_vs_floor": floor_ratio(data_dir, args.runs, out_dir, args.pairs),
            "throughput": _run_child(data_dir, args.runs, "time", out_dir),
            "memory": {
                f"{small}_runs": _run_child(data_dir, small, "mem", out_dir),
                f"{args.runs}_runs": _run_child(data_dir, args.runs, "mem", out_dir),
            },
            "where_time_goes": {
                "export_stages": _run_child(data_dir, args.runs, "stages", out_dir),
                "fetch_ciphertext_only": _run_child(data_dir, args.runs, "fetch", out_dir),
                "fetch_decrypt_and_parse": _run_child(data_dir, args.runs, "decrypt", out_dir),
                **primitives(),
            },
        }
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
