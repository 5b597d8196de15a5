"""The Chinese of the help texts of ``gridcore drills`` and its sub-commands (消防演练), by their English:
shown instead of it when the CLI speaks Chinese (``lazy_command(..., chinese=HELP_ZH)``, as the built-in
plugins do; docs/plugins.md)."""

from __future__ import annotations

from collections.abc import Mapping

HELP_ZH: Mapping[str, str] = {
    "Drills (消防演练): what was held, against what the ruleset requires.": "消防演练：举行了哪些演练，对照规则集的要求。",
    "The drills held in PERIOD, each with whether it counts.": "时段 PERIOD 内举行的演练，及每次是否计入。",
    "2025-Q1, 2025-03, 2025 ...": "时段：2025-Q1、2025-03、2025……",
}  # fmt: skip
