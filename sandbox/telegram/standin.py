"""TelegramStandIn: the Bot API over HTTP plus a control API for tests and demos.

The Bot API app answers ``/bot<token>/<method>`` with the real envelopes; getUpdates long
polls and ends early when an update arrives. Flood limits (``limits``) and injected faults
(``sandbox.faults``: 502, a held answer, a dropped connection before or after the call is
carried out) act here, around the methods, and so do the faults of a server unlike
Telegram's: ``strict_names`` (method names matched exactly as documented, a 404 otherwise),
``long_poll_cap`` (0: getUpdates answers at once) and ``answer_next`` (an answer that does
not parse, given after the call was carried out). The control app (mounted by sandbox.server
under ``/_sandbox/telegram/``) lets a test or demo act as the audience. The server runs on
its own event loop in another thread, so one lock guards the World and every critical
section is short.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from sandbox.faults import FaultInjector, FaultRule

# Importing these modules registers their Bot API methods.
from sandbox.telegram import callbacks, chats, control, messages, polls  # noqa: F401
from sandbox.telegram.actions import Actions
from sandbox.telegram.errors import ApiError
from sandbox.telegram.limits import FloodControl
from sandbox.telegram.params import Params
from sandbox.telegram.registry import METHODS, NAMES
from sandbox.telegram.world import DEFAULT_UPDATE_TYPES, World

_log = logging.getLogger(__name__)
_TOKEN_SHAPE = re.compile(r"^\d+:[A-Za-z0-9_-]{35}$")
_LONG_POLL_CAP = 50  # seconds; the real server also caps long polls
_CONFLICT_OTHER_POLL = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
_CONFLICT_WEBHOOK = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"


_TOO_MANY = {
    "ok": False,
    "error_code": 429,
    "description": "Too Many Requests: retry after 1",
    "parameters": {"retry_after": 1},
}
_BAD_GATEWAY = {"ok": False, "error_code": 502, "description": "Bad Gateway"}


class TelegramStandIn(Actions):
    """A local Telegram Bot API with one bot, a library channel and its discussion group.

    Control methods (readers, librarian, clock, limits, faults) come from Actions.
    """

    def __init__(self, seed: int = 0, clock: Callable[[], float] = time.time):
        self._seed = seed
        self._clock = self._base_clock = clock
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._poll_generation = 0
        self._closing = False
        self._failures: dict[str, list[ApiError]] = {}
        self._answers: dict[str, list[tuple[int, bytes]]] = {}  # raw answers, by answer_next
        self.strict_names = False  # True: "getupdates" is not "getUpdates" (a 404)
        self.long_poll_cap = _LONG_POLL_CAP  # seconds a getUpdates may be held at most
        self._faults = FaultInjector(seed=seed)
        self._flood = FloodControl()
        self._stopping: asyncio.Event | None = None
        self._world = self._new_world(first_update_id=None)

    def _new_world(self, first_update_id: int | None) -> World:
        world = World(self._seed, self._clock)
        if first_update_id is not None:
            # Update ids never go back, or a client's saved offset would swallow new updates.
            world.next_update_id = max(world.next_update_id, first_update_id)
        world.on_update = self._wake_pollers
        return world

    # -- the interface sandbox.server uses -----------------------------------------

    def make_app(self) -> web.Application:
        """The Bot API at /bot<token>/<method>, files at /file/bot<token>/<path>."""
        self._closing = False  # the runner may serve the same stand-in again after a stop
        self._stopping = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_download)
        app.router.add_route("*", "/{tail:.*}", _not_found)
        app.on_shutdown.append(self._on_shutdown)
        return app

    def make_control_app(self) -> web.Application:
        """JSON control routes for tests and demos (listed in sandbox.telegram.control)."""
        return control.make_control_app(self)

    def info(self, base_url: str) -> dict[str, Any]:
        """What a client needs to connect, and the demo chats."""
        with self._lock:
            world = self._world
            return {
                "api_url": base_url + "/bot",
                "file_url": base_url + "/file/bot",
                "token": world.token,
                "bot_id": world.bot["id"],
                "bot_username": world.bot["username"],
                "channel_id": world.channel.id,
                "channel_username": world.channel.username,
                "group_id": world.group.id,
                "group_username": world.group.username,
                "owner_id": world.owner["id"],
            }

    def state(self) -> dict[str, Any]:
        """A JSON-ready snapshot of everything the stand-in holds, limits and faults too."""
        snapshot = self._locked(
            lambda world: {**world.snapshot(), "rate_limits": self._flood.state()}
        )
        return {**snapshot, "faults": self.faults()}

    def reset(self) -> None:
        """Forget messages, updates, files and readers, the flood counters, queued failures
        and the log of fired faults; keep the bot, token, chats, limits and fault rules."""
        with self._lock:
            self._world = self._new_world(first_update_id=self._world.next_update_id)
            self._failures.clear()
            self._answers.clear()
            self._flood.clear()
        self._faults.clear()

    # -- Bot API over HTTP ----------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        fault: FaultRule | None = None
        try:
            self._check_token(request.match_info["token"])
            name = request.match_info["method"]
            if self.strict_names and name not in NAMES:
                raise chats.unknown_method()
            params = await Params.from_request(request)
            fault = self._faults.pick(name)
            record = self._faults.fired[-1] if fault else {}  # pick and this run on one thread
            if fault and fault.kind == "5xx":
                return _json(_BAD_GATEWAY, status=502)
            if fault and fault.kind == "429":
                return _json(_TOO_MANY, status=429)
            if fault and fault.kind == "reset":
                return _drop(request)
            result = await self._answer(name.lower(), params)
        except ApiError as error:
            response = _json(error.envelope(), status=error.code)
        except Exception:
            # A stand-in bug must still look like the API's own 500, not an HTML page.
            _log.exception("Bot API stand-in failed on %s", request.path.split("/")[-1])
            response = _json(
                {"ok": False, "error_code": 500, "description": "Internal Server Error"}, status=500
            )
        else:
            response = _json({"ok": True, "result": result})
            with self._lock:
                record.update(_created(result))
        raw = self._raw_answer(request.match_info["method"])
        if raw is not None:
            return web.Response(body=raw[1], status=raw[0], content_type="application/json")
        if fault and fault.kind == "ambiguous":
            return _drop(request)
        if fault and fault.kind == "slow":
            await self._hold(fault.delay)
        return response

    async def _answer(self, name: str, params: Params) -> Any:
        if name == "getupdates":
            return await self._get_updates(params)
        return self._call(name, params)

    def _raw_answer(self, name: str) -> tuple[int, bytes] | None:
        with self._lock:
            queued = self._answers.get(name.lower())
            return queued.pop(0) if queued else None

    async def _hold(self, seconds: float) -> None:
        """Wait before answering; a stopping server answers at once."""
        if self._stopping is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    def _check_token(self, token: str) -> None:
        if token != self._world.token:
            # The real server tells a malformed token (404) from a wrong one (401).
            raise (
                ApiError(401, "Unauthorized")
                if _TOKEN_SHAPE.match(token)
                else ApiError(404, "Not Found")
            )

    def _call(self, name: str, params: Params) -> Any:
        method = METHODS.get(name)
        if method is None:
            raise chats.unknown_method()
        with self._lock:
            self._raise_injected(name)
            polls.close_expired(self._world)
            buckets, amount = self._flood.cost(self._world, name, params)
            self._flood.admit(buckets, amount, self._world.exact_now())
            result = copy.deepcopy(method(self._world, params))
            self._flood.charge(buckets, amount)
            return result

    def _raise_injected(self, name: str) -> None:
        queued = self._failures.get(name)
        if queued:
            raise queued.pop(0)

    async def _get_updates(self, p: Params) -> list[dict[str, Any]]:
        limit = min(max(p.integer("limit", 100) or 100, 1), 100)
        timeout = min(max(p.integer("timeout", 0) or 0, 0), self.long_poll_cap)
        allowed = p.json("allowed_updates")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        with self._lock:
            self._raise_injected("getupdates")
            if self._world.webhook_url:
                raise ApiError(409, _CONFLICT_WEBHOOK)
            if isinstance(allowed, list):
                self._world.allowed_updates = frozenset(allowed) or DEFAULT_UPDATE_TYPES
            self._world.confirm_updates(p.integer("offset"))
            self._poll_generation += 1
            generation = self._poll_generation
            self._wake_pollers()  # an older long poll now ends with 409, as on Telegram
        while True:
            event = asyncio.Event()
            waiter = (loop, event)
            with self._lock:
                if generation != self._poll_generation:
                    raise ApiError(409, _CONFLICT_OTHER_POLL)
                polls.close_expired(self._world)
                updates = self._world.pending_updates(limit)
                if updates or self._closing or loop.time() >= deadline:
                    return updates
                self._waiters.add(waiter)
            try:
                await asyncio.wait_for(event.wait(), timeout=self._next_wake(loop, deadline))
            except TimeoutError:
                pass
            finally:
                with self._lock:
                    self._waiters.discard(waiter)

    def _next_wake(self, loop: asyncio.AbstractEventLoop, deadline: float) -> float:
        # Wake in time to report a poll that closes by itself during the long poll.
        remaining = deadline - loop.time()
        with self._lock:
            closes_in = polls.seconds_to_next_close(self._world)
        return max(0.0, min(remaining, closes_in + 0.05 if closes_in is not None else remaining))

    def _wake_pollers(self) -> None:
        # Called with the lock held, possibly from a test's thread.
        for loop, event in list(self._waiters):
            loop.call_soon_threadsafe(event.set)

    async def _on_shutdown(self, app: web.Application) -> None:
        with self._lock:
            self._closing = True
            self._wake_pollers()
        if self._stopping is not None:
            self._stopping.set()

    async def _handle_download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self._world.token:
            return _json({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        with self._lock:
            stored = self._world.files.by_path(request.match_info["path"])
            data = stored.data if stored else None
        if data is None:
            return _json({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        return web.Response(
            body=data,
            content_type=stored.mime_type
            if stored and stored.mime_type
            else "application/octet-stream",
        )


def _drop(request: web.Request) -> web.Response:
    """Close the connection without an answer: the client sees it reset."""
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=500)


def _created(result: Any) -> dict[str, Any]:
    """What a call made, for the fault log: the message id(s) and chat, if any."""
    if isinstance(result, dict) and "message_id" in result and "chat" in result:
        return {"chat_id": result["chat"]["id"], "message_id": result["message_id"]}
    if isinstance(result, list) and result and isinstance(result[0], dict) and "chat" in result[0]:
        return {
            "chat_id": result[0]["chat"]["id"],
            "message_id": [m.get("message_id") for m in result],
        }
    return {}


async def _not_found(request: web.Request) -> web.Response:
    return _json({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)


def _json(body: Any, status: int = 200) -> web.Response:
    return web.json_response(
        body, status=status, dumps=lambda obj: json.dumps(obj, ensure_ascii=False)
    )
