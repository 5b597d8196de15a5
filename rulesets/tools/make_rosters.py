"""Regenerate the four communities' roster files (community.yaml + CSVs).

Run from the repository root::

    .venv/bin/python rulesets/tools/make_rosters.py

The output is deterministic (each community has its own seeded random source),
so running it twice gives byte-identical files; the generated files are
committed so nobody has to run this to use them.  Names of people are
synthetic (a surname plus one or two given-name characters) and phone numbers
use the reserved-looking 1380000xxxx range; node names are Chinese and follow
the sizes in ../shared/DOMAIN.md.  Where the accounts give no number (how many
grids Cuihu's old buildings form, how many professional gridworkers Chengqiao
has, ...) the choice is written next to the code that makes it.

Roster members are staff, leaders, volunteers and a *sample* of resident
accounts (a few per leaf cell): the accounts' ~10,000 residents per community
are represented in the simulation by ``resident_registered`` events, not as
roster members, so rosters stay the size staff really maintain.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高梁郑谢宋唐许韩冯邓曹彭曾肖田董袁潘"
    "蔡蒋余于杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红建国志文斌辉鹏飞宇"
    "婷雪梅琳晨浩然欣怡佳俊杰海燕春梅秋菊冬生永福德才家宝淑珍慧颖子涵梓轩雨萱"
)
NUMERALS = "一二三四五六七八九十"


def zh_number(n: int) -> str:
    """1 -> 一, 12 -> 十二, 23 -> 二十三 (enough for node names)."""
    if n <= 10:
        return NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    head = "十" if tens == 1 else NUMERALS[tens - 1] + "十"
    return head + (NUMERALS[ones - 1] if ones else "")


@dataclass
class Roster:
    """The rows of one community folder, built up in order."""

    key: str
    rng: random.Random
    root: Path = ROOT
    nodes: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    members: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    roles: list[tuple[str, str, str, str]] = field(default_factory=list)
    departments: list[tuple[str, str]] = field(default_factory=list)
    places: list[tuple[str, str, str]] = field(default_factory=list)
    #: the base population (一标三实), where a community keeps it: households, people known by name, 包联户
    households: list[tuple[str, str, str, str, str, str]] = field(default_factory=list)
    residents: list[tuple[str, str, str, str, str, str]] = field(default_factory=list)
    care: list[tuple[str, str, str]] = field(default_factory=list)
    #: node id -> GeoJSON polygon ring ([lon, lat] ...), written to cells.geojson
    shapes: dict[str, list[list[float]]] = field(default_factory=dict)
    _names: set[str] = field(default_factory=set)
    _phones: int = 0
    _party_share: dict[str, float] = field(default_factory=dict)

    def node(self, ident: str, name: str, level: str, parent: str = "", kind: str = "territorial") -> str:
        self.nodes.append((ident, name, level, parent, kind))
        return ident

    def name_of(self, ident: str) -> str:
        return next(row[1] for row in self.nodes if row[0] == ident)

    def person_name(self) -> str:
        while True:
            given = "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2, 2))))
            name = self.rng.choice(SURNAMES) + given
            if name not in self._names:
                self._names.add(name)
                return name

    def member(self, ident: str, *, party: bool | None = None, home: str = "", party_share: float = 0.1) -> str:
        self._phones += 1
        is_party = party if party is not None else self.rng.random() < party_share
        phone = f"1380000{self._phones:04d}"
        self.members.append((ident, self.person_name(), phone, "true" if is_party else "false", home))
        self._party_share[ident] = 2.0 if party else 0.0 if party is False else party_share
        return ident

    def settle_party(self, total: int) -> None:
        """Make exactly ``total`` members party members, as the account counts them.

        Those marked ``party=True`` (leaders) stay party members; the rest are
        drawn without replacement, each in proportion to its ``party_share``
        (weighted sampling by keys ``u ** (1 / w)``), from a source of its own.
        """
        draw = random.Random(f"{self.key}:party")
        fixed = [m for m, share in self._party_share.items() if share > 1]
        keyed = sorted(((draw.random() ** (1 / share), m) for m, share in self._party_share.items()
                        if 0 < share <= 1), reverse=True)
        if not len(fixed) <= total <= len(fixed) + len(keyed):
            raise ValueError(f"{self.key}: cannot make {total} party members from {len(fixed)} leaders "
                             f"and {len(keyed)} others")
        chosen = set(fixed) | {m for _, m in keyed[: total - len(fixed)]}
        self.members = [(ident, name, phone, "true" if ident in chosen else "false", home)
                        for ident, name, phone, _, home in self.members]

    def role(self, member: str, role: str, node: str, department: str = "") -> None:
        self.roles.append((member, role, node, department))

    def department(self, ident: str, name: str) -> str:
        self.departments.append((ident, name))
        return ident

    def place(self, ident: str, name: str, node: str) -> str:
        self.places.append((ident, name, node))
        return ident

    def write(self, header: str) -> None:
        folder = self.root / self.key
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "community.yaml").write_text(header, encoding="utf-8")
        _write_csv(folder / "nodes.csv", ("id", "name", "level", "parent", "kind"), self.nodes)
        _write_csv(folder / "members.csv", ("id", "name", "phone", "party_member", "home"), self.members)
        _write_csv(folder / "roles.csv", ("member", "role", "node", "department"), self.roles)
        _write_csv(folder / "departments.csv", ("id", "name"), self.departments)
        _write_csv(folder / "places.csv", ("id", "name", "node"), self.places)
        if self.households:
            _write_csv(folder / "households.csv", ("id", "name", "node", "place", "people", "floating"),
                       self.households)
            _write_csv(folder / "residents.csv",
                       ("id", "name", "household", "floating", "key_person", "special_group"), self.residents)
            _write_csv(folder / "care.csv", ("member", "household", "place"), self.care)
        if self.shapes:
            features = [
                {"type": "Feature", "properties": {"id": ident},
                 "geometry": {"type": "Polygon", "coordinates": [ring]}}
                for ident, ring in self.shapes.items()
            ]
            text = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
            (folder / "cells.geojson").write_text(text.replace("}}, {", "}},\n {") + "\n", encoding="utf-8")

    def rectangle(self, ident: str, west: float, south: float, east: float, north: float) -> None:
        """Put a node on the map as a rectangle (degrees, rounded to about a metre)."""
        w, s, e, n = (round(v, 5) for v in (west, south, east, north))
        self.shapes[ident] = [[w, s], [e, s], [e, n], [w, n], [w, s]]


def _write_csv(path: Path, header: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as out:  # a BOM: Excel reads UTF-8
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def spread(total: int, parts: int) -> list[int]:
    """Split ``total`` into ``parts`` near-equal whole numbers, larger ones first."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


