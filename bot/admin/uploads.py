"""Files admins send, into the plan: previewed with Confirm / Cancel, scheduled on Confirm.

The file is fetched from the network (refused past ``LIMIT`` before or while it is
read), checked and staged by ``bot.admin.upload``; the admin gets the preview (or the
list of problems, with row numbers) and two buttons. A button's data names the staged
upload and is signed for the admin who got it under the library's secret (as quiz
buttons are), so a forged or someone else's press does nothing.
"""

from __future__ import annotations

import hmac
import logging
from typing import TYPE_CHECKING

from bot.admin import upload
from bot.admin.chats import TooBig
from bot.admin.model import PRESS_PREFIX, Button, Inbound, file_name
from core import buttons, interactions, messages
from core.config import LibraryConfig
from core.errors import BibliobotError

if TYPE_CHECKING:
    from bot.admin.chats import Chat
    from bot.admin.desk import AdminDesk

log = logging.getLogger(__name__)

LIMIT = upload.MAX_BYTES  # bytes: what an upload may be at most
SUFFIXES = (".toml", ".xlsx", ".csv")
CONFIRM, CANCEL = "c", "x"


def press_data(secret: bytes, verb: str, token: str, network: str, user_id: int) -> str:
    """A button's callback data: ``au:<verb>:<token>:<signature>``."""
    message = f"{PRESS_PREFIX}:{verb}:{token}"
    return f"{message}:{buttons.mac(secret, f'{message}:{network}:{user_id}')}"


def read_press(
    desk: AdminDesk, inbound: Inbound, mine: tuple[LibraryConfig, ...]
) -> tuple[str, str, LibraryConfig] | None:
    """(verb, token, library) of a genuine press by this admin; None if forged or not theirs."""
    parts = str(inbound.press or "").split(":")
    if len(parts) != 4 or parts[0] != PRESS_PREFIX or parts[1] not in (CONFIRM, CANCEL):
        return None
    _, verb, token, _ = parts
    for library in mine:
        secret = interactions.library_secret(desk.db, library.id)
        expected = press_data(secret, verb, token, inbound.network, inbound.user_id)
        if hmac.compare_digest(expected, str(inbound.press)):
            return verb, token, library
    return None


