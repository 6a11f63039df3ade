"""Contract tests of start, checkpoint, submit and decrypt, on a real loopback server."""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from api_helpers import (
    TIMEOUT,
    checkpoint,
    new_slug,
    post,
    sample_config,
    start_run,
    submit,
    submit_body,
    trial,
)
from conftest import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    LiveServer,
    Researcher,
    enrolled_researcher,
    login_session,
    publish,
    start_live_server,
    stop_live_server,
)
from sqlalchemy import select

from cogflow_desktop.services import users
from cogflow_desktop.services.results import unseal_participant_id
from cogflow_desktop.store.models import AuditEvent, RunSession, TrialRecord

START = "/api/v1/runs/start"
CHECKPOINT = "/api/v1/results/checkpoint"
SUBMIT = "/api/v1/results/submit"
DECRYPT = "/api/v1/results/decrypt"


@pytest.fixture(scope="module")
def study(live_server: LiveServer) -> str:
    slug = new_slug("results")
    publish(live_server.url, slug, sample_config())
    return slug


def _run(live: LiveServer, study: str, participant: str | None = None) -> str:
    return start_run(live.url, study, participant)["run_session_id"]


def _decrypt_audit(live: LiveServer, run_id: str) -> list[tuple[str, str]]:
    with live.ctx.read() as s:
        rows = s.execute(
            select(AuditEvent.outcome, AuditEvent.actor)
            .where(AuditEvent.action == "results.decrypt", AuditEvent.target == run_id)
            .order_by(AuditEvent.id)
        ).all()
    return [(o, a) for o, a in rows]


# --- start -------------------------------------------------------------------------------------


def test_start_201_participant_key_is_salted_sha256(live_server: LiveServer, study: str) -> None:
    answer = start_run(live_server.url, study, "participant-001")
    uuid.UUID(answer["run_session_id"])
    assert answer["study_slug"] == study
    assert answer["config"] == sample_config()
    assert isinstance(answer["config_version_id"], int)
    salt = live_server.ctx.install_keys().participant_salt
    expected = hashlib.sha256(f"{salt}:participant-001".encode()).hexdigest()
    assert answer["participant_key"] == expected
    # The same id in another run gets the same key (pseudonym, not random).
    assert start_run(live_server.url, study, "participant-001")["participant_key"] == expected


def test_start_without_id_invents_an_anonymous_one(live_server: LiveServer, study: str) -> None:
    answer = start_run(live_server.url, study)
    assert re.fullmatch(r"[0-9a-f]{64}", answer["participant_key"])
    key = users.unlock_with_password(live_server.ctx, ADMIN_USER, ADMIN_PASSWORD)
    with live_server.ctx.read() as s:
        run = s.get(RunSession, answer["run_session_id"])
        raw = unseal_participant_id(key, run)
    assert re.fullmatch(r"anonymous-[0-9a-f]{32}", raw)
    salt = live_server.ctx.install_keys().participant_salt
    assert answer["participant_key"] == hashlib.sha256(f"{salt}:{raw}".encode()).hexdigest()
    other = start_run(live_server.url, study, None)
    assert other["participant_key"] != answer["participant_key"]


def test_start_unknown_study_is_404(live_server: LiveServer) -> None:
    resp = post(live_server.url, START, {"study_slug": "never-published"})
    assert resp.status_code == 404 and "error" in resp.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "study_slug"),
        ({"study_slug": 7}, "study_slug"),
        ({"study_slug": "x", "participant_external_id": {"a": 1}}, "participant_external_id"),
        ({"study_slug": "x", "participant_external_id": "p" * 256}, "participant_external_id"),
    ],
)
def test_start_bad_body_is_400(live_server: LiveServer, body: dict[str, Any], field: str) -> None:
    resp = post(live_server.url, START, body)
    assert resp.status_code == 400
    assert field in resp.json()


# --- checkpoint --------------------------------------------------------------------------------


def test_checkpoint_stores_and_upserts_by_trial_index(
    live_server: LiveServer, study: str, researcher: Researcher
) -> None:
    url = live_server.url
    run_id = _run(live_server, study)
    first = checkpoint(url, run_id, [trial(0), trial(1, response="first")], index=1)
    assert first.status_code == 200
    assert first.json()["stored"] is True and first.json()["trial_records_stored"] == 2
    second = checkpoint(url, run_id, [trial(1, response="second"), trial(2)], index=2)
    assert second.status_code == 200 and second.json()["stored"] is True
    decrypted = researcher.decrypt(run_id)
    assert [t["trial_index"] for t in decrypted["trials"]] == [0, 1, 2]
    assert decrypted["trials"][1]["response"] == "second"
    assert decrypted["status"] == "started"


