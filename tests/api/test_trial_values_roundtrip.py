"""Trial values come back from decrypt exactly as sent, whichever JSON writer stored them
(orjson for most trials, json for integers beyond 64 bits and NaN) and whichever parser read the
request (orjson, or the careful parser for long integers)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from api_helpers import checkpoint, new_slug, sample_config, start_run, submit, submit_body
from conftest import LiveServer, Researcher, publish

from cogflow_desktop.store.models import RunSession

VALUES: dict[str, Any] = {
    "small_float": 1e-05,
    "big_float": 1.5e300,
    "negative_zero": -0.0,
    "whole_float": 2.0,
    "exact_big_int": 2**70,  # beyond 64 bits, exact in a double
    "int_64": 2**60,  # beyond 2**53, still exact in a double
    "long_fraction": 0.30000000000000004,
    "text": "ü \u2028 \"quoted\" \\ \n",
    "nested": [{"a": None, "b": True}, [], {}],
}


def test_checkpoint_and_submit_values_decrypt_unchanged(
    live_server: LiveServer, researcher: Researcher
) -> None:
    slug = new_slug("values")
    publish(live_server.url, slug, sample_config())
    run_id = start_run(live_server.url, slug)["run_session_id"]
    first = {"trial_index": 0, **VALUES}
    resp = checkpoint(live_server.url, run_id, [first])
    assert resp.status_code == 200, resp.text
    second = {"trial_index": 1, **VALUES, "text": "second"}
    resp = submit(live_server.url, submit_body(run_id, [first, second]))
    assert resp.status_code == 201, resp.text
    trials = researcher.decrypt(run_id)["trials"]
    assert trials == [first, second]
    # Every type survives, an integer beyond 64 bits too (orjson alone would read it back as
    # an equal float).
    assert [(k, type(t[k])) for t in trials for k in VALUES] == [
        (k, type(VALUES[k])) for _ in trials for k in VALUES
    ]


def test_a_retry_of_a_run_finished_by_an_earlier_version_is_recognised(
    live_server: LiveServer,
) -> None:
    """Earlier versions stored the submit digest of json's text; a page retrying such a
    submit after an upgrade gets the retry answer, not "a different result"."""
    slug = new_slug("legacy-digest")
    publish(live_server.url, slug, sample_config())
    run_id = start_run(live_server.url, slug)["run_session_id"]
    body = submit_body(run_id, [{"trial_index": 0, "rt": 1e-05}], payload={"x": 0.5})
    first = submit(live_server.url, body)
    assert first.status_code == 201, first.text
    with live_server.ctx.write() as s:
        run = s.get(RunSession, run_id)
        assert run is not None
        parts = [body["status"], body["trial_count"], body["result_summary"],
                 body["result_payload"], body["trials"]]  # fmt: skip
        legacy = json.dumps(parts, separators=(",", ":"), ensure_ascii=False).encode()
        run.submit_digest = hashlib.sha256(run.submit_salt + legacy).hexdigest()
    again = submit(live_server.url, body)
    assert again.status_code == 201, again.text
    assert again.json()["result_envelope_id"] == first.json()["result_envelope_id"]
    changed = submit(live_server.url, {**body, "result_payload": {"x": 0.25}})
    assert changed.status_code == 409, changed.text
