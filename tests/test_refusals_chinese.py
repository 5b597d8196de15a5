"""Chinese first: every reason an event is refused for exists in Chinese (docs/embedding.md).

Two holds on it. By source: every sentence a refusal of the core or of a built-in
plugin is built from (a returned or appended reason, a malformed document's
message) carries its Chinese, so a new reason written in English only fails here
before anyone meets it. By behaviour: a day of mistakes offered to an engine with
every built-in plugin is refused event by event, each with the reasons it always
had, and each reason holds Chinese.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import REPO

from gridcore import Engine, FixedClock, get_plugin_manager
from gridcore.errors import has_chinese
from gridcore_app.jsonl import MAX_LINE_BYTES, parse_line

# ---------------------------------------------------------------- by source

#: Where refusals are built: a module, and the functions of it that build them (None: every one).
SOURCES: dict[str, tuple[str, ...] | None] = {
    "gridcore/engine.py": ("_refusals", "_outside_refusals", "close"),
    "gridcore/recording.py": ("_record_many", "_settle_repeats"),
    "gridcore/enacting.py": ("use_ruleset",),
    "gridcore/rostering.py": ("_grow",),
    "gridcore/checkpointing.py": ("_checkpoint",),  # (its warnings; restoring's _wake wraps its own ValueErrors)
    "gridcore/permissions.py": None,
    "gridcore/register.py": ("refusals", "_on_record", "_place_refusals", "_split_refusals"),
    "gridcore/codec.py": ("_make_converter", "checked_dict", "_from_dict_fully", "_describe", "_glossed"),
    "gridcore/limits.py": None,
    "gridcore/events.py": None,
    "gridcore_app/jsonl.py": ("parse_line",),
    "plugins/points/checks.py": None,
    "plugins/points/events.py": None,
    "plugins/escalation/lifecycle.py": None,
    "plugins/escalation/intake.py": ("join_refusals",),
    "plugins/tasks/judging.py": None,
    "plugins/tasks/events.py": None,
}

#: Calls whose first argument is a message: the errors a malformed document is refused with.
RAISED = {"EventError", "ValueError", "TypeError", "InvalidValueError", "InvalidTypeError", "_Refused"}
#: Methods that take a warning the engine gives its user (``engine.warnings``, printed by every command).
WARNED = {"_warn_once"}
#: Names a reason is put together in before it is returned or appended.
HELD = {"reason", "why", "problem"}
#: Lists reasons are appended to.
LISTS = {"reasons", "messages", "problems"}
#: A piece of an English sentence (a word of four letters or more).
WORDS = re.compile(r"[A-Za-z]{4,}")
#: The Chinese of a text (runs of Chinese characters and their punctuation).
CHINESE = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+")


def _messages(tree: ast.AST) -> Iterator[ast.expr]:
    """Every expression in ``tree`` that is a reason (or a message) as it leaves its function."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Return) and node.value is not None:
            yield node.value
        elif isinstance(node, ast.Call):
            func = node.func
            if (isinstance(func, ast.Attribute) and func.attr in ("append", "extend")
                    and isinstance(func.value, ast.Name) and func.value.id in LISTS and node.args) or isinstance(func, ast.Name) and func.id in RAISED and node.args or (isinstance(func, ast.Attribute) and func.attr in WARNED and node.args):
                yield node.args[0]
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id in HELD for t in node.targets):
            yield node.value


def _alternatives(expr: ast.expr) -> Iterator[ast.expr]:
    """The reasons one expression may be: each item of a list or tuple, each branch of a choice."""
    if isinstance(expr, ast.List | ast.Tuple):
        for item in expr.elts:
            yield from _alternatives(item)
    elif isinstance(expr, ast.IfExp):
        yield from _alternatives(expr.body)
        yield from _alternatives(expr.orelse)
    elif isinstance(expr, ast.BoolOp):
        for value in expr.values:
            yield from _alternatives(value)
    else:
        yield expr


def _texts(expr: ast.expr) -> list[str]:
    """The text written into one reason: its literals, f-strings' included, not those passed to calls in it."""
    found: list[str] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append(node.value)
        elif isinstance(node, ast.Call):
            return  # (", ".join(...), str(exc): what they give is not written here)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(expr)
    return found


