"""What every page shares: the running app, the signed-in researcher, preferences, job runner,
and the web environment (created on first use, so start-up does not wait for Chromium)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from cogflow_desktop.gui.prefs import Prefs
from cogflow_desktop.gui.researcher import ResearcherSession
from cogflow_desktop.gui.runtime import AppRuntime
from cogflow_desktop.gui.webviews import WebEnvironment
from cogflow_desktop.gui.workers import JobRunner
from cogflow_desktop.services.context import Context


@dataclass
class AppState:
    runtime: AppRuntime
    session: ResearcherSession
    prefs: Prefs
    jobs: JobRunner
    _web: WebEnvironment | None = None
    # Called after anything that changes what pages show (publish, run end, sync).
    listeners: list[Callable[[], None]] = field(default_factory=list)

    @property
    def ctx(self) -> Context:
        return self.runtime.ctx

    def web(self) -> WebEnvironment:
        if self._web is None:
            self._web = WebEnvironment(
                self.ctx.settings.data_dir, self.runtime.url, self.runtime.app_token
            )
        return self._web

    @property
    def has_web(self) -> bool:
        return self._web is not None

    def forget_web(self) -> None:
        self._web = None

    def save_prefs(self) -> None:
        self.prefs.save(self.ctx.settings.data_dir)

    def changed(self) -> None:
        for listener in list(self.listeners):
            listener()
