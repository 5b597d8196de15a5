"""Chinese throughout ``gridcore serve``: its pages, and its error bodies for a request in Chinese.

How the service chooses the language: the dashboard's pages by ``?lang=`` (kept in a cookie), Chinese by
default; the JSON API and Open311, which had no choice (every problem carried ``title_zh`` and
``detail_zh`` beside the English), by ``Accept-Language``: a request that prefers Chinese gets ``title``
and ``detail`` in Chinese (``Content-Language: zh``), an Open311 error's ``description`` Chinese first.
A request without it is answered as before.  The sweep is ``zhsweep.english_words``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar

import pytest
from conftest import demo_month
from servicekit import CST, Server, served
from zhsweep import bare_ids, chinese_names, english_words

from gridcore import Engine, FixedClock
from gridcore.errors import has_chinese
from gridcore_app.service import auth
from gridcore_app.service.problems import prefers_chinese

DAYS = 31
NOW = datetime(2025, 1, 1, tzinfo=CST) + timedelta(days=DAYS, hours=12)
ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Yinquan after a simulated month (``gridcore demo``'s folder: its store in ``store``): conftest's
    ``demo_month`` (``gridcore demo --days 31``: 31 days from 2025-01-01, seed 1, run once a session), copied (a
    token is issued in it)."""
    assert DAYS == 31  # (demo_month's month)
    out = tmp_path_factory.mktemp("served")
    shutil.copytree(demo_month(tmp_path_factory), out / "demo")
    return out / "demo"


@pytest.fixture(scope="module")
def site(demo_folder: Path) -> Iterator[tuple[Server, str, frozenset[str]]]:
    """Yinquan after a simulated month, served; a grid leader's token; the names staff read as they are
    (node and member ids, plugin and metric names)."""
    from gridcore import get_plugin_manager
    from gridcore.plugin_host import Hooks

    store = str(demo_folder / "store")
    engine = Engine.open(store=store, clock=FixedClock(NOW))
    try:
        _, token = auth.issue(engine, "yq-gl1", "sweep")
        hierarchy = engine.community.hierarchy
        nodes = [n.id for root in hierarchy.roots() for n in hierarchy.descendants(root.id, include_self=True)]
        names = frozenset([*nodes, *engine.community.members, *engine.metrics(), "gridcore",
                           *(name for name, _ in Hooks(get_plugin_manager()).describe_plugins())])
    finally:
        engine.close()
    with served(store, now=NOW) as server:
        yield server, token, names


class _Text(HTMLParser):
    """The text of a page as staff read it, a line per block: quoted text (``<q>``: a rule's source) in
    「」; no script, style or an SVG's metadata; the link to the other language (``a.lang``, ``English``)
    left out, as it is named in the language it leads to."""

    BLOCKS: ClassVar[frozenset[str]] = frozenset({"td", "th", "p", "li", "h1", "h2", "h3", "div", "tr", "a", "button", "label", "option", "title",
              "text", "dt", "dd", "caption", "nav", "header", "footer", "section"})

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0  # inside a script, a style or an SVG's metadata
        self.switch = False  # inside the link to the other language (links do not nest)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.hidden += tag in ("script", "style", "metadata")
        self.switch = self.switch or (tag == "a" and found.get("class") == "lang")
        if tag == "q":
            self.parts.append("「")
        for key in ("placeholder", "alt", "aria-label"):
            if found.get(key):
                self.parts.append(f"\n{found[key]}\n")

    def handle_endtag(self, tag: str) -> None:
        self.hidden -= tag in ("script", "style", "metadata") and self.hidden > 0
        self.switch = self.switch and tag != "a"
        if tag == "q":
            self.parts.append("」")
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden and not self.switch:
            self.parts.append(data)

    def lines(self) -> list[str]:
        return [line.strip() for line in "".join(self.parts).splitlines() if line.strip()]


def _english_on(server: Server, token: str, names: frozenset[str], path: str) -> list[str]:
    with server.client() as client:
        client.cookies.set("gridcore_token", token)
        answer = client.get(path)
    text = _Text()
    text.feed(answer.text)
    return [f"{path} ({answer.status_code}): {line}  <- {' '.join(words)}"
            for line in text.lines() if (words := english_words(line, names))]


