"""Sync against a server that behaves like the central one (central_server.py): runs land on
the config version they ran even when the study has another there, sync never runs
anonymously and says who owns each study, every row carries the vocabulary the central tools
key on (and no `rt_ms` outside task rows), and the real run times travel with the result."""

from __future__ import annotations

import io
import json
import statistics
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from central_server import CentralServer
from sqlalchemy import update
from sync_helpers import (
    LAB_PASSWORD,
    LAB_USER,
    arrived_central,
    assert_same,
    lab_context,
    local_results,
    make_trials,
    publish_local,
    seed_run,
)

from cogflow_desktop.cli import main as cli_main
from cogflow_desktop.services import runs, users
from cogflow_desktop.services.context import Context
from cogflow_desktop.store.models import AuditEvent, RunSession
from cogflow_desktop.sync import state
from cogflow_desktop.sync.client import CentralClient, Credentials
from cogflow_desktop.sync.engine import SyncEngine, SyncError, SyncOptions
from cogflow_desktop.sync.retry import RetryPolicy

ALICE, ALICE_PW = "alice", "alice central password"
BOB, BOB_PW = "bob", "bob central password"
ACCOUNTS = {ALICE: ALICE_PW, BOB: BOB_PW}
AS_ALICE = Credentials(ALICE, ALICE_PW)
ANONYMOUS_WORDS = "without a login the central server creates a study with no owner"


def sync(ctx: Context, url: str, credentials: Credentials | None = AS_ALICE):  # type: ignore[no-untyped-def]
    key = users.unlock_with_password(ctx, LAB_USER, LAB_PASSWORD)
    client = CentralClient(url, credentials=credentials, timeout=(5, 30))
    options = SyncOptions(workers=3, retry=RetryPolicy(max_attempts=4, base_seconds=0.05))
    try:
        return SyncEngine(ctx, client, key, actor=LAB_USER, options=options).run()
    finally:
        client.close()


def central_publish(
    url: str, slug: str, label: str, task_type: str, login: tuple[str, str] | None
) -> dict[str, Any]:
    """Publish as another client would: logged in as someone, or anonymously."""
    http = requests.Session()
    if login is not None:
        http.get(f"{url}/api/v1/auth/csrf", timeout=10)
        resp = http.post(
            f"{url}/api/v1/auth/login",
            json={"username": login[0], "password": login[1]},
            headers={"X-CSRFToken": http.cookies["csrftoken"]},
            timeout=10,
        )
        assert resp.status_code == 200, resp.text
        http.headers["X-CSRFToken"] = http.cookies["csrftoken"]
    resp = http.post(
        f"{url}/api/v1/configs/publish",
        json={
            "study_slug": slug,
            "study_name": slug,
            "config_version_label": label,
            "config": {"task_type": task_type, "experiment_type": "trial-based", "timeline": []},
        },
        timeout=10,
    )
    assert resp.status_code == 201, resp.text
    return resp.json()


@dataclass
class Ran:
    code: int
    out: str
    err: str


@pytest.fixture()
def run_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """`cogflow-desktop ...` in this process (a subprocess per call costs seconds here)."""

    def run(*args: str, stdin: str = "") -> Ran:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        capsys.readouterr()
        code = cli_main(list(args))
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    return run


def report_as(url: str, user: str, password: str, slug: str) -> requests.Response:
    return requests.post(
        f"{url}/api/v1/studies/analysis/report",
        json={"study_slug": slug},
        auth=(user, password),
        timeout=10,
    )


# --- 1. the version a run ran -----------------------------------------------------------------

PARTICIPANTS = [f"F{i:02d}" for i in range(8)]


