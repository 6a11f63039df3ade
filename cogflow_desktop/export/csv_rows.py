"""Trial dicts to CSV lines, fast and byte for byte what `csv.writer` writes.

`csv.writer` converts and scans every cell of every row. But trials come in few shapes (the
same field names in the same order, the same value types), so each shape gets a `str.format`
template, built once: absent fields and None are empty cells, every other scalar is `str()` of
it (a float's repr, `True`/`False`), as `csv.writer` does. A page's lines are then checked at
once: if no cell held a comma, a quote or a line break, nothing needed quoting and the text is
what `csv.writer` would have written. Rows that need quoting, and rows with nested values
(JSON text cells), go through `csv.writer` itself.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any, NamedTuple

from cogflow_desktop.export.columns import PLAIN_TYPES, cell

Shape = tuple[tuple[str, ...], tuple[type, ...]]


class Piece(NamedTuple):
    width: int  # data cells per row
    rows: int
    text: str


# A shape's template: the row's line, or None for a row that goes through csv.writer.
Template = Callable[..., str | None]

_KIND_OF_TYPE: dict[type, str] = {
    type(None): "null",
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
}


class RowFormatter:
    """Formats trials into CSV lines under a growing list of data fields (new fields are
    appended as they are first seen; the sink decides what that means for earlier rows)."""

    def __init__(self, fields: list[str]) -> None:
        self.fields = fields
        self._index = dict.fromkeys(fields)
        self._templates: dict[Shape, Template] = {}
        # Every value type seen per field, for the codebook.
        self.kinds: dict[str, set[str]] = {name: set() for name in fields}
        self._buf = io.StringIO()
        self._writer = csv.writer(self._buf)

    def format(self, trials: list[dict[str, Any]], prefix: str) -> list[Piece]:
        """The trials as CSV text, each line led by `prefix` (the run's cells, CSV-encoded,
        ending in a comma): one piece per stretch of rows of one width."""
        pieces: list[Piece] = []
        templates = self._templates
        lines: list[str | None] = []
        append = lines.append
        start = 0
        shape: Shape | None = None
        template: Template = _via_csv
        for trial in trials:
            values = trial.values()
            row_shape = (tuple(trial), tuple(map(type, values)))
            # Runs of rows of one shape are the rule: comparing is cheaper than hashing.
            if row_shape != shape:
                shape = row_shape
                template = templates.get(shape, _UNKNOWN)
                if template is _UNKNOWN:
                    if not trial.keys() <= self._index.keys():
                        # A new field widens the rows from here on.
                        if lines:
                            pieces.append(self._text(lines, trials, start, prefix))
                            start += len(lines)
                            lines = []
                            append = lines.append
                        self._add_fields(trial)
                    template = templates[shape] = self._template(shape)
            append(template(*values))
        if lines:
            pieces.append(self._text(lines, trials, start, prefix))
        return pieces

    def _add_fields(self, trial: dict[str, Any]) -> None:
        for name in trial:
            if name not in self._index:
                self._index[name] = None
                self.fields.append(name)
                self.kinds[name] = set()
        self._templates.clear()  # every template now needs the new trailing cells

    def _template(self, shape: Shape) -> Template:
        names, types = shape
        for name, typ in zip(names, types, strict=True):
            self.kinds[name].add(_KIND_OF_TYPE.get(typ, "json"))
        if not PLAIN_TYPES.issuperset(types):
            return _via_csv
        at = {name: i for i, name in enumerate(names)}
        cells = []
        for name in self.fields:
            i = at.get(name)
            cells.append("" if i is None or types[i] is type(None) else f"{{{i}}}")
        return ",".join(cells).format

    def _text(
        self, lines: list[str | None], trials: list[dict[str, Any]], start: int, prefix: str
    ) -> Piece:
        width, n = len(self.fields), len(lines)
        if None not in lines:
            text = "\r\n".join(lines)  # type: ignore[arg-type]
            # Each line has exactly width - 1 separators; any other comma, quote or line
            # break is inside a cell, which csv.writer would have quoted.
            if (
                text.count(",") == n * (width - 1)
                and '"' not in text
                and text.count("\r") == n - 1
                and text.count("\n") == n - 1
            ):
                return Piece(width, n, prefix + text.replace("\r\n", "\r\n" + prefix) + "\r\n")
        return Piece(width, n, self._slow_text(lines, trials, start, prefix))

    def _slow_text(
        self, lines: list[str | None], trials: list[dict[str, Any]], start: int, prefix: str
    ) -> str:
        buf, writerow, width = self._buf, self._writer.writerow, len(self.fields)
        buf.seek(0)
        buf.truncate()
        for line, trial in zip(lines, trials[start:], strict=False):
            buf.write(prefix)
            if line is None or not _plain_line(line, width):
                writerow([cell(v) for v in map(trial.get, self.fields)])
            else:
                buf.write(line)
                buf.write("\r\n")
        return buf.getvalue()


def _plain_line(line: str, width: int) -> bool:
    return (
        line.count(",") == width - 1 and '"' not in line and "\r" not in line and "\n" not in line
    )


def _via_csv(*_values: Any) -> None:
    """The template of shapes with nested values (JSON text cells): csv.writer writes them."""
    return None


_UNKNOWN: Any = object()
