"""A quiz (or a closing poll) expanded into timed actions.

Quiz: an intro post at ``at``; question i at ``at + i × interval``; each question
closes ``answer_time`` later (plus a short settling time for answers on their way);
the results after the last close. A comments quiz is one post carrying the question.
Where each network asks depends on the mode and on the library's config:

  telegram  live → quiz_chat (quiz polls, players known); daily → quiz_chat if set,
            else the channel with answers as comments; channel → the channels' anonymous
            quiz polls; comments → the channel post, answers in its discussion group.
  vk        live → the community chat (callback buttons); daily, comments → the wall
            (a poll attached for questions with options, comments for typed answers).

A question with several right options is a poll taking several answers, or buttons that
mark options with one more to send them (a VK chat question with 10 options has no room
for it: answers are typed there); where answers are buttons or typed, its text says so.

A poll with ``close_at`` gets a close action per network, then a results post.

Question texts are shown as written: unlike the librarian's intro text, they are not
templates (a spreadsheet of questions may hold anything, ``{{`` included).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from bot.platforms.vk_quiz import INLINE_BUTTONS
from core.config import Config, LibraryConfig
from core.errors import EventFileError
from core.quiz_model import Question, QuizSettings
from core.texts import TextError, human_time, render_post, render_text
from core.tomlfile import line_of
from scheduler.events import Event

QUESTION, CLOSE, RESULTS = "question", "close", "results"
QUIZ_KINDS = (QUESTION, CLOSE, RESULTS)
SETTLE = timedelta(seconds=2)  # answers sent just before the close are still on their way
RESULTS_DELAY = timedelta(seconds=30)  # poll results wait for every network's final totals
SEVERAL = {  # under a question with several right options, by how it is answered
    "ru": {
        "buttons": "Верных ответов несколько: отметьте их и нажмите «Готово».",
        "text": "Верных ответов несколько: назовите все, например «1, 3».",
    },
    "en": {
        "buttons": "There are several right answers: mark them, then press “Done”.",
        "text": "There are several right answers: name them all, e.g. “1, 3”.",
    },
}


def quiz_targets(event: Event, library: LibraryConfig, network: str) -> list[tuple[str, str]]:
    """(target, where) pairs a quiz asks in on ``network``; where is "group", "channel", ...

    Raises EventFileError when the mode needs a chat the library has not configured.
    """
    settings = event.quiz or QuizSettings()
    mode = settings.mode
    if network == "telegram" and library.telegram:
        tg = library.telegram
        if mode == "live" or (mode == "daily" and tg.quiz_chat):
            if not tg.quiz_chat:
                raise _mode_error(
                    event,
                    f"a live quiz needs a Telegram group: set quiz_chat in [library.telegram] "
                    f"of library '{library.id}'",
                )
            return [(tg.quiz_chat, "group")]
        return [(chat, "channel") for chat in tg.chats]
    if network == "vk" and library.vk:
        if mode == "live":
            if not library.vk.quiz_chat:
                raise _mode_error(
                    event,
                    f"a live quiz on VK needs a community chat: set quiz_chat in [library.vk] "
                    f"of library '{library.id}'",
                )
            return [(str(library.vk.quiz_chat), "chat")]
        if mode == "channel":
            return []  # Telegram's quiz polls only
        return [(str(library.vk.group_id), "wall")]
    return []


def _mode_error(event: Event, message: str) -> EventFileError:
    """The error names the file's ``mode`` line, where the librarian chose the mode."""
    try:
        line = line_of(Path(event.source).read_text(encoding="utf-8"), ("mode",))
    except OSError:
        line = None
    return EventFileError(event.source, "mode", message, line)


def style_for(question: Question, network: str, where: str, mode: str) -> str:
    """How a question is asked there (see ``core.platform.Ask``)."""
    if question.free_text:
        return "text"
    if network == "telegram":
        if mode == "channel":
            return "anonymous_quiz_poll"
        if where == "group":
            return "buttons" if question.image else "quiz_poll"
        return "text"  # a channel post: answers typed as comments
    if where == "chat":
        full = len(question.correct) > 1 and len(question.options) >= INLINE_BUTTONS
        return "text" if full else "buttons"  # several right: one more button, to send
    return "poll" if mode != "comments" else "text"


