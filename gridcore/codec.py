"""Events to and from plain dicts (JSON documents), through one private cattrs converter.

Stores only ever see dicts; this module is the only place that turns them into
event objects and back, and every document is held to the input limits of
``gridcore.limits`` before it becomes an event.  A document that does not validate raises ``EventError``
naming the field and the reason, e.g. ``severity: must be between 1 and 5``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import cattrs
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError

from .errors import EventError
from .events import CORE_EVENT_TYPES, Event
from .limits import check_document

KIND = "kind"


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True)
    conv.register_unstructure_hook(datetime, lambda d: d.isoformat())

    def parse_time(value: Any, _: type) -> datetime:
        if isinstance(value, datetime):
            return value
        if not isinstance(value, str):
            raise TypeError("expected an ISO 8601 time string")
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"expected an ISO 8601 time like 2025-03-01T09:00:00+08:00, got {value!r}") from None

    conv.register_structure_hook(datetime, parse_time)

    def strict_float(value: Any, _: type) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"expected a number, got {value!r}")
        return float(value)

    def strict_int(value: Any, _: type) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise TypeError(f"expected a whole number, got {value!r}")
        return value

    def strict_str(value: Any, _: type) -> str:
        if not isinstance(value, str):
            raise TypeError(f"expected text, got {value!r}")
        return value

    def strict_bool(value: Any, _: type) -> bool:
        if not isinstance(value, bool):
            raise TypeError(f"expected true or false, got {value!r}")
        return value

    conv.register_structure_hook(float, strict_float)
    conv.register_structure_hook(int, strict_int)
    conv.register_structure_hook(str, strict_str)
    conv.register_structure_hook(bool, strict_bool)
    return conv


class EventCodec:
    """Knows every registered event kind; turns events into dicts and back."""

    def __init__(self, types: Iterable[type[Event]] = CORE_EVENT_TYPES) -> None:
        self._conv = _make_converter()
        self._types: dict[str, type[Event]] = {}
        for cls in types:
            self.register(cls)

    def register(self, cls: type[Event]) -> None:
        """Add an event class; its ``kind`` must be new."""
        if not (isinstance(cls, type) and issubclass(cls, Event) and hasattr(cls, "__attrs_attrs__")):
            raise TypeError(f"{cls!r} is not an attrs Event class")
        existing = self._types.get(cls.kind)
        if existing is not None and existing is not cls:
            raise ValueError(f"event kind {cls.kind!r} is registered twice ({existing.__name__}, {cls.__name__})")
        self._types[cls.kind] = cls

    def registered(self, cls: type[Event]) -> bool:
        """True if ``cls`` is the class registered for its kind (asked for every event recorded)."""
        return self._types.get(cls.kind) is cls

    @property
    def kinds(self) -> dict[str, type[Event]]:
        """Every registered kind and its class."""
        return dict(self._types)

    def to_dict(self, event: Event) -> dict[str, Any]:
        """A JSON-ready dict of the event, tagged with its ``kind``."""
        doc: dict[str, Any] = self._conv.unstructure(event)
        doc[KIND] = type(event).kind
        return doc

    def checked_dict(self, event: Event) -> dict[str, Any]:
        """``to_dict`` for an event built in Python, held to the input limits (``EventError``)."""
        if type(event).kind not in self._types:
            known = ", ".join(sorted(self._types))
            raise EventError(f"kind: unknown event kind {type(event).kind!r} (known: {known})")
        doc = self.to_dict(event)
        check_document(doc)
        return doc

    def from_dict(self, doc: Mapping[str, Any]) -> Event:
        """Build and validate an event; raise ``EventError`` with field and reason.

        The document is first held to the input limits of ``gridcore.limits``
        (text length per field, valid Unicode, nesting, number size).
        """
        if not isinstance(doc, Mapping):
            raise EventError(f"an event must be a JSON object, got {type(doc).__name__}")
        check_document(doc)
        kind = doc.get(KIND)
        if kind is None:
            raise EventError("kind: missing (say which event this is, e.g. \"activity_recorded\")")
        cls = self._types.get(kind) if isinstance(kind, str) else None
        if cls is None:
            known = ", ".join(sorted(self._types))
            raise EventError(f"kind: unknown event kind {kind!r} (known: {known})")
        body = {k: v for k, v in doc.items() if k != KIND}
        try:
            return self._conv.structure(body, cls)
        except ClassValidationError as exc:
            raise EventError(_describe(exc, kind)) from None
        except (ValueError, TypeError) as exc:
            raise EventError(f"{kind}: {exc}") from None


def _describe(exc: ClassValidationError, kind: str) -> str:
    messages: list[str] = []
    for leaf, path in _leaves(exc, "$"):
        if isinstance(leaf, ForbiddenExtraKeysError):
            messages.append("unknown field(s) " + ", ".join(sorted(leaf.extra_fields)))
        elif isinstance(leaf, KeyError):
            messages.append(f"{path.removeprefix('$.')}: missing")
        elif path == "$":
            messages.append(str(leaf))
        else:
            messages.append(f"{path.removeprefix('$.')}: {leaf}")
    return f"{kind}: " + "; ".join(messages)


def _leaves(exc: BaseException, path: str) -> Iterable[tuple[BaseException, str]]:
    if isinstance(exc, cattrs.BaseValidationError):
        for sub in exc.exceptions:
            note = getattr(sub, "__notes__", None) or []
            name = ""
            for n in note:
                if isinstance(n, str) and "attribute" in n:
                    name = n.rsplit(" ", 1)[-1]
            yield from _leaves(sub, f"{path}.{name}" if name else path)
    else:
        yield exc, path
