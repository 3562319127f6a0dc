"""What the contest says to entrants and admins, per language (the posts are templates)."""

from __future__ import annotations

WORDS = {
    "ru": {
        "received": "Спасибо! Работа №{number} получена и ждёт проверки библиотекарем. "
        "Мы не просим телефон, адрес или другие личные данные.",
        "late": "Спасибо за работу! К сожалению, приём работ на конкурс «{title}» закончился "
        "{until}, поэтому она не участвует.",
        "again": "Спасибо! Ваша работа №{number} уже участвует; по правилам конкурса от одного "
        "участника принимается {per_person}.",
        "types": "На конкурс «{title}» принимаются: {types}. Пришлите, пожалуйста, работу в этом виде.",
        "winner": "Поздравляем! Ваша работа №{number} заняла {place} место в конкурсе «{title}» "
        "({votes} голосов). Приходите в библиотеку или напишите нам сюда — мы вручим диплом. "
        "Телефон и адрес присылать не нужно.",
        "moderate": "Конкурс «{title}»: работа №{number} ({network}, {type}). {text}",
        "approve": "✅ Принять",
        "reject": "❌ Отклонить",
        "approved": "Работа №{number} принята в галерею",
        "rejected": "Работа №{number} отклонена",
        "not_admin": "Решать может только администратор библиотеки",
        "too_late": "Галерея уже опубликована: решение не меняется",
        "unknown": "Такой работы нет",
        "one": "одна работа",
        "many": "до {n} работ",
    },
    "en": {
        "received": "Thank you! Entry No. {number} is in and waits for the librarian's check. "
        "We never ask for a phone number, an address or other personal data.",
        "late": "Thank you for your work! Entries to “{title}” closed {until}, so it cannot "
        "take part.",
        "again": "Thank you! Your entry No. {number} already takes part; the rules allow "
        "{per_person} per person.",
        "types": "“{title}” takes: {types}. Please send your entry in that form.",
        "winner": "Congratulations! Your entry No. {number} took place {place} in “{title}” "
        "({votes} votes). Come to the library or write to us here to get your diploma. "
        "No phone number or address is needed.",
        "moderate": "Contest “{title}”: entry No. {number} ({network}, {type}). {text}",
        "approve": "✅ Approve",
        "reject": "❌ Reject",
        "approved": "Entry No. {number} approved for the gallery",
        "rejected": "Entry No. {number} rejected",
        "not_admin": "Only the library's admins decide",
        "too_late": "The gallery is out: the decision stands",
        "unknown": "No such entry",
        "one": "one entry",
        "many": "up to {n} entries",
    },
}


def say(language: str, key: str, **values: object) -> str:
    """One phrase, filled in."""
    return WORDS.get(language, WORDS["ru"])[key].format(**values)


def per_person(language: str, n: int) -> str:
    """ "one entry" / "up to 3 entries"."""
    return say(language, "one") if n == 1 else say(language, "many", n=n)
