"""The giveaway actions the runner fires: the announcement with its commitment, the draw.

``announce`` makes the secret seed (once: a repeat after a crash finds it), stores it,
and publishes the announcement with ``SHA-256(seed)`` in it. ``draw`` lists who met the
conditions (``bot.giveaway.eligibility``), leaves out staff and recent winners, draws
(``bot.giveaway.draw``), stores the proof in the database and as a JSON file, posts the
results (winners, the seed, the list's SHA-256, how to check) and tells the winners in a
reply or a private message, asking them to come to the library or write to it. A draw is
made once: a results post that fails is retried with the stored proof, never re-drawn.

Only pseudonymous ids go into the proof; a Telegram entrant's platform id and comment are
kept only until the draw, display names only for the winners (``keep_names``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path

import sqlite_utils

from bot.alerts import admins_on
from bot.giveaway import draw as drawing
from bot.giveaway import eligibility
from core import interactions, messages, networks
from core.clock import Clock, SystemClock
from core.config import Config
from core.errors import AmbiguousOutcome, BadContent, NotFound, PlatformError, RetryLater
from core.giveaway_model import GiveawaySpec
from core.model import ANNOUNCE, DRAW, MARK, guid_for
from core.platform import (
    EntrantsPlatform,
    GiveawayPlatform,
    Platform,
    Post,
    Published,
    ReplyTo,
    able,
)
from core.storage import to_db
from core.texts import render_frame

log = logging.getLogger(__name__)
Handler = Callable[[dict], Awaitable[Published | None]]
Notify = Callable[[str, str], Awaitable[None]]


class GiveawayEngine:
    """Announces giveaways and draws them; ``on_comment`` takes Telegram entries."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        config: Config,
        platforms: Mapping[tuple[str, str], Platform],
        clock: Clock | None = None,
        proof_dir: Path | None = None,
        notify: Notify | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.platforms = platforms
        self.clock = clock or SystemClock()
        self.proof_dir = proof_dir or Path(config.storage).parent / "proofs"
        self.notify = notify

    def handlers(self) -> dict[str, Handler]:
        """The runner's handlers for the giveaway action kinds."""
        return {ANNOUNCE: self.announce, DRAW: self.draw}

    def _platform(self, row: dict) -> GiveawayPlatform:
        platform = self.platforms[(row["library_id"], row["network"])]
        if not networks.network(row["network"]).capabilities.giveaway_entries:
            name = networks.title(row["network"], "en")
            raise BadContent(f"{name}: no giveaways on this network", row["network"])
        return able(platform, GiveawayPlatform, "giveaways")

    def _lister(self, row: dict) -> EntrantsPlatform | None:
        """The platform that lists entrants through its API; None where the intake keeps
        them (the registry's ``entrants_from_api``)."""
        if not networks.network(row["network"]).capabilities.entrants_from_api:
            return None
        return able(self._platform(row), EntrantsPlatform, "listing a giveaway's entrants")

    def _giveaway(self, event_id: str, network: str, target: str) -> dict | None:
        return next(
            self.db["giveaways"].rows_where(
                "event_id = ? and network = ? and target = ?", [event_id, network, target]
            ),
            None,
        )

    # -- the announcement ----------------------------------------------------------

    async def announce(self, row: dict) -> Published:
        """Publish the announcement with the commitment to a seed made (once) now."""
        giveaway = self._giveaway(row["event_id"], row["network"], row["target"])
        if giveaway is None:
            seed = drawing.new_seed()
            with self.db.atomic():
                self.db["giveaways"].insert(
                    {
                        "event_id": row["event_id"],
                        "library_id": row["library_id"],
                        "network": row["network"],
                        "target": row["target"],
                        "seed": seed.hex(),
                        "commitment": drawing.commitment(seed),
                        "announced_at": to_db(self.clock.now()),
                    }
                )
            giveaway = self._giveaway(row["event_id"], row["network"], row["target"])
        payload = json.loads(row["payload"])
        text = payload["text"].replace(MARK, giveaway["commitment"])
        image = Path(payload["image"]) if payload.get("image") else None
        post = Post(row["target"], text, image, guid=guid_for(row["key"]))
        return await self.platforms[(row["library_id"], row["network"])].publish(post)

    # -- entries seen by the intake (Telegram) ---------------------------------------

    def on_comment(
        self,
        network: str,
        library_id: str,
        channel: int | str,
        post_id: int | str,
        user_id: int,
        name: str,
        text: str,
        at: datetime,
        chat: int | str,
        message_id: int | str,
    ) -> bool:
        """Keep a comment on an open giveaway's post; False if the post is not one."""
        found = self.db.execute(
            "select p.event_id, p.target from publications p join actions a on a.id = p.action_id "
            "where a.kind = ? and p.network = ? and p.remote_id = ? and p.library_id = ?",
            [ANNOUNCE, network, str(post_id), library_id],
        ).fetchall()
        found = [f for f in found if f[1] == str(channel)] or found[:1]
        if not found:
            return False
        event_id, target = found[0]
        giveaway = self._giveaway(event_id, network, target)
        if giveaway is None or giveaway["drawn_at"]:
            return False  # drawn already: too late to enter
        secret = interactions.library_secret(self.db, library_id)
        person = interactions.pseudonym(secret, network, user_id)
        with self.db.atomic():
            self.db.execute(
                "insert or ignore into giveaway_entries (event_id, network, person, user_id, "
                "name, text, chat, message_id, at, dedup) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [event_id, network, person, str(user_id), name, text[:1000], str(chat),
                 str(message_id), to_db(at), f"{network}:{chat}:{message_id}"],
            )  # fmt: skip
        return True

    # -- the draw ------------------------------------------------------------------------

    async def draw(self, row: dict) -> Published | None:
        """Draw (once), keep the proof, post the results and tell the winners."""
        giveaway = self._giveaway(row["event_id"], row["network"], row["target"])
        if giveaway is None:
            log.warning("%s: the giveaway was never announced here; no draw", row["key"])
            return None
        spec = GiveawaySpec.from_json(json.loads(row["payload"]))
        if not giveaway["drawn_at"]:
            giveaway = await self._make_draw(row, spec, giveaway)
        proof = json.loads(giveaway["proof"])
        names = [
            r["name"] or f"#{r['person'][:6]}"
            for r in self.db["giveaway_winners"].rows_where(
                "event_id = ? and network = ?", [row["event_id"], row["network"]], order_by="place"
            )
        ]
        text = render_frame(
            "giveaway_results",
            row["network"],
            self.config.language,
            title=spec.title,
            winners=names[: spec.winners],
            reserves=names[spec.winners :],
            participants=proof["participants_count"],
            seed=proof["seed"],
            commitment=proof["commitment"],
            list_sha256=proof["participants_sha256"],
            proof_name=Path(giveaway["proof_path"]).name,
            tell=spec.tell_winners,
        )
        platform = self._platform(row)
        published = await platform.say(row["target"], text, guid_for(row["key"]))
        await self._tell_winners(row, spec, proof, published)
        return published

    async def _make_draw(self, row: dict, spec: GiveawaySpec, giveaway: dict) -> dict:
        now = self.clock.now()
        self._announcement(row, spec)  # NotFound (admins are told) if it never went out
        ids, names, replies = await self._eligible(row, spec, giveaway)
        secret = interactions.library_secret(self.db, row["library_id"])
        by_person = {interactions.pseudonym(secret, row["network"], uid): uid for uid in ids}
        seed = bytes.fromhex(giveaway["seed"])
        proof = drawing.make_proof(
            seed,
            list(by_person),
            spec.winners,
            spec.reserve,
            event=row["event_id"],
            network=row["network"],
            title=spec.title,
            conditions=list(spec.conditions),
            drawn_at=to_db(now),
        )
        picked = proof["winners"] + proof["reserves"]
        users = [int(by_person[p]) for p in picked]
        lister = self._lister(row)
        if lister is not None:  # the API named no one yet: ask it for their names
            mentions = await lister.mentions(users)
        else:
            pairs = zip(users, picked, strict=True)
            mentions = {uid: names.get(uid) or f"#{p[:6]}" for uid, p in pairs}
        shown = [mentions[u] for u in users]
        # Names and how to reach the winners are kept apart from the published proof.
        private = {"user_ids": users, "names": shown, "replies": [replies.get(u) for u in users]}
        proof_path = self._write_proof(row, proof)
        with self.db.atomic():
            self.db["giveaways"].update(
                giveaway["id"],
                {
                    "drawn_at": to_db(now),
                    "participants": proof["participants_count"],
                    "proof": json.dumps(proof, ensure_ascii=False),
                    "proof_path": str(proof_path),
                    # Winners' platform ids and where to reply: kept until they are told.
                    "winners_contact": json.dumps(private, ensure_ascii=False),
                },
            )
            for place, (person, name) in enumerate(zip(picked, shown, strict=True), start=1):
                self.db["giveaway_winners"].insert(
                    {
                        "event_id": row["event_id"],
                        "library_id": row["library_id"],
                        "network": row["network"],
                        "place": place,
                        "person": person,
                        "name": name,
                        "reserve": int(place > spec.winners),
                        "drawn_at": to_db(now),
                    }
                )
            # Entrants' platform ids and comments were needed for the draw only.
            self.db.execute(
                "update giveaway_entries set user_id = null, text = null, name = null "
                "where event_id = ? and network = ?",
                [row["event_id"], row["network"]],
            )
        log.info(
            "%s: drawn among %d on %s; proof written to %s",
            row["event_id"], proof["participants_count"], row["network"], proof_path,
        )  # fmt: skip
        if self.notify is not None:
            with messages.use_language(self.config.language):
                said = messages.text(
                    "alerts.giveaway_drawn",
                    title=spec.title,
                    network=networks.title(row["network"], messages.language()),
                    count=proof["participants_count"],
                    proof=proof_path,
                )
            await self.notify(row["library_id"], said)
        return self._giveaway(row["event_id"], row["network"], row["target"])

    def _write_proof(self, row: dict, proof: dict) -> Path:
        """The proof as a JSON file, published as it is; the path is logged."""
        self.proof_dir.mkdir(parents=True, exist_ok=True)
        name = f"{row['event_id'].replace('/', '-')}-{row['network']}-{row['target']}"
        path = self.proof_dir / f"draw-{name.replace('@', '')}.json"
        partial = path.with_suffix(".json.part")
        partial.write_text(json.dumps(proof, ensure_ascii=False, indent=1), "utf-8")
        partial.replace(path)
        return path

    async def _eligible(
        self, row: dict, spec: GiveawaySpec, giveaway: dict
    ) -> tuple[set[int], dict[int, str], dict[int, tuple[str, str]]]:
        """Platform ids of those who met every condition, less the excluded; names, replies."""
        conditions = set(spec.conditions)
        platform = self._platform(row)
        names: dict[int, str] = {}
        replies: dict[int, tuple[str, str]] = {}
        until = self.clock.now()
        lister = self._lister(row)
        if lister is not None:
            post_id = str(self._announcement(row, spec)["remote_id"])
            pools: list[set[int]] = []
            if "comment" in conditions:
                comments = await eligibility.commenters(lister, post_id, int(until.timestamp()))
                pools.append({u for u, texts in comments.items() if self._any_counts(texts, spec)})
            if "like" in conditions:
                pools.append(await lister.likers(post_id))
            if "repost" in conditions:
                pools.append(await lister.likers(post_id, reposts=True))
            ids = set.intersection(*pools)
        else:
            ids = set()
            for entry in self.db["giveaway_entries"].rows_where(
                "event_id = ? and network = ? and at <= ?",
                [row["event_id"], row["network"], to_db(until)],
                order_by="at, id",
            ):
                uid = int(entry["user_id"])
                if self._any_counts([entry["text"] or ""], spec):
                    ids.add(uid)
                    names.setdefault(uid, entry["name"] or "")
                    replies.setdefault(uid, (entry["chat"], entry["message_id"]))
        if "member" in conditions:
            ids &= await platform.members_among(row["target"], ids)
        return ids - self._excluded(row, spec, ids), names, replies

    def _any_counts(self, texts: list[str], spec: GiveawaySpec) -> bool:
        return any(eligibility.comment_counts(t, spec.comment_word, spec.answers) for t in texts)

    def _announcement(self, row: dict, spec: GiveawaySpec) -> dict:
        found = next(
            self.db["publications"].rows_where(
                "action_id in (select id from actions where key = ?)", [spec.announce_key]
            ),
            None,
        )
        if found is None:
            what = f"the announcement of {row['event_id']} was not published"
            raise NotFound(what, row["network"])
        return found

    def _excluded(self, row: dict, spec: GiveawaySpec, ids: set[int]) -> set[int]:
        """Staff (the library's admins and the network's staff ids) and recent winners."""
        library = self.config.library(row["library_id"])
        out: set[int] = set()
        if spec.exclude_staff and library is not None:
            staff = getattr(library.settings(row["network"]), "staff", ())
            out |= set(admins_on(library, row["network"])) | set(staff)
        days = spec.exclude_recent_days
        if days:
            since = to_db(self.clock.now() - timedelta(days=days))
            recent = {
                r["person"]
                for r in self.db["giveaway_winners"].rows_where(
                    "library_id = ? and network = ? and reserve = 0 and drawn_at >= ? "
                    "and event_id != ?",
                    [row["library_id"], row["network"], since, row["event_id"]],
                )
            }
            secret = interactions.library_secret(self.db, row["library_id"])
            out |= {u for u in ids if interactions.pseudonym(secret, row["network"], u) in recent}
        return out & ids

    async def _tell_winners(
        self, row: dict, spec: GiveawaySpec, proof: dict, published: Published
    ) -> None:
        """A reply (comment) or a private message to each winner: come or write to us.

        A private message reaches only who allowed it (VK: wrote to the community first,
        else error 901; Telegram: started the bot, else 403): a winner it cannot reach is
        told in a reply instead (VK: a comment under the results post; Telegram: a reply to
        their comment), and the log says so. Never a request for a phone, an address or a
        passport: the library is written to or visited, and hands the prize over there.
        """
        giveaway = self._giveaway(row["event_id"], row["network"], row["target"])
        if giveaway is None or not giveaway.get("winners_contact"):
            return  # told already (a retried results post): not told twice
        private = json.loads(giveaway["winners_contact"])
        # Erased before telling: a winner told twice is worse than one the admins must call
        # (a failure to tell is reported to them below).
        self.db["giveaways"].update(giveaway["id"], {"winners_contact": None})
        count = spec.winners
        users, names = private["user_ids"][:count], private["names"][:count]
        replies = private["replies"][:count]
        lister = self._lister(row)
        if lister is not None and spec.tell_winners != "message":
            if users:  # one comment under the results post naming every winner
                comment = lister.comment(
                    row["target"], published.remote_id, self._winner_text(row, spec, names)
                )
                await self._try(row, spec, comment)
            return
        for place, (uid, name, reply) in enumerate(zip(users, names, replies, strict=True), 1):
            await self._try(
                row, spec, self._tell_one(row, spec, published, place, uid, name, reply)
            )

    async def _try(self, row: dict, spec: GiveawaySpec, telling: Awaitable[None]) -> None:
        try:
            await telling
        except PlatformError as exc:  # the results are out; a winner not told is for admins
            log.warning("%s: winners not told on %s: %s", row["event_id"], row["network"], exc)
            if self.notify is not None:
                await self.notify(row["library_id"], f"🎁 «{spec.title}»: {exc}")

    def _winner_text(self, row: dict, spec: GiveawaySpec, names: list[str]) -> str:
        return render_frame(
            "giveaway_winner", row["network"], self.config.language,
            title=spec.title, names=names,
        ).strip()  # fmt: skip

    async def _tell_one(
        self,
        row: dict,
        spec: GiveawaySpec,
        published: Published,
        place: int,
        uid: int,
        name: str,
        reply: tuple[str, str] | list[str] | None,
    ) -> None:
        """One winner in private (``tell_winners = "message"``), else where they entered:
        a reply to their comment, or (entrants listed by the API, whose comments are not
        kept) a comment under the results post."""
        text = self._winner_text(row, spec, [name])
        platform = self._platform(row)
        key = f"{row['key']}:{uid}"
        if spec.tell_winners == "message":
            try:
                await platform.reply(ReplyTo(chat=uid), text, key, formatted=True)
                return
            except (RetryLater, AmbiguousOutcome):
                raise
            except PlatformError as exc:  # not allowed to write to them: a reply instead
                log.warning(
                    "%s: winner No. %d on %s cannot get a private message (%s); "
                    "told in a reply instead",
                    row["event_id"], place, row["network"], exc,
                )  # fmt: skip
        lister = self._lister(row)
        if reply:
            where = ReplyTo(chat=reply[0], message=int(reply[1]))
            await platform.reply(where, text, key, formatted=True)
        elif lister is not None:
            await lister.comment(row["target"], published.remote_id, text)
        else:
            await platform.reply(ReplyTo(chat=uid), text, key, formatted=True)


def forget_names(db: sqlite_utils.Database, library_id: str, before: datetime) -> int:
    """Winners' names of draws before ``before`` are erased (``keep_names``)."""
    with db.atomic():
        cursor = db.execute(
            "update giveaway_winners set name = null where library_id = ? and drawn_at < ? "
            "and name is not null",
            [library_id, to_db(before)],
        )
    return cursor.rowcount
