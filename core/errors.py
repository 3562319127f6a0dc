"""The project's failure vocabulary.

Adapters translate the client libraries' exceptions into these; the scheduler
and the CLI decide what to do from these types alone::

    BibliobotError
    ├── InputError                 bad input a person can fix (file, line, field)
    │   ├── ConfigError
    │   └── EventFileError
    ├── MissingSecret              a token variable named in the config is unset
    └── PlatformError              a VK or Telegram call did not succeed
        ├── RetryLater             transient: try again after ``delay`` seconds
        ├── AmbiguousOutcome       the request may or may not have taken effect
        ├── AuthFailed             the token is wrong or revoked
        ├── Forbidden              the token lacks a right, or the bot was removed
        ├── BadContent             the platform refused the content itself
        └── NotFound               the chat, community or post does not exist
"""

from __future__ import annotations


class BibliobotError(Exception):
    """Base of every error bibliobot raises on purpose."""


class InputError(BibliobotError):
    """Bad input that a person can fix; the message names where."""

    def __init__(self, path: object, field: str, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.field = field
        self.line = line
        self.message = message
        where = self.path if line is None else f"{self.path}:{line}"
        label = f" [{field}]" if field else ""
        super().__init__(f"{where}{label}: {message}")


class ConfigError(InputError):
    """The configuration file is invalid."""


class EventFileError(InputError):
    """An event file is invalid."""


class MissingSecret(BibliobotError):
    """An environment variable named in the config is not set."""

    def __init__(self, variable: str, purpose: str, library: str = "") -> None:
        from core import messages  # the catalogue: the sentence in the reader's language

        self.variable = variable
        self.purpose = purpose
        said = messages.text(f"config.secret_{purpose}") if purpose else ""
        super().__init__(
            messages.text("config.missing_secret", variable=variable, purpose=said, library=library)
        )


class PlatformError(BibliobotError):
    """A platform call failed; ``network`` says which platform."""

    def __init__(self, message: str, network: str = "") -> None:
        self.network = network
        super().__init__(message)


class RetryLater(PlatformError):
    """Transient failure (rate limit, server error, timeout); retry after ``delay`` s."""

    def __init__(self, message: str, network: str = "", delay: float = 1.0) -> None:
        super().__init__(message, network)
        self.delay = delay


class AmbiguousOutcome(PlatformError):
    """The request was sent but its outcome is unknown (e.g. the answer was lost)."""


class AuthFailed(PlatformError):
    """The platform rejected the token."""


class Forbidden(PlatformError):
    """The token is valid but lacks the right to do this."""


class BadContent(PlatformError):
    """The platform refused the content (too long, bad markup, bad file)."""


class NotFound(PlatformError):
    """The chat, community or post does not exist."""


class Problems(BibliobotError):
    """Several input errors at once; ``problems`` holds them, one line each."""

    def __init__(self, problems: list[InputError]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
