"""One tidy CSV table: lead columns (the same cells for a stretch of rows, e.g. a run's
metadata), then data fields in the order they were first seen.

The header is only known at the end, so rows are spilled (already CSV-formatted, see csv_rows)
to a temporary file beside the target, in chunks that record how many columns their rows have.
A new field only ever adds a column at the end, so the final assembly writes the header and
copies each chunk, padding the rows of chunks written before a later column appeared.
"""

from __future__ import annotations

import csv
import io
import os
import struct
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from cogflow_desktop.export.atomic import CHUNK, HashingWriter, file_sha256, fsync_dir, temp_name
from cogflow_desktop.export.columns import combined_kind, data_column, kind
from cogflow_desktop.export.csv_rows import RowFormatter
from cogflow_desktop.export.options import WrittenFile

_FRAME = struct.Struct("<IQQ")  # data cells per row, rows, byte length of the chunk
_CHUNK_CHARS = 1 << 20


class TidyTable:
    def __init__(
        self, target: Path, lead_columns: Sequence[str], first_fields: Sequence[str]
    ) -> None:
        self.target = target
        self.lead_columns = tuple(lead_columns)
        # Recorded field names (not headers: a trial's own `status` is not the run's).
        self._rows = RowFormatter(list(first_fields))
        self._prefix = ""
        self._pieces: list[str] = []
        self._chars = 0
        self._chunk_rows = 0
        self._chunk_width = len(first_fields)
        self._lead_kinds: list[set[str]] = [set() for _ in self.lead_columns]
        self._spill_path = temp_name(target, ".spill")
        self._spill: BinaryIO | None = open(self._spill_path, "xb")  # noqa: SIM115
        self._staged: Path | None = None
        self.rows = 0

    @property
    def fields(self) -> list[str]:
        return self._rows.fields

    @property
    def columns(self) -> list[str]:
        return [*self.lead_columns, *(data_column(n, self.lead_columns) for n in self.fields)]

    def set_lead(self, cells: list[Any]) -> None:
        """The lead cells of the rows that follow, CSV-encoded once and written before each."""
        if not self.lead_columns:
            return
        for seen, value in zip(self._lead_kinds, cells, strict=True):
            seen.add(kind(value))
        head = io.StringIO()
        csv.writer(head, lineterminator="").writerow([*cells, ""])
        self._prefix = head.getvalue()

    def add(self, rows: list[dict[str, Any]]) -> None:
        for piece in self._rows.format(rows, self._prefix):
            if piece.width != self._chunk_width:
                # Rows so far close a chunk of the old width.
                self._flush_chunk()
                self._chunk_width = piece.width
            self._pieces.append(piece.text)
            self._chars += len(piece.text)
            self._chunk_rows += piece.rows
        if self._chars >= _CHUNK_CHARS:
            self._flush_chunk()
        self.rows += len(rows)

    def _flush_chunk(self) -> None:
        """Move the buffered rows to the spill as one chunk; later rows may be wider."""
        if self._pieces:
            assert self._spill is not None
            data = "".join(self._pieces).encode("utf-8")
            self._spill.write(_FRAME.pack(self._chunk_width, self._chunk_rows, len(data)))
            self._spill.write(data)
        self._pieces, self._chars, self._chunk_rows = [], 0, 0

    def column_types(self) -> dict[str, str]:
        """Each column's type over everything written (for the codebook)."""
        kinds = [*self._lead_kinds, *(self._rows.kinds[n] for n in self.fields)]
        return {name: combined_kind(seen) for name, seen in zip(self.columns, kinds, strict=True)}

    def stage(self) -> WrittenFile:
        """Write the finished table under a temporary name beside the target, synced to disk;
        `commit` renames it into place."""
        self._flush_chunk()
        assert self._spill is not None
        self._spill.close()
        self._spill = None
        staged = temp_name(self.target)
        try:
            with open(staged, "xb") as fh:
                out = HashingWriter(fh)
                header = io.StringIO()
                csv.writer(header).writerow(self.columns)
                out.write(header.getvalue().encode("utf-8"))
                self._assemble(out)
                fh.flush()
                os.fsync(fh.fileno())
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        finally:
            self._spill_path.unlink(missing_ok=True)
        self._staged = staged
        return WrittenFile(self.target.name, out.size, out.hexdigest())

    @property
    def staged(self) -> Path:
        """The finished file under its temporary name (between `stage` and `commit`)."""
        assert self._staged is not None
        return self._staged

    def commit(self) -> None:
        assert self._staged is not None
        os.replace(self._staged, self.target)
        self._staged = None

    def _assemble(self, out: Any) -> None:
        width = len(self.fields)
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
        if self._staged is not None:
            self._staged.unlink(missing_ok=True)
            self._staged = None


def stage_and_commit(
    tables: Sequence[TidyTable],
    derive: Callable[[TidyTable], list[tuple[Path, Path]]] | None = None,
) -> list[WrittenFile]:
    """Finish several tables so that either all appear under their names or none does.

    `derive` may make more files from each staged table (Parquet): it returns (temporary file,
    final name) pairs, renamed with the tables."""
    extra: list[tuple[Path, Path]] = []
    try:
        written = [t.stage() for t in tables]
        if derive is not None:
            for t in tables:
                for tmp, final in derive(t):
                    extra.append((tmp, final))
                    size, sha = file_sha256(tmp)
                    written.append(WrittenFile(final.name, size, sha))
    except BaseException:
        for t in tables:
            t.abort()
        for tmp, _final in extra:
            tmp.unlink(missing_ok=True)
        raise
    for t in tables:
        t.commit()
    for tmp, final in extra:
        os.replace(tmp, final)
    for folder in {t.target.parent for t in tables}:
        fsync_dir(folder)
    return written


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
