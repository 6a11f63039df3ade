"""The central CogFlow server's v1 API, as a small `requests` client.

Every call has a timeout. Every failure becomes one `RemoteError` with one readable sentence and
a verdict: retryable (connection errors, timeouts, 5xx, 429 with its wait) or permanent (the
server refused the request, e.g. a validation error). The server answers errors in three JSON
shapes (`error`, field dicts, `detail`) and, for crashes and oversize bodies, HTML pages.
"""

from __future__ import annotations

import html
import ipaddress
import json
import os
import re
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import orjson
import requests
from requests.adapters import HTTPAdapter

from cogflow_desktop import __version__

# The reference server answers bodies over 2.5 MiB with an HTML 400 page.
MAX_REQUEST_BYTES = int(2.5 * 1024 * 1024)
DEFAULT_TIMEOUT = (10.0, 60.0)  # (connect, read) seconds
CSRF_COOKIE = "csrftoken"
CSRF_HEADER = "X-CSRFToken"
_THROTTLE_RE = re.compile(r"available in (\d+) seconds?", re.IGNORECASE)
_TAG_RE = re.compile(r"<[^>]+>")


class RemoteError(Exception):
    """A call to the central server that did not succeed."""

    def __init__(
        self,
        reason: str,
        *,
        status: int | None = None,
        retryable: bool,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after


def _join_messages(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(_join_messages(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_join_messages(v)}" for k, v in value.items())
    return str(value)


def _html_text(body: str) -> str:
    """The gist of an HTML error page: its title or first heading."""
    for tag in ("title", "h1"):
        match = re.search(rf"<{tag}[^>]*>(.*?)</{tag}>", body, re.IGNORECASE | re.DOTALL)
        if match:
            text = " ".join(html.unescape(_TAG_RE.sub(" ", match.group(1))).split())
            if text:
                return text
    return " ".join(html.unescape(_TAG_RE.sub(" ", body)).split())[:200]


def error_reason(resp: requests.Response) -> str:
    """One sentence from any of the server's error answers."""
    status = resp.status_code
    try:
        body = resp.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        if isinstance(body.get("error"), str):
            text = body["error"]
        elif isinstance(body.get("detail"), str):
            text = body["detail"]
        elif body:
            text = _join_messages(body)
        else:
            text = ""
    elif isinstance(body, list):
        text = _join_messages(body)
    else:
        text = _html_text(resp.text or "")
        if (
            status == 400
            and resp.request is not None
            and _body_len(resp.request) > (MAX_REQUEST_BYTES)
        ):
            text = "the request was larger than the server's 2.5 MiB limit"
    text = text.strip() or (resp.reason or "no reason given")
    return f"The server answered {status}: {text.rstrip('.')}."


def _body_len(req: requests.PreparedRequest) -> int:
    body = req.body
    return len(body) if isinstance(body, bytes | str) else 0


def _retry_after(resp: requests.Response) -> float | None:
    header = resp.headers.get("Retry-After")
    if header and header.strip().isdigit():
        return float(header.strip())
    match = _THROTTLE_RE.search(resp.text or "")
    return float(match.group(1)) if match else None


def encode(body: Any) -> bytes:
    """The request body exactly as sent: compact UTF-8 JSON (its length is what the limit is).
    orjson does it several times faster; the json module takes what orjson refuses (integers
    beyond 64 bits)."""
    try:
        return orjson.dumps(body)
    except TypeError:
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    basic: bool = False  # HTTP Basic on every request instead of a session login


class CentralClient:
    """One central server. Thread-safe: each thread gets its own HTTP session (connection pool)
    sharing the login cookies and CSRF token taken once by `connect()`."""

    def __init__(
        self,
        base_url: str,
        *,
        credentials: Credentials | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        allow_insecure_http: bool = False,
        extra_headers: dict[str, str] | None = None,
    ) -> None:
        self.base_url = normalize_url(base_url, allow_insecure_http=allow_insecure_http)
        self.credentials = credentials
        self.timeout = timeout
        # Sent with every request (e.g. the audit anchor, which the central server may log).
        self.extra_headers = dict(extra_headers or {})
        self._local = threading.local()
        self._cookies: dict[str, str] = {}
        self._csrf: str | None = None
        self._lock = threading.Lock()
        self._proxies = requests.utils.get_environ_proxies(self.base_url)
        ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        self._verify: bool | str = ca_bundle or True

    # --- sessions -------------------------------------------------------------------------

    def _new_http(self) -> requests.Session:
        http = requests.Session()
        http.mount("http://", HTTPAdapter(pool_connections=1, pool_maxsize=4, max_retries=0))
        http.mount("https://", HTTPAdapter(pool_connections=1, pool_maxsize=4, max_retries=0))
        http.headers["User-Agent"] = f"cogflow-desktop/{__version__} sync"
        http.headers["Accept"] = "application/json"
        http.headers.update(self.extra_headers)
        if self.credentials is not None and self.credentials.basic:
            http.auth = (self.credentials.username, self.credentials.password)
        # Proxy and CA settings from the environment, read once: requests would otherwise
        # re-read the whole environment on every request.
        http.trust_env = False
        http.proxies.update(self._proxies)
        http.verify = self._verify
        return http

    def _http(self) -> requests.Session:
        http: requests.Session | None = getattr(self._local, "http", None)
        if http is None:
            http = self._new_http()
            self._local.http = http
        with self._lock:
            for name, value in self._cookies.items():
                if http.cookies.get(name) != value:
                    http.cookies.set(name, value)
            if self._csrf:
                http.headers[CSRF_HEADER] = self._csrf
        return http

    def connect(self) -> None:
        """Log in (session cookie + CSRF token) when credentials are given for a session login;
        with HTTP Basic or no credentials there is nothing to do."""
        creds = self.credentials
        if creds is None or creds.basic:
            return
        http = self._http()
        self._request(http, "GET", "/api/v1/auth/csrf", None)
        self._adopt(http)
        answer = self._request(
            http,
            "POST",
            "/api/v1/auth/login",
            {"username": creds.username, "password": creds.password},
        )
        if not isinstance(answer, dict) or not answer.get("ok", True):
            raise RemoteError("The server did not accept the login.", retryable=False)
        # The server may rotate the CSRF token at login: ask again with the new session.
        self._request(http, "GET", "/api/v1/auth/csrf", None)
        self._adopt(http)

    def _adopt(self, http: requests.Session) -> None:
        with self._lock:
            self._cookies = {c.name: c.value for c in http.cookies if c.value is not None}
            self._csrf = self._cookies.get(CSRF_COOKIE) or self._csrf
            if self._csrf:
                http.headers[CSRF_HEADER] = self._csrf

    def close(self) -> None:
        http = getattr(self._local, "http", None)
        if http is not None:
            http.close()

    # --- calls ----------------------------------------------------------------------------

    def _request(
        self, http: requests.Session, method: str, path: str, body: dict[str, Any] | None
    ) -> Any:
        data = None if body is None else encode(body)
        headers = {"Content-Type": "application/json"} if data is not None else {}
        try:
            resp = http.request(
                method, self.base_url + path, data=data, headers=headers, timeout=self.timeout
            )
        except requests.Timeout as exc:
            raise RemoteError("The server did not answer in time.", retryable=True) from exc
        except requests.ConnectionError as exc:
            raise RemoteError(
                "The connection to the server failed or was cut off.", retryable=True
            ) from exc
        except requests.RequestException as exc:
            raise RemoteError(f"The request could not be sent: {exc}.", retryable=False) from exc
        if resp.status_code < 400:
            try:
                return resp.json()
            except ValueError as exc:
                raise RemoteError(
                    f"The server answered {resp.status_code} with something that is not JSON; "
                    "is this a CogFlow server?",
                    status=resp.status_code,
                    retryable=resp.status_code >= 500,
                ) from exc
        status = resp.status_code
        if status == 429:
            raise RemoteError(
                error_reason(resp), status=status, retryable=True, retry_after=_retry_after(resp)
            )
        retryable = status >= 500 or status == 408
        raise RemoteError(error_reason(resp), status=status, retryable=retryable)

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        http = self._http()
        try:
            answer = self._request(http, "POST", path, body)
        except RemoteError as exc:
            # A CSRF refusal after the server rotated its token: fetch it again, once.
            if exc.status == 403 and "csrf" in exc.reason.lower() and self._cookies:
                self._request(http, "GET", "/api/v1/auth/csrf", None)
                self._adopt(http)
                answer = self._request(http, "POST", path, body)
            else:
                raise
        if not isinstance(answer, dict):
            raise RemoteError(
                "The server's answer was not a JSON object; is this a CogFlow server?",
                retryable=False,
            )
        return answer

    def get(self, path: str) -> dict[str, Any]:
        answer = self._request(self._http(), "GET", path, None)
        if not isinstance(answer, dict):
            raise RemoteError(
                "The server's answer was not a JSON object; is this a CogFlow server?",
                retryable=False,
            )
        return answer

    def health(self) -> None:
        """Raises RemoteError when the server cannot be reached or is not healthy."""
        self._request(self._http(), "GET", "/healthz", None)

    def publish(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.post("/api/v1/configs/publish", body)

    def me(self) -> dict[str, Any]:
        """Who the server thinks we are (`authenticated`, `username`, `role`, ...)."""
        return self.get("/api/v1/auth/me")

    def participant_link(
        self, study_slug: str, participant_external_id: str, config_version_ids: list[str]
    ) -> dict[str, Any]:
        """A launch token that starts runs on exactly these config versions, in this order."""
        return self.post(
            f"/api/v1/studies/{quote(study_slug, safe='')}/participant-links",
            {
                "participant_external_id": participant_external_id,
                "task_order": config_version_ids,
                "task_order_strict": True,
                "counterbalance_enabled": False,
            },
        )

    def start_run(
        self, study_slug: str, participant_external_id: str, launch_token: str | None = None
    ) -> dict[str, Any]:
        body = {"study_slug": study_slug, "participant_external_id": participant_external_id}
        if launch_token:
            body["launch_token"] = launch_token
        return self.post("/api/v1/runs/start", body)

    def checkpoint(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.post("/api/v1/results/checkpoint", body)

    def submit(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.post("/api/v1/results/submit", body)


def normalize_url(url: str, *, allow_insecure_http: bool = False) -> str:
    """The server address as used everywhere (no trailing slash), or ValueError saying why it
    is refused. Credentials in it are refused without repeating them (so they are never
    stored, logged or audited); plain http is for this computer only, unless the caller was
    told to allow it (`--allow-insecure-http`) and warns."""
    url = url.strip().rstrip("/")
    authority = url.split("://", 1)[-1].split("/", 1)[0]
    if "@" in authority:
        raise ValueError(
            "A server address must not contain a user name or password: give the user with "
            "--remote-user (the password is asked for, or read from COGFLOW_REMOTE_PASSWORD)."
        )
    if not re.match(r"^https?://[^/\s]+", url):
        raise ValueError(f"{url!r} is not a server address: use https://host[:port].")
    if url.startswith("http://") and not allow_insecure_http and not is_loopback(url):
        raise ValueError(
            f"{url} is plain http to another computer: results and passwords would cross the "
            "network unencrypted. Use https, or pass --allow-insecure-http if you must."
        )
    return url


def is_loopback(url: str) -> bool:
    """True for an address on this computer (127.0.0.0/8, ::1, localhost)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


INSECURE_HTTP_WARNING = (
    "Warning: {url} is plain http: the results, your central server password and its session "
    "cookie cross the network unencrypted, and anyone on the way can read or change them. "
    "Use https."
)