def _reasons() -> Iterator[tuple[str, str]]:
    """Every reason (or message) written in the sources: where it is, and its text (literals only)."""
    for path, names in SOURCES.items():
        tree = ast.parse((REPO / path).read_text(encoding="utf-8"))
        functions = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                     and (names is None or node.name in names)]
        if names is not None:
            assert {f.name for f in functions} >= set(names), f"{path}: {set(names) - {f.name for f in functions}}"
        for function in functions:
            for expr in _messages(function):
                for one in _alternatives(expr):
                    yield f"{path}:{one.lineno} ({function.name})", "".join(_texts(one))


def _english_only() -> list[str]:
    return [f"{where}: {text[:70]!r}" for where, text in _reasons()
            if WORDS.search(text) and not has_chinese(text)]


def test_every_reason_is_written_with_its_chinese() -> None:
    assert _english_only() == []


def glossary() -> dict[str, tuple[str, ...]]:
    """docs/embedding.md's glossary of the Chinese in reasons: each term settled on, and the words it replaces."""
    page = (REPO / "docs" / "embedding.md").read_text(encoding="utf-8")
    table = page.split("<!-- glossary -->")[1]
    terms: dict[str, tuple[str, ...]] = {}
    rows = table.strip().splitlines()
    for line in rows[2 : next((n for n, row in enumerate(rows) if not row.startswith("|")), len(rows))]:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        terms[cells[1]] = tuple(word.strip() for word in cells[2].split("、") if word.strip())
    return terms


#: Where a read's mistakes are raised (a report without its parameter, an unknown incident, status or member,
#: an assessment cycle that is not there): staff meet them through the command line and the service.
READ_SOURCES = ("plugins/*/reports.py", "plugins/escalation/views.py", "plugins/points/api.py",
                "plugins/assessment/rating.py")


def test_every_mistake_a_read_raises_is_written_with_its_chinese() -> None:
    missing = []
    for pattern in READ_SOURCES:
        for path in sorted(REPO.glob(pattern)):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Raise | ast.Return) and isinstance(node.exc if isinstance(node, ast.Raise)
                                                                          else node.value, ast.Call):
                    call = node.exc if isinstance(node, ast.Raise) else node.value
                    assert isinstance(call, ast.Call)
                    name = call.func.id if isinstance(call.func, ast.Name) else ""
                    if name.endswith("Error") and call.args:
                        text = "".join(_texts(call.args[0]))
                        if WORDS.search(text) and not has_chinese(text):
                            missing.append(f"{path.relative_to(REPO)}:{node.lineno}: {text[:70]!r}")
    assert missing == []


def test_the_chinese_of_reasons_uses_the_glossary_terms_not_the_words_they_replace() -> None:
    terms = glossary()
    assert len(terms) > 20 and all(has_chinese(term) for term in terms)
    replaced = {word: term for term, words in terms.items() for word in words}
    assert "案件" in replaced and "兑换目录" in replaced  # (the table was read)
    found = [f"{where}: {word!r} (write {replaced[word]!r})" for where, text in _reasons()
             for word in replaced if any(word in run for run in CHINESE.findall(text))]
    assert found == []


def test_the_source_check_finds_a_reason_in_english_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check by source is not empty: an English-only reason in a refusal's module is found, by its line."""
    for name in ("gridcore/permissions.py", "plugins/escalation/lifecycle.py"):
        copy = tmp_path / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text((REPO / name).read_text(encoding="utf-8") + (
            "\n\ndef _new_rule(engine, event):\n    if event.actor:\n"
            "        return [f\"{event.actor} may not do this\"]\n"
            "    reasons = []\n    reasons.append(\"nor that\" if engine else \"nor this (不行)\")\n"
            "    return reasons\n"), encoding="utf-8")
    monkeypatch.setattr(f"{__name__}.REPO", tmp_path)
    monkeypatch.setattr(f"{__name__}.SOURCES", {"gridcore/permissions.py": None,
                                                "plugins/escalation/lifecycle.py": None})
    found = _english_only()
    assert len(found) == 4 and all("_new_rule" in line for line in found)
    assert sum("may not do this" in line for line in found) == 2 and sum("nor that" in line for line in found) == 2


# ---------------------------------------------------------------- by behaviour

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=TZ)  # a Monday, 09:00
COMMUNITY = REPO / "tests" / "data" / "escalation" / "community"

