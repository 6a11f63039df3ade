"""Contract tests of the Auth tag (login, logout, csrf, me, TOTP) on a real loopback server."""

from __future__ import annotations

import http.client
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
import pytest
import requests
from api_helpers import TIMEOUT, wrong_code
from conftest import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    LiveServer,
    enrolled_researcher,
    login_session,
    start_live_server,
    stop_live_server,
)
from sqlalchemy import select

from cogflow_desktop.store.models import User

LOGIN = "/api/v1/auth/login"
ME = "/api/v1/auth/me"
SETUP = "/api/v1/auth/mfa/setup"
VERIFY = "/api/v1/auth/mfa/verify"


def _me(url: str, http: requests.Session) -> requests.Response:
    return http.get(f"{url}{ME}", timeout=TIMEOUT)


# --- login / logout / csrf / me ---------------------------------------------------------------


def test_login_ok_sets_session_and_csrf_cookies(live_server: LiveServer) -> None:
    http = requests.Session()
    resp = http.post(
        f"{live_server.url}{LOGIN}",
        json={"username": ADMIN_USER, "password": ADMIN_PASSWORD},
        timeout=TIMEOUT,
    )
    assert resp.status_code == 200
    assert resp.json() == {"ok": True, "username": ADMIN_USER, "mfa_enabled": False}
    assert "sessionid" in http.cookies and "csrftoken" in http.cookies


def test_session_cookie_is_httponly_and_samesite_strict(live_server: LiveServer) -> None:
    resp = requests.post(
        f"{live_server.url}{LOGIN}",
        json={"username": ADMIN_USER, "password": ADMIN_PASSWORD},
        timeout=TIMEOUT,
    )
    cookies = {c.split("=", 1)[0]: c for c in resp.raw.headers.getlist("Set-Cookie")}
    session_cookie = cookies["sessionid"].lower()
    assert "httponly" in session_cookie
    assert "samesite=strict" in session_cookie
    assert "samesite=strict" in cookies["csrftoken"].lower()


def test_login_wrong_password_is_401(live_server: LiveServer) -> None:
    resp = requests.post(
        f"{live_server.url}{LOGIN}",
        json={"username": ADMIN_USER, "password": "not the password"},
        timeout=TIMEOUT,
    )
    assert resp.status_code == 401
    assert resp.json() == {"error": "Invalid credentials."}


def test_login_unknown_user_is_401_like_a_wrong_password(live_server: LiveServer) -> None:
    resp = requests.post(
        f"{live_server.url}{LOGIN}",
        json={"username": "nobody-here", "password": "whatever it is"},
        timeout=TIMEOUT,
    )
    assert resp.status_code == 401
    assert resp.json() == {"error": "Invalid credentials."}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": ADMIN_USER}, "password"),
        ({"password": "x"}, "username"),
        ({"username": 5, "password": "x"}, "username"),
    ],
)
def test_login_bad_body_is_400_field_dict(
    live_server: LiveServer, body: dict[str, object], field: str
) -> None:
    resp = requests.post(f"{live_server.url}{LOGIN}", json=body, timeout=TIMEOUT)
    assert resp.status_code == 400
    errors = resp.json()
    assert field in errors and isinstance(errors[field], list) and errors[field]


def test_login_non_json_bodies(live_server: LiveServer) -> None:
    url = f"{live_server.url}{LOGIN}"
    broken = requests.post(
        url, data="{not json", headers={"Content-Type": "application/json"}, timeout=TIMEOUT
    )
    assert broken.status_code == 400 and "detail" in broken.json()
    form = requests.post(url, data={"username": "a", "password": "b"}, timeout=TIMEOUT)
    assert form.status_code == 415 and "detail" in form.json()
    array = requests.post(url, json=[1, 2], timeout=TIMEOUT)
    assert array.status_code == 400 and "non_field_errors" in array.json()


