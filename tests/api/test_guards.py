"""Request guards on a real server: Host, Origin/CORS, CSRF, the app token, JSON errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from api_helpers import TIMEOUT, new_slug, sample_config
from conftest import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    LiveServer,
    login_session,
    start_live_server,
    stop_live_server,
)

DEV_ORIGIN = "http://127.0.0.1:5500"
EVIL_ORIGIN = "http://evil.example"
PUBLISH = "/api/v1/configs/publish"


def _publish_body() -> dict[str, object]:
    slug = new_slug("guard")
    return {
        "study_slug": slug,
        "study_name": slug,
        "config_version_label": "v1",
        "config": sample_config(),
    }


def test_healthz(live_server: LiveServer) -> None:
    resp = requests.get(f"{live_server.url}/healthz", timeout=TIMEOUT)
    assert resp.status_code == 200 and resp.json() == {"ok": True}


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:{port}", "127.0.0.1:1", "localhost.evil:{port}"]
)
def test_foreign_host_is_refused(live_server: LiveServer, host: str) -> None:
    resp = requests.get(
        f"{live_server.url}/healthz",
        headers={"Host": host.format(port=live_server.server.port)},
        timeout=TIMEOUT,
    )
    assert resp.status_code == 400
    assert "error" in resp.json()


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost"])
def test_own_loopback_names_are_accepted(live_server: LiveServer, name: str) -> None:
    resp = requests.get(
        f"{live_server.url}/healthz",
        headers={"Host": f"{name}:{live_server.server.port}"},
        timeout=TIMEOUT,
    )
    assert resp.status_code == 200


def test_unsafe_request_from_foreign_origin_is_403(live_server: LiveServer) -> None:
    resp = requests.post(
        f"{live_server.url}{PUBLISH}",
        json=_publish_body(),
        headers={"Origin": EVIL_ORIGIN},
        timeout=TIMEOUT,
    )
    assert resp.status_code == 403
    assert "error" in resp.json()
    assert "Access-Control-Allow-Origin" not in resp.headers


def test_cross_site_fetch_without_origin_is_403(live_server: LiveServer) -> None:
    resp = requests.post(
        f"{live_server.url}{PUBLISH}",
        json=_publish_body(),
        headers={"Sec-Fetch-Site": "cross-site"},
        timeout=TIMEOUT,
    )
    assert resp.status_code == 403


def test_own_origin_is_allowed_without_cors_headers(live_server: LiveServer) -> None:
    resp = requests.post(
        f"{live_server.url}{PUBLISH}",
        json=_publish_body(),
        headers={"Origin": live_server.url},
        timeout=TIMEOUT,
    )
    assert resp.status_code == 201
    assert "Access-Control-Allow-Origin" not in resp.headers


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server whose user listed a dev origin (COGFLOW_ALLOWED_ORIGINS); none is by default."""
    live = start_live_server(tmp_path_factory.mktemp("dev"), extra_origins=(DEV_ORIGIN,))
    yield live
    stop_live_server(live)


def test_dev_origin_is_allowed_with_cors_and_no_wildcard(dev_server: LiveServer) -> None:
    live_server = dev_server
    resp = requests.post(
        f"{live_server.url}{PUBLISH}",
        json=_publish_body(),
        headers={"Origin": DEV_ORIGIN},
        timeout=TIMEOUT,
    )
    assert resp.status_code == 201
    assert resp.headers["Access-Control-Allow-Origin"] == DEV_ORIGIN
    assert "Access-Control-Allow-Credentials" not in resp.headers
    assert "Origin" in resp.headers["Vary"]
    get = requests.get(
        f"{live_server.url}/api/v1/studies", headers={"Origin": EVIL_ORIGIN}, timeout=30
    )
    # A foreign page gets no CORS grant, so its script cannot read the answer.
    assert "Access-Control-Allow-Origin" not in get.headers
    for r in (resp, get):
        assert "*" not in r.headers.get("Access-Control-Allow-Origin", "")


def test_preflight_from_dev_origin(dev_server: LiveServer) -> None:
    resp = requests.options(
        f"{dev_server.url}{PUBLISH}",
        headers={
            "Origin": DEV_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-csrftoken",
        },
        timeout=TIMEOUT,
    )
    assert resp.status_code == 204
    assert resp.headers["Access-Control-Allow-Origin"] == DEV_ORIGIN
    assert "POST" in resp.headers["Access-Control-Allow-Methods"]
    allowed = resp.headers["Access-Control-Allow-Headers"].lower()
    assert "content-type" in allowed and "x-csrftoken" in allowed


