"""Explanations of ratings and subsidies (``gridcore explain assessment:2025-Q1:g1``).

Decision ids, after the ``assessment:`` prefix:

* ``<period>:<node>``: a node's stars and score, with every term's rule;
* ``<period>:subsidy:<member>``: a person's subsidies and the stars behind them;
* ``<period>:person:<member>``: a rated person's stars and score (``rated people``).

The stored assessment of the period is explained when there is one (that is
what was decided); otherwise the period is assessed afresh, without saving.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from gridcore.explain import Explanation
from gridcore.periods import PeriodError

from .archive import stored_or_fresh
from .rating import Assessment, AssessmentError
from .scoring import Rating, shown

if TYPE_CHECKING:
    from gridcore import Engine


def explain_decision(engine: Engine, rest: str, lang: str = "en") -> Explanation | None:
    """Explain ``<period>:<node>`` or ``<period>:subsidy:<member>``; None if unknown.  In Chinese
    (``lang="zh"``) each metric's inputs are headed by their Chinese (``Metric.inputs_zh``)."""
    period, _, subject = rest.partition(":")
    if not subject:
        return None
    try:
        assessment = stored_or_fresh(engine, period)
    except (PeriodError, AssessmentError):  # no such period, or no such cycle: nothing to explain
        return None
    decision = f"assessment:{rest}"
    inputs_zh = {name: metric.inputs_zh for name, metric in engine.metrics().items()} if lang == "zh" else None
    # the Chinese of a rated node's level (网格), of a rated person's or a subsidy's role (网格员)
    names_zh = {**engine.community.roles, **engine.community.level_names} if lang == "zh" else None
    if subject.startswith("subsidy:"):
        member = subject[len("subsidy:") :]
        return _subsidy(assessment, member, decision, names_zh) or _joined_member(engine, assessment, member, decision)
    if subject.startswith("person:"):
        member = subject[len("person:"):]
        person = assessment.person(member)
        return explain_rating(person, decision, inputs_zh, (names_zh or {}).get(person.level, "")) \
            if person is not None else _joined_member(engine, assessment, member, decision)
    rating = assessment.rating(subject)
    return explain_rating(rating, decision, inputs_zh, (names_zh or {}).get(rating.level, "")) \
        if rating is not None else _joined(engine, assessment, subject, decision)


def _joined(engine: Engine, assessment: Assessment, node: str, decision: str) -> Explanation | None:
    """Why a node that joined the store after the period's start is not rated (None for any other node)."""
    community = engine.community
    if node not in community.hierarchy:
        return None
    joined = community.joined(node)
    start = datetime.fromisoformat(assessment.start)
    if joined is None or joined <= start:
        return None
    record = community.hierarchy.node(node)
    summary = (f"{record.level} {node} ({record.name}) is not rated for {assessment.named}: it joined on "
               f"{_day(engine, joined)}, after the period's start, {_day(engine, start)}; it is rated, and its staff "
               f"paid, from the first period starting at or after it joined / {node}（{record.name}）"
               f"{_day(engine, joined)} 加入，晚于本期开始（{_day(engine, start)}），本期不参评；"
               "自加入后第一个完整考核期起参评，其工作人员同期起领补贴")
    return Explanation(decision, summary, (), {"joined": joined.isoformat(), "period start": assessment.start},
                       "not rated / 未参评")


def _joined_member(engine: Engine, assessment: Assessment, member: str, decision: str) -> Explanation | None:
    """Why a person who joined (or holds roles only at nodes that joined) after the period's start has no
    subsidy line or rating (None for anyone else)."""
    community = engine.community
    if member not in community.members:
        return None
    start = datetime.fromisoformat(assessment.start)
    times = [community.member_joined(member), *(community.joined(a.node) for a in community.member(member).roles)]
    late = [when for when in times if when is not None and when > start]
    if not late:
        return None
    joined = max(late)
    name = community.member(member).name
    summary = (f"{name} ({member}) is not paid or rated for {assessment.named}: they (or the nodes of their roles) "
               f"joined on {_day(engine, joined)}, after the period's start, {_day(engine, start)}; paid from the "
               f"first period starting at or after they joined / {name}（{member}）{_day(engine, joined)} 加入，"
               f"晚于本期开始（{_day(engine, start)}），本期不参评、不发补贴；自加入后第一个完整考核期起发放")
    return Explanation(decision, summary, (), {"joined": joined.isoformat(), "period start": assessment.start},
                       "not paid / 未发放")


def _day(engine: Engine, when: datetime) -> str:
    return f"{when.astimezone(engine.community.tz):%Y-%m-%d}"


