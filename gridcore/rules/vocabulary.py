"""``gridcore schema``: the vocabulary core and plugins contribute, as JSON-ready data.

docs/language.md's vocabulary tables are generated from this
(``vocabulary_tables``), and a test checks they are up to date.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..events import CORE_EVENT_TYPES, Event
from ..roster import ROLES
from . import schema as sch
from .keywords import CORE_KEYWORDS
from .ruleset import Ruleset
from .sections import Section

if TYPE_CHECKING:
    import pluggy


def describe_schema(sections: Sequence[Section[Any]], event_types: Sequence[type[Event]] = (),
                    ruleset: Ruleset | None = None, *, roster_roles: Mapping[str, str] | None = None,
                    roster: str = "") -> dict[str, Any]:
    """Everything an editor or a doc needs to know about the language as installed.

    ``roster_roles``: the roles of the roster the rulesets run on (``Community.roles``), named
    ``roster``: they are listed with the built-in ones (``roles``: id -> Chinese name), and
    ``role_list`` marks each as ``built-in`` or ``roster`` (a role the roster adds, or names
    otherwise).  Without a roster only the built-in roles are listed.
    """
    events = sch.vocabulary_of_events((*CORE_EVENT_TYPES, *event_types))
    roles = {**ROLES, **(roster_roles or {})}
    doc: dict[str, Any] = {
        "types": {t: {"en": en, "zh": zh} for t, (en, zh) in sch.TYPE_WORDS.items()},
        "keywords": {k.lower(): list(v) for k, v in CORE_KEYWORDS.items()},
        "functions": sorted(set(sch.FUNCTIONS.values())),
        "function_names": dict(sch.FUNCTIONS),
        "variables": [sch.describe_var(v) for v in sch.STANDARD_VARS] + _published_records(sections),
        "events": events,
        "roles": roles,
        "role_list": [_role_entry(ident, zh, roster) for ident, zh in roles.items()],
        "sections": [describe_section(s) for s in sections],
    }
    if ruleset is not None:
        doc["ruleset"] = {
            "name": ruleset.name,
            "levels": list(ruleset.levels),
            "vocabularies": ruleset_vocabularies(ruleset, sections),
        }
    return doc


def _role_entry(ident: str, zh: str, roster: str) -> dict[str, str]:
    """A role as ``role_list`` gives it: its id, its Chinese name, whether the roster adds it."""
    if ROLES.get(ident) == zh:
        return {"id": ident, "zh": zh, "from": "built-in"}
    return {"id": ident, "zh": zh, "from": "roster", "roster": roster}


def _published_records(sections: Sequence[Section[Any]]) -> list[dict[str, Any]]:
    """Records a plugin publishes for expressions (the escalation plugin's ``incident``), as sections declare them."""
    seen = {v.name for v in sch.STANDARD_VARS} | {"event"}
    out = []
    for section in sections:
        for var in section.variables.values():
            if isinstance(var, dict) and var.get("type") == sch.RECORD and var.get("name") not in seen:
                seen.add(var["name"])
                out.append(var)
    return out


def describe_section(section: Section[Any]) -> dict[str, Any]:
    """A section's syntax: headers, item kinds with their keywords, keywords, vocabularies."""
    return {
        "name": section.name,
        "headers": list(section.headers),
        "doc": section.doc,
        "doc_zh": section.doc_zh,
        "items": [
            {"kind": k.name, "keywords": list(k.keywords), "named": k.named, "body": k.body,
             "doc": k.doc, "doc_zh": k.doc_zh}
            for k in section.items
        ],
        "keywords": {k.lower(): list(v) for k, v in section.keywords.items()},
        "vocabularies": dict(section.vocabularies),
        "variables": {k: v for k, v in section.variables.items()},
        "grammar": section.grammar,
    }


def ruleset_vocabularies(ruleset: Ruleset, sections: Sequence[Section[Any]]) -> dict[str, list[str]]:
    """The names a ruleset declares, per vocabulary (activities, rewards, categories ...),
    the titles its items give themselves after the ids (``水管漏水`` after ``leaking_pipe``)."""
    out: dict[str, list[str]] = {}
    for section in sections:
        items = ruleset.items.get(section.name, ())
        for vocab, kind in section.vocabularies.items():
            names = [i.name.text for i in items if i.kind == kind and i.name is not None]
            names += [title for title in ruleset.titles.get(vocab, {}) if title not in names]
            out.setdefault(vocab, []).extend(names)
    if ruleset.levels:
        out["level"] = list(ruleset.levels)
    return out


def vocabulary_tables(doc: dict[str, Any]) -> str:
    """Markdown tables of the vocabulary (for docs/language.md)."""
    out = ["### Standard variables and their fields", "",
           "| name | field | type | Chinese | meaning | 含义 |", "|---|---|---|---|---|---|"]
    for var in doc["variables"]:
        for f in var["fields"]:
            out.append(f"| `{var['name']}` ({'、'.join(var['zh'])}) | `{f['name']}` | {f['type']} "
                       f"| {'、'.join(f['zh'])} | {f['doc']} | {f.get('doc_zh', '')} |")
    out += ["", "### Event fields (`event.…`), by event kind", "",
            "| event kind | fields |", "|---|---|"]
    for kind, fields in doc["events"].items():
        listed = ", ".join(f"`{name}` ({f['type']})" for name, f in fields.items())
        out.append(f"| `{kind}` | {listed} |")
    out += ["", "### Keywords", "", "| keyword | forms |", "|---|---|"]
    for key, forms in doc["keywords"].items():
        out.append(f"| {key} | {' · '.join(forms)} |")
    out += ["", "### Sections", "", "| section | item | keywords | named |", "|---|---|---|---|"]
    for section in doc["sections"]:
        headers = " / ".join(section["headers"])
        for item in section["items"]:
            out.append(f"| {headers} | {item['kind']} | {' · '.join(item['keywords'])} | "
                       f"{'yes' if item['named'] else 'no'} |")
    out += ["", "### Roles", "", "| role | 中文 |", "|---|---|"]
    for role, zh in doc["roles"].items():
        out.append(f"| `{role}` | {zh} |")
    return "\n".join(out) + "\n"


START_MARK = "<!-- vocabulary:start -->"
END_MARK = "<!-- vocabulary:end -->"


def installed_tables(plugins: pluggy.PluginManager | None = None) -> str:
    """The vocabulary tables for the sections and event types of ``plugins``.

    Default: the plugins installed now (``$GRIDCORE_PLUGINS`` pins them, as on
    the command line).
    """
    import os

    from ..plugin_host import Hooks, get_plugin_manager, plugin_selection

    hooks = Hooks(plugins if plugins is not None else get_plugin_manager(only=plugin_selection(os.environ)))
    sections = sorted(hooks.register_sections(), key=lambda s: s.name)
    return vocabulary_tables(describe_schema(sections, hooks.register_event_types()))


def with_tables(doc_text: str, tables: str) -> str:
    """``doc_text`` with the text between the vocabulary markers replaced by ``tables``."""
    start = doc_text.index(START_MARK) + len(START_MARK)
    end = doc_text.index(END_MARK)
    return doc_text[:start] + "\n" + tables + doc_text[end:]


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m gridcore.rules.vocabulary docs/language.md``: regenerate the tables."""
    import sys
    from pathlib import Path

    for name in (argv if argv is not None else sys.argv[1:]):
        path = Path(name)
        text = path.read_text(encoding="utf-8")
        path.write_text(with_tables(text, installed_tables()), encoding="utf-8")


if __name__ == "__main__":
    main()
