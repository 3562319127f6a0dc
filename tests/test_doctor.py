"""``bibliobot doctor`` on the stand-ins: a healthy setup passes, each fault shows with its fix.

The command talks to the Telegram, VK and MAX stand-ins through the real clients
(python-telegram-bot, vk_api, httpx); each test breaks one thing through the stand-ins'
control side and reads what a librarian would read, in Russian, and the exit code.
"""

from __future__ import annotations

import ast
import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bot import doctor as doctor_module
from bot.cli_doctor import doctor
from core import messages
from sandbox.server import Sandbox

TG, VK_USER, VK_COMMUNITY, MAX = "DOC_TG_TOKEN", "DOC_VK_USER", "DOC_VK_COMMUNITY", "DOC_MAX_TOKEN"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def box() -> Iterator[Sandbox]:
    with Sandbox(seed=7) as running:
        running.vk.set_rate_limits(enabled=False)
        yield running


@dataclass
class Setup:
    """The stand-ins' details and a config written for them."""

    box: Sandbox
    folder: Path
    tg: dict[str, Any]
    vk: dict[str, Any]
    mx: dict[str, Any]

    def env(self, **changed: str) -> dict[str, str]:
        """The tokens, with some changed (by variable name)."""
        tokens = {
            TG: self.tg["token"],
            VK_USER: self.vk["user_token"],
            VK_COMMUNITY: self.vk["community_token"],
            MAX: self.mx["token"],
        }
        return {**tokens, **changed}

    def config(
        self,
        *,
        language: str = "ru",
        user_token: bool = True,
        admins: bool = True,
        group_id: int | None = None,
        telegram_url: str | None = None,
    ) -> Path:
        """A one-library config on the three stand-ins."""
        (self.folder / "events").mkdir(exist_ok=True)
        user_line = f'user_token_env = "{VK_USER}"\n' if user_token else ""
        tg_admins = f"[{self.tg['owner_id']}]" if admins else "[]"
        vk_admins = f"[{self.vk['admin_id']}]" if admins else "[]"
        path = self.folder / "config.toml"
        path.write_text(
            f"""storage = "bibliobot.db"
language = "{language}"
events_dir = "events"

[[library]]
id = "central"
name = "Центральная библиотека"
timezone = "Europe/Moscow"
admins = {tg_admins}

[library.telegram]
token_env = "{TG}"
chats = [{self.tg["channel_id"]}]
quiz_chat = {self.tg["group_id"]}
api_url = "{telegram_url or self.tg["api_url"]}"
timeout = 5

[library.vk]
group_id = {group_id or self.vk["group_id"]}
{user_line}community_token_env = "{VK_COMMUNITY}"
api_url = "{self.vk["api_url"]}"
requests_per_second = 100
admins = {vk_admins}

[library.max]
token_env = "{MAX}"
channels = [{self.mx["channel_id"]}]
quiz_chat = {self.mx["chat_id"]}
api_url = "{self.mx["api_url"]}"
""",
            encoding="utf-8",
        )
        return path

    def admins_started(self) -> None:
        """Each admin has opened the chat with the bot (Telegram) and written to the community
        (VK), as the README asks them to."""
        owner = self.tg["owner_id"]
        self.box.telegram.post_as_user(owner, owner, "/start")
        self.box.vk.write(self.vk["admin_id"], "Начать")


@pytest.fixture
def setup(box: Sandbox, tmp_path: Path) -> Setup:
    info = box.info()
    return Setup(box, tmp_path, info["telegram"], info["vk"], info["max"])


def run(config: Path, env: dict[str, str]) -> Result:
    """The command as a librarian runs it; never a traceback."""
    result = CliRunner().invoke(doctor, ["--config", str(config)], env=env)
    assert result.exit_code in (0, 1), (result.output, result.exception)
    assert "Traceback" not in result.output
    return result


def failed(result: Result) -> list[str]:
    """The lines marked ✗."""
    return [line.strip()[2:] for line in result.output.splitlines() if line.strip()[:1] == "✗"]


def healthy_run(setup: Setup, **changed: str) -> Result:
    setup.admins_started()
    return run(setup.config(), setup.env(**changed))


# -- a healthy setup -------------------------------------------------------------------


