"""A store for the Chinese-cell tests: the unit ladder with the leaking pipe named 水管漏水, initialised."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from gridcore_app.cli import main_group

DATA = Path(__file__).parent / "data" / "escalation"


def init_store(tmp_path: Path) -> str:
    """`gridcore init` the test community under ladder-unit.rules with ``category leaking_pipe: 水管漏水``."""
    rules = (DATA / "ladder-unit.rules").read_text(encoding="utf-8")
    path = tmp_path / "ladder-unit.rules"
    path.write_text(rules.replace("escalation:\n", "escalation:\n  category leaking_pipe: 水管漏水\n", 1),
                    encoding="utf-8")
    store = str(tmp_path / "store")
    init = CliRunner().invoke(main_group, ["init", "--community", str(DATA / "community"), "--ruleset", str(path),
                                           "--effective", "2025-03-01T00:00+08:00", "--store", store],
                              catch_exceptions=False)
    assert init.exit_code == 0, init.output
    return store
