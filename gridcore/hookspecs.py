"""The plugin contract: every hook gridcore calls, documented.

A plugin is any module or object with functions named like these specs and
decorated with ``gridcore.hookimpl``; it is found through the ``gridcore``
entry-point group (the built-in points, escalation and assessment plugins are
registered exactly that way).  A plugin that needs per-engine state registers an
instance of its own class from ``gridcore_on_open``.

Conventions:

* ``gridcore_register_*`` hooks return a list of things to add; every plugin's
  answer is collected.
* ``gridcore_on_*`` hooks notify; their return value is ignored unless the spec
  says otherwise.
* Hooks marked *first result wins* stop at the first plugin that answers
  something other than ``None``.
* gridcore always calls hooks with keyword arguments, so an implementation may
  accept fewer arguments than the spec lists.  Specs only ever gain arguments.
* An event's local time and date (the community's clock and calendar) are
  ``engine.local_time(event.time)`` and ``engine.local_date(event.time)``:
  exactly ``event.time.astimezone(engine.community.tz)`` and its ``date()``,
  worked out once per time object for the core and every plugin
  (``gridcore.localtime``).  The built-in plugins use them as any plugin does.

``docs/plugins.md`` documents each hook with an example; a test fails if a hook
here is missing there.
"""

from __future__ import annotations

from collections.abc import Hashable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click
    from starlette.routing import BaseRoute

    from .community import Community
    from .engine import Engine
    from .events import Event
    from .explain import Explanation, Outcome
    from .metrics import Metric
    from .onrecord import LeftOnRecord, Proposed
    from .plugin_host import EventKinds
    from .reports import Report
    from .rules import Diagnostic, Ruleset, Section
    from .store import Store

PROJECT = "gridcore"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# ---------------------------------------------------------------------------
# Registration: called when a plugin manager or an engine is set up
# ---------------------------------------------------------------------------


@hookspec
def gridcore_register_event_types() -> list[type[Event]]:  # type: ignore[empty-body]
    """Add event classes to the ones the core defines.

    Called once per engine (and by ``gridcore ingest``) before any event is read,
    so the JSON codec knows every ``kind``.

    Returns a list of frozen attrs subclasses of ``gridcore.events.Event``, each
    with a ``kind`` class variable that no other class uses.  A duplicate kind is
    a ``PluginError``.  Give each its Chinese in class variables: ``title_zh``
    (the kind's name), ``doc_zh`` (its docstring's first paragraph) and
    ``fields_zh`` (its own fields' names; ``Event`` and the rules language name
    the common ones): the service's OpenAPI description shows them.
    """


@hookspec
def gridcore_register_sections() -> list[Section[Any]]:  # type: ignore[empty-body]
    """Add sections to the rules language.

    Called when a ruleset parser is built (once per set of plugins; the parser is
    cached).  Each ``gridcore.rules.Section`` brings its header keywords (English
    and Chinese), a Lark grammar fragment for its items, and the function that
    compiles the checked items into the plugin's policy object.  See
    ``docs/plugins.md`` for the fragment conventions.

    Returns a list of ``Section``; two plugins may not claim the same name.
    """


@hookspec
def gridcore_register_commands() -> list[click.Command]:  # type: ignore[empty-body]
    """Add sub-commands to the ``gridcore`` command line.

    Called once when the CLI starts.  Returns a list of ``click.Command`` (or
    ``click.Group``) objects; each is added under its own name, e.g. a group
    named ``points`` becomes ``gridcore points ...``.  A command that opens a
    store should accept ``--store`` via ``gridcore_app.cli.store_option``.
    """


@hookspec
def gridcore_register_routes() -> list[BaseRoute]:  # type: ignore[empty-body]
    """Add routes to the web service (``gridcore serve``), as commands are added to the CLI.

    Called once in each service process when it starts.  Returns a list of
    Starlette routes (``starlette.routing.Route``, ``Mount``); a path and
    method the service already answers is a ``PluginError`` naming both.
    A handler is ``async def handler(request)`` and reaches the engine kept
    open through ``gridcore_app.service.service_of(request)``: ``await
    service.read(fn)`` runs ``fn(engine)`` on the engine's own thread (engine
    errors become RFC 9457 problem documents), ``await service.member(request)``
    requires a token and says whose.  Mark a handler with
    ``gridcore_app.service.documented(...)`` to list it in the OpenAPI
    description, and give its Chinese there with ``chinese=``: a mapping from
    each English text of the operation (its summary, description, query
    parameters' and body's descriptions) to the Chinese staff read, served
    beside it as ``x-summary-zh`` / ``x-description-zh`` (a text left out
    stays English only).  Use a path under your plugin's name (``/patrols/...``).
    """