def test_a_healthy_setup_passes_on_all_three_networks(setup: Setup) -> None:
    result = healthy_run(setup)
    out = result.output
    assert result.exit_code == 0, out
    assert "✗" not in out and "⚠" not in out
    bot = setup.tg["bot_username"]
    for line in (
        "Библиотека «Центральная библиотека» (central)",
        f"✓ Токен бота работает: это бот @{bot}.",
        "бот — администратор и может публиковать.",
        "✓ Группа для викторин «",
        "✓ Ответы и реакции читателей будут приходить боту.",
        f"✓ Администратор Анна Смирнова ({setup.tg['owner_id']}) открыл чат с ботом",
        f"✓ Токен пользователя из {VK_USER} работает",
        "✓ Публикации на стене: токен пользователя имеет права wall и photos",
        f"✓ Токен сообщества из {VK_COMMUNITY} работает: сообщество "
        f"«{setup.vk['group_name']}» (id {setup.vk['group_id']}).",
        "✓ У токена сообщества есть все нужные права",
        "✓ Long Poll API включён со всеми нужными типами событий",
        f"✓ Администратор ВКонтакте {setup.vk['admin_id']} разрешил сообществу писать ему",
        f"✓ Токен бота работает: это бот {setup.mx['bot_username']}.",
        "✓ Канал «",
        "»: бот — администратор, может публиковать и читать комментарии.",
        "✓ Чат для викторин «Книжный клуб»: бот — администратор",
        "✓ Обновления: бот сам забирает их у MAX",
        "Итого: всё в порядке, бот готов к работе",
    ):
        assert line in out, line
    for token in setup.env().values():  # never a secret on the screen
        assert token not in out


def test_the_english_config_reads_in_english(setup: Setup) -> None:
    setup.admins_started()
    result = run(setup.config(language="en"), setup.env())
    assert result.exit_code == 0, result.output
    assert f"✓ The bot's token works: it is the bot @{setup.tg['bot_username']}." in result.output
    assert "Summary: all is well" in result.output
    assert "Токен" not in result.output


# -- Telegram --------------------------------------------------------------------------


def test_a_wrong_telegram_token(setup: Setup) -> None:
    result = healthy_run(setup, **{TG: f"{setup.tg['bot_id']}:not-the-token"})
    assert result.exit_code == 1
    assert failed(result) == [
        f"Telegram не принимает токен бота из переменной {TG}: токен неверный или его отозвали."
    ]
    assert "@BotFather → /mybots" in result.output
    assert f"✓ Токен сообщества из {VK_COMMUNITY} работает" in result.output  # the rest checked
    assert "Итого: не в порядке 1 из" in result.output


def test_the_bot_not_an_admin_of_the_channel(setup: Setup) -> None:
    setup.box.telegram.remove_bot(setup.tg["channel_id"])
    result = healthy_run(setup)
    assert result.exit_code == 1
    [line] = failed(result)
    assert line.startswith("Канал «") and line.endswith(
        "»: бот не администратор, публиковать туда он не может."
    )
    assert "Как исправить: В Telegram откройте канал" in result.output
    assert f"найдите бота @{setup.tg['bot_username']}, включите право «Публикация сообщений»" in (
        result.output
    )


def test_the_bot_without_the_right_to_post(setup: Setup) -> None:
    setup.box.telegram.set_bot_rights(setup.tg["channel_id"], {"can_post_messages": False})
    result = healthy_run(setup)
    assert result.exit_code == 1
    [line] = failed(result)
    assert line.endswith("»: бот — администратор, но без права публиковать сообщения.")
    assert f"Администраторы → @{setup.tg['bot_username']}, включите право" in result.output


def test_an_admin_who_never_started_the_chat(setup: Setup) -> None:
    setup.box.vk.write(setup.vk["admin_id"], "Начать")  # the VK admin did; the Telegram one not
    result = run(setup.config(), setup.env())
    assert result.exit_code == 1
    owner = setup.tg["owner_id"]
    assert failed(result) == [
        f"Администратор {owner} (из списка admins) ещё не открыл чат с ботом: бот не может "
        "ему писать — ни уведомлений, ни ответов на команды."
    ]
    assert (
        f"Как исправить: Попросите администратора {owner} найти в Telegram бота "
        f"@{setup.tg['bot_username']} и нажать «Запустить»"
    ) in result.output


def test_a_telegram_server_that_does_not_answer_is_a_failed_check(setup: Setup) -> None:
    setup.admins_started()
    result = run(setup.config(telegram_url="http://127.0.0.1:9/bot"), setup.env())
    assert result.exit_code == 1
    assert failed(result) == [
        "Сервер http://127.0.0.1:9/bot не отвечает: проверить настройки не удалось."
    ]
    assert "✓ Обновления: бот сам забирает их у MAX" in result.output


# -- VK --------------------------------------------------------------------------------


