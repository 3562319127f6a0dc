"""What crosses between the intakes and the admin chat: typed, the same on every network."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

PRESS_PREFIX = "au"  # callback data of the admin chat's buttons starts "au:"


@dataclass(frozen=True)
class SentFile:
    """A file an admin sent: its name, its size if the network says, where to fetch it.

    ``ref``: Telegram's file_id; the file's URL on VK and MAX.
    """

    name: str
    ref: str
    size: int | None = None


@dataclass(frozen=True)
class Inbound:
    """One message or button press of an admin in a private chat with the bot."""

    network: str
    user_id: int
    text: str = ""
    file: SentFile | None = None
    press: str | None = None  # the pressed button's callback data
    press_id: str = ""  # what answers the press: Telegram's query id, VK's event_id, MAX's id
    peer_id: int = 0  # VK: the dialog the press came from (the admin's id)
    # The libraries of the bot or community written to (empty: any): an admin of another
    # library is no admin there.
    libraries: tuple[str, ...] = ()


@dataclass(frozen=True)
class Button:
    """An inline button under a reply: its label and its (signed) callback data."""

    label: str
    data: str


@dataclass(frozen=True)
class OutFile:
    """A file the bot sends an admin (a report)."""

    name: str
    data: bytes


def is_admin_press(data: object) -> bool:
    """Whether callback data claims to be an admin-chat button (signature not checked)."""
    return isinstance(data, str) and data.startswith(f"{PRESS_PREFIX}:")


def file_name(name: str) -> str:
    """A sent file's name without any folder part (a client may send one)."""
    return PurePath(name.replace("\\", "/")).name