PAGES = ["/dashboard/", "/dashboard/board", "/dashboard/board?month=2025-01", "/dashboard/cases",
         "/dashboard/cases/yq-s1-i00001", "/dashboard/stars?period=2025-01", "/dashboard/members/yq-fw8",
         "/dashboard/members/yq-gl1", "/dashboard/login",
         # error pages
         "/dashboard/cases/nope", "/dashboard/board?node=nowhere", "/dashboard/board?month=2025-13",
         "/dashboard/stars?period=2025-13", "/dashboard/nothing"]


def test_every_page_in_chinese_holds_no_english_word(site: tuple[Server, str, frozenset[str]]) -> None:
    """Each dashboard page (Chinese, the default) and its error pages: no English word staff read but ids,
    names, quoted rule source and glosses after Chinese (``zhsweep``); the stars chart's titles and legend
    too. In English (``?lang=en``) the pages are as they were."""
    server, token, names = site
    found = [line for path in PAGES for line in _english_on(server, token, names, path)]
    assert found == []
    with server.client() as client:
        client.cookies.set("gridcore_token", token)
        english = client.get("/dashboard/stars?period=2025-01&lang=en").text
        chinese = client.get("/dashboard/stars?period=2025-01&lang=zh").text
    assert "stars per node" in english and "penalties" in english and "各节点星级" not in english
    assert "各节点星级" in chinese and "stars per node" not in chinese


#: Bad requests of the JSON API and what they are refused as.
BAD = [("GET", "/api/v1/incidents/nope", None, "not-found"), ("GET", "/api/v1/nothing", None, "not-found"),
       ("POST", "/api/v1/events", {"kind": "x"}, "invalid-event"),
       ("POST", "/api/v1/events", b"not json", "invalid-request"),
       ("DELETE", "/api/v1/events", None, "method-not-allowed"),
       ("GET", "/api/v1/explain/nothing:1", None, "not-found"), ("GET", "/problems/nope", None, "not-found"),
       ("GET", "/api/v1/reports/points.board?month=2025-01", None, None),
       ("POST", "/api/v1/points/redemptions", {"reward": "大米", "quantity": 500}, "event-refused")]


def test_no_page_names_an_id_in_brackets_without_its_chinese(site: tuple[Server, str, frozenset[str]],
                                                            demo_folder: Path) -> None:
    """An incident's category, a role or a level the ruleset or the community names in Chinese is shown by that
    name on every page, not by its id in brackets (a member's statement said ``事件 yq-s1-i00035（dispute）``,
    where the ruleset calls dispute 矛盾纠纷): ``zhsweep.bare_ids``."""
    server, token, _ = site
    chinese = chinese_names(str(demo_folder / "store"))
    found = []
    with server.client() as client:
        client.cookies.set("gridcore_token", token)
        for path in [*PAGES, "/dashboard/members/yq-fw1", "/dashboard/members/yq-fw9"]:
            text = _Text()
            text.feed(client.get(path).text)
            found += [f"{path}: {line}" for line in bare_ids("\n".join(text.lines()), chinese)]
    assert found == []


