"""wall.* and photos.*: posts, comments, and photos uploaded for the wall."""

from __future__ import annotations

import json
from typing import Any

from sandbox.vk import audience, render
from sandbox.vk.api import ApiFailure, Call, invalid
from sandbox.vk.limits import FLOOD_WINDOW
from sandbox.vk.methods.registry import (
    check_admin_of,
    check_wall_access,
    is_admin,
    method,
    paging,
    parse_ref,
    profiles_and_groups,
)
from sandbox.vk.world import WALL_ALBUM_GROUP, WALL_ALBUM_USER, Photo, Post

GUID_WINDOW = 3600
POSTS_PER_DAY = 50
MAX_ATTACHMENTS = 10
MAX_POSTS_BY_ID = 100


# -- wall -------------------------------------------------------------------------


@method("wall.post")
def wall_post(call: Call) -> dict[str, int]:
    """Publish (or schedule) a post; a repeated guid within an hour returns the first post.

    The guid check comes first; after it, the same text and attachments on the same wall
    within FLOOD_WINDOW seconds is flood control (error 9), whatever the guid.
    """
    world = call.world
    owner_id = call.integer("owner_id", call.user_id)
    check_wall_access(call, owner_id)
    guid = call.text("guid") or None
    if guid:
        for existing in world.posts.values():
            recent = world.clock() - existing.created_at < GUID_WINDOW
            if existing.owner_id == owner_id and existing.guid == guid and recent:
                return {"post_id": existing.id}
    text = call.text("message")
    attachments = _attachments(call, call.items("attachments"))
    if not text and not attachments:
        raise invalid("message is empty or invalid")
    _check_flood(call, owner_id, text, attachments)
    publish_date = call.integer("publish_date", 0) or 0
    postponed = publish_date > world.now()
    _check_posting_limits(call, owner_id, publish_date if postponed else None)
    from_id = owner_id if owner_id < 0 and call.flag("from_group") else call.user_id
    record = audience.publish(
        world,
        call.events,
        owner_id=owner_id,
        from_id=from_id,
        created_by=call.user_id,
        text=text,
        attachments=attachments,
        guid=guid,
        publish_date=publish_date if postponed else None,
    )
    return {"post_id": record.id}


@method("wall.getById")
def wall_get_by_id(call: Call) -> dict[str, Any]:
    """Posts by "owner_post" references; unknown and deleted ones are left out."""
    refs = call.items("posts")
    if len(refs) > MAX_POSTS_BY_ID:
        raise invalid(f"posts is invalid: no more than {MAX_POSTS_BY_ID} posts")
    items = []
    for ref in refs:
        owner_id, post_id = parse_ref(ref.removeprefix("wall"), "posts")
        record = call.world.post(owner_id, post_id)
        if record and (not record.postponed or _runs_wall(call, owner_id)):
            items.append(render.post(call.world, record, call.token))
    result: dict[str, Any] = {"items": items}
    if call.flag("extended"):
        owners = {item["from_id"] for item in items} | {item["owner_id"] for item in items}
        result.update(profiles_and_groups(call, owners))
    return result


@method("wall.edit")
def wall_edit(call: Call) -> dict[str, int]:
    """Replace a post's text and attachments; a postponed post may also get a new time."""
    owner_id = call.integer("owner_id", call.user_id)
    check_wall_access(call, owner_id)
    record = call.world.post(owner_id, call.required_integer("post_id"))
    if record is None:
        raise ApiFailure(210)
    text = call.text("message")
    attachments = _attachments(call, call.items("attachments"))
    if not text and not attachments:
        raise invalid("message is empty or invalid")
    publish_date = call.integer("publish_date", 0) or 0
    if record.postponed and publish_date:
        if publish_date <= call.world.now():
            raise invalid("publish_date is invalid")
        record.date = publish_date
    record.text, record.attachments = text, attachments
    return {"post_id": record.id}


@method("wall.delete")
def wall_delete(call: Call) -> int:
    """Delete a post of the community wall (by its admin)."""
    owner_id = call.integer("owner_id", call.user_id)
    check_wall_access(call, owner_id)
    record = call.world.post(owner_id, call.required_integer("post_id"))
    if record is None:
        raise ApiFailure(210)
    record.deleted = True
    return 1


