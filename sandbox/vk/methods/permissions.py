"""What a token may do and what a community has switched on: the calls a setup check makes.

``account.getAppPermissions`` (a user token's rights as a bit mask), ``groups.getTokenPermissions``
(a community token's rights), ``groups.getLongPollSettings`` (Bots Long Poll on, its version,
the event types) and ``messages.isMessagesFromGroupAllowed`` (whether a person has let the
community write to them). The control functions at the end give or take each right, switch the
long poll or an event type, and the community's messages; the stand-in's methods call them.

Rights are VK's bits (dev.vk.com "Права доступа"): a user token's ``photos`` 4, ``wall`` 8192…;
a community token's ``photos`` 4, ``messages`` 4096, ``wall`` 8192, ``docs`` 131072, ``manage``
262144. A user token's rights are what ``_check_scope`` enforces (taking ``wall`` makes
``wall.post`` fail with error 15).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sandbox.vk.api import ApiFailure, Call, invalid
from sandbox.vk.methods.registry import check_admin_of, method, named_community
from sandbox.vk.world import Community, World

USER_RIGHTS = {
    "notify": 1, "friends": 2, "photos": 4, "audio": 8, "video": 16, "stories": 64,
    "pages": 128, "menu": 256, "status": 1024, "notes": 2048, "messages": 4096, "wall": 8192,
    "ads": 32768, "offline": 65536, "docs": 131072, "groups": 262144,
    "notifications": 524288, "stats": 1048576, "email": 4194304, "market": 134217728,
}  # fmt: skip
GROUP_RIGHTS = {
    "stories": 1, "photos": 4, "app_widget": 64, "messages": 4096, "wall": 8192,
    "docs": 131072, "manage": 262144,
}  # fmt: skip
# The event types of groups.getLongPollSettings. The schema's events object (groups_long_poll_
# events) leaves out like_add, like_remove and message_event, which its own
# groups.setLongPollSettings takes and VK sends: the stand-in lists them too.
EVENT_TYPES = (
    "message_new", "message_reply", "message_allow", "message_deny", "message_edit",
    "message_typing_state", "message_read", "message_event", "message_reaction_event",
    "photo_new", "audio_new", "video_new", "wall_reply_new", "wall_reply_edit",
    "wall_reply_delete", "wall_reply_restore", "wall_post_new", "wall_repost",
    "wall_schedule_post_new", "wall_schedule_post_delete", "board_post_new", "board_post_edit",
    "board_post_restore", "board_post_delete", "photo_comment_new", "photo_comment_edit",
    "photo_comment_delete", "photo_comment_restore", "video_comment_new", "video_comment_edit",
    "video_comment_delete", "video_comment_restore", "market_comment_new", "market_comment_edit",
    "market_comment_delete", "market_comment_restore", "market_order_new", "market_order_edit",
    "poll_vote_new", "group_join", "group_leave", "group_change_settings", "group_change_photo",
    "group_officers_edit", "user_block", "user_unblock", "lead_forms_new", "like_add",
    "like_remove", "donut_subscription_create", "donut_subscription_prolonged",
    "donut_subscription_cancelled", "donut_subscription_price_changed",
    "donut_subscription_expired", "donut_money_withdraw", "donut_money_withdraw_error",
)  # fmt: skip


@method("account.getAppPermissions")
def account_get_app_permissions(call: Call) -> int:
    """The calling user token's rights as VK's bit mask."""
    user_id = call.integer("user_id", call.user_id)
    if user_id != call.user_id:
        raise ApiFailure(15, "access denied to another user's permissions")
    return sum(bit for name, bit in USER_RIGHTS.items() if name in call.token.scopes)


@method("groups.getTokenPermissions")
def groups_get_token_permissions(call: Call) -> dict[str, Any]:
    """The calling community token's rights: the mask and one entry per right it has."""
    granted = [(name, bit) for name, bit in GROUP_RIGHTS.items() if name in call.token.scopes]
    return {
        "mask": sum(bit for _, bit in granted),
        "permissions": [{"name": name, "setting": bit} for name, bit in granted],
    }


@method("groups.getLongPollSettings")
def groups_get_long_poll_settings(call: Call) -> dict[str, Any]:
    """Whether Bots Long Poll is on for the community, its API version and its event types."""
    community = named_community(call)
    check_admin_of(call, community.id)
    return {
        "is_enabled": community.long_poll_enabled,
        "api_version": community.long_poll_version,
        "events": {kind: int(kind not in community.long_poll_off) for kind in EVENT_TYPES},
    }


@method("messages.isMessagesFromGroupAllowed")
def messages_is_messages_from_group_allowed(call: Call) -> dict[str, int]:
    """Whether a person has let the community write to them (by writing to it first)."""
    community = named_community(call)
    check_admin_of(call, community.id)
    user_id = call.required_integer("user_id")
    if user_id <= 0:
        raise invalid("user_id is invalid")
    return {"is_allowed": int((community.id, user_id) in call.world.messaging_allowed)}


# -- the control side -------------------------------------------------------------------


def set_token_rights(
    world: World, token: str, give: list[str] | None = None, take: list[str] | None = None
) -> list[str]:
    """Give and take rights of a user or community token; returns the rights it has now."""
    record = world.tokens.get(token)
    if record is None or record.kind not in ("user", "group"):
        raise KeyError("no such user or community token")
    known = USER_RIGHTS if record.kind == "user" else GROUP_RIGHTS
    unknown = [name for name in [*(give or []), *(take or [])] if name not in known]
    if unknown:
        raise ValueError(f"no such {record.kind} token right: {unknown}; known: {list(known)}")
    scopes = (record.scopes | set(give or [])) - set(take or [])
    world.tokens[token] = dataclasses.replace(record, scopes=frozenset(scopes))
    return sorted(scopes)


def set_long_poll(
    community: Community,
    enabled: bool | None = None,
    api_version: str | None = None,
    on: list[str] | None = None,
    off: list[str] | None = None,
) -> dict[str, Any]:
    """Switch a community's Bots Long Poll, set its version, switch event types on and off."""
    unknown = [kind for kind in [*(on or []), *(off or [])] if kind not in EVENT_TYPES]
    if unknown:
        raise ValueError(f"no such long poll event type: {unknown}")
    if enabled is not None:
        community.long_poll_enabled = bool(enabled)
    if api_version is not None:
        community.long_poll_version = str(api_version)
    community.long_poll_off = (community.long_poll_off | set(off or [])) - set(on or [])
    return {
        "is_enabled": community.long_poll_enabled,
        "api_version": community.long_poll_version,
        "off": sorted(community.long_poll_off),
    }
