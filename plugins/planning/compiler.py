"""Compiling the planning section: the ``size`` items in force on a day to a ``PlanningPolicy``."""

from __future__ import annotations

from collections.abc import Sequence

from gridcore.rules import CompileContext, Item

from .policy import DEFAULT_TOLERANCE, PlanningPolicy, Size


def compile_planning(items: Sequence[Item], ctx: CompileContext) -> PlanningPolicy:
    """``Section.compile``: one ``Size`` per item; problems go to ``ctx.error``."""
    sizes = []
    for item in items:
        if item.name is None or not isinstance(item.body, tuple):
            continue
        level = ctx.level_id(item.name.text)
        if level is None:
            ctx.known("level", item.name)
            continue
        found: dict[str, float] = {}
        for part in item.body:
            if part.what in found:
                ctx.error(part, f"'{part.what}' is written twice", f"“{_WHAT_ZH.get(part.what, part.what)}”写了两次",
                          fix="keep one", fix_zh="只保留一处")
                break
            found[part.what] = part.value
        else:
            size = _size(level, found, ctx, item)
            if size is not None:
                sizes.append(size)
    return PlanningPolicy(tuple(sizes))


#: What a size says, as a Chinese message names it.
_WHAT_ZH = {"households": "户数", "people": "人数", "within": "上下浮动"}


def _size(level: str, found: dict[str, float], ctx: CompileContext, item: Item) -> Size | None:
    if "households" not in found and "people" not in found:
        ctx.error(item, "say how many households or people a cell is planned for, e.g. 300 households",
                  "请写明每个网格规划的户数或人数，如 300 户", fix="write e.g. size grid: 300 households, 1000 people",
                  fix_zh="写成如 规模 网格：300 户，1000 人")
        return None
    for what in ("households", "people"):
        if what in found and (found[what] < 1 or not found[what].is_integer()):
            ctx.error(item, f"a planned number of {what} is a whole number, at least 1",
                      "规划户数、人数须为正整数")
            return None
    tolerance = found.get("within", DEFAULT_TOLERANCE)
    if not 0 < tolerance < 1:
        ctx.error(item, "'within' is a share between 0% and 100%, e.g. within 50%", "浮动比例须在 0% 与 100% 之间")
        return None
    households, people = found.get("households"), found.get("people")
    return Size(level, ctx.ref(item), None if households is None else int(households),
                None if people is None else int(people), tolerance)
