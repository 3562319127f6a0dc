"""MAX's error answers: an HTTP status and the schema's Error object, ``{"code", "message"}``.

The code strings come from specs/max/api.json ("errors"), which notes for each whether an
official source shows it or the stand-in chose it in MAX's dotted style.
"""

from __future__ import annotations

from typing import Any

from sandbox import max_spec


class MaxError(Exception):
    """An answer in MAX's error format."""

    def __init__(self, code: str, message: str | None = None, status: int | None = None):
        entry = max_spec.error(code)
        self.code = code
        self.status = status or int(entry["status"])
        self.message = message if message is not None else str(entry.get("message", code))
        super().__init__(f"{self.status} {code}: {self.message}")

    def body(self) -> dict[str, Any]:
        """The JSON body MAX answers with."""
        return {"code": self.code, "message": self.message}


def bad_request(message: str) -> MaxError:
    return MaxError("bad.request", message)


def not_found(message: str) -> MaxError:
    return MaxError("not.found", message)


def denied(message: str) -> MaxError:
    return MaxError("chat.denied", message)
