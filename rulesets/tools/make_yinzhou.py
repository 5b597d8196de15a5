"""Regenerate 银州区 (Yinzhou district, Tieling): a whole district as one community tree.

Run from the repository root::

    .venv/bin/python rulesets/tools/make_yinzhou.py

The account gives the shape and three numbers: district > street > community >
grid > household, 64 communities, about 3,000 gridworkers, and grids sized at
300 households / 1,000 people.  Everything else is our choice and is written
next to the code that makes it:

* 7 streets (the split of the 64 communities across them: 10, 9, 9, ...);
* each community's households drawn from 1,100 to 2,500, so it has 4 to 8
  grids of about 300 households each (about 384 grids, 115,000 households,
  380,000 people in all);
* per grid: one full-time gridworker (专职), one professional gridworker
  (专业, the police station's officer for that grid), 5 or 6 part-time
  gridworkers (兼职) and one resident account; per community: its secretary
  (master grid leader), a committee member leading each two grids and a
  line-department officer from urban management; per street: its party
  secretary (master grid leader), two officers of the street's grid office
  and the street's line-department officers (police, urban management, fire,
  market supervision); at the district: the command centre's director and
  three dispatchers (区级指挥中心).

The account's fifth level, the household, is not a node of the tree: a
household is a record of the community model (``households.csv``), and
200,000-odd records would make loading the district take seconds that no
command needs; the model keeps no per-grid household counts without records,
so this roster carries none (grid sizes above only decide how many grids a
community has).

``district(...)`` builds any size of district with the same shape; the tests
build a small one (2 streets x 2 communities) with it.  The output is
deterministic (one seeded random source per district key), so running this
twice gives byte-identical files.
"""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _rosters() -> ModuleType:
    """make_rosters.py beside this file (its Roster, names and CSV writer), loaded by path."""
    name = "gridcore_make_rosters"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HERE / "make_rosters.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


#: Street names (our choice); a smaller district takes the first few.
STREETS = ("红旗街道", "工人街道", "铁西街道", "柴河街道", "铜钟街道", "岭东街道", "辽海街道")
#: Community names are a word of place and 社区 (our choice, synthetic).
PLACE_WORDS = (
    "银州", "龙山", "铁岭", "柴河", "凡河", "新华", "光明", "幸福", "和平", "兴隆", "建设", "友谊", "文化",
    "胜利", "团结", "民主", "育才", "南湖", "北山", "东岗", "西园", "红旗", "工人", "铁西", "铜钟",
    "岭东", "辽海", "银冈", "站前", "向阳", "长青", "金沙", "锦绣", "春城", "清河", "福民", "安居",
    "德胜", "永安", "泰和", "康乐", "吉祥", "瑞丰", "宏达", "顺城", "嘉园", "怡景", "翠园", "桂花",
    "松林", "榆林", "柳荫", "杨柳", "梧桐", "枫林", "丹桂", "紫荆", "玉兰", "海棠", "牡丹", "芙蓉",
    "水岸", "滨河", "湖畔",
)
#: Departments that answer whistles (吹哨报到) at the street and send officers down.
STREET_DEPARTMENTS = ("police", "urban_management", "fire", "market_supervision")
LEVEL_NAMES = {"district": "区", "street": "街道", "community": "社区", "grid": "网格"}
EXTRA_ROLES = {"dispatcher": "指挥中心调度员", "street_officer": "街道网格专干"}


def district(root: Path = ROOT, *, key: str = "yinzhou", streets: int = 7, communities: int = 64,
             name: str = "银州区") -> dict[str, int]:
    """Write a district folder ``root/key`` and return its sizes (grids, gridworkers, ...)."""
    rosters = _rosters()
    r = rosters.Roster(key, random.Random(key), root)
    for ident, label in rosters.LINE_DEPARTMENTS:
        r.department(ident, label)
    top = r.node("yz", name, "district")
    # The district command centre (区级指挥中心): its director and dispatchers.
    director = r.member("yz-cc-dir", party=True)
    r.role(director, "master_grid_leader", top)
    for k in range(1, 4):
        r.role(r.member(f"yz-cc-d{k}", party_share=0.5), "dispatcher", top)
    sizes = {"streets": streets, "communities": communities, "grids": 0, "gridworkers": 0,
             "households": 0, "people": 0}
    per_street = rosters.spread(communities, streets)
    c = 0
    for s, count in enumerate(per_street, 1):
        street = r.node(f"yz-s{s}", STREETS[s - 1] if s <= len(STREETS) else f"第{rosters.zh_number(s)}街道",
                        "street", top)
        secretary = r.member(f"yz-s{s}-sec", party=True)
        r.role(secretary, "master_grid_leader", street)
        for k in (1, 2):
            r.role(r.member(f"yz-s{s}-o{k}", party_share=0.6), "street_officer", street)
        for d, department in enumerate(STREET_DEPARTMENTS, 1):
            r.role(r.member(f"yz-s{s}-p{d}", party_share=0.3), "professional_gridworker", street, department)
            sizes["gridworkers"] += 1
        for _ in range(count):
            c += 1
            label = PLACE_WORDS[c - 1] if c <= len(PLACE_WORDS) else f"第{rosters.zh_number(c)}"
            community = r.node(f"yz-c{c}", f"{label}社区", "community", street)
            sizes["gridworkers"] += _community(r, rosters, community, c, sizes)
    r.write(_header(name, sizes))
    return sizes


