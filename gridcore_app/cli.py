"""The ``gridcore`` command line.

Core commands live here; plugins add theirs through ``gridcore_register_commands``
and the rules language adds ``check``, ``fmt``, ``show`` and ``schema``.  User
mistakes are printed to stderr with a non-zero exit, never as a traceback.
Whatever a command prints passes through ``printable`` first: a member's name
cannot send terminal control sequences (clear the screen, retitle the window).
"""

from __future__ import annotations

import importlib
import io
import os
import re
import sys
import unicodedata
import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from gridcore.clock import FixedClock, SystemClock
from gridcore.errors import (
    EventRefused,
    GridcoreError,
    PluginError,
    RosterError,
    UnknownMemberError,
    chinese_first,
    chinese_first_line,
    has_chinese,
)
from gridcore.hookspecs import hookimpl
from gridcore.households import Counts
from gridcore.periods import PeriodError, period_label
from gridcore.plugin_host import (
    PLUGINS_ENV,
    Hooks,
    PluginManager,
    PluginWarning,
    get_plugin_manager,
    plugin_selection,
)
from gridcore.reports import printable
from gridcore.store import DEFAULT_STORE, Store

if TYPE_CHECKING:
    from gridcore.community import Community
    from gridcore.engine import Engine
    from gridcore.events import Event
    from gridcore.onrecord import LeftOnRecord
    from gridcore.rules import Ruleset

F = TypeVar("F", bound=Callable[..., Any])

# Keys of the root context's ``meta``: the invocation's plugin manager and the
# options it is built from.
_PM = "gridcore.plugins"
_DISABLED = "gridcore.disabled"
_STRICT = "gridcore.strict_plugins"
_TRACEBACK = "gridcore.traceback"
_LANG = "gridcore.lang"
#: the language given to ``gridcore --lang`` itself (the default of its commands' ``--lang``)
_TOP_LANG = "gridcore.top_lang"
#: set when ``--now latest`` was given: the command acts at the store's newest event time
_NOW_LATEST = "gridcore.now_latest"
#: ``--now`` written without a zone (``2025-03-01``): that wall time in the community's zone, set by ``open_engine``
_NOW_LOCAL = "gridcore.now_local"

#: ``--now`` words meaning "the time of the newest event in the store"
NOW_LATEST = ("latest", "最新")
#: a command that acts at the system clock says so when the store's newest event is older than this
STALE_AFTER = timedelta(days=1)


# ---------------------------------------------------------------- helpers for command authors


def store_option(func: F) -> F:
    """Add ``--store PATH_OR_URL`` (default ``gridcore-store`` or $GRIDCORE_STORE), passed as ``store``."""
    return click.option(
        "--store",
        default=lambda: os.environ.get("GRIDCORE_STORE", DEFAULT_STORE),
        show_default=DEFAULT_STORE,
        metavar="PATH_OR_URL",
        help="The store: a folder (embedded TinyDB), sqlite:///file.db or postgresql://...",
    )(func)


def parse_time(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """Click callback: an ISO 8601 time that must carry a zone."""
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a time like 2025-03-01T09:00+08:00 (时间应写成 2025-03-01T09:00+08:00 这样)") from None
    if when.tzinfo is None:
        example = when.isoformat(timespec="minutes") + "+08:00"
        raise click.BadParameter(f"{value!r} has no time zone; add one, e.g. {example} (时间须带时区)")
    return when


def parse_local_time(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """Click callback of a time staff write for a store's community (``--now``, ``--effective``, ``--at``,
    ``--deadline``): ISO 8601 with a zone, or without one (``2025-03-01``, ``2025-03-01T09:00``,
    ``2025年3月1日``), which is that wall time in the community's time zone.  A time without a zone is passed
    on as a naive ``datetime``; ``in_community_zone`` (``open_engine`` for ``--now``) gives it the zone."""
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        pass
    try:
        label = period_label(value)
    except PeriodError:
        label = ""
    if len(label) == 10:  # a day written as staff write it (2025年3月1日, ２０２５年３月１日): its midnight
        return datetime.fromisoformat(label)
    raise click.BadParameter(f"{value!r} is not a time like 2025-03-01T09:00+08:00 or a day like 2025-03-01 "
                             "(时间应写成 2025-03-01T09:00+08:00 或 2025-03-01 这样)")


def in_community_zone(when: datetime, engine: Engine) -> datetime:
    """``when`` as it is if it has a zone; else that wall time in the community's time zone (a time the
    clocks skip or pass twice there, as a change to summer time does, is refused: write its zone)."""
    return in_zone(when, engine.community.tz)


def in_zone(when: datetime, zone: tzinfo) -> datetime:
    """``when`` as it is if it has a zone; else that wall time in ``zone`` (see ``in_community_zone``)."""
    if when.tzinfo is not None:
        return when
    first, second = when.replace(tzinfo=zone, fold=0), when.replace(tzinfo=zone, fold=1)
    skipped = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != when
    if skipped or first.utcoffset() != second.utcoffset():
        raise click.BadParameter(
            f"{when.isoformat()} {'does not exist' if skipped else 'happens twice'} in the community's time zone "
            f"({zone}): write it with its offset, e.g. {first.isoformat(timespec='minutes')} "
            f"(该时间在社区时区中{'不存在' if skipped else '出现两次'}：请写明时区偏移)")
    return first


def parse_period_written(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Click callback of ``--period``: the period's label however staff wrote it (``2025年3月`` ->
    ``2025-03``: ``gridcore.periods.period_label``), an assessment cycle after ``@`` kept as written."""
    if value is None:
        return None
    written, at, cycle = value.partition("@")
    try:
        return period_label(written) + at + cycle
    except PeriodError as exc:
        raise click.BadParameter(str(exc)) from None


def parse_now(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """Click callback of ``--now``: an ISO 8601 time with a zone, or ``latest`` (最新).

    ``latest`` is passed on as None (as if no ``--now`` was given) and noted in the
    context, so that ``open_engine`` puts the engine's clock at the store's newest event.
    """
    if value is not None and value.strip().lower() in NOW_LATEST:
        ctx.meta[_NOW_LATEST] = True
        return None
    when = parse_local_time(ctx, param, value)
    if when is not None and when.tzinfo is None:  # the community's wall time: open_engine sets the clock to it
        ctx.meta[_NOW_LOCAL] = when
        return None
    return when


def now_option(func: F) -> F:
    """Add ``--now ISO_TIME`` (the time the command acts at), passed as ``now``."""
    return click.option(
        "--now",
        callback=parse_now,
        metavar="TIME",
        help="Act as if it were this time (ISO 8601; without a zone, the community's: 2025-03-01, "
             "2025-03-01T09:00), or 'latest' (最新): the time of the store's newest event. Default: the system clock.",
    )(func)


def _chosen_format(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from gridcore.reports import Format

    return Format(value, ctx.meta.get(_LANG, "en"))


def _chosen_lang(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    # (a command's --lang left at its default, or at $GRIDCORE_LANG's, keeps the language given to
    # ``gridcore --lang``: the flag typed beats the environment)
    defaulted = ctx.get_parameter_source(param.name or "") in (None, click.core.ParameterSource.DEFAULT,
                                                               click.core.ParameterSource.ENVIRONMENT)
    if value is not None and not (defaulted and ctx.meta.get(_LANG) in ("en", "zh")):
        ctx.meta[_LANG] = value


def _chosen_top_lang(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """``gridcore --lang``: the language of what follows, and the default of its commands' ``--lang``."""
    if value in ("en", "zh"):
        ctx.meta[_TOP_LANG] = value
    _chosen_lang(ctx, param, value)


def default_lang(ctx: click.Context | None) -> str:
    """The default of a command's ``--lang`` in effect: ``gridcore --lang``'s, else ``$GRIDCORE_LANG``'s, else en."""
    chosen = ctx.meta.get(_TOP_LANG) if ctx is not None else None
    if chosen in ("en", "zh"):
        return str(chosen)
    env = os.environ.get("GRIDCORE_LANG", "")
    return env if env in ("en", "zh") else "en"


class _LangOption(click.Option):
    """A command's ``--lang``, whose default (the value used, and the one its help shows: ``[默认：zh]``)
    is the one in effect (``default_lang``), not always en."""

    def get_default(self, ctx: click.Context, call: bool = True) -> Any:
        return default_lang(ctx)


def format_option(func: F) -> F:
    """Add ``--format text|csv|json`` and ``--lang en|zh``, passed as ``fmt``: a ``gridcore.reports.Format``,
    the format's name with the language of a CSV's header row (``fmt.lang``; ``$GRIDCORE_LANG``)."""
    func = click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "csv", "json"]),
        default="text",
        show_default=True,
        callback=_chosen_format,
        help="Output format.",
    )(func)
    return click.option(
        "--lang",
        "lang",
        cls=_LangOption,
        type=click.Choice(["en", "zh"]),
        default="en",
        envvar="GRIDCORE_LANG",
        show_default=True,
        is_eager=True,
        expose_value=False,
        callback=_chosen_lang,
        help="A CSV's header row: the column ids (en, what scripts read) or each column's Chinese and id "
             "(zh: 获得积分 earned, for Excel). Default: $GRIDCORE_LANG, else en. (CSV 表头：zh 为中文加编号)",
    )(func)


