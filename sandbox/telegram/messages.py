"""Bot API methods that send, edit and delete messages, with Telegram's limits and errors."""

from __future__ import annotations

from typing import Any

from sandbox.telegram.errors import ApiError, bad_request, forbidden
from sandbox.telegram.formatting import (
    EntityParseError,
    FormattedText,
    check_entities,
    finish,
    parse_html,
    utf16_len,
)
from sandbox.telegram.media import VIDEO_SIZE, Upload, document_wire, photo_size_wire, video_wire
from sandbox.telegram.params import Params
from sandbox.telegram.registry import api_method
from sandbox.telegram.world import ChatRecord, World

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64


# -- content ---------------------------------------------------------------


def formatted(raw: str, parse_mode: str | None, entities: Any) -> FormattedText:
    """Apply parse_mode or explicit entities to raw text, then trim and detect links."""
    try:
        if parse_mode:
            if parse_mode.lower() != "html":
                raise bad_request(f"unsupported parse_mode {parse_mode!r} in the sandbox; use HTML")
            parsed = parse_html(raw)
        elif entities is not None:
            parsed = FormattedText(raw, check_entities(raw, entities))
        else:
            parsed = FormattedText(raw)
    except EntityParseError as error:
        raise bad_request(f"can't parse entities: {error}") from None
    return finish(parsed)


def text_content(p: Params, field: str = "text") -> dict[str, Any]:
    """The text and entities of a text message, checked against Telegram's limits."""
    raw = p.text(field) or ""
    if not raw.strip():
        raise bad_request("message text is empty")
    result = formatted(raw, p.text("parse_mode"), p.json("entities"))
    if not result.text:
        raise bad_request("message text is empty")
    if utf16_len(result.text) > TEXT_LIMIT:
        raise bad_request("message is too long")
    content: dict[str, Any] = {"text": result.text}
    if result.entities:
        content["entities"] = result.entities
    return content


def caption_content(p: Params) -> dict[str, Any]:
    """The optional caption of a media message."""
    raw = p.text("caption") or ""
    if not raw:
        return {}
    result = formatted(raw, p.text("parse_mode"), p.json("caption_entities"))
    if utf16_len(result.text) > CAPTION_LIMIT:
        raise bad_request("message caption is too long")
    content: dict[str, Any] = {"caption": result.text} if result.text else {}
    if result.entities:
        content["caption_entities"] = result.entities
    if result.text and p.flag("show_caption_above_media"):
        content["show_caption_above_media"] = True
    return content


def inline_markup(p: Params) -> dict[str, Any] | None:
    """The inline keyboard of reply_markup, validated; other keyboards are not echoed back."""
    markup = p.json("reply_markup", "reply keyboard markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        return None
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(
            'can\'t parse inline keyboard button: field "inline_keyboard" must be an Array'
        )
    for row in rows:
        for button in row:
            _check_button(button)
    return {"inline_keyboard": rows}


def _check_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
        )
    actions = [k for k in button if k not in ("text", "style", "icon_custom_emoji_id")]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    data = button.get("callback_data")
    if data is not None and not 1 <= len(str(data).encode()) <= CALLBACK_DATA_LIMIT:
        raise bad_request("BUTTON_DATA_INVALID")
    url = button.get("url")
    if url is not None and not str(url).startswith(("http://", "https://", "tg://")):
        raise bad_request("BUTTON_URL_INVALID")


def reply_fields(p: Params, chat: ChatRecord) -> dict[str, Any]:
    """reply_to_message for reply_parameters (or the older reply_to_message_id)."""
    parameters = p.json("reply_parameters")
    if parameters is None and p.has("reply_to_message_id"):
        parameters = {"message_id": p.integer("reply_to_message_id")}
    if not parameters:
        return {}
    original = chat.messages.get(parameters.get("message_id"))
    if original is None:
        if parameters.get("allow_sending_without_reply"):
            return {}
        raise bad_request("message to be replied not found")
    return {"reply_to_message": {k: v for k, v in original.items() if k != "reply_to_message"}}


def check_can_post(world: World, chat: ChatRecord) -> None:
    """The bot must be in a group, and an administrator of a channel, to post there."""
    if chat.type == "private":
        return
    status = world.bot_status(chat)
    if status == "kicked":
        raise forbidden(f"bot was kicked from the {chat.type} chat")
    if status not in ("creator", "administrator", "member"):
        raise forbidden(f"bot is not a member of the {chat.type} chat")
    if chat.type == "channel" and status == "member":
        raise bad_request("need administrator rights in the channel chat")
    taken = chat.rights.get(world.bot["id"], {})
    if chat.type == "channel" and taken.get("can_post_messages") is False:
        raise bad_request("need administrator rights in the channel chat")


