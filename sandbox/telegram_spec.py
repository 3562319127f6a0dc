"""Checks Telegram Bot API values and calls against the official description (Bot API 10.1).

``result_errors("sendMessage", result)`` lists every way a method's result departs from
the description: a missing required field, a wrong JSON type, a field the type does not
declare. Abstract types (ChatMember, MaybeInaccessibleMessage, MessageOrigin, ...) accept
any of their subtypes. ``call_errors`` does the same for the parameters of a call.

The description is read from ``$TELEGRAM_BOT_API_SPEC``, else from the project's own copy,
``specs/telegram-bot-api.json`` (MIT, ``specs/telegram-bot-api.LICENSE``), so a clone needs
nothing beside it. ``tests/test_specs_copy.py`` says when that copy differs from ``../shared/specs``.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent
_DEFAULT_PATHS = (_ROOT / "specs" / "telegram-bot-api.json",)
_SCALARS = {
    "Integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "Float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "String": lambda v: isinstance(v, str),
    "Boolean": lambda v: isinstance(v, bool),
    "True": lambda v: v is True,
}


class SpecError(Exception):
    """The method or type is not in the Bot API description."""


@cache
def spec() -> dict[str, Any]:
    """The parsed description: ``{"methods": {...}, "types": {...}}``."""
    configured = os.environ.get("TELEGRAM_BOT_API_SPEC")
    candidates = (Path(configured),) if configured else _DEFAULT_PATHS
    for candidate in candidates:
        if candidate.is_file():
            return json.loads(candidate.read_text(encoding="utf-8"))
    raise SpecError(f"Bot API description not found in {', '.join(map(str, candidates))}")


def method(name: str) -> dict[str, Any]:
    """A method's description; names are case-insensitive as on the API."""
    by_lower = {key.lower(): value for key, value in spec()["methods"].items()}
    if name.lower() not in by_lower:
        raise SpecError(f"unknown Bot API method {name!r}")
    return by_lower[name.lower()]


def value_errors(value: Any, type_name: str, path: str = "$") -> list[str]:
    """Every departure of value from the described type ("Array of X" and unions allowed)."""
    if type_name.startswith("Array of "):
        if not isinstance(value, list):
            return [f"{path}: expected {type_name}, got {type(value).__name__}"]
        inner = type_name.removeprefix("Array of ")
        return [
            error
            for i, item in enumerate(value)
            for error in value_errors(item, inner, f"{path}[{i}]")
        ]
    if type_name in _SCALARS:
        ok = _SCALARS[type_name](value)
        return (
            []
            if ok
            else [f"{path}: expected {type_name}, got {json.dumps(value, ensure_ascii=False)[:60]}"]
        )
    if type_name == "InputFile":
        return [] if isinstance(value, str) else [f"{path}: expected InputFile reference"]
    described = spec()["types"].get(type_name)
    if described is None:
        raise SpecError(f"unknown Bot API type {type_name!r}")
    if described.get("subtypes"):
        return _union_errors(value, described["subtypes"], path)
    return _object_errors(value, type_name, described, path)


def _union_errors(value: Any, type_names: list[str], path: str) -> list[str]:
    best: list[str] | None = None
    for candidate in type_names:
        errors = value_errors(value, candidate, path)
        if not errors:
            return []
        if best is None or len(errors) < len(best):
            best = errors
    return best or [f"{path}: matches none of {', '.join(type_names)}"]


def _object_errors(value: Any, type_name: str, described: dict[str, Any], path: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path}: expected {type_name} object, got {type(value).__name__}"]
    fields = {f["name"]: f for f in described.get("fields", [])}
    errors = [f"{path}: {type_name} has no field {name!r}" for name in value if name not in fields]
    for name, field in fields.items():
        if name not in value:
            if field["required"]:
                errors.append(f"{path}: {type_name} misses required field {name!r}")
            continue
        errors.extend(_union_errors(value[name], field["types"], f"{path}.{name}"))
    return errors


def result_errors(method_name: str, result: Any) -> list[str]:
    """Departures of a method's ``result`` from what the method is described to return."""
    return _union_errors(result, method(method_name)["returns"], f"{method_name}()")


def call_errors(method_name: str, params: dict[str, Any]) -> list[str]:
    """Unknown parameters and missing required ones in a call."""
    fields = {f["name"]: f for f in method(method_name).get("fields", [])}
    errors = [f"{method_name}: unknown parameter {name!r}" for name in params if name not in fields]
    errors += [
        f"{method_name}: missing required parameter {name!r}"
        for name, field in fields.items()
        if field["required"] and name not in params
    ]
    return errors


def assert_result(method_name: str, result: Any) -> None:
    """Raise AssertionError listing every departure of result from the description."""
    errors = result_errors(method_name, result)
    assert not errors, "\n".join(errors)


def assert_value(value: Any, type_name: str) -> None:
    """Raise AssertionError listing every departure of value from the described type."""
    errors = value_errors(value, type_name)
    assert not errors, "\n".join(errors)
