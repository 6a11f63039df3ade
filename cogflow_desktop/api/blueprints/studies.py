"""Studies: the list, a study's latest config, a study's runs."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from cogflow_desktop.api.web import ctx, require_session
from cogflow_desktop.services import studies
from cogflow_desktop.services.errors import ValidationFailed

bp = Blueprint("studies", __name__, url_prefix="/api/v1/studies")


@bp.get("")
def list_studies():  # type: ignore[no-untyped-def]
    return jsonify({"studies": studies.list_studies(ctx())})


@bp.get("/<slug>/latest-config")
def latest_config(slug: str):  # type: ignore[no-untyped-def]
    return jsonify(studies.latest_config(ctx(), slug))


@bp.get("/<slug>/runs")
def study_runs(slug: str):  # type: ignore[no-untyped-def]
    require_session()  # run listings are researcher data
    raw = request.args.get("limit", str(studies.RUNS_DEFAULT_LIMIT))
    if not raw.isdigit() or not 1 <= int(raw) <= studies.RUNS_MAX_LIMIT:
        raise ValidationFailed(
            {"limit": [f"Must be a whole number from 1 to {studies.RUNS_MAX_LIMIT}."]}
        )
    return jsonify(studies.study_runs(ctx(), slug, int(raw)))
