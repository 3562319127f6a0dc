"""What people do on the other side: readers write, vote and press buttons; the librarian posts.

Each action changes the World as Telegram would and queues exactly the updates Telegram
would send this bot (it is an administrator in the library's chats, so it sees every
group message).
"""

from __future__ import annotations

from typing import Any

from sandbox.telegram.formatting import FormattedText, finish
from sandbox.telegram.world import ChatRecord, World


def _chat_for_user(world: World, user_id: int, chat_id: int | str) -> ChatRecord:
    if chat_id == user_id:
        return world.private_chat(user_id)
    chat = world.chat(chat_id)
    if chat.type == "channel":
        raise ValueError("readers cannot post in a channel; use post_as_admin for the librarian")
    if chat.members.get(user_id) == "kicked":
        raise ValueError(f"user {user_id} is banned in chat {chat.id}")
    if chat.type != "private":
        chat.members.setdefault(user_id, "member")  # whoever writes in a group is in it
    return chat


def _text_fields(text: str) -> dict[str, Any]:
    # Telegram clients send entities they detect; the stand-in detects them the same way.
    result = finish(FormattedText(text))
    if not result.text:
        raise ValueError("a message needs some text")
    content: dict[str, Any] = {"text": result.text}
    if result.entities:
        content["entities"] = result.entities
    return content


def _reply(chat: ChatRecord, reply_to_message_id: int | None) -> dict[str, Any]:
    if reply_to_message_id is None:
        return {}
    original = chat.messages.get(reply_to_message_id)
    if original is None:
        raise ValueError(f"no message {reply_to_message_id} in chat {chat.id}")
    reply = {"reply_to_message": {k: v for k, v in original.items() if k != "reply_to_message"}}
    # A channel post's comments form a thread named by its copy in the discussion group,
    # as on Telegram: a reply to the copy, or to a comment in its thread, carries its id.
    if original.get("is_automatic_forward"):
        reply["message_thread_id"] = original["message_id"]
    elif "message_thread_id" in original:
        reply["message_thread_id"] = original["message_thread_id"]
    return reply


def post_as_user(
    world: World,
    user_id: int,
    chat_id: int | str,
    text: str,
    reply_to_message_id: int | None = None,
) -> dict[str, Any]:
    """A reader writes in a group or to the bot in private (chat_id == user_id): a message update."""
    user = world.user(user_id)
    chat = _chat_for_user(world, user_id, chat_id)
    content = {**_reply(chat, reply_to_message_id), **_text_fields(text)}
    message = world.post(chat, user, content)
    world.push_update("message", message)
    return message


def photo_as_user(
    world: World,
    user_id: int,
    chat_id: int | str,
    data: bytes,
    caption: str = "",
    reply_to_message_id: int | None = None,
) -> dict[str, Any]:
    """A reader sends a photo (PNG or JPEG bytes), with an optional caption: a message update."""
    from sandbox.telegram.media import Upload, photo_size_wire

    user = world.user(user_id)
    chat = _chat_for_user(world, user_id, chat_id)
    sizes = world.files.photo_from_upload(Upload("photo.jpg", "image/jpeg", data))
    media = {"photo": [photo_size_wire(s) for s in sizes]}
    return _post_media(world, chat, user, media, caption, reply_to_message_id)


def video_as_user(
    world: World,
    user_id: int,
    chat_id: int | str,
    data: bytes,
    caption: str = "",
    reply_to_message_id: int | None = None,
) -> dict[str, Any]:
    """A reader sends a video (any bytes: the stand-in does not decode it): a message update."""
    from sandbox.telegram.media import VIDEO_SIZE, video_wire

    user = world.user(user_id)
    chat = _chat_for_user(world, user_id, chat_id)
    if not data:
        raise ValueError("a video needs some bytes")
    stored = world.files.add(
        "video", len(data), data=data, width=VIDEO_SIZE[0], height=VIDEO_SIZE[1],
        file_name="video.mp4", mime_type="video/mp4",
    )  # fmt: skip
    return _post_media(
        world, chat, user, {"video": video_wire(stored)}, caption, reply_to_message_id
    )


def document_as_user(
    world: World,
    user_id: int,
    chat_id: int | str,
    data: bytes,
    file_name: str,
    caption: str = "",
    mime_type: str = "application/octet-stream",
) -> dict[str, Any]:
    """A reader sends a file as a document (any bytes), with its name: a message update;
    the bot can fetch it with getFile and download it."""
    from sandbox.telegram.media import document_wire

    user = world.user(user_id)
    chat = _chat_for_user(world, user_id, chat_id)
    if not data:
        raise ValueError("a document needs some bytes")
    stored = world.files.add(
        "document", len(data), data=data, file_name=file_name, mime_type=mime_type
    )
    return _post_media(world, chat, user, {"document": document_wire(stored)}, caption, None)


def _post_media(
    world: World,
    chat: ChatRecord,
    user: Any,
    media: dict[str, Any],
    caption: str,
    reply_to_message_id: int | None,
) -> dict[str, Any]:
    """A reader's photo or video message, with its caption: a message update."""
    content = {**_reply(chat, reply_to_message_id), **media}
    if caption:
        content["caption"] = caption
    message = world.post(chat, user, content)
    world.push_update("message", message)
    return message


def comment_on_post(world: World, user_id: int, channel_post_id: int, text: str) -> dict[str, Any]:
    """A reader comments on a channel post: a reply to its copy in the discussion group."""
    channel = world.channel
    copy_id = channel.discussion_copies.get(channel_post_id)
    if copy_id is None or channel.linked_chat_id is None:
        raise ValueError(f"channel post {channel_post_id} has no copy in the discussion group")
    return post_as_user(world, user_id, channel.linked_chat_id, text, reply_to_message_id=copy_id)


def post_as_admin(world: World, chat_id: int | str, text: str) -> dict[str, Any]:
    """The librarian posts by hand (not through the bot): channel_post, or message in a group."""
    chat = world.chat(chat_id)
    message = world.post(chat, world.owner, _text_fields(text))
    if chat.type == "channel":
        world.push_update("channel_post", message)
        world.copy_to_discussion(message)
    else:
        world.push_update("message", message)
    return message


def set_member_count(world: World, chat_id: int | str, count: int) -> int:
    """Set how many members (subscribers) a chat has."""
    if count < 0:
        raise ValueError("a member count cannot be negative")
    chat = world.chat(chat_id)
    chat.member_count = count
    return count


def edit_as_user(
    world: World, user_id: int, chat_id: int | str, message_id: int, text: str
) -> dict[str, Any]:
    """A reader edits a message of their own in a group or private chat: edited_message."""
    world.user(user_id)
    chat = _chat_for_user(world, user_id, chat_id)
    message = chat.messages.get(message_id)
    if message is None:
        raise ValueError(f"no message {message_id} in chat {chat.id}")
    if message.get("from", {}).get("id") != user_id or "text" not in message:
        raise ValueError(f"message {message_id} is not a text message of user {user_id}")
    content = _text_fields(text)
    if content["text"] == message["text"] and content.get("entities") == message.get("entities"):
        raise ValueError("the new text is the same as the old one")
    message.pop("entities", None)
    message.update(content, edit_date=world.now())
    world.push_update("edited_message", message)
    return message
