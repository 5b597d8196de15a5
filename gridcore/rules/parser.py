"""Reading a ``.rules`` file into a ``RulesFile``, collecting every error.

The file is split into logical lines (lines.py); each line is classified
(preamble, section header, item, dated version, removal) and parsed on its own
from the matching start rule of the composed grammar (grammar_build.py).  A
line that fails is reported and skipped, so one pass finds all the errors.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from lark import Tree
from lark.exceptions import UnexpectedInput, VisitError

from ..explain import RuleRef
from . import ast, tree_cache
from .diagnose import from_lark, make
from .errors import WARNING, Diagnostic, RulesError
from .grammar_build import Grammar, build_grammar
from .keywords import CJK, CORE_KEYWORDS
from .lines import LogicalLine, split_lines, unclosed
from .sections import Section
from .transformer import MAX_DEPTH, AstError, ToAst, tree_depth

MAX_LINE = 4000


def _starts(words: Sequence[str]) -> re.Pattern[str]:
    alts = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"^(?:{alts})(?!\w)", re.IGNORECASE)


_PREAMBLE = _starts([*CORE_KEYWORDS["RULESET"], *CORE_KEYWORDS["EXTENDS"],
                     *CORE_KEYWORDS["LEVELS"]])
_DATED = re.compile(rf"^(?:{'|'.join(map(re.escape, CORE_KEYWORDS['FROM']))})\s*\d", re.IGNORECASE)
_REMOVE = _starts(CORE_KEYWORDS["REMOVE"])
_HEADER = re.compile(rf"^([A-Za-z_{CJK}][\w ]*?)\s*[:：]\s*$")


def parse_source(text: str, *, sections: Sequence[Section[Any]], file: str = "<string>") -> ast.RulesFile:
    """Parse one file's text; raise ``RulesError`` with every error found."""
    parsed, diagnostics = read_source(text, sections=sections, file=file)
    if any(d.is_error for d in diagnostics):
        raise RulesError(diagnostics)
    return parsed


def read_source(
    text: str, *, sections: Sequence[Section[Any]], file: str = "<string>",
    skip_unknown_sections: bool = False,
) -> tuple[ast.RulesFile, list[Diagnostic]]:
    """Parse one file's text: the tree (of what could be read) and every diagnostic.

    With ``skip_unknown_sections`` a section no installed plugin knows is left
    out silently (a stored ruleset reopened with a plugin disabled).
    """
    grammar = build_grammar(sections)
    key = (text, file, skip_unknown_sections, id(grammar))
    hit = _PARSED.get(key)
    if hit is not None and hit[0] is grammar:
        return hit[1], list(hit[2])
    # Notepad saves UTF-8 with a byte-order mark; it is invisible, so drop it.
    reader = _Reader(grammar, text.removeprefix("\ufeff"), file)
    reader.skip_unknown_sections = skip_unknown_sections
    # The trees of this text's lines from an earlier process (tree_cache.py), and after it any new ones.
    saved = tree_cache.path_for(grammar.key, reader.text)
    reader.trees = tree_cache.load(saved)
    known = len(reader.trees)
    parsed = reader.run()
    if len(reader.trees) > known:
        tree_cache.save(saved, reader.trees)
    if len(_PARSED) >= 64:
        _PARSED.pop(next(iter(_PARSED)))
    _PARSED[key] = (grammar, parsed, tuple(reader.diagnostics))
    return parsed, reader.diagnostics


#: Files parsed in this process (a ruleset's files are read to follow ``extends``
#: and again to compile; a store reopened compiles the same texts).  The trees are
#: frozen, so sharing them is safe.
_PARSED: dict[tuple[str, str, bool, int], tuple[Grammar, ast.RulesFile, tuple[Diagnostic, ...]]] = {}


