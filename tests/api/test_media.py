"""Media upload and serving against a real embedded server on a loopback port."""

from __future__ import annotations

import hashlib
import struct
import zlib
from typing import TYPE_CHECKING

import requests
from sqlalchemy import func, select

from cogflow_desktop.audit import verify_chain
from cogflow_desktop.services import media
from cogflow_desktop.store.models import AuditEvent, MediaAsset

if TYPE_CHECKING:
    from tests.conftest import LiveServer


def tiny_png(rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A valid 1x1 PNG, built here so the test needs no image library."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + bytes(rgb))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_multipart_upload_is_stored_by_hash_and_served(live_server: LiveServer) -> None:
    data = tiny_png()
    sha = hashlib.sha256(data).hexdigest()
    resp = requests.post(
        f"{live_server.url}/api/v1/media",
        files={"file": ("cue red.png", data, "application/octet-stream")},
        timeout=30,
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body == {
        "sha256": sha,
        "url": f"/media/{sha}.png",
        "filename": "cue red.png",
        "content_type": "image/png",
        "size": len(data),
    }
    assert (live_server.ctx.settings.media_dir / f"{sha}.png").read_bytes() == data

    got = requests.get(f"{live_server.url}{body['url']}", timeout=30)
    assert got.status_code == 200
    assert got.content == data
    assert got.headers["Content-Type"] == "image/png"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert "immutable" in got.headers["Cache-Control"]

    listed = requests.get(f"{live_server.url}/api/v1/media", timeout=30).json()["media"]
    assert body in listed


def test_raw_body_upload_and_repeat_upload_is_idempotent(live_server: LiveServer) -> None:
    data = tiny_png((1, 2, 3))
    url = f"{live_server.url}/api/v1/media?filename=dots.png"
    first = requests.post(url, data=data, headers={"Content-Type": "image/png"}, timeout=30)
    second = requests.post(url, data=data, headers={"Content-Type": "image/png"}, timeout=30)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert first.json()["filename"] == "dots.png"
    with live_server.ctx.read() as s:
        count = s.scalar(
            select(func.count())
            .select_from(MediaAsset)
            .where(MediaAsset.sha256 == first.json()["sha256"])
        )
    assert count == 1


def test_type_comes_from_the_bytes_not_the_name(live_server: LiveServer) -> None:
    gif = b"GIF89a" + b"\x01\x00\x01\x00\x00\x00\x00;"
    resp = requests.post(
        f"{live_server.url}/api/v1/media",
        files={"file": ("photo.png", gif, "image/png")},
        timeout=30,
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["content_type"] == "image/gif"
    assert resp.json()["url"].endswith(".gif")


def test_svg_html_and_empty_files_are_refused(live_server: LiveServer) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    for name, data in (("x.svg", svg), ("x.html", b"<html></html>"), ("x.png", b"")):
        resp = requests.post(
            f"{live_server.url}/api/v1/media",
            files={"file": (name, data, "image/svg+xml")},
            timeout=30,
        )
        assert resp.status_code == 400, resp.text
        assert isinstance(resp.json()["error"], str)
    assert not any(live_server.ctx.settings.media_dir.glob("*.svg"))


def test_missing_form_field_is_a_plain_error(live_server: LiveServer) -> None:
    resp = requests.post(
        f"{live_server.url}/api/v1/media",
        files={"image": ("x.png", tiny_png(), "image/png")},
        timeout=30,
    )
    assert resp.status_code == 400
    assert resp.json() == {"error": "Send the image in a form field named 'file'."}


def test_too_large_is_refused_with_413(live_server: LiveServer) -> None:
    data = tiny_png() + b"\x00" * media.MAX_MEDIA_BYTES
    resp = requests.post(
        f"{live_server.url}/api/v1/media?filename=big.png",
        data=data,
        headers={"Content-Type": "image/png"},
        timeout=60,
    )
    assert resp.status_code == 413
    assert "20 MiB" in resp.json()["error"]


def test_foreign_origin_cannot_upload(live_server: LiveServer) -> None:
    resp = requests.post(
        f"{live_server.url}/api/v1/media",
        files={"file": ("x.png", tiny_png((9, 9, 9)), "image/png")},
        headers={"Origin": "http://evil.example"},
        timeout=30,
    )
    assert resp.status_code == 403


def test_unknown_or_malformed_names_are_404(live_server: LiveServer) -> None:
    for name in ("0" * 64 + ".png", "..%2Fcogflow.sqlite3", "abc.png", "0" * 64 + ".svg"):
        resp = requests.get(f"{live_server.url}/media/{name}", timeout=30)
        assert resp.status_code == 404, name
        assert resp.json() == {"detail": "Not found."} or resp.json() == {"error": "Not found."}


def test_uploads_are_audited_in_the_chain(live_server: LiveServer) -> None:
    data = tiny_png((4, 5, 6))
    resp = requests.post(
        f"{live_server.url}/api/v1/media",
        files={"file": ("a.png", data, "image/png")},
        timeout=30,
    )
    assert resp.status_code == 201
    with live_server.ctx.read() as s:
        targets = s.scalars(select(AuditEvent.target).where(AuditEvent.action == "media.add"))
        assert resp.json()["sha256"] in list(targets)
        assert verify_chain(s).ok
