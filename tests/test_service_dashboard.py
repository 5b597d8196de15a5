"""The dashboard in a real browser: Debian's headless Chromium driven by Playwright, against a live server.

Screenshots of every page (wide and phone-sized) are kept under
``test-artefacts/dashboard/`` (or ``$GRIDCORE_TEST_ARTEFACTS/dashboard``).
Without a browser the tests are skipped, saying so; CI installs one (.ci/run).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from servicekit import CST, REPO, YINQUAN, Server, served

from gridcore import Engine, FixedClock
from gridcore_app.demo import run_demo
from gridcore_app.service import auth

CHROMIUM = os.environ.get("GRIDCORE_TEST_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]
ARTEFACTS = Path(os.environ.get("GRIDCORE_TEST_ARTEFACTS", REPO / "test-artefacts")) / "dashboard"
DAYS = 20
NOW = datetime(2025, 1, 1, tzinfo=CST) + timedelta(days=DAYS, hours=12)

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
if not Path(CHROMIUM).exists():  # pragma: no cover - CI installs it
    pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium (or set GRIDCORE_TEST_CHROMIUM)",
                allow_module_level=True)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    """Yinquan after 20 simulated days, served, and a grid leader's token."""
    out = tmp_path_factory.mktemp("dashboard")
    run_demo(YINQUAN, days=DAYS, start=date(2025, 1, 1), out=out / "demo", write_reports=False)  # (the store alone)
    store = str(out / "demo" / "store")
    engine = Engine.open(store=store, clock=FixedClock(NOW))
    try:
        _, token = auth.issue(engine, "yq-gl1", "browser test")
    finally:
        engine.close()
    with served(store, now=NOW) as server:
        yield server, token


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any, site: tuple[Server, str]) -> Iterator[Any]:
    """A signed-in page (a fresh context: its own cookies)."""
    server, token = site
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    tab = context.new_page()
    tab.goto(f"{server.url}/dashboard/")
    assert "/dashboard/login" in tab.url  # not signed in: sent to the sign-in page
    tab.fill("input[name=token]", token)
    tab.click("button")
    tab.wait_for_url(f"{server.url}/dashboard/")
    try:
        yield tab
    finally:
        context.close()


def shot(tab: Any, name: str) -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTEFACTS / f"{name}.png"
    tab.screenshot(path=str(path), full_page=True)
    return path


def test_a_wrong_token_does_not_sign_in(browser: Any, site: tuple[Server, str]) -> None:
    server, _ = site
    context = browser.new_context()
    tab = context.new_page()
    tab.goto(f"{server.url}/dashboard/board")
    tab.fill("input[name=token]", "gct_000000000000_wrong")
    tab.click("button")
    assert tab.inner_text("#error") == "令牌无效或已撤销"
    assert "/dashboard/login" in tab.url
    context.close()


def test_the_overview_and_the_points_board(page: Any) -> None:
    assert int(page.inner_text("#open-count")) >= int(page.inner_text("#overdue-count")) >= 0
    shot(page, "overview")
    page.click("nav >> text=积分公示")
    assert page.inner_text("h1").startswith("积分公示 · 银泉社区 · 2025-01")
    rows = page.locator("#board tbody tr")
    assert rows.count() > 5
    first = rows.nth(0).locator("td").all_inner_texts()
    assert first[0] == "1" and int(first[3]) > 0
    page.select_option("select[name=node]", "yq-g2")
    page.click("form.filters button")
    assert "银泉社区第二网格" in page.inner_text("h1")
    shot(page, "board")


def test_open_cases_with_deadlines_and_a_case_timeline(page: Any, site: tuple[Server, str]) -> None:
    server, _ = site
    page.goto(f"{server.url}/dashboard/cases")
    rows = page.locator("#cases tbody tr")
    assert rows.count() >= 1
    late = page.locator("#cases tbody tr.late")
    if late.count():
        assert "超时于" in late.nth(0).inner_text()
    shot(page, "cases")
    rows.nth(0).locator("a").click()
    assert page.locator("#timeline li").count() >= 2
    assert "依据" in page.inner_text("#timeline")  # the routing step names its rule
    assert "yinquan.rules:" in page.inner_text("#timeline")
    shot(page, "case")