def send(world: World, p: Params, chat: ChatRecord, content: dict[str, Any]) -> dict[str, Any]:
    """Post the bot's message; Telegram copies channel posts into the discussion group."""
    check_can_post(world, chat)
    content = {**reply_fields(p, chat), **content}
    markup = inline_markup(p)
    if markup and markup["inline_keyboard"]:
        content["reply_markup"] = markup
    if p.flag("protect_content"):
        content["has_protected_content"] = True
    message = world.post(chat, world.bot, content)
    if chat.type == "channel":
        world.copy_to_discussion(message)
    return message


def media_file(p: Params, field: str) -> Upload | str:
    """The file parameter field, or the real error when the request has none."""
    given = p.file(field)
    if given is None:
        raise bad_request(f"there is no {field} in the request")
    return given


def photo_content(world: World, given: Upload | str) -> list[dict[str, Any]]:
    """PhotoSizes for an upload, a URL or a known file_id."""
    if isinstance(given, Upload):
        sizes = world.files.photo_from_upload(given)
    elif given.startswith(("http://", "https://")):
        sizes = world.files.photo_from_url(given)
    else:
        sizes = world.files.photo_sizes_of(given)
    return [photo_size_wire(size) for size in sizes]


def document_content(world: World, given: Upload | str) -> dict[str, Any]:
    """A Document for an upload, a URL or a known file_id."""
    if isinstance(given, Upload):
        stored = world.files.add(
            "document",
            len(given.data),
            data=given.data,
            file_name=given.filename,
            mime_type=given.content_type or "application/octet-stream",
        )
    elif given.startswith(("http://", "https://")):
        name = given.rstrip("/").rsplit("/", 1)[-1] or "file"
        stored = world.files.add(
            "document", 100_000, file_name=name, mime_type="application/octet-stream"
        )
    else:
        stored = world.files.get(given)
    return document_wire(stored)


def video_content(world: World, given: Upload | str) -> dict[str, Any]:
    """A Video for an upload, a URL or a known video file_id."""
    if isinstance(given, Upload) or given.startswith(("http://", "https://")):
        data = given.data if isinstance(given, Upload) else None
        size = len(given.data) if isinstance(given, Upload) else 1_000_000
        stored = world.files.add(
            "video", size, data=data, width=VIDEO_SIZE[0], height=VIDEO_SIZE[1],
            mime_type="video/mp4",
        )  # fmt: skip
    else:
        stored = world.files.get(given)
        if stored.kind != "video":
            raise bad_request("wrong file identifier/HTTP URL specified")
    return video_wire(stored)


# -- sending ---------------------------------------------------------------


@api_method("sendMessage")
def send_message(world: World, p: Params) -> dict[str, Any]:
    """Send a text message."""
    chat = world.chat(p.chat_id())
    return send(world, p, chat, text_content(p))


@api_method("sendPhoto")
def send_photo(world: World, p: Params) -> dict[str, Any]:
    """Send a photo with an optional caption."""
    chat = world.chat(p.chat_id())
    content: dict[str, Any] = {"photo": photo_content(world, media_file(p, "photo"))}
    content.update(caption_content(p))
    if p.flag("has_spoiler"):
        content["has_media_spoiler"] = True
    return send(world, p, chat, content)


@api_method("sendVideo")
def send_video(world: World, p: Params) -> dict[str, Any]:
    """Send a video (an upload, a URL or a known video file_id) with an optional caption."""
    chat = world.chat(p.chat_id())
    content: dict[str, Any] = {"video": video_content(world, media_file(p, "video"))}
    content.update(caption_content(p))
    return send(world, p, chat, content)


@api_method("sendDocument")
def send_document(world: World, p: Params) -> dict[str, Any]:
    """Send a general file with an optional caption."""
    chat = world.chat(p.chat_id())
    content: dict[str, Any] = {"document": document_content(world, media_file(p, "document"))}
    content.update(caption_content(p))
    return send(world, p, chat, content)


