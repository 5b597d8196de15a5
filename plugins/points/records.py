"""What the points state holds, and the records its rules read about people and places.

``Records`` is the base of ``PointsState`` (state.py): the accounts, the
history of entries (history.py: in the store but for its newest part), and
everything still open (claims, unsettled incidents, counters of the current
periods), with the queries booking and checks share.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Self

import attrs

from gridcore.events import ActivityRecorded, Event
from gridcore.parts import PartLoader, PartsLoader, stored_part, stored_parts

from .accounts import Accounts
from .facts import Facts, MemberRecord, NodeRecord
from .history import COLLECTION, History
from .ledger import IDLE, NEVER_KEY, Account, Calendar, Pays, Record, pays, utc_key
from .policy import ActivityItem, PointsPolicy
from .sealed import (
    DORMANT,
    DORMANT_WHAT,
    SETTLED,
    SETTLED_WHAT,
    TASKS,
    TASKS_DONE_WHAT,
    TASKS_MISSED_WHAT,
    SealedIds,
    SealedMap,
)
from .section import SECTION
from .tracking import Claims, IncidentTrack, PeriodCounter

if TYPE_CHECKING:
    from gridcore import Engine


class Records:
    """The data of one engine's points state and the queries over it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.tz = engine.community.tz
        self.calendar = Calendar(self.tz, engine.local_time, engine.local_date, engine.on_local_clock,
                                 engine.on_local_clock_until)
        #: every entry booked, in booking order (mostly in the store; see history.py).
        self.history = History(self.load_part, many=self.load_parts)
        #: by member (those restored from a checkpoint are built when first used: accounts.py)
        self.accounts = Accounts(self.history)
        #: members whose account was handed out for booking since the last checkpoint (checkpoint.py)
        self.dirty: set[str] = set()
        #: each account's row as the last checkpoint dumped it (or the restore read it), the keys of the
        #: rules its fresh lots name and of every rule it names, its sealed parts of lots and where its lots
        #: text holds its fresh lots' rows, as untracked strings and tuples (checkpoint.py, ``Saved``)
        self.saved_accounts: dict[str, tuple[Any, ...]] = {}
        #: the rules the saved accounts name, by key: the checkpoint restored's and those dumped since
        #: (checkpoint.py)
        self.saved_rules: dict[str, Any] = {}
        #: sealed parts of accounts' lots dumped and not yet stored, by key (checkpoint.py, ``_put_lots``): a few
        #: hundred during a save, none after one; those of a save the store failed, until the next stores them
        self.lots_waiting: dict[str, dict[str, Any]] = {}
        self.claims = Claims()
        #: incidents reported and not yet settled (paid or flagged when first closed).
        self.incidents: dict[str, IncidentTrack] = {}
        #: the ids of the incidents settled (in the store but for the newest: sealed.py)
        self.settled = SealedIds(SETTLED, SETTLED_WHAT, *self.sealed_loaders(SETTLED))
        #: the tracks of repeat reports that joined an incident (``IncidentTrack.dump``), by id: never settled
        #: on their own, in the store but for the newest (``track`` takes one back into ``incidents``)
        self.dormant = SealedMap(DORMANT, DORMANT_WHAT, *self.sealed_loaders(DORMANT))
        self.party: dict[str, bool] = {}
        self.names: dict[str, str] = {}
        #: registered residents' homes (the engine's population, kept as the events arrive).
        self.homes: dict[str, str] = {}
        self.stock_used: dict[str, int] = {}
        #: rewards redeemed per (member, reward, period kind) in the current period.
        self.redeemed_by = PeriodCounter()
        #: recognition points awarded per (budget node, period kind) in the current period.
        self.recognition_spent = PeriodCounter()
        self.last_time: datetime | None = None
        #: (time, id) of the last event applied.
        self.last_order: tuple[datetime, str] | None = None
        #: redemptions a rebuild found no longer covered (booked as flags, not spent).
        self.uncovered = 0
        #: A scratch copy judges one late event and must not read the store's future.
        self.is_scratch = False
        #: tasks (the tasks plugin's) by id -> their kind; (task, member) parts done, and missed
        #: (``sealed.task_part``: in the store but for the newest)
        self.task_kinds: dict[str, str] = {}
        self.tasks_done = SealedIds(TASKS, TASKS_DONE_WHAT, *self.sealed_loaders(TASKS))
        self.tasks_missed = SealedIds(TASKS, TASKS_MISSED_WHAT, *self.sealed_loaders(TASKS))
        #: (moment as a ``utc_key``, member) of accounts to look at then (``Account.next_due``): a heap;
        #: ``sweep`` advances them as events pass those moments, so what expires is booked whoever asks
        self._due: list[tuple[timedelta, str]] = []
        #: the moment each member's account is queued for (earlier entries of the heap are stale)
        self._queued: dict[str, timedelta] = {}
        #: members whose account was handed out for booking since the last ``queue_touched``, with it
        self._touched: dict[str, Account] = {}
        #: True when ``_due`` is yet to be worked out for every account (``queue_later``)
        self._queue_stale = False
        #: ``utc_key`` of the time of the event being applied (``sweep`` sets it)
        self.now_key: timedelta | None = None
        self._items: tuple[PointsPolicy | None, dict[str, list[ActivityItem]]] = (None, {})
        #: the time, node and answer of the last ``policy_at``
        self._policy: tuple[datetime | None, str | None, PointsPolicy | None] = (None, None, None)
        self._members: dict[str, tuple[set[str], MemberRecord]] = {}
        self._nodes: dict[str, NodeRecord] = {}
        #: ``in_cells`` answers for roster members, by (member, node), of one community (a grown roster,
        #: which may give a member a role at a node it had none, is a new community: asked again)
        self._cells: tuple[object, dict[tuple[str, str], bool]] = (None, {})

    def scratch(self) -> Self:
        """A copy of the open part (no history) to judge a late event on; this state is untouched."""
        copied = type(self)(self.engine)
        copied.is_scratch = True
        copied.history = History()
        copied.accounts = self.accounts.copy_to(copied.history)
        copied.claims = self.claims.copy()
        copied.incidents = {ident: attrs.evolve(track, ratings=list(track.ratings))
                            for ident, track in self.incidents.items()}
        copied.settled = self.settled.copy()
        copied.dormant = self.dormant.copy()
        copied.party = dict(self.party)
        copied.names = dict(self.names)
        copied.homes = dict(self.homes)
        copied.stock_used = dict(self.stock_used)
        copied.redeemed_by = self.redeemed_by.copy()
        copied.recognition_spent = self.recognition_spent.copy()
        copied.task_kinds = dict(self.task_kinds)
        copied.tasks_done, copied.tasks_missed = self.tasks_done.copy(), self.tasks_missed.copy()
        copied._due, copied._queued = list(self._due), dict(self._queued)
        copied._queue_stale = self._queue_stale
        copied.last_time, copied.last_order, copied.uncovered = self.last_time, self.last_order, self.uncovered
        return copied

    def check_event(self, event: Event) -> list[str]:
        """Reasons to refuse ``event`` (the ``gridcore_validate_event`` of the state)."""
        raise NotImplementedError

    def apply(self, event: Event) -> None:
        """Book ``event`` (the ``gridcore_on_event`` of the state)."""
        raise NotImplementedError

    # ------------------------------------------------------------ policy and facts

    def policy_at(self, when: datetime, node: str | None = None) -> PointsPolicy | None:
        """The points policy in force at ``when`` at ``node`` (the event's: the ruleset of the nearest
        subtree around it with one in force; None: the whole tree's).  None: no ruleset or no points section.

        The last answer is kept for the same time object and node (an
        activity's check and its booking ask for the same, one after the
        other) until a ruleset is put in force (``forget_policies``).
        """
        kept = self._policy
        if kept[0] is when and kept[1] == node:
            return kept[2]
        found = self.engine.policy(SECTION, at=when, node=node)
        self._policy = (when, node, found)
        return found

    def forget_policies(self) -> None:
        """Forget the policy ``policy_at`` last gave (a ruleset was put in force)."""
        self._policy = (None, None, None)

    def items_for(self, policy: PointsPolicy, activity: str) -> list[ActivityItem]:
        """``policy.items_for(activity)``, indexed once per policy."""
        indexed, index = self._items
        if indexed is not policy:
            index = {}
            for item in policy.activities:
                for name in item.names():
                    index.setdefault(name, []).append(item)
            self._items = (policy, index)
        return index.get(activity, [])

    def account(self, member: str) -> Account:
        """The member's account (created empty on first use), to book on."""
        self.dirty.add(member)
        found = self.accounts.get(member)
        if found is None:
            found = self.accounts[member] = Account.new(member, self.history)
        self._touched[member] = found
        return found

    def sweep(self, until: datetime) -> None:
        """Advance every account with something due by ``until``, and forget claims and counts time passed.

        Called with each event's time before it is applied, so an account's
        lots expire, its streak spans are judged and its cap counters of ended
        periods go whether or not its member is ever heard of again
        (``Account.next_due``: a quiet account when a lot expires or when all
        its spans and counters have ended, at most once a month): what the
        state keeps stays bounded by what is still open.  Accounts due by
        ``until`` are advanced in the order of (``next_due``, member), whatever
        moments they were queued for, so their entries stand in the history in
        the same order after a restore from a checkpoint as in a replay.
        """
        if self._queue_stale:
            self.queue_all()
        due = self._due
        now = self.now_key = utc_key(until)
        while due and due[0][0] <= now:
            when, member = heapq.heappop(due)
            if self._queued.get(member) != when:
                continue  # queued again, earlier, since
            del self._queued[member]
            account = self.accounts[member]
            # (queued before its member's own events moved it on: queued again, not advanced)
            at = account.next_due()
            if when < at <= now:
                # due by now, but later than it was queued for: advanced in its turn at ``at``, so that
                # accounts are advanced (and their entries booked) in the order of (next_due, member)
                # whatever moments they were queued for before, as after a restore (``queue_all``)
                self._queued[member] = at
                heapq.heappush(due, (at, member))
                continue
            if at <= now:
                self.dirty.add(member)
                # (``may_pay``: a span no streak in force reads is closed without the policy of its end)
                account.advance(until, self.policy_at, self.calendar, now, self.may_pay)
                at = account.next_due()
            if at != NEVER_KEY:
                self._queued[member] = at
                heapq.heappush(due, (at, member))
        # (each asked only when its first moment came: most events pass none of them)
        claims = self.claims
        if claims.due and claims.due[0] <= now:
            claims.prune(now)
        counter = self.redeemed_by
        if counter.ends and counter.ends[0][0] <= now:
            counter.prune(now)
        counter = self.recognition_spent
        if counter.ends and counter.ends[0][0] <= now:
            counter.prune(now)

    def queue(self, member: str) -> None:
        """Queue the member's account for its ``next_due`` (or earlier: it is looked at again then)."""
        if self._queue_stale:
            return  # (``queue_all`` queues it when first needed)
        self._queue_at(member, self.accounts.next_due(member), self._queued.get(member))

    def _queue_at(self, member: str, when: timedelta, queued: timedelta | None) -> None:
        """Queue the member's account for ``when`` unless it is ``NEVER_KEY`` or ``queued`` is as early."""
        if when == NEVER_KEY:
            return
        if queued is None or when < queued:
            self._queued[member] = when
            heapq.heappush(self._due, (when, member))

    def queue_touched(self) -> None:
        """Queue the accounts booked on since the last call (after each event)."""
        if self._queue_stale:
            self._touched.clear()
            return
        held = self._queued
        for member, account in self._touched.items():
            queued = held.get(member)
            advanced = account.advanced_to
            if advanced is not None:
                idle = advanced + IDLE
                if queued is not None and queued <= idle:
                    continue  # (never due before IDLE after it was advanced: queued early enough already)
            # ``account.next_due()`` and ``_queue_at`` written out (asked after an event of about every
            # other member, and queueing each new member): the latest end of what is open, or the first
            # lot's expiry if earlier, but not before ``IDLE`` after the last advance
            due = account.closing
            if due is None:
                due = account.closing = account.latest_end()
            if account.packed is None and account.expiring is None:
                lots = account.lots
                expires = lots[0].expires if lots else None
                if expires is not None:
                    known = account.lots_due_key
                    key = known[1] if known is not None and known[0] is expires else account.lots_key(expires)
                    if key < due:  # noqa: PLR1730  # (``min``, without its call)
                        due = key
            else:
                key = account.lots_key(account.lots_due())
                if key < due:  # noqa: PLR1730
                    due = key
            if due == NEVER_KEY:
                continue
            if advanced is not None and due < idle:
                due = idle
            if queued is None or due < queued:
                held[member] = due
                heapq.heappush(self._due, (due, member))
        self._touched.clear()

    def queue_all(self) -> None:
        """Queue every account afresh."""
        self._due, self._queued, self._touched = [], {}, {}
        self._queue_stale = False
        for member in self.accounts:
            self.queue(member)

    def queue_later(self) -> None:
        """Queue every account afresh when the state is first swept (after a restore).

        A read never sweeps: it does not work out when each account falls
        due.  Until an event is applied nothing changes what ``next_due`` says
        (a query advances copies), so queueing later queues the same moments.
        """
        self._due, self._queued, self._touched = [], {}, {}
        self._queue_stale = True

    def view(self, member: str, when: datetime | None = None, paying: Pays | None = None) -> Account:
        """The member's account with expiry and bonuses booked up to ``when`` (default now).

        A copy when anything fell due (the account itself is never advanced by a
        query): what the copy booked is its ``extras``, the rest is in ``history``.
        ``paying``: ``self.paying()``, shared by the views of one query.
        """
        moment = when or self.engine.clock.now()
        account = self.accounts.get(member) or Account(member)
        return account.view(moment, self.policy_at, self.calendar, paying)

    def balance_at(self, member: str, when: datetime) -> int:
        """``view(member, when).balance``, without a copy of the account when only lots fell due."""
        account = self.accounts.get(member)
        if account is None:
            return 0
        exact, may = self.paying(), self.may_pay

        def paying(kind: str, end: datetime, node: str) -> bool:
            # (a kind no ruleset in force has a streak over is not asked of the policy at its end)
            return may(kind, end, node) and exact(kind, end, node)

        return account.balance_at(when, self.policy_at, self.calendar, paying)

    def may_pay(self, kind: str, end: datetime, node: str) -> bool:
        """Whether judging a span of ``kind`` may pay a streak bonus at all (``Booking.may_pay``; here: yes)."""
        return True

    def views(self, when: datetime | None = None) -> Iterator[Account]:
        """Every account, advanced to ``when`` (default now), by member id."""
        paying = self.paying()
        for member in sorted(self.accounts):
            yield self.view(member, when, paying)

    def bonus_between(self, member: str, since: datetime, until: datetime, paying: Pays) -> list[str]:
        """``Account.bonus_between`` of the member's account (not built for it if restored and unused)."""
        return self.accounts.bonus_between(member, since, until, paying, self.calendar.end)

    def paying(self) -> Pays:
        """Whether judging a span can pay a streak bonus (``ledger.pays``), for the views of one query."""
        return pays(self.policy_at)

    def booked(self, since: datetime | None = None, until: datetime | None = None) -> Iterator[Record]:
        """Entries booked so far (a coarse filter by time: see ``History.select``), in booking order."""
        return self.history.select(since, until)

    def entry(self, entry_id: str) -> Record | None:
        """The entry booked under ``entry_id``, if any (not those a query's copy books)."""
        return self.history.find(entry_id)

    def load_part(self, key: str) -> dict[str, Any] | str | None:
        """A sealed part of the history, from the store (its text where the store gives it)."""
        return stored_part(self.engine.store, COLLECTION, key)

    def load_parts(self, keys: Sequence[str]) -> Mapping[str, dict[str, Any] | str]:
        """Sealed parts of the history, from the store at once (``stored_parts``), by key."""
        return stored_parts(self.engine.store, COLLECTION, keys)

    def sealed_loaders(self, collection: str) -> tuple[PartLoader, PartsLoader]:
        """Reading one sealed part of ``collection`` from the engine's store (its text where the store gives
        it), and several at once, by key (``SealedIds``)."""

        def load(key: str) -> dict[str, Any] | str | None:
            return stored_part(self.engine.store, collection, key)

        def load_many(keys: Sequence[str]) -> Mapping[str, dict[str, Any] | str]:
            return stored_parts(self.engine.store, collection, keys)

        return load, load_many

    def sealed_sets(self) -> tuple[SealedIds, ...]:
        """The sets of ids kept in sealed parts (sealed.py)."""
        return (self.settled, self.tasks_done, self.tasks_missed, self.dormant)

    def track(self, ident: str) -> IncidentTrack | None:
        """The track of the incident ``ident`` not yet settled; a dormant one (a repeat report's) is taken
        back into ``incidents`` (and marked taken in ``dormant``: the track sealed before is no longer its)."""
        found = self.incidents.get(ident)
        if found is None and (self.dormant.recent or self.dormant.parts):
            doc = self.dormant.get(ident)
            if doc is not None:
                found = self.incidents[ident] = IncidentTrack.load(doc)
                self.dormant.put(ident, None)
        return found

    def name_of(self, member: str) -> str:
        """The member's name (roster or resident registration), else the id."""
        found = self.engine.community.members.get(member)
        return found.name if found is not None else self.names.get(member, member)

    def roles_of(self, member: str) -> set[str]:
        """Every role the member holds anywhere (``resident`` for residents off the roster)."""
        if member not in self.engine.community.members:
            return {"resident"} if member in self.homes else set()
        return set(self._roster_member(member)[0])

    def _roster_member(self, member: str) -> tuple[set[str], MemberRecord]:
        # The roster does not change under an engine: work each member out once.
        found = self._members.get(member)
        if found is None:
            person = self.engine.community.members[member]
            roles = {assignment.role for assignment in person.roles}
            if getattr(person, "home", None):
                roles.add("resident")
            main = person.roles[0].role if person.roles else "resident"
            record = MemberRecord(member, person.name, main, tuple(sorted(roles)), bool(person.party_member))
            found = self._members[member] = (roles, record)
        return found

    def member_record(self, member: str) -> MemberRecord:
        """The ``member`` record rules read."""
        if member in self.engine.community.members:
            return self._roster_member(member)[1]
        roles = tuple(sorted(self.roles_of(member)))
        return MemberRecord(
            member, self.names.get(member, member), "resident", roles, self.party.get(member, False)
        )

    def node_record(self, node_id: str) -> NodeRecord:
        """The ``node`` record rules read."""
        found = self._nodes.get(node_id)
        if found is None:
            node = self.engine.community.hierarchy.node(node_id)
            found = NodeRecord(node.id, node.name, node.level, str(getattr(node, "kind", "territorial")))
            self._nodes[node_id] = found
        return found

    def facts(self, event: Event, member: str, incident: IncidentTrack | None = None) -> Facts:
        """Everything a rule may read about ``event`` for ``member``."""
        local = self.engine.local_time(event.time)
        where = incident.node if incident is not None else event.node
        record = None
        if incident is not None:
            record = incident.record(self.node_record(incident.node).level, event.time)
        return Facts(
            member=self.member_record(member),
            node=self.node_record(where),
            event=event,
            weekday=local.isoweekday(),
            hour=local.hour,
            incident=record,
            satisfaction=incident.satisfaction if incident is not None else None,
            rating=incident.rating if incident is not None else None,
        )

    def within(self, node: str, ancestor: str) -> bool:
        """True if ``node`` is ``ancestor`` or below it (False for unknown nodes)."""
        hierarchy = self.engine.community.hierarchy
        return node == ancestor or (
            ancestor in hierarchy and node in hierarchy and hierarchy.is_within(node, ancestor)
        )

    def in_cells(self, member: str, node: str) -> bool:
        """True if ``node`` is within the member's cells (roles and home; a resident's home) or above one of them:
        a grid's clean-up recorded at the grid is in the cells of its units' leaders, as in a resident's home's."""
        community = self.engine.community
        if member in community.members:
            # The roster and the tree change under an engine only as a new community: each answer is
            # worked out once per community.
            known, answers = self._cells
            if known is not community or len(answers) > 100_000:
                answers = {}
                self._cells = (community, answers)
            key = (member, node)
            found = answers.get(key)
            if found is None:
                found = answers[key] = bool(community.is_within_cells(member, node)) or any(
                    self.within(cell, node) for cell in community.cells_of(member))
            return found
        home = self.homes.get(member)
        return home is not None and (self.within(node, home) or self.within(home, node))

    def level_id(self, name: str) -> str | None:
        """The level a ruleset names, by id or by the community's Chinese label; None if unknown."""
        community = self.engine.community
        if name in community.hierarchy.levels:
            return name
        for level, label in community.level_names.items():
            if label == name:
                return level
        return None

    def budget_node(self, node: str, level: str) -> str | None:
        """The node whose recognition budget an award at ``node`` spends (None: no such level)."""
        found_level = self.level_id(level)
        if found_level is None:
            return None
        found = self.engine.community.hierarchy.ancestor_at(node, found_level)
        return found.id if found is not None else node

    def duplicate_of(self, member: str, item: ActivityItem, event: ActivityRecorded, window: str) -> str | None:
        """The id of an earlier claim of the same activity by ``member`` in the window, if any."""
        start = event.time
        return self.claims.duplicate_of(member, item.activity, event.id, start, start + timedelta(hours=event.hours),
                                        self.calendar.label("day", start), window)
