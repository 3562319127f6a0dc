"""Transport faults of the VK stand-in: ``sandbox.faults`` rules applied to HTTP answers.

Rules name VK methods as /method/<name> calls do (``wall.post``); the photo upload URL counts
as the method ``photos.upload``. What each kind does to one call:

* ``5xx``       — HTTP 500 with an HTML body; nothing is done (vk_api raises ApiHttpError);
* ``429``       — error 6 "Too many requests per second" in an HTTP 200 body; nothing is done;
* ``slow``      — the call is carried out at once, its answer held ``delay`` real seconds;
* ``reset``     — the connection is closed without an answer; nothing is done;
* ``ambiguous`` — the call is carried out, then the connection is closed without an answer.

Every fault that fires is logged by the injector; calls that were carried out add what they
did to their log entry (``post_id`` for wall.post, ``error_code`` if VK refused the call).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import web

from sandbox.faults import FaultInjector, FaultRule, parse_rules
from sandbox.vk import spec

UPLOAD_METHOD = "photos.upload"
SERVER_ERROR_PAGE = "<html><body><h1>500 Internal Server Error</h1>nginx</body></html>"
# What a handler gives back: the answer, and notes for the fault log if a fault fired.
Produce = Callable[[], Awaitable[tuple[web.StreamResponse, dict[str, Any]]]]


class FaultGate:
    """Decides per request (seeded) whether and how it fails, and applies that to the answer."""

    def __init__(self, seed: int, lock: threading.RLock) -> None:
        self.injector = FaultInjector(seed=seed)
        self.lock = lock

    def set_rules(self, rules: str | Iterable[FaultRule], seed: int | None = None) -> dict:
        """Replace the rules (a ``METHOD:KIND:RATE[:DELAY],...`` spec or FaultRule objects)."""
        parsed = parse_rules(rules) if isinstance(rules, str) else list(rules)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError("seed must be an integer")
        with self.lock:
            self.injector.set_rules(parsed, seed)
            return self.injector.state()

    def state(self) -> dict[str, Any]:
        """The rules and every fault that fired, JSON-ready."""
        with self.lock:
            state = self.injector.state()
            state["fired"] = [dict(entry) for entry in state["fired"]]
            return state

    def clear(self) -> None:
        """Forget the faults that fired; keep the rules."""
        with self.lock:
            self.injector.clear()

    async def run(self, request: web.Request, method: str, produce: Produce) -> web.StreamResponse:
        """Answer ``request`` through ``produce``, unless a fault rule says otherwise."""
        with self.lock:
            rule = self.injector.pick(method)
            entry = self.injector.fired[-1] if rule is not None else None
        if rule is None or entry is None:
            response, _ = await produce()
            return response
        if rule.kind == "429":
            await request.read()
            return web.json_response(_too_many(method))
        if rule.kind in ("5xx", "reset"):
            await request.read()  # the whole request arrives; nothing is done with it
            if rule.kind == "5xx":
                return web.Response(status=500, text=SERVER_ERROR_PAGE, content_type="text/html")
            return _drop(request)
        response, notes = await produce()
        with self.lock:
            entry.update(notes)
        if rule.kind == "ambiguous":
            return _drop(request)
        await asyncio.sleep(rule.delay)
        return response


def _too_many(method: str) -> dict[str, Any]:
    """VK's answer to a call over the per-second limit (as the real API: inside HTTP 200)."""
    error = {
        "error_code": 6,
        "error_msg": spec.error_message(6),
        "request_params": [{"key": "method", "value": method}, {"key": "oauth", "value": "1"}],
    }
    return {"error": error}


def _drop(request: web.Request) -> web.StreamResponse:
    """Close the connection so the client gets no answer at all."""
    transport = request.transport
    if transport is not None:
        transport.close()
    return web.Response(status=204)
