"""The one error type authors see: ``RulesError``, a list of ``Diagnostic``.

A diagnostic says where (file:line:col), shows the source line with a caret,
says what was expected in the author's words and suggests a fix.  Messages
exist in English and Chinese; ``render(lang="zh")`` picks Chinese.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from ..classes import frozen
from ..errors import GridcoreError

ERROR = "error"
WARNING = "warning"

_LABELS = {
    "en": {ERROR: "error", WARNING: "warning", "expected": "expected", "hint": "did you mean",
           "fix": "fix"},
    "zh": {ERROR: "错误", WARNING: "警告", "expected": "应为", "hint": "是不是想写",
           "fix": "修改"},
}


def default_lang() -> str:
    """``zh`` when the locale (LC_ALL, LC_MESSAGES, LANG) is Chinese, else ``en``."""
    for var in ("GRIDCORE_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


@frozen
class Diagnostic:
    """One problem in a ruleset, with everything needed to show and fix it.

    ``message``/``message_zh`` say what is wrong; ``expected`` (and
    ``expected_zh``) what would be right there; ``suggestion`` a replacement
    text (a did-you-mean); ``fix`` (and ``fix_zh``) a sentence saying what to
    change.  ``line`` and ``column`` are 1-based; 0 means "no position".
    ``code`` names the kind of problem (gridcore/rules/codes.py lists every
    code and its fix; empty means "recognised from the message").
    """

    message: str
    file: str = ""
    line: int = 0
    column: int = 0
    source_line: str = ""
    message_zh: str = ""
    expected: str = ""
    expected_zh: str = ""
    suggestion: str = ""
    fix: str = ""
    fix_zh: str = ""
    severity: str = ERROR
    width: int = 1
    code: str = ""

    @property
    def is_error(self) -> bool:
        """True for errors, False for warnings."""
        return self.severity == ERROR

    def location(self) -> str:
        """``file:line:col`` (or as much of it as is known)."""
        parts = [self.file or "<ruleset>"]
        if self.line:
            parts.append(str(self.line))
            if self.column:
                parts.append(str(self.column))
        return ":".join(parts)

    def render(self, lang: str = "en") -> str:
        """The full readable report: location, message, source line, caret, hints."""
        zh = lang == "zh"
        labels = _LABELS["zh" if zh else "en"]
        message = (self.message_zh or self.message) if zh else self.message
        out = [f"{self.location()}: {labels[self.severity]}: {message}"]
        if self.source_line and self.line:
            text = self.source_line.rstrip("\n")
            out.append(f"    {text}")
            out.append("    " + _caret_padding(text, self.column) + "^" * max(1, _display_width(
                text[self.column - 1:self.column - 1 + max(1, self.width)])))
        expected = (self.expected_zh or self.expected) if zh else self.expected
        if expected:
            out.append(f"  {labels['expected']}: {expected}")
        if self.suggestion:
            out.append(f"  {labels['hint']}: {self.suggestion}")
        fix = (self.fix_zh or self.fix) if zh else self.fix
        if fix:
            out.append(f"  {labels['fix']}: {fix}")
        return "\n".join(out)


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _caret_padding(text: str, column: int) -> str:
    """Spaces (and tabs, copied) that put a caret under ``column`` even with CJK text."""
    pad = []
    for ch in text[: max(0, column - 1)]:
        if ch == "\t":
            pad.append("\t")
        else:
            pad.append(" " * _display_width(ch))
    return "".join(pad)


class RulesError(GridcoreError):
    """A ruleset cannot be used: every problem found, each with its position.

    ``diagnostics`` holds every error (and warning) found in one pass, not only
    the first.  ``str(error)`` is the full English report; ``render("zh")``
    the Chinese one.
    """

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        super().__init__(self.render())

    def __reduce__(self) -> tuple[Any, ...]:
        # rebuilt from its diagnostics when it crosses to another process (a worker's error
        # pickled for its parent), not from the rendered text ``args`` holds
        return (type(self), (self.diagnostics,), self.__dict__)

    @classmethod
    def simple(cls, message: str, message_zh: str = "") -> RulesError:
        """An error with no position (a missing file, mismatched levels)."""
        return cls([Diagnostic(message=message, message_zh=message_zh)])

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        """Only the diagnostics that are errors (not warnings)."""
        return tuple(d for d in self.diagnostics if d.is_error)

    def render(self, lang: str = "en") -> str:
        """Every diagnostic, in order, then a count."""
        parts = [d.render(lang) for d in self.diagnostics]
        count = len(self.errors)
        if lang == "zh":
            parts.append(f"共 {count} 个错误")
        else:
            parts.append(f"{count} error{'s' if count != 1 else ''}")
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.render()


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Diagnostics by file, line, column (position-less ones first), duplicates dropped.

    The same message several times on one line (one mistake repeated along a
    star ladder) is folded into its first occurrence, which says how many
    times it was found: one construct, one message.
    """
    seen: set[tuple[str, int, int, str]] = set()
    out = []
    for d in sorted(diagnostics, key=lambda d: (d.file, d.line, d.column)):
        key = (d.file, d.line, d.column, d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return fold_repeats(out)


def fold_repeats(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    """Diagnostics with each message repeated on one line folded into its first occurrence."""
    counts: dict[tuple[str, int, str], int] = {}
    for d in diagnostics:
        if d.line:
            key = (d.file, d.line, d.message)
            counts[key] = counts.get(key, 0) + 1
    out = []
    done: set[tuple[str, int, str]] = set()
    for d in diagnostics:
        key = (d.file, d.line, d.message)
        n = counts.get(key, 1) if d.line else 1
        if n == 1:
            out.append(d)
        elif key not in done:
            done.add(key)
            out.append(attrs.evolve(
                d, message=f"{d.message} ({n} times on this line, the first shown)",
                message_zh=f"{d.message_zh or d.message}（本行共 {n} 处，只标出第一处）"))
    return out
