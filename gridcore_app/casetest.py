"""Ruleset test cases: YAML files staff write beside a ruleset (``*_test.yaml``).

A case file::

    ruleset: yinquan.rules            # beside this file (default: the only .rules here)
    community: .                      # a community folder (default: this folder if it
                                      # has community.yaml, else the ruleset's folder)
    start: 2025-03-01T08:00:00+08:00  # the clock's start; the ruleset is in force from then
    variants: [yz-c1.rules]           # optional: rulesets beside this file put in force with it,
                                      # each for the subtree its 'applies to' names (a case
                                      # may give its own 'variants' instead)
    cases:
      - name: an hour of volunteer service earns 5 points
        given:                        # events, as in `gridcore ingest` (id made up if left out)
          - kind: activity_recorded
            time: 2025-03-03T09:00:00+08:00
            actor: yq-gw1
            node: yq-g1-u1
            activity: 志愿服务
            hours: 1
        tick: 2025-04-01T00:00:00+08:00   # optional: let time pass
        expect:                       # plugin -> subject -> value (``engine.outcomes(plugins=...)``)
          points:
            member:yq-gw1:balance: 5

Every case runs on a fresh engine with a temporary store and a ``FixedClock``.
A failure shows the expected and actual values and the rules that decided.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from attrs import field

from gridcore.classes import frozen
from gridcore.clock import FixedClock
from gridcore.errors import GridcoreError
from gridcore.explain import Outcome

if TYPE_CHECKING:
    import pluggy

CASE_SUFFIX = "_test.yaml"
DEFAULT_START = datetime(2000, 1, 1, tzinfo=UTC)


class CaseError(GridcoreError):
    """A case file is malformed; the message names the file and what is wrong."""


@frozen
class Mismatch:
    """One expected outcome that came out differently (or not at all)."""

    plugin: str
    subject: str
    expected: Any
    actual: Any
    outcome: Outcome | None = None


@frozen
class CaseResult:
    """The result of one case."""

    file: str
    name: str
    mismatches: tuple[Mismatch, ...] = ()
    error: str = ""

    @property
    def passed(self) -> bool:
        """True when every expectation held and nothing went wrong."""
        return not self.mismatches and not self.error

    def render(self, lang: str = "en") -> str:
        """One line for a pass; the differences, with the deciding rules, for a failure.  In Chinese the case's
        name, as its author wrote it, is quoted (``通过 a_test.yaml：「...」``)."""
        zh = lang == "zh"
        name = f"：「{self.name}」" if zh else f": {self.name}"
        if self.passed:
            return f"{'通过' if zh else 'PASS'} {self.file}{name}"
        out = [f"{'失败' if zh else 'FAIL'} {self.file}{name}"]
        if self.error:
            out.append(f"  {self.error}")
        for m in self.mismatches:
            if m.outcome is None:
                out.append(f"  {m.plugin} {m.subject}: " + (
                    f"应为 {m.expected!r}，但没有这个结果" if zh else
                    f"expected {m.expected!r}, but there is no such outcome"))
                continue
            out.append(f"  {m.plugin} {m.subject}: " + (
                f"应为 {m.expected!r}，实际 {m.actual!r}" if zh else
                f"expected {m.expected!r}, got {m.actual!r}"))
            for rule in m.outcome.rules:
                out.append(f"    {'规则' if zh else 'rule'} {rule}  {rule.text.strip()}".rstrip())
            if m.outcome.detail:
                out.append(f"    {m.outcome.detail}")
        return "\n".join(out)


@frozen
class CaseReport:
    """Every case of one file."""

    file: str
    results: tuple[CaseResult, ...] = field(factory=tuple)

    @property
    def passed(self) -> bool:
        """True when every case passed."""
        return all(r.passed for r in self.results)


def find_case_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Case files named by ``paths`` (files, or folders searched recursively)."""
    for path in paths:
        if path.is_dir():
            yield from sorted(path.rglob(f"*{CASE_SUFFIX}"))
        else:
            yield path


def load_cases(path: Path) -> dict[str, Any]:
    """Read and shape-check a case file."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CaseError(f"{path}: not valid YAML: {exc} (用例文件 {path} 不是有效的 YAML)") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("cases"), list):
        raise CaseError(f"{path}: expected a mapping with a 'cases' list (用例文件 {path} 应含 cases 列表)")
    for n, case in enumerate(doc["cases"], 1):
        if not isinstance(case, dict) or "name" not in case:
            raise CaseError(f"{path}: case #{n} needs a 'name' (用例文件 {path} 的第 {n} 个用例缺少 name)")
        if not isinstance(case.get("expect", {}), dict):
            raise CaseError(f"{path}: case {case['name']!r}: 'expect' must map plugin -> subject -> value "
                            f"(用例文件 {path} 的用例 {case['name']!r}：expect 应写成 插件 -> 对象 -> 值)")
    return doc


def _ruleset_path(path: Path, doc: Mapping[str, Any]) -> Path:
    if "ruleset" in doc:
        return path.parent / str(doc["ruleset"])
    found = sorted(path.parent.glob("*.rules"))
    if len(found) != 1:
        raise CaseError(f"{path}: say which ruleset to use ('ruleset: NAME.rules'); "
                        f"found {len(found)} beside it (用例文件 {path} 请写明用哪个规则集：ruleset: 名称.rules；同一文件夹中有 {len(found)} 个)")
    return found[0]


def _variants(path: Path, doc: Mapping[str, Any]) -> list[str]:
    found = doc.get("variants", [])
    if not isinstance(found, list) or not all(isinstance(name, str) for name in found):
        raise CaseError(f"{path}: 'variants' must list ruleset files beside it, e.g. [yz-c1.rules] "
                        f"(用例文件 {path} 的 variants 应列出同一文件夹中的规则集文件，如 [yz-c1.rules])")
    return found


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _time(value: Any, what: str) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        raise CaseError(f"{what}: {value!r} is not a time like 2025-03-01T08:00:00+08:00 "
                        "(时间应写成 2025-03-01T08:00:00+08:00)") from None
    if when.tzinfo is None:
        raise CaseError(f"{what}: {value!r} needs a time zone, e.g. +08:00 (时间须带时区，如 +08:00)")
    return when


def same(expected: Any, actual: Any) -> bool:
    """Equality as staff mean it: numbers by value (2 == 2.0 == Fraction(2)), else as text."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    try:
        return abs(float(expected) - float(actual)) < 1e-9
    except (TypeError, ValueError):
        return str(expected) == str(actual)


