"""The /method/<name> endpoint: reads a call, checks token and parameters, answers as VK does.

Every answer is HTTP 200 with either ``{"response": ...}`` or ``{"error": {...}}``; the checks
run in VK's order: known method, token, token type, scope, then parameters. What VK has
(methods, token types, parameters, error messages) comes from the committed index
(``sandbox.vk.spec``), never from the schema itself.
"""

from __future__ import annotations

import asyncio
import functools
import json
import threading
from collections import defaultdict, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from sandbox.vk import spec
from sandbox.vk.events import EventHub
from sandbox.vk.faulting import FaultGate
from sandbox.vk.limits import RateLimits
from sandbox.vk.world import Token, World

GROUP_ONLY = "Access denied: method is available only with group auth"
# Scopes a user token needs beyond being a user token; the sandbox's limited token lacks "wall".
REQUIRED_SCOPE = {
    "wall.post": "wall",
    "wall.edit": "wall",
    "wall.delete": "wall",
    "photos.getWallUploadServer": "photos",
    "photos.saveWallPhoto": "photos",
}


class ApiFailure(Exception):
    """A VK API error to answer with: code plus the text after the code's standard message."""

    def __init__(self, code: int, detail: str = "", **extra: Any) -> None:
        super().__init__(code, detail)
        self.code = code
        self.detail = detail
        self.extra = extra

    @property
    def message(self) -> str:
        """The error_msg VK would send."""
        standard = spec.error_message(self.code)
        return f"{standard}: {self.detail}" if self.detail else standard


def invalid(detail: str) -> ApiFailure:
    """Error 100 for one parameter."""
    return ApiFailure(100, detail)


@dataclass
class Call:
    """One API call: who makes it, its parameters, and what it may touch."""

    name: str
    token: Token
    params: dict[str, str]
    world: World
    events: EventHub
    base_url: str
    # Runs another method with this call's token, as ``execute`` does for each API.* call.
    invoke: Callable[[str, dict[str, str]], Any] | None = None

    def text(self, name: str, default: str = "") -> str:
        """A string parameter."""
        return self.params.get(name, default)

    def integer(self, name: str, default: int | None = None) -> int | None:
        """An integer parameter (already checked to parse)."""
        value = self.params.get(name, "")
        return int(value) if value != "" else default

    def required_integer(self, name: str) -> int:
        """An integer parameter VK insists on for this call."""
        value = self.integer(name)
        if value is None:
            raise invalid(f"{name} is undefined")
        return value

    def flag(self, name: str) -> bool:
        """A boolean parameter: "1" or "true" count as set."""
        return self.params.get(name, "0").lower() in ("1", "true")

    def items(self, name: str) -> list[str]:
        """A comma-separated list parameter."""
        return [item.strip() for item in self.params.get(name, "").split(",") if item.strip()]

    @property
    def user_id(self) -> int:
        """The calling person (0 for community and service tokens)."""
        return self.token.owner if self.token.kind == "user" else 0


Handler = Callable[[Call], Any]


@dataclass
class Answer:
    """A handler's answer with fields beside ``"response"`` (execute's ``execute_errors``)."""

    response: Any
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Faults:
    """Errors the test asked for: the next calls of a method fail with a given code."""

    queued: dict[str, deque[int]] = field(default_factory=lambda: defaultdict(deque))

    def take(self, method: str) -> int | None:
        """The code the next call of ``method`` must fail with, if any."""
        for key in (method, "*"):
            if self.queued[key]:
                return self.queued[key].popleft()
        return None


