"""Turns the stand-in's records into VK API 5.199 objects, as a given token sees them."""

from __future__ import annotations

from typing import Any

from sandbox.vk.world import (
    CHAT_PEER_BASE,
    Comment,
    Community,
    Message,
    Photo,
    Poll,
    Post,
    Token,
    User,
    Video,
    World,
)

# VK's photo size letters and the widths it scales to (https://dev.vk.com/reference/objects/photo-sizes)
PHOTO_SIZES = (("s", 75), ("m", 130), ("x", 604), ("y", 807), ("z", 1280), ("w", 2560))
API_VERSION = "5.199"


def post(world: World, record: Post, viewer: Token) -> dict[str, Any]:
    """A wall post (wall_wallpost_full)."""
    is_admin = _is_admin(world, viewer, record.owner_id)
    viewer_id = viewer.owner if viewer.kind == "user" else 0
    result: dict[str, Any] = {
        "inner_type": "wall_wallpost",
        "id": record.id,
        "owner_id": record.owner_id,
        "from_id": record.from_id,
        "date": record.date,
        "post_type": "postpone" if record.postponed else "post",
        "text": record.text,
        "marked_as_ads": 0,
        "attachments": [attachment(world, item, viewer) for item in record.attachments],
        "post_source": {"type": "api"},
        "comments": {
            "can_post": 0 if record.postponed or record.comments_closed else 1,
            "can_view": 1,
            "count": _live_comments(record),
            "groups_can_post": not record.comments_closed,
        },
        "likes": {
            "can_like": 0 if record.postponed or viewer_id in record.likes else 1,
            "count": len(record.likes),
            "user_likes": int(viewer_id in record.likes),
            "can_publish": 0 if record.postponed else 1,
            "repost_disabled": False,
        },
        "reposts": {
            "count": len(record.reposts),
            "wall_count": len(record.reposts),
            "mail_count": 0,
            "user_reposted": int(viewer_id in record.reposts),
        },
        "is_favorite": False,
        "hash": f"{abs(record.owner_id):x}{record.id:x}",
    }
    if not record.postponed:
        result["views"] = {"count": record.views}
    if is_admin:
        result.update(created_by=record.created_by, can_edit=1, can_delete=1, can_pin=1)
        result["comments"].update(
            can_close=int(not record.comments_closed), can_open=int(record.comments_closed)
        )
    return result


def attachment(world: World, item: tuple[str, Any], viewer: Token) -> dict[str, Any]:
    """One post attachment: a photo, a poll or a link."""
    kind, ref = item
    if kind == "photo":
        return {"type": "photo", "photo": photo(world.photos[ref])}
    if kind == "poll":
        return {"type": "poll", "poll": poll(world, world.polls[ref[1]], viewer)}
    if kind == "video":
        return {"type": "video", "video": video(world.videos[ref])}
    if kind == "doc":
        record = world.docs[ref]
        doc = {
            "id": record.id,
            "owner_id": record.owner_id,
            "title": record.title,
            "size": len(record.data),
            "ext": record.extension,
        }
        if record.base_url:  # docs_doc.url: where the file is downloaded
            doc["url"] = f"{record.base_url}/docs/{record.owner_id}_{record.id}?dl=1"
        return {"type": "doc", "doc": doc}
    return {
        "type": "link",
        "link": {"url": ref, "title": ref, "description": "", "target": "external"},
    }


def photo(record: Photo) -> dict[str, Any]:
    """A photo (photos_photo) with its size variants."""
    result = {
        "id": record.id,
        "owner_id": record.owner_id,
        "album_id": record.album_id,
        "date": record.date,
        "text": record.text,
        "has_tags": False,
        "sizes": photo_sizes(record),
        # 100 is VK's marker for "uploaded on behalf of the community"
        "user_id": 100 if record.owner_id < 0 else record.user_id,
    }
    if record.access_key:
        result["access_key"] = record.access_key
    return result


def video(record: Video) -> dict[str, Any]:
    """A video (video_video) as an attachment shows it."""
    return {
        "id": record.id,
        "owner_id": record.owner_id,
        "title": record.title,
        "description": "",
        "duration": record.duration,
        "date": record.date,
        "access_key": record.access_key,
        "width": record.width,
        "height": record.height,
        "type": "video",
        "views": 0,
        "comments": 0,
    }


def photo_sizes(record: Photo) -> list[dict[str, Any]]:
    """Scaled variants no wider than the original, smallest first; at least one."""
    sizes = []
    for letter, width in PHOTO_SIZES:
        if width > record.width and sizes:
            break
        scale = min(1.0, width / record.width) if record.width else 1.0
        sizes.append(
            {
                "type": letter,
                "width": round(record.width * scale),
                "height": round(record.height * scale),
                "url": f"{record.base_url}/photos/{record.owner_id}_{record.id}.{record.extension}?size={letter}",
            }
        )
    return sizes


def comment(
    record: Comment, viewer: Token, post_author: int, world: World | None = None
) -> dict[str, Any]:
    """A wall comment (wall_wall_comment); its attachments need ``world``."""
    viewer_id = viewer.owner if viewer.kind == "user" else 0
    result: dict[str, Any] = {
        "id": record.id,
        "from_id": record.from_id,
        "date": record.date,
        "text": record.text,
        "post_id": record.post_id,
        "owner_id": record.owner_id,
        "parents_stack": [record.reply_to_comment] if record.reply_to_comment else [],
        "likes": {
            "can_like": 1,
            "count": len(record.likes),
            "user_likes": int(viewer_id in record.likes),
            "can_publish": 1,
        },
        "thread": {"count": 0, "items": [], "can_post": True, "show_reply_button": True},
    }
    if record.attachments and world is not None:
        result["attachments"] = [attachment(world, item, viewer) for item in record.attachments]
    if record.from_id == post_author:
        result["is_from_post_author"] = True
    if record.reply_to_comment:
        result["reply_to_comment"] = record.reply_to_comment
        result["reply_to_user"] = record.reply_to_user or 0
    return result


