"""Shared pieces of the quiz end-to-end tests: a stand-in world, a driver, the expected table."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.app import build_app, load_plan
from core.clock import ManualClock
from core.config_file import load_config
from core.storage import open_db, to_db
from sandbox.server import Sandbox
from tests.conftest import TG_ENV, VK_COMMUNITY_ENV, VK_USER_ENV, write_config

ZONE = ZoneInfo("Europe/Moscow")


def start_time() -> datetime:
    """Now, to the minute (Telegram checks poll times against the real time of sending)."""
    return datetime.now(UTC).replace(second=0, microsecond=0)


def local(moment: datetime) -> str:
    """A UTC moment as the library's local time in an event file."""
    return moment.astimezone(ZONE).replace(tzinfo=None).isoformat()


@dataclass
class Expected:
    """An independent account of the quiz: first valid answers, by the rules of the issue."""

    window: float
    bonus: int
    answered: dict[tuple[int, str], tuple[float, bool, int]] = field(default_factory=dict)

    def answer(
        self, question: int, player: str, elapsed: float, correct: bool, points=1, stamped=True
    ) -> None:
        """A player's answer (kept only if it is their first to this question, in time).

        An answer without the platform's timestamp (a vote, a button) is judged by its
        arrival, which may lag the close by up to 2 s; it then counts as given at the close.
        """
        lag = 0 if stamped else 2
        if elapsed > self.window + lag:
            return
        elapsed = min(elapsed, self.window)
        self.answered.setdefault((question, player), (elapsed, correct, points))

    def table(self) -> list[tuple[str, float, int]]:
        """(player, points, right answers), best first; ties by total time of right answers."""
        totals: dict[str, list[float]] = {}
        for (_, player), (elapsed, correct, points) in self.answered.items():
            line = totals.setdefault(player, [0.0, 0, 0.0])
            if correct:
                share = max(0.0, 1 - elapsed / self.window)
                line[0] += points + round(self.bonus * share, 2)
                line[1] += 1
                line[2] += elapsed
        ordered = sorted(totals.items(), key=lambda item: (-round(item[1][0], 6), item[1][2]))
        return [(player, round(p, 2), int(c)) for player, (p, c, _) in ordered]


class QuizWorld:
    """A library on the stand-ins with the application (nobody told, no update readers: each
    test makes its own) on a manual clock."""

    def __init__(self, box, tmp_path: Path, start: datetime, **config_extra: str) -> None:
        info = box.info()
        self.box, self.tg, self.vk = box, info["telegram"], info["vk"]
        path = write_config(
            tmp_path,
            telegram_url=self.tg["api_url"],
            vk_url=self.vk["api_url"],
            channel=str(self.tg["channel_id"]),
            group_id=self.vk["group_id"],
            **config_extra,
        )
        self.config = load_config(path)
        self.env = {
            TG_ENV: self.tg["token"],
            VK_USER_ENV: self.vk["user_token"],
            VK_COMMUNITY_ENV: self.vk["community_token"],
        }
        self.db = open_db(self.config.storage)
        self.clock = ManualClock(start)
        self.stand_in_time = {"now": start.timestamp()}  # the stand-ins' clock follows ours
        self.build()

    def build(self, platforms: dict | None = None) -> None:
        """(Re)build the application from ``self.config`` (on ``platforms``, if given)."""
        self.app = build_app(
            self.config,
            self.db,
            env=self.env,
            clock=self.clock,
            tell_admins=False,
            intakes=False,
            platforms=platforms,
        )
        self.platforms, self.runner, self.engine = (
            self.app.platforms,
            self.app.runner,
            self.app.quiz,
        )

    def plan(self) -> None:
        """Load the events folder into the plan."""
        result = load_plan(self.db, self.config, self.clock)
        assert not result.problems, result.problems

    def actions(self, kind: str | None = None) -> list[dict]:
        """Pending actions in time order (of one kind if given)."""
        where, params = "state = 'pending'", []
        if kind:
            where += " and kind = ?"
            params.append(kind)
        return list(self.db["actions"].rows_where(where, params, order_by="due_at, id"))

    async def fire_due(self, until: datetime) -> list[dict]:
        """Move the clock through every action due by ``until`` and fire it."""
        fired = []
        for row in self.actions():
            if row["kind"] == "snapshot" or row["due_at"] > to_db(until):
                continue
            self.set_time(max(self.clock.current, datetime.fromisoformat(row["due_at"])))
            await self.runner.fire(row["id"])
            fired.append(self.db["actions"].get(row["id"]))
        self.set_time(max(self.clock.current, until))
        return fired

    def set_time(self, moment: datetime) -> None:
        """Move our clock and the stand-ins' together."""
        self.clock.current = moment
        self.stand_in_time["now"] = moment.timestamp()

    def tick(self, seconds: float = 1.0) -> None:
        """Let ``seconds`` pass."""
        self.set_time(self.clock.current + timedelta(seconds=seconds))

    async def close(self) -> None:
        """Close the platforms' connections."""
        await self.app.close()

    def question(self, network: str, number: int) -> dict:
        """The stored question row."""
        return next(
            self.db["quiz_questions"].rows_where("network = ? and number = ?", [network, number])
        )


def shift(moment: datetime, seconds: float) -> datetime:
    """``moment`` plus seconds."""
    return moment + timedelta(seconds=seconds)


@contextmanager
def quiz_world(
    tmp_path: Path, seed: int, config: Callable[[Sandbox], dict[str, str]] | None = None
) -> Iterator[tuple[Sandbox, QuizWorld]]:
    """Stand-ins whose clock follows the world's manual clock, rate limits off.

    ``config`` may add config lines once the stand-ins exist (a chat id, staff ids).
    """
    start = start_time()
    now = {"now": start.timestamp()}
    with Sandbox(seed=seed, clock=lambda: now["now"]) as box:
        box.vk.set_rate_limits(enabled=False)
        box.telegram.set_rate_limits(enabled=False)
        world = QuizWorld(box, tmp_path, start, **(config(box) if config else {}))
        world.stand_in_time = now
        yield box, world
