"""What the language server knows about a ruleset being edited (no protocol here).

``Scope.of(text, path, ...)`` reads the text an editor holds (what can be
read of it, errors and all), the files it ``extends`` and the community
folder beside it, and keeps every name in scope with where it is defined:
activities, rewards, metrics, levels, roles, departments, categories.
The server (server.py) turns these answers into LSP messages; positions
here are 1-based lines and 0-based columns in characters.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from attrs import field

from gridcore.classes import frozen
from gridcore.roster import ROLES
from gridcore.rules.keywords import CJK, CORE_KEYWORDS
from gridcore.rules.parser import read_source
from gridcore.rules.ruleset import MAX_CHAIN, REPO_RULESETS, SUFFIX
from gridcore.rules.sections import ItemKind, Section

#: item kind -> the vocabulary its names form, where the section does not say
ITEM_VOCABULARIES = {"activity": "activity", "reward": "reward", "metric": "metric",
                     "category": "category", "penalty": "metric", "bonus": "metric", "holiday": "holiday",
                     "channel": "channel"}

#: What the core's keywords mean (hover), English and Chinese, with an example.
CORE_DOCS: dict[str, tuple[str, str, str]] = {
    "RULESET": ("the ruleset's name", "规则集的名称", 'ruleset "银泉社区"'),
    "EXTENDS": ("the parent ruleset this one changes (found beside the file, then in rulesets/)",
                "本规则集继承并修改的上级规则集", 'extends "district-base"'),
    "LEVELS": ("the community's hierarchy levels, top first", "社区的层级，自上而下",
               "levels: community > grid > unit"),
    "APPLIES": ("the subtree this ruleset governs (a node id or name; absent: the whole tree)",
                "本规则集适用的子树（节点编号或名称；不写则适用于整个层级树）", '适用于：银州社区'),
    "FROM": ("a dated version of the item above, in force from a date",
             "上一条目自某日起生效的新版本", "  from 2025-07-01: 6 per hour"),
    "UNTIL": ("the last day a dated version is in force", "带日期版本的截止日期",
              "  from 2025-07-01 until 2025-12-31: 6 per hour"),
    "REMOVE": ("remove an item the parent ruleset has", "删除上级规则集中的一条",
               "  remove activity 政策宣传"),
    "OVERRIDE": ("replace an item the parent ruleset has", "覆盖上级规则集中的一条",
                 "  override activity 志愿服务: 6 per hour"),
    "IF": ("a condition: a ladder step applies if it holds", "条件：满足时该档适用",
           "stars: 5 if score >= 90, otherwise 3"),
    "ELSE": ("the value when no step applies", "没有一档适用时的值",
             "stars: 5 if score >= 90, otherwise 3"),
    "PER": ("a rate or a period", "比率或周期", "activity 志愿服务: 5 per hour, at most 40 per month"),
}


@frozen
class Definition:
    """A name in scope: its vocabulary, where it is defined, the defining line (for a role: its
    other spelling), and for a role the roster adds, the roster's name."""

    name: str
    vocabulary: str
    file: str = ""
    line: int = 0
    column: int = 0
    text: str = ""
    roster: str = ""


@frozen
class Symbol:
    """A section or an item of the edited file, for the outline."""

    name: str
    kind: str
    line: int
    end_line: int
    column: int
    children: tuple[Symbol, ...] = ()


@frozen
class Scope:
    """The names in scope for one edited file, and the file's own outline."""

    definitions: tuple[Definition, ...]
    symbols: tuple[Symbol, ...]
    parents: tuple[Path, ...] = ()
    extends_line: int = 0
    sections: tuple[Section[Any], ...] = field(default=(), repr=False)

    @classmethod
    def of(cls, text: str, path: Path, *, sections: Sequence[Section[Any]],
           metrics: Sequence[tuple[str, str]] = (), community: Path | None = None) -> Scope:
        """Everything in scope for ``text`` (the file ``path`` as edited).

        ``metrics`` are (name, Chinese title) of the installed plugins' metrics;
        ``community`` the community folder beside the ruleset, if any.
        """
        definitions: list[Definition] = []
        parsed, _ = read_source(text, sections=sections, file=str(path))
        symbols = _symbols(parsed, text)
        definitions.extend(_defined(parsed, text.splitlines(), sections))
        parents: list[Path] = []
        parent_name = parsed.extends
        folder = path.parent
        while parent_name is not None and len(parents) < MAX_CHAIN:
            found = find_parent(parent_name, folder)
            if found is None or found in parents:
                break
            parents.append(found)
            try:
                parent_text = found.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                break
            parent, _ = read_source(parent_text, sections=sections, file=str(found))
            definitions.extend(_defined(parent, parent_text.splitlines(), sections))
            parent_name, folder = parent.extends, found.parent
        for name, title in metrics:
            definitions.append(Definition(name, "metric", text=title))
        for role, zh in ROLES.items():
            definitions += [Definition(role, "role", text=zh), Definition(zh, "role", text=role)]
        if community is not None:
            definitions.extend(_from_community(community))
        extends_line = next((n for n, line in enumerate(text.splitlines(), 1)
                             if _EXTENDS.match(line.strip())), 0)
        return cls(tuple(_unique(definitions)), tuple(symbols), tuple(parents), extends_line,
                   tuple(sections))

    def names(self, vocabulary: str | None = None) -> list[Definition]:
        """The definitions of a vocabulary (all with None)."""
        return [d for d in self.definitions if vocabulary is None or d.vocabulary == vocabulary]

    def lookup(self, name: str) -> Definition | None:
        """The definition of ``name`` (one with a place in a file first)."""
        found = [d for d in self.definitions if d.name == name]
        found.sort(key=lambda d: (not d.file, d.vocabulary))
        return found[0] if found else None


