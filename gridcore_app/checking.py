"""What ``gridcore check`` finds in one ruleset, for the command and the language server alike.

``check_file`` loads a file from disk; ``check_text`` checks text an editor
holds (not yet saved), its ``extends`` looked up beside the file.  Both add
what only the installed plugins and the community beside the ruleset can
tell (``gridcore_check_ruleset``), and give every diagnostic its code.  A
metric or incident category that no installed plugin or declaration knows
is only a warning when a ruleset is compiled (an embedder may register a
plugin later); here the installed plugins are known, so it is an error.
The ruleset is compiled with the roles of the community beside it (the
built-in ones and the roster's own), so a role neither built in nor on the
roster is an error (``unknown-role``); with no community beside it, a role
that is no built-in one and no slip of one is only a warning
(``role-unchecked``: the roster may declare it; ``gridcore.rules.roles``).
``to_json`` is ``gridcore check --format json``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
from pluggy import PluginManager

from gridcore.classes import frozen
from gridcore.community import Community
from gridcore.errors import GridcoreError, RosterError
from gridcore.hierarchy import Hierarchy, Node
from gridcore.plugin_host import Hooks, get_plugin_manager
from gridcore.rules.codes import code_of, with_codes
from gridcore.rules.errors import ERROR, WARNING, Diagnostic, RulesError, sort_diagnostics
from gridcore.rules.ruleset import Ruleset, load_ruleset, parse_ruleset
from gridcore.rules.sections import Section
from gridcore.rules.subtree import governed_node

#: Warnings that become errors here: the installed plugins are known (a metric),
#: a name a ruleset does not declare is a slip, not a name for later (a category),
#: and the community beside the ruleset is the one it will run on (a verifier or a
#: notified role nobody holds: cases never verified, notices to nobody).  A handler
#: limit's role nobody holds (``handler-role-missing``) stays a warning, as in the
#: engine: the limit binds no one and a case climbs the ladder as it would without it.
KNOWN_WHEN_INSTALLED = frozenset({"unknown-metric", "unknown-category", "verifier-missing",
                                  "notified-role-missing"})


@frozen
class CheckResult:
    """One file checked: its ruleset's name (when it compiled), every diagnostic, ok or not.

    With a community: ``community`` is its folder and ``node`` the subtree the ruleset
    governs (None: the whole tree), when its ``applies to`` names a node of the tree.
    """

    file: str
    name: str
    diagnostics: tuple[Diagnostic, ...]
    ruleset: Ruleset | None = None
    community: Path | None = None
    node: str | None = None
    governs: bool = False

    @property
    def ok(self) -> bool:
        """True when no diagnostic is an error."""
        return not any(d.is_error for d in self.diagnostics)


def community_beside(path: Path, given: Path | None = None) -> Path | None:
    """The community folder to check ``path`` against: ``given``, or the file's own folder
    when a community.yaml lies there."""
    if given is not None:
        return given
    return path.parent if (path.parent / "community.yaml").exists() else None


def check_file(path: Path, *, plugins: PluginManager, community: Path | None = None,
               sections: Sequence[Section[Any]] | None = None,
               search_path: Sequence[Path] = ()) -> CheckResult:
    """Load and check ``path`` (and its parents) as ``gridcore check`` does.

    ``sections``: the language's sections (default: the plugins' own);
    ``search_path``: where ``extends`` looks after the file's own folder.
    """
    hooks = Hooks(plugins)
    folder = community_beside(path, community)
    the_community, unread = _community(hooks, folder)
    try:
        ruleset = load_ruleset(path, sections=hooks.register_sections() if sections is None
                               else sections, metrics=hooks.register_metrics(), search_path=search_path,
                               roles=None if the_community is None else the_community.roles)
    except RulesError as exc:
        return CheckResult(str(path), "", tuple(with_codes([*unread, *exc.diagnostics])))
    return _finish(str(path), ruleset, hooks, folder, the_community, unread)


def check_text(text: str, path: Path, *, plugins: PluginManager, community: Path | None = None,
               sections: Sequence[Section[Any]] | None = None) -> CheckResult:
    """Check the text of ``path`` as an editor holds it (``extends`` found beside the file)."""
    hooks = Hooks(plugins)
    folder = community_beside(path, community)
    the_community, unread = _community(hooks, folder)
    try:
        ruleset = parse_ruleset(text, sections=hooks.register_sections() if sections is None
                                else sections, metrics=hooks.register_metrics(), name=str(path),
                                search_path=[path.parent],
                                roles=None if the_community is None else the_community.roles)
    except RulesError as exc:
        return CheckResult(str(path), "", tuple(with_codes([*unread, *exc.diagnostics])))
    except OSError as exc:
        problem = Diagnostic(message=f"a parent ruleset cannot be read ({exc})",
                             message_zh=f"上级规则集无法读取（{exc}）", file=str(path))
        return CheckResult(str(path), "", tuple(with_codes([problem])))
    except UnicodeDecodeError as exc:
        problem = Diagnostic(message=f"a parent ruleset is not a UTF-8 text file ({exc.reason})",
                             message_zh="上级规则集不是 UTF-8 文本文件", file=str(path),
                             code="not-utf8")
        return CheckResult(str(path), "", (problem,))
    return _finish(str(path), ruleset, hooks, folder, the_community, unread)


def _community(hooks: Hooks, folder: Path | None) -> tuple[Community | None, list[Diagnostic]]:
    """The community of ``folder`` (None: none given), or None and why it cannot be read.

    Read before the ruleset is compiled: its roles are the ones a rule may name."""
    if folder is None:
        return None, []
    try:
        # through the roster formats' hook: a folder, a YAML file or a roster workbook (.xlsx)
        return hooks.load_community(folder), []
    except GridcoreError as exc:
        return None, [Diagnostic(
            message=f"the community beside the ruleset cannot be read: {exc}",
            message_zh=f"规则集旁边的社区资料无法读取：{exc.render('zh') if isinstance(exc, RosterError) else exc}",
            file=str(folder),
            code="community-unreadable")]


def _errors_here(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    return [attrs.evolve(d, severity=ERROR) if code_of(d) in KNOWN_WHEN_INSTALLED else d
            for d in with_codes(diagnostics)]


def _finish(file: str, ruleset: Ruleset, hooks: Hooks, community: Path | None,
            the_community: Community | None, unread: Sequence[Diagnostic]) -> CheckResult:
    diagnostics = [*unread, *_errors_here(ruleset.warnings)]
    node: str | None = None
    governs = False
    if community is not None and the_community is not None:
        try:
            node = governed_node(ruleset, the_community.hierarchy)
            governs = True
        except RulesError as exc:
            diagnostics.extend(with_codes(exc.diagnostics))
        mismatch = _levels_mismatch(ruleset, the_community)
        if mismatch is not None:
            # the engine refuses the ruleset whole; the sections' checks would only mislead
            # (上报到 社区 read as a department when 社区 is no level of the tree)
            diagnostics.append(mismatch)
        else:
            # each ruleset against the part of the tree it governs: its subtree and the path above it
            part = the_community if node is None else within(the_community, node)
            diagnostics.extend(_errors_here(hooks.check_ruleset(part, ruleset)))
    return CheckResult(file, ruleset.name, tuple(sort_diagnostics(diagnostics)), ruleset,
                       community.resolve() if community is not None else None, node, governs)


def _levels_mismatch(ruleset: Ruleset, community: Community) -> Diagnostic | None:
    """The error the engine would refuse ``ruleset`` with, its levels not the community's, at the
    levels line that says them (the file's own or a parent's)."""
    import re

    from gridcore.rules.diagnose import make

    ours, theirs = tuple(ruleset.levels), tuple(community.hierarchy.levels)
    if not ours or ours == theirs:
        return None
    file, lines, line = ruleset.entry, [""], 1
    for source in reversed(ruleset.sources):
        text = source.text.removeprefix("\ufeff").replace("\r\n", "\n").split("\n")
        found = next((n for n, t in enumerate(text, 1) if re.match(r"\s*(levels|层级)\s*[:：]", t)), None)
        if found is not None:
            file, lines, line = source.name, text, found
            break
    column = len(lines[line - 1]) - len(lines[line - 1].lstrip()) + 1
    want, have = " > ".join(ours), " > ".join(theirs)
    return make(file, lines, line, column,
                f"the ruleset's levels ({want}) are not the community's ({have}): the engine refuses it",
                f"规则集的层级（{want}）与社区的层级（{have}）不一致：引擎不会接受这个规则集",
                fix=f"write the community's levels in the levels line (levels: {have}), or correct the roster's levels",
                fix_zh=f"在层级行写社区的层级（层级：{have}），或改正花名册中的层级",
                width=max(1, len(lines[line - 1].strip())), code="levels-mismatch")


def within(community: Community, node: str) -> Community:
    """The part of ``community`` a ruleset governing ``node``'s subtree meets.

    The subtree, the chain of nodes above it (a case climbs there, and their
    staff are told), the people holding roles in them (a member's home outside
    is left out), and the places, households and care links inside.  It bears the name of
    ``node``: what the checks say about it (``no grid_leader at or above 2 of the 2 cells of
    东湖社区``) is about that subtree, not the whole tree.
    """
    hierarchy = community.hierarchy
    keep = {n.id for n in hierarchy.ancestors(node)} | {n.id for n in hierarchy.descendants(node, include_self=True)}
    members = []
    for member in community.members.values():
        roles = tuple(a for a in member.roles if a.node in keep)
        home = member.home if member.home in keep else None
        if roles or home is not None:
            members.append(attrs.evolve(member, roles=roles, home=home))
    places = {p.id for p in community.places.values() if p.node in keep}
    households = [h for h in community.households.values()
                  if h.node in keep and (h.place is None or h.place in places)]
    kept = {h.id for h in households}
    people = {m.id for m in members}
    return Community.build(
        hierarchy.node(node).name, community.timezone,
        Hierarchy.build(hierarchy.levels, [n for n in hierarchy if n.id in keep], forest=hierarchy.forest),
        members, community.departments.values(), [community.places[p] for p in sorted(places)],
        roles=dict(community.roles), level_names=community.level_names,
        locations={k: v for k, v in community.locations.items() if k in keep}, households=households,
        residents=[r for r in community.residents.values() if r.household in kept],
        care=[c for c in community.care if c.member in people and (c.household in kept or c.place in places)])


#: A level of this name is what a folder's check reports governance for (else the tree's roots).
COMMUNITY_LEVEL = "community"


def governance(results: Sequence[CheckResult], *, plugins: PluginManager | None = None,
               lang: str = "en") -> tuple[list[str], list[Diagnostic]]:
    """Which ruleset governs each community of each community folder the rulesets were checked
    against (lines to show), and a warning for every community none governs (``ungoverned-subtree``).

    A community is governed by the ruleset of the nearest subtree around it (itself, its street,
    ..., the whole tree) that one of the checked rulesets governs.  Where a folder keeps its own
    ruleset (``yinquan/yinquan.rules``, the one ``gridcore demo``, ``simulate`` and a case file
    take by default) beside a ruleset that extends it for the same subtree (a proposal,
    ``yinquan-proposal.rules``), its own governs; the others are named once, after the lines, as
    not in force (``gridcore use`` puts one in force in a store).
    """
    lines: list[str] = []
    problems: list[Diagnostic] = []
    folders: dict[Path, list[CheckResult]] = {}
    for result in results:
        if result.community is not None and result.governs:
            folders.setdefault(result.community, []).append(result)
    hooks = Hooks(plugins if plugins is not None else get_plugin_manager())
    for folder, found in folders.items():
        try:
            hierarchy = hooks.load_community(folder).hierarchy
        except GridcoreError:
            continue  # already reported with each file
        by_node: dict[str | None, list[CheckResult]] = {}
        for result in found:
            by_node.setdefault(result.node, []).append(result)
        by_node, variants = _in_force(by_node)
        if len(folders) > 1:
            lines.append(f"{folder.name}/")
        units = (hierarchy.nodes_at(COMMUNITY_LEVEL) if COMMUNITY_LEVEL in hierarchy.levels
                 else hierarchy.roots())
        ungoverned: list[Node] = []
        for unit in units:
            chain = [n.id for n in hierarchy.ancestors(unit.id, include_self=True)]
            governing = next((by_node[n] for n in (*chain, None) if n in by_node), None)
            if governing is None:
                ungoverned.append(unit)
                continue
            names = ", ".join(f"{r.name} ({Path(r.file).name})" for r in governing)
            lines.append(f"{'  ' if len(folders) > 1 else ''}{unit.id} {unit.name}: {names}")
        problems.extend(_ungoverned(hierarchy, units, ungoverned, folder))
        if variants:
            names = ", ".join(f"{r.name} ({Path(r.file).name})" for r in variants)
            lines.append(f"{'  ' if len(folders) > 1 else ''}" + (
                f"未生效（继承上面的规则集；用 gridcore use 文件 让它在存储中生效）：{names}" if lang == "zh" else
                f"not in force (each extends a ruleset above; gridcore use FILE puts it in force in a store): {names}"))
    return lines, problems


def _in_force(by_node: Mapping[str | None, Sequence[CheckResult]]) -> tuple[
        dict[str | None, list[CheckResult]], list[CheckResult]]:
    """For each subtree, the rulesets governing it; and the rulesets of the folders' own subtrees that
    do not, because they extend a folder's own ruleset (``<folder>/<folder>.rules``) governing it."""
    governing: dict[str | None, list[CheckResult]] = {}
    variants: list[CheckResult] = []
    for node, results in by_node.items():
        leaves = _leaves(results)
        own = [r for r in results if Path(r.file).stem == Path(r.file).parent.name]
        if own:
            governing[node] = own
            variants += [r for r in leaves if r not in own]
        else:
            governing[node] = leaves
    return governing, variants


