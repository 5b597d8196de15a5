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

from gridcore import Explanation, RuleRef
from gridcore.codec import read_time, time_text
from gridcore.fastjson import plain
from gridcore.parts import part_writers

from .archive import COLLECTION, NAMES, Archive
from .incident import Entry, Incident
from .intake import policy_at
from .records import level_policy

if TYPE_CHECKING:
    from gridcore import Engine

    from .state import EscalationState

_converter = cattrs.Converter(unstruct_collection_overrides={AbstractSet: sorted})
_converter.register_unstructure_hook(datetime, lambda when: when.isoformat())
_converter.register_structure_hook(datetime, lambda value, _: read_time(value))
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
#: a third of the plugin's time per event: the quicker hooks halve it).  mypy matches a ``**`` dict
#: against the function's bool keywords too, not only its ``**kwargs: AttributeOverride``: hence the ignores.
_unstructure_fields = make_dict_unstructure_fn(
    Incident, _converter, **{name: override(omit=True) for name in _REFERENCES},  # type: ignore[arg-type]
    **{name: override(unstruct_hook=_quick_hook(kind)) for name, kind in _FIELDS})  # type: ignore[arg-type]
_NAMES = frozenset(name for name, _ in _FIELDS)


class _QuickDump:
    """Builds the source of one function giving the document ``_unstructure_fields`` gives, each time
    in it written once: an incident's times are mostly the same few objects (an event's time is its
    timeline line's, a clock's start, a step's ``..._at``: about 8 objects for 18 times in a district's
    incidents), and writing times (``isoformat``) was most of writing an incident.  Within one call
    a time's text is kept by the object's ``id`` (the incident holds every one of them for the call,
    so no id is reused in it).

    Text, numbers and flags are written as they are, times as ``_iso``, spans as the converter's hook
    writes them; ``X | None``, lists, ``tuple[X, ...]`` (a list), sets (sorted), ``dict[str, X]``,
    tuples of fixed length (tuples, as the converter gives them) and attrs classes made only of
    those are written out in place.  Any other type (``Any``, a class with such a field) is given to
    the hook ``_unstructure_fields`` uses for it (``_quick_hook``).  ``tests/test_escalation_archive.py``
    checks that both write the same document, type for type.
    """

    def __init__(self) -> None:
        # (``__iso``: ``isoformat``, written from the fields for a fixed-offset time, and kept by object
        # for the times written lately: an incident's are mostly its events', which the codec just wrote)
        self.names: dict[str, Any] = {"__sorted": sorted, "__list": list, "__id": id, "__iso": time_text}
        self.count = 0
        #: the source of the last function made
        self.source = ""

    def fresh(self) -> str:
        self.count += 1
        return f"v{self.count}"

    def plain(self, kind: Any) -> bool:
        """True if ``kind`` is written as it is (text, numbers, flags, and None of those)."""
        if kind in (str, int, bool):
            return True
        args = typing.get_args(kind)
        if typing.get_origin(kind) in (types.UnionType, typing.Union) and len(args) == 2 and type(None) in args:
            return self.plain(next(arg for arg in args if arg is not type(None)))
        return False

    def known(self, kind: Any) -> bool:
        """True if ``kind`` is written out here (no hook)."""
        if self.plain(kind) or kind in (datetime, timedelta):
            return True
        args = typing.get_args(kind)
        if typing.get_origin(kind) in (types.UnionType, typing.Union, list, set, tuple, dict):
            return bool(args) and all(arg is type(None) or arg is Ellipsis or self.known(arg) for arg in args)
        return attrs.has(kind) and self.simple(kind)

    def simple(self, cls: type) -> bool:
        """True if every field of attrs class ``cls`` is written out here."""
        attrs.resolve_types(cls, globalns=vars(sys.modules[cls.__module__]))
        return all(one.type is not None and self.known(one.type) for one in attrs.fields(cls))

    def expression(self, kind: Any, value: str) -> str:
        """An expression giving the document of ``value`` of type ``kind`` (``value``: a name, or an
        attribute or item of one, read as often as need be)."""
        if self.plain(kind):
            return value
        if kind is datetime:
            return f"(__m.get(__k := __id({value})) or __m.setdefault(__k, __iso({value})))"
        if kind is timedelta:
            return f"[{value}.days, {value}.seconds, {value}.microseconds]"
        args = typing.get_args(kind)
        origin = typing.get_origin(kind)
        if origin in (types.UnionType, typing.Union) and len(args) == 2 and type(None) in args:
            inner = self.expression(next(arg for arg in args if arg is not type(None)), value)
            return f"(None if {value} is None else {inner})"
        if (origin in (list, set) and len(args) == 1) or (origin is tuple and len(args) == 2 and args[1] is Ellipsis):
            item = self.fresh()
            inner = self.expression(args[0], item)
            if origin is set:
                return f"__sorted({value})" if inner == item else f"__sorted([{inner} for {item} in {value}])"
            return f"__list({value})" if inner == item else f"[{inner} for {item} in {value}]"
        if origin is tuple and args and Ellipsis not in args and self.known(kind):
            parts = [self.expression(arg, f"{value}[{n}]") for n, arg in enumerate(args)]
            return f"({', '.join(parts)},)"
        if origin is dict and len(args) == 2 and args[0] is str and self.known(args[1]):
            key, entry = self.fresh(), self.fresh()
            return f"{{{key}: {self.expression(args[1], entry)} for {key}, {entry} in {value}.items()}}"
        if attrs.has(kind) and self.simple(kind):
            return self.document(kind, value)
        name = f"__hook{len(self.names)}"
        self.names[name] = _quick_hook(kind)
        return f"{name}({value})"

    def document(self, cls: type, instance: str, skip: tuple[str, ...] = ()) -> str:
        """A dict literal of the fields of attrs class ``cls`` read from ``instance``, in their order."""
        attrs.resolve_types(cls, globalns=vars(sys.modules[cls.__module__]))
        items = [f"{one.name!r}: {self.expression(one.type, f'{instance}.{one.name}')}"
                 for one in attrs.fields(cls) if one.name not in skip]
        return "{" + ", ".join(items) + "}"

    def function(self, cls: type, skip: tuple[str, ...] = ()) -> Callable[[Any], dict[str, Any]]:
        """The function giving the document of an instance of ``cls`` (``skip``: fields left out)."""
        self.source = f"def quick_dump(o):\n    __m = {{}}\n    return {self.document(cls, 'o', skip)}\n"
        exec(compile(self.source, f"<quick unstructure {cls.__qualname__}>", "exec"), self.names)  # noqa: S102
        return self.names["quick_dump"]  # type: ignore[no-any-return]

    def compact(self, cls: type, defaults: dict[str, Any], skip: tuple[str, ...] = ()) -> Callable[[Any], dict[str, Any]]:
        """``function``'s document without the fields of ``defaults`` (name -> the document of its
        default) that hold their default: the fields not among them first, then each other one unless
        its document is its default's (None, an empty list or dict, False: by what the expression always
        gives; anything else by type and value)."""
        attrs.resolve_types(cls, globalns=vars(sys.modules[cls.__module__]))
        kept = [one for one in attrs.fields(cls) if one.name not in skip]
        items = [f"{one.name!r}: {self.expression(one.type, f'o.{one.name}')}" for one in kept
                 if one.name not in defaults]
        lines = ["def compact_dump(o):", "    __m = {}", "    d = {" + ", ".join(items) + "}"]
        for one in kept:
            if one.name not in defaults:
                continue
            made = self.expression(one.type, f"o.{one.name}")
            default = defaults[one.name]
            if default is None:
                test = f"(v := {made}) is not None"
            elif default is False:
                test = f"(v := {made}) is not False"
            elif (default == [] and type(default) is list and made.startswith(("[", "__list(", "__sorted("))) or (
                    default == {} and type(default) is dict and made.startswith("{")):
                test = f"(v := {made})"  # (always a list, or a dict: empty at the default)
            else:
                name = f"__default_{one.name}"
                self.names[name] = default
                test = f"type(v := {made}) is not type({name}) or v != {name}"
            lines.append(f"    if {test}:\n        d[{one.name!r}] = v")
        lines.append("    return d")
        self.source = "\n".join(lines) + "\n"
        exec(compile(self.source, f"<compact unstructure {cls.__qualname__}>", "exec"), self.names)  # noqa: S102
        return self.names["compact_dump"]  # type: ignore[no-any-return]


