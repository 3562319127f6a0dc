"""The official VK API description (vk-api-schema, API 5.199): its index, and answer checks.

Two uses, kept apart:

* **The stand-in at run time** reads only ``sandbox/vk/spec_index.json`` (through
  ``sandbox.vk.spec``): per method its token types and parameters (name, type, required,
  length and item-count limits), and every error code's message. It is committed, so
  ``bibliobot sandbox`` and ``bibliobot demo`` need no copy of the schema. Rebuild it after
  updating the schema with::

      python -m sandbox.vk_spec --build-index

  ``tests/test_sandbox_vk.py`` fails if the committed index differs from a fresh build.

* **Tests and contract checks** (``validate_response``, ``validate_object``) read the full
  schema and need ``jsonschema`` (a test dependency, imported only when they run). The
  official files mark required properties draft-03 style (``"required": true`` on the
  property itself) and build objects with ``allOf`` over definitions that forbid additional
  properties. Both are rewritten into plain draft-07 here, so that a check means what the
  description says: required fields are required, and (in strict mode) every field an answer
  carries must be declared by the schema.

The schema is read from ``$VK_API_SCHEMA_DIR``, else from the project's own copy in
``specs/vk-api-schema`` (MIT, its ``LICENSE`` beside it), so a clone needs nothing beside it.
``tests/test_specs_copy.py`` says when that copy differs from the team's ``../shared/specs``.
"""

from __future__ import annotations

import copy
import json
import os
import posixpath
import sys
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jsonschema
    from referencing import Registry

BASE_URI = "https://vk-api-schema.invalid/"
REPO_ROOT = Path(__file__).resolve().parent.parent
_DEFAULT_DIRS = (REPO_ROOT / "specs" / "vk-api-schema",)
INDEX_PATH = Path(__file__).resolve().parent / "vk" / "spec_index.json"
# Parameter limits the stand-in enforces (error 100), copied into the index when present.
INDEX_LIMITS = ("minLength", "maxLength", "minItems", "maxItems")


class SpecError(Exception):
    """The method or answer variant is not in the VK API description."""


def schema_dir() -> Path:
    """Where the VK API description lives."""
    configured = os.environ.get("VK_API_SCHEMA_DIR")
    candidates = (Path(configured),) if configured else _DEFAULT_DIRS
    for candidate in candidates:
        if (candidate / "errors.json").is_file():
            return candidate
    raise SpecError(f"VK API schema not found in {', '.join(map(str, candidates))}")


@cache
def methods() -> dict[str, dict[str, Any]]:
    """Every method of the description by name (``wall.post`` -> its entry in methods.json)."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(schema_dir().glob("*/methods.json")):
        for method in json.loads(path.read_text(encoding="utf-8"))["methods"]:
            found[method["name"]] = method
    return found


@cache
def errors() -> dict[int, str]:
    """Error code -> the description's message for it (5 -> "User authorization failed")."""
    data = json.loads((schema_dir() / "errors.json").read_text(encoding="utf-8"))
    return {entry["code"]: entry["description"] for entry in data["errors"].values()}


def method(name: str) -> dict[str, Any]:
    """One method's entry in methods.json."""
    try:
        return methods()[name]
    except KeyError:
        raise SpecError(f"unknown VK method {name!r}") from None


# -- the index the stand-in runs on ------------------------------------------------


def build_index() -> dict[str, Any]:
    """The compact index of the schema that ``sandbox.vk.spec`` reads at run time.

    ``{"errors": {"100": message, ...}, "methods": {name: {"access_token_type": [...],
    "parameters": [{"name", "type", "required"?, limits?}, ...]}}}``; parameters keep the
    schema's order, which is the order VK checks them in.
    """
    index: dict[str, Any] = {}
    for name, entry in methods().items():
        parameters = []
        for parameter in entry.get("parameters", []):
            compact = {"name": parameter["name"], "type": parameter["type"]}
            if parameter.get("required") is True:
                compact["required"] = True
            compact.update({key: parameter[key] for key in INDEX_LIMITS if key in parameter})
            parameters.append(compact)
        index[name] = {
            "access_token_type": list(entry.get("access_token_type", [])),
            "parameters": parameters,
        }
    return {"errors": {str(code): text for code, text in errors().items()}, "methods": index}


