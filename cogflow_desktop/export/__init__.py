"""Decrypted exports for analysis: CSV (+ Parquet), JSON, BIDS, Psych-DS, and a ZIP of them all.

Everything streams run by run, so memory stays flat however many runs a study has. The entry
point is `service.export_study`; the CLI and the Qt app both call it.
"""

from typing import Any

from cogflow_desktop.export.options import (
    FORMATS,
    ExportCancelled,
    ExportOptions,
    ExportProgress,
    ExportResult,
    WrittenFile,
)

# The service (and the formats, pyarrow included) is imported on first use: the desktop app's
# first screen needs only the option types.
_SERVICE = {"audit_refusal", "export_for_session", "export_study"}


def __getattr__(name: str) -> Any:
    if name in _SERVICE:
        from cogflow_desktop.export import service

        return getattr(service, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FORMATS",
    "ExportCancelled",
    "ExportOptions",
    "ExportProgress",
    "ExportResult",
    "WrittenFile",
    "audit_refusal",
    "export_for_session",
    "export_study",
]