def poll(world: World, record: Poll, viewer: Token) -> dict[str, Any]:
    """A poll (polls_poll) with totals; the viewer's own answers when it is a user."""
    viewer_id = viewer.owner if viewer.kind == "user" else 0
    total_voters = len(record.votes)
    chosen = record.votes.get(viewer_id, [])
    closed = bool(record.end_date) and record.end_date <= world.now()
    result: dict[str, Any] = {
        "id": record.id,
        "owner_id": record.owner_id,
        "author_id": record.author_id,
        "created": record.created,
        "question": record.question,
        "votes": total_voters,
        "answers": [_poll_answer(record, answer.id, answer.text) for answer in record.answers],
        "anonymous": record.anonymous,
        "multiple": record.multiple,
        "answer_ids": chosen,
        "end_date": record.end_date,
        "closed": closed,
        "is_board": False,
        "can_edit": _is_admin(world, viewer, record.owner_id),
        "can_vote": not closed and not chosen,
        "can_report": False,
        "can_share": True,
        "disable_unvote": record.disable_unvote,
    }
    return result


def _poll_answer(record: Poll, answer_id: int, text: str) -> dict[str, Any]:
    votes = sum(answer_id in chosen for chosen in record.votes.values())
    rate = round(100 * votes / len(record.votes), 2) if record.votes else 0
    return {"id": answer_id, "text": text, "votes": votes, "rate": rate}


def group(world: World, record: Community, viewer: Token, fields: set[str], base_url: str) -> dict:
    """A community (groups_group_full) with the requested extra fields."""
    result: dict[str, Any] = {
        "id": record.id,
        "name": record.name,
        "screen_name": record.screen_name,
        "is_closed": 0,
        "type": "group",
        "photo_50": f"{base_url}/photos/community_50.png",
        "photo_100": f"{base_url}/photos/community_100.png",
        "photo_200": f"{base_url}/photos/community_200.png",
    }
    if viewer.kind == "user":
        is_admin = viewer.owner == record.admin_id
        result["is_admin"] = int(is_admin)
        if is_admin:
            result["admin_level"] = 3
        result["is_member"] = int(viewer.owner in record.members)
        result["is_advertiser"] = 0
    if "members_count" in fields:
        result["members_count"] = len(record.members)
    if "can_message" in fields:  # the community's messages are switched on
        result["can_message"] = int(record.messages_enabled)
    if "description" in fields:
        result["description"] = "Новости, встречи и конкурсы библиотеки"
    return result


def user(record: User, fields: set[str] = frozenset(), base_url: str = "") -> dict[str, Any]:
    """A person (users_user_full) with the requested extra fields."""
    result: dict[str, Any] = {
        "id": record.id,
        "first_name": record.first_name,
        "last_name": record.last_name,
        "can_access_closed": True,
        "is_closed": False,
    }
    if "photo_50" in fields:
        result["photo_50"] = f"{base_url}/photos/user_50.png"
    if "photo_100" in fields:
        result["photo_100"] = f"{base_url}/photos/user_100.png"
    if "screen_name" in fields or "domain" in fields:
        result["screen_name" if "screen_name" in fields else "domain"] = f"id{record.id}"
    return result


def message(record: Message, world: World | None = None) -> dict[str, Any]:
    """A community message (messages_message); in a group chat its ``id`` is 0, as a community
    bot sees messages of chats it does not own (it goes by conversation_message_id there).
    Its attachments need ``world``."""
    result: dict[str, Any] = {
        "id": 0 if record.peer_id > CHAT_PEER_BASE else record.id,
        "date": record.date,
        "peer_id": record.peer_id,
        "from_id": record.from_id,
        "text": record.text,
        "conversation_message_id": record.conversation_message_id,
        "out": int(record.out),
        "version": record.id,
        "attachments": [],
        "fwd_messages": [],
        "important": False,
        "is_hidden": False,
        "random_id": 0,
    }
    if record.attachments and world is not None:
        viewer = Token("group", record.group_id)
        result["attachments"] = [attachment(world, item, viewer) for item in record.attachments]
    if record.payload is not None:
        result["payload"] = record.payload
    if record.keyboard is not None:
        result["keyboard"] = record.keyboard
    if record.update_time:
        result["update_time"] = record.update_time
    if record.reply_to is not None:
        replied = message(record.reply_to)
        result["reply_message"] = {
            key: replied[key]
            for key in ("id", "date", "from_id", "peer_id", "text", "conversation_message_id")
        } | {"attachments": [], "fwd_messages": []}
    return result


def _is_admin(world: World, viewer: Token, owner_id: int) -> bool:
    """Whether the viewer runs the wall ``owner_id``: the community's admin, or the user."""
    if viewer.kind != "user":
        return False
    return world.admin_of(viewer.owner, -owner_id) if owner_id < 0 else viewer.owner == owner_id


def _live_comments(record: Post) -> int:
    return sum(not item.deleted for item in record.comments)
