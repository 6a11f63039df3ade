"""The embedded v1 server: a Flask app factory, one blueprint per contract tag."""

from __future__ import annotations

import mimetypes

from flask import Flask

from cogflow_desktop.api.blueprints import (
    auth,
    builder,
    interpreter,
    markers,
    media,
    ops,
    resume,
    studies,
    web_apps,
)
from cogflow_desktop.api.errors import register_error_handlers
from cogflow_desktop.api.guards import install_guards
from cogflow_desktop.services.context import Context

# Windows takes MIME types from its registry, which may map .js to text/plain; browsers then
# refuse to load the web apps' ES modules. Pin the types the web apps need.
_WEB_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".json": "application/json",
              ".css": "text/css", ".svg": "image/svg+xml", ".webp": "image/webp"}


def create_app(context: Context, port: int) -> Flask:
    """`port` is the one the server listens on: it defines our own Host and Origin."""
    for ext, mime in _WEB_TYPES.items():
        mimetypes.add_type(mime, ext)
    app = Flask(__name__, static_folder=None)
    app.config.update(
        COGFLOW_PORT=port,
        COGFLOW_EXTRA_ORIGINS=tuple(context.settings.extra_origins),
        MAX_CONTENT_LENGTH=context.settings.max_body_bytes,
        JSON_SORT_KEYS=False,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["cogflow"] = context
    install_guards(app)
    register_error_handlers(app)
    for bp in (ops.bp, auth.bp, studies.bp, builder.bp, interpreter.bp, media.bp, web_apps.bp):
        app.register_blueprint(bp)
    app.register_blueprint(resume.bp)  # where live kiosk runs stand, in memory only
    app.register_blueprint(markers.bp)  # lab hardware (serve --lsl)
    return app
