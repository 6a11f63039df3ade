"""The marker host of a context: `serve --lsl` and the app create it, the HTTP route, the Qt
bridge and the Settings page find it. Keyed by the context object, so two contexts (tests, a
second data folder) never share one."""

from __future__ import annotations

import atexit
import threading
import weakref

from cogflow_desktop.hardware import machine
from cogflow_desktop.hardware.host import MarkerHost
from cogflow_desktop.services.context import Context

_hosts: dict[int, tuple[weakref.ref[Context], MarkerHost]] = {}
_lock = threading.Lock()


def host_for(ctx: Context) -> MarkerHost | None:
    with _lock:
        entry = _hosts.get(id(ctx))
    if entry is None or entry[0]() is not ctx:
        return None
    return entry[1]


def attach(ctx: Context, host: MarkerHost) -> MarkerHost:
    with _lock:
        old = _hosts.get(id(ctx))
        _hosts[id(ctx)] = (weakref.ref(ctx), host)
    if old is not None and old[1] is not host:
        old[1].close()
    return host


def detach(ctx: Context) -> None:
    with _lock:
        entry = _hosts.pop(id(ctx), None)
    if entry is not None:
        entry[1].close()


def ensure_host(ctx: Context) -> MarkerHost:
    """The context's host, created from this computer's saved settings on first use (the app)."""
    with _lock:
        entry = _hosts.get(id(ctx))
        if entry is not None and entry[0]() is ctx:
            return entry[1]
        host = MarkerHost(ctx, machine.load(ctx.settings.data_dir))
        _hosts[id(ctx)] = (weakref.ref(ctx), host)
    if host.settings.lsl_enabled:
        host.open_study_streams()  # recorders can find them before the first participant
    return host


@atexit.register
def _close_all() -> None:
    with _lock:
        entries = list(_hosts.values())
        _hosts.clear()
    for _ref, host in entries:
        host.close()
