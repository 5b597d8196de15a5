"""Chinese first: under ``--lang zh`` (or ``GRIDCORE_LANG=zh``) what the commands print to staff reads
in Chinese before English, on a demo month's store and on bad input.

The rule checked (``english_first``): under zh, no line a command prints starts with an English word.
A line may start with ASCII only when it starts with something staff read as it is in any language:
an id (of a node, a member, an incident, a decision, a plugin, a report: holding a digit, ``-``,
``_``, ``.`` or ``:``, or a name the store or the command knows), a path, a number or a time; or
when it belongs to a table under its Chinese headings (the column ids under them, the rows below
the ``----`` rule); or when it is ruleset source quoted as written (``show``, ``fmt``, and the line
a diagnostic points at).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO

from gridcore.errors import has_chinese
from gridcore_app.cli import main_group

CST = timezone(timedelta(hours=8))
YINQUAN = REPO / "rulesets" / "yinquan"
NOW = "2025-01-31T12:00+08:00"


@dataclass
class Demo:
    folder: Path
    store: str


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """A month of Yinquan (银泉社区) simulated by ``gridcore demo``: points, incidents, tasks, ratings."""
    folder = tmp_path_factory.mktemp("demo")
    done = CliRunner().invoke(main_group, ["demo", "--days", "31", "--out", str(folder / "out")],
                              env={"GRIDCORE_LANG": "en"})
    assert done.exit_code == 0, done.output
    yield Demo(folder, str(folder / "out" / "store"))


def test_every_metric_names_its_inputs_in_chinese(demo: Demo) -> None:
    """Every metric every installed plugin registers, computed for every node and person of the demo's
    month: each input it was computed from has its Chinese (``Metric.inputs_zh``), which a rating's
    explanation in Chinese heads it by."""
    from gridcore import Engine

    start, end = datetime(2025, 1, 1, tzinfo=CST), datetime(2025, 2, 1, tzinfo=CST)
    missing, computed = [], set()
    with Engine.open(store=demo.store) as engine:
        people = sorted(engine.community.members)
        hierarchy = engine.community.hierarchy
        nodes = [node.id for root in hierarchy.roots() for node in hierarchy.descendants(root.id, include_self=True)]
        for name, metric in sorted(engine.metrics().items()):
            subjects = people if metric.about == "member" else nodes
            for subject in subjects:
                value = engine.metric(name, subject, start, end)
                if value is None:
                    continue
                computed.add(name)
                missing += [f"{name}: {key!r}" for key in value.inputs
                            if not has_chinese(metric.inputs_zh.get(key, ""))]
    assert sorted(set(missing)) == []
    # the metrics the demo's ratings use, from every built-in plugin, were computed
    assert {"patrol_coverage", "closure_within_limit", "overdue_tasks", "points_per_resident",
            "participation", "handled_within_limit"} <= computed, computed

    runner = CliRunner()
    shown = runner.invoke(main_group, ["--lang", "zh", "explain", "assessment:2025-01:yq-g1", "--store", demo.store])
    assert shown.exit_code == 0, shown.output
    assert re.search(r"指标 metric patrol_coverage = [\d.]+（单元数 cells: \d+，", shown.stdout), shown.stdout
    shown = runner.invoke(main_group, ["--lang", "en", "explain", "assessment:2025-01:yq-g1", "--store", demo.store])
    assert re.search(r"metric patrol_coverage = [\d.]+ \(cells: \d+, ", shown.stdout), shown.stdout
