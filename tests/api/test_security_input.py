"""Review finding 9 (server half): JSON that Python parses but that is not portable data is
refused with a 400 at the API and changes nothing: lone surrogates in any string (escaped or as
raw bytes), numbers that are not finite (1e999) and numbers beyond double precision (4000-digit
integers, 2**53 + 1). Before the fix these gave 500s or were stored."""

from __future__ import annotations

import pytest
import requests
from api_helpers import TIMEOUT, new_slug, sample_config, start_run
from conftest import LiveServer, publish
from sqlalchemy import func, select

from cogflow_desktop.store.models import AuditEvent, TrialRecord

BAD_VALUES = {
    "escaped lone high surrogate": '"\\ud800"',
    "escaped lone low surrogate": '"ab\\udc00cd"',
    "reversed pair": '"\\udc00\\ud800"',
    "raw surrogate bytes": b'"\xed\xa0\x80"'.decode("latin-1"),  # CESU-8 / WTF-8 bytes
    "1e999": "1e999",
    "-1e999": "-1e999",
    "4000-digit integer": "9" * 4000,
    "2**53 + 1": str(2**53 + 1),
}


def _post_raw(url: str, path: str, text: str) -> requests.Response:
    return requests.post(
        url + path,
        data=text.encode("latin-1") if "\xed" in text else text.encode(),
        headers={"Content-Type": "application/json"},
        timeout=TIMEOUT,
    )


def _trial_rows(live: LiveServer) -> int:
    with live.ctx.read() as s:
        return int(s.scalar(select(func.count(TrialRecord.id))) or 0)


CASES = [(name, "value") for name in BAD_VALUES] + [
    (name, "key") for name, value in BAD_VALUES.items() if value.startswith('"')
]


@pytest.mark.parametrize(("name", "where"), CASES)
def test_checkpoint_with_bad_json_is_400_and_stores_nothing(
    live_server: LiveServer, name: str, where: str
) -> None:
    value = BAD_VALUES[name]
    slug = new_slug("input")
    publish(live_server.url, slug, sample_config())
    run = start_run(live_server.url, slug, "P-1")["run_session_id"]
    trial = (
        f'{{"trial_index": 0, "response": {value}}}'
        if where == "value"
        else f'{{"trial_index": 0, {value}: 1}}'
    )
    before = _trial_rows(live_server)
    resp = _post_raw(
        live_server.url,
        "/api/v1/results/checkpoint",
        f'{{"run_session_id": "{run}", "trial_count": 1, "trials": [{trial}]}}',
    )
    assert resp.status_code == 400, resp.text
    assert resp.json()  # a JSON answer naming the problem
    assert _trial_rows(live_server) == before


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/api/v1/runs/start", '{{"study_slug": "x", "participant_external_id": {v}}}'),
        ("/api/v1/auth/login", '{{"username": {v}, "password": "x"}}'),
        (
            "/api/v1/configs/publish",
            '{{"study_slug": "s", "study_name": "n", "config_version_label": "v1", '
            '"config": {{"timeline": [{{"type": "instructions", "stimulus": {v}}}]}}}}',
        ),
        (
            "/api/v1/results/submit",
            '{{"run_session_id": "00000000-0000-4000-8000-000000000000", "status": "completed",'
            ' "trial_count": 0, "result_payload": {{"x": [[{v}]]}}}}',
        ),
    ],
)
def test_every_endpoint_refuses_it_before_anything_else(
    live_server: LiveServer, path: str, template: str
) -> None:
    with live_server.ctx.read() as s:
        audit_rows = s.scalar(select(func.count(AuditEvent.id)))
    for name, value in BAD_VALUES.items():
        resp = _post_raw(live_server.url, path, template.format(v=value))
        assert resp.status_code == 400, (name, resp.status_code, resp.text)
    with live_server.ctx.read() as s:
        assert s.scalar(select(func.count(AuditEvent.id))) == audit_rows


def test_good_numbers_and_text_still_pass(live_server: LiveServer) -> None:
    """What JavaScript's JSON.stringify produces is accepted: big but exact doubles, emoji."""
    slug = new_slug("input-ok")
    publish(live_server.url, slug, sample_config())
    run = start_run(live_server.url, slug, "P-2")["run_session_id"]
    resp = _post_raw(
        live_server.url,
        "/api/v1/results/checkpoint",
        f'{{"run_session_id": "{run}", "trial_count": 1, "trials": [{{"trial_index": 0, '
        f'"big": 100000000000000000000, "max": {2**53}, "small": 1e-300, "neg": -0.0, '
        '"emoji": "\\ud83d\\ude00 \U0001f600", "e": 1.5e308}]}',
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["stored"] is True
