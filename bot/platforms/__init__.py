"""Network adapters behind one interface (``core.platform.Platform``), built from the config.

``ADAPTERS`` maps each network of ``core.networks`` to the module of its adapter; each such
module has ``build(library, tokens, rate_limit, shared)``, returning the library's adapter or
None when the library is not on that network. Modules are imported when a bot is built, so
``validate`` and ``plan`` load no network client.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Protocol

from core import networks
from core.config import Config, LibraryConfig, LibraryTokens, library_tokens
from core.platform import Platform

ADAPTERS: Mapping[str, str] = {
    "telegram": "bot.platforms.telegram",
    "vk": "bot.platforms.vk",
    "max": "bot.platforms.max",
}


class Builder(Protocol):
    """An adapter module's ``build``: ``shared`` keeps what libraries of one token share."""

    def __call__(
        self, library: LibraryConfig, tokens: LibraryTokens, rate_limit: bool, shared: dict
    ) -> Platform | None: ...


def builder(name: str) -> Builder:
    """The ``build`` of the network ``name``'s adapter."""
    return importlib.import_module(ADAPTERS[name]).build


def build_platforms(
    config: Config, env: Mapping[str, str] | None = None, rate_limit: bool = True
) -> dict[tuple[str, str], Platform]:
    """One adapter per (library id, network); MissingSecret if a token is unset."""
    builders = {name: builder(name) for name in networks.names()}
    shared: dict[str, dict] = {name: {} for name in builders}
    platforms: dict[tuple[str, str], Platform] = {}
    for library in config.libraries:
        tokens = library_tokens(library, env)
        for name, build in builders.items():
            platform = build(library, tokens, rate_limit, shared[name])
            if platform is not None:
                platforms[(library.id, name)] = platform
    return platforms
