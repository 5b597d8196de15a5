"""The documented schema: the names an expression may use, their fields and types.

A section compiles an expression in an ``Env``: the variables it binds
(``event``, ``member``, ``node``, a plugin's own records such as
``incident``, or plain values such as ``score``), each a ``Var`` with a type and, for records, its fields.  Nothing
outside the env is reachable from a ruleset: an expression's field access is
checked here and compiled to the attribute this schema names.
"""

from __future__ import annotations

import types
import typing
import weakref
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

import attrs
from attrs import field

from ..classes import frozen
from ..events import CORE_EVENT_TYPES, Event

NUMBER = "number"
TEXT = "text"
BOOL = "bool"
DURATION = "duration"
DATE = "date"
DATETIME = "datetime"
LIST = "list"
RECORD = "record"
ANY = "any"

TYPES = (NUMBER, TEXT, BOOL, DURATION, DATE, DATETIME, LIST, RECORD, ANY)

#: words for types in messages: (English, Chinese)
TYPE_WORDS: Mapping[str, tuple[str, str]] = {
    NUMBER: ("a number", "数字"),
    TEXT: ("text", "文本"),
    BOOL: ("yes/no (a condition)", "是/否（条件）"),
    DURATION: ("a duration like 48h", "时长（如 48小时）"),
    DATE: ("a date like 2025-01-01", "日期（如 2025-01-01）"),
    DATETIME: ("a time", "时间"),
    LIST: ("a list", "列表"),
    RECORD: ("a record with fields", "带字段的记录"),
    ANY: ("any value", "任意值"),
}


