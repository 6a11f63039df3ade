"""Builder: publish a config."""

from __future__ import annotations

from flask import Blueprint, jsonify

from cogflow_desktop.api.validation import PublishBody, parse
from cogflow_desktop.api.web import actor, client, ctx
from cogflow_desktop.services import studies

bp = Blueprint("builder", __name__, url_prefix="/api/v1/configs")


@bp.post("/publish")
def publish():  # type: ignore[no-untyped-def]
    body = parse(PublishBody)
    result = studies.publish(
        ctx(),
        studies.PublishRequest(
            study_slug=body.study_slug,
            study_name=body.study_name,
            config_version_label=body.config_version_label,
            config=body.config,
            runtime_mode=body.runtime_mode,
            builder_version=body.builder_version,
        ),
        actor=actor(),
        client=client(),
    )
    return jsonify(result), 201
