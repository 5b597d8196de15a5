"""Reading a ``.rules`` file into a ``RulesFile``, collecting every error.

A file is parsed whole, with one grammar (grammar_build.py: the core, every
section's fragment and the file's structure), from the start rule
``rules_file``; the postlexer (``StatementEnds``, lines.py) ends a statement
at the end of each logical line.  Each statement's tree is turned into its
typed node (transformer.py: ``ItemLine``, ``DatedLine``, ``RemoveLine``, the
preamble's declarations) and the file is assembled from them: section blocks,
items with their dated versions, removals.

When the grammar rejects a line, that line is parsed alone from the start
rule of what it looks like (an item, a dated line, a removal, a preamble
line) to say what is wrong with it in the author's words, and the lines
after it are read one by one, each on its own, up to the next section
header, where the file's parse resumes.  So one bad line never hides the
next, and a file with no mistakes is parsed in one go.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections.abc import Sequence
from typing import Any

from attrs import field
from lark import TextSlice, Tree
from lark.exceptions import UnexpectedInput, UnexpectedToken, VisitError

from ..classes import define
from ..explain import RuleRef
from . import ast, tree_cache
from .diagnose import from_lark, make
from .errors import WARNING, Diagnostic, RulesError
from .grammar_build import FILE_START, Grammar, build_grammar
from .keywords import CJK, CORE_KEYWORDS
from .lines import LogicalLine, split_lines
from .sections import Section
from .transformer import MAX_DEPTH, AstError, ToAst, tree_depth

MAX_LINE = 4000


def _starts(words: Sequence[str]) -> re.Pattern[str]:
    # a form of two words (``applies to``) takes any spaces between them
    alts = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"^(?:{alts})(?!\w)", re.IGNORECASE)


# What a line the grammar rejected looks like, to parse it alone from the right
# start rule (and what ``gridcore fmt`` indents): a preamble line, a dated line,
# a removal or a section header.  A line of a file the grammar accepts never
# meets these.
_PREAMBLE = _starts([*CORE_KEYWORDS["RULESET"], *CORE_KEYWORDS["EXTENDS"],
                     *CORE_KEYWORDS["LEVELS"], *CORE_KEYWORDS["APPLIES"]])
_DATED = re.compile(rf"^(?:{'|'.join(map(re.escape, CORE_KEYWORDS['FROM']))})\s*\d", re.IGNORECASE)
_REMOVE = _starts(CORE_KEYWORDS["REMOVE"])
_HEADER = re.compile(rf"^([A-Za-z_{CJK}][\w ]*?)\s*[:：]\s*$")
_PREAMBLE_RULES = ("ruleset_decl", "extends_decl", "levels_decl", "applies_decl")


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
    reader = _Reader(grammar, text.removeprefix("\ufeff"), file, skip_unknown_sections)
    # The trees of this text from an earlier process (tree_cache.py), and after it any new ones.
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


@define
class _OpenItem:
    """An item being read: its line, and its versions as its dated lines add them."""

    line: ast.ItemLine
    versions: list[ast.Version]
    ref: RuleRef
    pos: ast.Pos


@define
class _Block:
    """A section's block as read so far (a section written twice in a file is one block)."""

    pos: ast.Pos
    items: list[_OpenItem] = field(factory=list)
    removals: list[ast.Removal] = field(factory=list)