def test_runs_land_on_their_version_though_the_study_has_another(tmp_path: Path) -> None:
    with CentralServer(ACCOUNTS) as central:
        # The study already has a stroop version there, published by its owner, under the
        # label ours has: the server stores ours as v1__flanker, and sync follows it.
        stroop = central_publish(central.url, "flanker", "v1", "stroop", (ALICE, ALICE_PW))
        ctx = lab_context(tmp_path / "lab")
        try:
            publish_local(ctx, "flanker", "v1", task_type="flanker")
            ids = [seed_run(ctx, "flanker", p, make_trials(5)) for p in PARTICIPANTS]
            report = sync(ctx, central.url)
            assert report.acknowledged == len(ids), report.failed
            got = arrived_central(central)
            local = local_results(ctx)
            versions = central.studies["flanker"].versions
            flanker_v1 = next(v for v in versions if v.label == "v1__flanker")
            for run_id in ids:
                (remote,) = got.by_local_id[run_id]
                assert remote["config_version_id"] == flanker_v1.id
                assert_same(local[run_id], remote)
                snap = state.load(ctx, run_id)
                assert snap.remote_config_version_id == str(flanker_v1.id)
                assert snap.remote_config_label == "v1__flanker"
            # Without the pin the server would have put some of them on the stroop version.
            unpinned = {central.choose_unpinned("flanker", p).id for p in PARTICIPANTS}
            assert stroop["config_version_id"] in unpinned
            assert central.requests["POST /api/v1/studies/flanker/participant-links"] == len(ids)
        finally:
            ctx.close()


def test_a_run_started_on_another_version_is_refused_and_gets_nothing(tmp_path: Path) -> None:
    """A server that ignores the link's version: the check after start catches it."""
    with CentralServer(ACCOUNTS, honour_task_order=False) as central:
        central_publish(central.url, "flanker", "v2", "stroop", (ALICE, ALICE_PW))
        ctx = lab_context(tmp_path / "lab")
        try:
            publish_local(ctx, "flanker", "v1", task_type="flanker")
            ids = {p: seed_run(ctx, "flanker", p, make_trials(5)) for p in PARTICIPANTS}
            report = sync(ctx, central.url)
            wrong = {p for p in PARTICIPANTS if central.choose_unpinned("flanker", p).label != "v1"}
            assert wrong and len(wrong) < len(PARTICIPANTS)
            assert sorted(f.run_session_id for f in report.failed) == sorted(ids[p] for p in wrong)
            assert report.acknowledged == len(PARTICIPANTS) - len(wrong)
            for failure in report.failed:
                assert not failure.retryable
                assert failure.reason.startswith("The server started the run on config v2 (version")
                assert "instead of flanker v1" in failure.reason
                assert "so nothing was sent to it" in failure.reason
                assert state.load(ctx, failure.run_session_id).state == state.FAILED
            # The wrongly started runs stay empty: no trial, no result.
            empty = [r for r in central.runs.values() if r.payload is None]
            assert len(empty) == len(wrong) and all(not r.trials for r in empty)
        finally:
            ctx.close()


# --- 2. no anonymous sync; who owns what ------------------------------------------------------


def test_anonymous_sync_is_refused_with_the_reason_and_sends_nothing(
    tmp_path: Path, run_cli
) -> None:
    from cogflow_desktop.gui.sync_bridge import SyncProblem, check_target

    with CentralServer(ACCOUNTS) as central:
        lab_dir = tmp_path / "lab"
        ctx = lab_context(lab_dir)
        try:
            publish_local(ctx, "anon")
            seed_run(ctx, "anon", "A1", make_trials(3))
            with pytest.raises(SyncError, match=ANONYMOUS_WORDS) as refused:
                sync(ctx, central.url, credentials=None)
            assert str(refused.value).startswith("Sync needs a researcher account")
            with ctx.read() as s:
                row = s.query(AuditEvent).filter_by(action="sync.session").one()
                assert row.outcome == "denied" and ANONYMOUS_WORDS in row.details["reason"]
        finally:
            ctx.close()
        done = run_cli(
            "sync", "--server", central.url, "--user", LAB_USER, "--password-stdin",
            "--data-dir", str(lab_dir), stdin=LAB_PASSWORD + "\n",
        )  # fmt: skip
        assert done.code == 1
        message = done.err.strip()
        assert message.startswith("cogflow-desktop: Say which researcher account to log in to")
        assert "--remote-user NAME" in message and ANONYMOUS_WORDS in message
        assert message.count(".") == 1  # one sentence
        assert central.requests == {}  # nothing reached the server
        assert central.studies == {}
    # The app's Sync page says the same before it starts.
    with pytest.raises(SyncProblem, match=ANONYMOUS_WORDS):
        check_target(central.url, "", None)