@hookspec
def gridcore_register_reports() -> list[Report]:  # type: ignore[empty-body]
    """Add named reports that ``gridcore report NAME`` and ``Engine.report`` can build.

    Returns a list of ``gridcore.reports.Report``.  Report names are global;
    prefix them with the plugin's name (``points.board``).
    """


@hookspec
def gridcore_register_metrics() -> list[Metric]:  # type: ignore[empty-body]
    """Add metrics: numbers about a node's subtree (or one person) over a period.

    Called when an engine first needs its metrics (``Engine.metrics``).  Returns
    a list of ``gridcore.metrics.Metric``; names are global, so use a clear
    domain name (``patrol_coverage``, ``mean_satisfaction``).  A metric with
    ``about=gridcore.metrics.MEMBER`` is computed for a person (its subject is
    their id): what an assessment that rates people weighs.  A metric reads
    only the engine (its events and plugin state), never changes it, and gives
    the same value for the same events whatever order they arrived in.

    The same list is handed to every section's compiler while a ruleset is
    loaded (``load_ruleset(..., metrics=...)``, ``CompileContext.metrics``), so
    a section that names metrics (``assessment``: ``指标 巡查覆盖率``) reads the
    metrics of the plugins enabled in this invocation, ids and Chinese titles.
    """


# ---------------------------------------------------------------------------
# Storage
# ---------------------------------------------------------------------------


@hookspec(firstresult=True)
def gridcore_storage_backend(url: str, create: bool) -> Store | None:
    """Open the store that ``url`` names, if this plugin knows the scheme.

    Called when an engine or a CLI command opens ``--store URL``.  ``url`` is
    either a URL (``sqlite:///path.db``, ``postgresql://...``) or a plain path,
    which means the embedded TinyDB store.  ``create`` is False when the store
    must already exist (read commands, ``Engine.open(create=False)``): then a
    missing store is a ``StoreError`` naming the URL, and nothing is created.

    Return an open object satisfying ``gridcore.store.Store``, or ``None`` when
    the scheme is not yours.  First result wins.
    """


@hookspec(firstresult=True)
def gridcore_load_community(path: Path) -> Community | None:
    """Read the community (hierarchy, roster, places) kept in the files at ``path``.

    Called when ``Engine.open(community=PATH)`` or a command is given a path
    instead of a ``Community``.  The core reads no file format itself: the
    application's YAML/CSV reader (``gridcore_app.rosters``) answers for
    folders holding ``community.yaml``, and a plugin may add another format
    (a workbook, a database export).

    Return a ``gridcore.Community``, or ``None`` when the path is not in a
    format you read.  Raise ``RosterError`` (naming the file and row) when it
    is yours but wrong.  First result wins.
    """


# ---------------------------------------------------------------------------
# Engine lifecycle
# ---------------------------------------------------------------------------


@hookspec
def gridcore_on_open(engine: Engine) -> None:
    """An engine was opened; its store and community are ready, no event replayed yet.

    This is where a stateful plugin attaches its per-engine instance:
    ``engine.attach("myplugin", MyState())``.  The instance's own hook
    implementations then receive every later call, and ``engine.state("myplugin")``
    finds it.  Called again whenever the engine rebuilds its state (an event
    older than those applied, a failed write): ``attach`` replaces the old
    instance, so the state is derived from the stored events again.
    """


@hookspec
def gridcore_check_ruleset(community: Community, ruleset: Ruleset) -> list[Diagnostic] | None:
    """Say what in ``ruleset`` does not fit ``community`` (names only the roster knows).

    A ruleset is checked on its own by ``gridcore check``; some names can only
    be checked against the community it will run on: line departments, roles a
    community declares.  Called by ``Engine.use_ruleset`` before a ruleset is
    put in force, and by ``gridcore check`` when a community is given or lies
    beside the file.  Return ``gridcore.rules.Diagnostic`` objects (file,
    line, column, the rule's text, a did-you-mean and a fix), or
    ``None``/``[]``.  Any error refuses the ruleset; the one in force stays.
    """


