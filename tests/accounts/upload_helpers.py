"""Files for the upload tests, made here: real images, a PDF, and the bad ones."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def image_bytes(fmt: str = "JPEG", size=(1600, 1200), color=(200, 30, 30), exif=True) -> bytes:
    image = Image.new("RGB", size, color)
    out = io.BytesIO()
    kwargs = {}
    if exif and fmt == "JPEG":
        data = Image.Exif()
        data[0x010F] = "SecretCam"  # Make
        data[0x8298] = "Copyright Patient Private"  # Copyright
        kwargs["exif"] = data.tobytes()
    image.save(out, format=fmt, **kwargs)
    return out.getvalue()


def pdf_bytes() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
        b"2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\n"
        b"trailer <</Root 1 0 R>>\n%%EOF\n"
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(width: int = 50000, height: int = 50000) -> bytes:
    """A small file whose header declares width x height pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", body)
        + _chunk(b"IEND", b"")
    )


def upload(name: str, data: bytes, content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def bad_files() -> dict[str, tuple[str, bytes, str]]:
    """name → (file name, content, declared type), each refused by content."""
    png = image_bytes("PNG", size=(400, 300))
    return {
        "text renamed .png": ("photo.png", b"#!/bin/sh\necho not an image\n" * 20, "image/png"),
        "too large": ("big.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * (5 * 1024 * 1024), "image/png"),
        "zero bytes": ("empty.png", b"", "image/png"),
        "image bomb": ("bomb.png", bomb_png(), "image/png"),
        "truncated png": ("cut.png", png[: len(png) // 2], "image/png"),
        "truncated jpeg": ("cut.jpg", image_bytes("JPEG")[:3000], "image/jpeg"),
        "gif": ("anim.png", _gif(), "image/png"),
    }


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, format="GIF")
    return out.getvalue()


def stored_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