RULES = """\
ruleset mistakes
levels: street > community > grid > unit

points:
  activity volunteer_service: 5 per hour
  activity cleanup: 10 points
  reward rice: 50 points, stock 1
  reward soap: 5 points, at most 1 per month
  reward towel: 20 points
  reward tea: 5 points, until 2025-03-01
  reward oil: 5 points, from 2025-06-01
  recognition grid: 30 points per month, by grid_leader
  duplicate claims: refuse, same day
  outside cells: refuse
  self recorded: refuse
  self award: refuse

escalation:
  incident any: start at unit
  limit unit: accept within 2 hours, resolve within 48 hours
  consultation fire_hazard: required before handling
  feedback: within 1 working day, required before verification
  extension: at most 1 times, up to 2 days each, approved by grid_leader
  verified by: grid_leader
  calendar: working hours 08:30-17:30, monday to friday

tasks:
  task 入户排查: within 7 days, by grid_leader, to fulltime_gridworker
"""


def at(hours: float) -> str:
    return (T0 + timedelta(hours=hours)).isoformat()


def doc(kind: str, ident: str, after: float, actor: str, node: str, **fields: Any) -> dict[str, Any]:
    """An event ``after`` hours after T0."""
    return {"kind": kind, "id": ident, "time": at(after), "actor": actor, "node": node, **fields}


def incident(kind: str, ident: str, after: float, actor: str, case: str, node: str = "u11",
             **fields: Any) -> dict[str, Any]:
    return doc(kind, ident, after, actor, node, incident=case, **fields)