#: ``_unstructure_fields``, each time written once: an incident is written when it closes (its archive
#: entry), again when an event reaches it closed, and at a checkpoint while open if it changed
_quick_dump = _QuickDump().function(Incident, _REFERENCES)


def _as_given(value: Any, _: Any) -> Any:
    return value


#: ... and back (the references given as None, then looked up: ``_load_incident``); an incident is
#: read back whenever an event or a read reaches a closed one in the archive
_structure_fields = make_dict_structure_fn(
    Incident, _converter, **{name: override(struct_hook=_as_given) for name in _REFERENCES})  # type: ignore[arg-type]


class _Quick:
    """Builds the source of one function structuring an attrs class as ``_converter`` does for a
    document the converter wrote, with far fewer calls: each field's value is one inline expression
    (no per-field ``try``, no generic dispatch, no hook per list item), and nested classes are called
    in place.

    Text, numbers and flags are converted as cattrs converts them (``str(value)`` ...), times as
    ``_converter``'s hooks do.  A document it cannot read (a field missing, a tuple of another length)
    raises, and the caller reads it with the converter instead (``_structure_incident``); a type it
    does not know makes ``source`` give None (the converter is used for the whole class).
    """

    def __init__(self) -> None:
        self.names: dict[str, Any] = {"__iso": read_time, "__span": timedelta, "__str": str,
                                      "__int": int, "__bool": bool, "__tuple": tuple, "__bad": _bad}
        self.count = 0

    def fresh(self) -> str:
        self.count += 1
        return f"v{self.count}"

    def expression(self, kind: Any, value: str) -> str | None:
        """An expression giving ``kind`` structured from the expression ``value`` (a name or a
        subscript of one: read once); None for a type this does not know."""
        if kind is str:
            return f"__str({value})"
        if kind is int:
            return f"__int({value})"
        if kind is bool:
            return f"__bool({value})"
        if kind is datetime:
            return f"__iso({value})"
        if kind is timedelta:
            held = self.fresh()
            return f"__span(({held} := {value})[0], {held}[1], {held}[2])"
        if kind is Any:
            return value
        args = typing.get_args(kind)
        origin = typing.get_origin(kind)
        if origin in (types.UnionType, typing.Union) and len(args) == 2 and type(None) in args:
            held = self.fresh()
            inner = self.expression(next(arg for arg in args if arg is not type(None)), held)
            return None if inner is None else f"(None if ({held} := {value}) is None else {inner})"
        if origin in (list, set) and len(args) == 1 or origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            item = self.fresh()
            inner = self.expression(args[0], item)
            if inner is None:
                return None
            if origin is set:
                return f"{{{inner} for {item} in {value}}}"
            made = f"[{inner} for {item} in {value}]"
            return made if origin is list else f"__tuple({made})"
        if origin is tuple and args and Ellipsis not in args:
            held = self.fresh()
            parts = [self.expression(arg, f"{held}[{n}]") for n, arg in enumerate(args)]
            known = [part for part in parts if part is not None]
            if len(known) < len(parts):
                return None
            return f"(({', '.join(known)},) if len({held} := {value}) == {len(args)} else __bad())"
        if origin is dict and len(args) == 2:
            key, entry = self.fresh(), self.fresh()
            keys, entries = self.expression(args[0], key), self.expression(args[1], entry)
            if keys is None or entries is None:
                return None
            return f"{{{keys}: {entries} for {key}, {entry} in {value}.items()}}"
        if attrs.has(kind):
            held = self.fresh()
            call = self.construct(kind, held)
            return None if call is None else f"({call} if ({held} := {value}) is not None else __bad())"
        return None

    def construct(self, cls: type, doc: str, given: tuple[str, ...] = ()) -> str | None:
        """A call of ``cls`` with each field read from the document named ``doc`` (``given``: passed
        as None, not read)."""
        attrs.resolve_types(cls, globalns=vars(sys.modules[cls.__module__]))
        name = f"__{cls.__name__}"
        self.names[name] = cls
        found = attrs.fields(cls)
        if any(not one.init or one.kw_only for one in found):
            return None
        values = []
        for one in found:
            value = "None" if one.name in given else self.expression(one.type, f"{doc}[{one.name!r}]")
            if value is None:
                return None
            values.append(value)
        return f"{name}({', '.join(values)})"

    def function(self, cls: type, given: tuple[str, ...] = ()) -> Callable[[dict[str, Any]], Any] | None:
        """The function structuring ``cls`` (None where a field's type is not known here)."""
        made = self.construct(cls, "o", given)
        if made is None:
            return None
        source = f"def quick(o):\n    return {made}\n"
        exec(compile(source, f"<quick structure {cls.__qualname__}>", "exec"), self.names)  # noqa: S102
        return self.names["quick"]  # type: ignore[no-any-return]