@hookspec
def gridcore_check_stored(engine: Engine, proposed: Proposed) -> list[LeftOnRecord] | None:
    """Say which stored events ``proposed.ruleset``, in force from ``proposed.effective`` (for the subtree
    ``proposed.node``, None: the whole tree), would have refused had it been in force when they were recorded.

    Putting it in force does not refuse them: a stored event is a fact, and
    replays judge stored events again only in time order
    (``gridcore_validate_stored``), never against the rules of
    ``gridcore_validate_event``, so they stay on record, judged as they were,
    in every replay, checkpoint and refresh.  Staff are told which they are:
    ``Engine.left_on_record`` asks this hook (``gridcore use`` and ``gridcore
    init --ruleset`` list the answers once the ruleset is in force,
    ``gridcore check --store`` before).  Read the stored events at or after
    ``proposed.effective`` (``engine.events(kinds=..., since=...)``); judge
    only those ``proposed.governs(event.time, event.node)``, by
    ``proposed.policy(SECTION, at=event.time, node=event.node)`` (the
    policy in force with the proposed ruleset added).  Return
    ``gridcore.onrecord.LeftOnRecord`` facts (the event, the reason in
    English and Chinese, ``facts`` for machines), or ``None``/``[]``.  Must
    not change state.  Every plugin's answers are kept (time order).
    """


@hookspec
def gridcore_on_ruleset_loaded(engine: Engine, ruleset: Ruleset, effective: datetime) -> None:
    """A ruleset passed every check and is now in force from ``effective`` on.

    Events at or after ``effective`` are judged by it; earlier ones keep the
    ruleset that was in force at their own time (see ``Engine.ruleset_at``).
    A ruleset put in force for a subtree (``applies to``) judges only the
    events at its nodes (``Engine.rulesets_in_force`` says which subtree).
    """


@hookspec
def gridcore_validate_event(engine: Engine, event: Event) -> list[str] | None:
    """Say why ``event`` must be refused, before anything is changed.

    Called for every new event, after the core's own checks (known node, known
    actor) and in canonical order (time, then id), with the state as it stands
    after every earlier event.  Return a list of reasons (plain sentences for
    the person who sent the event, each the English then its Chinese in
    brackets at the end, as the core's and the built-in plugins' are) or
    ``None`` / ``[]`` to accept.  If any
    plugin gives a reason the event is refused: no plugin sees it and nothing is
    stored.  Must not change state.  A late event is judged with every plugin
    rewound to just before it: the events after it are then only in the store,
    which ``engine.caught_up`` (False then) says; when it is True, nothing
    stored waits to be applied.  The event's local time and date:
    ``engine.local_time(event.time)``, ``engine.local_date(event.time)``.
    """


@hookspec
def gridcore_on_event(engine: Engine, event: Event, replaying: bool) -> None:
    """An accepted event is applied; update your derived state.

    Called once per event id, in canonical order (time, then id), both for new
    events (``replaying=False``) and when an engine rebuilds its state from the
    store (``replaying=True``).  Must be deterministic: the same events under the
    same rulesets must give the same state.  Read the event's local time and
    date with ``engine.local_time(event.time)`` and
    ``engine.local_date(event.time)`` (once per time object for every plugin).

    A stored event was judged when it was recorded; one replayed after an event
    recorded late (dated before it, typed in after it) may be judged otherwise
    on the replayed log.  A plugin that judges stored events again on replay
    need do so only where ``engine.late_before(event)`` is True: False means no
    event recorded late comes before it in time order (every event of a log
    recorded in time order), so it was judged then on exactly the events that
    come before it now (``engine.time_order``: whether and from where the log
    had events recorded late; docs/architecture.md, *Time order*).

    A stored event that a plugin judges refused in time order
    (``gridcore_validate_stored``) is not given here but to
    ``gridcore_on_event_ignored``.
    """