async def received(
    desk: AdminDesk, inbound: Inbound, chat: Chat, mine: tuple[LibraryConfig, ...]
) -> None:
    """A file from an admin: previewed with buttons, or its problems listed."""
    assert inbound.file is not None
    name = file_name(inbound.file.name)
    user = inbound.user_id
    library = _library_for_file(desk, inbound, mine)
    if library is None:
        ids = ", ".join(lib.id for lib in mine)
        await desk.say(
            chat, user, messages.text("admin.upload_which", libraries=ids, example=mine[0].id)
        )
        desk.audit(inbound, "", "upload", (name,), "refused: no library chosen")
        return
    if not name.lower().endswith(SUFFIXES):
        await desk.say(chat, user, messages.text("admin.upload_kind", name=name))
        desk.audit(inbound, library.id, "upload", (name,), "refused: not an upload")
        return
    try:
        data = await chat.fetch(inbound.file, LIMIT)
    except TooBig:
        await desk.say(
            chat, user, messages.text("admin.upload_too_big", name=name, limit=LIMIT // 1024)
        )
        desk.audit(inbound, library.id, "upload", (name,), "refused: too big")
        return
    except BibliobotError as exc:  # the network did not give the file: the admin may resend
        log.warning("admin chat: %s file not fetched: %s", inbound.network, exc)
        await desk.say(chat, user, messages.text("upload.not_fetched", file=name))
        desk.audit(inbound, library.id, "upload", (name,), f"failed: {type(exc).__name__}")
        return
    outcome = await _preview(desk, inbound, chat, library, name, data)
    desk.audit(inbound, library.id, "upload", (name,), outcome)


async def _preview(
    desk: AdminDesk, inbound: Inbound, chat: Chat, library: LibraryConfig, name: str, data: bytes
) -> str:
    """Stage the upload and show the preview with buttons, or the problems."""
    found = upload.preview_upload(desk.config, library.id, name, data, desk.clock.now())
    if isinstance(found, upload.UploadRefused):
        await desk.say(chat, inbound.user_id, found.text)
        return f"refused: {len(found.problems)} problem(s)"
    secret = interactions.library_secret(desk.db, library.id)
    net, user = inbound.network, inbound.user_id
    choice = (
        Button(messages.text("admin.confirm"), press_data(secret, CONFIRM, found.token, net, user)),
        Button(messages.text("admin.cancel"), press_data(secret, CANCEL, found.token, net, user)),
    )
    await desk.say(chat, user, found.text, choice)
    return f"previewed {found.token}"


async def press(
    desk: AdminDesk, inbound: Inbound, chat: Chat, mine: tuple[LibraryConfig, ...]
) -> None:
    """Confirm or Cancel under a preview: scheduled, or dropped."""
    read = read_press(desk, inbound, mine)
    if read is None:
        await _answer(chat, inbound, messages.text("admin.press_invalid"))
        return  # a forged button names no library of theirs: nothing to audit it under
    verb, token, library = read
    if upload.upload_library(desk.config, token) not in (None, library.id):
        # Signed under one library of theirs for another's upload: never made by the bot.
        await _answer(chat, inbound, messages.text("admin.press_invalid"))
        return
    await _answer(chat, inbound, messages.text("admin.press_taken"))
    command = "confirm" if verb == CONFIRM else "cancel upload"
    try:
        if verb == CONFIRM:
            files = upload.confirm_upload(desk.config, token)
            names = ", ".join(path.name for path in files)
            text = messages.text("admin.upload_confirmed", files=names)
            outcome = f"scheduled {names}"
            if await _plan_now(desk):
                ids = ", ".join(f"{library.id}/{path.stem}" for path in files)
                text = messages.text("upload.confirmed", count=len(files), events=ids)
        elif upload.cancel_upload(desk.config, token):
            text, outcome = messages.text("admin.upload_cancelled"), "cancelled"
        else:  # confirmed already (or forgotten): saying "cancelled" would be untrue
            text, outcome = messages.text("upload.gone"), "refused: not waiting"
    except upload.UploadNotConfirmed as exc:  # its message is for the admin
        text, outcome = str(exc), "refused: not confirmed"
    except (BibliobotError, OSError) as exc:
        log.warning("admin chat: upload %s not %s: %s", token, command, exc)
        text, outcome = messages.text("admin.upload_stale"), f"failed: {type(exc).__name__}"
    await desk.say(chat, inbound.user_id, text)
    desk.audit(inbound, library.id, command, (token,), outcome)


async def _plan_now(desk: AdminDesk) -> bool:
    """Load the confirmed files into the plan at once; False if that waits for the next
    refresh (none wired, or it failed: the files are in the events folder all the same)."""
    if desk.reload is None:
        return False
    try:
        await desk.reload()
    except Exception:  # the upload is done; the bot's own refresh plans it later
        log.exception("admin chat: a confirmed upload not planned at once")
        return False
    return True


async def _answer(chat: Chat, inbound: Inbound, text: str) -> None:
    """The short note on the pressed button; a press too old to answer is no matter."""
    try:
        await chat.answer_press(inbound, text)
    except BibliobotError as exc:
        log.debug("admin chat: press not answered: %s", exc)


def _library_for_file(
    desk: AdminDesk, inbound: Inbound, mine: tuple[LibraryConfig, ...]
) -> LibraryConfig | None:
    """The one library of the admin, or the one the caption names."""
    if len(mine) == 1:
        return mine[0]
    words = set(inbound.text.split())
    return next((lib for lib in mine if lib.id in words), None)
