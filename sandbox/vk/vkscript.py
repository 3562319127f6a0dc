"""A small, safe subset of VKScript, the language of VK's ``execute`` method.

What it understands is what a client batching reads sends (vk_api's pool among them)::

    return API.wall.getById({"posts": "-1_2,-1_3", extended: 1});
    return [API.wall.getById({...}), API.groups.getById({group_id: '1'})];
    var a = API.wall.getById({...}); var b = API.groups.getById({...}); return [a, b];

Object literals take bare or quoted keys; their values are strings ("…" or '…'), numbers,
true/false, or arrays of those. Everything else (loops, conditions, operators, functions,
property access, null, comments) is refused with ``CompileError``, which the ``execute``
handler answers as VK's error 12. The code is tokenized and parsed here, never evaluated by
Python: running it means calling ``invoke`` for each API call, in order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_CALLS = 25  # API calls one execute may make; the 26th is VK's runtime error 13
KEYWORDS_REFUSED = {
    "if", "else", "while", "for", "do", "function", "delete", "new", "this", "null",
    "undefined", "break", "continue", "in", "typeof",
}  # fmt: skip
TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<punct>[{}\[\](),:;.=-])
    """,
    re.VERBOSE,
)
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


class CompileError(Exception):
    """Code outside the subset: VK's error 12, the message saying what is not supported."""


class TooManyCalls(Exception):
    """More than MAX_CALLS API calls: VK's runtime error 13."""


@dataclass(frozen=True)
class Token:
    kind: str  # "number", "name", "string", "punct", "end"
    text: str
    value: Any
    position: int


@dataclass(frozen=True)
class ApiCall:
    method: str
    params: dict[str, str]


@dataclass(frozen=True)
class Variable:
    name: str


@dataclass(frozen=True)
class ListOf:
    items: tuple[ApiCall | Variable, ...]


Expression = ApiCall | Variable | ListOf


@dataclass(frozen=True)
class Program:
    """``var`` assignments in order, then the returned expression."""

    assignments: tuple[tuple[str, ApiCall], ...]
    returned: Expression

    def run(self, invoke: Callable[[ApiCall], Any]) -> Any:
        """Make the calls in code order (raising TooManyCalls on the 26th) and build the
        returned value from their results."""
        made = 0

        def call(node: ApiCall) -> Any:
            nonlocal made
            made += 1
            if made > MAX_CALLS:
                raise TooManyCalls
            return invoke(node)

        variables = {name: call(node) for name, node in self.assignments}

        def value(node: ApiCall | Variable) -> Any:
            return call(node) if isinstance(node, ApiCall) else variables[node.name]

        if isinstance(self.returned, ListOf):
            return [value(item) for item in self.returned.items]
        return value(self.returned)


def compile_code(code: str) -> Program:
    """Parse ``code`` or raise CompileError saying what is outside the subset."""
    return _Parser(tokenize(code)).program()


def tokenize(code: str) -> list[Token]:
    """The code's tokens, ending with an "end" token."""
    tokens: list[Token] = []
    position = 0
    while position < len(code):
        match = TOKEN.match(code, position)
        if match is None:
            character = code[position]
            if code.startswith(("//", "/*"), position):
                raise CompileError(f"comments are not supported (position {position})")
            raise CompileError(
                f"{character!r} is not supported by the VK sandbox (position {position})"
            )
        kind = match.lastgroup or ""
        text = match.group()
        if kind == "number":
            value: Any = float(text) if any(c in text for c in ".eE") else int(text)
            tokens.append(Token(kind, text, value, position))
        elif kind == "string":
            tokens.append(Token(kind, text, _unquote(text, position), position))
        elif kind != "space":
            tokens.append(Token(kind, text, text, position))
        position = match.end()
    tokens.append(Token("end", "", None, position))
    return tokens