def index_text(index: dict[str, Any]) -> str:
    """The index as it is committed: sorted keys, no indentation, one trailing newline."""
    return json.dumps(index, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


def write_index(path: Path = INDEX_PATH) -> int:
    """Rebuild the committed index from the schema; returns its size in bytes."""
    data = index_text(build_index()).encode("utf-8")
    path.write_bytes(data)
    return len(data)


# -- answer checks (tests and contract checks only) ---------------------------------


def validate_response(
    name: str, body: dict[str, Any], variant: str | None = None, strict: bool = True
) -> None:
    """Raise jsonschema.ValidationError unless ``body`` ({"response": ...}) fits the method.

    ``variant`` names one of the method's answer shapes ("response", "extendedResponse", ...);
    without it any of them will do. ``strict`` also rejects fields the schema does not declare.
    """
    import jsonschema

    variants = method(name)["responses"]
    chosen = [variant] if variant else list(variants)
    unknown = [v for v in chosen if v not in variants]
    if unknown:
        raise SpecError(f"{name} has no answer variant {unknown[0]!r}; it has {list(variants)}")
    failures: list[jsonschema.ValidationError] = []
    for key in chosen:
        ref = _absolute(f"{name.split('.')[0]}/methods.json", variants[key]["$ref"])
        validator = _validator(ref, strict)
        error = jsonschema.exceptions.best_match(validator.iter_errors(body))
        if error is None:
            return
        failures.append(error)
    raise failures[0]


def validate_object(definition: str, value: Any, strict: bool = True) -> None:
    """Raise jsonschema.ValidationError unless ``value`` fits a definition.

    ``definition`` is written as in the description, e.g.
    ``"callback/objects.json#/definitions/callback_message_event"``.
    """
    import jsonschema

    validator = _validator(_absolute("", definition), strict)
    error = jsonschema.exceptions.best_match(validator.iter_errors(value))
    if error is not None:
        raise error


@cache
def _validator(ref: str, strict: bool) -> jsonschema.Draft7Validator:
    import jsonschema

    registry = _registry(strict)
    return jsonschema.Draft7Validator({"$ref": ref}, registry=registry)


@cache
def _registry(strict: bool) -> Registry:
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    documents = _documents()
    resources = []
    for relative, document in documents.items():
        rewritten = _rewrite(document, relative, documents, strict)
        resources.append((BASE_URI + relative, Resource(rewritten, specification=DRAFT7)))
    return Registry().with_resources(resources)


@cache
def _documents() -> dict[str, dict[str, Any]]:
    root = schema_dir()
    found = {}
    for path in sorted(root.glob("*/*.json")):
        if path.name in ("objects.json", "responses.json"):
            found[path.relative_to(root).as_posix()] = json.loads(path.read_text("utf-8"))
    return found


def _absolute(relative_file: str, ref: str) -> str:
    """An absolute URI for a $ref written inside ``relative_file``."""
    path, _, fragment = ref.partition("#")
    target = posixpath.normpath(posixpath.join(posixpath.dirname(relative_file), path))
    return f"{BASE_URI}{target}#{fragment}"


def _rewrite(
    document: dict[str, Any], relative: str, documents: dict[str, Any], strict: bool
) -> dict[str, Any]:
    result = copy.deepcopy(document)
    for name, definition in result.get("definitions", {}).items():
        result["definitions"][name] = _rewrite_node(definition, relative, documents, strict)
    return result


def _rewrite_node(node: Any, relative: str, documents: dict[str, Any], strict: bool) -> Any:
    if isinstance(node, list):
        return [_rewrite_node(item, relative, documents, strict) for item in node]
    if not isinstance(node, dict):
        return node
    if "allOf" in node and _all_objects(node["allOf"], relative, documents):
        node = _merge_all_of(node, relative, documents)
    original_properties = node.get("properties")
    required = (
        [key for key, prop in original_properties.items() if _is_required(prop)]
        if isinstance(original_properties, dict)
        else []
    )
    node = {
        key: (
            {name: _rewrite_node(prop, relative, documents, strict) for name, prop in value.items()}
            if key == "properties" and isinstance(value, dict)
            else _rewrite_node(value, relative, documents, strict)
        )
        for key, value in node.items()
    }
    if isinstance(node.get("required"), bool):
        del node["required"]  # draft-03 style: the parent lists this property as required
    if required:
        node["required"] = required
    if (
        strict
        and isinstance(node.get("properties"), dict)
        and "additionalProperties" not in node
        and not _combines(node)
    ):
        node["additionalProperties"] = False
    return node


def _is_required(prop: Any) -> bool:
    return isinstance(prop, dict) and prop.get("required") is True


def _combines(node: dict[str, Any]) -> bool:
    return any(key in node for key in ("allOf", "anyOf", "oneOf", "$ref", "patternProperties"))


def _resolve(ref: str, relative: str, documents: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The schema a $ref points at, and the file it lives in."""
    uri = _absolute(relative, ref)
    target_file, _, fragment = uri[len(BASE_URI) :].partition("#")
    node: Any = documents[target_file]
    for part in fragment.strip("/").split("/"):
        node = node[part]
    return node, target_file


def _flat_members(
    members: list[Any], relative: str, documents: dict[str, Any]
) -> list[dict[str, Any]]:
    """allOf members with $refs followed and nested allOfs expanded."""
    flat: list[dict[str, Any]] = []
    for member in members:
        where = relative
        while "$ref" in member:
            member, where = _resolve(member["$ref"], where, documents)
        if "allOf" in member:
            flat.extend(_flat_members(member["allOf"], where, documents))
            rest = {k: v for k, v in member.items() if k != "allOf"}
            if rest.get("properties"):
                flat.append(rest)
        else:
            flat.append(member)
    return flat


def _all_objects(members: list[Any], relative: str, documents: dict[str, Any]) -> bool:
    flat = _flat_members(members, relative, documents)
    return all(
        set(member) <= {"type", "properties", "additionalProperties", "description", "required"}
        and member.get("type", "object") == "object"
        for member in flat
    )


def _merge_all_of(node: dict[str, Any], relative: str, documents: dict[str, Any]) -> dict:
    """One object schema declaring the properties of every allOf member.

    Members keep their own $refs, which are all written relative to a section folder
    ("../wall/objects.json#..."), so they stay valid wherever the merged copy lives.
    """
    merged: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
    merged["type"] = "object"
    properties: dict[str, Any] = dict(node.get("properties", {}))
    closed = False
    for member in _flat_members(node["allOf"], relative, documents):
        properties.update(copy.deepcopy(member.get("properties", {})))
        closed = closed or member.get("additionalProperties") is False
    merged["properties"] = properties
    if closed:
        merged["additionalProperties"] = False
    return merged


def clear_caches() -> None:
    """Forget everything read from the schema (after ``$VK_API_SCHEMA_DIR`` changes)."""
    for cached in (methods, errors, _validator, _registry, _documents):
        cached.cache_clear()


def main(argv: list[str] | None = None) -> int:
    """``python -m sandbox.vk_spec --build-index``: rewrite sandbox/vk/spec_index.json."""
    args = sys.argv[1:] if argv is None else argv
    if args != ["--build-index"]:
        print("usage: python -m sandbox.vk_spec --build-index", file=sys.stderr)
        return 2
    size = write_index()
    print(f"{INDEX_PATH}: {size} bytes from {schema_dir()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
