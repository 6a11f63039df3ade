"""Shared fixtures: a real embedded server on a loopback port, and researcher sessions."""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Qt and QtWebEngine run headless in the tests; as root Chromium needs --no-sandbox.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox")

import pyotp
import pytest
import requests

from cogflow_desktop.api.server import EmbeddedServer
from cogflow_desktop.security import passwords
from cogflow_desktop.services import users
from cogflow_desktop.services.context import Context, open_context
from cogflow_desktop.settings import Settings

# scrypt at OWASP's cost (2**17 x 8) takes about 0.4 s a password and the suite signs in
# hundreds of times: in-process tests derive with 2**14 x 8 instead. The production value is
# checked against OWASP's floor, and an account's conversion to it is run with it, in
# tests/api/test_security_accounts.py; command-line and app subprocesses use it as shipped.
if hasattr(passwords, "KdfParams"):  # (absent when these tests run against older code)
    passwords.CURRENT = passwords.KdfParams(2**14, 8, 1)

REPO_ROOT = Path(__file__).resolve().parent.parent
# Copies of the compatibility corpus (study configs from the public CogFlow repositories).
COMPAT_DIR = REPO_ROOT / "tests" / "fixtures" / "compat"
COMPAT_CONFIGS = COMPAT_DIR / "configs"

ADMIN_USER = "admin"
ADMIN_PASSWORD = "correct horse battery"
_user_counter = itertools.count(1)


@dataclass
class LiveServer:
    url: str
    ctx: Context
    server: EmbeddedServer
    recovery_key: str
    data_dir: Path

    def new_researcher_account(self, prefix: str = "researcher") -> tuple[str, str]:
        """A fresh account (each TOTP step is accepted once per account, so tests that verify
        codes use an account of their own)."""
        name = f"{prefix}{next(_user_counter)}"
        password = f"pw-{name}-long-enough"
        key = users.unlock_with_password(self.ctx, ADMIN_USER, ADMIN_PASSWORD)
        users.create_user(self.ctx, name, password, unlocked_key=key)
        return name, password


def start_live_server(data_dir: Path, **settings: Any) -> LiveServer:
    ctx = open_context(Settings.from_env(data_dir, **settings))
    created = None
    if users.user_count(ctx) == 0:
        created = users.create_user(ctx, ADMIN_USER, ADMIN_PASSWORD)
    server = EmbeddedServer(ctx, port=0).start()
    return LiveServer(server.url, ctx, server, created.recovery_key if created else "", data_dir)


def stop_live_server(live: LiveServer) -> None:
    live.server.stop()
    live.ctx.close()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_live_server(tmp_path_factory.mktemp("data"))
    yield live
    stop_live_server(live)


def publish(
    url: str,
    slug: str,
    config: dict[str, Any],
    label: str = "v1",
    name: str | None = None,
    session: requests.Session | None = None,
) -> dict[str, Any]:
    http = session or requests
    resp = http.post(
        f"{url}/api/v1/configs/publish",
        json={
            "study_slug": slug,
            "study_name": name or slug,
            "config_version_label": label,
            "config": config,
        },
        timeout=30,
    )
    assert resp.status_code == 201, resp.text
    return resp.json()


@pytest.fixture()
def publish_config():  # type: ignore[no-untyped-def]
    return publish


def login_session(url: str, username: str, password: str) -> requests.Session:
    http = requests.Session()
    resp = http.post(
        f"{url}/api/v1/auth/login", json={"username": username, "password": password}, timeout=30
    )
    assert resp.status_code == 200, resp.text
    http.headers["X-CSRFToken"] = http.cookies["csrftoken"]
    return http


class Researcher(requests.Session):
    url: str
    username: str
    totp_secret: str

    def decrypt(self, run_session_id: str, include_trials: bool = True) -> dict[str, Any]:
        resp = self.post(
            f"{self.url}/api/v1/results/decrypt",
            json={"run_session_id": run_session_id, "include_trials": include_trials},
            timeout=60,
        )
        assert resp.status_code == 200, resp.text
        return resp.json()


def enrolled_researcher(live: LiveServer) -> Researcher:
    """A new account, logged in, TOTP enrolled and verified (MFA-fresh)."""
    username, password = live.new_researcher_account()
    http = login_session(live.url, username, password)
    http.__class__ = Researcher
    assert isinstance(http, Researcher)
    setup = http.post(f"{live.url}/api/v1/auth/mfa/setup", json={}, timeout=30).json()
    code = pyotp.TOTP(setup["totp_secret"]).now()
    resp = http.post(f"{live.url}/api/v1/auth/mfa/verify", json={"code": code}, timeout=30)
    assert resp.status_code == 200, resp.text
    http.url, http.username, http.totp_secret = live.url, username, setup["totp_secret"]
    return http


@pytest.fixture()
def researcher(live_server: LiveServer) -> Researcher:
    return enrolled_researcher(live_server)


_THIS_MODULE = sys.modules[__name__]


def pytest_collectstart(collector: pytest.Collector) -> None:
    # Sub-folders have conftest.py files of their own and pytest imports each under the same
    # name, "conftest": point that name back at this file before a test module is imported, so
    # `from conftest import ...` means these shared helpers whatever was collected before.
    if isinstance(collector, pytest.Module):
        sys.modules["conftest"] = _THIS_MODULE


def pytest_report_header() -> str:
    count = len(list(COMPAT_CONFIGS.glob("*.json")))
    return f"cogflow-desktop tests on {sys.platform}, {count} compat configs in tests/fixtures"
