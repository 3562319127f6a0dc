"""The demo's giveaway: a VK post whose draw anyone can check.

The announcement carries the commitment (SHA-256 of a secret seed); ten readers like
the post and comment (some without the required word, one without liking); eight seconds later the bot draws two winners and a reserve, posts the results
with the seed and the list's SHA-256, and writes the proof, which ``bibliobot
verify-draw`` checks from the file alone.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from pathlib import Path

import sqlite_utils

from bot.giveaway.draw import verify
from core import messages
from sandbox.server import Sandbox

GIVEAWAY = """kind = "giveaway"
library = "central"
title = "{title}"
text = "{text}"
at = {at}
draw_at = {draw_at}
networks = ["vk"]
winners = 2
reserve = 1
conditions = ["like", "comment"]
comment_word = "{word}"
prizes = ["{prize}"]
"""
DRAW_AFTER = timedelta(seconds=8)


def place_giveaway(events_dir: Path, language: str, at: datetime) -> Path:
    """The demo giveaway's event file: announced at ``at``, drawn eight seconds later."""
    target = events_dir / "giveaway.toml"
    draw_at = at + DRAW_AFTER
    words = {
        "title": messages.text_in(language, "demo.giveaway_title"),
        "text": messages.text_in(language, "demo.giveaway_text"),
        "word": messages.text_in(language, "demo.giveaway_word"),
        "prize": messages.text_in(language, "demo.giveaway_prize"),
    }
    text = GIVEAWAY.format(
        at=f"{at:%Y-%m-%dT%H:%M:%S}", draw_at=f"{draw_at:%Y-%m-%dT%H:%M:%S}", **words
    )
    target.write_text(text, encoding="utf-8")
    return target


async def play(db: sqlite_utils.Database, sandbox: Sandbox, group_id: int, language: str):
    """Once the announcement is on the wall, readers like it and comment."""
    where = "action_id in (select id from actions where kind = 'giveaway')"
    for _ in range(400):
        published = list(db["publications"].rows_where(where))
        if published:
            break
        await asyncio.sleep(0.05)
    else:
        return
    post = f"-{group_id}_{published[0]['remote_id']}"
    word = messages.text_in(language, "demo.giveaway_word")
    for n in range(10):
        reader = sandbox.vk.add_reader(messages.text_in(language, "demo.reader_name", n=n), "Д")
        if n != 5:
            sandbox.vk.like(reader, post)
        sandbox.vk.comment(reader, post, f"{word}!" if n % 4 else "👍")


def outcome(db: sqlite_utils.Database, language: str) -> str | None:
    """One line on the draw: participants, winners, the proof and its check."""
    row = next(db["giveaways"].rows_where("proof is not null"), None)
    if row is None:
        return None
    proof = json.loads(Path(row["proof_path"]).read_text("utf-8"))
    winners = [
        w["name"].split("|", 1)[-1].rstrip("]")
        for w in db["giveaway_winners"].rows_where("reserve = 0", order_by="place")
    ]
    check = messages.text_in(
        language, "cli.verify_ok_word" if not verify(proof) else "cli.verify_differs_word"
    )
    return messages.text_in(
        language, "demo.giveaway_said", n=proof["participants_count"],
        winners=", ".join(winners) or "—", proof=row["proof_path"], check=check,
    )  # fmt: skip
