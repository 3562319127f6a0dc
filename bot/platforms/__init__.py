"""Network adapters behind one interface (``base.Platform``), built from the config."""

from __future__ import annotations

from collections.abc import Mapping

from core.config import Config, library_tokens
from core.platform import Platform


def build_platforms(
    config: Config, env: Mapping[str, str] | None = None, rate_limit: bool = True
) -> dict[tuple[str, str], Platform]:
    """One adapter per (library id, network); MissingSecret if a token is unset."""
    from bot.platforms.telegram import TelegramPlatform
    from bot.platforms.vk import VkPlatform
    from bot.platforms.vk_client import VkClients

    platforms: dict[tuple[str, str], Platform] = {}
    # Rate limits belong to a token, so libraries sharing a token share its client.
    vk_clients = VkClients()
    bots: dict[tuple[str, str], TelegramPlatform] = {}
    for library in config.libraries:
        tokens = library_tokens(library, env)
        tg = library.telegram
        if tg and tokens.telegram:
            key = (tokens.telegram, tg.api_url)
            if key not in bots:
                bots[key] = TelegramPlatform(
                    tokens.telegram, tg.api_url, timeout=tg.timeout, rate_limit=rate_limit
                )
            platforms[(library.id, "telegram")] = bots[key]
        if library.vk:
            platforms[(library.id, "vk")] = VkPlatform(
                library.vk.group_id,
                tokens.vk_user,
                tokens.vk_community,
                library.vk.api_url,
                library.vk.requests_per_second,
                timeout=library.vk.timeout,
                clients=vk_clients,
            )
    return platforms