def test_star_ratings_with_the_chart(page: Any, site: tuple[Server, str]) -> None:
    server, _ = site
    page.goto(f"{server.url}/dashboard/stars?period=2025-Q1")
    stars = page.locator("#stars td.star")
    assert stars.count() == 8  # Yinquan's eight grids
    assert all(1 <= int(s) <= 5 for s in (stars.nth(i).get_attribute("data-stars") for i in range(8)))
    # one bar per grid, drawn by the assessment plugin's chart (matplotlib SVG: a group per bar)
    assert page.locator('.chart svg g[id^="stars-"]').count() == 8
    # the page is in Chinese, so is its chart: titles (得分构成), metrics (巡查覆盖率) and legend, no English
    legend = page.inner_text(".chart")
    assert "得分构成" in legend and "扣分" in legend and "巡查覆盖率" in legend
    assert "penalties" not in legend and "patrol_coverage" not in legend and "score components" not in legend
    shot(page, "stars")


def test_a_members_statement_and_english(page: Any, site: tuple[Server, str]) -> None:
    server, _ = site
    page.goto(f"{server.url}/dashboard/board")
    page.locator("#board tbody tr").nth(0).locator("a").click()
    assert page.inner_text("h1").startswith("积分明细")
    assert int(page.inner_text("#closing")) > 0
    assert page.locator("#entries tbody tr").count() >= 1
    shot(page, "member")
    page.click("nav >> text=English")
    assert page.inner_text("h1").startswith("Statement")
    page.click("nav >> text=Points board")  # the language is remembered
    assert page.inner_text("h1").startswith("Points board")
    shot(page, "board-en")


def test_pages_fit_a_phone(browser: Any, site: tuple[Server, str]) -> None:
    server, token = site
    context = browser.new_context(viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    tab = context.new_page()
    tab.goto(f"{server.url}/dashboard/login")
    tab.fill("input[name=token]", token)
    tab.click("button")
    for name, path in (("board", "/dashboard/board"), ("cases", "/dashboard/cases"),
                       ("stars", "/dashboard/stars?period=2025-Q1")):
        tab.goto(f"{server.url}{path}")
        width = tab.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} is {width}px wide on a 375px phone"
        shot(tab, f"phone-{name}")
    context.close()


def test_a_problem_is_a_page_in_the_browser(page: Any, site: tuple[Server, str]) -> None:
    server, _ = site
    answer = page.goto(f"{server.url}/dashboard/cases/no-such-case")
    assert answer.status == 404
    assert page.inner_text("#problem") == "没有编号为 'no-such-case' 的事件"  # (Chinese, the default)
    page.goto(f"{server.url}/dashboard/cases/no-such-case?lang=en")
    assert "no incident 'no-such-case'" in page.inner_text("#problem")


def test_a_sweep_of_the_pages_in_chinese_finds_no_english_sentence(page: Any, site: tuple[Server, str]) -> None:
    """Chinese first on every page staff see: a points entry's working (志愿服务：每小时 5 分 × 3 小时, not
    5 per hour x 3 h; 事件 ...，办结人, not incident ..., resolver) and an engine's message on an error page
    (未知节点（unknown node 'nowhere'）: its Chinese first, the English after it only for the name it gives).
    English is as it was."""
    server, _ = site
    phrases = re.compile(r"\b(per hour|per item|incident|resolver|reporter|participant|redeemed|rounded|cut to)\b")
    for member in ("yq-gl1", "yq-g1-u1-r1"):
        page.goto(f"{server.url}/dashboard/members/{member}")
        details = page.locator("#entries tbody tr td:nth-child(2)").all_inner_texts()
        assert details and not [d for d in details if phrases.search(d)], details
    page.goto(f"{server.url}/dashboard/members/yq-gl1")
    assert any(re.search(r"事件 \S+（", d) for d in page.locator("#entries tbody tr td:nth-child(2)").all_inner_texts())
    for path in ("/dashboard/board?node=nowhere", "/dashboard/cases?within=nowhere", "/dashboard/stars?node=nowhere"):
        answer = page.goto(f"{server.url}{path}")
        assert answer.status == 404 and page.inner_text("#problem") == "未知节点（unknown node 'nowhere'）"
    page.goto(f"{server.url}/dashboard/board?month=2025-13")
    assert page.inner_text("#problem").startswith("没有这个日期或周期（'2025-13' is not a real month")
    page.goto(f"{server.url}/dashboard/members/yq-gl1?lang=en")
    english = page.locator("#entries tbody tr td:nth-child(2)").all_inner_texts()
    assert any(re.search(r"^incident \S+ \(", d) for d in english), english
    page.goto(f"{server.url}/dashboard/board?node=nowhere&lang=en")
    assert page.inner_text("#problem") == "unknown node 'nowhere' (未知节点)"


@pytest.fixture(scope="module", autouse=True)
def fresh_artefacts() -> None:
    shutil.rmtree(ARTEFACTS, ignore_errors=True)
