"""Lab hardware markers over HTTP, for `cogflow-desktop serve --lsl` (the app uses Qt WebChannel).

One route, `POST /api/hardware/markers`, carrying the messages of hardware/protocol.py. It sits
behind the same guards as every other write (Host, Origin, CSRF, app token). The page posts in
the background, batched, and never waits for it on a frame.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from cogflow_desktop.api.validation import parse
from cogflow_desktop.api.web import ctx
from cogflow_desktop.hardware import registry
from cogflow_desktop.hardware.host import ProtocolError
from cogflow_desktop.hardware.protocol import MarkerRequest

bp = Blueprint("markers", __name__, url_prefix="/api/hardware")
NOT_ON = (
    "Lab hardware is not turned on for this server; start it with `cogflow-desktop serve --lsl` "
    "(or --trigger-port)."
)


@bp.post("/markers")
def markers():  # type: ignore[no-untyped-def]
    body = parse(MarkerRequest)  # the same checks the host makes, answered as field errors
    host = registry.host_for(ctx())
    if host is None:
        return jsonify({"error": NOT_ON}), 404
    try:
        answer = host.handle(body.model_dump())
    except ProtocolError as exc:
        return jsonify({"error": exc.message}), exc.status
    return jsonify(answer), 200