def test_sync_owns_what_it_sends_and_says_who_owns_each_study(tmp_path: Path, run_cli) -> None:
    with CentralServer(ACCOUNTS) as central:
        # A study someone published without logging in: nobody owns it, reports refuse.
        legacy = central_publish(central.url, "legacy", "v0", "flanker", None)
        assert legacy["owner_usernames"] == ["unknown"]
        assert report_as(central.url, ALICE, ALICE_PW, "legacy").status_code == 403
        # A study bob owns there.
        central_publish(central.url, "taken", "v1", "flanker", (BOB, BOB_PW))

        lab_dir = tmp_path / "lab"
        ctx = lab_context(lab_dir)
        publish_local(ctx, "legacy", "v1", task_type="flanker")
        publish_local(ctx, "taken", "v1", task_type="flanker")
        legacy_run = seed_run(ctx, "legacy", "L1", make_trials(3))
        taken_run = seed_run(ctx, "taken", "T1", make_trials(3))
        ctx.close()
        done = run_cli(
            "sync", "--server", central.url, "--user", LAB_USER, "--password-stdin",
            "--remote-user", ALICE, "--data-dir", str(lab_dir),
            stdin=f"{LAB_PASSWORD}\n{ALICE_PW}\n",
        )  # fmt: skip
        assert done.code == 0, done.err + done.out
        assert "2 acknowledged" in done.out

        # Alice's logged-in publish made her the owner of the ownerless study; bob's study
        # was left alone and hers went to the slug the server chose.
        assert central.studies["legacy"].owner == ALICE
        assert report_as(central.url, ALICE, ALICE_PW, "legacy").status_code == 200
        assert central.studies["taken"].owner == BOB and not central.runs_of("taken")
        assert central.studies["taken-alice"].owner == ALICE
        assert [r.study_slug for r in central.runs_of("taken-alice")] == ["taken-alice"]

        status = run_cli("sync", "status", "--data-dir", str(lab_dir))
        assert status.code == 0, status.err
        lines = status.out.splitlines()
        assert f"  legacy/v1 → legacy (v1) on {central.url}: owned by alice." in lines
        assert f"  taken/v1 → taken-alice (v1) on {central.url}: owned by alice." in lines
        as_json = json.loads(run_cli("sync", "status", "--json", "--data-dir", str(lab_dir)).out)
        studies = {s["study_slug"]: s for s in as_json["studies"]}
        assert studies["taken"]["remote_study_slug"] == "taken-alice"
        assert studies["legacy"]["owner_usernames"] == [ALICE]
        assert studies["legacy"]["account"] == ALICE
        runs = {r["run_session_id"]: r for r in as_json["runs"]}
        assert runs[taken_run]["state"] == runs[legacy_run]["state"] == "acknowledged"


# --- 3. the vocabulary, on every row type -----------------------------------------------------


def _row(i: int, ctype: str, **fields: Any) -> dict[str, Any]:
    """A row as the Interpreter records it (resources/schema/README.md)."""
    row = {
        "trial_index": i, "component_type": ctype, "task_type": "flanker", "rt_ms": None,
        "response": None, "correct": None, "stimulus_onset_ms": 1000.0 * i,
        "ended_reason": "response",
    }  # fmt: skip
    row.update(fields)
    row["trial_start_ms"] = 1000.0 * i - 16.7
    row["trial_end_ms"] = 1000.0 * i + 600.0
    return row


def _case(rt_name: str, key: str | None, i: int, ctype: str, **fields: Any) -> tuple:
    """A row, the name its RT has once synced, and the response_key expected."""
    return (_row(i, ctype, **fields), rt_name, key)


