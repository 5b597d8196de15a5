"""The rules language's commands: ``check``, ``fmt``, ``show``, ``schema``, ``test``.

``commands()`` returns them; the main ``gridcore`` group adds them.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from gridcore.plugin_host import Hooks
from gridcore.rules.errors import Diagnostic, RulesError
from gridcore.rules.formatter import format_source
from gridcore.rules.parser import read_source
from gridcore.rules.ruleset import Ruleset, load_ruleset
from gridcore.rules.sections import Section

from . import atomic
from .cli import RULESETS, help_lang, parse_local_time, plugin_manager

LANG = click.option("--lang", type=click.Choice(["en", "zh"]), default=None,
                    help="Language of messages (default: from the locale, LANG=zh_CN -> zh).")
FILES = click.argument("files", nargs=-1, required=True,
                       type=click.Path(exists=True, path_type=Path))


def _expand(paths: Sequence[Path]) -> tuple[list[Path], list[RulesError]]:
    """Files as given; folders become every ``*.rules`` file under them.

    A file found in a folder is used only if it really lies inside it: a
    symbolic link out of the folder, or a loop of links, is refused (the
    second list) and never read or written.
    """
    out: list[Path] = []
    refused: list[RulesError] = []
    for path in paths:
        if not path.is_dir():
            out.append(path)
            continue
        root = path.resolve()
        for found in sorted(path.rglob("*.rules")):
            try:
                inside = found.resolve(strict=True).is_relative_to(root)
            except (OSError, RuntimeError):  # a loop of links, a dangling one
                refused.append(RulesError.simple(
                    f"{found}: a loop of symbolic links or a link to nothing, not a ruleset file",
                    f"{found}：循环或无效的符号链接，不是规则集文件"))
                continue
            if inside:
                out.append(found)
            else:
                refused.append(RulesError.simple(
                    f"{found}: a link to a file outside {path}; left alone",
                    f"{found}：链接到 {path} 以外的文件，已跳过"))
    return out, refused


def _sections() -> list[Section[Any]]:
    return Hooks(plugin_manager()).register_sections()


def _render(diagnostics: Sequence[Diagnostic], lang: str) -> str:
    return "\n".join(d.render(lang) for d in diagnostics)


@click.command()
@FILES
@LANG
@click.option("--community", "community_path", type=click.Path(exists=True, path_type=Path),
              help="Also check names only the roster knows (line departments) against this "
                   "community folder (or YAML file, or roster workbook .xlsx). Default: the "
                   "community.yaml beside each file, if any.")
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text",
              help="text (default) or json: every diagnostic with its file, range, severity, "
                   "code, message in English and Chinese, and fix, on stdout.")
@RULESETS
@click.option("--store", default=None, metavar="URL",
              help="Also list the events stored in this store from --effective on that each ruleset, put in force "
                   "then, would have refused (a report of a category its closed list does not hold): they would "
                   "stay on record, judged as they were. Reads only.")
@click.option("--effective", callback=parse_local_time, metavar="TIME",
              help="With --store: when the rulesets would take effect (ISO 8601; without a zone, the community's; "
                   "default: now).")
def check(files: tuple[Path, ...], lang: str | None, community_path: Path | None,
          output: str, rulesets: tuple[Path, ...], store: str | None, effective: datetime | None) -> None:
    """Parse and type-check ruleset FILES (or every .rules file in a folder); exit 1 on any error."""
    from .checking import check_file, governance, no_rulesets, to_json

    lang = lang or help_lang()
    results = []
    paths, refused = _expand(files)
    # links out of a folder or round in a loop are refused, never read
    problems = [d for error in refused for d in error.diagnostics]
    if not paths:
        problems = problems or [no_rulesets(files)]
        if output == "json":
            click.echo(json.dumps(to_json([], problems), ensure_ascii=False, indent=2))
        else:
            click.echo(_render(problems, lang), err=True)
        raise SystemExit(1)
    if problems and output == "text":
        click.echo(_render(problems, lang), err=True)
    sections = _sections()
    for path in paths:
        result = check_file(path, plugins=plugin_manager(), community=community_path,
                            sections=sections, search_path=rulesets)
        results.append(result)
        if output == "text":
            if result.diagnostics:
                click.echo(_render(result.diagnostics, lang), err=True)
            if result.ok:
                ok = "通过" if lang == "zh" else "ok"
                click.echo(f"{path}: {ok} ({result.name})")
            else:
                count = sum(1 for d in result.diagnostics if d.is_error)
                click.echo(f"共 {count} 个错误" if lang == "zh"
                           else f"{count} error{'s' if count != 1 else ''}", err=True)
    if any(path.is_dir() for path in files):
        # a district's folder: which ruleset governs each community, and which none does
        governed, ungoverned = governance(results, plugins=plugin_manager(), lang=lang)
        problems += ungoverned
        if output == "text":
            if ungoverned:
                click.echo(_render(ungoverned, lang), err=True)
            if governed:
                click.echo("每个社区适用的规则集：" if lang == "zh" else "the ruleset governing each community:")
                for line in governed:
                    click.echo(f"  {line}")
            elif results and all(r.community is None for r in results):
                click.echo(_no_tree_note([f for f in files if f.is_dir()], lang), err=True)
    left = _left_on_record([Path(r.file) for r in results if r.ok], store, effective, rulesets, output) \
        if store is not None else None
    if output == "json":
        doc = to_json(results, problems)
        if left is not None:
            doc["left_on_record"] = left
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
    if any(d.is_error for d in problems) or not all(r.ok for r in results):
        raise SystemExit(1)


def _left_on_record(paths: Sequence[Path], store: str, effective: datetime | None, rulesets: tuple[Path, ...],
                    output: str) -> list[dict[str, Any]]:
    """``check --store``: the stored events each ruleset of ``paths``, put in force from ``effective``, would
    have refused (``Engine.left_on_record``), said on stdout (text) and given for ``--format json``."""
    from .cli import in_community_zone, left_on_record_said, open_engine

    found: list[dict[str, Any]] = []
    with open_engine(store, read_only=True) as engine:
        when = in_community_zone(effective, engine) if effective is not None else engine.clock.now()
        for path in paths:
            left = engine.left_on_record(path, effective=when, search_path=rulesets)
            if output == "text":
                lines = left_on_record_said(left, when, would=True)
                click.echo(f"{path}: " + (lines[0] if lines else
                                          f"no stored event from {when.isoformat()} on that it would have refused "
                                          f"(自 {when.isoformat()} 起没有它本应拒绝的已存事件)"))
                for line in lines[1:]:
                    click.echo(line)
            found.extend({"file": str(path), "event": entry.event_id, "time": entry.time.isoformat(),
                          "node": entry.node, "kind": entry.kind, "message": entry.reason,
                          "message_zh": entry.reason_zh, "facts": dict(entry.facts)} for entry in left)
    return found


def _no_tree_note(folders: Sequence[Path], lang: str) -> str:
    """What a folder checked without a community did not check (a roster workbook beside the rulesets
    is not read unless named: a folder may hold other workbooks, reports among them)."""
    books = sorted({book for folder in folders for book in folder.glob("*.xlsx")})
    given = str(books[0]) if len(books) == 1 else "DIR"
    if lang == "zh":
        return (f"注意：这里没有 community.yaml，未对照层级树检查（适用于 所写的节点、各社区适用哪个规则集、"
                f"规则中的角色有没有人担任、部门是否存在）；"
                f"请加 --community {given}")
    return (f"note: no community.yaml here, so the rulesets were not checked against a tree (the nodes "
            f"'applies to' names, which ruleset governs each community, whether anyone holds the roles named "
                f"and the departments exist); "
            f"add --community {given}")


@click.command()
@FILES
@click.option("--check", "check_only", is_flag=True,
              help="Only report files that are not formatted (exit 1 if any).")
def fmt(files: tuple[Path, ...], check_only: bool) -> None:
    """Rewrite ruleset FILES (or folders) in the canonical layout (comments and meaning kept)."""
    unformatted = []
    sections = _sections()
    paths, refused = _expand(files)
    for problem in refused:
        click.echo(problem.render(), err=True)
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, RuntimeError, UnicodeDecodeError) as exc:
            raise click.ClickException(f"{path}: cannot be read as UTF-8 text ({exc}) (无法按 UTF-8 文本读取)") from None
        formatted = format_source(text)
        if formatted == text:
            continue
        if not _same_meaning(text, formatted, sections, str(path)):
            raise click.ClickException(f"{path}: formatting would change its meaning; left as is "
                                       "(please report this as a bug) (格式化会改变含义，未改动：请报告此错误)")
        unformatted.append(path)
        if check_only:
            click.echo(f"格式需调整：{path}" if help_lang() == "zh" else f"would reformat {path}")
        else:
            atomic.write_text(path, formatted)
            click.echo(f"已重排格式：{path}" if help_lang() == "zh" else f"reformatted {path}")
    if (check_only and unformatted) or refused:
        raise SystemExit(1)


def _same_meaning(before: str, after: str, sections: Sequence[Section[Any]], name: str) -> bool:
    """Whether two texts parse to the same tree (True when the original does not parse:
    the formatter only changes whitespace, and a broken file gets no tree to compare)."""
    old, problems = read_source(before, sections=sections, file=name)
    if any(d.is_error for d in problems):
        return True
    new, _ = read_source(after, sections=sections, file=name)
    return new == old


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--effective", "mode", flag_value="effective", default=True,
              help="Print the resolved ruleset, each item with its origin (default).")
@click.option("--against-parent", "mode", flag_value="against-parent",
              help="List what FILE adds, changes and removes compared with its parent.")
@LANG
@RULESETS
def show(file: Path, mode: str, lang: str | None, rulesets: tuple[Path, ...]) -> None:
    """Show a ruleset after inheritance: the effective rules, or the changes to the parent."""
    lang = lang or help_lang()
    ruleset = _load_or_exit(file, _sections(), lang, rulesets)
    text = render_effective(ruleset) if mode == "effective" else render_changes(ruleset, lang)
    click.echo(text, nl=False)


def _load_or_exit(path: Path, sections: Sequence[Section[Any]], lang: str,
                  rulesets: Sequence[Path] = (), roles: Mapping[str, str] | None = None) -> Ruleset:
    try:
        return load_ruleset(path, sections=sections, metrics=Hooks(plugin_manager()).register_metrics(),
                            search_path=rulesets, roles=roles)
    except RulesError as exc:
        click.echo(exc.render(lang), err=True)
        raise SystemExit(1) from None


def render_effective(ruleset: Ruleset) -> str:
    """The resolved ruleset, each line followed by its origin (file:line)."""
    out = [f'ruleset "{ruleset.name}"']
    if ruleset.levels:
        out.append("levels: " + " > ".join(
            f"{level} ({ruleset.level_names[level]})" if level in ruleset.level_names else level
            for level in ruleset.levels))
    if ruleset.applies_to is not None:
        written = ruleset.applies_to.text
        out.append(f"applies to: {written if written.isidentifier() else json.dumps(written, ensure_ascii=False)}")
    rows: list[tuple[str, str]] = []
    for section, items in ruleset.items.items():
        rows.append((f"{section}:", ""))
        for item in items:
            for n, version in enumerate(item.versions):
                indent = "  " if n == 0 else "    "
                rows.append((indent + version.ref.text, str(version.ref)))
    width = min(64, max((_width(r[0]) for r in rows if r[1]), default=0))
    for text, origin in rows:
        if origin:
            out.append(f"{text}{' ' * max(0, width - _width(text))}  # {origin}")
        else:
            out.append(text)
    return "\n".join(out) + "\n"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def render_changes(ruleset: Ruleset, lang: str = "en") -> str:
    """What the entry file changed in its parent (added / changed / removed)."""
    if len(ruleset.sources) < 2:
        return ("本规则集没有继承任何规则集\n" if lang == "zh"
                else f"{ruleset.entry} extends nothing\n")
    words = {"added": "新增", "changed": "修改", "removed": "删除"} if lang == "zh" else {}
    out = []
    for change in ruleset.changes:
        label = f"{change.key[0]} {change.key[1]}" if change.key[1] is not None else change.key[0]
        out.append(f"{words.get(change.action, change.action):8} {change.section}: {label}"
                   f"  # {change.ref}")
    if not out:
        out.append("没有改动" if lang == "zh" else "no changes")
    return "\n".join(out) + "\n"


@click.command()
@click.argument("file", required=False,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--community", "community_path", type=click.Path(exists=True, path_type=Path),
              help="List the roles this community's roster adds too (a folder, YAML file or roster "
                   "workbook .xlsx), and compile FILE with them. Default: the community.yaml beside "
                   "FILE, if any.")
@RULESETS
def schema(file: Path | None, community_path: Path | None, rulesets: tuple[Path, ...]) -> None:
    """Print the vocabulary as JSON: fields, sections' syntax, roles, and (with FILE) its names."""
    from gridcore.errors import GridcoreError
    from gridcore.rules.vocabulary import describe_schema

    from .checking import community_beside

    lang = help_lang()
    hooks = Hooks(plugin_manager())
    sections = hooks.register_sections()
    folder = community_beside(file, community_path) if file is not None else community_path
    community = None
    if folder is not None:
        try:
            community = hooks.load_community(folder)
        except GridcoreError as exc:
            click.echo(f"{folder}: 社区资料无法读取：{exc}" if lang == "zh"
                       else f"{folder}: the community cannot be read: {exc}", err=True)
            raise SystemExit(1) from None
    roles = None if community is None else community.roles
    ruleset = _load_or_exit(file, sections, lang, rulesets, roles) if file is not None else None
    doc = describe_schema(sections, hooks.register_event_types(), ruleset, roster_roles=roles,
                          roster=community.name if community is not None else "")
    click.echo(json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=False))


@click.command("test")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@LANG
@RULESETS
def test_command(paths: tuple[Path, ...], lang: str | None, rulesets: tuple[Path, ...]) -> None:
    """Run ruleset test cases (*_test.yaml beside the rulesets) and show what failed."""
    from .casetest import find_case_files, run_cases

    lang = lang or help_lang()
    failures = 0
    total = 0
    for case_file in find_case_files(paths):
        report = run_cases(case_file, plugins=plugin_manager(), search_path=rulesets)
        total += len(report.results)
        for result in report.results:
            failures += 0 if result.passed else 1
            click.echo(result.render(lang))
    summary: Any = (f"{total - failures} 通过，{failures} 失败" if lang == "zh"
                    else f"{total - failures} passed, {failures} failed")
    click.echo(summary)
    if failures or total == 0:
        raise SystemExit(1)


def commands() -> list[click.Command]:
    """The language's commands, for the main ``gridcore`` group."""
    return [check, fmt, show, schema, test_command]
