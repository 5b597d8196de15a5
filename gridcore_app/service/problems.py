"""Refusals as RFC 9457 problem documents (``application/problem+json``).

Every error the service answers is a ``Problem``: a ``type`` (a relative URI
under ``/problems/``, whose page says what it means), a short ``title``, the
HTTP ``status`` and a ``detail`` written for the person who sent the request.
A refused event carries the engine's own ``reasons`` (every one of them) and
the ``event`` id; nothing was changed.  Titles and details come in Chinese
too (``title_zh``, ``detail_zh`` where the text is the service's own).  A
request whose ``Accept-Language`` puts Chinese first (``zh``, ``zh-CN``, ...:
``prefers_chinese``) gets ``title`` and ``detail`` in Chinese (``Content-Language:
zh``), an engine's message Chinese first with its English after it where that
names what the Chinese does not; ``title_zh`` and ``detail_zh`` are there all the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from attrs import field
from starlette.responses import JSONResponse

from gridcore.classes import frozen

if TYPE_CHECKING:
    from gridcore_app.writelock import Holder

MEDIA_TYPE = "application/problem+json"

#: slug -> (status, title, 中文标题, what it means); its Chinese in ``MEANINGS_ZH``
TYPES: Mapping[str, tuple[int, str, str, str]] = {
    "event-refused": (
        422, "The engine refused the event", "事件被拒绝",
        ("The request was well formed but the engine refused it (an illegal step, someone acting "
        "outside their cells, not enough points...). `reasons` lists every reason; nothing was stored."),
    ),
    "invalid-event": (
        400, "The event is not valid", "事件格式不正确",
        "A field is missing or has the wrong type or value; `detail` names it. Nothing was stored.",
    ),
    "invalid-request": (
        400, "The request is not valid", "请求不正确",
        "The body is not JSON of the expected shape, or a parameter is missing or wrong.",
    ),
    "outside-cells": (
        422, "The spot is outside every cell", "位置不在任何网格内",
        ("A latitude/longitude fell outside every cell the roster locates; `nearest` names the "
        "nearest cells with their distance in metres. Nothing was stored."),
    ),
    "not-found": (404, "Not found", "未找到", "No such resource: an unknown incident, member, node or period."),
    "method-not-allowed": (
        405, "Method not allowed", "不支持该请求方法",
        "The route exists but does not take this method; the `Allow` header lists those it takes.",
    ),
    "unauthorized": (
        401, "A valid token is needed", "需要有效的令牌",
        ("No token was sent, or the one sent is unknown, revoked or wrong. Send `Authorization: Bearer <token>`; "
         "tokens are issued with `gridcore tokens issue MEMBER`."),
    ),
    "forbidden": (
        403, "Not allowed", "无权操作",
        ("The token's member may not do this: actions are taken as the token's member only, and "
        "anonymous residents may only report and rate what they reported."),
    ),
    "too-large": (413, "The request is too large", "请求过大", "The body is larger than the service accepts."),
    "rate-limited": (
        429, "Too many requests", "请求过于频繁",
        ("This token (or address, for anonymous requests) sent more requests than the limit; "
        "wait for `Retry-After` seconds."),
    ),
    "unsupported": (
        415, "Unsupported media type", "不支持的格式", "Send JSON (`application/json`) or, for Open311, a form.",
    ),
    "not-enabled": (
        404, "Not enabled", "未启用",
        "The plugin or feature behind this route is not enabled in this service.",
    ),
    "store-error": (
        503, "The store cannot be used", "存储不可用",
        "The store could not be read or written; nothing was changed. Try again later.",
    ),
    "store-busy": (
        503, "The store is busy writing", "数据正在写入，请稍后再试",
        ("Another process (a `gridcore ingest` of paper records, `gridcore tick`) held the store's write lock "
         "for longer than the service waits (`gridcore serve --lock-wait`). The action was not stored: send it "
         "again after `Retry-After` seconds, with the same `event_id`, and it is stored once."),
    ),
    "server-error": (500, "Internal error", "内部错误", "Something failed inside the service; it was logged."),
}

#: slug -> what the problem means, in Chinese (``/problems/SLUG`` gives it as ``description_zh``)
MEANINGS_ZH: Mapping[str, str] = {
    "event-refused": "请求格式正确，但引擎拒绝了该事件（步骤不合规、在自己负责的网格之外操作、积分不足等）。`reasons` 列出全部原因；未保存任何内容。",
    "invalid-event": "缺少某个字段，或字段的类型、取值不对；`detail` 指明是哪个。未保存任何内容。",
    "invalid-request": "请求内容不是预期形式的 JSON，或缺少参数、参数有误。",
    "outside-cells": "经纬度不在花名册定位的任何网格内；`nearest` 给出最近的网格及距离（米）。未保存任何内容。",
    "not-found": "没有这个资源：事件、人员、节点或周期不存在。",
    "method-not-allowed": "接口存在，但不支持这种请求方法；`Allow` 头列出可用的方法。",
    "unauthorized": "没有发送令牌，或令牌未知、已撤销或不正确。请发送 `Authorization: Bearer <令牌>`；令牌用 `gridcore tokens issue 人员编号` 签发。",
    "forbidden": "令牌所属人员无权这样操作：只能以令牌所属人员的身份操作，匿名居民只能上报并评价自己上报的事件。",
    "too-large": "请求内容超过服务接受的大小。",
    "rate-limited": "该令牌（匿名请求按地址）的请求次数超过限制；请等待 `Retry-After` 秒后再试。",
    "unsupported": "请发送 JSON（`application/json`），Open311 也可发送表单。",
    "not-enabled": "该接口所依赖的插件或功能在本服务中未启用。",
    "store-error": "存储无法读写；未作任何改动。请稍后再试。",
    "store-busy": "另一个进程（如 `gridcore ingest` 导入纸质记录、`gridcore tick`）占用存储的写锁超过了服务的等待时间（`gridcore serve --lock-wait`）。本次操作未保存：请在 `Retry-After` 秒后用相同的 `event_id` 重新提交，只会保存一次。",
    "server-error": "服务内部出错，已记录日志。",
}


@frozen
class Problem(Exception):
    """An error answer; raise it from a route and the app renders it."""

    slug: str
    detail: str
    detail_zh: str = ""
    extra: Mapping[str, Any] = field(factory=dict)
    headers: Mapping[str, str] = field(factory=dict)

    @property
    def status(self) -> int:
        """The HTTP status of this kind of problem."""
        return TYPES[self.slug][0]

    def document(self, instance: str | None = None, lang: str = "en") -> dict[str, Any]:
        """The RFC 9457 document; ``lang="zh"``: its ``title`` in Chinese and its ``detail`` Chinese first (the
        English after the Chinese, in brackets, where it names what the Chinese does not: a field, an id)."""
        from gridcore.errors import chinese_first, chinese_of, chinese_then_english, has_chinese

        status, title, title_zh, _ = TYPES[self.slug]
        detail = self.detail
        if lang == "zh":
            title = title_zh
            english = (chinese_of(self.detail) or (self.detail, ""))[0]
            if self.detail_zh:
                detail = chinese_then_english(english, self.detail_zh)
            elif has_chinese(self.detail):
                detail = chinese_first(self.detail)
        doc: dict[str, Any] = {
            "type": f"/problems/{self.slug}",
            "title": title,
            "title_zh": title_zh,
            "status": status,
            "detail": detail,
        }
        if self.detail_zh:
            doc["detail_zh"] = self.detail_zh
        if instance:
            doc["instance"] = instance
        doc.update(self.extra)
        if lang == "zh" and isinstance(doc.get("reasons"), list):  # a refused event's reasons, each Chinese first
            doc["reasons"] = [chinese_first(str(reason)) for reason in doc["reasons"]]
        return doc

    def response(self, instance: str | None = None, lang: str = "en") -> JSONResponse:
        """The document as an ``application/problem+json`` response (in Chinese for ``lang="zh"``)."""
        headers = {**self.headers, **({"Content-Language": "zh"} if lang == "zh" else {})}
        return JSONResponse(self.document(instance, lang), status_code=self.status, media_type=MEDIA_TYPE,
                            headers=headers)


def prefers_chinese(accept_language: str | None) -> bool:
    """True when an ``Accept-Language`` header's first choice (by its ``q`` values, then its order) is Chinese
    (``zh``, ``zh-CN``, ``zh-Hans-CN``); a header that is absent, empty or malformed asks for nothing."""
    ranked: list[tuple[float, int, str]] = []
    for at, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        tag = tag.strip().lower()
        if tag and tag != "*" and weight > 0:
            ranked.append((-weight, at, tag))
    return bool(ranked) and min(ranked)[2].split("-")[0] == "zh"


def language_of(headers: Mapping[str, str]) -> str:
    """``zh`` for a request whose ``Accept-Language`` prefers Chinese (``prefers_chinese``), else ``en``."""
    return "zh" if prefers_chinese(headers.get("accept-language")) else "en"


def passed_on(slug: str, message: str) -> Problem:
    """A ``Problem`` giving on an engine's or the roster's own message: when that carries its Chinese
    (in brackets, as refusal reasons do) its ``detail_zh`` says it Chinese first, with the English after
    it where that names what the Chinese does not (``未知节点（unknown node 'x'）``:
    ``gridcore.errors.chinese_first``), as ``refused`` gives the reasons."""
    from gridcore.errors import chinese_first, has_chinese

    return Problem(slug, message, chinese_first(message) if has_chinese(message) else "")


def period_written(written: str) -> str:
    """The label of the period a request writes (``2025年3月`` -> ``2025-03``, an assessment cycle after ``@``
    kept: ``gridcore.periods.period_label``, as the command line's ``--period`` reads it), else an
    ``invalid-request`` problem saying what to write."""
    from gridcore.periods import PeriodError, period_label

    text, at, cycle = written.partition("@")
    try:
        return period_label(text) + at + cycle
    except PeriodError as exc:
        raise passed_on("invalid-request", str(exc)) from None


def store_busy(waited: float, holder: Holder | None, retry_after: int) -> Problem:
    """An action gave up after waiting ``waited`` seconds for the write lock ``holder`` holds (None: who is
    unknown); nothing was stored."""
    if holder is not None:
        held = round(holder.held_for())
        who = f"{holder.what} (process {holder.pid}) has held the store's write lock for {held} s"
        who_zh = f"{holder.what}（进程 {holder.pid}）正在写入数据，已持续 {held} 秒"
    else:
        who, who_zh = "another process holds the store's write lock", "另一个进程正在写入数据"
    return Problem(
        "store-busy",
        f"{who}; this action waited {waited:.0f} s and was not stored: send it again in {retry_after} s "
        "with the same event_id (it is stored once)",
        f"{who_zh}；本次操作已等待 {waited:.0f} 秒，未保存。请在 {retry_after} 秒后用相同的 event_id 重新提交（只会保存一次）",
        {"retry_after": retry_after},
        {"Retry-After": str(retry_after)},
    )


def refused(event_id: str, reasons: list[str]) -> Problem:
    """The engine refused ``event_id`` for ``reasons`` (``reasons`` as given; ``detail_zh`` each Chinese first)."""
    from gridcore.errors import chinese_first

    return Problem(
        "event-refused",
        f"event {event_id} refused: " + "; ".join(reasons),
        f"事件 {event_id} 被拒绝：" + "；".join(chinese_first(reason) for reason in reasons),
        {"event": event_id, "reasons": list(reasons)},
    )
