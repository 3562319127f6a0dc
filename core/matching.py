"""Typed answers against a question's accepted answers: tolerant, but never to a wrong number.

Pure functions, no I/O. ``normalize`` folds case, ё/е, quotes, punctuation, dashes and
spaces. ``numbers_to_digits`` turns simple number words into digits: Russian and English
cardinals 0–9999 ("тысяча восемьсот тридцать семь", "twenty-five"), ordinals whose last word
is ordinal ("тридцать седьмой", "в девятнадцатом веке", "twenty first"), a few oblique cases
("семи", "двух") and Roman numerals I–XXXIX (centuries, monarchs: "XIX век", "Пётр I").
Not covered: fractions, "полторы", compound ordinals such as "двухтысячный", numbers above
9999 in words. Words like "сорока" (also "magpie") or "один" become digits on both sides
alike, so they still match each other.

``matches`` accepts an exact match after all that, or a fuzzy one (rapidfuzz ``ratio`` or
``token_sort_ratio`` ≥ threshold) when both texts carry the same numbers and are longer
than 3 characters: "Достаевский" is Достоевский, "1838" is never 1837. A full name answers
for its surname: "Александр Сергеевич Пушкин", "Пушкин А. С." and "Николай Гоголь" are
right where "Пушкин" or "Гоголь" is accepted, as only initials, common given names and
patronymics may be added; a hedge or a list ("Пушкин или Лермонтов", "Пушкин, Гоголь")
adds other words, and is wrong.

``choice_from_text`` reads one option from a typed answer; ``choices_from_text`` reads a
set ("1, 3", "3 и 1", "Пушкин и Гоголь") for questions with several right options.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from rapidfuzz import fuzz

MAX_ANSWER = 1000  # longer input is cut: no quiz answer is longer, and fuzzing stays fast
SHORT = 3  # answers this short must match exactly: one typo is a different word
_DROPPED = set("'\"«»“”„‟‘’‚‛ʼ`´")  # quotes and apostrophes vanish: д'Артаньян = дАртаньян

# --- number words ---------------------------------------------------------------------------
_RU_CARDINALS = {
    "ноль": 0, "нуль": 0, "один": 1, "одна": 1, "одно": 1, "два": 2, "две": 2, "три": 3,
    "четыре": 4, "пять": 5, "шесть": 6, "семь": 7, "восемь": 8, "девять": 9, "десять": 10,
    "одиннадцать": 11, "двенадцать": 12, "тринадцать": 13, "четырнадцать": 14,
    "пятнадцать": 15, "шестнадцать": 16, "семнадцать": 17, "восемнадцать": 18,
    "девятнадцать": 19, "двадцать": 20, "тридцать": 30, "сорок": 40, "пятьдесят": 50,
    "шестьдесят": 60, "семьдесят": 70, "восемьдесят": 80, "девяносто": 90, "сто": 100,
    "двести": 200, "триста": 300, "четыреста": 400, "пятьсот": 500, "шестьсот": 600,
    "семьсот": 700, "восемьсот": 800, "девятьсот": 900,
    # oblique cases that quizzes meet: "из семи", "двух томов"
    "одного": 1, "одной": 1, "двух": 2, "трех": 3, "четырех": 4, "пяти": 5, "шести": 6,
    "семи": 7, "восьми": 8, "девяти": 9, "десяти": 10, "двадцати": 20, "тридцати": 30,
    "сорока": 40, "ста": 100,
}  # fmt: skip
_RU_THOUSAND = {"тысяча", "тысячи", "тысяч", "тысячу"}
_RU_ORDINAL_STEMS = {
    "нулев": 0, "перв": 1, "втор": 2, "четверт": 4, "пят": 5, "шест": 6, "седьм": 7,
    "восьм": 8, "девят": 9, "десят": 10, "одиннадцат": 11, "двенадцат": 12,
    "тринадцат": 13, "четырнадцат": 14, "пятнадцат": 15, "шестнадцат": 16,
    "семнадцат": 17, "восемнадцат": 18, "девятнадцат": 19, "двадцат": 20, "тридцат": 30,
    "сороков": 40, "пятидесят": 50, "шестидесят": 60, "семидесят": 70, "восьмидесят": 80,
    "девяност": 90, "сот": 100, "двухсот": 200, "трехсот": 300, "четырехсот": 400,
    "пятисот": 500, "шестисот": 600, "семисот": 700, "восьмисот": 800, "девятисот": 900,
    "тысячн": 1000,
}  # fmt: skip
_RU_ENDINGS = ("ый", "ой", "ий", "ая", "ое", "ые", "ого", "ому", "ом", "ым", "ую", "ых", "ыми")
_RU_THIRD = ("третий", "третья", "третье", "третьего", "третьему", "третьем", "третьим",
             "третью", "третьи", "третьих")  # fmt: skip
_EN_CARDINALS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_EN_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19, "twentieth": 20, "thirtieth": 30, "fortieth": 40, "fiftieth": 50,
    "sixtieth": 60, "seventieth": 70, "eightieth": 80, "ninetieth": 90, "hundredth": 100,
    "thousandth": 1000,
}  # fmt: skip


def _word_table() -> dict[str, tuple[int, bool]]:
    """Every number word → (value, is ordinal)."""
    table = {w: (v, False) for w, v in {**_RU_CARDINALS, **_EN_CARDINALS}.items()}
    table.update({w: (v, True) for w, v in _EN_ORDINALS.items()})
    for stem, value in _RU_ORDINAL_STEMS.items():
        for ending in _RU_ENDINGS:
            table.setdefault(stem + ending, (value, True))
    table.update(dict.fromkeys(_RU_THIRD, (3, True)))
    return table


_WORDS = _word_table()
_THOUSANDS = _RU_THOUSAND | {"thousand"}
_ROMAN = re.compile(r"^(X{0,3})(IX|IV|V?I{0,3})$")
_ROMAN_LOOKALIKES = str.maketrans("ХхІі", "XxIi")  # Cyrillic Х and І typed for X and I
_ROMAN_WORD = re.compile(r"\b[XxIiVvХхІі]+\b")
_THOUSANDS_GROUP = re.compile(r"\b(\d{1,3})((?: \d{3})+)\b")  # "1 837" → "1837"


def _rank(value: int) -> int:
    """The slot a number word fills: 3 hundreds, 2 tens (and teens), 1 units, 0 zero."""
    return 3 if value >= 100 else 2 if value >= 10 else 1 if value else 0


class _Number:
    """A number being read word by word: "тысяча" "восемьсот" "тридцать" "семь"."""

    def __init__(self) -> None:
        self.thousands: int | None = None
        self.group = 0
        self.last = 4  # the next word must fill a smaller slot than this
        self.done = False  # zero or an ordinal ends a number

    @property
    def empty(self) -> bool:
        return self.thousands is None and self.last == 4

    def add(self, word: str) -> bool:
        """Take ``word`` if it continues this number; False if it starts another one."""
        if self.done:
            return False
        if word in _THOUSANDS or word == "тысячный" or _WORDS.get(word) == (1000, True):
            if self.thousands is not None:
                return False
            self.thousands, self.group, self.last = max(self.group, 1), 0, 4
            self.done = _WORDS.get(word, (0, False))[1]
            return True
        if word in ("hundred", "hundredth"):
            if not (self.last == 1 and 1 <= self.group <= 9) and not self.empty:
                return False
            self.group, self.last = max(self.group, 1) * 100, 3
            self.done = word == "hundredth"
            return True
        value, ordinal = _WORDS[word]
        rank = _rank(value)
        if rank >= self.last or (rank == 0 and not self.empty):
            return False
        self.group += value
        # a teen fills the units slot too: "двадцать одиннадцать" is two numbers
        self.last = 1 if 10 <= value <= 19 else rank
        self.done = ordinal or rank == 0
        return True

    def value(self) -> int:
        return (self.thousands or 0) * 1000 + self.group


def numbers_to_digits(text: str) -> str:
    """Replace runs of number words (and Roman numerals I–XXXIX) in normalised text by digits."""
    out: list[str] = []
    number: _Number | None = None
    tokens = text.split()
    for position, token in enumerate(tokens):
        following = tokens[position + 1] if position + 1 < len(tokens) else ""
        if token == "and" and number is not None and number.last >= 3 and following in _WORDS:
            continue  # "one hundred and five"
        is_word = token in _WORDS or token in _THOUSANDS or token in ("hundred", "hundredth")
        if number is not None and is_word and number.add(token):
            continue
        if number is not None:
            out.append(str(number.value()))
            number = None
        if is_word:
            number = _Number()
            if number.add(token):
                continue
            number = None
        out.append(token)
    if number is not None:
        out.append(str(number.value()))
    return " ".join(out)


def _roman(found: re.Match[str]) -> str:
    """A Roman numeral I–XXXIX as digits; in lower case only from two letters ("xix")."""
    token = found.group(0)
    latin = token.translate(_ROMAN_LOOKALIKES)
    if not (latin.isupper() or (len(latin) > 1 and token.isascii())):
        return token
    found = _ROMAN.match(latin.upper())
    if not found:
        return token
    tens, units = found.groups()
    values = {"": 0, "I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7,
              "VIII": 8, "IX": 9}  # fmt: skip
    return str(10 * len(tens) + values[units])


def normalize(text: str) -> str:
    """Fold case, ё/е, quotes, punctuation, dashes and spaces: « Ёлка—Палка! » → "елка палка"."""
    kept = []
    for char in unicodedata.normalize("NFKC", text.replace("№", " ")):  # NFKC: № → "No"
        category = unicodedata.category(char)
        if char in _DROPPED or category == "Mn":  # quotes; stress marks as in "Пу́шкин"
            continue
        # punctuation (every dash too), symbols (emoji too), controls and spaces separate words
        kept.append(" " if category[0] in "PSCZ" else char)
    folded = "".join(kept).casefold().replace("ё", "е")
    return " ".join(folded.split())


_FILLER = {
    "в", "во", "г", "гг", "год", "года", "году", "годы", "годах", "годов", "век", "века",
    "веке", "вв", "лет", "й", "я", "е", "го", "м", "ом", "ого", "ый", "ой", "in", "year",
    "the", "th", "st", "nd", "rd", "century", "ad",
}  # fmt: skip


def _key(text: str) -> str:
    """The form answers are compared in: normalised, numbers as digits.

    When the text holds a number, words like "год", "век", "-й" around it are dropped:
    "в 1837 году", "1837 г." and "1837" are one answer, and so are "XIX век" and "19-й".
    """
    words = numbers_to_digits(normalize(_ROMAN_WORD.sub(_roman, text)))
    words = _THOUSANDS_GROUP.sub(lambda m: m.group(1) + m.group(2).replace(" ", ""), words)
    if any(c.isdigit() for c in words):
        core = [w for w in words.split() if w not in _FILLER]
        words = " ".join(core) or words
    return words


def _numbers(key: str) -> list[str]:
    return re.findall(r"\d+", key)


def _similar(answer: str, accepted: str, threshold: int) -> bool:
    """Fuzzy equality of two keys; numbers and short words must be exact."""
    if answer == accepted:
        return True
    if min(len(answer), len(accepted)) <= SHORT or _numbers(answer) != _numbers(accepted):
        return False
    # cut-offs let rapidfuzz stop early on hopeless (e.g. very long) input
    return (
        fuzz.ratio(answer, accepted, score_cutoff=threshold) > 0
        or fuzz.token_sort_ratio(answer, accepted, score_cutoff=threshold) > 0
    )


def _without_initials(key: str) -> str:
    """ "а с пушкин" → "пушкин": leading one-letter words read as initials."""
    words = key.split()
    while len(words) > 1 and len(words[0]) == 1 and words[0].isalpha():
        words.pop(0)
    return " ".join(words)


# Given names a reader may write with a surname (normalised: ё as е). Names that are also
# common nouns (Вера, Надежда, Любовь, Роман, Слава) are left out: "вера, любовь" is a list.
_NAMES = """
    александр алексей анатолий андрей антон аркадий арсений афанасий богдан борис вадим
    валентин валерий варлам василий велимир венедикт вениамин виктор виталий владимир
    владислав всеволод вячеслав гавриил геннадий георгий глеб григорий даниил демьян денис
    дмитрий евгений егор иван игорь илья иосиф кирилл константин корней лев леонид максим
    марк матвей михаил никита николай олег осип павел петр платон ростислав самуил
    святослав семен сергей станислав степан тарас тимофей федор филипп эдуард юрий яков
    ярослав агния александра алла анастасия анна антонина арина белла валентина варвара
    вероника виктория галина дарья евгения екатерина елена елизавета зинаида зоя ирина
    ксения лариса лидия людмила маргарита мария марина наталия наталья нина ольга полина
    римма светлана софия софья тамара татьяна ульяна юлия юнна
    agatha alexander anton arthur charles charlotte edgar emily ernest fyodor george jack
    jane john jules leo lewis mark mary mikhail nikolai oscar robert virginia walter william
