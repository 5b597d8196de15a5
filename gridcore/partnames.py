"""Which sealed parts of a plugin's archive hold an entry for a name, kept in the store, not in the state.

A plugin that archives what can hardly change any more (closed incidents,
finished tasks) in parts (``gridcore.parts``) still has to find an entry by
name: is this id already taken, which closed incident does this late rating
reach.  Keeping every name in the state made the state (and each checkpoint)
grow with the history.  ``PartNames`` keeps in memory only the names of the
parts not yet stored (the newest); once a part is stored, its names go to the
store, one document per name in the plugin's *names collection*
(``{"parts": {part key: position}}``: every stored part holding an entry
answering to the name, by its key, with the position of the last such entry
in it), and a lookup reads that document and keeps the newest of those parts
that belong to this archive (its number, from ``numbers``).

A name document only ever gains parts: parts of another history of the log
(left behind by a late event, or by a writer that crashed before its
checkpoint) stay named there, and are passed over because this archive does
not hold them.  Two writers adding parts to the same name at once could lose
one of the two additions (a read, then a write); SQL stores give each writer
its own checkpoints, and parts with the same content have the same key, so
only writers whose logs differ could meet this.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .parts import Loader

#: Where an entry is: (part number, position in the part).
Where = tuple[int, int]
#: Lookups kept between stores (the least recently asked for go first).
KEPT = 4096


class PartNames:
    """Name -> where the newest entry answering to it is, for the parts of one archive."""

    def __init__(self, loader: Loader | None = None) -> None:
        #: reads a name's document from the names collection (None: nothing was stored)
        self.loader = loader
        #: key -> number of each part of this archive whose names are in the store
        self.numbers: dict[str, int] = {}
        #: names of the entries not yet in the store (the newest parts and the open one)
        self._recent: dict[str, Where] = {}
        #: lookups in the store since the last ``stored`` (None: no stored part holds the name)
        self._asked: OrderedDict[str, Where | None] = OrderedDict()

    def note(self, names: Iterable[str], where: Where) -> None:
        """An entry not yet in the store, at ``where``, answers to ``names`` (it supersedes older ones)."""
        for name in names:
            self._recent[name] = where

    def locate(self, name: str) -> Where | None:
        """Where the newest entry answering to ``name`` is; None if none does."""
        found = self._recent.get(name)
        if found is not None:
            return found
        if name in self._asked:
            self._asked.move_to_end(name)
            return self._asked[name]
        doc = self.loader(name) if self.loader is not None and self.numbers else None
        best: Where | None = None
        if doc is not None:
            for key, position in doc["parts"].items():
                number = self.numbers.get(key)
                if number is not None and (best is None or number > best[0]):
                    best = (number, int(position))
        self._asked[name] = best
        while len(self._asked) > KEPT:
            self._asked.popitem(last=False)
        return best

    def stored(self, parts: list[tuple[int, str, list[list[str]]]],
               writer: Callable[[dict[str, dict[str, Any]]], None],
               unstored: Iterable[tuple[Where, Iterable[str]]]) -> None:
        """Parts ``(number, key, names of each entry)`` were just written to the store: write their
        names' documents (through ``writer``, all at once), and keep in memory only the names of the
        entries still not stored (``unstored``: where each is, and its names, oldest first)."""
        added: dict[str, dict[str, int]] = {}
        for _, key, written in parts:
            for position, entry in enumerate(written):
                for name in entry:
                    added.setdefault(name, {})[key] = position
        docs = {}
        for name, keys in added.items():
            before = self.loader(name) if self.loader is not None else None
            docs[name] = {"parts": {**(before["parts"] if before is not None else {}), **keys}}
        if docs:
            writer(docs)
        for number, key, _ in parts:
            self.numbers[key] = number
        self._recent = {}
        for where, names in unstored:
            self.note(names, where)
        self._asked.clear()

    def restore(self, keys: Mapping[str, int], unstored: Iterable[tuple[Where, Iterable[str]]]) -> None:
        """Restored from a checkpoint: the stored parts (key -> number) and the entries not stored."""
        self.numbers = dict(keys)
        self._recent = {}
        for where, names in unstored:
            self.note(names, where)
        self._asked.clear()
