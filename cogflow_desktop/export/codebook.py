"""The codebook: every exported column with its type, its meaning where known, and where it is."""

from __future__ import annotations

import csv
import io

from cogflow_desktop.export.bids_format import EVENT_COLUMNS
from cogflow_desktop.export.columns import MEANINGS, meta_columns

CODEBOOK_COLUMNS = ("name", "type", "meaning", "appears_in")

_JSON_ONLY = {
    "task_type": ("string", "The config's task_type (run level in JSON, per trial elsewhere)."),
    "trial_count": ("integer", "Trial count the run reported."),
    "result_payload": ("json", "The run's result payload (final, or latest checkpoint)."),
    "result_summary": ("json", "The run's summary as submitted; empty if never submitted."),
    "trials": ("json", "The run's trial rows, in trial_index order."),
}
_EVENT_TYPES = {"onset": "number", "duration": "number", "trial_type": "string"}


def codebook_csv(column_types: dict[str, str], include_participant_ids: bool) -> bytes:
    """`column_types`: the CSV's columns, in order, with the type each held."""
    meta = set(meta_columns(include_participant_ids))
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CODEBOOK_COLUMNS)
    for name, typ in column_types.items():
        if name in meta:
            where = "csv, json"
        elif name == "component_type":
            where = "csv, json (trials); events as trial_type"
        else:
            where = "csv, json (trials), events"
        writer.writerow([name, typ, MEANINGS.get(name, ""), where])
    for name in EVENT_COLUMNS:
        typ = _EVENT_TYPES.get(name) or column_types.get("rt_ms", "number")
        writer.writerow([name, typ, MEANINGS[name], "events"])
    for name, (typ, meaning) in _JSON_ONLY.items():
        if name in column_types:
            continue
        writer.writerow([name, typ, meaning, "json (run)"])
    return buf.getvalue().encode("utf-8")
