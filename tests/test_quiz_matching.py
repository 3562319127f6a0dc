"""Answer matching: a table of tricky typed answers, right and wrong, and options by text."""

from __future__ import annotations

import pytest

from core.matching import choice_from_text, matches, normalize, numbers_to_digits

# answer, accepted answers, should it count (threshold 85)
ROWS = [
    # case, ё/е, quotes, punctuation, spaces
    ("пушкин", ["Пушкин"], True),
    ("ПУШКИН", ["Пушкин"], True),
    ("  Пушкин  ", ["Пушкин"], True),
    ("Пушкин!!!", ["Пушкин"], True),
    ("«Евгений Онегин»", ["Евгений Онегин"], True),
    ('"Евгений   Онегин"', ["«Евгений Онегин»"], True),
    ("Ёлка", ["елка"], True),
    ("Алёша Попович", ["Алеша Попович"], True),
    ("Римский-Корсаков", ["Римский Корсаков"], True),
    ("Римский — Корсаков", ["Римский-Корсаков"], True),
    ("д'Артаньян", ["Дартаньян"], True),
    ("Пу́шкин", ["Пушкин"], True),  # a stress mark
    ("А. С. Пушкин", ["Пушкин"], True),  # initials
    # typos
    ("Достаевский", ["Достоевский"], True),
    ("Лермантов", ["Лермонтов"], True),
    ("евгений онегн", ["Евгений Онегин"], True),
    ("Толстой Лев", ["Лев Толстой"], True),  # word order
    ("Арина Радионовна", ["Арина Родионовна"], True),
    # several accepted answers
    ("Война и мир", ["Анна Каренина", "Война и мир"], True),
    ("Яковлева", ["Арина Родионовна", "Арина Родионовна Яковлева"], False),
    # numbers: digits and words, never close numbers
    ("1837", ["1837"], True),
    ("тысяча восемьсот тридцать семь", ["1837"], True),
    ("в тысяча восемьсот тридцать седьмом году", ["1837"], True),
    ("1837 г.", ["1837"], True),
    ("в 1837 году", ["1837"], True),
    ("1 837", ["1837"], True),
    ("1838", ["1837"], False),
    ("1837", ["1838"], False),
    ("183", ["1837"], False),
    ("семь", ["7"], True),
    ("двадцать пять", ["25"], True),
    ("twenty-five", ["25"], True),
    ("two thousand and twenty four", ["2024"], True),
    ("one hundred and five", ["105"], True),
    ("двадцать шесть", ["26"], True),
    ("двадцать семь", ["26"], False),
    ("XIX век", ["19 век"], True),
    ("девятнадцатый", ["XIX"], True),
    ("в XIX веке", ["19-й век"], True),
    ("ХХ век", ["XX век"], True),  # Cyrillic Х typed for X
    ("Пётр I", ["Петр Первый"], True),
    ("Пётр II", ["Петр Первый"], False),
    ("Екатерина Вторая", ["Екатерина II"], True),
    ("Три мушкетёра", ["Три мушкетера"], True),
    # wrong but close: must not count
    ("Гегель", ["Гоголь"], False),
    ("Толстая", ["Толстой"], False),
    ("Ом", ["Ум"], False),  # short: exact only
    ("Ока", ["Оку"], False),
    ("Лермонтов", ["Пушкин"], False),
    ("Анна", ["Анна Каренина"], False),
    ("Каренина Анна Аркадьевна Облонская", ["Анна Каренина"], False),
    ("Пушкин", ["А. С. Пушкин Лермонтов"], False),
    # the full name where the surname is accepted; a hedge or a list is not an answer
    ("Александр Сергеевич Пушкин", ["Пушкин"], True),
    ("Александр Пушкин", ["Пушкин"], True),
    ("Пушкин Александр Сергеевич", ["Пушкин"], True),
    ("Пушкин, Александр Сергеевич", ["Пушкин"], True),
    ("Пушкин А. С.", ["Пушкин"], True),
    ("А.С. Пушкин", ["Пушкин"], True),
    ("Николай Васильевич Гоголь", ["Гоголь"], True),
    ("Лев Николаевич Толстой", ["Лев Толстой"], True),
    ("Алексей Николаевич Толстой", ["Лев Толстой"], False),  # another Tolstoy
    ("Алексей Толстой", ["Лев Толстой"], False),
    ("Charles Dickens", ["Dickens"], True),
    ("Александр Сергеевич Пушкин", ["Лермонтов"], False),
    ("Александр Сергеевич", ["Пушкин"], False),
    ("Пушкин или Лермонтов", ["Пушкин"], False),
    ("Пушкин, Гоголь", ["Пушкин"], False),
    ("Пушкин и Гоголь", ["Пушкин"], False),
    ("то ли Пушкин то ли Гоголь", ["Пушкин"], False),
    ("Пушкин / Лермонтов", ["Пушкин"], False),
    ("Александр Пушкин или Михаил Лермонтов", ["Пушкин"], False),
    ("Пушкин Лермонтов", ["Пушкин"], False),
    ("не Пушкин", ["Пушкин"], False),
    ("Вера, Любовь", ["Любовь"], False),
    ("Арина Петровна", ["Арина Родионовна"], False),
    ("1837 или 1836", ["1837"], False),
    ("1836", ["1837"], False),
    # empty, emoji, very long
    ("", ["Пушкин"], False),
    ("   ", ["Пушкин"], False),
    ("🙂👍", ["Пушкин"], False),
    ("?!", ["Пушкин"], False),
    ("Пушкин 🙂", ["Пушкин"], True),
    ("Пушкин " * 5000, ["Пушкин"], False),
    ("Пушкин", [], False),
    ("Пушкин", ["", "  "], False),
]


