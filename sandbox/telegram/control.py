"""The control API over HTTP: JSON in and out, mounted by the runner at /_sandbox/telegram/.

Every route calls the same Python method of TelegramStandIn a test would call directly.
Answers are ``{"ok": true, "result": ...}`` or ``{"ok": false, "description": ...}`` (400).

    GET  state                 everything the stand-in holds
    POST reset                 forget messages, updates and readers
    GET  messages?chat_id=     messages of a chat
    GET  updates               updates queued for the bot
    POST members               {"chat_id", "count"} sets, {"chat_id", "add"} adds
    POST users                 {"first_name"?, "last_name"?, "username"?, "language_code"?}
    POST user_message          {"user_id", "chat_id", "text", "reply_to_message_id"?}
    POST user_document         {"user_id", "chat_id", "data_base64", "file_name", "caption"?}
    POST comment               {"user_id", "channel_post_id", "text"}
    POST admin_post            {"chat_id", "text"}: the librarian posts by hand
    POST vote                  {"user_id", "chat_id", "message_id", "option_ids"}
    POST press                 {"user_id", "chat_id", "message_id", "callback_data"}
    POST forge_callback        {"user_id", "chat_id", "message_id", "data"}: data no button has
    POST vote_many             {"chat_id", "message_id", "votes": [[user_id, [option ids]], ...]}
    POST crowd                 {"count"}: that many readers with seeded names
    GET  callback_answers      button presses and what the bot answered
    POST clock                 {"advance": seconds} and/or {"freeze": true|false}
    POST fail                  {"method", "error_code", "description", "retry_after"?, "times"?}
    POST edit                  {"user_id", "chat_id", "message_id", "text"}: a reader edits
    POST react                 {"user_id", "chat_id", "message_id", "emoji"} (str, list or null)
    POST react_anonymously     {"chat_id", "message_id", "emoji", "count"?}: channel posts
    POST join                  {"user_id", "chat_id"}
    POST leave                 {"user_id", "chat_id"}
    POST add_bot               {"chat_id", "admin"?: true, "by_user_id"?}: add or promote/demote
    POST remove_bot            {"chat_id", "by_user_id"?}
    POST bot_rights            {"chat_id", "rights": {"can_post_messages": false, ...}, "by_user_id"?}
    POST chats                 {"title", "type"?: "supergroup"}: a new chat without the bot
    GET  rate_limits           the flood-control configuration
    POST rate_limits           {"enabled", "per_second"?, "per_chat_per_minute"?,
                                "per_private_chat_per_second"?, "private_burst"?}
    GET  faults                fault rules and the faults that fired
    POST faults                {"spec": "sendMessage:5xx:0.2,...", "seed"?} ("" clears)
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.faults import FaultRule
from sandbox.telegram.errors import ApiError

if TYPE_CHECKING:
    from sandbox.telegram.standin import TelegramStandIn

Body = dict[str, Any]


def make_control_app(standin: TelegramStandIn) -> web.Application:
    """An aiohttp app with one route per control action."""
    app = web.Application()
    for method, path, action in _routes(standin):
        app.router.add_route(method, path, _handler(action))
    return app


def _routes(tg: TelegramStandIn) -> list[tuple[str, str, Callable[[Body], Any]]]:
    return [
        ("GET", "/state", lambda q: tg.state()),
        ("POST", "/reset", lambda q: tg.reset()),
        ("GET", "/messages", lambda q: tg.messages(_chat(q["chat_id"]))),
        ("GET", "/updates", lambda q: tg.pending_updates()),
        ("POST", "/members", lambda q: _members(tg, q)),
        ("POST", "/users", lambda q: tg.add_user(**_pick(q, "first_name", "last_name", "username", "language_code"))),
        ("POST", "/user_message", lambda q: tg.post_as_user(int(q["user_id"]), _chat(q["chat_id"]), q["text"], q.get("reply_to_message_id"))),
        ("POST", "/user_document", lambda q: tg.document_as_user(int(q["user_id"]), _chat(q["chat_id"]), base64.b64decode(q["data_base64"]), q["file_name"], q.get("caption", ""))),
        ("POST", "/comment", lambda q: tg.comment_on_post(int(q["user_id"]), int(q["channel_post_id"]), q["text"])),
        ("POST", "/admin_post", lambda q: tg.post_as_admin(_chat(q["chat_id"]), q["text"])),
        ("POST", "/vote", lambda q: tg.vote_as_user(int(q["user_id"]), _chat(q["chat_id"]), int(q["message_id"]), list(q["option_ids"]))),
        ("POST", "/press", lambda q: tg.press_as_user(int(q["user_id"]), _chat(q["chat_id"]), int(q["message_id"]), q["callback_data"])),
        ("POST", "/forge_callback", lambda q: tg.forge_callback(int(q["user_id"]), _chat(q["chat_id"]), int(q["message_id"]), q["data"])),
        ("POST", "/vote_many", lambda q: tg.vote_many(_chat(q["chat_id"]), int(q["message_id"]), [(int(v[0]), list(v[1])) for v in q["votes"]])),
        ("POST", "/crowd", lambda q: tg.add_users(int(q["count"]))),
        ("GET", "/callback_answers", lambda q: tg.callback_answers()),
        ("POST", "/clock", lambda q: _clock(tg, q)),
        ("POST", "/fail", lambda q: tg.fail_next(q["method"], int(q["error_code"]), q["description"], q.get("retry_after"), int(q.get("times", 1)))),
        ("POST", "/edit", lambda q: tg.edit_as_user(int(q["user_id"]), _chat(q["chat_id"]), int(q["message_id"]), q["text"])),
        ("POST", "/react", lambda q: tg.react(int(q["user_id"]), _chat(q["chat_id"]), int(q["message_id"]), q.get("emoji"))),
        ("POST", "/react_anonymously", lambda q: tg.react_anonymously(_chat(q["chat_id"]), int(q["message_id"]), q["emoji"], int(q.get("count", 1)))),
        ("POST", "/join", lambda q: tg.join(int(q["user_id"]), _chat(q["chat_id"]))),
        ("POST", "/leave", lambda q: tg.leave(int(q["user_id"]), _chat(q["chat_id"]))),
        ("POST", "/add_bot", lambda q: tg.add_bot_to(_chat(q["chat_id"]), bool(q.get("admin", True)), _optional_int(q.get("by_user_id")))),
        ("POST", "/remove_bot", lambda q: tg.remove_bot(_chat(q["chat_id"]), _optional_int(q.get("by_user_id")))),
        ("POST", "/bot_rights", lambda q: tg.set_bot_rights(_chat(q["chat_id"]), dict(q["rights"]), _optional_int(q.get("by_user_id")))),
        ("POST", "/chats", lambda q: tg.create_chat(q["title"], q.get("type", "supergroup"))),
        ("GET", "/rate_limits", lambda q: tg.state()["rate_limits"]),
        ("POST", "/rate_limits", lambda q: tg.set_rate_limits(**_pick(q, "enabled", "per_second", "per_chat_per_minute", "per_private_chat_per_second", "private_burst"))),
        ("GET", "/faults", lambda q: tg.faults()),
        ("POST", "/faults", lambda q: tg.set_faults(_fault_rules(q), _optional_int(q.get("seed")))),
    ]  # fmt: skip


def _clock(tg: TelegramStandIn, body: Body) -> float:
    if "freeze" in body:
        tg.freeze_clock(bool(body["freeze"]))
    if "advance" in body:
        tg.advance_clock(float(body["advance"]))
    return tg.state()["now"]


def _fault_rules(body: Body) -> list[FaultRule] | str:
    if "rules" in body:
        return [FaultRule(**rule) for rule in body["rules"]]
    return str(body["spec"])


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _members(tg: TelegramStandIn, body: Body) -> int:
    if "count" in body:
        return tg.set_member_count(_chat(body["chat_id"]), int(body["count"]))
    return tg.add_members(_chat(body["chat_id"]), int(body["add"]))


def _pick(body: Body, *names: str) -> Body:
    return {name: body[name] for name in names if name in body}


def _chat(value: Any) -> int | str:
    text = str(value)
    return text if text.startswith("@") else int(text)


def _handler(action: Callable[[Body], Any]) -> Callable[[web.Request], Any]:
    async def handle(request: web.Request) -> web.Response:
        body: Body = dict(request.query)
        if request.can_read_body:
            try:
                body.update(await request.json())
            except (ValueError, TypeError):
                return _json({"ok": False, "description": "the body must be a JSON object"}, 400)
        try:
            result = action(body)
        except ApiError as error:
            return _json({"ok": False, "description": error.description}, 400)
        except (KeyError, ValueError, TypeError) as error:
            return _json({"ok": False, "description": f"{type(error).__name__}: {error}"}, 400)
        return _json({"ok": True, "result": result})

    return handle


def _json(body: Any, status: int = 200) -> web.Response:
    return web.json_response(
        body, status=status, dumps=lambda obj: json.dumps(obj, ensure_ascii=False)
    )
