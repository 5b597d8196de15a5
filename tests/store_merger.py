"""A writer adding parts to the same names as another, for the two-writer test of ``merge_parts``.

Usage: python store_merger.py URL WRITER ROUNDS START [off]
Waits until the wall clock reaches START, then ROUNDS times stores a part
``WRITER-r`` whose entries answer to every name of ``NAMES``, through
``PartNames.stored`` and ``gridcore.parts.NamesWriter`` as an archive does; with
``off`` the writer has no ``merge`` (the read-then-write of a store without
``merge_parts``), so the test can show that it loses additions.
"""

from __future__ import annotations

import sys
import time

from storefixtures import open_store

from gridcore.partnames import PartNames
from gridcore.parts import NamesWriter

COLLECTION = "names"
NAMES = [f"n{k:02d}" for k in range(12)]


def main() -> None:
    url, writer, rounds, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    store = open_store(url)
    names = PartNames(lambda name: store.get(COLLECTION, name))
    write = NamesWriter(store, COLLECTION)
    if sys.argv[5:] == ["off"]:
        write.merge = None
    time.sleep(max(0.0, start - time.time()))
    for r in range(rounds):
        names.stored([(r, f"{writer}-{r}", [[name] for name in NAMES])], write, unstored=[])
    store.close()
    print("done", flush=True)


if __name__ == "__main__":
    main()
