"""Seeding studies for the export tests through the real HTTP API, and independent readers."""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

TIMEOUT = 60
_counter = itertools.count(1)


def new_slug(prefix: str = "exp") -> str:
    return f"{prefix}-{next(_counter)}-{uuid.uuid4().hex[:6]}"


def instructions(i: int, onset: float) -> dict[str, Any]:
    return {
        "trial_index": i,
        "component_type": "instructions",
        "task_type": "flanker",
        "rt_ms": 1500.25,
        "response": "space",
        "correct": None,
        "stimulus_onset_ms": onset,
        "ended_reason": "response",
        "trial_start_ms": onset - 16.7,
        "trial_end_ms": onset + 1500.25,
        "stimulus": "<p>Press space</p>",
    }


def flanker(i: int, onset: float, congruent: bool) -> dict[str, Any]:
    return {
        "trial_index": i,
        "component_type": "flanker-trial",
        "task_type": "flanker",
        "rt_ms": 400.0 + i / 3,
        "response": "arrowleft",
        "correct": congruent,
        "stimulus_onset_ms": onset,
        "ended_reason": "response",
        "trial_start_ms": onset - 500.0,
        "trial_end_ms": onset + 600.0,
        "stimulus_offset_ms": onset + 200.0,
        "stimulus_frames": 12,
        "block_index": 0,
        "block_trial_index": i - 1,
        "congruency": "congruent" if congruent else "incongruent",
        "target_direction": "left",
        "correct_key": "arrowleft",
    }


def survey(i: int, onset: float) -> dict[str, Any]:
    return {
        "trial_index": i,
        "component_type": "survey-response",
        "task_type": "flanker",
        "rt_ms": None,
        "response": {"mood": 'Ça va, "très" bien\nmerci', "age": 31, "tags": ["a", "b"]},
        "correct": None,
        "stimulus_onset_ms": onset,
        "ended_reason": "response",
        "questions_shown": ["mood", "age", "tags"],
        "note": "tab\there",
    }


def pvt(i: int, onset: float) -> dict[str, Any]:
    return {
        "trial_index": i,
        "component_type": "pvt-trial",
        "task_type": "pvt",
        "rt_ms": 612,
        "response": " ",
        "correct": True,
        "stimulus_onset_ms": onset,
        "ended_reason": "response",
        "foreperiod_ms": 2000,
        "false_start": False,
        "lapse": True,
        "response_source": "keyboard",
        "rdm_parameters": {"nested": {"deep": [1, 2.5, None]}},
        # Names the exports use for their own columns: kept as trial.<name>, never dropped.
        "status": "ok",
        "duration": 1500,
    }


@dataclass
class SeededRun:
    run_session_id: str
    participant: str
    participant_key: str
    trials: list[dict[str, Any]]
    status: str
    result_payload: dict[str, Any]
    result_summary: dict[str, Any] = field(default_factory=dict)


def post(url: str, path: str, body: Any) -> dict[str, Any]:
    resp = requests.post(f"{url}{path}", json=body, timeout=TIMEOUT)
    assert resp.status_code in (200, 201), resp.text
    return resp.json()


def publish(url: str, slug: str) -> None:
    post(
        url,
        "/api/v1/configs/publish",
        {
            "study_slug": slug,
            "study_name": f"Study {slug}",
            "config_version_label": "v1",
            "config": {"experiment_type": "trial-based", "task_type": "flanker", "timeline": []},
        },
    )


def run_over_http(
    url: str, slug: str, participant: str, trials: list[dict[str, Any]], *, final: bool = True
) -> SeededRun:
    """Start a run and store its trials: submitted (final) or only checkpointed."""
    started = post(
        url, "/api/v1/runs/start", {"study_slug": slug, "participant_external_id": participant}
    )
    run_id = started["run_session_id"]
    payload = {"note": "payload ✓", "scores": [1, 2, 3]}
    if final:
        summary = {"accuracy": 0.75, "n": len(trials)}
        post(
            url,
            "/api/v1/results/submit",
            {
                "run_session_id": run_id,
                "status": "completed",
                "trial_count": len(trials),
                "result_summary": summary,
                "result_payload": payload,
                "trials": trials,
            },
        )
        return SeededRun(
            run_id, participant, started["participant_key"], trials, "completed", payload, summary
        )
    post(
        url,
        "/api/v1/results/checkpoint",
        {
            "run_session_id": run_id,
            "checkpoint_label": "after trial",
            "checkpoint_index": 0,
            "trial_count": len(trials),
            "result_payload": payload,
            "trials": trials,
        },
    )
    return SeededRun(run_id, participant, started["participant_key"], trials, "started", payload)


def seed_heterogeneous_study(url: str) -> tuple[str, list[SeededRun]]:
    """Three runs with different fields per component; the third never finishes."""
    slug = new_slug()
    publish(url, slug)
    run1 = [instructions(0, 1000.0), *(flanker(i, 1000.0 + 900 * i, i % 2 == 1) for i in (1, 2))]
    run1.append(survey(3, 5000.0))
    run2 = [flanker(0, 250.5, True), pvt(1, 3000.0), pvt(2, 6000.0)]
    run3 = [instructions(0, 800.0), flanker(1, 1800.0, False)]
    seeded = [
        run_over_http(url, slug, f"P-{slug}-1", run1),
        run_over_http(url, slug, f"P-{slug}-2", run2),
        run_over_http(url, slug, f"P-{slug}-3", run3, final=False),
    ]
    return slug, seeded


# Independent readers and expectations (not the export package's own code).


def expected_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (bool, int, float, str)):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def first_seen(runs: list[SeededRun], skip: tuple[str, ...]) -> list[str]:
    seen: dict[str, None] = {}
    for run in runs:
        for t in run.trials:
            seen.update(dict.fromkeys(k for k in t if k not in skip))
    return list(seen)


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    return header, [dict(zip(header, r, strict=True)) for r in body], body


def read_tsv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    rows = [line.split("\t") for line in lines[1:]]
    assert all(len(r) == len(header) for r in rows)
    return header, [dict(zip(header, r, strict=True)) for r in rows]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
