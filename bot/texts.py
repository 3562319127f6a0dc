"""Post texts: Jinja2 templates, the librarian's own and the shared ones in ``templates/``.

A librarian's text is itself a template (it may say ``{{ when }}`` or
``{{ library }}``); it is rendered in a sandbox, then placed into the shared
template of the network and language (``templates/posts/<lang>/<kind>.<network>.j2``).
Telegram templates are HTML with autoescaping, so nothing a librarian or a
reader writes can break the markup.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"

_MONTHS = {
    "ru": "января февраля марта апреля мая июня июля августа сентября октября ноября декабря",
    "en": "January February March April May June July August September October November December",
}
_WEEKDAYS = {
    "ru": "понедельник вторник среда четверг пятница суббота воскресенье",
    "en": "Monday Tuesday Wednesday Thursday Friday Saturday Sunday",
}


class TextError(ValueError):
    """A text template cannot be compiled or rendered."""


def human_time(moment: datetime, language: str = "ru") -> str:
    """'5 декабря 2026, суббота, 18:00' / 'Saturday, 5 December 2026, 18:00'."""
    month = _MONTHS[language].split()[moment.month - 1]
    weekday = _WEEKDAYS[language].split()[moment.weekday()]
    if language == "ru":
        return f"{moment.day} {month} {moment.year}, {weekday}, {moment:%H:%M}"
    return f"{weekday}, {moment.day} {month} {moment.year}, {moment:%H:%M}"


_user_env = SandboxedEnvironment(
    undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False
)
_shared_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    undefined=jinja2.StrictUndefined,
    autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2")),
    trim_blocks=True,
    lstrip_blocks=True,
)
_SAMPLE = {"title": "Title", "when": "5 декабря 2026, 18:00", "library": "Library"}


def check_template(source: str) -> None:
    """Compile and trial-render a librarian's template; TextError names the problem."""
    _render_user(source, _SAMPLE)


def _render_user(source: str, context: dict[str, Any]) -> str:
    try:
        return _user_env.from_string(source).render(**context).strip()
    except jinja2.TemplateSyntaxError as exc:
        raise TextError(f"template error on line {exc.lineno} of the text: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        raise TextError(
            f"template error: {exc.message}; known names: {', '.join(_SAMPLE)}"
        ) from None
    except jinja2.TemplateError as exc:
        raise TextError(f"template error: {exc}") from None


def render_post(
    kind: str, network: str, language: str, source: str, context: dict[str, Any]
) -> str:
    """The final text of a post: the librarian's text inside the shared template."""
    body = _render_user(source, context)
    suffix = "html.j2" if network == "telegram" else "txt.j2"
    template = _shared_env.get_template(f"posts/{language}/{kind}.{network}.{suffix}")
    return template.render(body=body, **context).strip()


def render_frame(kind: str, network: str, language: str, **context: Any) -> str:
    """A shared template filled by the bot itself (quiz standings, results)."""
    suffix = "html.j2" if network == "telegram" else "txt.j2"
    template = _shared_env.get_template(f"posts/{language}/{kind}.{network}.{suffix}")
    return template.render(**context).strip()
