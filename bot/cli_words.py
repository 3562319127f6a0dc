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
import re
import sys
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


_EXTRA = re.compile(r"^Got unexpected extra arguments? \((.*)\)$")
_NO_COMMAND = re.compile(r"^No such command '(.*)'\.$")
_NOT_INT = re.compile(r"^'(.*)' is not a valid integer\.$")
_NOT_CHOICE = re.compile(r"^'(.*)' is not one of (.*)\.$")


def said_error(error: click.ClickException) -> str:
    """A click error in the help language (its usage line and hint included)."""
    ctx = getattr(error, "ctx", None)
    lines = []
    if isinstance(error, click.UsageError) and ctx is not None:
        lines.append(ctx.get_usage())
        names = ctx.command.get_help_option_names(ctx)
        if names:
            hint = Words("try_help", command=ctx.command_path, option=max(names, key=len))
            lines += [hint.now(), ""]
    lines.append(Words("error", message=_message(error)).now())
    return "\n".join(lines)


def _message(error: click.ClickException) -> str:
    """What went wrong, said in the help language where click's words are known."""
    if isinstance(error, click.NoSuchOption):
        said = Words("no_such_option", name=error.option_name).now()
        if error.possibilities:
            said += Words("did_you_mean", names=", ".join(error.possibilities)).now()
        return said
    if isinstance(error, click.MissingParameter) and error.param is not None:
        argument = error.param.param_type_name == "argument"
        kind = "missing_argument" if argument else "missing_option"
        return Words(kind, name=error.param.get_error_hint(error.ctx)).now()
    if isinstance(error, click.BadParameter) and error.param is not None:
        detail = error.message
        if found := _NOT_INT.match(detail):
            detail = Words("not_an_integer", value=found[1]).now()
        elif found := _NOT_CHOICE.match(detail):
            detail = Words("not_a_choice", value=found[1], choices=found[2]).now()
        name = error.param_hint or error.param.get_error_hint(error.ctx)
        return Words("invalid_value", name=name, detail=detail).now()
    if found := _NO_COMMAND.match(error.message):
        return Words("no_such_command", name=found[1]).now()
    if found := _EXTRA.match(error.message):
        return Words("extra_arguments", args=found[1]).now()
    return error.format_message()


class LocalGroup(_SaysHelpNow, click.Group):
    """The command group: its commands are ``LocalCommand``s, its help is translated."""

    context_class = LocalContext
    command_class = LocalCommand

    def main(self, *args: Any, standalone_mode: bool = True, **settings: Any) -> Any:
        """Run the command; click's own errors are said in the help language."""
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **settings)
        try:
            done = super().main(*args, standalone_mode=False, **settings)
        except click.ClickException as error:
            click.echo(said_error(error), err=True)
            sys.exit(error.exit_code)
        except click.exceptions.Abort:
            click.echo(Words("aborted").now(), err=True)
            sys.exit(1)
        # As click's own standalone mode ends: the exit code of ctx.exit(), else 0.
        sys.exit(done if isinstance(done, int) else 0)

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
