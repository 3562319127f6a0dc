"""What ``bibliobot run`` says: one line per thing that happened, in local time.

A ``RunLines`` is one of the runner's observers (``Runner.observers``): it hears each
outcome once the database has it and prints a line in the config's language, at the
library's local time (posted, failed, missed, uncertain, a question asked or closed,
metrics read). Retries are detail: they are said only with ``-v``.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

from bot.alerts import why_of
from core import messages, networks
from core.config import Config
from core.model import RETRYING, ActionOutcome
from core.storage import FAILED, MISSED, SENT, UNCERTAIN

Say = Callable[[str], None]
PROBLEMS = {FAILED: "run.failed", MISSED: "run.missed", UNCERTAIN: "run.uncertain"}


class RunLines:
    """Prints a line per outcome (``say``) for the person watching ``bibliobot run``."""

    def __init__(
        self, db: sqlite_utils.Database, config: Config, say: Say, verbose: bool = False
    ) -> None:
        self.db = db
        self.config = config
        self.say = say
        self.verbose = verbose
        self._titles: dict[str, str] = {}

    def started(self, armed: int) -> None:
        """The bot is up with ``armed`` actions in its plan."""
        self.say(messages.text_in(self.config.language, "run.started", count=armed))

    def stopped(self) -> None:
        """The bot has stopped."""
        self.say(messages.text_in(self.config.language, "run.stopped"))

    def observe(self, outcome: ActionOutcome) -> None:
        """One outcome, as a line (retries only when verbose)."""
        if outcome.state == RETRYING and not self.verbose:
            return
        line = self.line(outcome)
        if line:
            self.say(line)

    def line(self, outcome: ActionOutcome) -> str:
        """The line for ``outcome`` ("" for a state nobody needs told)."""
        language = self.config.language
        library = self.config.library(outcome.library_id)
        zone = library.timezone if library is not None else None
        local = outcome.at.astimezone(zone) if zone else outcome.at
        with messages.use_language(language):
            what = self._what(outcome, zone)
            if not what:
                return ""
            name = library.short_name or library.id if library is not None else outcome.library_id
            return messages.text(
                "run.line",
                when=f"{local:%d.%m %H:%M}",
                library=name,
                network=_network(outcome.network, language),
                title=self._title(outcome.event_id),
                what=what,
            ).rstrip()

    def _what(self, outcome: ActionOutcome, zone) -> str:
        reason = outcome.reason or "—"
        if outcome.state == SENT:
            key = f"run.sent_{outcome.kind}"
            key = key if key in messages.catalogue() else "run.sent_other"
            return messages.text(key, url=outcome.url).rstrip()  # entries without {url} ignore it
        if outcome.state in PROBLEMS:
            if outcome.error is not None:  # our words first, the platform's detail after
                said = messages.text(f"alerts.why_{why_of(outcome.error)}")
                reason = f"{said} ({reason})"
            return messages.text(PROBLEMS[outcome.state], reason=reason)
        if outcome.state == RETRYING and outcome.retry_at is not None:
            when = outcome.retry_at.astimezone(zone) if zone else outcome.retry_at
            return messages.text("run.retrying", when=f"{when:%H:%M:%S}", reason=reason)
        return ""

    def _title(self, event_id: str) -> str:
        if event_id not in self._titles:
            row = next(self.db["events"].rows_where("id = ?", [event_id], select="title"), None)
            self._titles[event_id] = (row or {}).get("title") or event_id
        return self._titles[event_id]


def _network(name: str, language: str) -> str:
    return networks.title(name, language) if name in networks.names() else name
