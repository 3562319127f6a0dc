"""The MAX Bot API methods the stand-in answers, by operationId (specs/max/api.json).

Each handler takes the World, the query (``Query``), the path parameters and the JSON body,
runs under the stand-in's lock and returns the answer object. Long polling (getUpdates) and
the upload URL are served by the stand-in itself, since they wait or take raw bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from sandbox import max_spec
from sandbox.max import formatting
from sandbox.max.errors import MaxError, bad_request, denied, not_found
from sandbox.max.world import Chat, Message, Upload, World

Handler = Callable[[World, "Query", dict[str, str], Any], Any]
ROUTES: list[tuple[str, re.Pattern[str], str]] = []  # (HTTP verb, path pattern, operationId)
HANDLERS: dict[str, Handler] = {}
_BUTTONS = set(max_spec.spec()["objects"]["Button"]["mapping"])
_SECRET = re.compile(r"^[A-Za-z0-9_-]{5,256}$")


def _route(name: str) -> Callable[[Handler], Handler]:
    entry = max_spec.method(name)
    pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", entry["path"])
    ROUTES.append((entry["http"], re.compile(f"^{pattern}$"), name))

    def register(handler: Handler) -> Handler:
        HANDLERS[name] = handler
        return handler

    return register


def match(verb: str, path: str) -> tuple[str | None, dict[str, str], bool]:
    """``(operationId or None, path parameters, whether the path exists for another verb)``."""
    known = False
    for http, pattern, name in ROUTES:
        found = pattern.match(path)
        if found:
            if http == verb:
                return name, found.groupdict(), True
            known = True
    return None, {}, known


class Query:
    """Query parameters of one call, read with the limits of specs/max/api.json."""

    def __init__(self, name: str, values: Mapping[str, str], multi: Mapping[str, list[str]]):
        self.spec = max_spec.method(name).get("query", {})
        self.values = values
        self.multi = multi

    def integer(self, name: str) -> int | None:
        rule = self.spec[name]
        raw = self.values.get(name)
        if raw is None or raw == "" or (raw == "null" and rule.get("nullable")):
            if rule.get("required"):
                raise bad_request(f"Missing required parameter: {name}")
            return rule.get("default")
        try:
            value = int(raw)
        except ValueError:
            raise bad_request(f"Invalid value for parameter {name}: {raw}") from None
        if value < rule.get("minimum", value) or value > rule.get("maximum", value):
            raise bad_request(
                f"Parameter {name} must be between {rule.get('minimum')} and {rule.get('maximum')}"
            )
        return value

    def boolean(self, name: str) -> bool:
        raw = self.values.get(name)
        if raw is None:
            return bool(self.spec[name].get("default", False))
        if raw.lower() not in ("true", "false"):
            raise bad_request(f"Invalid value for parameter {name}: {raw}")
        return raw.lower() == "true"

    def text(self, name: str) -> str | None:
        raw = self.values.get(name)
        rule = self.spec[name]
        if raw is None or (raw.strip() == "" and rule.get("minLength")):
            if rule.get("required"):
                raise bad_request(f"Missing required parameter: {name}")
            return None
        if "enum" in rule and raw not in rule["enum"]:
            raise bad_request(f"Invalid value for parameter {name}: {raw}")
        return raw

    def items(self, name: str) -> list[str] | None:
        """A list given comma-separated (``?ids=1,2``) or repeated (``?ids=1&ids=2``)."""
        raws = self.multi.get(name) or []
        found = [part.strip() for raw in raws for part in raw.split(",") if part.strip()]
        return found or None


def body_object(body: Any, name: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request(f"Request body must be a JSON object ({name})")
    return body


# -- bots and chats -------------------------------------------------------------------


@_route("getMyInfo")
def get_my_info(world: World, q: Query, path: dict[str, str], body: Any) -> dict[str, Any]:
    out = world.user_json(world.bot["user_id"])
    out.update(
        {
            "description": world.bot_description,
            "avatar_url": None,
            "full_avatar_url": None,
            "commands": None,
        }
    )
    return out


@_route("getChats")
def get_chats(world: World, q: Query, path: dict[str, str], body: Any) -> dict[str, Any]:
    count = q.integer("count") or 50
    marker = q.integer("marker")
    chats = sorted(
        (c for c in world.chats.values() if world.bot["user_id"] in c.members),
        key=lambda c: c.chat_id,
    )
    start = (
        0
        if marker is None
        else next((i for i, c in enumerate(chats) if c.chat_id > marker), len(chats))
    )
    page = chats[start : start + count]
    more = start + count < len(chats)
    return {
        "chats": [world.chat_json(c) for c in page],
        "marker": page[-1].chat_id if more else None,
    }


def _chat_id(path: dict[str, str]) -> int:
    try:
        return int(path["chatId"])
    except ValueError:
        raise bad_request(f"Invalid chat id: {path['chatId']}") from None


def _known_chat(world: World, path: dict[str, str]) -> Chat:
    chat = world.chat(_chat_id(path))
    if world.bot["user_id"] not in chat.members:
        raise denied(f"Bot has no access to chat {chat.chat_id}")
    return chat


@_route("getChat")
def get_chat(world: World, q: Query, path: dict[str, str], body: Any) -> dict[str, Any]:
    return world.chat_json(_known_chat(world, path), single=True)


@_route("getMembers")
def get_members(world: World, q: Query, path: dict[str, str], body: Any) -> dict[str, Any]:
    chat = _known_chat(world, path)
    if world.bot_member(chat) is None:
        raise denied(f"Bot is not a member of chat {chat.chat_id}")
    members = sorted(chat.members.values(), key=lambda m: m.user_id)
    ids = q.items("user_ids")
    if ids is not None:
        try:
            wanted = {int(i) for i in ids}
        except ValueError:
            raise bad_request("user_ids must be numbers") from None
        return {
            "members": [world.member_json(chat, m) for m in members if m.user_id in wanted],
            "marker": None,
        }
    count = q.integer("count") or 20
    marker = q.integer("marker")
    start = (
        0
        if marker is None
        else next((i for i, m in enumerate(members) if m.user_id > marker), len(members))
    )
    page = members[start : start + count]
    more = start + count < len(members)
    return {
        "members": [world.member_json(chat, m) for m in page],
        "marker": page[-1].user_id if more else None,
    }


@_route("getMembership")
def get_membership(world: World, q: Query, path: dict[str, str], body: Any) -> dict[str, Any]:
    chat = _known_chat(world, path)
    member = world.bot_member(chat)
    if member is None:
        raise denied(f"Bot is not a member of chat {chat.chat_id}")
    return world.member_json(chat, member)


# -- messages -------------------------------------------------------------------------


@_route("getMessages")
def get_messages(world: World, q: Query, path: dict[str, str], body: Any) -> dict[str, Any]:
    chat_id = q.integer("chat_id")
    ids = q.items("message_ids")
    if chat_id is None and ids is None:
        raise bad_request("Either chat_id or message_ids must be set")
    count = q.integer("count") or 50
    found: list[tuple[Chat, Message]] = []
    if ids is not None:
        for mid in ids:
            try:
                chat, message = world.find_message(mid)
            except MaxError:
                continue
            if chat_id is None or chat.chat_id == chat_id:
                found.append((chat, message))
    else:
        chat = world.chat(chat_id)  # type: ignore[arg-type]
        if world.bot_member(chat) is None:
            raise denied(f"Bot has no access to chat {chat.chat_id}")
        after = q.integer("after")
        before = q.integer("before")
        newest = q.integer("from")
        oldest = q.integer("to")
        for message in reversed(list(chat.messages.values())):
            t = message.timestamp
            if (after is not None and t <= after) or (before is not None and t >= before):
                continue
            if (newest is not None and t > newest) or (oldest is not None and t < oldest):
                continue
            found.append((chat, message))
        found = found[:count]
    for chat, _ in found:
        if world.bot_member(chat) is None:
            raise denied(f"Bot has no access to chat {chat.chat_id}")
    return {"messages": [world.message_json(c, m, stat=True) for c, m in found]}


@_route("getMessageById")
def get_message(world: World, q: Query, path: dict[str, str], body: Any) -> dict[str, Any]:
    chat, message = world.find_message(path["messageId"])
    if world.bot_member(chat) is None:
        raise not_found(f"Message {message.mid} not found")
    return world.message_json(chat, message)


def build_attachments(world: World, raw: Any) -> list[dict[str, Any]]:
    """AttachmentRequest objects -> the Attachment objects a Message carries."""
    if not isinstance(raw, list):
        raise bad_request("attachments must be an array")
    out: list[dict[str, Any]] = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise bad_request("Every attachment needs a type")
        kind = item["type"]
        payload = item.get("payload")
        if kind == "inline_keyboard":
            out.append({"type": kind, "payload": {"buttons": _keyboard(payload)}})
        elif kind == "image":
            out.extend(_images(world, payload))
        elif kind in ("video", "audio", "file"):
            stored = _stored(world, payload, kind)
            attachment: dict[str, Any] = {
                "type": kind,
                "payload": {"url": stored.url, "token": stored.token},
            }
            if kind == "file":
                attachment.update(filename=stored.filename, size=stored.size)
            out.append(attachment)
        elif kind == "share":
            if not isinstance(payload, dict) or not (payload.get("url") or payload.get("token")):
                raise bad_request("share attachment needs payload.url or payload.token")
            out.append(
                {
                    "type": "share",
                    "payload": {"url": payload.get("url"), "token": payload.get("token")},
                }
            )
        else:
            raise bad_request(f"Unsupported attachment type: {kind}")
    return out


def _keyboard(payload: Any) -> list[list[dict[str, Any]]]:
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("buttons"), list)
        or not payload["buttons"]
    ):
        raise bad_request("inline_keyboard: buttons must be a non-empty array of rows")
    rows = []
    for row in payload["buttons"]:
        if not isinstance(row, list):
            raise bad_request("inline_keyboard: every row must be an array")
        buttons = []
        for button in row:
            if not isinstance(button, dict) or button.get("type") not in _BUTTONS:
                raise bad_request(f"inline_keyboard: unknown button {button!r}")
            problems = max_spec.object_errors("Button", button, path="button")
            if problems:
                raise bad_request("inline_keyboard: " + "; ".join(problems))
            buttons.append(dict(button))
        rows.append(buttons)
    return rows


def _images(world: World, payload: Any) -> list[dict[str, Any]]:
    if not isinstance(payload, dict):
        raise bad_request("image attachment needs a payload")
    if payload.get("photos"):
        tokens = [p.get("token") for p in payload["photos"].values() if isinstance(p, dict)]
    elif payload.get("token"):
        tokens = [payload["token"]]
    elif payload.get("url"):
        url = str(payload["url"])
        if urlsplit(url).scheme not in ("http", "https"):
            raise bad_request(f"Invalid image url: {url}")
        token = world.random_token()
        return [
            {
                "type": "image",
                "payload": {
                    "photo_id": world.rng.randrange(10**9, 10**10),
                    "token": token,
                    "url": url,
                },
            }
        ]
    else:
        raise bad_request("image payload needs url, token or photos")
    out = []
    for token in tokens:
        stored = _stored(world, {"token": token}, "image")
        out.append(
            {
                "type": "image",
                "payload": {"photo_id": stored.photo_id, "token": stored.token, "url": stored.url},
            }
        )
    return out


def _stored(world: World, payload: Any, kind: str):  # noqa: ANN202 (a world.Stored)
    token = payload.get("token") if isinstance(payload, dict) else None
    stored = world.stored.get(token or "")
    if stored is None or stored.kind != kind:
        raise bad_request(f"Invalid {kind} token")
    if world.clock() < stored.ready_at:
        raise MaxError("attachment.not.ready", "")
    return stored


def _new_body(world: World, body: Any, name: str = "NewMessageBody") -> dict[str, Any]:
    body = body_object(body, name)
    world.check_text(body.get("text"), max_spec.limit("text_max_length"))
    fmt = body.get("format")
    if fmt not in (None, "markdown", "html"):
        raise bad_request(f"Invalid format: {fmt}")
    if "notify" in body and not isinstance(body["notify"], bool):
        raise bad_request("notify must be a boolean")
    return body


def _link(world: World, chat: Chat, raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    problems = max_spec.object_errors("NewMessageLink", raw, path="link")
    if problems:
        raise bad_request("; ".join(problems))
    source_chat, source = world.find_message(raw["mid"])
    linked: dict[str, Any] = {
        "type": raw["type"],
        "chat_id": source_chat.chat_id,
        "message": world.message_json(source_chat, source)["body"],
    }
    if source.sender_id is not None:
        linked["sender"] = world.user_json(source.sender_id)
    return linked


@_route("sendMessage")
def send_message(world: World, q: Query, path: dict[str, str], body: Any) -> dict[str, Any]:
    chat_id = q.integer("chat_id")
    user_id = q.integer("user_id")
    if (chat_id is None) == (user_id is None):
        raise bad_request("Exactly one of chat_id and user_id must be set")
    if user_id is not None:
        chat = world.dialog_with(user_id)
        if chat is None:
            raise denied(f"User {user_id} has not started a dialog with the bot")
    else:
        chat = world.chats.get(chat_id)  # type: ignore[arg-type]
        if chat is None:
            raise denied(f"Chat {chat_id} not found")
    world.writable(chat)
    body = _new_body(world, body)
    notify = body.get("notify", True)
    if chat.type == "channel" and notify is False:
        # schema #/paths/~1messages/post: "In the case of a channel, it returns an error if
        # you pass notify=false".
        raise bad_request("notify=false is not allowed for channels")
    attachments = build_attachments(world, body["attachments"]) if body.get("attachments") else None
    if not body.get("text") and not attachments:
        raise bad_request("Message must have text or attachments")
    text, markup = formatting.render(body.get("text"), body.get("format"))
    message = world.add_message(
        chat,
        None if chat.type == "channel" else world.bot["user_id"],
        text,
        markup=markup,
        attachments=attachments,
        link=_link(world, chat, body.get("link")),
        notify=notify,
        disable_link_preview=q.boolean("disable_link_preview"),
        format=body.get("format"),
    )
    return {"message": world.message_json(chat, message)}


def edit(world: World, chat: Chat, message: Message, body: dict[str, Any]) -> None:
    """Apply a NewMessageBody to a message: absent or null ``attachments`` keep them, an empty
    list drops them (schema #/paths/~1messages/put)."""
    if "text" in body or "format" in body:
        text, markup = formatting.render(body.get("text", message.text), body.get("format"))
        message.text, message.markup = text, markup
        message.format = body.get("format")
    if body.get("attachments") is not None:
        message.attachments = build_attachments(world, body["attachments"]) or None
    message.edited_at = world.now_ms()


@_route("editMessage")
def edit_message(world: World, q: Query, path: dict[str, str], body: Any) -> dict[str, Any]:
    chat, message = world.find_message(q.text("message_id") or "")
    if world.bot_member(chat) is None:
        raise denied(f"Bot has no access to chat {chat.chat_id}")
    own = message.sender_id == world.bot["user_id"] or (
        chat.type == "channel" and message.sender_id is None
    )
    if not own and not world.bot_may(chat, "edit"):
        raise denied("Bot may edit only its own messages")
    edit(world, chat, message, _new_body(world, body))
    return {"success": True}


@_route("deleteMessage")
def delete_message(world: World, q: Query, path: dict[str, str], body: Any) -> dict[str, Any]:
    chat, message = world.find_message(q.text("message_id") or "")
    if world.bot_member(chat) is None:
        raise denied(f"Bot has no access to chat {chat.chat_id}")
    own = message.sender_id == world.bot["user_id"] or (
        chat.type == "channel" and message.sender_id is None
    )
    if not own and not world.bot_may(chat, "delete"):
        raise denied("Bot has no permission to delete this message")
    del chat.messages[message.mid]
    return {"success": True}


# -- comments -------------------------------------------------------------------------


def _post(world: World, path: dict[str, str]) -> tuple[Chat, Message]:
    chat, post = world.find_message(path["messageId"])
    if chat.type != "channel" or world.bot_member(chat) is None:
        raise not_found(f"Message {post.mid} not found")
    return chat, post


@_route("getComments")
def get_comments(world: World, q: Query, path: dict[str, str], body: Any) -> dict[str, Any]:
    chat, post = _post(world, path)
    ids = q.items("comment_ids")
    after, before, count = q.integer("after"), q.integer("before"), q.integer("count") or 50
    found = []
    for comment in reversed(list(post.comments.values())):
        if ids is not None and comment.mid not in ids:
            continue
        t = comment.timestamp
        if (after is not None and t <= after) or (before is not None and t >= before):
            continue
        found.append(world.comment_json(chat, comment))
    return {"messages": found[:count]}


@_route("getCommentById")
def get_comment(world: World, q: Query, path: dict[str, str], body: Any) -> dict[str, Any]:
    chat, post = _post(world, path)
    comment = post.comments.get(path["commentId"])
    if comment is None:
        raise not_found(f"Comment {path['commentId']} not found")
    return world.comment_json(chat, comment)


@_route("sendComment")
def send_comment(world: World, q: Query, path: dict[str, str], body: Any) -> dict[str, Any]:
    chat, post = _post(world, path)
    body = _new_body(world, body, "NewCommentBody")
    if "attachments" in body:
        raise bad_request("Attachments are not allowed in comments")
    if not body.get("text"):
        raise bad_request("Comment must have text")
    text, markup = formatting.render(body["text"], body.get("format"))
    comment = world.add_message(chat, world.bot["user_id"], text, markup=markup, post_mid=post.mid)
    del chat.messages[comment.mid]  # comments live under their post
    post.comments[comment.mid] = comment
    return {"message": world.comment_json(chat, comment)}


# -- callbacks and uploads ------------------------------------------------------------------


@_route("answerOnCallback")
def answer_callback(world: World, q: Query, path: dict[str, str], body: Any) -> dict[str, Any]:
    callback_id = q.text("callback_id") or ""
    callback = world.callbacks.get(callback_id)
    if callback is None:
        raise not_found(f"Callback {callback_id} not found")
    body = body_object(body, "CallbackAnswer")
    if body.get("message") is None and body.get("notification") is None:
        raise bad_request("Either message or notification must be set")
    if body.get("notification") is not None and not isinstance(body["notification"], str):
        raise bad_request("notification must be a string")
    if body.get("message") is not None:
        new = _new_body(world, body["message"])
        try:
            chat, message = world.find_message(callback["mid"])
        except MaxError:
            raise not_found("The message with the button no longer exists") from None
        edit(world, chat, message, new)
    callback["answers"].append(
        {
            "message": body.get("message"),
            "notification": body.get("notification"),
            "at": world.now_ms(),
        }
    )
    return {"success": True}


@_route("getUploadUrl")
def get_upload_url(world: World, q: Query, path: dict[str, str], body: Any) -> dict[str, Any]:
    raw_type = q.values.get("type")
    if raw_type == "photo":
        # schema #/paths/~1uploads/post: "type=photo parameter is no longer supported".
        raise bad_request("type=photo is no longer supported, use type=image")
    kind = q.text("type") or ""
    upload_id = world.random_token(24)
    # Video and audio: the token comes with the URL (schema UploadEndpoint; Go client upload.go).
    token = world.random_token() if kind in ("video", "audio") else None
    world.uploads[upload_id] = Upload(kind=kind, token=token)
    out: dict[str, Any] = {"url": f"/upload/{upload_id}"}  # the stand-in makes it absolute
    if token:
        out["token"] = token
    return out


# -- webhooks ---------------------------------------------------------------------------


@_route("getSubscriptions")
def get_subscriptions(world: World, q: Query, path: dict[str, str], body: Any) -> dict[str, Any]:
    return {
        "subscriptions": [
            {"url": s["url"], "time": s["time"], "update_types": s["update_types"]}
            for s in world.subscriptions
        ]
    }


def webhook_url_problem(world: World, url: str) -> str | None:
    """Why MAX would refuse ``url`` as a webhook (None: accepted). The schema wants an HTTPS
    URL on port 443 (SubscriptionUrl, subscribe); plain HTTP stopped on 25 May 2026
    (api-schema README.mdx, dev.max.ru POST /subscriptions). The stand-in can be told to
    accept http://127.0.0.1 (``allow_insecure_webhooks``), since tests have no trusted cert."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return f"Invalid url: {url}"
    if not parts.hostname:
        return f"Invalid url: {url}"
    if (
        world.allow_insecure_webhooks
        and parts.scheme == "http"
        and parts.hostname in ("127.0.0.1", "localhost")
    ):
        return None
    if parts.scheme != "https":
        return "Webhook url must start with https://"
    if port not in (None, 443):
        return "Webhook server must listen on port 443"
    return None


@_route("subscribe")
def subscribe(world: World, q: Query, path: dict[str, str], body: Any) -> dict[str, Any]:
    body = body_object(body, "SubscriptionRequestBody")
    url = body.get("url")
    if not isinstance(url, str) or not url:
        raise bad_request("url is required")
    problem = webhook_url_problem(world, url)
    if problem:
        raise bad_request(problem)
    secret = body.get("secret")
    if secret is not None and (not isinstance(secret, str) or not _SECRET.match(secret)):
        raise bad_request("secret must be 5-256 characters of A-Z, a-z, 0-9, _ and -")
    types = body.get("update_types")
    if types is not None:
        known = set(max_spec.update_types())
        if not isinstance(types, list) or any(t not in known for t in types):
            raise bad_request(f"Unknown update types: {types}")
    world.subscriptions = [s for s in world.subscriptions if s["url"] != url]
    world.subscriptions.append(
        {"url": url, "time": world.now_ms(), "update_types": types or None, "secret": secret}
    )
    return {"success": True}


@_route("unsubscribe")
def unsubscribe(world: World, q: Query, path: dict[str, str], body: Any) -> dict[str, Any]:
    url = q.text("url") or ""
    before = len(world.subscriptions)
    world.subscriptions = [s for s in world.subscriptions if s["url"] != url]
    if len(world.subscriptions) == before:
        # Failed SimpleQueryResults carry ``code`` since November 2026 (dev.max.ru changelog).
        return {"success": False, "message": f"No subscription for {url}", "code": "not.found"}
    return {"success": True}


_route("getUpdates")(lambda world, q, path, body: None)  # served by the stand-in (long poll)
