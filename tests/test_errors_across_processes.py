"""Errors cross process boundaries whole: a worker's error reaches its parent as the same error.

Roll-ups and what-if run in worker processes (gridcore rollup --workers, gridcore diff), and an
embedder may use multiprocessing; an error that cannot be rebuilt from its pickle made
``multiprocessing.Pool`` hang the parent (the result thread died unpickling it).  Each error with
fields of its own is checked here: pickled and rebuilt, and raised in a real worker process.
"""

from __future__ import annotations

import multiprocessing
import pickle
from pathlib import Path

import pytest

from gridcore import EventRefused, get_plugin_manager
from gridcore.plugin_host import Hooks
from gridcore.rules import load_ruleset
from gridcore.rules.errors import Diagnostic, RulesError
from gridcore.rules.transformer import AstError


def broken_ruleset_error(path: str) -> str:
    """In a worker: load a broken ruleset; its RulesError goes back to the parent as the pool's error."""
    hooks = Hooks(get_plugin_manager())
    load_ruleset(Path(path), sections=hooks.register_sections(), metrics=hooks.register_metrics())
    return "loaded"


def test_errors_with_fields_are_rebuilt_from_their_pickle() -> None:
    rules = RulesError([Diagnostic(message="bad header", message_zh="标题有误", file="a.rules", line=3, column=5)])
    refused = EventRefused("e1", ["unknown node 'x'", "not authorised"])
    ast_error = AstError(None, "number too large", "数字太大", fix="write a smaller number")  # type: ignore[arg-type]
    for error in (rules, refused, ast_error):
        again = pickle.loads(pickle.dumps(error))
        assert type(again) is type(error)
        assert str(again) == str(error)
        assert again.__dict__ == error.__dict__
    assert pickle.loads(pickle.dumps(rules)).render("zh") == rules.render("zh")


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs the fork start method")
def test_a_workers_rules_error_reaches_the_parent(tmp_path: Path) -> None:
    broken = tmp_path / "broken.rules"
    broken.write_text("points {\n  activity 巡逻 worth\n}\n", encoding="utf-8")
    with pytest.raises(RulesError) as expected:
        broken_ruleset_error(str(broken))
    with multiprocessing.get_context("fork").Pool(1) as pool:
        pending = pool.apply_async(broken_ruleset_error, (str(broken),))
        # before the fix the parent never heard back: the pool's result thread died unpickling it
        with pytest.raises(RulesError) as found:
            pending.get(timeout=120)
    assert found.value.diagnostics == expected.value.diagnostics
    assert str(found.value) == str(expected.value)