def plugin_manager() -> PluginManager:
    """The plugin manager of this ``gridcore`` invocation: built once, shared by every command.

    It honours ``-p no:NAME`` / ``--disable NAME``, ``--strict-plugins`` and
    ``$GRIDCORE_PLUGINS``.  Outside a command (a script calling a command
    function) a fresh manager with every installed plugin.
    """
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return get_plugin_manager(only=plugin_selection(os.environ))
    root = ctx.find_root()
    pm: PluginManager | None = root.meta.get(_PM)
    if pm is None:
        pm = root.meta[_PM] = _build_plugin_manager(root)
    return pm


def read_ruleset(path: Path | str, search_path: Sequence[Path] = (),
                 roles: Mapping[str, str] | None = None) -> Ruleset:
    """Read a ruleset with the sections of this invocation's plugins (for command authors).

    ``search_path`` is where ``extends`` also looks; ``roles`` the roles of the roster it runs on
    (``Community.roles``: a role the roster adds is then known, a slip of one refused), as
    ``gridcore check`` compiles it beside its roster (``read_roster_beside``).  Raises ``RulesError``
    (render it with ``.render()``) when the file has errors.
    """
    from gridcore.rules import load_ruleset

    hooks = Hooks(plugin_manager())
    return load_ruleset(path, sections=hooks.register_sections(), metrics=hooks.register_metrics(),
                        search_path=search_path, roles=roles)


def read_roster_beside(path: Path) -> Community | None:
    """The community (roster) beside the ruleset file ``path``, as ``gridcore check`` reads it (a
    community.yaml in its folder); None when there is none or it cannot be read (for command authors:
    the Chinese names of levels and departments to show a file's rules with)."""
    from .checking import community_beside

    folder = community_beside(path)
    if folder is None:
        return None
    try:
        return Hooks(plugin_manager()).load_community(folder)
    except GridcoreError:
        return None


def _build_plugin_manager(root: click.Context) -> PluginManager:
    disabled: list[str] = root.meta.get(_DISABLED, [])
    with warnings.catch_warnings():
        # Failures are printed below, once, without Python's warning decoration.
        warnings.simplefilter("ignore", PluginWarning)
        pm = get_plugin_manager(disabled, only=plugin_selection(os.environ), strict=root.meta.get(_STRICT, False))
    for failure in pm.failures:
        click.echo(f"warning: {failure}\n警告：{failure.message_zh}", err=True)
    return pm


@contextmanager
def open_engine(
    store: str | Store, *, now: datetime | None = None, read_only: bool = False, create: bool = False, **kwargs: Any
) -> Iterator[Engine]:
    """Open an engine on a store's saved community and rulesets; close it afterwards.

    Uses the invocation's plugin manager, and prints what the engine found
    worth a warning when it opened (a stored section no loaded plugin reads).
    The store must exist (a mistyped ``--store`` is an error naming it, and
    nothing is created) unless ``create=True`` (``gridcore init``).  Commands
    that only read pass ``read_only=True``: they never change the store, and
    on a TinyDB store they run beside a writer instead of waiting for it.

    With ``GRIDCORE_OPEN_REPORT=1`` in the environment, how the open built
    the state (``Engine.open_report``: restored from which checkpoint, how much
    it replayed, or why every event was replayed) is printed on stderr when
    the command is done, as ``open report: ...`` (benchmarks check it).
    """
    from gridcore.engine import Engine

    local = now is not None and now.tzinfo is None  # (a time without a zone: the community's, known once open)
    clock = FixedClock(now) if now is not None and not local else SystemClock()
    kwargs.setdefault("plugins", plugin_manager())
    engine = Engine.open(store=store, clock=clock, read_only=read_only, create=create, **kwargs)
    for warning in engine.warnings:
        click.echo(f"warning: {warning}", err=True)
    try:
        if now is None:
            _clock_of_store(engine)
        elif local:
            engine.clock = FixedClock(in_community_zone(now, engine))
    except click.BadParameter:
        engine.close()
        raise
    try:
        yield engine
    finally:
        if os.environ.get(OPEN_REPORT_ENV, "") not in ("", "0"):
            click.echo(f"open report: {engine.open_report}", err=True)
        engine.close()


#: ``GRIDCORE_OPEN_REPORT=1``: every command that opens a store prints ``Engine.open_report`` on stderr
OPEN_REPORT_ENV = "GRIDCORE_OPEN_REPORT"


def now_is_latest(ctx: click.Context | None = None) -> bool:
    """True if the command was given ``--now latest`` (最新): its engine's clock is at the store's newest event."""
    ctx = ctx or click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.meta.get(_NOW_LATEST))


def _clock_of_store(engine: Engine) -> None:
    """``--now latest``: put the engine's clock at the store's newest event; no ``--now`` at all: say
    so when that event is more than ``STALE_AFTER`` before the system clock.

    The system clock stays the default, since it is right for a store that serves a live
    community (one whose feed went quiet must still show its cases growing older and overdue);
    a store of simulated or imported events is read as of its own time with ``--now latest``.
    """
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.meta.get(_NOW_LOCAL) is not None:  # --now 2025-03-01: in the community's zone
        engine.clock = FixedClock(in_community_zone(ctx.meta[_NOW_LOCAL], engine))
        return
    latest = engine.latest_event_time
    if ctx is None or latest is None or not any(p.name == "now" for p in ctx.command.params):
        return
    if ctx.meta.get(_NOW_LATEST):
        engine.clock = FixedClock(latest)
        return
    now = engine.clock.now()
    if now - latest <= STALE_AFTER:
        return
    tz = engine.community.tz
    shown_now, shown_latest = (f"{t.astimezone(tz):%Y-%m-%d %H:%M}" for t in (now, latest))
    days = (now - latest).days
    click.echo(for_staff(f"note: times here are counted to now, {shown_now} ({engine.community.timezone}); the "
                         f"store's newest event is at {shown_latest}, {days} days before. To see the store as of "
                         f"its newest event, add --now latest (注：按现在的时间 {shown_now} 计算；库中最新事件在 "
                         f"{shown_latest}，早 {days} 天；如要按最新事件的时间查看，请加 --now latest)", ctx), err=True)


def refused_said(reasons: Sequence[str], ctx: click.Context | None = None) -> str:
    """Why an event was refused, every reason: ``refused: A (甲); B (乙)``, or when the CLI speaks Chinese
    each reason Chinese first (``gridcore.errors.chinese_first``): ``拒绝：甲（A）；乙（B）``."""
    if help_lang(ctx) == "zh":
        return "拒绝：" + "；".join(chinese_first(reason) for reason in reasons)
    return "refused: " + "; ".join(reasons)


def for_staff(text: str, ctx: click.Context | None = None) -> str:
    """A line of English and its Chinese (``... (中文)``, or ``... 中文``) as the CLI shows it: as it is, or
    Chinese first when the CLI speaks Chinese (``help_lang``; ``gridcore.errors.chinese_first_line``)."""
    return chinese_first_line(text) if help_lang(ctx) == "zh" else text


class LazyCommand(click.Command):
    """A command known by its name and help; its module is imported only when it runs.

    ``gridcore --help`` lists every command without importing what they need
    (the rules language, the engine, a plugin's own modules).  ``target`` is
    ``"module:attribute"`` naming the real ``click.Command``; ``help`` must be
    its docstring's first line (a test checks they agree).
    """

    def __init__(self, name: str, target: str, help: str, chinese: Mapping[str, str] | None = None) -> None:
        super().__init__(name, help=help)
        self.target = target
        self._real: click.Command | None = None
        self.chinese: Mapping[str, str] = chinese or {}
        if chinese:
            _CHINESE[self] = chinese

    def load(self) -> click.Command:
        """The real command (imported on first use)."""
        if self._real is None:
            module, _, attribute = self.target.partition(":")
            found = getattr(importlib.import_module(module), attribute)
            if not isinstance(found, click.Command):
                raise PluginError(f"{self.target} is not a click command")
            self._real = bilingual(found)
            if self.chinese:
                _CHINESE[self._real] = self.chinese
        return self._real

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        # The context (and so the invocation) is the real command's.
        return self.load().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        return self.load().invoke(ctx)


def lazy_command(name: str, target: str, help: str, chinese: Mapping[str, str] | None = None) -> click.Command:
    """For ``gridcore_register_commands``: the command ``target`` (``"module:attribute"``), imported when used.

    A plugin returns ``[lazy_command("patrols", "my_plugin.cli:patrols", "Count the patrols in a store.")]``
    so that listing ``gridcore``'s commands does not import the plugin's command module.  ``chinese``
    maps the English of the help texts of the command, its options and its sub-commands (``help``
    included) to their Chinese, shown instead when the CLI speaks Chinese (``help_lang``).
    """
    return LazyCommand(name, target, help, chinese)


def fail(message: str) -> None:
    """Stop the command: print ``message`` to stderr and exit with status 1."""
    raise click.ClickException(message)


