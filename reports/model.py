"""What a report holds: typed figures, and the engagement rates computed from them.

A figure a network does not show to a bot (views, on some) is None, never 0;
a rate that needs a None figure is None too. ``reports.figures`` fills these
from the database; the writers (xlsx, html, text) only lay them out.

Rates per follower count only posts that followers see: posts in a channel or on a
community wall, not the bot's messages in a chat or group (a quiz's). Every total of a
rate (a library's networks, a network of libraries) lies between its parts: ERpost and
ERR are means over posts of each post's value, ERview, ER and ERday divide sums.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from core import formulas
from core.config import ReportRules
from core.networks import names, network
from reports.period import Period

# The counters summed over posts; "reactions" are likes where a network calls them so.
COUNTERS = ("views", "likes", "reactions", "reposts", "comments", "poll_votes")


def report_networks() -> tuple[str, ...]:
    """The registered networks in the order a report's columns list them."""
    return tuple(sorted(names(), key=lambda name: network(name).report_order))


def channel_networks() -> tuple[str, ...]:
    """The networks whose channel posts get their own ER and ERR (in report order)."""
    return tuple(n for n in report_networks() if network(n).capabilities.channel_rates)


@dataclass
class Tally:
    """Counters summed over posts, keeping apart posts where a figure was not shown."""

    posts: int = 0
    sums: dict[str, float] = field(default_factory=dict)
    known: Counter = field(default_factory=Counter)  # metric → posts that showed it
    engagement: float = 0.0
    engaged: int = 0  # posts with at least one engagement figure shown
    # Only posts whose views are shown enter ERview, so neither side is partial.
    viewed_engagement: float = 0.0
    viewed_views: float = 0.0
    viewed: int = 0
    # Posts followers see (in a channel or on a wall, not in a chat) with engagement shown,
    # and those with views shown: what the rates per follower are made of.
    rated: int = 0
    rated_engagement: float = 0.0
    seen: int = 0
    seen_views: float = 0.0
    # Per-follower sums, set by ``per_follower`` once the followers are known. They add
    # up across networks and libraries, so a total rate is a mean of its posts' rates.
    er_post_sum: float = 0.0  # Σ engagement of a post ÷ followers × 100
    er_posts: int = 0
    err_sum: float = 0.0  # Σ views of a post ÷ followers × 100
    err_posts: int = 0
    day_engagement: float = 0.0  # engagement of the rated posts where followers are known
    day_followers: float = 0.0  # their followers

    def per_follower(self, followers: float | None) -> None:
        """Set the per-follower sums of these posts, all of one network of one library.

        Without followers (never measured) the posts have no rate per follower: the sums
        stay 0, and the network's rates are None.
        """
        for name in SUMMED[4:]:
            setattr(self, name, 0)
        if not followers:
            return
        if self.rated:
            self.er_post_sum = formulas.er_follower(self.rated_engagement, followers)
            self.er_posts = self.rated
            self.day_engagement, self.day_followers = self.rated_engagement, float(followers)
        if self.seen:
            self.err_sum = formulas.er_follower(self.seen_views, followers)
            self.err_posts = self.seen

    def merge(self, other: Tally) -> None:
        """Add another tally into this one."""
        self.posts += other.posts
        for name, value in other.sums.items():
            self.sums[name] = self.sums.get(name, 0.0) + value
        self.known.update(other.known)
        self.engagement += other.engagement
        self.engaged += other.engaged
        self.viewed_engagement += other.viewed_engagement
        self.viewed_views += other.viewed_views
        self.viewed += other.viewed
        for name in SUMMED:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def value(self, name: str) -> float | None:
        """The sum of a counter, or None when no post showed it."""
        if name == "engagement":
            return self.engagement if self.engaged else None
        return self.sums.get(name) if self.known[name] else None


# The fields ``Tally.merge`` adds up besides the counters; from the fifth on, the sums
# ``Tally.per_follower`` sets.
SUMMED = ("rated", "rated_engagement", "seen", "seen_views", "er_post_sum", "er_posts")
SUMMED += ("err_sum", "err_posts", "day_engagement", "day_followers")


@dataclass(frozen=True)
class Rates:
    """Engagement rates of a period, in per cent (None: not computable)."""

    er_post: float | None
    er_view: float | None
    er_day: float | None
    er_channel: float | None  # (reposts + reactions + comments) / views, channel_rates posts
    err: float | None  # views / subscribers, mean over those networks' channel posts


