"""The command line's language: help and click's own headings from the catalogue.

Help is printed before any config is read, so its language is chosen by
``$BIBLIOBOT_LANGUAGE``, else by the ``language`` of the config the command would read
(``$BIBLIOBOT_CONFIG`` or ``config.toml``, peeked at, never validated here), else Russian.
A command that loads its config then speaks the config's language (``speak``).

Click's headings ("Usage:", "Options", "Commands") and its help option's text come from
the catalogue through ``LocalCommand`` / ``LocalGroup``, the classes every bibliobot command
is made with.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import click

from core import messages

DEFAULT_CONFIG = "config.toml"
HEADINGS = {"Options": "cli.heading_options", "Commands": "cli.heading_commands"}
HEADINGS["Arguments"] = "cli.heading_arguments"


def help_language() -> str:
    """The language of help and of what is said before a config is read."""
    chosen = os.environ.get("BIBLIOBOT_LANGUAGE", "")
    if chosen in messages.LANGUAGES:
        return chosen
    path = Path(os.environ.get("BIBLIOBOT_CONFIG", DEFAULT_CONFIG))
    try:
        with path.open("rb") as handle:
            found = tomllib.load(handle).get("language")
    except (OSError, ValueError):
        return messages.DEFAULT_LANGUAGE
    return found if found in messages.LANGUAGES else messages.DEFAULT_LANGUAGE


class Words(str):
    """A help text that knows its catalogue entry, so it is said again in the language of
    the moment the help is shown (commands are made when the module is imported)."""

    key: str
    fields: dict[str, object]

    def __new__(cls, key: str, **fields: object) -> Words:
        made = super().__new__(cls, messages.text_in(help_language(), f"cli.{key}", **fields))
        made.key, made.fields = key, fields
        return made

    def now(self) -> str:
        """The text in today's help language."""
        return messages.text_in(help_language(), f"cli.{self.key}", **self.fields)


def words(key: str, **fields: object) -> Words:
    """A help text (``cli.<key>``) in the help language."""
    return Words(key, **fields)


def _now(text: object) -> object:
    """``text`` said again now if it is a catalogue text."""
    return text.now() if isinstance(text, Words) else text


def speak(language: str) -> None:
    """What the command says from now on is in ``language`` (the config's)."""
    messages.set_language(language)


class LocalFormatter(click.HelpFormatter):
    """Click's help layout with its headings in the help language."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        """The usage line, headed in the help language."""
        if prefix is None:
            prefix = f"{Words('usage').now()} "
        super().write_usage(prog, args, prefix)

    def write_heading(self, heading: str) -> None:
        """A section heading (Options, Commands) in the help language."""
        key = HEADINGS.get(heading)
        super().write_heading(messages.text_in(help_language(), key) if key else heading)


class LocalOption(click.Option):
    """An option whose help and "[default: …]" note are in the help language."""

    def __init__(self, *args: Any, **settings: Any) -> None:
        self.help_words = settings.get("help")  # click keeps a plain copy of it
        self.default_words = settings.get("show_default")
        super().__init__(*args, **settings)

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        """The option's names and help, its default noted in the help language."""
        record = super().get_help_record(ctx)
        if record is None or not hasattr(self, "get_help_extra"):
            return record
        if isinstance(self.default_words, Words):
            self.show_default = self.default_words.now()
        extra = self.get_help_extra(ctx)
        notes = [f"{Words('default').now()}: {extra['default']}"] if "default" in extra else []
        notes += [extra["range"]] if "range" in extra else []
        notes += [Words("required").now()] if "required" in extra else []
        text = str(_now(self.help_words) or "")
        if notes:
            text = f"{text}  [{'; '.join(notes)}]" if text else f"[{'; '.join(notes)}]"
        return record[0], text


def option(*names: str, **settings: Any):
    """``click.option`` making a ``LocalOption``."""
    return click.option(*names, cls=LocalOption, **settings)


class LocalContext(click.Context):
    """A click context whose help is laid out by ``LocalFormatter``."""

    formatter_class = LocalFormatter


class _SaysHelpNow:
    """A command's help said in the language of the moment it is shown."""

    help_words: object = None

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The help text, said now."""
        if isinstance(self.help_words, Words):
            self.help = self.help_words.now()  # type: ignore[attr-defined]
        super().format_help_text(ctx, formatter)  # type: ignore[misc]

    def get_short_help_str(self, limit: int = 45) -> str:
        """The one-line help in a group's list, said now."""
        if isinstance(self.help_words, Words):
            self.help = self.help_words.now()  # type: ignore[attr-defined]
        return super().get_short_help_str(limit)  # type: ignore[misc]

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        """--help, described in the help language."""
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = Words("help_option").now()
        return option


class LocalCommand(_SaysHelpNow, click.Command):
    """A command whose help, headings and --help text are in the help language."""

    context_class = LocalContext

    def __init__(self, *args: Any, **settings: Any) -> None:
        self.help_words = settings.get("help")
        super().__init__(*args, **settings)


class LocalGroup(_SaysHelpNow, click.Group):
    """The command group: its commands are ``LocalCommand``s, its help is translated."""

    context_class = LocalContext
    command_class = LocalCommand

    def __init__(self, *args: Any, **settings: Any) -> None:
        self.help_words = settings.get("help")
        super().__init__(*args, **settings)


def config_option(**extra: Any):
    """The --config / -c option every command that reads the config takes."""
    return option(
        "--config",
        "-c",
        "config_path",
        type=click.Path(path_type=Path),
        default=lambda: os.environ.get("BIBLIOBOT_CONFIG", DEFAULT_CONFIG),
        show_default=words("opt_config_default"),
        help=words("opt_config"),
        **extra,
    )
