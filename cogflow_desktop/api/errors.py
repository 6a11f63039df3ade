"""Every error answered as JSON in the reference server's shapes, never an HTML page."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from cogflow_desktop import audit
from cogflow_desktop.api.validation import FrameworkError
from cogflow_desktop.api.web import actor, client, ctx
from cogflow_desktop.security.envelopes import DecryptionError
from cogflow_desktop.services.errors import ServiceError, Throttled, ValidationFailed
from cogflow_desktop.store.faults import storage_fault

log = logging.getLogger(__name__)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError):  # type: ignore[no-untyped-def]
        if isinstance(exc, ValidationFailed):
            return jsonify(exc.fields), 400
        if isinstance(exc, Throttled):
            resp = jsonify({"detail": exc.message})
            resp.headers["Retry-After"] = str(exc.retry_after)
            return resp, 429
        if isinstance(exc, FrameworkError):
            return jsonify({"detail": exc.message}), exc.status
        return jsonify({"error": exc.message}), exc.status

    @app.errorhandler(DecryptionError)
    def _integrity(exc: DecryptionError):  # type: ignore[no-untyped-def]
        # A safety net: services turn tamper findings into Corrupted themselves; anything that
        # slips through is still an audited integrity error, never a 500.
        with ctx().write() as s:
            audit.record(
                s,
                "integrity.error",
                actor=actor(),
                outcome="denied",
                client=client(),
                target=request.path[:255],
                details={"reason": str(exc)},
            )
        message = "Stored data failed its integrity check: the database was changed or damaged."
        return jsonify({"error": message}), 409

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        status = exc.code or 500
        messages = {
            404: "Not found.",
            405: "Method not allowed.",
            413: "The request body is too large.",
        }
        body = {"detail": messages.get(status, exc.description or exc.name)}
        resp = jsonify(body)
        allowed = getattr(exc, "valid_methods", None)
        if allowed:
            resp.headers["Allow"] = ", ".join(allowed)
        return resp, status

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        fault = storage_fault(exc)
        if fault is not None:
            # A full disk, a database another program holds, a damaged file: nothing was
            # stored, the client keeps what it sent and tries again after Retry-After.
            log.warning("%s %s not stored (%s): %s", request.method, request.path, fault.kind, exc)
            resp = jsonify({"detail": fault.message})
            resp.headers["Retry-After"] = str(fault.retry_after)
            return resp, fault.status
        log.exception("unexpected error")
        return jsonify({"error": "The server hit an unexpected error; nothing was changed."}), 500
