"""Why a decision came out the way it did.

Every decision a plugin makes (a points entry, an escalation, a star rating)
can be explained by the rule that decided (``file:line`` and its text) and the
inputs it saw.  ``Outcome`` is what a what-if replay compares; its ``OutcomeKind``
says what sort of result it is (its title and unit), so a comparison can list
every plugin's outcomes without knowing any plugin.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from attrs import evolve, field

from .classes import frozen
from .errors import chinese_first, chinese_first_line, chinese_of
from .roster import ROLES


@frozen
class RuleRef:
    """Where a rule is written: file, line, column, and the rule's own text.

    ``file`` is where the ruleset was read from (a path, for tools that open
    it); what is shown (``str(ref)``, ``name``) is the file's name alone, as
    a ruleset chain names its parents (``yinquan.rules:22``): an answer never
    shows a folder of the machine that loaded the ruleset.
    """

    file: str
    line: int
    column: int = 1
    text: str = ""

    @property
    def name(self) -> str:
        """The file's name without its folder (``/srv/rules/yinquan.rules`` -> ``yinquan.rules``)."""
        return _file_name(self.file)

    def __str__(self) -> str:
        return f"{self.name}:{self.line}"


@functools.lru_cache(maxsize=1024)
def _file_name(file: str) -> str:
    # A rule's reference is shown with every decision it takes: a ruleset has a few files.
    return PurePath(file).name or file


#: The Chinese of the inputs explanations of every plugin share (who, where, when, which event).
INPUTS_ZH: Mapping[str, str] = {
    "member": "成员", "node": "节点", "time": "时间", "event": "记录编号", "actor": "操作人", "rule": "规则",
    "ruleset": "规则集", "reason": "原因", "level": "层级", "status": "状态", "condition": "条件",
}  # fmt: skip


#: A yes-or-no input (``member.party_member = True``) as staff read it in Chinese.
YES_NO_ZH: Mapping[str, str] = {"True": "是", "False": "否"}


def said_in_chinese(value: Any) -> Any:
    """An input's value as staff read it in Chinese: yes or no as ``是``/``否``, a text carrying its Chinese in
    brackets Chinese first (``on time (按时完成)`` -> ``按时完成``; ``chinese_first``); any other as it is (an id,
    a number, a time)."""
    if isinstance(value, bool) or (isinstance(value, str) and value in YES_NO_ZH):
        return YES_NO_ZH[str(value)]
    if isinstance(value, str) and chinese_of(value) is not None:
        return chinese_first(value)
    return value


@frozen
class Explanation:
    """One decision, the rule(s) behind it and the facts they were applied to."""

    decision: str
    summary: str
    rules: tuple[RuleRef, ...] = ()
    inputs: Mapping[str, Any] = field(factory=dict)
    result: Any = None

    def labelled(self, labels: Mapping[str, str]) -> Explanation:
        """This explanation as staff read it in Chinese: each input headed by its Chinese, its key after it in
        brackets (``成员（member）``), or, when the Chinese is of the key's first word, in its place (``指标
        patrols``; a role's: ``网格长（g1）`` for ``grid_leader at g1``). ``labels`` (a plugin's own) and
        ``INPUTS_ZH`` (the inputs every plugin shares) give the Chinese; a key with none stays as it is. Each
        value is said in Chinese where it has a Chinese (``said_in_chinese``: ``是``, ``按时完成``). Only what is
        shown changes: the stored explanation keeps its keys and values."""
        def label(key: str) -> str:
            zh = labels.get(key) or INPUTS_ZH.get(key)
            if zh:
                return f"{zh}（{key}）"
            first, _, rest = key.partition(" ")
            zh = labels.get(first) or INPUTS_ZH.get(first) or ROLES.get(first)  # (a subsidy's ``grid_leader at g1``)
            if not zh:
                return key
            return f"{zh}（{rest[3:]}）" if rest.startswith("at ") else f"{zh} {rest}".rstrip()

        return evolve(self, inputs={label(key): said_in_chinese(value) for key, value in self.inputs.items()})

    def render(self, lang: str = "en") -> str:
        """A readable, multi-line account for ``gridcore explain``; each line's label in English
        and Chinese (``result 结果:``, ``rule 规则:``, ``input 输入:``), in Chinese alone for ``lang="zh"``
        (``结果：``, and the summary Chinese first by ``chinese_first_line``)."""
        zh = lang == "zh"
        result, rule_label, input_label = ("结果", "规则", "输入") if zh else ("result 结果", "rule 规则", "input 输入")
        colon = "：" if zh else ": "
        summary = self.summary if not zh else chinese_first(self.summary) if chinese_of(self.summary) \
            else chinese_first_line(self.summary)
        lines = [f"{self.decision}: {summary}"]
        if self.result is not None:
            lines.append(f"  {result}{colon}{self.result}")
        for rule in self.rules:
            text = f"  {rule.text.strip()}" if rule.text else ""
            lines.append(f"  {rule_label}{colon}{rule}{text}")
        for key in sorted(self.inputs):
            lines.append(f"  {input_label}{colon}{key} = {self.inputs[key]}")
        return "\n".join(lines)


@frozen
class OutcomeKind:
    """What sort of result an outcome is: ``name`` (``points``), a ``title`` for a list of
    changes (``Members whose points change``) and the ``unit`` its values are in (may be empty);
    ``unit_zh``, the unit in Chinese (``分``), what staff reading Chinese see (``gridcore --lang zh diff``:
    ``净变化 +2711 分``; empty: the ``unit`` as it is).

    A plugin declares one per sort of subject it decides about; ``gridcore diff``
    groups the changes by kind, in the order the kinds first appear.
    """

    name: str
    title: str
    unit: str = ""
    unit_zh: str = ""


@frozen
class Outcome:
    """A result a what-if replay compares: ``(plugin, subject) -> value``.

    ``subject`` names what the value is about; a subject written
    ``member:<id>:...`` or ``node:<id>:...`` is shown with that member's or
    node's name.  ``kind`` groups it with outcomes of the same sort (without
    one, it is listed under its plugin's name).
    """

    plugin: str
    subject: str
    value: Any
    rules: tuple[RuleRef, ...] = ()
    detail: str = ""
    kind: OutcomeKind | None = None

    @property
    def sort(self) -> OutcomeKind:
        """The outcome's kind, or one named after its plugin when it has none."""
        return self.kind or OutcomeKind(self.plugin, f"Outcomes of {self.plugin} that change")
