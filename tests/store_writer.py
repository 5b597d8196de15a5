"""A writer that appends batches forever, for the killed-writer tests.

Usage: python store_writer.py URL BATCH_SIZE FIRST_BATCH [LAST_BATCH]
Batch b holds events ``b{b:05d}-{i:04d}``; after each append returns, the batch
number is printed, so the test knows which batches were committed.  With
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
    url, size, first = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    last = int(sys.argv[4]) if len(sys.argv) > 4 else None
    store = open_store(url)
    b = first
    while last is None or b <= last:
        store.append(batch(b, size))
        print(b, flush=True)
        b += 1
    while True:  # the store stays open, its lock held, until the test kills us
        time.sleep(1)


if __name__ == "__main__":
    main()
