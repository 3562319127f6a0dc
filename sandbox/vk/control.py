"""JSON routes of the VK stand-in's control app (mounted at /_sandbox/vk/ by the runner).

GET  state | posts?group_id= | events[?group_id=] | messages?user_id=[&group_id=] | faults
GET  communities                               POST communities {"name", "screen_name"?, "members"?}
POST views | likes | reposts | comments        {"post": "-GROUP_ID", "count": n}
POST members                                   {"group_id": g, "count": n}
POST reader                                    {"first_name": .., "last_name": ..}
POST comment {"user_id", "post", "text", "reply_to"?, "attachments"?: ["photo"|"video"]}   POST comment_edit {"comment_id", "text"}
POST like | unlike | repost {"user_id", "post"}          POST vote {"user_id", "poll_id", "answer_ids"}
POST join | leave {"user_id", "group_id"?}
POST message {"user_id", "text", "payload"?, "group_id"?, "peer_id"?, "attachments"?}
POST button {"user_id", "payload", "message_id"?, "group_id"?, "peer_id"?,
             "conversation_message_id"?}                 GET  button_answer?event_id=
GET  chats[?group_id=] | chat_messages?peer_id=[&group_id=]
POST chats {"title"?, "members"?, "group_id"?}           (answers the chat's peer_id)
POST chat_message {"user_id", "peer_id", "text", "reply_to"?, "group_id"?}   (answers its cmid)
POST fail {"method", "code", "times"?}    POST rate_limit {"enabled"} (older form of:)
POST rate_limits {"enabled"?, "user_per_second"?, "community_per_second"?}   (on, 3, 20)
POST faults {"spec": "wall.post:ambiguous:0.2,*:slow:0.1:15", "seed"?}   ("" = none)
POST longpoll_expire {"failed"?, "group_id"?}      POST clock {"seconds"}      POST reset
POST community_wall {"allowed"}   (wall.post with a community token: off = VK's error 27)
POST admin_post {"text", "group_id"?, "photo"?}   (an admin posts on the wall by hand: wall_post_new)
POST token_rights {"token", "give"?: [..], "take"?: [..]}   POST community_messages {"enabled", "group_id"?}
POST long_poll {"enabled"?, "api_version"?, "on"?: [event types], "off"?: [..], "group_id"?}

Every POST answers {"ok": true, "result": ...}; bad input answers HTTP 400 {"ok": false, "error"}.
Without group_id, an action concerns the first community.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from sandbox.vk.standin import VkStandIn

RouteHandler = Callable[[web.Request], Awaitable[web.Response]]
# route -> (VkStandIn method, the JSON fields it takes, in order); "field:name" passes the
# JSON field as the method's argument ``name``; GET fields ending in "?" may be left out.
POST_ACTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "views": ("add_views", ("post", "count")),
    "likes": ("add_likes", ("post", "count")),
    "reposts": ("add_reposts", ("post", "count")),
    "comments": ("add_comments", ("post", "count")),
    "members": ("set_members", ("group_id", "count")),
    "reader": ("add_reader", ("first_name", "last_name")),
    "comment": ("comment", ("user_id", "post", "text", "reply_to", "attachments")),
    "comment_edit": ("edit_comment", ("comment_id", "text")),
    "like": ("like", ("user_id", "post")),
    "unlike": ("unlike", ("user_id", "post")),
    "repost": ("repost", ("user_id", "post")),
    "vote": ("vote", ("user_id", "poll_id", "answer_ids")),
    "join": ("join", ("user_id", "group_id")),
    "leave": ("leave", ("user_id", "group_id")),
    "message": ("write", ("user_id", "text", "payload", "group_id", "peer_id", "attachments")),
    "button": (
        "press_button",
        ("user_id", "payload", "message_id", "group_id", "peer_id", "conversation_message_id"),
    ),
    "chats": ("add_chat", ("group_id", "title", "members")),
    "chat_message": ("write_in_chat", ("user_id", "peer_id", "text", "reply_to", "group_id")),
    "communities": ("add_community", ("name", "screen_name", "members")),
    "wall": ("add_posts", ("count", "group_id", "text")),
    "fail": ("fail_next", ("method", "code", "times")),
    "rate_limit": ("set_rate_limiting", ("enabled",)),
    "rate_limits": ("set_rate_limits", ("enabled", "user_per_second", "community_per_second")),
    "faults": ("set_faults", ("spec:rules", "seed")),
    "longpoll_expire": ("expire_longpoll_key", ("failed", "group_id")),
    "token_rights": ("set_token_rights", ("token", "give", "take")),
    "long_poll": ("set_long_poll", ("enabled", "api_version", "on", "off", "group_id")),
    "community_messages": ("set_community_messages", ("enabled", "group_id")),
    "community_wall": ("set_community_wall_posts", ("allowed",)),
    "admin_post": ("post_as_admin", ("text", "group_id", "photo")),
    "clock": ("shift_clock", ("seconds",)),
    "reset": ("reset", ()),
}
GET_ACTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "state": ("state", ()),
    "posts": ("posts", ("group_id",)),
    "events": ("events_log", ("group_id?",)),
    "messages": ("messages", ("user_id", "group_id?")),
    "communities": ("communities", ()),
    "button_answer": ("button_answer", ("event_id",)),
    "chats": ("chats", ("group_id?",)),
    "chat_messages": ("chat_messages", ("peer_id", "group_id?")),
    "faults": ("faults_state", ()),
}


def make_control_app(stand_in: VkStandIn) -> web.Application:
    """The control app driving ``stand_in``."""
    app = web.Application()
    for route, (name, fields) in POST_ACTIONS.items():
        app.router.add_post(f"/{route}", _post_handler(getattr(stand_in, name), fields))
    for route, (name, fields) in GET_ACTIONS.items():
        app.router.add_get(f"/{route}", _get_handler(getattr(stand_in, name), fields))
    return app


def _post_handler(action: Callable[..., Any], fields: tuple[str, ...]) -> RouteHandler:
    async def handle(request: web.Request) -> web.Response:
        try:
            body = await request.json() if request.can_read_body else {}
        except ValueError:
            return _failure("the body is not JSON")
        if not isinstance(body, dict):
            return _failure("the body must be a JSON object")
        arguments = {}
        for spelled in fields:
            key, _, name = spelled.partition(":")
            if key in body:
                arguments[name or key] = body[key]
        return _run(action, arguments)

    return handle


def _get_handler(action: Callable[..., Any], fields: tuple[str, ...]) -> RouteHandler:
    async def handle(request: web.Request) -> web.Response:
        arguments: dict[str, Any] = {}
        needed = [key for key in fields if not key.endswith("?")]
        for key in (spelled.rstrip("?") for spelled in fields):
            if key in request.query:
                value = request.query[key]
                arguments[key] = int(value) if value.lstrip("-").isdigit() else value
        if any(key not in arguments for key in needed):
            return _failure(f"query parameters needed: {', '.join(needed)}")
        try:
            result = action(**arguments)
        except (KeyError, ValueError) as problem:
            return _failure(str(problem))
        return web.Response(text=_dumps(result), content_type="application/json")

    return handle


def _run(action: Callable[..., Any], arguments: dict[str, Any]) -> web.Response:
    try:
        result = action(**arguments)
    except (KeyError, ValueError, TypeError) as problem:
        return _failure(str(problem))
    return web.Response(
        text=_dumps({"ok": True, "result": result}), content_type="application/json"
    )


def _failure(message: str) -> web.Response:
    return web.Response(
        text=_dumps({"ok": False, "error": message}), status=400, content_type="application/json"
    )


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
