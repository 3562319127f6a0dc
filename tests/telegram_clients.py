"""python-telegram-bot request objects for tests, sharing one TLS context."""

from __future__ import annotations

import ssl
from typing import Any

from telegram.request import HTTPXRequest

# httpx builds a TLS context per client otherwise (about 50 ms each).
TLS = ssl.create_default_context()


def make_request(**kwargs: Any) -> HTTPXRequest:
    """An HTTPXRequest reusing the shared TLS context."""
    return HTTPXRequest(httpx_kwargs={"verify": TLS}, **kwargs)