def _ask(server: Server, token: str | None, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    with server.client(token) as client:
        if isinstance(body, bytes):
            return client.request(method, path, content=body, headers={"content-type": "application/json", **headers})
        return client.request(method, path, json=body, headers=headers) if body is not None \
            else client.request(method, path, headers=headers)


def test_a_problem_for_a_request_in_chinese_is_in_chinese(site: tuple[Server, str, frozenset[str]]) -> None:
    """``Accept-Language: zh-CN``: every problem's ``title`` and ``detail`` are Chinese, with no English word
    but ids, names and glosses after the Chinese; ``Content-Language: zh``. Without it (or preferring
    English) the document is as it was: ``title`` and ``detail`` English first, their Chinese beside."""
    server, token, names = site
    english_found = []
    for method, path, body, slug in BAD:
        zh = _ask(server, token, method, path, body, ZH)
        en = _ask(server, token, method, path, body, {"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"})
        plain = _ask(server, token, method, path, body, {})
        if slug is None:  # a parameter missing
            assert zh.status_code == 400, zh.text
        else:
            assert zh.json()["type"] == f"/problems/{slug}", zh.text
        doc = zh.json()
        assert zh.headers["content-language"] == "zh" and "content-language" not in plain.headers
        assert doc["title"] == doc["title_zh"] and has_chinese(doc["detail"]), doc
        english_found += [f"{path}: {doc['detail']} <- {w}" for w in english_words(doc["detail"], names)]
        assert en.json() == plain.json() and plain.json()["title"] != doc["title"]
        assert plain.json()["title_zh"] == doc["title_zh"]
    assert english_found == []


def test_an_open311_error_for_a_phone_in_chinese_is_chinese_first(site: tuple[Server, str, frozenset[str]]) -> None:
    """A resident's phone app in Chinese (``Accept-Language: zh``) reads an Open311 error Chinese first; one
    in English reads it as before (English, its Chinese in brackets)."""
    server, _, names = site
    for path, body in (("/open311/v2/requests/nope.json", None), ("/open311/v2/requests.json", {"service_code": "x"}),
                       ("/open311/v2/nothing.json", None)):
        method = "GET" if body is None else "POST"
        with server.client() as client:
            zh = client.request(method, path, data=body, headers=ZH)
            en = client.request(method, path, data=body)
        said, plain = zh.json()[0]["description"], en.json()[0]["description"]
        assert has_chinese(said[0]) and english_words(said, names) == [], said
        assert not has_chinese(plain[0]) and has_chinese(plain), plain


@pytest.mark.parametrize(("header", "chinese"), [
    ("zh-CN,zh;q=0.9,en;q=0.8", True), ("zh", True), ("zh-Hans-CN", True), ("en-US,en;q=0.9,zh-CN;q=0.8", False),
    ("en;q=0.5,zh;q=0.8", True), ("zh;q=0,en", False), ("*", False), ("", False), (None, False),
    ("fr,zh;q=0.9", False), ("zh;q=abc,en;q=0.1", False), (";;,", False),
])
def test_which_requests_prefer_chinese(header: str | None, chinese: bool) -> None:
    assert prefers_chinese(header) is chinese


def test_a_successful_answer_for_a_request_in_chinese_says_its_words_in_chinese(
        site: tuple[Server, str, frozenset[str]]) -> None:
    """A request preferring Chinese, to a real ``gridcore serve``: an explanation's summary Chinese (``labels``
    heading each input), the reports' descriptions, a report's title, headings and notes; ``Content-Language:
    zh``. The machine fields (decision, inputs, result, columns, rows, names) are the same as for a request
    without it, which is answered as before."""
    server, token, names = site
    found = []
    for path in ("/api/v1/explain/assessment:2025-01:yq-g1", "/api/v1/explain/escalation:route:yq-s1-i00001",
                 "/api/v1/reports", "/api/v1/reports/points.board?month=2025-01&node=yq"):
        zh = _ask(server, token, "GET", path, None, ZH)
        plain = _ask(server, token, "GET", path, None, {})
        assert zh.status_code == 200 == plain.status_code, zh.text
        assert zh.headers["content-language"] == "zh" and "content-language" not in plain.headers
        chinese, english = zh.json(), plain.json()
        if path.startswith("/api/v1/explain/"):
            said = [chinese["summary"], *chinese["labels"].values()]
            assert {k: v for k, v in chinese.items() if k not in ("summary", "labels")} == \
                {k: v for k, v in english.items() if k != "summary"}
            assert list(chinese["labels"]) == list(english["inputs"]) and "labels" not in english
        elif path == "/api/v1/reports":
            said = [r["description"] for r in chinese]
            assert [{**r, "description": ""} for r in chinese] == [{**r, "description": ""} for r in english]
        else:
            said = [chinese["title"], *chinese["notes"], *chinese["headings"].values()]
            assert chinese["rows"] == english["rows"] and chinese["columns"] == english["columns"]
            assert chinese["title"] != english["title"] and "headings" not in english
        assert all(has_chinese(text) for text in said[:1]), said
        found += [f"{path}: {text} <- {w}" for text in said for w in english_words(text, names)]
    assert found == []


def _machine(doc: Any, human: tuple[str, ...]) -> Any:
    """``doc`` without its human-readable fields ``human`` (at any depth): what must not change with the
    language."""
    if isinstance(doc, dict):
        return {k: _machine(v, human) for k, v in doc.items() if k not in human}
    if isinstance(doc, list):
        return [_machine(v, human) for v in doc]
    return doc


def test_a_timeline_a_community_and_a_reports_details_for_a_request_in_chinese(
        site: tuple[Server, str, frozenset[str]]) -> None:
    """The bodies left English for a request preferring Chinese, to a real ``gridcore serve``: an incident's
    timeline (each step's ``detail`` and its explanation's ``summary`` in Chinese, ``labels`` heading its
    inputs), the community (each node's kind by its Chinese name, ``kind_name``), a report's rows' ``detail``
    (as ``gridcore --lang zh report`` says it); ``Content-Language: zh``. Every other field is the same as for a
    request without it, which is answered as before."""
    server, token, names = site
    found: list[str] = []
    for path, human in (("/api/v1/incidents/yq-s1-i00001/timeline", ("detail", "summary", "labels")),
                        ("/api/v1/community", ("kind_name",)),
                        ("/api/v1/reports/escalation.timeline?incident=yq-s1-i00001", ("detail", "title", "notes", "headings")),
                        ("/api/v1/reports/assessment.subsidies?period=2025-01&cycle=月度评星",
                         ("detail", "title", "notes", "headings"))):
        zh = _ask(server, token, "GET", path, None, ZH)
        plain = _ask(server, token, "GET", path, None, {})
        assert zh.status_code == 200 == plain.status_code, (path, zh.text)
        assert zh.headers["content-language"] == "zh" and "content-language" not in plain.headers
        chinese, english = zh.json(), plain.json()
        assert _machine(chinese, human) == _machine(english, human), path
        if path.endswith("/timeline"):
            said = [e["detail"] for e in chinese["entries"] if e["detail"]]
            said += [e["explanation"]["summary"] for e in chinese["entries"] if e["explanation"]]
            said += [label for e in chinese["entries"] if e["explanation"] for label in e["explanation"]["labels"].values()]
            assert [e["detail"] for e in chinese["entries"]] == [e["detail_zh"] for e in english["entries"]]
            assert any(e["explanation"] for e in chinese["entries"]), chinese
        elif path == "/api/v1/community":
            said = [n["kind_name"] for n in chinese["nodes"]]
            assert set(said) == {"属地网格"} and all("kind_name" not in n for n in english["nodes"])
        else:
            said = [row["detail"] for row in chinese["rows"] if row["detail"]]
            assert said and said != [row["detail"] for row in english["rows"] if row["detail"]], path
        assert all(has_chinese(text) for text in said), (path, said)
        found += [f"{path}: {text} <- {w}" for text in said for w in english_words(text, names)]
    assert found == []


#: The reports whose rows hold sentences staff read (a column of ``SAID``), each with its sentence columns.
SAID_REPORTS = {"/api/v1/reports/points.statement?member=yq-fw8&period=2025-01": ("what",),
                "/api/v1/reports/points.deductions?period=2025-01": ("what",),
                "/api/v1/reports/points.flags": ("what",),
                "/api/v1/reports/points.rewards": ("limit_per_member",),
                "/api/v1/reports/assessment.breakdown?period=2025-01&cycle=月度评星": ("note",),
                "/api/v1/reports/assessment.paid?period=2025-01&cycle=月度评星": ("detail",)}


@pytest.mark.parametrize("path", sorted(SAID_REPORTS))
def test_a_reports_sentences_for_a_request_in_chinese_are_chinese(
        site: tuple[Server, str, frozenset[str]], path: str) -> None:
    """A report's rows' sentences staff read for a request preferring Chinese: a points entry's ``what``
    (``入户走访：每件 3 分 × 5 件 = 15``), a reward's limit (``每月最多 1 件``), a breakdown's ``note`` (``满分 25
    的 83.7%``), a subsidy's ``detail``, as ``gridcore --lang zh report`` says them; ids, values and amounts as
    for a request without it, which is answered as before (the English)."""
    server, token, names = site
    zh = _ask(server, token, "GET", path, None, ZH)
    plain = _ask(server, token, "GET", path, None, {})
    assert zh.status_code == 200 == plain.status_code, (path, zh.text)
    chinese, english = zh.json(), plain.json()
    columns = SAID_REPORTS[path]
    assert _machine(chinese, (*columns, "title", "notes", "headings")) == _machine(english, (*columns, "title", "notes"))
    said = [row[c] for row in chinese["rows"] for c in columns if row[c]]
    assert said and said != [row[c] for row in english["rows"] for c in columns if row[c]], path
    assert all(has_chinese(text) for text in said), (path, said)
    assert [f"{text} <- {w}" for text in said for w in english_words(text, names)] == []


def test_refusals_for_a_request_in_chinese_are_chinese_first(site: tuple[Server, str, frozenset[str]]) -> None:
    """A refused event's ``reasons`` (the problem's) and a batch's ``refused`` list, for a request preferring
    Chinese: every reason Chinese first (``积分不足（insufficient balance: ...）``), as ``detail`` says them; in
    English as before (English, the Chinese in brackets)."""
    server, token, names = site
    redeem = {"reward": "大米", "quantity": 500}
    zh = _ask(server, token, "POST", "/api/v1/points/redemptions", redeem, ZH).json()
    plain = _ask(server, token, "POST", "/api/v1/points/redemptions", redeem, {}).json()
    assert zh["type"] == "/problems/event-refused" and len(zh["reasons"]) == len(plain["reasons"]) > 0, zh
    batch = {"events": [{"kind": "points_redeemed", "reward": "大米", "quantity": 500, "node": "yq"}]}
    zh_batch = _ask(server, token, "POST", "/api/v1/events", batch, ZH)
    plain_batch = _ask(server, token, "POST", "/api/v1/events", batch, {})
    assert zh_batch.status_code == 200 == plain_batch.status_code, zh_batch.text
    assert zh_batch.headers["content-language"] == "zh" and "content-language" not in plain_batch.headers
    (refused,), (refused_en,) = zh_batch.json()["refused"], plain_batch.json()["refused"]
    for chinese, english in ((zh["reasons"], plain["reasons"]), (refused["reasons"], refused_en["reasons"])):
        assert all(has_chinese(r[0]) for r in chinese) and not any(has_chinese(r[0]) for r in english), chinese
        assert [english_words(r, names) for r in chinese] == [[] for _ in chinese], chinese


def test_a_tick_for_a_request_in_chinese_names_what_it_recorded_in_chinese(demo_folder: Path, tmp_path: Path) -> None:
    """``POST /api/v1/tick`` preferring Chinese: each derived event also with its kind's Chinese name
    (``name``: 提级) and the explanation of what it decided (``summary``, as ``gridcore --lang zh explain``);
    without the header, as before (event, kind, time)."""
    shutil.copytree(demo_folder / "store", tmp_path / "store")
    engine = Engine.open(store=str(tmp_path / "store"), clock=FixedClock(NOW))
    try:
        _, token = auth.issue(engine, "yq-gl1", "tick")
    finally:
        engine.close()
    with served(str(tmp_path / "store"), now=NOW) as server:
        first = _ask(server, token, "POST", "/api/v1/tick", {"now": (NOW + timedelta(days=3)).isoformat()}, ZH)
        later = _ask(server, token, "POST", "/api/v1/tick", {"now": (NOW + timedelta(days=9)).isoformat()}, {})
    assert first.status_code == 200 == later.status_code, first.text
    assert first.headers["content-language"] == "zh" and "content-language" not in later.headers
    derived = first.json()["derived"]
    assert derived and all(has_chinese(d["name"]) for d in derived), derived
    assert any(has_chinese(d.get("summary", "")[:1]) for d in derived), derived
    assert later.json()["derived"] and all(set(d) == {"event", "kind", "time"} for d in later.json()["derived"])