def _bad() -> Any:
    raise ValueError("not as this version writes it")


#: ``_structure_fields`` for a document as this version writes it (every field present), in about
#: a third of the calls: a roll-up decodes every incident of its period from the archive
_quick_fields = _Quick().function(Incident, _REFERENCES)


def _structure_incident(doc: dict[str, Any]) -> Incident:
    """The incident of ``doc`` (policy, route and level policy None): by ``_quick_fields``, or by the
    converter where that cannot read it (the converter's error, or what it makes of an older shape)."""
    if _quick_fields is not None:
        try:
            return _quick_fields(doc)  # type: ignore[no-any-return]
        except Exception:  # noqa: BLE001, S110 (read again by the converter: its result, or its error)
            pass
    incident: Incident = _structure_fields({**doc, "policy": None, "route": None, "level_policy": None})
    return incident


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
        "decisions": {k: dump_explanation(v) for k, v in sorted(state.decisions.items())},
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
            state.reports_at[(category, key)] = [read_time(t) for t in times]
        state._report_order = None
        state.at_place = defaultdict(list)
        for category, key, ids in document["at_place"]:
            state.at_place[(category, key)] = [str(i) for i in ids]
        state.escalation_index = {str(k): (str(v[0]), int(v[1])) for k, v in document["escalation_index"].items()}
        state.decisions = {str(k): load_explanation(v) for k, v in document["decisions"].items()}
        state.archive = Archive.restore(document["closed"], state.load_part, state.load_names,
                                        state.load_many_names, state.load_parts)
        state._decoded.clear()
        state._judged = None
        state._closed.clear()
    except (KeyError, TypeError, IndexError, cattrs.BaseValidationError) as exc:
        raise ValueError(f"unreadable escalation checkpoint: {exc}") from exc
    state.due = {}
    state._heap = []
    state._queued = {}
    state._clocks = {}
    for incident in state.incidents.values():
        state.schedule(incident)


