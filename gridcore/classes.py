"""``frozen`` and ``define``: attrs' class decorators, with ``__repr__``, ``__eq__`` and ``__hash__`` written when first used.

attrs writes the source of a class's ``__init__``, ``__repr__``, ``__eq__``
and ``__hash__`` and compiles it as the class is made.  gridcore makes about
300 classes at every command (the rules' nodes and every plugin's policies,
nodes and event kinds: a ruleset is compiled and events are decoded), and a
command uses the ``__repr__``, ``__eq__`` or ``__hash__`` of few of them: a
``gridcore points board`` on a demo store compares or hashes 7 kinds and
prints none.  Written and compiled they were about 18% of that command's
instructions (docs/benchmarks.md, "A read command's start-up").

So these decorators make the class with attrs (``attrs.frozen`` /
``attrs.define``, the same options) but with ``repr=False, eq=False``, and put
in the class a stand-in for each of the three methods attrs would have
written.  The first time one of them is looked up on the class (``a == b``,
``hash(a)``, ``repr(a)``, ``A.__eq__``), attrs writes all of them, for the
class's own fields with their own options (``eq=False``, an ``eq`` key, a
``repr`` function, ``hash``), on a stand-in class of the same module and
name, and they replace the stand-ins: the very methods, text and hash values
attrs would have given the class itself (tests/test_classes.py compares them).
Nothing but attrs' public API is used.

The class is an attrs class like any (``attrs.fields``, ``attrs.evolve``,
cattrs); only ``attrs.inspect`` (experimental) reports the three methods as
not added by attrs.  A class that asks for any of them itself (``eq=``,
``order=``, ``hash=``, ``repr=`` ...) or writes one of them in its body gets
that part from attrs as it asked (``define(eq=False)`` still has its
``__repr__`` written on first use).  Type checkers see attrs' own decorators
(the names are attrs' under ``TYPE_CHECKING``), so mypy's attrs support reads
the classes as before.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import attrs

__all__ = ["define", "frozen"]

#: Options under which attrs writes ``__repr__`` as it would by default (any other asks for something else)
_REPR_OPTIONS = frozenset({"repr", "repr_ns", "str", "auto_detect", "these"})
#: ... and ``__eq__`` and ``__hash__``
_EQ_OPTIONS = frozenset({"eq", "order", "cmp", "hash", "unsafe_hash", "cache_hash", "auto_detect", "these"})

#: The methods written when one of a class's stand-ins is first used (a class's first use in two threads at once
#: writes them once)
_WRITING = threading.RLock()


class _Unwritten:
    """Stands in a class for a method attrs writes for it, until the method is first looked up."""

    __slots__ = ("cls", "frozen", "name")

    def __init__(self, cls: type, name: str, frozen: bool) -> None:
        self.cls = cls
        self.name = name
        #: whether ``cls`` is frozen (attrs writes a ``__hash__`` for a frozen class only)
        self.frozen = frozen

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        method = _write(self.cls)[self.name]
        return method.__get__(instance, owner)

    def __repr__(self) -> str:
        return f"<{self.name} of {self.cls.__qualname__}, written by attrs when first used>"


def _write(cls: type) -> dict[str, Any]:
    """Write ``cls``'s methods that are still stand-ins, put them in the class; each by its name."""
    with _WRITING:
        unwritten = [value for value in vars(cls).values() if isinstance(value, _Unwritten) and value.cls is cls]
        names = [value.name for value in unwritten]
        if unwritten:
            frozen_ = unwritten[0].frozen
            these = {field.name: attrs.field(repr=field.repr, eq=field.eq_key or field.eq, hash=field.hash, init=False)
                     for field in attrs.fields(cls)}
            # the same module and name: the methods' names, and the hash's salt, are the class's own
            twin = type(cls.__name__, (), {"__module__": cls.__module__, "__qualname__": cls.__qualname__})
            made = attrs.define(twin, these=these, frozen=frozen_, slots=False, init=False, repr="__repr__" in names,
                                eq="__eq__" in names, match_args=False, weakref_slot=False, getstate_setstate=False,
                                auto_detect=False, on_setattr=None)
            for name in names:
                setattr(cls, name, vars(made)[name])
        return {name: value for name, value in vars(cls).items() if name in ("__repr__", "__eq__", "__hash__")}


def _made(cls: type, options: dict[str, Any], frozen_: bool) -> type:
    body = vars(cls)
    later_repr = not (_REPR_OPTIONS & options.keys()) and "__repr__" not in body
    later_eq = not (_EQ_OPTIONS & options.keys()) and not ({"__eq__", "__ne__", "__hash__"} & body.keys())
    make: Any = attrs.frozen if frozen_ else attrs.define
    made: type = make(cls, **options, **({"repr": False} if later_repr else {}), **({"eq": False} if later_eq else {}))
    if later_repr:
        made.__repr__ = _Unwritten(made, "__repr__", frozen_)  # type: ignore[assignment,method-assign]
    if later_eq:
        made.__eq__ = _Unwritten(made, "__eq__", frozen_)  # type: ignore[assignment,method-assign]
        # attrs: a frozen class with __eq__ is hashed by its fields, a mutable one is not hashable
        made.__hash__ = _Unwritten(made, "__hash__", frozen_) if frozen_ else None  # type: ignore[assignment,method-assign]
    return made


if TYPE_CHECKING:
    from attrs import define as define  # noqa: PLC0414  (re-exported as attrs's own, for type checkers)
    from attrs import frozen as frozen  # noqa: PLC0414
else:

    def frozen(maybe_cls: type | None = None, **options: Any) -> Any:
        """``attrs.frozen`` (the same options), with ``__repr__``, ``__eq__`` and ``__hash__`` written when first used."""
        if maybe_cls is None:
            return lambda cls: _made(cls, options, True)
        return _made(maybe_cls, options, True)

    def define(maybe_cls: type | None = None, **options: Any) -> Any:
        """``attrs.define`` (the same options), with ``__repr__`` and ``__eq__`` written when first used."""
        if maybe_cls is None:
            return lambda cls: _made(cls, options, False)
        return _made(maybe_cls, options, False)
