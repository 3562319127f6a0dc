"""Photos and documents for community messages: photos.getMessagesUploadServer and
photos.saveMessagesPhoto, docs.getMessagesUploadServer and docs.save.

As in VK (and vk_api's ``VkUpload.photo_messages`` / ``document_message``): the upload
server takes the file (a photo as field ``file0``..., a document as field ``file``), a
photo's answer is signed ``{"server", "photo", "hash"}`` like a wall upload's, a
document's is ``{"file": ...}``; the save method turns it into a photo or a doc that
``messages.send`` takes as ``attachment`` (``photo-1_2``, ``doc-1_3``).
"""

from __future__ import annotations

from typing import Any

from sandbox.vk.api import Call, invalid
from sandbox.vk.methods.registry import method
from sandbox.vk.methods.wall import save_uploads
from sandbox.vk.world import Doc

MESSAGE_ALBUM = -3  # VK's album of photos sent in messages


def _owner(call: Call) -> int:
    """Whose files these are: the community of a community token, or the user."""
    return -call.token.owner if call.token.kind == "group" else call.user_id


@method("photos.getMessagesUploadServer")
def photos_get_messages_upload_server(call: Call) -> dict[str, Any]:
    """Where to upload a photo to send in a message."""
    owner_id = _owner(call)
    upload_url = f"{call.base_url}/upload/wall?owner_id={owner_id}&user_id={call.user_id}"
    group_id = -owner_id if owner_id < 0 else 0
    # user_id is required by the schema; a community token's caller is no user (0).
    return {
        "album_id": MESSAGE_ALBUM,
        "upload_url": upload_url,
        "user_id": call.user_id,
        "group_id": group_id,
    }


@method("photos.saveMessagesPhoto")
def photos_save_messages_photo(call: Call) -> list[dict[str, Any]]:
    """Turn an upload (server, photo, hash) into photos to send in messages."""
    return save_uploads(call, _owner(call), MESSAGE_ALBUM, "photo")


@method("docs.getMessagesUploadServer")
def docs_get_messages_upload_server(call: Call) -> dict[str, str]:
    """Where to upload a document to send in a message (``type`` doc, the default)."""
    kind = call.text("type") or "doc"
    if kind not in ("doc", "audio_message", "graffiti"):
        raise invalid("type is invalid")
    return {"upload_url": f"{call.base_url}/upload/doc?owner_id={_owner(call)}"}


@method("docs.save")
def docs_save(call: Call) -> dict[str, Any]:
    """Save an uploaded document; ``title`` names it (the file's name by default)."""
    world = call.world
    found = world.doc_uploads.pop(call.text("file"), None)
    if found is None:
        raise invalid("file is invalid")
    data, filename = found
    doc = Doc(
        id=world.new_photo_id(),  # ids only need to be unique per owner
        owner_id=_owner(call),
        title=call.text("title") or filename or "document",
        data=data,
        date=world.now(),
    )
    world.docs[(doc.owner_id, doc.id)] = doc
    return {"type": "doc", "doc": doc_json(doc, call.base_url)}


def doc_json(doc: Doc, base_url: str = "") -> dict[str, Any]:
    """A document as the API shows it (docs_doc)."""
    return {
        "id": doc.id,
        "owner_id": doc.owner_id,
        "title": doc.title,
        "size": len(doc.data),
        "ext": doc.extension,
        "date": doc.date,
        "type": 1 if doc.extension in ("txt", "doc", "docx", "pdf", "xlsx", "html") else 8,
        "url": f"{base_url}/docs/{doc.owner_id}_{doc.id}",
    }


def message_attachments(call: Call) -> list[tuple[str, Any]]:
    """The ``attachment`` of messages.send: photos and docs the caller may send."""
    found: list[tuple[str, Any]] = []
    for ref in call.items("attachment"):
        kind = "photo" if ref.startswith("photo") else "doc" if ref.startswith("doc") else ""
        parts = ref.removeprefix(kind).split("_")
        try:
            key = (int(parts[0]), int(parts[1]))
        except (ValueError, IndexError):
            raise invalid("attachment is invalid") from None
        known = call.world.photos if kind == "photo" else call.world.docs if kind else {}
        if key not in known:
            raise invalid(f"attachment is invalid: no {ref}")
        found.append((kind, key))
    return found
