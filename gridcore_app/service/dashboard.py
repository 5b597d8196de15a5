"""The dashboard: server-rendered pages for the office wall screen and the phone.

Jinja2 templates (autoescaped), one stylesheet, no script and no build step.
Chinese first, English with ``?lang=en`` (remembered in a cookie):

* ``/dashboard/``: open and overdue cases at a glance, and the board's top;
* ``/dashboard/board``: the month's points board (积分公示) of a node;
* ``/dashboard/cases``: open cases with their next deadline, overdue first;
* ``/dashboard/cases/{id}``: a case's timeline, each automatic step with its rule;
* ``/dashboard/stars``: star ratings per grid (评星定级) with the chart;
* ``/dashboard/members/{id}``: a member's statement (the member or staff only).

Staff sign in with their API token (kept in an HttpOnly, SameSite=Strict
cookie).  ``gridcore serve --public-dashboard`` shows every page but the
statements without signing in (a wall screen on the office network).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

import gridcore_assessment
import gridcore_escalation
import gridcore_points
from gridcore import Engine
from gridcore.errors import GridcoreError, chinese_first
from gridcore.periods import PeriodError, parse_period

from . import auth
from .api import default_month, require_plugin, timeline_entries
from .context import Service, is_staff, service_of, staff_over, where_of
from .problems import Problem, passed_on, period_written

HERE = Path(__file__).parent
STATIC = HERE / "static"
TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"))
#: for staff reading Chinese: an engine's message or note Chinese first (its English after it where that names
#: what the Chinese does not), a points entry's working in Chinese (志愿服务：每小时 5 分 × 3 小时 = 15)
TEMPLATES.env.filters["chinese_first"] = chinese_first
COOKIE = "gridcore_token"
LANGS = ("zh", "en")

#: Every word the pages show, Chinese first.
WORDS: Mapping[str, Mapping[str, str]] = {
    "zh": {
        "title": "网格治理", "home": "总览", "board": "积分公示", "cases": "事件", "stars": "评星定级",
        "open_cases": "未结案事件", "overdue": "已超时", "deadline": "下一时限", "status": "状态",
        "category": "类别", "severity": "严重程度", "where": "所在网格", "reported": "上报时间",
        "level": "当前层级", "rank": "名次", "member": "成员", "role": "角色", "earned": "本月积分",
        "balance": "积分余额", "month": "月份", "node": "网格", "show": "显示", "period": "周期",
        "score": "得分", "no_rows": "暂无记录", "timeline": "办理过程", "time": "时间", "step": "环节",
        "actor": "经办人", "detail": "说明", "rule": "规则", "why": "依据", "statement": "积分明细",
        "opening": "期初", "closing": "期末", "redeemed": "兑换", "expired": "过期", "amount": "积分",
        "sign_in": "登录", "sign_out": "退出", "token": "令牌", "sign_in_hint": "请输入工作人员的 API 令牌",
        "bad_token": "令牌无效或已撤销", "departments": "条线部门", "of": "共", "top": "积分前列",
        "breakdown": "得分构成", "not_over": "本周期尚未结束，结果可能变化", "now": "当前时间",
        "limit": "时限", "accept": "受理", "resolve": "办结", "paused": "暂停", "all_open": "全部未结案",
        "language": "English", "stored": "已保存的考核结果", "fresh": "即时计算（未保存）",
        "overdue_since": "超时于", "star_column": "星级",
    },
    "en": {
        "title": "Grid governance", "home": "Overview", "board": "Points board", "cases": "Cases",
        "stars": "Star ratings", "open_cases": "Open cases", "overdue": "Overdue", "deadline": "Next deadline",
        "status": "Status", "category": "Category", "severity": "Severity", "where": "Cell",
        "reported": "Reported", "level": "Level now", "rank": "Rank", "member": "Member", "role": "Role",
        "earned": "Earned this month", "balance": "Balance", "month": "Month", "node": "Node", "show": "Show",
        "period": "Period", "score": "Score", "no_rows": "Nothing yet", "timeline": "Timeline", "time": "Time",
        "step": "Step", "actor": "By", "detail": "Detail", "rule": "Rule", "why": "Why", "statement": "Statement",
        "opening": "Opening", "closing": "Closing", "redeemed": "Redeemed", "expired": "Expired",
        "amount": "Points", "sign_in": "Sign in", "sign_out": "Sign out", "token": "Token",
        "sign_in_hint": "Enter a staff member's API token", "bad_token": "The token is unknown or revoked",
        "departments": "Line departments", "of": "of", "top": "Top of the board", "breakdown": "Score breakdown",
        "not_over": "The period is not over: the rating may still change", "now": "Now", "limit": "Limit",
        "accept": "accept", "resolve": "resolve", "paused": "paused", "all_open": "All open cases",
        "language": "中文", "stored": "Stored assessment", "fresh": "Computed now (not stored)",
        "overdue_since": "overdue since", "star_column": "Stars",
    },
}
STATUS_WORDS: Mapping[str, Mapping[str, str]] = {
    "zh": {"reported": "待受理", "accepted": "已受理", "handling": "办理中", "resolved": "已办结",
           "verified": "已核查", "closed": "已结案"},
    "en": {s: s for s in ("reported", "accepted", "handling", "resolved", "verified", "closed")},
}


def language(request: Request) -> str:
    """``?lang=`` if given, else the cookie, else Chinese."""
    asked = request.query_params.get("lang") or request.cookies.get("lang") or "zh"
    return asked if asked in LANGS else "zh"


async def page(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
    """Render ``template`` with the words of the request's language."""
    lang = language(request)
    other = "en" if lang == "zh" else "zh"
    switch = request.url.include_query_params(lang=other)
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {"w": WORDS[lang], "lang": lang, "switch": str(switch), "status_words": STATUS_WORDS[lang], **context},
        status_code=status,
    )
    if request.query_params.get("lang") in LANGS:
        response.set_cookie("lang", lang, max_age=365 * 86400, samesite="lax")
    return response