def test_a_user_token_without_wall(setup: Setup) -> None:
    result = healthy_run(setup, **{VK_USER: setup.vk["user_token_without_wall"]})
    assert result.exit_code == 1
    assert failed(result) == [
        f"У токена пользователя из {VK_USER} нет нужных прав: wall (публикация на стене). Посты на стене сообщества "
        "выходить не будут."
    ]
    assert "Как исправить: Получите новый токен пользователя с правами wall, photos" in (
        result.output
    )
    assert "уберите строку user_token_env" not in result.output  # VK takes none from the group


def test_a_user_token_without_wall_where_the_community_token_may_post(setup: Setup) -> None:
    setup.box.vk.set_community_wall_posts(True)
    result = healthy_run(setup, **{VK_USER: setup.vk["user_token_without_wall"]})
    assert result.exit_code == 1  # the bot posts with the user token while one is set
    assert len(failed(result)) == 1
    assert (
        "Или уберите строку user_token_env из [library.vk]: ВКонтакте принимает посты от "
        "токена сообщества, и бот будет публиковать текст сам"
    ) in result.output
    assert setup.box.vk.posts(setup.vk["group_id"]) == []  # the probe published nothing


def test_a_user_token_without_photos(setup: Setup) -> None:
    setup.box.vk.set_token_rights(setup.vk["user_token"], take=["photos"])
    result = healthy_run(setup)
    assert result.exit_code == 1
    assert failed(result) == [
        f"У токена пользователя из {VK_USER} нет нужных прав: photos (загрузка картинок). Посты на стене сообщества "
        "выходить не будут."
    ]


def test_community_token_mode_where_vk_takes_its_posts(setup: Setup) -> None:
    setup.box.vk.set_community_wall_posts(True)
    setup.admins_started()
    result = run(setup.config(user_token=False), setup.env())
    assert result.exit_code == 0, result.output
    assert (
        "⚠ Токена пользователя нет: посты без картинок бот публикует от имени сообщества "
        "токеном сообщества, а посты с картинкой присылает администраторам"
    ) in result.output
    assert "Что можно сделать: Чтобы все посты выходили сами" in result.output
    assert "Итого: бот будет работать, но есть замечания (1 из" in result.output
    assert setup.box.vk.posts(setup.vk["group_id"]) == []


def test_community_token_mode_where_vk_refuses_its_posts(setup: Setup) -> None:
    setup.admins_started()
    result = run(setup.config(user_token=False), setup.env())
    assert result.exit_code == 0, result.output
    assert (
        "⚠ Токена пользователя нет, а от токена сообщества ВКонтакте посты на стене не "
        "принимает: каждый пост бот пришлёт администраторам"
    ) in result.output


def test_community_token_mode_with_nobody_to_hand_posts_to(setup: Setup) -> None:
    result = run(setup.config(user_token=False, admins=False), setup.env())
    assert result.exit_code == 1
    [line] = failed(result)
    assert line.startswith("Токена пользователя нет, ВКонтакте не принимает посты")
    assert "впишите администраторов (admins)" in result.output


def test_a_community_token_without_messages(setup: Setup) -> None:
    setup.box.vk.set_token_rights(setup.vk["community_token"], take=["messages"])
    result = healthy_run(setup)
    assert result.exit_code == 1
    assert (
        "У токена сообщества нет доступа «сообщения сообщества»: бот не сможет писать "
        "администраторам и вести викторины в беседах."
    ) in failed(result)
    assert "Права токена не меняются: создайте новый" in result.output


def test_community_messages_switched_off(setup: Setup) -> None:
    setup.box.vk.set_community_messages(False)
    result = healthy_run(setup)
    assert result.exit_code == 1
    assert failed(result) == [
        "Сообщения сообщества выключены: бот не сможет писать администраторам и отвечать на "
        "команды во ВКонтакте."
    ]


def test_the_long_poll_switched_off(setup: Setup) -> None:
    setup.box.vk.set_long_poll(enabled=False)
    result = healthy_run(setup)
    assert result.exit_code == 1
    assert failed(result) == [
        "Long Poll API выключен: бот не узнает ни о комментариях, ни о сообщениях, ни об "
        "ответах на викторины."
    ]
    assert "Long Poll API: выберите «Включён» и версию API 5.199" in result.output
    assert "wall_reply_new" in result.output  # the event types to tick are named


@pytest.mark.parametrize(
    ("kinds", "names"),
    [
        (["wall_reply_new"], "Комментарии на стене → Добавление (wall_reply_new)"),
        (
            ["message_new", "like_add"],
            "Отметки «Мне нравится» → Добавление (like_add); "
            "Сообщения → Входящее сообщение (message_new)",
        ),
    ],
)
def test_an_event_type_switched_off(setup: Setup, kinds: list[str], names: str) -> None:
    setup.box.vk.set_long_poll(off=kinds)
    result = healthy_run(setup)
    assert result.exit_code == 1
    assert failed(result) == [f"В Long Poll API выключены нужные боту типы событий: {names}."]
    assert f"вкладка «Типы событий»: отметьте {names}." in result.output


