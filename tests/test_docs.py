"""The docs are part of the product: every example in them runs here.

* ```python blocks run in order, one namespace per file, in a fresh temporary
  working directory, with ``REPO`` bound to the repository root.
* ```rules blocks are complete ruleset files that must load with the built-in
  sections; ```rules-invalid blocks must be refused with a RulesError.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from gridcore import hookspecs

REPO = Path(__file__).resolve().parent.parent
DOC_FILES = sorted([*REPO.glob("docs/*.md"), REPO / "README.md"])
FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```\s*$", re.DOTALL | re.MULTILINE)


def blocks(path: Path, lang: str) -> list[tuple[int, str]]:
    text = path.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        if match.group(1) == lang:
            line = text.count("\n", 0, match.start()) + 2
            found.append((line, match.group(2)))
    return found


def _ids(paths: list[Path]) -> list[str]:
    return [p.relative_to(REPO).as_posix() for p in paths]


PY_DOCS = [p for p in DOC_FILES if p.exists() and blocks(p, "python")]


@pytest.mark.parametrize("doc", PY_DOCS, ids=_ids(PY_DOCS))
def test_python_examples_run(doc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"REPO": REPO, "__name__": f"doc_{doc.stem}"}
    for line, code in blocks(doc, "python"):
        try:
            exec(compile(code, f"{doc.relative_to(REPO)}:{line}", "exec", dont_inherit=True), namespace)  # noqa: S102 - the docs are our own examples
        except Exception as exc:  # pragma: no cover - the message is the point
            raise AssertionError(f"example at {doc.relative_to(REPO)}:{line} failed: {exc!r}") from exc


RULE_BLOCKS = [
    (doc, line, code, lang)
    for doc in DOC_FILES
    if doc.exists()
    for lang in ("rules", "rules-invalid")
    for line, code in blocks(doc, lang)
]


@pytest.mark.parametrize(
    "doc,line,code,lang",
    RULE_BLOCKS,
    ids=[f"{d.relative_to(REPO)}:{n}" for d, n, _, _ in RULE_BLOCKS],
)
def test_rules_examples(doc: Path, line: int, code: str, lang: str, tmp_path: Path) -> None:
    from gridcore.plugin_host import Hooks, get_plugin_manager
    from gridcore.rules import RulesError, load_ruleset

    sections = Hooks(get_plugin_manager()).register_sections()
    path = tmp_path / f"{doc.stem}-{line}.rules"
    path.write_text(code, encoding="utf-8")
    cwd = os.getcwd()
    os.chdir(REPO / "rulesets" if (REPO / "rulesets").is_dir() else REPO)
    try:
        if lang == "rules":
            try:
                load_ruleset(path, sections=sections)
            except RulesError as exc:
                raise AssertionError(f"example at {doc.relative_to(REPO)}:{line} does not load:\n{exc}") from None
        else:
            with pytest.raises(RulesError):
                load_ruleset(path, sections=sections)
    finally:
        os.chdir(cwd)


def hook_names() -> list[str]:
    return sorted(name for name in dir(hookspecs) if name.startswith("gridcore_"))


@pytest.mark.parametrize("hook", hook_names())
def test_every_hook_is_documented(hook: str) -> None:
    text = (REPO / "docs" / "plugins.md").read_text(encoding="utf-8")
    assert re.search(rf"^#+ .*`?{hook}`?", text, re.MULTILINE), f"docs/plugins.md has no heading for {hook}"


@pytest.mark.parametrize("hook", hook_names())
def test_every_hook_has_a_test(hook: str) -> None:
    tests = [p for p in (REPO / "tests").glob("*.py") if p.name not in ("test_docs.py", "conftest.py")]
    assert any(hook in p.read_text(encoding="utf-8") for p in tests), f"no test mentions {hook}"


def test_the_state_recipe_of_gridcore_on_open_survives_a_rebuild(tmp_path: Path) -> None:
    """The call hookspecs.gridcore_on_open's docstring gives a stateful plugin, run as written.

    ``gridcore_on_open`` is called again when the engine rebuilds its state (an event older than
    what is applied), so the recipe must replace the old state, and ``engine.state`` must find it.
    """
    from datetime import datetime, timedelta, timezone

    from gridcore import Engine, FixedClock, get_plugin_manager, hookimpl
    from gridcore.events import PatrolLogged

    doc = hookspecs.gridcore_on_open.__doc__ or ""
    recipe = next(code for code in re.findall(r"``([^`]+)``", doc) if code.startswith("engine."))

    class MyState:
        def __init__(self, engine: Engine | None = None) -> None:
            self.patrols: list[str] = []

        @hookimpl
        def gridcore_on_event(self, event: PatrolLogged) -> None:
            self.patrols.append(event.id)

    class Plugin:
        @hookimpl
        def gridcore_on_open(self, engine: Engine) -> None:
            eval(recipe, {"MyState": MyState, "engine": engine})

    start = datetime(2025, 3, 3, 8, 0, tzinfo=timezone(timedelta(hours=8)))
    with Engine.open(store=str(tmp_path / "store"), community=REPO / "tests" / "data" / "community-mini",
                     clock=FixedClock(start + timedelta(days=1)),
                     plugins=get_plugin_manager(extra=[Plugin()])) as engine:
        engine.record(PatrolLogged(id="p2", time=start + timedelta(hours=2), actor="m03", node="g1"))
        engine.record(PatrolLogged(id="p1", time=start, actor="m03", node="g1"))  # older: a rebuild
        name = re.search(r"""["']([^"']+)["']""", recipe)
        assert name is not None, recipe
        assert engine.state(name.group(1)).patrols == ["p1", "p2"]