class _Reader:
    def __init__(self, grammar: Grammar, text: str, file: str) -> None:
        self.grammar = grammar
        self.text = text
        self.file = file
        self.source_lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self.diagnostics: list[Diagnostic] = []
        self.skip_unknown_sections = False
        #: the trees of lines parsed well, by (start rule, line): read from the cache and added to
        self.trees: tree_cache.Lines = {}

    # ------------------------------------------------------------ helpers

    def error(self, line: int, column: int, message: str, message_zh: str, **more: Any) -> None:
        self.diagnostics.append(make(self.file, self.source_lines, line, column, message,
                                     message_zh, **more))

    def ref(self, line: LogicalLine) -> RuleRef:
        text = " ".join(part.strip() for part in line.code.split("\n")).strip()
        return RuleRef(self.file, line.line, len(line.indent) + 1, text)

    def parse(self, start: str, line: LogicalLine) -> Any | None:
        column = len(line.indent) + 1
        if len(line.code) > MAX_LINE:
            self.error(line.line, column, f"this line is too long (over {MAX_LINE} characters)",
                       f"这一行太长（超过 {MAX_LINE} 个字符）", fix="split it into several items",
                       fix_zh="拆成几条")
            return None
        tree = self.trees.get((start, line.code))
        if tree is None:
            try:
                tree = self.grammar.lark.parse(line.code, start=start)
            except UnexpectedInput as exc:
                self.diagnostics.append(from_lark(exc, self.grammar, start, line, self.file,
                                                  self.source_lines))
                return None
            if tree_depth(tree) > MAX_DEPTH:
                self.error(line.line, column, "this expression is nested too deeply",
                           "表达式嵌套太深", fix="split it into simpler rules", fix_zh="拆成更简单的规则")
                return None
            self.trees[(start, line.code)] = tree
        try:
            return ToAst(self.file, line.line, column, self.grammar.builders).transform_tree(tree)
        except AstError as exc:
            self.error(exc.pos.line, exc.pos.column, exc.message, exc.message_zh, fix=exc.fix,
                       fix_zh=exc.fix_zh)
        except VisitError as exc:  # pragma: no cover - ToAst does not use visitors
            raise exc.orig_exc from None
        return None

    # ------------------------------------------------------------ the file

    def run(self) -> ast.RulesFile:
        lines, _ = split_lines(self.text)
        self.check_indentation(lines)
        name: str | None = None
        extends: str | None = None
        levels: tuple[str, ...] = ()
        level_names: tuple[tuple[str, str], ...] = ()
        blocks: dict[str, dict[str, Any]] = {}
        order: list[str] = []
        current: str | None = None
        last_item: dict[str, Any] | None = None
        skipping = False
        for line in lines:
            code = line.code.strip()
            if line.depth:
                where = unclosed(line.code) or (0, 1)
                column = where[1] + (len(line.indent) if where[0] == 0 else 0)
                self.error(line.line + where[0], column,
                           "this bracket is opened but never closed", "这个括号没有闭合",
                           fix="add the closing bracket", fix_zh="补上右括号")
                continue
            header = self.section_header(code)
            if header is not None:
                skipping = False
                current = header
                last_item = None
                if header not in blocks:
                    blocks[header] = {"items": [], "removals": [], "pos": ast.Pos(
                        self.file, line.line, len(line.indent) + 1)}
                    order.append(header)
                continue
            if _HEADER.match(code) and not self.is_item_word(code):
                if not self.skip_unknown_sections:
                    self.unknown_header(line, code)
                current = None
                skipping = True
                continue
            if skipping:
                continue  # the items of an unknown section: reported once, at its header
            if _PREAMBLE.match(code):
                result = self.parse("preamble_line", line)
                if current is not None or blocks:
                    self.error(line.line, len(line.indent) + 1,
                               "this line must come before the first section",
                               "这一行必须写在所有栏目之前",
                               fix="move it to the top of the file", fix_zh="把它移到文件开头")
                    continue
                if result is not None:
                    what, value = result
                    if what == "ruleset":
                        name = value.text
                    elif what == "extends":
                        extends = value.text
                    else:
                        levels = tuple(n.text for n, _ in value)
                        level_names = tuple((n.text, zh.text) for n, zh in value if zh is not None)
                        self.check_levels([n for pair in value for n in pair if n is not None])
                continue
            if current is None:
                self.error(line.line, len(line.indent) + 1,
                           "this line is not inside a section", "这一行不在任何栏目之内",
                           expected=self.headers_text("en"), expected_zh=self.headers_text("zh"),
                           fix="start a section with its header line first, e.g. 'points:'",
                           fix_zh="先写栏目标题行，例如 '积分：'")
                continue
            block = blocks[current]
            if _DATED.match(code):
                if last_item is None:
                    self.error(line.line, len(line.indent) + 1,
                               "a dated line must follow the item it changes",
                               "带日期的行必须紧跟在它所修改的条目后面",
                               fix="put it right under the item", fix_zh="把它放在该条目的下一行")
                    continue
                result = self.parse(self.grammar.dated_start(current, last_item["kind"]), line)
                if result is not None:
                    last_item["versions"].append(self.version(result, line))
                continue
            if _REMOVE.match(code):
                result = self.parse(self.grammar.remove_start(current), line)
                last_item = None
                if result is not None:
                    head = result.children[0]
                    kind = head.kind.split("__head_", 1)[1]
                    item_name = head.children[0] if head.children else None
                    block["removals"].append(ast.Removal(kind, item_name, self.ref(line),
                                                         self.ref_pos(line)))
                continue
            result = self.parse(self.grammar.item_start(current), line)
            if result is None:
                last_item = None
                continue
            override = result.kind.endswith("__override")
            entry = result.children[0]
            kind = entry.kind.split("__item_", 1)[1]
            children = list(entry.children)
            item_name = children.pop(0) if children and isinstance(children[0], ast.Name) and \
                self.grammar.sections[current].item_kind(kind).named else None  # type: ignore[union-attr]
            body = children[0]
            last_item = {"kind": kind, "name": item_name, "override": override,
                         "versions": [ast.Version(None, None, body, self.ref(line),
                                                  self.ref_pos(line))],
                         "ref": self.ref(line), "pos": self.ref_pos(line)}
            block["items"].append(last_item)
        sections = []
        for section_name in order:
            block = blocks[section_name]
            items = tuple(
                ast.Item(i["kind"], i["name"], tuple(i["versions"]), i["override"], i["ref"],
                         i["pos"]) for i in block["items"]
            )
            sections.append(ast.SectionBlock(section_name, items, tuple(block["removals"]),
                                             block["pos"]))
        return ast.RulesFile(name, extends, levels, tuple(sections), self.file, level_names)

    def ref_pos(self, line: LogicalLine) -> ast.Pos:
        return ast.Pos(self.file, line.line, len(line.indent) + 1, line.end_line, 0)

    def version(self, node: ast.Node, line: LogicalLine) -> ast.Version:
        dates = [c for c in node.children if isinstance(c, ast.Value) and c.kind == "date"]
        body = node.children[-1]  # after the dates: the body (a Node or the section's own node)
        since = dates[0].value
        until = dates[1].value if len(dates) > 1 else None
        if until is not None and until <= since:
            self.error(dates[1].pos.line, dates[1].pos.column,
                       f"the end date {until} is not after the start date {since}",
                       f"结束日期 {until} 不晚于开始日期 {since}",
                       fix="swap the dates or fix the end date", fix_zh="调换日期或改正结束日期")
        return ast.Version(since, until, body, self.ref(line), self.ref_pos(line))

    def section_header(self, code: str) -> str | None:
        match = _HEADER.match(code)
        if not match:
            return None
        word = re.sub(r"\s+", " ", match.group(1)).lower()
        return self.grammar.headers.get(word)

    def is_item_word(self, code: str) -> bool:
        """``stars:`` with nothing after it is an unfinished item, not an unknown section."""
        match = _HEADER.match(code)
        word = re.sub(r"\s+", " ", match.group(1)).lower() if match else ""
        return any(word == form.lower() or word.startswith(form.lower() + " ")
                   for section in self.grammar.sections.values()
                   for kind in section.items for form in kind.keywords)

    def headers_text(self, lang: str) -> str:
        words = []
        for section in self.grammar.sections.values():
            zh = [h for h in section.headers if not h.isascii()]
            en = [h for h in section.headers if h.isascii()]
            words.append((zh or en)[0] if lang == "zh" else (en or zh)[0])
        if not words:
            return "a section header" if lang == "en" else "栏目标题"
        return ", ".join(f"'{w}:'" for w in words)

    def unknown_header(self, line: LogicalLine, code: str) -> None:
        import difflib

        word = _HEADER.match(code).group(1).strip()  # type: ignore[union-attr]
        known = list(self.grammar.headers)
        close = difflib.get_close_matches(word.lower(), known, n=1, cutoff=0.5)
        self.error(line.line, len(line.indent) + 1, f"unknown section '{word}'",
                   f"未知的栏目 '{word}'", expected=self.headers_text("en"),
                   expected_zh=self.headers_text("zh"),
                   suggestion=f"{close[0]}:" if close else "",
                   fix="use the header of an installed section", fix_zh="使用已安装栏目的标题",
                   width=len(word))

    def check_levels(self, names: Sequence[ast.Name]) -> None:
        seen: set[str] = set()
        for n in names:
            if n.text in seen:
                self.error(n.pos.line, n.pos.column, f"level '{n.text}' is listed twice",
                           f"层级 '{n.text}' 重复", fix="list each level once", fix_zh="每个层级只写一次")
            seen.add(n.text)

    def check_indentation(self, lines: Sequence[LogicalLine]) -> None:
        first_style = ""
        for line in lines:
            mixed = " " in line.indent and "\t" in line.indent
            style = "" if mixed else ("\t" if "\t" in line.indent else (" " if line.indent else ""))
            if style and not first_style:
                first_style = style
            elif style and style != first_style:
                self.diagnostics.append(make(
                    self.file, self.source_lines, line.line, 1,
                    "this line is indented with " + ("tabs" if style == "\t" else "spaces")
                    + " but earlier lines with " + ("spaces" if style == "\t" else "tabs"),
                    "这一行用" + ("制表符" if style == "\t" else "空格") + "缩进，前面的行却用"
                    + ("空格" if style == "\t" else "制表符"),
                    severity=WARNING, fix="indent with spaces only (gridcore fmt does it)",
                    fix_zh="只用空格缩进（gridcore fmt 会自动修正）", width=len(line.indent)))
                continue
            if mixed:
                self.diagnostics.append(make(
                    self.file, self.source_lines, line.line, 1,
                    "this line's indentation mixes tabs and spaces", "这一行的缩进混用了制表符和空格",
                    severity=WARNING, fix="indent with spaces only (gridcore fmt does it)",
                    fix_zh="只用空格缩进（gridcore fmt 会自动修正）", width=len(line.indent)))


def parse_expression(text: str, *, sections: Sequence[Section[Any]] = ()) -> ast.Expr:
    """Parse a lone expression (used by tests and tools)."""
    grammar = build_grammar(sections)
    line = LogicalLine(1, 1, "", text, (), 0)
    reader = _Reader(grammar, text, "<expr>")
    result = reader.parse("expr", line)
    if result is None:
        raise RulesError(reader.diagnostics)
    assert not isinstance(result, Tree)
    return result  # type: ignore[no-any-return]


def parse_ladder(text: str, *, sections: Sequence[Section[Any]] = ()) -> ast.Ladder:
    """Parse a lone ladder (``5 if score >= 90, otherwise 3``), for tests and tools."""
    grammar = build_grammar(sections)
    reader = _Reader(grammar, text, "<ladder>")
    result = reader.parse("ladder", LogicalLine(1, 1, "", text, (), 0))
    if result is None:
        raise RulesError(reader.diagnostics)
    return result  # type: ignore[no-any-return]