def person_id(engine: Any, written: str, *, known: bool = True) -> str:
    """The id of the person ``written`` names, for a command's MEMBER or ``--actor``: a roster member's
    id or name (``白国辉``, when one member alone bears it: ``Community.find_member``), a registered
    resident's id, or the system actor.  A name several members bear stops the command with their ids;
    a name nobody bears stops it too (``known``), or is given back as written for the engine to judge
    (``known=False``: an event's actor, refused with its reason)."""
    if engine.knows_person(written):
        return written
    try:
        return str(engine.community.find_member(written).id)
    except UnknownMemberError as exc:
        if any(m.name == written for m in engine.community.members.values()):
            raise click.ClickException(str(exc)) from None  # a name several bear
        if not known:
            return written
        meant = engine.community.member_meant(written)
        hint, hint_zh = (f"; did you mean {meant!r}?", f"，是不是 {meant!r}？") if meant else ("", "")
        raise click.ClickException(f"unknown member {written!r}: not on the roster nor a registered resident{hint} "
                                   f"(花名册和居民登记中都没有 {written!r}{hint_zh})") from None


# ---------------------------------------------------------------- the root group


def _chinese_of(exc: click.ClickException) -> str | None:
    """The Chinese of one of click's own errors (a missing file, an invalid choice ...), or None."""
    if isinstance(exc, click.exceptions.NoArgsIsHelpError):
        return None  # the command's help, not an error
    if isinstance(exc, click.MissingParameter):
        kind = exc.param_type or (exc.param.param_type_name if exc.param is not None else "")
        return "缺少必填参数" if kind == "argument" else "缺少必填选项"
    if isinstance(exc, click.BadParameter):
        param_type = exc.param.type if exc.param is not None else None
        if isinstance(param_type, (click.Path, click.File)):
            if "does not exist" in exc.message:
                return "参数值无效：文件或文件夹不存在"
            return "参数值无效：文件或文件夹无法使用"
        if isinstance(param_type, click.Choice):
            return "参数值无效：不在可选值之中"
        if isinstance(param_type, (click.types.IntParamType, click.types.FloatParamType)):
            return "参数值无效：应为数字，且在允许的范围内"
        if isinstance(param_type, click.DateTime):
            return "参数值无效：日期或时间的写法不对"
        return "参数值无效"
    if isinstance(exc, click.NoSuchOption):
        return "没有这个选项"
    if isinstance(exc, click.exceptions.NoSuchCommand):
        return "没有这个命令"
    if isinstance(exc, click.BadOptionUsage):
        return "选项用法不对：请检查选项后的取值"
    if isinstance(exc, click.BadArgumentUsage):
        return "参数用法不对"
    if isinstance(exc, click.UsageError):
        extra = re.fullmatch(r"Got unexpected extra arguments? \((.*)\)", exc.message)
        # (the arguments named in the Chinese: click's English names them unquoted, and would be left out)
        return f"用法不对：多出了参数 {extra[1]}" if extra else "用法不对：多出或缺少参数"
    if isinstance(exc, click.FileError):
        return "无法打开文件"
    return None


#: Click's own words around a message and in help pages, with their Chinese (click writes them in English).
FRAME = {"Usage:": "Usage (用法):", "Options": "Options (选项)", "Commands": "Commands (命令)",
         "Positional arguments": "Positional arguments (参数)", "Arguments": "Arguments (参数)"}
#: The same in Chinese, when the CLI speaks Chinese.
FRAME_ZH = {"Usage:": "用法：", "Options": "选项", "Commands": "命令", "Positional arguments": "参数", "Arguments": "参数"}


def _width(text: str) -> int:
    """Terminal columns of ``text``: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


#: Where a line of Chinese may not break: after an opening bracket, before closing punctuation, before a
#: one-word English gloss in brackets (``最新（latest）``).
_OPENING, _CLOSING = "（“‘《【", "，。、；：）”’》】！？…"
_PIECE = re.compile(rf"[{_OPENING}]*(?:[\u2e80-\u9fff\uff00-\uffef\u3000-\u303f“”‘’…](?:（[!-~]+）)?|[^\s\u2e80-\u9fff"
                    rf"\uff00-\uffef\u3000-\u303f“”‘’…]+)[{_CLOSING}]*|\s+")


def _wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` terminal columns: between words, or between two Chinese
    characters (not after an opening bracket, nor before closing punctuation)."""
    lines, line = [], ""
    for piece in _PIECE.findall(text):
        if piece.isspace():
            line += " " if line else ""
        elif line and _width(line.rstrip() + piece) > width:
            lines.append(line.rstrip())
            line = piece
        else:
            line += piece
    if line.strip():
        lines.append(line.rstrip())
    return lines or [""]


