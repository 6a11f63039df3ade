"""The interface every format writer implements: runs arrive one at a time, trials in batches."""

from __future__ import annotations

from typing import Any, Protocol

from cogflow_desktop.export.options import WrittenFile
from cogflow_desktop.export.source import RunRecord


class Sink(Protocol):
    def begin_run(self, run: RunRecord) -> None: ...

    def add_trials(self, trials: list[dict[str, Any]]) -> None: ...

    def end_run(self) -> None: ...

    def finish(self) -> list[WrittenFile]:
        """Complete the output under its target name; returns what was written."""
        ...

    def abort(self) -> None:
        """Remove every temporary; the target name is left as it was."""
        ...