def rates(tally: Tally, days: int, channel: Tally | None = None) -> Rates:
    """The rates of DOMAIN.md from a tally whose ``per_follower`` sums are set.

    ERpost and ERR: the mean over posts of each post's value; ERview and ER: engagement
    of the posts with views ÷ their views; ERday: engagement ÷ days ÷ followers, summed
    over the networks whose followers are known. Each total lies between its parts.
    ``channel``: the posts of the networks with ``channel_rates``, for ER and ERR.
    """
    er_post = tally.er_post_sum / tally.er_posts if tally.er_posts else None
    er_view = (
        formulas.er_view(tally.viewed_engagement, tally.viewed_views) if tally.viewed else None
    )
    er_day = (
        formulas.er_follower(tally.day_engagement / days, tally.day_followers)
        if tally.er_posts
        else None
    )
    er_channel = err = None
    if channel is not None and channel.viewed:
        er_channel = formulas.er_view(channel.viewed_engagement, channel.viewed_views)
    if channel is not None and channel.err_posts:
        err = channel.err_sum / channel.err_posts
    return Rates(er_post, er_view, er_day, er_channel, err)


@dataclass(frozen=True)
class Library:
    """A library as the database knows it."""

    id: str
    name: str
    timezone: str  # IANA zone: its local days are the report's days


@dataclass(slots=True)
class EventRow:
    """One online event (one occurrence) on one network, with its posts' figures."""

    library_id: str
    library: str
    event_id: str
    kind: str
    title: str
    network: str
    at: datetime  # local date and time of the occurrence (aware, library zone)
    url: str = ""
    posts: int = 0
    reminders: int = 0
    figures: dict[str, float | None] = field(default_factory=dict)
    participations: int = 0  # acts, the anonymous ones included
    people: int = 0
    answers: int = 0
    followers: float | None = None
    deleted: bool = False
    occurrence: str = ""  # the occurrence's planned time (UTC text): one event across networks
    # likes + reactions + reposts + comments over what the network shows (computed as
    # ``core.formulas.engagement_sql`` keeps it), not recomputed for every column and chart.
    engagement: float | None = None
    # Acts whose authors the network does not name (votes in an anonymous poll, anonymous
    # reaction totals): counted from its counters, in ``participations``, not in ``people``.
    anonymous: int = 0
    chat: bool = False  # every post of the row is a message in a chat or group
    rated: int = 0  # posts followers see (not chat messages) with engagement shown
    rated_engagement: float | None = None  # their engagement

    # ``at`` as the naive wall-clock time a spreadsheet shows, made once for every table.
    wall: datetime = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.wall = self.at.replace(tzinfo=None)

    @property
    def er_view(self) -> float | None:
        """Engagement / views × 100 % (None where views are not shown)."""
        return formulas.er_view(self.engagement, self.figures.get("views"))

    @property
    def er_post(self) -> float | None:
        """Mean over the posts followers see of engagement / followers × 100 %."""
        if self.rated_engagement is None or not self.rated:
            return None
        return formulas.er_follower(self.rated_engagement / self.rated, self.followers)


@dataclass(frozen=True)
class Winner:
    """A quiz winner; ``name`` is filled only with --with-names."""

    title: str
    at: datetime  # local time of the event
    event_id: str
    network: str
    place: int
    person: str
    name: str | None
    points: float
    correct: int
    time_ms: int | None


@dataclass(frozen=True)
class QuestionFigures:
    """Per-question figures of a quiz: players, answers and the share answered right."""

    title: str
    at: datetime  # local time of the event
    event_id: str
    network: str
    number: int
    text: str
    mode: str
    players: int | None
    answers: int | None
    correct_share: float | None  # per cent
    source: str  # "answers": from each player's answer; "poll": anonymous poll totals


@dataclass(frozen=True)
class PollOption:
    """Votes for one option of a poll on one network (None: not shown)."""

    title: str
    at: datetime  # local time of the event
    event_id: str
    network: str
    number: int
    text: str
    votes: float | None


@dataclass(frozen=True)
class Place:
    """A contest's winning entry: its place, number and author (the name only with names)."""

    place: int
    number: int
    person: str  # the pseudonym, shortened
    name: str | None


@dataclass(frozen=True)
class ContestRow:
    """A contest on one network: entries, votes, entrants and the winners' places."""

    title: str
    at: datetime  # local time of the event (its call post)
    event_id: str
    network: str
    entries: int
    approved: int
    votes: int | None  # None until the votes are counted
    entrants: int  # distinct people
    winners: tuple[Place, ...] = ()


@dataclass(frozen=True)
class GiveawayRow:
    """A giveaway on one network: its draw (None while not drawn), commitment and proof."""

    title: str
    at: datetime  # local time of the event (its announcement)
    event_id: str
    network: str
    drawn_at: datetime | None  # local time of the draw
    participants: int | None  # those who met the conditions, as the draw counted them
    winners: int
    reserves: int
    commitments: tuple[str, ...]  # one a draw (a network may draw in several channels)
    proofs: tuple[str, ...]  # the proof files' names


