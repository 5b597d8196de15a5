"""The exceptions the core raises for user mistakes.

Each carries a message written for the person who made the mistake; the CLI
prints it to stderr without a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .classes import frozen


class GridcoreError(Exception):
    """Base class of every error gridcore reports to a user."""


class HierarchyError(GridcoreError):
    """A grid hierarchy is invalid (cycle, wrong level, duplicate id, unknown parent).

    ``node``: the id of the node at fault, when one is (``Hierarchy.build``), else None.
    """

    node: str | None = None


@frozen
class RosterProblem:
    """One mistake in a roster, where it was read and what is wrong (``RosterError.problems``).

    ``where`` is the place as the English message says it (``roster.xlsx, sheet 节点 nodes, row 3,
    column C (level)``, ``nodes.csv row 3``, ``community.yaml:12``; empty when the mistake has no
    one place) and ``where_zh`` the same in Chinese (``节点 表第 3 行 C 列（层级）``).  ``problem`` is
    what is wrong, with what was found and what is expected, in English then its Chinese in
    brackets.  ``source`` is the file, ``sheet`` the workbook sheet (None in CSV and YAML), ``row``
    the spreadsheet row (heading = 1) or the YAML line, ``column`` the workbook column letter and
    ``field`` the column's id (``level``), each None when not known.
    """

    where: str
    problem: str
    where_zh: str = ""
    source: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}" if self.where else self.problem

    def in_chinese(self) -> str:
        """The mistake as staff reading Chinese see it: the place in Chinese, then the problem Chinese first."""
        problem = chinese_first(self.problem)
        return f"{self.where_zh}：{problem}" if self.where_zh else problem


class RosterError(GridcoreError):
    """A roster (members, roles, departments) is invalid or cannot be read.

    ``problems`` lists every mistake a roster loader found (``RosterProblem``, in the file's order;
    empty when the error was not raised by one).  With one mistake the message is that mistake, as
    it always was; with more, its first line says how many (``3 mistakes in roster.xlsx (花名册有 3
    处错误)``) and each mistake follows on a line of its own.
    """

    def __init__(self, message: str = "", problems: Iterable[RosterProblem] = ()) -> None:
        super().__init__(message)
        self.problems: tuple[RosterProblem, ...] = tuple(problems)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self), self.problems), self.__dict__)

    def render(self, lang: str = "en") -> str:
        """The message in ``lang``: ``"zh"`` puts each mistake's place and words in Chinese first."""
        if lang != "zh" or not self.problems:
            return str(self)
        out, listed = [], 0
        for line in str(self).splitlines():  # the summary, the mistakes listed, then notes (how many more, not checked)
            indent = line[: len(line) - len(line.lstrip())]
            if listed < len(self.problems) and line.strip() == str(self.problems[listed]):
                out.append(indent + self.problems[listed].in_chinese())
                listed += 1
            else:
                out.append(indent + chinese_first_line(line.strip()))
        return "\n".join(out)


class RosterHierarchyError(RosterError, HierarchyError):
    """A roster whose mistakes include its hierarchy's (a node's level, parent, id): a ``RosterError``
    with every mistake, and a ``HierarchyError``, as a roster's node mistakes always were."""


class EventError(GridcoreError):
    """An event document does not validate; the message names the field and why."""


class EventRefused(GridcoreError):
    """A well-formed event was refused (unknown node, not authorised, illegal transition).

    ``reasons`` lists every reason given, by the core and by plugins.  Nothing was stored.
    Each reason is an English sentence followed by its Chinese in brackets at the end,
    ``... (积分不足)`` (docs/embedding.md, "Reasons in English and Chinese"; ``has_chinese``
    tells whether a text has it).
    """

    def __init__(self, event_id: str, reasons: list[str]) -> None:
        self.event_id = event_id
        self.reasons = list(reasons)
        super().__init__(f"event {event_id} refused: " + "; ".join(self.reasons))

    def __reduce__(self) -> tuple[Any, ...]:
        # rebuilt from its fields in another process (``args`` holds only the message)
        return (type(self), (self.event_id, self.reasons), self.__dict__)


class InvalidValueError(GridcoreError, ValueError):
    """A value given to gridcore's API cannot be used: a time without a time zone, a number out
    of range, an empty name, a clock moved backwards.  The message says which value and why.

    Also a ``ValueError``, so code that catches those keeps working.
    """


class InvalidTypeError(GridcoreError, TypeError):
    """A value of the wrong type was given to gridcore's API (text where a time is needed, ...).

    Also a ``TypeError``.
    """


class UnknownNameError(GridcoreError, LookupError):
    """A name the engine does not know: a member, a node, an incident, a status, a report, a
    metric or a decision.  The message names it and what is known.

    Also a ``LookupError``.
    """


class UnknownMemberError(RosterError, UnknownNameError):
    """A member id not on the roster (``Community.member``): an ``UnknownNameError``, as the
    embedding guide says of every unknown name, and a ``RosterError``, as it always was."""


class UnknownNodeError(HierarchyError, UnknownNameError):
    """A node id the tree does not hold (``Hierarchy.node``): an ``UnknownNameError``, as the
    embedding guide says of every unknown name, and a ``HierarchyError``, as it always was."""


class StoreError(GridcoreError):
    """The store cannot be opened, read or written."""


