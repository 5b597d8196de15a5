"""Stored assessments and how periods compare.

Each assessment is one document in the store's ``assessment`` collection, keyed
by its period label (``2025-Q1``); assessing a period again replaces it.

A stored assessment that rates a node, or rates or pays a person, that the
store's joining times now say joined after its period began is *outdated*
(``outdated``): it was saved before those times were recorded (a store grown
before joining times, dated since by ``gridcore hierarchy joined``), and it
rates a community for a period before it joined.  It is never shown: ``stored``
gives None for it, ``stored_or_fresh`` and ``history`` the period assessed
afresh (not stored) with a note saying why, until ``gridcore assess --period``
stores the period again.  Nothing else in it is patched: a ladder's caps and a
subsidy pool count the nodes rated together, so only a fresh assessment is exact.
``compare(before, after)`` lists, node by node, who gained or lost stars and
why: the score change and the terms that moved it, each with its rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import attrs
import cattrs

from gridcore.classes import frozen
from gridcore.explain import RuleRef

from .people import member_present
from .policy import exact
from .rating import COLLECTION, Assessment, AssessmentError, assess, cycle_key, present, split_key
from .scoring import Rating, Term, shown

if TYPE_CHECKING:
    from gridcore import Engine

_converter = cattrs.Converter()
# Scores and metric values are exact: stored as "241/3" (documents from before
# that held floats are read by their shortest decimal form).
_converter.register_unstructure_hook(Fraction, str)
_converter.register_structure_hook(
    Fraction, lambda value, _: exact(value) if isinstance(value, (int, float)) else Fraction(str(value))
)


def to_document(assessment: Assessment) -> dict[str, Any]:
    """A plain dict for the store."""
    doc: dict[str, Any] = _converter.unstructure(assessment)
    return doc


def from_document(doc: Mapping[str, Any]) -> Assessment:
    """Read a stored document back; ``AssessmentError`` with the bad path if it is damaged."""
    try:
        return _converter.structure(dict(doc), Assessment)
    except cattrs.BaseValidationError as exc:
        detail = "; ".join(cattrs.transform_error(exc))
        raise AssessmentError(f"stored assessment {doc.get('period', '?')!r} cannot be read: {detail}") from None
    except (TypeError, ValueError, KeyError) as exc:
        detail = str(exc)
        raise AssessmentError(f"stored assessment {doc.get('period', '?')!r} cannot be read: {detail}") from None


def save_assessment(engine: Engine, assessment: Assessment) -> None:
    """Store (or replace) an assessment under its key (the period label, ``@cycle`` for another cycle)."""
    engine.store.put(COLLECTION, assessment.key, to_document(assessment))


def stored(engine: Engine, period: str, cycle: str | None = None) -> Assessment | None:
    """The stored assessment of ``period`` (a label, or ``2025-Q1@quarterly``) in ``cycle``,
    or None if it was never assessed or the stored one is ``outdated`` (``outdated_stored`` says which
    nodes and people make it so)."""
    found = _stored(engine, period, cycle)
    return None if found is None or outdated(engine, found) else found


def stored_or_fresh(engine: Engine, period: str, cycle: str | None = None) -> Assessment:
    """The stored assessment of ``period`` (in ``cycle``), else a fresh one (not saved); a fresh one too, with a
    note saying why, where the stored one is ``outdated``."""
    found = _stored(engine, period, cycle)
    if found is None:
        return assess(engine, period, save=False, cycle=cycle)
    late = outdated(engine, found)
    return found if not late else afresh(engine, found, late)


def history(engine: Engine, cycle: str = "") -> list[Assessment]:
    """Every stored assessment of ``cycle`` ("" for the section's own), ordered by period start; an
    ``outdated`` one is given as its period assessed afresh, not stored, with a note (``OUTDATED``)."""
    found = [a for a in (from_document(doc) for _, doc in engine.store.items(COLLECTION)) if a.cycle == cycle]
    found = [afresh(engine, a, late) if (late := outdated(engine, a)) else a for a in found]
    return sorted(found, key=lambda a: (a.start, a.period))


def outdated(engine: Engine, assessment: Assessment) -> tuple[str, ...]:
    """The nodes ``assessment`` rates, and the people it rates or pays, that the store's joining times say joined
    after its period began (sorted; none for an assessment made with the times the store holds).

    Exactly those an assessment made now leaves out (``rating.present``, ``people.member_present``): one
    stored before the times were recorded (``gridcore hierarchy joined``) rates them for a period before they
    joined.
    """
    community = engine.community
    if not community.nodes_joined and not community.members_joined:
        return ()
    start = datetime.fromisoformat(assessment.start)
    nodes, members = community.hierarchy, community.members

    def gone(node: str) -> bool:
        return node in nodes and not present(engine, node, start)

    def away(member: str) -> bool:
        return member in members and not member_present(engine, member, start)

    found = {r.node for r in assessment.ratings if gone(r.node)}
    found.update(r.node for r in assessment.people if away(r.node))
    found.update(line.member for line in assessment.subsidies if away(line.member) or gone(line.node))
    return tuple(sorted(found))


def outdated_stored(engine: Engine, period: str, cycle: str | None = None) -> tuple[str, ...]:
    """``outdated`` of the stored assessment of ``period`` (in ``cycle``): none when it is not stored."""
    found = _stored(engine, period, cycle)
    return () if found is None else outdated(engine, found)


#: How the note of an assessment given afresh for an outdated stored one begins.
OUTDATED = "the assessment stored for "


def afresh(engine: Engine, old: Assessment, late: tuple[str, ...]) -> Assessment:
    """The period of the outdated stored assessment ``old`` assessed afresh (not stored), with a note naming
    ``late`` (``outdated``), in English and Chinese."""
    fresh = assess(engine, old.key, save=False)
    named = ", ".join(late[:6]) + (f" (and {len(late) - 6} more)" if len(late) > 6 else "")
    again = f"gridcore assess --period {old.period}" + (f" --cycle {old.cycle}" if old.cycle else "")
    note = (f"{OUTDATED}{old.named} rates or pays {named}, who joined after the period began (their joining "
            f"time was recorded after it was stored): it is not shown; this is {old.named} assessed afresh, not "
            f"stored, until {again} stores it again (已保存的 {old.named} 考核结果含本期开始后才加入的 "
            f"{len(late)} 个节点或人员（其加入时间在保存之后补记），不再显示；此处为重新评定的结果，未保存，"
            f"运行 {again} 即重新保存)")
    return attrs.evolve(fresh, notes=(*fresh.notes, note))


def _stored(engine: Engine, period: str, cycle: str | None) -> Assessment | None:
    doc = engine.store.get(COLLECTION, cycle_key(*_key(period, cycle)))
    return None if doc is None else from_document(doc)


def _key(period: str, cycle: str | None) -> tuple[str, str]:
    label, written = split_key(period)
    return label, cycle or written


@frozen
class TermChange:
    """How one term of a score moved between two periods."""

    metric: str
    before: Fraction
    after: Fraction
    rule: RuleRef

    @property
    def delta(self) -> Fraction:
        """Points gained (positive) or lost (negative), exactly."""
        return self.after - self.before


@frozen
class StarChange:
    """One node's stars and score in two periods, and the terms that moved."""

    node: str
    name: str
    level: str
    stars_before: int | None
    stars_after: int | None
    score_before: Fraction | None
    score_after: Fraction | None
    terms: tuple[TermChange, ...]
    why: str

    @property
    def change(self) -> str:
        """``gained``, ``lost``, ``same``, ``new`` or ``gone``."""
        if self.stars_before is None:
            return "new"
        if self.stars_after is None:
            return "gone"
        if self.stars_after > self.stars_before:
            return "gained"
        if self.stars_after < self.stars_before:
            return "lost"
        return "same"


def compare(before: Assessment, after: Assessment) -> list[StarChange]:
    """Every node rated in either period: stars, score, and why they changed."""
    nodes = list(dict.fromkeys([r.node for r in before.ratings] + [r.node for r in after.ratings]))
    return [_change(before.rating(n), after.rating(n)) for n in nodes]


def _change(old: Rating | None, new: Rating | None) -> StarChange:
    some = new or old
    assert some is not None
    terms = _term_changes(old.terms if old else (), new.terms if new else ())
    return StarChange(
        some.node, some.name, some.level,
        old.stars if old else None, new.stars if new else None,
        old.score if old else None, new.score if new else None,
        terms, _why(old, new, terms),
    )  # fmt: skip


def _term_changes(old: tuple[Term, ...], new: tuple[Term, ...]) -> tuple[TermChange, ...]:
    before = {(t.kind, t.metric): t for t in old}
    after = {(t.kind, t.metric): t for t in new}
    out = []
    for key in dict.fromkeys(list(before) + list(after)):
        a, b = before.get(key), after.get(key)
        rule = (b or a).rule  # type: ignore[union-attr]
        change = TermChange(key[1], a.points if a else Fraction(0), b.points if b else Fraction(0), rule)
        if change.delta:
            out.append(change)
    return tuple(sorted(out, key=lambda c: (abs(c.delta) * -1, c.metric)))


def _why(old: Rating | None, new: Rating | None, terms: tuple[TermChange, ...]) -> str:
    if old is None or new is None:
        return "rated in only one of the two periods"
    parts = [f"score {_num(old.score)} -> {_num(new.score)}"]
    parts += [f"{t.metric} {'+' if t.delta > 0 else ''}{_num(t.delta)} ({t.rule})" for t in terms[:3]]
    if new.capped_from and not old.capped_from:
        parts.append(f"held back from {new.capped_from} stars by the cap ({new.cap_rule})")
    elif old.star_rule != new.star_rule:
        parts.append(f"star rule {new.star_rule}")
    return "; ".join(parts)


def _num(value: Fraction) -> str:
    return str(shown(value))
