"""Parquet beside CSV (optional, needs pyarrow): typed columns and the codebook as metadata.

Each finished CSV table is converted as it is streamed back from disk (memory stays flat): the
column types come from the types the export observed while writing (integer -> int64, number ->
float64, boolean -> bool, the run's start and end times -> UTC timestamps, everything else,
including JSON text and mixed columns, -> string). Every field carries its codebook entry as
metadata (`description`, `units`, `cogflow_type`), and the file's own metadata holds the whole
table's codebook as JSON under `cogflow.codebook`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from cogflow_desktop.export.codebook import meaning, units
from cogflow_desktop.services.errors import BadRequest

_ROW_GROUP_ROWS = 100_000
_TIMESTAMP_COLUMNS = frozenset({"started_at", "completed_at"})
_BAD_COLUMN = re.compile(r"In CSV column #(\d+)")
MISSING = (
    "Parquet output needs the pyarrow package: install it with "
    "`pip install 'cogflow-desktop[parquet]'` (or `pip install pyarrow`)."
)


def require_pyarrow() -> None:
    """Refuse before anything is decrypted when pyarrow is not installed."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise BadRequest(MISSING) from None


def arrow_type(name: str, kind: str) -> Any:
    import pyarrow as pa

    if name in _TIMESTAMP_COLUMNS:
        return pa.timestamp("us", tz="UTC")
    return {"integer": pa.int64(), "number": pa.float64(), "boolean": pa.bool_()}.get(
        kind, pa.string()
    )


def _field(name: str, kind: str, table: str, typ: Any) -> Any:
    import pyarrow as pa

    meta = {"description": meaning(name, table), "cogflow_type": kind}
    unit = units(name, table)
    if unit:
        meta["units"] = unit
    return pa.field(name, typ, metadata=meta)


def csv_to_parquet(source: Path, target: Path, column_types: dict[str, str], table: str) -> None:
    """Write `target` (a new file) from the CSV at `source`."""
    import pyarrow as pa

    types = {name: arrow_type(name, kind) for name, kind in column_types.items()}
    names = list(column_types)
    # A value the observed type cannot hold (an integer beyond 64 bits) makes that column text.
    for _ in range(len(names) + 1):
        try:
            _convert(source, target, names, types, column_types, table)
            return
        except pa.ArrowInvalid as exc:
            target.unlink(missing_ok=True)
            found = _BAD_COLUMN.search(str(exc))
            if found is None or types[names[int(found.group(1))]] == pa.string():
                raise
            types[names[int(found.group(1))]] = pa.string()
    raise RuntimeError("unreachable")


def _convert(
    source: Path,
    target: Path,
    names: list[str],
    types: dict[str, Any],
    kinds: dict[str, str],
    table: str,
) -> None:
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    schema = pa.schema(
        [_field(n, kinds[n], table, types[n]) for n in names],
        metadata={"cogflow.codebook": json.dumps(_codebook(names, kinds, table))},
    )
    convert = pcsv.ConvertOptions(
        column_types=types,
        true_values=["True"],
        false_values=["False"],
        null_values=[""],
        strings_can_be_null=True,
    )
    read = pcsv.ReadOptions(block_size=1 << 22)
    parse = pcsv.ParseOptions(newlines_in_values=True)
    reader = pcsv.open_csv(source, read_options=read, parse_options=parse, convert_options=convert)
    with pq.ParquetWriter(target, schema, compression="zstd") as writer:
        pending: list[Any] = []
        rows = 0
        for batch in reader:
            pending.append(pa.RecordBatch.from_arrays(batch.columns, schema=schema))
            rows += batch.num_rows
            if rows >= _ROW_GROUP_ROWS:
                writer.write_table(pa.Table.from_batches(pending, schema=schema))
                pending, rows = [], 0
        if pending:
            writer.write_table(pa.Table.from_batches(pending, schema=schema))


def _codebook(names: list[str], kinds: dict[str, str], table: str) -> list[dict[str, Any]]:
    return [
        {"name": n, "type": kinds[n], "units": units(n, table) or "", "meaning": meaning(n, table)}
        for n in names
    ]