@method("wall.getComments")
def wall_get_comments(call: Call) -> dict[str, Any]:
    """Comments of a post, oldest first unless sort=desc; up to 100 per page."""
    record = _existing_post(call, call.required_integer("post_id"))
    live = [item for item in record.comments if not item.deleted]
    if call.text("sort") == "desc":
        live.reverse()
    offset, count = paging(call, default=10, maximum=100)
    page = live[offset : offset + count]
    result: dict[str, Any] = {
        "count": len(live),
        "items": [render.comment(item, call.token, record.from_id, call.world) for item in page],
        "current_level_count": len(live),
        "can_post": not record.comments_closed,
        "show_reply_button": True,
        "groups_can_post": not record.comments_closed,
    }
    if call.flag("extended"):
        result.update(profiles_and_groups(call, {item.from_id for item in page}))
    return result


@method("wall.createComment")
def wall_create_comment(call: Call) -> dict[str, Any]:
    """Comment on a post as the community (community token or from_group) or as the user."""
    record = _existing_post(call, call.required_integer("post_id"))
    if record.postponed:
        raise ApiFailure(213)
    if record.comments_closed:
        raise ApiFailure(213, "comments are closed")
    from_group = call.integer("from_group", 0) or 0
    if call.token.kind == "group":
        if call.token.owner != -record.owner_id:
            raise ApiFailure(15, "a community token comments only on its own wall")
        from_id = -call.token.owner
    elif from_group and is_admin(call, from_group):
        from_id = -from_group
    else:
        from_id = call.user_id
    text = call.text("message")
    if not text and not call.items("attachments") and not call.integer("sticker_id"):
        raise invalid("message is empty or invalid")
    reply_to = call.integer("reply_to_comment")
    if reply_to is not None and not any(item.id == reply_to for item in record.comments):
        raise invalid("reply_to_comment is invalid")
    created = audience.comment(call.world, call.events, record, from_id, text, reply_to)
    return {"comment_id": created.id, "parents_stack": _parents(created.reply_to_comment)}


@method("wall.closeComments")
def wall_close_comments(call: Call) -> int:
    """Stop comments under a post (its wall's admin, or the community's own token)."""
    return _set_comments_closed(call, closed=True)


@method("wall.openComments")
def wall_open_comments(call: Call) -> int:
    """Allow comments under a post again."""
    return _set_comments_closed(call, closed=False)


def _set_comments_closed(call: Call, closed: bool) -> int:
    owner_id = call.required_integer("owner_id")
    check_wall_access(call, owner_id)
    record = call.world.post(owner_id, call.required_integer("post_id"))
    if record is None:
        raise ApiFailure(210)
    record.comments_closed = closed
    return 1


def _parents(reply_to: int | None) -> list[int]:
    """The parents_stack of a comment answering ``reply_to``."""
    return [reply_to] if reply_to else []


# -- photos ---------------------------------------------------------------------


@method("photos.getWallUploadServer")
def photos_get_wall_upload_server(call: Call) -> dict[str, Any]:
    """Where to upload a photo for the user's or the community's wall."""
    group_id = call.integer("group_id")
    if group_id:
        check_admin_of(call, group_id)
        owner_id, album_id = -group_id, WALL_ALBUM_GROUP
    else:
        owner_id, album_id = call.user_id, WALL_ALBUM_USER
    upload_url = f"{call.base_url}/upload/wall?owner_id={owner_id}&user_id={call.user_id}"
    return {"album_id": album_id, "upload_url": upload_url, "user_id": call.user_id}


@method("photos.saveWallPhoto")
def photos_save_wall_photo(call: Call) -> list[dict[str, Any]]:
    """Turn an upload (server, photo, hash) into saved wall photos."""
    group_id = call.integer("group_id")
    if group_id:
        check_admin_of(call, group_id)
    owner_id = -group_id if group_id else call.user_id
    album_id = WALL_ALBUM_GROUP if owner_id < 0 else WALL_ALBUM_USER
    return save_uploads(call, owner_id, album_id, "photos_list", call.text("caption"))


