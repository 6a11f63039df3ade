"""Round trip: results submitted over HTTP to a real server, exported by the service, read back
with the csv module, json, a TSV reader and zipfile; values must equal what was sent."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import ADMIN_PASSWORD, ADMIN_USER, LiveServer
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from export_helpers import (
    SeededRun,
    expected_cell,
    first_seen,
    read_csv,
    read_tsv,
    seed_heterogeneous_study,
    sha256,
)
from sqlalchemy import select

from cogflow_desktop import audit
from cogflow_desktop.export import ExportOptions, ExportResult, export_study
from cogflow_desktop.export.service import EXPORT_ACTION, PARTICIPANT_IDS_ACTION
from cogflow_desktop.services import users
from cogflow_desktop.services.errors import NotFound
from cogflow_desktop.store.models import AuditEvent

META = (
    "study_slug",
    "config_version_label",
    "run_session_id",
    "participant_key",
    "status",
    "interrupted",
    "started_at",
    "completed_at",
)
VOCAB = (
    "trial_index",
    "component_type",
    "rt_ms",
    "response",
    "correct",
    "stimulus_onset_ms",
    "ended_reason",
)


@pytest.fixture(scope="module")
def seeded(live_server: LiveServer) -> tuple[str, list[SeededRun]]:
    return seed_heterogeneous_study(live_server.url)


@pytest.fixture(scope="module")
def key(live_server: LiveServer) -> X25519PrivateKey:
    return users.unlock_with_password(live_server.ctx, ADMIN_USER, ADMIN_PASSWORD)


def export(
    live: LiveServer, key: X25519PrivateKey, slug: str, fmt: str, out: Path, **kw: Any
) -> ExportResult:
    return export_study(
        live.ctx, key, ExportOptions(slug, fmt, out, **kw), actor=ADMIN_USER, client="test"
    )


def last_event(live: LiveServer, action: str, slug: str) -> AuditEvent:
    with live.ctx.read() as s:
        event = s.scalar(
            select(AuditEvent)
            .where(AuditEvent.action == action, AuditEvent.target == slug)
            .order_by(AuditEvent.id.desc())
            .limit(1)
        )
    assert event is not None
    return event


def test_csv_is_tidy_ordered_and_equal_to_what_was_sent(
    live_server: LiveServer,
    seeded: tuple[str, list[SeededRun]],
    key: X25519PrivateKey,
    tmp_path: Path,
) -> None:
    slug, runs = seeded
    out = tmp_path / "trials.csv"
    result = export(live_server, key, slug, "csv", out)

    header, rows, raw = read_csv(out)
    fields = [*VOCAB, *first_seen(runs, skip=VOCAB)]
    assert header == [*META, *(f"trial.{f}" if f in META else f for f in fields)]
    assert "trial.status" in header  # a trial's own field named like a run column
    assert all(len(r) == len(header) for r in raw)  # earlier rows padded for later columns
    expected = [(run, t) for run in runs for t in run.trials]
    assert len(rows) == len(expected) == result.trials == 9
    assert result.runs == 3
    for row, (run, trial) in zip(rows, expected, strict=True):
        assert row["study_slug"] == slug
        assert row["config_version_label"] == "v1"
        assert row["run_session_id"] == run.run_session_id
        assert row["participant_key"] == run.participant_key
        assert row["status"] == run.status
        assert row["interrupted"] == "False"
        assert bool(row["completed_at"]) == (run.status == "completed")
        for column, name in zip(header[len(META) :], fields, strict=True):
            assert row[column] == expected_cell(trial.get(name)), column
    survey_row = next(r for r in rows if r["component_type"] == "survey-response")
    assert json.loads(survey_row["response"]) == runs[0].trials[3]["response"]
    assert "participant_external_id" not in header

    data = out.read_bytes()
    assert result.files[0].sha256 == sha256(data)
    event = last_event(live_server, EXPORT_ACTION, slug)
    assert event.outcome == "ok" and event.actor == ADMIN_USER
    assert event.details["runs"] == 3 and event.details["trials"] == 9
    assert event.details["files"] == [
        {"path": "trials.csv", "bytes": len(data), "sha256": sha256(data)}
    ]


def test_json_holds_full_results_per_run(
    live_server: LiveServer,
    seeded: tuple[str, list[SeededRun]],
    key: X25519PrivateKey,
    tmp_path: Path,
) -> None:
    slug, runs = seeded
    out = tmp_path / "results.json"
    export(live_server, key, slug, "json", out)
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["study_slug"] == slug
    assert doc["run_count"] == 3 and doc["trial_count"] == 9
    for got, run in zip(doc["runs"], runs, strict=True):
        assert got["run_session_id"] == run.run_session_id
        assert got["trials"] == run.trials
        assert got["result_payload"] == run.result_payload
        assert got["result_summary"] == run.result_summary
        assert got["status"] == run.status
        assert got["interrupted"] is False
        assert "participant_external_id" not in got


def test_bids_events_sidecars_and_manifest(
    live_server: LiveServer,
    seeded: tuple[str, list[SeededRun]],
    key: X25519PrivateKey,
    tmp_path: Path,
) -> None:
    slug, runs = seeded
    out = tmp_path / "bids"
    export(live_server, key, slug, "bids", out)

    description = json.loads((out / "dataset_description.json").read_text())
    assert description["BIDSVersion"] and description["Name"] == f"Study {slug}"
    assert description["DatasetType"] == "raw"
    assert (out / "README.md").stat().st_size > 150 and (out / "CHANGES").exists()
    assert "manifest.json" in (out / ".bidsignore").read_text().split()
    for run in runs:
        sub = f"sub-{run.participant_key[:16]}"
        ses = f"ses-{run.run_session_id.replace('-', '')[:8]}"
        folder = out / sub / ses / "beh"
        (tsv,) = folder.glob(f"{sub}_{ses}_task-flanker_events.tsv")
        header, rows = read_tsv(tsv)
        assert header[:4] == ["onset", "duration", "trial_type", "response_time"]
        described = json.loads(tsv.with_suffix(".json").read_text())
        assert set(header) <= set(described)
        assert all(described[c]["Description"] for c in header)
        assert described["rt_ms"]["Units"] == "ms" and described["onset"]["Units"] == "s"
        first = min(t["stimulus_onset_ms"] for t in run.trials)
        for row, trial in zip(rows, run.trials, strict=True):
            assert float(row["onset"]) == pytest.approx((trial["stimulus_onset_ms"] - first) / 1000)
            assert row["trial_type"] == trial["component_type"]
            rt = trial["rt_ms"]
            assert (
                row["response_time"] == "n/a"
                if rt is None
                else float(row["response_time"]) == pytest.approx(rt / 1000)
            )
            assert int(row["trial_index"]) == trial["trial_index"]
            if "stimulus_offset_ms" in trial:
                expected = (trial["stimulus_offset_ms"] - trial["stimulus_onset_ms"]) / 1000
                assert float(row["duration"]) == pytest.approx(expected)
            if "note" in trial:
                assert row["note"] == trial["note"].replace("\t", " ")
            if "duration" in trial:  # the trial's own field, beside the event duration
                assert row["trial.duration"] == str(trial["duration"])
            if "status" in trial:  # BIDS gives `status` a meaning of its own
                assert row["trial.status"] == trial["status"]
        # The trial table: every trial, every field, the vocabulary first.
        beh_header, beh_rows = read_tsv(folder / f"{sub}_{ses}_task-flanker_beh.tsv")
        assert beh_header[: len(VOCAB)] == list(VOCAB)
        assert [int(r["trial_index"]) for r in beh_rows] == [t["trial_index"] for t in run.trials]
        assert set(beh_header) <= set(
            json.loads((folder / f"{sub}_{ses}_task-flanker_beh.json").read_text())
        )
        _h, sessions = read_tsv(out / sub / f"{sub}_sessions.tsv")
        assert {r["session_id"]: r["run_session_id"] for r in sessions}[ses] == run.run_session_id

    _h, participants = read_tsv(out / "participants.tsv")
    assert sorted(r["participant_id"] for r in participants) == sorted(
        f"sub-{r.participant_key[:16]}" for r in runs
    )
    manifest = json.loads((out / "manifest.json").read_text())
    listed = {f["path"]: f["sha256"] for f in manifest["files"]}
    on_disk = {
        p.relative_to(out).as_posix(): sha256(p.read_bytes())
        for p in out.rglob("*")
        if p.is_file() and p.name != "manifest.json"
    }
    assert listed == on_disk
    assert "participants.tsv" in listed


def test_zip_bundles_everything_with_codebook_and_manifest(
    live_server: LiveServer,
    seeded: tuple[str, list[SeededRun]],
    key: X25519PrivateKey,
    tmp_path: Path,
) -> None:
    slug, _runs = seeded
    export(live_server, key, slug, "csv", tmp_path / "alone.csv")
    result = export(live_server, key, slug, "zip", tmp_path / "all.zip")

    with zipfile.ZipFile(tmp_path / "all.zip") as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    manifest = json.loads(members.pop("manifest.json"))
    assert {f["path"]: f["sha256"] for f in manifest["files"]} == {
        name: sha256(data) for name, data in members.items()
    }
    assert result.files[1].sha256 == sha256(
        zipfile.ZipFile(tmp_path / "all.zip").read("manifest.json")
    )
    assert members[f"{slug}_trials.csv"] == (tmp_path / "alone.csv").read_bytes()
    assert any(n.startswith("bids/sub-") and n.endswith("_events.tsv") for n in members)
    assert any(n.startswith("psychds/data/study-") and n.endswith("_data.csv") for n in members)
    assert f"{slug}_results.json" in members

    codebook_path = tmp_path / "codebook.csv"
    codebook_path.write_bytes(members["codebook.csv"])
    _h, codebook, _raw = read_csv(codebook_path)
    types = {r["name"]: r["type"] for r in codebook}
    header, _rows, _raw = read_csv(tmp_path / "alone.csv")
    assert set(header) <= set(types)
    assert types["rt_ms"] == "number" and types["correct"] == "boolean"
    assert "json" in types["response"] and types["trial_index"] == "integer"
    assert all(r["meaning"] for r in codebook if r["name"] in (*META, *VOCAB))


def test_raw_participant_ids_only_on_request_and_audited_apart(
    live_server: LiveServer,
    seeded: tuple[str, list[SeededRun]],
    key: X25519PrivateKey,
    tmp_path: Path,
) -> None:
    slug, runs = seeded
    export(live_server, key, slug, "zip", tmp_path / "plain.zip")
    with zipfile.ZipFile(tmp_path / "plain.zip") as zf:
        everything = b"".join(zf.read(n) for n in zf.namelist())
    for run in runs:
        assert run.participant.encode() not in everything
    with live_server.ctx.read() as s:
        before = s.scalar(
            select(AuditEvent.id)
            .where(AuditEvent.action == PARTICIPANT_IDS_ACTION, AuditEvent.target == slug)
            .limit(1)
        )
    assert before is None

    out = tmp_path / "ids.csv"
    export(live_server, key, slug, "csv", out, include_participant_ids=True)
    header, rows, _raw = read_csv(out)
    assert header[3:5] == ["participant_key", "participant_external_id"]
    by_run = {r.run_session_id: r.participant for r in runs}
    assert all(row["participant_external_id"] == by_run[row["run_session_id"]] for row in rows)
    event = last_event(live_server, PARTICIPANT_IDS_ACTION, slug)
    assert event.actor == ADMIN_USER and event.details["format"] == "csv"


def test_selected_runs_only(
    live_server: LiveServer,
    seeded: tuple[str, list[SeededRun]],
    key: X25519PrivateKey,
    tmp_path: Path,
) -> None:
    slug, runs = seeded
    out = tmp_path / "one.csv"
    result = export(live_server, key, slug, "csv", out, run_ids=(runs[1].run_session_id,))
    header, rows, _raw = read_csv(out)
    assert result.runs == 1 and len(rows) == len(runs[1].trials)
    fields = [*VOCAB, *first_seen([runs[1]], skip=VOCAB)]
    assert header == [*META, *(f"trial.{f}" if f in META else f for f in fields)]
    assert {r["run_session_id"] for r in rows} == {runs[1].run_session_id}


def test_unknown_study_or_run_is_a_plain_refusal_and_audited(
    live_server: LiveServer,
    seeded: tuple[str, list[SeededRun]],
    key: X25519PrivateKey,
    tmp_path: Path,
) -> None:
    slug, _runs = seeded
    with pytest.raises(NotFound, match="no study named"):
        export(live_server, key, "no-such-study", "csv", tmp_path / "x.csv")
    bogus = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(NotFound, match=f"Run {bogus} is not a run of study"):
        export(live_server, key, slug, "csv", tmp_path / "x.csv", run_ids=(bogus,))
    assert list(tmp_path.iterdir()) == []
    event = last_event(live_server, EXPORT_ACTION, slug)
    assert event.outcome == "failed" and bogus in event.details["reason"]
    with live_server.ctx.read() as s:
        assert audit.verify_chain(s).ok