def day_of_mistakes() -> list[dict[str, Any]]:
    """The events of one day: those whose id starts with ``x-`` are mistakes, every other one is fine."""
    return [
        # the core: who, where, the register; malformed documents
        doc("patrol_logged", "x-node", 1, "worker1", "nowhere"),
        doc("patrol_logged", "x-actor", 1, "ghost", "g1"),
        doc("patrol_logged", "x-system", 1, "system", "g1"),
        doc("patrol_logged", "x-patrol", 1, "worker2", "u11"),
        doc("patrol_logged", "x-future", 24 * 400, "worker1", "g1"),
        doc("resident_registered", "reg1", 1, "leader1", "u11", person="r9"),
        doc("resident_registered", "x-reg-again", 2, "leader1", "u11", person="r9"),
        doc("resident_moved", "x-moved", 2, "leader1", "u11", person="张伟"),
        doc("household_visited", "x-visit", 2, "leader1", "u11", household="h404"),
        doc("household_moved_in", "x-leafless", 2, "leader1", "g1", household="h1", name="李家"),
        doc("patrol_logged", "x-minutes", 1, "worker1", "g1", minutes="a while"),
        doc("patrol_logged", "x-field", 1, "worker1", "g1", colour="red"),
        doc("patrol_logged", "x-empty", 1, "worker1", ""),
        {"kind": "patrol_logged", "id": "x-time", "time": "yesterday", "actor": "worker1", "node": "g1"},
        {"kind": "patrol_logged", "id": "x-missing", "time": at(1), "actor": "worker1"},
        {"kind": "incident_exploded", "id": "x-kind", "time": at(1), "actor": "worker1", "node": "g1"},
        {"id": "x-no-kind", "time": at(1), "actor": "worker1", "node": "g1"},
        # points: who records, hours, claims, redemptions, recognition
        doc("activity_recorded", "act1", 3, "leader1", "u11", activity="cleanup", member="张伟"),
        doc("activity_recorded", "act2", 3, "leader1", "u11", activity="volunteer_service", member="张伟", hours=10),
        doc("activity_recorded", "x-recorder", 3, "res2", "u11", activity="cleanup", member="张伟"),
        doc("activity_recorded", "x-hours", 3, "leader1", "u11", activity="volunteer_service", member="张伟",
            hours=30),
        doc("activity_recorded", "x-no-hours", 3, "leader1", "u11", activity="volunteer_service", member="张伟"),
        doc("activity_recorded", "x-twice", 4, "leader1", "u11", activity="cleanup", member="张伟"),
        doc("activity_recorded", "x-outside", 3, "leader1", "u12", activity="volunteer_service", member="张伟",
            hours=1),
        doc("activity_recorded", "x-self", 3, "张伟", "u11", activity="cleanup"),
        doc("points_redeemed", "red1", 5, "张伟", "u11", reward="rice"),
        doc("points_redeemed", "red2", 5, "张伟", "u11", reward="soap"),
        doc("points_redeemed", "x-stock", 6, "张伟", "u11", reward="rice"),
        doc("points_redeemed", "x-limit", 6, "张伟", "u11", reward="soap"),
        doc("points_redeemed", "x-caviar", 6, "张伟", "u11", reward="caviar"),
        doc("points_redeemed", "x-expired", 6, "张伟", "u11", reward="tea"),
        doc("points_redeemed", "x-early", 6, "张伟", "u11", reward="oil"),
        doc("points_redeemed", "x-poor", 6, "张伟", "u11", reward="towel"),
        doc("points_redeemed", "x-forged", 6, "res2", "u11", reward="soap", member="张伟"),
        doc("recognition_awarded", "rec1", 7, "leader1", "g1", member="worker1", points=20, reason="好"),
        doc("recognition_awarded", "x-award-ghost", 7, "leader1", "g1", member="ghost", points=1, reason="好"),
        doc("recognition_awarded", "x-award-worker", 7, "worker1", "g1", member="worker2", points=1, reason="好"),
        doc("recognition_awarded", "x-award-self", 7, "leader1", "g1", member="leader1", points=1, reason="好"),
        doc("recognition_awarded", "x-budget", 8, "leader1", "g1", member="worker1", points=20, reason="好"),
        # escalation: the case's steps, who may take them
        incident("incident_reported", "rep1", 1, "worker1", "I1", category="leaking_pipe"),
        incident("incident_reported", "x-reported", 1.5, "worker1", "I1", category="leaking_pipe"),
        incident("incident_reported", "x-place", 1.5, "worker1", "I8", category="leaking_pipe", place="b2"),
        incident("incident_accepted", "x-unknown-case", 1.5, "worker1", "I9"),
        incident("incident_resolved", "x-not-accepted", 1.5, "worker1", "I1"),
        incident("incident_accepted", "x-not-theirs", 1.5, "res2", "I1"),
        incident("incident_accepted", "acc1", 2, "worker1", "I1"),
        incident("incident_accepted", "x-accepted", 2.5, "unitlead", "I1"),
        incident("incident_resumed", "x-not-paused", 2.5, "worker1", "I1"),
        incident("extension_approved", "x-no-request", 2.5, "leader1", "I1"),
        incident("incident_verified", "x-verify-early", 2.5, "leader1", "I1", satisfaction=4),
        incident("incident_escalated", "x-down", 2.5, "worker1", "I1", to_node="u12"),
        incident("incident_escalated", "x-nowhere", 2.5, "worker1", "I1", to_node="nowhere"),
        incident("incident_returned", "x-both", 2.5, "worker1", "I1", reason="不归我管", department="fire",
                 to_node="u12"),
        incident("repeat_report_joined", "x-joined", 2.5, "worker1", "I1", report="I7"),
        incident("extension_requested", "ext1", 3, "worker1", "I1", days=1, reason="等配件"),
        incident("extension_approved", "x-own-extension", 3.5, "worker1", "I1"),
        incident("extension_approved", "ext2", 4, "leader1", "I1"),
        incident("extension_requested", "x-extension-again", 4.5, "worker1", "I1", days=1, reason="还要等"),
        incident("incident_resolved", "res1", 5, "worker1", "I1"),
        incident("incident_verified", "x-no-feedback", 5.5, "leader1", "I1", satisfaction=4),
        incident("satisfaction_rated", "x-outsider", 5.5, "res2", "I1", score=5),
        incident("feedback_given", "fb1", 6, "worker1", "I1"),
        incident("incident_verified", "ver1", 6.5, "leader1", "I1", satisfaction=4),
        incident("incident_closed", "clo1", 7, "leader1", "I1"),
        incident("incident_accepted", "x-closed", 7.5, "worker1", "I1"),
        incident("incident_reported", "rep2", 1, "worker1", "I2", category="fire_hazard"),
        incident("incident_accepted", "acc2", 1.5, "worker1", "I2"),
        incident("incident_handling_started", "x-no-consultation", 2, "worker1", "I2"),
        # tasks
        doc("task_assigned", "task1", 1, "leader1", "g1", task="T1", task_kind="入户排查"),
        doc("task_assigned", "x-task-kind", 1, "leader1", "g1", task="T2", task_kind="跳舞"),
        doc("task_assigned", "x-task-by", 1, "worker1", "g1", task="T3", task_kind="入户排查"),
        doc("task_completed", "x-task-unknown", 2, "worker1", "g1", task="T9"),
        doc("task_completed", "x-task-not-theirs", 2, "leader1", "g1", task="T1"),
    ]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    rules = tmp_path / "mistakes.rules"
    rules.write_text(RULES, encoding="utf-8")
    with Engine.open(store=str(tmp_path / "store"), community=COMMUNITY, ruleset=rules,
                     effective=T0 - timedelta(days=30), clock=FixedClock(T0 + timedelta(days=30)), future_tolerance=timedelta(days=1),
                     plugins=get_plugin_manager()) as opened:
        yield opened


