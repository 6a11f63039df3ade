"""Trial dicts to CSV lines, fast and byte for byte what `csv.writer` writes.

`csv.writer` converts and scans every cell of every row. But trials come in few shapes (the
same field names in the same order, the same value types), so each shape gets a line builder,
compiled once: an f-string over the row's values in the declared column order, where absent
fields and None are empty cells and every other scalar is formatted as `str()` formats it (a
float's repr, `True`/`False`), as `csv.writer` does. A page whose trials all have one shape
(the rule) is formatted by one compiled comprehension, with the shapes compared in C
(`map`/`tuple`), not row by row in Python. A page's lines are then checked at once: if no cell
held a comma, a quote or a line break, nothing needed quoting and the text is what
`csv.writer` would have written. Rows that need quoting, and rows with nested values (JSON
text cells), go through `csv.writer` itself.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, NamedTuple

import orjson

from cogflow_desktop.export.columns import PLAIN_TYPES, cell

Shape = tuple[tuple[str, ...], tuple[type, ...]]


class Piece(NamedTuple):
    width: int  # data cells per row
    rows: int
    text: str


# A shape's template: the row's line, or None for a row that goes through csv.writer.
Template = Callable[..., str | None]
# A shape's page builder: the lines of many rows of that shape, from their values.
PageTemplate = Callable[[list[dict[str, Any]]], list[str | None]]

_value_types = partial(map, type)  # map(type, values) without a Python-level call per row

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
        self._pages: dict[Shape, PageTemplate] = {}
        # Every value type seen per field, for the codebook.
        self.kinds: dict[str, set[str]] = {name: set() for name in fields}
        self._buf = io.StringIO()
        self._writer = csv.writer(self._buf)

    def format(self, trials: list[dict[str, Any]], prefix: str) -> list[Piece]:
        """The trials as CSV text, each line led by `prefix` (the run's cells, CSV-encoded,
        ending in a comma): one piece per stretch of rows of one width."""
        if not trials:
            return []
        # Every row's shape, computed in C; a page of one shape is formatted in one call.
        shapes = list(
            zip(
                map(tuple, trials),
                map(tuple, map(_value_types, map(dict.values, trials))),
                strict=True,
            )
        )
        first = shapes[0]
        if shapes.count(first) == len(shapes):
            self._shape_template(first, trials[0])
            lines = self._pages[first](trials)
            return [self._text(lines, trials, 0, prefix)]
        return self._format_mixed(trials, shapes, prefix)

    def _format_mixed(
        self, trials: list[dict[str, Any]], shapes: list[Shape], prefix: str
    ) -> list[Piece]:
        pieces: list[Piece] = []
        templates = self._templates
        lines: list[str | None] = []
        append = lines.append
        start = 0
        shape: Shape | None = None
        template: Template = _via_csv
        for trial, row_shape in zip(trials, shapes, strict=True):
            # Runs of rows of one shape are the rule: comparing is cheaper than hashing.
            if row_shape != shape:
                shape = row_shape
                template = templates.get(shape, _UNKNOWN)
                if template is _UNKNOWN:
                    if lines and not trial.keys() <= self._index.keys():
                        # A new field widens the rows from here on: close the narrower ones.
                        pieces.append(self._text(lines, trials, start, prefix))
                        start += len(lines)
                        lines = []
                        append = lines.append
                    template = self._shape_template(shape, trial)
            append(template(*trial.values()))
        if lines:
            pieces.append(self._text(lines, trials, start, prefix))
        return pieces

    def _shape_template(self, shape: Shape, trial: dict[str, Any]) -> Template:
        """The shape's line builder (and page builder), made on first sight; a trial with
        fields not seen before adds them first (the caller has closed the narrower rows)."""
        template = self._templates.get(shape)
        if template is None:
            if not trial.keys() <= self._index.keys():
                self._add_fields(trial)
            template, page = self._template(shape)
            self._templates[shape] = template
            self._pages[shape] = page
        return template

    def _add_fields(self, trial: dict[str, Any]) -> None:
        for name in trial:
            if name not in self._index:
                self._index[name] = None
                self.fields.append(name)
                self.kinds[name] = set()
        # Every template now needs the new trailing cells.
        self._templates.clear()
        self._pages.clear()

    def _template(self, shape: Shape) -> tuple[Template, PageTemplate]:
        names, types = shape
        for name, typ in zip(names, types, strict=True):
            self.kinds[name].add(_KIND_OF_TYPE.get(typ, "json"))
        if not PLAIN_TYPES.issuperset(types):
            return _via_csv, _page_via_csv
        at = {name: i for i, name in enumerate(names)}
        cells = []
        for name in self.fields:
            i = at.get(name)
            cells.append("" if i is None or types[i] is type(None) else f"{{_{i}}}")
        line, page = _compile_line(len(names), ",".join(cells))
        floats = tuple(i for i, typ in enumerate(types) if typ is float and _FLOATS_AS_REPR)
        return line, partial(_page, page, floats)

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


def _compile_line(arity: int, body: str) -> tuple[Template, PageTemplate]:
    """An f-string over positional values `_0`.. (`body` names them as `{_i}`, between
    literal commas): the same text `str.format` would give (both format each value with an
    empty format spec, which is `str()` for the plain types), without parsing the template
    on every row. Only `_i` names and commas are compiled, never a field name or a value.
    The page builder unpacks each row's values in a comprehension: one call per page."""
    names = ", ".join(f"_{i}" for i in range(arity)) + ("," if arity == 1 else "")
    literal = "f" + repr(body)  # repr() escapes nothing here: only commas, braces, _digits
    source = (
        f"def line({names}):\n    return {literal}\n"
        f"def page(rows):\n    return [{literal} for ({names}) in rows]\n"
    )
    space: dict[str, Any] = {}
    exec(compile(source, "<csv_rows line>", "exec"), space)
    return space["line"], space["page"]


