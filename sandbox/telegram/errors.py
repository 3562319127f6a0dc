"""The one failure the Bot API stand-in raises: an HTTP status with Telegram's own wording.

Handlers raise ApiError; the HTTP layer turns it into the real error envelope
``{"ok": false, "error_code": N, "description": "...", "parameters": {...}}``.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A Bot API error as the real server reports it."""

    def __init__(self, code: int, description: str, retry_after: int | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def envelope(self) -> dict[str, Any]:
        """The JSON body the real API sends for this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(detail: str) -> ApiError:
    """A 400 with the ``Bad Request: `` prefix every such description carries."""
    return ApiError(400, f"Bad Request: {detail}")


def forbidden(detail: str) -> ApiError:
    """A 403 with the ``Forbidden: `` prefix."""
    return ApiError(403, f"Forbidden: {detail}")


def chat_not_found() -> ApiError:
    """The error for any chat the bot cannot see."""
    return bad_request("chat not found")