def run_cases(path: Path | str, *, plugins: pluggy.PluginManager | None = None,
              search_path: Iterable[Path | str] = ()) -> CaseReport:
    """Run every case of a case file; return expected vs actual for each.

    ``plugins``: the process's plugin manager (default: one for this file's cases);
    ``search_path``: where the ruleset's ``extends`` looks after its own folder
    (``gridcore test --rulesets DIR``; then ``$GRIDCORE_RULESETS``).
    """
    from gridcore.community import Community
    from gridcore.engine import Engine
    from gridcore.plugin_host import Hooks, get_plugin_manager
    from gridcore.rules import RulesError, Ruleset, load_ruleset

    pm = plugins if plugins is not None else get_plugin_manager()

    path = Path(path)
    doc = load_cases(path)
    ruleset = _ruleset_path(path, doc)
    if "community" in doc:
        community = path.parent / str(doc["community"])
    elif (path.parent / "community.yaml").is_file():
        community = path.parent
    else:
        community = ruleset.parent  # the roster beside the ruleset
    start = _time(doc["start"], f"{path}: start") if "start" in doc else DEFAULT_START
    try:
        # compiled once, with its parents found where the caller says, for every case
        rules: Ruleset = load_ruleset(ruleset, sections=Hooks(pm).register_sections(),
                                      metrics=Hooks(pm).register_metrics(), search_path=search_path)
        variants = {name: load_ruleset(path.parent / name, sections=Hooks(pm).register_sections(),
                                       metrics=Hooks(pm).register_metrics(), search_path=search_path)
                    for name in dict.fromkeys([*_variants(path, doc),
                                               *(n for case in doc["cases"] for n in _variants(path, case))])}
    except RulesError as exc:
        return CaseReport(path.name, tuple(CaseResult(path.name, str(case["name"]), error=str(exc))
                                           for case in doc["cases"]))
    results = []
    # Read once for every case: a district's roster takes a second to read.
    roster: Community | Path = community
    for n, case in enumerate(doc["cases"], 1):
        name = str(case["name"])
        try:
            if not isinstance(roster, Community):
                roster = Hooks(pm).load_community(community)
            with tempfile.TemporaryDirectory(prefix="gridcore-case-") as tmp:
                engine = Engine.open(store=str(Path(tmp) / "store"), community=roster,
                                     ruleset=rules, clock=FixedClock(start), effective=start,
                                     plugins=pm)
                with engine:
                    for variant in _variants(path, case) if "variants" in case else _variants(path, doc):
                        engine.use_ruleset(variants[variant], effective=start)
                    results.append(_run_one(engine, path, n, name, case))
        except GridcoreError as exc:
            results.append(CaseResult(path.name, name, error=str(exc)))
        except Exception as exc:  # noqa: BLE001 - a plugin crashed: this case fails, not the run
            results.append(CaseResult(path.name, name,
                                      error=f"crashed: {type(exc).__name__}: {exc}"))
    return CaseReport(path.name, tuple(results))


def _run_one(engine: Any, path: Path, n: int, name: str, case: Mapping[str, Any]) -> CaseResult:
    given = case.get("given") or []
    events = []
    for i, event in enumerate(given, 1):
        if not isinstance(event, dict):
            raise CaseError(f"{path}: case {name!r}: event #{i} must be a mapping (用例文件 {path} 的用例 {name!r}：第 {i} 个事件应是一个映射)")
        doc = _plain(event)
        doc.setdefault("id", f"case{n}-e{i}")
        events.append(doc)
    summary = engine.record_many(events)
    if summary.refused:
        reasons = "; ".join(f"{r.event_id}: {', '.join(r.reasons)}" for r in summary.refused)
        return CaseResult(path.name, name, error=f"events refused: {reasons}")
    if "tick" in case:
        engine.tick(_time(case["tick"], f"{path}: case {name!r}: tick"))
    expect = case.get("expect") or {}
    # (only the plugins the case expects of are asked: the assessment's outcomes rate every node of the
    # community for every period spanned, about half a second a case in Xingfuwan, and most cases expect none)
    outcomes = {(o.plugin, o.subject): o for o in engine.outcomes(plugins=[str(plugin) for plugin in expect])}
    mismatches = []
    for plugin, subjects in expect.items():
        if not isinstance(subjects, dict):
            raise CaseError(f"{path}: case {name!r}: expect.{plugin} must map subject -> value (用例文件 {path} 的用例 {name!r}：expect.{plugin} 应写成 对象 -> 值)")
        for subject, expected in subjects.items():
            outcome = outcomes.get((str(plugin), str(subject)))
            if outcome is None:
                mismatches.append(Mismatch(str(plugin), str(subject), expected, None))
            elif not same(expected, outcome.value):
                mismatches.append(Mismatch(str(plugin), str(subject), expected, outcome.value,
                                           outcome))
    return CaseResult(path.name, name, tuple(mismatches))