def _community(r: Any, rosters: ModuleType, community: str, c: int, sizes: dict[str, int]) -> int:
    """One community's grids and staff; returns how many gridworkers it has."""
    rng: random.Random = r.rng
    # Households drawn from 1,100 to 2,500 (our choice); grids of about 300 (the account).
    households = rng.randint(1100, 2500)
    grids = max(1, round(households / 300))
    sizes["grids"] += grids
    sizes["households"] += households
    sizes["people"] += round(households * rng.uniform(3.1, 3.5))  # about 1,000 people a grid (the account)
    secretary = r.member(f"yz-c{c}-sec", party=True)
    r.role(secretary, "master_grid_leader", community)
    r.role(secretary, "committee_member", community)
    officer = r.member(f"yz-c{c}-um", party_share=0.2)
    r.role(officer, "professional_gridworker", community, "urban_management")
    workers = 1
    leader = ""
    for g in range(1, grids + 1):
        grid = r.node(f"yz-c{c}-g{g}", f"第{rosters.zh_number(g)}网格", "grid", community)
        if g % 2 == 1:  # a committee member leads each two grids (our choice)
            leader = r.member(f"yz-c{c}-gl{(g + 1) // 2}", party=True)
            r.role(leader, "committee_member", community)
        r.role(leader, "grid_leader", grid)
        fulltime = r.member(f"yz-c{c}-g{g}-fw", party_share=0.4, home=grid)
        r.role(fulltime, "fulltime_gridworker", grid)
        police = r.member(f"yz-c{c}-g{g}-pw", party_share=0.3)
        r.role(police, "professional_gridworker", grid, "police")
        parttime = rng.choice((5, 6))
        for k in range(1, parttime + 1):
            member = r.member(f"yz-c{c}-g{g}-pt{k}", party_share=0.3, home=grid)
            r.role(member, "parttime_gridworker", grid)
        resident = r.member(f"yz-c{c}-g{g}-r1", party_share=0.1, home=grid)
        r.role(resident, "resident", grid)
        workers += 2 + parttime
    return workers


def _header(name: str, sizes: dict[str, int]) -> str:
    levels = " ".join(f"{k}: {v}," for k, v in LEVEL_NAMES.items()).rstrip(",")
    roles = ", ".join(f"{k}: {v}" for k, v in EXTRA_ROLES.items())
    return (
        f"# {name} (Yinzhou district, Tieling): generated by rulesets/tools/make_yinzhou.py.\n"
        "# district > street > community > grid (the account's fifth level, the household,\n"
        "# is not a node; see the script).  The account: 64 communities, about 3,000\n"
        "# gridworkers, grids of about 300 households / 1,000 people.  Our choice: the\n"
        "# streets, community names and sizes, and who sits where.\n"
        f"# This roster: {sizes['streets']} streets, {sizes['communities']} communities, "
        f"{sizes['grids']} grids, {sizes['gridworkers']} gridworkers;\n"
        f"# planned for {sizes['households']} households and {sizes['people']} people (not records).\n"
        f"name: {name}\n"
        "timezone: Asia/Shanghai\n"
        "levels: [district, street, community, grid]\n"
        f"level_names: {{{levels}}}\n"
        f"roles: {{{roles}}}\n"
    )


def main(root: Path = ROOT) -> None:
    """Write rulesets/yinzhou (or ``root``/yinzhou)."""
    district(root)


if __name__ == "__main__":
    main()
