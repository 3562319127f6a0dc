"""Post texts: Jinja2 templates, the librarian's own and the shared ones in ``templates/``.

A librarian's text is itself a template (it may say ``{{ when }}`` or
``{{ library }}``); it is rendered in a sandbox, then placed into the shared
template of the network and language (``templates/posts/<lang>/<kind>.<network>.j2``).
Telegram templates are HTML with autoescaping, so nothing a librarian or a
reader writes can break the markup. Quiz questions, options and answers are
plain text, never templates: ``render_post(..., template=False)``.

The sandbox also bounds what a text may cost, with no threads and no timeouts:
``range`` gives at most ``MAX_ITEMS`` numbers; a string built by ``*``, ``+``,
``%``, ``~``, a call or a filter holds at most ``MAX_TEXT`` characters, a list
``MAX_ITEMS`` items and, with the lists and texts inside it, ``MAX_WEIGHT``
(so that a list of lists of lists cannot print as gigabytes); a width or count
given to a filter or a string method is at most ``MAX_ITEMS``; the work of a
rendering is at most ``MAX_WORK``, where a loop turn, a call or a filter costs
``STEP`` and each character or item it handles one more (10,000 loop turns, or a
filter over a long text a few dozen times); and rendering stops once the text
passes ``MAX_TEXT`` characters. Past a bound the text is refused (TextError), so a
template costs at most a moment and a few MB.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from datetime import datetime
from numbers import Number
from pathlib import Path
from string import Formatter
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from jinja2.visitor import NodeTransformer

from core import networks as registry
from core.messages import text, text_in

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


class TextError(ValueError):
    """A text template cannot be compiled or rendered."""


@functools.cache
def _calendar_words(language: str) -> tuple[list[str], list[str]]:
    """The months (as a date says them: "декабря") and the weekdays, read once."""
    return text_in(language, "texts.months").split(), text_in(language, "texts.weekdays").split()


def human_time(moment: datetime, language: str = "ru") -> str:
    """'5 декабря 2026, суббота, 18:00' / 'Saturday, 5 December 2026, 18:00'."""
    months, weekdays = _calendar_words(language)
    return text_in(
        language,
        "texts.human_time",
        day=moment.day,
        month=months[moment.month - 1],
        year=moment.year,
        weekday=weekdays[moment.weekday()],
        time=f"{moment.hour:02d}:{moment.minute:02d}",
    )


MAX_TEXT = 20_000  # characters of a rendered text, and of any string made on the way
MAX_ITEMS = 1_000  # items of a range or a list; the largest width or count a call takes
MAX_WORK, STEP = 1_000_000, 100  # of one rendering; a loop turn, call or filter costs STEP
MAX_WEIGHT = 20_000  # items of a list, counting those of the lists and texts inside it
MAX_BITS = 10_000  # of a number made by * or **
_WIDE_FILTERS = {"batch", "center", "indent", "slice", "truncate", "wordwrap"}
_PRINTF_WIDTH = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_CONTAINERS = list | tuple | dict | set | frozenset
_work_left: ContextVar[int] = ContextVar("work_left", default=MAX_WORK)
# of the rendering: id → (list, its weight); the list is kept so that its id is not reused
_weights: ContextVar[dict[int, tuple[Any, int]] | None] = ContextVar("weights", default=None)


def _refuse(message: str) -> SecurityError:
    """The refusal of a text that costs too much; ``message`` says what (from the catalogue)."""
    return SecurityError(text("events.template_cost", what=message))


def _spend(cost: int = STEP) -> None:
    """Work done for the text being rendered: a loop turn, a call, the characters handled."""
    left = _work_left.get() - cost
    if left < 0:
        raise _refuse(text("events.template_work", most=MAX_WORK // STEP))
    _work_left.set(left)


def _size(value: Any) -> int:
    """What handling ``value`` costs: its characters, or its items with those inside."""
    return _weight(value) if isinstance(value, str | _CONTAINERS) else 1


def _checked(value: Any) -> Any:
    """``value`` if it is not too big a string, list or number."""
    if isinstance(value, str) and len(value) > MAX_TEXT:
        raise _refuse(text("events.template_long_text", most=MAX_TEXT))
    if isinstance(value, _CONTAINERS):
        if len(value) > MAX_ITEMS:
            raise _refuse(text("events.template_long_list", most=MAX_ITEMS))
        if _weight(value) > MAX_WEIGHT:
            raise _refuse(text("events.template_heavy_list", most=MAX_WEIGHT))
    if isinstance(value, int) and value.bit_length() > MAX_BITS:
        raise _refuse(text("events.template_big_number"))
    return value


def _weight(value: Any) -> int:
    """The items of a list with those of the lists inside it, and the characters of its texts.

    A list made of the same list a thousand times is weighed in a thousand steps, not a
    million: the weight of each list already checked in this rendering is remembered.
    """
    if isinstance(value, str):
        return len(value)
    if not isinstance(value, _CONTAINERS):
        return 1
    known = _weights.get()
    if known is not None and (seen := known.get(id(value))) and seen[0] is value:
        return seen[1]
    total = len(value)
    for item in value.items() if isinstance(value, dict) else value:
        total += _weight(item)
        if total > MAX_WEIGHT:
            break  # too big already: no need to weigh the rest
    if known is not None:
        known[id(value)] = (value, total)
    return total


def _check_sizes(args: Iterable[Any]) -> None:
    """A width or count given to a call is at most MAX_ITEMS."""
    if any(isinstance(a, int) and abs(a) > MAX_ITEMS for a in args):
        raise _refuse(text("events.template_width_count", most=MAX_ITEMS))


def _check_printf(pattern: str) -> None:
    """``"%999999999s" % x`` would make a string of a billion spaces."""
    for match in _PRINTF_WIDTH.finditer(pattern):
        numbers = [g for g in match.groups() if g]
        if "*" in numbers or any(int(n) > MAX_ITEMS for n in numbers):
            raise _refuse(text("events.template_width", most=MAX_ITEMS))


def _check_format(pattern: str) -> None:
    """``"{:999999999}".format(x)`` likewise; a width from an argument is refused."""
    for _, _, spec, _ in Formatter().parse(pattern):
        if spec and ("{" in spec or any(int(n) > MAX_ITEMS for n in re.findall(r"\d+", spec))):
            raise _refuse(text("events.template_width", most=MAX_ITEMS))


def _bounded_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_ITEMS:
        raise _refuse(text("events.template_range", most=MAX_ITEMS))
    return numbers


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """The filter, spending a step and refusing too big arguments or results."""
    passes = getattr(function, "jinja_pass_arg", None) is not None

    @functools.wraps(function)  # keeps jinja_pass_arg: the filter gets its context as before
    def bounded(*args: Any, **kwargs: Any) -> Any:
        value, rest = (args[1], args[2:]) if passes else (args[0], args[1:])
        _spend(STEP + _size(value))
        if name in _WIDE_FILTERS:
            _check_sizes((*rest, *kwargs.values()))
        elif name == "sum" and not isinstance(kwargs.get("start", (*rest, 0, 0)[1]), Number):
            raise _refuse(text("events.template_sum"))  # each addition copies: slow as a square
        elif name == "format" and isinstance(value, str):
            _check_printf(value)
        elif name == "replace" and isinstance(value, str) and len(rest) >= 2:
            old, new = str(rest[0]), str(rest[1])
            grows = (value.count(old) if old else len(value) + 1) * len(new)
            if len(value) + grows > MAX_TEXT:
                raise _refuse(text("events.template_long_text", most=MAX_TEXT))
        result = _checked(function(*args, **kwargs))
        _spend(_size(result))
        return result

    return bounded


def _loop_steps(iterable: Iterable[Any]) -> Iterator[Any]:
    """Each turn of a ``{% for %}`` loop spends a step."""
    for item in iterable:
        _spend()
        yield item


def _concat(parts: tuple[Any, ...]) -> str:
    """``a ~ b``, bounded: doubling a string in a loop stops at MAX_TEXT."""
    joined = _checked("".join(map(str, parts)))
    _spend(len(joined))
    return joined


class _Bounding(NodeTransformer):
    """Rewrites a parsed text so that loops spend steps and ``~`` is bounded."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        if node.recursive:
            raise _refuse(text("events.template_recursive"))
        self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, "_loop_steps", [], [], None, None)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return nodes.Filter(nodes.Tuple(node.nodes, "load"), "_concat", [], [], None, None)

    def visit_List(self, node: nodes.List | nodes.Dict | nodes.Tuple) -> nodes.Node:
        """``[a, a, a]`` written out is weighed like a list made any other way."""
        self.generic_visit(node)
        if getattr(node, "ctx", "load") != "load":  # {% set a, b = ... %}: names, not a list
            return node
        return nodes.Filter(node, "_checked", [], [], None, None)

    visit_Dict = visit_Tuple = visit_List