@hookspec
def gridcore_validate_stored(engine: Engine, event: Event) -> list[str] | None:
    """Say why ``event``, a stored event replayed, no longer counts: judged again in time order, it would
    be refused.

    Called just before ``gridcore_on_event`` for each stored event the engine
    applies (``replaying`` True: opening, a rebuild, and the events stored
    after a late one, replayed after it) for which ``engine.late_before(event)``
    is True (else it was judged on exactly the events before it now), with the
    state as it stands after every earlier event.  An event accepted when it was stored may be
    refused on the replayed log: a late event dated before it now comes
    first (a late acceptance makes a stored one "already accepted").  It
    stays in the log, a fact (an event never changes), but if any plugin
    gives a reason, no plugin applies it: each gets
    ``gridcore_on_event_ignored`` instead of ``gridcore_on_event``, so the
    state is the one the same events recorded in time order give (there it
    would have been refused).  Return the reasons (English, then Chinese in
    brackets, as for ``gridcore_validate_event``) or ``None`` / ``[]``.  Must
    not change state.  Restricted by ``gridcore_event_kinds`` as
    ``gridcore_on_event`` is: judge only what you apply.  Not called for new
    events (``gridcore_validate_event`` judged them).

    ``Engine.ignored_stored`` gives these answers as last judged, before a
    late event being judged is applied; a plugin judging a late event
    against the stored events after it (the points plugin's late
    redemption) relies on them.  So if your answer for a stored event can
    change because of an earlier event of another plugin's kind (a
    redemption), refuse such a late event in your own
    ``gridcore_validate_event`` (rewound to just before it, read the stored
    events after it and ask your rule of each with it counted): the engine
    does not judge that dependence for you (docs/plugins.md,
    *gridcore_on_event_ignored*, "Its limit").  The built-ins have none.
    """


@hookspec
def gridcore_on_event_ignored(engine: Engine, event: Event, reasons: list[str]) -> None:
    """A stored event is replayed but no longer counts: ``reasons`` are the answers of
    ``gridcore_validate_stored`` (every plugin's that gave one).

    Called instead of ``gridcore_on_event``, in the event's place in canonical
    order, on every plugin that would have been given it (restricted by
    ``gridcore_event_kinds`` as ``gridcore_on_event`` is).  Change nothing the
    event would have changed: the same events recorded in time order refuse
    it.  A plugin may note it where it shows its history (the escalation
    plugin keeps it in the case's timeline as ``step ignored``, explained).
    """


@hookspec
def gridcore_on_tick(engine: Engine, now: datetime) -> list[Event] | None:
    """Time has reached ``now``: return the events that are due by then.

    Called by ``Engine.tick(now)`` and, automatically, before each event is
    applied (with ``now`` set to that event's time), so results never depend on
    how often ``tick`` is called.  Return derived events (actor ``"system"``)
    whose times are at or before ``now`` and whose ids are deterministic (the
    same due thing always gets the same id); the engine validates and applies
    them like any other event, then asks again until nothing more is due.

    A plugin that implements ``gridcore_next_due`` beside it is asked only
    when something of its can fall due by ``now``; one that does not is asked
    before every event.
    """


@hookspec
def gridcore_next_due(engine: Engine) -> datetime | None:
    """The earliest time at which your ``gridcore_on_tick`` can do anything, or ``None``: nothing can.

    Implemented by the object whose ``gridcore_on_tick`` it speaks for (the
    state a plugin attaches), beside it.  The engine then skips that
    ``gridcore_on_tick`` while the time it ticks to is before your answer
    (``now < answer``), and asks again after anything that may change your
    state: your ``gridcore_on_event`` or ``gridcore_on_event_ignored`` (the
    events ``gridcore_event_kinds`` routes to you), your ``gridcore_on_tick``
    itself, your ``gridcore_restore_state``, any plugin's
    ``gridcore_on_ruleset_loaded``, and any registration.  So the answer must
    depend only on what those hooks build, and it is a promise: before it
    (and for ever, with ``None``), ``gridcore_on_tick`` would return no event
    and change nothing a hook answers, so the results are the same with or
    without it, only cheaper.  An earlier answer is always safe (a heap's
    top, stale or not); a later one loses derived events.  An aware
    ``datetime``; must not change state.  A plugin that does not implement
    this hook has its ``gridcore_on_tick`` called before every event, as
    before.
    """