def _valid_attr(instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if value == "":
        return
    if not value.isidentifier() or value.startswith("_") or not value.isascii():
        raise ValueError(f"schema attribute {value!r} must be a public ASCII identifier")


@frozen
class Field:
    """A field of a record: ``event.hours``.

    ``attr`` is the Python attribute read at run time (defaults to ``name``);
    ``zh`` lists Chinese names; ``vocabulary`` names the vocabulary its text
    values come from (``activity``, ``role``, ``level``), so a string compared
    with it is checked.  ``doc_zh``: what ``doc`` says, in Chinese (an editor's
    hover and ``gridcore schema`` show it).
    """

    name: str
    type: str
    doc: str = ""
    zh: tuple[str, ...] = ()
    attr: str = field(default="", validator=_valid_attr)
    vocabulary: str | None = None
    doc_zh: str = ""

    @property
    def attribute(self) -> str:
        """The attribute name the compiled code reads."""
        return self.attr or self.name


@frozen
class Variable:
    """A name an expression may use: a plain value (``score``) or a record (``event``); ``doc_zh``:
    what ``doc`` says, in Chinese."""

    name: str
    type: str
    doc: str = ""
    zh: tuple[str, ...] = ()
    fields: tuple[Field, ...] = ()
    vocabulary: str | None = None
    doc_zh: str = ""

    def field_named(self, name: str) -> Field | None:
        """The field called ``name`` (English or Chinese), if any."""
        for f in self.fields:
            if f.name == name or name in f.zh:
                return f
        return None

    def spellings(self) -> tuple[str, ...]:
        """Every name this variable answers to."""
        return (self.name, *self.zh)


@frozen
class Env:
    """The variables an expression may use, in the order the compiled function takes them."""

    vars: tuple[Variable, ...]

    def lookup(self, name: str) -> tuple[int, Variable] | None:
        """Index and variable for a name (English or Chinese)."""
        for i, var in enumerate(self.vars):
            if name in var.spellings():
                return i, var
        return None

    def names(self) -> list[str]:
        """Every spelling of every variable (for did-you-mean)."""
        return [s for var in self.vars for s in var.spellings()]

    def plus(self, *more: Variable) -> Env:
        """A new env with extra variables appended."""
        return Env(self.vars + tuple(more))


# ------------------------------------------------------------------ standard records

_FIELD_ZH: Mapping[str, tuple[str, ...]] = {
    "hours": ("小时数", "时长"), "quantity": ("数量",), "activity": ("活动",), "member": ("成员",),
    "minutes": ("分钟数",), "visits": ("走访数",), "hazards_found": ("隐患数",),
    "category": ("类别",), "severity": ("严重程度",), "place": ("地点",), "channel": ("渠道",),
    "key_person": ("重点人员",), "satisfaction": ("满意度",), "score": ("评分",),
    "reward": ("礼遇",), "node": ("网格", "节点"), "actor": ("记录人",), "time": ("时间",),
    "floating": ("流动人口",), "party_member": ("党员",), "special_group": ("特殊人群",),
    "reason": ("原因",), "id": ("编号",), "name": ("姓名", "名称"), "role": ("角色",),
    "roles": ("角色们",), "level": ("层级",), "department": ("部门",),
}

_VOCAB: Mapping[str, str] = {"activity": "activity", "category": "category", "reward": "reward",
                             "department": "department"}


def _type_of(annotation: Any) -> str | None:
    if isinstance(annotation, str):
        annotation = {"int": int, "float": float, "str": str, "bool": bool,
                      "datetime": datetime}.get(annotation.split("|")[0].strip(), annotation)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _type_of(inner[0]) if len(inner) == 1 else None
    if annotation is bool:
        return BOOL
    if annotation in (int, float):
        return NUMBER
    if annotation is str:
        return TEXT
    if annotation is datetime:
        return DATETIME
    if annotation is date:
        return DATE
    if annotation is timedelta:
        return DURATION
    return None


def event_fields(*classes: type[Event]) -> tuple[Field, ...]:
    """The fields common to every class given (attrs fields with a schema type).

    With one class, all its fields; with several (an item that applies to
    several kinds), only the fields all of them have.
    """
    chosen: dict[str, Field] | None = None
    for cls in classes:
        hints = _hints(cls)
        found: dict[str, Field] = {}
        for a in attrs.fields(cls):
            kind = _type_of(hints.get(a.name, a.type))
            if kind is None:
                continue
            said_zh = event_field_zh(cls, a.name)  # (an editor's hover and ``gridcore schema`` describe it)
            found[a.name] = Field(a.name, kind, f"the event's {a.name.replace('_', ' ')}", zh=_spellings_zh(cls, a.name),
                                  vocabulary=_VOCAB.get(a.name), doc_zh=f"记录的{said_zh}" if said_zh else "")
        if chosen is None:
            chosen = found
        else:
            chosen = {k: v for k, v in chosen.items() if k in found and found[k].type == v.type}
    return tuple((chosen or {}).values())


#: Each event class's evaluated annotations (``typing.get_type_hints``: every string annotation compiled and
#: evaluated, about 25 a class; a section's compiler asks again for each item about the same kind).
_HINTS: weakref.WeakKeyDictionary[type, dict[str, Any]] = weakref.WeakKeyDictionary()


def _hints(cls: type[Event]) -> dict[str, Any]:
    found = _HINTS.get(cls)
    if found is None:
        found = _HINTS[cls] = typing.get_type_hints(cls)
    return found


def _spellings_zh(cls: type[Event], name: str) -> tuple[str, ...]:
    """Every Chinese name a rule may give ``cls``'s field ``name``: the rules language's own, then the one
    the class declares (``fields_zh``, its bases'), so a field is written as staff read it described."""
    shared = _FIELD_ZH.get(name, ())
    declared = event_field_zh(cls, name)
    return shared if not declared or declared in shared else (*shared, declared)


def event_field_zh(cls: type[Event], name: str) -> str:
    """The Chinese name of ``cls``'s field ``name`` as staff read it: the class's own ``fields_zh``,
    else a base class's (``Event``'s: id, time, actor, node), else the first of the names the rules
    language gives the field (``小时数`` for ``hours``); ``""`` when none does."""
    for klass in cls.__mro__:
        own = vars(klass).get("fields_zh")
        if own and name in own:
            return str(own[name])
    return _FIELD_ZH.get(name, ("",))[0]


def event_var(*classes: type[Event], name: str = "event", zh: tuple[str, ...] = ("记录",)) -> Variable:
    """An ``event`` variable whose fields are those of ``classes``."""
    kinds = ", ".join(c.kind for c in classes)
    return Variable(name, RECORD, doc=f"the event being judged ({kinds})", zh=zh,
                    fields=event_fields(*classes), doc_zh=f"正在评判的记录（{kinds}）")


#: ``member``: the person an activity or a decision is about.  Plugins pass an
#: object with these attributes (see docs/sections.md).
MEMBER = Variable("member", RECORD, doc="the member concerned", zh=("成员",), doc_zh="所涉及的成员", fields=(
    Field("id", TEXT, "member id", zh=("编号",), doc_zh="成员编号"),
    Field("name", TEXT, "member name", zh=("姓名",), doc_zh="成员姓名"),
    Field("role", TEXT, "the member's main role id (e.g. grid_leader)", zh=("角色",),
          vocabulary="role", doc_zh="成员的主要角色编号（如 grid_leader）"),
    Field("roles", LIST, "every role id the member holds", zh=("角色们",), vocabulary="role",
          doc_zh="成员担任的全部角色编号"),
    Field("party_member", BOOL, "true for party members", zh=("党员",), doc_zh="是党员时为真"),
))

#: ``node``: a cell of the hierarchy.
NODE = Variable("node", RECORD, doc="the node (grid cell) concerned", zh=("节点",), doc_zh="所涉及的节点（网格）",
                fields=(
    Field("id", TEXT, "node id", zh=("编号",), doc_zh="节点编号"),
    Field("name", TEXT, "node name", zh=("名称",), doc_zh="节点名称"),
    Field("level", TEXT, "the node's level (one of the ruleset's levels)", zh=("层级",),
          vocabulary="level", doc_zh="节点所在层级（规则集的层级之一）"),
    Field("kind", TEXT, "territorial, industry or dedicated", zh=("类型",),
          doc_zh="属地网格、行业网格或专属网格"),
))

#: The records every section may bind; a plugin publishes its own (the escalation
#: plugin's ``incident``, in ``gridcore_escalation.events``).
STANDARD_VARS: tuple[Variable, ...] = (MEMBER, NODE)

#: functions an expression may call: ruleset name (and Chinese) -> allow-list entry
FUNCTIONS: Mapping[str, str] = {
    "min": "min", "最小": "min", "max": "max", "最大": "max",
    "abs": "abs", "绝对值": "abs", "round": "round", "取整": "round",
}


def vocabulary_of_events(classes: Iterable[type[Event]] = CORE_EVENT_TYPES) -> dict[str, Any]:
    """JSON-ready description of each event kind's fields (for ``gridcore schema``)."""
    out: dict[str, Any] = {}
    for cls in classes:
        out[cls.kind] = {f.name: {"type": f.type, "zh": list(f.zh)} for f in event_fields(cls)}
    return out


def describe_var(var: Variable) -> dict[str, Any]:
    """JSON-ready description of a variable."""
    return {
        "name": var.name, "type": var.type, "zh": list(var.zh), "doc": var.doc, "doc_zh": var.doc_zh,
        "fields": [{"name": f.name, "type": f.type, "zh": list(f.zh), "doc": f.doc, "doc_zh": f.doc_zh,
                    **({"vocabulary": f.vocabulary} if f.vocabulary else {})} for f in var.fields],
    }
