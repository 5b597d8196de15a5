"""Fixtures and helpers shared by the store tests: every backend, fresh stores, event documents.

PostgreSQL runs when ``GRIDCORE_TEST_POSTGRES_URL`` is set, or when
``.ci/postgres.sh`` can start a local server (as root); otherwise its tests are
skipped with the reason.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from gridcore.plugin_host import Hooks, get_plugin_manager
from gridcore.store import Store

REPO = Path(__file__).resolve().parent.parent
BACKENDS = ("tinydb", "sqlite", "postgresql")
CST = timezone(timedelta(hours=8))
BASE = datetime(2025, 1, 1, 8, 0, tzinfo=CST)


@cache
def postgres_base_url() -> tuple[str | None, str]:
    """``(url, reason)``: a PostgreSQL server URL for tests, or None and why not."""
    url = os.environ.get("GRIDCORE_TEST_POSTGRES_URL")
    if url:
        return url, ""
    script = REPO / ".ci" / "postgres.sh"
    if os.environ.get("CI"):
        # .ci/run already ran postgres.sh and exports the URL when it worked.
        return None, "GRIDCORE_TEST_POSTGRES_URL is not set: .ci/postgres.sh could not start a server in CI"
    if os.geteuid() != 0:
        return None, "GRIDCORE_TEST_POSTGRES_URL is not set and starting a server needs root"
    try:
        done = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"GRIDCORE_TEST_POSTGRES_URL is not set and .ci/postgres.sh failed: {exc}"
    if done.returncode != 0 or not done.stdout.strip():
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"GRIDCORE_TEST_POSTGRES_URL is not set and .ci/postgres.sh failed: {reason}"
    return done.stdout.strip().splitlines()[-1], ""


def drop_schema(base: str, schema: str) -> None:
    import psycopg

    from gridcore.store.postgres_store import split_url

    conninfo, _ = split_url(base)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


class StoreFactory:
    """Makes fresh store URLs of one backend and removes what it made."""

    def __init__(self, backend: str, folder: Path) -> None:
        self.backend = backend
        self.folder = folder
        self.schemas: list[str] = []
        self.opened: list[Store] = []
        self.n = 0
        if backend == "postgresql":
            base, reason = postgres_base_url()
            if base is None:
                pytest.skip(f"PostgreSQL backend not tested: {reason}")
            self.base = base

    def url(self) -> str:
        """A URL naming a store that does not exist yet."""
        self.n += 1
        if self.backend == "tinydb":
            return str(self.folder / f"store{self.n}")
        if self.backend == "sqlite":
            return f"sqlite:///{self.folder}/store{self.n}.db"
        schema = f"t_{uuid.uuid4().hex[:12]}"
        self.schemas.append(schema)
        sep = "&" if "?" in self.base else "?"
        return f"{self.base}{sep}schema={schema}"

    def open(self, url: str | None = None) -> Store:
        """Open (through the storage hook, as the engine does) and remember to close."""
        store = open_store(url or self.url())
        self.opened.append(store)
        return store

    def cleanup(self) -> None:
        for store in self.opened:
            store.close()
        for schema in self.schemas:
            drop_schema(self.base, schema)


def stores_fixture(backends: Sequence[str] = BACKENDS, *, name: str = "stores") -> Any:
    """A fixture giving each test a ``StoreFactory`` per backend of ``backends`` (its stores closed and its
    PostgreSQL schemas dropped after the test).  Bind it in the test module to the name it has:
    ``stores = stores_fixture()``, ``sql = stores_fixture(("sqlite", "postgresql"), name="sql")``."""

    @pytest.fixture(params=tuple(backends), name=name)
    def factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
        made = StoreFactory(request.param, tmp_path)
        yield made
        made.cleanup()

    return factory


def open_store(url: str) -> Store:
    """Open a store by URL through the plugin host's storage hook."""
    return Hooks(get_plugin_manager(load_entry_points=False)).storage_backend(url)


def event(n: int, *, kind: str = "activity_recorded", hours: float | None = None, tz: timezone = CST,
          **extra: Any) -> dict[str, Any]:
    """An event document number ``n`` (time ``BASE + n hours`` unless ``hours`` is given)."""
    when = (BASE + timedelta(hours=n if hours is None else hours)).astimezone(tz)
    return {"id": f"e{n:06d}", "kind": kind, "time": when.isoformat(), "actor": "worker1",
            "node": "u11", **extra}


def ids(docs: Any) -> list[str]:
    return [doc["id"] for doc in docs]


def canonical(docs: list[dict[str, Any]]) -> list[str]:
    """Ids in canonical order (UTC time, then id), computed independently of the stores."""
    def key(doc: dict[str, Any]) -> tuple[datetime, str]:
        return datetime.fromisoformat(doc["time"]).astimezone(UTC), doc["id"]

    return [doc["id"] for doc in sorted(docs, key=key)]


Factory = Callable[[], Store]
