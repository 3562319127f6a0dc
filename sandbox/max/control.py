"""The control API over HTTP: JSON in and out, mounted by the runner at /_sandbox/max/.

Every route calls the same Python method of MaxStandIn a test would call directly.
Answers are ``{"ok": true, "result": ...}`` or ``{"ok": false, "description": ...}`` (400).

    GET  state                 everything the stand-in holds (a dump for tests)
    POST reset                 forget messages, updates, readers and subscriptions
    GET  messages?chat_id=     a chat's messages, oldest first, with views
    GET  updates               updates queued for long polling, not yet committed
    GET  callback_answers      button presses and what the bot answered
    GET  webhook_deliveries    every webhook POST: url, update_type, status
    POST users                 {"first_name"?, "last_name"?, "username"?, "locale"?}
    POST crowd                 {"count"}: that many readers with seeded names
    POST chats                 {"title", "kind"?: "chat"|"channel", "public"?, "bot"?: "admin"|"member"|null}
    POST join                  {"user_id", "chat_id", "inviter_id"?}
    POST leave                 {"user_id", "chat_id", "admin_id"?}
    POST members               {"chat_id", "count"}: participants_count
    POST start                 {"user_id", "payload"?}: the reader presses Start (bot_started)
    POST stop                  {"user_id"}: the reader stops the bot (bot_stopped)
    POST write                 {"user_id", "chat_id"?, "text", "reply_to"?}: no chat_id = dialog
    POST write_file            {"user_id", "chat_id"?, "filename", "data_base64", "base_url", "text"?}
    POST admin_post            {"chat_id", "text"}: the librarian posts by hand
    POST edit                  {"user_id", "message_id", "text"}
    POST delete                {"user_id", "message_id"}
    POST press                 {"user_id", "message_id", "payload"}: a callback button
    POST comment               {"user_id", "message_id", "text"}: under a channel post
    POST views                 {"message_id", "views"}
    POST add_bot               {"chat_id", "admin"?: true, "by_user_id"?, "permissions"?}
    POST remove_bot            {"chat_id", "by_user_id"?}
    POST insecure_webhooks     {"allowed": true}: accept http://127.0.0.1 webhook URLs
    POST legacy_chats          {"on": true}: serve GET /chats (withdrawn by MAX in June 2026)
    POST webhook_retry         {"delay": seconds}
    POST upload_delay          {"seconds"}: video/audio/file not ready before then
    POST clock                 {"advance": seconds} and/or {"freeze": true|false}
    POST rate_limit            {"enabled", "per_second"?}
    POST fail                  {"method", "code", "message"?, "status"?, "times"?}
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
from sandbox.max.errors import MaxError
from sandbox.max_spec import SpecError

if TYPE_CHECKING:
    from sandbox.max.standin import MaxStandIn

Body = dict[str, Any]


def make_control_app(standin: MaxStandIn) -> web.Application:
    """An aiohttp app with one route per control action."""
    app = web.Application()
    for method, path, action in _routes(standin):
        app.router.add_route(method, path, _handler(action))
    return app


def _routes(mx: MaxStandIn) -> list[tuple[str, str, Callable[[Body], Any]]]:
    return [
        ("GET", "/state", lambda q: mx.state()),
        ("POST", "/reset", lambda q: mx.reset()),
        ("GET", "/messages", lambda q: mx.messages(int(q["chat_id"]))),
        ("GET", "/updates", lambda q: mx.pending_updates()),
        ("GET", "/callback_answers", lambda q: mx.callback_answers()),
        ("GET", "/webhook_deliveries", lambda q: mx.webhook_deliveries()),
        ("POST", "/users", lambda q: mx.add_user(**_pick(q, "first_name", "last_name", "username", "locale"))),
        ("POST", "/crowd", lambda q: mx.add_users(int(q["count"]))),
        ("POST", "/chats", lambda q: mx.create_chat(q["title"], q.get("kind", "chat"), bool(q.get("public", False)), q.get("bot"))),
        ("POST", "/join", lambda q: mx.join(int(q["user_id"]), int(q["chat_id"]), _int(q.get("inviter_id")))),
        ("POST", "/leave", lambda q: mx.leave(int(q["user_id"]), int(q["chat_id"]), _int(q.get("admin_id")))),
        ("POST", "/members", lambda q: mx.set_member_count(int(q["chat_id"]), int(q["count"]))),
        ("POST", "/start", lambda q: mx.start_bot(int(q["user_id"]), q.get("payload"))),
        ("POST", "/stop", lambda q: mx.stop_bot(int(q["user_id"]))),
        ("POST", "/write", lambda q: mx.write(int(q["user_id"]), _int(q.get("chat_id")), q["text"], q.get("reply_to"))),
        ("POST", "/write_file", lambda q: mx.write_file(int(q["user_id"]), _int(q.get("chat_id")), q["filename"], base64.b64decode(q["data_base64"], validate=True), q["base_url"], q.get("text", ""))),
        ("POST", "/admin_post", lambda q: mx.post_as_admin(int(q["chat_id"]), q["text"])),
        ("POST", "/edit", lambda q: mx.edit_as_user(int(q["user_id"]), q["message_id"], q["text"])),
        ("POST", "/delete", lambda q: mx.delete_as_user(int(q["user_id"]), q["message_id"])),
        ("POST", "/press", lambda q: mx.press(int(q["user_id"]), q["message_id"], q["payload"])),
        ("POST", "/comment", lambda q: mx.comment(int(q["user_id"]), q["message_id"], q["text"])),
        ("POST", "/views", lambda q: mx.set_views(q["message_id"], int(q["views"]))),
        ("POST", "/add_bot", lambda q: mx.add_bot(int(q["chat_id"]), bool(q.get("admin", True)), _int(q.get("by_user_id")), q.get("permissions"))),
        ("POST", "/remove_bot", lambda q: mx.remove_bot(int(q["chat_id"]), _int(q.get("by_user_id")))),
        ("POST", "/insecure_webhooks", lambda q: mx.allow_insecure_webhooks(bool(q.get("allowed", True)))),
        ("POST", "/legacy_chats", lambda q: mx.serve_legacy_chats(bool(q.get("on", True)))),
        ("POST", "/webhook_retry", lambda q: mx.set_webhook_retry(float(q["delay"]))),
        ("POST", "/upload_delay", lambda q: mx.set_upload_delay(float(q["seconds"]))),
        ("POST", "/clock", lambda q: _clock(mx, q)),
        ("POST", "/rate_limit", lambda q: mx.set_rate_limit(**_pick(q, "enabled", "per_second"))),
        ("POST", "/fail", lambda q: mx.fail_next(q["method"], q["code"], q.get("message"), _int(q.get("status")), int(q.get("times", 1)))),
        ("GET", "/faults", lambda q: mx.faults()),
        ("POST", "/faults", lambda q: mx.set_faults(_fault_rules(q), _int(q.get("seed")))),
    ]  # fmt: skip


def _clock(mx: MaxStandIn, body: Body) -> float:
    if "freeze" in body:
        mx.freeze_clock(bool(body["freeze"]))
    if "advance" in body:
        mx.advance_clock(float(body["advance"]))
    return mx.now()


def _fault_rules(body: Body) -> list[FaultRule] | str:
    if "rules" in body:
        return [FaultRule(**rule) for rule in body["rules"]]
    return str(body["spec"])


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _pick(body: Body, *names: str) -> Body:
    return {name: body[name] for name in names if name in body}


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
        except MaxError as error:
            return _json({"ok": False, "description": error.message, "code": error.code}, 400)
        except (KeyError, ValueError, TypeError, SpecError) as error:
            return _json({"ok": False, "description": f"{type(error).__name__}: {error}"}, 400)
        return _json({"ok": True, "result": result})

    return handle


def _json(body: Any, status: int = 200) -> web.Response:
    return web.json_response(
        body, status=status, dumps=lambda obj: json.dumps(obj, ensure_ascii=False)
    )
