"""What happens in the communities: posts going out and readers acting on them.

Each action changes the records and adds the Bots Long Poll event VK would send for it to the
community concerned (the post's wall, the poll's owner, the community written to). Callers
hold the stand-in's lock.
"""

from __future__ import annotations

import json
from typing import Any

from sandbox.vk import chats, render
from sandbox.vk.chats import CLIENT_INFO, record_message
from sandbox.vk.events import EventHub
from sandbox.vk.world import (
    MESSAGE_ALBUM_USER,
    WALL_ALBUM_USER,
    Comment,
    Doc,
    Message,
    Poll,
    Post,
    Token,
    World,
)

CROWD_COMMENTS = (
    "Спасибо за подборку!",
    "Обязательно придём 📚",
    "А во сколько начало?",
    "Great idea, thanks!",
    "Мой ответ: «Война и мир»",
    "Очень интересно, жду продолжения",
)


def publish(
    world: World,
    events: EventHub,
    *,
    owner_id: int,
    from_id: int,
    created_by: int,
    text: str,
    attachments: list[tuple[str, Any]],
    guid: str | None,
    publish_date: int | None,
) -> Post:
    """Create a post now, or hold it until ``publish_date``."""
    record = Post(
        owner_id=owner_id,
        id=world.new_post_id(owner_id),
        from_id=from_id,
        created_by=created_by,
        date=publish_date or world.now(),
        text=text,
        attachments=attachments,
        created_at=world.clock(),
        guid=guid,
        postponed=publish_date is not None,
    )
    world.posts[(owner_id, record.id)] = record
    if record.postponed:
        world.postponed[(owner_id, record.id)] = record
    else:
        _announce_post(world, events, record)
    return record


def publish_due(world: World, events: EventHub) -> None:
    """Publish postponed posts whose time has come, as VK does on its own."""
    if not world.postponed:
        return
    now = world.now()
    for key, record in list(world.postponed.items()):
        if not record.postponed:  # published some other way meanwhile
            del world.postponed[key]
        elif not record.deleted and record.date <= now:
            del world.postponed[key]
            record.postponed = False
            _announce_post(world, events, record)


def comment(
    world: World,
    events: EventHub,
    post: Post,
    from_id: int,
    text: str,
    reply_to: int | None = None,
    attachments: list[str] | None = None,
) -> Comment:
    """Add a comment to a post (wall_reply_new); readers cannot once comments are closed.

    ``attachments`` ("photo", "video") are media of the author's own, made for the comment."""
    if post.comments_closed and from_id > 0 and not world.admin_of(from_id, -post.owner_id):
        raise ValueError(f"comments on post {post.ref} are closed")
    replied = next((item for item in post.comments if item.id == reply_to), None)
    created = Comment(
        id=world.new_comment_id(),
        owner_id=post.owner_id,
        post_id=post.id,
        from_id=from_id,
        date=world.now(),
        text=text,
        reply_to_comment=reply_to if replied else None,
        reply_to_user=replied.from_id if replied else None,
    )
    if attachments:
        created.attachments = world.reader_media(from_id, list(attachments), WALL_ALBUM_USER)
    post.comments.append(created)
    events.add(-post.owner_id, "wall_reply_new", _comment_event(world, created, post))
    return created


def edit_comment(world: World, events: EventHub, comment_id: int, text: str) -> Comment:
    """Change a comment's text (wall_reply_edit)."""
    post, found = find_comment(world, comment_id)
    found.text = text
    events.add(-post.owner_id, "wall_reply_edit", _comment_event(world, found, post))
    return found


def find_comment(world: World, comment_id: int) -> tuple[Post, Comment]:
    """The post and the comment with this id; KeyError if there is none."""
    for post in world.posts.values():
        for item in post.comments:
            if item.id == comment_id and not item.deleted:
                return post, item
    raise KeyError(f"no comment {comment_id}")


def like(world: World, events: EventHub, user_id: int, post: Post) -> None:
    """A reader likes a post (like_add); liking twice changes nothing."""
    if user_id in post.likes:
        return
    post.likes.append(world.user(user_id).id)
    events.add(-post.owner_id, "like_add", _like_event(user_id, post))


def unlike(world: World, events: EventHub, user_id: int, post: Post) -> None:
    """A reader takes a like back (like_remove)."""
    if user_id not in post.likes:
        return
    post.likes.remove(user_id)
    events.add(-post.owner_id, "like_remove", _like_event(user_id, post))


def repost(world: World, user_id: int, post: Post) -> None:
    """A reader shares a post to their wall; once per reader."""
    if user_id not in post.reposts:
        post.reposts.append(world.user(user_id).id)


