"""``gridcore incidents ...``: list, overdue, timeline, stats, and every step of the loop.

Each step (report, accept, handle, pause, resume, escalate, resolve, verify,
rate, reopen, close, consult, feedback, assign, return, extend,
approve-extension, refuse-extension) records one event at ``--now`` (default: the system
clock) by ``--actor``; a refusal prints its reasons and changes nothing.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click

from gridcore.clock import FixedClock
from gridcore.events import SYSTEM_ACTOR
from gridcore_app.cli import (
    fail,
    for_staff,
    format_option,
    now_is_latest,
    now_option,
    open_engine,
    parse_period_written,
    person_id,
    store_option,
)

from . import reports, views
from .events import (
    ConsultationHeld,
    ExtensionApproved,
    ExtensionRefused,
    ExtensionRequested,
    FeedbackGiven,
    IncidentAccepted,
    IncidentAssigned,
    IncidentClosed,
    IncidentEscalated,
    IncidentHandlingStarted,
    IncidentPaused,
    IncidentReopened,
    IncidentReported,
    IncidentResolved,
    IncidentResumed,
    IncidentReturned,
    IncidentVerified,
    SatisfactionRated,
)
from .headings import HEADINGS_ZH
from .ignored import at
from .incident import STATUSES, Entry


@click.group("incidents")
def incidents_group() -> None:
    """Incidents through the closed loop: report, accept, handle, resolve, verify, close (事件)."""


# ---------------------------------------------------------------- reading


@incidents_group.command("list")
@click.option(
    "--status",
    type=click.Choice(["open", "all", *STATUSES]),
    default="open",
    show_default=True,
    help="Which incidents: open ones, all, or one status.",
)
@click.option("--within", metavar="NODE", help="Only incidents reported at NODE or below.")
@store_option
@now_option
@format_option
def list_command(
    status: str | None, within: str | None, store: str, now: datetime | None, fmt: str
) -> None:
    """Incidents with their current level, status and age (open ones by default: --status open)."""
    with open_engine(store, now=now, read_only=True) as engine:
        within = _node(engine, within) if within is not None else None  # its id or its name (红旗街道)
        if status == "open":
            table = reports.open_table(engine, within)
        else:
            table = _all_table(engine, None if status == "all" else status, within)
        click.echo(_in_chinese(engine, table, fmt).render(fmt), nl=False)


def _in_chinese(engine: Any, table: Any, fmt: Any) -> Any:
    """``table`` as staff read it under ``--lang zh`` (``reports.in_chinese``); JSON keeps the codes, and
    English output is unchanged."""
    if getattr(fmt, "lang", "en") != "zh" or fmt == "json":
        return table
    return reports.in_chinese(engine, table)


def _all_table(engine: Any, status: str | None, within: str | None) -> Any:
    from gridcore import Table

    rows = tuple(
        (
            i.id,
            i.category,
            i.severity,
            i.node,
            i.current_level,
            i.current_node,
            i.status,
            len(i.escalations),
            i.satisfaction,
        )
        for i in views.incidents(engine, status=status, within=within)
    )
    columns = (
        "incident",
        "category",
        "severity",
        "reported at",
        "level",
        "node",
        "status",
        "escalations",
        "satisfaction",
    )
    from .lifecycle import STATUS_ZH

    # (under zh the status in Chinese: 事件列表（已结案）)
    said = STATUS_ZH.get(status, status) if status else "全部"
    return Table(f"Incidents ({status or 'all'}) (事件列表)", columns, rows, headings=HEADINGS_ZH,
                 title_zh=f"事件列表（{said}）")


@incidents_group.command("limits")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--rulesets", "rulesets", multiple=True, type=click.Path(file_okay=False, path_type=Path),
              help="Where 'extends' also looks (after the file's own folder).")
@click.option("--on", "day", type=click.DateTime(["%Y-%m-%d"]), help="The day (default: the latest version; "
              "without FILE: now).")
@click.option("--node", default=None, metavar="NODE", help="Without FILE: the limits of the ruleset governing "
              "this node in the store (its id or name; default: the incident's node, else the whole tree's).")
@click.option("--incident", "incident_id", default=None, help="Without FILE: the limits of the ruleset governing "
              "where this incident was reported.")
@store_option
@now_option
@format_option
def limits_command(file: Path | None, rulesets: tuple[Path, ...], day: datetime | None, node: str | None,
                   incident_id: str | None, store: str, now: datetime | None, fmt: str) -> None:
    """Which time limit applies where: each category at each level of its ladder, and the rule that wins.

    FILE: as that ruleset file writes them.  Without FILE: as the store's rulesets in
    force, those of the ruleset governing ``--node`` (a community's own variant)."""
    from gridcore.rules import RulesError
    from gridcore_app.cli import read_ruleset

    from .limits import limits_table
    from .section import SECTION

    if file is None:
        _limits_in_store(store, now, day, node, incident_id, fmt)
        return
    if node is not None or incident_id is not None:
        raise click.UsageError("--node and --incident read the store's rulesets: give them without FILE"
                             " (--node 和 --incident 读取存储中的规则集：请不要同时给出 FILE)")
    from gridcore_app.cli import read_roster_beside

    # compiled with the roster beside the file, as `gridcore check` does: the roles it adds are known
    community = read_roster_beside(file)
    try:
        ruleset = read_ruleset(file, search_path=rulesets, roles=community.roles if community is not None else None)
    except RulesError as exc:
        raise click.ClickException(exc.render()) from None
    spans = ruleset.policies(SECTION)
    policy = (ruleset.policy(SECTION, at=day.date()) if day is not None else spans[-1].policy) if spans else None
    if policy is None:
        raise click.ClickException(f"{file} has no escalation rules (事件流转) in force then")
    names = None
    if getattr(fmt, "lang", "en") == "zh" and fmt != "json":
        from .detail_zh import Names

        levels, departments, roles = dict(ruleset.level_names), {}, {}
        if community is not None:
            levels |= dict(community.level_names)
            departments = {d.id: d.name for d in community.departments.values()}
            roles = dict(community.roles)
        names = Names(levels, {c.code: c.name for c in policy.categories if c.name and c.name != c.code},
                      departments, roles)
    click.echo(limits_table(policy, ruleset.levels, names).render(fmt), nl=False)


def _limits_in_store(store: str, now: datetime | None, day: datetime | None, written: str | None,
                     incident_id: str | None, fmt: str) -> None:
    """``incidents limits`` without FILE: the limits of the ruleset governing a node of the store."""
    from pathlib import PurePath

    import attrs

    from gridcore import GridcoreError, Table

    from .limits import limits_table
    from .section import SECTION

    with open_engine(store, now=now, read_only=True) as engine:
        try:
            node = engine.community.hierarchy.find(written).id if written is not None else (
                views.incident(engine, incident_id).node if incident_id is not None else None)
        except GridcoreError as exc:
            raise click.ClickException(str(exc)) from None
        when = engine.clock.now() if day is None else day.replace(tzinfo=engine.community.tz)
        ruleset = engine.ruleset_at(when, node)
        policy = engine.policy(SECTION, at=when, node=node)
        if ruleset is None or policy is None:
            raise click.ClickException("no escalation rules (事件流转) are in force there then")
        names = None
        if getattr(fmt, "lang", "en") == "zh" and fmt != "json":
            from .detail_zh import names as names_at

            found = names_at(engine, node)
            names = attrs.evolve(found, levels={**ruleset.level_names, **found.levels},
                                 categories={**{c.code: c.name for c in policy.categories
                                                if c.name and c.name != c.code}, **found.categories})
        table = limits_table(policy, ruleset.levels, names)
        where = "the whole tree (整个层级树)" if node is None else f"{node} {engine.community.hierarchy.node(node).name}"
        note = f"ruleset {ruleset.name} ({PurePath(ruleset.entry).name}) governs {where} (适用规则集)"
        if names is not None:
            where = "整个层级树" if node is None else f"{node} {engine.community.hierarchy.node(node).name}"
            note = f"适用规则集 {ruleset.name}（{PurePath(ruleset.entry).name}）：{where}"
        click.echo(Table(table.title, table.columns, table.rows, (note, *table.notes),
                         headings=table.headings).render(fmt), nl=False)


@incidents_group.command("overdue")
@store_option
@now_option
@format_option
def overdue_command(store: str, now: datetime | None, fmt: str) -> None:
    """Open incidents past their time limit."""
    with open_engine(store, now=now, read_only=True) as engine:
        click.echo(_in_chinese(engine, reports.overdue_table(engine), fmt).render(fmt), nl=False)


@incidents_group.command("timeline")
@click.argument("incident")
@store_option
@now_option
@format_option
def timeline_command(incident: str, store: str, now: datetime | None, fmt: str) -> None:
    """Every step of one incident, with the rule behind each automatic one."""
    with open_engine(store, now=now, read_only=True) as engine:
        click.echo(_timeline_in_chinese(engine, reports.timeline_table(engine, incident), incident, fmt)
                   .render(fmt), nl=False)


def _timeline_in_chinese(engine: Any, table: Any, incident: str, fmt: Any) -> Any:
    """``table`` (a timeline) as staff read it under ``--lang zh`` (``reports.timeline_in_chinese``). JSON
    keeps the English, and English output is unchanged."""
    if getattr(fmt, "lang", "en") != "zh" or fmt == "json":
        return table
    return reports.timeline_in_chinese(engine, incident, table)


@incidents_group.command("stats")
@click.option(
    "--period", callback=parse_period_written, required=True, help="2025, 2025-Q1, 2025-03, 2025-W10 or 2025-03-08 (community time zone)."
)
@click.option("--within", metavar="NODE", help="Only incidents reported at NODE or below.")
@store_option
@now_option
@format_option
def stats_command(
    period: str, within: str | None, store: str, now: datetime | None, fmt: str
) -> None:
    """Counts by category and level for a period."""
    with open_engine(store, now=now, read_only=True) as engine:
        within = _node(engine, within) if within is not None else None  # its id or its name (红旗街道)
        click.echo(_in_chinese(engine, reports.stats_table(engine, period, within), fmt).render(fmt), nl=False)


# ---------------------------------------------------------------- steps of the loop


def _node(engine: Any, written: str) -> str:
    """The id of the node ``written`` names: its id, or its name (``凌空第一网格``) when one node alone bears it."""
    return str(engine.community.hierarchy.find(written).id)


def _record(
    store: str, now: datetime | None, make: Callable[[Any, datetime], Any], fmt: str = "text"
) -> None:
    with open_engine(store, now=now) as engine:
        when = now or engine.clock.now()
        latest = engine.latest_event_time
        if now is None and now_is_latest() and latest is not None and when <= latest:
            # --now latest: the step is recorded one second after the store's newest event, so that it follows
            # it: at one time, events are judged in id order, and X1:accept:... sorts before X1:report
            when = latest + timedelta(seconds=1)
            engine.clock = FixedClock(when)
        event = make(engine, when)
        known = views.state_of(engine).find(event.incident) is not None
        before = views.timeline(engine, event.incident) if known else []
        # decisions taken on the spot (immediate rules, a reopening) are
        # recorded with the event by the engine: no tick needed
        stored = engine.record(event)
        item = views.incident(engine, event.incident)
        lines = views.timeline(engine, item.id)
        if event.incident != item.id:
            # a repeat report joined an open incident: what happened starts at its line
            new = lines[next((n for n, e in enumerate(lines) if e.event == event.id), len(lines)):]
        else:
            # the lines the timeline did not have (a late step's are not at its end: the stored steps after
            # it were replayed after it)
            had = Counter(before)
            new = [e for e in lines if not _taken(had, e)]
        happened = _happened(item, event, new, views.state_of(engine).ignored_now)
        status = item.status + (" (paused)" if item.paused else "")
        if fmt == "json":
            doc = {
                "event": event.id,
                "stored": stored,
                "incident": item.id,
                "happened": happened,
                "status": item.status,
                "paused": item.paused,
                "node": item.current_node,
                "level": item.current_level,
            }
            click.echo(json.dumps(doc, ensure_ascii=False))
            return
        said = "recorded" if stored else "already recorded"
        what = ", ".join(happened) or "nothing changed"
        click.echo(for_staff(
            f"{said} {event.id}: {what}; incident {item.id} is {status} at "
            f"{item.current_level} {item.current_node} ({_said_zh(engine, event, item, stored)})"
        ))


def _said_zh(engine: Any, event: Any, item: views.IncidentView, stored: bool) -> str:
    """The confirmation in Chinese, for staff: the step, the case's status and where it is now."""
    from .lifecycle import STATUS_ZH, VERBS_ZH

    verb = "上报" if isinstance(event, IncidentReported) else VERBS_ZH.get(type(event), "")
    done = ("已记录" if stored else "此前已记录，未重复记录") + (f"{verb}" if verb else "")
    status = STATUS_ZH.get(item.status, item.status) + ("，暂停计时" if item.paused else "")
    level = engine.community.level_names.get(item.current_level, item.current_level)
    return f"{done}；事件 {item.id} {status}，位于{level} {item.current_node}"


def _taken(had: Counter[Entry], entry: Entry) -> bool:
    """True (and one of them taken) if ``had`` holds ``entry``."""
    if had[entry] > 0:
        had[entry] -= 1
        return True
    return False


def _happened(item: views.IncidentView, event: Any, new: list[Entry],
              ignored: Mapping[str, tuple[Any, list[str]]]) -> list[str]:
    """What the step did, in words: its own timeline lines (``new``: those it added) and the decisions it
    triggered; a stored event it made ignored (``ignored``: those the plugin was given through
    ``gridcore_on_event_ignored``, with the hook's reasons) is said with those reasons."""
    said = []
    for entry in new:
        if not entry.event:
            continue  # routing and notices belong to the report that caused them
        if entry.event != event.id and entry.event in ignored and entry.what.endswith(" ignored"):
            stored, reasons = ignored[entry.event]
            said.append(_now_ignored(stored, reasons, event))
        elif entry.what == "repeat report":
            # (its own report, or a stored one that a late, earlier report here made a repeat report)
            report = entry.detail.split(" joined", 1)[0] if " joined" in entry.detail else event.incident
            number = (item.repeat_reports.index(report) + 1 if report in item.repeat_reports
                      else len(item.repeat_reports))
            said.append(f"{report} joined incident {item.id} as repeat report #{number}")
        elif entry.what == "escalated":
            said.append("escalated " + entry.detail.split(":", 1)[0])
        elif entry.what in ("paused", "verified", "reopen ignored", "escalation ignored", "step ignored",
                            "join ignored", "extension requested",
                            "extension approved", "extension refused", "extension lapsed", "consulted",
                            "feedback given", "returned", "assigned") and entry.detail:
            said.append(f"{entry.what} ({entry.detail})")
        else:
            said.append(entry.what)
    return said


#: A derived event's kind (as ``_now_ignored`` words it) named as a thing, in English and Chinese.
_DERIVED = {"escalated": ("escalation", "提级"), "reopened": ("reopening", "重新办理"),
            "assigned": ("pass inside the cell", "网格内转办"), "repeat report joined": ("join", "并入")}


def _now_ignored(stored: Any, reasons: list[str], event: Any) -> str:
    """``stored``, a stored event that ``event`` (recorded now, dated before it) made refusable in time order, in
    words: which step is now ignored because of it, and why: the reasons every plugin gave
    (``gridcore_validate_stored``, each English then Chinese in brackets), in English and Chinese."""
    from .detail_zh import STEPS_ZH, why

    chinese = [why(reason) for reason in reasons]
    english = [reason.removesuffix(f" ({zh})") for reason, zh in zip(reasons, chinese)]
    step = type(stored).kind.removeprefix("incident_").replace("_", " ")
    step_zh = STEPS_ZH.get(step, {"consultation held": "会商", "satisfaction rated": "评价",
                                  "repeat report joined": "并入"}.get(step, step))
    when, recorded = at(stored.time, event.time), event.id
    if stored.actor == SYSTEM_ACTOR:
        what, what_zh = _DERIVED.get(step, (step, step_zh))
        return (f"stored {what} {stored.id} (derived at {when}) now ignored because of {recorded}: "
                f"{'; '.join(english)} (因补录 {recorded}，系统于 {when} 派生的{what_zh} {stored.id} 现已忽略："
                f"{'；'.join(chinese)})")
    return (f"stored step {stored.id} ({step} at {when} by {stored.actor}) now ignored because of {recorded}: "
            f"{'; '.join(english)} (因补录 {recorded}，已录入的步骤 {stored.id}（{stored.actor} {when} {step_zh}）"
            f"现已忽略：{'；'.join(chinese)})")


def _event_id(engine: Any, given: str | None, incident: str, step: str, when: datetime, actor: str) -> str:
    """The id of a step typed in: ``given``, else ``INCIDENT:STEP:TIME``, as the command always made it (typed
    again, the same command is the same event, a harmless duplicate). When the store holds that id for
    another person's step (a second officer accepting the case in the same minute), the id names the actor
    too (``INCIDENT:STEP:TIME:ACTOR``): the step is judged on its merits ("already accepted by ...") instead
    of refused as the stored event's id with a different actor. Ids already stored never change."""
    if given:
        return given
    ident = f"{incident}:{step}:{when.isoformat()}"
    stored = engine.store.find([ident]).get(ident)
    return f"{ident}:{actor}" if stored is not None and stored.get("actor") != actor else ident


def _step(name: str, help_text: str, cls: type, **fields: click.Option) -> click.Command:
    """A command recording one incident event of ``cls`` (options become its fields)."""

    @click.command(name, help=help_text)
    @click.argument("incident")
    @click.option("--actor", required=True, help="Member (their id or name) or registered resident doing it.")
    @click.option("--node", help="Where it happened: a node's id or name (default: where the incident was reported).")
    @click.option("--event-id", help="Id of the event (default: INCIDENT:STEP:TIME, with :ACTOR when another "
                  "person's step holds that id).")
    @store_option
    @now_option
    @format_option
    def command(
        incident: str,
        actor: str,
        node: str | None,
        event_id: str | None,
        store: str,
        now: datetime | None,
        fmt: str,
        **values: Any,
    ) -> None:
        if cls is IncidentEscalated and values.get("to_node") is None and not values.get("department"):
            raise click.UsageError(
                "name where it goes: --to NODE, --department DEPT, or both (请指定上报的节点或条线部门)"
            )

        def make(engine: Any, when: datetime) -> Any:
            fields = {k: v for k, v in values.items() if v is not None}
            who = person_id(engine, actor, known=False)
            if "participants" in fields:
                fields["participants"] = tuple(person_id(engine, p, known=False) for p in fields["participants"])
            if "handler" in fields:
                fields["handler"] = person_id(engine, fields["handler"], known=False)
            if cls is IncidentEscalated and "to_node" not in fields:
                fields["to_node"] = views.incident(engine, incident).current_node
            elif "to_node" in fields:
                fields["to_node"] = _node(engine, fields["to_node"])
            return cls(
                id=_event_id(engine, event_id, incident, name, when, who),
                time=when,
                actor=who,
                node=_node(engine, node) if node else views.incident(engine, incident).node,
                incident=incident,
                **fields,
            )

        _record(store, now, make, fmt)

    for option in reversed(list(fields.values())):
        command.params.append(option)
    return command


_STEPS = (
    _step("accept", "Accept an incident at its current node.", IncidentAccepted),
    _step(
        "handle",
        "Start handling an accepted incident.",
        IncidentHandlingStarted,
        note=click.Option(["--note"], help="A note for the timeline (what is being done)."),
    ),
    _step(
        "pause",
        "Stop the incident's clock (waiting for the resident, for parts...).",
        IncidentPaused,
        reason=click.Option(["--reason"], required=True, help="Why the clock stops (shown in the timeline)."),
    ),
    _step("resume", "Restart the clock, keeping the time already spent.", IncidentResumed),
    _step(
        "escalate",
        "Blow the whistle: move the incident up to NODE, or hand it to a line department "
        "(--department alone keeps it where it is and adds the department), or both.",
        IncidentEscalated,
        to_node=click.Option(
            ["--to", "to_node"],
            metavar="NODE",
            help="The node above to move it to (default: where it is now; needs --department then).",
        ),
        department=click.Option(
            ["--department"],
            metavar="DEPT",
            help="A line department (条线部门) to hand it to, e.g. fire, police, housing.",
        ),
        reason=click.Option(
            ["--reason"], default="", help="Why it is escalated (shown in the timeline and explain)."
        ),
    ),
    _step("resolve", "Say the problem is solved.", IncidentResolved,
          note=click.Option(["--note"], help="How it was solved (shown in the timeline).")),
    _step(
        "verify",
        "Verify the result with the residents' satisfaction (1-5).",
        IncidentVerified,
        satisfaction=click.Option(["--satisfaction"], type=click.IntRange(1, 5), required=True,
                                  help="The residents' satisfaction with the result, 1 (very poor) to 5 (very good)."),
        note=click.Option(["--note"], help="What the check found (shown in the timeline)."),
    ),
    _step(
        "rate",
        "Rate the outcome as its reporter or a resident of the cell (1-5).",
        SatisfactionRated,
        score=click.Option(["--score"], type=click.IntRange(1, 5), required=True,
                           help="The rating, 1 (very poor) to 5 (very good)."),
    ),
    _step(
        "reopen",
        "Reopen a resolved or verified incident.",
        IncidentReopened,
        reason=click.Option(["--reason"], default="", help="Why (shown in the timeline)."),
    ),
    _step("close", "Close a verified incident.", IncidentClosed),
    _step(
        "consult",
        "Record a consultation (会商) on an incident: who took part and what they decided.",
        ConsultationHeld,
        participants=click.Option(["--with", "participants"], multiple=True, required=True, metavar="PERSON",
                                  help="A participant, their id or name (repeat for each: --with leader1 --with police1)."),
        decision=click.Option(["--decision"], required=True, help="What the consultation decided."),
    ),
    _step(
        "feedback",
        "Tell the reporter the result (反馈) of a resolved incident.",
        FeedbackGiven,
        note=click.Option(["--note"], default="", help="What the reporter was told."),
        channel=click.Option(["--channel"], default="", help="How (phone, visit, wechat ...)."),
    ),
    _step(
        "assign",
        "Assign (派单) or reassign a case to a named handler, who takes it on under their role's limits.",
        IncidentAssigned,
        handler=click.Option(["--to", "handler"], required=True, metavar="MEMBER",
                             help="Who handles it (their id or name)."),
        reason=click.Option(["--reason"], default="", help="Why (shown in the timeline)."),
    ),
    _step(
        "return",
        "Send a case back (退单) with a reason: --department DEPT for a line department that finds it is "
        "not its remit (it leaves the case), --to NODE for a case that belongs to another cell (routed "
        "again there), or neither (routed again from where it was reported).",
        IncidentReturned,
        reason=click.Option(["--reason"], required=True, help="Why it is sent back."),
        to_node=click.Option(["--to", "to_node"], metavar="NODE", help="The cell it belongs to."),
        department=click.Option(["--department"], metavar="DEPT", help="The department sending it back."),
    ),
    _step(
        "extend",
        "Ask for more time to resolve (延期申请): --days and/or --hours, counted like the level's "
        "resolve limit (working days and hours when it is in working time).",
        ExtensionRequested,
        days=click.Option(["--days"], type=click.IntRange(0, 366), default=0, show_default=True,
                          help="Days more (working days when the limit is in working time)."),
        hours=click.Option(["--hours"], type=click.IntRange(0, 366), default=0, show_default=True,
                           help="Hours more (working hours when the limit is in working time)."),
        reason=click.Option(["--reason"], required=True, help="Why more time is needed."),
    ),
    _step(
        "approve-extension",
        "Approve the extension request waiting on an incident (延期批准): its resolve deadline moves.",
        ExtensionApproved,
        note=click.Option(["--note"], default="", help="A note for the timeline."),
    ),
    _step(
        "refuse-extension",
        "Refuse the extension request waiting on an incident (延期不批准).",
        ExtensionRefused,
        reason=click.Option(["--reason"], required=True, help="Why it is refused."),
    ),
)
for _command in _STEPS:
    incidents_group.add_command(_command)


@incidents_group.command("report")
@click.argument("incident")
@click.option(
    "--category", required=True, help="Category: its code (fire_hazard) or the name the ruleset gives it (消防隐患)."
)
@click.option("--node", required=True, help="Cell where it was found: its id or its name.")
@click.option("--actor", required=True, help="Who reports it (a member's id or name, or a resident's id).")
@click.option("--severity", type=click.IntRange(1, 5), default=1, show_default=True,
              help="How serious, 1 (minor) to 5 (grave): the ruleset's escalations and limits may depend on it.")
@click.option("--place", help="Place id (building, address) inside the cell.")
@click.option("--channel", default="patrol", show_default=True,
              help="How it came in: its code (phone) or the name the ruleset gives it (电话).")
@click.option("--key-person", is_flag=True, help="A key person is involved.")
@click.option("--description", default="", help="What was found, in the reporter's words.")
@click.option("--event-id", help="Id of the event (default: INCIDENT:report).")
@store_option
@now_option
@format_option
def report_command(
    incident: str,
    category: str,
    node: str,
    actor: str,
    severity: int,
    place: str | None,
    channel: str,
    key_person: bool,
    description: str,
    event_id: str | None,
    store: str,
    now: datetime | None,
    fmt: str,
) -> None:
    """Report a new incident (a repeat of an open one joins it)."""

    def make(engine: Any, when: datetime) -> IncidentReported:
        return IncidentReported(
            id=event_id or f"{incident}:report",
            time=when,
            actor=person_id(engine, actor, known=False),
            node=_node(engine, node),
            incident=incident,
            category=category,
            severity=severity,
            place=place,
            channel=channel,
            key_person=key_person,
            description=description,
        )

    try:
        _record(store, now, make, fmt)
    except ValueError as exc:
        fail(str(exc))
