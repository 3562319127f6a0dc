"""The config: valid files parse into typed objects; every bad value is one clear line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from core import messages
from core.config import library_tokens
from core.config_file import load_config
from core.errors import ConfigError, MissingSecret, Problems
from tests.conftest import TG_ENV, VK_USER_ENV, write_config

ROOT = Path(__file__).resolve().parent.parent


def test_example_config_parses_into_typed_objects() -> None:
    config = load_config(ROOT / "config.example.toml")
    central, branch = config.libraries
    assert central.timezone.key == "Europe/Moscow"
    assert central.telegram and central.telegram.chats == ("@central_library",)
    assert branch.networks == ("vk",)
    assert branch.vk and branch.vk.user_token_env is None
    assert config.schedule.snapshot_after == (
        timedelta(hours=1),
        timedelta(days=1),
        timedelta(days=7),
    )
    assert config.storage == (ROOT / "data" / "bibliobot.db")


def _problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(Problems) as caught:
        load_config(path)
    return [str(p) for p in caught.value.problems]


def test_bad_values_name_file_line_and_key(tmp_path: Path) -> None:
    lines = _problems(
        tmp_path,
        'language = "de"\n\n[[library]]\nid = "central"\nname = "X"\ntimezone = "Europe/Moskow"\n'
        '[library.vk]\ngroup_id = -5\nuser_token_env = "vk1.a.secret-token"\n',
    )
    path = tmp_path / "config.toml"
    assert lines == [
        # a language the bot does not speak: its problems are told in Russian, the default
        f"{path}:1 [language]: должно быть ru или en, а не 'de'",
        f"{path}:6 [library[central].timezone]: неизвестный часовой пояс IANA 'Europe/Moskow' (например, \"Europe/Moscow\")",
        f"{path}:8 [library[central].vk.group_id]: должно быть положительным id сообщества (без минуса)",
        f"{path}:9 [library[central].vk.user_token_env]: должно быть ИМЕНЕМ переменной окружения, а не самим токеном",
    ]


def test_second_library_errors_point_at_its_own_lines(tmp_path: Path) -> None:
    good = 'id = "{id}"\nname = "N"\ntimezone = "Asia/Kamchatka"\n[library.vk]\ngroup_id = {gid}\ncommunity_token_env = "T"\n'
    text = (
        "[[library]]\n"
        + good.format(id="a", gid=1)
        + "[[library]]\n"
        + good.format(id="b", gid='"12"')
    )
    lines = _problems(tmp_path, text)
    assert lines == [
        f"{tmp_path / 'config.toml'}:13 [library[b].vk.group_id]: должно быть целым числом, а не '12'"
    ]


def test_toml_syntax_error_gives_its_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('storage = "a.db"\nlanguage = ru\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}:2: ошибка в записи TOML")


def test_unknown_key_and_missing_network_are_reported(tmp_path: Path) -> None:
    lines = _problems(
        tmp_path, '[[library]]\nid = "a"\nname = "N"\ntimezone = "UTC"\ntimezon = "UTC"\n'
    )
    assert any("[library[a].timezon]: неизвестный ключ" in line and ":5 " in line for line in lines)
    assert any("подключите хотя бы одну сеть" in line for line in lines)


def test_missing_token_variable_says_which_and_what_for(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, language="en"))
    with pytest.raises(MissingSecret) as caught:
        library_tokens(config.libraries[0], {VK_USER_ENV: "x"})
    assert str(caught.value) == (
        f"переменная окружения {TG_ENV} не задана: в ней должен быть токен бота Telegram "
        "(от @BotFather) библиотеки «central»"
    )
    with messages.use_language("en"), pytest.raises(MissingSecret) as caught:
        library_tokens(config.libraries[0], {VK_USER_ENV: "x"})
    assert str(caught.value) == (
        f"environment variable {TG_ENV} is not set: it must hold the Telegram bot token "
        "(from @BotFather) of library 'central'"
    )


def test_tokens_come_from_the_environment_only(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, language="en"))
    env = {TG_ENV: "1:abc", VK_USER_ENV: "user", "TEST_VK_COMMUNITY_TOKEN": "community"}
    tokens = library_tokens(config.libraries[0], env)
    assert (tokens.telegram, tokens.vk_user, tokens.vk_community) == ("1:abc", "user", "community")


def test_grace_per_kind_and_telegram_resend_are_read(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        extra_schedule='refresh_every = "10s"\n[schedule.grace]\nreminder = "2m"\npublish = "1h"',
    )
    text = path.read_text(encoding="utf-8").replace(
        'token_env = "TEST_TG_TOKEN"', 'token_env = "TEST_TG_TOKEN"\nresend_uncertain = true'
    )
    path.write_text(text, encoding="utf-8")
    config = load_config(path)
    assert config.schedule.grace("reminder") == timedelta(minutes=2)
    assert config.schedule.grace("publish") == timedelta(hours=1)
    assert config.schedule.grace("snapshot") is None
    assert config.schedule.refresh_every == timedelta(seconds=10)
    assert config.libraries[0].telegram.resend_uncertain is True


def test_unknown_grace_kind_is_refused(tmp_path: Path) -> None:
    path = write_config(tmp_path, language="en", extra_schedule='[schedule.grace]\nquizz = "2m"')
    with pytest.raises(Problems) as caught:
        load_config(path)
    assert "[schedule.grace.quizz]: needs an action kind (publish, reminder, question)" in str(
        caught.value
    )


# -- MAX ---------------------------------------------------------------------------------

_MAX_LIBRARY = '[[library]]\nid = "central"\nname = "N"\ntimezone = "UTC"\n[library.max]\n'


def test_max_section_parses_with_its_defaults(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        _MAX_LIBRARY
        + 'token_env = "MAX_TOKEN"\nchannels = [-72996371719896, "-100200"]\nquiz_chat = "-5"\n'
        + "staff = [7]\n",
        encoding="utf-8",
    )
    config = load_config(path)
    [library] = config.libraries
    mx = library.max
    assert library.networks == ("max",)
    assert library.settings("max") is mx and library.settings("telegram") is None
    assert mx.channels == ("-72996371719896", "-100200") == mx.post_targets
    assert (mx.quiz_chat, mx.quiz_target, mx.staff) == ("-5", "-5", (7,))
    assert (mx.api_url, mx.timeout, mx.resend_uncertain) == (
        "https://platform-api2.max.ru",
        10.0,
        False,
    )
    assert (mx.updates, mx.webhook_url, mx.webhook_secret_env) == ("poll", None, None)
    assert (config.webhook.listen, config.webhook.path_prefix) == ("127.0.0.1:8088", "/max/")
    assert config.webhook.path("central") == "/max/central"
    tokens = library_tokens(library, {"MAX_TOKEN": "raw-token"})
    assert (tokens.max, tokens.max_webhook_secret, tokens.telegram) == ("raw-token", None, None)


def test_max_webhook_mode_and_its_secret(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[webhook]\nlisten = "0.0.0.0:9000"\npath_prefix = "/hooks/max/"\n\n'
        + _MAX_LIBRARY
        + 'token_env = "MAX_TOKEN"\nchannels = [-1]\nupdates = "webhook"\n'
        + 'webhook_url = "https://bot.library.ru/hooks/max/central"\n'
        + 'webhook_secret_env = "MAX_SECRET"\nresend_uncertain = true\n',
        encoding="utf-8",
    )
    config = load_config(path)
    mx = config.libraries[0].max
    assert (mx.updates, mx.webhook_url, mx.resend_uncertain) == (
        "webhook",
        "https://bot.library.ru/hooks/max/central",
        True,
    )
    assert (config.webhook.host, config.webhook.port) == ("0.0.0.0", 9000)
    assert config.webhook.path("central") == "/hooks/max/central"
    with pytest.raises(MissingSecret, match="MAX_SECRET"):
        library_tokens(config.libraries[0], {"MAX_TOKEN": "t"})
    tokens = library_tokens(config.libraries[0], {"MAX_TOKEN": "t", "MAX_SECRET": "s3cret"})
    assert tokens.max_webhook_secret == "s3cret"


def test_max_bad_values_name_file_line_and_key(tmp_path: Path) -> None:
    lines = _problems(
        tmp_path,
        '[webhook]\nlisten = "8088"\npath_prefix = "max"\nport = 1\n\n'
        + _MAX_LIBRARY
        + 'token_env = "f9a8-raw-token"\nchannels = ["@channel"]\nquiz_chat = true\n'
        + 'updates = "push"\nwebhook_url = "http://bot.library.ru/max"\nchanels = []\n'
        + "timeout = 0\n",
    )
    path = tmp_path / "config.toml"
    assert lines == [
        f"{path}:4 [webhook.port]: неизвестный ключ; известные: listen, path_prefix",
        f"{path}:2 [webhook.listen]: должно быть в виде хост:порт, например \"127.0.0.1:8088\", а не '8088'",
        f'{path}:3 [webhook.path_prefix]: должно быть путём URL, который начинается и заканчивается на "/", например "/max/", а не \'max\'',
        f"{path}:16 [library[central].max.chanels]: неизвестный ключ; может быть, имелся в виду `channels`?",
        f"{path}:11 [library[central].max.token_env]: должно быть ИМЕНЕМ переменной окружения, а не самим токеном",
        f"{path}:12 [library[central].max.channels]: должно быть списком числовых id каналов (вроде -72996371719896)",
        f"{path}:13 [library[central].max.quiz_chat]: должно быть числовым id группового чата (вроде -78835471834864), а не True",
        f"{path}:17 [library[central].max.timeout]: должно быть числом секунд, от 0 до 300",
        f'{path}:14 [library[central].max.updates]: должно быть "poll" или "webhook", а не \'push\'',
        f"{path}:15 [library[central].max.webhook_url]: должно быть адресом https:// (MAX отправляет только по HTTPS), а не 'http://bot.library.ru/max'",
    ]


def test_max_required_keys(tmp_path: Path) -> None:
    lines = _problems(tmp_path, _MAX_LIBRARY + 'updates = "webhook"\nchannels = []\n')
    path = tmp_path / "config.toml"
    assert lines == [
        f"{path}:5 [library[central].max.token_env]: обязательно, но не указано",
        f"{path}:7 [library[central].max.channels]: нужен хотя бы один канал",
        f'{path}:5 [library[central].max.webhook_url]: обязательно при updates = "webhook"',
        f'{path}:5 [library[central].max.webhook_secret_env]: обязательно при updates = "webhook"',
    ]
