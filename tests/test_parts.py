"""gridcore.parts: pieces of a state in the store under the hash of their content (ledger history, closed incidents)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridcore import StoreError
from gridcore.parts import PartCache, part_key, read_part


def test_a_key_is_the_hash_of_the_canonical_json_whatever_the_order_of_keys() -> None:
    assert part_key({"b": [1, "二"], "a": None}) == part_key({"a": None, "b": [1, "二"]})
    assert part_key({"a": 1}) != part_key({"a": 2})
    assert part_key({}) == "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"  # sha256("{}")


def test_a_part_is_read_back_checked_against_its_key() -> None:
    stored: dict[str, dict[str, Any]] = {}
    doc = {"format": 1, "entries": [["e1", 5]]}
    stored[part_key(doc)] = doc
    assert read_part(stored.get, part_key(doc), collection="c", what="test") == doc
    with pytest.raises(StoreError, match="test part .* is missing from the store's 'c' collection; rebuild"):
        read_part(stored.get, "0" * 64, collection="c", what="test")
    with pytest.raises(StoreError, match="is missing"):
        read_part(None, part_key(doc), collection="c", what="test")  # nothing was ever stored
    stored[part_key(doc)] = {"format": 1, "entries": [["e1", 6]]}  # altered in place
    with pytest.raises(StoreError, match="does not match its key: it was altered"):
        read_part(stored.get, part_key(doc), collection="c", what="test")


@given(st.lists(st.tuples(st.sampled_from("abcdef"), st.integers(0, 6)), max_size=40), st.integers(1, 10),
       st.booleans())
def test_the_cache_keeps_the_newest_within_its_budget(puts: list[tuple[str, int]], budget: int,
                                                     by_items: bool) -> None:
    cache: PartCache[list[int]] = PartCache(budget, by_items=by_items)
    held: dict[str, list[int]] = {}
    for key, size in puts:
        items = list(range(size))
        cache.put(key, items)
        held[key] = items
        assert cache.get(key) is items  # the newest always stays
        kept = {k: v for k in held if (v := cache._parts.get(k)) is not None}
        weight = sum(len(v) if by_items else 1 for v in kept.values())
        assert len(kept) == 1 or weight <= budget
        assert all(v is held[k] for k, v in kept.items())  # never a stale part under a key