#: Values an explanation's inputs and result hold most often, which cattrs writes and reads as they are.
_AS_THEY_ARE = frozenset({str, int, float, bool, type(None)})


def dump_explanation(explanation: Explanation) -> dict[str, Any]:
    """An explanation as a JSON document: what ``_converter.unstructure(explanation, Explanation)`` writes,
    written out here (each value of its inputs and its result unstructured by its own type, as cattrs does for
    ``Any``, a plain one as it is), so that no process has cattrs generate the functions for ``Explanation``,
    ``RuleRef`` and the mapping of inputs the first time it decides (about 14 million instructions, once per
    process: docs/benchmarks.md).  An explanation of another shape (a subclass, a rule that is no ``RuleRef``)
    is cattrs' to write."""
    rules = explanation.rules
    if type(explanation) is not Explanation or type(rules) is not tuple or any(
            type(rule) is not RuleRef for rule in rules):
        out: dict[str, Any] = _converter.unstructure(explanation, Explanation)
        return out
    plain, unstructure = _AS_THEY_ARE, _converter.unstructure
    result = explanation.result
    return {
        "decision": explanation.decision,
        "summary": explanation.summary,
        "rules": [{"file": rule.file, "line": rule.line, "column": rule.column, "text": rule.text} for rule in rules],
        "inputs": {key: value if type(value) in plain else unstructure(value)
                   for key, value in explanation.inputs.items()},
        "result": result if type(result) in plain else unstructure(result),
    }


