"""JSON: the full decrypted results, one object per run with its payload, summary and trials.

Written as one document, but piece by piece (run by run, trial by trial), never built as one
giant dict in memory. Each trial sits on its own line so the file also reads well in a diff.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from cogflow_desktop.export.atomic import HashingWriter, atomic_file
from cogflow_desktop.export.columns import PARTICIPANT_ID_COLUMN, iso
from cogflow_desktop.export.options import WrittenFile
from cogflow_desktop.export.source import RunRecord
from cogflow_desktop.store.models import utcnow

FORMAT_NAME = "cogflow-desktop-export"
FORMAT_VERSION = 1


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def run_header(run: RunRecord, include_participant_ids: bool) -> dict[str, Any]:
    head: dict[str, Any] = {
        "study_slug": run.study_slug,
        "config_version_label": run.config_version_label,
        "task_type": run.task_type,
        "run_session_id": run.run_session_id,
        "participant_key": run.participant_key,
    }
    if include_participant_ids:
        head[PARTICIPANT_ID_COLUMN] = run.participant_external_id
    head.update(
        status=run.status,
        interrupted=run.interrupted,
        started_at=iso(run.started_at),
        completed_at=iso(run.completed_at),
        trial_count=run.trial_count,
        result_payload=run.result_payload,
        result_summary=run.result_summary,
    )
    return head


class JsonSink:
    def __init__(self, target: Path, *, study_slug: str, include_participant_ids: bool) -> None:
        self.target = target
        self._ids = include_participant_ids
        self._stack = ExitStack()
        self._out: HashingWriter = self._stack.enter_context(atomic_file(target))
        self._runs = 0
        self._trials = 0
        self._run_trials = 0
        opening = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "study_slug": study_slug,
            "exported_at": utcnow().isoformat(),
        }
        self._write(_dumps(opening)[:-1] + ',\n"runs":[')

    def _write(self, text: str) -> None:
        self._out.write(text.encode("utf-8"))

    def begin_run(self, run: RunRecord) -> None:
        head = _dumps(run_header(run, self._ids))
        self._write(("\n" if self._runs == 0 else ",\n") + head[:-1] + ',"trials":[')
        self._runs += 1
        self._run_trials = 0

    def add_trials(self, trials: list[dict[str, Any]]) -> None:
        if not trials:
            return
        lead = "\n" if self._run_trials == 0 else ",\n"
        self._write(lead + ",\n".join(map(_dumps, trials)))
        self._run_trials += len(trials)
        self._trials += len(trials)

    def end_run(self) -> None:
        self._write("]}")

    def finish(self) -> list[WrittenFile]:
        self._write(f'\n],\n"run_count":{self._runs},"trial_count":{self._trials}}}\n')
        out = self._out
        self._stack.close()  # fsync and rename into place
        return [WrittenFile(self.target.name, out.size, out.hexdigest())]

    def abort(self) -> None:
        # Closing the atomic file with an exception removes the temporary.
        self._stack.__exit__(ExportAborted, ExportAborted(), None)


class ExportAborted(Exception):
    """Used only to unwind the temporary file of an export that stops part-way."""
