"""Every word a report prints, in Russian and English, and the formulas it names.

Writers look labels up here (``Words(language)``), so the XLSX, HTML, CSV and
Markdown say the same thing in the same words.
"""

from __future__ import annotations

from datetime import datetime

from bot.config import ReportRules

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
        "posts": "Публикаций (с напоминаниями)",
        "participations": "Участий (действий читателей)",
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
        "growth": "Прирост подписчиков",
        "er_post": "ERpost, %",
        "er_view": "ERview, %",
        "er_day": "ERday, %",
        "er_telegram": "ER (Telegram), %",
        "err": "ERR (Telegram), %",
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
        "charts": "Графики",
        "week": "Неделя с",
        "activity": "Активность по неделям",
        "by_kind": "Вовлечённость по форматам",
        "followers_chart": "Подписчики",
        "top": "Лучшие мероприятия (участия + вовлечённость)",
        "response": "Отклик",
        "na": "н/д",
        "na_note": "н/д — сеть не показывает этот показатель боту (например, просмотры в "
        "Telegram); он не считается нулём, и доли, которым он нужен, тоже н/д.",
        "held_by": "по форматам и сетям",
        "source_answers": "ответы игроков",
        "source_poll": "итоги анонимного опроса",
        "yes": "да",
        "no": "нет",
        "none": "нет данных за период",
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
        "posts": "Posts (with reminders)",
        "participations": "Participations (readers' acts)",
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
        "growth": "Follower growth",
        "er_post": "ERpost, %",
        "er_view": "ERview, %",
        "er_day": "ERday, %",
        "er_telegram": "ER (Telegram), %",
        "err": "ERR (Telegram), %",
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
        "charts": "Charts",
        "week": "Week of",
        "activity": "Activity by week",
        "by_kind": "Engagement by event kind",
        "followers_chart": "Followers",
        "top": "Top events (participations + engagement)",
        "response": "Response",
        "na": "n/a",
        "na_note": "n/a — the network does not show this figure to a bot (e.g. Telegram "
        "views); it is not taken as zero, and rates that need it are n/a too.",
        "held_by": "by kind and network",
        "source_answers": "players' answers",
        "source_poll": "anonymous poll totals",
        "yes": "yes",
        "no": "no",
        "none": "no data for the period",
    },
}

NAMES = {
    "ru": {
        "vk": "ВКонтакте",
        "telegram": "Telegram",
        "announcement": "анонс",
        "poll": "опрос",
        "quiz": "викторина",
        "contest": "конкурс",
        "giveaway": "розыгрыш",
    },
    "en": {"vk": "VK", "telegram": "Telegram"},
}

FORMULAS = {
    "ru": {
        "engagement": "лайки + реакции + репосты + комментарии (что сеть показывает; "
        "пересылки в Telegram боту не видны)",
        "er_post": "вовлечённость ÷ число публикаций ÷ подписчики × 100 %",
        "er_view": "вовлечённость ÷ просмотры × 100 % (по публикациям с известными просмотрами)",
        "er_day": "вовлечённость ÷ дней в периоде ÷ подписчики × 100 %",
        "er_telegram": "(пересылки + реакции + комментарии) ÷ просмотры × 100 %",
        "err": "просмотры на публикацию ÷ подписчики × 100 %",
        "growth": "подписчики на конец − подписчики на начало периода",
        "people": "разные псевдонимы; ВКонтакте и Telegram считаются отдельно",
        "participations": "ответы, комментарии, голоса, реакции и т. п.; "
        "вступления и выходы не считаются",
    },
    "en": {
        "engagement": "likes + reactions + reposts + comments (what the network shows; "
        "Telegram forwards are not visible to a bot)",
        "er_post": "engagement ÷ posts ÷ followers × 100 %",
        "er_view": "engagement ÷ views × 100 % (posts whose views are shown)",
        "er_day": "engagement ÷ days in the period ÷ followers × 100 %",
        "er_telegram": "(forwards + reactions + comments) ÷ views × 100 %",
        "err": "views per post ÷ subscribers × 100 %",
        "growth": "followers at the end − followers at the start of the period",
        "people": "distinct pseudonyms; VK and Telegram counted apart",
        "participations": "answers, comments, votes, reactions etc.; joins and leaves excluded",
    },
}


class Words:
    """Labels, names and formulas in one language."""

    def __init__(self, language: str) -> None:
        self.language = language if language in LABELS else "ru"
        self.labels = LABELS[self.language]

    def __getitem__(self, key: str) -> str:
        return self.labels[key]

    def name(self, value: str) -> str:
        """A network or event kind as a reader says it."""
        return NAMES[self.language].get(value, value)

    def formula(self, key: str) -> str:
        """The formula printed beside a figure ('' when it is a plain count)."""
        return FORMULAS[self.language].get(key, "")

    def when(self, moment: datetime) -> str:
        """A local date and time as text."""
        return (
            moment.strftime("%d.%m.%Y %H:%M")
            if self.language == "ru"
            else moment.strftime("%Y-%m-%d %H:%M")
        )

    def rules(self, rules: ReportRules) -> list[tuple[str, str]]:
        """The counting rules as (setting = value, meaning) lines."""
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
                    "читатель считается один раз на мероприятие"
                    if ru
                    else "a reader counts once per event"
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
            (f"views_are_visits = {str(rules.views_are_visits).lower()}", meaning["views"]),
            (f'participation = "{rules.participation}"', meaning["participation"]),
            (
                f"count_reminders_as_events = {str(rules.count_reminders_as_events).lower()}",
                meaning["reminders"],
            ),
            (
                "event_kinds = [" + ", ".join(f'"{k}"' for k in rules.event_kinds) + "]",
                meaning["kinds"],
            ),
        ]