def test_me_anonymous_is_401(live_server: LiveServer) -> None:
    resp = requests.get(f"{live_server.url}{ME}", timeout=TIMEOUT)
    assert resp.status_code == 401
    assert resp.json() == {"authenticated": False}


def test_me_logged_in(live_server: LiveServer) -> None:
    http = login_session(live_server.url, ADMIN_USER, ADMIN_PASSWORD)
    resp = _me(live_server.url, http)
    assert resp.status_code == 200
    body = resp.json()
    assert body["authenticated"] is True
    assert body["username"] == ADMIN_USER
    assert body["mfa_verified_at"] is None
    assert {"public_name", "email", "role", "mfa_enabled"} <= body.keys()


def test_logout_ends_the_session(live_server: LiveServer) -> None:
    http = login_session(live_server.url, ADMIN_USER, ADMIN_PASSWORD)
    old_cookie = http.cookies["sessionid"]
    resp = http.post(f"{live_server.url}/api/v1/auth/logout", timeout=TIMEOUT)
    assert resp.status_code == 200 and resp.json() == {"ok": True}
    assert _me(live_server.url, http).status_code == 401
    # The old cookie value is dead server-side too, not just deleted in this client.
    replay = requests.get(
        f"{live_server.url}{ME}", cookies={"sessionid": old_cookie}, timeout=TIMEOUT
    )
    assert replay.status_code == 401


def test_logout_anonymous_is_harmless(live_server: LiveServer) -> None:
    resp = requests.post(f"{live_server.url}/api/v1/auth/logout", timeout=TIMEOUT)
    assert resp.status_code == 200


def test_csrf_sets_cookie_and_matches_session_token(live_server: LiveServer) -> None:
    anon = requests.Session()
    resp = anon.get(f"{live_server.url}/api/v1/auth/csrf", timeout=TIMEOUT)
    assert resp.status_code == 200
    assert resp.json()["csrfToken"] == anon.cookies["csrftoken"]
    http = login_session(live_server.url, ADMIN_USER, ADMIN_PASSWORD)
    again = http.get(f"{live_server.url}/api/v1/auth/csrf", timeout=TIMEOUT)
    assert again.json()["csrfToken"] == http.headers["X-CSRFToken"]


# --- TOTP setup --------------------------------------------------------------------------------


def test_mfa_setup_anonymous_is_401(live_server: LiveServer) -> None:
    resp = requests.post(f"{live_server.url}{SETUP}", json={}, timeout=TIMEOUT)
    assert resp.status_code == 401
    assert "error" in resp.json()


def test_mfa_setup_returns_secret_and_uri_and_repeats_pending(live_server: LiveServer) -> None:
    name, pw = live_server.new_researcher_account()
    http = login_session(live_server.url, name, pw)
    first = http.post(f"{live_server.url}{SETUP}", json={}, timeout=TIMEOUT)
    assert first.status_code == 200
    body = first.json()
    assert body["ok"] is True and body["username"] == name
    assert body["otpauth_uri"].startswith("otpauth://totp/")
    assert pyotp.TOTP(body["totp_secret"]).now().isdigit()
    # Not yet verified: asking again (QR screen closed) shows the same pending secret.
    second = http.post(f"{live_server.url}{SETUP}", timeout=TIMEOUT)
    assert second.status_code == 200
    assert second.json()["totp_secret"] == body["totp_secret"]
    # Setup alone does not turn MFA on.
    assert _me(live_server.url, http).json()["mfa_enabled"] is False


def test_mfa_setup_never_rediscloses_an_active_secret(live_server: LiveServer) -> None:
    http = enrolled_researcher(live_server)
    resp = http.post(f"{live_server.url}{SETUP}", json={}, timeout=TIMEOUT)
    assert resp.status_code == 409
    assert http.totp_secret not in resp.text
    assert "totp_secret" not in resp.json()