class _Reader:
    def __init__(self, grammar: Grammar, text: str, file: str, skip_unknown_sections: bool = False,
                 ) -> None:
        self.grammar = grammar
        self.file = file
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        self.source_lines = text.split("\n")
        # Every statement ends with a newline, the last one too.
        self.text = text if text.endswith("\n") else text + "\n"
        self.offsets = [0]
        for physical in self.source_lines:
            self.offsets.append(self.offsets[-1] + len(physical) + 1)
        self.lines, _ = split_lines(self.text)
        self.starts = [line.line for line in self.lines]
        self.by_start = {line.line: line for line in self.lines}
        self.diagnostics: list[Diagnostic] = []
        self.skip_unknown_sections = skip_unknown_sections
        #: logical lines read one by one (after a line the file's grammar rejected)
        self.read_alone = 0
        #: the trees of what parsed, by (start rule, "begin:end" in the text): read from the
        #: disk cache (tree_cache.py) and added to
        self.trees: tree_cache.Lines = {}
        # what the file says so far
        self.name: str | None = None
        self.extends: str | None = None
        self.levels: tuple[str, ...] = ()
        self.level_names: tuple[tuple[str, str], ...] = ()
        self.applies_to: ast.Name | None = None
        self.blocks: dict[str, _Block] = {}
        # where the reading is
        self.current: str | None = None
        self.last_item: _OpenItem | None = None
        self.skipping = False

    # ------------------------------------------------------------ helpers

    def error(self, line: int, column: int, message: str, message_zh: str, **more: Any) -> None:
        self.diagnostics.append(make(self.file, self.source_lines, line, column, message,
                                     message_zh, **more))

    def ref(self, line: LogicalLine) -> RuleRef:
        text = " ".join(part.strip() for part in line.code.split("\n")).strip()
        return RuleRef(self.file, line.line, len(line.indent) + 1, text)

    def ref_pos(self, line: LogicalLine) -> ast.Pos:
        return ast.Pos(self.file, line.line, len(line.indent) + 1, line.end_line, 0)

    def span(self, line: LogicalLine) -> TextSlice[str]:
        """The text of one logical line (comments kept), from the start of its first line.

        It ends with the last physical line that has code: comment lines a
        continued line runs into are left out, as ``split_lines`` blanks them.
        """
        last = line.end_line
        comment_lines = {c.line for c in line.comments if not c.trailing}
        while last > line.line and last in comment_lines:
            last -= 1
        return TextSlice(self.text, self.offsets[line.line - 1],
                         self.offsets[last - 1] + len(self.source_lines[last - 1]))

    def parse(self, start: str, begin: int, end: int) -> Tree[Any]:
        """The tree of ``text[begin:end]`` from ``start`` (from the cache if it was parsed before)."""
        key = (start, f"{begin}:{end}")
        tree = self.trees.get(key)
        if tree is None:
            tree = self.grammar.lark.parse(TextSlice(self.text, begin, end), start=start)
            self.trees[key] = tree
        return tree

    def statement(self, line: LogicalLine, start: str, tree: Tree[Any] | None = None) -> Any | None:
        """The typed node of one statement, or None (with the reason reported).

        ``tree`` is the statement's tree from the file's parse; without it the
        line is parsed alone from ``start``.
        """
        column = len(line.indent) + 1
        if len(line.code) > MAX_LINE:
            self.error(line.line, column, f"this line is too long (over {MAX_LINE} characters)",
                       f"这一行太长（超过 {MAX_LINE} 个字符）", fix="split it into several items",
                       fix_zh="拆成几条")
            return None
        if tree is None:
            span = self.span(line)
            try:
                tree = self.parse(start, span.start, span.end)
            except UnexpectedInput as exc:
                self.diagnostics.append(from_lark(exc, self.grammar, start, line, self.file,
                                                  self.source_lines))
                return None
        if tree_depth(tree) > MAX_DEPTH:
            self.error(line.line, column, "this expression is nested too deeply",
                       "表达式嵌套太深", fix="split it into simpler rules", fix_zh="拆成更简单的规则")
            return None
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
        self.check_indentation(self.lines)
        index = 0
        while index < len(self.lines):
            begin = self.offsets[self.lines[index].line - 1]
            try:
                tree = self.parse(FILE_START, begin, len(self.text))
            except UnexpectedInput as exc:
                bad = self.line_of_error(exc, index)
                if bad > index:
                    try:
                        prefix = self.parse(FILE_START, begin, self.offsets[self.lines[bad].line - 1])
                    except UnexpectedInput:
                        # the error showed past the line that is wrong (a line that does
                        # not close its bracket, see StatementEnds): read from here
                        bad = index
                    else:
                        if not self.take_file(prefix, index, bad):
                            bad = index
                index = self.recover(bad)
                continue
            if not self.take_file(tree, index, len(self.lines)):
                self.recover(index, to_end=True)  # pragma: no cover - see take_file
            break
        return self.result()

    def line_of_error(self, exc: UnexpectedInput, first: int) -> int:
        """The index of the logical line a parse error is in (not before ``first``)."""
        if isinstance(exc, UnexpectedToken) and exc.token.type == "$END" and exc.line in (None, -1):
            return len(self.lines) - 1
        found = bisect.bisect_right(self.starts, exc.line or 1) - 1
        return min(max(found, first), len(self.lines) - 1)

    def take_file(self, tree: Tree[Any], first: int, end: int) -> bool:
        """Read the statements of a parsed stretch of the file (lines ``first`` to ``end``).

        The statements must be exactly those logical lines; if they are not
        (the postlexer and ``split_lines`` disagree, which they should never),
        nothing is taken and the stretch is read line by line instead.
        """
        statements: list[tuple[str, Tree[Any], LogicalLine]] = []
        for child in tree.children:
            if child.data in _PREAMBLE_RULES:
                statements.append(("preamble", child, self.line_at(child)))
                continue
            statements.append(("header", child, self.line_at(child)))
            for statement in child.children[1:]:
                if statement.data not in self.grammar.items:
                    statements.append(("remove", statement, self.line_at(statement)))
                    continue
                # the item line as its own start rule reads it (the same tree, the same
                # depth), then its dated lines
                entry = statement.children[0]
                dated = [c for c in entry.children if isinstance(c, Tree) and c.data in self.grammar.dated]
                own = [c for c in entry.children if not (isinstance(c, Tree) and c.data in self.grammar.dated)]
                statements.append(("item", Tree(statement.data, [Tree(entry.data, own)]),
                                   self.line_at(statement)))
                statements.extend(("dated", d, self.line_at(d)) for d in dated)
        if [line.line for _, _, line in statements] != self.starts[first:end]:
            return False  # pragma: no cover - the two readings of a logical line agree
        for what, statement, line in statements:
            if what == "preamble":
                self.take_preamble(line, statement)
            elif what == "header":
                self.take_header(line, self.grammar.blocks[statement.data])
            elif what == "item":
                self.take_item(line, statement)
            elif what == "dated":
                self.take_dated(line, statement)
            else:
                self.take_removal(line, statement)
        return True

    def line_at(self, tree: Tree[Any]) -> LogicalLine:
        return self.by_start.get(tree.meta.line) or self.lines[0]

    def recover(self, bad: int, *, to_end: bool = False) -> int:
        """Read lines one by one from ``bad`` to the next known section header.

        Returns the index of that header (where the file's parse resumes), or
        the number of lines.
        """
        index = bad
        while index < len(self.lines):
            line = self.lines[index]
            if index > bad and not to_end and self.section_header(line.code.strip()) is not None:
                return index
            self.read_line(line)
            index += 1
        return index

    # ------------------------------------------------------------ one line at a time

    def read_line(self, line: LogicalLine) -> None:
        """One logical line, read alone: what it is, and what is wrong with it."""
        self.read_alone += 1
        code = line.code.strip()
        if line.depth:
            from .lines import unclosed

            where = unclosed(line.code) or (0, 1)
            column = where[1] + (len(line.indent) if where[0] == 0 else 0)
            self.error(line.line + where[0], column,
                       "this bracket is opened but never closed", "这个括号没有闭合",
                       fix="add the closing bracket", fix_zh="补上右括号")
            return
        header = self.section_header(code)
        if header is not None:
            self.take_header(line, header)
            return
        if _HEADER.match(code) and _PREAMBLE.match(code) and self.current is None and not self.blocks:
            # 'levels:' / '适用于：' with nothing after it: the preamble line says what it lacks
            self.take_preamble(line, None)
            return
        if _HEADER.match(code) and not self.is_item_word(code):
            if not self.skip_unknown_sections:
                self.unknown_header(line, code)
            self.current = None
            self.skipping = True
            return
        if self.skipping:
            return  # the items of an unknown section: reported once, at its header
        if _PREAMBLE.match(code):
            self.take_preamble(line, None)
            return
        if self.current is None:
            self.error(line.line, len(line.indent) + 1,
                       "this line is not inside a section", "这一行不在任何栏目之内",
                       expected=self.headers_text("en"), expected_zh=self.headers_text("zh"),
                       fix="start a section with its header line first, e.g. 'points:'",
                       fix_zh="先写栏目标题行，例如 '积分：'")
            return
        if _DATED.match(code):
            self.take_dated(line, None)
            return
        if _REMOVE.match(code):
            self.take_removal(line, None)
            return
        self.take_item(line, None)

    # ------------------------------------------------------------ statements

    def take_header(self, line: LogicalLine, section: str) -> None:
        self.skipping = False
        self.current = section
        self.last_item = None
        if section not in self.blocks:
            self.blocks[section] = _Block(ast.Pos(self.file, line.line, len(line.indent) + 1))

    def take_preamble(self, line: LogicalLine, tree: Tree[Any] | None) -> None:
        result = self.statement(line, "preamble_line", tree)
        if self.current is not None or self.blocks:
            self.error(line.line, len(line.indent) + 1,
                       "this line must come before the first section",
                       "这一行必须写在所有栏目之前",
                       fix="move it to the top of the file", fix_zh="把它移到文件开头")
            return
        if result is None:
            return
        what, value = result
        if what == "ruleset":
            self.name = value.text
        elif what == "extends":
            self.extends = value.text
        elif what == "applies":
            if self.applies_to is not None:
                self.error(value.pos.line, value.pos.column,
                           f"the file already says which subtree it applies to ({self.applies_to.text}, "
                           f"line {self.applies_to.pos.line})",
                           f"本文件已写明适用范围（{self.applies_to.text}，第 {self.applies_to.pos.line} 行）",
                           fix="keep one 'applies to' line", fix_zh="只保留一行 '适用于'")
                return
            self.applies_to = value
        else:
            self.levels = tuple(n.text for n, _ in value)
            self.level_names = tuple((n.text, zh.text) for n, zh in value if zh is not None)
            self.check_levels([n for pair in value for n in pair if n is not None])

    def take_item(self, line: LogicalLine, tree: Tree[Any] | None) -> None:
        assert self.current is not None
        result = self.statement(line, self.grammar.item_start(self.current), tree)
        if result is None:
            self.last_item = None
            return
        self.last_item = _OpenItem(result, [ast.Version(None, None, result.body, self.ref(line),
                                                        self.ref_pos(line))],
                                   self.ref(line), self.ref_pos(line))
        self.blocks[self.current].items.append(self.last_item)

    def take_dated(self, line: LogicalLine, tree: Tree[Any] | None) -> None:
        assert self.current is not None
        if self.last_item is None:
            self.error(line.line, len(line.indent) + 1,
                       "a dated line must follow the item it changes",
                       "带日期的行必须紧跟在它所修改的条目后面",
                       fix="put it right under the item", fix_zh="把它放在该条目的下一行")
            return
        result = self.statement(line, self.grammar.dated_start(self.current,
                                                               self.last_item.line.kind), tree)
        if result is not None:
            self.last_item.versions.append(self.version(result, line))

    def take_removal(self, line: LogicalLine, tree: Tree[Any] | None) -> None:
        assert self.current is not None
        result = self.statement(line, self.grammar.remove_start(self.current), tree)
        self.last_item = None
        if result is not None:
            self.blocks[self.current].removals.append(
                ast.Removal(result.kind, result.name, self.ref(line), self.ref_pos(line), result.scope))

    def result(self) -> ast.RulesFile:
        sections = []
        for section_name, block in self.blocks.items():
            items = tuple(ast.Item(i.line.kind, i.line.name, tuple(i.versions), i.line.override,
                                   i.ref, i.pos, i.line.scope) for i in block.items)
            sections.append(ast.SectionBlock(section_name, items, tuple(block.removals), block.pos))
        return ast.RulesFile(self.name, self.extends, self.levels, tuple(sections), self.file,
                             self.level_names, self.applies_to)

    def version(self, node: ast.DatedLine, line: LogicalLine) -> ast.Version:
        since = node.dates[0].value
        until = node.dates[1].value if len(node.dates) > 1 else None
        if until is not None and until <= since:
            self.error(node.dates[1].pos.line, node.dates[1].pos.column,
                       f"the end date {until} is not after the start date {since}",
                       f"结束日期 {until} 不晚于开始日期 {since}",
                       fix="swap the dates or fix the end date", fix_zh="调换日期或改正结束日期")
        return ast.Version(since, until, node.body, self.ref(line), self.ref_pos(line))

    # ------------------------------------------------------------ headers

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
        if lang == "zh":
            return "、".join(f"'{w}：'" for w in words)
        return ", ".join(f"'{w}:'" for w in words)

    def unknown_header(self, line: LogicalLine, code: str) -> None:
        word = _HEADER.match(code).group(1).strip()  # type: ignore[union-attr]
        known = list(self.grammar.headers)
        close = difflib.get_close_matches(word.lower(), known, n=1, cutoff=0.5)
        self.error(line.line, len(line.indent) + 1, f"unknown section '{word}'",
                   f"未知的栏目 '{word}'", expected=self.headers_text("en"),
                   expected_zh=self.headers_text("zh"),
                   suggestion=close[0] if close else "",  # (in place of the word; the colon stays)
                   fix="use the header of an installed section (a plugin disabled with -p no:NAME brings none)",
                   fix_zh="使用已安装栏目的标题（用 -p no:插件名 禁用的插件不提供栏目）",
                   width=len(word))

    # ------------------------------------------------------------ lexical checks

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


def _alone(text: str, start: str, sections: Sequence[Section[Any]], file: str) -> Any:
    """Parse a lone piece of text (an expression, a ladder) from ``start``."""
    grammar = build_grammar(sections)
    reader = _Reader(grammar, text, file)
    last = len(reader.source_lines)
    line = LogicalLine(1, last, "", text, (), 0)
    result = reader.statement(line, start)
    if result is None:
        raise RulesError(reader.diagnostics)
    return result


def parse_expression(text: str, *, sections: Sequence[Section[Any]] = ()) -> ast.Expr:
    """Parse a lone expression (used by tests and tools)."""
    result = _alone(text, "expr", sections, "<expr>")
    assert not isinstance(result, Tree)
    return result  # type: ignore[no-any-return]


def parse_ladder(text: str, *, sections: Sequence[Section[Any]] = ()) -> ast.Ladder:
    """Parse a lone ladder (``5 if score >= 90, otherwise 3``), for tests and tools."""
    return _alone(text, "ladder", sections, "<ladder>")  # type: ignore[no-any-return]
