"""The declared dependency bounds match the versions the tests are run with at their oldest."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENT = re.compile(r"^([A-Za-z0-9_.-]+)(\[[^\]]*\])?(.*)$")


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def lower_bounds() -> dict[str, str]:
    """Package name → its ``>=`` bound, over the dependencies and the test extra."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    found = {}
    for line in project["dependencies"] + project["optional-dependencies"]["test"]:
        name, _extras, spec = REQUIREMENT.match(line.replace(" ", "")).groups()
        bound = re.search(r">=([^,]+)", spec)
        assert bound, f"{name} has no lower bound in pyproject.toml"
        found[_name(name)] = bound.group(1)
    return found


def oldest_pins() -> dict[str, str]:
    """Package name → the version oldest-versions.txt pins."""
    pins = {}
    for line in (ROOT / "oldest-versions.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[_name(name)] = version.strip()
    return pins


def test_every_lower_bound_is_the_pinned_oldest_version() -> None:
    assert lower_bounds() == oldest_pins()


def test_the_telegram_client_has_correct_option_ids() -> None:
    # send_poll(correct_option_ids=…) exists from python-telegram-bot 22.8 on.
    assert lower_bounds()["python-telegram-bot"] == "22.8"
