"""MAX text formatting: ``format`` "markdown" or "html" turns marked-up text into plain text
plus ``markup`` elements (type, from, length), as MessageBody carries them.

Syntax from the schema's description (section "Text formatting"): markdown ``*x*``/``_x_``
emphasized, ``**x**``/``__x__`` strong, ``~~x~~`` strikethrough, ``++x++`` underline,
`` `x` `` or ```` ```x``` ```` monospaced, ``^^x^^`` highlighted, ``> x`` quote,
``[text](url)`` link, ``# x`` heading; HTML ``i em b strong del s ins u a pre code mark
blockquote h1`` (other tags are stripped, their text kept). Markup types are the schema's
MarkupElement discriminator values. Offsets count code points (the schema does not say
whether MAX counts UTF-16 units). Elements do not nest in markdown here.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

_MARKDOWN = re.compile(
    r"```(?P<pre>.+?)```"
    r"|`(?P<code>[^`]+)`"
    r"|\*\*(?P<strong1>.+?)\*\*|__(?P<strong2>.+?)__"
    r"|\*(?P<em1>[^*]+)\*|_(?P<em2>[^_]+)_"
    r"|~~(?P<strike>.+?)~~|\+\+(?P<under>.+?)\+\+|\^\^(?P<mark>.+?)\^\^"
    r"|\[(?P<label>[^\]]+)\]\((?P<url>[^)\s]+)\)",
    re.DOTALL,
)
_KINDS = {
    "pre": "monospaced",
    "code": "monospaced",
    "strong1": "strong",
    "strong2": "strong",
    "em1": "emphasized",
    "em2": "emphasized",
    "strike": "strikethrough",
    "under": "underline",
    "mark": "highlighted",
}
_HTML = {
    "i": "emphasized",
    "em": "emphasized",
    "b": "strong",
    "strong": "strong",
    "del": "strikethrough",
    "s": "strikethrough",
    "ins": "underline",
    "u": "underline",
    "a": "link",
    "pre": "monospaced",
    "code": "monospaced",
    "mark": "highlighted",
    "blockquote": "quote",
    "h1": "heading",
}


def render(text: str | None, fmt: str | None) -> tuple[str | None, list[dict[str, Any]] | None]:
    """``(plain text, markup or None)`` for a message text in format ``fmt``."""
    if text is None or fmt is None:
        return text, None
    if fmt == "markdown":
        plain, markup = _markdown(text)
    else:
        plain, markup = _html(text)
    return plain, markup or None


def _markdown(text: str) -> tuple[str, list[dict[str, Any]]]:
    out: list[str] = []
    markup: list[dict[str, Any]] = []
    length = 0
    for line_no, line in enumerate(text.split("\n")):
        if line_no:
            out.append("\n")
            length += 1
        block = None
        if line.startswith("# "):
            block, line = "heading", line[2:]
        elif line.startswith("> "):
            block, line = "quote", line[2:]
        start = length
        position = 0
        for match in _MARKDOWN.finditer(line):
            out.append(line[position : match.start()])
            length += match.start() - position
            position = match.end()
            if match.group("label") is not None:
                inner = match.group("label")
                markup.append(_element("link", length, len(inner), url=match.group("url")))
            else:
                name = next(k for k in _KINDS if match.group(k) is not None)
                inner = match.group(name)
                markup.append(_element(_KINDS[name], length, len(inner)))
            out.append(inner)
            length += len(inner)
        out.append(line[position:])
        length += len(line) - position
        if block and length > start:
            markup.append(_element(block, start, length - start))
    return "".join(out), sorted(markup, key=lambda m: m["from"])


class _HtmlText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.length = 0
        self.open: list[tuple[str, int, str | None]] = []
        self.markup: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.handle_data("\n")
        elif tag in _HTML:
            self.open.append((tag, self.length, dict(attrs).get("href")))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.open) - 1, -1, -1):
            name, start, href = self.open[i]
            if name == tag:
                del self.open[i]
                if self.length > start:
                    extra = {"url": href or ""} if tag == "a" else {}
                    self.markup.append(_element(_HTML[tag], start, self.length - start, **extra))
                return

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self.length += len(data)


def _html(text: str) -> tuple[str, list[dict[str, Any]]]:
    parser = _HtmlText()
    parser.feed(text)
    parser.close()
    return "".join(parser.parts), sorted(parser.markup, key=lambda m: m["from"])


def _element(kind: str, start: int, length: int, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "from": start, "length": length, **extra}
