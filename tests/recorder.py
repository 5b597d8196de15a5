"""A small throwaway plugin used by the core's tests.

It records every hook call, refuses activities named ``forbidden``, and derives
a ``reminder_due`` event 24 hours after each ``reminder`` activity, so tests can
watch validation, ordering, ticks and replays from a plugin's point of view.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

from attrs import frozen

from gridcore import SYSTEM_ACTOR, Engine, Event, hookimpl
from gridcore.events import ActivityRecorded


@frozen(kw_only=True)
class ReminderDue(Event):
    """Derived: a reminder fell due."""

    kind: ClassVar[str] = "reminder_due"
    derived: ClassVar[bool] = True
    about: str


class RecorderState:
    """Per-engine state: what the plugin saw, and reminders still pending."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, bool]] = []
        self.pending: dict[str, datetime] = {}

    @hookimpl
    def gridcore_validate_event(self, event: Event) -> list[str] | None:
        if isinstance(event, ActivityRecorded) and event.activity == "forbidden":
            return ["activity 'forbidden' is not allowed here"]
        return None

    @hookimpl
    def gridcore_on_event(self, event: Event, replaying: bool) -> None:
        self.seen.append((event.id, replaying))
        if isinstance(event, ActivityRecorded) and event.activity == "reminder":
            self.pending[event.id] = event.time + timedelta(hours=24)
        if isinstance(event, ReminderDue):
            self.pending.pop(event.about, None)

    @hookimpl
    def gridcore_on_tick(self, engine: Engine, now: datetime) -> list[Event]:
        return [
            ReminderDue(id=f"due:{about}", time=due, actor=SYSTEM_ACTOR, node=engine.community.hierarchy.roots()[0].id, about=about)
            for about, due in sorted(self.pending.items())
            if due <= now
        ]


class RecorderPlugin:
    """The plugin object: registers the event type and attaches fresh state per engine."""

    @hookimpl
    def gridcore_register_event_types(self) -> list[type[Event]]:
        return [ReminderDue]

    @hookimpl
    def gridcore_on_open(self, engine: Engine) -> None:
        engine.attach("recorder", RecorderState())