def save_uploads(
    call: Call, owner_id: int, album_id: int, field: str, text: str = ""
) -> list[dict[str, Any]]:
    """Turn a signed upload (server, photo, hash) into saved photos of ``owner_id`` in
    ``album_id`` (saveWallPhoto, saveMessagesPhoto); ``field`` names a bad list in VK's error."""
    world = call.world
    payload = call.text("photo")
    expected = world.upload_hash(owner_id, payload)
    if call.integer("server") != world.upload_server or call.text("hash") != expected:
        raise ApiFailure(121)
    try:
        entries = json.loads(payload)
    except ValueError:
        entries = []
    uploads = [world.uploads.pop(entry.get("photo", ""), None) for entry in entries]
    if not entries or None in uploads:
        raise invalid(f"{field} is invalid")
    saved = []
    for upload in uploads:
        assert upload is not None
        photo = Photo(
            id=world.new_photo_id(),
            owner_id=owner_id,
            album_id=album_id,
            user_id=call.user_id,
            date=world.now(),
            width=upload.width,
            height=upload.height,
            data=upload.data,
            extension=upload.extension,
            base_url=call.base_url,
            text=text,
        )
        world.photos[(owner_id, photo.id)] = photo
        saved.append(render.photo(photo))
    return saved


# -- helpers ----------------------------------------------------------------------


def _attachments(call: Call, refs: list[str]) -> list[tuple[str, Any]]:
    if len(refs) > MAX_ATTACHMENTS:
        raise invalid("attachments is invalid")
    found: list[tuple[str, Any]] = []
    for ref in refs:
        if ref.startswith(("http://", "https://")):
            found.append(("link", ref))
        elif ref.startswith("photo"):
            key = parse_ref(ref.removeprefix("photo"), "attachments")
            if key not in call.world.photos:
                raise invalid(f"attachments is invalid: no photo {ref}")
            found.append(("photo", key))
        elif ref.startswith("video"):
            key = parse_ref(ref.removeprefix("video"), "attachments")
            if key not in call.world.videos:
                raise invalid(f"attachments is invalid: no video {ref}")
            found.append(("video", key))
        elif ref.startswith("poll"):
            owner_id, poll_id = parse_ref(ref.removeprefix("poll"), "attachments")
            poll = call.world.polls.get(poll_id)
            if poll is None or poll.owner_id != owner_id:
                raise invalid(f"attachments is invalid: no poll {ref}")
            found.append(("poll", (owner_id, poll_id)))
        else:
            raise invalid(f"attachments is invalid: {ref}")
    if sum(kind == "link" for kind, _ in found) > 1:
        raise invalid("attachments is invalid: more than one link")
    return found


def _check_flood(call: Call, owner_id: int, text: str, attachments: list) -> None:
    since = call.world.clock() - FLOOD_WINDOW
    for post in call.world.posts.values():
        same = post.text == text and post.attachments == attachments
        if same and post.owner_id == owner_id and not post.deleted and post.created_at > since:
            raise ApiFailure(9, "the same post was published a moment ago")


def _check_posting_limits(call: Call, owner_id: int, publish_date: int | None) -> None:
    world = call.world
    mine = [p for p in world.posts.values() if p.owner_id == owner_id and not p.deleted]
    if publish_date is not None and any(p.postponed and p.date == publish_date for p in mine):
        raise ApiFailure(214, "a post is already scheduled for the exact time requested")
    day_ago = world.clock() - 86_400
    if sum(p.created_at > day_ago for p in mine) >= POSTS_PER_DAY:
        raise ApiFailure(214, "posts limit per day reached")


def _runs_wall(call: Call, owner_id: int) -> bool:
    """Whether the caller sees the wall's postponed posts: its community's admin, or its user."""
    return is_admin(call, -owner_id) if owner_id < 0 else call.user_id == owner_id


def _existing_post(call: Call, post_id: int) -> Post:
    owner_id = call.integer("owner_id", call.user_id)
    if call.token.kind == "group" and "owner_id" not in call.params:
        owner_id = -call.token.owner
    record = call.world.post(owner_id or 0, post_id)
    if record is None:
        raise ApiFailure(212 if call.name == "wall.getComments" else 213, "post not found")
    return record