async def viewer(request: Request, *, personal: bool = False) -> str | None:
    """The signed-in member (None on a public dashboard); a redirect to sign in otherwise."""
    service = service_of(request)
    presented = request.cookies.get(COOKIE)
    if presented:
        token = await service.live.run(lambda engine: auth.check(engine.store, presented))
        if token is not None:
            return token.member
    if service.settings.public_dashboard and not personal:
        return None
    raise _SignIn(str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""))


class _SignIn(Exception):
    def __init__(self, back: str) -> None:
        super().__init__(back)
        self.back = back


async def _signin_redirect(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, _SignIn)
    from urllib.parse import quote

    return RedirectResponse(f"/dashboard/login?next={quote(exc.back)}", status_code=303)


def _safe_next(target: str | None) -> str:
    """Only paths of this dashboard: never another site."""
    if target and target.startswith("/dashboard/") and not target.startswith("//"):
        return target
    return "/dashboard/"


async def login(request: Request) -> Response:
    """Sign in with a token (a form); the token goes into an HttpOnly cookie."""
    service = service_of(request)
    target = _safe_next(request.query_params.get("next"))
    if request.method == "GET":
        return await page(request, "login.html", {"next": target, "error": False})
    form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
    presented = form.get("token", "").strip()
    target = _safe_next(form.get("next"))
    token = await service.live.run(lambda engine: auth.check(engine.store, presented)) if presented else None
    if token is None:
        return await page(request, "login.html", {"next": target, "error": True}, status=401)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE, presented, httponly=True, samesite="strict", secure=request.url.scheme == "https",
        max_age=12 * 3600,
    )
    return response