def _unquote(text: str, position: int) -> str:
    body, out, index = text[1:-1], [], 0
    while index < len(body):
        character = body[index]
        if character != "\\":
            out.append(character)
            index += 1
            continue
        escaped = body[index + 1]
        if escaped == "u":
            digits = body[index + 2 : index + 6]
            if not re.fullmatch(r"[0-9A-Fa-f]{4}", digits):
                raise CompileError(f"bad \\u escape in the string at position {position}")
            out.append(chr(int(digits, 16)))
            index += 6
            continue
        out.append(ESCAPES.get(escaped, escaped))
        index += 2
    joined = "".join(out)
    try:  # JSON-style surrogate pairs (as json.dumps writes them) become one character
        return joined.encode("utf-16", "surrogatepass").decode("utf-16")
    except UnicodeDecodeError:
        raise CompileError(f"bad surrogate in the string at position {position}") from None


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.defined: set[str] = set()

    # -- statements --------------------------------------------------------------

    def program(self) -> Program:
        assignments: list[tuple[str, ApiCall]] = []
        while True:
            token = self.peek()
            if token.kind == "punct" and token.text == ";":
                self.index += 1
            elif token.kind == "end":
                raise CompileError("the code must end with a return statement")
            elif self.is_name("var"):
                assignments.extend(self.var_statement())
            elif self.is_name("return"):
                self.index += 1
                returned = self.returned()
                self.skip_semicolons()
                if self.peek().kind != "end":
                    raise CompileError(self.unsupported("code after return"))
                return Program(tuple(assignments), returned)
            else:
                raise CompileError(self.unsupported(f"statement starting with {token.text!r}"))

    def var_statement(self) -> list[tuple[str, ApiCall]]:
        self.index += 1
        assigned: list[tuple[str, ApiCall]] = []
        while True:
            name = self.variable_name()
            self.expect("=")
            if not self.is_name("API"):
                raise CompileError(
                    self.unsupported(f"assigning {self.peek().text!r} (only API calls)")
                )
            assigned.append((name, self.api_call()))
            self.defined.add(name)
            if not self.accept(","):
                break
        self.expect(";")
        return assigned

    def variable_name(self) -> str:
        token = self.next()
        if token.kind != "name" or token.text in KEYWORDS_REFUSED | {"var", "return", "API"}:
            raise CompileError(f"variable name expected at position {token.position}")
        return token.text

    # -- expressions ---------------------------------------------------------------

    def returned(self) -> Expression:
        if self.accept("["):
            items: list[ApiCall | Variable] = []
            if not self.accept("]"):
                while True:
                    items.append(self.call_or_variable())
                    if self.accept("]"):
                        break
                    self.expect(",")
            return ListOf(tuple(items))
        return self.call_or_variable()

    def call_or_variable(self) -> ApiCall | Variable:
        token = self.peek()
        if self.is_name("API"):
            return self.api_call()
        if token.kind == "name" and token.text not in KEYWORDS_REFUSED:
            self.index += 1
            if token.text not in self.defined:
                raise CompileError(f"variable {token.text!r} is not defined")
            if self.peek().kind == "punct" and self.peek().text in ".[(":
                raise CompileError(self.unsupported(f"using {token.text!r} that way"))
            return Variable(token.text)
        raise CompileError(self.unsupported(f"returning {token.text!r} (only API calls)"))

    def api_call(self) -> ApiCall:
        self.index += 1  # "API"
        parts: list[str] = []
        while self.accept("."):
            token = self.next()
            if token.kind != "name":
                raise CompileError(f"method name expected at position {token.position}")
            parts.append(token.text)
        if len(parts) == 1 and parts[0] == "execute":
            return self.finish_call("execute")
        if len(parts) != 2:
            raise CompileError(f"API.section.method expected at position {self.peek().position}")
        return self.finish_call(".".join(parts))

    def finish_call(self, method: str) -> ApiCall:
        self.expect("(")
        params: dict[str, str] = {}
        if not self.accept(")"):
            if not self.accept("{"):
                raise CompileError(self.unsupported("call arguments other than an object"))
            params = self.object_body()
            self.expect(")")
        if self.peek().kind == "punct" and self.peek().text in ".[":
            raise CompileError(self.unsupported("taking fields of a call's result"))
        return ApiCall(method, params)

    def object_body(self) -> dict[str, str]:
        params: dict[str, str] = {}
        if self.accept("}"):
            return params
        while True:
            key = self.next()
            if key.kind not in ("name", "string"):
                raise CompileError(f"object key expected at position {key.position}")
            self.expect(":")
            params[str(key.value)] = _parameter(self.literal(allow_array=True))
            if self.accept("}"):
                return params
            self.expect(",")
            if self.accept("}"):  # a trailing comma
                return params

    def literal(self, allow_array: bool) -> Any:
        token = self.next()
        if token.kind == "string":
            return token.value
        if token.kind == "number":
            return token.value
        if token.kind == "punct" and token.text == "-" and self.peek().kind == "number":
            return -self.next().value
        if token.kind == "name" and token.text in ("true", "false"):
            return token.text == "true"
        if allow_array and token.kind == "punct" and token.text == "[":
            items: list[Any] = []
            if not self.accept("]"):
                while True:
                    items.append(self.literal(allow_array=False))
                    if self.accept("]"):
                        break
                    self.expect(",")
            return items
        what = "nested arrays" if token.text == "[" else repr(token.text or "end of code")
        raise CompileError(self.unsupported(f"{what} as a parameter value", token))

    # -- tokens ----------------------------------------------------------------------

    def peek(self) -> Token:
        return self.tokens[self.index]

    def next(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def is_name(self, text: str) -> bool:
        token = self.peek()
        return token.kind == "name" and token.text == text

    def accept(self, punct: str) -> bool:
        token = self.peek()
        if token.kind == "punct" and token.text == punct:
            self.index += 1
            return True
        return False

    def expect(self, punct: str) -> None:
        if not self.accept(punct):
            token = self.peek()
            found = repr(token.text) if token.kind != "end" else "end of code"
            raise CompileError(f"{punct!r} expected, {found} found at position {token.position}")

    def skip_semicolons(self) -> None:
        while self.accept(";"):
            pass

    def unsupported(self, what: str, token: Token | None = None) -> str:
        position = (token or self.peek()).position
        return f"{what} is not supported by the VK sandbox (position {position})"


def _parameter(value: Any) -> str:
    """A literal as the string a method parameter carries: arrays comma-joined, booleans 1/0."""
    if isinstance(value, list):
        return ",".join(_parameter(item) for item in value)
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return json.dumps(value)
    return str(value)