def test_checkpoint_on_terminal_run_is_not_stored(live_server: LiveServer, study: str) -> None:
    url = live_server.url
    run_id = _run(live_server, study)
    assert submit(url, submit_body(run_id, [trial(0)])).status_code == 201
    late = checkpoint(url, run_id, [trial(0, response="late")])
    assert late.status_code == 200
    assert late.json()["stored"] is False
    assert late.json()["reason"] == "run_already_terminal"


def test_checkpoint_unknown_run_is_404(live_server: LiveServer) -> None:
    resp = checkpoint(live_server.url, str(uuid.uuid4()), [trial(0)])
    assert resp.status_code == 404 and "error" in resp.json()


BAD_TRIALS: list[Any] = [
    [{"trial_index": -1}],
    [{"trial_index": 1.5}],
    [{"trial_index": "3"}],
    [{"trial_index": True}],
    [{"no_index": 1}],
    [{"trial_index": 1}, {"trial_index": 1}],
    ["not an object"],
    [[1, 2]],
    [{"trial_index": 2**63}],
    "not a list",
]


@pytest.mark.parametrize("trials", BAD_TRIALS)
def test_checkpoint_bad_trials_are_400(live_server: LiveServer, study: str, trials: Any) -> None:
    run_id = _run(live_server, study)
    resp = post(live_server.url, CHECKPOINT, {"run_session_id": run_id, "trials": trials})
    assert resp.status_code == 400, resp.text
    assert "trials" in resp.json()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"run_session_id": "not-a-uuid"},
        {"run_session_id": str(uuid.uuid4()), "checkpoint_index": -1},
        {"run_session_id": str(uuid.uuid4()), "checkpoint_label": "l" * 256},
        {"run_session_id": str(uuid.uuid4()), "result_payload": []},
    ],
)
def test_checkpoint_bad_body_is_400(live_server: LiveServer, body: dict[str, Any]) -> None:
    resp = post(live_server.url, CHECKPOINT, body)
    assert resp.status_code == 400, resp.text


# --- submit ------------------------------------------------------------------------------------


def test_submit_201_then_identical_retry_then_conflict(
    live_server: LiveServer, study: str, researcher: Researcher
) -> None:
    url = live_server.url
    run_id = _run(live_server, study)
    body = submit_body(run_id, [trial(0), trial(1)], payload={"score": 10}, summary={"acc": 0.9})
    first = submit(url, body)
    assert first.status_code == 201
    answer = first.json()
    assert answer["run_session_id"] == run_id and answer["status"] == "completed"
    assert answer["stored"] is True and answer["trial_records_stored"] == 2
    assert isinstance(answer["result_envelope_id"], int)
    retry = submit(url, body)
    assert retry.status_code == 201 and retry.json() == answer

    changed = submit_body(run_id, [trial(0), trial(1, rt_ms=1)], payload={"score": 99})
    conflict = submit(url, changed)
    assert conflict.status_code == 409 and "error" in conflict.json()
    flipped = submit(url, dict(body, status="failed"))
    assert flipped.status_code == 409
    decrypted = researcher.decrypt(run_id)
    assert decrypted["status"] == "completed"
    assert decrypted["result_payload"] == {"score": 10, "_summary": {"acc": 0.9}}
    assert decrypted["trials"] == [trial(0), trial(1)]


def test_submit_after_checkpoints_keeps_absent_trials(
    live_server: LiveServer, study: str, researcher: Researcher
) -> None:
    url = live_server.url
    run_id = _run(live_server, study)
    checkpoint(url, run_id, [trial(0), trial(1)])
    assert submit(url, submit_body(run_id, [trial(1, response="final"), trial(2)])).ok
    trials = researcher.decrypt(run_id)["trials"]
    assert [t["trial_index"] for t in trials] == [0, 1, 2]
    assert trials[1]["response"] == "final"


def test_submit_failed_status_is_stored(live_server: LiveServer, study: str) -> None:
    run_id = _run(live_server, study)
    resp = submit(live_server.url, submit_body(run_id, [], status="failed"))
    assert resp.status_code == 201 and resp.json()["status"] == "failed"


def test_submit_unknown_run_is_404(live_server: LiveServer) -> None:
    resp = submit(live_server.url, submit_body(str(uuid.uuid4()), []))
    assert resp.status_code == 404 and "error" in resp.json()