def explain_rating(rating: Rating, decision: str,
                   inputs_zh: Mapping[str, Mapping[str, str]] | None = None,
                   level_zh: str = "") -> Explanation:
    """A rating's stars, the rules behind them and every metric value it used, with the inputs each value
    was computed from; ``inputs_zh`` (each metric's ``Metric.inputs_zh``, by its name): in Chinese, the
    summary and each term's working in Chinese, each input headed by its Chinese alone
    (``40（已举行演练：2，应举行演练：5）``); ``level_zh``: the Chinese of the node's level."""
    zh = inputs_zh is not None
    if zh:
        summary = (f"{level_zh or rating.level} {rating.node}（{rating.name}）{rating.period} 评为 {rating.stars} 星，"
                   f"得分 {shown(rating.score)}（满分 {rating.max_score:g}）")
        if rating.capped_from:
            summary += f"；因名额限制由 {rating.capped_from} 星降为 {rating.stars} 星（{rating.cap_rule}）"
    else:
        summary = f"{rating.level} {rating.node} ({rating.name}) rated {rating.stars} stars for {rating.period}"
        summary += f" with score {shown(rating.score)} of {rating.max_score:g}"
        if rating.capped_from:
            summary += f"; held back from {rating.capped_from} stars by a cap ({rating.cap_rule})"
    inputs: dict[str, Any] = {}
    for term in rating.terms:
        text = ("不适用" if zh else "n/a") if term.value is None else str(shown(term.value))
        points = shown(term.points) or 0
        inputs[f"{term.kind} {term.metric}"] = (f"{text} -> {points:+g} 分（{note_zh(term.note)}）[{term.rule}]" if zh
                                                else f"{text} -> {points:+g} points ({term.note}) [{term.rule}]")
    for name, value in rating.values.items():
        shown_value = ("不适用" if zh else "n/a") if value is None else str(shown(value))
        if inputs_zh is None:
            detail = ", ".join(f"{k}: {v}" for k, v in rating.inputs.get(name, {}).items())
            inputs[f"metric {name}"] = shown_value + (f" ({detail})" if detail else "")
            continue
        heads = inputs_zh.get(name, {})
        detail = "，".join(f"{heads[k]}：{_value_zh(v)}" if k in heads else f"{k}: {v}"
                          for k, v in rating.inputs.get(name, {}).items())
        inputs[f"metric {name}"] = shown_value + (f"（{detail}）" if detail else "")
    return Explanation(decision, summary, rating.rules, inputs, rating.stars)


#: How a term's points were worked out (``Term.note``, stored in English), in Chinese.
_NOTES_ZH = (
    (re.compile(r"(?P<share>[\d.]+)% of (?P<weight>[\d.]+)"), "满分 {weight} 的 {share}%"),
    (re.compile(r"minus (?P<points>[\d.]+) x (?P<count>[\d./]+)"), "扣 {points} × {count}"),
    (re.compile(r"plus (?P<points>[\d.]+) x (?P<count>[\d./]+)"), "加 {points} × {count}"),
    (re.compile(r"not applicable: full weight"), "不适用，计满分"),
    (re.compile(r"not applicable: 0 points"), "不适用，计 0 分"),
)


def note_zh(note: str) -> str:
    """A term's note (``94.4% of 25``, ``minus 2 x 1``) in Chinese (``满分 25 的 94.4%``, ``扣 2 × 1``); a note
    of another form as it is."""
    for pattern, chinese in _NOTES_ZH:
        found = pattern.fullmatch(note)
        if found is not None:
            return chinese.format(**found.groupdict())
    return note


def _value_zh(value: Any) -> Any:
    """A metric input's value as staff reading Chinese see it: ``none`` as 无, ``1 per day`` as 每天 1 次."""
    if value == "none":
        return "无"
    found = re.fullmatch(r"(\d+) per (day|week|month)", value) if isinstance(value, str) else None
    if found is not None:
        return f"每{_PER_ZH[found[2]]} {found[1]} 次"
    return value


_PER_ZH = {"day": "天", "week": "周", "month": "月"}


def _subsidy(assessment: Assessment, member: str, decision: str,
             names_zh: Mapping[str, str] | None = None) -> Explanation | None:
    """A person's subsidies for the period (``names_zh``, the Chinese of roles: the summary and amounts in
    Chinese; the inputs keep their keys, ``grid_leader at g1``, which the plugin's labels head)."""
    lines = [s for s in assessment.subsidies if s.member == member]
    if not lines:
        return None
    total = shown(sum((s.amount for s in lines), Fraction(0)))  # exact sum, rounded once to show
    if names_zh is not None:
        summary = f"{lines[0].name}（{member}）{assessment.named} 补贴 {total}"
        from .reports import basis_zh

        inputs = {f"{s.role} at {s.node}": f"{shown(s.amount)}，按 {shown(s.stars)} 星（{basis_zh(s.basis, names_zh)}）"
                  for s in lines}
    else:
        summary = f"{lines[0].name} ({member}) earns {total} for {assessment.named}"
        inputs = {f"{s.role} at {s.node}": f"{shown(s.amount)} from {shown(s.stars)} stars ({s.basis})" for s in lines}
    rules = tuple(dict.fromkeys(s.rule for s in lines))
    return Explanation(decision, summary, rules, inputs, total)
