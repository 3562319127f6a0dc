"""The reports take what they say of each network from the registry: a network added
there gets its column, its title in every sentence and its rates, with nothing in reports/.

The new network is registered in a child process, so the registry of this one (and of
every other test) stays as it is.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_CHILD = """
import json
from dataclasses import replace

from core.networks import network, register
from reports.model import Summary, Tally
from reports.tables import summary_table
from reports.words import Words

vk = network("vk")
register(replace(
    vk,
    name="ok",  # a fourth network, made up here (MAX is registered already)
    titles={"ru": "ОК", "en": "OK"},
    titles_on={"ru": "в ОК"},
    report_order=3,
    chat_targets_from=None,
    capabilities=replace(vk.capabilities, channel_rates=True, anonymous_reactions=True,
                         reposts_readable=False, views_readable=False),
))
found = {}
for language in ("ru", "en"):
    words = Words(language)
    summary = Summary(name="", days=30)
    for name, views in (("vk", 100.0), ("telegram", 40.0), ("ok", 50.0)):
        tally = Tally(posts=1, engagement=5.0, engaged=1, viewed_engagement=5.0,
                      viewed_views=views, viewed=1, seen=1, seen_views=views)
        tally.per_follower(200.0)
        summary.tallies[name] = tally
        summary.followers[name] = 200.0
    table = summary_table(summary, words, "s")
    rows = {row[0]: row[1:-1] for row in table.rows}
    found[language] = {
        "headers": table.headers,
        "er_channel": [None if v is None else round(v, 2) for v in rows[words["er_channel"]]],
        "labels": {k: words[k] for k in ("anonymous", "er_channel", "err", "na_note")},
        "formulas": {k: words.formula(k) for k in ("engagement", "people", "participations")},
        "name": words.name("ok"),
    }
print(json.dumps(found, ensure_ascii=False))
"""


def _with_a_third_network() -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return json.loads(done.stdout)


def test_a_registered_network_gets_its_column_words_and_rates() -> None:
    found = _with_a_third_network()
    ru, en = found["ru"], found["en"]
    assert ru["headers"] == ["Показатель", "ВКонтакте", "Telegram", "ОК", "Всего", "Формула"]
    assert en["headers"][1:4] == ["VK", "Telegram", "OK"] and en["name"] == "OK"
    # Its own ER (engagement ÷ views) beside Telegram's; none for VK; the total of the sums.
    assert ru["er_channel"] == [None, 12.5, 10.0, round(100 * 10 / 90, 2)]
    assert ru["labels"]["er_channel"] == "ER (Telegram, ОК), %"
    assert en["labels"]["err"] == "ERR (Telegram, OK), %"
    assert ru["labels"]["anonymous"].endswith("реакции в Telegram и в ОК)")
    assert "(e.g. Telegram views)" in en["labels"]["na_note"]  # an example: the first
    assert "пересылки в Telegram, в MAX и в ОК боту не видны" in ru["formulas"]["engagement"]
    assert "ВКонтакте, Telegram, MAX и ОК считаются отдельно" in ru["formulas"]["people"]
    assert "VK, Telegram, MAX and OK counted apart" in en["formulas"]["people"]
    assert "реакции в Telegram, лайки ВКонтакте, лайки в ОК" in ru["formulas"]["participations"]
    assert "Telegram reactions, VK likes, OK likes" in en["formulas"]["participations"]