def vote(world: World, events: EventHub, user_id: int, poll: Poll, answer_ids: list[int]) -> None:
    """A reader votes (poll_vote_new per chosen option); a second vote is ignored, as in VK.

    VK sends poll_vote_new only for public polls ("A vote in a public poll has been added",
    groups.setLongPollSettings): an anonymous poll's votes only change its totals.
    """
    if poll.end_date and poll.end_date <= world.now():
        raise ValueError(f"poll {poll.id} is closed")
    known = {answer.id for answer in poll.answers}
    if not answer_ids or not set(answer_ids) <= known:
        raise ValueError(f"poll {poll.id} has answers {sorted(known)}, not {answer_ids}")
    if len(answer_ids) > 1 and not poll.multiple:
        raise ValueError(f"poll {poll.id} takes one answer")
    if user_id in poll.votes:
        return
    poll.votes[world.user(user_id).id] = list(answer_ids)
    for answer_id in [] if poll.anonymous else answer_ids:
        events.add(
            -poll.owner_id,
            "poll_vote_new",
            {
                "owner_id": poll.owner_id,
                "poll_id": poll.id,
                "option_id": answer_id,
                "user_id": user_id,
            },
        )


def join(world: World, events: EventHub, user_id: int, group_id: int) -> None:
    """A reader joins a community (group_join)."""
    members = world.communities[group_id].members
    if user_id not in members:
        members.append(world.user(user_id).id)
        events.add(group_id, "group_join", {"user_id": user_id, "join_type": "join"})


def leave(world: World, events: EventHub, user_id: int, group_id: int) -> None:
    """A reader leaves a community (group_leave)."""
    members = world.communities[group_id].members
    if user_id in members:
        members.remove(user_id)
        events.add(group_id, "group_leave", {"user_id": user_id, "self": 1})


def write(
    world: World,
    events: EventHub,
    user_id: int,
    text: str,
    payload: Any,
    group_id: int,
    attachments: list[str] | None = None,
    doc: tuple[str, bytes, str] | None = None,
) -> Message:
    """A reader writes to a community (message_new); the community may then answer.

    ``attachments`` ("photo", "video") are media of the reader's own, sent with the message;
    ``doc`` (file name, bytes, the stand-in's base URL) a file of theirs."""
    sent = record_message(
        world,
        group_id=group_id,
        peer_id=world.user(user_id).id,
        from_id=user_id,
        text=text,
        out=False,
        payload=None if payload is None else json.dumps(payload, ensure_ascii=False),
    )
    if attachments:
        sent.attachments = world.reader_media(user_id, list(attachments), MESSAGE_ALBUM_USER)
    if doc is not None:
        name, data, base_url = doc
        record = Doc(world.new_photo_id(), user_id, name, data, world.now(), base_url)
        world.docs[(user_id, record.id)] = record
        sent.attachments = [*sent.attachments, ("doc", (user_id, record.id))]
    world.messaging_allowed.add((group_id, user_id))
    events.add(
        group_id,
        "message_new",
        {"message": render.message(sent, world), "client_info": CLIENT_INFO},
    )
    return sent


def press_button(
    world: World,
    events: EventHub,
    user_id: int,
    payload: Any,
    message_id: int | None,
    group_id: int,
    peer_id: int | None = None,
    conversation_message_id: int | None = None,
) -> str:
    """A reader presses a callback button (message_event); returns the event_id to answer.

    In a chat the press must land on a community message with callback buttons; in a dialog,
    as before, on the community's last message unless one is named. The payload is whatever
    the client sends: it need not be any button's.
    """
    world.user(user_id)
    if peer_id is not None and chats.is_chat(peer_id):
        if user_id not in chats.chat_of(world, group_id, peer_id).members:
            raise ValueError(f"user {user_id} is not a member of chat {peer_id}")
        anchor: Message | None = chats.keyboard_message(
            world, group_id, peer_id, message_id, conversation_message_id
        )
    elif message_id is None and conversation_message_id is None:
        sent = [
            m for m in world.messages if m.out and m.group_id == group_id and m.peer_id == user_id
        ]
        anchor = sent[-1] if sent else None
    else:
        anchor = chats.keyboard_message(
            world, group_id, user_id, message_id, conversation_message_id
        )
    return chats.press(world, events, group_id, user_id, peer_id or user_id, payload, anchor)


def _announce_post(world: World, events: EventHub, record: Post) -> None:
    if -record.owner_id in world.communities:
        viewer = Token("group", -record.owner_id)
        events.add(-record.owner_id, "wall_post_new", render.post(world, record, viewer))


def _comment_event(world: World, item: Comment, post: Post) -> dict[str, Any]:
    obj = render.comment(item, Token("group", -post.owner_id), post.from_id, world)
    obj.pop("likes", None)
    obj.pop("thread", None)
    obj["post_owner_id"] = post.owner_id
    return obj


def _like_event(user_id: int, post: Post) -> dict[str, Any]:
    return {
        "liker_id": user_id,
        "object_type": "post",
        "object_owner_id": post.owner_id,
        "object_id": post.id,
        "post_id": 0,
        "thread_reply_id": 0,
    }