@hookspec
def gridcore_event_kinds() -> EventKinds | None:
    """Say which events your ``gridcore_validate_event`` and ``gridcore_on_event`` need to see.

    Implemented by the object whose per-event hooks it restricts (the state a
    plugin attaches, or the module), beside them.  Return a
    ``gridcore.EventKinds``: for each of the two hooks, ``None`` (every event)
    or the event kinds (``"patrol_logged"``) and event classes (that class and
    its subclasses) it is called for; the engine passes every other event by
    that implementation.  A plugin that does not implement this hook, or
    answers ``None``, sees every event, as before.

    Asked when the first event reaches the plugins and again after any plugin
    is registered or unregistered; the answer must not depend on the events or
    the state.  It is a promise: an event left out must be one the hook would
    have accepted without a reason (``gridcore_validate_event``) and that
    would not have changed your state (``gridcore_on_event``), so the results
    are the same with or without it, only cheaper.  A state that notes every
    event's time (expiries, days) keeps ``on_event=None``.
    ``gridcore_on_tick`` is always called (but see ``gridcore_next_due``).
    """


@hookspec
def gridcore_on_flush(engine: Engine) -> None:
    """The engine is about to store a batch of events: store now what your state hands the store between
    checkpoints, so that it does not wait in memory for the next one.

    Implemented by the state object a plugin attaches (``Engine.attach``).
    Called before each batch of accepted or derived events is written (about
    every thousand events of an ingest, and at the end of each ``record`` or
    tick that stored something), after the batch sent before it is stored,
    and every ``Engine.replay_flush_every`` events a replay applies (opening's
    tail, a rebuild: it writes no batch); never on a read-only engine.  What a plugin writes here must be written
    under a key that names its content (``gridcore.parts``: a sealed part of
    an archive, ``PartArchive.store_sealed``), so that writing it earlier
    than the checkpoint that names it changes no result: a process that
    stops before that checkpoint leaves documents no checkpoint names, which
    are never read as anything else (``docs/architecture.md``).  Must not
    change what any hook answers, nor the checkpoint document the plugin
    gives next (only when its parts reach the store).  A plugin waiting for
    its checkpoint (``gridcore_restore_state`` not yet called) has nothing
    to store.
    """


@hookspec
def gridcore_on_close(engine: Engine) -> None:
    """The engine is closing; release anything you hold.  The store is still open."""


@hookspec
def gridcore_period_stamp(engine: Engine, node: str, start: datetime, end: datetime) -> Hashable | None:
    """A stamp of your state as a read of ``node``'s subtree over ``[start, end)`` sees it.

    Implemented by the state object a plugin attaches, beside its
    ``gridcore_on_event``.  The answer must change whenever your state changes
    in a way that may change what anything reading it (your metrics, reports,
    explanations, another plugin reading your state) answers for that node and
    period; it may stay the same while events of other periods arrive.  That
    lets a reader keep what it computed for a period that has ended (the
    service keeps roll-ups so, ``Cache-Status``) while the day's events come
    in.  Use the ``gridcore.stamps.PeriodStamps`` the engine keeps for your
    plugin (``engine.period_stamps(NAME)``: the same for every state it builds
    of it, so a state rebuilt from a checkpoint keeps the stamps of the periods
    nothing replayed reaches; one made anew with each state is right too, every
    stamp then changing at every rebuild): ``note(when)`` whenever the state
    changes, ``when`` the earliest time the change reaches (an event's time; an
    incident's report time for a step of it, if a period's reads look at how
    its incidents ended; the previous event's time for what is swept lazily
    when the next one comes), and answer ``stamps.stamp(end)``.  An answer may ignore ``node`` (the whole
    community) and may be conservative; it is never stored, so it need only
    differ within this process.  Where your reads of a period look beyond
    it (the assessment shows a week with the stars of the quarter it falls
    in, rated on every plugin's metrics), answer every plugin's stamp over
    the wider span: ``engine.period_stamp(node, start, wider_end)``.

    ``Engine.period_stamp`` gathers every answer.  A plugin that follows the
    events (``gridcore_on_event``, ``gridcore_on_tick`` or
    ``gridcore_on_ruleset_loaded``) without this hook, or answers ``None``,
    makes the whole answer ``None``: a reader then keys by the whole log's
    position, as if every event could change every period.  The rulesets in
    force, the roster and the clock are the reader's to add to its key.
    Must not change state.
    """


