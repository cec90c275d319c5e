"""Uploaded files, checked by their content, never by their name or declared type.

- A profile photo: a JPEG, PNG or WebP image that Pillow opens, verifies and decodes
  in full, of at most UPLOAD_MAX_IMAGE_PIXELS pixels (an image bomb is refused from its
  header, before anything is decoded), then resized to fit PHOTO_MAX_SIDE and
  re-encoded as a JPEG: what is stored is our own encoding, without the upload's
  metadata (EXIF, GPS, comments).
- A licence document: a PDF (its header and end-of-file marker) or a JPEG or PNG image
  checked as above, kept byte for byte as the doctor sent it (it is a document of
  record).

Each is at most UPLOAD_MAX_BYTES and not empty. A refusal is a BadUpload (400, naming
the field), raised before anything is stored.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from PIL import Image, ImageOps, UnidentifiedImageError

from doctors_portal.errors import DomainError

PHOTO_FORMATS = {"JPEG", "PNG", "WEBP"}
DOCUMENT_IMAGE_FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png")}
# Pillow refuses more than twice its own MAX_IMAGE_PIXELS with DecompressionBombError and
# warns above it; ours is lower still and checked first (UPLOAD_MAX_IMAGE_PIXELS).
Image.MAX_IMAGE_PIXELS = settings.UPLOAD_MAX_IMAGE_PIXELS

PHOTO_WRONG_TYPE = "A photo must be a JPEG, PNG or WebP image."
DOCUMENT_WRONG_TYPE = "A licence document must be a PDF, JPEG or PNG file."
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "pdf": "application/pdf"}


class BadUpload(DomainError):
    default_detail = "This file cannot be used."


@dataclass(frozen=True)
class CheckedFile:
    content: ContentFile
    extension: str

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.extension]


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB"


def _read(upload, *, path: str) -> bytes:
    limit = settings.UPLOAD_MAX_BYTES
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise BadUpload(f"The file is larger than {_megabytes(limit)}.", path=path)
    upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise BadUpload(f"The file is larger than {_megabytes(limit)}.", path=path)
    if not data:
        raise BadUpload("The file is empty.", path=path)
    return data


def _open_image(data: bytes, *, path: str, formats: set[str], wrong_type: str) -> Image.Image:
    """The image decoded in full, or BadUpload: not an image of `formats`, too many
    pixels (from the header, before decoding), corrupt or truncated."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in formats:
                    raise BadUpload(wrong_type, path=path)
                width, height = probe.size
                if width * height > settings.UPLOAD_MAX_IMAGE_PIXELS:
                    raise BadUpload(
                        f"The image is {width}x{height} pixels; at most "
                        f"{settings.UPLOAD_MAX_IMAGE_PIXELS:,} pixels are accepted.",
                        path=path,
                    )
                probe.verify()
            image = Image.open(io.BytesIO(data))
            image.load()
            return image
    except BadUpload:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BadUpload("The image has too many pixels.", path=path) from None
    except UnidentifiedImageError:
        raise BadUpload(wrong_type, path=path) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        # Truncated data, a bad checksum, a corrupt header.
        raise BadUpload("The image is damaged or incomplete.", path=path) from None


def photo_checked(*, upload, path: str = "photo") -> CheckedFile:
    """A profile photo, resized and re-encoded as JPEG (metadata dropped)."""
    data = _read(upload, path=path)
    image = _open_image(data, path=path, formats=PHOTO_FORMATS, wrong_type=PHOTO_WRONG_TYPE)
    try:
        image = ImageOps.exif_transpose(image)  # upright before the EXIF goes
        image.thumbnail((settings.PHOTO_MAX_SIDE, settings.PHOTO_MAX_SIDE))
        if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
            rgba = image.convert("RGBA")
            flat = Image.new("RGB", rgba.size, (255, 255, 255))
            flat.paste(rgba, mask=rgba.getchannel("A"))
            image = flat
        elif image.mode != "RGB":
            image = image.convert("RGB")
        out = io.BytesIO()
        # A fresh encoding: no exif=, icc_profile= or comment passed on.
        image.save(out, format="JPEG", quality=85, optimize=True)
    except (OSError, ValueError) as exc:
        raise BadUpload("The image could not be processed.", path=path) from exc
    return CheckedFile(ContentFile(out.getvalue(), name="photo.jpg"), "jpg")


def licence_document_checked(*, upload, path: str = "licenseDocument") -> CheckedFile:
    """A PDF, JPEG or PNG, as sent."""
    data = _read(upload, path=path)
    if data.startswith(b"%PDF-"):
        # A PDF's trailer ends with %%EOF (maybe followed by line ends): a cut-off
        # upload lacks it.
        if b"%%EOF" not in data[-1024:]:
            raise BadUpload("The PDF is damaged or incomplete.", path=path)
        extension = "pdf"
    else:
        image = _open_image(
            data,
            path=path,
            formats=set(DOCUMENT_IMAGE_FORMATS),
            wrong_type=DOCUMENT_WRONG_TYPE,
        )
        extension = DOCUMENT_IMAGE_FORMATS[image.format][0]
        image.close()
    return CheckedFile(ContentFile(data, name=f"licence.{extension}"), extension)


def content_type_of(name: str) -> str:
    extension = name.rsplit(".", 1)[-1].lower()
    return CONTENT_TYPES.get(extension, "application/octet-stream")
