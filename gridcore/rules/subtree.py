"""Which subtree a ruleset governs: its ``applies to: NODE`` / ``适用于：NODE`` line, resolved.

A ruleset file may say which part of the tree it is written for (a
community's own variant of the district's rules); without the line it
governs the whole tree.  The line names a node by its id or by its name as
``nodes.csv`` gives it; a name several nodes share (every community has a
``第一网格``) must be written as the id.  The engine and ``gridcore check``
resolve it here against the community's hierarchy, so both say the same
thing about a node that is not there.
"""

from __future__ import annotations

import difflib

from ..hierarchy import Hierarchy
from .ast import Name
from .diagnose import make
from .errors import Diagnostic, RulesError
from .ruleset import Ruleset


def governed_node(ruleset: Ruleset, hierarchy: Hierarchy, node: str | None = None) -> str | None:
    """The node id whose subtree ``ruleset`` governs; None for the whole tree.

    ``node`` (given by the caller, e.g. ``Engine.use_ruleset(node=...)``)
    wins over the file's ``applies to``.  The single root of a tree is the
    whole tree (None).  A node the hierarchy does not hold is a
    ``RulesError`` naming it (at the file's line and column when the file
    wrote it), with a fix.
    """
    if node is not None:
        if node not in hierarchy:
            raise RulesError([_unknown(node, hierarchy, None, ruleset)])
        return _whole_or(node, hierarchy)
    written = ruleset.applies_to
    if written is None:
        return None
    return _whole_or(_resolve(written, hierarchy, ruleset), hierarchy)


def _whole_or(node: str, hierarchy: Hierarchy) -> str | None:
    roots = hierarchy.roots()
    return None if not hierarchy.forest and len(roots) == 1 and roots[0].id == node else node


def _resolve(written: Name, hierarchy: Hierarchy, ruleset: Ruleset) -> str:
    text = written.text
    if text in hierarchy:
        return text
    named = [n for n in hierarchy if n.name == text]
    if len(named) == 1:
        return named[0].id
    if named:
        ids = ", ".join(n.id for n in named[:8]) + (", ..." if len(named) > 8 else "")
        raise RulesError([_at(written, ruleset,
                              f"'{text}' names {len(named)} nodes ({ids}): say which one by its id",
                              f"'{text}' 是 {len(named)} 个节点的名称（{ids}）：请写节点编号",
                              f'write the node\'s id in quotes: applies to: "{named[0].id}"',
                              f'用引号写节点编号：适用于："{named[0].id}"')])
    raise RulesError([_unknown(text, hierarchy, written, ruleset)])


def _unknown(text: str, hierarchy: Hierarchy, written: Name | None, ruleset: Ruleset) -> Diagnostic:
    known = [n.id for n in hierarchy] + [n.name for n in hierarchy]
    close = difflib.get_close_matches(text, known, n=1, cutoff=0.6)
    message = (f"ruleset {ruleset.name!r} applies to {text!r}, which is no node of this community's "
               "tree (applies to: a node id or name from nodes.csv)")
    message_zh = f"规则集 {ruleset.name!r} 适用于 {text!r}，但社区的层级树中没有这个节点（适用于：nodes.csv 中的节点编号或名称）"
    fix = "name a node of the tree (gridcore hierarchy show DIR lists them), or leave the line out for the whole tree"
    fix_zh = "写层级树中的节点（gridcore hierarchy show 可列出），或删去这一行，表示适用于整个层级树"
    suggestion = close[0] if close else ""
    sharing = [n.id for n in hierarchy if n.name == suggestion] if suggestion not in hierarchy else []
    if len(sharing) > 1:
        # 第一网个 for 第一网格, a name every community's first grid has: the name would be refused next
        ids = ", ".join(sharing[:8]) + (", ..." if len(sharing) > 8 else "")
        fix += f" ('{suggestion}' is the name of {len(sharing)} nodes: write the id of the one meant, {ids})"
        fix_zh += f"（'{suggestion}' 是 {len(sharing)} 个节点的名称：请写所指节点的编号，{ids}）"
        suggestion = ""
    if written is None:
        return Diagnostic(message=message, message_zh=message_zh, fix=fix, fix_zh=fix_zh,
                          suggestion=suggestion, code="unknown-subtree")
    return _at(written, ruleset, message, message_zh, fix, fix_zh, suggestion)


def _at(written: Name, ruleset: Ruleset, message: str, message_zh: str, fix: str, fix_zh: str,
        suggestion: str = "") -> Diagnostic:
    pos = written.pos
    source = next((s for s in ruleset.sources if s.name == pos.file), ruleset.sources[-1])
    lines = source.text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return make(pos.file, lines, pos.line, pos.column, message, message_zh, fix=fix, fix_zh=fix_zh,
                suggestion=suggestion, width=len(written.text), code="unknown-subtree")
