"""Contract tests of publish, the studies list, latest-config, study runs and dashboards."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from api_helpers import TIMEOUT, new_slug, post, sample_config, start_run, submit, submit_body
from conftest import ADMIN_PASSWORD, ADMIN_USER, LiveServer, login_session, publish
from sqlalchemy import select

from cogflow_desktop.store.models import AuditEvent

PUBLISH = "/api/v1/configs/publish"


def _publish_body(slug: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "study_slug": slug,
        "study_name": f"Study {slug}",
        "config_version_label": "v1",
        "config": sample_config(),
    }
    body.update(overrides)
    return body


def _latest(url: str, slug: str) -> requests.Response:
    return requests.get(f"{url}/api/v1/studies/{slug}/latest-config", timeout=TIMEOUT)


# --- publish -----------------------------------------------------------------------------------


def test_publish_201_with_contract_fields(live_server: LiveServer) -> None:
    slug = new_slug()
    resp = post(live_server.url, PUBLISH, _publish_body(slug, runtime_mode="jatos"))
    assert resp.status_code == 201
    body = resp.json()
    assert isinstance(body["study_id"], int) and isinstance(body["config_version_id"], int)
    assert body["study_slug"] == slug
    assert body["dashboard_url"] == f"/portal/studies/{slug}"
    assert body["config_version_label"] == "v1"
    assert body["study_slug_adjusted"] is False and body["config_version_label_adjusted"] is False


def test_publish_upserts_by_slug_and_label(live_server: LiveServer) -> None:
    url, slug = live_server.url, new_slug()
    first = publish(url, slug, sample_config(seed=1), "v1")
    again = publish(url, slug, sample_config(seed=2), "v1")
    assert again["config_version_id"] == first["config_version_id"]
    assert again["study_id"] == first["study_id"]
    latest = _latest(url, slug).json()
    assert latest["config"]["seed"] == 2
    assert len(latest["configs"]) == 1


def test_republishing_a_label_makes_it_latest(live_server: LiveServer) -> None:
    url, slug = live_server.url, new_slug()
    v1 = publish(url, slug, sample_config(which="one"), "v1")
    v2 = publish(url, slug, sample_config(which="two"), "v2")
    latest = _latest(url, slug).json()
    assert latest["config_version_id"] == v2["config_version_id"]
    publish(url, slug, sample_config(which="one again"), "v1")
    latest = _latest(url, slug).json()
    assert latest["config_version_id"] == v1["config_version_id"]
    assert latest["config"]["which"] == "one again"
    assert [c["config_version_label"] for c in latest["configs"]] == ["v1", "v2"]
    # A new run starts on the latest version.
    assert start_run(url, slug)["config_version_id"] == v1["config_version_id"]


def test_publish_without_runtime_mode_keeps_the_mode(live_server: LiveServer) -> None:
    url, slug = live_server.url, new_slug()
    post(url, PUBLISH, _publish_body(slug, runtime_mode="hybrid"))
    post(url, PUBLISH, _publish_body(slug, config_version_label="v2"))
    row = next(
        s
        for s in requests.get(f"{url}/api/v1/studies", timeout=30).json()["studies"]
        if s["study_slug"] == slug
    )
    assert row["runtime_mode"] == "hybrid"


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"study_slug": "has space"}, {"study_slug"}),
        ({"study_slug": "slash/y"}, {"study_slug"}),
        ({"study_slug": "x" * 51}, {"study_slug"}),
        ({"study_slug": "x" * 500}, {"study_slug"}),
        ({"study_slug": ""}, {"study_slug"}),
        ({"config_version_label": "v" * 51}, {"config_version_label"}),
        ({"study_name": "n" * 256}, {"study_name"}),
        ({"runtime_mode": "docker"}, {"runtime_mode"}),
        ({"config": [1, 2]}, {"config"}),
        ({"config": "{}"}, {"config"}),
        ({"config": None}, {"config"}),
        ({"builder_version": 12}, {"builder_version"}),
    ],
)
def test_publish_validation_400_field_dict(
    live_server: LiveServer, overrides: dict[str, Any], fields: set[str]
) -> None:
    resp = post(live_server.url, PUBLISH, _publish_body(new_slug(), **overrides))
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert set(body) == fields
    assert all(
        isinstance(m, list) and m and all(isinstance(x, str) for x in m) for m in body.values()
    )


def test_publish_missing_fields_named_each(live_server: LiveServer) -> None:
    resp = post(live_server.url, PUBLISH, {})
    assert resp.status_code == 400
    assert set(resp.json()) == {"study_slug", "study_name", "config_version_label", "config"}


def test_fifty_char_slug_is_accepted(live_server: LiveServer) -> None:
    slug = ("s" * 44) + new_slug("")[-6:]
    assert len(slug) == 50
    assert post(live_server.url, PUBLISH, _publish_body(slug)).status_code == 201


def test_publish_actor_comes_from_session_never_from_header(live_server: LiveServer) -> None:
    url = live_server.url
    anon_slug, user_slug = new_slug(), new_slug()
    resp = requests.post(
        f"{url}{PUBLISH}",
        json=_publish_body(anon_slug),
        headers={"X-CogFlow-Actor": "mallory"},
        timeout=TIMEOUT,
    )
    assert resp.status_code == 201
    http = login_session(url, ADMIN_USER, ADMIN_PASSWORD)
    http.headers["X-CogFlow-Actor"] = "mallory"
    assert http.post(f"{url}{PUBLISH}", json=_publish_body(user_slug), timeout=30).ok
    with live_server.ctx.read() as s:
        actors = dict(
            s.execute(
                select(AuditEvent.target, AuditEvent.actor).where(
                    AuditEvent.action == "study.publish",
                    AuditEvent.target.in_([anon_slug, user_slug]),
                )
            ).all()
        )
    assert actors == {anon_slug: "anonymous", user_slug: ADMIN_USER}


# --- studies list ------------------------------------------------------------------------------


def test_studies_list_is_complete_and_newest_activity_first(live_server: LiveServer) -> None:
    url = live_server.url
    prefix = new_slug("many")
    slugs = [f"{prefix}-{i:03d}" for i in range(150)]
    http = requests.Session()
    for slug in slugs:
        publish(url, slug, sample_config(), session=http)
    # Activity on the oldest one moves it to the top.
    start_run(url, slugs[0])
    resp = http.get(f"{url}/api/v1/studies", timeout=TIMEOUT)
    assert resp.status_code == 200
    studies = resp.json()["studies"]
    listed = [s["study_slug"] for s in studies if s["study_slug"].startswith(prefix)]
    assert sorted(listed) == sorted(slugs)
    assert listed[0] == slugs[0]
    assert listed[1:] == list(reversed(slugs[1:]))
    stamps = [s["last_activity_at"] for s in studies]
    assert stamps == sorted(stamps, reverse=True)
    top = studies[0]
    assert top["study_slug"] == slugs[0]
    assert top["run_count"] == 1 and top["latest_config_version"] == "v1"
    assert top["last_result_at"] is None
    assert top["dashboard_url"] == f"/portal/studies/{slugs[0]}"


def test_studies_list_counts_results(live_server: LiveServer) -> None:
    url, slug = live_server.url, new_slug()
    publish(url, slug, sample_config())
    run = start_run(url, slug)
    assert submit(url, submit_body(run["run_session_id"], [])).status_code == 201
    row = next(
        s
        for s in requests.get(f"{url}/api/v1/studies", timeout=30).json()["studies"]
        if s["study_slug"] == slug
    )
    assert row["run_count"] == 1 and row["last_result_at"] is not None


# --- latest-config, dashboards -----------------------------------------------------------------


def test_latest_config_200_and_404(live_server: LiveServer) -> None:
    url, slug = live_server.url, new_slug()
    publish(url, slug, sample_config(task_type="flanker"), "pilot")
    resp = _latest(url, slug)
    assert resp.status_code == 200
    body = resp.json()
    assert body["config"]["task_type"] == "flanker"
    assert body["configs"][0]["config_version_label"] == "pilot"
    assert body["configs"][0]["task_type"] == "flanker"
    assert body["study_properties"]["study_slug"] == slug
    missing = _latest(url, "no-such-study")
    assert missing.status_code == 404 and "error" in missing.json()


def test_dashboard_url_is_a_page(live_server: LiveServer) -> None:
    url, slug = live_server.url, new_slug()
    dashboard = publish(url, slug, sample_config())["dashboard_url"]
    resp = requests.get(f"{url}{dashboard}", timeout=TIMEOUT)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/html")
    assert slug in resp.text
    portal = requests.get(f"{url}/portal/", timeout=TIMEOUT)
    assert portal.status_code == 200 and slug in portal.text
    unknown = requests.get(f"{url}/portal/studies/not-a-study", timeout=TIMEOUT)
    assert unknown.status_code == 404


# --- study runs --------------------------------------------------------------------------------


def test_study_runs_needs_login(live_server: LiveServer) -> None:
    url, slug = live_server.url, new_slug()
    publish(url, slug, sample_config())
    resp = requests.get(f"{url}/api/v1/studies/{slug}/runs", timeout=TIMEOUT)
    assert resp.status_code == 401 and "error" in resp.json()


def test_study_runs_200_newest_first_with_limit(live_server: LiveServer) -> None:
    url, slug = live_server.url, new_slug()
    publish(url, slug, sample_config(task_type="stroop"))
    ids = [start_run(url, slug, f"p{i}")["run_session_id"] for i in range(3)]
    assert submit(url, submit_body(ids[0], [{"trial_index": 0}])).status_code == 201
    http = login_session(url, ADMIN_USER, ADMIN_PASSWORD)
    resp = http.get(f"{url}/api/v1/studies/{slug}/runs", timeout=TIMEOUT)
    assert resp.status_code == 200
    body = resp.json()
    assert body["total_run_count"] == 3 and body["runs_returned"] == 3
    assert body["runs_limit"] == 200
    assert [r["run_session_id"] for r in body["runs"]] == list(reversed(ids))
    done = body["runs"][-1]
    assert done["status"] == "completed" and done["has_result"] is True
    assert done["trial_count"] == 1 and done["task_type"] == "stroop"
    assert len(done["participant_key_preview"]) == 8
    assert body["runs"][0]["status"] == "started" and body["runs"][0]["interrupted"] is False
    limited = http.get(f"{url}/api/v1/studies/{slug}/runs?limit=2", timeout=TIMEOUT).json()
    assert limited["runs_returned"] == 2 and limited["total_run_count"] == 3
    assert limited["runs_limit"] == 2


@pytest.mark.parametrize("limit", ["0", "501", "abc", "-1", "2.5", ""])
def test_study_runs_bad_limit_is_400(live_server: LiveServer, limit: str) -> None:
    url, slug = live_server.url, new_slug()
    publish(url, slug, sample_config())
    http = login_session(url, ADMIN_USER, ADMIN_PASSWORD)
    resp = http.get(f"{url}/api/v1/studies/{slug}/runs?limit={limit}", timeout=TIMEOUT)
    assert resp.status_code == 400
    assert "limit" in resp.json()


def test_study_runs_unknown_study_is_404(live_server: LiveServer) -> None:
    http = login_session(live_server.url, ADMIN_USER, ADMIN_PASSWORD)
    resp = http.get(f"{live_server.url}/api/v1/studies/nope-nope/runs", timeout=TIMEOUT)
    assert resp.status_code == 404 and "error" in resp.json()
