"""The photo upload server (the upload_url photos.getWallUploadServer hands out) and photo files.

An upload answers ``{"server", "photo", "hash"}`` like VK's: ``photo`` is a JSON string naming
the received files and ``hash`` signs it, so photos.saveWallPhoto can tell a genuine upload
from an edited one. Files that are not PNG, JPEG or GIF images give ``"photo": "[]"``.
"""

from __future__ import annotations

import json
import secrets
import struct
import threading
import zlib

from aiohttp import web

from sandbox.vk.faulting import UPLOAD_METHOD, FaultGate
from sandbox.vk.world import Upload, World

MAX_FILES = 6
CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif"}


def _one_pixel_png() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)  # 1x1, 8-bit greyscale
    pixels = zlib.compress(b"\x00\x99")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


AVATAR_PNG = _one_pixel_png()


class UploadServer:
    """aiohttp handlers for POST /upload/wall and GET /photos/{name}."""

    def __init__(self, world: World, lock: threading.RLock, gate: FaultGate) -> None:
        self.world = world
        self.lock = lock
        self.gate = gate

    async def upload(self, request: web.Request) -> web.StreamResponse:
        """Receive multipart files for a wall; fault rules see this as ``photos.upload``."""
        return await self.gate.run(request, UPLOAD_METHOD, lambda: self._receive(request))

    async def _receive(self, request: web.Request) -> tuple[web.Response, dict]:
        """Receive multipart files (fields photo, file, file0...) for a wall."""
        try:
            owner_id = int(request.query.get("owner_id", ""))
        except ValueError:
            return web.json_response({"error": "invalid upload url"}, status=400), {}
        received = await _files(request)
        entries = []
        with self.lock:
            for data in received[:MAX_FILES]:
                size = image_size(data)
                if size is None:
                    continue
                key = secrets.token_hex(8)
                self.world.uploads[key] = Upload(data, size[0], size[1], size[2])
                entries.append(
                    {"markers_restarted": True, "photo": key, "sizes": [], "kid": key[:6]}
                )
            payload = json.dumps(entries)
            signed = self.world.upload_hash(owner_id, payload)
            server = self.world.upload_server
        answer = {"server": server, "photo": payload, "hash": signed}
        return web.json_response(answer), {"photos": len(entries)}

    async def upload_doc(self, request: web.Request) -> web.StreamResponse:
        """Receive a document for a message (field ``file``); answers ``{"file": key}``."""
        return await self.gate.run(request, UPLOAD_METHOD, lambda: self._receive_doc(request))

    async def _receive_doc(self, request: web.Request) -> tuple[web.Response, dict]:
        found: tuple[bytes, str] | None = None
        if request.content_type.startswith("multipart/"):
            async for part in await request.multipart():
                if part.name == "file" and part.filename is not None:  # type: ignore[union-attr]
                    found = (bytes(await part.read()), part.filename)  # type: ignore[union-attr]
        if found is None:
            return web.json_response({"error": "no file"}), {}
        key = secrets.token_hex(12)
        with self.lock:
            self.world.doc_uploads[key] = found
        return web.json_response({"file": key}), {"docs": 1}

    async def doc_file(self, request: web.Request) -> web.Response:
        """Serve a document's bytes by its ``<owner_id>_<id>`` (a reader's file in a message)."""
        name = request.match_info["name"]
        with self.lock:
            found = next(
                (d for d in self.world.docs.values() if f"{d.owner_id}_{d.id}" == name), None
            )
        if found is None:
            raise web.HTTPNotFound()
        return web.Response(body=found.data, content_type="application/octet-stream")

    async def photo_file(self, request: web.Request) -> web.Response:
        """Serve a saved photo's bytes (any size letter gets the original) or an avatar."""
        name = request.match_info["name"]
        stem, _, extension = name.rpartition(".")
        with self.lock:
            found = next(
                (p for p in self.world.photos.values() if f"{p.owner_id}_{p.id}" == stem), None
            )
        if found is not None:
            return web.Response(body=found.data, content_type=CONTENT_TYPES[found.extension])
        if stem.startswith(("community_", "user_")) and extension == "png":
            return web.Response(body=AVATAR_PNG, content_type="image/png")
        raise web.HTTPNotFound()


async def _files(request: web.Request) -> list[bytes]:
    if not request.content_type.startswith("multipart/"):
        return []
    reader = await request.multipart()
    found = []
    async for part in reader:
        if part.filename is not None:  # type: ignore[union-attr]
            found.append(bytes(await part.read()))  # type: ignore[union-attr]
    return found


def image_size(data: bytes) -> tuple[int, int, str] | None:
    """(width, height, extension) of a PNG, GIF or JPEG image; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height, "png"
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return width, height, "gif"
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    return None


def _jpeg_size(data: bytes) -> tuple[int, int, str] | None:
    index = 2
    while index + 9 < len(data):
        if data[index] != 0xFF:
            return None
        marker = data[index + 1]
        length = struct.unpack(">H", data[index + 2 : index + 4])[0]
        # SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return width, height, "jpg"
        index += 2 + length
    return None
