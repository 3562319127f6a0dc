"""Runs the Telegram, VK and MAX stand-ins as real HTTP servers on 127.0.0.1.

The servers live on their own event loop in a background thread, so both the
asyncio client (python-telegram-bot) and the synchronous one (vk_api) can talk
to them from anywhere, and tests can drive the audience through plain methods.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from sandbox.faults import FaultRule, parse_rules
from sandbox.max import MaxStandIn
from sandbox.telegram import TelegramStandIn
from sandbox.vk import VkStandIn

_VK_FLOOD = re.compile(rb'"error_code":\s*(6|9|29)\b')


@dataclass(frozen=True)
class Arrival:
    """One API call as the stand-in saw it."""

    time: float
    network: str
    method: str
    target: str
    throttled: bool


class Sandbox:
    """The stand-ins plus a control server; start() binds ports, stop() frees them.

    ``ports``: (telegram, vk, control) or (telegram, vk, control, max); 0 is any free port.
    """

    def __init__(
        self,
        seed: int = 0,
        host: str = "127.0.0.1",
        ports: tuple[int, ...] = (0, 0, 0, 0),
        clock: Callable[[], float] = time.time,
    ):
        self.host = host
        # One clock for all worlds: tests pass a controllable one.
        self.telegram = TelegramStandIn(seed=seed, clock=clock)
        self.vk = VkStandIn(seed=seed, clock=clock)
        self.max = MaxStandIn(seed=seed, clock=clock)
        if len(ports) not in (3, 4):
            raise ValueError("ports: (telegram, vk, control) or (telegram, vk, control, max)")
        self._ports = (*ports, 0) if len(ports) == 3 else tuple(ports)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runners: list[web.AppRunner] = []
        self._urls: dict[str, str] = {}
        # Every API call while recording: arrival time, network, method, target, throttled.
        self.arrivals: list[Arrival] = []
        self.recording = False

    # -- lifecycle -------------------------------------------------------

    def start(self) -> dict[str, Any]:
        """Start the servers in a background thread and return info()."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._bind())
            except BaseException as exc:  # reported to the starting thread
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._unbind())
            loop.close()

        self._thread = threading.Thread(target=serve, name="sandbox", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self.info()

    def stop(self) -> None:
        """Stop the servers and join the thread."""
        if self._loop and self._thread:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        self._loop = None
        self._thread = None

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _bind(self) -> None:
        apps = [
            self.telegram.make_app(),
            self.vk.make_app(),
            self._control_app(),
            self.max.make_app(),
        ]
        apps[0].middlewares.append(self._recorder("telegram"))
        apps[1].middlewares.append(self._recorder("vk"))
        apps[3].middlewares.append(self._recorder("max"))
        names = ("telegram", "vk", "control", "max")
        for name, app, port in zip(names, apps, self._ports, strict=True):
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, self.host, port, reuse_address=True)
            await site.start()
            bound = runner.addresses[0][1]
            self._runners.append(runner)
            self._urls[name] = f"http://{self.host}:{bound}"

    def _recorder(self, network: str):
        """Middleware noting when each API call arrived (for lateness benchmarks)."""

        @web.middleware
        async def record(request: web.Request, handler):
            arrived = time.time()
            if not self.recording:
                return await handler(request)
            target = ""
            if network == "max":
                target = request.query.get("chat_id") or request.query.get("user_id") or ""
            elif request.content_type == "application/x-www-form-urlencoded":
                form = await request.post()  # aiohttp keeps the body for the handler
                target = str(form.get("chat_id") or form.get("owner_id") or "")
            response = await handler(request)
            body = getattr(response, "body", b"") or b""
            throttled = response.status == 429 or (
                isinstance(body, bytes) and _VK_FLOOD.search(body) is not None
            )
            method = (
                self.max.operation(request) if network == "max" else request.path.rsplit("/", 1)[-1]
            )
            self.arrivals.append(Arrival(arrived, network, method, target, throttled))
            return response

        return record

    async def _unbind(self) -> None:
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()

    # -- control ---------------------------------------------------------

    def info(self) -> dict[str, Any]:
        """What a client needs: URLs as clients pass them, tokens, demo chats."""
        return {
            "telegram": self.telegram.info(self._urls["telegram"]),
            "vk": self.vk.info(self._urls["vk"]),
            "max": self.max.info(self._urls["max"]),
            "control_url": self._urls["control"] + "/_sandbox",
        }

    def state(self) -> dict[str, Any]:
        """Everything the stand-ins hold, JSON-ready."""
        return {"telegram": self.telegram.state(), "vk": self.vk.state(), "max": self.max.state()}

    def set_faults(self, spec: str, seed: int | None = None) -> None:
        """Inject faults (``sandbox.faults`` syntax): VK methods have a dot, MAX ones the prefix
        ``max/`` (``max/sendMessage:5xx:0.1``), ``*`` means all three."""
        rules = parse_rules(spec)
        ours = [r for r in rules if r.method.startswith("max/")]
        rest = [r for r in rules if not r.method.startswith("max/")]
        vk = [r for r in rest if r.method == "*" or "." in r.method]
        telegram = [r for r in rest if r.method == "*" or "." not in r.method]
        mx = [r for r in rest if r.method == "*"]
        mx += [FaultRule(r.method[4:], r.kind, r.rate, r.delay) for r in ours]
        self.telegram.set_faults(telegram, seed=seed)
        self.vk.set_faults(vk, seed=seed)
        self.max.set_faults(mx, seed=seed)

    def reset(self) -> None:
        """Forget everything published; keep tokens, chats and communities."""
        self.telegram.reset()
        self.vk.reset()
        self.max.reset()

    def _control_app(self) -> web.Application:
        app = web.Application()

        async def state(_: web.Request) -> web.Response:
            return web.json_response(self.state(), dumps=_dumps)

        async def reset(_: web.Request) -> web.Response:
            self.reset()
            return web.json_response({"ok": True})

        async def faults(request: web.Request) -> web.Response:
            body = await request.json()
            try:
                self.set_faults(str(body.get("spec", "")), seed=body.get("seed"))
            except ValueError as exc:
                return web.json_response({"ok": False, "error": str(exc)}, status=400)
            return web.json_response({"ok": True})

        app.router.add_get("/_sandbox/state", state)
        app.router.add_post("/_sandbox/faults", faults)
        app.router.add_post("/_sandbox/reset", reset)
        app.add_subapp("/_sandbox/telegram/", self.telegram.make_control_app())
        app.add_subapp("/_sandbox/vk/", self.vk.make_control_app())
        app.add_subapp("/_sandbox/max/", self.max.make_control_app())
        return app


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)
