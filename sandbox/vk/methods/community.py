"""polls.*, likes.getList, stats.getPostReach, groups.* and users.get."""

from __future__ import annotations

import json
from typing import Any

from sandbox.vk import render
from sandbox.vk.api import ApiFailure, Call, invalid
from sandbox.vk.methods.registry import (
    check_admin_of,
    check_wall_access,
    method,
    named_community,
    paging,
    parse_user_id,
)
from sandbox.vk.world import Poll, PollAnswer

MAX_POLL_ANSWERS = 10


# -- polls ------------------------------------------------------------------------


@method("polls.create")
def polls_create(call: Call) -> dict[str, Any]:
    """Create a poll to attach to a post as poll{owner}_{id}."""
    world = call.world
    owner_id = call.integer("owner_id", call.user_id)
    check_wall_access(call, owner_id)
    question = call.text("question").strip()
    if not question:
        raise invalid("question is undefined")
    try:
        texts = json.loads(call.text("add_answers", "[]"))
    except ValueError:
        raise invalid("add_answers is invalid") from None
    if not isinstance(texts, list) or not 1 <= len(texts) <= MAX_POLL_ANSWERS:
        raise invalid("add_answers is invalid")
    poll_id = world.new_poll_id()
    # Answer ids are unique across polls, as in VK: the poll id plus a digit.
    answers = [PollAnswer(poll_id * 10 + index, str(text)) for index, text in enumerate(texts)]
    poll = Poll(
        id=poll_id,
        owner_id=owner_id,
        author_id=call.user_id,
        created=world.now(),
        question=question,
        answers=answers,
        anonymous=call.flag("is_anonymous"),
        multiple=call.flag("is_multiple"),
        end_date=call.integer("end_date", 0) or 0,
        disable_unvote=call.flag("disable_unvote"),
    )
    world.polls[poll.id] = poll
    return render.poll(world, poll, call.token)


@method("polls.getById")
def polls_get_by_id(call: Call) -> dict[str, Any]:
    """A poll with its totals."""
    return render.poll(call.world, _poll(call), call.token)


@method("polls.getVoters")
def polls_get_voters(call: Call) -> list[dict[str, Any]]:
    """Who chose each of the given answers (not for anonymous polls)."""
    poll = _poll(call)
    if poll.anonymous:
        raise ApiFailure(250)
    known = {answer.id for answer in poll.answers}
    offset, count = paging(call, default=100, maximum=1000)
    fields = set(call.items("fields"))
    result = []
    for raw in call.items("answer_ids"):
        if not raw.isdigit() or int(raw) not in known:
            raise ApiFailure(252)
        voters = [user for user, chosen in poll.votes.items() if int(raw) in chosen]
        page = voters[offset : offset + count]
        items: list[Any] = page
        if fields:
            items = [render.user(call.world.user(uid), fields, call.base_url) for uid in page]
        result.append({"answer_id": int(raw), "users": {"count": len(voters), "items": items}})
    return result


# -- likes and stats ------------------------------------------------------------


@method("likes.getList")
def likes_get_list(call: Call) -> dict[str, Any]:
    """Who liked a post (filter=likes) or reposted it (filter=copies)."""
    if call.text("type") != "post":
        raise invalid("type is invalid")
    owner_id = call.integer("owner_id", call.user_id)
    record = call.world.post(owner_id or 0, call.required_integer("item_id"))
    if record is None:
        raise invalid("object not found")
    who = record.reposts if call.text("filter", "likes") == "copies" else record.likes
    offset, count = paging(call, default=100, maximum=1000)
    page = who[offset : offset + count]
    if not call.flag("extended"):
        return {"count": len(who), "items": page}
    users = [render.user(call.world.user(uid)) for uid in page]
    return {"count": len(who), "items": [{"type": "profile", **user} for user in users]}