def test_mfa_regenerate_needs_fresh_mfa_and_activates_only_after_verify(
    live_server: LiveServer,
) -> None:
    http = enrolled_researcher(live_server)
    url = live_server.url
    old_secret = http.totp_secret
    # A new login is not MFA-fresh: regenerate is refused.
    stale = login_session(url, http.username, f"pw-{http.username}-long-enough")
    refused = stale.post(f"{url}{SETUP}", json={"regenerate": True}, timeout=TIMEOUT)
    assert refused.status_code == 403
    assert old_secret not in refused.text

    with live_server.ctx.read() as s:
        before = s.scalar(select(User).where(User.username == http.username))
    regen = http.post(f"{url}{SETUP}", json={"regenerate": True}, timeout=TIMEOUT)
    assert regen.status_code == 200
    new_secret = regen.json()["totp_secret"]
    assert new_secret != old_secret
    with live_server.ctx.read() as s:
        pending = s.scalar(select(User).where(User.username == http.username))
    # Not active yet: the old secret is still the enrolled one.
    assert pending.totp_secret_enc == before.totp_secret_enc
    assert pending.totp_pending_enc is not None
    assert stale.post(f"{url}{SETUP}", json={}, timeout=TIMEOUT).status_code == 409

    code = pyotp.TOTP(new_secret).at(time.time() + 30)
    ok = http.post(f"{url}{VERIFY}", json={"code": code}, timeout=TIMEOUT)
    assert ok.status_code == 200
    with live_server.ctx.read() as s:
        after = s.scalar(select(User).where(User.username == http.username))
    assert after.totp_pending_enc is None
    assert after.totp_secret_enc != before.totp_secret_enc
    assert after.mfa_enabled


# --- TOTP verify -------------------------------------------------------------------------------


def test_mfa_verify_anonymous_is_401(live_server: LiveServer) -> None:
    resp = requests.post(f"{live_server.url}{VERIFY}", json={"code": "123456"}, timeout=TIMEOUT)
    assert resp.status_code == 401


def test_mfa_verify_not_set_up_is_400(live_server: LiveServer) -> None:
    name, pw = live_server.new_researcher_account()
    http = login_session(live_server.url, name, pw)
    resp = http.post(f"{live_server.url}{VERIFY}", json={"code": "123456"}, timeout=TIMEOUT)
    assert resp.status_code == 400
    assert resp.json() == {"error": "TOTP is not set up for this account."}


def test_mfa_verify_missing_code_is_400(live_server: LiveServer) -> None:
    http = login_session(live_server.url, ADMIN_USER, ADMIN_PASSWORD)
    resp = http.post(f"{live_server.url}{VERIFY}", json={}, timeout=TIMEOUT)
    assert resp.status_code == 400
    assert "code" in resp.json()


def test_mfa_verify_ok_then_bad_code_and_replay_are_401(live_server: LiveServer) -> None:
    name, pw = live_server.new_researcher_account()
    http = login_session(live_server.url, name, pw)
    secret = http.post(f"{live_server.url}{SETUP}", json={}, timeout=TIMEOUT).json()["totp_secret"]
    code = pyotp.TOTP(secret).now()
    ok = http.post(f"{live_server.url}{VERIFY}", json={"code": code}, timeout=TIMEOUT)
    assert ok.status_code == 200
    body = ok.json()
    assert body["ok"] is True and body["mfa_enabled"] is True and body["mfa_verified_at"]
    me = _me(live_server.url, http).json()
    assert me["mfa_enabled"] is True and me["mfa_verified_at"]

    bad = http.post(f"{live_server.url}{VERIFY}", json={"code": wrong_code(secret)}, timeout=30)
    assert bad.status_code == 401 and bad.json() == {"error": "Invalid TOTP code."}
    # The same code again, even from another session of the same account: refused.
    other = login_session(live_server.url, name, pw)
    replay = other.post(f"{live_server.url}{VERIFY}", json={"code": code}, timeout=TIMEOUT)
    assert replay.status_code == 401


