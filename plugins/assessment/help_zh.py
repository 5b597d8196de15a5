"""The Chinese of the help texts of ``gridcore assess`` and its sub-commands (评星定级), by their English:
shown instead of it when the CLI speaks Chinese (``lazy_command(..., chinese=HELP_ZH)``; docs/plugins.md)."""

from __future__ import annotations

from collections.abc import Mapping

HELP_ZH: Mapping[str, str] = {
    "Rate every node at the rated levels for a period (评星定级) and store the result.":
        "评星定级：对某一时段内评定层级的每个节点评星，并保存结果。",
    "One row per term of every score, with its rule.": "每项得分的每一项构成占一行，注明所依据的规则。",
    "Also write a chart of stars and score components: FILE.png, FILE.svg or FILE.pdf.":
        "同时画出星级和得分构成图：FILE.png、FILE.svg 或 FILE.pdf。",
    "Rate without storing the result.": "只评定，不保存结果。",
    "One of the ruleset's other assessment cycles (考核周期), as written: stars (NAME): ...":
        "规则集中另外的某个考核周期，按规则集的写法：stars (名称): ……",
    "Show the rated nodes of this subtree (its id or name), the default period being that of the ruleset "
    "governing it (a community's own variant).":
        "显示这个范围（节点编号或名称）内被评定的节点，默认时段按适用于它的规则集（社区自己的变体）。",
    "Write a chart (PNG, SVG or PDF) of stars per node and score components.": "画出各节点星级和得分构成图（PNG、SVG 或 PDF）。",
    "Where to write it: FILE.png, FILE.svg or FILE.pdf.": "写到哪里：FILE.png、FILE.svg 或 FILE.pdf。",
    "Only the rated nodes of this subtree (its id or name), as gridcore assess --node shows them.":
        "只含这个范围（节点编号或名称）内被评定的节点，与 gridcore assess --node 显示的相同。",
    "Who gained or lost a star between two assessed periods, and why.": "两个已评定时段之间谁升星、谁降星，以及原因。",
    "Stars of every node in every stored period (of one cycle).": "每个节点在每个已保存时段（同一考核周期）的星级。",
    "Only this node.": "只看这个节点。",
    "Every metric any enabled plugin contributes, for nodes over a period.": "某一时段内各节点的全部指标（所有已启用插件提供的）。",
    "A node (default: the community's top nodes and every grid).": "节点（默认：社区的顶层节点和每个网格）。",
    "Each person's subsidy for a period (the stored assessment, or a fresh one).": "某一时段每个人的补贴（按已保存的评定，或重新评定）。",
    "Only the roles held in this subtree (its id or name).": "只含在这个范围（节点编号或名称）内担任的角色。",
}  # fmt: skip