"""
_GIVEN_NAMES = frozenset(_NAMES.split())
_PATRONYMIC = re.compile(r"(?:вич|вна|ьич|ична)$")  # Сергеевич, Саввична, Ильич, Ильинична


def _name_part(word: str) -> bool:
    """An initial, a common given name or a patronymic: what a full name adds to a surname."""
    if len(word) == 1:
        return word.isalpha()
    return word in _GIVEN_NAMES or (len(word) > 4 and _PATRONYMIC.search(word) is not None)


def _as_written(key: str, accepted: str) -> str:
    """The answer's name as the accepted answer writes it.

    Given names, patronymics and initials the accepted answer lacks are dropped, or cut to
    the initial it has: "александр сергеевич пушкин" is "пушкин" next to "пушкин", and
    "а с пушкин" next to "а с пушкин". Other words stay.
    """
    own = set(accepted.split())
    initials = {word for word in own if len(word) == 1}
    words = []
    for word in key.split():
        if word in own or not _name_part(word):
            words.append(word)
        elif word[0] in initials:
            words.append(word[0])
    return " ".join(words)


def _full_name(key: str, accepted: str, threshold: int) -> bool:
    """Whether the answer is the accepted name written in full ("Лев Николаевич Толстой").

    Word for word: "пушкин или лермонтов" keeps two more words than "пушкин", and "алексей
    толстой" loses one next to "лев толстой"; neither is the accepted name.
    """
    form = _as_written(key, accepted)
    return (
        form != key
        and any(c.isalpha() for c in form)
        and len(form.split()) == len(accepted.split())
        and _similar(form, accepted, threshold)
    )


def matches(answer: str, accepted: Sequence[str], threshold: int) -> bool:
    """Whether a typed ``answer`` is one of the ``accepted`` answers, tolerantly."""
    key = _key(answer[:MAX_ANSWER])
    if not key:
        return False
    # "А. С. Пушкин" is Пушкин; "Пушкин" is not А. С. Пушкин
    return any(
        _similar(key, k, threshold) or _full_name(key, k, threshold)
        for k in map(_key, accepted)
        if k
    )


_LETTERS = ("абвгдежзиклм", "abcdefghijkl")  # option markers as quizzes print them
# "2)", "2.", "№2:" and "б)"; not "б." — "А. С. Пушкин" starts with initials, not a marker
_MARKER = re.compile(r"^\s*(?:№\s*)?(\d{1,2}\s*[).:]|[a-lа-я]\s*\))\s*(.*)$", re.I | re.S)


def _marker_index(marker: str, count: int) -> int | None:
    """ "2" → 1, "б" → 1, "c" → 2; None when out of range or not a marker."""
    marker = marker.casefold().replace("ё", "е")
    if marker.isdigit():
        index = int(marker) - 1
    else:
        index = next((row.index(marker) for row in _LETTERS if marker in row), -1)
    return index if 0 <= index < count else None


def choice_from_text(answer: str, options: Sequence[str], threshold: int = 85) -> int | None:
    """The 0-based option a typed answer names ("2", "б", "Пушкин", "a) Пушкин"), or None.

    An option's own text wins over its number ("1812" among years is that year). When a
    marker and a text disagree ("а) Лермонтов" while а is Пушкин) the answer is ambiguous.
    """
    answer = answer[:MAX_ANSWER]
    marked = _MARKER.match(answer)
    if marked:  # "б)", "2. Лермонтов": the marker counts, and the text must not contradict it
        index = _marker_index(marked.group(1).rstrip(").: "), len(options))
        by_rest = _option_by_text(marked.group(2), options, threshold)
        return index if by_rest in (None, index) else None
    by_text = _option_by_text(answer, options, threshold)
    if by_text is not None:
        return by_text
    words = _key(answer).split()
    if len(words) == 1:  # "2", "второй", "б"
        return _marker_index(words[0], len(options))
    if len(words) == 2 and words[0] in {"вариант", "ответ", "option", "answer", "номер"}:
        return _marker_index(words[1], len(options))
    return None


def _option_by_text(answer: str, options: Sequence[str], threshold: int) -> int | None:
    """The option whose text the answer is, exactly or (uniquely) fuzzily."""
    key = _key(answer)
    if not key:
        return None
    keys = [_key(o) for o in options]
    bare = [_without_initials(k) for k in keys]  # "Пушкин" names "А. С. Пушкин"
    for form in (key, _without_initials(key)):
        for known in (keys, bare):
            if form in known and known.count(form) == 1:
                return known.index(form)
    close = [
        i
        for i, (k, b) in enumerate(zip(keys, bare, strict=True))
        if k
        and (
            _similar(key, k, threshold)
            or _similar(_without_initials(key), b, threshold)
            or _full_name(key, b, threshold)  # "Николай Гоголь" names "Н. В. Гоголь"
        )
    ]
    return close[0] if len(close) == 1 else None


_LIST = re.compile(r"[,;+&\n]")  # "1, 3", "1;3", "1+3"; not "1/3": it may mean "or"
_AND = re.compile(r"\s+(?:и|and)\s+", re.I)  # "1 и 3", "Пушкин и Гоголь"
_NUMBERS = re.compile(r"\d{1,2}(?:\s+\d{1,2})+")  # "1 3"


def choices_from_text(
    answer: str, options: Sequence[str], threshold: int = 85
) -> tuple[int, ...] | None:
    """The 0-based options a typed answer names, in order: one or several, or None.

    "2" and "Пушкин" name one; "1, 3", "3,1", "1 и 3", "1 3" and "Пушкин и Гоголь" name a
    set. Every part must name an option, so a hedge ("1 или 3", "то ли 1, то ли 3") or a
    remark names none. An option whose own text holds "и" or a comma ("Война и мир") is
    read whole first.
    """
    answer = answer[:MAX_ANSWER]
    single = choice_from_text(answer, options, threshold)
    if single is not None:
        return (single,)
    chosen: list[int] = []
    for part in _LIST.split(answer):
        if not part.strip():
            continue
        found = _choices_in(part, options, threshold)
        if found is None:
            return None
        chosen += found
    return tuple(sorted(set(chosen))) or None


def _choices_in(part: str, options: Sequence[str], threshold: int) -> list[int] | None:
    """The options one comma-separated part names: itself, or "1 и 3", "1 3"."""
    one = choice_from_text(part, options, threshold)
    if one is not None:
        return [one]
    part = part.strip()
    pieces = part.split() if _NUMBERS.fullmatch(part) else _AND.split(part)
    if len(pieces) < 2:
        return None
    found = [choice_from_text(piece, options, threshold) for piece in pieces]
    return None if None in found else [n for n in found if n is not None]
