"""Bot API methods about the bot itself, chats, members, pins, commands, files and webhooks."""

from __future__ import annotations

import json
import re
from typing import Any

from sandbox.telegram.errors import ApiError, bad_request, chat_not_found
from sandbox.telegram.media import file_wire
from sandbox.telegram.params import Params
from sandbox.telegram.registry import api_method
from sandbox.telegram.world import DEFAULT_UPDATE_TYPES, ChatRecord, World

MAX_REACTIONS = 11
DOWNLOAD_LIMIT = 20 * 1024 * 1024


# -- the bot -----------------------------------------------------------------


@api_method("getMe")
def get_me(world: World, p: Params) -> dict[str, Any]:
    """The bot's own User with its capabilities."""
    return {
        **world.bot,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@api_method("logOut")
@api_method("close")
def log_out(world: World, p: Params) -> bool:
    """Accepted and ignored: the stand-in has no cloud server to leave."""
    return True


def _command_key(p: Params) -> str:
    scope = p.json("scope") or {"type": "default"}
    return json.dumps([scope, p.text("language_code") or ""], sort_keys=True, ensure_ascii=False)


CHAT_SCOPES = ("chat", "chat_administrators", "chat_member")


def _check_scope(world: World, p: Params) -> None:
    """A scope naming a chat needs a chat the bot knows: a user who never opened the chat
    with the bot is "chat not found" here too (Telegram answers setMyCommands so)."""
    scope = p.json("scope") or {"type": "default"}
    if not isinstance(scope, dict) or scope.get("type") not in (
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        *CHAT_SCOPES,
    ):
        raise bad_request("can't parse BotCommandScope JSON object")
    if scope["type"] in CHAT_SCOPES:
        try:
            world.chat(scope.get("chat_id", ""))
        except ApiError:
            raise chat_not_found() from None


@api_method("setMyCommands")
def set_my_commands(world: World, p: Params) -> bool:
    """Store the command list for a scope and language."""
    _check_scope(world, p)
    commands = p.json("commands")
    if not isinstance(commands, list):
        raise bad_request('parameter "commands" is required')
    if len(commands) > 100:
        raise bad_request("too many commands specified")
    for command in commands:
        name = command.get("command", "") if isinstance(command, dict) else ""
        if not re.fullmatch(r"[a-z0-9_]{1,32}", name.lower()):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(command.get("description", "")) <= 256:
            raise bad_request("command description must be 1-256 characters long")
    world.commands[_command_key(p)] = [
        {"command": c["command"].lower(), "description": c["description"]} for c in commands
    ]
    return True


@api_method("getMyCommands")
def get_my_commands(world: World, p: Params) -> list[dict[str, str]]:
    """The command list for a scope and language."""
    _check_scope(world, p)
    return world.commands.get(_command_key(p), [])


@api_method("deleteMyCommands")
def delete_my_commands(world: World, p: Params) -> bool:
    """Forget the command list for a scope and language."""
    _check_scope(world, p)
    world.commands.pop(_command_key(p), None)
    return True


# -- webhooks: accepted, but updates are only ever served through getUpdates ------


@api_method("setWebhook")
def set_webhook(world: World, p: Params) -> bool:
    """Remember a webhook URL; while set, getUpdates answers 409 as on the real API."""
    url = p.text("url") or ""
    if url and not url.startswith("https://"):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    world.webhook_url = url
    if p.flag("drop_pending_updates"):
        world.updates.clear()
    return True


@api_method("deleteWebhook")
def delete_webhook(world: World, p: Params) -> bool:
    """Remove the webhook, optionally dropping pending updates."""
    world.webhook_url = ""
    if p.flag("drop_pending_updates"):
        world.updates.clear()
    return True


@api_method("getWebhookInfo")
def get_webhook_info(world: World, p: Params) -> dict[str, Any]:
    """WebhookInfo: the URL (empty when polling), the number of pending updates and, once a
    getUpdates named them, the update types the bot is subscribed to."""
    info: dict[str, Any] = {
        "url": world.webhook_url,
        "has_custom_certificate": False,
        "pending_update_count": len(world.updates),
    }
    if world.allowed_updates != DEFAULT_UPDATE_TYPES:
        info["allowed_updates"] = sorted(world.allowed_updates)
    return info


# -- chats ---------------------------------------------------------------------


def full_info(world: World, chat: ChatRecord) -> dict[str, Any]:
    """ChatFullInfo as getChat returns it."""
    info: dict[str, Any] = {
        **chat.wire(),
        "accent_color_id": abs(chat.id) % 7,
        "max_reaction_count": MAX_REACTIONS,
        "accepted_gift_types": {
            "unlimited_gifts": chat.type != "private",
            "limited_gifts": chat.type != "private",
            "unique_gifts": chat.type != "private",
            "premium_subscription": False,
            "gifts_from_channels": chat.type != "private",
        },
    }
    if chat.username:
        info["active_usernames"] = [chat.username]
    if chat.description:
        info["description"] = chat.description
    if chat.linked_chat_id is not None:
        info["linked_chat_id"] = chat.linked_chat_id
    if chat.type == "supergroup":
        info["permissions"] = {
            "can_send_messages": True,
            "can_send_photos": True,
            "can_send_polls": True,
        }
        info["has_visible_history"] = True
    if chat.pinned and chat.pinned[-1] in chat.messages:
        info["pinned_message"] = chat.messages[chat.pinned[-1]]
    return info


@api_method("getChat")
def get_chat(world: World, p: Params) -> dict[str, Any]:
    """Up-to-date information about a chat; a user's private chat exists for the bot only
    once the user has written to it (until then: "chat not found", as on Telegram)."""
    chat_id = p.chat_id()
    if chat_id in world.users and chat_id not in world.started_bot:
        raise chat_not_found()
    return full_info(world, world.chat(chat_id))


@api_method("getChatMemberCount")
def get_chat_member_count(world: World, p: Params) -> int:
    """The number of members (subscribers of a channel)."""
    return world.chat(p.chat_id()).member_count


def member_wire(world: World, chat: ChatRecord, user: dict[str, Any]) -> dict[str, Any]:
    """The ChatMember of a user in a chat, by status."""
    status = chat.members.get(user["id"], "left")
    if status == "creator":
        return {"status": "creator", "user": user, "is_anonymous": False}
    if status == "administrator":
        rights = {**_admin_rights(chat), **chat.rights.get(user["id"], {})}
        return {"status": "administrator", "user": user, **rights}
    if status == "kicked":
        return {"status": "kicked", "user": user, "until_date": 0}
    return {"status": status, "user": user}


def _admin_rights(chat: ChatRecord) -> dict[str, bool]:
    rights = dict.fromkeys(
        [
            "can_manage_chat",
            "can_delete_messages",
            "can_manage_video_chats",
            "can_restrict_members",
            "can_invite_users",
            "can_post_stories",
            "can_edit_stories",
            "can_delete_stories",
        ],
        True,
    )
    rights.update(
        can_be_edited=False, is_anonymous=False, can_promote_members=False, can_change_info=True
    )
    if chat.type == "channel":
        rights.update(can_post_messages=True, can_edit_messages=True)
    else:
        rights.update(can_pin_messages=True, can_manage_topics=False)
    return rights


@api_method("getChatMember")
def get_chat_member(world: World, p: Params) -> dict[str, Any]:
    """A user's membership in a chat ("left" for users the chat never saw)."""
    chat = world.chat(p.chat_id())
    user_id = p.required_integer("user_id", "user_id is empty")
    if user_id not in world.users:
        raise bad_request("PARTICIPANT_ID_INVALID")
    return member_wire(world, chat, world.users[user_id])


@api_method("getChatAdministrators")
def get_chat_administrators(world: World, p: Params) -> list[dict[str, Any]]:
    """The owner and administrators (this bot included, other bots only with return_bots)."""
    chat = world.chat(p.chat_id())
    if chat.type == "private":
        raise bad_request("there are no administrators in the private chat")
    admins = []
    for user_id, status in chat.members.items():
        user = world.users[user_id]
        is_other_bot = user["is_bot"] and user_id != world.bot["id"]
        if status in ("creator", "administrator") and (not is_other_bot or p.flag("return_bots")):
            admins.append(member_wire(world, chat, user))
    return admins


@api_method("pinChatMessage")
def pin_chat_message(world: World, p: Params) -> bool:
    """Pin a message; Telegram adds a service message about it."""
    chat = world.chat(p.chat_id())
    message_id = p.required_integer("message_id", "message identifier is not specified")
    message = chat.messages.get(message_id)
    if message is None:
        raise bad_request("message to pin not found")
    if message_id in chat.pinned:
        chat.pinned.remove(message_id)
    chat.pinned.append(message_id)
    world.post(
        chat,
        world.bot,
        {"pinned_message": {k: v for k, v in message.items() if k != "reply_to_message"}},
    )
    return True


@api_method("unpinChatMessage")
def unpin_chat_message(world: World, p: Params) -> bool:
    """Unpin one message (the most recent pin when message_id is omitted)."""
    chat = world.chat(p.chat_id())
    message_id = p.integer("message_id") or (chat.pinned[-1] if chat.pinned else None)
    if message_id not in chat.pinned:
        raise bad_request("message to unpin not found")
    chat.pinned.remove(message_id)
    return True


@api_method("unpinAllChatMessages")
def unpin_all_chat_messages(world: World, p: Params) -> bool:
    """Unpin every pinned message of a chat."""
    world.chat(p.chat_id()).pinned.clear()
    return True


# -- files ---------------------------------------------------------------------


@api_method("getFile")
def get_file(world: World, p: Params) -> dict[str, Any]:
    """File info with a file_path to download from /file/bot<token>/<file_path>."""
    stored = world.files.get(p.required_text("file_id", "file_id is empty"))
    if stored.size > DOWNLOAD_LIMIT:
        raise bad_request("file is too big")
    return file_wire(stored)


@api_method("sendChatAction")
def send_chat_action(world: World, p: Params) -> bool:
    """Accept a typing/uploading indicator; nobody sees it here."""
    world.chat(p.chat_id())
    if not p.has("action"):
        raise bad_request("action is empty")
    return True


def unknown_method() -> ApiError:
    """The real answer for a method name that does not exist."""
    return ApiError(404, "Not Found")
