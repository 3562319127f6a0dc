"""Reading Bot API parameters the way the real server accepts them.

A request may carry its parameters in the query string, a urlencoded or multipart form
(complex values as JSON strings, files as parts) or a JSON body. Params hides that: it
hands out typed values and raises the real 400 errors for missing or malformed ones.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import BodyPartReader, web

from sandbox.telegram.errors import bad_request
from sandbox.telegram.media import Upload


class Params:
    """The parameters of one Bot API call."""

    def __init__(self, values: dict[str, Any], uploads: dict[str, Upload] | None = None):
        self.values = values
        self.uploads = uploads or {}

    @classmethod
    async def from_request(cls, request: web.Request) -> Params:
        """Collect parameters from query string and body, whatever its encoding."""
        values: dict[str, Any] = dict(request.query)
        uploads: dict[str, Upload] = {}
        # body_exists, not can_read_body: a recording middleware may have read it already.
        if request.method == "POST" and request.body_exists:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise bad_request("can't parse JSON encoded request") from None
                if isinstance(body, dict):
                    values.update(body)
            elif request.content_type == "multipart/form-data":
                await _read_multipart(request, values, uploads)
            else:
                values.update(await request.post())
        return cls(values, uploads)

    def has(self, name: str) -> bool:
        """Whether the parameter was given and is not empty."""
        return self.values.get(name) not in (None, "")

    def text(self, name: str, default: str | None = None) -> str | None:
        """A string parameter, or default when absent."""
        value = self.values.get(name)
        if value is None:
            return default
        return value if isinstance(value, str) else json.dumps(value)

    def required_text(self, name: str, missing: str | None = None) -> str:
        """A string that must be present; the error text names what is missing."""
        value = self.text(name)
        if value is None or value == "":
            raise bad_request(missing or f"{name} is empty")
        return value

    def integer(self, name: str, default: int | None = None) -> int | None:
        """An integer parameter; malformed numbers are refused."""
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return int(value)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def required_integer(self, name: str, missing: str | None = None) -> int:
        """An integer that must be present."""
        value = self.integer(name)
        if value is None:
            raise bad_request(missing or f"{name} is empty")
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        """A boolean given as JSON true/false, 1/0 or True/False."""
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in ("true", "1", "yes")

    def json(self, name: str, what: str | None = None) -> Any:
        """A JSON-serialized parameter (already decoded when the body was JSON)."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {what or name} JSON object") from None

    def chat_id(self) -> int | str:
        """The chat_id parameter: an integer or an @username."""
        value = self.required_text("chat_id")
        try:
            return int(value)
        except ValueError:
            return value

    def file(self, name: str) -> Upload | str | None:
        """A file parameter: an upload (direct or attach://), or a file_id / URL string."""
        if name in self.uploads:
            return self.uploads[name]
        return self.file_reference(self.text(name) or "")

    def file_reference(self, value: str) -> Upload | str | None:
        """Resolve attach://<part> to its upload; other non-empty strings are file_ids or URLs."""
        if value.startswith("attach://"):
            return self.uploads.get(value.removeprefix("attach://"))
        return value or None


async def _read_multipart(
    request: web.Request, values: dict[str, Any], uploads: dict[str, Upload]
) -> None:
    reader = await request.multipart()
    async for part in reader:
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        if part.filename is not None:
            data = await part.read()
            uploads[part.name] = Upload(
                part.filename, part.headers.get("Content-Type"), bytes(data)
            )
        else:
            values[part.name] = await part.text()