def _leaves(results: Sequence[CheckResult]) -> list[CheckResult]:
    """The rulesets of one subtree without those another of them extends: a district's folder that
    keeps its base beside the district's file (``district-base.rules`` and ``tiexi.rules``, neither
    saying ``applies to``) is governed by the file that extends the base, not by both."""
    def parents(result: CheckResult) -> set[tuple[str, str]]:
        sources = result.ruleset.sources[:-1] if result.ruleset is not None else ()
        return {(Path(s.name).name, s.text) for s in sources}

    extended = set().union(*(parents(r) for r in results))
    kept = [r for r in results if r.ruleset is None
            or (Path(r.file).name, r.ruleset.sources[-1].text) not in extended]
    return kept or list(results)


def _ungoverned(hierarchy: Hierarchy, units: Sequence[Node], ungoverned: Sequence[Node],
                folder: Path) -> list[Diagnostic]:
    """One warning for each highest node all of whose communities no ruleset governs: a street none of
    whose communities is governed is one warning, not one per community (a folder checked without the
    district's base named each of Yinzhou's 61 communities)."""
    if not ungoverned:
        return []
    left, of_units = {u.id for u in ungoverned}, {u.id for u in units}
    tops: dict[str, list[Node]] = {}
    for unit in ungoverned:
        top = unit
        for above in hierarchy.ancestors(unit.id):
            under = [n for n in hierarchy.descendants(above.id) if n.id in of_units]
            if not all(n.id in left for n in under):
                break
            top = above
        tops.setdefault(top.id, []).append(unit)
    problems = []
    for top_id, below in tops.items():
        top = hierarchy.node(top_id)
        if len(below) == 1 and below[0].id == top_id:
            message = (f"{top.id} {top.name}: no ruleset checked here governs this {top.level} "
                       "(none applies to it, to a node above it or to the whole tree)")
            message_zh = (f"{top.id} {top.name}：本次检查的规则集中没有任何规则集适用于它"
                          "（没有适用于它本身、其上级或整个层级树的规则集）")
        else:
            shown = "、".join(f"{n.id} {n.name}" for n in below[:5]) + ("……" if len(below) > 5 else "")
            shown_en = ", ".join(f"{n.id} {n.name}" for n in below[:5]) + (", ..." if len(below) > 5 else "")
            message = (f"{top.id} {top.name}: no ruleset checked here governs any of the {len(below)} "
                       f"{below[0].level} nodes under it ({shown_en}), nor it, a node above it or the whole tree")
            message_zh = (f"{top.id} {top.name}：本次检查的规则集中没有任何规则集适用于它下面的 {len(below)} 个"
                          f"单位（{shown}），也没有适用于它本身、其上级或整个层级树的规则集")
        problems.append(Diagnostic(
            message=message, message_zh=message_zh, file=str(folder), severity=WARNING,
            fix=f"add a ruleset that says applies to: \"{top.id}\" (or one for a node above it or the whole tree)",
            fix_zh=f"增加一个写明 适用于：\"{top.id}\" 的规则集（或适用于其上级、整个层级树的规则集）",
            code="ungoverned-subtree"))
    return problems