EVERY_ROW_TYPE: list[tuple[dict[str, Any], str, str | None]] = [
    _case("rt", "space", 0, "instructions", rt_ms=5000.5, response="space"),
    _case("rt", "f", 1, "html-keyboard-response", rt_ms=812.0, response="f"),
    _case("rt", None, 2, "html-button-response", rt_ms=1200.0, response=1, button_label="Next"),
    _case("rt", "j", 3, "image-keyboard-response", rt_ms=900.0, response="j", stimulus="a.png"),
    _case("rt", None, 4, "visual-angle-calibration", rt_ms=3000.0, response="normal"),
    _case("rt", None, 5, "survey-response", rt_ms=7000.0, response={"mood": "fine"}),
    _case("rt", None, 6, "mw-probe", ended_reason="timeout", response={}, questions_shown=0),
    _case("rt", None, 7, "detection-response-task-start", ended_reason="duration"),
    _case("rt_ms", "arrowleft", 8, "flanker-trial", rt_ms=450.25, response="arrowleft",
          correct=True, block_index=0, block_trial_index=0, block_seed=123456789),
    _case("rt_ms", None, 9, "flanker-trial", correct=False, ended_reason="timeout",
          block_index=0, block_trial_index=1, block_seed=123456789),
    _case("drt_rt_ms", "space", 10, "drt-stimulus", rt_ms=350.0, response="space",
          correct=True, drt_trial_number=1),
    _case("rt_ms", None, 11, "sart-trial", correct=True, ended_reason="duration", is_nogo=True),
    _case("rt_ms", None, 12, "stroop-trial", rt_ms=700.0, response="red", correct=True,
          response_device="mouse"),
    _case("rt_ms", "f", 13, "simon-trial", rt_ms=510.0, response="f", correct=False,
          response_device="keyboard"),
    _case("rt_ms", None, 14, "pvt-trial", rt_ms=320.0, response="click", correct=True,
          response_source="mouse"),
    _case("rt_ms", "j", 15, "nback-trial-sequence", rt_ms=610.0, response="j", correct=True,
          sequence_index=3, sequence_seed=99),
    _case("rt_ms", "a", 16, "task-switching-trial", rt_ms=720.0, response="a", correct=True),
    _case("rt_ms", None, 17, "rdm-trial", rt_ms=830.0, response="segment_2", correct=True,
          response_device="mouse", response_angle_deg=88.0),
    _case("rt_ms", "arrowleft", 18, "rdm-trial", rt_ms=640.0, response="arrowleft",
          correct=False, response_device="mouse"),
    _case("rt", None, 19, "detection-response-task-stop", ended_reason="duration"),
    _case("rt", "space", 20, "unsupported", rt_ms=1000.0, response="space"),
]  # fmt: skip
BOOKKEEPING = ("block_seed", "sequence_seed", "trial_start_ms", "trial_end_ms")


def test_every_row_type_carries_the_central_vocabulary(tmp_path: Path) -> None:
    rows = [r for r, _, _ in EVERY_ROW_TYPE]
    with CentralServer(ACCOUNTS) as central:
        ctx = lab_context(tmp_path / "lab")
        try:
            publish_local(ctx, "vocab", "v1", task_type="flanker")
            run_id = seed_run(ctx, "vocab", "V1", rows)
            assert sync(ctx, central.url).acknowledged == 1
        finally:
            ctx.close()
        (remote,) = central.runs_of("vocab")
        sent = [t for _, t in sorted(remote.trials.items())]
        assert remote.payload is not None
        assert remote.payload["cogflow_provenance"]["local_run_session_id"] == run_id
        report = report_as(central.url, ALICE, ALICE_PW, "vocab").json()["numeric_summary"]

    assert len(sent) == len(rows)
    for (local, rt_name, key), row in zip(EVERY_ROW_TYPE, sent, strict=True):
        what = f"{local['component_type']} row {local['trial_index']}"
        assert row["plugin_type"] == local["component_type"], what
        assert row["experiment_type"] == "trial-based", what
        assert row["response_key"] == key, what
        timed_out = local["ended_reason"] == "timeout"
        assert row["end_reason"] == ("deadline" if timed_out else local["ended_reason"]), what
        if rt_name == "rt_ms" and not timed_out:  # the task's rule, as our `correct`
            assert row["accuracy"] == row["correctness"] == local["correct"], what
        else:  # null on a timeout, and where it is not the task's accuracy
            assert row["accuracy"] is None and row["correctness"] is None, what
        # The RT under the name that kind of row has there, and no `rt_ms` off task rows.
        assert row[rt_name] == local["rt_ms"], what
        if rt_name != "rt_ms":
            assert "rt_ms" not in row, what
        # Ours stay, bookkeeping moves under `meta` without loss.
        for name in ("trial_index", "component_type", "response", "correct", "ended_reason",
                     "stimulus_onset_ms"):  # fmt: skip
            assert row[name] == local[name], (what, name)
        for name in BOOKKEEPING:
            assert name not in row, (what, name)
            if name in local:
                assert row["meta"][name] == local[name], (what, name)
    # The DRT stimulus keeps the reference's DRT names.
    drt = sent[10]
    assert (drt["drt_correct"], drt["drt_responded"]) == (True, True)

    # The central report's mean rt_ms is now the task's mean RT, not one diluted by screens.
    means = {r["field"]: r["mean"] for r in report}
    task_rts = [r["rt_ms"] for r, name, _ in EVERY_ROW_TYPE if name == "rt_ms" and r["rt_ms"]]
    every_rt = [r["rt_ms"] for r in rows if r["rt_ms"] is not None]
    assert means["rt_ms"] == pytest.approx(statistics.mean(task_rts))
    assert statistics.mean(every_rt) != pytest.approx(statistics.mean(task_rts))
    assert "block_seed" not in means and "trial_start_ms" not in means


