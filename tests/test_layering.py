"""The layering holds: which package may import which, no import circles, no network's name
outside the registry and the adapters, and `validate`/`plan` load no network client library."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from core import networks
from tests.conftest import TG_ENV, VK_COMMUNITY_ENV, VK_USER_ENV, write_config, write_event

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "scheduler", "reports", "bot", "sandbox", "templates", "bench")
# What each package may import of the project (itself included). bot/ is the top: it may
# import any of them; bench/ and tests/ are outside the product.
ALLOWED = {
    "core": {"core"},
    "scheduler": {"core", "scheduler"},
    "reports": {"core", "reports"},
    "sandbox": {"sandbox"},
    "templates": {"templates"},
    "bot": {"core", "scheduler", "reports", "bot", "sandbox"},
    "bench": set(PACKAGES),
}
# A network's name written in code, a comment or a text; core/networks.py holds the data.
NETWORK_NAME = re.compile(r"telegram|\bvk\b|\bvk_|вконтакте|\btg\b", re.IGNORECASE)


@dataclass(frozen=True)
class Import:
    """One import statement of a project module."""

    module: str  # the importing module, dotted
    target: str  # the imported module, dotted (for "from a import b": a.b if a.b is a module)
    names: tuple[str, ...]  # the names taken by "from … import", else ()
    line: int
    runs: bool  # False for an import made for type checkers only


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files(package: str) -> Iterator[Path]:
    yield from sorted((ROOT / package).rglob("*.py"))


MODULES = {module_name(p) for package in PACKAGES for p in source_files(package)}


def imports_of(path: Path) -> Iterator[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module = module_name(path)
    typing_only = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test)
    ]
    # Imports for type checkers never run; those inside functions run late (to load a
    # heavy library only when needed) but still tie the two modules together.
    typing = {id(n) for f in typing_only for n in ast.walk(f)}
    for node in ast.walk(tree):
        runs = id(node) not in typing
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PACKAGES:
                    yield Import(module, alias.name, (), node.lineno, runs)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] not in PACKAGES:
                continue
            names = tuple(a.name for a in node.names)
            submodules = [f"{node.module}.{n}" for n in names if f"{node.module}.{n}" in MODULES]
            for target in submodules or [node.module]:
                yield Import(module, target, names, node.lineno, runs)


ALL_IMPORTS = [i for package in PACKAGES for p in source_files(package) for i in imports_of(p)]


def test_each_package_imports_only_what_lies_below_it() -> None:
    wrong = [
        f"{i.module}:{i.line} imports {i.target}"
        for i in ALL_IMPORTS
        if i.target.split(".")[0] not in ALLOWED[i.module.split(".")[0]]
    ]
    assert wrong == []


def test_no_module_takes_a_private_name_of_another() -> None:
    wrong = [
        f"{i.module}:{i.line} takes {name} from {i.target}"
        for i in ALL_IMPORTS
        for name in i.names
        if name.startswith("_") and i.target != i.module
    ]
    assert wrong == []


def test_modules_import_each_other_in_no_circle() -> None:
    """Imports that run form no cycle (a circle is one idea cut in two files)."""
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for i in ALL_IMPORTS:
        if i.runs and i.target in MODULES and i.target != i.module:
            graph[i.module].add(i.target)
    assert _cycles(graph) == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_walker_sees_a_forbidden_import_and_a_circle() -> None:
    """The checks above can fail: they find a known bad direction and a known cycle."""
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]
    bot_imports = [i for i in ALL_IMPORTS if i.module == "bot.cli"]
    assert any(i.target.startswith("scheduler") for i in bot_imports)
    assert "scheduler" not in ALLOWED["core"]


def test_no_network_is_named_in_the_scheduler_or_the_reports() -> None:
    """They decide from the registry's capabilities (core/networks.py), never from a name."""
    named = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for package in ("scheduler", "reports")
        for path in source_files(package)
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if NETWORK_NAME.search(line)
    ]
    assert named == []


def _loaded_by(tmp_path: Path, command: str) -> set[str]:
    """The top-level modules loaded after running `bibliobot <command>` on a good setup."""
    config = write_config(tmp_path)
    write_event(tmp_path, at="2099-12-05T18:00:00")
    script = (
        "import json, sys\n"
        "from bot.cli import main\n"
        "try:\n"
        f"    main([{command!r}, '-c', {str(config)!r}])\n"
        "except SystemExit as stop:\n"
        "    assert not stop.code, stop.code\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    env = {TG_ENV: "1:x", VK_USER_ENV: "u", VK_COMMUNITY_ENV: "c", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_validate_and_plan_load_no_network_client(tmp_path: Path) -> None:
    for command in ("validate", "plan"):
        loaded = _loaded_by(tmp_path, command)
        assert "scheduler" in loaded  # the run really planned
        assert not loaded & {"telegram", "vk_api", "httpx"}, command


# A private of another object taken on purpose, each with why; ideally none.
PRIVATE_REACHES_ALLOWED: dict[str, str] = {}
# Where a network may not be named in code: its engines, which decide from the registry.
ENGINES = ("bot/contest", "bot/giveaway")


def private_reaches(source: str, where: str) -> list[str]:
    """``x._name`` (or ``getattr(x, "_name")``) where ``x`` is not ``self``/``cls``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            owner, name = node.value, node.attr
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr", "delattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            owner, name = node.args[0], node.args[1].value
        else:
            continue
        if not name.startswith("_") or (name.startswith("__") and name.endswith("__")):
            continue  # public, or Python's own (__name__, __class__)
        if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
            continue
        found.append((node.lineno, f"{where}:{node.lineno}: {ast.unparse(node)}"))
    return [text for _, text in sorted(found)]


def test_no_code_in_bot_reaches_into_another_objects_privates() -> None:
    """Engines use the adapters' and intakes' public ways; a private is its owner's own."""
    reaches = [
        found
        for path in source_files("bot")
        for found in private_reaches(path.read_text("utf-8"), str(path.relative_to(ROOT)))
    ]
    wrong = [r for r in reaches if r.split(": ", 1)[0] not in PRIVATE_REACHES_ALLOWED]
    assert wrong == []


def test_the_private_walker_sees_a_reach() -> None:
    source = (
        "class A:\n"
        "    def f(self, other):\n"
        "        self._mine()\n"
        "        other._start()\n"
        "        getattr(other, '_call')\n"
        "        return self.__class__, other.__name__, cls._x if 0 else 0\n"
    )
    assert private_reaches(source, "a.py") == [
        "a.py:4: other._start",
        "a.py:5: getattr(other, '_call')",
    ]


def test_the_engines_name_no_network_in_code() -> None:
    """Contests and giveaways choose by the registry's capabilities, never by a name (their
    docstrings and comments may explain a network; their code does not branch on one)."""
    named_networks = set(networks.names())
    named = [
        f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}"
        for folder in ENGINES
        for path in sorted((ROOT / folder).glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text("utf-8")))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.lower() in named_networks
    ]
    assert named == []