def test_a_day_of_mistakes_is_refused_in_chinese(engine: Engine) -> None:
    day = day_of_mistakes()
    summary = engine.record_many(day)
    refused = {refusal.event_id: refusal.reasons for refusal in summary.refused}
    mistakes = {item["id"] for item in day if item["id"].startswith("x-")}
    assert set(refused) == mistakes
    assert summary.accepted == len(day) - len(mistakes)
    # offered again: a conflicting id, and a redemption before later spending it would leave uncovered
    again = engine.record_many([
        doc("patrol_logged", "reg1", 1, "leader1", "u11"),
        doc("points_redeemed", "x-late", 4.5, "张伟", "u11", reward="towel"),
    ])
    assert again.accepted == 0
    refused.update({refusal.event_id: refusal.reasons for refusal in again.refused})
    assert {"reg1", "x-late"} <= set(refused)
    english_only = {ident: reason for ident, reasons in refused.items() for reason in reasons
                    if not has_chinese(reason)}
    assert english_only == {}
    # each was refused for what it was meant to show (the English as it always was)
    assert "insufficient balance: 张伟 has" in refused["x-poor"][0]
    assert refused["x-node"] == ["unknown node 'nowhere' (未知节点)"]
    assert "already claimed cleanup (the same day) in event act1" in refused["x-twice"][0]
    assert "is closed; nothing more can be done to it (cannot accept)" in refused["x-closed"][0]
    assert "would leave without enough points" in refused["x-late"][0]
    assert "same id, different kind" in refused["reg1"][0]


@pytest.mark.parametrize("line", [
    b'{"kind": "patrol_logged",', b'{"a": "\xff"}', b"[1, 2]", b'{"minutes": 1e999}',
    b'{"n": ' + b"1" * 5000 + b"}", b'{"a": ' + b"[" * 40 + b"]" * 40 + b"}", b"x" * (MAX_LINE_BYTES + 1),
])
def test_a_line_of_an_event_file_is_refused_in_chinese(line: bytes) -> None:
    reason = parse_line(line)
    assert isinstance(reason, str) and has_chinese(reason)


# ---------------------------------------------------------------- the rules language and `gridcore check`

#: Where the messages of the rules language and of `gridcore check` are written: parse errors, unknown
#: names with their did-you-mean, types and ranges, each section's own checks, the roster's and the
#: district's checks of subtrees. (The grammar's builders and caches speak to plugin authors only.)
RULES_SOURCES = ("gridcore/rules/*.py", "plugins/*/compiler.py", "plugins/*/section.py", "plugins/*/roster_check.py",
                 "plugins/*/checks.py", "plugins/assessment/conditions.py", "plugins/assessment/star_ladder.py",
                 "gridcore_app/checking.py", "gridcore_app/rules_cli.py")
RULES_NOT_MESSAGES = {"grammar_build.py", "grammar_cache.py", "tree_cache.py", "keywords.py", "vocabulary.py",
                      "formatter.py", "lines.py", "ast.py", "gridcore/rules/compiler.py",
                      "codes.py"}  # (the codes' table: patterns and example rulesets; its Chinese is held below)
#: Calls whose text is no message: a plugin author's errors, joins, the schema's fields, compiled code.
NOT_MESSAGE_CALLS = {"join", "exec", "Condition", "Field", "Variable", "SubsidyPaying", "_check", "Section",
                     "_handler_problem", "echo", "option", "argument", "command", "group", "ClickException"}
#: In these files only these calls make messages (the rest is the CLI's own text and a ruleset's).
ONLY_CALLS = {"gridcore_app/rules_cli.py": {"simple", "Diagnostic"}}
#: An English sentence: a word of four letters or more, and a space.
SENTENCE = re.compile(r"[A-Za-z]{4,}")


def _sentence(expr: ast.expr) -> bool:
    text = "".join(_texts(expr))
    return bool(SENTENCE.search(text)) and " " in text.strip() and not has_chinese(text)


