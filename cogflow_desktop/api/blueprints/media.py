"""Media: images a study uses, added from the Builder and served to the Interpreter offline."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request, send_file

from cogflow_desktop.api.web import actor, client, ctx
from cogflow_desktop.services import media
from cogflow_desktop.services.errors import BadRequest

bp = Blueprint("media", __name__)

# Room for multipart boundaries and headers around a file at the size cap.
MULTIPART_SLACK = 64 * 1024
YEAR_SECONDS = 365 * 24 * 3600


def _upload() -> tuple[bytes, str | None]:
    """The file from a multipart form (field `file`) or a raw body (`?filename=`)."""
    length = request.content_length
    if length is not None and length > media.MAX_MEDIA_BYTES + MULTIPART_SLACK:
        limit = media.MAX_MEDIA_BYTES // (1024 * 1024)
        raise media.MediaTooLarge(f"The image is larger than {limit} MiB; use a smaller file.")
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise BadRequest("Send the image in a form field named 'file'.")
        return upload.read(media.MAX_MEDIA_BYTES + 1), upload.filename
    return request.get_data(cache=False), request.args.get("filename")


@bp.post("/api/v1/media")
def add_media():  # type: ignore[no-untyped-def]
    data, filename = _upload()
    # 201 also for a file already stored: the answer (its URL) is the same either way.
    info, _created = media.store_image(ctx(), data, filename, actor=actor(), client=client())
    return jsonify(info), 201


@bp.get("/api/v1/media")
def list_media():  # type: ignore[no-untyped-def]
    return jsonify({"media": media.list_media(ctx())})


@bp.get("/media/<name>")
def serve_media(name: str) -> Response:
    path, content_type = media.resolve(ctx(), name)
    resp = send_file(path, mimetype=content_type, max_age=YEAR_SECONDS, conditional=True)
    # Content-addressed: the bytes behind a name never change.
    resp.headers["Cache-Control"] = f"public, max-age={YEAR_SECONDS}, immutable"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return resp
