"""The project's own copy of the official API descriptions (``specs/``).

A user's clone has nothing beside it, so the contract tests read ``specs/``. Where the
team's reference folder ``../shared/specs`` exists (the developers' machines and CI),
the copy must equal it file for file: a test here names every file that differs, so an
update of the reference is not missed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sandbox import telegram_spec, vk_spec

ROOT = Path(__file__).resolve().parent.parent
COPY = ROOT / "specs"
REFERENCE = ROOT.parent / "shared" / "specs"
# Descriptions the project wrote itself (MAX's schema carries no licence, so its facts are
# kept in our own words with their sources): no reference copy to equal.
OWN = ("max/",)


def _digests(folder: Path) -> dict[str, str]:
    """Relative path → SHA-256 of every file under ``folder``."""
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.relative_to(folder).as_posix().startswith(OWN)
    }


def differences(copy: Path, reference: Path) -> list[str]:
    """One line per file missing, extra or changed in ``copy`` against ``reference``."""
    ours, theirs = _digests(copy), _digests(reference)
    lines = [f"missing from specs/: {name}" for name in sorted(theirs.keys() - ours.keys())]
    lines += [f"not in the reference: {name}" for name in sorted(ours.keys() - theirs.keys())]
    lines += [
        f"differs from the reference: {name}"
        for name in sorted(ours.keys() & theirs.keys())
        if ours[name] != theirs[name]
    ]
    return lines


def test_the_copy_carries_both_descriptions_and_their_licences() -> None:
    assert "MIT" in (COPY / "telegram-bot-api.LICENSE").read_text(encoding="utf-8")
    assert "MIT" in (COPY / "vk-api-schema" / "LICENSE").read_text(encoding="utf-8")
    assert vk_spec.schema_dir() == COPY / "vk-api-schema"
    assert "wall.post" in vk_spec.methods()
    assert "sendPoll" in telegram_spec.spec()["methods"]


def test_the_copy_equals_the_reference_where_it_exists() -> None:
    if REFERENCE.is_dir():
        assert differences(COPY, REFERENCE) == []
    else:  # a user's clone: the copy is all there is, and it is whole
        assert {"telegram-bot-api.json", "vk-api-schema/errors.json"} <= _digests(COPY).keys()


def test_a_changed_file_is_named(tmp_path: Path) -> None:
    reference, copy = tmp_path / "reference", tmp_path / "copy"
    for folder in (reference, copy):
        (folder / "vk").mkdir(parents=True)
        (folder / "vk" / "methods.json").write_text("{}", encoding="utf-8")
    (reference / "new.json").write_text("{}", encoding="utf-8")
    (copy / "vk" / "methods.json").write_text('{"changed": 1}', encoding="utf-8")
    assert differences(copy, reference) == [
        "missing from specs/: new.json",
        "differs from the reference: vk/methods.json",
    ]