class _BoundedSandbox(ImmutableSandboxedEnvironment):
    """The sandbox for librarians' texts: no list is changed in place, and every cost is bounded."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        del self.globals["lipsum"]  # writes as much text as it is asked for
        self.globals["range"] = _bounded_range
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}
        self.filters.update(_loop_steps=_loop_steps, _concat=_concat, _checked=_checked)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        numbers = isinstance(left, Number) and isinstance(right, Number)
        if operator == "*" and not numbers:
            count, sequence = (left, right) if isinstance(left, int) else (right, left)
            if isinstance(count, int) and hasattr(sequence, "__len__"):
                limit = MAX_TEXT if isinstance(sequence, str) else MAX_ITEMS
                if len(sequence) * count > limit:
                    raise _refuse(text("events.template_repeat", most=limit))
        elif operator == "*" and isinstance(left, int) and isinstance(right, int):
            if left.bit_length() + right.bit_length() > MAX_BITS:
                raise _refuse(text("events.template_big_number"))
        elif operator == "**" and isinstance(left, int) and isinstance(right, int):
            if abs(left) > 1 and left.bit_length() * right > MAX_BITS:
                raise _refuse(text("events.template_big_number"))
        elif operator == "%" and isinstance(left, str):
            _check_printf(left)
        result = _checked(super().call_binop(context, operator, left, right))
        _spend(_size(result))
        return result

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        receiver = getattr(__obj, "__self__", None)
        _spend(STEP + _size(receiver) + sum(map(_size, (*args, *kwargs.values()))))
        if isinstance(receiver, str):
            _check_sizes((*args, *kwargs.values()))  # "x".center(10**9), "\t".expandtabs(...)
        result = _checked(super().call(__context, __obj, *args, **kwargs))
        _spend(_size(result))
        return result

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapper = super().wrap_str_format(value)
        if wrapper is not None:
            _check_format(value.__self__)
        return wrapper


_user_env = _BoundedSandbox(
    undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False
)
_shared_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    undefined=jinja2.StrictUndefined,
    autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2")),
    trim_blocks=True,
    lstrip_blocks=True,
)
# The frames use only the names they are given. Jinja copies its globals (range, dict,
# ...) into every rendering: without them a frame renders in half the time.
_shared_env.globals.clear()
_SUFFIXES = {"html": "html.j2", "text": "txt.j2"}  # by the network's markup
_JINJA_MARKS = re.compile(r"\{[{%#]")  # where a variable, a statement or a comment begins
_LINE_ENDS = re.compile(r"\r\n?")  # as Jinja's lexer makes them "\n"
_SAMPLE = {"title": "Title", "when": "5 декабря 2026, 18:00", "library": "Library"}


def check_template(source: str) -> None:
    """Compile and trial-render a librarian's template; TextError names the problem."""
    render_text(source, _SAMPLE)