class MethodEndpoint:
    """The aiohttp handler behind /method/{name}."""

    def __init__(
        self,
        world: World,
        events: EventHub,
        lock: threading.RLock,
        handlers: dict[str, Handler],
        faults: Faults,
        limits: RateLimits,
        gate: FaultGate,
        tick: Callable[[], None],
    ) -> None:
        self.world = world
        self.events = events
        self.lock = lock
        self.handlers = handlers
        self.faults = faults
        self.limits = limits
        self.gate = gate
        self._worker: ThreadPoolExecutor | None = None  # made on the first call
        self.tick = tick
        self.calls: deque[dict[str, Any]] = deque(maxlen=1000)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Answer one API call (through the fault gate)."""
        name = request.match_info["name"]
        return await self.gate.run(request, name, lambda: self._respond(request, name))

    async def _respond(self, request: web.Request, name: str) -> tuple[web.Response, dict]:
        # VK counts a request against the rate limit when it arrives, not when a busy
        # stand-in gets round to it; the work itself runs off the event loop, one call
        # at a time, so arrivals keep being noticed while a big execute is answered.
        received = self.world.clock()
        params = {key: str(value) for key, value in request.query.items()}
        if request.method == "POST":
            form = await request.post()
            params.update({key: str(value) for key, value in form.items()})
        base_url = f"{request.scheme}://{request.host}"
        work = functools.partial(self._reply, name, params, base_url, received)
        if self._worker is None:
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vk-stand-in")
        return await asyncio.get_running_loop().run_in_executor(self._worker, work)

    async def close(self, app: web.Application | None = None) -> None:
        """Let the worker thread go (a stopped stand-in leaves no thread behind)."""
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.shutdown(wait=True)

    def _reply(
        self, name: str, params: dict[str, str], base_url: str, received: float
    ) -> tuple[web.Response, dict]:
        notes: dict[str, Any] = {}
        try:
            result = self.answer(name, params, base_url, received)
            extra: dict[str, Any] = {}
            if isinstance(result, Answer):
                result, extra = result.response, result.extra
            body: dict[str, Any] = {"response": result, **extra}
            if name == "wall.post" and isinstance(result, dict):
                notes["post_id"] = result.get("post_id")
        except ApiFailure as failure:
            body = {"error": _error(failure, name, params)}
            notes["error_code"] = failure.code
        text = json.dumps(body, ensure_ascii=False)
        return web.Response(text=text, content_type="application/json"), notes

    def answer(
        self, name: str, params: dict[str, str], base_url: str, received: float | None = None
    ) -> Any:
        """The response of a call (that arrived at ``received``), or ApiFailure."""
        if "v" not in params:
            raise ApiFailure(8, "v (version) is required")
        token = self._token_of(name, params)
        return self._perform(name, token, params, base_url, outer=True, received=received)

    def inner(self, token: Token, base_url: str) -> Callable[[str, dict[str, str]], Any]:
        """What ``execute`` runs each API.* call with: the checks of a call, with the token of
        the execute request, but no rate-limit unit of its own (the execute counted one)."""

        def invoke(name: str, params: dict[str, str]) -> Any:
            if name == "execute":
                raise ApiFailure(3, "execute cannot be called from execute")
            return self._perform(name, token, params, base_url, outer=False)

        return invoke

    def _token_of(self, name: str, params: dict[str, str]) -> Token:
        if not spec.known(name):
            raise ApiFailure(3)
        return self._token(params.get("access_token", ""))

    def _perform(
        self,
        name: str,
        token: Token,
        params: dict[str, str],
        base_url: str,
        outer: bool,
        received: float | None = None,
    ) -> Any:
        if not outer and not spec.known(name):
            raise ApiFailure(3)
        self._check_token_type(name, token)
        self._check_scope(name, token)
        with self.lock:
            entry = {"method": name, "token": token.kind, "params": _public(params)}
            self.calls.append(entry if outer else {**entry, "via": "execute"})
            injected = self.faults.take(name)
            now = self.world.clock() if received is None else received
            if outer and self.limits.over_limit(params["access_token"], token.kind, now):
                raise ApiFailure(6)
        if injected is not None:
            raise _injected(injected)
        _check_parameters(name, params)
        handler = self.handlers.get(name)
        if handler is None:
            raise ApiFailure(3, f"the VK sandbox does not implement {name}")
        invoke = self.inner(token, base_url) if outer else None
        call = Call(name, token, params, self.world, self.events, base_url, invoke)
        with self.lock:
            self.tick()
            return handler(call)

    def _token(self, value: str) -> Token:
        if not value:
            raise ApiFailure(5, "no access_token passed.")
        token = self.world.tokens.get(value)
        if token is None:
            raise ApiFailure(5, "invalid access_token (4).")
        return token

    def _check_token_type(self, name: str, token: Token) -> None:
        allowed = spec.token_types(name)
        if not allowed or token.kind in allowed:
            return
        if name == "wall.post" and token.kind == "group" and self.world.community_wall_posts:
            return  # the stand-in's setting: VK as reported, not as its schema says
        if token.kind == "group":
            raise ApiFailure(27, "method is unavailable with group auth.")
        if token.kind == "service":
            raise ApiFailure(28, "method is unavailable with service token.")
        raise ApiFailure(15, "method is available only with group auth")

    def _check_scope(self, name: str, token: Token) -> None:
        needed = REQUIRED_SCOPE.get(name)
        # A community token reaches wall.post only where community_wall allows it: then it
        # needs its "wall" right as a user token does.
        if needed and token.kind in ("user", "group") and needed not in token.scopes:
            raise ApiFailure(15, "no access to call this method")


def _check_parameters(name: str, params: dict[str, str]) -> None:
    """Error 100 for a missing required parameter, a non-integer integer one, or one too long."""
    for described in spec.parameters(name):
        key = described["name"]
        value = params.get(key, "")
        if value == "":
            if described.get("required"):
                raise invalid(f"{key} is undefined")
            continue
        kinds = described["type"] if isinstance(described["type"], list) else [described["type"]]
        if kinds == ["integer"] and not _is_integer(value):
            raise invalid(f"{key} not integer")
        if len(value) > described.get("maxLength", len(value)):
            raise invalid(f"{key} is too long: no more than {described['maxLength']} characters")
        if len(value) < described.get("minLength", 0):
            raise invalid(f"{key} is too short: at least {described['minLength']} characters")
        if "array" in kinds:
            count = len([item for item in value.split(",") if item.strip()])
            if count > described.get("maxItems", count):
                raise invalid(f"{key} is invalid: no more than {described['maxItems']} items")
            if count < described.get("minItems", 0):
                raise invalid(f"{key} is invalid: at least {described['minItems']} items")


def _is_integer(value: str) -> bool:
    try:
        int(value)
    except ValueError:
        return False
    return True


def _injected(code: int) -> ApiFailure:
    if code == 14:
        return ApiFailure(
            14,
            captcha_sid="sandbox",
            captcha_img="http://127.0.0.1/captcha.png",
        )
    return ApiFailure(code)


def _public(params: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in params.items() if key != "access_token"}


def _error(failure: ApiFailure, name: str, params: dict[str, str]) -> dict[str, Any]:
    request_params = [{"key": "method", "value": name}, {"key": "oauth", "value": "1"}]
    request_params += [{"key": key, "value": value} for key, value in _public(params).items()]
    error = {
        "error_code": failure.code,
        "error_msg": failure.message,
        "request_params": request_params,
    }
    error.update(failure.extra)
    return error
