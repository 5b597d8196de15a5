"""``Account.advance`` and ``Account.current_earned`` against the plainer algorithms they replaced.

``advance`` sorts the streak spans that ended once and takes them in order,
where it used to search the open spans for the earliest ended one after each
span it judged, and takes the first lot as the next to expire while the lots
expire in their own order (a heap of them when they do not); ``current_earned`` reads each cap counter's periods in one
pass.  Random accounts (credits with and without expiry, activity marks,
caps) are advanced step by step both ways: the entries booked, in order,
and what stays open must be the same.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from conftest import CST
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gridcore.explain import RuleRef
from gridcore.periods import add_months
from gridcore_points.ledger import (
    NEVER,
    NEVER_KEY,
    Account,
    Calendar,
    Entry,
    PolicyAt,
    pays,
    utc_key,
)
from gridcore_points.policy import Expiry, PointsPolicy, Streak

RULE = RuleRef("test.rules", 1, 1, "streak")
POLICY = PointsPolicy(
    # (the last three pay for every span a member was active in: many end within one advance, in an order)
    streaks=(Streak(5, "day", "week", RULE), Streak(20, "week", "month", RULE), Streak(7, "day", "month", RULE),
             Streak(1, "day", "day", RULE), Streak(2, "week", "week", RULE), Streak(3, "month", "quarter", RULE)),
    expiry=Expiry(1, RuleRef("test.rules", 2, 1, "expiry")),
)
START = datetime(2025, 1, 1, 8, tzinfo=CST)
#: a streak over quarters only, as the district's rules have: spans of every other kind can pay nothing
QUARTERLY = PointsPolicy(streaks=(Streak(3, "month", "quarter", RULE),), expiry=POLICY.expiry)


def advance_one_at_a_time(account: Account, until: datetime, policy_at: PolicyAt, calendar: Calendar) -> None:
    """``Account.advance`` as it was: after each span judged, search the open spans again for the earliest;
    the next lot to expire found by looking at every lot."""
    now = utc_key(until)
    if account.advanced_to is None or now > account.advanced_to:
        account.advanced_to = now
    # (every cap counter's periods that ended dropped at each advance, where ``advance`` leaves them until all
    # ended)
    account.earned = {scope: count for scope, count in account.earned.items() if not count.drop_ended(now)}
    account.earned_last = None
    while True:
        first = min((lot for lot in account.lots if lot.expires is not None),
                    key=lambda lot: (lot.expires, lot.time, lot.entry_id), default=None)
        lot_time = first.expires if first is not None else None
        if lot_time is not None and lot_time > until:
            lot_time = None
        due = min(account.open_spans.values(), default=NEVER)
        span_end, span = None, None
        if due <= until:
            span_end, span = min(
                ((end, span) for span, end in account.open_spans.items() if end <= until), default=(None, None))
        if lot_time is None and span_end is None:
            return
        if span_end is not None and span is not None and (lot_time is None or span_end < lot_time):
            del account.open_spans[span]
            account.span_due = None
            account._judge_streak(span, span_end, policy_at, calendar)
            continue
        assert first is not None
        account._expire(first)


def current_earned_from_items(account: Account) -> dict[tuple[str, str], tuple[str, int, timedelta]]:
    """``Account.current_earned`` as it was, through ``CapCount.items``."""
    every = {(scope, kind): (label, points, end) for scope, count in account.earned.items()
             for kind, label, points, end in count.items()}
    newest: dict[str, str] = {}
    for (_, kind), (label, _, _) in every.items():
        if label > newest.get(kind, ""):
            newest[kind] = label
    return {key: value for key, value in every.items() if value[0] == newest[key[1]]}


# (hours after the previous step, what: 0 earn (not advanced first), 1 earn expiring, 2 spend, 3 only advance,
# amount, node)
steps = st.lists(st.tuples(st.integers(0, 24 * 20), st.integers(0, 3), st.integers(1, 30), st.sampled_from("abc")),
                 min_size=1, max_size=40)


def _run(plan: list[tuple[int, int, int, str]], advance: object, policy: PointsPolicy = POLICY,
         ) -> tuple[Account, list[object]]:
    calendar = Calendar(CST)
    account = Account("m1")

    def policy_at(when: datetime, node: str | None) -> PointsPolicy:
        return policy

    when = START
    earned_seen = []
    for n, (hours, what, amount, node) in enumerate(plan):
        when += timedelta(hours=hours)
        if what != 0:  # (a plain earning is booked without advancing first: counters of ended periods stay)
            advance(account, when, policy_at, calendar)  # type: ignore[operator]
        earned_seen.append((account.current_earned(), current_earned_from_items(account)))
        if what in (0, 1):
            entry = Entry(f"e{n}", "earn", amount, "m1", node, when, RULE, "earned")
            expires = add_months(when, 1 + amount % 3, CST) if what == 1 else None
            account.credit(entry, expires=expires, expiry_rule=RULE if expires else None,
                           caps_scopes=(node, "*"), calendar=calendar)
            account.mark_active(when, node, calendar)
        elif what == 2 and account.balance > 0:
            account.debit(Entry(f"r{n}", "redeem", -min(amount, account.balance), "m1", node, when, RULE, "spent"))
    advance(account, when + timedelta(days=400), policy_at, calendar)  # type: ignore[operator]
    earned_seen.append((account.current_earned(), current_earned_from_items(account)))
    return account, earned_seen


def _booked(account: Account) -> list[tuple[object, ...]]:
    return [(r.entry.id, r.entry.kind, r.entry.amount, r.entry.time, r.entry.node, r.entry.summary,
             r.entry.inputs) for r in account.extras]


@settings(max_examples=150, deadline=None)
@given(plan=steps)
@example(plan=[(24, 1, 5, "a")] * 45 + [(300, 3, 1, "b")])
def test_advance_books_what_the_one_at_a_time_search_booked(plan: list[tuple[int, int, int, str]]) -> None:
    def sorted_once(account: Account, until: datetime, policy_at: PolicyAt, calendar: Calendar) -> None:
        account.advance(until, policy_at, calendar)

    new, _ = _run(plan, sorted_once)
    old, _ = _run(plan, advance_one_at_a_time)
    assert _booked(new) == _booked(old)
    assert (new.balance, new.credited, new.expired, new.redeemed) == (old.balance, old.credited, old.expired,
                                                                      old.redeemed)
    assert [(lot.entry_id, lot.remaining) for lot in new.lots] == [(lot.entry_id, lot.remaining) for lot in old.lots]
    assert new.open_spans == old.open_spans == {}


@settings(max_examples=100, deadline=None)
@given(plan=steps, policy=st.sampled_from([POLICY, QUARTERLY]))
@example(plan=[(24, 1, 5, "a")] * 45 + [(300, 3, 1, "b")], policy=QUARTERLY)
@example(plan=[(24, 1, 5, "ab"[n % 2]) for n in range(90)] + [(300, 3, 1, "b")], policy=QUARTERLY)  # (pruned)
def test_spans_that_cannot_pay_are_closed_as_judging_closes_them(plan: list[tuple[int, int, int, str]],
                                                                 policy: PointsPolicy) -> None:
    """Told which spans can pay (``pays``), ``advance`` closes the others without judging them (the year's
    under both policies, all but the quarter's under ``QUARTERLY``): the same entries, lots, marks and spans
    as judging every span, pruning the marks at the same moments."""
    steps: dict[str, list[object]] = {"told": [], "judged": []}

    def after(account: Account, way: str) -> None:
        steps[way].append((dict(account.active), account.prune_at, dict(account.open_spans),
                           dict(account.span_node)))

    def told(account: Account, until: datetime, policy_at: PolicyAt, calendar: Calendar) -> None:
        account.advance(until, policy_at, calendar, None, pays(policy_at))
        after(account, "told")

    def judged(account: Account, until: datetime, policy_at: PolicyAt, calendar: Calendar) -> None:
        advance_one_at_a_time(account, until, policy_at, calendar)
        after(account, "judged")

    new, _ = _run(plan, told, policy)
    old, _ = _run(plan, judged, policy)
    assert steps["told"] == steps["judged"]  # (after each advance: marks pruned at the same moments)
    assert _booked(new) == _booked(old)
    assert (new.balance, new.credited, new.expired) == (old.balance, old.credited, old.expired)
    assert [(lot.entry_id, lot.remaining) for lot in new.lots] == [(lot.entry_id, lot.remaining) for lot in old.lots]
    assert (new.active, new.prune_at, new.open_spans, new.span_node) == (old.active, old.prune_at, old.open_spans,
                                                                         old.span_node)


@settings(max_examples=150, deadline=None)
@given(plan=steps)
@example(plan=[(24, 1, 5, "a"), (24, 1, 5, "b"), (24 * 40, 3, 1, "a"), (1, 1, 2, "a")])
def test_current_earned_reads_the_counters_as_items_does(plan: list[tuple[int, int, int, str]]) -> None:
    """``current_earned`` of counters whose ended periods ``advance`` left (until all ended) is what the
    counters give when every ended period is dropped at each advance, read through ``CapCount.items``; and the
    sweep's moments (``next_due``) are the same."""
    def sorted_once(account: Account, until: datetime, policy_at: PolicyAt, calendar: Calendar) -> None:
        account.advance(until, policy_at, calendar)
        dues["left"].append(account.next_due())
        account.closing = None  # (and worked out afresh, as the plainer advance leaves it to be)
        dues["left"].append(account.next_due())

    def dropped(account: Account, until: datetime, policy_at: PolicyAt, calendar: Calendar) -> None:
        advance_one_at_a_time(account, until, policy_at, calendar)
        account.closing = None
        dues["dropped"].extend([account.next_due()] * 2)

    dues: dict[str, list[object]] = {"left": [], "dropped": []}
    _, left = _run(plan, sorted_once)
    _, eager = _run(plan, dropped)
    assert [mine for mine, _ in left] == [theirs for _, theirs in eager]
    assert dues["left"] == dues["dropped"]


@settings(max_examples=150, deadline=None)
@given(plan=steps)
@example(plan=[(24, 1, 5, "a")] * 45 + [(300, 3, 1, "b")])
def test_the_closing_kept_is_the_one_worked_out(plan: list[tuple[int, int, int, str]]) -> None:
    """``Account.closing`` (next_due's latest end of the open spans and cap counters), once known, is kept as
    credits, marks and advances change what is open: after each of them it is what ``latest_end`` works out."""
    closings = []

    def checked(account: Account, until: datetime, policy_at: PolicyAt, calendar: Calendar) -> None:
        for _ in range(2):  # (after the credits and marks since the last step, then after this advance)
            assert account.closing in (None, account.latest_end())
            if account.closing is not None:
                closings.append(account.closing)
            before = account.next_due()
            account.closing = None
            assert account.next_due() == before  # (worked out afresh: the same)
            if _ == 0:
                account.advance(until, policy_at, calendar)

    _run(plan, checked)
    if any(what != 0 for _, what, _, _ in plan):
        assert closings


def test_the_closing_kept_follows_marks_without_counters() -> None:
    """Spans opened by marks alone (no cap counter) move the closing kept later, and it is NEVER once all ended."""
    calendar = Calendar(CST)
    account = Account("m1")
    assert account.next_due() == NEVER_KEY and account.closing == NEVER_KEY
    for days in (0, 3, 40, 100):
        account.mark_active(START + timedelta(days=days), "a", calendar)
        assert account.closing in (None, account.latest_end())
        account.next_due()
        assert account.closing == account.latest_end() != NEVER_KEY
    account.advance(START + timedelta(days=800), lambda when, node: None, calendar)
    assert not account.open_spans and account.closing == account.latest_end() == NEVER_KEY


def test_a_daily_member_books_bonuses_and_expiries_both_ways() -> None:
    """The comparison above is not empty: every day for 70 days books streak bonuses and expiries, in one order."""
    plan = [(24, 1, 5, "ab"[n % 2]) for n in range(70)] + [(24 * 9, 2, 3, "a"), (1, 0, 4, "c")]
    new, seen = _run(plan, lambda account, until, policy_at, calendar: account.advance(until, policy_at, calendar))
    old, _ = _run(plan, advance_one_at_a_time)
    kinds = [entry[1] for entry in _booked(new)]
    assert kinds.count("bonus") >= 10 and kinds.count("expire") >= 10
    assert _booked(new) == _booked(old)
    assert any(len(mine) >= 5 for mine, _ in seen)


def test_lots_expire_in_their_order_without_a_heap_and_out_of_it_with_one() -> None:
    """Lots under one expiry rule expire in their own order (no heap); a later lot expiring sooner starts one."""
    calendar = Calendar(CST)
    account = Account("m1")

    def policy_at(when: datetime, node: str | None) -> PointsPolicy:
        return POLICY

    def earn(n: int, months: int | None) -> None:
        when = START + timedelta(days=n)
        account.credit(Entry(f"e{n}", "earn", 10, "m1", "a", when, RULE, "earned"),
                       expires=add_months(when, months, CST) if months else None, expiry_rule=RULE)

    for n in range(3):
        earn(n, 2)
    earn(3, None)
    assert account.expiring is None
    earn(4, 1)  # expires before the lot without expiry, and before e0 to e2
    assert account.expiring is not None
    account.advance(START + timedelta(days=200), policy_at, calendar)
    assert [r.entry.id for r in account.extras if r.entry.kind == "expire"] == ["expire:e4", "expire:e0", "expire:e1", "expire:e2"]
    assert [lot.entry_id for lot in account.lots] == ["e3"]
    account.debit(Entry("r", "redeem", -10, "m1", "a", START + timedelta(days=201), RULE, "spent"))
    earn(300, 1)  # all spent: in order again
    assert account.expiring is None and account.next_due() == utc_key(add_months(START + timedelta(days=300), 1, CST))


def test_accounts_marked_in_one_period_share_its_key_and_end() -> None:
    """Marks of the same period, made on different days by different accounts, are one key and one end."""
    calendar = Calendar(CST)
    first, second = Account("m1"), Account("m2")
    first.mark_active(START, "a", calendar)  # (a Wednesday: the next day is in the same week)
    second.mark_active(START + timedelta(days=1), "b", calendar)
    shared = [(mine, theirs) for mine in first.active for theirs in second.active if mine == theirs]
    assert [key[0] for key, _ in shared] == ["week", "month", "quarter", "year"]
    assert all(mine is theirs and first.active[mine] is second.active[theirs] for mine, theirs in shared)
    assert all(next(key for key in first.open_spans if key == mine) is mine for mine, _ in shared)


def test_a_new_account_is_the_account_attrs_builds() -> None:
    """``Account.new`` (each field stored by hand) holds what ``Account(member, journal=...)`` holds, every
    field (those ``__init__`` does not take too), with containers of its own."""
    import attrs

    from gridcore_points.ledger import Extras

    journal = Extras()
    built, new, other = Account("m1", journal=journal), Account.new("m1", journal), Account.new("m2", journal)
    for f in attrs.fields(Account):
        mine, theirs = getattr(new, f.name), getattr(built, f.name)
        assert type(mine) is type(theirs) and mine == theirs, f.name
        if isinstance(mine, (list, dict, set)) and f.name != "journal":
            assert mine is not getattr(other, f.name), f.name
    assert new.journal is journal


@settings(max_examples=150, deadline=None)
@given(lots=st.lists(st.tuples(st.integers(0, 120), st.integers(1, 4), st.booleans(), st.integers(1, 9)),
                     min_size=1, max_size=12),
       spent=st.integers(0, 20), until=st.integers(0, 300), fixed_until=st.booleans())
@example(lots=[(0, 2, True, 5), (1, 1, False, 5)], spent=0, until=45, fixed_until=True)
def test_expiries_of_two_zone_objects_are_ordered_by_their_moments(
        lots: list[tuple[int, int, bool, int]], spent: int, until: int, fixed_until: bool) -> None:
    """Lots restored from a checkpoint expire at a fixed offset, new ones in the community's zone: whether a new
    lot comes in expiry order (no heap) and what ``balance_at`` leaves are those of the lots' moments."""
    account = Account("m1")
    opened: list[tuple[datetime, datetime, str, int]] = []
    heap = False  # (a lot expiring before the one opened before it: out of order from then on)
    for n, (day, months, fixed, amount) in enumerate(sorted(lots)):
        when = START + timedelta(days=day, seconds=n)
        expires = add_months(when, months, CST)
        if fixed:  # (as a checkpoint reads it back: the same moment at its offset)
            expires = datetime.fromisoformat(expires.isoformat())
            assert expires.tzinfo is not CST
        account.credit(Entry(f"e{n}", "earn", amount, "m1", "a", when, RULE, "earned"),
                       expires=expires, expiry_rule=POLICY.expiry.rule)
        heap = heap or bool(opened and utc_key(opened[-1][0]) > utc_key(expires))
        opened.append((expires, when, f"e{n}", amount))
        assert (account.expiring is not None) == heap
    if spent:
        take = min(spent, account.balance)
        account.debit(Entry("r", "redeem", -take, "m1", "a", opened[-1][1] + timedelta(seconds=1), RULE, "spent"))
    moment = START + timedelta(days=until)
    if fixed_until:
        moment = datetime.fromisoformat(moment.isoformat())
    left = {lot.entry_id: lot.remaining for lot in account.lots}
    expiring = sum(remaining for ident, remaining in left.items()
                   if utc_key(next(o[0] for o in opened if o[2] == ident)) <= utc_key(moment))
    calendar = Calendar(CST)
    assert account.balance_at(moment, lambda when, node: POLICY, calendar) == account.balance - expiring
    assert account.balance_at(moment, lambda when, node: POLICY, calendar) == account.view(
        moment, lambda when, node: POLICY, calendar).balance


@settings(max_examples=150, deadline=None)
@given(ends=st.lists(st.tuples(st.integers(0, 60), st.integers(0, 23), st.sampled_from(["week", "month"]),
                               st.booleans()), min_size=1, max_size=8),
       until=st.integers(0, 60 * 24), fixed_until=st.booleans())
@example(ends=[(3, 0, "week", True)], until=3 * 24, fixed_until=True)  # (a span ending at the very moment)
def test_spans_ended_by_a_time_of_another_zone_object_are_those_of_its_moment(
        ends: list[tuple[int, int, str, bool]], until: int, fixed_until: bool) -> None:
    """A span's end is in the community's zone, a redemption's time at a fixed offset: whether an open span
    ended by then may pay (what ``balance_at`` and a view ask) is that of the two moments."""
    account = Account("m1")
    for n, (day, hour, kind, pays_bonus) in enumerate(ends):
        span = (kind, f"{kind}-{n}")
        account.open_spans[span] = START + timedelta(days=day, hours=hour)
        account.span_node[span] = "paying" if pays_bonus else "other"
    moment = START + timedelta(hours=until)
    if fixed_until:
        moment = datetime.fromisoformat(moment.isoformat())
        assert moment.tzinfo is not CST

    def paying(kind: str, end: datetime, node: str) -> bool:
        return node == "paying"

    expected = any(utc_key(end) <= utc_key(moment) and paying(span[0], end, account.span_node[span])
                   for span, end in account.open_spans.items())
    assert account._may_pay_by(moment, paying) is expected
    assert account._due_by(moment, paying) is expected  # (no lots)


def _fields(account: Account) -> dict[str, object]:
    """Every field of ``account``, its lots and cap counters by their fields (neither compares so)."""
    import attrs

    out: dict[str, object] = {}
    for f in attrs.fields(Account):
        value = getattr(account, f.name)
        if f.name in ("lots", "fresh"):
            value = [(type(lot), attrs.astuple(lot, recurse=False)) for lot in value]
        elif f.name == "expiring" and value is not None:
            value = [(*key, attrs.astuple(lot, recurse=False)) for *key, lot in value]
        elif f.name == "earned":
            value = [(scope, type(count), [getattr(count, slot) for slot in type(count).__slots__])
                     for scope, count in value.items()]
        elif f.name == "journal":
            value = [repr(record) for record in value]
        out[f.name] = (type(value), value)
    return out


@settings(max_examples=200, deadline=None)
@given(hours=st.integers(0, 24 * 400), amount=st.integers(1, 50), expiring=st.booleans(),
       ruled=st.sampled_from(["none", "own", "rules"]), later=steps)
def test_a_first_earning_makes_the_account_new_advance_and_earn_make(
        hours: int, amount: int, expiring: bool, ruled: str, later: list[tuple[int, int, int, str]]) -> None:
    """``Account.first_earning`` leaves a new member's account as ``Account.new``, ``advance`` and ``earn`` do,
    every field; and the two book the same afterwards."""
    from gridcore_points.ledger import Extras, Record

    calendar = Calendar(CST)
    when = START + timedelta(hours=hours, minutes=hours % 7)
    expires = add_months(when, 1, CST) if expiring else None
    rule = None if ruled == "none" else RULE
    rules = (RULE, None) if ruled == "rules" else None
    periods, ends = calendar.periods_and_ends(when)
    marks = calendar.marks(when)

    def policy_at(at: datetime, node: str | None) -> PointsPolicy:
        return POLICY

    def record() -> Record:
        return Record("e0", "earn", amount, "m1", "c1", when, rule, "earned", "e0", "patrol", {"hours": 1})

    old = Account.new("m1", Extras())
    old.advance(when, policy_at, calendar, utc_key(when), None)
    old.earn(record(), "patrol", rules, expires, RULE if expiring else None, periods, ends, marks)
    new = Account.first_earning("m1", Extras(), record(), "patrol", rules, expires, RULE if expiring else None,
                                periods, ends, marks, utc_key(when))
    assert _fields(new) == _fields(old)
    for account in (old, new):
        account.journal = Extras()
    for n, (step, what, points, node) in enumerate(later):
        when += timedelta(hours=step)
        for account in (old, new):
            account.advance(when, policy_at, calendar)
            if what == 2 and account.balance > 0:
                account.debit(Entry(f"r{n}", "redeem", -min(points, account.balance), "m1", node, when, RULE, "x"))
            elif what != 3:
                account.credit(Entry(f"e{n + 1}", "earn", points, "m1", node, when, RULE, "earned"),
                               expires=add_months(when, 1, CST) if what == 1 else None,
                               expiry_rule=RULE if what == 1 else None, caps_scopes=(node, "*"), calendar=calendar)
                account.mark_active(when, node, calendar)
        assert _fields(new) == _fields(old)
    for account in (old, new):
        account.advance(when + timedelta(days=400), policy_at, calendar)
    assert _fields(new) == _fields(old)


@settings(max_examples=200, deadline=None)
@given(plan=st.lists(st.tuples(st.integers(0, 24 * 20), st.integers(0, 3), st.integers(0, 30),
                               st.sampled_from(["incident:resolved", "incident:confirmed_report", "task:patrol"]),
                               st.sampled_from(["none", "own", "rules"])), min_size=1, max_size=40))
def test_an_earning_without_marks_books_what_credit_books(plan: list[tuple[int, int, int, str, str]]) -> None:
    """``Account.earn`` without marks (an incident's or a task's payee: ``Booking.earn``) leaves the account as
    ``credit`` counting toward caps in the scope and ``*`` does, every field, with deductions (a debt to repay)
    and redemptions between the earnings."""
    from gridcore_points.ledger import Extras, Record

    calendar = Calendar(CST)

    def policy_at(at: datetime, node: str | None) -> PointsPolicy:
        return QUARTERLY

    old, new = Account.new("m1", Extras()), Account.new("m1", Extras())
    when = START
    for n, (step, what, points, scope, ruled) in enumerate(plan):
        when += timedelta(hours=step, minutes=step % 11)
        for account in (old, new):
            account.advance(when, policy_at, calendar)
        if what == 2:  # a deduction (more than the balance: a debt)
            for account in (old, new):
                account.deduct(Entry(f"d{n}", "deduct", -points - 5, "m1", "c1", when, RULE, "deducted"))
            continue
        if what == 3 and old.balance > 0:
            for account in (old, new):
                account.debit(Entry(f"r{n}", "redeem", -min(points, account.balance), "m1", "c1", when, RULE, "x"))
            continue
        expires = add_months(when, 1, CST) if what == 1 else None
        rule = None if ruled == "none" else RULE
        rules = (RULE, None) if ruled == "rules" else None
        periods, ends = calendar.periods_and_ends(when)
        one, two = (Record(f"e{n}", "earn", points, "m1", "c1", when, rule, "earned", f"e{n}", scope, {"as": "x"})
                    for _ in range(2))
        old.credit(one, expires=expires, expiry_rule=RULE if expires else None, caps_scopes=(scope, "*"),
                   calendar=calendar, rules=rules, day=(periods, ends))
        new.earn(two, scope, rules, expires, RULE if expires else None, periods, ends, None)
        assert _fields(new) == _fields(old)
    for account in (old, new):
        account.advance(when + timedelta(days=400), policy_at, calendar)
    assert _fields(new) == _fields(old)
