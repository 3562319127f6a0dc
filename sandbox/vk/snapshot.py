"""The VK stand-in's records as plain JSON-ready dicts, for state() and the control app."""

from __future__ import annotations

from typing import Any

from sandbox.vk.world import CROWD_BASE, Community, Message, Photo, Poll, Post


def community_state(community: Community) -> dict[str, Any]:
    """A community with its member count and its named (non-crowd) members."""
    return {
        "id": community.id,
        "name": community.name,
        "screen_name": community.screen_name,
        "admin_id": community.admin_id,
        "members_count": len(community.members),
        "members": [uid for uid in community.members if uid < CROWD_BASE],
    }


def post_state(record: Post) -> dict[str, Any]:
    """A post with its counters and live comments."""
    return {
        "ref": record.ref,
        "owner_id": record.owner_id,
        "id": record.id,
        "from_id": record.from_id,
        "date": record.date,
        "text": record.text,
        "attachments": [attachment_ref(kind, ref) for kind, ref in record.attachments],
        "guid": record.guid,
        "postponed": record.postponed,
        "deleted": record.deleted,
        "views": record.views,
        "likes": len(record.likes),
        "reposts": len(record.reposts),
        "comments": [
            {
                "id": c.id,
                "from_id": c.from_id,
                "text": c.text,
                "reply_to": c.reply_to_comment,
                "attachments": [attachment_ref(kind, ref) for kind, ref in c.attachments],
            }
            for c in record.comments
            if not c.deleted
        ],
    }


def attachment_ref(kind: str, ref: Any) -> str:
    """An attachment as VK writes it (photo-1_2), or a link's URL."""
    return ref if kind == "link" else f"{kind}{ref[0]}_{ref[1]}"


def photo_state(record: Photo) -> dict[str, Any]:
    """A saved photo without its bytes."""
    return {
        "id": record.id,
        "owner_id": record.owner_id,
        "album_id": record.album_id,
        "width": record.width,
        "height": record.height,
        "bytes": len(record.data),
    }


def poll_state(record: Poll) -> dict[str, Any]:
    """A poll with votes per answer."""
    return {
        "id": record.id,
        "owner_id": record.owner_id,
        "question": record.question,
        "answers": [
            {
                "id": answer.id,
                "text": answer.text,
                "votes": sum(answer.id in chosen for chosen in record.votes.values()),
            }
            for answer in record.answers
        ],
        "voters": len(record.votes),
    }


def message_state(record: Message) -> dict[str, Any]:
    """A community message (of a dialog or a group chat), with its internal id."""
    return {
        "id": record.id,
        "group_id": record.group_id,
        "peer_id": record.peer_id,
        "from_id": record.from_id,
        "text": record.text,
        "out": record.out,
        "date": record.date,
        "keyboard": record.keyboard,
        "payload": record.payload,
        "conversation_message_id": record.conversation_message_id,
        "update_time": record.update_time,
        "reply_to": record.reply_to.conversation_message_id if record.reply_to else None,
        "attachments": [attachment_ref(kind, ref) for kind, ref in record.attachments],
    }