@method("stats.getPostReach")
def stats_get_post_reach(call: Call) -> list[dict[str, Any]]:
    """Reach of up to 30 community posts; the stand-in derives it from views."""
    owner_id = call.required_integer("owner_id")
    check_admin_of(call, -owner_id)
    ids = call.items("post_ids")  # at most 30: the index's maxItems, checked before the handler
    result = []
    for raw in ids:
        record = call.world.post(owner_id, int(raw)) if raw.lstrip("-").isdigit() else None
        if record is None:
            raise invalid("post_ids is invalid")
        members = set(call.world.communities[-owner_id].members)
        engaged = set(record.likes) | set(record.reposts) | {c.from_id for c in record.comments}
        subscribers = max(record.views * 7 // 10, len(engaged & members))
        result.append(
            {
                "post_id": record.id,
                "reach_subscribers": subscribers,
                "reach_total": record.views,
                "reach_viral": record.views - subscribers,
                "reach_ads": 0,
                "links": 0,
                "to_group": 0,
                "join_group": 0,
                "report": 0,
                "hide": 0,
                "unsubscribe": 0,
            }
        )
    return result


@method("groups.getById")
def groups_get_by_id(call: Call) -> dict[str, Any]:
    """Communities by id or screen name; a community token's own one by default."""
    wanted = call.items("group_ids") or call.items("group_id")
    if not wanted:
        if call.token.kind != "group":
            raise invalid("group_ids is undefined")
        wanted = [str(call.token.owner)]
    fields = set(call.items("fields"))
    groups = []
    for raw in wanted:
        community = call.world.find_community(raw)
        if community is None:
            raise invalid("group_ids is invalid")
        groups.append(render.group(call.world, community, call.token, fields, call.base_url))
    return {"groups": groups, "profiles": []}


@method("groups.isMember")
def groups_is_member(call: Call) -> Any:
    """Whether a user (or each of user_ids) is a member of the community."""
    community = named_community(call)
    if call.items("user_ids"):
        ids = [parse_user_id(raw) for raw in call.items("user_ids")]
        return [{"member": int(uid in community.members), "user_id": uid} for uid in ids]
    user_id = call.integer("user_id", call.user_id)
    if not user_id:
        raise invalid("user_id is undefined")
    return int(user_id in community.members)


@method("groups.getMembers")
def groups_get_members(call: Call) -> dict[str, Any]:
    """Member ids (or user objects with fields), up to 1000 per page."""
    community = named_community(call)
    members = list(community.members)
    if call.text("sort") == "id_desc":
        members.sort(reverse=True)
    elif call.text("sort") == "id_asc":
        members.sort()
    offset, count = paging(call, default=1000, maximum=1000)
    page = members[offset : offset + count]
    fields = set(call.items("fields"))
    if fields:
        items: list[Any] = [
            render.user(call.world.user(uid), fields, call.base_url) for uid in page
        ]
    else:
        items = page
    return {"count": len(members), "items": items}


@method("groups.getLongPollServer")
def groups_get_long_poll_server(call: Call) -> dict[str, str]:
    """Key, server and ts of the community's Bots Long Poll (its own token or its admin's)."""
    community = named_community(call)
    check_admin_of(call, community.id)
    log = call.events.log(community.id)
    server = f"{call.base_url}/whp/{community.id}"
    return {"key": log.key, "server": server, "ts": str(log.ts)}


@method("users.get")
def users_get(call: Call) -> list[dict[str, Any]]:
    """People by id; the calling user by default."""
    ids = call.items("user_ids") or ([str(call.user_id)] if call.user_id else [])
    if not ids:
        raise invalid("user_ids is undefined")
    fields = set(call.items("fields"))
    return [render.user(call.world.user(parse_user_id(raw)), fields, call.base_url) for raw in ids]


def _poll(call: Call) -> Poll:
    poll = call.world.polls.get(call.required_integer("poll_id"))
    owner_id = call.integer("owner_id")
    if poll is None or (owner_id is not None and owner_id != poll.owner_id):
        raise ApiFailure(251)
    return poll
