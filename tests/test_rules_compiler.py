"""The compiler agrees with the meaning of the tree (a reference interpreter), for random expressions."""

from __future__ import annotations

import operator
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcore.explain import RuleRef
from gridcore.rules import ast as A
from gridcore.rules import parse_expression, schema
from gridcore.rules.compiler import compile_function

ENV = schema.Env((schema.Variable("x", schema.NUMBER), schema.Variable("y", schema.NUMBER, zh=("乙",)),
                  schema.Variable("flag", schema.BOOL)))
OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul,
       "/": lambda a, b: a / b if b else 0 * a}
CMP = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
       "==": operator.eq, "!=": operator.ne}


def reference(e: A.Expr, values: dict[str, Any]) -> Any:
    """What an expression means, by walking the tree."""
    if isinstance(e, A.Literal):
        return e.value
    if isinstance(e, A.Var):
        return values["y" if e.name == "乙" else e.name]
    if isinstance(e, A.Unary):
        v = reference(e.operand, values)
        return (not v) if e.op == "not" else -v
    if isinstance(e, A.Binary):
        if e.op == "and":
            return reference(e.left, values) and reference(e.right, values)
        if e.op == "or":
            return reference(e.left, values) or reference(e.right, values)
        return OPS[e.op](reference(e.left, values), reference(e.right, values))
    if isinstance(e, A.Compare):
        operands = [reference(o, values) for o in e.operands]
        return all(CMP[op](a, b) for op, a, b in zip(e.ops, operands, operands[1:]))
    if isinstance(e, A.Conditional):
        branch = e.then if reference(e.test, values) else e.otherwise
        return reference(branch, values)
    if isinstance(e, A.Call):
        args = [reference(a, values) for a in e.args]
        return {"min": min, "max": max, "abs": abs, "round": round}[
            schema.FUNCTIONS[e.function]](*args)
    raise AssertionError(e)


@st.composite
def numeric(draw: st.DrawFn, depth: int = 0) -> str:
    leaf = st.sampled_from(["x", "y", "乙", "0", "1", "2.5", "3", "50%"])
    if depth >= 3 or draw(st.integers(0, 2)) == 0:
        return draw(leaf)
    kind = draw(st.sampled_from(["bin", "bin", "neg", "cond", "call", "paren"]))
    a, b = draw(numeric(depth + 1)), draw(numeric(depth + 1))
    if kind == "bin":
        return f"{a} {draw(st.sampled_from(['+', '-', '*', '/', '×', '－']))} {b}"
    if kind == "neg":
        return f"-{a}"
    if kind == "cond":
        return f"(if {draw(boolean(depth + 1))} then {a} else {b})"
    if kind == "call":
        return f"{draw(st.sampled_from(['min', 'max', '最小']))}({a}, {b})"
    return f"({a})"


@st.composite
def boolean(draw: st.DrawFn, depth: int = 0) -> str:
    if depth >= 3 or draw(st.booleans()):
        op = draw(st.sampled_from(["<", "<=", ">", ">=", "==", "!=", "≥"]))
        return f"{draw(numeric(depth + 1))} {op} {draw(numeric(depth + 1))}"
    kind = draw(st.sampled_from(["and", "or", "not", "flag", "chain"]))
    if kind == "flag":
        return "flag"
    if kind == "not":
        return f"not ({draw(boolean(depth + 1))})"
    if kind == "chain":
        return f"0 <= {draw(numeric(depth + 1))} < 10"
    word = {"and": draw(st.sampled_from(["and", "且"])), "or": draw(st.sampled_from(["or", "或"]))}[kind]
    return f"({draw(boolean(depth + 1))}) {word} ({draw(boolean(depth + 1))})"


VALUES = st.fixed_dictionaries({"x": st.integers(-5, 5), "y": st.floats(-3, 3, allow_nan=False),
                                "flag": st.booleans()})


@settings(max_examples=300, deadline=None)
@given(st.one_of(numeric(), boolean()), VALUES)
def test_compiled_code_means_what_the_tree_means(text: str, values: dict[str, Any]) -> None:
    expr = parse_expression(text)
    compiled = compile_function(expr, ENV, RuleRef("t", 1))
    expected = reference(expr, values)
    got = compiled(values["x"], values["y"], values["flag"])
    assert got == expected or (isinstance(got, float) and abs(got - expected) < 1e-9)
    assert compiled(x=values["x"], y=values["y"], flag=values["flag"]) == got
    record = SimpleNamespace(**values)  # the same expression over one record of the variables
    assert compiled.on_record()(record) == got
    assert compiled.on_record(test=True)(record) is bool(got)


def test_precedence_and_associativity() -> None:
    def value(text: str) -> Any:
        return compile_function(parse_expression(text), ENV, RuleRef("t", 1))(0, 0, False)

    assert value("1 + 2 * 3") == 7
    assert value("(1 + 2) * 3") == 9
    assert value("10 - 4 - 3") == 3
    assert value("8 / 4 / 2") == 1
    assert value("-2 * 3") == -6
    assert value("not 1 > 2 and 2 > 1") is True
    assert value("1 < 2 < 3") is True and value("3 > 2 > 2") is False
    assert value("if 1 > 2 then 1 else if 2 > 1 then 2 else 3") == 2


def test_a_condition_over_a_record_is_false_when_a_value_it_reads_is_missing() -> None:
    compiled = compile_function(parse_expression("x > 2 and flag"), ENV, RuleRef("t", 1))
    holds = compiled.on_record(test=True)
    assert holds(SimpleNamespace(x=3, y=0, flag=True)) is True
    assert holds(SimpleNamespace(x=None, y=0, flag=True)) is False  # None > 2: a missing value
    assert holds(SimpleNamespace(y=0, flag=True)) is False  # no x at all
    with pytest.raises(TypeError):
        compiled.on_record()(SimpleNamespace(x=None, y=0, flag=True))  # the plain function does not guard


def test_a_compiled_rule_reports_the_inputs_it_read() -> None:
    env = schema.Env((schema.Variable("event", schema.RECORD, zh=("记录",),
                                      fields=(schema.Field("hours", schema.NUMBER, zh=("时长",)),)),
                      schema.MEMBER, schema.Variable("score", schema.NUMBER)))
    compiled = compile_function(parse_expression("如果 成员.党员 则 记录.时长 * 6 否则 score"), env,
                                RuleRef("t", 1))
    event, member = SimpleNamespace(hours=2.0), SimpleNamespace(party_member=True)
    assert compiled(event, member, 1) == 12
    assert compiled.inputs(event, member, 1) == {"member.party_member": True, "event.hours": 2.0,
                                                 "score": 1}
