"""A quicker ``__init__`` for the plugin's frozen classes made at nearly every step.

attrs' ``__init__`` for a frozen class sets each field through
``object.__setattr__`` (its own ``__setattr__`` refuses), which looks the field
up on the class every time before it calls the slot's setter.  A timeline line
(``Entry``) is made at every step of a case and a report, two deadlines
(``timers.Deadline``) at each report and acceptance, the facts a rule reads
(``IncidentFacts``) twice a report: setting their fields that way was about
11,000, 16,000 and 22,000 instructions each (docs/benchmarks.md).  ``quick_init``
gives such a class an ``__init__`` that calls each slot's setter itself (what
``object.__setattr__`` finds and calls), as ``gridcore.codec`` builds events:
the same arguments and defaults, the same instance, still frozen.
"""

from __future__ import annotations

import inspect
import types
from typing import Any, TypeVar

import attrs

T = TypeVar("T", bound=type)


def _plain(cls: type) -> bool:
    """True if attrs' ``__init__`` of ``cls`` only sets each field, in order, to the argument of its name (or
    the field's default): no validator, converter, default made by a factory, keyword-only or renamed
    argument, field left out of ``__init__``, ``__attrs_pre_init__`` or ``__attrs_post_init__``; every
    field a slot."""
    if hasattr(cls, "__attrs_pre_init__") or hasattr(cls, "__attrs_post_init__"):
        return False
    for one in attrs.fields(cls):
        if (not one.init or one.kw_only or one.validator is not None or one.converter is not None
                or isinstance(one.default, attrs.Factory) or one.alias != one.name):  # type: ignore[arg-type]
            return False
        if type(inspect.getattr_static(cls, one.name, None)) is not types.MemberDescriptorType:
            return False
    return True


def quick_init(cls: T) -> T:
    """Give the frozen attrs class ``cls`` an ``__init__`` setting each field through its slot (a class
    whose ``__init__`` does more than set its fields keeps attrs' own: ``_plain``)."""
    if not _plain(cls):
        return cls
    fields = attrs.fields(cls)
    names: dict[str, Any] = {}
    params, lines = [], []
    for one in fields:
        names[f"__set_{one.name}"] = inspect.getattr_static(cls, one.name).__set__
        if one.default is attrs.NOTHING:
            params.append(one.name)
        else:
            names[f"__default_{one.name}"] = one.default
            params.append(f"{one.name}=__default_{one.name}")
        lines.append(f"    __set_{one.name}(self, {one.name})\n")
    source = f"def __init__(self, {', '.join(params)}):\n" + ("".join(lines) or "    pass\n")
    exec(compile(source, f"<quick init {cls.__qualname__}>", "exec"), names)  # noqa: S102
    init = names["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    setattr(cls, "__init__", init)  # noqa: B010 (a class's method, set after attrs made the class)
    return cls
