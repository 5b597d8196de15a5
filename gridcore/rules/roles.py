"""The roles a ruleset may name: the built-in ones and those the roster in force adds.

A district's roster can add roles of its own (community.yaml ``roles:
{street_officer: 街道网格专干}``, or roles.csv).  A ruleset names a role by its
id or its Chinese name, whichever the author writes; both mean the same role,
and the compiled policy holds the id (what a member's roles hold).

The names are resolved after parsing, against the roster the ruleset is
compiled with (``load_ruleset(..., roles=community.roles)``; the engine and
``gridcore check`` beside a community pass theirs), so the grammar and its
cache never depend on a roster.  Compiled without a roster (``gridcore check
FILE`` with no community), only the built-in roles are known: a name that is
a slip of one (``grid_leadr``) is still an error, with the role meant; any
other name may be one the roster declares, so it is accepted as written with
a warning (``role-unchecked``) that says the roster's roles could not be
checked.  The engine always compiles with its roster, so no unchecked name
is ever put in force.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from attrs import field

from ..classes import frozen
from ..roster import ROLES
from .checker import did_you_mean


def _frozen(value: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(value))


@frozen
class RoleProblem:
    """What to say about a role name that names no role: an error, or (no roster) a warning."""

    message: str
    message_zh: str
    expected: str
    expected_zh: str
    suggestion: str
    fix: str
    fix_zh: str
    warning: bool


@frozen
class Roles:
    """Role id -> Chinese name in force, and whether a roster's roles are among them."""

    names: Mapping[str, str] = field(converter=_frozen)
    #: False: compiled without a roster (the built-in roles only; others cannot be checked)
    roster: bool = False
    #: every name that is no role is only a warning, kept as written: a stored ruleset compiled
    #: again when its roster no longer has a role it names (``Ruleset.from_document``)
    lenient: bool = False

    @classmethod
    def of(cls, roster: Mapping[str, str] | None) -> Roles:
        """The roles of a roster (its ``Community.roles``; the built-in ones are always kept), or
        the built-in ones alone for ``None``."""
        if roster is None:
            return cls(ROLES, False)
        return cls({**ROLES, **roster}, True)

    def spellings(self) -> frozenset[str]:
        """Every id and Chinese name."""
        return frozenset(self.names) | frozenset(self.names.values())

    def id_of(self, written: str) -> str | None:
        """The id a role written by id or Chinese name spells (``街道网格专干`` -> ``street_officer``), or None."""
        if written in self.names:
            return written
        for ident, zh in self.names.items():
            if zh == written:
                return ident
        return None

    def problem(self, written: str, also: Mapping[str, str] | None = None) -> RoleProblem:
        """What is wrong with ``written``, a name that is no role here.

        ``also``: other names the place accepts (a tilt's levels, id -> Chinese name),
        listed and matched too.  Without a roster a name that is no slip of a known one
        is only a warning (``role-unchecked``): the roster may declare it.
        """
        others = dict(also or {})
        pool = [*self.names, *self.names.values(), *others, *others.values()]
        meant = did_you_mean(written, pool)
        listed = ", ".join(f"{ident} ({zh})" for ident, zh in {**self.names, **others}.items())
        listed_zh = "、".join(f"{zh}（{ident}）" for ident, zh in {**self.names, **others}.items())
        if not self.roster and (self.lenient or not meant):
            return RoleProblem(
                f"'{written}' is no built-in role and no roster was given, so whether the roster declares "
                "it could not be checked",
                f"“{written}”不是内置角色；没有给出花名册，无法核对花名册是否声明了该角色",
                listed, listed_zh, meant,
                "check the ruleset beside its roster (gridcore check FILE --community DIR, or a community.yaml "
                "beside the file), which knows the roles it declares",
                "请对照花名册检查（gridcore check 文件 --community 目录，或把 community.yaml 放在文件旁边）",
                True)
        return RoleProblem(
            f"unknown role '{written}'" if not others else f"'{written}' is neither a role nor a level of this "
            "ruleset",
            f"未知的角色 '{written}'" if not others else f"'{written}' 既不是角色，也不是本规则集的层级",
            listed, listed_zh, meant,
            ("write a role listed: a built-in role, or one the roster declares (community.yaml roles:, roles.csv)"
             if self.roster else "write a role listed (see 'did you mean'); a role the roster declares is known "
             "when the ruleset is checked beside it (gridcore check FILE --community DIR)"),
            ("写列出的角色：内置角色，或花名册声明的角色（community.yaml 的 roles、roles.csv）" if self.roster
             else "写列出的角色（见“是不是想写”）；花名册自己声明的角色要对照花名册检查才认得"
             "（gridcore check 文件 --community 目录）"),
            False)
