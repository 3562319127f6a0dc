"""Text formatting as the Bot API does it: HTML parse mode, entity offsets, auto-detected links.

parse_html() follows the rules of Telegram's own parser (tdlib ``parse_html``): the same tag
set, the same error texts with UTF-8 byte offsets, unknown ``&name;`` references kept as
literal text. Entity offsets and lengths count UTF-16 code units, as on the wire.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

ENTITY_TYPES = [
    "mention",
    "hashtag",
    "cashtag",
    "bot_command",
    "url",
    "email",
    "phone_number",
    "bold",
    "italic",
    "underline",
    "strikethrough",
    "spoiler",
    "blockquote",
    "expandable_blockquote",
    "code",
    "pre",
    "text_link",
    "text_mention",
    "custom_emoji",
]

_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_SUPPORTED_TAGS = set(_SIMPLE_TAGS) | {"a", "code", "pre", "blockquote", "tg-emoji"}
_NAMED_REFERENCES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACES = " \t\n\r\f\v"


class EntityParseError(Exception):
    """The markup cannot be parsed; the message is the part after "can't parse entities: "."""


@dataclass
class FormattedText:
    """Plain text and its entities (wire dicts, offsets in UTF-16 units)."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


def utf16_len(text: str) -> int:
    """Length of text in UTF-16 code units, the unit of every Bot API offset and limit."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _OpenTag:
    name: str
    argument: str
    utf16_offset: int
    text_index: int


class _HtmlParser:
    def __init__(self, source: str):
        self.source = source
        self.pos = 0
        self.out: list[str] = []
        self.out_len = 0
        self.utf16 = 0
        self.open_tags: list[_OpenTag] = []
        self.entities: list[dict[str, Any]] = []

    def parse(self) -> FormattedText:
        while self.pos < len(self.source):
            char = self.source[self.pos]
            if char == "&" and self._reference():
                continue
            if char != "<":
                self._emit(char)
                self.pos += 1
            elif self._at(self.pos + 1) == "/":
                self._end_tag()
            else:
                self._start_tag()
        if self.open_tags:
            tag = self.open_tags[-1].name
            raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{tag}"')
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return FormattedText("".join(self.out), self.entities)

    # -- characters ------------------------------------------------------

    def _at(self, index: int) -> str:
        return self.source[index] if index < len(self.source) else ""

    def _byte_offset(self, index: int) -> int:
        return len(self.source[:index].encode("utf-8"))

    def _emit(self, chars: str) -> None:
        self.out.append(chars)
        self.out_len += len(chars)
        self.utf16 += utf16_len(chars)

    def _reference(self) -> bool:
        decoded, end = decode_reference(self.source, self.pos)
        if decoded is None:
            return False
        self._emit(decoded)
        self.pos = end
        return True

    def _skip_spaces(self, index: int) -> int:
        while self._at(index) and self._at(index) in _SPACES:
            index += 1
        return index

    # -- tags ------------------------------------------------------------

    def _start_tag(self) -> None:
        begin = self.pos
        at = self._byte_offset(begin)
        i = begin + 1
        while self._at(i) and self._at(i) not in _SPACES + ">":
            i += 1
        if not self._at(i):
            raise EntityParseError(f"Unclosed start tag at byte offset {at}")
        tag = self.source[begin + 1 : i].lower()
        if tag not in _SUPPORTED_TAGS:
            raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {at}')
        attributes, i = self._attributes(tag, i, at)
        argument = _tag_argument(tag, attributes)
        if tag == "span" and attributes.get("class") != "tg-spoiler":
            raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {at}')
        self.open_tags.append(_OpenTag(tag, argument, self.utf16, self.out_len))
        self.pos = i + 1

    def _attributes(self, tag: str, i: int, at: int) -> tuple[dict[str, str], int]:
        attributes: dict[str, str] = {}
        while True:
            i = self._skip_spaces(i)
            if not self._at(i):
                raise EntityParseError(f"Unclosed start tag at byte offset {at}")
            if self._at(i) == ">":
                return attributes, i
            name_begin = i
            while self._at(i) and self._at(i) not in _SPACES + "=>":
                i += 1
            name = self.source[name_begin:i].lower()
            if not name:
                raise EntityParseError(
                    f'Empty attribute name in the tag "{tag}" at byte offset {at}'
                )
            i = self._skip_spaces(i)
            if self._at(i) != "=":
                if tag == "blockquote" and name == "expandable" and self._at(i):
                    attributes[name] = ""
                    continue
                if not self._at(i):
                    raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {at}')
                raise EntityParseError(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{tag}" at byte offset {at}'
                )
            i = self._skip_spaces(i + 1)
            if not self._at(i):
                raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {at}')
            attributes[name], i = self._attribute_value(i, at)

    def _attribute_value(self, i: int, at: int) -> tuple[str, int]:
        quote = self._at(i)
        if quote not in ("'", '"'):
            token_begin = i
            while self._at(i) and (self._at(i).isalnum() or self._at(i) in ".-"):
                i += 1
            if self._at(i) not in tuple(_SPACES) + (">",):
                offset = self._byte_offset(token_begin)
                raise EntityParseError(f"Unexpected end of name token at byte offset {offset}")
            return self.source[token_begin:i].lower(), i
        i += 1
        value: list[str] = []
        while self._at(i) and self._at(i) != quote:
            decoded, end = decode_reference(self.source, i)
            if decoded is None:
                value.append(self._at(i))
                i += 1
            else:
                value.append(decoded)
                i = end
        if not self._at(i):
            raise EntityParseError(f"Unclosed start tag at byte offset {at}")
        return "".join(value), i + 1

    def _end_tag(self) -> None:
        begin = self.pos
        at = self._byte_offset(begin)
        if not self.open_tags:
            raise EntityParseError(f"Unexpected end tag at byte offset {at}")
        i = begin + 2
        while self._at(i) and self._at(i) not in _SPACES + ">":
            i += 1
        name = self.source[begin + 2 : i].lower()
        i = self._skip_spaces(i)
        if self._at(i) != ">":
            raise EntityParseError(f"Unclosed end tag at byte offset {at}")
        opened = self.open_tags.pop()
        if name and name != opened.name:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {at}, expected "</{opened.name}>", '
                f'found "</{name}>"'
            )
        self.pos = i + 1
        if self.utf16 > opened.utf16_offset:
            self._close_entity(opened)

    def _close_entity(self, opened: _OpenTag) -> None:
        offset, length = opened.utf16_offset, self.utf16 - opened.utf16_offset
        entity: dict[str, Any] = {"type": "", "offset": offset, "length": length}
        if opened.name in _SIMPLE_TAGS:
            entity["type"] = _SIMPLE_TAGS[opened.name]
        elif opened.name == "a":
            url = opened.argument or "".join(self.out)[opened.text_index :]
            if not _is_acceptable_url(url):
                return  # Telegram drops links it cannot use instead of failing
            entity.update(type="text_link", url=url)
        elif opened.name == "code":
            entity["type"] = "code"
            if opened.argument:
                entity["language"] = opened.argument
        elif opened.name == "pre":
            entity["type"] = "pre"
            last = self.entities[-1] if self.entities else None
            if (
                last
                and last["type"] == "code"
                and (last["offset"], last["length"]) == (offset, length)
            ):
                self.entities.pop()
                if "language" in last:
                    entity["language"] = last["language"]
        elif opened.name == "blockquote":
            entity["type"] = "expandable_blockquote" if opened.argument else "blockquote"
        else:
            if not opened.argument.isdigit() or int(opened.argument) == 0:
                raise EntityParseError("Invalid custom emoji identifier specified")
            entity.update(type="custom_emoji", custom_emoji_id=opened.argument)
        self.entities.append(entity)


def _tag_argument(tag: str, attributes: dict[str, str]) -> str:
    if tag == "a":
        return attributes.get("href", "")
    if tag == "code":
        css = attributes.get("class", "")
        return css.removeprefix("language-") if css.startswith("language-") else ""
    if tag == "blockquote":
        return "expandable" if "expandable" in attributes else ""
    if tag == "tg-emoji":
        return attributes.get("emoji-id", "")
    return ""


def _is_acceptable_url(url: str) -> bool:
    return bool(re.match(r"^(https?|tg|ton|ftp)://\S+$|^[\w-]+(\.[\w-]+)+(/\S*)?$", url, re.I))


def decode_reference(source: str, pos: int) -> tuple[str | None, int]:
    """Decode an HTML character reference at pos; (None, pos) when it is not one Telegram knows."""
    if source[pos] != "&":
        return None, pos
    numeric = re.match(r"&#(x[0-9a-fA-F]*|[0-9]*);?", source[pos:])
    if numeric:
        digits = numeric.group(1)
        code = int(digits[1:] or "0", 16) if digits.startswith("x") else int(digits or "0")
        length = numeric.end() - (1 if numeric.group(0).endswith(";") else 0)
        if code == 0 or code >= 0x10FFFF or length >= 10:
            return None, pos
        return chr(code), pos + numeric.end()
    named = re.match(r"&([A-Za-z]*)(;?)", source[pos:])
    assert named is not None  # the pattern matches any text that starts with "&"
    if named.group(1) not in _NAMED_REFERENCES:
        return None, pos
    return _NAMED_REFERENCES[named.group(1)], pos + named.end()


def parse_html(source: str) -> FormattedText:
    """Parse Telegram-flavoured HTML into plain text and entities, or raise EntityParseError."""
    return _HtmlParser(source).parse()


# -- after parsing: trimming and auto-detected entities ----------------------

_AUTO_PATTERNS = [
    ("email", re.compile(r"(?<![\w.@])[\w.+-]+@[\w-]+(\.[\w-]+)*\.[A-Za-zА-Яа-я]{2,}")),
    (
        "url",
        re.compile(
            r"(?<![\w@/])(https?://[^\s<>\"]+|(?:[\w-]+\.)+(?:ru|рф|com|org|net|su|me|io)(?:/[^\s<>\"]*)?)",
            re.I,
        ),
    ),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}\b")),
    ("hashtag", re.compile(r"(?<![\w#])#[^\W\d][\w]*")),
    ("cashtag", re.compile(r"(?<![\w$])\$[A-Z]{3,8}\b")),
    ("bot_command", re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(@[A-Za-z][A-Za-z0-9_]{3,31})?\b")),
]
_OPAQUE = {"code", "pre", "text_link", "url", "email"}


def finish(formatted: FormattedText) -> FormattedText:
    """Trim surrounding whitespace and add the entities Telegram detects by itself."""
    trimmed = _trim(formatted)
    return FormattedText(trimmed.text, _with_detected(trimmed))


def _trim(formatted: FormattedText) -> FormattedText:
    text = formatted.text
    stripped_left = text.lstrip()
    shift = utf16_len(text) - utf16_len(stripped_left)
    result = stripped_left.rstrip()
    limit = utf16_len(result)
    entities = []
    for entity in formatted.entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, limit)
        if end > start:
            entities.append({**entity, "offset": start, "length": end - start})
    return FormattedText(result, entities)


def _with_detected(formatted: FormattedText) -> list[dict[str, Any]]:
    entities = list(formatted.entities)
    taken = [(e["offset"], e["offset"] + e["length"]) for e in entities if e["type"] in _OPAQUE]
    for kind, pattern in _AUTO_PATTERNS:
        for match in pattern.finditer(formatted.text):
            start = utf16_len(formatted.text[: match.start()])
            end = start + utf16_len(match.group(0).rstrip(".,;:!?)"))
            if end > start and not any(s < end and start < e for s, e in taken):
                entities.append({"type": kind, "offset": start, "length": end - start})
                taken.append((start, end))
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return entities


def check_entities(text: str, entities: Any) -> list[dict[str, Any]]:
    """Validate entities a client passed explicitly (instead of parse_mode)."""
    if not isinstance(entities, list):
        raise EntityParseError("entities must be an array")
    limit = utf16_len(text)
    checked = []
    for entity in entities:
        if not isinstance(entity, dict) or entity.get("type") not in ENTITY_TYPES:
            raise EntityParseError("unsupported entity type")
        offset, length = entity.get("offset"), entity.get("length")
        if not isinstance(offset, int) or not isinstance(length, int) or offset < 0 or length < 0:
            raise EntityParseError("entity offset and length must be non-negative integers")
        end = min(offset + length, limit)
        if end > offset:
            checked.append({**entity, "length": end - offset})
    return checked