@pytest.mark.parametrize("trials", BAD_TRIALS)
def test_submit_bad_trials_are_400(live_server: LiveServer, study: str, trials: Any) -> None:
    run_id = _run(live_server, study)
    resp = submit(live_server.url, dict(submit_body(run_id, []), trials=trials))
    assert resp.status_code == 400, resp.text
    assert "trials" in resp.json()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"status": "started"}, "status"),
        ({"status": None}, "status"),
        ({"trial_count": -1}, "trial_count"),
        ({"trial_count": "3"}, "trial_count"),
        ({"result_payload": "x"}, "result_payload"),
        ({"result_payload": None}, "result_payload"),
        ({"result_summary": [1]}, "result_summary"),
        ({"run_session_id": "nope"}, "run_session_id"),
    ],
)
def test_submit_bad_body_is_400(
    live_server: LiveServer, change: dict[str, Any], field: str
) -> None:
    body = dict(submit_body(str(uuid.uuid4()), []), **change)
    resp = submit(live_server.url, body)
    assert resp.status_code == 400, resp.text
    assert field in resp.json()


def test_submit_missing_fields_is_400(live_server: LiveServer) -> None:
    resp = submit(live_server.url, {})
    assert resp.status_code == 400
    assert {"run_session_id", "status", "trial_count", "result_payload"} <= set(resp.json())


# --- body size ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_sixty_mib_submit_is_accepted(
    live_server: LiveServer, study: str, researcher: Researcher
) -> None:
    run_id = _run(live_server, study)
    blob = "x" * (60 * 1024 * 1024)
    body = submit_body(run_id, [trial(0)], payload={"blob": blob})
    resp = submit(live_server.url, body)
    assert resp.status_code == 201, resp.text[:200]
    del body
    decrypted = researcher.decrypt(run_id, include_trials=False)
    assert decrypted["result_payload"]["blob"] == blob


# Just over the app's limit (Flask answers), and beyond the HTTP server's own cap (waitress
# answers before the app runs): JSON either way.
@pytest.mark.parametrize("mib", [64, 70])
def test_body_over_64_mib_is_json_413(live_server: LiveServer, mib: int) -> None:
    raw = b'{"x":"' + b"y" * (mib * 1024 * 1024) + b'"}'
    resp = requests.post(
        f"{live_server.url}{SUBMIT}",
        data=raw,
        headers={"Content-Type": "application/json"},
        timeout=TIMEOUT,
    )
    assert resp.status_code == 413
    assert resp.headers["Content-Type"].startswith("application/json")
    assert "detail" in resp.json()


# --- decrypt -----------------------------------------------------------------------------------


def test_decrypt_validates_before_auth(live_server: LiveServer) -> None:
    bodies: list[dict[str, Any]] = [
        {},
        {"run_session_id": "nope"},
        {"run_session_id": str(uuid.uuid4()), "include_trials": "x"},
        {"run_session_id": str(uuid.uuid4()), "include_trials": "true"},
    ]
    for body in bodies:
        resp = post(live_server.url, DECRYPT, body)
        assert resp.status_code == 400, resp.text
        assert "run_session_id" in resp.json() or "include_trials" in resp.json()


def test_decrypt_anonymous_is_401_and_audited(live_server: LiveServer, study: str) -> None:
    run_id = _run(live_server, study)
    resp = post(live_server.url, DECRYPT, {"run_session_id": run_id})
    assert resp.status_code == 401 and "error" in resp.json()
    assert _decrypt_audit(live_server, run_id) == [("denied", "anonymous")]


def test_decrypt_without_mfa_is_403_and_audited(live_server: LiveServer, study: str) -> None:
    run_id = _run(live_server, study)
    submit(live_server.url, submit_body(run_id, [trial(0)]))
    http = login_session(live_server.url, ADMIN_USER, ADMIN_PASSWORD)
    resp = http.post(f"{live_server.url}{DECRYPT}", json={"run_session_id": run_id}, timeout=30)
    assert resp.status_code == 403
    assert resp.json() == {"error": "MFA verification required."}
    assert _decrypt_audit(live_server, run_id) == [("denied", ADMIN_USER)]


def test_decrypt_unknown_run_is_404_and_audited(
    live_server: LiveServer, researcher: Researcher
) -> None:
    run_id = str(uuid.uuid4())
    resp = researcher.post(f"{live_server.url}{DECRYPT}", json={"run_session_id": run_id})
    assert resp.status_code == 404 and "error" in resp.json()
    assert _decrypt_audit(live_server, run_id) == [("denied", researcher.username)]


def test_decrypt_run_without_data_is_404(
    live_server: LiveServer, study: str, researcher: Researcher
) -> None:
    run_id = _run(live_server, study)
    resp = researcher.post(f"{live_server.url}{DECRYPT}", json={"run_session_id": run_id})
    assert resp.status_code == 404