_EXTENDS = re.compile(r"^(?:extends|继承)\s*[\"“「]([^\"”」]+)[\"”」]", re.IGNORECASE)


def find_parent(name: str, folder: Path) -> Path | None:
    """The file ``extends "name"`` means: beside the file, then in the repository's rulesets/."""
    if "/" in name or "\\" in name or name.startswith("."):
        return None
    filename = name if name.endswith(SUFFIX) else name + SUFFIX
    for where in (folder, REPO_RULESETS):
        candidate = where / filename
        if candidate.is_file():
            return candidate.resolve()
    return None


def _defined(parsed: Any, lines: Sequence[str], sections: Sequence[Section[Any]] = ()) -> list[Definition]:
    """The names ``parsed`` defines: its levels, and the items that name something (an activity, a category
    ...), each also by the title it gives itself (``holiday spring_festival: 春节, ...``: ``春节``)."""
    kinds = {(s.name, k.name): k for s in sections for k in s.items}
    out: list[Definition] = []
    for level in parsed.levels:
        line, column = _find_word(lines, level, prefer=("levels", "层级"))
        out.append(Definition(level, "level", parsed.file, line, column,
                              lines[line - 1].strip() if line else ""))
    for level, zh in parsed.level_names:
        line, column = _find_word(lines, zh, prefer=("levels", "层级"))
        out.append(Definition(zh, "level", parsed.file, line, column, level))
    for block in parsed.sections:
        for item in block.items:
            vocabulary = ITEM_VOCABULARIES.get(item.kind)
            if item.name is None or vocabulary is None or item.override:
                continue  # an override defines nothing new: the parent's item is the definition
            pos = item.name.pos
            out.append(Definition(item.name.text, vocabulary, parsed.file, pos.line,
                                  max(0, pos.column - 1), item.ref.text))
            kind = kinds.get((block.name, item.kind))
            titles = kind.titles if kind is not None else None
            if titles is None:
                continue
            for version in item.versions:
                for title in titles(version.body):
                    line = version.pos.line or pos.line
                    written = lines[line - 1] if 0 < line <= len(lines) else ""
                    if title != item.name.text and title in written:
                        out.append(Definition(title, vocabulary, parsed.file, line, written.index(title),
                                              written.strip()))
    return out


def _find_word(lines: Sequence[str], word: str, prefer: tuple[str, ...]) -> tuple[int, int]:
    for n, line in enumerate(lines, 1):
        if line.strip().lower().startswith(prefer) and word in line:
            return n, line.index(word)
    return 0, 0


def _from_community(folder: Path) -> list[Definition]:
    from gridcore.errors import GridcoreError

    from ..rosterio import load_community

    try:
        community = load_community(folder)
    except (GridcoreError, OSError):
        return []
    where = str(folder / "community.yaml")
    # the roles the roster adds (or names otherwise), by key and by Chinese name; the built-in ones are listed already
    out = [d for role, name in community.roles.items() if ROLES.get(role) != name
           for d in (Definition(role, "role", where, text=name, roster=community.name),
                     Definition(name, "role", where, text=role, roster=community.name))]
    out += [Definition(dept, "department", where, text=d.name)
            for dept, d in community.departments.items()]
    return out