@functools.lru_cache(maxsize=256)
def _compiled(source: str) -> jinja2.Template:
    """A librarian's template, bounded and compiled once: a series renders it per occurrence."""
    return _user_env.from_string(_Bounding().visit(_user_env.parse(source)))


def render_text(source: str, context: dict[str, Any]) -> str:
    """A librarian's template, rendered within the bounds; TextError says what is wrong."""
    if not _JINJA_MARKS.search(source):
        # Most posts are plain text: Jinja would give it back with its line ends made
        # "\n", at a cost that 100,000 posts of a network's plan feel (a second).
        if len(source) > MAX_TEXT:
            raise TextError(text("events.template_rendered_long", most=MAX_TEXT))
        return _LINE_ENDS.sub("\n", source).strip()
    return _render_jinja(source, context)


def _render_jinja(source: str, context: dict[str, Any]) -> str:
    token, weights = _work_left.set(MAX_WORK), _weights.set({})
    try:
        pieces, length = [], 0
        for piece in _compiled(source).generate(**context):
            length += len(piece)
            if length > MAX_TEXT:
                raise TextError(text("events.template_rendered_long", most=MAX_TEXT))
            pieces.append(piece)
        return "".join(pieces).strip()
    except jinja2.TemplateSyntaxError as exc:
        problem = text("events.template_line", line=exc.lineno, reason=exc.message)
        raise TextError(problem) from None
    except jinja2.UndefinedError as exc:
        known = ", ".join(_SAMPLE)
        raise TextError(
            text("events.template_unknown_name", reason=exc.message, known=known)
        ) from None
    except TextError:
        raise
    except RecursionError:
        raise TextError(text("events.template_deep")) from None
    except MemoryError:
        raise TextError(text("events.template_memory")) from None
    except Exception as exc:  # a template can raise anything Python can: say it on one line
        message = " ".join(str(exc).split())[:300]
        if not isinstance(exc, jinja2.TemplateError):
            message = f"{type(exc).__name__}: {message}"
        raise TextError(text("events.template_error", reason=message)) from None
    finally:
        _work_left.reset(token)
        _weights.reset(weights)


class PostFrame:
    """The shared template of one kind of post on one network in one language.

    Looked up once for a series: each lookup asks the file system whether the file changed.
    """

    def __init__(self, kind: str, network: str, language: str) -> None:
        suffix = _SUFFIXES[registry.network(network).capabilities.markup]
        self._template = _shared_env.get_template(f"posts/{language}/{kind}.{network}.{suffix}")

    def render(self, source: str, context: dict[str, Any], *, template: bool = True) -> str:
        """The final text of a post: the librarian's text inside the frame.

        With ``template=False`` the text is taken as it is written (quiz questions).
        """
        body = render_text(source, context) if template else source.strip()
        return self._template.render(body=body, **context).strip()


def render_post(
    kind: str,
    network: str,
    language: str,
    source: str,
    context: dict[str, Any],
    *,
    template: bool = True,
) -> str:
    """The final text of one post (``PostFrame`` for a series of them)."""
    return PostFrame(kind, network, language).render(source, context, template=template)


def render_frame(kind: str, network: str, language: str, **context: Any) -> str:
    """A shared template filled by the bot itself (quiz standings, results)."""
    suffix = _SUFFIXES[registry.network(network).capabilities.markup]
    template = _shared_env.get_template(f"posts/{language}/{kind}.{network}.{suffix}")
    return template.render(**context).strip()
