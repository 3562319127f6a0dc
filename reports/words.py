"""Every word a report prints, in Russian and English, and the formulas it names.

Writers look labels up here (``Words(language)``), so the XLSX, HTML, CSV and
Markdown say the same thing in the same words.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import NamedTuple

from core.config import ReportRules
from core.networks import network, registry
from reports.model import report_networks

LABELS: dict[str, dict[str, str]] = {
    "ru": {
        "report": "Отчёт об онлайн-мероприятиях",
        "network": "Сеть библиотек",
        "period": "Период",
        "generated": "Сформирован",
        "libraries": "Библиотеки",
        "summary": "Сводка",
        "figure": "Показатель",
        "value": "Значение",
        "formula": "Формула",
        "all": "Всего",
        "events_held": "Онлайн-мероприятий проведено",
        "posts": "Публикаций (с напоминаниями и постами викторин и опросов)",
        "participations": "Участий (действий читателей)",
        "anonymous": "в т. ч. действий без имени (анонимные голоса, реакции {anonymous_on})",
        "outside": "в т. ч. вне мероприятий (сообщения в чатах и т. п.)",
        "people": "Уникальных участников",
        "answers": "Ответов",
        "views": "Просмотры",
        "likes": "Лайки",
        "reactions": "Реакции",
        "reposts": "Репосты",
        "comments": "Комментарии",
        "poll_votes": "Голоса в опросах",
        "engagement": "Вовлечённость",
        "followers": "Подписчики на конец периода",
        "group_members": "Участники групп и бесед викторин на конец периода",
        "growth": "Прирост подписчиков",
        "er_post": "ERpost, %",
        "er_view": "ERview, %",
        "er_day": "ERday, %",
        "er_channel": "ER ({channels}), %",
        "err": "ERR ({channels}), %",
        "events": "Мероприятия",
        "date": "Дата",
        "time": "Время",
        "datetime": "Дата и время",
        "library": "Библиотека",
        "title": "Мероприятие",
        "kind": "Формат",
        "net": "Сеть",
        "link": "Ссылка",
        "post_count": "Публикаций",
        "participants": "Участий",
        "people_short": "Участников",
        "note": "Примечание",
        "deleted": "пост удалён",
        "in_chat": "сообщения в беседе",
        "diary": "Дневник",
        "diary_title": "Выгрузка для дневника работы библиотеки",
        "six_nk": "6-НК",
        "six_nk_title": "Помощник 6-НК (онлайн-часть)",
        "nk_events": "Онлайн-мероприятий (мероприятий удалённого обслуживания)",
        "nk_participations": "Участий удалённых пользователей",
        "nk_visits": "Посещений удалённо, через сеть Интернет",
        "rules": "Правила подсчёта (настройки [report])",
        "quizzes": "Викторины",
        "winners": "Победители",
        "place": "Место",
        "player": "Участник (псевдоним)",
        "name": "Имя",
        "points": "Баллы",
        "correct": "Верных",
        "time_s": "Время, с",
        "questions": "Вопросы",
        "number": "№",
        "question": "Вопрос",
        "players": "Игроков",
        "answers_short": "Ответов",
        "correct_share": "Верно, %",
        "source": "Источник",
        "polls": "Опросы",
        "option": "Вариант",
        "votes": "Голоса",
        "contests": "Конкурсы",
        "giveaways": "Розыгрыши",
        "entries": "Заявок",
        "approved": "Одобрено",
        "entrants": "Авторов",
        "places": "Места (№ работы — автор)",
        "entry_no": "№",
        "draw_date": "Дата розыгрыша",
        "eligible": "Участников (выполнили условия)",
        "winners_count": "Победителей",
        "reserves": "Запасных",
        "commitment": "Обязательство (SHA-256 зерна, начало)",
        "proof": "Файл доказательства",
        "not_drawn": "ещё не разыгран",
        "contest_entries": "Заявок на конкурсы (уже в участиях)",
        "giveaway_participants": "Участников розыгрышей (уже в участиях)",
        "charts": "Графики",
        "week": "Неделя с",
        "activity": "Активность по неделям",
        "by_kind": "Вовлечённость по форматам",
        "followers_chart": "Подписчики",
        "top": "Лучшие мероприятия (участия + вовлечённость)",
        "response": "Отклик",
        "na": "н/д",
        "na_note": "н/д — сеть не показывает этот показатель боту (например, просмотры "
        "{unviewed_on}); он не считается нулём, и доли, которым он нужен, тоже н/д.",
        "held_by": "по форматам и сетям",
        "source_answers": "ответы игроков",
        "source_poll": "итоги анонимного опроса",
        "yes": "да",
        "no": "нет",
        "none": "нет данных за период",
        "page": "Страница",
        "of": "из",
    },
    "en": {
        "report": "Online events report",
        "network": "Library network",
        "period": "Period",
        "generated": "Generated",
        "libraries": "Libraries",
        "summary": "Summary",
        "figure": "Figure",
        "value": "Value",
        "formula": "Formula",
        "all": "Total",
        "events_held": "Online events held",
        "posts": "Posts (with reminders and quiz and poll posts)",
        "participations": "Participations (readers' acts)",
        "anonymous": "of which acts of no named author (anonymous votes, {anonymous_on} reactions)",
        "outside": "of which outside events (chat messages etc.)",
        "people": "Unique participants",
        "answers": "Answers",
        "views": "Views",
        "likes": "Likes",
        "reactions": "Reactions",
        "reposts": "Reposts",
        "comments": "Comments",
        "poll_votes": "Poll votes",
        "engagement": "Engagement",
        "followers": "Followers at the end",
        "group_members": "Members of the quiz groups and chats at the end",
        "growth": "Follower growth",
        "er_post": "ERpost, %",
        "er_view": "ERview, %",
        "er_day": "ERday, %",
        "er_channel": "ER ({channels}), %",
        "err": "ERR ({channels}), %",
        "events": "Events",
        "date": "Date",
        "time": "Time",
        "datetime": "Date and time",
        "library": "Library",
        "title": "Event",
        "kind": "Format",
        "net": "Network",
        "link": "Link",
        "post_count": "Posts",
        "participants": "Participations",
        "people_short": "Participants",
        "note": "Note",
        "deleted": "post deleted",
        "in_chat": "messages in the community chat",
        "diary": "Diary",
        "diary_title": "Export for the library's work diary",
        "six_nk": "6-NK",
        "six_nk_title": "6-NK helper (online part)",
        "nk_events": "Online events (remote service events)",
        "nk_participations": "Participations of remote users",
        "nk_visits": "Remote visits, through the Internet",
        "rules": "Counting rules (the [report] settings)",
        "quizzes": "Quizzes",
        "winners": "Winners",
        "place": "Place",
        "player": "Player (pseudonym)",
        "name": "Name",
        "points": "Points",
        "correct": "Correct",
        "time_s": "Time, s",
        "questions": "Questions",
        "number": "No.",
        "question": "Question",
        "players": "Players",
        "answers_short": "Answers",
        "correct_share": "Correct, %",
        "source": "Source",
        "polls": "Polls",
        "option": "Option",
        "votes": "Votes",
        "contests": "Contests",
        "giveaways": "Giveaways",
        "entries": "Entries",
        "approved": "Approved",
        "entrants": "Entrants",
        "places": "Places (entry No. — author)",
        "entry_no": "No. ",
        "draw_date": "Draw date",
        "eligible": "Participants (met the conditions)",
        "winners_count": "Winners",
        "reserves": "Reserves",
        "commitment": "Commitment (SHA-256 of the seed, start)",
        "proof": "Proof file",
        "not_drawn": "not drawn yet",
        "contest_entries": "Contest entries (already in participations)",
        "giveaway_participants": "Giveaway participants (already in participations)",
        "charts": "Charts",
        "week": "Week of",
        "activity": "Activity by week",
        "by_kind": "Engagement by event kind",
        "followers_chart": "Followers",
        "top": "Top events (participations + engagement)",
        "response": "Response",
        "na": "n/a",
        "na_note": "n/a — the network does not show this figure to a bot (e.g. {unviewed_on} "
        "views); it is not taken as zero, and rates that need it are n/a too.",
        "held_by": "by kind and network",
        "source_answers": "players' answers",
        "source_poll": "anonymous poll totals",
        "yes": "yes",
        "no": "no",
        "none": "no data for the period",
        "page": "Page",
        "of": "of",
    },
}

# Event kinds; networks are named as the registry (``core.networks``) titles them.
NAMES = {
    "ru": {
        "announcement": "анонс",
        "poll": "опрос",
        "quiz": "викторина",
        "contest": "конкурс",
        "giveaway": "розыгрыш",
    },
    "en": {},
}

FORMULAS = {
    "ru": {
        "engagement": "лайки + реакции + репосты + комментарии (что сеть показывает; "
        "пересылки {unreposted_on} боту не видны)",
        "er_post": "среднее по публикациям в каналах и на стене (не в беседах): "
        "вовлечённость публикации ÷ подписчики её сети × 100 %; «Всего» — среднее по всем "
        "таким публикациям",
        "er_view": "вовлечённость ÷ просмотры × 100 % (по публикациям с известными "
        "просмотрами; «Всего» — по суммам)",
        "er_day": "вовлечённость публикаций в каналах и на стене ÷ дней в периоде ÷ "
        "подписчики × 100 %; «Всего» — по суммам сетей с известными подписчиками",
        "er_channel": "(пересылки + реакции + комментарии) ÷ просмотры × 100 % (по суммам)",
        "err": "среднее по публикациям канала: просмотры ÷ подписчики × 100 %",
        "growth": "подписчики на конец − подписчики на начало периода",
        "followers": "подписчики каналов и участники сообществ; без групп и бесед викторин",
        "group_members": "группы и беседы, где идут викторины; в подписчики и ER не входят",
        "people": "разные псевдонимы; {networks} считаются отдельно; "
        "действия без имени участников не дают",
        "participations": "ответы, комментарии, голоса в опросах, {pressed}, "
        "сообщения; голоса и реакции, авторов которых сеть не называет, — по "
        "счётчикам сети; вступления и выходы не считаются; заявка на конкурс — одно действие "
        "(это комментарий к посту конкурса или сообщение боту), голос за работу — лайк или "
        "реакция; участник розыгрыша — его лайки, комментарии и репосты; каждое действие "
        "считается один раз, заявки и участники розыгрышей сверх них не прибавляются",
        "contest_entries": "заявки, полученные в срок (с отклонёнными); каждая — комментарий "
        "или сообщение, уже учтённые в участиях одним действием; здесь — для справки",
        "giveaway_participants": "выполнившие условия к розыгрышу, как их посчитал розыгрыш; "
        "их лайки, комментарии и репосты уже учтены в участиях, человек — в участниках; "
        "здесь — для справки, не прибавляются",
        "anonymous": "голоса в анонимных опросах сверх названных и анонимные реакции "
        "{anonymous_on}: число действий известно, авторы — нет; при любом правиле participation "
        "считаются по числу действий",
    },
    "en": {
        "engagement": "likes + reactions + reposts + comments (what the network shows; "
        "{unreposted_on} forwards are not visible to a bot)",
        "er_post": "mean over the posts in channels and on walls (not in chats): a post's "
        "engagement ÷ its network's followers × 100 %; Total: the mean over all such posts",
        "er_view": "engagement ÷ views × 100 % (posts whose views are shown; Total: of the sums)",
        "er_day": "engagement of the posts in channels and on walls ÷ days in the period ÷ "
        "followers × 100 %; Total: of the sums over the networks whose followers are known",
        "er_channel": "(forwards + reactions + comments) ÷ views × 100 % (of the sums)",
        "err": "mean over the channel's posts: views ÷ subscribers × 100 %",
        "growth": "followers at the end − followers at the start of the period",
        "followers": "channel subscribers and community members; quiz groups and chats excluded",
        "group_members": "groups and chats where quizzes are held; not in followers or ER",
        "people": "distinct pseudonyms; {networks} counted apart; acts of no named "
        "author give no participants",
        "participations": "answers, comments, poll votes, {pressed}, "
        "messages; votes and reactions whose authors the network does not name are taken "
        "from its counters; joins and leaves excluded; a contest entry is one act (it is a "
        "comment on the contest's post or a message to the bot), a vote for an entry a like "
        "or reaction; a giveaway participant, their likes, comments and reposts; each act "
        "counts once, entries and giveaway participants are not added on top",
        "contest_entries": "entries received in time (rejected ones included); each is a "
        "comment or a message already counted as one act in participations; for reference",
        "giveaway_participants": "those who met the giveaway's conditions, as the draw "
        "counted them; their likes, comments and reposts are already in participations, "
        "the people in participants; for reference, not added",
        "anonymous": "votes in anonymous polls beyond the named ones and {anonymous_on}'s anonymous "
        "reactions: the number of acts is known, their authors are not; counted as acts "
        "under either participation rule",
    },
}


# How a language joins the last two of a list, and puts what readers press under a post
# with the network it is pressed on ("реакции в …", "… reactions").
_AND = {"ru": " и ", "en": " and "}
_PRESSED = {"ru": "{what} {on}", "en": "{on} {what}"}


def _listed(items: list[str], language: str) -> str:
    """Items joined as a sentence lists them: "A", "A и B", "A, B и C"."""
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + _AND[language] + items[-1]


def _network_phrases(language: str, labels: dict[str, str]) -> dict[str, str]:
    """The parts of labels and formulas that name networks, from what the registry says
    each can show: ``{channels}``, ``{anonymous_on}``, ``{unviewed_on}`` and the like."""
    ordered = [network(name) for name in report_networks()]

    def on(test) -> str:
        return _listed([n.title_on(language) for n in ordered if test(n.capabilities)], language)

    unviewed = [n.title_on(language) for n in ordered if not n.capabilities.views_readable]
    return {
        "networks": _listed([n.title(language) for n in ordered], language),
        "channels": ", ".join(n.title(language) for n in ordered if n.capabilities.channel_rates),
        "anonymous_on": on(lambda c: c.anonymous_reactions),
        "unreposted_on": on(lambda c: not c.reposts_readable),
        "unviewed_on": unviewed[0] if unviewed else "",  # an example: the first is enough
        # In registration order: what readers press under a post on each network.
        "pressed": ", ".join(
            _PRESSED[language].format(what=labels[n.likes].lower(), on=n.title_on(language))
            for n in registry().values()
            if n.likes
        ),
    }


def _filled(texts: dict[str, str], phrases: dict[str, str]) -> dict[str, str]:
    """``texts`` with the network phrases put in (texts without a brace stay as they are)."""
    return {key: text.format(**phrases) if "{" in text else text for key, text in texts.items()}


class Rule(NamedTuple):
    """A counting rule as the report prints it: ``setting = value`` and its meaning."""

    setting: str
    meaning: str


class Words:
    """Labels, names and formulas in one language."""

    def __init__(self, language: str) -> None:
        self.language = language if language in LABELS else "ru"
        phrases = _network_phrases(self.language, LABELS[self.language])
        self.labels = _filled(LABELS[self.language], phrases)
        self.formulas = _filled(FORMULAS[self.language], phrases)
        titles = {name: one.title(self.language) for name, one in registry().items()}
        self.names = {**NAMES[self.language], **titles}

    def __getitem__(self, key: str) -> str:
        return self.labels[key]

    def name(self, value: str) -> str:
        """A network or event kind as a reader says it."""
        return self.names.get(value, value)

    def formula(self, key: str) -> str:
        """The formula printed beside a figure ('' when it is a plain count)."""
        return self.formulas.get(key, "")

    def when(self, moment: datetime) -> str:
        """A local date and time as text."""
        return (
            moment.strftime("%d.%m.%Y %H:%M")
            if self.language == "ru"
            else moment.strftime("%Y-%m-%d %H:%M")
        )

    def rules(self, rules: ReportRules) -> list[Rule]:
        """The counting rules as lines of a setting and what it means."""
        ru = self.language == "ru"
        kinds = ", ".join(rules.event_kinds) if rules.event_kinds else ("все" if ru else "all")
        per_person = rules.participation == "per_person_per_event"
        meaning = {
            "views": (
                ("просмотры считаются посещениями" if ru else "views are counted as visits")
                if rules.views_are_visits
                else ("просмотры не считаются посещениями" if ru else "views are not visits")
            ),
            "participation": (
                (
                    "читатель считается один раз на мероприятие; действия без имени — "
                    "по числу действий"
                    if ru
                    else "a reader counts once per event; acts of no named author, as acts"
                )
                if per_person
                else ("каждое действие — участие" if ru else "every act is a participation")
            ),
            "reminders": (
                (
                    "напоминание — отдельное мероприятие"
                    if ru
                    else "a reminder post is one more event"
                )
                if rules.count_reminders_as_events
                else ("напоминания не считаются" if ru else "reminders are not events")
            ),
            "kinds": ("форматы мероприятий: " if ru else "event kinds: ") + kinds,
        }
        return [
            Rule(f"views_are_visits = {str(rules.views_are_visits).lower()}", meaning["views"]),
            Rule(f'participation = "{rules.participation}"', meaning["participation"]),
            Rule(
                f"count_reminders_as_events = {str(rules.count_reminders_as_events).lower()}",
                meaning["reminders"],
            ),
            Rule(
                "event_kinds = [" + ", ".join(f'"{k}"' for k in rules.event_kinds) + "]",
                meaning["kinds"],
            ),
        ]


_VOWELS = frozenset("аеёиоуыэюяaeiouy")
_LETTERS = re.compile(r"[^\W\d_]+")
# Consonant pairs that begin a syllable together ("про", "бла"): not split.
_ONSETS = frozenset(a + b for a in "бвгдкптфbcdfgkpt" for b in "рлrl")


def break_points(word: str) -> list[int]:
    """Where a word may be hyphenated: the usual Russian rules (which serve English
    well enough). Each part keeps two letters and a vowel; ь, ъ and й stay with the
    letter before them; a single consonant before a vowel starts its syllable (ли-те),
    two consonants are split (ком-мен) unless they begin a syllable together (про)."""
    core = word.strip("()«»\"'.,:;!?%")
    start = word.find(core)
    lower = core.lower()
    if len(core) < 5 or not _LETTERS.fullmatch(core):
        return []
    kinds = "".join("g" if c in _VOWELS else "x" if c in "ьъй" else "s" for c in lower)
    points = []
    for i in range(2, len(core) - 1):
        left, right = kinds[:i], kinds[i:]
        if "g" not in left or "g" not in right or right[0] in "gx":
            continue
        if (
            left[-1] == "x"  # напоминань-ями
            or (left[-1] == "g" and right[:2] == "sg")  # ли-те
            or (left[-1] == "g" and right[:3] == "ssg" and lower[i : i + 2] in _ONSETS)  # ме-ро-при
            or (left[-2:] == "gs" and right[:2] == "sg" and lower[i - 1 : i + 1] not in _ONSETS)
            or (left[-2:] == "gs" and right[:3] == "ssg")  # об-слу
            or (left[-3:] == "gss" and right[:2] == "sg")  # участ-ни
        ):
            points.append(start + i)
    return points


def hyphenate(text: str, width: int) -> str:
    """``text`` with its words longer than ``width`` letters broken by hyphens and line
    breaks where the rules allow (for a narrow column's header)."""
    words = []
    for word in text.split(" "):
        pieces = []
        for part in re.findall(r"[^-]+-?|-", word):  # a compound breaks at its own hyphen
            lines = []
            while len(part) > width:
                fits = [i for i in break_points(part.rstrip("-")) if i + 1 <= width]
                if not fits:
                    break
                lines.append(part[: fits[-1]] + "-")
                part = part[fits[-1] :]
            pieces.append("\n".join([*lines, part]))
        joined = pieces[0] if pieces else ""
        for piece in pieces[1:]:
            fits = len(joined.rsplit("\n", 1)[-1]) + len(piece.split("\n", 1)[0]) <= width
            joined += piece if fits else "\n" + piece
        words.append(joined)
    return " ".join(words)