@pytest.mark.parametrize(("answer", "accepted", "expected"), ROWS)
def test_typed_answer(answer: str, accepted: list[str], expected: bool) -> None:
    assert matches(answer, accepted, 85) is expected


def test_a_strict_threshold_refuses_typos_a_lenient_one_accepts() -> None:
    assert not matches("Достаевский", ["Достоевский"], 95)
    assert matches("Гогаль", ["Гоголь"], 80)
    assert not matches("Гогаль", ["Гоголь"], 85)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  «Ёлка—Палка!»  ", "елка палка"),
        ("А.С.Пушкин", "а с пушкин"),
        ("Tab\tand\nnewline", "tab and newline"),
        ("ＰＵＳＨＫＩＮ", "pushkin"),  # full-width letters
        ("🙂", ""),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("тысяча восемьсот тридцать семь", "1837"),
        ("две тысячи двадцать четыре", "2024"),
        ("тысяча", "1000"),
        ("пять семь", "5 7"),  # two numbers, not twelve
        ("двадцать одиннадцать", "20 11"),
        ("ноль", "0"),
        ("третий том", "3 том"),
        ("из семи книг", "из 7 книг"),
        ("nineteen eighty four", "19 84"),  # limit: years read as pairs are not joined
        ("война и мир", "война и мир"),
    ],
)
def test_numbers_to_digits(text: str, expected: str) -> None:
    assert numbers_to_digits(text) == expected


OPTIONS = ["А. С. Пушкин", "М. Ю. Лермонтов", "Н. В. Гоголь"]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("2", 1),
        ("2)", 1),
        ("№3", 2),
        ("б", 1),
        ("Б)", 1),
        ("b", 1),
        ("c", 2),
        ("второй", 1),
        ("вариант 3", 2),
        ("Пушкин", 0),
        ("пушкин!", 0),
        ("лермантов", 1),  # a typo
        ("а) Пушкин", 0),
        ("a) Пушкин", 0),  # Latin a
        ("а) Лермонтов", None),  # the letter says one option, the text another
        ("в) гоголь", 2),
        ("4", None),
        ("д", None),
        ("Тургенев", None),
        ("", None),
        ("🙂", None),
        ("2 3", None),
    ],
)
def test_choice_from_text(answer: str, expected: int | None) -> None:
    assert choice_from_text(answer, OPTIONS) == expected


def test_an_options_own_text_wins_over_its_number() -> None:
    assert choice_from_text("1812", ["1799", "1812", "1837"]) == 1
    assert choice_from_text("2", ["1799", "1812", "1837"]) == 1
    assert choice_from_text("2", ["2", "3", "5"]) == 0
    assert choice_from_text("1813", ["1799", "1812"]) is None
