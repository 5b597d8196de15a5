"""What a ruleset put in force back-dated leaves on record: stored events it would have refused.

A ruleset put in force from a time the log already holds events at or after
judges those events again (``Engine.use_ruleset``), but only as far as every
replay does: a stored event is a fact, and what ``gridcore_validate_event``
refused before it is stored is not asked again of it (a replay asks
``gridcore_validate_stored``, which judges time order, not the rules). So a
stored report of a category a back-dated closed list does not hold stays on
record, judged as it was, in every replay, checkpoint and refresh alike.

A street office closing its list from the first of the month wants to be
told which they are: ``Engine.left_on_record`` asks each plugin
(``gridcore_check_stored``) what the ruleset, were it in force from then,
would have refused among the stored events, and gives those ``LeftOnRecord``
facts (``gridcore use`` and ``gridcore init --ruleset`` list them after
putting it in force, ``gridcore check --store`` before).  ``Proposed`` says
which ruleset would judge where and when with it in force, as the engine's
own timeline would.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from .classes import frozen
from .governing import RulesetInForce, RulesetTimeline

if TYPE_CHECKING:
    from .community import Community
    from .rules import Ruleset, Section
    from .rules.sections import P


@frozen
class LeftOnRecord:
    """A stored event a ruleset put in force from ``Proposed.effective`` would have refused: it stays on record,
    judged as it was when it was recorded (a replay does not ask the rules again of a stored event).

    ``facts``: what the plugin names, as ``(name, value)`` pairs (the escalation plugin: ``category``, the
    category written, and ``closest``, the closest listed ones' codes); ``reason`` and ``reason_zh`` say it
    in English and in Chinese.
    """

    event_id: str
    time: datetime
    node: str
    kind: str
    reason: str
    reason_zh: str
    facts: tuple[tuple[str, str], ...] = ()

    def said(self) -> str:
        """One line: English, then the Chinese in brackets."""
        return f"{self.reason} ({self.reason_zh})"


class Proposed:
    """A ruleset about to be put in force (or checked against a store): from when, for which subtree, and which
    ruleset would then judge at a node and a time (the rulesets in force, with it added)."""

    def __init__(self, community: Callable[[], Community], in_force: list[RulesetInForce], ruleset: Ruleset,
                 effective: datetime, node: str | None) -> None:
        self.ruleset = ruleset
        self.effective = effective
        #: the subtree it would govern (None: the whole tree)
        self.node = node
        self._timeline = RulesetTimeline(community)
        for entry in in_force:
            self._timeline.put(entry.effective, entry.ruleset, entry.node)
        self._timeline.put(effective, ruleset, node)

    def governs(self, at: datetime, node: str) -> bool:
        """True if it would be the ruleset judging at ``node`` at ``at`` (``Engine.ruleset_at``, with it in force)."""
        return at >= self.effective and self._timeline.at(at, node) is self.ruleset

    def policy(self, section: Section[P], *, at: datetime, node: str | None = None) -> P | None:
        """A section's policy in force at ``at`` at ``node`` with it in force (``Engine.policy``)."""
        return self._timeline.policy(section, at=at, node=node)


__all__ = ["LeftOnRecord", "Proposed"]
