"""A Psych-DS dataset: schema.org metadata and keyword-named CSV data files.

Layout (a new folder):
  dataset_description.json   JSON-LD, @context schema.org, @type Dataset: name, description,
                             variableMeasured (every column of every data file, as a
                             PropertyValue with its description and unit), keywords, ...
  README.md, CHANGES.md, .psychdsignore
  data/study-<S>_data.csv                      the trial table (the same bytes as the CSV export)
  data/study-<S>_description-<T>_data.csv      one long table per continuous stream
  manifest.json                                SHA-256 of every other file (.psychdsignore'd)

`<S>` is the study slug and `<T>` the stream's table name, letters and digits only (Psych-DS
keyword values are alphanumeric). The checks the Psych-DS validator makes (required fields,
file naming, every column listed in variableMeasured) are in tests/export.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cogflow_desktop import __version__
from cogflow_desktop.export.atomic import fsync_dir, temp_name, write_synced
from cogflow_desktop.export.bids_labels import alnum
from cogflow_desktop.export.codebook import meaning, units
from cogflow_desktop.export.csv_format import CsvSink, Table
from cogflow_desktop.export.manifest import MANIFEST_NAME, Manifest
from cogflow_desktop.export.options import WrittenFile
from cogflow_desktop.export.source import RunRecord
from cogflow_desktop.export.streams import STREAMS, Stream

PSYCHDS_VERSION = "Psych-DS 1.0.0"
DATA_DIR = "data"


def data_file_names(study_slug: str) -> tuple[str, Any]:
    """The trial table's file name and a function naming each stream's file."""
    study = alnum(study_slug, "cogflow")

    def stream_name(stream: Stream) -> str:
        return f"study-{study}_description-{stream.label}_data.csv"

    return f"study-{study}_data.csv", stream_name


def variable(name: str, table: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"@type": "PropertyValue", "name": name}
    text = meaning(name, table)
    entry["description"] = text or f"Recorded field {name}."
    unit = units(name, table)
    if unit:
        entry["unitText"] = unit
    return entry


def description(study_slug: str, study_name: str, tables: list[Table], runs: int) -> dict[str, Any]:
    seen: dict[str, dict[str, Any]] = {}
    for table in tables:
        for name in table.column_types:
            seen.setdefault(name, variable(name, table.name))
    return {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "name": study_name,
        "description": f"Trial-level data of CogFlow study {study_slug} ({runs} run sessions), "
        f"exported by CogFlow Desktop {__version__}. One row per trial in the study file; "
        "continuous streams in long tables joined to it by run_session_id and trial_index.",
        "schemaVersion": PSYCHDS_VERSION,
        "dateCreated": datetime.now(UTC).date().isoformat(),
        "keywords": ["CogFlow", "behavioural data", study_slug],
        "variableMeasured": list(seen.values()),
    }


class PsychDsSink:
    def __init__(
        self,
        target: Path,
        *,
        study_slug: str,
        study_name: str,
        include_participant_ids: bool,
        streams: tuple[Stream, ...] = STREAMS,
    ) -> None:
        if target.exists():
            raise FileExistsError(str(target))
        self.target = target
        self._slug, self._name = study_slug, study_name
        self._staging = temp_name(target, ".d")
        (self._staging / DATA_DIR).mkdir(parents=True)
        trials_name, stream_name = data_file_names(study_slug)
        data = self._staging / DATA_DIR
        self._csv = CsvSink(
            data / trials_name,
            include_participant_ids=include_participant_ids,
            streams=streams,
            stream_path=lambda s: data / stream_name(s),
        )
        self.runs = 0

    def begin_run(self, run: RunRecord) -> None:
        self._csv.begin_run(run)

    def add_trials(self, trials: list[dict[str, Any]]) -> None:
        self._csv.add_trials(trials)

    def end_run(self) -> None:
        self.runs += 1

    def finish(self) -> list[WrittenFile]:
        manifest = Manifest(temp_name(self.target, ".manifest"))
        try:
            for f in self._csv.finish():
                manifest.add(WrittenFile(f"{DATA_DIR}/{f.path}", f.bytes, f.sha256))

            def add(name: str, data: bytes) -> None:
                size, sha = write_synced(self._staging / name, data)
                manifest.add(WrittenFile(name, size, sha))

            doc = description(self._slug, self._name, self._csv.tables(), self.runs)
            add("dataset_description.json", _json_bytes(doc))
            add("README.md", self._readme().encode("utf-8"))
            today = datetime.now(UTC).date().isoformat()
            add("CHANGES.md", f"# 1.0.0 ({today})\n\n- Exported by CogFlow Desktop.\n".encode())
            add(".psychdsignore", f"{MANIFEST_NAME}\n".encode())
            written = manifest.write(
                self._staging / MANIFEST_NAME,
                {"format": "cogflow-desktop-psychds", "study_slug": self._slug, "runs": self.runs},
            )
        except BaseException:
            manifest.discard()
            raise
        fsync_dir(self._staging / DATA_DIR)
        fsync_dir(self._staging)
        self._staging.replace(self.target)
        fsync_dir(self.target.parent)
        return [written]

    def tables(self) -> list[Table]:
        """The data files, at their place inside the finished folder."""
        inside = self.target / DATA_DIR
        return [
            Table(t.name, inside / t.path.name, t.column_types, t.stream)
            for t in self._csv.tables()
        ]

    def _readme(self) -> str:
        trials_name, _ = data_file_names(self._slug)
        return (
            f"# {self._name}\n\n"
            f"Trial-level data of CogFlow study `{self._slug}` as a Psych-DS dataset, exported "
            f"by CogFlow Desktop {__version__}.\n\n"
            f"- `data/{trials_name}`: one row per trial; run metadata first, then the data "
            "vocabulary (trial_index, component_type, rt_ms, response, correct, "
            "stimulus_onset_ms, ended_reason), then every other recorded field. The unique "
            "key of a row is (run_session_id, trial_index).\n"
            "- `data/*_description-<table>_data.csv`: continuous streams, one row per frame or "
            "sample, joined to the trials by run_session_id + trial_index.\n"
            "- Every column is described in `dataset_description.json` (variableMeasured).\n"
            "- Missing values are empty cells; booleans are True/False; nested values are JSON "
            "text.\n"
        )

    def abort(self) -> None:
        self._csv.abort()
        shutil.rmtree(self._staging, ignore_errors=True)


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
