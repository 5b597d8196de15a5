"""A time staff type without a zone is the community's wall time.

``--effective 2025-02-01``, ``--now 2025-03-01``, ``--now 2025-03-01T09:00``, ``--effective 2025年3月1日``,
``--deadline 2025-03-31T18:00``: each was refused ("has no time zone"); each now means that wall time in the
time zone of the store's community (Asia/Shanghai here: +08:00), exactly as the same time written with its
offset.  A wall time a change to summer time skips or passes twice is refused, asking for the offset; a time
that is no time is a usage error (exit 2) in English and Chinese.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import click
import pytest
from click.testing import CliRunner

from gridcore_app.cli import in_zone, main_group

ROOT = Path(__file__).resolve().parents[1]
MINI = ROOT / "tests" / "data" / "community-mini"
RULES = """\
ruleset mini
levels: community > grid > unit
points:
  activity volunteering: 5 per hour
"""
CST = timezone(timedelta(hours=8))


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main_group, list(args))
    return result.exit_code, result.output


@pytest.fixture()
def store(tmp_path: Path) -> str:
    rules = tmp_path / "mini.rules"
    rules.write_text(RULES, encoding="utf-8")
    where = str(tmp_path / "store")
    code, out = run("init", "--community", str(MINI), "--ruleset", str(rules), "--effective", "2025-01-01",
                    "--store", where)
    assert code == 0, out
    return where


def _effective(store: str) -> list[str]:
    code, out = run("rulesets", "--store", store, "--format", "csv")
    assert code == 0, out
    return [line.split(",")[0] for line in out.splitlines()[1:]]


def test_a_day_without_a_zone_takes_effect_at_the_communitys_midnight(store: str, tmp_path: Path) -> None:
    rules = tmp_path / "mini.rules"
    for written in ("2025-02-01", "2025年3月1日", "2025-04-01T09:30"):
        code, out = run("use", str(rules), "--effective", written, "--store", store)
        assert code == 0, out
    code, out = run("use", str(rules), "--effective", "2025-05-01T00:00+08:00", "--store", store)
    assert code == 0, out
    assert _effective(store) == ["2025-01-01T00:00:00+08:00", "2025-02-01T00:00:00+08:00",
                                 "2025-03-01T00:00:00+08:00", "2025-04-01T09:30:00+08:00",
                                 "2025-05-01T00:00:00+08:00"]


def test_now_without_a_zone_reads_as_the_same_time_with_its_offset(store: str) -> None:
    bare = run("points", "board", "yq", "--period", "2025-02", "--now", "2025-03-01T09:00", "--store", store,
               "--format", "json")
    zoned = run("points", "board", "yq", "--period", "2025-02", "--now", "2025-03-01T09:00+08:00", "--store", store,
                "--format", "json")
    assert bare[0] == 0 and bare == zoned
    shown = run("incidents", "list", "--now", "2025-03-01", "--store", store)
    assert shown == run("incidents", "list", "--now", "2025-03-01T00:00+08:00", "--store", store)
    assert shown[0] == 0 and "times here are counted to now" not in shown[1]  # (a fixed --now: no such note)


def test_a_tasks_deadline_without_a_zone_is_the_communitys(store: str, tmp_path: Path) -> None:
    rules = tmp_path / "tasks.rules"
    rules.write_text(RULES + "tasks:\n  task sweep: within 3 days, to grid_leader\n", encoding="utf-8")
    code, out = run("use", str(rules), "--effective", "2025-01-02", "--store", store)
    assert code == 0, out
    code, out = run("tasks", "assign", "t1", "--kind", "sweep", "--node", "yq", "--deadline", "2025-03-31T18:00",
                    "--actor", "m01", "--now", "2025-03-28T09:00", "--store", store)
    assert code == 0, out
    assert "due before 2025-03-31T18:00:00+08:00" in out, out
    # the default deadline is 'within 3 days' after --now, itself the community's wall time
    code, out = run("tasks", "assign", "t2", "--kind", "sweep", "--node", "yq", "--actor", "m01",
                    "--now", "2025-03-28T09:00", "--store", store)
    assert code == 0 and "due before 2025-03-31T09:00:00+08:00" in out, out


def test_a_time_that_is_no_time_is_a_usage_error_in_both_languages(store: str) -> None:
    for written in ("2025-13-01", "2025-03-01T25:00", "next monday"):
        code, out = run("--lang", "zh", "points", "board", "yq", "--now", written, "--store", store)
        assert code == 2 and "时间应写成 2025-03-01T09:00+08:00 或 2025-03-01 这样" in out, out
        assert f"'{written}' is not a time like 2025-03-01T09:00+08:00 or a day like 2025-03-01" in out, out


def test_a_wall_time_summer_time_skips_or_repeats_asks_for_its_offset() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    assert in_zone(datetime(2025, 3, 30, 1, 30), berlin).utcoffset() == timedelta(hours=1)
    assert in_zone(datetime(2025, 3, 30, 3, 30), berlin).utcoffset() == timedelta(hours=2)
    with pytest.raises(click.BadParameter, match="does not exist in the community's time zone .*不存在"):
        in_zone(datetime(2025, 3, 30, 2, 30), berlin)
    with pytest.raises(click.BadParameter, match="happens twice in the community's time zone .*出现两次"):
        in_zone(datetime(2025, 10, 26, 2, 30), berlin)
    given = datetime(2025, 10, 26, 2, 30, tzinfo=CST)
    assert in_zone(given, berlin) is given  # a time with its zone is taken as written
