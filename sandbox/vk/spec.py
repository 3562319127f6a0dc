"""What the stand-in knows of the official VK API description at run time: spec_index.json.

The index is derived from VKCOM/vk-api-schema (MIT, see SPEC_LICENSE) and committed beside
this module, so the stand-in needs no copy of the schema. It is rebuilt with
``python -m sandbox.vk_spec --build-index`` and checked against the schema by the tests.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

INDEX_FILE = "spec_index.json"


@cache
def index() -> dict[str, Any]:
    """The whole index: ``{"errors": {code: message}, "methods": {name: entry}}``."""
    text = resources.files(__package__).joinpath(INDEX_FILE).read_text(encoding="utf-8")
    return json.loads(text)


def known(name: str) -> bool:
    """Whether VK has a method of this name."""
    return name in index()["methods"]


def token_types(name: str) -> list[str]:
    """Which token types may call the method: some of "user", "group", "service"."""
    return index()["methods"][name]["access_token_type"]


def parameters(name: str) -> list[dict[str, Any]]:
    """The method's parameters in VK's order: name, type, required, length/item limits."""
    return index()["methods"][name]["parameters"]


def error_message(code: int) -> str:
    """VK's standard message for an error code."""
    return index()["errors"].get(str(code), "Unknown error occurred")
