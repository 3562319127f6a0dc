"""Files the stand-in has "on its servers": uploads, file_ids, photo sizes.

An upload gets a file_id that can be sent again; a photo is stored in several sizes the
way Telegram scales them (longest side 90, 320, 800, 1280, 2560). Image dimensions are
read from PNG, JPEG and GIF headers; anything else is refused as the real server does.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from dataclasses import dataclass
from typing import Any

from sandbox.telegram.errors import bad_request

PHOTO_SIDES = (90, 320, 800, 1280, 2560)
VIDEO_DURATION = 15  # seconds; the stand-in does not read video files
VIDEO_SIZE = (1280, 720)


@dataclass
class StoredFile:
    """One file the bot may reuse by file_id or download through getFile."""

    file_id: str
    file_unique_id: str
    kind: str  # "photo", "document", ...
    size: int
    data: bytes | None = None
    width: int = 0
    height: int = 0
    file_name: str | None = None
    mime_type: str | None = None
    photo_group: str = ""  # the sizes of one photo share it

    def path(self) -> str:
        """The file_path getFile reports, under which the file can be downloaded."""
        return f"{self.kind}s/file_{self.file_unique_id}"


@dataclass
class Upload:
    """A file part of a multipart request."""

    filename: str
    content_type: str | None
    data: bytes


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG, GIF or JPEG image; None for anything else."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    if data[:2] == b"\xff\xd8":
        return _jpeg_size(data)
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    return None


class FileStore:
    """Every file known to the stand-in, keyed by file_id."""

    _PREFIX = {"photo": "AgACAgIAAxkD", "document": "BQACAgIAAxkD", "video": "BAACAgIAAxkD"}

    def __init__(self, seed: int):
        self._seed = seed
        self._counter = 0
        self.files: dict[str, StoredFile] = {}

    def _ids(self, kind: str) -> tuple[str, str]:
        self._counter += 1
        digest = hashlib.sha256(f"{self._seed}:{kind}:{self._counter}".encode()).digest()
        body = base64.urlsafe_b64encode(digest).decode().rstrip("=")
        return self._PREFIX.get(kind, "CAACAgIAAxkD") + body + "AQ", "AQAD" + body[:12]

    def add(self, kind: str, size: int, **details: Any) -> StoredFile:
        """Register a new file and return it with fresh ids."""
        file_id, unique_id = self._ids(kind)
        stored = StoredFile(file_id, unique_id, kind, size, **details)
        self.files[file_id] = stored
        return stored

    def get(self, file_id: str) -> StoredFile:
        """The file for a file_id, or the real 'wrong file identifier' error."""
        stored = self.files.get(file_id)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        return stored

    def by_path(self, path: str) -> StoredFile | None:
        """The file with this getFile path, for downloads."""
        return next((f for f in self.files.values() if f.path() == path), None)

    # -- photos ------------------------------------------------------------

    def photo_from_upload(self, upload: Upload) -> list[StoredFile]:
        """Store an uploaded image as the sizes Telegram would generate."""
        dimensions = image_size(upload.data)
        if dimensions is None or 0 in dimensions:
            raise bad_request("IMAGE_PROCESS_FAILED")
        return self._photo_sizes(*dimensions, len(upload.data), upload.data)

    def photo_from_url(self, url: str) -> list[StoredFile]:
        """Pretend to fetch a photo by URL: the stand-in has no internet, so it is 1280x960."""
        if not url.startswith(("http://", "https://")):
            raise bad_request("wrong file identifier/HTTP URL specified")
        return self._photo_sizes(1280, 960, 180_000, None)

    def photo_sizes_of(self, file_id: str) -> list[StoredFile]:
        """All sizes of the photo one of whose sizes has this file_id."""
        stored = self.get(file_id)
        if stored.kind != "photo":
            raise bad_request("wrong file identifier/HTTP URL specified")
        return [f for f in self.files.values() if f.photo_group == stored.photo_group]

    def _photo_sizes(
        self, width: int, height: int, size: int, data: bytes | None
    ) -> list[StoredFile]:
        longest = max(width, height)
        sides = [s for s in PHOTO_SIDES if s < longest] + [min(longest, PHOTO_SIDES[-1])]
        group = f"photo-{self._counter + 1}"
        sizes = []
        for side in sides:
            scale = side / longest
            w, h = max(1, round(width * scale)), max(1, round(height * scale))
            share = int(size * scale * scale) or 1
            largest = side == sides[-1]
            sizes.append(
                self.add(
                    "photo",
                    share,
                    data=data if largest else None,
                    width=w,
                    height=h,
                    photo_group=group,
                )
            )
        return sizes


def photo_size_wire(stored: StoredFile) -> dict[str, Any]:
    """PhotoSize as the API returns it."""
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
        "width": stored.width,
        "height": stored.height,
    }


def document_wire(stored: StoredFile) -> dict[str, Any]:
    """Document as the API returns it."""
    wire: dict[str, Any] = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
    }
    if stored.file_name:
        wire["file_name"] = stored.file_name
    if stored.mime_type:
        wire["mime_type"] = stored.mime_type
    return wire


def video_wire(stored: StoredFile) -> dict[str, Any]:
    """Video as the API returns it (width, height and duration are required)."""
    wire: dict[str, Any] = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "width": stored.width,
        "height": stored.height,
        "duration": VIDEO_DURATION,
        "file_size": stored.size,
        "mime_type": stored.mime_type or "video/mp4",
    }
    if stored.file_name:
        wire["file_name"] = stored.file_name
    return wire


def file_wire(stored: StoredFile) -> dict[str, Any]:
    """File as getFile returns it."""
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
        "file_path": stored.path(),
    }