async def logout(request: Request) -> Response:
    """Forget the token cookie."""
    response = RedirectResponse("/dashboard/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


# ---------------------------------------------------------------- pages


async def overview(request: Request) -> Response:
    """Open and overdue cases at a glance, and the top of this month's board."""
    who = await viewer(request)
    service = service_of(request)

    def read(engine: Engine) -> dict[str, Any]:
        root = engine.community.hierarchy.roots()[0].id
        month = default_month(engine)
        cases = _cases(engine, None)
        board = gridcore_points.board(engine, root, month)[:5] if _has(engine, "points") else []
        return {"cases": cases, "board": board, "month": month, "root": root, **_common(engine, who)}

    return await page(request, "overview.html", await _read(service, read))


async def board(request: Request) -> Response:
    """The month's points board (积分公示)."""
    who = await viewer(request)
    service = service_of(request)
    node, month = request.query_params.get("node"), request.query_params.get("month")

    def read(engine: Engine) -> dict[str, Any]:
        require_plugin(engine, "points")
        where = node or engine.community.hierarchy.roots()[0].id
        label = month or default_month(engine)
        _period(label)
        rows = gridcore_points.board(engine, where, label)
        return {"rows": rows, "month": label, "node": engine.community.hierarchy.node(where),
                "nodes": _grids(engine), **_common(engine, who)}

    return await page(request, "board.html", await _read(service, read))


async def cases(request: Request) -> Response:
    """Open cases with their next deadline, the overdue ones first."""
    who = await viewer(request)
    service = service_of(request)
    within = request.query_params.get("within") or None

    def read(engine: Engine) -> dict[str, Any]:
        require_plugin(engine, "escalation")
        if within is not None:
            engine.community.hierarchy.node(within)
        return {**_cases(engine, within), "within": within, "nodes": _grids(engine), **_common(engine, who)}

    return await page(request, "cases.html", await _read(service, read))


async def case(request: Request) -> Response:
    """One case's timeline with its explanations."""
    who = await viewer(request)
    service = service_of(request)
    ident = request.path_params["incident"]

    def read(engine: Engine) -> dict[str, Any]:
        require_plugin(engine, "escalation")
        view = gridcore_escalation.incident(engine, ident)
        names = {c.code: c.name for c in gridcore_escalation.categories(engine, view.reported_at, view.node)}
        community = engine.community
        holder = f"{community.level_label(view.current_level)} {community.hierarchy.node(view.current_node).name}"
        return {"case": view, "category": names.get(view.category, view.category), "holder": holder,
                "entries": timeline_entries(engine, ident), "where": engine.community.hierarchy.path(view.node),
                "departments": [engine.community.departments[d].name for d in view.departments
                                if d in engine.community.departments],
                **_common(engine, who)}

    return await page(request, "case.html", await _read(service, read))


async def stars(request: Request) -> Response:
    """Star ratings per grid (评星定级) with the chart; ``?node=`` (an id or a name): its subtree only,
    the default period being that of the ruleset governing it (a community's own variant)."""
    who = await viewer(request)
    service = service_of(request)
    period = request.query_params.get("period")
    period = period_written(period) if period else None
    node = request.query_params.get("node") or None
    lang = language(request)

    def read(engine: Engine) -> dict[str, Any]:
        require_plugin(engine, "assessment")
        from gridcore_assessment.commands import default_period

        at = engine.community.hierarchy.find(node).id if node is not None else None
        label = period or default_period(engine, engine.clock.now(), node=at)
        _period(label)
        stored = gridcore_assessment.stored(engine, label)
        result = stored if stored is not None else gridcore_assessment.stored_or_fresh(engine, label)
        if at is not None:
            result = gridcore_assessment.within(engine, result, at)
        labels = gridcore_assessment.rated_labels(engine.community.hierarchy, result.ratings)
        return {"assessment": result, "chart": gridcore_assessment.render_svg(result, labels, lang),
                "stored": stored is not None, "period": label, "node": node or "", "labels": labels,
                **_common(engine, who)}

    return await page(request, "stars.html", await _read(service, read))


async def member(request: Request) -> Response:
    """A member's statement over a period (the member themself, or staff)."""
    who = await viewer(request, personal=True)
    service = service_of(request)
    ident = request.path_params["member"]
    period = request.query_params.get("period")
    period = period_written(period) if period else None

    def read(engine: Engine) -> dict[str, Any]:
        require_plugin(engine, "points")
        if not engine.knows_person(ident):
            raise Problem("not-found", f"unknown member {ident!r}", f"花名册中没有成员 {ident!r}")
        if who != ident and not (staff_over(engine, who or "", where) if (where := where_of(engine, ident))
                                 else is_staff(engine, who or "")):
            raise Problem("forbidden", f"{who} may read only their own statement (and, as staff, those of the "
                          "members of their cells)", f"{who} 只能查看自己及所辖网格成员的积分明细")
        label = period or default_month(engine)
        _period(label)
        statement = gridcore_points.statement(engine, ident, label)
        return {"statement": statement, "period": label, "role": gridcore_points.role_label(engine, ident),
                "said_zh": gridcore_points.said_zh(engine), **_common(engine, who)}

    return await page(request, "member.html", await _read(service, read))


async def error_page(request: Request, problem: Problem) -> Response:
    """A problem as a page (the dashboard's browsers read HTML, not problem documents)."""
    service = service_of(request)
    common = await service.live.run(lambda engine: _common(engine, None))
    return await page(request, "error.html", {"problem": problem.document(), **common}, status=problem.status)


# ---------------------------------------------------------------- helpers


def _common(engine: Engine, who: str | None) -> dict[str, Any]:
    community = engine.community
    name = community.members[who].name if who and who in community.members else who
    return {"community": community.name, "now": engine.clock.now().astimezone(community.tz), "viewer": name,
            "tz": community.tz}


def _has(engine: Engine, plugin: str) -> bool:
    try:
        require_plugin(engine, plugin)
    except Problem:
        return False
    return True


def _grids(engine: Engine) -> list[Any]:
    hierarchy = engine.community.hierarchy
    return [n for level in hierarchy.levels[:2] for n in hierarchy.nodes_at(level)]


def _cases(engine: Engine, within: str | None) -> dict[str, Any]:
    if not _has(engine, "escalation"):
        return {"open": [], "overdue": []}
    late = {view.id: deadline for view, deadline in gridcore_escalation.overdue(engine)
            if within is None or engine.community.hierarchy.is_within(view.node, within)}
    names: dict[str, dict[str, str]] = {}  # node -> the category names of the ruleset governing it

    def named(view: gridcore_escalation.IncidentView) -> str:
        if view.node not in names:
            names[view.node] = {c.code: c.name for c in gridcore_escalation.categories(engine, node=view.node)}
        return str(names[view.node].get(view.category, view.category))

    rows = []
    for view in gridcore_escalation.incidents(engine, status="open", within=within):
        rows.append({"case": view, "category": named(view),
                     "overdue": late.get(view.id),
                     "holder": engine.community.hierarchy.node(view.current_node).name})
    rows.sort(key=lambda r: (r["overdue"] is None, r["case"].next_deadline or r["case"].reported_at))
    return {"open": rows, "overdue": [r for r in rows if r["overdue"] is not None]}


def _period(label: str) -> None:
    from zoneinfo import ZoneInfo

    try:
        parse_period(label, ZoneInfo("UTC"))
    except PeriodError as exc:
        raise passed_on("invalid-request", str(exc)) from None


async def _read(service: Service, work: Any) -> dict[str, Any]:
    try:
        result = await service.read(work)
    except GridcoreError as exc:  # pragma: no cover - the service translates these already
        raise passed_on("invalid-request", str(exc)) from None
    assert isinstance(result, dict)
    return result


def routes() -> list[Route]:
    """The dashboard's routes."""
    return [
        Route("/dashboard/", overview),
        Route("/dashboard/login", login, methods=["GET", "POST"]),
        Route("/dashboard/logout", logout, methods=["POST", "GET"]),
        Route("/dashboard/board", board),
        Route("/dashboard/cases", cases),
        Route("/dashboard/cases/{incident}", case),
        Route("/dashboard/stars", stars),
        Route("/dashboard/members/{member}", member),
    ]


EXCEPTION_HANDLERS = {_SignIn: _signin_redirect}