def _page(
    page: Callable[[Iterable[Any]], list[str | None]],
    floats: tuple[int, ...],
    trials: list[dict[str, Any]],
) -> list[str | None]:
    """A page's lines with its float columns turned to text in one orjson call per column
    (a float's repr is most of a row's cost), where that text is exactly what repr gives."""
    if not floats:
        return page(map(dict.values, trials))
    columns: list[Any] = list(zip(*map(dict.values, trials), strict=True))
    for i in floats:
        text = orjson.dumps(columns[i]).decode()
        if _same_as_repr(text):
            columns[i] = text[1:-1].split(",")
    return page(zip(*columns, strict=True))


def _same_as_repr(text: str) -> bool:
    """orjson writes a float as repr() does (the same shortest round-trip digits) except in
    exponent form ('1e-9', repr '1e-09'), for magnitudes below 1e-4 (orjson '0.00002...', repr
    '2e-05') and for inf/nan (orjson 'null'). A column holding none of those is repr's text."""
    return "e" not in text and "n" not in text and "0.0000" not in text


def _orjson_floats_match_repr() -> bool:
    """Checked once at import: if an orjson release ever formats floats differently, every
    float goes through repr() (slower, same bytes)."""
    probe = (0.0, -0.0, 0.1 + 0.2, 1e-4, 1.5e-4, 350.125, 1587.37, 2.0**52 + 0.5, 9.999e15)
    text = orjson.dumps(probe).decode()
    return _same_as_repr(text) and text[1:-1].split(",") == [repr(x) for x in probe]


_FLOATS_AS_REPR = _orjson_floats_match_repr()


def _via_csv(*_values: Any) -> None:
    """The template of shapes with nested values (JSON text cells): csv.writer writes them."""
    return None


def _page_via_csv(trials: list[dict[str, Any]]) -> list[str | None]:
    return [None] * len(trials)


_UNKNOWN: Any = object()
