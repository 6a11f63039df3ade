"""A fault-injecting HTTP proxy for the sync tests: a real server on a loopback port that
forwards to the receiving server with `requests` and, by a seeded plan, drops connections,
answers late (past the client's timeout), answers HTML 500 or 429 with Retry-After, or
forwards and then loses the answer. Bodies over 2.5 MiB get the reference server's HTML 400."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import urllib3

LIMIT = int(2.5 * 1024 * 1024)
FAULTS = ("drop", "delay", "error500", "throttle", "lose")
FORWARD_HEADERS = ("Content-Type", "Cookie", "X-CSRFToken", "Authorization", "Accept")


@dataclass
class FaultPlan:
    """Per request: which fault (or none), drawn from a seeded generator."""

    rates: dict[str, float] = field(default_factory=dict)
    seed: int = 1
    delay_seconds: float = 3.0
    retry_after: int = 1
    # Only requests whose path starts with one of these are faulted.
    paths: tuple[str, ...] = ("/api/v1/configs/", "/api/v1/runs/", "/api/v1/results/")
    latency_seconds: float = 0.0  # added to every forwarded request

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    def draw(self, path: str) -> str | None:
        with self._lock:
            self.counts["requests"] += 1
            self.counts[path] += 1
            if not path.startswith(self.paths):
                return None
            roll = self._random.random()
            edge = 0.0
            for name in FAULTS:
                edge += self.rates.get(name, 0.0)
                if roll < edge:
                    self.counts[name] += 1
                    return name
            return None

    def count(self, name: str) -> None:
        with self._lock:
            self.counts[name] += 1


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    server: _ProxyServer

    def log_message(self, *_args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _send(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _html(self, status: int, title: str) -> None:
        body = f"<!doctype html><html><head><title>{title}</title></head><body><h1>{title}</h1>"
        self._send(status, (body + "</body></html>").encode(), [("Content-Type", "text/html")])

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        plan = self.server.plan
        if length > LIMIT:
            plan.count("oversize")
            self._html(400, "Bad Request (400)")
            return
        fault = plan.draw(self.path)
        if fault == "drop":
            self.close_connection = True
            return
        if fault == "error500":
            self._html(500, "Server Error (500)")
            return
        if fault == "throttle":
            detail = f"Request was throttled. Expected available in {plan.retry_after} seconds."
            payload = ('{"detail": "' + detail + '"}').encode()
            headers = [("Content-Type", "application/json"), ("Retry-After", str(plan.retry_after))]
            self._send(429, payload, headers)
            return
        if fault == "delay":
            time.sleep(plan.delay_seconds)
        if plan.latency_seconds:
            time.sleep(plan.latency_seconds)
        upstream = self.server.forward(self.command, self.path, body, self.headers)
        if fault == "lose":
            self.close_connection = True  # the server stored it; the answer never arrives
            return
        status, content, headers = upstream
        try:
            self._send(status, content, headers)
        except OSError:  # the client gave up waiting (the "delay" fault)
            self.close_connection = True


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, upstream: str, plan: FaultPlan) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.upstream = upstream.rstrip("/")
        self.plan = plan
        # One thread-safe pool and no cookie jar: the proxy must not add cookies of its own.
        self._pool = urllib3.PoolManager(maxsize=32, retries=False, timeout=120)

    def forward(
        self, method: str, path: str, body: bytes, headers: object
    ) -> tuple[int, bytes, list[tuple[str, str]]]:
        sent = {n: headers[n] for n in FORWARD_HEADERS if headers.get(n)}  # type: ignore[index,attr-defined]
        try:
            resp = self._pool.request(method, self.upstream + path, body=body or None, headers=sent)
        except urllib3.exceptions.HTTPError:
            page = b"<html><head><title>Bad Gateway</title></head></html>"
            return 502, page, [("Content-Type", "text/html")]
        out = [("Content-Type", resp.headers.get("Content-Type", "application/json"))]
        for cookie in resp.headers.getlist("Set-Cookie"):
            out.append(("Set-Cookie", cookie))
        if "Retry-After" in resp.headers:
            out.append(("Retry-After", resp.headers["Retry-After"]))
        return resp.status, resp.data, out


class FaultProxy:
    def __init__(self, upstream: str, plan: FaultPlan | None = None) -> None:
        self.plan = plan or FaultPlan()
        self._server = _ProxyServer(upstream, self.plan)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)
