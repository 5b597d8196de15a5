"""``Ruleset``: a checked, compiled ruleset, and the functions that load one.

Loading is all or nothing: every file of the ``extends`` chain is parsed, the
chain resolved, every section compiled; if anything reported an error the
whole ruleset is rejected with one ``RulesError`` listing every problem, and
nothing the caller holds is touched.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, cast

import attrs
from attrs import field

from ..classes import frozen
from ..errors import PluginError
from ..metrics import Metric
from ..roster import ROLES
from . import ast
from .checker import date_problems, did_you_mean, dropped_parts
from .context import CompileContext
from .diagnose import make
from .errors import ERROR, WARNING, Diagnostic, RulesError, sort_diagnostics
from .inherit import Change, Key, resolve
from .parser import read_source
from .roles import Roles
from .sections import P, Section
from .timeline import InForce, Timeline, spans

SUFFIX = ".rules"
MAX_CHAIN = 16
#: Characters in the name an ``extends`` line gives.
MAX_NAME = 100
DOCUMENT_FORMAT = 1
REPO_RULESETS = Path(__file__).resolve().parents[2] / "rulesets"
#: Folders ``extends "name"`` also searches, ``os.pathsep``-separated.
RULESETS_ENV = "GRIDCORE_RULESETS"


def search_folders(search_path: Iterable[Path | str] = ()) -> list[Path]:
    """Where ``extends "name"`` is looked for after the ruleset's own folder.

    ``search_path`` (the commands' ``--rulesets DIR``), then each folder of the
    ``GRIDCORE_RULESETS`` environment variable (``os.pathsep``-separated), then
    the ``rulesets/`` folder of a source checkout, if there is one.
    """
    folders = [Path(p) for p in search_path]
    folders.extend(Path(p) for p in os.environ.get(RULESETS_ENV, "").split(os.pathsep) if p.strip())
    if REPO_RULESETS.is_dir():
        folders.append(REPO_RULESETS)
    return folders


@frozen
class Source:
    """One file of a ruleset's inheritance chain: its name and full text."""

    name: str
    text: str


@frozen(eq=False)
class Ruleset:
    """A compiled ruleset: what plugins read their policies from.

    ``sources`` is the inheritance chain, furthest ancestor first, the entry
    file last.  ``items`` maps each section to its resolved items (each
    knowing its file and line, with all its dated versions); ``changes``
    lists what the entry file changed in its parent; ``warnings`` what
    ``gridcore check`` shows without failing.  A plugin reads its policy with
    ``policy(section, at=day)``.
    """

    name: str
    levels: tuple[str, ...]
    sources: tuple[Source, ...]
    items: Mapping[str, tuple[ast.Item, ...]] = field(repr=False)
    timelines: Mapping[str, Timeline[object]] = field(repr=False)
    changes: tuple[Change, ...] = field(default=(), repr=False)
    warnings: tuple[Diagnostic, ...] = field(default=(), repr=False)
    #: level id -> Chinese name, from ``levels: grid (网格) > ...``
    level_names: Mapping[str, str] = field(factory=dict, repr=False)
    #: vocabulary -> title -> id: the titles items give themselves
    #: (``category leaking_pipe: 水管漏水``; see ``ItemKind.titles``)
    titles: Mapping[str, Mapping[str, str]] = field(factory=dict, repr=False)
    #: vocabulary -> every name it holds (what expressions and item names are checked against)
    vocabularies: Mapping[str, frozenset[str]] = field(factory=dict, repr=False)
    #: metric id -> the ``Metric`` the plugins registered when it was compiled
    #: (``CompileContext.metrics``); empty if the caller gave none
    metrics: Mapping[str, Metric] = field(factory=dict, repr=False)
    #: the subtree the entry file says it governs (``applies to: NODE`` / ``适用于：NODE``, a
    #: node id or name as written, with its position); None: the whole tree.  Not inherited:
    #: a file that ``extends`` another says its own (``gridcore.rules.subtree`` resolves it)
    applies_to: ast.Name | None = field(default=None, repr=False)
    #: role id -> Chinese name of the roster it was compiled with (built-in roles and the
    #: roster's own, ``gridcore.rules.roles``); None: compiled without a roster, so a role
    #: name that is no built-in one was kept as written (``role-unchecked``)
    roles: Mapping[str, str] | None = field(default=None, repr=False)
    #: the sections it was compiled with (``for_roster`` compiles it again with them)
    compiled_with: tuple[Section[Any], ...] = field(default=(), repr=False)
    #: compiled leaving out sections no installed plugin reads (``from_document``)
    skipped_sections: bool = field(default=False, repr=False)

    def for_roster(self, roles: Mapping[str, str]) -> Ruleset:
        """This ruleset compiled against a roster's roles (``Community.roles``): itself when it
        already was, else compiled again from its sources (``RulesError`` for a role the roster
        does not have).  The engine calls this for a ruleset handed to it compiled elsewhere."""
        if self.roles is not None and dict(self.roles) == dict(Roles.of(roles).names):
            return self
        again = compile_chain(self.sources, sections=self.compiled_with, metrics=tuple(self.metrics.values()),
                              skip_unknown_sections=self.skipped_sections, roles=roles)
        # the subtree it governs as the caller left it (a what-if makes a variant everyone's)
        return again if again.applies_to == self.applies_to else attrs.evolve(again, applies_to=self.applies_to)

    def id_of(self, vocabulary: str, written: str) -> str:
        """The id ``written`` spells in ``vocabulary`` (a title of an item), or ``written`` itself."""
        return self.titles.get(vocabulary, {}).get(written, written)

    @property
    def entry(self) -> str:
        """The name of the file this ruleset was loaded from."""
        return self.sources[-1].name

    @property
    def fingerprint(self) -> str:
        """A hash of every source of the chain: the same files give the same fingerprint,
        whatever folder they were loaded from."""
        digest = hashlib.sha256()
        for source in self.sources:
            name = Path(source.name).name
            digest.update(name.encode() + b"\0" + source.text.encode() + b"\0")
        return digest.hexdigest()[:16]

    def has(self, section: Section[Any] | str) -> bool:
        """True if a file of the chain has this section (and its plugin is installed)."""
        return (section if isinstance(section, str) else section.name) in self.timelines

    def policy(self, section: Section[P], *, at: date) -> P | None:
        """The section's policy in force on ``at`` (the community's local date), or None.

        None means no file of the chain has the section.  Which version of an
        item is in force is decided here, by one rule (gridcore/rules/timeline.py):
        the last version written whose dates include the day.
        """
        if isinstance(at, datetime):
            raise TypeError("Ruleset.policy takes the community's local date, not a datetime "
                            "(Engine.policy converts a time for you)")
        timeline = self.timelines.get(section.name)
        return None if timeline is None else cast(P, timeline.at(at))

    def policies(self, section: Section[P]) -> tuple[InForce[P], ...]:
        """Every policy of the section with the days it is in force, in date order."""
        timeline = self.timelines.get(section.name)
        return () if timeline is None else cast(tuple[InForce[P], ...], timeline.spans)

    def to_document(self) -> dict[str, Any]:
        """JSON-ready: the entry file's name and every source text of the chain."""
        return {"format": DOCUMENT_FORMAT, "name": self.name, "entry": self.entry,
                "sources": [{"name": s.name, "text": s.text} for s in self.sources]}

    @classmethod
    def from_document(cls, doc: Mapping[str, Any], *, sections: Sequence[Section[Any]],
                      metrics: Sequence[Metric] = (), roles: Mapping[str, str] | None = None) -> Ruleset:
        """Recompile from stored sources, without touching the disk.

        Sections of plugins that are not installed now are left out (their
        ``policy`` is None), so a store still opens with a plugin disabled.
        ``roles``: the roster's (``Community.roles``).  A stored ruleset that names
        a role the roster does not have (put in force before role names were
        checked against the roster, or a role since taken off it) is compiled
        without the roster instead, so the store still opens: the result's
        ``roles`` is then None, and the caller says so.
        """
        try:
            sources = [Source(str(s["name"]), str(s["text"])) for s in doc["sources"]]
        except (KeyError, TypeError) as exc:
            raise RulesError.simple(f"a stored ruleset document is malformed ({exc})",
                                    f"保存的规则集文档已损坏（{exc}）") from None
        if not sources:
            raise RulesError.simple("a stored ruleset document has no sources",
                                    "保存的规则集文档没有源文件")
        # A section whose plugin is not installed (or disabled) now is left out.
        if roles is not None:
            try:
                return compile_chain(sources, sections=sections, metrics=metrics, skip_unknown_sections=True,
                                     roles=roles)
            except RulesError:
                # as it was put in force, a name that is no role kept as written (it matches nobody)
                return compile_chain(sources, sections=sections, metrics=metrics, skip_unknown_sections=True,
                                     roles=Roles(ROLES, roster=False, lenient=True))
        return compile_chain(sources, sections=sections, metrics=metrics, skip_unknown_sections=True)


# ---------------------------------------------------------------------- loading


def load_ruleset(path: Path | str, *, sections: Sequence[Section[Any]], metrics: Sequence[Metric] = (),
                 search_path: Iterable[Path | str] = (), roles: Mapping[str, str] | None = None) -> Ruleset:
    """Load, check and compile a ``.rules`` file and the files it extends.

    ``sections`` and ``metrics`` are what the plugins register
    (``gridcore_register_sections``, ``gridcore_register_metrics``): each
    section's compiler is handed the metrics as ``CompileContext.metrics``
    (without them, no item is checked against the metrics or keyed by a
    metric's Chinese title).

    ``extends "name"`` is looked up as ``name.rules`` (or ``name`` if it has a
    suffix) in the file's own folder, then in each ``search_path`` folder, then
    in each folder of ``$GRIDCORE_RULESETS``, then in a source checkout's
    ``rulesets/`` folder (``search_folders``).

    ``roles``: the roles of the roster the ruleset will run with (``Community.roles``:
    the built-in ones and those the roster adds), which its role names are checked
    against; None: the built-in roles only (see ``gridcore.rules.roles``).
    """
    path = Path(path)
    folders = search_folders(search_path)
    chain: list[Source] = []
    current: Path | None = path
    seen: set[Path] = set()
    while current is not None:
        real, text = _read(current)
        if real in seen:
            raise RulesError.simple(f"{path}: 'extends' goes round in a circle through {current}",
                                    f"{path}：'继承' 形成了循环（经过 {current}）")
        seen.add(real)
        display = str(current) if current == path else current.name
        chain.insert(0, Source(display, text))
        parent = _extends_of(text, sections, display)
        if parent is None:
            break
        if len(chain) >= MAX_CHAIN:
            raise RulesError.simple(f"{path}: more than {MAX_CHAIN} levels of 'extends'",
                                    f"{path}：'继承' 超过 {MAX_CHAIN} 层")
        current = _find(parent, [current.parent, *folders], display, text)
    return compile_chain(chain, sections=sections, metrics=metrics, roles=roles)


def parse_ruleset(text: str, *, sections: Sequence[Section[Any]], metrics: Sequence[Metric] = (),
                  name: str = "<string>", search_path: Iterable[Path | str] = (),
                  roles: Mapping[str, str] | None = None) -> Ruleset:
    """Check and compile ruleset text (its ``extends`` looked up in ``search_folders(search_path)``;
    ``roles`` as for ``load_ruleset``)."""
    chain = [Source(name, text)]
    folders = search_folders(search_path)
    parent = _extends_of(text, sections, name)
    while parent is not None:
        found = _find(parent, folders, chain[0].name, chain[0].text)
        if len(chain) >= MAX_CHAIN or any(s.name == found.name for s in chain):
            raise RulesError.simple(f"{name}: 'extends' goes round in a circle",
                                    f"{name}：'继承' 形成了循环")
        _, base_text = _read(found)
        chain.insert(0, Source(found.name, base_text))
        parent = _extends_of(base_text, sections, found.name)
    return compile_chain(chain, sections=sections, metrics=metrics, roles=roles)


def _extends_of(text: str, sections: Sequence[Section[Any]], file: str) -> str | None:
    parsed, _ = read_source(text, sections=sections, file=file)
    return parsed.extends  # errors are reported once, by compile_chain


def _read(path: Path) -> tuple[Path, str]:
    """A ruleset file's real path and text; every failure is a ``RulesError`` naming it."""
    try:
        real = path.resolve(strict=True)
        text = real.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RulesError.simple(f"{path}: no such ruleset file",
                                f"{path}：规则集文件不存在") from None
    except UnicodeDecodeError as exc:
        raise RulesError([_bad_byte(path, exc)]) from None
    except RuntimeError:  # a loop of symbolic links (Python before 3.13)
        raise RulesError.simple(f"{path}: a loop of symbolic links, not a ruleset file",
                                f"{path}：符号链接形成循环，不是规则集文件") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # the same loop (Python 3.13 and later)
            raise RulesError.simple(f"{path}: a loop of symbolic links, not a ruleset file",
                                    f"{path}：符号链接形成循环，不是规则集文件") from None
        why = exc.strerror or type(exc).__name__
        raise RulesError.simple(f"{path}: cannot be read ({why})",
                                f"{path}：无法读取（{why}）") from None
    return real, text


def _find(name: str, folders: Sequence[Path], referrer: str, text: str = "") -> Path:
    """The file ``extends "name"`` means: ``name.rules`` in the first folder that has it.

    Only a ruleset name is accepted (no path, at most ``MAX_NAME`` characters),
    and a file found is used only if it really lies in that folder: a symbolic
    link out of it (to ``/etc/passwd``, say) is refused without being read.
    ``text`` is the referring file's: a name that is no file there, or a path, is
    reported at its ``extends`` line.
    """
    filename = name if name.endswith(SUFFIX) else name + SUFFIX
    shown = name if len(name) <= 60 else name[:57] + "..."
    if len(name) > MAX_NAME:
        raise RulesError.simple(
            f"{referrer}: extends \"{shown}\": a ruleset name has at most {MAX_NAME} characters "
            f"(this one has {len(name)})",
            f"{referrer}：继承 \"{shown}\"：规则集名称最多 {MAX_NAME} 个字符（此处为 {len(name)} 个）")
    if "/" in name or "\\" in name or name.startswith(".") or not name.isprintable():
        bare = Path(name).stem if name.isprintable() else ""
        raise _at_extends(referrer, text, name, f"{referrer}: extends \"{shown}\": give a ruleset name, not a path",
                          f"{referrer}：继承 \"{shown}\"：请写规则集名称，不要写路径",
                          "write the name of the ruleset, without folders: extends \"district-base\"",
                          "只写规则集名称，不写文件夹：继承 \"district-base\"", bare)
    for folder in folders:
        candidate = folder / filename
        try:
            if not (candidate.is_file() or candidate.is_symlink()):
                continue  # a link that leads nowhere or round in a loop is reported, not skipped
            real = candidate.resolve(strict=True)
            inside = real.is_relative_to(folder.resolve(strict=True))
        except (OSError, RuntimeError):  # a loop of links, a name the system refuses
            raise RulesError.simple(
                f"{referrer}: extends \"{shown}\": {candidate} is a loop of symbolic links or cannot be read",
                f"{referrer}：继承 \"{shown}\"：{candidate} 是循环的符号链接或无法读取") from None
        if not inside:
            raise RulesError.simple(
                f"{referrer}: extends \"{shown}\": {candidate} is a link to a file outside {folder}; "
                "a ruleset is only taken from inside its folder",
                f"{referrer}：继承 \"{shown}\"：{candidate} 链接到 {folder} 以外的文件；"
                "只使用文件夹内的规则集")
        return candidate
    where = ", ".join(str(f) for f in folders)
    there = sorted({f.stem for folder in folders if folder.is_dir() for f in folder.glob("*" + SUFFIX)})
    raise _at_extends(referrer, text, name, f"{referrer}: extends \"{shown}\", but no {filename} in {where}",
                      f"{referrer}：继承 \"{shown}\"，但在 {where} 中找不到 {filename}",
                      "correct the name, or put the parent ruleset beside this file",
                      "改正名称，或把上级规则集放在本文件所在的文件夹", did_you_mean(name, there))


def _at_extends(referrer: str, text: str, name: str, message: str, message_zh: str, fix: str, fix_zh: str,
                suggestion: str = "") -> RulesError:
    """A problem of ``extends "name"``, at the name in the referring file's ``extends`` line when it is found."""
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, line in enumerate(lines, 1):
        found = _EXTENDS.match(line)
        if found is not None and line[found.end():].startswith(name):
            return RulesError([make(referrer, lines, number, found.end() + 1, message, message_zh, fix=fix,
                                    fix_zh=fix_zh, suggestion=suggestion, width=max(1, len(name)))])
    return RulesError([Diagnostic(message=message, message_zh=message_zh, file=referrer, fix=fix, fix_zh=fix_zh,
                                  suggestion=suggestion)])


#: The start of an ``extends`` line, up to its name.
_EXTENDS = re.compile(r"[ \t]*(?:extends|继承)[ \t]*[:：]?[ \t]*[\"“]?")


#: Rulesets compiled in this process, by their sources and the sections they
#: were compiled with (the section objects are kept, so their ids stay theirs).
_COMPILED: dict[tuple[object, ...], tuple[tuple[Section[Any], ...], Ruleset]] = {}
MAX_COMPILED = 32


def compile_chain(chain: Sequence[Source], *, sections: Sequence[Section[Any]],
                  metrics: Sequence[Metric] = (), skip_unknown_sections: bool = False,
                  roles: Mapping[str, str] | Roles | None = None) -> Ruleset:
    """Parse, resolve and compile a chain of sources (furthest ancestor first).

    ``roles``: the roster's role vocabulary (``load_ruleset``; or a ``Roles``).  A chain
    compiled before in this process, with the same sections, metrics and
    roles, is not compiled again: the same ``Ruleset`` (immutable) is
    returned.  Errors are not remembered: a rejected chain is checked again
    each time.
    """
    in_force = roles if isinstance(roles, Roles) else Roles.of(roles)
    key = (tuple((s.name, s.text) for s in chain), tuple(id(s) for s in sections),
           tuple((m.name, m.title_zh, m.about) for m in metrics), skip_unknown_sections,
           tuple(in_force.names.items()), in_force.roster, in_force.lenient)
    hit = _COMPILED.get(key)
    if hit is not None and all(a is b for a, b in zip(hit[0], sections, strict=True)):
        return hit[1]
    ruleset = _compile_chain(chain, sections, _metrics(metrics), skip_unknown_sections, in_force)
    if len(_COMPILED) >= MAX_COMPILED:
        _COMPILED.pop(next(iter(_COMPILED)))
    _COMPILED[key] = (tuple(sections), ruleset)
    return ruleset


def _metrics(metrics: Sequence[Metric]) -> dict[str, Metric]:
    """Metric id -> metric (two plugins registering one id is refused where metrics are
    computed, ``Engine.metrics``; a ruleset reads the first)."""
    found: dict[str, Metric] = {}
    for metric in metrics:
        found.setdefault(metric.name, metric)
    return found


def metric_titles(metrics: Mapping[str, Metric]) -> dict[str, str]:
    """Chinese title -> id of the registered metrics (``巡查覆盖率`` -> ``patrol_coverage``)."""
    return {m.title_zh: name for name, m in metrics.items() if m.title_zh and m.title_zh != name}


def _compile_chain(chain: Sequence[Source], sections: Sequence[Section[Any]],
                   metrics: Mapping[str, Metric], skip_unknown_sections: bool, roles: Roles) -> Ruleset:
    diagnostics: list[Diagnostic] = []
    files: list[ast.RulesFile] = []
    lines = {s.name: s.text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
             .split("\n") for s in chain}
    for source in chain:
        parsed, found = read_source(source.text, sections=sections, file=source.name,
                                    skip_unknown_sections=skip_unknown_sections)
        diagnostics.extend(found)
        files.append(parsed)
    by_name = {s.name: s for s in sections}
    levels: tuple[str, ...] = ()
    level_names: dict[str, str] = {}
    for parsed in files:
        if parsed.levels:
            levels, level_names = parsed.levels, dict(parsed.level_names)
    written_titles = _titles(files, by_name)
    if metrics:  # a metric named by its Chinese title is the metric of its id
        written_titles["metric"] = {**metric_titles(metrics), **written_titles.get("metric", {})}
    key_of = item_key(by_name, level_names, written_titles, roles)
    resolved, changes, problems, cautions = resolve(files, key_of, functools.partial(kind_zh, by_name))
    for at, en, zh, *fix in problems:
        diagnostics.append(_at(at, lines, en, zh, fix=fix[0] if fix else "", fix_zh=fix[1] if fix else ""))
    for at, en, zh in cautions:
        diagnostics.append(_at(at, lines, en, zh, severity=WARNING))
    name = files[-1].name or Path(chain[-1].name).stem
    vocabularies: dict[str, frozenset[str]] = {
        "role": roles.spellings(),
    }
    if levels:
        vocabularies["level"] = frozenset(levels) | frozenset(level_names.values())
    titles: dict[str, dict[str, str]] = {}
    if metrics:
        titles["metric"] = metric_titles(metrics)
        vocabularies["metric"] = frozenset(metrics) | frozenset(titles["metric"])
    for section_name, items in resolved.items():
        section = by_name.get(section_name)
        if section is None:
            continue
        for vocab, kind in section.vocabularies.items():
            named = [i for i in items if i.kind == kind and i.name is not None]
            # the ids the items' names spell (a child's ``节假日 春节`` replacing ``holiday spring_festival``)
            names = {key_of(section_name, i)[1] or "" for i in named}
            item_kind = section.item_kind(kind)
            if item_kind is not None and item_kind.titles is not None:
                if not named:
                    continue  # nothing declared: the vocabulary is open (see ItemKind.titles)
                declared, clashes = _item_titles(named, item_kind.titles)
                for at, en, zh in clashes:
                    diagnostics.append(_at(at, lines, en, zh))
                # an item that replaced a titled one without a title of its own keeps the title written before
                kept = {t: i for t, i in written_titles.get(vocab, {}).items()
                        if i in names and t not in names and i not in declared.values()}
                titles.setdefault(vocab, {}).update({**kept, **declared})
                names |= set(kept) | set(declared)
            vocabularies[vocab] = vocabularies.get(vocab, frozenset()) | frozenset(names)
    timelines: dict[str, Timeline[object]] = {}
    for section_name, items in resolved.items():
        section = by_name[section_name]
        for item in items:
            for at, en, zh in date_problems(item):
                diagnostics.append(_at(at, lines, en, zh))
        ctx = CompileContext(section_name, levels, vocabularies, lines, level_names, titles, metrics,
                             own_file=chain[-1].name, roles=roles,
                             removals=[r for b in files[-1].sections if b.name == section_name for r in b.removals])
        for item in items:
            for version, parts in dropped_parts(item):
                said = [f"'{ctx.text(part)}'" for part in parts]
                ctx.error(version, f"from {version.since} this version no longer says {', '.join(said)}: a dated "
                          "version replaces the whole line",
                          f"自 {version.since} 起的版本不再包含 {'、'.join(said)}：带日期的版本会替换整行",
                          fix="restate what should stay in the dated line", fix_zh="请在带日期的这一行里重写需要保留的内容",
                          warning=True)
        timeline = _compile_spans(section, items, ctx, diagnostics)
        if timeline is not None:
            timelines[section_name] = timeline
        diagnostics.extend(ctx.diagnostics)
    diagnostics = sort_diagnostics(diagnostics)
    if any(d.is_error for d in diagnostics):
        raise RulesError(diagnostics)
    return Ruleset(name, levels, tuple(chain),
                   {k: tuple(v) for k, v in resolved.items()}, timelines, tuple(changes),
                   tuple(diagnostics), level_names, titles, vocabularies, metrics, files[-1].applies_to,
                   roles.names if roles.roster else None, tuple(sections), skip_unknown_sections)


def _compile_spans(section: Section[Any], items: Sequence[ast.Item], ctx: CompileContext,
                   diagnostics: list[Diagnostic]) -> Timeline[object] | None:
    """The section's policy for each span of days (None if a span did not compile)."""
    compiled: list[InForce[object]] = []
    cut = spans(items)
    for span in cut:
        try:
            compiled.append(InForce(span.since, span.until, section.compile(span.items, ctx)))
        except RulesError as exc:
            diagnostics.extend(exc.diagnostics)
        except Exception as exc:  # a plugin's bug must not look like the author's mistake
            if ctx.failed:
                continue  # the compiler tripped over an error it had already reported
            raise PluginError(
                f"the compiler of section {section.name!r} failed: {type(exc).__name__}: {exc}; the plugin that "
                "registers it has a bug (it should report a mistake in the file with ctx.error, or read a constant "
                f"with ctx.constant(..., expect=...)) (栏目 {section.name!r} 的编译器出错：这是注册该栏目的插件的"
                "问题，不是规则文件的错误)") from exc
    return Timeline(tuple(compiled)) if len(compiled) == len(cut) else None


def compile_items(ruleset: Ruleset, section: Section[P], items: Sequence[ast.Item],
                  sources: Sequence[Source] = ()) -> tuple[InForce[P], ...] | None:
    """What ``section``'s policies would be in ``ruleset`` if its items were ``items``.

    The items are compiled in the ruleset's own context (its levels, the names
    it declares); ``sources`` are the texts of files the items come from that
    are not in the ruleset's chain.  None if they do not compile.  ``gridcore
    diff`` asks this to tell a rule written in other words from a change.
    """
    lines = {s.name: s.text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
             for s in (*sources, *ruleset.sources)}
    ctx = CompileContext(section.name, ruleset.levels, ruleset.vocabularies, lines, ruleset.level_names,
                         ruleset.titles, ruleset.metrics, roles=Roles.of(ruleset.roles))
    problems: list[Diagnostic] = []
    try:
        timeline = _compile_spans(section, items, ctx, problems)
    except PluginError:
        return None
    if timeline is None or problems or ctx.failed:
        return None
    return cast(tuple[InForce[P], ...], timeline.spans)


def _titles(files: Sequence[ast.RulesFile],
            sections: Mapping[str, Section[Any]]) -> dict[str, dict[str, str]]:
    """vocabulary -> title -> id, as written in every file of the chain (a later file's title wins).

    Read before inheritance is resolved, so that an item named by a title
    (``事件 水管漏水``) is keyed by the id from the start.
    """
    out: dict[str, dict[str, str]] = {}
    for parsed in files:
        for block in parsed.sections:
            section = sections.get(block.name)
            if section is None:
                continue
            for vocab, kind_name in section.vocabularies.items():
                kind = section.item_kind(kind_name)
                if kind is None or kind.titles is None:
                    continue
                named = [i for i in block.items if i.kind == kind_name and i.name is not None]
                out.setdefault(vocab, {}).update(_item_titles(named, kind.titles)[0])
    return out


def _item_titles(items: Sequence[ast.Item], read: Callable[[Any], Sequence[str]]) -> tuple[
        dict[str, str], list[tuple[Any, str, str]]]:
    """title -> id for ``items`` (every version's titles), and the titles that name two items."""
    ids = {item.name.text for item in items if item.name is not None}
    found: dict[str, str] = {}
    clashes: list[tuple[Any, str, str]] = []
    for item in items:
        assert item.name is not None
        for version in item.versions:
            for title in read(version.body):
                owner = found.setdefault(title, item.name.text)
                if title == item.name.text:
                    continue
                if owner != item.name.text or title in ids:
                    other = owner if owner != item.name.text else title
                    clashes.append((version, f"'{title}' already names '{other}': one name, one {item.kind}",
                                    f"'{title}' 已是 '{other}' 的名称：一个名称只能指一项"))
    return {t: i for t, i in found.items() if t != i}, clashes


def _bad_byte(path: Path, exc: UnicodeDecodeError) -> Diagnostic:
    """Where a file stops being UTF-8: its path, and the first bad byte's line and column.

    When that line reads as GB18030 (GBK, what Chinese Windows' Notepad and older editors save), the
    message says the file looks like GBK and the line is shown decoded that way, not as mojibake.
    """
    raw = exc.object if isinstance(exc.object, bytes) else bytes(exc.object)
    before = raw[: exc.start]
    line = before.count(b"\n") + 1
    start_of_line = before.rfind(b"\n") + 1
    column = len(before[start_of_line:].decode("utf-8", errors="replace")) + 1
    byte = raw[exc.start]
    line_bytes = raw[start_of_line:].split(b"\n", 1)[0]
    gbk = _as_gbk(line_bytes)
    text = gbk if gbk is not None else line_bytes.decode("utf-8", errors="replace")
    looks, looks_zh = ("", "") if gbk is None else (
        "; it looks like GBK (GB18030), the Chinese encoding of older Windows editors",
        "；看起来是 GBK（GB18030）编码（中文 Windows 旧编辑器的默认编码）")
    return Diagnostic(
        message=f"not a UTF-8 text file: the first bad byte (0x{byte:02x}) is at line {line}, "
                f"column {column}{looks}",
        message_zh=f"不是 UTF-8 文本文件：第一个无法识别的字节（0x{byte:02x}）在第 {line} 行第 {column} 列{looks_zh}",
        file=str(path), line=line, column=column, source_line=text,
        fix="save the file as UTF-8 (in Notepad: Save As, Encoding: UTF-8; 另存为 → 编码 UTF-8)",
        fix_zh="以 UTF-8 编码保存文件（记事本：另存为 → 编码 UTF-8）", code="not-utf8")


def _as_gbk(line: bytes) -> str | None:
    """``line`` decoded as GB18030 when it decodes so and holds Chinese characters, else None."""
    try:
        text = line.rstrip(b"\r").decode("gb18030")
    except UnicodeDecodeError:
        return None
    return text if any("\u4e00" <= c <= "\u9fff" for c in text) else None


def item_key(sections: Mapping[str, Section[Any]], level_names: Mapping[str, str],
             titles: Mapping[str, Mapping[str, str]] | None = None, roles: Roles | None = None) -> Key:
    """Items keyed by the id their name spells (``ItemKind.names`` and ``aliases``).

    A role by its id or Chinese name (``roles``: those of the roster, default the
    built-in ones), a level by its id or the Chinese name the
    levels line declares, a name of another vocabulary by its id or a title
    an item gives itself (``titles``: vocabulary -> title -> id; a category by
    its display name; a metric by a registered metric's Chinese title), any
    other name through the kind's aliases; a name
    that spells nothing known is kept as written.
    """
    titles = titles or {}
    role_names = roles or Roles.of(None)
    spellings: dict[tuple[str, str], Mapping[str, str]] = {}
    level_of = {zh: level for level, zh in level_names.items()}

    def key(section: str, thing: ast.Item | ast.Removal) -> tuple[str, str | None]:
        written = thing.key
        kind = sections[section].item_kind(thing.kind) if section in sections else None
        if kind is None or written[1] is None:
            return written
        name = written[1]
        if (section, kind.name) not in spellings:
            spellings[(section, kind.name)] = kind.spellings()
        if name in spellings[(section, kind.name)]:
            return (written[0], spellings[(section, kind.name)][name])
        for vocabulary in kind.names:
            if vocabulary == "role" and name in role_names.names.values():
                return (written[0], role_names.id_of(name))
            if vocabulary == "level" and name in level_of:
                return (written[0], level_of[name])
            if name in titles.get(vocabulary, {}):
                return (written[0], titles[vocabulary][name])
        return written

    return key


def _at(at: Any, lines: Mapping[str, Sequence[str]], en: str, zh: str,
        severity: str = ERROR, fix: str = "", fix_zh: str = "") -> Diagnostic:
    pos = getattr(at, "pos", None) or ast.NOWHERE
    return make(pos.file, lines.get(pos.file, ()), pos.line, pos.column, en, zh,
                severity=severity, fix=fix, fix_zh=fix_zh, width=_head_width(at, pos))


def _head_width(at: Any, pos: ast.Pos) -> int:
    """How many characters the caret under ``at`` covers: all of it when it ends on its line, else its
    head up to the end of its name or scope (``办理人时限 微网格员``, ``stars (quarterly``), else one.
    (The caret is drawn as wide as those characters show: two columns each for Chinese.)"""
    if pos.end_line == pos.line and pos.end_column > pos.column:
        return pos.end_column - pos.column
    ends = [part.pos.end_column for part in (getattr(at, "name", None), getattr(at, "scope", None))
            if part is not None and part.pos.line == pos.line and part.pos.end_column > pos.column]
    return max(ends) - pos.column if ends else 1


def kind_zh(sections: Mapping[str, Section[Any]], section: str, kind: str) -> str:
    """The Chinese keyword of an item kind (its id when the section gives it none)."""
    found = sections[section].item_kind(kind) if section in sections else None
    if found is None:
        return kind
    return next((word for word in found.keywords if not word.isascii()), kind)

