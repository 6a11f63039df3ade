"""MarkerHost: what stands behind both transports (Qt WebChannel in the app, HTTP in `serve`).

One per process and data folder. It keeps the open marker streams (one per study, open until
the process ends, so a recorder that found the stream keeps it across participants), the
trigger port, and per run: the clock bursts, the markers pushed and how late, the trigger sends.
Calls come from the Qt main thread or server threads; each is short (a push, a queue put) and
serialised by one lock.
"""

from __future__ import annotations

import json
import logging
import math
import statistics
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from cogflow_desktop.hardware import lsl as lsl_mod
from cogflow_desktop.hardware.clock_sync import ClockSync, RoundTrip
from cogflow_desktop.hardware.machine import HardwareSettings
from cogflow_desktop.hardware.protocol import MarkerIn, MarkerRequest
from cogflow_desktop.hardware.serial_trigger import TriggerError, TriggerJob, TriggerPort, summarize
from cogflow_desktop.hardware.study import (
    RESPONSE_CODE_KEY,
    StudyHardware,
    run_study,
    studies_with_lsl,
)
from cogflow_desktop.services.context import Context

log = logging.getLogger(__name__)
# A marker stamped further than this from now is refused (a page clock mapped wrongly).
PLAUSIBLE_S = 3600.0
ONSET_EVENTS = {"onset": None, "drt_onset": "drt-stimulus"}  # event -> code key (None: its type)
RESPONSE_EVENTS = {"response", "drt_response"}
LSL_OFF = (
    "LSL markers are turned off on this computer (Settings, Lab hardware; or start the server "
    "with `cogflow-desktop serve --lsl`)."
)
NO_PORT = (
    "No trigger port is set on this computer (Settings, Lab hardware; or `serve --trigger-port`)."
)
MAX_OPEN_RUNS = 64


