"""Per-request helpers: the application context, the caller's session, actor and client."""

from __future__ import annotations

from flask import current_app, g, request

from cogflow_desktop import audit
from cogflow_desktop.services import auth
from cogflow_desktop.services.context import Context
from cogflow_desktop.services.errors import AuthRequired
from cogflow_desktop.services.vault import SessionSecrets

SESSION_COOKIE = "sessionid"
CSRF_COOKIE = "csrftoken"
CSRF_HEADER = "X-CSRFToken"
APP_TOKEN_HEADER = "X-CogFlow-App-Token"


def ctx() -> Context:
    return current_app.extensions["cogflow"]


def current_session() -> SessionSecrets | None:
    """The caller's researcher session; never for a request from a listed foreign origin (a
    dev server's page), whose cookies the browser sends because loopback ports are same-site."""
    if "cogflow_session" not in g:
        foreign = g.get("cogflow_foreign_origin", False)
        cookie = None if foreign else request.cookies.get(SESSION_COOKIE)
        g.cogflow_session = auth.session_for(ctx(), cookie)
    return g.cogflow_session


def require_session() -> SessionSecrets:
    session = current_session()
    if session is None:
        raise AuthRequired("Authentication required")
    return session


def actor() -> str:
    """Who did it, from the server-side session only (never from a request header)."""
    session = current_session()
    return session.username if session else audit.ANONYMOUS_ACTOR


def client() -> str:
    return request.remote_addr or "unknown"
