"""The central-server client against a real server in another process: each error shape of
the server becomes one readable reason with the right retry verdict; login and CSRF work."""

from __future__ import annotations

import pytest
from fault_proxy import FaultPlan, FaultProxy
from sync_helpers import REMOTE_ADMIN, REMOTE_PASSWORD, ServerProcess

from cogflow_desktop.sync.client import CentralClient, Credentials, RemoteError

CONFIG = {"task_type": "rdm", "timeline": []}


def _publish_body(slug: str) -> dict:
    return {"study_slug": slug, "study_name": slug, "config_version_label": "v1", "config": CONFIG}


def test_field_dict_error_is_one_sentence_and_permanent(shared_remote: ServerProcess) -> None:
    client = CentralClient(shared_remote.url, timeout=(5, 30))
    with pytest.raises(RemoteError) as err:
        client.publish(_publish_body("not a slug!"))
    assert err.value.status == 400
    assert not err.value.retryable
    assert err.value.reason.startswith("The server answered 400: study_slug: ")
    assert err.value.reason.count("\n") == 0


def test_error_key_is_read(shared_remote: ServerProcess) -> None:
    client = CentralClient(shared_remote.url, timeout=(5, 30))
    with pytest.raises(RemoteError) as err:
        client.start_run("no-such-study", "p1")
    assert err.value.status == 404
    assert not err.value.retryable
    assert "not found" in err.value.reason.lower()


def _through(
    shared_remote: ServerProcess, plan: FaultPlan, read_timeout: float = 30
) -> RemoteError:
    with FaultProxy(shared_remote.url, plan) as proxy:
        client = CentralClient(proxy.url, timeout=(5, read_timeout))
        with pytest.raises(RemoteError) as err:
            client.publish(_publish_body("html-pages"))
    return err.value


def test_html_pages_throttling_and_dropped_connections(shared_remote: ServerProcess) -> None:
    err = _through(shared_remote, FaultPlan(rates={"error500": 1.0}))
    assert err.retryable and err.status == 500
    assert err.reason == "The server answered 500: Server Error (500)."

    err = _through(shared_remote, FaultPlan(rates={"throttle": 1.0}, retry_after=7))
    assert err.retryable and err.retry_after == 7
    assert "throttled" in err.reason

    err = _through(shared_remote, FaultPlan(rates={"drop": 1.0}))
    assert err.retryable and err.status is None

    err = _through(
        shared_remote, FaultPlan(rates={"delay": 1.0}, delay_seconds=2.0), read_timeout=1.0
    )
    assert err.retryable
    assert err.reason == "The server did not answer in time."


def test_oversize_body_gets_the_html_400_and_a_plain_reason(shared_remote: ServerProcess) -> None:
    body = _publish_body("too-big")
    body["config"] = {"task_type": "rdm", "blob": "x" * (3 * 1024 * 1024)}
    with FaultProxy(shared_remote.url) as proxy:
        with pytest.raises(RemoteError) as err:
            CentralClient(proxy.url, timeout=(5, 30)).publish(body)
        assert proxy.plan.counts["oversize"] == 1
    assert err.value.status == 400 and not err.value.retryable
    assert "2.5 MiB" in err.value.reason


def test_login_and_csrf(shared_remote: ServerProcess) -> None:
    client = CentralClient(
        shared_remote.url, credentials=Credentials(REMOTE_ADMIN, REMOTE_PASSWORD), timeout=(5, 30)
    )
    client.connect()
    # The server now enforces X-CSRFToken on this logged-in session's writes.
    assert client.publish(_publish_body("with-login"))["study_slug"] == "with-login"
    # Control: the same session without the header is refused with the server's reason.
    client._csrf = None
    client._http().headers.pop("X-CSRFToken")
    client._cookies.pop("csrftoken")
    client._http().cookies.set("csrftoken", "stale")
    with pytest.raises(RemoteError) as err:
        client.publish(_publish_body("with-login"))
    assert err.value.status == 403 and "CSRF" in err.value.reason


def test_wrong_remote_password_is_refused_plainly(shared_remote: ServerProcess) -> None:
    client = CentralClient(
        shared_remote.url, credentials=Credentials(REMOTE_ADMIN, "wrong password!"), timeout=(5, 30)
    )
    with pytest.raises(RemoteError) as err:
        client.connect()
    assert err.value.status == 401 and not err.value.retryable
