"""Copy a store to another backend without loss (``gridcore migrate --from URL --to URL``).

Events are copied in canonical order in batches (each batch atomic in the
target), then every plugin-document collection.  Afterwards the target is read
back and compared with the source, event by event and document by document; any
difference raises ``StoreError``.  Copying into a store that already holds
events or documents is refused unless ``allow_non_empty=True`` (then events
already there are skipped, as appends always are, and documents are replaced).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ..classes import frozen
from ..errors import StoreError
from . import Store
from .url import open_store

if TYPE_CHECKING:
    import pluggy

#: ``progress(done, total)``: events copied so far, out of ``total``.
Progress = Callable[[int, int], None]


@runtime_checkable
class ListsCollections(Protocol):
    """A store that can name its document collections (every built-in backend can)."""

    def collections(self) -> list[str]:
        """Names of the collections that hold at least one document, sorted."""
        ...


@frozen
class MigrationSummary:
    """What ``migrate`` did.

    ``events``: events in the source; ``copied``: how many were new in the
    target; ``skipped``: how many the target already had.  ``documents``: the
    documents copied, per collection.
    """

    source: str
    target: str
    events: int
    copied: int
    skipped: int
    documents: dict[str, int]

    def __str__(self) -> str:
        return self.describe()

    def describe(self) -> str:
        """One line for people: what was copied where."""
        docs = sum(self.documents.values())
        text = (
            f"copied {self.copied} events and {docs} documents in {len(self.documents)} "
            f"collections from {self.source} to {self.target}"
        )
        if self.skipped:
            text += f" ({self.skipped} events were already there)"
        return text


def migrate(
    source: str | Store,
    target: str | Store,
    *,
    batch_size: int = 5000,
    progress: Progress | None = None,
    allow_non_empty: bool = False,
    verify: bool = True,
    plugins: pluggy.PluginManager | None = None,
) -> MigrationSummary:
    """Copy every event and document of ``source`` into ``target``; return a summary.

    ``source`` and ``target`` are store URLs or paths (opened through the
    storage backends of ``plugins``, by default a fresh plugin manager with every
    installed plugin, and closed afterwards) or open ``Store`` objects (left
    open).  ``progress(done, total)`` is called after
    each batch.  Raises ``StoreError`` if the target is not empty (unless
    ``allow_non_empty``), if both name the same store, or if the copy read back
    differs from the source (``verify``, on by default).
    """
    if batch_size < 1:
        raise StoreError(f"batch_size must be at least 1, got {batch_size}")
    if isinstance(source, str) and isinstance(target, str) and _same(source, target):
        raise StoreError(f"source and target are the same store: {source} (源数据库和目标数据库是同一个)")
    opened: list[Store] = []
    try:
        src = _open(source, opened, plugins)
        dst = _open(target, opened, plugins)
        if not isinstance(src, ListsCollections):
            raise StoreError(f"the store {src.url} cannot list its document collections, so it cannot be "
                             "migrated (这个数据库无法列出其文档集合，不能迁移)")
        if src is dst:
            raise StoreError(f"source and target are the same store: {src.url} (源数据库和目标数据库是同一个)")
        _check_target(dst, allow_non_empty)
        return _copy(src, dst, batch_size, progress, verify)
    finally:
        for store in reversed(opened):
            store.close()


def _open(store: str | Store, opened: list[Store], plugins: pluggy.PluginManager | None) -> Store:
    if not isinstance(store, str):
        return store
    the_store = open_store(store, plugins=plugins)
    opened.append(the_store)
    return the_store


def _same(a: str, b: str) -> bool:
    if "://" in a or "://" in b:
        return a == b
    from pathlib import Path

    return Path(a).resolve() == Path(b).resolve()


def _check_target(target: Store, allow_non_empty: bool) -> None:
    if allow_non_empty:
        return
    held = target.count()
    collections = target.collections() if isinstance(target, ListsCollections) else []
    if held or collections:
        raise StoreError(
            f"the target store {target.url} is not empty ({held} events, "
            f"{len(collections)} document collections); migrate into a new store, "
            "or allow a non-empty target to merge into it (目标数据库不是空的：请迁移到新数据库，或允许合并到非空的目标中)"
        )


def _copy(src: Store, dst: Store, batch_size: int, progress: Progress | None, verify: bool) -> MigrationSummary:
    total = src.count()
    done = copied = 0
    batch: list[dict[str, Any]] = []
    for doc in src.events():
        batch.append(doc)
        if len(batch) >= batch_size:
            copied += dst.append(batch)
            done += len(batch)
            batch = []
            if progress is not None:
                progress(done, total)
    if batch:
        copied += dst.append(batch)
        done += len(batch)
    if progress is not None:
        progress(done, total)
    documents: dict[str, int] = {}
    assert isinstance(src, ListsCollections)
    for collection in src.collections():
        n = 0
        for key, doc in src.items(collection):
            dst.put(collection, key, doc)
            n += 1
        documents[collection] = n
    if verify:
        _verify(src, dst, documents)
    return MigrationSummary(src.url, dst.url, done, copied, done - copied, documents)


def _verify(src: Store, dst: Store, documents: dict[str, int]) -> None:
    """Read the target back: every source event and document must be there, unchanged.

    Both logs are walked together in canonical order; events the target held
    besides (a merge into a non-empty store) are stepped over.
    """
    target_events = dst.events()
    for doc in src.events():
        for other in target_events:
            if other["id"] == doc["id"]:
                if other != doc:
                    raise StoreError(
                        f"event {doc['id']} differs after migration: the source has {doc!r}, "
                        f"{dst.url} has {other!r} (was it already there, with other content?) "
                        "(迁移后事件内容不一致：目标中是否已有同一编号的其他事件？)"
                    )
                break
        else:
            raise StoreError(f"migration lost event {doc['id']}: it is not in {dst.url} (迁移丢失了事件)")
    for collection in documents:
        for key, doc in src.items(collection):
            if dst.get(collection, key) != doc:
                raise StoreError(f"migration changed document {collection}/{key} in {dst.url} (迁移改变了文档)")
