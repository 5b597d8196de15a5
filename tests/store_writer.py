"""A writer that appends batches forever, for the killed-writer tests.

Usage: python store_writer.py URL BATCH_SIZE FIRST_BATCH [LAST_BATCH] [soon]
Batch b holds events ``b{b:05d}-{i:04d}``; after each append returns, the batch
number is printed, so the test knows which batches were committed.  With
``soon`` (a store with ``append_soon``), each batch is started with
``append_soon``, the next one is built meanwhile, and the number is printed once
``result()`` has returned.  With
LAST_BATCH it stops appending after that batch but keeps the store open (and
its writer's lock held) until it is killed, so a reader's work stays bounded.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta, timezone

from storefixtures import open_store

CST = timezone(timedelta(hours=8))
START = datetime(2025, 1, 1, tzinfo=CST)


def batch(b: int, size: int) -> list[dict[str, object]]:
    # Spread each batch over a few months so TinyDB writes several segments per batch.
    return [
        {
            "id": f"b{b:05d}-{i:04d}",
            "kind": "patrol_logged",
            "time": (START + timedelta(days=(b * 7 + i) % 120, seconds=i)).isoformat(),
            "actor": "worker1",
            "node": "u11",
            "note": "巡查" * 20,
        }
        for i in range(size)
    ]


def main() -> None:
    soon = sys.argv[-1] == "soon"
    args = sys.argv[1:-1] if soon else sys.argv[1:]
    url, size, first = args[0], int(args[1]), int(args[2])
    last = int(args[3]) if len(args) > 3 else None
    store = open_store(url)
    b = first
    if soon:
        docs = batch(b, size)
        while last is None or b <= last:
            pending = store.append_soon(docs)  # type: ignore[attr-defined]
            docs = batch(b + 1, size)  # (work done while the server stores batch b)
            pending.result()
            print(b, flush=True)
            b += 1
    while last is None or b <= last:
        store.append(batch(b, size))
        print(b, flush=True)
        b += 1
    while True:  # the store stays open, its lock held, until the test kills us
        time.sleep(1)


if __name__ == "__main__":
    main()