def test_the_payloads_copy_of_the_trials_is_mapped_too(tmp_path: Path) -> None:
    """The Interpreter's result_payload carries every row again; the portal's CSV export reads
    that copy, so it is sent in the same vocabulary."""
    rows = [EVERY_ROW_TYPE[0][0], EVERY_ROW_TYPE[8][0]]
    with CentralServer(ACCOUNTS) as central:
        ctx = lab_context(tmp_path / "lab")
        try:
            publish_local(ctx, "payload", "v1", task_type="flanker")
            begun = runs.start_run(ctx, "payload", "P1", actor="test", client=None)
            payload = {"format": "cogflow-result-v1", "trials": rows}
            request = runs.SubmitRequest(begun["run_session_id"], "completed", 2, {}, payload, rows)
            runs.submit(ctx, request, actor="test", client=None)
            assert sync(ctx, central.url).acknowledged == 1
        finally:
            ctx.close()
        (remote,) = central.runs_of("payload")
        assert remote.payload is not None
        assert remote.payload["trials"] == [t for _, t in sorted(remote.trials.items())]
        assert "rt_ms" not in remote.payload["trials"][0]
        assert remote.payload["trials"][0]["rt"] == 5000.5


# --- 4. real run times ------------------------------------------------------------------------


def test_real_run_times_travel_and_status_shows_them(tmp_path: Path, run_cli) -> None:
    ran = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    ended = datetime(2026, 1, 2, 3, 14, 5, tzinfo=UTC)
    with CentralServer(ACCOUNTS) as central:
        lab_dir = tmp_path / "lab"
        ctx = lab_context(lab_dir)
        try:
            publish_local(ctx, "times")
            run_id = seed_run(ctx, "times", "T1", make_trials(2))
            with ctx.write() as s:  # as if it had run in January
                s.execute(
                    update(RunSession)
                    .where(RunSession.id == run_id)
                    .values(started_at=ran, completed_at=ended)
                )
            assert sync(ctx, central.url).acknowledged == 1
        finally:
            ctx.close()
        (remote,) = central.runs_of("times")
        assert remote.payload is not None
        provenance = remote.payload["cogflow_provenance"]
        assert provenance["run_started_at"] == ran.isoformat()
        assert provenance["run_completed_at"] == ended.isoformat()
        # The central server stamped the sync instead: that is what its portal shows.
        assert remote.started_at > ended and remote.completed_at is not None

    status = run_cli("sync", "status", "--data-dir", str(lab_dir))
    line = next(x for x in status.out.splitlines() if x.startswith(run_id))
    assert "2026-01-02 03:04:05" in line
    as_json = json.loads(run_cli("sync", "status", "--json", "--data-dir", str(lab_dir)).out)
    (run,) = as_json["runs"]
    assert run["started_at"] == ran.isoformat() and run["completed_at"] == ended.isoformat()