# ---------------------------------------------------------------------------
# Checkpoints: saving and restoring derived state
# ---------------------------------------------------------------------------


@hookspec
def gridcore_save_state(engine: Engine) -> dict[str, Any] | None:
    """Describe your per-engine state as a JSON document, so opening need not replay the store.

    Implemented by the state object a plugin attaches (``Engine.attach``),
    beside its ``gridcore_on_event``.  After an ingest (and every few thousand
    events of a long one) the engine stores a *checkpoint*: the log position
    it reflects, the rulesets in force, every plugin's name and version, and
    each stateful plugin's document from this hook.  A later ``Engine.open``
    restores the newest checkpoint that still fits and replays only the
    events stored after it.

    Return a dict of JSON values only (str, int, float, bool, None, lists and
    dicts with str keys): build it with cattrs (``unstructure``) or by hand,
    never with pickle; exact numbers as text (``str(Fraction)``), times as ISO
    8601 with their offset.  ``gridcore_restore_state`` given this document
    must rebuild a state equal, for every later hook call, to the one that
    produced it.  Return ``None`` when the state cannot be saved now: the
    plugin is then replayed from the store on open, as a plugin without these
    hooks is.  Must not change state.

    Set a ``STATE_VERSION`` (an int or str attribute of the state object or
    its class) and change it whenever the document's shape or meaning
    changes: checkpoints written under another ``STATE_VERSION`` (or another
    version of the plugin's distribution, or another set of plugins) are
    ignored and rebuilt, never misread.
    """


@hookspec
def gridcore_restore_state(engine: Engine, document: dict[str, Any]) -> None:
    """Load the document ``gridcore_save_state`` gave, replacing the state built so far.

    Called on the fresh state attached by ``gridcore_on_open``, before any
    event is applied to it, with the rulesets and community of the checkpoint
    already in place (``engine.policy``, ``engine.community`` work).  It is
    called when the plugin is first used, not when the store is opened: before
    the first event, tick or ruleset reaches the plugins, before
    ``gridcore_explain`` and ``gridcore_collect_outcomes``, when
    ``engine.state(name)`` is asked for your state, and before a report or
    metric that your *state object* registered is built.  So a read command
    that shows another plugin's state never reads yours; reach your state
    only through ``engine.state(name)`` (never keep a reference to it
    elsewhere, e.g. in a module-level variable).  Events
    after the checkpoint then reach ``gridcore_on_event`` as usual.  A plugin
    that implements ``gridcore_save_state`` must implement this too.  Raise
    ``ValueError`` (or any error) for a document you cannot read: the engine
    then ignores the checkpoint and replays the store.
    """


# ---------------------------------------------------------------------------
# Decisions: explanations and outcomes
# ---------------------------------------------------------------------------


@hookspec(firstresult=True)
def gridcore_explain(engine: Engine, decision: str, lang: str) -> Explanation | None:
    """Explain one decision by its id (a ledger entry, an escalation, a rating).

    Return a ``gridcore.explain.Explanation`` naming the rule (``file:line``) and
    the inputs that produced the decision, or ``None`` if the id is not yours.
    ``lang`` is the language staff read it in (``en`` or ``zh``): for ``zh`` head
    the inputs with their Chinese (``explanation.labelled(YOUR_LABELS)``); an
    implementation that does not take ``lang`` is asked all the same.
    First result wins.
    """


@hookspec
def gridcore_collect_outcomes(engine: Engine) -> list[Outcome]:  # type: ignore[empty-body]
    """List the outcomes a what-if replay compares (``gridcore diff``).

    Called after every event has been applied.  Return one
    ``gridcore.explain.Outcome`` per subject you decide about (a member's
    balance, an incident's final level, a grid's stars), each with the rules
    that produced it.  Two replays are compared subject by subject.
    Name them (``Outcome.plugin``) by your plugin's name, the one it is
    registered under and its state attached under: ``engine.outcomes(plugins=[...])``
    asks only the hooks of plugins so named (``gridcore test`` those a case expects of).
    """