@api_method("sendMediaGroup")
def send_media_group(world: World, p: Params) -> list[dict[str, Any]]:
    """Send 2-10 photos or documents as one album."""
    chat = world.chat(p.chat_id())
    items = p.json("media")
    if not isinstance(items, list) or not items:
        raise bad_request('parameter "media" is required')
    if not 2 <= len(items) <= 10:
        raise bad_request("wrong number of messages in the media group")
    kinds = {item.get("type") for item in items if isinstance(item, dict)}
    if not kinds <= {"photo", "document"} or len(kinds) != 1 and "document" in kinds:
        raise bad_request("documents can't be mixed with other media types")
    contents = [_album_item(world, p, item) for item in items]
    group_id = str(13_000_000_000_000_000 + world.rng.randint(0, 10**15))
    return [send(world, p, chat, {**content, "media_group_id": group_id}) for content in contents]


def _album_item(world: World, p: Params, item: dict[str, Any]) -> dict[str, Any]:
    media = item.get("media")
    given = p.file_reference(media) if isinstance(media, str) else None
    if given is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    item_params = Params({k: v for k, v in item.items() if k != "media"})
    if item["type"] == "photo":
        content: dict[str, Any] = {"photo": photo_content(world, given)}
    else:
        content = {"document": document_content(world, given)}
    content.update(caption_content(item_params))
    return content


# -- editing and deleting ----------------------------------------------------


def _own_message(world: World, p: Params) -> tuple[ChatRecord, dict[str, Any]]:
    if p.has("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")
    chat = world.chat(p.chat_id())
    message_id = p.required_integer("message_id", "message identifier is not specified")
    message = chat.messages.get(message_id)
    if message is None:
        raise bad_request("message to edit not found")
    if message.get("from", {}).get("id") != world.bot["id"] and chat.type != "channel":
        raise bad_request("message can't be edited")
    return chat, message


def _unchanged() -> ApiError:
    return bad_request(
        "message is not modified: specified new message content and reply markup are exactly the "
        "same as a current content and reply markup of the message"
    )


_EDITABLE = (
    "text",
    "entities",
    "caption",
    "caption_entities",
    "show_caption_above_media",
    "reply_markup",
)


def _apply_edit(
    world: World,
    message: dict[str, Any],
    changes: dict[str, Any],
    markup: dict[str, Any] | None,
    replaced: tuple[str, ...] = (),
) -> None:
    before = {key: message.get(key) for key in _EDITABLE}
    for key in (*replaced, "reply_markup"):
        message.pop(key, None)
    message.update(changes)
    if markup and markup["inline_keyboard"]:
        message["reply_markup"] = markup
    if {key: message.get(key) for key in _EDITABLE} == before:
        raise _unchanged()
    message["edit_date"] = world.now()


@api_method("editMessageText")
def edit_message_text(world: World, p: Params) -> dict[str, Any]:
    """Replace the text of a message the bot sent."""
    _, message = _own_message(world, p)
    if "text" not in message:
        raise bad_request("there is no text in the message to edit")
    _apply_edit(world, message, text_content(p), inline_markup(p), ("text", "entities"))
    return message


@api_method("editMessageCaption")
def edit_message_caption(world: World, p: Params) -> dict[str, Any]:
    """Replace the caption of a media message the bot sent."""
    _, message = _own_message(world, p)
    if "text" in message:
        raise bad_request("there is no caption in the message to edit")
    replaced = ("caption", "caption_entities", "show_caption_above_media")
    _apply_edit(world, message, caption_content(p), inline_markup(p), replaced)
    return message


@api_method("editMessageReplyMarkup")
def edit_message_reply_markup(world: World, p: Params) -> dict[str, Any]:
    """Replace or remove the inline keyboard of a message the bot sent."""
    _, message = _own_message(world, p)
    _apply_edit(world, message, {}, inline_markup(p))
    return message


@api_method("deleteMessage")
def delete_message(world: World, p: Params) -> bool:
    """Delete a message (the bot is an administrator in the library's chats)."""
    chat = world.chat(p.chat_id())
    message_id = p.required_integer("message_id", "message identifier is not specified")
    message = chat.messages.get(message_id)
    if message is None:
        raise bad_request("message to delete not found")
    if world.now() - message["date"] > 48 * 3600 and chat.type != "channel":
        raise bad_request("message can't be deleted")
    del chat.messages[message_id]
    if message_id in chat.pinned:
        chat.pinned.remove(message_id)
    return True
