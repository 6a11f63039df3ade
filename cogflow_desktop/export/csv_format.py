"""Tidy CSV: one row per trial, metadata columns first, then the data vocabulary, then every
other field in the order it was first seen across all runs.

Declared continuous streams (streams.py) are taken out of the trial rows (which keep a count)
and written as long tables of their own beside the trial table: `<name>_<table>.csv`, one row
per sample, joined to the trials by `run_session_id` + `trial_index`. All the files appear
together once complete, or none does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from operator import methodcaller
from pathlib import Path
from typing import Any

from cogflow_desktop.export.atomic import temp_name
from cogflow_desktop.export.columns import VOCAB_COLUMNS, meta_cells, meta_columns
from cogflow_desktop.export.options import WrittenFile
from cogflow_desktop.export.source import RunRecord
from cogflow_desktop.export.streams import (
    JOIN_KEYS,
    STREAMS,
    Stream,
    StreamSplitter,
    all_streams,
)
from cogflow_desktop.export.tidy_table import TidyTable, stage_and_commit

TRIALS_TABLE = "trials"


@dataclass(frozen=True)
class Table:
    """A finished table: its name, file, and each column's observed type."""

    name: str  # "trials", or the stream's table name
    path: Path
    column_types: dict[str, str]
    stream: Stream | None = None


def stream_path_beside(target: Path) -> Callable[[Stream], Path]:
    return lambda stream: target.with_name(f"{target.stem}_{stream.table}{target.suffix}")


def stream_first_fields(stream: Stream, parents: dict[str, Stream]) -> list[str]:
    """The leading columns of a stream table: join keys, the parent's index, its own index."""
    first = list(JOIN_KEYS)
    parent = parents.get(stream.table)
    if parent is not None:
        first.append(parent.index_column)
    first.append(stream.index_column)
    return first


class CsvSink:
    def __init__(
        self,
        target: Path,
        *,
        include_participant_ids: bool,
        streams: tuple[Stream, ...] = STREAMS,
        stream_path: Callable[[Stream], Path] | None = None,
        parquet: bool = False,
    ) -> None:
        self.target = target
        self._parquet = parquet
        self._ids = include_participant_ids
        self._trials = TidyTable(target, meta_columns(include_participant_ids), VOCAB_COLUMNS)
        self._splitter = StreamSplitter(streams)
        self._stream_path = stream_path or stream_path_beside(target)
        self._parents = {c.table: s for s in all_streams(streams) for c in s.nested}
        self._streams: dict[str, tuple[Stream, TidyTable]] = {}
        self._run_id = ""

    @property
    def rows(self) -> int:
        return self._trials.rows

    @property
    def columns(self) -> list[str]:
        return self._trials.columns

    def begin_run(self, run: RunRecord) -> None:
        self._trials.set_lead(meta_cells(run, self._ids))
        self._run_id = run.run_session_id

    def add_trials(self, trials: list[dict[str, Any]]) -> None:
        fields = self._splitter.fields
        # keys().isdisjoint iterates over the (few) stream fields: cheap for every trial, and
        # mapped in C (no Python frame per trial) for the usual page that has none.
        if fields and not all(map(methodcaller("isdisjoint", fields), map(dict.keys, trials))):
            trials = [t if t.keys().isdisjoint(fields) else self._split(t) for t in trials]
        self._trials.add(trials)

    def _split(self, trial: dict[str, Any]) -> dict[str, Any]:
        kept, found = self._splitter.split(self._run_id, trial)
        for stream, rows in found:
            if rows:
                self._table(stream).add(rows)
        return kept

    def _table(self, stream: Stream) -> TidyTable:
        entry = self._streams.get(stream.table)
        if entry is None:
            first = stream_first_fields(stream, self._parents)
            entry = self._streams[stream.table] = (
                stream,
                TidyTable(self._stream_path(stream), (), first),
            )
        return entry[1]

    def end_run(self) -> None:
        pass

    def column_types(self) -> dict[str, str]:
        """Each trial-table column's type over everything written (for the codebook)."""
        return self._trials.column_types()

    def tables(self) -> list[Table]:
        """The trial table, then each stream table that received rows (after `finish`)."""
        found = [Table(TRIALS_TABLE, self.target, self._trials.column_types())]
        for stream, table in self._streams.values():
            found.append(Table(stream.table, table.target, table.column_types(), stream))
        return found

    def finish(self) -> list[WrittenFile]:
        tables = [self._trials, *(t for _, t in self._streams.values())]
        return stage_and_commit(tables, self._to_parquet if self._parquet else None)

    def _to_parquet(self, table: TidyTable) -> list[tuple[Path, Path]]:
        """The staged CSV as Parquet, beside it (`<name>.parquet`), under a temporary name."""
        from cogflow_desktop.export.parquet import csv_to_parquet

        name = TRIALS_TABLE
        for stream, t in self._streams.values():
            if t is table:
                name = stream.table
        final = table.target.with_suffix(".parquet")
        tmp = temp_name(final)
        try:
            csv_to_parquet(table.staged, tmp, table.column_types(), name)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return [(tmp, final)]

    def abort(self) -> None:
        for table in (self._trials, *(t for _, t in self._streams.values())):
            table.abort()