def _unique(definitions: Sequence[Definition]) -> list[Definition]:
    """The nearest definition of each (vocabulary, name): the edited file's over a parent's."""
    seen: set[tuple[str, str]] = set()
    out = []
    for d in definitions:
        key = (d.vocabulary, d.name)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def _symbols(parsed: Any, text: str) -> list[Symbol]:
    lines = text.splitlines()
    out = []
    for block in parsed.sections:
        children = []
        for item in block.items:
            label = f"{item.kind} {item.name.text}" if item.name is not None else item.kind
            end = max(v.pos.end_line or v.pos.line for v in item.versions)
            children.append(Symbol(label, item.kind, item.pos.line, end, item.pos.column - 1))
        last = max([c.end_line for c in children] or [block.pos.line])
        header = lines[block.pos.line - 1].strip().rstrip(":：") if block.pos.line else block.name
        out.append(Symbol(header or block.name, "section", block.pos.line, last,
                          block.pos.column - 1, tuple(children)))
    return out


# ---------------------------------------------------------------------- words


def keywords(sections: Sequence[Section[Any]], lang: str = "en") -> list[tuple[str, str, str]]:
    """Every keyword form, English and Chinese: (form, what it is, detail).  The detail names the keyword's
    section and term (``points: activity``); for ``lang="zh"`` in Chinese, the section's Chinese header and the
    keyword's Chinese forms (``积分：活动``; a core keyword's: ``且、并且、而且``)."""
    zh = lang == "zh"
    out: list[tuple[str, str, str]] = []
    for term, forms in CORE_KEYWORDS.items():
        for form in forms:
            out.append((form, "keyword", _said_zh(forms) if zh else term.lower()))
    for section in sections:
        named = section_zh(section) if zh else section.name
        for header in section.headers:
            out.append((header, "section", named))
        for kind in section.items:
            for form in kind.keywords:
                out.append((form, "item", f"{named}：{_said_zh(kind.keywords)}" if zh else f"{section.name}: {kind.name}"))
        for term, forms in section.keywords.items():
            for form in forms:
                out.append((form, "keyword", f"{named}：{_said_zh(forms)}" if zh else
                            f"{section.name}: {term.lower()}"))
    seen: set[str] = set()
    unique = []
    for entry in out:
        if entry[0] not in seen:
            seen.add(entry[0])
            unique.append(entry)
    return unique


def section_zh(section: Section[Any]) -> str:
    """A section's Chinese header (``积分``), its name when it has none."""
    from gridcore.rules.keywords import is_cjk

    return next((h for h in section.headers if is_cjk(h)), section.name)


def keyword_zh(word: str, sections: Sequence[Section[Any]]) -> str:
    """An item's keyword, a section's header or keyword (``activity``, ``points``) in Chinese (``活动``, ``积分``),
    ``section`` as 规则节; the word as it is when it is none of them or has no Chinese form."""
    found = item_kind_of(word, sections)
    if found is not None:
        return _said_zh(found[1].keywords)
    if word == "section":  # (a document symbol that is a section)
        return "规则节"
    section = next((s for s in sections if word.lower() in (h.lower() for h in s.headers)), None)
    if section is not None:
        return section_zh(section)
    forms = next((f for s in sections for f in s.keywords.values() if word.lower() in (x.lower() for x in f)), None)
    return _said_zh(forms) if forms is not None else word


def _said_zh(forms: Sequence[str]) -> str:
    """A keyword's Chinese forms (``且、并且、而且``); its forms as they are when none is Chinese."""
    from gridcore.rules.keywords import is_cjk

    return "、".join(f for f in forms if is_cjk(f)) or " / ".join(forms)


_WORD = re.compile(rf"[A-Za-z0-9_{CJK}]")


def word_at(line: str, column: int, candidates: Sequence[str]) -> tuple[str, int] | None:
    """The longest candidate written in ``line`` over ``column`` (0-based), with its start;
    else the run of word characters there."""
    best: tuple[str, int] | None = None
    for word in candidates:
        if not word:
            continue
        start = line.find(word)
        while start != -1:
            longer = best is None or len(word) > len(best[0])
            if start <= column < start + len(word) and longer and _whole(line, start, word):
                best = (word, start)
            start = line.find(word, start + 1)
    if best is not None:
        return best
    start = column
    while start > 0 and _WORD.match(line[start - 1]):
        start -= 1
    end = column
    while end < len(line) and _WORD.match(line[end]):
        end += 1
    return (line[start:end], start) if end > start else None


def _whole(line: str, start: int, word: str) -> bool:
    """ASCII words must not be part of a longer ASCII word (``per`` in ``person``)."""
    if not word.isascii():
        return True
    before = line[start - 1] if start else " "
    after = line[start + len(word)] if start + len(word) < len(line) else " "
    return not (re.match(r"[A-Za-z0-9_]", before) or re.match(r"[A-Za-z0-9_]", after))