class ProtocolError(Exception):
    """A request the host cannot act on; `status` is the HTTP status the server answers."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def validation_sentence(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "request"
    return f"The marker request is invalid ({where}: {first['msg']})."


@dataclass
class RunLink:
    run_session_id: str
    hardware: StudyHardware
    outlet: lsl_mod.MarkerOutlet | None
    triggers: TriggerPort | None
    reasons: list[str]
    clock: ClockSync = field(default_factory=ClockSync)
    pushed: int = 0
    rejected: int = 0
    duplicates: int = 0
    last_seq: int = -1
    latencies_ms: list[float] = field(default_factory=list)
    trigger_jobs: list[TriggerJob] = field(default_factory=list)


class MarkerHost:
    def __init__(
        self,
        ctx: Context,
        settings: HardwareSettings,
        clock: Callable[[], float] = lsl_mod.local_clock,
    ) -> None:
        self.ctx = ctx
        self.settings = settings
        self.clock = clock
        self.outlets: dict[str, lsl_mod.MarkerOutlet] = {}  # by source id
        self.trigger_port: TriggerPort | None = None
        self.runs: dict[str, RunLink] = {}
        self._lock = threading.RLock()

    # -- entry point for both transports -----------------------------------------------------
    def handle(self, message: Any) -> dict[str, Any]:
        """One request -> its answer. Raises ProtocolError for a request it cannot act on."""
        now = self.clock()  # first: a clock probe's answer is this instant
        if not isinstance(message, dict):
            raise ProtocolError("The marker request must be a JSON object.")
        try:
            req = MarkerRequest.model_validate(message)
        except ValidationError as exc:
            raise ProtocolError(validation_sentence(exc)) from exc
        if req.op == "clock" and not req.samples:
            return {"lsl_s": now}
        with self._lock:
            if req.op == "hello":
                return self._hello(req.run_session_id or "", now)
            link = self.runs.get(req.run_session_id or "")
            if link is None:
                raise ProtocolError("This run has not said hello to the marker host.", 404)
            if req.op == "clock":
                return self._clock(link, req, now)
            if req.op == "markers":
                return self._markers(link, req.markers, now)
            answer = self.summary(link)
            if req.end:
                self.runs.pop(link.run_session_id, None)
            return answer

    # -- ops ---------------------------------------------------------------------------------
    def _hello(self, run_id: str, now: float) -> dict[str, Any]:
        found = run_study(self.ctx, run_id)
        if found is None:
            raise ProtocolError("This run is unknown to this computer.", 404)
        hw, status = found
        reasons: list[str] = []
        outlet = None
        port = None
        if status != "started":
            reasons.append(f"This run has already ended ({status}).")
        elif not hw.wanted:
            reasons.append("The study does not turn LSL markers or triggers on.")
        else:
            if hw.lsl_enabled:
                outlet = self._outlet_or_reason(hw, reasons)
            if hw.triggers_enabled:
                port = self._port_or_reason(reasons)
        enabled = outlet is not None or port is not None
        if enabled:
            if len(self.runs) >= MAX_OPEN_RUNS:  # pages that never said goodbye
                self.runs.pop(next(iter(self.runs)))
            self.runs[run_id] = RunLink(run_id, hw, outlet, port, reasons)
        ok, library = lsl_mod.available()
        return {
            "enabled": enabled,
            "lsl": outlet is not None,
            "triggers": port is not None,
            "stream_name": outlet.name if outlet else None,
            "source_id": outlet.source_id if outlet else None,
            "lsl_library": library if ok else None,
            "reasons": reasons,
            "lsl_s": now,
        }

    def _clock(self, link: RunLink, req: MarkerRequest, now: float) -> dict[str, Any]:
        samples = [RoundTrip(s.page_sent_ms, s.page_received_ms, s.lsl_s) for s in req.samples]
        try:
            estimate = link.clock.add_burst(samples)
        except ValueError as exc:
            raise ProtocolError(str(exc)) from exc
        return {"lsl_s": now, "estimate": estimate.as_dict(), "bursts": len(link.clock.bursts)}

    def _markers(self, link: RunLink, markers: list[MarkerIn], now: float) -> dict[str, Any]:
        new = 0
        for m in markers:
            if m.seq <= link.last_seq:
                link.duplicates += 1  # a retried batch the first attempt already delivered
                continue
            link.last_seq = m.seq
            ts = self._timestamp(link, m)
            if ts is None or abs(ts - now) > PLAUSIBLE_S:
                link.rejected += 1
                continue
            code = self._trigger(link, m, ts)
            body: dict[str, Any] = {"event": m.event, "seq": m.seq, **m.data}
            if code is not None:
                body["code"] = code
            text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
            if link.outlet is not None and link.outlet.push(text, ts):
                if m.live:
                    link.latencies_ms.append((self.clock() - ts) * 1000)
                link.pushed += 1
                new += 1
        return {"pushed": new, "total": link.pushed}

    def _timestamp(self, link: RunLink, m: MarkerIn) -> float | None:
        """The page's own mapping (it stamps each event with the estimate it has); the host's
        estimate for a marker without one."""
        if m.lsl_time is not None:
            return m.lsl_time
        cur = link.clock.current
        return cur.to_lsl(m.page_ms) if cur is not None else None

    def _trigger(self, link: RunLink, m: MarkerIn, ts: float) -> int | None:
        """Queue the code this event has, if any. Only events reported as they happened get one:
        a code sent at the end of a trial would mark the wrong moment in the EEG."""
        port = link.triggers
        if port is None or not m.live:
            return None
        codes = link.hardware.codes
        if m.event in ONSET_EVENTS:
            key = ONSET_EVENTS[m.event] or str(m.data.get("component_type") or "")
            code = codes.get(key)
            target = ts + self.settings.onset_delay_ms / 1000
        elif m.event in RESPONSE_EVENTS:
            code = codes.get(RESPONSE_CODE_KEY)
            target = ts
        else:
            return None
        if code is None:
            return None
        link.trigger_jobs.append(port.send(code, target, f"{m.event}#{m.seq}"))
        return code

    # -- what a run records ------------------------------------------------------------------
    def summary(self, link: RunLink) -> dict[str, Any]:
        lat = sorted(link.latencies_ms)
        answer: dict[str, Any] = {
            "stream_name": link.outlet.name if link.outlet else None,
            "source_id": link.outlet.source_id if link.outlet else None,
            "stream_type": lsl_mod.STREAM_TYPE,
            "marker_format": lsl_mod.MARKER_FORMAT,
            "lsl": link.outlet is not None,
            "clock": link.clock.record(),
            "markers_pushed": link.pushed,
            "markers_rejected": link.rejected,
            "markers_repeated": link.duplicates,
            "marker_latency_ms": {
                "count": len(lat),
                "median": round(statistics.median(lat), 3) if lat else None,
                "p95": round(lat[min(len(lat) - 1, math.ceil(0.95 * len(lat)) - 1)], 3)
                if lat
                else None,
                "max": round(lat[-1], 3) if lat else None,
            },
            "reasons": list(link.reasons),
        }
        if link.triggers is not None:
            answer["triggers"] = {
                "port": link.triggers.port,
                "baud": link.triggers.baud,
                "pulse_ms": link.triggers.pulse_ms,
                "onset_delay_ms": self.settings.onset_delay_ms,
                "codes": dict(link.hardware.codes),
                **summarize(link.trigger_jobs),
            }
        return answer

    # -- streams and the port ----------------------------------------------------------------
    def source_id_for(self, study_slug: str) -> str:
        keys = self.ctx.install_keys()
        fingerprint = lsl_mod.install_fingerprint(keys.public_key) if keys else "new-install"
        return lsl_mod.source_id(fingerprint, study_slug)

    def outlet_for(self, hw: StudyHardware) -> lsl_mod.MarkerOutlet:
        """The study's stream, opened on first use (raises LslUnavailable)."""
        with self._lock:
            source = self.source_id_for(hw.study_slug)
            outlet = self.outlets.get(source)
            if outlet is not None and outlet.name != hw.stream_name:
                outlet.close()  # the study was published with another stream name
                outlet = None
            if outlet is None:
                outlet = lsl_mod.MarkerOutlet(hw.stream_name, source, hw.study_slug)
                self.outlets[source] = outlet
                log.info("LSL marker stream %s (source id %s) is open.", outlet.name, source)
            return outlet

    def _outlet_or_reason(
        self, hw: StudyHardware, reasons: list[str]
    ) -> lsl_mod.MarkerOutlet | None:
        if not self.settings.lsl_enabled:
            reasons.append(LSL_OFF)
            return None
        try:
            return self.outlet_for(hw)
        except lsl_mod.LslUnavailable as exc:
            reasons.append(str(exc))
            return None

    def _port_or_reason(self, reasons: list[str]) -> TriggerPort | None:
        if not self.settings.triggers_configured:
            reasons.append(NO_PORT)
            return None
        try:
            return self.open_trigger_port()
        except TriggerError as exc:
            reasons.append(str(exc))
            return None

    def open_trigger_port(self) -> TriggerPort:
        """The machine's trigger port, opened now (raises TriggerError with the reason)."""
        with self._lock:
            s = self.settings
            if not s.triggers_configured:
                raise TriggerError(NO_PORT)
            port = self.trigger_port
            if port is None or (port.port, port.baud, port.pulse_ms) != (
                s.trigger_port.strip(),
                s.trigger_baud,
                s.pulse_ms,
            ):
                if port is not None:
                    port.close()
                port = TriggerPort(s.trigger_port.strip(), s.trigger_baud, s.pulse_ms, self.clock)
                self.trigger_port = port
            return port.open()

    def test_trigger(self) -> TriggerJob:
        """Send the machine's test code now and wait for it (raises TriggerError)."""
        port = self.open_trigger_port()
        return port.test(self.settings.test_code)

    def open_study_streams(self) -> tuple[list[lsl_mod.MarkerOutlet], list[str]]:
        """Open the stream of every study whose latest config turns LSL on, so a recorder can
        find them before the first participant. Returns (open streams, problems)."""
        if not self.settings.lsl_enabled:
            return [], [LSL_OFF]
        opened: list[lsl_mod.MarkerOutlet] = []
        problems: list[str] = []
        for hw in studies_with_lsl(self.ctx):
            try:
                opened.append(self.outlet_for(hw))
            except lsl_mod.LslUnavailable as exc:
                problems.append(str(exc))
                break
        return opened, problems

    def apply_settings(self, settings: HardwareSettings) -> None:
        """New machine settings take effect for the next run; turning LSL off closes the streams
        (recorders see them go), a changed port is reopened on next use."""
        with self._lock:
            self.settings = settings
            if not settings.lsl_enabled:
                self._close_outlets()
            port = self.trigger_port
            if port is not None and (port.port, port.baud, port.pulse_ms) != (
                settings.trigger_port.strip(),
                settings.trigger_baud,
                settings.pulse_ms,
            ):
                port.close()
                self.trigger_port = None

    def _close_outlets(self) -> None:
        for outlet in self.outlets.values():
            outlet.close()
        self.outlets.clear()

    def close(self) -> None:
        with self._lock:
            self._close_outlets()
            if self.trigger_port is not None:
                self.trigger_port.close()
                self.trigger_port = None
            self.runs.clear()
