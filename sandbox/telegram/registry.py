"""The table of Bot API methods the stand-in implements, filled by @api_method.

Method names are case-insensitive on the real API, so the table is keyed by lower case;
``NAMES`` keeps them as documented, for a stand-in told to match names exactly.
A method takes the World and the call's Params and returns the ``result`` of the envelope.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.telegram.params import Params
from sandbox.telegram.world import World

Method = Callable[[World, Params], Any]
METHODS: dict[str, Method] = {}
NAMES: set[str] = {"getUpdates"}  # as documented; getUpdates is served by the stand-in itself


def api_method(name: str) -> Callable[[Method], Method]:
    """Register a function as the implementation of the Bot API method name."""

    def register(function: Method) -> Method:
        METHODS[name.lower()] = function
        NAMES.add(name)
        return function

    return register
