"""The escalation plugin's state as a checkpoint document, and back (``gridcore_save_state``).

Built with cattrs: times as ISO 8601 with their offset, spans as days, seconds
and microseconds, sets as sorted lists.  Only open incidents are saved whole;
closed ones are in the archive (archive.py), whose sealed parts are written to
the store first and named by their keys.  What is not data is not saved: each
incident's policy is the one in force when it was reported (looked up again
from the engine's rulesets, which a checkpoint only fits if they are the
same), its route an index into that policy's routes, and what falls due is
computed again from the restored records (``EscalationState.schedule``).
"""

from __future__ import annotations

import sys
import types
import typing
from collections import defaultdict
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs
import cattrs
from cattrs.fns import identity
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from gridcore import Explanation
from gridcore.parts import part_writers

from .archive import COLLECTION, NAMES, Archive
from .incident import Incident
from .intake import policy_at
from .records import level_policy

if TYPE_CHECKING:
    from gridcore import Engine

    from .state import EscalationState

_converter = cattrs.Converter(unstruct_collection_overrides={AbstractSet: sorted})
_converter.register_unstructure_hook(datetime, lambda when: when.isoformat())
_converter.register_structure_hook(datetime, lambda value, _: datetime.fromisoformat(value))
_converter.register_unstructure_hook(timedelta, lambda span: [span.days, span.seconds, span.microseconds])
_converter.register_structure_hook(timedelta, lambda value, _: timedelta(value[0], value[1], value[2]))

# (the package exports a function named ``incident``: reach the module through sys.modules)
attrs.resolve_types(Incident, globalns=vars(sys.modules[Incident.__module__]))
#: Incident fields that are saved as they are (the policy and route are references).
_REFERENCES = ("policy", "route", "level_policy")
_FIELDS = [(f.name, f.type) for f in attrs.fields(Incident) if f.name not in _REFERENCES and f.type]


def _iso(when: datetime) -> str:
    return when.isoformat()


def _quick_hook(kind: Any) -> Callable[[Any], Any]:
    """The converter's unstructure hook for ``kind``, giving the same values with fewer calls where
    ``kind`` is a plain shape: ``X | None`` and ``list[X]`` (most of an incident's lists are empty, and
    cattrs builds each list through a generator) over text, numbers and times."""
    args = typing.get_args(kind)
    origin = typing.get_origin(kind)
    if kind is datetime:
        return _iso
    if origin in (types.UnionType, typing.Union) and len(args) == 2 and type(None) in args:
        inner = _quick_hook(next(arg for arg in args if arg is not type(None)))
        if inner is identity:
            return identity
        return lambda value: None if value is None else inner(value)
    if origin is list and len(args) == 1:
        item = _quick_hook(args[0])
        if item is identity:
            return lambda items: list(items) if items else []
        return lambda items: [item(one) for one in items] if items else []
    hook: Callable[[Any], Any] = _converter.get_unstructure_hook(kind)
    return hook


#: The fields of ``_FIELDS`` as a document, in their order, by one function cattrs generates
#: (an incident is written on every checkpoint while open and once more when archived, about
#: a third of the plugin's time per event: the quicker hooks halve it)
_unstructure_fields = make_dict_unstructure_fn(
    Incident, _converter, **{name: override(omit=True) for name in _REFERENCES},  # type: ignore[arg-type]
    **{name: override(unstruct_hook=_quick_hook(kind)) for name, kind in _FIELDS})
_NAMES = frozenset(name for name, _ in _FIELDS)


def _as_given(value: Any, _: Any) -> Any:
    return value


#: ... and back (the references given as None, then looked up: ``_load_incident``); an incident is
#: read back whenever an event or a read reaches a closed one in the archive
_structure_fields = make_dict_structure_fn(
    Incident, _converter, **{name: override(struct_hook=_as_given) for name in _REFERENCES})  # type: ignore[arg-type]


