"""Inheritance: a child ruleset is a layer applied to a copy of its parent.

For each section, items are keyed by ``(kind, name)``, the name being the id
it spells (``key``: ``倾斜 专职网格员`` is ``tilt fulltime_gridworker``, see
``ItemKind.names``).  Layer by layer, from the furthest ancestor to the file
itself:

* an item whose key the parent has **replaces** it whole (all its dated
  versions), keeping the parent's place in the order;
* an item with a new key is **added** at the end;
* ``remove KIND NAME`` drops the parent's item; removing something the parent
  does not have is an error;
* ``override KIND NAME: ...`` is an item that must replace something: if the
  parent has no such item it is an error (with a did-you-mean);
* ``levels`` and the ruleset name are inherited unless the child declares them.

The parent is never changed; the result records where every item came from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from ..classes import frozen
from . import ast
from .checker import did_you_mean

#: (where, English, Chinese) or (where, English, Chinese, fix, fix in Chinese)
Problem = tuple[object, str, str] | tuple[object, str, str, str, str]
#: The Chinese keyword of an item kind of a section (``("points", "tilt")`` -> ``倾斜``).
KindZh = Callable[[str, str], str]
#: The key of an item or removal in a section: ``(kind, the id its name spells)``.
Key = Callable[[str, "ast.Item | ast.Removal"], tuple[str, str | None]]
Caution = tuple[object, str, str]


@frozen
class Change:
    """What one layer did to one item: ``added``, ``changed`` or ``removed``."""

    action: str
    section: str
    key: tuple[str, str | None]
    ref: object  # RuleRef of the child's line


def _typo_of(name: str, pool: Sequence[str]) -> str:
    """An inherited name ``name`` is almost certainly a typo of (one letter off), or ''.

    Stricter than a did-you-mean: a new item that merely resembles an old one
    (``人居环境整治`` beside ``环境整治``) is normal and must not be flagged.
    """
    import difflib

    for other in pool:
        if len(other) == len(name) and sum(a != b for a, b in zip(other, name)) == 1:
            return other
        if name.isascii() and difflib.SequenceMatcher(None, name, other).ratio() >= 0.85:
            return other
    return ""


def _label(key: tuple[str, str | None]) -> str:
    return f"{key[0]} {key[1]}" if key[1] is not None else key[0]


def _label_zh(section: str, key: tuple[str, str | None], kind_zh: KindZh | None) -> str:
    """A key as a Chinese message shows it: the kind by its Chinese keyword (``倾斜 微网格长``)."""
    if kind_zh is None:
        return _label(key)
    kind, _, scope = key[0].partition(" (")
    shown = kind_zh(section, kind) + (f"（{scope.removesuffix(')')}）" if scope else "")
    return f"{shown} {key[1]}" if key[1] is not None else shown


def _key_of(label: str) -> tuple[str, str | None]:
    """The key a label of ``_label`` shows (``activity 志愿服务`` -> ``("activity", "志愿服务")``)."""
    kind, _, name = label.rpartition(" ")
    return (kind, name) if kind else (name, None)


def _same_kind(key: tuple[str, str | None],
               inherited: Mapping[tuple[str, str | None], ast.Item]) -> list[tuple[str, str | None]]:
    """The parent's items of ``key``'s kind (at most 8), each by its name as the parent writes it
    (``时限 网格`` for a limit keyed by the level's id ``grid``)."""
    same: list[tuple[str, str | None]] = [(k[0], item.name.text if item.name is not None else k[1])
                                          for k, item in inherited.items() if k[0] == key[0] and k[1] is not None]
    return same[:8]


def _near(key: tuple[str, str | None], inherited: Mapping[tuple[str, str | None], ast.Item]) -> str:
    """The inherited item ``key`` probably means: same kind, a close name ('' if none).

    Names are compared alone: with the kind in front, any two activities look
    alike (``activity cleanup`` and ``activity donation``).  An inherited item is
    known by its id and by its name as the parent writes it: a tilt or a subsidy is
    keyed by its role's id (``fulltime_gridworker``) while staff write the role's
    name (``专职网格员``), and a misspelt ``专职网格圆`` is close only to the name.
    """
    if key[1] is None:
        return ""
    names: dict[str, None] = {}
    for (kind, name), item in inherited.items():
        if kind == key[0] and name is not None:
            names[name] = None
            if item.key[1] is not None:
                names[item.key[1]] = None
    close = did_you_mean(key[1], list(names))
    return _label((key[0], close)) if close else ""


def _written(section: str, thing: ast.Item | ast.Removal) -> tuple[str, str | None]:
    return thing.key


def resolve(files: Sequence[ast.RulesFile], key: Key = _written, kind_zh: KindZh | None = None) -> tuple[
        dict[str, list[ast.Item]], list[Change], list[Problem], list[Caution]]:
    """Resolve a chain (furthest ancestor first) into items per section.

    Returns the items per section, the changes the last file made to its
    parent, the problems found (duplicate keys, removing or overriding
    something that does not exist) and warnings (a new item whose name is
    close to an inherited one: probably a misspelt override).  ``key(section,
    item)`` is what identifies an item (by default its kind and name as written);
    ``kind_zh(section, kind)`` the Chinese keyword a Chinese message names a kind by.
    """
    resolved: dict[str, dict[tuple[str, str | None], ast.Item]] = {}
    problems: list[Problem] = []
    warnings: list[Caution] = []
    changes: list[Change] = []
    for depth, layer in enumerate(files):
        last = depth == len(files) - 1
        parent = {name: dict(items) for name, items in resolved.items()}
        for block in layer.sections:
            current = resolved.setdefault(block.name, {})
            inherited = parent.get(block.name, {})
            removed_here: set[tuple[str, str | None]] = set()
            for removal in block.removals:
                removal_key = key(block.name, removal)
                if removal_key not in current:
                    near = _near(removal.key, inherited if depth else {})
                    near_zh = _label_zh(block.name, _key_of(near), kind_zh) if near else ""
                    problems.append((removal,
                                     f"cannot remove '{_label(removal.key)}': "
                                     + ("the parent ruleset has no such item" if depth else
                                        "this ruleset extends nothing")
                                     + (f" (did you mean '{near}'?)" if near else ""),
                                     f"无法删除 '{_label_zh(block.name, removal.key, kind_zh)}'："
                                     + ("上级规则集中没有这一条" if depth else "本规则集没有继承任何规则集")
                                     + (f"（是不是 '{near_zh}'？）" if near else ""),
                                     "remove an item the parent has (gridcore show lists them), or delete this line",
                                     "删除上级规则集中确有的条目（gridcore show 可列出），或删去这一行"))
                    continue
                del current[removal_key]
                removed_here.add(removal_key)
                if last:
                    changes.append(Change("removed", block.name, removal_key, removal.ref))
            seen_here: dict[tuple[str, str | None], ast.Item] = {}
            for item in block.items:
                item_key = key(block.name, item)
                if item_key in seen_here:
                    first = seen_here[item_key]
                    also = (f" (as '{_label(first.key)}' on line {first.ref.line})", (f"（第 {first.ref.line} "
                            f"行已写作 '{_label_zh(block.name, first.key, kind_zh)}'）")) if first.key != item.key \
                        else ("", "")
                    problems.append((item, f"'{_label(item.key)}' is defined twice in this section{also[0]}",
                                     f"'{_label_zh(block.name, item.key, kind_zh)}' 在本栏目中重复定义{also[1]}",
                                     "keep one of them (a change from a date on is a 'from DATE:' line under the item)",
                                     "只保留一条（从某日起的改动，写成该条目下的 '自 日期 起：' 行）"))
                    continue
                seen_here[item_key] = item
                exists = item_key in inherited
                if item.override and not exists:
                    hint = _near(item.key, inherited)
                    hint_zh = _label_zh(block.name, _key_of(hint), kind_zh) if hint else ""
                    # no slip to suggest (时限 楼栋 for a level the file never had): say what there is to override
                    has = [] if hint else _same_kind(item.key, inherited)
                    has_en = f" (the parent has: {', '.join(_label(k) for k in has)})" if has else ""
                    has_zh = (f"（上级规则集中有：{'、'.join(_label_zh(block.name, k, kind_zh) for k in has)}）"
                              if has else "")
                    problems.append((item, f"'override {_label(item.key)}' overrides something the "
                                     "parent ruleset does not have"
                                     + (f" (did you mean '{hint}'?)" if hint else ""),
                                     f"'覆盖 {_label_zh(block.name, item.key, kind_zh)}' 要覆盖的条目在上级规则集中不存在"
                                     + (f"（是不是 '{hint_zh}'？）" if hint else ""),
                                     "use the name of an item the parent has, or leave out 'override' to add a new item"
                                     + has_en,
                                     "使用上级规则集中已有条目的名称；若要新增条目，去掉“覆盖”" + has_zh))
                    continue
                if depth and not exists and item.name is not None:
                    same_kind = [k[1] for k in inherited if k[0] == item.kind and k[1]]
                    near = _typo_of(item.name.text, same_kind)
                    if near:
                        warnings.append((item, (f"'{_label(item.key)}' is a new item; the parent has "
                                         f"'{item.kind} {near}' (to replace it, use that name)"),
                                         (f"'{_label_zh(block.name, item.key, kind_zh)}' 是新条目；上级规则集中有 "
                                         f"'{_label_zh(block.name, (item.kind, near), kind_zh)}'（若要替换，请使用该名称）")))
                current[item_key] = item
                if last and depth:
                    changes.append(Change("changed" if exists else "added", block.name, item_key,
                                          item.ref))
            for removal in block.removals:
                # removed and written again in one section: which was meant? (the item silently won)
                removal_key = key(block.name, removal)
                written = seen_here.get(removal_key)
                if written is not None and removal_key in removed_here and current.get(removal_key) is written:
                    label, label_zh = _label(removal.key), _label_zh(block.name, removal.key, kind_zh)
                    line = written.ref.line
                    problems.append((removal,
                                     f"'{label}' is removed here and written again on line {line}: the file must say one or the other",
                                     f"'{label_zh}' 在这里被删除，又在第 {line} 行重新写了：只能二选一",
                                     (f"to change the item keep line {line} and delete this line; "
                                      f"to drop it keep this line and delete line {line}"),
                                     f"要修改这一条，保留第 {line} 行并删去这一行；要删除它，保留这一行并删去第 {line} 行"))
    out = {name: list(items.values()) for name, items in resolved.items()}
    return out, changes, problems, warnings
