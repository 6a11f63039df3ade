"""The marker route of a server started without lab hardware: it exists (documented, guarded)
and says how to turn it on, for any well-formed request; a malformed one gets field errors."""

from __future__ import annotations

import requests
from conftest import LiveServer


def test_without_hardware_the_route_says_how_to_turn_it_on(live_server: LiveServer) -> None:
    url = f"{live_server.url}/api/hardware/markers"
    off = requests.post(url, json={"op": "clock"}, timeout=30)
    assert off.status_code == 404 and "serve --lsl" in off.json()["error"]
    bad = requests.post(url, json={"op": "summary"}, timeout=30)
    assert bad.status_code == 400 and "summary needs a run_session_id" in str(bad.json())
    foreign = requests.post(
        url, json={"op": "clock"}, headers={"Origin": "http://evil.example"}, timeout=30
    )
    assert foreign.status_code == 403