def test_every_event_type_the_intake_reads_has_its_russian_name() -> None:
    kinds = doctor_module._vk_event_types()
    assert {"wall_reply_new", "message_new", "wall_post_new"} <= set(kinds)
    for kind in kinds:
        assert f"doctor.vk_event_{kind}" in messages.catalogue(), kind


def test_a_user_token_that_expires(setup: Setup) -> None:
    setup.box.vk.set_token_rights(setup.vk["user_token"], take=["offline"])
    result = healthy_run(setup)
    assert result.exit_code == 0, result.output  # it works today, and says for how long
    assert (
        f"⚠ У токена пользователя из {VK_USER} нет права offline: такой токен действует "
        "от часа до суток"
    ) in result.output


def test_a_wrong_group_id(setup: Setup) -> None:
    setup.admins_started()
    result = run(setup.config(group_id=999), setup.env())
    assert result.exit_code == 1
    assert failed(result) == [
        "Сообщество с номером 999 не найдено во ВКонтакте.",
        f"Токен из {VK_COMMUNITY} — от другого сообщества: «{setup.vk['group_name']}» "
        f"(id {setup.vk['group_id']}), а в настройках group_id = 999.",
    ]
    assert f"впишите в [library.vk] group_id = {setup.vk['group_id']}" in result.output


def test_tokens_in_each_others_places(setup: Setup) -> None:
    swapped = {VK_USER: setup.vk["community_token"], VK_COMMUNITY: setup.vk["user_token"]}
    result = healthy_run(setup, **swapped)
    assert result.exit_code == 1
    assert failed(result) == [
        f"В переменной {VK_USER} лежит токен сообщества, а там нужен токен пользователя — "
        "администратора сообщества.",
        f"В переменной {VK_COMMUNITY} лежит токен пользователя, а там нужен токен сообщества.",
    ]


# -- MAX -------------------------------------------------------------------------------


def test_a_wrong_max_token(setup: Setup) -> None:
    result = healthy_run(setup, **{MAX: "not-the-token"})
    assert result.exit_code == 1
    assert failed(result) == [
        f"MAX не принимает токен бота из переменной {MAX}: токен неверный или его сменили."
    ]
    assert "business.max.ru" in result.output


def test_the_max_bot_not_in_the_channel(setup: Setup) -> None:
    setup.box.max.remove_bot(setup.mx["channel_id"])
    result = healthy_run(setup)
    assert result.exit_code == 1
    assert failed(result) == [
        f"Канал «{setup.mx['channel_id']}»: бота в нём нет, публиковать туда он не может."
    ]
    assert f"Проверьте номер чата {setup.mx['channel_id']} в настройках [library.max]" in (
        result.output
    )


def test_a_webhook_blocking_max_polling_is_a_warning_the_bot_mends(setup: Setup) -> None:
    import httpx

    setup.box.max.allow_insecure_webhooks(True)
    answer = httpx.post(
        f"{setup.mx['api_url']}/subscriptions",
        headers={"Authorization": setup.mx["token"]},
        json={"url": "http://127.0.0.1:9/old-hook", "secret": "old-secret-123"},
        timeout=5,
    )
    assert answer.json()["success"]
    result = healthy_run(setup)
    assert result.exit_code == 0 and failed(result) == []  # run deletes it at start
    assert "⚠ Обновления: у бота есть подписка-вебхук (http://127.0.0.1:9/old-hook)" in (
        result.output
    )
    assert "Бот удалит подписку сам при запуске" in result.output


# -- the config ------------------------------------------------------------------------


def test_a_missing_token_variable(setup: Setup) -> None:
    env = setup.env()
    del env[MAX]
    setup.admins_started()
    result = run(setup.config(), env)
    assert result.exit_code == 1
    assert failed(result) == [f"Токен не найден: переменная окружения {MAX} не задана или пуста."]


