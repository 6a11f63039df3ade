"""Tidy CSV: one row per trial, metadata columns first, then the data vocabulary, then every
other field in the order it was first seen across all runs.

The header is only known at the end, so rows are spilled (already CSV-formatted) to a temporary
file beside the target, in chunks that record how many columns their rows have. A new field
only ever adds a column at the end, so the final assembly writes the header and copies each
chunk, padding the rows of chunks written before a later column appeared.
"""

from __future__ import annotations

import csv
import io
import struct
from pathlib import Path
from typing import Any, BinaryIO

from cogflow_desktop.export.atomic import CHUNK, atomic_file, temp_name
from cogflow_desktop.export.columns import (
    PLAIN_TYPES,
    VOCAB_COLUMNS,
    cell,
    combined_kind,
    data_column,
    kind,
    meta_cells,
    meta_columns,
)
from cogflow_desktop.export.options import WrittenFile
from cogflow_desktop.export.source import RunRecord

_FRAME = struct.Struct("<IQ")  # columns per row, byte length of the chunk
_CHUNK_CHARS = 1 << 20


class CsvSink:
    def __init__(self, target: Path, *, include_participant_ids: bool) -> None:
        self.target = target
        self._ids = include_participant_ids
        self._meta = meta_columns(include_participant_ids)
        self.columns: list[str] = [*self._meta, *VOCAB_COLUMNS]
        # Recorded field names (not headers): a trial's own `status` is not the run's.
        self._index = dict.fromkeys(VOCAB_COLUMNS, 0)
        self._data_cols: list[str] = list(VOCAB_COLUMNS)
        self._prefix = ""
        self._buf = io.StringIO()
        self._writer = csv.writer(self._buf)
        self._buffered_width = len(self.columns)
        # Distinct per-row type signatures (few), for the codebook's column types.
        self._signatures: set[tuple[type, ...]] = set()
        self._meta_kinds: list[set[str]] = [set() for _ in self._meta]
        self._spill_path = temp_name(target, ".spill")
        self._spill: BinaryIO | None = open(self._spill_path, "xb")  # noqa: SIM115
        self.rows = 0

    def begin_run(self, run: RunRecord) -> None:
        cells = meta_cells(run, self._ids)
        for seen, value in zip(self._meta_kinds, cells, strict=True):
            seen.add(kind(value))
        # The run's metadata cells, CSV-encoded once and written before each of its rows.
        head = io.StringIO()
        csv.writer(head, lineterminator="").writerow([*cells, ""])
        self._prefix = head.getvalue()

    def add_trials(self, trials: list[dict[str, Any]]) -> None:
        index, signatures = self._index, self._signatures
        rows: list[list[Any]] = []
        for trial in trials:
            if not trial.keys() <= index.keys():
                # A new field: rows so far close a chunk of the old width.
                self._write_rows(rows)
                rows = []
                self._flush_chunk()
                self._add_columns(trial)
                self._buffered_width = len(self.columns)
            values = list(map(trial.get, self._data_cols))
            sig = tuple(map(type, values))
            signatures.add(sig)
            if not PLAIN_TYPES.issuperset(sig):
                values = [cell(v) for v in values]
            rows.append(values)
        self._write_rows(rows)
        self.rows += len(trials)

    def _add_columns(self, trial: dict[str, Any]) -> None:
        for name in trial:
            if name not in self._index:
                self._index[name] = 0
                self.columns.append(data_column(name, self._meta))
                self._data_cols.append(name)

    def _write_rows(self, rows: list[list[Any]]) -> None:
        write, writerow, prefix = self._buf.write, self._writer.writerow, self._prefix
        for values in rows:
            write(prefix)
            writerow(values)
        if self._buf.tell() >= _CHUNK_CHARS:
            self._flush_chunk()

    def _flush_chunk(self) -> None:
        """Move the buffered rows to the spill as one chunk; later rows may be wider."""
        text = self._buf.getvalue()
        if text:
            assert self._spill is not None
            data = text.encode("utf-8")
            self._spill.write(_FRAME.pack(self._buffered_width, len(data)))
            self._spill.write(data)
        self._buf.seek(0)
        self._buf.truncate()

    def end_run(self) -> None:
        pass

    def column_types(self) -> dict[str, str]:
        """Each column's type over everything written (for the codebook)."""
        kinds: dict[str, set[str]] = {name: set() for name in self.columns}
        for name, seen in zip(self._meta, self._meta_kinds, strict=True):
            kinds[name] |= seen
        data_headers = self.columns[len(self._meta) :]
        for sig in self._signatures:
            for name, typ in zip(data_headers, sig, strict=False):
                kinds[name].add(_KIND_OF_TYPE.get(typ, "json"))
        return {name: combined_kind(seen) for name, seen in kinds.items()}

    def finish(self) -> list[WrittenFile]:
        self._flush_chunk()
        assert self._spill is not None
        self._spill.close()
        self._spill = None
        try:
            with atomic_file(self.target) as out:
                header = io.StringIO()
                csv.writer(header).writerow(self.columns)
                out.write(header.getvalue().encode("utf-8"))
                self._assemble(out)
        finally:
            self._spill_path.unlink(missing_ok=True)
        return [WrittenFile(self.target.name, out.size, out.hexdigest())]

    def _assemble(self, out: Any) -> None:
        width = len(self.columns)
        with open(self._spill_path, "rb") as spill:
            while frame := spill.read(_FRAME.size):
                chunk_width, size = _FRAME.unpack(frame)
                if chunk_width == width:
                    _copy(spill, out, size)
                    continue
                # Rows from before a later column appeared: pad them with empty cells.
                text = spill.read(size).decode("utf-8")
                buf = io.StringIO()
                writer = csv.writer(buf)
                pad = [""] * (width - chunk_width)
                writer.writerows(row + pad for row in csv.reader(io.StringIO(text, newline="")))
                out.write(buf.getvalue().encode("utf-8"))

    def abort(self) -> None:
        if self._spill is not None:
            self._spill.close()
            self._spill = None
        self._spill_path.unlink(missing_ok=True)


_KIND_OF_TYPE: dict[type, str] = {
    type(None): "null",
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
}


def _copy(src: BinaryIO, dst: Any, size: int) -> None:
    while size > 0:
        data = src.read(min(CHUNK, size))
        if not data:
            raise OSError("The export's temporary file ended early.")
        dst.write(data)
        size -= len(data)
