"""The table of Bot API methods the stand-in implements, filled by @api_method.

Method names are case-insensitive on the real API, so the table is keyed by lower case.
A method takes the World and the call's Params and returns the ``result`` of the envelope.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.telegram.params import Params
from sandbox.telegram.world import World

Method = Callable[[World, Params], Any]
METHODS: dict[str, Method] = {}


def api_method(name: str) -> Callable[[Method], Method]:
    """Register a function as the implementation of the Bot API method name."""

    def register(function: Method) -> Method:
        METHODS[name.lower()] = function
        return function

    return register
