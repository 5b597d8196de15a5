"""``gridcore --lang zh incidents list|overdue``: the cells staff read in Chinese, not only the headings.

A category shows the name its ruleset's ``category`` item gives it, a level the community's name
for it, a status and a limit's step their Chinese, each before the code (``水管漏水 leaking_pipe``,
``街道 street``, ``受理 accept``), in text and in a CSV for Excel. JSON and English keep the codes.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result
from zhladder import init_store

from gridcore_app.cli import main_group

LATE = "2025-03-03T16:30+08:00"


def run(*args: str) -> Result:
    return CliRunner().invoke(main_group, list(args), catch_exceptions=False)


def _store(tmp_path: Path) -> str:
    """I1, a leaking pipe reported at unit u11 on Monday 09:00, escalated twice by 16:30 (at the street)."""
    store = init_store(tmp_path)
    done = run("incidents", "report", "I1", "--category", "leaking_pipe", "--node", "u11", "--actor", "worker1",
               "--store", store, "--now", "2025-03-03T09:00+08:00")
    assert done.exit_code == 0, done.output
    assert run("tick", "--store", store, "--now", LATE).exit_code == 0
    return store


def _row(output: str, incident: str) -> str:
    return next(line for line in output.splitlines() if incident in line)


def test_chinese_lists_name_the_category_level_status_and_step(tmp_path: Path) -> None:
    store = _store(tmp_path)
    listed = run("--lang", "zh", "incidents", "list", "--store", store, "--now", LATE)
    assert listed.exit_code == 0, listed.output
    row = _row(listed.output, "I1")
    assert "水管漏水 leaking_pipe" in row and "街道 street" in row and "已上报 reported" in row
    every = run("incidents", "list", "--status", "all", "--lang", "zh", "--format", "csv", "--store", store,
                "--now", LATE)
    assert "I1,水管漏水 leaking_pipe,1,u11,街道 street,wh,已上报 reported," in every.output
    overdue = run("incidents", "overdue", "--lang", "zh", "--store", store, "--now", LATE)
    row = _row(overdue.output, "I1")
    assert "水管漏水 leaking_pipe" in row and "街道 street" in row and "受理 accept" in row
    csv = run("incidents", "overdue", "--lang", "zh", "--format", "csv", "--store", store, "--now", LATE)
    assert "I1,水管漏水 leaking_pipe,街道 street,wh,受理 accept," in csv.output


def test_json_and_english_keep_the_codes(tmp_path: Path) -> None:
    store = _store(tmp_path)
    shown = run("incidents", "overdue", "--lang", "zh", "--format", "json", "--store", store, "--now", LATE)
    late = json.loads(shown.output)["rows"][0]
    assert (late["category"], late["level"], late["limit"]) == ("leaking_pipe", "street", "accept")
    listed = run("incidents", "list", "--lang", "zh", "--format", "json", "--store", store, "--now", LATE)
    row = json.loads(listed.output)["rows"][0]
    assert (row["category"], row["level"], row["status"]) == ("leaking_pipe", "street", "reported")
    english = run("incidents", "overdue", "--lang", "en", "--format", "csv", "--store", store, "--now", LATE)
    assert "I1,leaking_pipe,street,wh,accept," in english.output
    text = run("incidents", "list", "--lang", "en", "--store", store, "--now", LATE)
    assert "水管漏水" not in text.output and "街道 street" not in text.output
