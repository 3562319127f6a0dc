"""Mistakes in event files, told once: in the log, and to the admins of the library.

A file with a mistake keeps its previous plan (see ``bot.app.load_plan``); unless the
librarian hears of it, the event silently never changes. Each distinct mistake is told
once, when the bot starts or when a refresh finds it, to the admins of the library the
file names (or of every library, when the file does not say which).

An edit that comes too late is told the same way: a file changed after some of its
posts went out changes only what is still pending (``scheduler.plan``), so the admins
of its library hear, once per edit, which sent posts stay as they were.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from core.config import Config
from core.errors import InputError
from core.messages import text_in
from core.networks import names, title

if TYPE_CHECKING:
    from scheduler.plan import PlanChange

log = logging.getLogger(__name__)

# Why each word of a change (``PostEdit.changed``) is an entry: the notice says it in the
# library's language.
CHANGED = {
    "time": "problems.changed_time",
    "text": "problems.changed_text",
    "image": "problems.changed_image",
    "content": "problems.changed_content",
    "removed": "problems.changed_removed",
}


class ProblemTeller:
    """Tells each new problem once."""

    def __init__(
        self, config: Config, notify: Callable[[str, str], Awaitable[None]] | None
    ) -> None:
        self.config = config
        self.notify = notify  # None: problems are logged only
        self.told: set[str] = set()

    def new(self, problems: list[InputError]) -> list[tuple[str, str]]:
        """(library, notice) for each problem not told yet; each is logged once."""
        notices = []
        for problem in problems:
            text = str(problem)
            if text in self.told:
                continue
            self.told.add(text)
            log.error("%s", text)
            notice = text_in(self.config.language, "problems.notice", problem=text)
            notices += [(library, notice) for library in self._libraries(problem)]
        return notices

    async def tell(self, problems: list[InputError]) -> None:
        """Log and send the new problems."""
        for library, notice in self.new(problems):
            if self.notify is not None:
                await self.notify(library, notice)

    def new_edits(self, changes: list[PlanChange]) -> list[tuple[str, str]]:
        """(library, notice) for each event edited after posts went out, not told yet."""
        language = self.config.language
        notices = []
        for change in changes:
            if not change.edits:
                continue
            changed = dict.fromkeys(word for edit in change.edits for word in edit.changed)
            where = dict.fromkeys(
                f"{_network(e.network, language)} {e.target}" for e in change.edits
            )
            notice = text_in(
                language,
                "problems.edited",
                title=change.title,
                event=change.event_id,
                changed=", ".join(_changed(word, language) for word in changed),
                where=", ".join(where),
            )
            if notice in self.told:
                continue
            self.told.add(notice)
            for edit in change.edits:
                log.warning(
                    "%s: already %s; its event file changed (%s), the change is not applied",
                    edit.key,
                    edit.state,
                    ", ".join(edit.changed),
                )
            notices.append((change.library_id, notice))
        return notices

    async def tell_edits(self, changes: list[PlanChange]) -> None:
        """Log and send the new edits of posts already out."""
        for library, notice in self.new_edits(changes):
            if self.notify is not None:
                await self.notify(library, notice)

    def _libraries(self, problem: InputError) -> list[str]:
        """The library the file names, else every library."""
        known = [library.id for library in self.config.libraries]
        try:
            data = tomllib.loads(Path(problem.path).read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return known
        named = data.get("library")
        return [named] if named in known else known


def _network(name: str, language: str) -> str:
    """A network as the notice's reader calls it (an unknown name as it is)."""
    return title(name, language) if name in names() else name


def _changed(word: str, language: str) -> str:
    """One word of what changed, in ``language`` (an unknown word as it is)."""
    key = CHANGED.get(word)
    return text_in(language, key) if key else word