def no_rulesets(paths: Sequence[Path]) -> Diagnostic:
    """The problem of a folder (or folders) holding no ``.rules`` file."""
    where = ", ".join(str(p) for p in paths)
    return Diagnostic(message=f"no .rules file in {where}: nothing to check",
                      message_zh=f"{where} 中没有 .rules 文件：没有可检查的规则集",
                      file=where, fix="give the path of a .rules file, or the folder that holds one",
                      fix_zh="给出 .rules 文件的路径，或包含规则集的文件夹", code="no-rulesets")


def diagnostic_json(d: Diagnostic) -> dict[str, Any]:
    """One diagnostic as JSON: positions are 1-based; ``end`` is exclusive."""
    end_column = d.column + max(1, d.width) if d.column else 0
    return {
        "file": d.file,
        "range": {"start": {"line": d.line, "column": d.column},
                  "end": {"line": d.line, "column": end_column}},
        "severity": d.severity,
        "code": code_of(d),
        "message": {"en": d.message, "zh": d.message_zh or d.message},
        "expected": {"en": d.expected, "zh": d.expected_zh or d.expected},
        "suggestion": d.suggestion,
        "fix": {"en": d.fix, "zh": d.fix_zh or d.fix},
        "source_line": d.source_line,
    }


def to_json(results: Sequence[CheckResult], extra: Sequence[Diagnostic] = ()) -> dict[str, Any]:
    """``gridcore check --format json``: each file's verdict and every diagnostic."""
    diagnostics = [*extra, *(d for r in results for d in r.diagnostics)]
    return {
        "ok": not any(d.is_error for d in diagnostics) and bool(results),
        "files": [{"file": r.file, "ruleset": r.name, "ok": r.ok,
                   "errors": sum(1 for d in r.diagnostics if d.is_error),
                   "warnings": sum(1 for d in r.diagnostics if not d.is_error)} for r in results],
        "diagnostics": [diagnostic_json(d) for d in diagnostics],
    }
