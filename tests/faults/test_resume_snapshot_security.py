"""Where a live kiosk run stands (its resume snapshot) is held in the app's memory only, and
only the app's own pages with a one-time grant from the kiosk may read it back (#17, the page
dies). These run against a real server with a per-launch app token, as the app starts it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import LiveServer, start_live_server, stop_live_server

TOKEN = "launch-token-resume-" + uuid.uuid4().hex
APP = {"X-CogFlow-App-Token": TOKEN}
# Marks no run record or trial holds: a byte search of the data folder must never find them.
MARKER = "resume-marker-" + uuid.uuid4().hex
TIMEOUT = 60


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_live_server(tmp_path_factory.mktemp("resume-data"), app_token=TOKEN)
    yield live
    stop_live_server(live)


def _start(url: str) -> str:
    slug = f"resume-{uuid.uuid4().hex[:8]}"
    config = {"experiment_type": "trial-based", "task_type": "flanker", "timeline": []}
    resp = requests.post(
        f"{url}/api/v1/configs/publish",
        json={"study_slug": slug, "study_name": slug, "config_version_label": "v1",
              "config": config},
        headers=APP, timeout=TIMEOUT,
    )  # fmt: skip
    assert resp.status_code == 201, resp.text
    resp = requests.post(
        f"{url}/api/v1/runs/start", json={"study_slug": slug, "participant_external_id": "P1"},
        headers=APP, timeout=TIMEOUT,
    )  # fmt: skip
    assert resp.status_code == 201, resp.text
    return str(resp.json()["run_session_id"])


def _snapshot(run_id: str) -> dict[str, Any]:
    return {
        "format": "cogflow-resume-v1", "run_session_id": run_id, "run_seed": 31337,
        "spec_index": 2, "next_trial_index": 2, "resumable": True,
        "state": {"staircases": {}, "note": MARKER},
    }  # fmt: skip


def _keep(url: str, run_id: str, headers: dict[str, str] | None) -> requests.Response:
    return requests.post(
        f"{url}/api/v1/runs/resume-snapshot",
        json={"run_session_id": run_id, "snapshot": _snapshot(run_id)},
        headers=headers, timeout=TIMEOUT,
    )  # fmt: skip


def _read(url: str, run_id: str, grant: str, headers: dict[str, str] | None) -> requests.Response:
    return requests.post(
        f"{url}/api/v1/runs/resume-snapshot/read",
        json={"run_session_id": run_id, "grant": grant}, headers=headers, timeout=TIMEOUT,
    )  # fmt: skip


def test_only_the_app_pages_keep_a_snapshot(app_server: LiveServer) -> None:
    url = app_server.url
    run_id = _start(url)
    assert _keep(url, run_id, None).status_code == 403  # a plain browser: no app token
    assert _keep(url, run_id, {"X-CogFlow-App-Token": "guessed"}).status_code == 403
    foreign = {**APP, "Origin": "http://evil.example"}
    assert _keep(url, run_id, foreign).status_code == 403
    assert app_server.ctx.resume.peek(run_id) is None
    resp = _keep(url, run_id, APP)
    assert resp.status_code == 200 and resp.json() == {"kept": True}
    assert app_server.ctx.resume.peek(run_id) == _snapshot(run_id)
    unknown = str(uuid.uuid4())
    assert _keep(url, unknown, APP).status_code == 404
    assert app_server.ctx.resume.peek(unknown) is None


def test_reading_it_back_needs_the_app_token_and_a_one_time_grant(app_server: LiveServer) -> None:
    url = app_server.url
    run_id = _start(url)
    assert _keep(url, run_id, APP).status_code == 200
    other_run = _start(url)
    assert _keep(url, other_run, APP).status_code == 200

    assert _read(url, run_id, "no-such-grant", APP).status_code == 404
    grant = app_server.ctx.resume.grant(run_id)
    assert _read(url, run_id, grant, None).status_code == 403  # the grant alone is not enough
    assert _read(url, run_id, grant, {**APP, "Origin": "http://evil.example"}).status_code == 403
    # A grant is for one run only, and used up by a wrong try.
    assert _read(url, other_run, grant, APP).status_code == 404
    assert _read(url, run_id, grant, APP).status_code == 404
    grant = app_server.ctx.resume.grant(run_id)
    resp = _read(url, run_id, grant, APP)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["snapshot"] == _snapshot(run_id) and body["stored_trials"] == 0
    assert _read(url, run_id, grant, APP).status_code == 404  # one time only


def test_a_snapshot_is_dropped_when_the_run_ends(app_server: LiveServer) -> None:
    url = app_server.url
    run_id = _start(url)
    assert _keep(url, run_id, APP).status_code == 200
    resp = requests.post(
        f"{url}/api/v1/results/submit",
        json={"run_session_id": run_id, "status": "completed", "trial_count": 0,
              "result_summary": {}, "result_payload": {"format": "cogflow-result-v1"},
              "trials": []},
        headers=APP, timeout=TIMEOUT,
    )  # fmt: skip
    assert resp.status_code == 201, resp.text
    assert app_server.ctx.resume.peek(run_id) is None
    assert _read(url, run_id, app_server.ctx.resume.grant(run_id), APP).status_code == 404
    resp = _keep(url, run_id, APP)  # a late one from the page is not kept either
    assert resp.status_code == 200 and resp.json()["kept"] is False
    assert app_server.ctx.resume.peek(run_id) is None


def test_a_server_without_an_app_token_keeps_no_snapshots(tmp_path: Path) -> None:
    live = start_live_server(tmp_path / "plain")  # `cogflow-desktop serve`: no app pages
    try:
        run_id = _start(live.url)
        assert _keep(live.url, run_id, APP).status_code == 403
        assert live.ctx.resume.peek(run_id) is None
    finally:
        stop_live_server(live)


def test_no_snapshot_content_reaches_the_data_folder(app_server: LiveServer) -> None:
    url = app_server.url
    runs = [_start(url) for _ in range(3)]
    for run_id in runs:
        assert _keep(url, run_id, APP).status_code == 200
        grant = app_server.ctx.resume.grant(run_id)
        assert _read(url, run_id, grant, APP).status_code == 200
    app_server.ctx.engine.dispose()  # everything the database had in hand is on disk now
    needles = [MARKER.encode(), b"cogflow-resume-v1", b"next_trial_index", b"not_resumable"]
    files = [p for p in app_server.data_dir.rglob("*") if p.is_file()]
    assert files
    for path in files:
        data = path.read_bytes()
        for needle in needles:
            assert needle not in data, f"{needle!r} found in {path}"


def test_only_the_app_s_server_asks_pages_for_snapshots(
    app_server: LiveServer, tmp_path: Path
) -> None:
    def start_answer(url: str, headers: dict[str, str] | None) -> dict[str, Any]:
        slug = f"ask-{uuid.uuid4().hex[:8]}"
        config = {"experiment_type": "trial-based", "task_type": "flanker", "timeline": []}
        requests.post(
            f"{url}/api/v1/configs/publish",
            json={"study_slug": slug, "study_name": slug, "config_version_label": "v1",
                  "config": config},
            headers=headers, timeout=TIMEOUT,
        ).raise_for_status()  # fmt: skip
        resp = requests.post(
            f"{url}/api/v1/runs/start", json={"study_slug": slug}, headers=headers,
            timeout=TIMEOUT,
        )  # fmt: skip
        assert resp.status_code == 201, resp.text
        return dict(resp.json())

    assert start_answer(app_server.url, APP)["resume_snapshots"] is True
    plain = start_live_server(tmp_path / "plain-start")
    try:
        assert "resume_snapshots" not in start_answer(plain.url, None)
    finally:
        stop_live_server(plain)


def test_an_oversized_snapshot_is_refused_and_not_kept(app_server: LiveServer) -> None:
    run_id = _start(app_server.url)
    big = {**_snapshot(run_id), "state": {"filler": "x" * (1100 * 1024)}}
    resp = requests.post(
        f"{app_server.url}/api/v1/runs/resume-snapshot",
        json={"run_session_id": run_id, "snapshot": big}, headers=APP, timeout=TIMEOUT,
    )  # fmt: skip
    assert resp.status_code == 400 and "at most" in resp.json()["error"]
    assert app_server.ctx.resume.peek(run_id) is None