@dataclass(frozen=True)
class SixNK:
    """The online part of the 6-НК form, with the rules that produced it."""

    events: int
    participations: int
    views_added: float | None  # views counted as visits (None: the rule is off)
    rules: ReportRules

    @property
    def visits(self) -> int:
        """Remote visits: participations, plus views when the rules say so."""
        return self.participations + int(self.views_added or 0)


@dataclass
class Summary:
    """The period's figures of one library, or of the whole network."""

    name: str
    days: int
    events: Counter = field(default_factory=Counter)  # (kind, network) → events held
    events_by_kind: Counter = field(default_factory=Counter)  # kind → events (any network)
    tallies: dict[str, Tally] = field(default_factory=dict)  # network → posts' counters
    participations: Counter = field(default_factory=Counter)  # network → acts
    anonymous: Counter = field(default_factory=Counter)  # network → acts of no known author
    people: Counter = field(default_factory=Counter)  # network → unique people
    outside_events: int = 0  # acts not tied to a post (chat messages, …), included above
    answers: int = 0
    followers: dict[str, float | None] = field(default_factory=dict)
    growth: dict[str, float | None] = field(default_factory=dict)
    # network → members of the groups and chats where quizzes are held (not followers)
    group_members: dict[str, float | None] = field(default_factory=dict)
    # network → contest entries and giveaway participants: shown apart, already counted in
    # ``participations`` as the comments, messages, likes and reposts they are made of.
    contest_entries: Counter = field(default_factory=Counter)
    giveaway_participants: Counter = field(default_factory=Counter)
    six_nk: SixNK | None = None

    def tally(self, network: str | None = None) -> Tally:
        """The counters of one network, or of all (merged)."""
        if network is not None:
            return self.tallies.get(network, Tally())
        total = Tally()
        for one in self.tallies.values():
            total.merge(one)
        return total

    def total_followers(self, network: str | None = None) -> float | None:
        """Followers at the end of the period (None: never measured)."""
        values = [v for n, v in self.followers.items() if network in (None, n)]
        known = [v for v in values if v is not None]
        return sum(known) if known else None

    def total_group_members(self, network: str | None = None) -> float | None:
        """Members of the quiz groups and chats at the end (None: never measured)."""
        known = [v for n, v in self.group_members.items() if network in (None, n)]
        known = [v for v in known if v is not None]
        return sum(known) if known else None

    def total_growth(self, network: str | None = None) -> float | None:
        """Follower growth over the period (None: never measured)."""
        known = [v for n, v in self.growth.items() if network in (None, n) and v is not None]
        return sum(known) if known else None

    def rates(self, network: str | None = None) -> Rates:
        """ERpost, ERview, ERday (+ a channel's ER and ERR) of one network or all."""
        channels = channel_networks()
        if network is None:
            channel = Tally()
            for name in channels:
                channel.merge(self.tally(name))
        else:
            channel = self.tally(network) if network in channels else None
        return rates(self.tally(network), self.days, channel)

    @property
    def events_total(self) -> int:
        """Events held (each once, whatever the number of networks)."""
        return sum(self.events_by_kind.values())


@dataclass
class LibraryReport:
    """Everything one library's part of a report shows."""

    library_id: str
    name: str
    timezone: str
    summary: Summary
    rows: list[EventRow] = field(default_factory=list)
    winners: list[Winner] = field(default_factory=list)
    questions: list[QuestionFigures] = field(default_factory=list)
    polls: list[PollOption] = field(default_factory=list)
    contests: list[ContestRow] = field(default_factory=list)
    giveaways: list[GiveawayRow] = field(default_factory=list)
    followers_by_day: dict[date, float] = field(default_factory=dict)  # all targets, end of day
    short_name: str = ""  # the config's short name (sheet names); "" = the id


@dataclass
class Report:
    """A whole report: its period, rules, each library, and the roll-up with --all."""

    period: Period
    rules: ReportRules
    language: str
    generated_at: datetime
    libraries: list[LibraryReport]
    network: Summary | None = None  # the roll-up across libraries (with --all)
    with_names: bool = False

    @property
    def rows(self) -> list[EventRow]:
        """Every library's event rows, in order."""
        return [row for library in self.libraries for row in library.rows]

    @property
    def total(self) -> Summary:
        """The roll-up, or the only library's summary."""
        if self.network is not None:
            return self.network
        return self.libraries[0].summary
