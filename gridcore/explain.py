"""Why a decision came out the way it did.

Every decision a plugin makes (a points entry, an escalation, a star rating)
can be explained by the rule that decided (``file:line`` and its text) and the
inputs it saw.  ``Outcome`` is what a what-if replay compares.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import field, frozen


@frozen
class RuleRef:
    """Where a rule is written: file, line, column, and the rule's own text."""

    file: str
    line: int
    column: int = 1
    text: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@frozen
class Explanation:
    """One decision, the rule(s) behind it and the facts they were applied to."""

    decision: str
    summary: str
    rules: tuple[RuleRef, ...] = ()
    inputs: Mapping[str, Any] = field(factory=dict)
    result: Any = None

    def render(self) -> str:
        """A readable, multi-line account for ``gridcore explain``."""
        lines = [f"{self.decision}: {self.summary}"]
        if self.result is not None:
            lines.append(f"  result: {self.result}")
        for rule in self.rules:
            text = f"  {rule.text.strip()}" if rule.text else ""
            lines.append(f"  rule {rule}{text}")
        for key in sorted(self.inputs):
            lines.append(f"  input {key} = {self.inputs[key]}")
        return "\n".join(lines)


@frozen
class Outcome:
    """A result a what-if replay compares: ``(plugin, subject) -> value``."""

    plugin: str
    subject: str
    value: Any
    rules: tuple[RuleRef, ...] = ()
    detail: str = ""
