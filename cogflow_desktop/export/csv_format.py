"""Tidy CSV: one row per trial, metadata columns first, then the data vocabulary, then every
other field in the order it was first seen across all runs.

The header is only known at the end, so rows are spilled (already CSV-formatted, see csv_rows)
to a temporary file beside the target, in chunks that record how many columns their rows have.
A new field only ever adds a column at the end, so the final assembly writes the header and
copies each chunk, padding the rows of chunks written before a later column appeared.
"""

from __future__ import annotations

import csv
import io
import struct
from pathlib import Path
from typing import Any, BinaryIO

from cogflow_desktop.export.atomic import CHUNK, atomic_file, temp_name
from cogflow_desktop.export.columns import (
    VOCAB_COLUMNS,
    combined_kind,
    data_column,
    kind,
    meta_cells,
    meta_columns,
)
from cogflow_desktop.export.csv_rows import RowFormatter
from cogflow_desktop.export.options import WrittenFile
from cogflow_desktop.export.source import RunRecord

_FRAME = struct.Struct("<IQQ")  # data cells per row, rows, byte length of the chunk
_CHUNK_CHARS = 1 << 20


class CsvSink:
    def __init__(self, target: Path, *, include_participant_ids: bool) -> None:
        self.target = target
        self._ids = include_participant_ids
        self._meta = meta_columns(include_participant_ids)
        # Recorded field names (not headers: a trial's own `status` is not the run's).
        self._rows = RowFormatter(list(VOCAB_COLUMNS))
        self._prefix = ""
        self._pieces: list[str] = []
        self._chars = 0
        self._chunk_rows = 0
        self._chunk_width = len(VOCAB_COLUMNS)
        self._meta_kinds: list[set[str]] = [set() for _ in self._meta]
        self._spill_path = temp_name(target, ".spill")
        self._spill: BinaryIO | None = open(self._spill_path, "xb")  # noqa: SIM115
        self.rows = 0

    @property
    def columns(self) -> list[str]:
        return [*self._meta, *(data_column(n, self._meta) for n in self._rows.fields)]

    def begin_run(self, run: RunRecord) -> None:
        cells = meta_cells(run, self._ids)
        for seen, value in zip(self._meta_kinds, cells, strict=True):
            seen.add(kind(value))
        # The run's metadata cells, CSV-encoded once and written before each of its rows.
        head = io.StringIO()
        csv.writer(head, lineterminator="").writerow([*cells, ""])
        self._prefix = head.getvalue()

    def add_trials(self, trials: list[dict[str, Any]]) -> None:
        for piece in self._rows.format(trials, self._prefix):
            if piece.width != self._chunk_width:
                # Rows so far close a chunk of the old width.
                self._flush_chunk()
                self._chunk_width = piece.width
            self._pieces.append(piece.text)
            self._chars += len(piece.text)
            self._chunk_rows += piece.rows
        if self._chars >= _CHUNK_CHARS:
            self._flush_chunk()
        self.rows += len(trials)

    def _flush_chunk(self) -> None:
        """Move the buffered rows to the spill as one chunk; later rows may be wider."""
        if self._pieces:
            assert self._spill is not None
            data = "".join(self._pieces).encode("utf-8")
            self._spill.write(_FRAME.pack(self._chunk_width, self._chunk_rows, len(data)))
            self._spill.write(data)
        self._pieces, self._chars, self._chunk_rows = [], 0, 0

    def end_run(self) -> None:
        pass

    def column_types(self) -> dict[str, str]:
        """Each column's type over everything written (for the codebook)."""
        kinds = [*self._meta_kinds, *(self._rows.kinds[n] for n in self._rows.fields)]
        return {name: combined_kind(seen) for name, seen in zip(self.columns, kinds, strict=True)}

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
        width = len(self._rows.fields)
        with open(self._spill_path, "rb") as spill:
            while frame := spill.read(_FRAME.size):
                chunk_width, rows, size = _FRAME.unpack(frame)
                if chunk_width == width:
                    _copy(spill, out, size)
                else:
                    # Rows from before a later column appeared: pad them with empty cells.
                    out.write(_pad(spill.read(size), rows, width - chunk_width))

    def abort(self) -> None:
        if self._spill is not None:
            self._spill.close()
            self._spill = None
        self._spill_path.unlink(missing_ok=True)


def _pad(data: bytes, rows: int, missing: int) -> bytes:
    """The chunk's rows with `missing` empty cells appended to each."""
    if data.count(b"\n") == rows and data.count(b"\r") == rows:
        # Every line break ends a row (no cell holds one): append the commas in place.
        return data.replace(b"\r\n", b"," * missing + b"\r\n")
    buf = io.StringIO()
    writer = csv.writer(buf)
    pad = [""] * missing
    text = data.decode("utf-8")
    writer.writerows(row + pad for row in csv.reader(io.StringIO(text, newline="")))
    return buf.getvalue().encode("utf-8")


def _copy(src: BinaryIO, dst: Any, size: int) -> None:
    while size > 0:
        data = src.read(min(CHUNK, size))
        if not data:
            raise OSError("The export's temporary file ended early.")
        dst.write(data)
        size -= len(data)
