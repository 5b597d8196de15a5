"""A writer that appends events one at a time, each conditional on the position it read.

Usage: python store_appender.py URL NAME COUNT
Appends events ``NAME-0000`` ... and retries each on ``StoreConflict`` (at most
1,000 times per event).  Prints ``done CONFLICTS`` at the end, or the error.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone

from storefixtures import open_store

from gridcore import StoreConflict, StoreError

CST = timezone(timedelta(hours=8))
START = datetime(2025, 1, 1, tzinfo=CST)


def main() -> None:
    url, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    try:
        store = open_store(url)
        conflicts = 0
        for n in range(count):
            doc = {"id": f"{name}-{n:04d}", "kind": "patrol_logged", "time": (START + timedelta(minutes=n)).isoformat(),
                   "actor": "worker1", "node": "u11"}
            for _ in range(1000):
                seen = store.position()
                try:
                    assert store.append([doc], expected=seen) == 1
                    break
                except StoreConflict:
                    conflicts += 1
            else:
                raise SystemExit(f"gave up on {doc['id']}")
        store.close()
    except StoreError as exc:
        print(f"error {exc}", flush=True)
        return
    print(f"done {conflicts}", flush=True)


if __name__ == "__main__":
    main()
