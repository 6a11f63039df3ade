"""Review finding 1: no web origin is trusted unless the user lists it, and a listed one never
reaches results, auth or researcher endpoints, nor rides a researcher's session.

The reproduction: a page on VS Code Live Server's port (127.0.0.1:5500) read the CSRF token
and decrypted results with a logged-in researcher's cookie, and published configs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from api_helpers import TIMEOUT, new_slug, sample_config, start_run, submit, submit_body
from conftest import (
    LiveServer,
    enrolled_researcher,
    publish,
    start_live_server,
    stop_live_server,
)

from cogflow_desktop.settings import Settings

DEV = "http://127.0.0.1:5500"
LIVE_SERVER_ORIGINS = (DEV, "http://localhost:5500", "http://127.0.0.1:5501")


def _publish_body() -> dict[str, object]:
    slug = new_slug("origin")
    return {
        "study_slug": slug,
        "study_name": slug,
        "config_version_label": "v1",
        "config": sample_config(),
    }


def test_nothing_is_trusted_by_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("COGFLOW_ALLOWED_ORIGINS", raising=False)
    assert Settings.from_env(tmp_path).extra_origins == ()


def test_live_server_page_cannot_publish_or_read_the_csrf_token(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = live_server.url
    for origin in LIVE_SERVER_ORIGINS:
        resp = requests.post(
            f"{url}/api/v1/configs/publish",
            json=_publish_body(),
            headers={"Origin": origin},
            timeout=TIMEOUT,
        )
        assert resp.status_code == 403, origin
        pre = requests.options(
            f"{url}/api/v1/configs/publish",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
            timeout=TIMEOUT,
        )
        assert pre.status_code == 403
        csrf = requests.get(f"{url}/api/v1/auth/csrf", headers={"Origin": origin}, timeout=30)
        assert "Access-Control-Allow-Origin" not in csrf.headers


@pytest.fixture(scope="module")
def listed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_live_server(tmp_path_factory.mktemp("listed"), extra_origins=(DEV,))
    yield live
    stop_live_server(live)


def test_listed_origin_may_publish_without_credentials(listed: LiveServer) -> None:
    resp = requests.post(
        f"{listed.url}/api/v1/configs/publish",
        json=_publish_body(),
        headers={"Origin": DEV},
        timeout=TIMEOUT,
    )
    assert resp.status_code == 201
    assert resp.headers["Access-Control-Allow-Origin"] == DEV
    # No credentialed CORS: the page's script never sees an answer made with a cookie.
    assert "Access-Control-Allow-Credentials" not in resp.headers


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/auth/csrf"),
        ("GET", "/api/v1/auth/me"),
        ("POST", "/api/v1/auth/login"),
        ("POST", "/api/v1/auth/logout"),
        ("POST", "/api/v1/auth/mfa/setup"),
        ("POST", "/api/v1/auth/mfa/verify"),
        ("POST", "/api/v1/results/decrypt"),
        ("GET", "/api/v1/studies/{slug}/runs"),
    ],
)
def test_listed_origin_never_reaches_results_auth_or_researcher_endpoints(
    listed: LiveServer, method: str, path: str
) -> None:
    slug = new_slug("guarded")
    publish(listed.url, slug, sample_config())
    resp = requests.request(
        method,
        listed.url + path.format(slug=slug),
        json={} if method == "POST" else None,
        headers={"Origin": DEV},
        timeout=TIMEOUT,
    )
    assert resp.status_code == 403, resp.text
    assert "Access-Control-Allow-Origin" not in resp.headers
    pre = requests.options(
        listed.url + path.format(slug=slug),
        headers={"Origin": DEV, "Access-Control-Request-Method": method},
        timeout=TIMEOUT,
    )
    assert pre.status_code == 403
    assert "Access-Control-Allow-Origin" not in pre.headers


def test_listed_origin_does_not_ride_a_researchers_session(listed: LiveServer) -> None:
    """The reproduction: a logged-in, MFA-fresh researcher's cookie sent by the dev page."""
    url = listed.url
    slug = new_slug("ride")
    publish(url, slug, sample_config())
    run = start_run(url, slug, "P-secret")["run_session_id"]
    assert submit(url, submit_body(run, [{"trial_index": 0}])).status_code == 201
    researcher = enrolled_researcher(listed)
    assert researcher.decrypt(run)["run_session_id"] == run  # the cookie works from the app
    stolen = researcher.post(
        f"{url}/api/v1/results/decrypt",
        json={"run_session_id": run, "include_trials": True},
        headers={"Origin": DEV},
        timeout=TIMEOUT,
    )
    assert stolen.status_code == 403
    assert "Access-Control-Allow-Origin" not in stolen.headers
    # Even where a listed origin may write, the session is not its own: the audit names no one.
    body = _publish_body()
    as_dev = researcher.post(
        f"{url}/api/v1/configs/publish", json=body, headers={"Origin": DEV}, timeout=TIMEOUT
    )
    assert as_dev.status_code == 201
    from sqlalchemy import select

    from cogflow_desktop.store.models import AuditEvent

    with listed.ctx.read() as s:
        actor = s.scalar(
            select(AuditEvent.actor)
            .where(AuditEvent.action == "study.publish", AuditEvent.target == body["study_slug"])
            .order_by(AuditEvent.id.desc())
        )
    assert actor == "anonymous"
