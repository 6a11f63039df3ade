"""Small HTTP helpers shared by the API tests: one participant cycle in its parts."""

from __future__ import annotations

import itertools
import time
import uuid
from typing import Any

import pyotp
import requests

_slug_counter = itertools.count(1)
TIMEOUT = 60


def new_slug(prefix: str = "study") -> str:
    """A slug no other test uses (tests share one server per module)."""
    return f"{prefix}-{next(_slug_counter)}-{uuid.uuid4().hex[:6]}"


def sample_config(task_type: str = "rdm", **extra: Any) -> dict[str, Any]:
    return {"experiment_type": "trial-based", "task_type": task_type, "timeline": [], **extra}


def trial(index: int, **extra: Any) -> dict[str, Any]:
    return {"trial_index": index, "rt_ms": 300 + index, "response": "left", **extra}


def post(url: str, path: str, body: Any, http: requests.Session | None = None) -> requests.Response:
    return (http or requests).post(f"{url}{path}", json=body, timeout=TIMEOUT)


def start_run(
    url: str,
    slug: str,
    participant: str | None = None,
    http: requests.Session | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"study_slug": slug}
    if participant is not None:
        body["participant_external_id"] = participant
    resp = post(url, "/api/v1/runs/start", body, http)
    assert resp.status_code == 201, resp.text
    return resp.json()


def checkpoint(
    url: str,
    run_id: str,
    trials: list[dict[str, Any]],
    index: int = 0,
    payload: dict[str, Any] | None = None,
    http: requests.Session | None = None,
) -> requests.Response:
    return post(
        url,
        "/api/v1/results/checkpoint",
        {
            "run_session_id": run_id,
            "checkpoint_label": f"trial-{index}",
            "checkpoint_index": index,
            "trial_count": len(trials),
            "result_payload": payload or {},
            "trials": trials,
        },
        http,
    )


def submit_body(
    run_id: str,
    trials: list[dict[str, Any]],
    payload: dict[str, Any] | None = None,
    summary: dict[str, Any] | None = None,
    status: str = "completed",
) -> dict[str, Any]:
    return {
        "run_session_id": run_id,
        "status": status,
        "trial_count": len(trials),
        "result_summary": summary or {},
        "result_payload": payload if payload is not None else {"score": 1},
        "trials": trials,
    }


def submit(
    url: str, body: dict[str, Any], http: requests.Session | None = None
) -> requests.Response:
    return post(url, "/api/v1/results/submit", body, http)


def wrong_code(secret: str) -> str:
    """A six-digit code that matches none of the steps the server would accept now."""
    totp = pyotp.TOTP(secret)
    now = time.time()
    valid = {totp.at(now + d) for d in (-60, -30, 0, 30, 60)}
    return next(c for c in (f"{n:06d}" for n in range(0, 1_000_000, 7919)) if c not in valid)