def test_a_broken_config_prints_its_problems(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('language = "fr"\n', encoding="utf-8")
    result = run(path, {})
    assert result.exit_code == 1
    assert f"{path}:1 [language]" in result.output


# -- the catalogue ---------------------------------------------------------------------


def test_every_text_the_doctor_uses_is_in_the_catalogue() -> None:
    """doctor.py names its entries as ``add(status, key, fix_key)`` and a few f-strings."""
    tree = ast.parse(Path(doctor_module.__file__).read_text(encoding="utf-8"))
    keys: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add":
            for arg in node.args[1:3]:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    keys.add(arg.value)
    keys |= {f"{chat}_{state}" for chat in ("tg_group", "tg_quiz_chat")
             for state in ("ok", "member", "absent")}  # fmt: skip
    for right in doctor_module.VK_COMMUNITY_RIGHTS:
        keys |= {f"vk_right_{right}", f"vk_right_name_{right}"}
    keys |= {f"vk_user_right_{right}" for right in doctor_module.VK_USER_NEEDED}
    keys |= {f"network_{name}" for name in ("telegram", "vk", "max")}
    assert len(keys) > 80
    missing = sorted(key for key in keys if f"doctor.{key}" not in messages.catalogue())
    assert missing == []


def test_help_is_russian_first_and_english_when_asked(tmp_path: Path) -> None:
    russian = CliRunner().invoke(doctor, ["--help"], env={"BIBLIOBOT_LANGUAGE": "ru"})
    assert russian.exit_code == 0
    assert "Проверить настройки каждой библиотеки в Telegram, ВКонтакте и MAX" in russian.output
    english = CliRunner().invoke(doctor, ["--help"], env={"BIBLIOBOT_LANGUAGE": "en"})
    assert "Check each library's setup in Telegram, VK and MAX" in english.output


@pytest.mark.parametrize("token", ["токен из письма", "123:abc def", "123:abc\u200b"])
def test_a_token_copied_with_something_extra(setup: Setup, token: str) -> None:
    result = healthy_run(setup, **{TG: token})
    assert result.exit_code == 1
    assert failed(result) == [
        f"Токен в переменной {TG} содержит пробелы, русские буквы или невидимые символы — "
        "таких в токенах не бывает."
    ]


def test_a_network_that_asks_to_wait_is_a_failed_check(setup: Setup) -> None:
    setup.box.vk.fail_next("groups.getTokenPermissions", 10)
    setup.box.telegram.fail_next("getChatMember", 429, "Too Many Requests", retry_after=5)
    result = healthy_run(setup)
    assert result.exit_code == 1
    assert failed(result) == [
        "Telegram просит подождать (слишком много запросов или сбой на их стороне): проверка "
        "не закончена.",
        "ВКонтакте просит подождать (слишком много запросов или сбой на их стороне): проверка "
        "не закончена.",
    ]
    assert "Повторите проверку через несколько минут." in result.output


async def _as_another_program(setup: Setup, webhook: str | None) -> None:
    """Another program uses the same bot: sets a webhook, or polls without reactions."""
    from telegram import Bot

    async with Bot(setup.tg["token"], base_url=setup.tg["api_url"]) as bot:
        if webhook:
            await bot.set_webhook(webhook)
        else:
            await bot.get_updates(timeout=0, allowed_updates=["message"])


def test_a_webhook_set_by_another_program(setup: Setup) -> None:
    asyncio.run(_as_another_program(setup, "https://example.test/hook"))
    result = healthy_run(setup)
    assert result.exit_code == 1
    assert failed(result) == [
        "У бота включён вебхук (https://example.test/hook): пока он есть, бот не получает "
        "ответы и реакции читателей."
    ]


def test_reactions_left_out_by_another_program(setup: Setup) -> None:
    asyncio.run(_as_another_program(setup, None))
    result = healthy_run(setup)
    assert result.exit_code == 0, result.output
    assert "⚠ Telegram сейчас не присылает боту реакции читателей" in result.output
    assert "Что можно сделать: Запустите бота (bibliobot run): он сам попросит реакции." in (
        result.output
    )


def test_the_bot_made_an_admin_again_may_post_again(setup: Setup) -> None:
    """The librarian's usual fix: remove the bot and add it back as an administrator."""
    channel = setup.tg["channel_id"]
    setup.box.telegram.set_bot_rights(channel, {"can_post_messages": False})
    setup.box.telegram.remove_bot(channel)
    setup.box.telegram.add_bot_to(channel, admin=True)
    result = healthy_run(setup)
    assert result.exit_code == 0, result.output
    assert "бот — администратор и может публиковать." in result.output


def test_a_service_key_in_place_of_the_community_token(setup: Setup) -> None:
    result = healthy_run(setup, **{VK_COMMUNITY: setup.vk["service_token"]})
    assert result.exit_code == 1
    assert failed(result) == [f"Токен из переменной {VK_COMMUNITY} — не токен сообщества."]
    assert "Как исправить: Создайте токен сообщества: сообщество → Управление" in result.output
