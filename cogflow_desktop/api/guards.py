"""Request guards for a server on the researcher's own machine.

- Host: only our own loopback names, so a DNS-rebinding page cannot reach us by its name.
- Origin: unsafe requests from a browser page of another origin are refused (a page open in a
  browser on the lab PC must not publish or submit). Only origins the user listed
  (COGFLOW_ALLOWED_ORIGINS) get CORS, never with credentials, never on results, auth or
  researcher endpoints, and never riding a researcher's session cookie.
- CSRF: unsafe requests riding a logged-in session must echo the csrftoken cookie.
- App token: when embedded in the Qt app, writes need the per-launch token its web views send.
"""

from __future__ import annotations

import hmac
import re

from flask import Flask, Response, g, jsonify, request

from cogflow_desktop.api.web import (
    APP_TOKEN_HEADER,
    CSRF_COOKIE,
    CSRF_HEADER,
    ctx,
    current_session,
)

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
CSRF_EXEMPT = {"/api/v1/auth/login"}
# Researcher territory: sessions, TOTP, decrypted results, run listings, accounts. Only the
# app's own origin may call these; a listed dev origin may not, whatever its CORS grant.
_RESEARCHER_PATHS = re.compile(
    r"^/api/v1/(auth/|results/decrypt$|studies/[^/]+/runs$|users(/|$)|researchers(/|$))"
)
FOREIGN_ORIGIN = "cogflow_foreign_origin"
_ORIGIN_REFUSED = {"error": "Requests from this web page's origin are not allowed."}


# Every page this server serves (Interpreter, Builder, portal): scripts only from its own files
# (no inline script, no event-handler attributes: HTML in a study config formats but never
# runs), requests only to itself, images only from itself (/media/...) or data: URLs. Inline
# *styles* stay allowed: stimulus HTML keeps its formatting, and with img-src and font-src
# closed, CSS cannot send anything anywhere either.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "media-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "frame-src 'self'",
        "frame-ancestors 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    )
)
# Answers that are not pages (JSON, files) need no power at all.
API_POLICY = "default-src 'none'; frame-ancestors 'none'"


def researcher_path(path: str) -> bool:
    return bool(_RESEARCHER_PATHS.match(path))


def own_origins(port: int) -> set[str]:
    return {f"http://{name}:{port}" for name in LOOPBACK_NAMES}


def _refuse(status: int, body: dict[str, str]) -> Response:
    resp = jsonify(body)
    resp.status_code = status
    return resp


def install_guards(app: Flask) -> None:
    @app.before_request
    def _guard() -> Response | None:
        port = app.config["COGFLOW_PORT"]
        allowed_hosts = {f"{name}:{port}" for name in LOOPBACK_NAMES}
        host = (request.host or "").lower()
        if host not in allowed_hosts:
            return _refuse(400, {"error": "This server answers only on its own loopback address."})
        origin = request.headers.get("Origin")
        own = own_origins(port)
        listed = set(app.config["COGFLOW_EXTRA_ORIGINS"]) - own
        dev_origin = origin is not None and origin in listed
        # A listed origin's requests are anonymous: its page must never act as a researcher.
        g.setdefault(FOREIGN_ORIGIN, dev_origin)
        if dev_origin and researcher_path(request.path):
            return _refuse(403, _ORIGIN_REFUSED)
        if request.method == "OPTIONS":
            return _preflight(origin, own | listed)
        if request.method in SAFE_METHODS:
            return None
        if origin is not None and origin not in own | listed:
            return _refuse(403, _ORIGIN_REFUSED)
        site = request.headers.get("Sec-Fetch-Site")
        if origin is None and site == "cross-site":
            return _refuse(403, _ORIGIN_REFUSED)
        token = ctx().settings.app_token
        if token is not None and not dev_origin:
            sent = request.headers.get(APP_TOKEN_HEADER, "")
            if not hmac.compare_digest(sent, token):
                return _refuse(
                    403, {"error": "Only the CogFlow Desktop app may write to this server."}
                )
        if request.path not in CSRF_EXEMPT and current_session() is not None:
            cookie = request.cookies.get(CSRF_COOKIE, "")
            header = request.headers.get(CSRF_HEADER, "")
            if not cookie or not header:
                return _refuse(403, {"detail": "CSRF Failed: CSRF token missing."})
            if not hmac.compare_digest(cookie, header):
                return _refuse(403, {"detail": "CSRF Failed: CSRF token incorrect."})
        return None

    @app.after_request
    def _headers(resp: Response) -> Response:
        origin = request.headers.get("Origin")
        port = app.config["COGFLOW_PORT"]
        listed = set(app.config["COGFLOW_EXTRA_ORIGINS"]) - own_origins(port)
        if origin and origin in listed and not researcher_path(request.path):
            # Without credentials: the page reads only answers made for an anonymous caller.
            resp.headers["Access-Control-Allow-Origin"] = origin
            resp.headers["Vary"] = "Origin"
        page = resp.mimetype == "text/html"
        resp.headers.setdefault(
            "Content-Security-Policy", CONTENT_SECURITY_POLICY if page else API_POLICY
        )
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        if request.path.startswith("/api/"):
            resp.headers.setdefault("Cache-Control", "no-store")
        return resp


def _preflight(origin: str | None, allowed: set[str]) -> Response:
    if origin is None or origin not in allowed:
        return _refuse(403, _ORIGIN_REFUSED)
    resp = Response(status=204)
    resp.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    resp.headers["Access-Control-Allow-Headers"] = (
        f"Content-Type, {CSRF_HEADER}, {APP_TOKEN_HEADER}"
    )
    resp.headers["Access-Control-Max-Age"] = "600"
    return resp
