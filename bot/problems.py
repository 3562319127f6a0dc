"""Mistakes in event files, told once: in the log, and to the admins of the library.

A file with a mistake keeps its previous plan (see ``bot.app.load_plan``); unless the
librarian hears of it, the event silently never changes. Each distinct mistake is told
once, when the bot starts or when a refresh finds it, to the admins of the library the
file names (or of every library, when the file does not say which).
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.config import Config
from bot.errors import InputError

log = logging.getLogger(__name__)

NOTICE = {
    "ru": "⚠️ В файле события ошибка. План по нему остаётся прежним, пока её не исправят.\n{problem}",
    "en": "⚠️ An event file has a mistake. Its plan stays as it was until it is fixed.\n{problem}",
}


class ProblemTeller:
    """Tells each new problem once."""

    def __init__(self, config: Config, notify: Callable[[str, str], Awaitable[None]]) -> None:
        self.config = config
        self.notify = notify
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
            notice = NOTICE.get(self.config.language, NOTICE["ru"]).format(problem=text)
            notices += [(library, notice) for library in self._libraries(problem)]
        return notices

    async def tell(self, problems: list[InputError]) -> None:
        """Log and send the new problems."""
        for library, notice in self.new(problems):
            await self.notify(library, notice)

    def _libraries(self, problem: InputError) -> list[str]:
        """The library the file names, else every library."""
        known = [library.id for library in self.config.libraries]
        try:
            data = tomllib.loads(Path(problem.path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return known
        named = data.get("library")
        return [named] if named in known else known
