"""Ops: health and the server's own OpenAPI document."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from flask import Blueprint, jsonify

from cogflow_desktop.api.web import ctx

bp = Blueprint("ops", __name__)


@cache
def _schema(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    return jsonify({"ok": True})


@bp.get("/api/schema")
def schema():  # type: ignore[no-untyped-def]
    return jsonify(_schema(ctx().settings.resources / "openapi.json"))
