"""The registry of VK method handlers, and what several of them share.

Handlers run under the stand-in's lock with parameters already checked against the index;
they raise ``ApiFailure`` for VK's errors and return what goes under ``"response"``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.vk import render
from sandbox.vk.api import ApiFailure, Call, Handler, invalid
from sandbox.vk.world import Community

HANDLERS: dict[str, Handler] = {}


def method(name: str) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of VK method ``name``."""

    def register(function: Handler) -> Handler:
        HANDLERS[name] = function
        return function

    return register


def parse_ref(ref: str, parameter: str) -> tuple[int, int]:
    """ "-123_45" (optionally "_accesskey") -> (-123, 45)."""
    parts = ref.split("_")
    try:
        return int(parts[0]), int(parts[1])
    except (ValueError, IndexError):
        raise invalid(f"{parameter} is invalid") from None


def check_wall_access(call: Call, owner_id: int) -> None:
    """Error 15/214 unless the caller may post on this wall (own, or as community admin)."""
    if owner_id < 0:
        check_admin_of(call, -owner_id)
    elif owner_id != call.user_id:
        raise ApiFailure(214, "access to the wall is denied")


def check_admin_of(call: Call, group_id: int) -> None:
    """Error 15 unless the caller may act for the community: its own community token, or a
    user token of its admin."""
    community = call.world.communities.get(group_id)
    if community is None:
        raise ApiFailure(15, "access denied to this community")
    if call.token.kind == "group" and call.token.owner != group_id:
        raise ApiFailure(15, "access denied to this community")
    if call.token.kind == "user" and call.user_id != community.admin_id:
        raise ApiFailure(15, "you are not an admin of this community")


def is_admin(call: Call, group_id: int) -> bool:
    """Whether the caller is the admin of community ``group_id`` (with a user token)."""
    return call.token.kind == "user" and call.world.admin_of(call.user_id, group_id)


def named_community(call: Call) -> Community:
    """The community named by group_id (a community token's own by default), or error 100."""
    raw = call.text("group_id") or (str(call.token.owner) if call.token.kind == "group" else "")
    community = call.world.find_community(raw) if raw else None
    if community is None:
        raise invalid("group_id is invalid" if raw else "group_id is undefined")
    return community


def parse_user_id(raw: str) -> int:
    """A user id written as "123" or "id123", or error 113."""
    value = raw.removeprefix("id")
    if not value.isdigit():
        raise ApiFailure(113)
    return int(value)


def paging(call: Call, default: int, maximum: int) -> tuple[int, int]:
    """offset and count, with count capped at ``maximum``."""
    offset = max(call.integer("offset", 0) or 0, 0)
    count = call.integer("count", default)
    return offset, min(max(count if count is not None else default, 0), maximum)


def profiles_and_groups(call: Call, owners: set[int]) -> dict[str, list[dict[str, Any]]]:
    """The profiles and groups of an extended answer mentioning ``owners``."""
    communities = call.world.communities
    profiles = [
        render.user(call.world.user(o), {"photo_50", "photo_100"}, call.base_url)
        for o in sorted(owners)
        if o > 0
    ]
    groups = [
        render.group(call.world, communities[-owner], call.token, set(), call.base_url)
        for owner in sorted(owners, reverse=True)
        if -owner in communities
    ]
    return {"profiles": profiles, "groups": groups}
