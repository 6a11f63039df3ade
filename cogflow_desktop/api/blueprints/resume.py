"""Resume snapshots of live kiosk runs (services/resume_snapshots.py): the Interpreter sends
where its run stands with each trial; after a renderer crash the recovering page reads it back
with the one-time grant the kiosk put in its address. Both routes answer only the app's own
pages (the per-launch app token, checked here as well as by the guards, and never a listed
foreign origin), and only for a run that is still going. Nothing here touches the disk."""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, g, jsonify, request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from cogflow_desktop.api.guards import FOREIGN_ORIGIN
from cogflow_desktop.api.validation import parse
from cogflow_desktop.api.web import APP_TOKEN_HEADER, ctx
from cogflow_desktop.services.errors import BadRequest, Forbidden, NotFound
from cogflow_desktop.services.resume_snapshots import MAX_SNAPSHOT_BYTES
from cogflow_desktop.store.models import RunSession, TrialRecord

bp = Blueprint("resume", __name__, url_prefix="/api/v1/runs")
APP_ONLY = "Only the CogFlow Desktop app's own pages may keep or read where a run stands."


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class SnapshotBody(_Strict):
    run_session_id: str = Field(min_length=1, max_length=64)
    snapshot: dict[str, Any]


class ReadBody(_Strict):
    run_session_id: str = Field(min_length=1, max_length=64)
    grant: str = Field(min_length=1, max_length=128)


def _app_page_only() -> None:
    token = ctx().settings.app_token
    sent = request.headers.get(APP_TOKEN_HEADER, "")
    if token is None or g.get(FOREIGN_ORIGIN, False) or not hmac.compare_digest(sent, token):
        raise Forbidden(APP_ONLY)


def _status(run_id: str) -> str | None:
    with ctx().read() as s:
        return s.scalar(select(RunSession.status).where(RunSession.id == run_id))


@bp.post("/resume-snapshot")
def keep():  # type: ignore[no-untyped-def]
    _app_page_only()
    if request.content_length is None or request.content_length > MAX_SNAPSHOT_BYTES:
        raise BadRequest(f"A resume snapshot may hold at most {MAX_SNAPSHOT_BYTES} bytes.")
    body = parse(SnapshotBody)
    status = _status(body.run_session_id)
    if status is None:
        raise NotFound("Run session not found.")
    if status != "started":
        ctx().resume.drop(body.run_session_id)
        return jsonify({"kept": False, "reason": "run_already_terminal"}), 200
    ctx().resume.put(body.run_session_id, body.snapshot)
    return jsonify({"kept": True}), 200


@bp.post("/resume-snapshot/read")
def read():  # type: ignore[no-untyped-def]
    _app_page_only()
    body = parse(ReadBody)
    run_id = body.run_session_id
    snapshot = ctx().resume.take(run_id, body.grant)
    if snapshot is None or _status(run_id) != "started":
        raise NotFound("There is no resume snapshot for this run to read.")
    with ctx().read() as s:
        stored = int(s.scalar(select(func.count()).where(TrialRecord.run_id == run_id)) or 0)
    return jsonify({"run_session_id": run_id, "snapshot": snapshot, "stored_trials": stored})
