"""What the incident-loop tests share: the small test community, a Monday at 09:00, an engine on a ruleset text.

``open_loop(tmp_path, rules)`` writes ``rules`` next to the store and opens an
engine on them (effective the day before, the clock at ``T0``), with the
plugins a test does not need left out; ``loop_event`` builds one step of the
loop at ``hour`` hours after ``T0`` in unit ``u11``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from gridcore import Engine, Event, FixedClock, get_plugin_manager

COMMUNITY = Path(__file__).parent / "data" / "escalation" / "community"
TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=TZ)  # a Monday


def at(hours: float) -> datetime:
    """``hours`` after ``T0``."""
    return T0 + timedelta(hours=hours)


def open_loop(tmp_path: Path, rules: str, name: str = "store", *, file: str | None = None,
              without: Sequence[str] = ("points", "assessment")) -> Engine:
    """An engine on the store ``tmp_path/name`` under ``rules`` (written to ``file``, default ``name.rules``)."""
    path = tmp_path / (file or f"{name}.rules")
    path.write_text(rules, encoding="utf-8")
    return Engine.open(store=str(tmp_path / name), community=COMMUNITY, ruleset=str(path),
                       effective=T0 - timedelta(days=1), clock=FixedClock(T0),
                       plugins=get_plugin_manager(tuple(without)))


def loop_event(cls: type[Event], hour: float, actor: str, incident: str = "I1", *, actor_in_id: bool = False,
               **kw: Any) -> Any:
    """A step of ``incident`` at ``at(hour)`` by ``actor`` in unit u11 (its id names the actor when asked)."""
    ident = f"{incident}-{cls.kind}-{hour}" + (f"-{actor}" if actor_in_id else "")
    build: Any = cls  # an incident event class: its fields go beyond Event's
    return build(id=ident, time=at(hour), actor=actor, node="u11", incident=incident, **kw)