#: What a backend says in Chinese when there is no store where one was asked for (nothing is created).
NO_STORE_ZH = "(没有找到 gridcore 数据库：请检查路径，或用 gridcore init 新建；未创建任何东西)"


class StoreConflict(StoreError):
    """A conditional append found the log moved on: another writer appended since.

    Raised by ``Store.append(docs, expected=P)`` when the store's position is
    no longer ``P``; nothing of the batch was stored.  The engine answers it by
    catching up (``Engine.refresh``) and judging its events again.
    """


class PluginError(GridcoreError):
    """A plugin is missing, misbehaves, or breaks the hook contract.

    ``event`` is the id of the event a plugin failed on (in
    ``gridcore_validate_event`` or ``gridcore_on_event``), else None: an
    ingest names the line it stopped at by it.  ``plugin`` is the name of
    the plugin that failed in a hook, when it is known.
    """

    event: str | None = None
    plugin: str | None = None


def has_chinese(text: str) -> bool:
    """True if ``text`` holds a Chinese character: every reason an event is refused for does."""
    for ch in text:
        code = ord(ch)
        if 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF:
            return True
    return False


#: What a reason names from the data: a quoted name, or a word holding a digit (an id, a time, an amount). An
#: apostrophe inside a word (``a month's points``) opens no quote.
_NAMED = re.compile(r"(?<![A-Za-z])'[^']*'(?![A-Za-z])|\"[^\"]*\"|[\w.:+/-]*\d[\w.:+/-]*")


def chinese_of(text: str) -> tuple[str, str] | None:
    """A reason's two parts, ``(english, chinese)``: the Chinese in brackets at its end (docs/embedding.md),
    ``insufficient balance ... (积分不足)`` -> ``("insufficient balance ...", "积分不足")``; None when it ends
    with no bracket opening on a Chinese word."""
    found = _last_bracket(text.rstrip())
    if found is None:
        return None
    before, inside = found
    if not inside or not has_chinese(inside[0]):
        return None
    return before, inside


def _last_bracket(text: str) -> tuple[str, str] | None:
    """What is before ``text``'s last bracket, and inside it (both stripped), when ``text`` ends with one
    (nested brackets inside it are matched); else None."""
    if not text.endswith(")"):
        return None
    depth = 0
    for at in range(len(text) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(text[at], 0)
        if depth == 0:
            return text[:at].rstrip(), text[at + 1:-1].strip()
    return None


def chinese_first(text: str) -> str:
    """A reason as staff reading Chinese see it: its Chinese first, then its English in brackets when that
    names something from the data the Chinese does not (ids, names, numbers: the Chinese never repeats
    them), ``积分不足（insufficient balance: res1 has 36 points ...）``; the Chinese alone when it says it
    all, and the text as it is when it has no Chinese at its end."""
    parts = chinese_of(text)
    if parts is None:
        return text
    return chinese_then_english(*parts)


def chinese_then_english(english: str, chinese: str) -> str:
    """A message said in English and in Chinese, as staff reading Chinese see it (``chinese_first``): the Chinese,
    then the English in brackets when it names something the Chinese does not."""
    if not english or all(name.strip("'\"").rstrip(".:") in chinese for name in _NAMED.findall(english)):
        return chinese
    return f"{chinese}（{english}）"


#: A line's Chinese at its end, not in brackets: ``Star ratings 2025-Q1 评星定级`` -> ``评星定级``.
_TRAILING_CHINESE = re.compile(r"^(?P<english>.*[A-Za-z].*?)\s+(?P<chinese>[^\x00-\x7f][^A-Za-z]*)$")


def _bracketed(text: str) -> tuple[str, str] | None:
    """``text``'s last bracket when it holds Chinese though it opens on a quoted name or a date, a period, a
    number (``('x' 不存在)``, ``(2025-Q1 尚未结束：...)``), and what is before it: ``(english, chinese)``; else
    None."""
    found = _last_bracket(text)
    if found is None:
        return None
    before, inside = found
    opens = inside[:1] in ("'", '"') or inside[:1].isdigit()
    return (before, inside) if opens and before and has_chinese(inside) and not has_chinese(before) else None


def chinese_first_line(text: str) -> str:
    """A line of a command's output (a title, a note) as staff reading Chinese see it, by ``chinese_first``:
    its Chinese at the end, in brackets, after a space (``Star ratings 2025-Q1 评星定级`` ->
    ``评星定级（Star ratings 2025-Q1）``) or after `` / `` (``not rated / 未参评``), put first; the line as it is when it has no Chinese at its end
    or starts with it already."""
    stripped = text.strip()
    if not stripped or has_chinese(stripped[0]):
        return text
    indent = text[: len(text) - len(text.lstrip())]
    if chinese_of(stripped) is not None:
        return indent + chinese_first(stripped)
    quoted = _bracketed(stripped)
    if quoted is not None:  # ``unknown member 'x' ('x' 既不在花名册中...)``: its Chinese opens on a quoted name
        return indent + chinese_then_english(*quoted)
    english, slash, chinese = stripped.rpartition(" / ")
    if slash and has_chinese(chinese):  # ``not rated / 未参评``: the Chinese, then the English in brackets
        return f"{indent}{chinese}（{english}）"
    found = _TRAILING_CHINESE.match(stripped)
    if found is None or not has_chinese(found["chinese"][0]):
        return text
    return indent + chinese_first(f"{found['english']} ({found['chinese']})")
