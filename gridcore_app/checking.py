"""What ``gridcore check`` finds in one ruleset, for the command and the language server alike.

``check_file`` loads a file from disk; ``check_text`` checks text an editor
holds (not yet saved), its ``extends`` looked up beside the file.  Both add
what only the installed plugins and the community beside the ruleset can
tell (``gridcore_check_ruleset``), and give every diagnostic its code.  A
metric or incident category that no installed plugin or declaration knows
is only a warning when a ruleset is compiled (an embedder may register a
plugin later); here the installed plugins are known, so it is an error.
``to_json`` is ``gridcore check --format json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
from attrs import frozen
from pluggy import PluginManager

from gridcore.errors import GridcoreError
from gridcore.plugin_host import Hooks
from gridcore.rules.codes import code_of, with_codes
from gridcore.rules.errors import ERROR, Diagnostic, RulesError, sort_diagnostics
from gridcore.rules.ruleset import Ruleset, load_ruleset, parse_ruleset
from gridcore.rules.sections import Section

#: Warnings that become errors here: the installed plugins are known (a metric),
#: a name a ruleset does not declare is a slip, not a name for later (a category),
#: and the community beside the ruleset is the one it will run on (a role nobody holds).
KNOWN_WHEN_INSTALLED = frozenset({"unknown-metric", "unknown-category", "verifier-missing",
                                  "notified-role-missing", "handler-role-missing"})


@frozen
class CheckResult:
    """One file checked: its ruleset's name (when it compiled), every diagnostic, ok or not."""

    file: str
    name: str
    diagnostics: tuple[Diagnostic, ...]
    ruleset: Ruleset | None = None

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
    try:
        ruleset = load_ruleset(path, sections=hooks.register_sections() if sections is None
                               else sections, metrics=hooks.register_metrics(), search_path=search_path)
    except RulesError as exc:
        return CheckResult(str(path), "", tuple(with_codes(exc.diagnostics)))
    return _finish(str(path), ruleset, hooks, community_beside(path, community))


def check_text(text: str, path: Path, *, plugins: PluginManager, community: Path | None = None,
               sections: Sequence[Section[Any]] | None = None) -> CheckResult:
    """Check the text of ``path`` as an editor holds it (``extends`` found beside the file)."""
    hooks = Hooks(plugins)
    try:
        ruleset = parse_ruleset(text, sections=hooks.register_sections() if sections is None
                                else sections, metrics=hooks.register_metrics(), name=str(path),
                                search_path=[path.parent])
    except RulesError as exc:
        return CheckResult(str(path), "", tuple(with_codes(exc.diagnostics)))
    except OSError as exc:
        problem = Diagnostic(message=f"a parent ruleset cannot be read ({exc})",
                             message_zh=f"上级规则集无法读取（{exc}）", file=str(path))
        return CheckResult(str(path), "", tuple(with_codes([problem])))
    except UnicodeDecodeError as exc:
        problem = Diagnostic(message=f"a parent ruleset is not a UTF-8 text file ({exc.reason})",
                             message_zh="上级规则集不是 UTF-8 文本文件", file=str(path),
                             code="not-utf8")
        return CheckResult(str(path), "", (problem,))
    return _finish(str(path), ruleset, hooks, community_beside(path, community))


def _errors_here(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    return [attrs.evolve(d, severity=ERROR) if code_of(d) in KNOWN_WHEN_INSTALLED else d
            for d in with_codes(diagnostics)]


def _finish(file: str, ruleset: Ruleset, hooks: Hooks, community: Path | None) -> CheckResult:
    diagnostics = _errors_here(ruleset.warnings)
    if community is not None:
        from .rosterio import load_community

        try:
            diagnostics.extend(_errors_here(hooks.check_ruleset(load_community(community), ruleset)))
        except GridcoreError as exc:
            diagnostics.append(Diagnostic(
                message=f"the community beside the ruleset cannot be read: {exc}",
                message_zh=f"规则集旁边的社区资料无法读取：{exc}", file=str(community),
                code="community-unreadable"))
    return CheckResult(file, ruleset.name, tuple(sort_diagnostics(diagnostics)), ruleset)


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
