"""Every decision of a month of Yinquan explained under zh reads Chinese: points entries (earned, deducted,
capped), escalations (routes, limits breached, reopenings, repeat reports joined), ratings of nodes and people,
subsidies; swept by tests/zhsweep.py's rule, as the CLI's output is."""

from __future__ import annotations

import re
from collections import Counter

from conftest import Demo
from zhsweep import english_lines

import gridcore_assessment
from gridcore import Engine
from gridcore.errors import GridcoreError
from gridcore.plugin_host import Hooks, get_plugin_manager
from gridcore.roster import ROLES


def _decisions(engine: Engine) -> list[str]:
    """Every decision a plugin can explain on ``engine``'s store: each event's points entry and escalation
    step, each incident's route, each rating, person's rating and subsidy of January."""
    documents = [document for _, document in engine.store.events_after(0)]
    decisions = [f"{plugin}:{d['id']}" for d in documents for plugin in ("points", "escalation")]
    decisions += sorted({f"escalation:route:{d['incident']}" for d in documents if d.get("incident")})
    rated = gridcore_assessment.stored_or_fresh(engine, "2025-01")
    decisions += [f"assessment:2025-01:{r.node}" for r in rated.ratings]
    decisions += [f"assessment:2025-01:person:{p.node}" for p in rated.people]
    decisions += [f"assessment:2025-01:subsidy:{s}" for s in sorted({s.member for s in rated.subsidies})]
    return decisions


def _names(engine: Engine) -> frozenset[str]:
    """What an explanation shows as it is in any language: the store's ids (nodes, members, the categories,
    roles and channels its events carry), the plugins' and metrics' names."""
    hierarchy = engine.community.hierarchy
    found = {n.id for root in hierarchy.roots() for n in hierarchy.descendants(root.id, include_self=True)}
    found |= set(engine.community.members) | set(engine.community.roles) | set(ROLES) | set(engine.metrics())
    found |= {name for name, _ in Hooks(get_plugin_manager()).describe_plugins()}
    for _, document in engine.store.events_after(0):
        found |= {str(document[key]) for key in ("category", "channel", "role") if document.get(key)}
    return frozenset(found)


def test_every_decision_explained_in_chinese_reads_chinese(demo: Demo) -> None:
    explained: Counter[str] = Counter()
    found: dict[str, str] = {}
    with Engine.open(store=demo.store) as engine:
        names = _names(engine)
        for decision in _decisions(engine):
            try:
                shown = engine.explain(decision, lang="zh").render("zh")
            except GridcoreError:
                continue
            explained[decision.split(":")[0] if ":person:" not in decision else "person"] += 1
            explained["subsidy"] += ":subsidy:" in decision
            for line in english_lines(shown, names):
                found.setdefault(re.sub(r"\S*\d\S*", "#", line.split("    <- ")[1]), f"{decision}: {line}")
    assert explained["points"] > 500 and explained["escalation"] > 50 and explained["assessment"] > 10, explained
    assert explained["person"] > 5 and explained["subsidy"] > 5, explained
    assert sorted(found.values()) == []


def test_an_entry_a_cap_and_a_repeat_report_explained_in_chinese(demo: Demo) -> None:
    """The shapes the sweep found English: an entry's summary, a cap's room, a yes-or-no input, a node's level,
    a repeat report joined (decisions of the demo's month: seed 1); in English each stays as it was."""
    with Engine.open(store=demo.store) as engine:
        shown = {d: engine.explain(d, lang="zh").render("zh") for d in CASES}
        english = {d: engine.explain(d).render() for d in CASES}
    capped, party, earned, joined = CASES
    assert re.search(r"输入：上限 \S+ 每月（cap \S+ per month） = \d+，还剩 \d+", shown[capped]), shown[capped]
    assert re.search(r"input 输入: cap \S+ per month = \d+, \d+ left", english[capped]), english[capped]
    assert re.fullmatch(r"points:\S+: 获得 \+\d+ 分（\S+）：.*", shown[earned].splitlines()[0]), shown[earned]
    assert shown[capped].splitlines()[0].startswith(f"{capped}: 获得 +12 分（yq-s1-p00075）：配合社区工作：每小时 5 分")
    assert " earn +" in english[earned].splitlines()[0]
    assert re.search(r"party_member = [是否]$", shown[party], re.MULTILINE), shown[party]
    assert re.search(r"party_member = (True|False)$", english[party], re.MULTILINE), english[party]
    assert re.match(r"escalation:\S+: 上报 \S+ 并入未结案事件 \S+，为第 1 次重复上报\n", shown[joined]), shown[joined]
    assert "输入：时间窗（window） = 2小时" in shown[joined] and "as repeat report #1" in english[joined]


#: A capped entry, a party member's, one earned, a repeat report joined, in the demo's month (seed 1).
CASES = ("points:yq-s1-000911", "points:yq-s1-000409", "points:yq-s1-000218", "escalation:yq-s1-000618")


def test_an_incident_entry_names_its_category_and_a_tilt_its_role_as_the_ruleset_and_roster_say_them(
        demo: Demo) -> None:
    """Under zh a points entry for an incident names its category by the title the ruleset gives it
    (``事件 X（矛盾纠纷）``, not ``（dispute）``), in its explanation and in a statement's rows, and a tilt's input
    names the role by its Chinese (``倾斜 专职网格员（fulltime_gridworker）``); English keeps the ids."""
    from gridcore_points.reports import in_chinese, statement_table

    with Engine.open(store=demo.store) as engine:
        titles = {ident: title for _, ruleset in engine.rulesets()
                  for title, ident in ruleset.titles.get("category", {}).items() if title != ident}
        assert titles["dispute"] == "矛盾纠纷"
        named: Counter[str] = Counter()
        members = set()
        for decision in (f"points:{d['id']}:{as_}" for _, d in engine.store.events_after(0)
                         if d["kind"] == "incident_closed" for as_ in ("reporter", "resolver")):
            try:
                zh, en = engine.explain(decision, lang="zh"), engine.explain(decision)
            except GridcoreError:
                continue
            category = re.search(r"事件 \S+（([^）]+)）", zh.summary)
            assert category is not None and category[1] in titles.values(), zh.summary
            named[category[1]] += 1
            assert re.search(r"incident \S+ \(([a-z_]+)\)", en.summary)[1] in titles, en.summary  # type: ignore[index]
            tilts = [label for label in zh.render("zh").splitlines() if "倾斜" in label]
            assert all(re.search(r"倾斜 \S+（[a-z_]+）", t) and not re.search(r"倾斜 [a-z_]+ ", t) for t in tilts), tilts
            members.add(str(en.inputs["member"]))
        assert sum(named.values()) > 20 and len(named) > 3, named
        rows = [row for member in sorted(members)[:5]
                for row in in_chinese(engine, statement_table(engine, member, "2025-01")).rows]
        cells = [str(cell) for row in rows for cell in row if "事件" in str(cell)]
        assert cells and all(re.search(r"事件 \S+（[^a-z）]+）", c) for c in cells if "（" in c), cells
