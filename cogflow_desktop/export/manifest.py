"""A manifest of files with their SHA-256, collected on disk (not in memory) as files are made."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cogflow_desktop.export.atomic import HashingWriter
from cogflow_desktop.export.options import WrittenFile

MANIFEST_NAME = "manifest.json"


class Manifest:
    def __init__(self, spill: Path) -> None:
        self._spill_path = spill
        self._spill = open(spill, "x", encoding="utf-8")  # noqa: SIM115
        self.count = 0

    def add(self, entry: WrittenFile) -> None:
        self._spill.write(json.dumps([entry.path, entry.bytes, entry.sha256]) + "\n")
        self.count += 1

    def write(self, target: Path, header: dict[str, Any]) -> WrittenFile:
        """Write the manifest file (header fields, then every entry) and drop the spill."""
        self._spill.close()
        with open(target, "xb") as fh, open(self._spill_path, encoding="utf-8") as entries:
            out = HashingWriter(fh)
            head = json.dumps(header, ensure_ascii=False, indent=1)[:-2]
            out.write((head + ',\n "files": [').encode("utf-8"))
            for n, line in enumerate(entries):
                path, size, sha = json.loads(line)
                entry = json.dumps({"path": path, "bytes": size, "sha256": sha})
                out.write((("\n  " if n == 0 else ",\n  ") + entry).encode("utf-8"))
            out.write(b"\n ]\n}\n")
            fh.flush()
            os.fsync(fh.fileno())
        self.discard()
        return WrittenFile(target.name, out.size, out.hexdigest())

    def discard(self) -> None:
        self._spill.close()
        self._spill_path.unlink(missing_ok=True)
