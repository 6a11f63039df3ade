"""The marker host with a real LSL outlet and a real inlet on loopback, a real database and a
loop:// serial port: what the page sends arrives in order, on the timestamps the page gave."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lsl_helpers import LSL_STUDY_CONFIG, MarkerInlet, pylsl

from cogflow_desktop.hardware import lsl, machine
from cogflow_desktop.hardware.host import LSL_OFF, NO_PORT, MarkerHost, ProtocolError
from cogflow_desktop.services import runs, studies, users
from cogflow_desktop.services.context import Context, open_context
from cogflow_desktop.settings import Settings

SLUG = "eeg-flanker"


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    c = open_context(Settings.from_env(tmp_path_factory.mktemp("hw")))
    users.create_user(c, "admin", "correct horse battery")
    for slug, config in (
        (SLUG, LSL_STUDY_CONFIG),
        ("plain", {**LSL_STUDY_CONFIG, "lsl": {}, "triggers": {}}),
    ):
        studies.publish(
            c,
            studies.PublishRequest(
                slug, slug, "v1", {**config, "timeline": [{"type": "instructions"}]}
            ),
            actor="test",
            client=None,
        )
    yield c
    c.close()


def new_run(ctx: Context, slug: str = SLUG) -> str:
    return runs.start_run(ctx, slug, f"P-{uuid.uuid4().hex[:6]}", actor="test", client=None)[
        "run_session_id"
    ]


@pytest.fixture()
def host(ctx: Context) -> Iterator[MarkerHost]:
    h = MarkerHost(
        ctx, machine.HardwareSettings(lsl_enabled=True, trigger_port="loop://", pulse_ms=1)
    )
    yield h
    h.close()


def burst(host: MarkerHost, run_id: str, page_now: float) -> dict[str, Any]:
    """A clock burst as the page makes it, with the page clock `page_now` ms behind LSL."""
    samples = []
    for i in range(5):
        sent = page_now + i
        lsl_s = host.handle({"op": "clock"})["lsl_s"]
        samples.append(
            {"page_sent_ms": sent, "page_received_ms": sent + 0.4 + i * 0.2, "lsl_s": lsl_s}
        )
    return host.handle({"op": "clock", "run_session_id": run_id, "samples": samples})


def test_markers_reach_an_inlet_in_order_on_the_page_timestamps(
    ctx: Context, host: MarkerHost
) -> None:
    opened, problems = host.open_study_streams()
    assert problems == [] and [o.name for o in opened] == [f"CogFlow-{SLUG}"]
    source = opened[0].source_id
    assert source == host.source_id_for(SLUG) and SLUG in source
    inlet = MarkerInlet.open(source)
    try:
        info = inlet.info()
        assert (info.name(), info.type(), info.channel_count()) == (f"CogFlow-{SLUG}", "Markers", 1)
        assert info.nominal_srate() == pylsl.IRREGULAR_RATE
        assert info.channel_format() == pylsl.cf_string
        run_id = new_run(ctx)
        hello = host.handle({"op": "hello", "run_session_id": run_id})
        assert hello["enabled"] and hello["lsl"] and hello["triggers"], hello
        assert (hello["stream_name"], hello["source_id"]) == (f"CogFlow-{SLUG}", source)
        est = burst(host, run_id, 1000.0)["estimate"]
        base = est["offset_s"] + 1.0  # page time 1000 ms on the LSL clock
        events = [
            ("run_start", 1000.0, {}),
            ("onset", 1100.0, {"trial_index": 0, "component_type": "flanker-trial"}),
            ("response", 1412.5, {"trial_index": 0, "rt_ms": 312.5}),
            ("offset", 1250.0, {"trial_index": 0}),
            ("drt_onset", 1300.0, {"drt_trial_number": 1}),
        ]
        markers = [
            {"seq": i, "event": e, "page_ms": t, "lsl_time": t / 1000 + est["offset_s"], "data": d}
            for i, (e, t, d) in enumerate(events)
        ]
        assert (
            host.handle({"op": "markers", "run_session_id": run_id, "markers": markers[:2]})[
                "pushed"
            ]
            == 2
        )
        # A retried batch (the answer was lost) repeats seq 1: pushed once only.
        answer = host.handle({"op": "markers", "run_session_id": run_id, "markers": markers[1:]})
        assert answer == {"pushed": 3, "total": 5}
        got = inlet.pull(5)
        assert [m["event"] for m, _ in got] == [e for e, _, _ in events]
        assert [m["seq"] for m, _ in got] == [0, 1, 2, 3, 4]
        for (m, ts), (_e, t, d) in zip(got, events, strict=True):
            assert ts == pytest.approx(base + (t - 1000.0) / 1000, abs=1e-9)
            assert {k: m[k] for k in d} == d
        # Trigger codes ride in the markers they were sent for.
        assert got[1][0]["code"] == 10 and got[2][0]["code"] == 99 and got[4][0]["code"] == 20
        assert "code" not in got[0][0] and "code" not in got[3][0]
        summary = host.handle({"op": "summary", "run_session_id": run_id, "end": True})
        assert summary["markers_pushed"] == 5 and summary["markers_repeated"] == 1
        assert summary["stream_name"] == f"CogFlow-{SLUG}" and summary["source_id"] == source
        assert summary["clock"]["offset_s"] == est["offset_s"]
        assert len(summary["clock"]["syncs"]) == 1 and summary["marker_latency_ms"]["count"] == 5
        assert (
            summary["triggers"]["port"] == "loop://"
            and summary["triggers"]["codes"]["response"] == 99
        )
        with pytest.raises(ProtocolError) as gone:
            host.handle({"op": "summary", "run_session_id": run_id})
        assert gone.value.status == 404
    finally:
        inlet.close()


def test_trigger_codes_go_out_on_the_port_in_order(ctx: Context, host: MarkerHost) -> None:
    run_id = new_run(ctx)
    host.handle({"op": "hello", "run_session_id": run_id})
    est = burst(host, run_id, 50.0)["estimate"]
    now_page = (host.clock() - est["offset_s"]) * 1000
    markers = [
        {
            "seq": 0,
            "event": "onset",
            "page_ms": now_page,
            "data": {"component_type": "flanker-trial"},
        },
        {"seq": 1, "event": "response", "page_ms": now_page + 1, "data": {}},
        {
            "seq": 2,
            "event": "onset",
            "page_ms": now_page + 2,
            "live": False,
            "data": {"component_type": "flanker-trial"},
        },
        {
            "seq": 3,
            "event": "drt_onset",
            "page_ms": now_page + 3,
            "data": {"component_type": "drt-stimulus"},
        },
        {
            "seq": 4,
            "event": "onset",
            "page_ms": now_page + 4,
            "data": {"component_type": "instructions"},
        },
    ]
    host.handle({"op": "markers", "run_session_id": run_id, "markers": markers})
    link = host.runs[run_id]
    for job in link.trigger_jobs:
        assert job.done.wait(10)
    # loop:// hands back what was written: each code, then the 0 that ends its pulse. A marker
    # made from a finished row (live false) and a type without a code send nothing.
    port = host.trigger_port
    assert port is not None
    assert port.serial.read(64) == bytes([10, 0, 99, 0, 20, 0])
    for job in link.trigger_jobs:
        assert job.error is None and job.sent_at is not None and job.sent_at >= job.target
    s = host.summary(link)["triggers"]
    assert (s["sent"], s["failed"], s["pending"]) == (3, 0, 0)


def test_off_on_this_computer_says_why(ctx: Context) -> None:
    host = MarkerHost(ctx, machine.HardwareSettings())
    try:
        hello = host.handle({"op": "hello", "run_session_id": new_run(ctx)})
        assert hello["enabled"] is False and hello["reasons"] == [LSL_OFF, NO_PORT]
        assert host.open_study_streams() == ([], [LSL_OFF])
        plain = host.handle({"op": "hello", "run_session_id": new_run(ctx, "plain")})
        assert plain["enabled"] is False
        assert plain["reasons"] == ["The study does not turn LSL markers or triggers on."]
    finally:
        host.close()


def test_bad_port_is_a_reason_not_a_crash(ctx: Context, tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-tty")
    host = MarkerHost(ctx, machine.HardwareSettings(lsl_enabled=True, trigger_port=missing))
    try:
        hello = host.handle({"op": "hello", "run_session_id": new_run(ctx)})
        assert hello["lsl"] is True and hello["triggers"] is False
        assert len(hello["reasons"]) == 1 and missing in hello["reasons"][0]
    finally:
        host.close()


@pytest.mark.parametrize(
    ("message", "status", "words"),
    [
        ("not an object", 400, "JSON object"),
        ({"op": "launch"}, 400, "op"),
        ({"op": "hello"}, 400, "run_session_id"),
        ({"op": "hello", "run_session_id": "12"}, 400, "UUID"),
        ({"op": "hello", "run_session_id": str(uuid.uuid4())}, 404, "unknown"),
        ({"op": "markers", "run_session_id": str(uuid.uuid4()), "markers": []}, 404, "hello"),
        (
            {
                "op": "markers",
                "run_session_id": str(uuid.uuid4()),
                "markers": [{"seq": 0, "event": "Bad Name", "page_ms": 1}],
            },
            400,
            "event",
        ),
    ],
)
def test_bad_requests_are_refused_with_a_sentence(
    host: MarkerHost, message: Any, status: int, words: str
) -> None:
    with pytest.raises(ProtocolError) as refused:
        host.handle(message)
    assert refused.value.status == status and words in refused.value.message


def test_markers_far_from_now_are_refused(ctx: Context, host: MarkerHost) -> None:
    run_id = new_run(ctx)
    host.handle({"op": "hello", "run_session_id": run_id})
    burst(host, run_id, 0.0)
    far = host.clock() + 10 * 3600
    answer = host.handle(
        {
            "op": "markers",
            "run_session_id": run_id,
            "markers": [{"seq": 0, "event": "onset", "page_ms": 1.0, "lsl_time": far}],
        }
    )
    assert answer == {"pushed": 0, "total": 0}
    assert host.summary(host.runs[run_id])["markers_rejected"] == 1


def test_library_and_names() -> None:
    ok, text = lsl.available()
    assert ok and text.startswith("liblsl 1.")
    assert lsl.default_stream_name("flanker") == "CogFlow-flanker"
    a = lsl.install_fingerprint(b"k" * 32)
    assert a == lsl.install_fingerprint(b"k" * 32) and a != lsl.install_fingerprint(b"j" * 32)