def _rules_files() -> Iterator[tuple[str, ast.Module]]:
    for pattern in RULES_SOURCES:
        for path in sorted(REPO.glob(pattern)):
            where = path.relative_to(REPO).as_posix()
            if path.name not in RULES_NOT_MESSAGES and where not in RULES_NOT_MESSAGES:
                yield where, ast.parse(path.read_text(encoding="utf-8"))


def _call_name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def rules_messages() -> Iterator[tuple[str, str, ast.expr | None]]:
    """Every English message of the rules language and of check: where, its text, and its Chinese twin.

    A message is an English sentence passed to a call (its twin: the next argument, or the
    keyword of the same name with ``_zh``: ``fix=`` and ``fix_zh=``), or an item of a tuple
    (its twin: the next item, as in ``(where, English, Chinese, fix, fix in Chinese)``).
    """
    for where, tree in _rules_files():
        in_calls: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = _call_name(node.func)
                in_calls.update(id(a) for a in node.args)
                if (name.endswith("Error") and name != "AstError") or name in NOT_MESSAGE_CALLS \
                        or name not in ONLY_CALLS.get(where, {name}):
                    continue
                for i, arg in enumerate(node.args):
                    if _sentence(arg):
                        yield (f"{where}:{arg.lineno} ({name})", "".join(_texts(arg)),
                               node.args[i + 1] if i + 1 < len(node.args) else None)
                keywords = {k.arg: k.value for k in node.keywords if k.arg}
                for key, value in keywords.items():
                    if not key.endswith("_zh") and _sentence(value):
                        yield (f"{where}:{value.lineno} ({name} {key}=)", "".join(_texts(value)),
                               keywords.get(f"{key}_zh"))
            elif isinstance(node, ast.Tuple) and id(node) not in in_calls:
                for i, item in enumerate(node.elts):
                    if _sentence(item) and len("".join(_texts(item)).split()) >= 4:
                        yield (f"{where}:{item.lineno} (tuple)", "".join(_texts(item)),
                               node.elts[i + 1] if i + 1 < len(node.elts) else None)


def _rules_english_only() -> list[str]:
    return [f"{where}: {text[:70]!r}" for where, text, twin in rules_messages()
            if twin is None or not has_chinese("".join(_texts(twin)))]


def test_every_message_of_the_rules_language_and_of_check_is_written_with_its_chinese() -> None:
    found = list(rules_messages())
    assert len(found) > 200  # (the sources were read: parse errors, checks, each section's own)
    assert _rules_english_only() == []


def language_keywords() -> set[str]:
    """Every Chinese keyword and header of the language: a message quotes them as they are written."""
    from gridcore.plugin_host import Hooks
    from gridcore.rules.keywords import CORE_KEYWORDS

    words = {form for forms in CORE_KEYWORDS.values() for form in forms}
    for section in Hooks(get_plugin_manager()).register_sections():
        words.update(section.headers)
        words.update(form for forms in section.keywords.values() for form in forms)
        words.update(form for kind in section.items for form in kind.keywords)
    return {word for word in words if has_chinese(word)}


def test_the_chinese_of_rules_messages_uses_the_glossary_terms_not_the_words_they_replace() -> None:
    replaced = {word: term for term, words in glossary().items() for word in words}
    # a keyword the glossary would not choose (处置前必须) is quoted as it is written
    keywords = sorted((k for k in language_keywords() if any(word in k for word in replaced)), key=len, reverse=True)
    assert "处置前必须" in keywords
    found = []
    for where, _, twin in rules_messages():
        text = "".join(_texts(twin)) if twin is not None else ""
        for keyword in keywords:
            text = text.replace(keyword, " ")
        found += [f"{where}: {word!r} (write {replaced[word]!r})" for word in replaced
                  if any(word in run for run in CHINESE.findall(text))]
    assert found == []


def test_the_rules_check_finds_a_message_in_english_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check by source is not empty: a message, a fix and a tuple's message without Chinese are found."""
    name = "plugins/points/compiler.py"
    copy = tmp_path / name
    copy.parent.mkdir(parents=True)
    copy.write_text((REPO / name).read_text(encoding="utf-8") + (
        "\n\ndef _new_check(ctx, body):\n"
        "    ctx.error(body, \"a new check says this\", \"新的检查\", fix=\"write it otherwise\")\n"
        "    ctx.error(body, \"and this in English only\")\n"
        "    return [(body, \"this step is out of its place\", \"not Chinese either\")]\n"), encoding="utf-8")
    monkeypatch.setattr(f"{__name__}.REPO", tmp_path)
    monkeypatch.setattr(f"{__name__}.RULES_SOURCES", (name,))
    found = [line for line in _rules_english_only() if "new check" in line or "English only" in line
             or "out of its place" in line or "otherwise" in line]
    assert len(found) == 3, found


