"""Interpreter: start a run, checkpoint it, submit it, and (for researchers) decrypt it."""

from __future__ import annotations

from flask import Blueprint, jsonify

from cogflow_desktop import audit
from cogflow_desktop.api.validation import (
    CheckpointBody,
    DecryptBody,
    RecoverBody,
    StartBody,
    SubmitBody,
    parse,
)
from cogflow_desktop.api.web import actor, client, ctx, current_session
from cogflow_desktop.services import auth, results, runs
from cogflow_desktop.services.errors import AuthRequired, ServiceError

bp = Blueprint("interpreter", __name__, url_prefix="/api/v1")


@bp.post("/runs/start")
def start():  # type: ignore[no-untyped-def]
    body = parse(StartBody)
    answer = runs.start_run(
        ctx(), body.study_slug, body.participant_external_id, actor=actor(), client=client()
    )
    if ctx().settings.app_token is not None:
        # Inside the desktop app: the page sends where the run stands (blueprints/resume.py).
        answer["resume_snapshots"] = True
    return jsonify(answer), 201


@bp.post("/results/checkpoint")
def checkpoint():  # type: ignore[no-untyped-def]
    body = parse(CheckpointBody)
    answer = runs.checkpoint(
        ctx(),
        runs.CheckpointRequest(
            body.run_session_id,
            body.checkpoint_label,
            body.checkpoint_index,
            body.trial_count,
            body.result_payload,
            body.trials,
        ),
        actor=actor(),
        client=client(),
    )
    return jsonify(answer), 200


@bp.post("/results/submit")
def submit():  # type: ignore[no-untyped-def]
    body = parse(SubmitBody)
    answer = runs.submit(
        ctx(),
        runs.SubmitRequest(
            body.run_session_id,
            body.status,
            body.trial_count,
            body.result_summary,
            body.result_payload,
            body.trials,
        ),
        actor=actor(),
        client=client(),
    )
    ctx().resume.drop(body.run_session_id)  # the run is over: where it stood is not kept
    return jsonify(answer), 201


@bp.post("/results/recover")
def recover():  # type: ignore[no-untyped-def]
    """A page's sealed local buffer, stored still sealed (this server only: the Interpreter
    sends it where runs/start gave it a seal_public_key)."""
    body = parse(RecoverBody)
    sealed_key, trials, payload = body.blobs()
    answer = runs.recover_sealed(
        ctx(),
        runs.RecoverRequest(
            body.run_session_id, sealed_key, body.key_fingerprint, body.trial_count, trials,
            payload,
        ),
        actor=actor(),
        client=client(),
    )  # fmt: skip
    return jsonify(answer), 200


@bp.post("/results/decrypt")
def decrypt():  # type: ignore[no-untyped-def]
    body = parse(DecryptBody)  # validation first, as the reference server does
    session = current_session()
    try:
        if session is None:
            raise AuthRequired("Authentication required")
        auth.require_fresh_mfa(ctx(), session)
        with ctx().read() as s:
            answer = results.decrypt_run(
                s, session.private_key, body.run_session_id, body.include_trials
            )
    except ServiceError as exc:
        with ctx().write() as s:
            audit.record(
                s,
                "results.decrypt",
                actor=actor(),
                client=client(),
                target=body.run_session_id,
                outcome="denied",
                details={"reason": exc.message},
            )
        raise
    with ctx().write() as s:
        audit.record(
            s,
            "results.decrypt",
            actor=actor(),
            client=client(),
            target=body.run_session_id,
            details={"include_trials": body.include_trials},
        )
    return jsonify(answer)
