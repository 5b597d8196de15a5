"""The scenario of a simulated community: what a day there looks like, as data.

A scenario file (``rulesets/<community>/scenario.yaml``) names the community's
activities, incident categories, rewards and roles the way its ruleset spells
them, with rates, delays and shares: who patrols how often, how many incidents
of each category arrive a day and how grave they are, who handles, verifies
and rates them and how fast, who takes part in what, who redeems what, how the
population changes, and which mistakes to make on purpose.  It says nothing of
points, ladders or stars: those are the ruleset's business.

``load_scenario(path)`` reads and checks a file; every mistake is reported
with its path (``activities.扫地: chance must be a share between 0 and 1``).
``scenario_problems(scenario, community)`` lists what does not fit a community
(an unknown role or department); a role is named by its id or its Chinese name,
the roster's own too (``with_role_ids`` writes each as its id).  ``gridcore_app.simulate`` turns a scenario into
events.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, time
from pathlib import Path
from typing import Any

import attrs
import cattrs
from attrs import field

from gridcore.classes import frozen
from gridcore.community import Community
from gridcore.errors import GridcoreError, has_chinese

#: The channel meaning "found on patrol"; every other channel is a resident's report.
PATROL = "patrol"
#: Pseudo-role in activity plans: residents registered by events (not on the roster).
REGISTERED = "registered_resident"


class ScenarioError(GridcoreError):
    """A scenario file is malformed or does not fit its community."""


# ---------------------------------------------------------------- the scenario


def _weights(value: Any) -> tuple[float, ...]:
    items = tuple(float(v) for v in value)
    if not items or any(v < 0 for v in items) or sum(items) <= 0:
        raise ValueError("weights must be non-negative numbers, not all zero (权重应为非负数，且不能全为零)")
    return items


def _shares(value: Any) -> tuple[float, ...]:
    items = tuple(float(v) for v in value)
    if len(items) != 5 or any(not 0 <= v <= 1 for v in items):
        raise ValueError("expected five shares between 0 and 1 (severities 1 to 5) (应为五个 0 到 1 之间的比例，对应严重程度 1 到 5)")
    return items


def _share(instance: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if not 0 <= value <= 1:
        raise ValueError(f"{attribute.name} must be a share between 0 and 1, got {value!r} (应为 0 到 1 之间的比例)")


def _diligence(instance: Any, attribute: attrs.Attribute[Any], value: tuple[float, float]) -> None:
    if not 0 < value[0] <= value[1] <= 1:
        raise ValueError(f"diligence must be [low, high] with 0 < low <= high <= 1, got {list(value)} (diligence 应为 [下限, 上限]，且 0 < 下限 <= 上限 <= 1)")


def _rate(instance: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must not be negative, got {value!r} (不能为负数)")


def _span(instance: Any, attribute: attrs.Attribute[Any], value: tuple[float, float] | None) -> None:
    if value is not None and not 0 <= value[0] <= value[1]:
        raise ValueError(f"{attribute.name} must be [low, high] with 0 <= low <= high, got {list(value)} (应为 [下限, 上限]，且 0 <= 下限 <= 上限)")


@frozen(kw_only=True)
class PatrolPlan:
    """How holders of ``role`` patrol: chance per working day, cells walked, minutes, visits.

    ``cells`` is how many cells below their seat a holder walks on a patrol day.
    ``coverage`` replaces it for staff with a patrol zone: the cells below a
    seat are split among the holders of ``role`` there (in roster order), and
    each walks that share of their own zone a day (times their diligence), so a
    grid with two gridworkers is not better covered than a grid with one.
    ``minutes`` is the time spent in each cell, ``between`` the walk to the next.
    """

    role: str
    chance: float = field(validator=_share)
    cells: tuple[int, int] = field(default=(1, 3), validator=_span)
    coverage: tuple[float, float] | None = field(default=None, validator=_span)
    minutes: tuple[int, int] = field(default=(30, 120), validator=_span)
    between: tuple[int, int] = field(default=(10, 20), validator=_span)
    visits: tuple[int, int] = field(default=(0, 5), validator=_span)
    weekends: bool = False


@frozen(kw_only=True)
class IncidentPlan:
    """One incident category: expected reports per day in the whole community, severities.

    ``severity`` weights severities 1 to 5.  ``handlers`` (roles, nearest first)
    replaces the default handlers for this category; ``whistle`` names a line
    department the handler calls in ("blow the whistle") for a ``whistle_share``
    of the cases, at the handler's own node; ``key_person`` is the share that
    involve a key person.  ``duplicates`` is the share of cases someone else
    reports again while it is open (a repeat report, 重复上报, within the
    handling's ``duplicate_hours``); ``recurrence`` the share that come back at
    the same place ``recurs_after_days`` after they were resolved (a leak that
    was patched, not fixed), which is what a ruleset's "repeated N times" rule
    counts.  ``routed`` names the line department the ruleset routes the
    category to at report (keep it equal to the ruleset's ``route to``), and
    ``returned`` the share of cases that department sends back (退单) as not
    its remit before anyone takes them on.
    """

    category: str
    per_day: float = field(validator=_rate)
    severity: tuple[float, ...] = field(default=(50, 30, 15, 4, 1), converter=_weights)
    handlers: tuple[str, ...] = ()
    whistle: str | None = None
    whistle_share: float = field(default=0.0, validator=_share)
    key_person: float = field(default=0.02, validator=_share)
    duplicates: float = field(default=0.0, validator=_share)
    recurrence: float = field(default=0.0, validator=_share)
    recurs_after_days: tuple[int, int] = field(default=(1, 6), validator=_span)
    description: str = ""
    routed: str | None = None
    returned: float = field(default=0.0, validator=_share)


@frozen(kw_only=True)
class HandlingPlan:
    """How incidents are handled: who, how fast, how residents judge it.

    Delays are in hours, drawn from ``[low, high]`` (a less diligent handler
    draws nearer the high end).  The handler is the nearest holder of
    ``handlers`` up the tree from the cell, preferring one whose own roles
    cover the cell (the committee member in charge of that grid, 包片).
    ``verifier`` roles verify (nearest holder up the tree), scoring
    satisfaction with ``satisfaction`` weights for scores 1 to 5; a score at or
    below ``reopen_at_most`` reopens the case (the escalation plugin records the
    reopening; keep this equal to the ruleset's) and the handler takes it on
    again at once.  ``duplicate_hours`` is how long after a report a repeat
    report still joins it when the simulator is not given a ruleset's ladder
    (with one, it reads the ruleset's ``duplicates`` window: ``Ladder.duplicates_window``).
    ``repeat_reports`` and ``repeat_days`` mirror the ruleset's "repeated N times
    within D days" rule (0: none) when the simulator is not given a ruleset's
    ladder (with one, it reads the ruleset's own ``repeats`` rules in force):
    a report that makes N of its category at its place within D days goes up
    at once, so the level above the cell takes it (as it takes every problem
    that came back), and no report is made that would send a case up while
    someone below is working on it.

    Escalated handling (提级办理): a case of severity ``s`` is taken up by the
    level above its handler with chance ``escalated_share[s - 1]`` (more often
    for a less diligent handler), ``escalated_after_hours`` after it was taken
    on, by the nearest holder of ``escalated_handlers`` above the handler's
    seat, who escalates it to their own node and handles it there.  Cases of
    severity ``severe_at_least`` or more are handled by ``severe_handlers``
    from the start, found from ``severe_level`` up (the level a ruleset sends
    big matters to; default the cell), and so are cases involving a key person
    (found from the cell up): "big matters stay in the community".

    Cases the ruleset's ladder carried up (when the simulator is given its
    ``Ladder``): a case whose accept limit ran out before its handler came, or
    that a rule sent up past where its handler may act, is taken on at the node
    it reached by a holder of the first of ``climbed_handlers`` held there
    (default: any staff there without a department), ``climbed_accept_hours``
    after it arrived; past the level's own limit, the level above takes it.

    The steps inside the cell mirror the ruleset's (keep them equal): a case of
    one of ``consult_categories``, or of severity ``consult_at_least`` or more,
    is consulted on (会商) by its handler with the nearest holder of each of
    ``consult_with`` right after it is taken on; with ``feedback_hours`` the
    handler tells the reporter the result (反馈) that long after each
    resolution, before it is verified; a share ``extension_share`` of the
    cases handled in their cell ask for one more day (延期), which the
    nearest ``extension_approver`` approves, or refuses for a share
    ``extension_refused_share`` of them.  A share ``assign_share`` of the
    cases is assigned (派单) to their handler before they take it on, by the
    nearest holder of ``assigned_by`` at or above the handler's seat.
    """

    handlers: tuple[str, ...]
    verifier: tuple[str, ...]
    accept_hours: tuple[float, float] = field(default=(0.25, 6.0), validator=_span)
    resolve_hours: tuple[float, float] = field(default=(2.0, 48.0), validator=_span)
    pause_share: float = field(default=0.05, validator=_share)
    pause_hours: tuple[float, float] = field(default=(4.0, 48.0), validator=_span)
    verify_hours: tuple[float, float] = field(default=(1.0, 24.0), validator=_span)
    satisfaction: tuple[float, ...] = field(default=(2, 3, 10, 35, 50), converter=_weights)
    reopen_at_most: int = 2
    rating_share: float = field(default=0.5, validator=_share)
    close: bool = True
    duplicate_hours: float = field(default=2.0, validator=_rate)
    repeat_reports: int = 0
    repeat_days: float = field(default=7.0, validator=_rate)
    escalated_handlers: tuple[str, ...] = ()
    escalated_share: tuple[float, ...] = field(default=(0.005, 0.01, 0.04, 0.08, 0.08), converter=_shares)
    escalated_after_hours: tuple[float, float] = field(default=(2.0, 8.0), validator=_span)
    severe_at_least: int = 6
    severe_handlers: tuple[str, ...] = ()
    severe_level: str | None = None
    climbed_handlers: tuple[str, ...] = ()
    climbed_accept_hours: tuple[float, float] = field(default=(1.0, 24.0), validator=_span)
    consult_categories: tuple[str, ...] = ()
    consult_at_least: int = 6
    consult_with: tuple[str, ...] = ()
    feedback_hours: tuple[float, float] | None = field(default=None, validator=_span)
    extension_share: float = field(default=0.0, validator=_share)
    extension_refused_share: float = field(default=0.0, validator=_share)
    extension_approver: tuple[str, ...] = ()
    assign_share: float = field(default=0.0, validator=_share)
    assigned_by: tuple[str, ...] = ()


@frozen(kw_only=True)
class ActivityPlan:
    """An activity members take part in: who, chance per member per day, hours or quantity.

    ``roles`` may include ``registered_resident`` (residents registered by events).
    ``weekdays`` (0 = Monday) restricts the days; ``party_members_only`` the people.
    ``recorder`` is a role that records it for the member (else the member does).
    """

    activity: str
    roles: tuple[str, ...]
    chance: float = field(validator=_share)
    hours: tuple[float, float] | None = field(default=None, validator=_span)
    quantity: tuple[int, int] | None = field(default=None, validator=_span)
    weekdays: tuple[int, ...] = ()
    party_members_only: bool = False
    recorder: str | None = None


@frozen(kw_only=True)
class RewardPlan:
    """One reward: how popular it is, and how many activities people gather before trying for it."""

    weight: float = field(validator=_rate)
    after_activities: int | None = None


@frozen(kw_only=True)
class RedemptionPlan:
    """Members spend points on ``rewards``: chance per eligible member per day.

    A reward is written ``name: weight`` or ``name: {weight: 1, after_activities: 20}``.
    Members try once they have ``after_activities`` recorded activities since
    their last redemption (a dearer reward may ask for more), choosing among the
    rewards within reach by weight.  The generator counts activities, it never
    computes points, so some attempts still fail for want of points (as in life).
    """

    rewards: Mapping[str, RewardPlan]
    chance: float = field(validator=_share)
    after_activities: int = 3

    def within_reach(self, activities: int) -> dict[str, float]:
        """The rewards someone with ``activities`` activities would try for, by weight."""
        return {name: reward.weight for name, reward in self.rewards.items()
                if activities >= (reward.after_activities or self.after_activities)}


@frozen(kw_only=True)
class PopulationPlan:
    """Residents registered and moving, recorded by ``registrars`` (roles)."""

    registrars: tuple[str, ...]
    initial: int = 100
    per_day: float = field(default=1.0, validator=_rate)
    moves_per_day: float = field(default=0.2, validator=_rate)
    floating_share: float = field(default=0.2, validator=_share)
    key_person_share: float = field(default=0.01, validator=_share)
    party_share: float = field(default=0.08, validator=_share)
    special_groups: Mapping[str, float] = field(factory=dict)


@frozen(kw_only=True)
class TaskPlan:
    """A kind of task (as the ruleset's ``tasks`` section names it): who assigns it, how often, how it is done.

    Every holder of ``by`` (a role) assigns one at their own node with chance
    ``per_month / 21`` each working day (about ``per_month`` a month), to the
    roles ``to`` at that node or below (who exactly is the tasks plugin's rule,
    ``gridcore_tasks.assignees``).  Each assignee does their part with chance
    ``done`` times their diligence, ``hours`` after the assignment (a less
    diligent one nearer the top; past the ruleset's ``within`` it is late),
    finding ``found`` things.
    """

    kind: str
    by: str
    to: tuple[str, ...]
    per_month: float = field(validator=_rate)
    done: float = field(default=0.9, validator=_share)
    hours: tuple[float, float] = field(default=(4.0, 120.0), validator=_span)
    found: tuple[int, int] = field(default=(0, 3), validator=_span)
    title: str = ""


@frozen(kw_only=True)
class HouseholdPlan:
    """Households (户) on the roster: home visits by those who look after them, moves, splits.

    Each month, each member looking after households (the roster's ``care``,
    包联户) makes the whole round of them with chance ``round`` times their
    diligence; otherwise they visit each with chance ``partial``.  A visit falls
    on a working day of the month, from the day the round is planned on.
    Households move in (``move_in_per_day``, 1 to 5 people, a share
    ``floating`` of them renting), move out and split in two
    (``move_out_per_day``, ``split_per_day``, in the whole community), recorded
    by the nearest holder of ``registrars`` up from the cell.
    """

    registrars: tuple[str, ...]
    round: float = field(default=0.9, validator=_share)
    partial: float = field(default=0.7, validator=_share)
    move_in_per_day: float = field(default=0.0, validator=_rate)
    move_out_per_day: float = field(default=0.0, validator=_rate)
    split_per_day: float = field(default=0.0, validator=_rate)
    floating: float = field(default=0.1, validator=_share)


@frozen(kw_only=True)
class MistakePlan:
    """Events that are wrong on purpose, so refusals can be seen: shares of attempts."""

    early_redemption: float = field(default=0.0, validator=_share)
    outsider_rating: float = field(default=0.0, validator=_share)


@frozen(kw_only=True)
class DemoPlan:
    """How ``gridcore demo`` runs this community when not told otherwise.

    ``days`` and ``start`` are its defaults (a district's week instead of a
    community's quarter: fewer days, starting on a Monday so the week is
    whole and rated); ``rollups`` names levels whose nodes the demo rolls up
    (a street's communities side by side, ``gridcore rollup``); ``variants``
    names ruleset files beside the community's own (a community's variant of
    a district's rules), each put in force with it for the subtree its
    ``applies to`` line names.
    """

    days: int | None = field(default=None, validator=attrs.validators.optional(attrs.validators.ge(1)))
    start: date | None = None
    rollups: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()


@frozen(kw_only=True)
class RulesetPlan:
    """A ruleset put in force during the run (``rulesets:``, 规则集): from midnight of ``effective`` (生效日期)
    in the community's zone, the ruleset file ``file`` (文件; relative to the scenario file) for the subtree
    its ``applies to`` line names, else the whole tree, as ``gridcore use --effective`` puts one in force.
    ``gridcore simulate`` reads its ladder from then; ``gridcore demo`` also judges the events under it."""

    effective: date
    file: str


@frozen(kw_only=True)
class Scenario:
    """Everything the generator needs about a community's daily life (rates, names, roles).

    ``diligence`` is the range each staff member's diligence is drawn from
    (once per seed): it scales how much of their zone they patrol, how fast
    and how well they handle cases and how often they need the level above,
    so cells differ by how well they are looked after, not by how many staff
    they have.
    """

    channels: Mapping[str, float]
    handling: HandlingPlan
    patrols: tuple[PatrolPlan, ...] = ()
    incidents: tuple[IncidentPlan, ...] = ()
    activities: tuple[ActivityPlan, ...] = ()
    redemptions: RedemptionPlan | None = None
    population: PopulationPlan | None = None
    mistakes: MistakePlan = MistakePlan()
    #: activities the ruleset prices as deductions (扣分), recorded by ``recorder`` for a member
    deductions: tuple[ActivityPlan, ...] = ()
    tasks: tuple[TaskPlan, ...] = ()
    households: HouseholdPlan | None = None
    workday_start: time = time(8, 30)
    workday_end: time = time(17, 30)
    diligence: tuple[float, float] = field(default=(1.0, 1.0), validator=_diligence)
    #: the demo's defaults for this community (days, start, roll-ups)
    demo: DemoPlan = DemoPlan()
    #: rulesets put in force during the run, each from its day (a policy change inside a simulated quarter)
    rulesets: tuple[RulesetPlan, ...] = ()


def _converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True)

    def number(value: Any, _: type) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"expected a number, got {value!r} (应为数字)")
        return float(value)

    def whole(value: Any, _: type) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"expected a whole number, got {value!r} (应为整数)")
        return value

    def text(value: Any, _: type) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise TypeError(f"expected text, got {value!r} (应为文字)")
        return str(value)

    def clock(value: Any, _: type) -> time:
        if isinstance(value, int):  # YAML reads 08:30 as sexagesimal minutes
            return time(value // 60, value % 60)
        try:
            return time.fromisoformat(str(value))
        except ValueError:
            raise ValueError(f"expected a time of day such as 08:30, got {value!r} (应为时刻，如 08:30)") from None

    def flag(value: Any, _: type) -> bool:
        if not isinstance(value, bool):
            raise TypeError(f"expected true or false, got {value!r} (应为 true 或 false)")
        return value

    conv.register_structure_hook(bool, flag)
    conv.register_structure_hook(float, number)
    conv.register_structure_hook(int, whole)
    conv.register_structure_hook(str, text)
    conv.register_structure_hook(time, clock)

    def day(value: Any, _: type) -> date:
        if isinstance(value, date):  # YAML reads 2025-03-03 as a date already
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise ValueError(f"expected a date such as 2025-03-03, got {value!r} (应为日期，如 2025-03-03)") from None

    conv.register_structure_hook(date, day)
    return conv


_CONVERTER = _converter()


def _named(items: Any, key: str, where: str) -> list[dict[str, Any]]:
    """Scenario files key plans by name (``leaking_pipe: {...}``); add the name inside."""
    if items is None:
        return []
    if not isinstance(items, Mapping):
        raise ScenarioError(f"{where}: expected a mapping of names to settings (应为 名称: 设置 的映射)")
    out = []
    for name, body in items.items():
        if not isinstance(body, Mapping):
            raise ScenarioError(f"{where}.{name}: expected a mapping of settings, got {shown(body)} (应为设置的映射)")
        out.append({key: str(name), **body})
    return out


def shown(value: Any) -> str:
    """A value for a message, cut short (see ``gridcore_app.rosterio.shown``)."""
    from .rosterio import shown as cut

    return cut(value)


def _say(exc: BaseException, type_: Any) -> str:
    if isinstance(exc, KeyError):
        return "required setting missing (缺少必填设置)"
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        return f"unknown setting(s) {', '.join(sorted(exc.extra_fields))} (未知设置)"
    said = str(exc) or type(exc).__name__
    # cattrs' and Python's own wording (a list of the wrong length, a number where a list goes)
    return said if has_chinese(said) else f"{said} (值的形式不对)"


#: A cattrs line "<message> (<Chinese>) @ <path>": its Chinese is moved to the end.
_CHINESE_THEN_PATH = re.compile(r"^(.*) (\([^()]*[\u4e00-\u9fff][^()]*\)) @ (\S+)$")

_KEYS = {"patrols": "role", "incidents": "category", "activities": "activity", "deductions": "activity",
         "tasks": "kind"}


def parse_scenario(doc: Mapping[str, Any], source: str = "scenario") -> Scenario:
    """Build a ``Scenario`` from a parsed YAML document; ``ScenarioError`` names the bad path."""
    if not isinstance(doc, Mapping):
        raise ScenarioError(f"{source}: expected a mapping at the top (文件顶层应为映射)")
    body = dict(doc)
    if _RULESETS_ZH in body:
        if "rulesets" in body:
            raise ScenarioError(f"{source}: rulesets given twice, as rulesets and as {_RULESETS_ZH} (规则集写了两次)")
        body["rulesets"] = body.pop(_RULESETS_ZH)
    if "rulesets" in body:
        body["rulesets"] = _ruleset_entries(body["rulesets"], source)
    body["patrols"] = _named(body.get("patrols"), "role", f"{source}: patrols")
    body["incidents"] = _named(body.get("incidents"), "category", f"{source}: incidents")
    body["activities"] = _named(body.get("activities"), "activity", f"{source}: activities")
    body["deductions"] = _named(body.get("deductions"), "activity", f"{source}: deductions")
    body["tasks"] = _named(body.get("tasks"), "kind", f"{source}: tasks")
    redemptions = body.get("redemptions")
    if isinstance(redemptions, Mapping) and isinstance(redemptions.get("rewards"), Mapping):
        # ``大米: 1`` is short for ``大米: {weight: 1}``.
        rewards = {name: {"weight": v} if isinstance(v, (int, float)) and not isinstance(v, bool) else v
                   for name, v in redemptions["rewards"].items()}
        body["redemptions"] = {**redemptions, "rewards": rewards}
    try:
        return _CONVERTER.structure(body, Scenario)
    except cattrs.BaseValidationError as exc:
        names = {key: [str(item[_KEYS[key]]) for item in body[key]] for key in _KEYS}

        def readable(match: re.Match[str]) -> str:
            return f"{match.group(1)}.{names[match.group(1)][int(match.group(2))]}"

        def chinese_last(line: str) -> str:
            # "chance must be ... (应为...) @ activities.扫地" -> "... @ activities.扫地 (应为...)"
            return _CHINESE_THEN_PATH.sub(r"\1 @ \3 \2", line)

        problems = "; ".join(
            chinese_last(re.sub(r"(patrols|incidents|activities|deductions|tasks)\[(\d+)\]", readable, line)
                         .replace("$.", ""))
            for line in cattrs.transform_error(exc, path="$", format_exception=_say)
        )
        raise ScenarioError(f"{source}: {problems}") from None
    except (TypeError, ValueError) as exc:
        raise ScenarioError(f"{source}: {exc}") from None


#: The Chinese spellings of ``rulesets:`` and its entries' settings.
_RULESETS_ZH = "规则集"
_RULESET_KEYS_ZH = {"生效日期": "effective", "文件": "file"}


def _ruleset_entries(items: Any, source: str) -> Any:
    """``rulesets:`` entries with their Chinese settings (生效日期, 文件) written as ``effective`` and ``file``."""
    if not isinstance(items, list):
        raise ScenarioError(f"{source}: rulesets: expected a list of entries such as "
                            "{effective: 2025-02-01, file: tight.rules} (规则集应为列表，每项写生效日期和文件)")
    out = []
    for number, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise ScenarioError(f"{source}: rulesets[{number}]: expected a mapping such as "
                                f"{{effective: 2025-02-01, file: tight.rules}}, got {shown(item)} "
                                "(每项应写生效日期和文件，如 {生效日期: 2025-02-01, 文件: tight.rules})")
        out.append({_RULESET_KEYS_ZH.get(str(key), key): value for key, value in item.items()})
    return out


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario YAML file (``rulesets/<community>/scenario.yaml``)."""
    from .rosterio import load_yaml

    where = Path(path)
    try:
        doc = load_yaml(where.read_text(encoding="utf-8"), str(where))
    except OSError as exc:
        raise ScenarioError(f"cannot read scenario {where}: {exc.strerror} (无法读取场景文件 {where})") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{where}: not UTF-8 text ({exc.reason}) (不是 UTF-8 文本)") from None
    except GridcoreError as exc:
        raise ScenarioError(f"not valid YAML: {exc} (场景文件不是有效的 YAML)") from None
    scenario = parse_scenario(doc, str(where))
    if not scenario.rulesets:
        return scenario
    # (a ruleset file is named relative to the scenario file)
    found = []
    for number, plan in enumerate(scenario.rulesets):
        file = where.parent / plan.file
        if not file.is_file():
            raise ScenarioError(f"{where}: rulesets[{number}].file: no ruleset file {plan.file!r} in {where.parent} "
                                "(a path relative to the scenario file) (找不到规则集文件：路径相对于场景文件)")
        found.append(attrs.evolve(plan, file=str(file)))
    return attrs.evolve(scenario, rulesets=tuple(found))


#: The fields of ``HandlingPlan`` that name roles (``with_role_ids`` writes them as ids, ``scenario_problems``
#: checks them): the one list of them.
_HANDLING_ROLES = ("handlers", "verifier", "escalated_handlers", "severe_handlers", "climbed_handlers",
                   "consult_with", "extension_approver", "assigned_by")


def with_role_ids(scenario: Scenario, community: Community) -> Scenario:
    """``scenario`` with every role it names by its Chinese name (街道网格专干, 网格长) written as the
    role's id (street_officer, grid_leader), as the community's roster has them, built-in or its own:
    the rules language takes either spelling, and so does a scenario.  A name that is no role is left
    as written (``scenario_problems`` says so)."""
    by_zh = {zh: ident for ident, zh in community.roles.items() if zh not in community.roles}

    def one(name: str) -> str:
        return by_zh.get(name, name)

    def many(names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(one(n) for n in names)

    ours = scenario.handling
    named: dict[str, Any] = {name: many(getattr(ours, name)) for name in _HANDLING_ROLES}
    handling = attrs.evolve(ours, **named)
    return attrs.evolve(
        scenario, handling=handling,
        patrols=tuple(attrs.evolve(p, role=one(p.role)) for p in scenario.patrols),
        incidents=tuple(attrs.evolve(i, handlers=many(i.handlers)) for i in scenario.incidents),
        activities=tuple(attrs.evolve(a, roles=many(a.roles), recorder=a.recorder and one(a.recorder))
                         for a in scenario.activities),
        deductions=tuple(attrs.evolve(a, roles=many(a.roles), recorder=a.recorder and one(a.recorder))
                         for a in scenario.deductions),
        tasks=tuple(attrs.evolve(k, by=one(k.by), to=many(k.to)) for k in scenario.tasks),
        households=scenario.households and attrs.evolve(scenario.households,
                                                        registrars=many(scenario.households.registrars)),
        population=scenario.population and attrs.evolve(scenario.population,
                                                        registrars=many(scenario.population.registrars)))


def scenario_problems(scenario: Scenario, community: Community) -> list[str]:
    """Why a scenario does not fit a community: unknown roles or departments.  A role may be
    named by its id or its Chinese name (``with_role_ids``)."""
    roles = set(community.roles) | set(community.roles.values())
    problems = []

    def role(name: str, where: str) -> None:
        if name not in roles and name != REGISTERED:
            problems.append(f"{where}: unknown role {name!r} (未知角色)")

    for plan in scenario.patrols:
        role(plan.role, f"patrols.{plan.role}")
    handling = scenario.handling
    for name in (n for f in _HANDLING_ROLES for n in getattr(handling, f)):
        role(name, "handling")
    for level in scenario.demo.rollups:
        if level not in community.hierarchy.levels:
            problems.append(f"demo.rollups: unknown level {level!r} "
                            f"(expected one of {', '.join(community.hierarchy.levels)}) (未知层级)")
    if handling.severe_level is not None and handling.severe_level not in community.hierarchy.levels:
        problems.append(f"handling.severe_level: unknown level {handling.severe_level!r} "
                        f"(expected one of {', '.join(community.hierarchy.levels)}) (未知层级)")
    for incident in scenario.incidents:
        for name in incident.handlers:
            role(name, f"incidents.{incident.category}.handlers")
        if incident.whistle is not None and incident.whistle not in community.departments:
            problems.append(f"incidents.{incident.category}.whistle: unknown department {incident.whistle!r} (未知部门)")
    for key, plans in (("activities", scenario.activities), ("deductions", scenario.deductions)):
        for activity in plans:
            for name in activity.roles:
                role(name, f"{key}.{activity.activity}.roles")
            if activity.recorder is not None:
                role(activity.recorder, f"{key}.{activity.activity}.recorder")
    for task in scenario.tasks:
        for name in (task.by, *task.to):
            role(name, f"tasks.{task.kind}")
    if scenario.households is not None:
        for name in scenario.households.registrars:
            role(name, "households.registrars")
    if scenario.population is not None:
        for name in scenario.population.registrars:
            role(name, "population.registrars")
    if not scenario.channels or any(w < 0 for w in scenario.channels.values()):
        problems.append("channels: give at least one channel with a non-negative weight (channels：至少给出一个权重非负的渠道)")
    return problems
