"""The fix offered for a star ladder out of order or without ``otherwise``.

A fix is only worth printing if writing it in makes ``check`` pass, so the fix
is the whole ladder written out again from the author's own text (their words,
their language): steps from most to fewest stars, steps giving the same stars
joined with ``or`` (``或``), and a last ``otherwise`` (``否则``) below every
step.  A missing ``otherwise`` gets one star fewer than the lowest step; a
lowest step of 0 stars becomes the ``otherwise`` itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

#: The source text of anything with a position (``CompileContext.text``).
Text = Callable[[Any], str]


def ordered_ladder(ladder: Any, stars: Sequence[int], otherwise: int | None, text: Text) -> str:
    """The ladder rewritten so that it passes: ``stars`` are the steps' stars, in order.

    ``otherwise`` is the ``otherwise`` step's stars, or None when it is missing.
    Returns '' when the source text cannot be found (nothing to rewrite from).
    """
    steps = list(zip(stars, ladder.steps))
    written = [text(step) for _, step in steps]
    if not steps or not all(written):
        return ""
    english = written[0].startswith(text(ladder.steps[0].value))
    comma, word_or, word_else = (", ", "or", "otherwise") if english else ("，", "或", "否则")
    if ladder.otherwise is not None:
        word_else = _else_word(text(ladder), written[-1], text(ladder.otherwise)) or word_else
    groups: dict[int, list[Any]] = {}
    for count, step in sorted(steps, key=lambda pair: -pair[0]):
        groups.setdefault(count, []).append(step)
    if otherwise in groups and len(groups) > 1:  # a step giving what 'otherwise' gives says nothing more
        groups.pop(otherwise)
    lowest = min(groups)
    if otherwise is None or otherwise >= lowest:
        if lowest > 0:
            otherwise = lowest - 1
        elif len(groups) > 1:  # nothing is below 0 stars: the 0-star step becomes the 'otherwise'
            groups.pop(0)
            otherwise = 0
        else:  # every step gives 0: they give 1, the rest 0
            otherwise = 0
    assert otherwise is not None
    parts = [_joined(group, word_or, text, english, count)
             for count, group in sorted(groups.items(), key=lambda kv: -kv[0])]
    parts.append(f"{word_else} {otherwise}")
    return comma.join(parts)


def _joined(group: list[Any], word_or: str, text: Text, english: bool, count: int) -> str:
    """One step, or several giving the same stars as one step with their conditions or'ed."""
    first = text(group[0])
    if len(group) > 1:
        condition = f" {word_or} ".join(f"({text(step.condition)})" for step in group)
        first = first.replace(text(group[0].condition), condition, 1)
    if count == 0:  # only when every step gave 0 stars
        value = text(group[0].value)
        first = f"1{first[len(value):]}" if english else f"{first[:len(first) - len(value)]}1"
    return first


def _else_word(ladder_text: str, last_step: str, otherwise_value: str) -> str:
    """The author's own word for 'otherwise' (``otherwise``, ``else``, ``否则``, ``其他``)."""
    tail = ladder_text[ladder_text.rfind(last_step) + len(last_step):] if last_step in ladder_text else ""
    tail = tail.strip(" ,，、\t")
    if tail.endswith(otherwise_value):
        tail = tail[: len(tail) - len(otherwise_value)].strip()
    return tail
