"""The accounts of a points state by member, each built from its checkpoint row when first asked for.

A large store's points state holds thousands of accounts, and a read looks
at a few of them (a board views those that earned in its month).  Restoring
a checkpoint keeps each account as the row the checkpoint wrote
(checkpoint.py: a few long texts, which the store's JSON parse reads
quickly) and builds the ``Account`` only when something asks for it by
member: an event of its member, the sweep when something of it falls due, a
view.  What is asked of every account without building it is in the row
beside its texts: when the sweep must look at it (``next_due``) and its open
streak spans with their nodes (``bonus_between``).

``Accounts`` is a mapping of member to ``Account`` like the dict it
replaces, in the same order (the checkpoint's, then new members as they
come); iterating over its values builds every account.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from datetime import datetime, timedelta
from typing import Any, TypeVar, overload

from .ledger import NEVER_KEY, Account, Journal, Pays

#: An account as a checkpoint row, not built yet: ``(member, due, spans, head, lots)`` (checkpoint.py), its
#: spans a tuple of ``(kind, label, node)``: strings, numbers and tuples of them, which the garbage collector
#: does not track (as the document's lists, the rows of a big store were objects every full collection walked).
Row = tuple[Any, ...]

_T = TypeVar("_T")


class Accounts(MutableMapping[str, Account]):
    """Accounts by member; those restored from a checkpoint are built from their rows when first used."""

    def __init__(self, journal: Journal, build: Callable[[Row], Account] | None = None) -> None:
        #: where the accounts' booked entries go (the state's history)
        self.journal = journal
        #: builds an account from its row (its journal is set here)
        self._build = build
        self._all: dict[str, Account | Row] = {}
        #: the rows restored (those built too)
        self._rows: dict[str, Row] = {}

    def restore(self, rows: list[Row]) -> None:
        """Hold ``rows`` (in their order, tuples: see ``Row``), each built into an account when first used."""
        self._rows = {row[0]: row for row in rows}
        self._all = dict(self._rows)

    def __getitem__(self, member: str) -> Account:
        found = self._all[member]
        if isinstance(found, tuple):
            found = self._load(member, found)
        return found

    @overload
    def get(self, member: str, /) -> Account | None: ...

    @overload
    def get(self, member: str, /, default: Account | _T) -> Account | _T: ...

    def get(self, member: str, /, default: Any = None) -> Any:
        """The member's account, else ``default`` (built from its row if not yet)."""
        found = self._all.get(member)
        if found is None:
            return default
        if isinstance(found, tuple):
            found = self._load(member, found)
        return found

    def _load(self, member: str, row: Row) -> Account:
        assert self._build is not None
        account = self._build(row)
        account.journal = self.journal
        self._all[member] = account
        return account

    def __setitem__(self, member: str, account: Account) -> None:
        self._all[member] = account

    def __delitem__(self, member: str) -> None:
        del self._all[member]

    def __contains__(self, member: object) -> bool:
        return member in self._all

    def __iter__(self) -> Iterator[str]:
        return iter(self._all)

    def __len__(self) -> int:
        return len(self._all)

    def row(self, member: str) -> Row | None:
        """The member's checkpoint row if the account is not built yet (None: built, or unknown)."""
        found = self._all.get(member)
        return found if isinstance(found, tuple) else None

    def restored_row(self, member: str) -> Row | None:
        """The row the member's account was restored from, built since or not (None: not restored)."""
        return self._rows.get(member)

    def next_due(self, member: str) -> timedelta:
        """``Account.next_due`` of the member's account, from its row if not built (``KeyError``: unknown)."""
        found = self._all[member]
        if isinstance(found, tuple):
            due = found[1]
            return NEVER_KEY if due is None else timedelta(microseconds=due)
        return found.next_due()

    def bonus_between(self, member: str, since: datetime, until: datetime, paying: Pays,
                      end: Callable[[str, str], datetime]) -> list[str]:
        """``Account.bonus_between`` of the member's account, from its row if not built.

        ``end``: the end of the period of a kind with a label (``Calendar.end``).
        """
        found = self._all[member]
        if not isinstance(found, tuple):
            return found.bonus_between(since, until, paying)
        out = []
        for kind, label, node in found[2]:
            at = end(kind, label)
            if since <= at <= until and paying(kind, at, node or ""):
                out.append(node or "")
        return out

    def copy_to(self, journal: Journal) -> Accounts:
        """A copy whose accounts book to ``journal`` and can change without touching these (``Account.copy``).

        Rows not built yet are shared (a row is never changed): each side builds its own account from it.
        """
        copied = Accounts(journal, self._build)
        copied._rows = self._rows
        for member, found in self._all.items():
            if isinstance(found, tuple):
                copied._all[member] = found
            else:
                copied._all[member] = mine = found.copy()
                mine.journal = journal
        return copied