class _Formatter(click.HelpFormatter):
    """Click's help and usage with their Chinese: ``Usage (用法):``, ``Options (选项):``, ``Commands (命令):``.

    A help page in Chinese (``chinese``) is wrapped by the columns its characters take on a terminal.
    """

    chinese = False

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        frame = FRAME_ZH if self.chinese else FRAME
        usage = frame["Usage:"]
        super().write_usage(prog, args, (usage if usage.endswith("：") else f"{usage} ") if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        super().write_heading((FRAME_ZH if self.chinese else FRAME).get(heading, heading))

    def write_text(self, text: str) -> None:
        if not self.chinese:
            return super().write_text(text)
        indent = " " * self.current_indent
        for line in _wrap(text, max(self.width - self.current_indent, 11)):
            self.write(f"{indent}{line}\n")

    def write_dl(self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        if not self.chinese:
            return super().write_dl(rows, col_max, col_spacing)
        rows = list(rows)
        first_col = min(max((_width(first) for first, _ in rows), default=0), col_max) + col_spacing
        for first, second in rows:
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            if _width(first) <= first_col - col_spacing:
                self.write(" " * (first_col - _width(first)))
            else:
                self.write("\n" + " " * (first_col + self.current_indent))
            for english, chinese in _CLICK_WORDS:
                second = second.replace(english, chinese)
            lines = _wrap(second, max(self.width - first_col - 2, 10))
            self.write(f"{lines[0]}\n")
            for line in lines[1:]:
                self.write(f"{'':>{first_col + self.current_indent}}{line}\n")


#: The Chinese of help texts, by the command (or lazy command) whose texts they are (``lazy_command``'s
#: ``chinese``); the application's own are in ``gridcore_app.help_zh``.
_CHINESE: weakref.WeakKeyDictionary[click.Command, Mapping[str, str]] = weakref.WeakKeyDictionary()
#: Click's words inside an option's help, with their Chinese.
_CLICK_WORDS = (("[default: ", "[默认："), ("; required]", "；必填]"), ("[required]", "[必填]"))


def help_lang(ctx: click.Context | None = None) -> str:
    """The language the CLI speaks to staff: ``zh`` or ``en``.

    ``--lang`` given to ``gridcore`` (``gridcore --lang zh points --help``) or to the command
    before ``--help``; else ``$GRIDCORE_LANG``; else the locale (``LC_ALL``, ``LC_MESSAGES``,
    ``LANG``: ``zh_CN.UTF-8`` is Chinese), as ``gridcore check`` chooses its messages' language.
    """
    ctx = ctx or click.get_current_context(silent=True)
    chosen = ctx.meta.get(_LANG) if ctx is not None else None
    if chosen in ("en", "zh"):
        return str(chosen)
    for var in ("GRIDCORE_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def _key(text: str) -> str:
    """A help text as its catalogue knows it: whitespace (a docstring's line breaks, ``\\b``) made single spaces."""
    return " ".join(text.replace("\b", " ").split())


def chinese_texts(ctx: click.Context, command: click.Command | None = None) -> dict[str, str]:
    """The Chinese of the help texts ``ctx``'s command (or ``command``, a sub-command of it) may show."""
    from .help_zh import HELP_ZH

    found = {_key(en): zh for en, zh in HELP_ZH.items()}
    chain: list[click.Context] = []
    at: click.Context | None = ctx
    while at is not None:
        chain.append(at)
        at = at.parent
    for command_of in [c.command for c in reversed(chain)] + ([command] if command is not None else []):
        found.update({_key(en): zh for en, zh in _CHINESE.get(command_of, {}).items()})
    return found


def _short(text: str) -> str:
    """A command's line in its group's list: the first sentence of its Chinese, or when that is long its first
    clause (up to a comma not inside brackets: ``改写成标准格式（保留注释，含义不变）`` stays whole)."""
    first = text.split("。")[0].split("\n")[0].strip()
    if _width(first) <= 60:
        return first
    depth, clause = 0, first
    for at, ch in enumerate(first):
        depth += 1 if ch in "（(" else -1 if ch in "）)" else 0
        if depth == 0 and ch in "，；":
            clause = first[:at]
            break
    return clause if len(clause) >= 8 else first


@contextmanager
def _help_in_chinese(ctx: click.Context) -> Iterator[None]:
    """While it lasts, the help texts ``ctx.get_help()`` shows are their Chinese (those that have one)."""
    command = ctx.command
    texts = chinese_texts(ctx)
    saved: list[tuple[object, str, Any]] = []

    def put(target: object, attribute: str, value: str) -> None:
        saved.append((target, attribute, getattr(target, attribute)))
        setattr(target, attribute, value)

    if command.help and _key(command.help) in texts:
        put(command, "help", texts[_key(command.help)])
    for param in command.get_params(ctx):
        text = getattr(param, "help", None)
        if text and _key(text) in texts:
            put(param, "help", texts[_key(text)])
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            text = None if sub is None else (sub.short_help or sub.help)
            own = chinese_texts(ctx, sub) if sub is not None else texts
            if sub is not None and text and _key(text) in own:
                put(sub, "short_help", _short(own[_key(text)]))
    try:
        yield
    finally:
        for target, attribute, value in reversed(saved):
            setattr(target, attribute, value)


class _Context(click.Context):
    formatter_class = _Formatter

    def make_formatter(self) -> click.HelpFormatter:
        formatter = super().make_formatter()
        if isinstance(formatter, _Formatter) and help_lang(self) == "zh":
            formatter.chinese = True
        return formatter

    def __exit__(self, exc_type: type[BaseException] | None, exc_value: BaseException | None,
                 tb: TracebackType | None) -> bool | None:
        # Click's parser raises some usage errors without their context (``Option '--store' requires an
        # argument.``): this context, whose arguments were being parsed, is theirs, so the error shows its
        # command's usage in the CLI's language (``用法：gridcore points balance ...``).
        if isinstance(exc_value, click.UsageError) and exc_value.ctx is None:
            exc_value.ctx = self
        return super().__exit__(exc_type, exc_value, tb)

    def get_help(self) -> str:
        """The help page; in Chinese when the CLI speaks Chinese (``help_lang``)."""
        if help_lang(self) != "zh":
            return super().get_help()
        with _help_in_chinese(self):
            return super().get_help()


def bilingual(command: click.Command) -> click.Command:
    """``command`` (and a group's commands) with contexts whose help and usage carry their Chinese."""
    if command.context_class is not _Context:
        command.context_class = _Context
        for sub in getattr(command, "commands", {}).values():
            bilingual(sub)
    return command


def _error_line(message: str, lang: str) -> str:
    """``Error (错误): ...``; in Chinese ``错误：`` and the message Chinese first (``chinese_first_line``)."""
    # (a multi-line message is already in its language: a ruleset's diagnostics, a roster's mistakes rendered
    # by RosterError.render; its first line is left as it is, a diagnostic's file:line:col first)
    return f"错误：{chinese_first_line(message)}" if lang == "zh" else f"Error (错误): {message}"


class _Error(click.ClickException):
    """A gridcore or click error, shown as ``Error (错误): ...`` (in Chinese: ``错误：...``, Chinese first).

    ``lang``: the language of the command that failed (``help_lang``), kept as the error leaves it."""

    lang = "en"

    def show(self, file: Any = None) -> None:
        click.echo(_error_line(self.format_message(), self.lang), file=file, err=file is None,
                   color=self.show_color)


class _UsageError(click.UsageError):
    """A usage error, shown with the command's usage and where help is, in English and Chinese."""

    def show(self, file: Any = None) -> None:
        color = None
        lang = help_lang(self.ctx) if self.ctx is not None else _Error.lang
        if self.ctx is not None:
            color = self.ctx.color
            formatter = _Formatter(width=self.ctx.terminal_width, max_width=self.ctx.max_content_width)
            formatter.chinese = lang == "zh"
            self.ctx.command.format_usage(self.ctx, formatter)
            hint = ""
            if self.ctx.command.get_help_option(self.ctx) is not None:
                call = f"{self.ctx.command_path} {max(self.ctx.command.get_help_option_names(self.ctx), key=len)}"
                hint = f"帮助：{call}\n" if lang == "zh" else f"Try '{call}' for help (帮助：{call}).\n"
            click.echo(f"{formatter.getvalue().rstrip()}\n{hint}", file=file, err=file is None, color=color)
        click.echo(_error_line(self.format_message(), lang), file=file, err=file is None, color=color)


def in_chinese(exc: click.ClickException, ctx: click.Context | None = None) -> click.ClickException:
    """``exc`` with its Chinese in brackets after the English, as gridcore's own messages are.

    Click's own errors (a missing file, an invalid choice, a missing option, a bad value)
    are English; staff see them, so each gains its Chinese, and so does click's frame
    around every error (``Error (错误):``, ``Usage (用法):``, ``Try '... --help' for help
    (帮助：...)``; when the CLI speaks Chinese, ``help_lang``: ``错误：`` and the message Chinese first,
    ``用法：``, ``帮助：...``). A usage error still shows the usage and exits 2, any other error exits
    with its own status; a message that already carries Chinese keeps its words.
    """
    if isinstance(exc, _Error | _UsageError | click.exceptions.NoArgsIsHelpError):
        return exc  # (a command's help, shown when it is given no arguments: not an error)
    english = exc.format_message()
    chinese = None if has_chinese(english) else _chinese_of(exc)
    message = english if chinese is None else f"{english} ({chinese})"
    if isinstance(exc, click.UsageError):
        return _UsageError(message, exc.ctx)
    error = _Error(message)
    error.lang = help_lang(ctx)
    # (click.exceptions.Exit and Abort are no ClickException.)  Click declares exit_code a ClassVar, yet
    # its main() exits with the instance's: the error keeps the status of the one it stands for.
    error.exit_code = exc.exit_code  # type: ignore[misc]
    return error


class _Root(click.Group):
    """Adds plugin and language commands per invocation, and turns user errors into messages."""

    context_class = _Context

    def _extra(self, ctx: click.Context) -> dict[str, click.Command]:
        meta = ctx.find_root().meta
        if "gridcore.commands" not in meta:
            meta["gridcore.commands"] = _contributed_commands(set(self.commands))
        found: dict[str, click.Command] = meta["gridcore.commands"]
        return found

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(self._extra(ctx)))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = self.commands.get(cmd_name) or self._extra(ctx).get(cmd_name)
        return None if found is None else bilingual(found)

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except PluginError as exc:  # loading plugins (for --help) failed on request: say why
            raise in_chinese(click.ClickException(str(exc)), parent) from None
        except click.ClickException as exc:
            raise in_chinese(exc, parent) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            raise in_chinese(exc, ctx) from None
        except GridcoreError as exc:
            if ctx.meta.get(_TRACEBACK):
                raise
            from gridcore.rules.errors import RulesError

            # a ruleset refused (gridcore use, init --ruleset, ...) speaks the CLI's language, as gridcore check does
            message = exc.render(help_lang(ctx)) if isinstance(exc, RulesError | RosterError) else str(exc)
            if isinstance(exc, EventRefused) and help_lang(ctx) == "zh":  # every reason Chinese first
                message = f"记录 {exc.event_id} 被{refused_said(exc.reasons, ctx)}"
            raise in_chinese(click.ClickException(message), ctx) from None
        except OSError as exc:
            # A file the user named cannot be read or written: say which and why.
            where = f" {exc.filename}" if exc.filename else ""
            raise in_chinese(click.ClickException(f"cannot use{where}: {exc.strerror or exc} (无法读写该文件)"),
                             ctx) from None


#: The application's own commands beyond this module's, loaded when used: (name, target, help).
APP_COMMANDS = (
    ("check", "gridcore_app.rules_cli:check",
     "Parse and type-check ruleset FILES (or every .rules file in a folder); exit 1 on any error."),
    ("fmt", "gridcore_app.rules_cli:fmt",
     "Rewrite ruleset FILES (or folders) in the canonical layout (comments and meaning kept)."),
    ("show", "gridcore_app.rules_cli:show",
     "Show a ruleset after inheritance: the effective rules, or the changes to the parent."),
    ("schema", "gridcore_app.rules_cli:schema",
     "Print the vocabulary as JSON: fields, sections' syntax, roles, and (with FILE) its names."),
    ("test", "gridcore_app.rules_cli:test_command",
     "Run ruleset test cases (*_test.yaml beside the rulesets) and show what failed."),
    ("lsp", "gridcore_app.lsp.command:lsp_command",
     "A language server for .rules files over stdio (diagnostics, completion, hover, fmt)."),
    ("activities", "gridcore_app.signin:activities_group",
     "Activities from sign-in sheets (签到表): an empty sheet to fill in, or a filled one imported."),
    ("simulate", "gridcore_app.demo:simulate_command",
     "Write a community's simulated days as JSON lines for `gridcore ingest`."),
    ("demo", "gridcore_app.demo:demo_command",
     "The main job: simulate a community's quarter under its rules and show what happened."),
    ("rollup", "gridcore_app.rollup:rollup_command",
     "A street's communities or a district's streets side by side: three rates, overdue, stars, points, subsidies."),
    ("diff", "gridcore_app.demo:diff_command",
     "Replay an event log under two rulesets and show every difference, with the rules behind it."),
    ("serve", "gridcore_app.service.cli:serve_command",
     "Serve the store: Open311 intake, a JSON API for every action, and the dashboard."),
    ("tokens", "gridcore_app.service.cli:tokens_group",
     "API tokens for gridcore serve: issue, list, revoke (stored hashed)."),
)


def _contributed_commands(taken: set[str]) -> dict[str, click.Command]:
    """Commands from the rules language, the demo and every plugin."""
    found: dict[str, click.Command] = {}
    sources: list[click.Command] = [LazyCommand(*spec) for spec in APP_COMMANDS]
    sources.extend(Hooks(plugin_manager()).register_commands())
    for cmd in sources:
        name = cmd.name or ""
        if name in taken or name in found:
            click.echo(f"warning: command {name!r} is defined twice; keeping the first", err=True)
            continue
        found[name] = cmd
    return found


def _disable(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> None:
    """``-p no:NAME`` and ``--disable NAME``: remember what to block (before commands are looked up)."""
    names: list[str] = ctx.meta.setdefault(_DISABLED, [])
    for value in values:
        if param.name == "plugin_option":
            if not value.startswith("no:") or not value[3:]:
                raise click.BadParameter(
                    f"{value!r}: write -p no:NAME to disable the plugin NAME "
                    f"(set {PLUGINS_ENV} to choose which plugins load) (停用插件请写 -p no:插件名)")
            value = value[3:]
        names.append(value)


def _remember(key: str) -> Callable[[click.Context, click.Parameter, bool], None]:
    def callback(ctx: click.Context, param: click.Parameter, value: bool) -> None:
        ctx.meta[key] = value

    return callback


@click.group(cls=_Root)
@click.version_option(package_name="gridcore")
# The plugin options are eager, so they apply before plugin commands are looked
# up (also for --help when given before it).
@click.option("-p", "plugin_option", multiple=True, metavar="no:NAME", is_eager=True, expose_value=False,
              callback=_disable, help="Disable the plugin NAME for this command (like --disable NAME).")
@click.option("--disable", "disable_option", multiple=True, metavar="NAME", is_eager=True, expose_value=False,
              callback=_disable, help="Disable the plugin NAME for this command.")
@click.option("--strict-plugins", is_flag=True, is_eager=True, expose_value=False,
              callback=_remember(_STRICT),
              help="Refuse to run when an installed plugin cannot be loaded (default: skip it, with a warning).")
@click.option("--traceback", is_flag=True, is_eager=True, expose_value=False, callback=_remember(_TRACEBACK),
              help="On an error, show the Python traceback too (for plugin authors).")
@click.option("--lang", type=click.Choice(["en", "zh"]), default=None, is_eager=True, expose_value=False,
              callback=_chosen_top_lang,
              help="The language of help pages and of what commands show (a CSV's headings, explain's labels): "
                   "en or zh. Default: $GRIDCORE_LANG, else the locale (LANG=zh_CN.UTF-8: zh), else en.")
def main_group() -> None:
    """gridcore: community grid governance (网格化管理) under each community's own rules.

    \b
    Plugins: every installed plugin is loaded; GRIDCORE_PLUGINS=points,escalation
    loads only those named, and -p no:NAME leaves one out.
    """


def main() -> None:
    """Console entry point."""
    from gridcore.garbage import command_started

    command_started()  # (what the imports made left out of collections: gridcore/garbage.py)
    with printable_output():
        main_group(prog_name="gridcore")


class _Printable(io.TextIOBase):
    """A text stream that drops terminal control sequences on the way to another."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError("write() needs text")  # click probes streams with bytes
        self._stream.write(printable(text))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return bool(self._stream.isatty())

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return int(self._stream.fileno())

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self._stream, "encoding", "utf-8"))

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self._stream, "errors", None)


@contextmanager
def printable_output() -> Iterator[None]:
    """Within the block, standard output and error print no terminal control sequences."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Printable(out), _Printable(err)
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        sys.stdout, sys.stderr = out, err


# ---------------------------------------------------------------- core commands


@main_group.command()
def plugins() -> None:
    """List every plugin and where it came from (and any that failed to load or are disabled)."""
    hooks = Hooks(plugin_manager())
    zh = help_lang() == "zh"
    for name, origin in hooks.describe_plugins():
        # (under --lang zh where each came from in Chinese too: 入口点、内核、已停用、加载失败)
        said = next((f"{chinese}（{origin}）" for start, chinese in _ORIGINS_ZH if origin.startswith(start)), origin)
        click.echo(f"{name:34} {said if zh else origin}")


#: How ``gridcore plugins`` says where a plugin came from, in Chinese (by how the English starts).
_ORIGINS_ZH = (("entry point", "入口点"), ("gridcore core", "内核"), ("registered directly", "直接注册"),
               ("FAILED to load", "加载失败"), ("disabled", "已停用"))


@main_group.group()
def hierarchy() -> None:
    """Look at a community's grid hierarchy."""


@hierarchy.command("show")
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--ruleset", "ruleset_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              metavar="FILE", help="Also say what FILE's rules find in this community (a grid far from its "
              "planned size, a department it lacks): the warnings and errors of its checks.")
@click.option("--store", "store", metavar="PATH_OR_URL",
              help="Show the community saved in this store instead of PATH, with its households and people as "
                   "the events stored since changed them (moves, splits, registrations).")
def hierarchy_show(path: Path | None, ruleset_path: Path | None, store: str | None) -> None:
    """Print the tree of the community at PATH (a folder, a YAML file or a roster workbook), or in --store.

    With households on the roster, each node shows its households and people,
    its subtree included (so totals add up the tree), then the community's total.
    With --ruleset, what the ruleset's checks find in this community follows.
    """
    if (path is None) == (store is None):
        raise click.UsageError("give PATH (a community folder, YAML file or roster workbook) or --store, one of them"
                               " (请给出社区文件夹、YAML 文件或花名册，或 --store，二者选一)")
    hooks = Hooks(plugin_manager())
    if store is not None:
        with open_engine(store, read_only=True) as engine:
            community = engine.community
            register = engine.households
            counted = bool(community.households or register.households)
            _print_tree(community, register.counts if counted else None)
    else:
        assert path is not None
        community = hooks.load_community(path)
        _print_tree(community, community.counts if community.households else None)
    if ruleset_path is not None:
        from gridcore.rules import load_ruleset
        from gridcore.rules.subtree import governed_node

        from .checking import within

        ruleset = load_ruleset(ruleset_path, sections=hooks.register_sections(), metrics=hooks.register_metrics(),
                               roles=community.roles)
        node = governed_node(ruleset, community.hierarchy)  # a community's variant: the part it governs
        found = hooks.check_ruleset(community if node is None else within(community, node), ruleset)
        for diagnostic in found:
            click.echo(diagnostic.render())
        where = community.name if node is None else f"{node} {community.hierarchy.node(node).name}"
        click.echo(f"{ruleset.name}：{where} 中发现 {len(found)} 处" if help_lang() == "zh" else
                   f"{ruleset.name}: {len(found)} finding(s) in {where} / 发现 {len(found)} 处")


def _print_tree(community: Community, counts: Callable[[str], Counts] | None) -> None:
    """The tree, each node with its ``counts`` (households and people, subtree included) and the total; under zh
    the levels by the community's names for them (``银泉社区（社区 community > 网格 grid）``) and the counts in Chinese."""
    zh = help_lang() == "zh"
    levels = community.hierarchy.levels
    if zh:
        named = [f"{community.level_names[lv]} {lv}" if community.level_names.get(lv, lv) != lv else lv for lv in levels]
        click.echo(f"{community.name}（{' > '.join(named)}）")
    else:
        click.echo(f"{community.name} ({' > '.join(levels)})")
    notes = {node.id: _counts_note(counts(node.id), zh) for node in community.hierarchy} if counts else {}
    click.echo(community.hierarchy.render(community.level_names, notes))
    if counts:
        total = sum((counts(root.id) for root in community.hierarchy.roots()), Counts())
        click.echo(f"合计：{_counts_note(total, zh)}" if zh else f"total / 合计: {_counts_note(total)}")


@hierarchy.command("household")
@click.argument("household")
@store_option
def hierarchy_household(household: str, store: str) -> None:
    """One household (户) in the store: where it lives, its people, who looks after it, and its history."""
    with open_engine(store, read_only=True) as engine:
        register = engine.households
        found = register.household(household)
        history = register.history(household)
        if found is None and not history:
            from gridcore.rules.checker import did_you_mean

            close = did_you_mean(household, sorted(register.households))
            hint = f" (did you mean {close}?)" if close else ""
            raise click.ClickException(f"household {household!r} was never on record{hint} (户不在册)")
        if found is None:
            click.echo(f"{household}: moved out (已迁出)")
        else:
            cell = engine.community.hierarchy.node(found.node)
            click.echo(f"{found.id} {found.name}: {cell.name} [{found.node}]"
                       f"{f', place 地址 {found.place}' if found.place else ''}, {found.people} 人"
                       f"{' (floating 流动户)' if found.floating else ''}")
            for resident in register.named_in(found.id):
                marks = [m for m, on in (("floating 流动", resident.floating), ("key 重点", resident.key_person))
                         if on] + ([f"special 特殊 {resident.special_group}"] if resident.special_group else [])
                click.echo(f"  resident 居民 {resident.id} {resident.name}{' (' + ', '.join(marks) + ')' if marks else ''}")
            carers = sorted(m for m, households in register.carers().items() if found.id in households)
            if carers:
                click.echo(f"  looked after by 包联 {', '.join(carers)}")
        click.echo("history 变动记录:")
        for change in history:
            when = change.time.astimezone(engine.community.tz).strftime("%Y-%m-%d %H:%M") if change.time else "roster"
            click.echo(f"  {when:16}  {change.event:12}  {change.text}")


@hierarchy.command("joined")
@click.argument("node", required=False)
@click.option("--at", "at", callback=parse_local_time, metavar="TIME",
              help="When NODE joined the store (ISO 8601; without a zone, the community's): at or before its first "
                   "stored event.")
@store_option
def hierarchy_joined(node: str | None, at: datetime | None, store: str) -> None:
    """When the nodes and members a growth added joined the store; with NODE and --at, record it.

    A store grown (gridcore init --community) before joining times were
    recorded has none for what it added, so assessments rate the new
    community for periods before it joined; and one grown before the roster's
    stamp was written is not noticed by an engine kept running. NODE --at TIME
    records TIME for NODE, every node under it and every member holding a
    role there, and writes the stamp; refused for a time after the first
    event stored there, or for a node recorded at another time.
    """
    from gridcore.engine import META, ROSTER_STAMP

    if (node is None) != (at is None):
        raise click.UsageError("give NODE and --at TIME together to record a joining time, or neither to list "
                               "them (记录加入时间须同时给出 NODE 和 --at)")
    try:
        with open_engine(store, read_only=node is None) as engine:
            tz = engine.community.tz
            if node is not None and at is not None:
                found = engine.community.hierarchy.find(node).id
                at = in_community_zone(at, engine)
                nodes, members = engine.record_joined(found, at)
                day = f"{at.astimezone(tz):%Y-%m-%d %H:%M}"
                if nodes or members:
                    click.echo(for_staff(f"recorded: {found} joined on {day}, with {len(nodes)} node(s) and {len(members)} "
                               f"member(s); assessments rate them from the first period starting then; an "
                               f"assessment saved before (gridcore assess --period P) that rates them for a period "
                               f"begun before then is no longer shown: the period is assessed afresh where it is "
                               f"read, until gridcore assess --period P stores it again (已记录 {found} 于 {day} 加入，"
                               f"含 {len(nodes)} 个节点、{len(members)} 名人员；此前保存的、在其加入前的考核结果"
                               "不再显示，读取时重新评定，重新运行 gridcore assess --period 即重新保存)"))
                else:
                    click.echo(for_staff(f"{found} is recorded as joined on {day} already; the roster's stamp is "
                                         f"written (已记录 {found} 于 {day} 加入，花名册标记已写入)"))
                return
            community = engine.community
            stamp = engine.store.get(META, ROSTER_STAMP)
            if not community.nodes_joined:
                click.echo(for_staff("no node joined after the store was made (none recorded) (无后加入的节点记录)"))
            for key, when in sorted(community.nodes_joined.items(), key=lambda kv: (kv[1], kv[0])):
                if community.hierarchy.node(key).parent in community.nodes_joined and \
                        community.nodes_joined[str(community.hierarchy.node(key).parent)] == when:
                    continue  # (added with the node above it)
                staff = sum(1 for m, t in community.members_joined.items() if t == when and any(
                    community.hierarchy.is_within(a.node, key) for a in community.member(m).roles))
                joined = f"{when.astimezone(tz):%Y-%m-%d %H:%M}"
                click.echo(f"{key} {community.hierarchy.node(key).name}：{joined} 加入，{staff} 人" if help_lang() == "zh"
                           else f"{key} {community.hierarchy.node(key).name}: joined 加入 {joined}, {staff} member(s) 人")
            if stamp is None:
                click.echo(for_staff("the roster's stamp is not saved: an engine kept running does not notice a "
                                     "growth; the first command that writes to the store records it (gridcore "
                                     "hierarchy joined NODE --at TIME, tick, ingest) (花名册标记未保存：持续运行的引擎"
                                     "不会察觉扩充；下一次写入库的命令会写入，如 gridcore hierarchy joined NODE --at "
                                     "TIME、tick、ingest)"))
    except GridcoreError as exc:
        fail(str(exc))


def _counts_note(counts: Counts, zh: bool = False) -> str:
    """``12户 36人 (floating 流动 4, special 特殊 2, key 重点 1)``; under zh ``12户 36人（流动 4，特殊 2，重点 1）``."""
    if zh:
        return f"{counts.households}户 {counts.population}人（流动 {counts.floating}，特殊 {counts.special}，重点 {counts.key}）"
    return (f"{counts.households}户 {counts.population}人 (floating 流动 {counts.floating}, "
            f"special 特殊 {counts.special}, key 重点 {counts.key})")


REJUDGE = click.option(
    "--rejudge", is_flag=True,
    help="Allow an effective time before events already recorded: they are judged again under the new ruleset.",
)


def rulesets_option(dest: str = "rulesets") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--rulesets DIR`` (repeatable), passed to the command as ``dest``: where ``extends`` looks."""
    return click.option(
        "--rulesets", dest, multiple=True, type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
        help="A folder where extends \"name\" looks for name.rules, after the ruleset's own folder and before "
             "$GRIDCORE_RULESETS (os.pathsep-separated folders). Repeat for several.",
    )


RULESETS = rulesets_option()


def _put_in_force(engine: Engine, ruleset_path: Path, effective: datetime | None, rejudge: bool,
                  rulesets: tuple[Path, ...] = ()) -> str:
    """Put a ruleset in force; back-dated over recorded events only with ``--rejudge``. Returns what it did."""
    when = effective or engine.clock.now()
    latest = engine.latest_event_time
    again = engine.recorded_since(when) if latest is not None and latest >= when else 0
    # (stored events it would have refused stay on record, judged as they were: said either way)
    left = engine.left_on_record(ruleset_path, effective=when, search_path=rulesets) if again else []
    if again and not rejudge:
        fail(
            f"{ruleset_path} would take effect at {when.isoformat()}, before {again} event(s) already recorded "
            f"(the latest at {latest.isoformat() if latest else '?'}): they would be judged again under it, and "
            "points, escalations and ratings already shown may change. Give --rejudge to do that, or an "
            "--effective time after the latest event.\n"
            f"规则集 {ruleset_path} 的生效时间 {when.isoformat()} 早于已记录的 {again} 条事件：这些事件将按新规则重新评判，"
            "已公布的积分、升级和评星可能改变。确需如此请加 --rejudge，或把 --effective 设在最后一条事件之后。"
            + "".join(f"\n{line}" for line in left_on_record_said(left, when, would=True))
        )
    known = len(engine.warnings)
    ruleset = engine.use_ruleset(ruleset_path, effective=effective, search_path=rulesets)
    for warning in engine.warnings[known:]:  # what its checks found in the community (a role nobody holds ...)
        click.echo(f"warning: {warning}", err=True)
    node = next((e.node for e in reversed(engine.rulesets_in_force()) if e.ruleset is ruleset), None)
    where = "" if node is None else f" for {_subtree(engine, node)}"  # a whole-tree ruleset is said as before
    # from now (no --effective): the system clock's time in the community's zone, to the second
    # (it said 2026-12-05T13:00:54.805049+00:00 to staff in Shenyang)
    shown = when.isoformat() if effective is not None else \
        when.astimezone(engine.community.tz).isoformat(timespec="seconds")
    done = f"ruleset {ruleset.name} in force{where} from {shown}"
    done += f"; {again} event(s) recorded since then were judged again under it" if again else ""
    zh_where = "" if node is None else f"，适用于 {_subtree(engine, node)}"
    zh_again = f"；此后已记录的 {again} 条事件已按它重新评判" if again else ""
    return "\n".join([f"{done} (规则集 {ruleset.name} 自 {shown} 起生效{zh_where}{zh_again})",
                      *left_on_record_said(left, when)])


def left_on_record_said(left: Sequence[LeftOnRecord], when: datetime, *, would: bool = False) -> list[str]:
    """What ``Engine.left_on_record`` found, for staff: a line saying what it means, then one line per event
    (English, then Chinese in brackets); nothing when it found none.  ``would``: before it is put in force."""
    if not left:
        return []
    stay, stay_zh = ("would stay", "将仍") if would else ("stay", "仍")
    return [(f"{len(left)} stored event(s) from {when.isoformat()} on that it would have refused {stay} on record, "
            "judged as they were (a stored event is a fact: replays do not judge it again under a ruleset put in "
            "force later; docs/escalation.md, A closed category list) "
            f"(自 {when.isoformat()} 起已记录的 {len(left)} 条事件按新规则集本应拒绝，{stay_zh}按当时的评判保留在记录中)："),
            *(f"  {entry.said()}" for entry in left)]


def _subtree(engine: Engine, node: str | None) -> str:
    """How a ruleset's subtree is shown: ``yz-c1 银州社区``, or the whole tree."""
    if node is None:
        return "the whole tree (整个层级树)"
    hierarchy = engine.community.hierarchy
    return f"{node} {hierarchy.node(node).name}" if node in hierarchy else node


@main_group.command("rulesets")
@store_option
@format_option
def rulesets_command(store: str, fmt: str) -> None:
    """List the rulesets put in force: from when, for which subtree, from which file (规则集及其适用范围)."""
    from gridcore.reports import Table

    with open_engine(store, read_only=True) as engine:
        entries = engine.rulesets_in_force()
        # under zh the whole tree in Chinese alone (整个层级树); JSON and English as before
        zh = getattr(fmt, "lang", "en") == "zh" and fmt != "json"
        rows = tuple((e.effective.isoformat(), e.node or "",
                      "整个层级树" if zh and e.node is None else _subtree(engine, e.node), e.ruleset.name,
                      Path(e.ruleset.entry).name) for e in entries)
    table = Table("Rulesets in force (规则集)", ("effective", "node", "subtree", "ruleset", "file"), rows,
                  () if rows else ("note: no ruleset was put in force (gridcore use FILE) (尚未有规则集生效：gridcore use 文件)",))
    click.echo(table.render(fmt), nl=False)


@main_group.command()
@click.option("--community", "community_path", required=True, type=click.Path(exists=True, path_type=Path),
              help="The community: a folder (community.yaml + CSV files), a YAML file or a roster workbook "
                   "(花名册.xlsx).")
@click.option("--ruleset", "ruleset_path", type=click.Path(exists=True, path_type=Path),
              help="A .rules file to put in force.")
@click.option("--effective", callback=parse_local_time, metavar="TIME",
              help="When the ruleset takes effect (2025-03-01: its midnight in the community's time zone; "
                   "default: now).")
@REJUDGE
@RULESETS
@click.option("--now", "at", callback=parse_local_time, metavar="TIME",
              help="Act as if it were this time (ISO 8601; without a zone, the community's): when the nodes and "
                   "members a grown roster "
                   "adds join the store. Default: the system clock.")
@store_option
def init(community_path: Path, ruleset_path: Path | None, effective: datetime | None, rejudge: bool,
         rulesets: tuple[Path, ...], at: datetime | None, store: str) -> None:
    """Save a community (and optionally a ruleset) into a store.

    On a store that already holds events, the roster may only grow: a new
    community, grid or household added to the files is taken on and nothing
    recorded is judged again; a roster that changes or removes what is there
    is refused, naming what changed. What it adds joins the store now (or at
    --now): it is rated and paid from the first assessment period starting
    then or later.
    """
    from gridcore.rules import RulesError

    left: list[str] = []
    with open_engine(store, community=community_path, create=True, now=at) as engine:
        effective = in_community_zone(effective, engine) if effective is not None else None
        if ruleset_path is not None:
            try:
                # (what it leaves on record, said after the store's line: ``_put_in_force``'s lines after its first)
                left = _put_in_force(engine, ruleset_path, effective, rejudge, rulesets).split("\n")[1:]
            except RulesError as exc:  # the community is saved all the same: say so, and what to do next
                fail(f"{exc.render(help_lang())}\nthe community is saved in {engine.store.url}, with no new ruleset "
                     f"in force: fix the file, then gridcore use {ruleset_path} --store {store} "
                     f"(社区已保存到库中，规则集未生效：改正后用 gridcore use 让它生效)")
        click.echo(for_staff(
            f"store {engine.store.url}: community {engine.community.name} "
            f"({len(engine.community.hierarchy)} nodes, {len(engine.community.members)} members)"
            + (f", ruleset {engine.ruleset.name}" if engine.ruleset else "")
            + f" (已保存：{len(engine.community.hierarchy)} 个节点，{len(engine.community.members)} 名人员"
            + (f"，规则集 {engine.ruleset.name})" if engine.ruleset else ")")
        ))
        for line in left:
            click.echo(for_staff(line))


@main_group.command("use")
@click.argument("ruleset_path", type=click.Path(exists=True, path_type=Path))
@click.option("--effective", callback=parse_local_time, metavar="TIME",
              help="When it takes effect (2025-03-01: its midnight in the community's time zone; default: now).")
@REJUDGE
@RULESETS
@store_option
@now_option
def use(ruleset_path: Path, effective: datetime | None, rejudge: bool, rulesets: tuple[Path, ...], store: str,
        now: datetime | None) -> None:
    """Put a ruleset in force. A ruleset with errors is refused and the old one stays.

    An effective time before events already recorded would judge them again
    (their points, escalations and ratings may change): that needs --rejudge.
    """
    with open_engine(store, now=now) as engine:
        effective = in_community_zone(effective, engine) if effective is not None else None
        said = _put_in_force(engine, ruleset_path, effective, rejudge, rulesets)
        click.echo("\n".join(for_staff(line) for line in said.split("\n")))


#: Lines of an events file judged per ``record_many`` call by ``gridcore ingest``: what it holds in memory.
INGEST_CHUNK = 20_000
#: Files from this size up show a progress bar (on a terminal).
INGEST_BAR_BYTES = 1 << 20


@main_group.command()
@click.argument("events_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@store_option
@click.option("--batch-size", default=1000, show_default=True, help="Events written per atomic batch.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def ingest(events_file: Path, store: str, batch_size: int, quiet: bool) -> None:
    """Append events from a JSON-lines file (one event object per line).

    Each line is checked on its own: lines that are not valid JSON, not valid
    events or beyond the input limits (docs/security.md) are refused with
    their line number and reason; the others are stored. Exit status 1 if any
    line was refused.

    A file in time order (as exports and `gridcore simulate` write them) is
    judged a chunk of lines at a time, so memory does not grow with its
    length; a file out of order is read whole and judged in time order. The
    result is the same either way.
    """
    from gridcore.engine import IngestSummary
    from gridcore.garbage import fewer_full_collections

    from .jsonl import bounded_lines, chunks_of_events, in_time_order, surely_in_time_order
    from .writelock import writing

    summary = IngestSummary()
    bad: list[tuple[str, str]] = []  # (file:line, why) of each line that is no event
    size = events_file.stat().st_size
    with events_file.open("rb") as handle:
        # In time order, the file is judged a chunk at a time; otherwise whole (an event
        # can need one that comes later in the file: a report before its acceptance).
        # (most lines are not parsed to learn it; only a file that may be out of order is parsed for it)
        in_order = surely_in_time_order(bounded_lines(handle))
    if not in_order:
        with events_file.open("rb") as handle:
            in_order = in_time_order(bounded_lines(handle), events_file.name)
    per_call = INGEST_CHUNK if in_order else None
    with events_file.open("rb") as handle, open_engine(store) as engine, ExitStack() as stack:
        bar = None
        if not quiet and size >= INGEST_BAR_BYTES and sys.stderr.isatty():
            bar = stack.enter_context(click.progressbar(length=size, label="导入中" if help_lang() == "zh" else "ingesting",
                                                         file=sys.stderr))
        # Reading a chunk makes its documents, which live until recorded: between the calls too, the
        # collector's full collections would walk the engine's whole state for nothing (gridcore.garbage)
        stack.enter_context(fewer_full_collections())
        for chunk in chunks_of_events(bounded_lines(handle), events_file.name, per_call):
            bad.extend((found.label, found.reason) for found in chunk.bad)
            if chunk.docs:
                try:
                    # under the write lock a service on this store shares: judged against the latest state and
                    # appended at once, not raced against the service's actions (gridcore_app.writelock); each
                    # line's label made only if it is refused (``Chunk.labels``)
                    with writing(engine, store, "gridcore ingest"):
                        summary.merge(engine.record_many(chunk.docs, batch_size=batch_size, sources=chunk.labels))
                except PluginError as exc:
                    if bar is not None:
                        bar.render_finish()
                    _stopped(exc, chunk.lines)
            if bar is not None:
                bar.update(handle.tell() - bar.pos)
    refused = len(summary.refused) + len(bad)
    zh = help_lang() == "zh"
    counts_zh = f"新存入 {summary.accepted} 条，已存入 {summary.duplicates} 条，派生 {summary.derived} 条，拒绝 {refused} 条"
    click.echo(counts_zh if zh else f"{summary.accepted} stored, {summary.duplicates} already stored, "
               f"{summary.derived} derived, {refused} refused ({counts_zh})")
    # in file order, however the file was judged (bad lines carry the same ``file:line`` labels)
    refusals = sorted([(label, [reason]) for label, reason in bad]
                      + [(r.source or r.event_id, list(r.reasons)) for r in summary.refused],
                      key=lambda pair: _line_number(pair[0]))
    for label, reasons in refusals[:50]:
        # under --lang zh the whole line in Chinese: each reason's Chinese first (gridcore.errors.chinese_first)
        click.echo(f"  拒绝 {label}：{'；'.join(chinese_first(r) for r in reasons)}" if zh
                   else f"  refused {label}: {'; '.join(reasons)}", err=True)
    if len(refusals) > 50:
        more = len(refusals) - 50
        click.echo(f"  ……另有 {more} 条被拒绝" if zh else f"  ... and {more} more (另有 {more} 条被拒绝)", err=True)
    if refusals:
        sys.exit(1)


def _stopped(error: PluginError, lines: Sequence[Any]) -> NoReturn:
    """End an ingest a plugin failed in: which line, what became of the file, how to go on."""
    where = next((found.label for found in lines
                  if isinstance(found.doc, Mapping) and found.doc.get("id") == error.event), None)
    at, at_zh = (f" at {where}", f"于 {where} ") if where else ("", "")
    name = error.plugin or "NAME"
    raise click.ClickException(
        f"ingest stopped{at}: {error}\n"
        "Events judged before it may have been stored, in whole batches; none judged after it was. "
        f"Fix or disable the plugin (gridcore -p no:{name} ...) and ingest the same file again: what is "
        "already stored is counted as already stored, never twice. "
        f"(导入{at_zh}中止：插件出错。此前的事件可能已按批存入，其后的事件均未存入；"
        "修复或停用该插件后重新导入同一文件即可，已存入的事件不会重复存入)")


def _line_number(label: str) -> int:
    """The line of a ``file:line`` label (0 if it has none)."""
    tail = label.rpartition(":")[2]
    return int(tail) if tail.isdigit() else 0


@main_group.command()
@store_option
@now_option
def tick(store: str, now: datetime | None) -> None:
    """Advance time and record everything that has fallen due (e.g. escalations).

    The events are listed in time order (those due at the same moment by id: the order a replay
    applies them), as the service's tick lists them.
    """
    from gridcore.events import event_order

    from .writelock import writing

    with open_engine(store, now=now) as engine, writing(engine, store, "gridcore tick"):  # (as ingest: gridcore_app.writelock)
        fired = engine.tick(now)
        click.echo(for_staff(f"{len(fired)} derived event(s) recorded up to {engine.clock.now().isoformat()}"
                             f" (记录派生事件 {len(fired)} 条)"))
        # (``tick`` gives them as they were derived: a case's next escalation, worked out after its
        # first, comes after another case's later one; staff read the list as a timeline)
        for event in sorted(fired, key=event_order):
            click.echo(f"  {event.time.isoformat()}  {type(event).kind}  {event.id}")


@main_group.command()
@click.argument("decision")
@store_option
def explain(decision: str, store: str) -> None:
    """Explain a decision (a points entry, an escalation, a rating) by its id.

    In Chinese (gridcore --lang zh explain ..., or GRIDCORE_LANG=zh) each input is headed by its Chinese.
    """
    with open_engine(store, read_only=True) as engine:
        lang = help_lang()
        click.echo(engine.explain(decision, lang=lang).render(lang))


@main_group.command()
@click.argument("name", required=False)
@click.option("--param", "-p", multiple=True, metavar="KEY=VALUE", help="A report parameter.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Write the report to FILE instead: .xlsx (Excel, Chinese headings), .csv, .json or .txt.")
@store_option
@format_option
def report(name: str | None, param: tuple[str, ...], out_path: Path | None, store: str, fmt: str) -> None:
    """Build a report contributed by a plugin (no NAME: list them)."""
    hooks = Hooks(plugin_manager())
    reports = {r.name: r for r in hooks.register_reports()}
    if name is None:
        for r in sorted(reports.values(), key=lambda r: r.name):
            accepts = f" [{', '.join(r.params)}]" if r.params else ""
            click.echo(f"{r.name:28} {for_staff(r.description)}{accepts}")
        return
    params: dict[str, str] = {}
    for item in param:
        key, sep, value = item.partition("=")
        if not sep:
            fail(f"--param {item!r} must look like KEY=VALUE (报表参数应写成 名称=值，如 period=2025-03)")
        params[key] = value
    kinds = {".xlsx": "xlsx", ".csv": "csv", ".json": "json", ".txt": "text"}
    if out_path is not None and out_path.suffix.lower() not in kinds:
        fail(f"--out {out_path}: give a file ending in {', '.join(kinds)} (输出文件的扩展名应为 {'、'.join(kinds)})")
    # (staff read a report in Chinese under --lang zh: text, a CSV for Excel and a workbook; JSON keeps the codes)
    kind = kinds[out_path.suffix.lower()] if out_path is not None else str(fmt)
    lang = getattr(fmt, "lang", "en") if kind != "json" else "en"
    with open_engine(store, read_only=True) as engine:
        table = engine.report(name, params, lang=lang)
    if out_path is None:
        click.echo(table.render(fmt), nl=False)
        return
    if kind == "xlsx":
        from .reportbook import sheet_name_zh, write_tables

        # (under zh the sheet says the report's Chinese name and period: 积分公示 2025年3月)
        period = params.get("month") or params.get("period") or ""
        write_tables(out_path, [(sheet_name_zh(table, name, period) if lang == "zh" else name, table)], lang)
    else:
        out_path.write_text(table.render(kind, lang=lang), encoding="utf-8", newline="")
    click.echo(for_staff(f"{name}: {len(table.rows)} rows written to {out_path} (已写出 {len(table.rows)} 行：{out_path})"),
               err=True)


class _FirstIgnored:
    """Notes the earliest stored event, in time order, that a replay ignored (``gridcore_on_event_ignored``)."""

    def __init__(self) -> None:
        self.first: tuple[datetime, str] | None = None

    @hookimpl
    def gridcore_on_open(self) -> None:
        self.first = None  # (the state is built again: the events are given again)

    @hookimpl
    def gridcore_on_event_ignored(self, event: Event) -> None:
        if self.first is None or (event.time, event.id) < self.first:
            self.first = (event.time, event.id)


@main_group.command("time-order")
@click.option("--settle", is_flag=True,
              help="For a store written before gridcore kept the fact: work it out once (the whole log is replayed, "
                   "each stored event judged again), so that replays judge stored events again only from the first "
                   "event recorded late.")
@store_option
def time_order(settle: bool, store: str) -> None:
    """Say whether the store's events were recorded in time order, and from which event some came late.

    Replays judge stored events again from the earliest event recorded late (docs/architecture.md, Time order). A
    store written by a gridcore older than that fact has every stored event judged again at each replay until
    --settle works the fact out for it, once. Meanwhile it is the store's only appender: other processes' new
    events wait until it is done (a TinyDB store another process writes to is refused, naming it).
    """
    from gridcore import timeorder

    if not settle:
        with open_engine(store, read_only=True) as engine:
            click.echo(for_staff(_time_order_said(engine.time_order, engine.community.tz)))
        return
    witness = _FirstIgnored()
    manager = plugin_manager()
    manager.register(witness, name="gridcore time-order")
    # the store held as its only appender before the engine opens: the open's replay judges every event stored
    with _sole_appender(store, manager, "gridcore time-order --settle") as held, \
            open_engine(held, plugins=manager) as engine:
        if not engine.time_order.kept:
            if engine.open_report.restored_from:
                engine.rebuild()  # (the witness must see every stored event judged again, from the first)
            first = witness.first
            fact = timeorder.settle(engine.store, None if first is None else first[1])
            said = _time_order_said(fact, engine.community.tz)
            click.echo(f"已确定：{for_staff(said)}" if help_lang() == "zh" else f"settled (已确定): {said}")
        else:
            click.echo(for_staff(_time_order_said(engine.time_order, engine.community.tz)))


@contextmanager
def _sole_appender(store: str, manager: PluginManager, what: str) -> Iterator[Store]:
    """``store`` opened and held as its only appender (``sole_appender``: other processes' appends wait until
    the block ends; a TinyDB store another process writes to is refused, naming it), under the write lock the
    service and ``gridcore ingest`` take on this machine (declared as ``what``).  A backend without
    ``sole_appender`` is warned about and written as before."""
    from gridcore.plugin_host import Hooks

    from .writelock import WriteLock

    with ExitStack() as stack:
        lock = WriteLock.for_store(store)
        if lock is not None:
            stack.callback(lock.close)
            stack.enter_context(lock)
            lock.declare(what)
            stack.callback(lock.undeclare)
        opened = Hooks(manager).storage_backend(store, create=False)
        stack.callback(opened.close)  # (the engine closes it first; twice is harmless)
        sole = getattr(opened, "sole_appender", None)
        if sole is None:
            click.echo("warning: this store's backend cannot keep other writers out while the log is replayed: stop "
                       "them first (此存储后端无法在重放期间阻止其他进程写入：请先停止它们)", err=True)
        else:
            try:
                stack.enter_context(sole())
            except GridcoreError as exc:
                fail(str(exc))
        yield opened


def _time_order_said(fact: Any, tz: Any) -> str:
    """``gridcore time-order``'s line: the fact, in English then Chinese (times in the community's zone, ``tz``)."""
    if not fact.kept:
        return ("not known: the store was written before gridcore kept it; every stored event is judged again at "
                "each replay (run gridcore time-order --settle once) (未记录：此库由较早版本写入，每次重放都重新评判"
                "所有已存事件；请运行一次 gridcore time-order --settle)")
    if fact.late_from is None:
        return "every event was recorded in time order (所有事件均按时间顺序录入)"
    when, ident = fact.late_from
    when = when.astimezone(tz)
    what = f"event {ident}" if ident else "a ruleset's start"
    what_zh = f"事件 {ident}" if ident else "规则集的生效时间"
    return (f"recorded late from {what} at {when.isoformat()} in time order: replays judge stored events again "
            f"from there (自 {when.isoformat()} 的{what_zh}起有补录：重放时从此处起重新评判已存事件)")


@main_group.command()
@click.option("--from", "source", required=True, metavar="URL", help="The store to copy from.")
@click.option("--to", "target", required=True, metavar="URL", help="The store to copy into (must be empty).")
def migrate(source: str, target: str) -> None:
    """Copy a store to another backend without loss."""
    from gridcore.store.migrate import migrate as run_migration

    local = source.removeprefix("sqlite:///") if source.startswith("sqlite:///") else source
    if "://" not in local and not Path(local).exists():
        fail(f"no store at {source}: nothing to migrate (check the path) (没有找到数据库，无可迁移：请检查路径)")
    summary = run_migration(source, target, plugins=plugin_manager())
    already = f"，{summary.skipped} 个事件已在目标中" if summary.skipped else ""
    click.echo(for_staff(f"{summary} (已迁移 {summary.copied} 个事件、{sum(summary.documents.values())} 份文档"
                         f"（{len(summary.documents)} 个集合）{already})"))
