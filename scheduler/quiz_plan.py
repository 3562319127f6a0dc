"""A quiz (or a closing poll) expanded into timed actions.

Quiz: an intro post at ``at``; question i at ``at + i × interval``; each question
closes ``answer_time`` later (plus a short settling time for answers on their way);
the results after the last close. A comments quiz is one post carrying the question.
Where each network asks depends on the mode, on the library's config and on what the
network can do (``core.networks``):

  live      → the quiz chat: native quiz polls where the network has them (players known),
            else buttons (an image asks with buttons too, under a photo);
  daily     → the quiz chat if set, unless a poll in the channel (on the wall) names who
            voted; else the channel or wall: such a poll, or answers typed as comments;
  channel   → the channels' anonymous quiz polls, where channels take them;
  comments  → the post in the channel or on the wall, answers in its comments.

A question with several right options is a poll taking several answers, or buttons that
mark options with one more to send them (a question with as many options as the keyboard
holds has no room for it: answers are typed there); where answers are buttons or typed,
its text says so.

A poll with ``close_at`` gets a close action per network, then a results post.

Question texts are shown as written: unlike the librarian's intro text, they are not
templates (a spreadsheet of questions may hold anything, ``{{`` included).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from core import messages
from core.config import Config, LibraryConfig
from core.errors import EventFileError
from core.model import (
    CLOSE,
    PUBLISH,
    QUESTION,
    RESULTS,
    SETTLE,
    PlannedAction,
    action_key,
)
from core.networks import network as network_of
from core.quiz_model import Question, QuizSettings
from core.texts import TextError, human_time, render_post, render_text
from core.tomlfile import line_of
from scheduler.fields import Event

QUIZ_KINDS = (QUESTION, CLOSE, RESULTS)
RESULTS_DELAY = timedelta(seconds=30)  # poll results wait for every network's final totals


def quiz_targets(event: Event, library: LibraryConfig, network: str) -> list[tuple[str, str]]:
    """(target, where) pairs a quiz asks in on ``network``; where is the network's word for
    its quiz chat or its channel / wall (``chat_place``, ``feed_place`` in ``core.networks``).

    Raises EventFileError when the mode needs a chat the library has not configured.
    """
    mode = (event.quiz or QuizSettings()).mode
    settings = library.settings(network)
    if settings is None:
        return []
    found = network_of(network)
    chat = settings.quiz_target
    feed_polls = found.capabilities.feed_polls_name_voters
    if mode == "live" or (mode == "daily" and chat and not feed_polls):
        if not chat:
            raise _mode_error(
                event,
                f"{found.live_quiz_needs}: set quiz_chat in [library.{network}] "
                f"of library '{library.id}'",
            )
        return [(chat, found.chat_place)]
    if mode == "channel" and not found.capabilities.channel_quizzes:
        return []  # quiz polls in a channel only
    return [(target, found.feed_place) for target in settings.post_targets]


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
    found = network_of(network)
    if mode == "channel" and found.capabilities.channel_quizzes:
        return "anonymous_quiz_poll"
    if where == found.chat_place:
        if found.capabilities.quiz_polls and not question.image:
            return "quiz_poll"  # a quiz poll carries no image: buttons under the photo
        full = len(question.correct) > 1 and len(question.options) >= found.limits.inline_buttons
        return "text" if full else "buttons"  # several right: one more button, to send
    if found.capabilities.feed_polls_name_voters and mode != "comments":
        return "poll"
    return "text"  # answers typed as comments


def expand_quiz(event: Event, config: Config, library: LibraryConfig) -> list:
    """Intro, questions, closes and results of a quiz, for every network and target."""
    settings = event.quiz or QuizSettings()
    actions: list[PlannedAction] = []
    context = {"title": event.title, "when": human_time(event.at, config.language)}
    context["library"] = library.name
    total = len(event.questions)
    for network in event.networks:
        for target, where in quiz_targets(event, library, network):
            comments = settings.mode == "comments"
            if not comments:
                intro = _render(event, "quiz_intro", network, config, event.text, context, "text")
                payload = {"text": intro, "image": str(event.image) if event.image else None}
                key = action_key(event.id, PUBLISH, network, target)
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
                key = action_key(event.id, QUESTION, network, target) + suffix
                actions.append(PlannedAction(key, QUESTION, network, target, due, payload))
                close_payload = {"number": question.number, "style": style, "last": False}
                close_payload["last"] = question.number == total
                key = action_key(event.id, CLOSE, network, target) + suffix
                actions.append(
                    PlannedAction(key, CLOSE, network, target, closes + SETTLE, close_payload)
                )
                last_close = max(last_close, closes + SETTLE)
            payload = {"winners": settings.winners, "mode": settings.mode}
            key = action_key(event.id, RESULTS, network, target)
            at = last_close + timedelta(seconds=1)
            actions.append(PlannedAction(key, RESULTS, network, target, at, payload))
    return actions


def expand_poll_close(event: Event, targets: dict[str, tuple[str, ...]]) -> list:
    """A poll that closes: each publication's close, then a results post per target."""
    if event.closes_at is None:
        return []
    actions = []
    for network in event.networks:
        for target in targets.get(network, ()):
            closing = event.closes_at + SETTLE
            key = action_key(event.id, CLOSE, network, target)
            actions.append(PlannedAction(key, CLOSE, network, target, closing))
            results = closing + RESULTS_DELAY
            key = action_key(event.id, RESULTS, network, target)
            actions.append(PlannedAction(key, RESULTS, network, target, results))
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
        if len(question.correct) > 1:  # say how to answer: buttons that mark, or typed
            source += "\n\n" + (
                messages.text_in(config.language, "quiz.several_buttons")
                if style == "buttons"
                else messages.text_in(config.language, "quiz.several_text")
            )
        text = _render(event, "quiz_question", network, config, source, extra, field, False)
    spec = question.spec(settings, style)
    return {
        "number": question.number,
        "style": style,
        "text": text,
        "image": str(question.image) if question.image else None,
        "open_seconds": int(settings.answer_time.total_seconds()) if poll else None,
        "mode": settings.mode,
        "spec": spec.to_json(),
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