# Line departments that send professional gridworkers down (条线部门).
LINE_DEPARTMENTS = (
    ("police", "公安派出所"),
    ("urban_management", "城市管理执法"),
    ("fire", "消防救援"),
    ("market_supervision", "市场监督管理"),
    ("housing", "住房和城乡建设"),
    ("judicial", "司法所"),
    ("health", "卫生健康"),
    ("emergency", "应急管理"),
)


# ---------------------------------------------------------------- Yinquan


def yinquan(root: Path = ROOT) -> None:
    """银泉社区: community > grid > unit; 8 grids, 53 units, 10 + 16 + 22 gridworkers."""
    r = Roster("yinquan", random.Random("yinquan"), root)
    top = r.node("yq", "银泉社区", "community")
    for ident, name in LINE_DEPARTMENTS:
        r.department(ident, name)
    estates = ("银泉花园", "外海新村", "东湖苑", "南华里", "金桂苑", "翠竹苑", "滨江小区", "银湖新都")
    grids: list[str] = []
    units: dict[str, list[str]] = {}
    # 53 units over 8 grids: 7,7,7,7,7,6,6,6. A unit is 1-3 buildings (the account).
    for g, count in enumerate(spread(53, 8), 1):
        grid = r.node(f"yq-g{g}", f"银泉社区第{zh_number(g)}网格", "grid", top)
        grids.append(grid)
        units[grid] = []
        building = 0
        for u in range(1, count + 1):
            unit = r.node(f"yq-g{g}-u{u}", f"第{zh_number(g)}网格{zh_number(u)}单元", "unit", grid)
            units[grid].append(unit)
            for _ in range(r.rng.choice((1, 2, 2, 3))):
                building += 1
                r.place(f"yq-g{g}-b{building}", f"{estates[g - 1]}{building}栋", unit)

    secretary = r.member("yq-m-sec", party=True)
    r.role(secretary, "master_grid_leader", top)
    r.role(secretary, "committee_member", top)
    n = 0
    for g, grid in enumerate(grids, 1):
        leader = r.member(f"yq-gl{g}", party=True)
        r.role(leader, "grid_leader", grid)
        r.role(leader, "committee_member", top)
    # 10 full-time gridworkers: one per grid, a second in the two largest grids.
    for g, grid in enumerate(grids, 1):
        for k in range(2 if g <= 2 else 1):
            n += 1
            worker = r.member(f"yq-fw{n}", party_share=0.4)
            r.role(worker, "fulltime_gridworker", grid)
    # 16 professional gridworkers from line departments, two per grid:
    # every grid has its community police officer; the second post rotates.
    second = ("urban_management", "fire", "urban_management", "market_supervision",
              "urban_management", "housing", "judicial", "urban_management")
    n = 0
    for g, grid in enumerate(grids, 1):
        for dept in ("police", second[g - 1]):
            n += 1
            pro = r.member(f"yq-pw{n}", party_share=0.5)
            r.role(pro, "professional_gridworker", grid, dept)
    # 22 part-time gridworkers (resident cadres, social workers, volunteer liaisons).
    n = 0
    for g, count in enumerate(spread(22, 8), 1):
        for _ in range(count):
            n += 1
            unit = r.rng.choice(units[grids[g - 1]])
            part = r.member(f"yq-tw{n}", home=unit, party_share=0.3)
            r.role(part, "parttime_gridworker", grids[g - 1])
    # One unit leader per unit, a trusted resident, often a party member.
    for grid in grids:
        for unit in units[grid]:
            leader = r.member(f"{unit}-ul", home=unit, party_share=0.6)
            r.role(leader, "unit_leader", unit)
    # Volunteer teams (first aid, red culture, calligraphy, environment): 32 people.
    all_units = [u for grid in grids for u in units[grid]]
    for v in range(1, 33):
        home = r.rng.choice(all_units)
        vol = r.member(f"yq-v{v}", home=home, party_share=0.25)
        r.role(vol, "volunteer", home.rsplit("-", 1)[0])
    # A sample of resident accounts: 3 per unit (159 of ~10,000 residents).
    for unit in all_units:
        for k in range(1, 4):
            res = r.member(f"{unit}-r{k}", home=unit, party_share=0.08)
            r.role(res, "resident", unit)
    # A map (our choice, not surveyed): the community as about 1.3 km x 1.3 km
    # (the account: 1.7 km²) east of Jiangmen's centre, its grids a 4 x 2 block,
    # each grid's units side by side strips, so an Open311 report with a
    # latitude/longitude finds its unit.
    west, south, width, height = 113.100, 22.565, 0.0032, 0.0060
    r.rectangle(top, west, south, west + 4 * width, south + 2 * height)
    for g, grid in enumerate(grids):
        gw, gs = west + (g % 4) * width, south + (g // 4) * height
        r.rectangle(grid, gw, gs, gw + width, gs + height)
        strip = width / len(units[grid])
        for u, unit in enumerate(units[grid]):
            r.rectangle(unit, gw + u * strip, gs, gw + (u + 1) * strip, gs + height)
    # The account counts 45 party members: the secretary and the grid leaders, and
    # 36 others (unit leaders most often, as the account says).
    r.settle_party(45)
    r.write(
        "# 银泉社区 (Yinquan community, Waihai street, Jiangmen): generated by\n"
        "# rulesets/tools/make_rosters.py; edit the script, not these files.\n"
        "# 8 grids, 53 units, 10 full-time / 16 professional / 22 part-time gridworkers\n"
        "# and 45 party members (the account); 32 volunteers and 3 resident accounts per\n"
        "# unit are our choice: the other ~10,000 residents appear as resident_registered\n"
        "# events.\n"
        "name: 银泉社区\n"
        "timezone: Asia/Shanghai\n"
        "levels: [community, grid, unit]\n"
        "level_names: {community: 社区, grid: 网格, unit: 单元}\n"
    )


# ---------------------------------------------------------------- Cuihu


def cuihu(root: Path = ROOT) -> None:
    """翠湖社区: community > grid > building; 7 estates + 235 old buildings, 43 building leaders."""
    r = Roster("cuihu", random.Random("cuihu"), root)
    top = r.node("ch", "翠湖社区", "community")
    for ident, name in (*LINE_DEPARTMENTS[:6], LINE_DEPARTMENTS[7]):
        r.department(ident, name)
    estates = ("翠湖花园", "清远华府", "锦绣江南", "碧桂华庭", "阳光城", "御景湾", "凤城名苑")
    # Buildings per estate: not in the account; 8-16 is typical of the city's estates.
    estate_sizes = (12, 10, 16, 8, 14, 9, 11)
    grids: list[str] = []
    leaves: dict[str, list[str]] = {}
    for e, (estate, size) in enumerate(zip(estates, estate_sizes), 1):
        grid = r.node(f"ch-e{e}", f"{estate}网格", "grid", top)
        grids.append(grid)
        leaves[grid] = []
        for b in range(1, size + 1):
            leaves[grid].append(r.node(f"ch-e{e}-b{b}", f"{estate}{b}栋", "building", grid))
    # The 235 old buildings (no property management) form 5 grids of 47: our choice.
    streets = ("城北老街", "东门里", "沿江路", "新华坊", "中山巷")
    old_buildings: list[str] = []
    for s, (street, count) in enumerate(zip(streets, spread(235, 5)), 1):
        grid = r.node(f"ch-o{s}", f"{street}网格", "grid", top)
        grids.append(grid)
        leaves[grid] = []
        for b in range(1, count + 1):
            building = r.node(f"ch-o{s}-b{b}", f"{street}{b}号楼", "building", grid)
            leaves[grid].append(building)
            old_buildings.append(building)
    for grid in grids:
        for leaf in leaves[grid]:
            r.place(f"{leaf}-p", r.name_of(leaf), leaf)

    secretary = r.member("ch-m-sec", party=True)
    r.role(secretary, "master_grid_leader", top)
    r.role(secretary, "committee_member", top)
    for g, grid in enumerate(grids, 1):
        leader = r.member(f"ch-gl{g}", party=True)
        r.role(leader, "grid_leader", grid)
        r.role(leader, "committee_member", top)
        worker = r.member(f"ch-fw{g}", party_share=0.4)
        r.role(worker, "fulltime_gridworker", grid)
    # Professional gridworkers: 2 police, 2 urban management, 1 fire, 1 market, 1 housing,
    # 1 judicial: our choice (the account gives no number).
    for n, dept in enumerate(("police", "police", "urban_management", "urban_management",
                              "fire", "market_supervision", "housing", "judicial"), 1):
        pro = r.member(f"ch-pw{n}", party_share=0.5)
        r.role(pro, "professional_gridworker", top, dept)
    # Part-time gridworkers: one per old-building grid plus 5 at the community (our choice).
    n = 0
    for grid in grids[7:]:
        n += 1
        part = r.member(f"ch-tw{n}", home=r.rng.choice(leaves[grid]), party_share=0.3)
        r.role(part, "parttime_gridworker", grid)
    for _ in range(5):
        n += 1
        part = r.member(f"ch-tw{n}", party_share=0.3)
        r.role(part, "parttime_gridworker", top)
    # Estates have property-management staff: 2 or 3 per estate (our choice).
    for e, grid in enumerate(grids[:7], 1):
        for k in range(1, (3 if estate_sizes[e - 1] >= 12 else 2) + 1):
            staff = r.member(f"ch-pm{e}-{k}")
            r.role(staff, "property_manager", grid)
    # 43 building leaders (the account) for the 235 old buildings: each looks after
    # 5 or 6 neighbouring buildings and lives in the first of them.
    start = 0
    for k, count in enumerate(spread(len(old_buildings), 43), 1):
        mine = old_buildings[start:start + count]
        start += count
        leader = r.member(f"ch-bl{k}", home=mine[0], party_share=0.6)
        for building in mine:
            r.role(leader, "building_leader", building)
    all_leaves = [leaf for grid in grids for leaf in leaves[grid]]
    for v in range(1, 31):
        home = r.rng.choice(all_leaves)
        vol = r.member(f"ch-v{v}", home=home, party_share=0.25)
        r.role(vol, "volunteer", home.rsplit("-", 1)[0])
    # Resident accounts: one in every second building (158 of 13,700 residents).
    for leaf in all_leaves[::2]:
        res = r.member(f"{leaf}-r1", home=leaf, party_share=0.08)
        r.role(res, "resident", leaf)
    # Work safety along the shop streets and in the old buildings' gas lines: the
    # emergency-management office sends an officer too (our choice).
    pro = r.member("ch-pw9", party_share=0.5)
    r.role(pro, "professional_gridworker", top, "emergency")
    # The account counts 68 party members (leaders, and building leaders most often).
    r.settle_party(68)
    r.write(
        "# 翠湖社区 (Cuihu community, Qingyuan): generated by rulesets/tools/make_rosters.py.\n"
        "# 7 estates (one grid each, with property-management staff) + 235 old buildings\n"
        "# (5 grids of 47: our choice), 43 building leaders and 68 party members (the\n"
        "# account).  Staff numbers the account does not give are our choice; ~13,700\n"
        "# residents are represented by 158 resident accounts plus resident_registered\n"
        "# events.\n"
        "name: 翠湖社区\n"
        "timezone: Asia/Shanghai\n"
        "levels: [community, grid, building]\n"
        "level_names: {community: 社区, grid: 网格, building: 楼栋}\n"
    )


# ---------------------------------------------------------------- Xingfuwan

# Xiangning county's 42 industry grids (行业网格) by department kind:
# 10 party/legal, 28 government, 1 institution, 3 mass organisations.
INDUSTRY = {
    "party": ("县纪委监委", "县委组织部", "县委宣传部", "县委统战部", "县委政法委",
              "县人民法院", "县人民检察院", "县公安局", "县司法局", "县委社会工作部"),
    "government": ("县发展和改革局", "县教育科技局", "县工业和信息化局", "县民政局", "县财政局",
                   "县人力资源和社会保障局", "县自然资源局", "县生态环境分局", "县住房和城乡建设局",
                   "县交通运输局", "县水利局", "县农业农村局", "县商务局", "县文化和旅游局",
                   "县卫生健康局", "县退役军人事务局", "县应急管理局", "县审计局",
                   "县市场监督管理局", "县统计局", "县医疗保障局", "县林业局", "县行政审批服务管理局",
                   "县能源局", "县信访局", "县城市管理局", "县乡村振兴局", "县消防救援大队"),
    "institution": ("县融媒体中心",),
    "mass": ("县总工会", "团县委", "县妇联"),
}


def xingfuwan(root: Path = ROOT) -> None:
    """乡宁县 > 昌宁镇 > 幸福湾社区 > 29 estates and 5 natural villages > micro-grids (five levels)."""
    r = Roster("xingfuwan", random.Random("xingfuwan"), root)
    county = r.node("xn", "乡宁县", "county")
    town = r.node("xn-cn", "昌宁镇", "township", county)
    for ident, name in LINE_DEPARTMENTS:
        r.department(ident, name)
    community = r.node("xn-xfw", "幸福湾社区", "village", town)
    estate_names = (
        "幸福湾一期", "幸福湾二期", "幸福湾三期", "锦苑", "康乐园", "鑫源小区", "和顺苑", "文苑小区",
        "龙泉小区", "安居苑", "丽景园", "富民小区", "春华苑", "秋实苑", "华府小区", "兴隆苑",
        "团结小区", "光明小区", "东山苑", "西城小区", "南苑", "北苑", "中心花园", "阳光小区",
        "教师小区", "医苑小区", "金鼎苑", "凤凰小区", "朝阳苑",
    )
    villages = ("东坡村", "西坡村", "南庄村", "北庄村", "河口村")
    microgrids: list[str] = []
    middles: list[str] = []
    # 7,017 households in 29 estates + 5 natural villages, all inside the community
    # (the account); one micro-grid per ~50 households (our choice) gives 3-6
    # micro-grids per estate and 3-5 per village.
    for e, name in enumerate(estate_names, 1):
        estate = r.node(f"xn-xfw-e{e}", name, "group", community)
        middles.append(estate)
        for m in range(1, r.rng.choice((3, 4, 4, 5, 6)) + 1):
            microgrids.append(r.node(f"{estate}-m{m}", f"{name}第{zh_number(m)}微网格", "microgrid", estate))
    for v, name in enumerate(villages, 1):
        village = r.node(f"xn-xfw-v{v}", name, "group", community)
        middles.append(village)
        for m in range(1, r.rng.choice((3, 4, 4, 5)) + 1):
            microgrids.append(r.node(f"{village}-m{m}", f"{name}第{zh_number(m)}微网格", "microgrid", village))
    # Dedicated grids (专属网格) drawn under the township for a school, a hospital, a market.
    dedicated = []
    for k, name in enumerate(("乡宁县第三中学专属网格", "乡宁县人民医院专属网格", "昌宁农贸市场专属网格"), 1):
        dedicated.append(r.node(f"xn-cn-d{k}", name, "village", town, "dedicated"))
    # The 42 industry grids hang under the county, each run by its department.
    industry: list[tuple[str, str]] = []
    k = 0
    for kind, names in INDUSTRY.items():
        for name in names:
            k += 1
            ident = r.node(f"xn-ind{k}", f"{name}行业网格", "township", county, "industry")
            industry.append((ident, kind))
            r.department(f"ind{k}", name)

    head = r.member("xn-m-county", party=True)
    r.role(head, "master_grid_leader", county)
    town_head = r.member("xn-m-town", party=True)
    r.role(town_head, "master_grid_leader", town)
    sec = r.member("xn-m-xfw", party=True)
    r.role(sec, "grid_leader", community)
    r.role(sec, "committee_member", community)
    for k, node in enumerate(dedicated, 1):
        leader = r.member(f"xn-d{k}-gl", party=True)
        r.role(leader, "grid_leader", node)
    for k, (node, _kind) in enumerate(industry, 1):
        leader = r.member(f"xn-ind{k}-gl", party=True)
        r.role(leader, "grid_leader", node)
    # Estates and village groups: a grid leader and a full-time gridworker each.
    for middle in middles:
        leader = r.member(f"{middle}-gl", party_share=0.7)
        r.role(leader, "grid_leader", middle)
        worker = r.member(f"{middle}-fw", party_share=0.4)
        r.role(worker, "fulltime_gridworker", middle)
    # Professional gridworkers at the community (police, urban management, fire,
    # market, housing, emergency, health, and two more police officers for the
    # villages): 9 in all, our choice.
    for n, dept in enumerate(("police", "urban_management", "fire", "market_supervision", "housing",
                              "emergency", "health", "police", "police"), 1):
        pro = r.member(f"xn-pw{n}", party_share=0.5)
        r.role(pro, "professional_gridworker", community, dept)
    # Every micro-grid: a leader (party group leader) and one micro-gridworker.
    for micro in microgrids:
        leader = r.member(f"{micro}-ml", home=micro, party=True)
        r.role(leader, "microgrid_leader", micro)
        worker = r.member(f"{micro}-mw", home=micro, party_share=0.3)
        r.role(worker, "microgridworker", micro)
        r.place(f"{micro}-p", r.name_of(micro), micro)
    for v in range(1, 41):
        home = r.rng.choice(microgrids)
        vol = r.member(f"xn-vol{v}", home=home, party_share=0.25)
        r.role(vol, "volunteer", home.rsplit("-", 1)[0])
    for micro in microgrids:
        res = r.member(f"{micro}-r1", home=micro, party_share=0.08)
        r.role(res, "resident", micro)
    # The community's two committees (两委): the secretary and six members (our
    # choice), who take up what an estate or a village cannot handle.
    for k in range(1, 7):
        member = r.member(f"xn-xfw-c{k}", party_share=0.8)
        r.role(member, "committee_member", community)
    xingfuwan_households(r, microgrids)
    r.write(
        "# 幸福湾社区 (Xingfuwan community, Xiangning county): generated by\n"
        "# rulesets/tools/make_rosters.py.  Five levels (五级网格): county > township >\n"
        "# village/community > group/estate > micro-grid; 29 estates + 5 natural villages\n"
        "# inside the community (the account), one micro-grid per ~50 households and a\n"
        "# committee of seven (our choice); 42 industry grids under the county by department kind (10 party/legal,\n"
        "# 28 government, 1 institution, 3 mass organisations) and 3 dedicated grids\n"
        "# under the township.  One resident account per micro-grid; the ~22,000 people\n"
        "# appear as resident_registered events.  households.csv holds the account's\n"
        "# 7,017 households and 22,291 people (sizes, floating households, the people to\n"
        "# know by name: our draw); care.csv the party members' clusters (包联户): each\n"
        "# party member living in a micro-grid looks after up to 12 of its households.\n"
        "name: 幸福湾社区\n"
        "timezone: Asia/Shanghai\n"
        "levels: [county, township, village, group, microgrid]\n"
        "level_names: {county: 县, township: 乡镇, village: 村社区, group: 小组小区, microgrid: 微网格}\n"
    )


#: The account's base population of 幸福湾社区.
XINGFUWAN_HOUSEHOLDS, XINGFUWAN_PEOPLE = 7017, 22291
#: How many households one party member looks after (包联户, "a party member at the centre
#: of a household cluster looks after twelve households").
CLUSTER = 12


def xingfuwan_households(r: Roster, microgrids: list[str]) -> None:
    """The account's 7,017 households and 22,291 people in the micro-grids, and the party members' clusters.

    Drawn from a source of its own, so the other files are what they were.
    Household sizes are drawn (1 to 6 people), then nudged one person at a time
    until they add up to the account's population; about 8% of households are
    floating (renting); the people to know by name are the special groups (a
    person living alone is 独居老人 half the time; 留守儿童, 残疾人) and a few
    key persons.  Every party member living in a micro-grid looks after up to
    12 of its households, the micro-grid leader first.
    """
    rng = random.Random("xingfuwan:households")
    homes: list[tuple[str, str, str, bool]] = []  # id, name, micro-grid, floating
    sizes: list[int] = []
    for micro, count in zip(microgrids, spread(XINGFUWAN_HOUSEHOLDS, len(microgrids)), strict=True):
        for k in range(1, count + 1):
            sizes.append(rng.choices((1, 2, 3, 4, 5, 6), weights=(9, 22, 33, 22, 10, 4))[0])
            homes.append((f"{micro}-h{k:02d}", rng.choice(SURNAMES) + "家", micro, rng.random() < 0.08))
    while (people := sum(sizes)) != XINGFUWAN_PEOPLE:
        n = rng.randrange(len(sizes))
        step = 1 if people < XINGFUWAN_PEOPLE else -1
        if 1 <= sizes[n] + step <= 6:
            sizes[n] += step
    for (ident, name, micro, floating), size in zip(homes, sizes, strict=True):
        r.households.append((ident, name, micro, f"{micro}-p", str(size), "true" if floating else ""))
        group = ""
        if size == 1 and rng.random() < 0.5:
            group = "独居老人"
        elif rng.random() < 0.012:
            group = "留守儿童"
        elif rng.random() < 0.015:
            group = "残疾人"
        key = rng.random() < 0.003
        if group or key:
            r.residents.append((f"{ident}-r1", r.person_name(), ident, "true" if floating else "",
                                "true" if key else "", group))
    party_at: dict[str, list[str]] = {}
    for ident, _name, _phone, party, home in r.members:
        if party == "true" and home:
            party_at.setdefault(home, []).append(ident)
    households_at: dict[str, list[str]] = {}
    for ident, _name, micro, *_ in r.households:
        households_at.setdefault(micro, []).append(ident)
    for micro in microgrids:
        carers = sorted(party_at.get(micro, []), key=lambda m: (not m.endswith("-ml"), m))
        mine = households_at.get(micro, [])
        for n, member in enumerate(carers):
            for household in mine[n * CLUSTER:(n + 1) * CLUSTER]:
                r.care.append((member, household, ""))


# ---------------------------------------------------------------- Chengqiao


def chengqiao(root: Path = ROOT) -> None:
    """城桥镇: town master grid > village/residential grid > micro-grid (one per party group)."""
    r = Roster("chengqiao", random.Random("chengqiao"), root)
    town = r.node("cq", "城桥镇总网格", "town")
    for ident, name in LINE_DEPARTMENTS[:7]:
        r.department(ident, name)
    # 10 villages + 6 residential areas and 5-9 party groups each: our choice (the
    # account names the three levels, not their counts).
    villages = ("城东村", "城西村", "长堤村", "庙镇村", "新河村", "鳌山村", "港西村", "湖西村", "聚训村", "侯南村")
    areas = ("城桥居委", "南门居委", "东门居委", "西门居委", "北门居委", "怡祥居委")
    grids: list[str] = []
    micro: dict[str, list[str]] = {}
    for k, name in enumerate(villages + areas, 1):
        grid = r.node(f"cq-g{k}", f"{name}网格", "grid", town)
        grids.append(grid)
        micro[grid] = []
        for m in range(1, r.rng.randint(5, 9) + 1):
            node = r.node(f"{grid}-m{m}", f"{name}第{zh_number(m)}党小组微网格", "microgrid", grid)
            micro[grid].append(node)
            r.place(f"{node}-p", f"{name}{zh_number(m)}组", node)
    head = r.member("cq-m-town", party=True)
    r.role(head, "master_grid_leader", town)
    for k, grid in enumerate(grids, 1):
        sec = r.member(f"cq-gl{k}", party=True)
        r.role(sec, "grid_leader", grid)
        r.role(sec, "committee_member", grid)
        for w in range(1, 3 if k > len(villages) else 2):
            worker = r.member(f"cq-fw{k}-{w}", party_share=0.4)
            r.role(worker, "fulltime_gridworker", grid)
    for n, dept in enumerate(("police", "police", "police", "urban_management", "urban_management",
                              "fire", "market_supervision", "housing", "judicial", "health"), 1):
        pro = r.member(f"cq-pw{n}", party_share=0.5)
        r.role(pro, "professional_gridworker", town, dept)
    for grid in grids:
        for node in micro[grid]:
            leader = r.member(f"{node}-ml", home=node, party=True)
            r.role(leader, "microgrid_leader", node)
            for w in range(1, r.rng.choice((1, 2, 2)) + 1):
                worker = r.member(f"{node}-mw{w}", home=node, party_share=0.3)
                r.role(worker, "microgridworker", node)
            res = r.member(f"{node}-r1", home=node, party_share=0.1)
            r.role(res, "resident", node)
    all_micro = [node for grid in grids for node in micro[grid]]
    for v in range(1, 31):
        home = r.rng.choice(all_micro)
        vol = r.member(f"cq-v{v}", home=home, party_share=0.3)
        r.role(vol, "volunteer", home.rsplit("-", 1)[0])
    # The town's grid centre (镇网格化综合管理中心): four full-time staff who take
    # the big matters sent up to the town (our choice).
    for k in range(1, 5):
        staff = r.member(f"cq-c{k}", party_share=0.5)
        r.role(staff, "fulltime_gridworker", town)
    r.write(
        "# 城桥镇 (Chengqiao town, Chongming): generated by rulesets/tools/make_rosters.py.\n"
        "# Three levels: town master grid > village/residential grid > micro-grid, one\n"
        "# micro-grid per party group, each with its micro-grid leader (the account).\n"
        "# 10 villages + 6 residential areas with 5-9 party groups each, the staff\n"
        "# numbers and the town grid centre's four staff are our choice.  One resident\n"
        "# account per micro-grid.\n"
        "name: 城桥镇\n"
        "timezone: Asia/Shanghai\n"
        "levels: [town, grid, microgrid]\n"
        "level_names: {town: 镇总网格, grid: 村居网格, microgrid: 微网格}\n"
    )


def main(root: Path = ROOT) -> None:
    """Write every community folder under ``root`` (default: rulesets/)."""
    yinquan(root)
    cuihu(root)
    xingfuwan(root)
    chengqiao(root)


if __name__ == "__main__":
    main()
