"""Images a study uses, stored once by content hash under the data folder's media directory.

The type is decided from the file's first bytes, never from its name or the client's header,
and only raster formats are accepted: an SVG can carry script that would run on our origin.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from cogflow_desktop import audit
from cogflow_desktop.services.context import Context
from cogflow_desktop.services.errors import BadRequest, NotFound, ServiceError
from cogflow_desktop.store.models import MediaAsset

MAX_MEDIA_BYTES = 20 * 1024 * 1024
URL_PREFIX = "/media/"
MAX_FILENAME = 255
# Stored names are "<sha256>.<ext>": nothing a request names can leave the media folder.
STORED_NAME_RE = re.compile(r"^([0-9a-f]{64})\.(png|jpg|gif|webp)$")


class MediaTooLarge(ServiceError):
    status = 413


@dataclass(frozen=True)
class ImageType:
    ext: str
    content_type: str


PNG = ImageType("png", "image/png")
JPEG = ImageType("jpg", "image/jpeg")
GIF = ImageType("gif", "image/gif")
WEBP = ImageType("webp", "image/webp")
BY_EXT = {t.ext: t for t in (PNG, JPEG, GIF, WEBP)}
BY_EXT_BY_TYPE = {t.content_type: t.ext for t in BY_EXT.values()}


def sniff_image(data: bytes) -> ImageType | None:
    """The image type from its signature bytes, or None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    return None


def _clean_filename(filename: str | None) -> str:
    # Only kept as a label for the researcher; the stored name is the hash.
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(ch for ch in name if ch.isprintable())
    return name[:MAX_FILENAME] or "image"


def _write_atomically(target: Path, data: bytes) -> None:
    """Write to a temporary file beside the target, flush to disk, then rename over it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def describe(asset: MediaAsset) -> dict[str, Any]:
    ext = BY_EXT_BY_TYPE.get(asset.content_type, "bin")
    return {
        "sha256": asset.sha256,
        "url": f"{URL_PREFIX}{asset.sha256}.{ext}",
        "filename": asset.filename,
        "content_type": asset.content_type,
        "size": asset.size,
    }


def store_image(
    ctx: Context, data: bytes, filename: str | None, *, actor: str, client: str | None
) -> tuple[dict[str, Any], bool]:
    """Store an image (idempotent by content); returns its description and whether it is new."""
    if len(data) > MAX_MEDIA_BYTES:
        limit = MAX_MEDIA_BYTES // (1024 * 1024)
        raise MediaTooLarge(f"The image is larger than {limit} MiB; use a smaller file.")
    if not data:
        raise BadRequest("The uploaded file is empty.")
    kind = sniff_image(data)
    if kind is None:
        raise BadRequest("Only PNG, JPEG, GIF and WebP images can be added.")
    sha = hashlib.sha256(data).hexdigest()
    path = ctx.settings.media_dir / f"{sha}.{kind.ext}"
    # The file goes down (durably) before the row, so a row never points at a missing file;
    # and outside the write transaction, so a large upload never delays a participant's
    # checkpoint. Content-addressed: writing the same bytes twice is harmless.
    if not path.is_file() or path.stat().st_size != len(data):
        _write_atomically(path, data)
    with ctx.write() as s:
        asset = s.scalar(select(MediaAsset).where(MediaAsset.sha256 == sha))
        created = asset is None
        if asset is None:
            asset = MediaAsset(
                sha256=sha,
                filename=_clean_filename(filename),
                content_type=kind.content_type,
                size=len(data),
            )
            s.add(asset)
            s.flush()
            audit.record(
                s,
                "media.add",
                actor=actor,
                client=client,
                target=sha,
                details={"content_type": kind.content_type, "size": len(data)},
            )
        return describe(asset), created


def list_media(ctx: Context) -> list[dict[str, Any]]:
    with ctx.read() as s:
        rows = s.scalars(select(MediaAsset).order_by(MediaAsset.id.desc())).all()
        return [describe(a) for a in rows]


def resolve(ctx: Context, name: str) -> tuple[Path, str]:
    """The file and content type behind a public media name, or NotFound."""
    m = STORED_NAME_RE.match(name)
    if m is None:
        raise NotFound("Not found.")
    path = ctx.settings.media_dir / name
    if not path.is_file():
        raise NotFound("Not found.")
    return path, BY_EXT[m.group(2)].content_type
