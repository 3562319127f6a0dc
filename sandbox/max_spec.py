"""The MAX Bot API as the project wrote it down: ``specs/max/api.json``, and answer checks.

The official OpenAPI schema (``max-messenger/api-schema``) carries no licence, so the project
keeps no copy of it. ``specs/max/api.json`` holds, in the project's own form, the methods,
objects and error codes the stand-in uses, each with the place in the official schema (or
client) it was read from; ``specs/max/README.md`` explains the facts in prose.

Two uses:

* the stand-in reads method parameters, limits and error codes from here;
* contract tests check every answer with ``object_errors(name, value)``: required fields
  present, every field of the declared type (``integer``, ``string``, ``ref:Message``,
  ``array:ref:Button``, ``map:integer``...), enums and length limits respected, and
  polymorphic objects (``Update``, ``Attachment``, ``Button``, ``MarkupElement``) checked
  as the subtype their discriminator names. With ``strict=True`` a field the description
  does not declare is an error too.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).resolve().parent.parent / "specs" / "max" / "api.json"


class SpecError(Exception):
    """A name is not in the MAX description."""


@cache
def spec() -> dict[str, Any]:
    """The whole description."""
    return json.loads(SPEC_PATH.read_text(encoding="utf-8"))


def methods() -> dict[str, dict[str, Any]]:
    """Methods by operationId (``sendMessage`` -> its HTTP verb, path, query, body, result)."""
    return spec()["methods"]


def method(name: str) -> dict[str, Any]:
    """One method's entry."""
    try:
        return methods()[name]
    except KeyError:
        raise SpecError(f"no method {name!r} in specs/max/api.json") from None


def error(code: str) -> dict[str, Any]:
    """One error code's entry: HTTP status, usual message, source."""
    try:
        return spec()["errors"][code]
    except KeyError:
        raise SpecError(f"no error code {code!r} in specs/max/api.json") from None


def limit(name: str) -> int:
    """A documented figure (``text_max_length`` -> 4000)."""
    return int(spec()["limits"][name]["value"])


def update_types() -> list[str]:
    """Every update type the description lists."""
    return list(spec()["objects"]["Update"]["all_types"])


@cache
def fields(name: str) -> tuple[dict[str, dict[str, Any]], frozenset[str]]:
    """An object's fields (inherited ones included) and its required field names."""
    objects = spec()["objects"]
    if name not in objects:
        raise SpecError(f"no object {name!r} in specs/max/api.json")
    entry = objects[name]
    found: dict[str, dict[str, Any]] = {}
    required: set[str] = set()
    if "extends" in entry:
        parent_fields, parent_required = fields(entry["extends"])
        found.update(parent_fields)
        required |= parent_required
    found.update(entry.get("fields", {}))
    required |= set(entry.get("required", []))
    return found, frozenset(required)


def object_errors(name: str, value: Any, strict: bool = False, path: str = "$") -> list[str]:
    """Where ``value`` departs from the description of object ``name`` (empty: it matches)."""
    if not isinstance(value, dict):
        return [f"{path}: expected object {name}, got {type(value).__name__}"]
    entry = spec()["objects"].get(name)
    if entry is None:
        raise SpecError(f"no object {name!r} in specs/max/api.json")
    discriminator = entry.get("discriminator")
    if discriminator and value.get(discriminator) in entry.get("mapping", {}):
        subtype = entry["mapping"][value[discriminator]]
        if subtype != name:
            return object_errors(subtype, value, strict, path)
    elif (
        discriminator
        and discriminator in value
        and value[discriminator] not in entry.get("all_types", [])
    ):
        return [f"{path}.{discriminator}: unknown {name} kind {value[discriminator]!r}"]
    declared, required = fields(name)
    problems = [
        f"{path}: {name} misses required field {f!r}" for f in sorted(required - set(value))
    ]
    for key, item in value.items():
        if key not in declared:
            if strict:
                problems.append(f"{path}.{key}: not a field of {name}")
            continue
        problems += _value_errors(declared[key], item, strict, f"{path}.{key}")
    return problems


def assert_object(name: str, value: Any, strict: bool = False) -> None:
    """Raise AssertionError listing every departure of ``value`` from object ``name``."""
    problems = object_errors(name, value, strict)
    if problems:
        raise AssertionError("\n".join(problems))


def _value_errors(field: dict[str, Any], value: Any, strict: bool, path: str) -> list[str]:
    if value is None:
        return [] if field.get("nullable") else [f"{path}: null where not nullable"]
    problems = _type_errors(field["type"], value, strict, path)
    if problems:
        return problems
    if "enum" in field:
        items = value if isinstance(value, list) else [value]
        problems += [
            f"{path}: {v!r} not one of {field['enum']}" for v in items if v not in field["enum"]
        ]
    if isinstance(value, str):
        if len(value) < field.get("minLength", 0):
            problems.append(f"{path}: shorter than {field['minLength']}")
        if "maxLength" in field and len(value) > field["maxLength"]:
            problems.append(f"{path}: longer than {field['maxLength']}")
        if "pattern" in field and not re.match(field["pattern"], value):
            problems.append(f"{path}: does not match {field['pattern']}")
    return problems


def _type_errors(kind: str, value: Any, strict: bool, path: str) -> list[str]:
    if kind.startswith("ref:"):
        return object_errors(kind[4:], value, strict, path)
    if kind.startswith("array:"):
        if not isinstance(value, list):
            return [f"{path}: expected array, got {type(value).__name__}"]
        problems: list[str] = []
        for i, item in enumerate(value):
            problems += _type_errors(kind[6:], item, strict, f"{path}[{i}]")
        return problems
    if kind.startswith("map:"):
        if not isinstance(value, dict):
            return [f"{path}: expected object, got {type(value).__name__}"]
        problems = []
        for key, item in value.items():
            problems += _type_errors(kind[4:], item, strict, f"{path}.{key}")
        return problems
    checks = {
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "string": lambda v: isinstance(v, str),
        "boolean": lambda v: isinstance(v, bool),
        "object": lambda v: isinstance(v, dict),
    }
    if kind not in checks:
        raise SpecError(f"unknown type {kind!r} in specs/max/api.json")
    return [] if checks[kind](value) else [f"{path}: expected {kind}, got {value!r}"]
