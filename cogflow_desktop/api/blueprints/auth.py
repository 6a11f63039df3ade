"""Auth: login/logout, CSRF cookie, who am I, TOTP enrolment and verification."""

from __future__ import annotations

import secrets

from flask import Blueprint, Response, jsonify, make_response, request

from cogflow_desktop.api.validation import LoginBody, TotpSetupBody, TotpVerifyBody, parse
from cogflow_desktop.api.web import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    client,
    ctx,
    current_session,
    require_session,
)
from cogflow_desktop.services import auth

bp = Blueprint("auth", __name__, url_prefix="/api/v1/auth")


def _set_csrf(resp: Response, token: str) -> None:
    # Readable by the page's script (it echoes it in X-CSRFToken), never sent cross-site.
    resp.set_cookie(CSRF_COOKIE, token, httponly=False, samesite="Strict", path="/")


@bp.post("/login")
def login():  # type: ignore[no-untyped-def]
    body = parse(LoginBody)
    result = auth.login(ctx(), body.username, body.password, client())
    resp = make_response(
        jsonify(
            {"ok": True, "username": result.secrets.username, "mfa_enabled": result.mfa_enabled}
        )
    )
    resp.set_cookie(
        SESSION_COOKIE,
        result.token,
        httponly=True,
        samesite="Strict",
        path="/",
        max_age=ctx().settings.session_idle_seconds,
    )
    _set_csrf(resp, result.secrets.csrf_token)
    return resp


@bp.post("/logout")
def logout():  # type: ignore[no-untyped-def]
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        auth.logout(ctx(), token, client())
    resp = make_response(jsonify({"ok": True}))
    resp.delete_cookie(SESSION_COOKIE, path="/", samesite="Strict", httponly=True)
    return resp


@bp.get("/csrf")
def csrf():  # type: ignore[no-untyped-def]
    session = current_session()
    token = session.csrf_token if session else request.cookies.get(CSRF_COOKIE)
    token = token or secrets.token_urlsafe(24)
    resp = make_response(jsonify({"csrfToken": token}))
    _set_csrf(resp, token)
    return resp


@bp.get("/me")
def me():  # type: ignore[no-untyped-def]
    session = current_session()
    if session is None:
        return jsonify({"authenticated": False}), 401
    until = auth.mfa_fresh_until(ctx(), session)
    return jsonify(
        {
            "authenticated": True,
            "username": session.username,
            "public_name": session.username,
            "email": "",
            "role": "researcher",
            "mfa_enabled": auth.mfa_enabled(ctx(), session.user_id),
            "mfa_verified_at": session.mfa_verified_at.isoformat()
            if session.mfa_verified_at
            else None,
            "mfa_fresh_until": until.isoformat() if until else None,
        }
    )


@bp.post("/mfa/setup")
def mfa_setup():  # type: ignore[no-untyped-def]
    session = require_session()
    body = parse(TotpSetupBody, required=False)
    setup = auth.mfa_setup(ctx(), session, body.regenerate, client())
    return jsonify(
        {
            "ok": True,
            "username": setup.username,
            "totp_secret": setup.secret,
            "otpauth_uri": setup.otpauth_uri,
        }
    )


@bp.post("/mfa/verify")
def mfa_verify():  # type: ignore[no-untyped-def]
    session = require_session()
    body = parse(TotpVerifyBody)
    verified_at = auth.verify_code(ctx(), session, body.code, client())
    return jsonify(
        {
            "ok": True,
            "username": session.username,
            "mfa_enabled": True,
            "mfa_verified_at": verified_at.isoformat(),
        }
    )