def test_login_clears_mfa_freshness(live_server: LiveServer) -> None:
    http = enrolled_researcher(live_server)
    again = login_session(live_server.url, http.username, f"pw-{http.username}-long-enough")
    me = _me(live_server.url, again).json()
    assert me["mfa_enabled"] is True
    assert me["mfa_verified_at"] is None and me["mfa_fresh_until"] is None


# --- throttling (its own servers: throttle state is per process and per client) --------------


@pytest.fixture()
def strict_server(tmp_path: Path) -> Iterator[LiveServer]:
    live = start_live_server(tmp_path, throttle_limit=3)
    yield live
    stop_live_server(live)


def _login(url: str, user: str, pw: str) -> requests.Response:
    return requests.post(f"{url}{LOGIN}", json={"username": user, "password": pw}, timeout=30)


def _assert_throttled(resp: requests.Response) -> None:
    assert resp.status_code == 429
    assert resp.headers["Content-Type"].startswith("application/json")
    retry = int(resp.headers["Retry-After"])
    assert 1 <= retry <= 60
    assert resp.json() == {
        "detail": f"Request was throttled. Expected available in {retry} seconds."
    }


def test_login_throttled_per_account(strict_server: LiveServer) -> None:
    url = strict_server.url
    for _ in range(3):
        assert _login(url, ADMIN_USER, "wrong password!").status_code == 401
    # Even the right password is refused while throttled: no oracle for guessing.
    _assert_throttled(_login(url, ADMIN_USER, ADMIN_PASSWORD))


def test_login_throttled_per_client(strict_server: LiveServer) -> None:
    name, pw = strict_server.new_researcher_account()
    url = strict_server.url
    for i in range(3):
        assert _login(url, f"guess{i}", "wrong password!").status_code == 401
    # This account never failed, but the client did.
    _assert_throttled(_login(url, name, pw))


def _login_from(url: str, source_ip: str, user: str, pw: str) -> tuple[int, dict[str, str]]:
    """A login from another loopback address, so the server sees another client."""
    parsed = urlsplit(url)
    conn = http.client.HTTPConnection(
        parsed.hostname, parsed.port, timeout=TIMEOUT, source_address=(source_ip, 0)
    )
    try:
        conn.request(
            "POST",
            LOGIN,
            body=json.dumps({"username": user, "password": pw}),
            headers={"Content-Type": "application/json"},
        )
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


@pytest.mark.skipif(sys.platform != "linux", reason="only Linux routes all of 127/8 to lo")
def test_throttle_keys_are_account_and_client_separately(strict_server: LiveServer) -> None:
    url = strict_server.url
    victim, victim_pw = strict_server.new_researcher_account()
    bystander, bystander_pw = strict_server.new_researcher_account()
    for _ in range(3):
        assert _login(url, victim, "wrong password!").status_code == 401
    # The account stays throttled from any client ...
    assert _login_from(url, "127.0.0.2", victim, victim_pw)[0] == 429
    # ... and the client that failed is throttled for every account, while another client,
    # for another account, is not.
    assert _login(url, bystander, bystander_pw).status_code == 429
    status, body = _login_from(url, "127.0.0.3", bystander, bystander_pw)
    assert status == 200 and body["username"] == bystander


def test_totp_verify_throttled(strict_server: LiveServer) -> None:
    http = enrolled_researcher(strict_server)
    url = strict_server.url
    for _ in range(3):
        resp = http.post(
            f"{url}{VERIFY}", json={"code": wrong_code(http.totp_secret)}, timeout=TIMEOUT
        )
        assert resp.status_code == 401
    good = pyotp.TOTP(http.totp_secret).at(time.time() + 30)
    _assert_throttled(http.post(f"{url}{VERIFY}", json={"code": good}, timeout=TIMEOUT))