def test_preflight_from_foreign_origin_is_403(live_server: LiveServer) -> None:
    resp = requests.options(
        f"{live_server.url}{PUBLISH}",
        headers={"Origin": EVIL_ORIGIN, "Access-Control-Request-Method": "POST"},
        timeout=TIMEOUT,
    )
    assert resp.status_code == 403
    assert "Access-Control-Allow-Origin" not in resp.headers


def test_csrf_missing_on_logged_in_unsafe_request_is_403(live_server: LiveServer) -> None:
    http = login_session(live_server.url, ADMIN_USER, ADMIN_PASSWORD)
    del http.headers["X-CSRFToken"]
    # Even a public endpoint: the request rides a session, so it must prove its page.
    resp = http.post(f"{live_server.url}{PUBLISH}", json=_publish_body(), timeout=TIMEOUT)
    assert resp.status_code == 403
    assert resp.json()["detail"].startswith("CSRF Failed: ")
    wrong = http.post(
        f"{live_server.url}{PUBLISH}",
        json=_publish_body(),
        headers={"X-CSRFToken": "not-the-token"},
        timeout=TIMEOUT,
    )
    assert wrong.status_code == 403
    assert wrong.json()["detail"].startswith("CSRF Failed: ")
    logout = http.post(f"{live_server.url}/api/v1/auth/logout", timeout=TIMEOUT)
    assert logout.status_code == 403
    ok = http.post(
        f"{live_server.url}{PUBLISH}",
        json=_publish_body(),
        headers={"X-CSRFToken": http.cookies["csrftoken"]},
        timeout=TIMEOUT,
    )
    assert ok.status_code == 201


def test_errors_are_json(live_server: LiveServer) -> None:
    url = live_server.url
    missing = requests.get(f"{url}/api/v1/nothing-here", timeout=TIMEOUT)
    assert missing.status_code == 404 and "detail" in missing.json()
    wrong_method = requests.get(f"{url}{PUBLISH}", timeout=TIMEOUT)
    assert wrong_method.status_code == 405 and "detail" in wrong_method.json()
    assert "POST" in wrong_method.headers["Allow"]
    nan = requests.post(
        f"{url}{PUBLISH}",
        data='{"study_slug": NaN}',
        headers={"Content-Type": "application/json"},
        timeout=TIMEOUT,
    )
    assert nan.status_code == 400 and "detail" in nan.json()
    deep = requests.post(
        f"{url}{PUBLISH}",
        data="[" * 100_000 + "]" * 100_000,
        headers={"Content-Type": "application/json"},
        timeout=TIMEOUT,
    )
    assert deep.status_code == 400 and "detail" in deep.json()


def test_security_headers(live_server: LiveServer) -> None:
    resp = requests.get(f"{live_server.url}/api/v1/studies", timeout=TIMEOUT)
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Cache-Control"] == "no-store"


# --- app token (the Qt shell's per-launch token) -----------------------------------------------


@pytest.fixture()
def token_server(tmp_path: Path) -> Iterator[LiveServer]:
    live = start_live_server(tmp_path, app_token="launch-token-123")
    yield live
    stop_live_server(live)


def test_app_token_refuses_writes_without_header(token_server: LiveServer) -> None:
    url = token_server.url
    refused = requests.post(f"{url}{PUBLISH}", json=_publish_body(), timeout=TIMEOUT)
    assert refused.status_code == 403 and "error" in refused.json()
    wrong = requests.post(
        f"{url}{PUBLISH}",
        json=_publish_body(),
        headers={"X-CogFlow-App-Token": "guess"},
        timeout=TIMEOUT,
    )
    assert wrong.status_code == 403
    login = requests.post(
        f"{url}/api/v1/auth/login",
        json={"username": ADMIN_USER, "password": ADMIN_PASSWORD},
        timeout=TIMEOUT,
    )
    assert login.status_code == 403
    ok = requests.post(
        f"{url}{PUBLISH}",
        json=_publish_body(),
        headers={"X-CogFlow-App-Token": "launch-token-123"},
        timeout=TIMEOUT,
    )
    assert ok.status_code == 201
    # Reads stay open: the web views load pages and lists without the header.
    assert requests.get(f"{url}/api/v1/studies", timeout=TIMEOUT).status_code == 200