def expand_quiz(event: Event, config: Config, library: LibraryConfig) -> list:
    """Intro, questions, closes and results of a quiz, for every network and target."""
    from scheduler.plan import PUBLISH, PlannedAction

    settings = event.quiz or QuizSettings()
    actions: list[PlannedAction] = []
    context = {"title": event.title, "when": human_time(event.at, config.language)}
    context["library"] = library.name
    total = len(event.questions)
    for network in event.networks:
        for target, where in quiz_targets(event, library, network):
            base = f"{event.id}:{{kind}}:{network}:{target}"
            comments = settings.mode == "comments"
            if not comments:
                intro = _render(event, "quiz_intro", network, config, event.text, context, "text")
                payload = {"text": intro, "image": str(event.image) if event.image else None}
                key = base.format(kind=PUBLISH)
                actions.append(PlannedAction(key, PUBLISH, network, target, event.at, payload))
            last_close = event.at
            for question in event.questions:
                due = event.at if comments else event.at + settings.interval * question.number
                closes = due + settings.answer_time
                style = style_for(question, network, where, settings.mode)
                payload = _question_payload(
                    event, config, question, total, network, style, settings, context
                )
                payload["spec"]["where"] = where
                payload["answer_seconds"] = int(settings.answer_time.total_seconds())
                suffix = f":{question.number}"
                key = base.format(kind=QUESTION) + suffix
                actions.append(PlannedAction(key, QUESTION, network, target, due, payload))
                close_payload = {"number": question.number, "style": style, "last": False}
                close_payload["last"] = question.number == total
                key = base.format(kind=CLOSE) + suffix
                actions.append(
                    PlannedAction(key, CLOSE, network, target, closes + SETTLE, close_payload)
                )
                last_close = max(last_close, closes + SETTLE)
            payload = {"winners": settings.winners, "mode": settings.mode}
            key = base.format(kind=RESULTS)
            at = last_close + timedelta(seconds=1)
            actions.append(PlannedAction(key, RESULTS, network, target, at, payload))
    return actions


def expand_poll_close(event: Event, targets: dict[str, tuple[str, ...]]) -> list:
    """A poll that closes: each publication's close, then a results post per target."""
    from scheduler.plan import PlannedAction

    if event.closes_at is None:
        return []
    actions = []
    for network in event.networks:
        for target in targets.get(network, ()):
            base = f"{event.id}:{{kind}}:{network}:{target}"
            closing = event.closes_at + SETTLE
            actions.append(PlannedAction(base.format(kind=CLOSE), CLOSE, network, target, closing))
            results = closing + RESULTS_DELAY
            actions.append(
                PlannedAction(base.format(kind=RESULTS), RESULTS, network, target, results)
            )
    return actions


def _question_payload(
    event: Event,
    config: Config,
    question: Question,
    total: int,
    network: str,
    style: str,
    settings: QuizSettings,
    context: dict,
) -> dict:
    poll = style in ("quiz_poll", "anonymous_quiz_poll", "poll")
    if poll:
        # A native poll shows the options itself and takes no markup.
        prefix = f"{question.number}/{total}. "
        fits = len(prefix) + len(question.text) <= 300
        text = (prefix if fits else "") + question.text
    else:
        extra = {**context, "number": question.number, "total": total}
        extra["options"] = list(question.options)
        extra["mode"] = settings.mode
        extra["intro"] = ""
        if settings.mode == "comments":  # the one post carries the librarian's intro
            extra["intro"] = _render_intro(event, context)
        field = f"questions[{question.number}].text"
        source = question.text  # plain text, not a template: shown as written
        if len(question.correct) > 1:
            source += "\n\n" + SEVERAL[config.language][style]
        text = _render(event, "quiz_question", network, config, source, extra, field, False)
    spec = question.spec()
    spec.update(
        speed_bonus=settings.speed_bonus,
        fuzzy=settings.fuzzy_threshold,
        exclude_staff=settings.exclude_staff,
        winners=settings.winners,
        style=style,
    )
    return {
        "number": question.number,
        "style": style,
        "text": text,
        "image": str(question.image) if question.image else None,
        "open_seconds": int(settings.answer_time.total_seconds()) if poll else None,
        "mode": settings.mode,
        "spec": spec,
    }


def _render(
    event: Event,
    kind: str,
    network: str,
    config: Config,
    source: str,
    context: dict,
    field: str,
    template: bool = True,
) -> str:
    try:
        return render_post(kind, network, config.language, source, context, template=template)
    except TextError as exc:
        raise EventFileError(event.source, field, str(exc)) from None


def _render_intro(event: Event, context: dict) -> str:
    try:
        return render_text(event.text, context)
    except TextError as exc:
        raise EventFileError(event.source, "text", str(exc)) from None


def question_times(event: Event) -> list[datetime]:
    """When each question of a quiz is asked (for the plan listing)."""
    settings = event.quiz or QuizSettings()
    if settings.mode == "comments":
        return [event.at for _ in event.questions]
    return [event.at + settings.interval * q.number for q in event.questions]
