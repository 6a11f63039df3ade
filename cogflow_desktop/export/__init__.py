"""Decrypted exports for analysis: CSV (+ Parquet), JSON, BIDS, Psych-DS, and a ZIP of them all.

Everything streams run by run, so memory stays flat however many runs a study has. The entry
point is `service.export_study`; the CLI and the Qt app both call it.
"""

from cogflow_desktop.export.options import (
    FORMATS,
    ExportCancelled,
    ExportOptions,
    ExportProgress,
    ExportResult,
    WrittenFile,
)
from cogflow_desktop.export.service import audit_refusal, export_for_session, export_study

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
