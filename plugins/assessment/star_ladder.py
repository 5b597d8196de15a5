"""The fix offered for a star ladder out of order or without ``otherwise``, and its gaps.

A fix is only worth printing if writing it in makes ``check`` pass, so the fix
is the whole ladder written out again from the author's own text (their words,
their language): steps from most to fewest stars, steps giving the same stars
joined with ``or`` (``或``), and a last ``otherwise`` (``否则``) below every
step.  A missing ``otherwise`` gets one star fewer than the lowest step; a
lowest step of 0 stars becomes the ``otherwise`` itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

from gridcore.classes import frozen

from .policy import SCORE, AllOf, Compare, StarLevel, condition_subjects, exact

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


# ------------------------------------------------------------------ gaps


@frozen
class Piece:
    """A range of scores: ``low`` to ``high`` (None: unbounded), each end in or out."""

    low: Fraction | None
    low_in: bool
    high: Fraction | None
    high_in: bool

    def inside(self) -> Fraction:
        """A score inside the range."""
        if self.low is not None and self.low == self.high:
            return self.low
        if self.low is None:
            assert self.high is not None
            return self.high - 1
        if self.high is None:
            return self.low + 1
        return (self.low + self.high) / 2

    def describe(self, word: str = "score") -> str:
        """``85 <= score < 90``, ``score = 90``, ``score >= 95``."""
        if self.low is not None and self.low == self.high:
            return f"{word} = {_show(self.low)}"
        left = f"{_show(self.low)} {'<=' if self.low_in else '<'} " if self.low is not None else ""
        right = f" {'<=' if self.high_in else '<'} {_show(self.high)}" if self.high is not None else ""
        if not left:
            return f"{word}{right}"
        if not right:
            return f"{word} {'>=' if self.low_in else '>'} {_show(self.low)}"
        return f"{left}{word}{right}"


@frozen
class Gap:
    """Scores (``piece``) that get fewer stars than lower scores (``below``) do.

    ``stars`` is what the gap gets (from ``step``, or the ``otherwise`` when
    None); ``more`` what ``below`` gets, from the step ``giver`` (an index
    into the ladder's steps).
    """

    piece: Piece
    stars: int
    step: int | None
    below: Piece
    more: int
    giver: int


def star_gap(levels: Sequence[StarLevel], otherwise: int) -> Gap | None:
    """The first range of scores that gets fewer stars than a lower range, or None.

    Only steps that read the score alone count (a step that also asks for
    ``no unresolved_serious_incidents`` may not apply): walking the scores
    upward, the stars they get must never go down.  Each range between two
    numbers the ladder names, and each such number itself, is looked at
    once, exactly (fractions).
    """
    scored = [(i, level) for i, level in enumerate(levels)
              if level.condition is not None and condition_subjects(level.condition) == {SCORE}]
    marks = sorted({exact(c.number) for _, level in scored for c in _compares(level.condition)})
    if not marks:
        return None
    pieces = [Piece(None, False, marks[0], False)]
    for i, mark in enumerate(marks):
        pieces.append(Piece(mark, True, mark, True))
        after = marks[i + 1] if i + 1 < len(marks) else None
        pieces.append(Piece(mark, False, after, False))

    def stars_of(piece: Piece) -> tuple[int, int | None]:
        probe = piece.inside()
        for i, level in scored:
            assert level.condition is not None
            if level.condition.holds({SCORE: probe}):
                return level.stars, i
        return otherwise, None

    best: tuple[int, Piece, int] | None = None  # most stars so far, where, which step
    for n, piece in enumerate(pieces):
        got, step = stars_of(piece)
        if best is not None and got < best[0]:
            end = n
            while end + 1 < len(pieces) and stars_of(pieces[end + 1]) == (got, step):
                end += 1
            last = pieces[end]
            return Gap(Piece(piece.low, piece.low_in, last.high, last.high_in), got, step,
                       best[1], best[0], best[2])
        if step is not None and (best is None or got > best[0]):
            start = n
            while start > 0 and stars_of(pieces[start - 1]) == (got, step):
                start -= 1
            first = pieces[start]
            best = (got, Piece(first.low, first.low_in, piece.high, piece.high_in), step)
        elif best is not None and got == best[0] and step == best[2]:
            best = (got, Piece(best[1].low, best[1].low_in, piece.high, piece.high_in), step)
    return None


def lower_bound_only(level: StarLevel) -> str:
    """``score >= 80`` for a band ``score >= 80 and score < 85`` (its lower bound), else ''."""
    condition = level.condition
    if not isinstance(condition, AllOf):
        return ""
    lows = [c for c in condition.parts if isinstance(c, Compare) and c.subject == SCORE and c.op in (">=", ">")]
    highs = [c for c in condition.parts if isinstance(c, Compare) and c.subject == SCORE and c.op in ("<", "<=")]
    if len(lows) != 1 or not highs or len(lows) + len(highs) != len(condition.parts):
        return ""
    return f"{lows[0].op} {_show(exact(lows[0].number))}"


def _compares(condition: Any) -> list[Compare]:
    if isinstance(condition, Compare):
        return [condition]
    parts = getattr(condition, "parts", None)
    if parts is not None:
        return [c for part in parts for c in _compares(part)]
    part = getattr(condition, "part", None)
    return _compares(part) if part is not None else []


def _show(value: Fraction | None) -> str:
    if value is None:
        return ""
    return str(value.numerator) if value.denominator == 1 else f"{float(value):g}"
