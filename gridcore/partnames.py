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
not hold them.  Where the store has ``merge_parts`` (every built-in backend),
the parts are merged into the name documents atomically, with no read first
(``writer.merge``), so two writers adding parts to the same name at once both
keep their additions.  On a store without it (a plugin's backend) a name's
document is read, then written with its new parts, and two writers adding parts
to the same name at once could lose one of the two additions; SQL stores give
each writer its own checkpoints, and parts with the same content have the same
key, so only writers whose logs differ could meet this.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .parts import Loader

#: Where an entry is: (part number, position in the part).
Where = tuple[int, int]
#: Lookups in the store kept (the least recently asked for go first): a name is read once, not at every
#: lookup; one known to have no document is written without being read first.
KEPT = 20_000


class PartNames:
    """Name -> where the newest entry answering to it is, for the parts of one archive."""

    def __init__(self, loader: Loader | None = None) -> None:
        #: reads a name's document from the names collection (None: nothing was stored)
        self.loader = loader
        #: key -> number of each part of this archive whose names are in the store
        self.numbers: dict[str, int] = {}
        #: names of the entries not yet in the store (the newest parts and the open one)
        self._recent: dict[str, Where] = {}
        #: what the store said of names: where the newest entry is, None (the name has no document), or
        #: False (it has one, naming none of this archive's parts)
        self._asked: OrderedDict[str, Where | None | bool] = OrderedDict()

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
            kept = self._asked[name]
            return kept if isinstance(kept, tuple) else None
        if self.loader is None or not self.numbers:
            return None  # (nothing of this archive is stored: not asked, not kept)
        doc = self.loader(name)
        best: Where | None = None
        if doc is not None:
            for key, position in doc["parts"].items():
                number = self.numbers.get(key)
                if number is not None and (best is None or number > best[0]):
                    best = (number, int(position))
        self._keep(name, best if best is not None or doc is None else False)
        return best

    def _keep(self, name: str, said: Where | None | bool) -> None:
        self._asked[name] = said
        self._asked.move_to_end(name)
        while len(self._asked) > KEPT:
            self._asked.popitem(last=False)

    def stored(self, parts: list[tuple[int, str, list[list[str]]]],
               writer: Callable[[dict[str, dict[str, Any]]], None],
               unstored: Iterable[tuple[Where, Iterable[str]]]) -> None:
        """Parts ``(number, key, names of each entry)`` were just written to the store: write their
        names' documents (through ``writer``: merged with ``writer.merge`` where it has one, else read and
        written all at once), and keep in memory only the names of the
        entries still not stored (``unstored``: where each is, and its names, oldest first; read only
        once the documents are written, so a generator may drop the stored entries as it starts)."""
        added: dict[str, dict[str, int]] = {}
        newest: dict[str, Where] = {}
        for number, key, written in parts:
            for position, entry in enumerate(written):
                for name in entry:
                    added.setdefault(name, {})[key] = position
                    newest[name] = (number, position)
        merge: Callable[[dict[str, dict[str, int]]], None] | None = getattr(writer, "merge", None)
        if merge is not None:
            if added:
                merge(added)  # (atomic in the store: nothing read first, no other writer's addition lost)
        else:
            self._read_then_write(parts, added, writer)
        for number, key, _ in parts:
            self.numbers[key] = number
        for name, where in newest.items():
            self._keep(name, where)  # (what the store now says; an entry not yet stored comes first)
        self._recent = {}
        for where, names in unstored:
            self.note(names, where)

    def _read_then_write(self, parts: list[tuple[int, str, list[list[str]]]], added: dict[str, dict[str, int]],
                         writer: Callable[[dict[str, dict[str, Any]]], None]) -> None:
        """The name documents with their new parts, for a store without ``merge_parts``: each read, then
        all written (another writer's addition between the two is lost)."""
        docs = {}
        # An entry's first name is its own (an incident's id, a task's): when the store was seen to have
        # no document for it, no entry answering to it was ever stored, so none of its other names has
        # one either, and they are written without being read first (each id is looked up when it is
        # first reported or assigned, so most names are written so)
        fresh = {name for _, _, written in parts for entry in written if entry
                 and entry[0] in self._asked and self._asked[entry[0]] is None for name in entry}
        for name, keys in added.items():
            before = None if name in fresh or self.loader is None else self.loader(name)
            docs[name] = {"parts": {**(before["parts"] if before is not None else {}), **keys}}
        if docs:
            writer(docs)

    def restore(self, keys: Mapping[str, int], unstored: Iterable[tuple[Where, Iterable[str]]]) -> None:
        """Restored from a checkpoint: the stored parts (key -> number) and the entries not stored."""
        self.numbers = dict(keys)
        self._recent = {}
        for where, names in unstored:
            self.note(names, where)
        self._asked.clear()