def load_explanation(document: dict[str, Any]) -> Explanation:
    """The explanation ``dump_explanation`` wrote: what ``_converter.structure(document, Explanation)`` reads,
    read here for a document of the shape ``dump_explanation`` writes (its texts texts, its numbers whole
    numbers, its inputs a mapping of texts); any other is cattrs' to read (and to refuse)."""
    if type(document) is dict and len(document) == 5:
        decision, summary = document.get("decision"), document.get("summary")
        rules, inputs = document.get("rules"), document.get("inputs")
        if (type(decision) is str and type(summary) is str and type(rules) is list and type(inputs) is dict
                and "result" in document and all(type(key) is str for key in inputs)
                and all(_plain_rule(rule) for rule in rules)):
            return Explanation(decision, summary,
                               tuple(RuleRef(rule["file"], rule["line"], rule["column"], rule["text"])
                                     for rule in rules),
                               dict(inputs), document["result"])
    return _converter.structure(document, Explanation)


def _plain_rule(rule: Any) -> bool:
    """Whether ``rule`` is a rule's document as ``dump_explanation`` writes it (read the same by hand)."""
    return (type(rule) is dict and len(rule) == 4 and type(rule.get("file")) is str and type(rule.get("line")) is int
            and type(rule.get("column")) is int and type(rule.get("text")) is str)


def _bare() -> Incident:
    """An incident with every field at its default (and the others given plainly)."""
    from datetime import UTC

    return Incident(id="", category="", severity=0, node="", place=None, channel="", key_person=False,
                    description="", reporter="", reported_at=datetime(2000, 1, 1, tzinfo=UTC), policy=None,
                    ruleset="")


#: Fields always written, even at their default: read from an archived entry without decoding it
#: (``archive.entry_names``, ``Records.primary_of``, ``Records._report_times``).
_ALWAYS = frozenset({"repeats"})
#: Each field with a default, as the document writes it (``_quick_dump``): an incident's document leaves
#: out the fields that hold their default (a fifth of a closed incident's text: most lists are empty,
#: most steps never taken), and reading fills them back in (``_load_incident``).
_DEFAULTS: dict[str, Any] = {
    name: value for name, value in _quick_dump(_bare()).items()
    if name not in _ALWAYS and attrs.fields_dict(Incident)[name].default is not attrs.NOTHING}
#: Fields without a default: every document has them.
_REQUIRED = _NAMES - _DEFAULTS.keys()
#: ``_quick_dump`` without the fields at their default (``_DEFAULTS``), in one generated function
_compact_dump = _QuickDump().compact(Incident, _DEFAULTS, _REFERENCES)