def item_kind_of(word: str, sections: Sequence[Section[Any]]) -> tuple[Section[Any], ItemKind] | None:
    """The item kind ``word`` is a keyword of."""
    for section in sections:
        for kind in section.items:
            if word.lower() in (k.lower() for k in kind.keywords):
                return section, kind
    return None


def example_of(forms: Sequence[str], lang: str = "en") -> str:
    """A line of the repository's rulesets that starts with one of ``forms`` (an example),
    written in ``lang`` when one is."""
    from gridcore.rules.keywords import is_cjk

    own = [f for f in forms if is_cjk(f) == (lang == "zh")]
    return (_example(own) if own else "") or _example(forms)


def _example(forms: Sequence[str]) -> str:
    pattern = re.compile(r"^\s+(?:" + "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
                         + r")(?![A-Za-z0-9_])", re.IGNORECASE)
    for path in sorted(REPO_RULESETS.rglob("*" + SUFFIX)):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for line in text.splitlines():
            if pattern.match(line):
                return line.strip()
    return ""


def hover_text(word: str, scope: Scope, lang: str) -> str:
    """Markdown explaining ``word``: a keyword (its meaning and an example) or a name in scope."""
    zh = lang == "zh"
    found = item_kind_of(word, scope.sections)
    if found is not None:
        section, kind = found
        doc = (kind.doc_zh or kind.doc) if zh else (kind.doc or kind.doc_zh)
        example = example_of(kind.keywords, lang)
        out = [f"**{' / '.join(kind.keywords)}** ({section_zh(section) if zh else section.headers[0]})", "", doc]
        if example:
            out += ["", "例如：" if zh else "Example:", "```rules", example, "```"]
        return "\n".join(out)
    for section in scope.sections:
        if word.lower() in (h.lower() for h in section.headers):
            doc = (section.doc_zh or section.doc) if zh else (section.doc or section.doc_zh)
            return f"**{' / '.join(section.headers)}**\n\n{doc}"
    for term, forms in CORE_KEYWORDS.items():
        if word.lower() in (f.lower() for f in forms):
            en, zh_doc, example = CORE_DOCS.get(term, (term.lower(), term.lower(), ""))
            out = [f"**{' / '.join(forms)}**", "", zh_doc if zh else en]
            if example:
                out += ["", "例如：" if zh else "Example:", "```rules", example, "```"]
            return "\n".join(out)
    definition = scope.lookup(word)
    if definition is None:
        return _variable_hover(word, scope.sections, zh)
    label = _VOCAB_ZH.get(definition.vocabulary, definition.vocabulary) if zh else definition.vocabulary
    out = [f"**{definition.name}** ({label})"]
    if definition.roster:
        out += ["", f"花名册（{definition.roster}）增加的角色" if zh
                else f"a role the roster of {definition.roster} adds"]
    elif definition.file:
        where = f"{Path(definition.file).name}:{definition.line}" if definition.line \
            else Path(definition.file).name
        out += ["", ("定义于 " if zh else "defined in ") + where]
    if definition.text:
        out += ["", "```rules", definition.text, "```"] if definition.line else ["", definition.text]
    return "\n".join(out)


def _variable_hover(word: str, sections: Sequence[Section[Any]], zh: bool) -> str:
    """What a variable of expressions (``member`` / ``成员``) or a field of one (``党员``) means, in the
    editor's language; a field name several records have is shown for each."""
    from gridcore.rules import schema as sch

    def said(doc: dict[str, Any]) -> str:
        return str((doc.get("doc_zh") or doc.get("doc", "")) if zh else (doc.get("doc") or doc.get("doc_zh", "")))

    variables = [sch.describe_var(v) for v in sch.STANDARD_VARS]
    variables += [v for section in sections for v in section.variables.values() if isinstance(v, dict)]
    lowered = word.lower()
    for var in variables:
        if lowered == var["name"].lower() or word in var["zh"]:
            return f"**{' / '.join([var['name'], *var['zh']])}**\n\n{said(var)}"
    found = []
    for var in variables:
        for f in var.get("fields", ()):
            if (lowered == f["name"].lower() or word in f["zh"]) and said(f):
                line = f"**{var['name']}.{f['name']}** / {'、'.join(f'{z}.{n}' for z in var['zh'][:1] for n in f['zh'])}"
                if line not in found:
                    found += [line, "", said(f), ""]
    return "\n".join(found).strip()


_VOCAB_ZH = {"level": "层级", "role": "角色", "activity": "活动", "category": "事件类别",
             "department": "条线部门", "reward": "礼遇", "metric": "指标", "holiday": "节假日", "channel": "渠道"}


def vocabulary_zh(vocabulary: str) -> str:
    """What sort of name a definition is (``level``, ``role`` ...), in Chinese."""
    return _VOCAB_ZH.get(vocabulary, vocabulary)
