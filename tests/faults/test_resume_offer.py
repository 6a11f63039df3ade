"""When the kiosk offers to continue a crashed run, and the sentence it says when it cannot
(#17, the page dies): decided from the run's in-memory resume snapshot and its stored trials,
on a real database."""

from __future__ import annotations

import uuid
from typing import Any

import requests
from conftest import LiveServer
from sqlalchemy import select

from cogflow_desktop.gui.kiosk_crash import (
    NO_SNAPSHOT,
    REPUBLISHED,
    STALE_SNAPSHOT,
    PageCrash,
    crash_sentence,
    end_as_failed,
    resume_offer,
    resume_query,
)
from cogflow_desktop.store.models import RunSession, Study

TIMEOUT = 60
KILLED = PageCrash("KilledTerminationStatus", 9)


def _run_with_trials(url: str, count: int) -> str:
    slug = f"offer-{uuid.uuid4().hex[:8]}"
    config = {"experiment_type": "trial-based", "task_type": "flanker", "timeline": []}
    resp = requests.post(
        f"{url}/api/v1/configs/publish",
        json={"study_slug": slug, "study_name": slug, "config_version_label": "v1",
              "config": config},
        timeout=TIMEOUT,
    )  # fmt: skip
    assert resp.status_code == 201, resp.text
    resp = requests.post(
        f"{url}/api/v1/runs/start", json={"study_slug": slug}, timeout=TIMEOUT
    )  # fmt: skip
    run_id = str(resp.json()["run_session_id"])
    if count:
        trials = [{"trial_index": i, "rt_ms": 300 + i, "response": "f"} for i in range(count)]
        resp = requests.post(
            f"{url}/api/v1/results/checkpoint",
            json={"run_session_id": run_id, "checkpoint_label": "t", "checkpoint_index": 0,
                  "trial_count": count, "result_payload": {"format": "cogflow-result-v1"},
                  "trials": trials},
            timeout=TIMEOUT,
        )  # fmt: skip
        assert resp.status_code == 200, resp.text
    return run_id


def _snap(next_trial: int, **over: Any) -> dict[str, Any]:
    return {"format": "cogflow-resume-v1", "next_trial_index": next_trial, "resumable": True,
            "spec_index": next_trial, "state": {}, **over}  # fmt: skip


def test_continue_is_offered_from_the_snapshot_s_next_trial(live_server: LiveServer) -> None:
    ctx = live_server.ctx
    run_id = _run_with_trials(live_server.url, 3)
    ctx.resume.put(run_id, _snap(3))
    offer = resume_offer(ctx, run_id)
    assert offer.possible and offer.next_trial == 3 and offer.stored == 3
    assert crash_sentence(KILLED.cause, "demo", offer) == (
        "The participant's page was killed (often because the computer ran out of memory); the "
        "run of demo has 3 trials stored and can continue from trial 4."
    )
    # A trial the dead page made but that never arrived: the run goes on after it.
    ctx.resume.put(run_id, _snap(4))
    assert resume_offer(ctx, run_id).next_trial == 4
    query = resume_query(ctx, run_id, KILLED)
    assert query.startswith("/interpreter/?recover=1&resume=") and "grant=" in query
    assert "crash=KilledTerminationStatus" in query


def test_no_continue_without_an_exact_place_to_continue_from(live_server: LiveServer) -> None:
    ctx = live_server.ctx
    run_id = _run_with_trials(live_server.url, 1)
    offer = resume_offer(ctx, run_id)  # the app restarted: nothing in memory
    assert not offer.possible and offer.reason == NO_SNAPSHOT
    assert crash_sentence("crashed", "demo", offer) == (
        "The participant's page crashed; the run of demo has 1 trial stored but cannot "
        f"continue, because {NO_SNAPSHOT}."
    )
    why = "the eye tracker's calibration lived in the page that stopped"
    ctx.resume.put(run_id, _snap(1, resumable=False, not_resumable_reason=why, state=None))
    assert resume_offer(ctx, run_id).reason == why
    ctx.resume.put(run_id, _snap(0))  # older than what is stored: it would overwrite trial 0
    assert resume_offer(ctx, run_id).reason == STALE_SNAPSHOT
    ctx.resume.put(run_id, _snap(1))
    assert resume_offer(ctx, run_id).possible
    with ctx.read() as s:
        slug = s.scalar(
            select(Study.slug).join(RunSession, RunSession.study_id == Study.id)
            .where(RunSession.id == run_id)
        )  # fmt: skip
    config = {"experiment_type": "trial-based", "task_type": "flanker", "timeline": []}
    resp = requests.post(
        f"{live_server.url}/api/v1/configs/publish",
        json={"study_slug": slug, "study_name": slug, "config_version_label": "v2",
              "config": config},
        timeout=TIMEOUT,
    )  # fmt: skip
    assert resp.status_code == 201, resp.text
    assert resume_offer(ctx, run_id).reason == REPUBLISHED


def test_ending_as_failed_drops_the_snapshot_and_keeps_earlier_interruptions(
    live_server: LiveServer, researcher
) -> None:  # type: ignore[no-untyped-def]
    ctx = live_server.ctx
    run_id = _run_with_trials(live_server.url, 2)
    earlier = [{"reason": "page_crashed", "at_trial": 1, "resumed_at_trial": 1}]
    ctx.resume.put(run_id, _snap(2, interruptions=earlier))
    assert end_as_failed(ctx, run_id, KILLED) == 2
    assert ctx.resume.peek(run_id) is None
    stored = researcher.decrypt(run_id)
    assert stored["status"] == "failed"
    assert stored["result_payload"]["interruptions"] == earlier
    assert stored["result_payload"]["ended_reason"] == "page_crashed"
