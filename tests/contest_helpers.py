"""A contest world on the stand-ins: the quiz world plus an admin and the contest engine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from bot.intake.telegram import TelegramIntake
from bot.intake.vk import VkIntake
from core.config_file import load_config
from core.storage import to_db
from sandbox.server import Sandbox
from tests.quiz_helpers import QuizWorld, local, shift, start_time

CONTEST = """kind = "contest"
library = "central"
title = "Зимние стихи"
text = "Пришлите рисунок или отзыв!"
at = {at}
entries_until = {until}
gallery_at = {gallery}
voting_until = {voting}
results_at = {results}
networks = {networks}
{extra}
"""


class ContestWorld(QuizWorld):
    """The quiz world with the library's admin as a Telegram user, and the contest engine."""

    def __init__(self, box, tmp_path: Path, start: datetime) -> None:
        super().__init__(box, tmp_path, start)
        self.admin = box.telegram.add_user("Библиотекарь", "Админ")["id"]
        box.telegram.post_as_user(self.admin, self.admin, "/start")  # opens the private chat
        path = tmp_path / "config.toml"
        path.write_text(
            path.read_text("utf-8").replace("admins = [42]", f"admins = [{self.admin}]"), "utf-8"
        )
        self.config = load_config(path)
        self.build()
        self.contest = self.app.contest
        self.tmp_path = tmp_path

    def write(self, name: str, at: datetime, networks: str, extra: str = "", **offsets: float):
        """A contest file: entries for an hour, gallery, a day of voting, results."""
        times = {"until": 3600, "gallery": 7200, "voting": 7200 + 86400, "results": 7200 + 86460}
        times.update(offsets)
        if "winners" not in extra:
            extra += "\nwinners = 2"
        text = CONTEST.format(
            at=local(at),
            networks=networks,
            extra=extra,
            **{key: local(shift(at, seconds)) for key, seconds in times.items()},
        )
        (self.tmp_path / "events" / f"{name}.toml").write_text(text, "utf-8")

    async def fire_all(self, until: datetime) -> list[dict]:
        """Fire every due action (entry posts planned on the way too), in time order."""
        fired = []
        while True:
            due = [
                row
                for row in self.actions()
                if row["kind"] not in ("snapshot", "community") and row["due_at"] <= to_db(until)
            ]
            if not due:
                break
            row = due[0]
            self.set_time(max(self.clock.current, datetime.fromisoformat(row["due_at"])))
            await self.runner.fire(row["id"])
            fired.append(self.db["actions"].get(row["id"]))
        self.set_time(max(self.clock.current, until))
        return fired

    def telegram_intake(self) -> TelegramIntake:
        bot = self.platforms[("central", "telegram")].bot
        return TelegramIntake(
            self.db, bot, list(self.config.libraries), self.clock, 0, contest=self.contest.book
        )

    def vk_intake(self) -> VkIntake:
        return VkIntake(
            self.db,
            "central",
            self.vk["group_id"],
            self.vk["community_token"],
            self.vk["api_url"],
            self.clock,
            wait=0,
            contest=self.contest.book,
        )

    def entries(self) -> list[dict]:
        return list(self.db["contest_entries"].rows_where(order_by="number"))


@contextmanager
def contest_world(tmp_path: Path, seed: int) -> Iterator[tuple[Sandbox, ContestWorld]]:
    """Stand-ins whose clock follows the world's manual clock, rate limits off."""
    start = start_time()
    now = {"now": start.timestamp()}
    with Sandbox(seed=seed, clock=lambda: now["now"]) as box:
        box.vk.set_rate_limits(enabled=False)
        box.telegram.set_rate_limits(enabled=False)
        world = ContestWorld(box, tmp_path, start)
        world.stand_in_time = now
        yield box, world
