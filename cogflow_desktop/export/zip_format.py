"""ZIP: the CSV tables (with Parquet if asked), the JSON, the BIDS and Psych-DS folders, a
codebook and a manifest, in one archive.

The formats are built in a staging folder beside the target (as each would be on its own),
then packed; the manifest lists every member with its SHA-256.
"""

from __future__ import annotations

import hashlib
import shutil
import zipfile
from pathlib import Path
from typing import Any

from cogflow_desktop.export.atomic import CHUNK, atomic_path, file_sha256, temp_name
from cogflow_desktop.export.bids_format import BidsSink
from cogflow_desktop.export.codebook import codebook_csv
from cogflow_desktop.export.csv_format import CsvSink
from cogflow_desktop.export.json_format import JsonSink
from cogflow_desktop.export.manifest import MANIFEST_NAME, Manifest
from cogflow_desktop.export.options import WrittenFile
from cogflow_desktop.export.psychds_format import PsychDsSink
from cogflow_desktop.export.source import RunRecord

CODEBOOK_NAME = "codebook.csv"


class ZipSink:
    def __init__(
        self,
        target: Path,
        *,
        study_slug: str,
        study_name: str,
        include_participant_ids: bool,
        parquet: bool = False,
    ) -> None:
        self.target = target
        self._slug = study_slug
        self._ids = include_participant_ids
        self._staging = temp_name(target, ".d")
        self._staging.mkdir()
        self._sinks: list[Any] = []
        try:
            self._csv = CsvSink(
                self._staging / f"{study_slug}_trials.csv",
                include_participant_ids=include_participant_ids,
                stream_path=lambda s: self._staging / f"{study_slug}_{s.table}.csv",
                parquet=parquet,
            )
            self._sinks.append(self._csv)
            self._sinks.append(
                JsonSink(
                    self._staging / f"{study_slug}_results.json",
                    study_slug=study_slug,
                    include_participant_ids=include_participant_ids,
                )
            )
            self._sinks.append(
                BidsSink(
                    self._staging / "bids",
                    study_slug=study_slug,
                    study_name=study_name,
                    include_ids=include_participant_ids,
                )
            )
            self._sinks.append(
                PsychDsSink(
                    self._staging / "psychds",
                    study_slug=study_slug,
                    study_name=study_name,
                    include_participant_ids=include_participant_ids,
                )
            )
        except BaseException:
            self.abort()
            raise

    def begin_run(self, run: RunRecord) -> None:
        for sink in self._sinks:
            sink.begin_run(run)

    def add_trials(self, trials: list[dict[str, Any]]) -> None:
        for sink in self._sinks:
            sink.add_trials(trials)

    def end_run(self) -> None:
        for sink in self._sinks:
            sink.end_run()

    def finish(self) -> list[WrittenFile]:
        for sink in self._sinks:
            sink.finish()
        tables = [(t.name, t.column_types) for t in self._csv.tables()]
        (self._staging / CODEBOOK_NAME).write_bytes(codebook_csv(tables, self._ids))
        members = sorted(
            (p for p in self._staging.rglob("*") if p.is_file()),
            key=lambda p: (p.parent != self._staging, p.as_posix()),
        )
        manifest = Manifest(temp_name(self.target, ".manifest"))
        try:
            with (
                atomic_path(self.target) as tmp,
                zipfile.ZipFile(tmp, "x", zipfile.ZIP_DEFLATED, allowZip64=True) as zf,
            ):
                for path in members:
                    name = path.relative_to(self._staging).as_posix()
                    manifest.add(_pack(zf, path, name))
                manifest_path = self._staging / MANIFEST_NAME
                manifest.write(
                    manifest_path, {"format": "cogflow-desktop-zip", "study_slug": self._slug}
                )
                manifest_file = _pack(zf, manifest_path, MANIFEST_NAME)
        finally:
            manifest.discard()
        shutil.rmtree(self._staging, ignore_errors=True)
        size, sha = file_sha256(self.target)
        return [WrittenFile(self.target.name, size, sha), manifest_file]

    def abort(self) -> None:
        for sink in self._sinks:
            sink.abort()
        shutil.rmtree(self._staging, ignore_errors=True)


def _pack(zf: zipfile.ZipFile, path: Path, name: str) -> WrittenFile:
    """Copy one staged file into the archive, hashing what goes in."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as src, zf.open(name, "w", force_zip64=True) as dst:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            dst.write(chunk)
    return WrittenFile(name, size, digest.hexdigest())