@pytest.mark.parametrize("entry", [c for c in __import__("gridcore.rules.codes", fromlist=["CODES"]).CODES],
                         ids=lambda c: c.code)
def test_each_code_of_check_is_explained_in_chinese(entry: Any) -> None:
    """docs/check-messages.md's table: every code's meaning and fix in Chinese, in the glossary's terms."""
    replaced = {word for words in glossary().values() for word in words}
    assert has_chinese(entry.title_zh) and has_chinese(entry.fix_zh)
    assert not [word for word in replaced if word in entry.title_zh + entry.fix_zh]


#: Mistakes in a ruleset written in Chinese keywords (rulesets/chengqiao): the right text, the mistake.
CHINESE_MISTAKES = [
    ("删除 活动 环境整治", "删除 活动 环境正治"),  # removing what the parent lacks
    ("  倾斜 微网格长：1.5 倍\n", "  倾斜 微网格长：1.5 倍\n  倾斜 微网格长：2 倍\n"),  # defined twice
    ("倾斜 微网格员：1.2 倍", "倾斜 微网格员：0 倍"),  # a tilt that is no multiplier
    ("倾斜 微网格员：1.2 倍", "倾斜 微网格：1.2 倍"),  # neither a role nor a level
    ("  会商：2 分\n", "  会商：2 分\n  下限：1.5\n"),  # a floor of part of a point
    ("  会商：2 分\n", "  会商：2 分\n  活动 打扫：5 分，6 分\n"),  # two defaults
    ("礼遇 理发券：50 分", "礼遇 理发券：0 分"),  # a reward for nothing
    ("当 成员.党员", "当 成员.党圆"),  # a field
    ("事件 fire_hazard：", "事件 消防隐忠："),  # a category
    ("评定层级：microgrid，grid", "评定层级：microgird，grid"),  # a level
    ("  巡查：每周 3 次\n", "  巡查：每周 0 次\n"),  # patrols
    ("会商 治安隐患：处置前必须", "会商 治安隐患：当 事件.严重程度 >= 3"),  # a consultation without when
    ("转交 fire，", "转交 fier，"),  # a department
]


def test_a_ruleset_in_chinese_is_told_its_mistakes_in_chinese(tmp_path: Path) -> None:
    """Each mistake's message and fix hold Chinese, and name nothing by an English keyword the file
    does not use (a Chinese author wrote 倾斜, not tilt)."""
    import json
    import shutil

    from click.testing import CliRunner

    from gridcore_app.cli import main_group

    english_words = {form.lower() for section_words in _english_keywords() for form in section_words}
    folder = tmp_path / "chengqiao"
    shutil.copytree(REPO / "rulesets" / "chengqiao", folder)
    shutil.copy(REPO / "rulesets" / "district-base.rules", folder)
    path = folder / "chengqiao.rules"
    text = path.read_text(encoding="utf-8")
    found: list[str] = []
    for right, wrong in CHINESE_MISTAKES:
        assert right in text
        path.write_text(text.replace(right, wrong, 1), encoding="utf-8")
        result = json.loads(CliRunner().invoke(main_group, ["check", "--format", "json", str(path)]).stdout)
        diagnostics = [d for d in result["diagnostics"] if d["file"].endswith("chengqiao.rules")]
        assert diagnostics, wrong
        for d in diagnostics:
            said = d["message"]["zh"] + " " + d["fix"]["zh"]
            if not has_chinese(d["message"]["zh"]) or (d["fix"]["en"] and not has_chinese(d["fix"]["zh"])):
                found.append(f"{wrong.strip()!r}: {said!r}")
            written = d["source_line"].lower()
            found += [f"{wrong.strip()!r}: {word!r} in {said!r}" for word in re.findall(r"[A-Za-z]+", said.lower())
                      if word in english_words and word not in written]
    assert found == []


def _english_keywords() -> list[tuple[str, ...]]:
    """The English keywords of the built-in sections' items (activity, tilt, reward ...), and override/remove."""
    from gridcore.plugin_host import Hooks

    out: list[tuple[str, ...]] = [("override", "remove")]
    for section in Hooks(get_plugin_manager()).register_sections():
        out += [tuple(f for f in kind.keywords if f.isascii() and " " not in f) for kind in section.items]
    return out


