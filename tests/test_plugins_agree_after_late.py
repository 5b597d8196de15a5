"""After a late event, every plugin's state is that of the same events recorded in time order.

A stored event a late (earlier-dated) event makes no longer hold stays in the
log, kept in its case's timeline as ignored.  That holds for the escalations,
reopenings and passes the escalation plugin derived (``escalation ignored``,
``reopen ignored``, ``assignment ignored``) as for the steps people typed in
(``step ignored``): the escalation plugin says so through
``gridcore_validate_stored``, so no plugin applies it (each gets
``gridcore_on_event_ignored``).  The assessment plugin, which reads slices of
the log for past periods, leaves those events out there too.  Compared with
the same events recorded in time order: what a plugin that follows every event
was given, the points accounts, the assessment's open incidents (now and at
past ends, read from the log) and where the cases stand.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loopkit import COMMUNITY, T0, at, loop_event
from test_escalation_late_ids import RULES, final

import gridcore_points as points
from gridcore import Engine, Event, FixedClock, get_plugin_manager, hookimpl
from gridcore_assessment import logindex
from gridcore_escalation.events import (
    IncidentAccepted,
    IncidentAssigned,
    IncidentReported,
    IncidentResolved,
    IncidentVerified,
)

#: late_ids' ruleset, with points for a case's reporter and resolver (paid when it is verified and closed)
POINTS_RULES = RULES + "\npoints:\n  confirmed report: 10 points\n  resolved well: 3 points\n"
MEMBERS = ("worker1", "unitlead", "leader1")


class Witness:
    """Follows every event: what each was given through ``gridcore_on_event``, by id (the state of a
    plugin that trusts what it is given), kept in checkpoints."""

    def __init__(self) -> None:
        self.applied: dict[str, tuple[str, datetime, str, str]] = {}

    @hookimpl
    def gridcore_on_open(self) -> None:
        self.applied.clear()  # (a rebuild or a rewind: the events are given again)

    @hookimpl
    def gridcore_on_event(self, event: Event) -> None:
        self.applied[event.id] = (event.kind, event.time, event.actor, str(getattr(event, "incident", "")))

    @hookimpl
    def gridcore_save_state(self) -> dict[str, Any]:
        return {"applied": [[ident, kind, time.isoformat(), actor, incident]
                            for ident, (kind, time, actor, incident) in self.applied.items()]}

    @hookimpl
    def gridcore_restore_state(self, document: dict[str, Any]) -> None:
        self.applied = {ident: (kind, datetime.fromisoformat(time), actor, incident)
                        for ident, kind, time, actor, incident in document["applied"]}

    def seen(self) -> list[tuple[str, datetime, str, str]]:
        """What was applied, without ids (a derived event's number may differ from time order's)."""
        return sorted(self.applied.values())


def step(cls: type, minutes: int, actor: str, **kw: Any) -> Any:
    return loop_event(cls, minutes / 60, actor, actor_in_id=True, **kw)


def report(incident: str = "I1", hour: float = 0, node: str = "u11") -> IncidentReported:
    return IncidentReported(id=f"{incident}-r", time=at(hour), actor="worker1", node=node, incident=incident,
                            category="leaking_pipe", severity=3)


def _open(folder: Path, name: str, witness: Witness) -> Engine:
    rules = folder / "agree.rules"
    if not rules.exists():
        rules.write_text(POINTS_RULES, encoding="utf-8")
    return Engine.open(store=str(folder / name), community=COMMUNITY, ruleset=str(rules),
                       effective=T0 - timedelta(days=1), clock=FixedClock(T0),
                       plugins=get_plugin_manager(extra=[witness]))


def _states(engine: Engine, witness: Witness, now: datetime, ends: Iterable[datetime]) -> tuple[Any, ...]:
    """Every plugin's state that time order decides: what a follower was given, the points accounts, the
    incidents the assessment holds open now and at each of ``ends`` (past ones read from the log), and
    where the cases stand (ids of derived events left out)."""
    accounts = {m: ([(e.kind, e.amount) for e in points.entries(engine, m)], points.balance(engine, m))
                for m in MEMBERS}
    assessment = engine.state("assessment")
    opened = [logindex.open_serious(engine, end, 0) for end in ends]
    return (witness.seen(), accounts, sorted(assessment.unresolved), sorted(assessment.resolved), opened,
            final(engine, now, ids=False))


def _compare(batches: list[list[Event]], ends: list[datetime], *, drawn: bool = False) -> tuple[Any, ...]:
    """Record ``batches`` (a checkpoint after the first); the states live, after a rebuild, after opening
    again (the checkpoint and the rest) and of the same events recorded in time order must agree (``drawn``:
    hypothesis drew them, and time order may take an event refused when it came: then the states agree with
    the events the store took, in time order)."""
    arrival = [e for batch in batches for e in batch]
    now = max(e.time for e in arrival) + timedelta(hours=1)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        witness = Witness()
        refused: set[str] = set()
        with _open(folder, "late", witness) as engine:
            for n, batch in enumerate(batches):
                refused |= {r.event_id for r in engine.record_many(batch).refused}
                if n == 0:
                    engine.checkpoint()
            engine.tick(now)
            live = _states(engine, witness, now, ends)
            engine.rebuild()
            assert _states(engine, witness, now, ends) == live
        witness = Witness()
        with _open(folder, "late", witness) as again:
            assert _states(again, witness, now, ends) == live
        witness = Witness()
        with _open(folder, "in-order", witness) as in_order:
            in_order_refused = {r.event_id for r in in_order.record_many(arrival).refused}  # (canonical order)
            in_order.tick(now)
            # (time order refuses the steps kept ignored; an event refused on what the log held when it came
            # stays refused: docs/escalation.md)
            if refused <= in_order_refused:
                assert _states(in_order, witness, now, ends) == live
                return live
            assert drawn, (refused, in_order_refused)
        # time order takes an event refused when it came: what counts is what the events the store took give
        # in time order
        witness = Witness()
        with _open(folder, "taken", witness) as taken:
            taken.record_many([e for e in arrival if e.id not in refused])  # (canonical order)
            taken.tick(now)
            assert _states(taken, witness, now, ends) == live
    return live


def test_an_ignored_reopening_is_applied_by_no_plugin(tmp_path: Path) -> None:
    """leader1's unsatisfied verification at 14:00 reopens I1 (``reopen:I1:1``, derived); a satisfied
    verification at 12:00 is typed in afterwards: in time order the case is verified at 12:00, the one at
    14:00 is refused and nothing reopens it.  The stored reopening is ignored by every plugin: the
    assessment does not hold I1 open (now, nor at 15:00 and 16:00, before I0's report at 19:00: read from the
    log), a follower was never given it."""
    steps = [report(), step(IncidentAccepted, 30, "worker1"), step(IncidentResolved, 60, "worker1"),
             step(IncidentVerified, 300, "leader1", satisfaction=1), report("I0", 10, node="u21")]
    late = step(IncidentVerified, 180, "leader1", satisfaction=5)
    states = _compare([steps, [late]], [at(6), at(7), at(11)])
    seen, _, unresolved, resolved, opened, _ = states
    assert "incident_reopened" not in {kind for kind, *_ in seen}
    assert unresolved == ["I0"] and resolved == ["I1"]
    # (before 19:00 read from the log, after it from the state)
    assert opened == [{}, {}, {"u21": ["I0"]}]


def test_an_ignored_pass_is_applied_by_no_plugin(tmp_path: Path) -> None:
    """worker1 takes I1 on at 09:30: their 8 hours pass it to the grid leader at 17:00 (``pass:I1:1``); an
    assignment to worker1 at 09:12 typed in afterwards restarts their clock: the stored pass is ignored
    (its handler's limit no longer ran out then) and no plugin applies it; the pass at 17:12 counts."""
    steps = [report(), step(IncidentAccepted, 30, "worker1"), report("I0", 10, node="u21")]
    late = step(IncidentAssigned, 12, "leader1", handler="worker1")
    seen = _compare([steps, [late]], [at(9)])[0]
    assert [(time, actor) for kind, time, actor, _ in seen if kind == "incident_assigned"] == [
        (at(0.2), "leader1"), (at(8.2), "system")]


@settings(max_examples=int(os.environ.get("GRIDCORE_TEST_EXAMPLES", "25")), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    st.integers(60, 600),  # the first verification, minutes after 09:00 (resolved at 09:20)
    st.integers(1, 5),  # its satisfaction
    st.one_of(st.none(), st.integers(60, 600)),  # another verification
    st.integers(1, 5),
    st.one_of(st.none(), st.integers(1, 120)),  # an assignment, minutes after 09:00
    st.booleans(),  # the case is taken on (by worker1, at 09:10) or not (a breach escalates it)
    st.data(),
)
def test_every_plugin_after_late_events_in_any_batches_equals_time_order(
        first: int, score: int, second: int | None, again: int, assigned: int | None, taken: bool,
        data: st.DataObject) -> None:
    """Verifications (unsatisfied ones reopen the case), an assignment, an acceptance or none (its limit
    runs out: escalated), in any order and batches, with another case's report and perhaps a second report of
    I1 (before or after its first, refused in time order, kept ignored when stored first): what a follower was given,
    the points accounts, the assessment's open incidents at each hour and where the cases stand equal those
    of the same events recorded in time order (hypothesis)."""
    steps: list[Event] = [step(IncidentResolved, 20, "worker1"),
                          step(IncidentVerified, first, "leader1", satisfaction=score)]
    if taken:
        steps.insert(0, step(IncidentAccepted, 10, "worker1"))
    if second is not None and second != first:
        steps.append(step(IncidentVerified, second, "leader1", satisfaction=again))
    if assigned is not None:
        steps.append(step(IncidentAssigned, assigned, "leader1", handler="worker1"))
    others = [report("I0", 0.5, node="u21")]
    again = data.draw(st.one_of(st.none(), st.integers(-120, 120)))  # I1 reported again, minutes after 09:00
    if again is not None:
        others.append(attrs.evolve(report(), id="I1-again", time=at(again / 60)))
    first_report = report()
    arrival = list(data.draw(st.permutations([*steps, *others])))
    arrival.insert(data.draw(st.integers(0, min(arrival.index(s) for s in steps))), first_report)
    cuts = sorted(data.draw(st.sets(st.integers(1, len(arrival) - 1), max_size=len(arrival) - 1)))
    batches = [arrival[a:b] for a, b in zip([0, *cuts], [*cuts, len(arrival)])]
    _compare(batches, [at(h) for h in range(1, 12)], drawn=True)


def test_the_command_line_names_each_stored_escalation_a_late_acceptance_made_ignored(tmp_path: Path) -> None:
    """I1, reported at 09:00, is not accepted within 2 hours: escalated at 11:00 (esc:I1:1) and again at 15:00;
    worker1's acceptance at 09:12 typed in afterwards says which stored escalations it made ignored and why,
    in English and Chinese, with the reasons the escalation plugin gave every plugin
    (``gridcore_on_event_ignored``)."""
    from click.testing import CliRunner
    from test_escalation_late import DATA, RULES

    from gridcore_app.cli import main_group

    store = str(tmp_path / "store")

    def run(*args: str) -> str:
        done = CliRunner().invoke(main_group, list(args), catch_exceptions=False)
        assert done.exit_code == 0, done.output
        return done.stdout

    run("init", "--community", str(DATA / "community"), "--ruleset", str(RULES), "--effective",
        "2025-03-01T00:00+08:00", "--store", store)
    base = ("--category", "leaking_pipe", "--actor", "worker1", "--store", store)
    run("incidents", "report", "I1", "--node", "u11", *base, "--now", "2025-03-03T09:00+08:00")
    run("incidents", "report", "I0", "--node", "u21", *base, "--now", "2025-03-03T19:00+08:00")
    said = run("incidents", "accept", "I1", "--actor", "worker1", "--event-id", "I1-late", "--store", store,
               "--now", "2025-03-03T09:12+08:00")
    assert said == (
        "recorded I1-late: accepted, stored escalation esc:I1:1 (derived at 11:00) now ignored because of I1-late: "
        "accepted at 09:12, within the limit (recorded late) (因补录 I1-late，系统于 11:00 派生的提级 esc:I1:1 现已忽略："
        "09:12 已受理，未超时限，补录), stored escalation esc:I1:2 (derived at 15:00) now ignored because of I1-late: "
        "accepted at 09:12, within the limit (recorded late) (因补录 I1-late，系统于 15:00 派生的提级 esc:I1:2 现已忽略："
        "09:12 已受理，未超时限，补录); incident I1 is accepted at unit u11 (已记录受理；事件 I1 已受理，位于最小单元 u11)\n")


class Follower:
    """Follows every event, with no state in checkpoints: replayed in full beside a restored checkpoint."""

    def __init__(self) -> None:
        self.applied: list[str] = []

    @hookimpl
    def gridcore_on_open(self) -> None:
        self.applied.clear()

    @hookimpl
    def gridcore_on_event(self, event: Event) -> None:
        self.applied.append(event.id)


def test_a_plugin_replayed_in_full_beside_a_checkpoint_is_given_no_ignored_event(tmp_path: Path) -> None:
    """The reopening case of the first test, a checkpoint after the late verification: a plugin whose state is
    not in checkpoints is replayed the stored events up to it in full, and is given neither the verification
    at 14:00 nor the reopening it brought (the checkpoint keeps which stored events were ignored)."""
    steps = [report(), step(IncidentAccepted, 30, "worker1"), step(IncidentResolved, 60, "worker1"),
             step(IncidentVerified, 300, "leader1", satisfaction=1), report("I0", 10, node="u21")]
    late = step(IncidentVerified, 180, "leader1", satisfaction=5)
    rules = tmp_path / "agree.rules"
    rules.write_text(POINTS_RULES, encoding="utf-8")

    def opened(follower: Follower) -> Engine:
        return Engine.open(store=str(tmp_path / "late"), community=COMMUNITY, ruleset=str(rules),
                           effective=T0 - timedelta(days=1), clock=FixedClock(T0),
                           plugins=get_plugin_manager(extra=[follower]))

    with opened(Follower()) as engine:
        engine.record_many(steps)
        engine.record_many([late])
        ignored = {steps[3].id, "reopen:I1:1"}
        assert all(engine.ignored_stored(ident) for ident in ignored)
        engine.checkpoint()
        stored = [e.id for e in engine.events()]
    follower = Follower()
    with opened(follower) as again:
        assert again.open_report.restored_from == again.position and again.open_report.replayed_in_full
        assert sorted(follower.applied) == sorted(ident for ident in stored if ident not in ignored)
