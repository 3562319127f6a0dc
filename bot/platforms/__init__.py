"""Network adapters behind one interface (``base.Platform``), built from the config."""

from __future__ import annotations

from collections.abc import Mapping

from bot.config import Config, library_tokens
from bot.platforms.base import Platform


def build_platforms(
    config: Config, env: Mapping[str, str] | None = None, rate_limit: bool = True
) -> dict[tuple[str, str], Platform]:
    """One adapter per (library id, network); MissingSecret if a token is unset."""
    from bot.platforms.telegram import TelegramPlatform
    from bot.platforms.vk import VkPlatform

    platforms: dict[tuple[str, str], Platform] = {}
    for library in config.libraries:
        tokens = library_tokens(library, env)
        if library.telegram and tokens.telegram:
            platforms[(library.id, "telegram")] = TelegramPlatform(
                tokens.telegram, library.telegram.api_url, rate_limit=rate_limit
            )
        if library.vk:
            platforms[(library.id, "vk")] = VkPlatform(
                library.vk.group_id,
                tokens.vk_user,
                tokens.vk_community,
                library.vk.api_url,
                library.vk.requests_per_second,
            )
    return platforms
