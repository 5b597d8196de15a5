"""gridcore.classes: attrs' decorators whose ``__repr__``, ``__eq__`` and ``__hash__`` are written when first used.

What a class made by them does is what the same class made by attrs does: the same repr text, the same answers
to ``==`` and ``!=``, the same hash values (attrs salts a class's hash with its module and name), unhashable where
attrs makes it so; for every option of a field attrs reads (``repr`` off or a function, ``eq`` off or a key,
``hash``), frozen or not, keyword-only or not, a subclass made by either decorator.  And the methods are written
when first used, not when the class is made (what a command saves: docs/benchmarks.md).
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcore import classes

#: a field's options: repr, eq, hash (each as attrs.field takes it)
REPRS = st.sampled_from([True, False, lambda value: f"<{value}>"])
EQS = st.sampled_from([True, False, lambda value: str(value).lower()])
HASHES = st.sampled_from([None, True, False])
FIELDS = st.lists(st.tuples(REPRS, EQS, HASHES), min_size=0, max_size=4)
VALUES = st.one_of(st.integers(-3, 3), st.sampled_from(["a", "A", "b", "网格"]), st.tuples(st.integers(0, 2)))


def make(decorator: Any, name: str, fields: list[tuple[Any, Any, Any]], base: type = object, prefix: str = "f",
         **options: Any) -> type:
    """A class named ``name`` (the same module and name whoever makes it) with ``fields``, made by ``decorator``."""
    namespace: dict[str, Any] = {"__module__": __name__, "__qualname__": name,
                                 "__annotations__": {f"{prefix}{i}": "Any" for i in range(len(fields))}}
    for i, (repr_, eq, hash_) in enumerate(fields):
        namespace[f"{prefix}{i}"] = attrs.field(repr=repr_, eq=eq, hash=hash_, default=None)
    return decorator(**options)(type(name, (base,), namespace))  # type: ignore[no-any-return]


def behaviour(cls: type, values: list[Any]) -> list[Any]:
    """What the instances of ``cls`` holding ``values`` (each pair of them) say to repr, ==, != and hash."""
    names = [field.name for field in attrs.fields(cls)]
    instances = [cls(**dict(zip(names, row, strict=False))) for row in values]
    out: list[Any] = [repr(one) for one in instances]
    for one in instances:
        for other in instances:
            out.append((one == other, one != other, one.__eq__(other), one == "x"))
        try:
            out.append(hash(one))
        except TypeError as error:
            out.append(str(error))
    return out


@settings(max_examples=150, deadline=None)
@given(fields=FIELDS, more=FIELDS, frozen=st.booleans(), kw_only=st.booleans(), ours=st.sampled_from(["both", "base"]),
       rows=st.lists(st.lists(VALUES, min_size=8, max_size=8), min_size=1, max_size=3))
def test_a_class_does_what_attrs_own_does(fields: list[Any], more: list[Any], frozen: bool, kw_only: bool, ours: str,
                                          rows: list[list[Any]]) -> None:
    """A class and its subclass: made by gridcore.classes (the subclass by it or by attrs, as a third party's event
    kind subclasses ``Event``) against both made by attrs."""
    lazy, plain = (classes.frozen, attrs.frozen) if frozen else (classes.define, attrs.define)
    mine = make(lazy, "Fact", fields, kw_only=kw_only)
    theirs = make(plain, "Fact", fields, kw_only=kw_only)
    assert behaviour(mine, rows) == behaviour(theirs, rows)
    child = make(lazy if ours == "both" else plain, "Fact.Child", more, base=mine, prefix="g")
    their_child = make(plain, "Fact.Child", more, base=make(plain, "Fact", fields, kw_only=kw_only), prefix="g")
    assert behaviour(child, rows) == behaviour(their_child, rows)


def test_the_methods_are_written_when_first_used_not_when_the_class_is_made() -> None:
    fact = make(classes.frozen, "Written", [(True, True, None)])
    assert not callable(vars(fact)["__repr__"]) and not callable(vars(fact)["__eq__"])
    assert not callable(vars(fact)["__hash__"])
    assert fact(f0=1) == fact(f0=1)
    # all three at once: one class attrs makes once
    assert all(callable(vars(fact)[name]) for name in ("__repr__", "__eq__", "__hash__"))
    assert repr(fact(f0=1)) == "Written(f0=1)"


def test_a_mutable_class_is_unhashable_as_attrs_makes_it() -> None:
    record = make(classes.define, "Record", [(True, True, None)])
    assert vars(record)["__hash__"] is None
    with pytest.raises(TypeError, match="unhashable"):
        hash(record(f0=1))


def test_what_a_class_asks_for_itself_is_attrs_own() -> None:
    """``eq=False`` and methods written in the body: attrs decides; the rest is still written when first used."""
    plain_eq = make(classes.frozen, "Plain", [(True, True, None)], eq=False)
    one = plain_eq(f0=1)
    assert one != plain_eq(f0=1) and hash(one) == object.__hash__(one)
    assert not callable(vars(plain_eq)["__repr__"]) and repr(one) == "Plain(f0=1)"

    @classes.frozen
    class Own:
        value: int

        def __repr__(self) -> str:
            return "own"

        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = object.__hash__

    assert repr(Own(1)) == "own" and Own(1) == Own(2)
    assert vars(Own)["__repr__"].__qualname__.endswith("Own.__repr__")


def test_a_built_in_node_is_an_attrs_class_as_before() -> None:
    """The rules' ``Name``: its position neither compared nor shown (``eq=False, repr=False``), as attrs wrote it."""
    from gridcore.rules.ast import Name, Pos

    here, there = Name("网格长", Pos("a.rules", 1, 2)), Name("网格长", Pos("b.rules", 3, 4))
    assert attrs.has(Name) and [f.name for f in attrs.fields(Name)] == ["text", "pos"]
    assert here == there and hash(here) == hash(there) and repr(here) == "Name(text='网格长')"
    assert attrs.evolve(here, text="x") != here and {here, there} == {there}
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        here.text = "y"  # type: ignore[misc]


def test_gridcore_and_the_built_ins_make_their_classes_by_gridcore_classes() -> None:
    """``from attrs import frozen`` (or ``@attrs.frozen``) in a module of gridcore, the application or a built-in
    plugin would write its classes' methods at every command again."""
    import ast
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    found = []
    for folder in ("gridcore", "gridcore_app", "plugins"):
        for path in sorted((repo / folder).rglob("*.py")):
            if path.name == "classes.py" and path.parent.name == "gridcore":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module in ("attrs", "attr"):
                    found += [f"{path.relative_to(repo)}:{node.lineno} imports {alias.name}" for alias in node.names
                              if alias.name in ("frozen", "define", "mutable", "s", "attrs")]
                elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                      and node.value.id in ("attrs", "attr") and node.attr in ("frozen", "define", "mutable", "s")):
                    found.append(f"{path.relative_to(repo)}:{node.lineno} uses {node.value.id}.{node.attr}")
    assert found == []