def save(state: EscalationState) -> dict[str, Any]:
    """The state as a JSON document; sealed parts of the archive are stored first (unless read-only)."""
    engine = state.engine
    writer, names = part_writers(engine.store, COLLECTION, NAMES)

    dumped = state.dumped
    incidents = []
    for ident, incident in sorted(state.incidents.items()):
        doc = dumped.get(ident)
        if doc is None:  # (changed since the last save: ``Records.changed``)
            doc = dumped[ident] = _dump_incident(incident)
        incidents.append(doc)
    return {
        "incidents": incidents,
        "aliases": dict(sorted(state.aliases.items())),
        "reports_at": [[c, k, _converter.unstructure(times, list[datetime])]
                       for (c, k), times in sorted(state.reports_at.items())],
        "at_place": [[c, k, list(ids)] for (c, k), ids in sorted(state.at_place.items())],
        "escalation_index": {k: list(v) for k, v in sorted(state.escalation_index.items())},
        "decisions": {k: _converter.unstructure(v, Explanation) for k, v in sorted(state.decisions.items())},
        "closed": state.archive.save(None, None) if engine.read_only else state.archive.save(writer, names),
    }


def restore(state: EscalationState, engine: Engine, document: dict[str, Any]) -> None:
    """Rebuild ``state`` from a document ``save`` gave; ``ValueError`` if it cannot be read."""
    try:
        incidents = [_load_incident(engine, doc) for doc in document["incidents"]]
        state.incidents = {incident.id: incident for incident in incidents}
        state.dumped = {}  # (dumped again at the next save: a document read back holds lists for tuples)
        state.aliases = {str(k): str(v) for k, v in document["aliases"].items()}
        state.reports_at = defaultdict(list)
        for category, key, times in document["reports_at"]:
            state.reports_at[(category, key)] = [datetime.fromisoformat(t) for t in times]
        state._report_order = None
        state.at_place = defaultdict(list)
        for category, key, ids in document["at_place"]:
            state.at_place[(category, key)] = [str(i) for i in ids]
        state.escalation_index = {str(k): (str(v[0]), int(v[1])) for k, v in document["escalation_index"].items()}
        state.decisions = {str(k): _converter.structure(v, Explanation) for k, v in document["decisions"].items()}
        state.archive = Archive.restore(document["closed"], state.load_part, state.load_names)
        state._decoded.clear()
    except (KeyError, TypeError, IndexError, cattrs.BaseValidationError) as exc:
        raise ValueError(f"unreadable escalation checkpoint: {exc}") from exc
    state.due = {}
    state._heap = []
    state._clocks = {}
    for incident in state.incidents.values():
        state.schedule(incident)


def dump_explanation(explanation: Explanation) -> dict[str, Any]:
    """An explanation as a JSON document."""
    out: dict[str, Any] = _converter.unstructure(explanation, Explanation)
    return out


def load_explanation(document: dict[str, Any]) -> Explanation:
    """The explanation ``dump_explanation`` wrote."""
    return _converter.structure(document, Explanation)


def _dump_incident(incident: Incident) -> dict[str, Any]:
    out: dict[str, Any] = _unstructure_fields(incident)
    route = None
    if incident.route is not None and incident.policy is not None:
        route = next(n for n, r in enumerate(incident.policy.routes) if r is incident.route)
    out["route"] = route
    return out


def _load_incident(engine: Engine, doc: dict[str, Any]) -> Incident:
    if not _NAMES <= doc.keys():  # every field is saved: a document without one is not this version's
        raise KeyError(", ".join(sorted(_NAMES - doc.keys())))
    incident: Incident = _structure_fields({**doc, "policy": None, "route": None, "level_policy": None})
    policy, _ = policy_at(engine, incident.reported_at, incident.node)
    incident.policy = policy
    incident.route = None if doc["route"] is None or policy is None else policy.routes[int(doc["route"])]
    incident.level_policy = level_policy(engine, incident)
    return incident