#: The fields whose document ``_compact_dump`` has a hook write (a class with a field of type ``Any``: an
#: escalation's facts, a pending step's): the only ones its types do not prove plain (``typed_dump``).
_HOOKED = tuple(name for name, kind in _FIELDS if not _QuickDump().known(kind))


def typed_dump(doc: dict[str, Any]) -> bool:
    """True if an incident's document (``_dump_incident``) is plain (``gridcore.fastjson.typed_json``): every
    field written from its declared type (text, whole numbers, flags and None as they are, times as text,
    spans as whole numbers, containers and classes of those: ``_QuickDump``) but those of ``_HOOKED``, which
    are walked (``gridcore.fastjson.plain``)."""
    return all(name not in doc or plain(doc[name]) for name in _HOOKED)


def _dump_incident(incident: Incident) -> dict[str, Any]:
    out: dict[str, Any] = _compact_dump(incident)
    route = None
    if incident.route is not None and incident.policy is not None:
        route = next(n for n, r in enumerate(incident.policy.routes) if r is incident.route)
    out["route"] = route
    return out


#: The fields a rating of a closed case changes (``Transitions.transition``: its ratings, a line of its timeline,
#: so its version, and its handler's role worked out again), each as ``_compact_dump`` writes it but the
#: timeline, whose lines before are taken as they were written (``dump_rated``).
_RATED: dict[str, Callable[[Incident], Any]] = {
    "ratings": lambda incident: dict(incident.ratings),
    "version": lambda incident: incident.version,
    "handler_role": lambda incident: incident.handler_role,
}
#: The keys of an incident's document in ``_compact_dump``'s order: the fields without a default, then the
#: others (each if not at its default), in the class's order; ``route`` comes last (``_dump_incident``).
_ORDER = (*(name for name, _ in _FIELDS if name not in _DEFAULTS), *(name for name, _ in _FIELDS if name in _DEFAULTS))
#: A timeline line's document, as ``_compact_dump`` writes each.
_dump_entry = _QuickDump().function(Entry)


def dump_rated(incident: Incident, written: dict[str, Any]) -> dict[str, Any]:
    """``_dump_incident(incident)``, for a closed incident archived as ``written`` and changed since by a rating
    only (its timeline grown at its end): the fields a rating changes written again (``_RATED``, and the
    timeline's new lines), the others taken from ``written``, the keys in the same order.  A closed case rated
    was written whole again (about 80 us a rating in a busy district, a fifth of the closings).
    ``tests/test_escalation_archive.py`` checks it gives what ``_dump_incident`` does, type for type."""
    lines = written.get("timeline", [])
    timeline = incident.timeline
    changed = {name: dump(incident) for name, dump in _RATED.items()}
    changed["timeline"] = [*lines, *(_dump_entry(entry) for entry in timeline[len(lines):])]
    out: dict[str, Any] = {}
    for name in _ORDER:
        if name in changed:
            value = changed[name]
            if name not in _DEFAULTS or type(value) is not type(default := _DEFAULTS[name]) or value != default:
                out[name] = value
        elif name in written:
            out[name] = written[name]
    out["route"] = written["route"]
    return out


def _load_incident(engine: Engine, doc: dict[str, Any]) -> Incident:
    if not _REQUIRED <= doc.keys():  # (a field without a default is always written)
        raise KeyError(", ".join(sorted(_REQUIRED - doc.keys())))
    if not _NAMES <= doc.keys():
        # the fields left out hold their default: read from fresh containers (``_structure_incident``
        # builds every list, set, dict and span anew, never keeping the one it is given)
        doc = {**_DEFAULTS, **doc}
    incident = _structure_incident(doc)
    policy, _ = policy_at(engine, incident.reported_at, incident.node)
    incident.policy = policy
    incident.route = None if doc["route"] is None or policy is None else policy.routes[int(doc["route"])]
    incident.level_policy = level_policy(engine, incident)
    return incident