def test_decrypt_200_summary_and_trials_in_index_order(
    live_server: LiveServer, study: str, researcher: Researcher
) -> None:
    run_id = _run(live_server, study, "p-decrypt")
    trials = [trial(i) for i in (5, 0, 3, 1, 4, 2)]
    body = submit_body(run_id, trials, payload={"score": 3}, summary={"mean_rt": 302.5})
    assert submit(live_server.url, body).status_code == 201
    full = researcher.decrypt(run_id, include_trials=True)
    assert full["run_session_id"] == run_id and full["study_slug"] == study
    assert full["status"] == "completed" and full["interrupted"] is False
    assert full["result_payload"] == {"score": 3, "_summary": {"mean_rt": 302.5}}
    assert [t["trial_index"] for t in full["trials"]] == [0, 1, 2, 3, 4, 5]
    assert full["trials"][2] == trial(2)
    bare = researcher.decrypt(run_id, include_trials=False)
    assert bare["trials"] is None
    assert _decrypt_audit(live_server, run_id) == [("ok", researcher.username)] * 2


def test_decrypt_of_checkpoint_only_run_has_empty_summary(
    live_server: LiveServer, study: str, researcher: Researcher
) -> None:
    run_id = _run(live_server, study)
    checkpoint(live_server.url, run_id, [trial(0)], payload={"partial": True})
    answer = researcher.decrypt(run_id)
    assert answer["result_payload"] == {"partial": True, "_summary": {}}
    assert answer["status"] == "started"


def test_decrypt_after_logout_is_401(live_server: LiveServer, study: str) -> None:
    run_id = _run(live_server, study)
    submit(live_server.url, submit_body(run_id, []))
    http = enrolled_researcher(live_server)
    http.decrypt(run_id)
    http.post(f"{live_server.url}/api/v1/auth/logout", timeout=TIMEOUT)
    resp = http.post(f"{live_server.url}{DECRYPT}", json={"run_session_id": run_id}, timeout=30)
    assert resp.status_code == 401


def test_swapped_trial_ciphertexts_do_not_decrypt(
    live_server: LiveServer, study: str, researcher: Researcher
) -> None:
    """Rows are bound to their place: moving a ciphertext to another row is detected, the
    attempt is answered as JSON and audited."""
    run_id = _run(live_server, study)
    submit(live_server.url, submit_body(run_id, [trial(0, response="a"), trial(1, response="b")]))
    with live_server.ctx.write() as s:
        rows = s.scalars(
            select(TrialRecord).where(TrialRecord.run_id == run_id).order_by(TrialRecord.id)
        ).all()
        rows[0].ciphertext, rows[1].ciphertext = rows[1].ciphertext, rows[0].ciphertext
    resp = researcher.post(
        f"{live_server.url}{DECRYPT}", json={"run_session_id": run_id, "include_trials": True}
    )
    assert resp.status_code == 409  # an integrity error, not a server crash (review finding 10)
    assert "integrity check" in resp.json()["error"]
    assert _decrypt_audit(live_server, run_id) == [("denied", researcher.username)]


# --- MFA expiry (a server of its own with a 3 s window) ----------------------------------------


@pytest.fixture()
def short_mfa_server(tmp_path: Path) -> Iterator[LiveServer]:
    live = start_live_server(tmp_path, mfa_reauth_seconds=3)
    yield live
    stop_live_server(live)


def test_decrypt_is_403_once_mfa_is_older_than_reauth_window(
    short_mfa_server: LiveServer,
) -> None:
    live = short_mfa_server
    slug = new_slug()
    publish(live.url, slug, sample_config())
    run_id = _run(live, slug)
    submit(live.url, submit_body(run_id, [trial(0)]))
    http = enrolled_researcher(live)
    assert http.decrypt(run_id)["status"] == "completed"
    me = http.get(f"{live.url}/api/v1/auth/me", timeout=TIMEOUT).json()
    fresh_until = datetime.fromisoformat(me["mfa_fresh_until"])
    time.sleep(max(0.0, (fresh_until - datetime.now(UTC)).total_seconds()) + 0.3)
    resp = http.post(f"{live.url}{DECRYPT}", json={"run_session_id": run_id}, timeout=30)
    assert resp.status_code == 403
    me = http.get(f"{live.url}/api/v1/auth/me", timeout=TIMEOUT).json()
    assert me["mfa_fresh_until"] is None
    assert _decrypt_audit(live, run_id) == [("ok", http.username), ("denied", http.username)]