# ---------------------------------------------------------------- headings: reports, CSV for Excel, explanations, workbooks


def chinese_headings() -> dict[str, str]:
    """Every Chinese heading staff read, by where it is written: the columns of gridcore's own tables, of the
    built-in plugins' reports and of roll-ups and what-ifs (the CSV for Excel carries them), the inputs of
    explanations, the points ledger's kinds and a flag's wording, the roster workbook's sheets, columns
    and settings as gridcore writes them, and the event kinds' names, descriptions and fields (the
    service's OpenAPI description shows them)."""
    import importlib

    from gridcore import explain, reports
    from gridcore_app import rollup, rosterbook, whatif

    found: dict[str, str] = {}

    def add(where: str, mapping: Any) -> None:
        for key, value in dict(mapping).items():
            for text in value if isinstance(value, tuple) else (value,):
                found[f"{where}[{key!r}]"] = text

    add("gridcore.reports.HEADERS_ZH", reports.HEADERS_ZH)
    add("gridcore.explain.INPUTS_ZH", explain.INPUTS_ZH)
    add("gridcore_app.rollup.HEADINGS_ZH", rollup.HEADINGS_ZH)
    add("gridcore_app.whatif.HEADINGS_ZH", whatif.HEADINGS_ZH)
    for plugin in ("points", "escalation", "assessment", "tasks", "planning"):
        module = importlib.import_module(f"gridcore_{plugin}.headings")
        for name in ("HEADINGS_ZH", "INPUTS_ZH"):
            if hasattr(module, name):
                add(f"gridcore_{plugin}.headings.{name}", getattr(module, name))
    display = importlib.import_module("gridcore_points.display")
    for name in ("INPUTS_ZH", "KINDS_ZH", "_ROLES", "_STEPS"):
        add(f"gridcore_points.display.{name}", getattr(display, name))
    for sheet, headings in rosterbook.HEADINGS.items():
        add(f"gridcore_app.rosterbook.HEADINGS[{sheet!r}]", headings)
    add("gridcore_app.rosterbook.SHEETS", {key: zh for key, (zh, _) in rosterbook.SHEETS.items()})
    add("gridcore_app.rosterbook.SETTINGS", {key: zh for key, (zh, _) in rosterbook.SETTINGS.items()})
    from gridcore.events import CORE_EVENT_TYPES
    from gridcore.plugin_host import Hooks

    for cls in (*CORE_EVENT_TYPES, *Hooks(get_plugin_manager()).register_event_types()):
        if cls.__module__.split(".")[0] in ("gridcore", "gridcore_points", "gridcore_escalation", "gridcore_tasks"):
            add(f"{cls.__module__}.{cls.__name__}", {"title_zh": cls.title_zh, "doc_zh": cls.doc_zh,
                                                     **vars(cls).get("fields_zh", {})})
    return found


def _metric_titles() -> set[str]:
    """The metrics' own Chinese titles (they keep their offices' words, docs/embedding.md), as headed
    in a report (a deduction's column: ``（扣分）`` after it)."""
    from gridcore.plugin_host import Hooks

    titles = {metric.title_zh for metric in Hooks(get_plugin_manager()).register_metrics() if metric.title_zh}
    return titles | {f"{title}（扣分）" for title in titles}


def _headings_off_the_glossary(headings: dict[str, str]) -> list[str]:
    replaced = {word: term for term, words in glossary().items() for word in words}
    titles = _metric_titles()
    return [f"{where}: {text!r} (write {replaced[word]!r})" for where, text in headings.items()
            if text not in titles for word in replaced if word in text]


def test_every_chinese_heading_uses_the_glossary_terms_not_the_words_they_replace() -> None:
    headings = chinese_headings()
    assert len(headings) > 200 and headings["gridcore_app.rosterbook.HEADINGS['roles'][\'node\']"] == "节点编号"
    assert _headings_off_the_glossary(headings) == []


def test_the_heading_check_finds_a_replaced_word() -> None:
    """Not empty: the workbook's former heading (read, never written) and a resolver shown as 处置人 are found."""
    from gridcore_app.rosterbook import FORMER_HEADINGS

    assert _headings_off_the_glossary({"former": FORMER_HEADINGS["roles"]["node"][0], "display": "处置人",
                                       "metric": "未解决重大事件", "fine": "节点编号"}) == [
        "former: '网格编号' (write '节点编号')", "display: '处置人' (write '办理')"]
