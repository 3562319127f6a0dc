"""VK intake: what readers do in a community, from its Bots Long Poll.

One ``VkIntake`` per community (the long poll needs the community token). Each check
(``a_check``) brings events numbered by ``ts``; they are stored as interactions, then the
``ts`` is saved, so a restart goes on where the last handled batch ended. A replayed batch
counts once: every row's ``dedup`` is VK's id of the act (the comment id, the event_id).
Readers' ids never reach the database, not even inside ``dedup``: where the act itself has
no id, the reader's pseudonym stands in.

Recorded: comments and their edits, likes and their removal, poll votes, joins, leaves and
messages to the community. Everything else is skipped, as are events that do not parse.

Comments, chat messages and votes go to the quiz (``AnswerBook``) first; a callback button
press (``message_event``) is only ever a quiz answer, and the reader gets a snackbar. API
calls go through the community token's client, shared with the community's adapter (one
rate limit per token); their errors are translated as the adapter's are. The checks
themselves are plain HTTP on the event loop (httpx), one client per community: 1,000
communities wait on 1,000 sockets, not 1,000 threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import ssl
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
import requests
import sqlite_utils
from vk_api.exceptions import VkApiError

from bot.admin.model import Inbound, SentFile
from bot.alerts import Alerts
from bot.contest.entries import ContestBook
from bot.intake.vk_names import VkNames
from bot.intake.waits import in_daemon
from bot.platforms.vk import is_chat
from bot.platforms.vk_client import token_client, translate
from bot.quiz import buttons
from bot.quiz.answers import AnswerBook, in_batch
from core.clock import Clock, SystemClock
from core.errors import AuthFailed, Forbidden, PlatformError, RetryLater
from core.interactions import get_offset, library_secret, pseudonym, record, set_offset
from core.networks import network

if TYPE_CHECKING:
    from bot.admin.desk import AdminDesk

log = logging.getLogger(__name__)

NETWORK = "vk"
MAX_BACKOFF = 30.0


class VkIntake:
    """Reads one community's Bots Long Poll and records what its readers did."""

    network = NETWORK
    backoff = 1.0  # seconds before the first retry after an error; doubles up to MAX_BACKOFF

    def __init__(
        self,
        db: sqlite_utils.Database,
        library_id: str,
        group_id: int,
        community_token: str,
        api_url: str,
        clock: Clock | None = None,
        wait: int = 25,
        quiz: AnswerBook | None = None,
        *,
        contest: ContestBook | None = None,
        alerts: Alerts | None = None,
        token_env: str = "",
        admin: AdminDesk | None = None,
    ) -> None:
        self.db = db
        self.admin = admin  # the admin chat: admins' messages to the community go there
        self._admin_inbox: list[Inbound] = []  # handed over once their check is stored
        # Told when VK refuses the community token (in ``token_env``), and of new wall posts
        # (a post handed to the admins is linked to the plan once they publish it).
        self.alerts = alerts
        self.token_env = token_env
        self._refused = False
        self.quiz = quiz  # takes answers to open quiz questions before anything else
        self.contest = contest  # contest entries (comments on a call post, messages)
        # Callback presses to answer after the batch, per reader (``_answer_presses``).
        self._presses: dict[int, list[dict[str, Any]]] = {}
        self.library_id = library_id
        self.group_id = int(group_id)
        self.clock = clock or SystemClock()
        self.wait = wait
        self.source = f"vk:{self.group_id}"
        # API calls go through the token's one client, shared with the community's adapter:
        # one limiter per token, whoever sends.
        self._client = token_client(
            community_token, api_url, network(NETWORK).limits.requests_per_second
        )
        self._server: str | None = None
        self._key: str | None = None
        self._ts: int | None = None
        # The checks are no API calls (VK does not count them): their own client, on the loop.
        self._checks: httpx.AsyncClient | None = None
        self._saved_ts: int | None = None  # the ts the database holds, as last read or written
        self._secret: bytes | None = None
        # Which post a poll is attached to, learnt from wall_post_new (votes name only the poll).
        self._poll_posts: dict[tuple[int, int], int] = {}
        self._names = VkNames()
        # The first check waits only part of ``wait``, the part set by the community id:
        # then the readers of many communities do not all return together every ``wait``
        # seconds (and do not all take their worker threads back at once).
        self._first_check = True

    def mention(self, user_id: int) -> str:
        """A reader as a mention: by name once ``users.get`` told it, else ``id…``."""
        return self._names.mention(user_id)

    async def poll_once(self) -> int:
        """One long-poll check (waiting up to ``wait`` s); returns the events it brought."""
        for _ in range(3):  # a retired key or an outdated ts costs one more check
            if self._ts is None:  # after a restart: where the last handled batch ended
                self._ts = self._saved_ts = get_offset(self.db, self.source)
            if self._server is None:
                await self._fetch_server()
            wait = self._spread() if self._first_check else self.wait
            answer = await self._check(self._server, self._key, self._ts, wait)
            self._first_check = False
            if "failed" in answer:
                await self._recover(answer)
                continue
            updates = answer.get("updates") or []
            if self.quiz is not None and self.quiz.waiting(NETWORK):
                await self._learn_names(updates)
            ts = int(answer["ts"])
            # One transaction per check (a quiz is many rows at once); if it fails, the
            # quiz forgets what the check marked, and the same ts brings the events again.
            self._admin_inbox = []  # a check read again brings its admin messages again
            if not updates and ts == self._ts == self._saved_ts:
                # Nothing came and the database already says so: nothing to write (1,000
                # quiet communities would write 40 transactions a second on the loop).
                return 0
            with in_batch(self.quiz, (NETWORK, self.source)), self.db.atomic():
                for position, event in enumerate(updates):
                    if self.quiz is not None:
                        self.quiz.arriving(self._ts + position)  # judged by when it first came
                    self._handle(event, self._ts + position)
                if self.quiz is not None:
                    self.quiz.flush()
                set_offset(self.db, self.source, ts, self.clock.now())
            self._ts = self._saved_ts = ts
            await self._answer_presses()
            self._serve_admins()
            return len(updates)
        return 0

    async def run(self, stop: asyncio.Event) -> None:
        """Check again and again until ``stop`` is set; errors are logged and retried."""
        try:
            await self._run(stop)
        finally:
            if self._checks is not None:
                await self._checks.aclose()
                self._checks = None

    async def _run(self, stop: asyncio.Event) -> None:
        delay = self.backoff
        while not stop.is_set():
            check = asyncio.ensure_future(self.poll_once())
            stopping = asyncio.ensure_future(stop.wait())
            try:
                await asyncio.wait({check, stopping}, return_when=asyncio.FIRST_COMPLETED)
            except asyncio.CancelledError:
                check.cancel()
                raise
            finally:
                stopping.cancel()
            if not check.done():
                # Stopped mid-check: the request is dropped, nothing from it is handled,
                # and the saved ts still points before it.
                check.cancel()
                await asyncio.gather(check, return_exceptions=True)
                break
            try:
                check.result()
                delay = self.backoff
                if self._refused and self.alerts is not None:  # the token works again
                    self._refused = False
                    self.alerts.token_works(self.library_id, NETWORK, self.token_env)
                continue
            except PlatformError as exc:  # an API call VK refused (see ``_method``)
                if isinstance(exc, (AuthFailed, Forbidden)) and self.alerts is not None:
                    self._refused = True
                    forbidden = isinstance(exc, Forbidden)
                    await self.alerts.token_refused(
                        self.library_id, NETWORK, self.token_env, forbidden
                    )
                if isinstance(exc, RetryLater):
                    log.warning("VK %s long poll: %s; retrying", self.group_id, exc)
                else:
                    log.error("VK %s long poll: %s", self.group_id, exc)
                    delay = MAX_BACKOFF
                self._server = None
            except (httpx.HTTPError, requests.RequestException, ValueError, KeyError) as exc:
                log.warning("VK %s long poll: %s; retrying", self.group_id, type(exc).__name__)
                self._server = None
            except Exception:
                log.exception("VK %s long poll: unexpected error; retrying", self.group_id)
                self._server = None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
            delay = min(delay * 2, MAX_BACKOFF)

    # -- the long poll ---------------------------------------------------------

    async def _fetch_server(self, take_ts: bool = False) -> None:
        """Server and key from groups.getLongPollServer; its ts too if asked or we have none."""
        answer = await self._method("groups.getLongPollServer", {"group_id": self.group_id})
        self._server, self._key = str(answer["server"]), str(answer["key"])
        if take_ts or self._ts is None:
            self._ts = int(answer["ts"])

    async def _method(self, name: str, params: dict[str, Any]) -> Any:
        """One API call with the community token, in a daemon thread; errors translated."""
        try:
            return await in_daemon(self._client.main.method, name, params)
        except (VkApiError, requests.RequestException) as exc:
            raise translate(exc, name, sending=False) from exc

    def _spread(self) -> int:
        """This community's share of ``wait``, 0 to ``wait`` - 1 s: the same at every start,
        spread evenly over many communities (a multiplicative hash of the id)."""
        share = (self.group_id * 2654435761) % 2**32 / 2**32
        return int(share * self.wait)

    def _http(self) -> httpx.AsyncClient:
        """This reader's client for checks, opened on first use (closed when ``run`` ends)."""
        if self._checks is None or self._checks.is_closed:
            self._checks = _long_poll_client()
        return self._checks

    async def _check(
        self, server: str | None, key: str | None, ts: int | None, wait: int | None = None
    ) -> dict[str, Any]:
        """The a_check request itself; ``wait``: ``self.wait`` if None."""
        wait = self.wait if wait is None else wait
        response = await self._http().get(
            str(server),
            params={"act": "a_check", "key": key, "ts": ts, "wait": wait},
            timeout=wait + 10.0,
        )
        response.raise_for_status()
        answer = response.json()
        if not isinstance(answer, dict):
            raise ValueError("long poll answer is not an object")
        return answer

    async def _recover(self, answer: dict[str, Any]) -> None:
        """VK's three ways of saying a check failed, and what each asks of us."""
        failed = answer.get("failed")
        if failed == 1 and "ts" in answer:
            log.warning("VK %s long poll: history outdated, some events lost", self.group_id)
            self._ts = int(answer["ts"])
            set_offset(self.db, self.source, self._ts, self.clock.now())
            self._saved_ts = self._ts
        elif failed == 3:
            log.warning("VK %s long poll: key and history lost, some events lost", self.group_id)
            await self._fetch_server(take_ts=True)
            set_offset(self.db, self.source, int(self._ts or 0), self.clock.now())
            self._saved_ts = int(self._ts or 0)
        else:  # 2: the key expired; the ts still holds
            await self._fetch_server()

    # -- events ----------------------------------------------------------------

    def _handle(self, event: Any, position: int) -> None:
        """Record one event; unknown types and malformed events are skipped."""
        kind = event.get("type") if isinstance(event, dict) else None
        handler = getattr(self, f"_on_{kind}", None) if isinstance(kind, str) else None
        if handler is None:
            return
        # Without VK's event_id, the event's place in the stream identifies it.
        event_key = str(event.get("event_id") or f"ts{position}")
        try:
            if int(event.get("group_id", self.group_id)) != self.group_id:
                return
            handler(event["object"], event_key)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # The exception's text may quote the event: its type is enough to go on.
            log.info(
                "VK %s: skipped a malformed %s event (%s)", self.group_id, kind, type(exc).__name__
            )

    def _on_wall_post_new(self, obj: dict, event_key: str) -> None:
        """A post of ours went out: remember its polls, as votes name only the poll; a post
        the admins published by hand is linked to the plan (``Alerts.hand_over``)."""
        if self.alerts is not None and obj.get("post_type", "post") == "post":
            text = str(obj.get("text") or "")
            date = obj.get("date")
            posted = datetime.fromtimestamp(int(date), UTC) if date else self.clock.now()
            guid = self.alerts.link_wall_post(
                self.library_id, self.group_id, int(obj["id"]), text, posted
            )
            if guid:
                log.info("VK %s: wall post %s is the handed-over post", self.group_id, obj["id"])
        for attachment in obj.get("attachments") or []:
            poll = attachment.get("poll") if attachment.get("type") == "poll" else None
            if isinstance(poll, dict):
                self._poll_posts[(int(poll["owner_id"]), int(poll["id"]))] = int(obj["id"])

    def _on_wall_reply_new(self, obj: dict, event_key: str) -> None:
        """A comment: its text is kept for comment quizzes, never the author's name."""
        owner, comment_id = int(obj["owner_id"]), int(obj["id"])
        self._comment(obj, f"vk:comment:{owner}:{comment_id}", {})

    def _on_wall_reply_edit(self, obj: dict, event_key: str) -> None:
        """An edited comment: one more row, marked as an edit."""
        owner, comment_id = int(obj["owner_id"]), int(obj["id"])
        if event_key.startswith("ts"):  # no event_id: tell edits apart by their text
            event_key = hashlib.sha256(str(obj.get("text", "")).encode()).hexdigest()[:16]
        self._comment(obj, f"vk:comment-edit:{owner}:{comment_id}:{event_key}", {"edit": True})

    def _comment(self, obj: dict, dedup: str, detail: dict[str, Any]) -> None:
        author = int(obj["from_id"])
        if author <= 0:  # the community's own comments are not readers' acts
            return
        text = str(obj.get("text") or "")
        if self.quiz is not None:
            at = datetime.fromtimestamp(int(obj["date"]), UTC) if obj.get("date") else None
            verdict = self.quiz.on_text(
                NETWORK,
                str(self.group_id),
                str(obj["post_id"]),
                author,
                self._names.mention(author),
                text,
                at or self.clock.now(),
                "comment",
                original=at is not None and not detail.get("edit"),
            )
            if verdict is not None:
                return
        if self.contest is not None:  # a comment on a contest's call post is an entry
            self.contest.vk_comment(self, obj)
        detail = {"comment_id": int(obj["id"]), "length": len(text), "text": text, **detail}
        if obj.get("reply_to_comment"):
            detail["reply_to_comment"] = int(obj["reply_to_comment"])
        self._record("comment", str(obj["post_id"]), author, dedup, detail, obj.get("date"))

    def _on_like_add(self, obj: dict, event_key: str) -> None:
        """A like of one of the community's posts (likes of comments, photos: skipped)."""
        self._like(obj, "like", event_key, {})

    def _on_like_remove(self, obj: dict, event_key: str) -> None:
        """A like taken back: its own row, so totals can subtract it."""
        self._like(obj, "unlike", event_key, {"removed": True})

    def _like(self, obj: dict, verb: str, event_key: str, detail: dict[str, Any]) -> None:
        if obj.get("object_type") != "post" or int(obj["object_owner_id"]) != -self.group_id:
            return
        post_id, liker = str(int(obj["object_id"])), int(obj["liker_id"])
        dedup = f"vk:{verb}:{-self.group_id}:{post_id}:{self._person(liker)}:{event_key}"
        self._record("like", post_id, liker, dedup, detail, None)

    def _on_poll_vote_new(self, obj: dict, event_key: str) -> None:
        """A vote for one option; linked to the post when we saw the poll go out."""
        owner, poll_id, option_id = int(obj["owner_id"]), int(obj["poll_id"]), int(obj["option_id"])
        voter = int(obj["user_id"])
        if self.quiz is not None:
            verdict = self.quiz.on_poll_answer(
                NETWORK, str(poll_id), voter, self._names.mention(voter), [option_id]
            )
            if verdict is not None:
                return
        post_id = self._poll_posts.get((owner, poll_id))
        remote_id = str(post_id) if post_id is not None else f"poll{owner}_{poll_id}"
        dedup = f"vk:vote:{owner}:{poll_id}:{option_id}:{self._person(voter)}:{event_key}"
        detail = {"poll_id": poll_id, "option_id": option_id, "owner_id": owner}
        self._record("vote", remote_id, voter, dedup, detail, None)

    def _on_group_join(self, obj: dict, event_key: str) -> None:
        """A reader joined the community (or was approved, or accepted an invitation)."""
        user = int(obj["user_id"])
        detail = {"join_type": str(obj.get("join_type") or "join")}
        self._record("join", "", user, self._member_dedup("join", user, event_key), detail, None)

    def _on_group_leave(self, obj: dict, event_key: str) -> None:
        """A reader left the community (``self`` 0: an admin removed them)."""
        user = int(obj["user_id"])
        detail = {"self": bool(obj.get("self", 1))}
        self._record("leave", "", user, self._member_dedup("leave", user, event_key), detail, None)

    def _member_dedup(self, verb: str, user: int, event_key: str) -> str:
        return f"vk:{verb}:{self.group_id}:{self._person(user)}:{event_key}"

    def _on_message_new(self, obj: dict, event_key: str) -> None:
        """A reader wrote to the community: the text and any button payload."""
        message = obj.get("message", obj)  # older API versions: flat
        author = int(message["from_id"])
        if author <= 0 or message.get("out"):
            return
        if self._admin_message(message, author):
            return  # the admin chat's, not a reader's act
        detail: dict[str, Any] = {"message_id": int(message.get("id") or 0)}
        detail["text"] = str(message.get("text") or "")
        peer = int(message.get("peer_id") or author)
        if self.quiz is not None and is_chat(str(peer)):
            date = message.get("date")
            verdict = self.quiz.on_text(
                NETWORK,
                str(peer),
                None,
                author,
                self._names.mention(author),
                detail["text"],
                datetime.fromtimestamp(int(date), UTC) if date else self.clock.now(),
                "message",
                original=bool(date),
            )
            if verdict is not None:
                return
        if self.contest is not None and not is_chat(str(peer)):  # an entry sent to the community
            self.contest.vk_message(self, message)
        if message.get("payload"):
            detail["payload"] = message["payload"]
        if detail["message_id"]:
            dedup = f"vk:message:{self.group_id}:{detail['message_id']}"
        else:  # a chat message has no id of its own: the event's id stands in
            dedup = f"vk:message:{self.group_id}:{self._person(author)}:{event_key}"
        self._record("message", "", author, dedup, detail, message.get("date"))

    # -- the admin chat ----------------------------------------------------------

    def _admin_message(self, message: dict, author: int) -> bool:
        """An admin's message in their own dialog with the community: kept for the admin
        chat (True), with a document attached if any."""
        peer = int(message.get("peer_id") or author)
        scope = (self.library_id,)  # an admin of another community's library is none here
        if (
            self.admin is None
            or is_chat(str(peer))
            or not self.admin.is_admin(NETWORK, author, scope)
        ):
            return False
        sent = None
        for attachment in message.get("attachments") or []:
            doc = attachment.get("doc") if attachment.get("type") == "doc" else None
            if isinstance(doc, dict) and doc.get("url"):
                name, ext = str(doc.get("title") or ""), str(doc.get("ext") or "")
                if ext and not name.lower().endswith(f".{ext.lower()}"):
                    name = f"{name}.{ext}"
                sent = SentFile(name, str(doc["url"]), int(doc.get("size") or 0) or None)
                break
        text = str(message.get("text") or "")
        if sent is None and not text:
            return False  # a photo or a video: what the other paths make of it
        self._admin_inbox.append(Inbound(NETWORK, author, text, sent, libraries=scope))
        return True

    def _admin_press(self, obj: dict) -> bool:
        """A press on an admin-chat button: kept for the admin chat if an admin's (True)."""
        payload = obj.get("payload")
        if isinstance(payload, str):
            try:
                payload = json.loads(payload)
            except ValueError:
                return False
        data = payload.get("a") if isinstance(payload, dict) else None
        if self.admin is None or not self.admin.is_press(data):
            return False
        user = int(obj["user_id"])
        scope = (self.library_id,)
        if self.admin.is_admin(NETWORK, user, scope):
            peer = int(obj.get("peer_id") or user)
            press = Inbound(
                NETWORK, user, press=data, press_id=str(obj["event_id"]), peer_id=peer,
                libraries=scope,
            )  # fmt: skip
            self._admin_inbox.append(press)
        return True  # anyone else's press on such a button: nothing

    def _serve_admins(self) -> None:
        """Hand the stored check's admin messages to the admin chat."""
        inbox, self._admin_inbox = self._admin_inbox, []
        if inbox and self.admin is not None:
            chat = self.admin.chat(NETWORK, self.library_id, self._method)
            self.admin.serve([(inbound, chat) for inbound in inbox])

    # -- quizzes ---------------------------------------------------------------

    async def _learn_names(self, updates: list[dict[str, Any]]) -> None:
        """Players' names for the standings; without them, players are named by id."""
        missing = self._names.unknown(updates)
        if not missing:
            return
        try:
            ids = ",".join(str(user) for user in missing)
            people = await self._method("users.get", {"user_ids": ids})
        except (PlatformError, ValueError) as exc:
            log.warning("VK %s: users.get failed (%s); players named by id", self.group_id, exc)
            people = []
        self._names.learn(missing, people)

    def _on_message_event(self, obj: dict, event_key: str) -> None:
        """A callback button pressed: a quiz answer; the reader gets a snackbar."""
        if self._admin_press(obj):
            return
        if self.quiz is None:
            return
        payload = obj.get("payload")
        if isinstance(payload, str):  # VK sends the object; be lenient with a JSON string
            try:
                payload = json.loads(payload)
            except ValueError:
                payload = None
        data = payload.get("a") if isinstance(payload, dict) else None
        user = int(obj["user_id"])
        _, words = self.quiz.on_button(
            NETWORK, self.library_id, user, self._names.mention(user), data
        )
        replies = self._presses.setdefault(user, [])
        if len(replies) < buttons.REPLIES_PER_READER:
            replies.append(
                {
                    "event_id": str(obj["event_id"]),
                    "user_id": user,
                    "peer_id": int(obj["peer_id"]),
                    "event_data": json.dumps(
                        {"type": "show_snackbar", "text": words[:90]}, ensure_ascii=False
                    ),
                }
            )

    async def _answer_presses(self) -> None:
        """A snackbar for at most ``buttons.REPLIES_PER_READER`` presses of a reader per
        check: each is a request, at most 20 a second, and a reader pressing a thousand
        times must not hold the other players' presses back by a minute."""
        presses, self._presses = self._presses, {}
        for params in (press for reader in presses.values() for press in reader):
            try:
                await self._method("messages.sendMessageEventAnswer", params)
            except PlatformError as exc:  # the answer is stored
                log.info("VK %s: press not answered (%s)", self.group_id, type(exc).__name__)

    # -- storage ---------------------------------------------------------------

    def _person(self, user_id: int) -> str:
        if self._secret is None:
            self._secret = library_secret(self.db, self.library_id)
        return pseudonym(self._secret, NETWORK, user_id)

    def _record(
        self,
        kind: str,
        remote_id: str,
        user_id: int,
        dedup: str,
        detail: dict[str, Any],
        date: Any,
    ) -> None:
        at = datetime.fromtimestamp(int(date), UTC) if date else self.clock.now()
        record(
            self.db,
            library_id=self.library_id,
            network=NETWORK,
            target=str(self.group_id),
            remote_id=remote_id,
            kind=kind,
            user_id=user_id,
            at=at,
            dedup=dedup,
            detail=detail,
        )


_TLS: list[ssl.SSLContext] = []  # one context for every reader's client: each costs ~10 ms


def _long_poll_client() -> httpx.AsyncClient:
    """A client for one community's checks: its own one-connection pool (a pool shared by
    1,000 readers spends its time matching requests to connections), the TLS context shared."""
    if not _TLS:
        _TLS.append(httpx.create_ssl_context())  # as httpx makes it: certifi's, or $SSL_CERT_FILE
    return httpx.AsyncClient(verify=_TLS[0])
