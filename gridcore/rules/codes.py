"""Diagnostic codes: what each kind of problem is called, how to fix it, and an example.

Every diagnostic ``gridcore check`` prints has a code (``missing-colon``,
``unknown-activity`` ...): a diagnostic made with ``code=`` keeps it, any
other is recognised from its English message by the table below, and one no
entry recognises is ``other``.  Each entry carries a small ruleset showing
the mistake and the edit that fixes it; a test applies every edit and checks
the result passes, and docs/check-messages.md ("when check complains") is
generated from the same table (``python -m gridcore.rules.codes
docs/check-messages.md``; a test checks it is up to date).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import attrs

from ..classes import frozen
from .errors import Diagnostic

#: The common start of the examples: the district's base, three levels.
BASE = 'extends "district-base"\nlevels: community > grid > unit\n\n'

OTHER = "other"


@frozen
class Code:
    """One code: the English message it is recognised by, what it means, how to fix it.

    ``example`` is a ruleset with the mistake (``BASE`` is put in front unless
    it starts with ``!``, which is dropped); ``edit`` (old text, new text) the
    change that fixes it.  ``community`` names a community folder of
    rulesets/ whose roster is laid beside the example (names only a roster
    knows).  ``kind`` is ``file`` for problems that are not in a ruleset's text.
    """

    code: str
    pattern: str
    title: str
    title_zh: str
    fix: str
    fix_zh: str
    example: str = ""
    edit: tuple[str, str] = ("", "")
    community: str = ""
    kind: str = "rules"

    def matches(self, message: str) -> bool:
        """True if ``message`` (English) is one of this code's."""
        return re.match(self.pattern, message) is not None

    def example_text(self) -> str:
        """The full example ruleset."""
        return self.example[1:] if self.example.startswith("!") else BASE + self.example

    def fixed_text(self) -> str:
        """The example with the edit applied."""
        old, new = self.edit
        return self.example_text().replace(old, new, 1)


def _c(code: str, pattern: str, title: str, title_zh: str, fix: str, fix_zh: str,
       example: str = "", edit: tuple[str, str] = ("", ""), **more: str) -> Code:
    return Code(code, pattern, title, title_zh, fix, fix_zh, example, edit, **more)


P = "points:\n  "
A = "assessment:\n  "
E = "escalation:\n  "

CODES: tuple[Code, ...] = (
    # ------------------------------------------------------------ files and folders
    _c("no-rulesets", r"no \.rules file", "a folder holds no ruleset", "文件夹中没有规则集",
       "give the path of a .rules file, or the folder that holds one",
       "给出 .rules 文件的路径，或包含规则集的文件夹", kind="file"),
    _c("no-such-file", r".*: no such ruleset file", "a file does not exist", "文件不存在",
       "check the path and the file's name", "检查路径和文件名", kind="file"),
    _c("not-utf8", r"(.*: )?not a UTF-8 text file", "a file is not UTF-8 text", "文件不是 UTF-8 文本",
       "save the file as UTF-8 (in Notepad: Save As, Encoding: UTF-8; 另存为 → 编码 UTF-8)",
       "以 UTF-8 编码保存文件（记事本：另存为 → 编码 UTF-8）", kind="file"),
    _c("unreadable", r".*: cannot be read", "a file cannot be read", "文件无法读取",
       "check the file's permissions", "检查文件权限", kind="file"),
    _c("extends-circle", r".*'extends' goes round in a circle", "rulesets extend each other",
       "规则集互相继承", "make one of them extend nothing, or the district's base",
       "让其中一个不继承，或继承区级基础规则", kind="file"),
    _c("extends-too-deep", r".*more than \d+ levels of 'extends'", "too many levels of extends",
       "继承层数过多", "extend the ruleset your district publishes directly",
       "直接继承区里发布的规则集", kind="file"),
    _c("extends-path", r".*give a ruleset name, not a path", "extends names a path",
       "继承写成了路径", 'write the ruleset\'s name: extends "district-base"',
       '写规则集名称：继承 "district-base"', '!extends "./district-base"\n',
       ('"./district-base"', '"district-base"')),
    _c("extends-missing", r'.*extends ".*", but no ', "the parent ruleset is not found",
       "找不到上级规则集", "put the parent beside the file, or correct its name",
       "把上级规则集放在同一文件夹，或改正名称", '!extends "distrct-base"\n',
       ('"distrct-base"', '"district-base"')),
    # ------------------------------------------------------------ lines and sections
    _c("line-too-long", r"this line is too long", "a line is too long", "一行太长",
       "split it into several items", "拆成几条"),
    _c("nested-too-deeply", r"this expression is nested too deeply", "an expression is nested too deeply",
       "表达式嵌套太深", "split it into simpler rules", "拆成更简单的规则"),
    _c("unclosed-bracket", r"this bracket is opened but never closed", "a bracket is not closed",
       "括号没有闭合", "add the closing bracket", "补上右括号",
       P + "activity 扫地: 5 per hour when (member.party_member\n",
       ("member.party_member\n", "member.party_member)\n")),
    _c("outside-section", r"this line is not inside a section", "a line before any section",
       "一行不在任何栏目之内", "start a section with its header line first, e.g. 'points:'",
       "先写栏目标题行，例如 '积分：'", "activity 扫地: 5 per hour\n",
       ("activity 扫地", "points:\n  activity 扫地")),
    _c("preamble-after-section", r"this line must come before the first section",
       "ruleset/extends/levels after a section", "规则集/继承/层级写在了栏目之后",
       "move it to the top of the file", "把它移到文件开头",
       '!extends "district-base"\npoints:\n  activity 扫地: 5 per hour\nlevels: community > grid\n',
       ("points:\n  activity 扫地: 5 per hour\nlevels: community > grid\n",
        "levels: community > grid\npoints:\n  activity 扫地: 5 per hour\n")),
    _c("dated-without-item", r"a dated line must follow the item it changes",
       "a dated line with no item above it", "带日期的行上面没有条目",
       "put it right under the item", "把它放在该条目的下一行",
       P + "from 2025-07-01: 6 per hour\n  activity 扫地: 5 per hour\n",
       ("from 2025-07-01: 6 per hour\n  activity 扫地: 5 per hour\n",
        "activity 扫地: 5 per hour\n    from 2025-07-01: 6 per hour\n")),
    _c("unknown-section", r"unknown section", "a section no installed plugin knows", "未知的栏目",
       "use the header of an installed section (see 'did you mean'); a plugin disabled with -p no:NAME brings none",
       "使用已安装栏目的标题；用 -p no:插件名 禁用的插件不提供栏目",
       "pionts:\n  activity 扫地: 5 per hour\n", ("pionts:", "points:")),
    _c("level-twice", r"level '.*' is listed twice", "a level is listed twice", "层级重复",
       "list each level once", "每个层级只写一次",
       '!extends "district-base"\nlevels: community > grid > grid\n',
       ("grid > grid", "grid > unit")),
    _c("indentation", r"this line('s indentation| is indented with)", "tabs and spaces mixed",
       "缩进混用制表符和空格", "indent with spaces only (gridcore fmt does it)",
       "只用空格缩进（gridcore fmt 会自动修正）",
       P + "activity 扫地: 5 per hour\n\tactivity 擦窗: 4 per hour\n",
       ("\tactivity", "  activity")),
    _c("unknown-subtree", r"ruleset .* applies to .*, which is no node|'.*' names \d+ nodes",
       "applies to names no node of the tree, or a name several nodes share",
       "适用于的节点不在层级树中，或是多个节点共用的名称",
       "name a node of the community's tree by its id or name (gridcore hierarchy show), or leave the line out",
       "写社区层级树中的节点编号或名称（gridcore hierarchy show），或删去这一行",
       "applies to: 银泉第一网格\n", ("银泉第一网格", "银泉社区第一网格"), community="yinquan"),
    _c("levels-mismatch", r"the ruleset's levels \(.*\) are not the community's",
       "the ruleset's levels line is not the community's levels (the engine refuses it)",
       "规则集的层级与社区的层级不一致（引擎不会接受）",
       "write the community's levels (gridcore hierarchy show prints them) in the levels line, or correct the roster",
       "在层级行写社区的层级（gridcore hierarchy show 可列出），或改正花名册",
       '!extends "district-base"\nlevels: community > grid\n', ("levels: community > grid\n",
                                                                  "levels: community > grid > unit\n"),
       community="yinquan"),
    _c("ungoverned-subtree", r".*: no ruleset checked here governs (this|any of)",
       "a community no ruleset of the folder governs (once for a street none of whose communities is)",
       "文件夹中没有规则集适用于某个社区（某个街道下的社区都没有时，只报一次）",
       "add a ruleset that applies to it, to its street or to the whole tree",
       "增加适用于该社区、其街道或整个层级树的规则集", kind="file"),
    # ------------------------------------------------------------ the parser's catalogue
    _c("levels-colon", r"a colon is missing after 'levels'", "no colon after levels",
       "层级后缺少冒号", "write levels: community > grid > unit", "写成 层级：社区 > 网格 > 单元",
       '!extends "district-base"\nlevels community > grid > unit\n',
       ("levels community", "levels: community")),
    _c("levels-separator", r"levels are separated by '>'", "levels not separated by '>'",
       "层级没有用 '>' 分隔", "write levels: community > grid > unit",
       "写成 层级：社区 > 网格 > 单元", '!extends "district-base"\nlevels: community, grid\n',
       ("community, grid", "community > grid")),
    _c("name-missing", r"a name is missing", "ruleset or extends without a name", "缺少名称",
       'add the name in quotes, e.g. ruleset "银泉社区"', '加上带引号的名称，例如 规则集 "银泉社区"',
       '!ruleset\n', ("ruleset\n", 'ruleset "银泉社区"\n')),
    _c("unfinished-expression", r"the expression is unfinished", "an unfinished expression",
       "表达式不完整", "add the value after the operator", "在运算符后补上数值",
       P + "activity 扫地: 5 per hour when event.hours >=\n",
       ("event.hours >=", "event.hours >= 2")),
    _c("double-operator", r"two operators in a row", "two operators in a row", "连续出现两个运算符",
       "remove one of them", "删掉其中一个",
       P + "activity 扫地: 5 per hour when event.hours >= >= 2\n", (">= >=", ">=")),
    _c("ends-early", r"the line ends too early", "a line ends too early", "这一行提前结束了",
       "finish the item with one of the things listed under 'expected'",
       "用'应为'中列出的内容把条目写完整",
       P + "activity 扫地: 5 per hour, at most\n", ("at most\n", "at most 40 per month\n")),
    _c("number-in-words", r"a number is expected here, written with digits",
       "a number written in words", "数字用汉字或英文单词书写", "write the number with digits, e.g. 5",
       "用阿拉伯数字书写，例如 5", P + "activity 扫地: five per hour\n", ("five", "5")),
    _c("empty-rule", r"nothing follows the colon", "nothing after the colon", "冒号后面没有内容",
       "write the rule after the colon, on the same line", "在冒号后面（同一行）写上规则",
       P + "activity 扫地:\n", ("扫地:\n", "扫地: 5 per hour\n")),
    _c("trailing-comma", r"the item ends with a comma", "an item ends with a comma", "条目以逗号结尾",
       "remove the comma, or continue the item on the next line, indented deeper",
       "删掉逗号，或在下一行（缩进更深）接着写", P + "activity 扫地: 5 per hour,\n",
       ("hour,\n", "hour\n")),
    _c("dated-colon", r"a colon is missing after the date", "no colon after a date",
       "日期后面缺少冒号", "write from 2025-01-01: followed by the new rule",
       "写成 自 2025-01-01 起：再接新的规则",
       P + "activity 扫地: 5 per hour\n    from 2025-07-01 6 per hour\n",
       ("2025-07-01 6", "2025-07-01: 6")),
    _c("working-time-here", r"working time cannot be counted here", "working time where a span counts "
       "calendar time", "此处的时间按自然时间计，不能写工作日", "write the span in days or hours (a repeat "
       "window: within 7 days)", "按自然日或小时写（反复上报的时间窗：7天内）",
       E + "escalate repeats: when repeated 3 times within 2 working days, to grid\n",
       ("2 working days", "2 days")),
    _c("misspelt-keyword", r"a keyword is misspelt", "Chinese keywords written together, one character "
       "wrong", "连写的关键词中有一个字写错了", "write the keywords as 'did you mean' says", "按'是不是想写'改正",
       "!extends \"district-base\"\nlevels: community > grid > unit\n\n积分：\n"
       "  活动 入户走访：每件 2 分，每月最多 40 分\n  活动 党小组活动：每小时 3 分，每越最多 12 分\n",
       ("每越最多", "每月最多")),
    _c("wrong-word", r"this word does not fit here", "a word that does not fit", "这个词用在这里不对",
       "use one of the words listed under 'expected' (see 'did you mean')",
       "改用'应为'中列出的词", P + "activity 扫地: 5 per hour, at most 40 per mnth\n",
       ("mnth", "month")),
    _c("missing-colon", r"a colon is missing", "a colon is missing", "缺少冒号",
       "put ':' (or '：') between the item's name and its rule", "在条目名称和规则之间加上 '：'",
       P + "activity 扫地 5 per hour\n", ("扫地 5", "扫地: 5")),
    _c("missing-unit", r"a value is missing its unit", "a value without its unit", "数值缺少单位",
       "write the unit after the number, e.g. '5 points' or '48h'",
       "在数字后写上单位，例如 '5 分' 或 '48小时'", P + "activity 扫地: 5 per\n", ("5 per\n", "5 per hour\n")),
    _c("name-expected", r"a name is expected here", "a name is missing", "这里应是名称",
       "write the item's name (quote it if it is unusual)", "写上条目名称（特殊名称请加引号）",
       P + "activity : 5 per hour\n", ("activity :", "activity 扫地:")),
    _c("keyword-expected", r"this is not a known item", "a line that starts with no item word",
       "不是已知的条目", "start the line with one of the item words listed (see 'did you mean')",
       "以列出的条目词之一开头", P + "activty 扫地: 5 per hour\n", ("activty", "activity")),
    _c("item-in-another-section", r"'.*' is an item of the .* section, and this line is in",
       "an item written under another section's header", "条目写在了别的栏目下",
       "move the line under its own section's header", "把这一行移到它所属栏目的标题下面",
       A + "limit grid: accept within 4 working hours\n", ("assessment:\n", "escalation:\n")),
    _c("stray-punctuation", r"('.' does not separate the parts of a line|a line does not end with ')",
       "punctuation the rules do not use (；。)", "规则中不用的标点（；。）",
       "separate the parts of a line with commas, and end it with nothing",
       "一行中的各项用逗号分隔，行末不加标点",
       P + "activity 扫地: 5 per hour；at most 20 per month\n", ("；", ", ")),
    _c("glued-keyword", r"a keyword and a name are written together",
       "a keyword glued to a name", "关键词和名称连在一起了",
       "put a space between the keyword and the name", "在关键词和名称之间加一个空格",
       "积分：\n  活动扫地：每小时 5 分\n", ("活动扫地", "活动 扫地")),
    _c("missing-comma", r"a comma is missing before", "a comma left out between two parts of a line",
       "一行中两项之间缺少逗号", "put a comma before the word named (see 'did you mean')",
       "在指出的词前加上逗号（见“是不是想写”）",
       E + "holiday national_day: 国庆节 2025-10-01 until 2025-10-07\n",
       ("国庆节 2025-10-01", "国庆节, 2025-10-01")),
    _c("missing-word", r"'.+' is missing before '", "a word left out", "缺少一个词",
       "write the word named before the one found (see 'did you mean')",
       "在此处的词前补上指出的词（见“是不是想写”）",
       "事件流转：\n  时限 grid：2小时受理\n", ("2小时受理", "2小时内受理")),
    _c("word-not-needed", r"'.+' is not needed here", "a word too many", "多了一个词",
       "delete the word (the line reads without it)", "删去这个词（删去后这一行就通顺了）",
       "事件流转：\n  时限 grid：受理 2 小时内，办结 3 个工作日\n", ("小时内", "小时")),
    _c("keyword-in-name", r"a name and the keyword '.+' are written together", "a name glued to a keyword after it",
       "名称和其后的关键词连在一起了", "put a space before the keyword (see 'did you mean')",
       "在关键词前加一个空格（见“是不是想写”）",
       A + "rate: grid\n  metric patrol_coverage: weight 100\n"
           "  stars: score >= 90 and not unresolved_serious_incidents为5星, otherwise 3\n",
       ("incidents为5星", "incidents 为5星")),
    _c("name-with-digits", r"a name that ends in digits must be written in quotes",
       "a name ending in digits", "以数字结尾的名称", "write the name in quotes",
       "给名称加上引号", "积分：\n  礼遇 大米2024：200 分\n", ("大米2024", '"大米2024"')),
    _c("unexpected", r"unexpected '", "something unexpected", "此处不应出现的内容",
       "compare the line with the examples in docs/language.md", "对照 docs/language.md 中的例子修改",
       P + "activity 扫地: 5 per hour )\n", (" )\n", "\n")),
    # ------------------------------------------------------------ inheritance and dates
    _c("defined-twice", r"'.*' is defined twice in this section", "an item defined twice",
       "条目重复定义", "keep one of them (a later change in time is a 'from DATE:' line)",
       "只保留一条（按时间变化请写 '自 日期 起：' 行）",
       P + "activity 扫地: 5 per hour\n  activity 扫地: 4 per hour\n",
       ("  activity 扫地: 4 per hour\n", "")),
    _c("remove-missing", r"cannot remove '", "removing what the parent does not have",
       "删除上级规则集中没有的条目", "remove an item the parent has (see 'gridcore show')",
       "删除上级规则集中确有的条目（见 gridcore show）", P + "remove activity 志愿服物\n",
       ("志愿服物", "志愿服务")),
    _c("removed-and-written", r"'.*' is removed here and written again on line", "an item both removed and "
       "written in one section", "同一条目既删除又重写", "keep the line that says what is meant: the item "
       "(to change it) or the removal (to drop it)", "只保留表达本意的一行：条目本身（修改）或删除行（删除）",
       P + "remove activity 志愿服务\n  activity 志愿服务: 6 per hour\n", ("remove activity 志愿服务\n  ", "")),
    _c("override-missing", r"'override .*' overrides something", "overriding what the parent does not have",
       "覆盖上级规则集中没有的条目", "use the parent's item name (see 'did you mean')",
       "使用上级规则集中的条目名称", P + "override activity 志愿服物: 6 per hour\n",
       ("志愿服物", "志愿服务")),
    _c("new-item-near-parent", r"'.*' is a new item; the parent has", "a new item close to the parent's",
       "与上级条目名称相近的新条目", "to replace the parent's item, use its name",
       "若要替换上级条目，请使用它的名称", P + "activity 志愿服物: 6 per hour\n", ("志愿服物", "志愿服务")),
    _c("not-a-date", r"\S+ is not a real date", "a date that does not exist", "不存在的日期",
       "write a day the month has (the message says how many), as YYYY-MM-DD", "写该月确有的一天（消息中说明该月天数），格式 年-月-日",
       P + "activity 扫地: 5 per hour\n    from 2025-02-30: 6 per hour\n", ("2025-02-30", "2025-03-01")),
    _c("date-format", r"a date is written YYYY-MM-DD", "a date written another way (2025.4.1)",
       "日期写法不对（如 2025.4.1）", "write it YYYY-MM-DD (see 'did you mean')", "写成 年-月-日（见“是不是想写”）",
       P + "activity 扫地: 5 per hour\n    from 2025.4.1: 6 per hour\n", ("2025.4.1", "2025-04-01")),
    _c("dates-reversed", r"the end date .* is not after the start date", "an end date before its start",
       "结束日期早于开始日期", "swap the dates or fix the end date", "调换日期或改正结束日期",
       P + "activity 扫地: 5 per hour\n    from 2025-07-01 until 2025-03-01: 6 per hour\n",
       ("until 2025-03-01", "until 2025-10-01")),
    _c("date-order", r"this date \(.*\) is not after the one above", "dated lines out of order",
       "日期没有按先后排列", "list dated lines from the earliest to the latest",
       "按从早到晚的顺序写带日期的行",
       P + "activity 扫地: 5 per hour\n    from 2025-07-01: 6 per hour\n"
       "    from 2025-03-01: 7 per hour\n",
       ("    from 2025-07-01: 6 per hour\n    from 2025-03-01: 7 per hour\n",
        "    from 2025-03-01: 7 per hour\n    from 2025-07-01: 6 per hour\n")),
    _c("date-overlap", r".* overlaps the range above", "date ranges overlap", "日期范围重叠",
       "end the earlier range before the later one starts", "让前一段在后一段开始之前结束",
       P + "activity 扫地: 5 per hour\n    from 2025-01-01 until 2025-07-01: 6 per hour\n"
       "    from 2025-06-01: 7 per hour\n", ("until 2025-07-01", "until 2025-06-01")),
    _c("date-gap", r"nothing is in force from", "a gap between date ranges", "日期范围之间有空档",
       "extend one range to meet the other", "延长其中一段使两段相接",
       P + "activity 扫地: 5 per hour\n    from 2025-01-01 until 2025-03-01: 6 per hour\n"
       "    from 2025-04-01: 7 per hour\n", ("until 2025-03-01", "until 2025-04-01")),
    # ------------------------------------------------------------ names and types
    _c("unknown-name", r"unknown name '", "a name that means nothing here", "未知的名称",
       "use a variable or field listed (gridcore schema lists them)",
       "使用列出的变量或字段（gridcore schema 可查看）",
       P + "activity 扫地: 5 per hour when membr.party_member\n", ("membr", "member")),
    _c("unknown-field", r"'.*' has no field '", "a field the record does not have", "记录没有这个字段",
       "use one of the fields listed (gridcore schema lists them)", "使用列出的字段",
       P + "activity 扫地: 5 per hour when member.party_membr\n", ("party_membr", "party_member")),
    _c("unknown-function", r"unknown function '", "a function that does not exist", "未知的函数",
       "use min, max, abs or round", "使用 min、max、abs 或 round",
       P + "activity 扫地: 5 per hour when maxx(event.hours, 1) >= 2\n", ("maxx", "max")),
    _c("type-mismatch", r"expected .* here, but this is", "a value of the wrong kind",
       "值的类型不对", "write a value of the kind expected", "写成应有类型的值",
       P + "activity 扫地: 5 per hour when event.hours\n", ("event.hours\n", "event.hours >= 2\n")),
    _c("cannot-compare", r"cannot compare ", "comparing values of different kinds",
       "比较了不同类型的值", "compare like with like (a number with a number)", "同类相比（数字比数字）",
       P + "activity 扫地: 5 per hour when event.hours == \"两\"\n", ('"两"', "2")),
    _c("cannot-compute", r"cannot compute ", "arithmetic on values that do not allow it",
       "对不能运算的值做了运算", "compute with numbers only", "只对数字做运算",
       P + "activity 扫地: 5 per hour when member.party_member + 1\n",
       ("member.party_member + 1", "member.party_member")),
    _c("unknown-level", r"unknown level '", "a level the ruleset does not declare", "未知的层级",
       "use a level from the levels: line (see 'did you mean')", "使用层级行中的层级",
       A + "rate: gird\n", ("gird", "grid")),
    _c("unknown-role", r"unknown role '", "a role neither built in nor declared by the roster", "未知的角色",
       "use a role listed (see 'did you mean'): a built-in role or one the roster declares",
       "使用列出的角色：内置角色或花名册声明的角色", E + "verified by: grid_leadr\n",
       ("grid_leadr", "grid_leader")),
    _c("role-unchecked", r"'.*' is no built-in role and no roster was given", "a role that is no built-in one, "
       "checked without a roster (a warning)", "不是内置角色，且未对照花名册检查（警告）",
       "check beside the roster (--community DIR) if the roster declares it; else write a built-in role",
       "若是花名册声明的角色，请对照花名册检查（--community 目录）；否则写内置角色",
       E + "verified by: 街道网格专干\n", ("街道网格专干", "网格长")),
    _c("unknown-activity", r"unknown activity '", "an activity the ruleset does not declare",
       "未知的活动", "use an activity of the points section, or declare it",
       "使用积分栏目中的活动，或先声明",
       P + "activity 扫地: 5 per hour when event.activity == \"志愿服物\"\n", ("志愿服物", "志愿服务")),
    _c("unknown-department", r"unknown line department '", "a department the community does not have",
       "社区没有这个条线部门", "use a department id or name from departments.csv (or the roster workbook's "
       "部门 departments sheet), or add it there", "使用 departments.csv（或花名册的“部门 departments”表）中的部门编号或名称，或先在其中添加",
       E + "incident fire_hazard: start at grid, route to fier\n", ("fier", "fire"),
       community="yinquan"),
    _c("off-plan-size", r"\d+ \S+ cell\(s\) of .* are off the planned size",
       "cells far from the size the ruleset plans (a warning)", "网格偏离规划规模（警告）",
       "split or merge those cells, or change the plan (its tolerance)", "拆分或合并这些网格，或调整规划",
       "!levels: county > township > village > group > microgrid\nplanning:\n"
       "  size group: 300 households, within 20%\n", ("within 20%", "within 60%"), community="xingfuwan"),
    _c("unknown-metric", r"no installed plugin contributes a metric named", "a metric no plugin measures",
       "没有插件提供的指标", "use a metric name listed (see 'did you mean'), or install its plugin",
       "使用列出的指标名称，或安装提供它的插件", A + "metric patrol_coverag: weight 25\n",
       ("patrol_coverag", "patrol_coverage")),
    _c("unknown-category", r"unknown category '", "an incident category the ruleset does not declare",
       "规则集没有声明的事件类别", "use a category's code or name from a 'category' line, or declare it there",
       "使用'类别'行中的类别代码或名称，或先在那里声明",
       E + "incident fire_hazrd: start at grid\n", ("fire_hazrd", "fire_hazard")),
    _c("extra-workday-without-holiday", r"extra workday '.*' names no holiday",
       "make-up working days (调休) that name no holiday the ruleset declares",
       "补班没有对应规则集声明的节假日",
       "name the holiday the make-up days belong to (its id or its name), or declare the holiday",
       "写出调休所属的节假日（编号或名称），或先声明该节假日",
       E + "extra workday national_dya: 2025-09-28\n", ("national_dya", "national_day")),
    _c("closed-list-empty", r"a closed category list that lists no category",
       "a closed category list with no category declared: every report would be refused",
       "类别清单仅限所列却未列出任何类别：所有上报都将不予受理",
       "declare the categories the list takes (category CODE: NAME), or open it (categories: open)",
       "声明受理的类别（类别 代码：名称），或改为不限（类别清单：不限）",
       "!levels: community > grid > unit\nescalation:\n  categories: closed\n  incident any: start at grid\n",
       ("  categories: closed\n", "  category leaking_pipe: 水管漏水\n  categories: closed\n")),
    _c("catch-all-unused", r"the catch-all route is never used",
       "a catch-all route no report reaches: the list is closed and every listed category has its own route "
       "(a warning)", "“任意”事件规则用不到：类别清单仅限所列，且所列类别都有自己的规则（警告）",
       "remove the catch-all route, or open the list", "删除“任意”事件规则，或把类别清单改为不限",
       "!levels: community > grid > unit\nescalation:\n  category leaking_pipe: 水管漏水\n  categories: closed\n"
       "  incident any: start at grid\n  incident leaking_pipe: start at unit\n",
       ("  incident any: start at grid\n", "")),
    _c("unknown-vocabulary", r"unknown \w+ '", "a name the ruleset does not declare", "未声明的名称",
       "use one of the names listed, or declare it", "使用列出的名称，或先声明"),
    # ------------------------------------------------------------ ladders and limits
    _c("step-unreachable", r"this step can never be reached", "a ladder step never used",
       "一档永远不会用到", "remove the step, or move it above the one that covers it",
       "删掉这一档，或把它移到覆盖它的档之前",
       A + "stars: 5 if score >= 90, 4 if score >= 80, 3 if score >= 85, otherwise 2\n",
       (", 3 if score >= 85", "")),
    _c("step-overlap", r"this step overlaps an earlier one", "ladder steps overlap", "档位重叠",
       "make each step's range start where the one before ends", "让每一档从上一档结束处开始",
       A + "stars: 5 if score >= 90, 4 if 80 <= score < 95, otherwise 3\n", ("80 <= score < 95", "score >= 80")),
    _c("ladder-gap", r"no step applies when", "a ladder with a gap", "档位之间有空档",
       "add 'otherwise ...' or a step for the range named", "加上 '否则 …' 或覆盖该范围的一档"),
    _c("stars-order", r".*(put \d+ after \d+|list star levels)", "star levels out of order",
       "星级没有按从高到低排列", "list star levels from most to fewest stars", "按星级从高到低排列",
       A + "stars: 4 if score >= 80, 5 if score >= 90, otherwise 3\n",
       ("4 if score >= 80, 5 if score >= 90", "5 if score >= 90, 4 if score >= 80")),
    _c("stars-gap", r"no step covers ", "scores that get fewer stars than lower scores",
       "较高的得分反而星级更低", "let the steps meet: a step's lower bound alone is enough, the steps "
       "above it take the higher scores", "让各档首尾相接：写下限即可，更高的得分由前面的档计算",
       A + "stars: 5 if score >= 90, 4 if score >= 80 and score < 85, otherwise 3\n",
       ("score >= 80 and score < 85", "score >= 80")),
    _c("limit-unmeetable", r"'.*' (cannot|may not) be met", "a time limit that cannot be met",
       "无法做到的时限", "give the time allowed, counted in working time where nobody is on duty "
       "round the clock", "写明允许的时间；没有全天值班的，按工作时间计",
       E + "limit unit: accept within 0 hours\n", ("0 hours", "2 working hours")),
    _c("limit-missing", r"cases of .* have no time limit at ", "a level of an incident ladder without a time limit",
       "事件上报链上的某一层级没有时限", "give that level a limit ('limit LEVEL: ...'), or the category one at it "
       "('limit for CATEGORY: at LEVEL ...')", "给该层级加上时限（'时限 层级：…'），或给该类别在该层级加上时限（'类别时限 类别：于 层级 …'）",
       E + "incident any: start at unit\n  limit unit: accept within 2 working hours\n"
       "  limit community: accept within 1 working day\n",
       ("  limit community", "  limit grid: accept within 4 working hours\n  limit community")),
    # ------------------------------------------------------------ the community beside the ruleset
    _c("verifier-missing", r"no .* at or above \d+ of the \d+ cells", "nobody can verify cases in some cells",
       "有的最小网格上报的事件无人核查", "name a role every cell has at or above it in 'verified by:', or add "
       "the verifier to the roster", "在 '核查人：' 中写每个最小网格本级或上级都有的角色，或在名册中补上核查人",
       E + "incident any: start at unit\n", ("start at unit\n", "start at unit\n  verified by: microgrid_leader\n"),
       community="<microgrid-village>"),
    _c("notified-role-missing", r"nobody in .* holds ", "a notified role nobody holds", "被通知的角色无人担任",
       "notify a role the community has, or add the role to the roster", "通知社区已有的角色，或在名册中补上该角色",
       E + "incident fire_hazard: start at grid, notify building_leader at grid\n",
       ("building_leader at grid", "grid_leader at grid"), community="yinquan"),
    _c("handler-role-missing", r"nobody in .* holds .*: '(handler limit|then pass to) ", "a handler limit's role "
       "nobody holds", "办理人时限的角色无人担任", "name a role the community has, or add the role to the roster",
       "写社区已有的角色，或在名册中补上该角色",
       E + "handler limit unit_leader: resolve within 1 working day, then pass to microgrid_leader\n",
       ("microgrid_leader", "grid_leader"), community="yinquan"),
    _c("community-unreadable", r"the community beside the ruleset cannot be read", "the community's files cannot be read",
       "社区资料无法读取", "fix the roster file the message names (gridcore hierarchy show loads it too)",
       "按提示修改名册文件（gridcore hierarchy show 也会读取它）", kind="file"),
)

_BY_CODE = {c.code: c for c in CODES}


def entry(code: str) -> Code | None:
    """The catalogue entry of ``code``."""
    return _BY_CODE.get(code)


def classify(message: str) -> str:
    """The code of an English message (``other`` when no entry recognises it)."""
    for c in CODES:
        if c.matches(message):
            return c.code
    return OTHER


def code_of(diagnostic: Diagnostic) -> str:
    """A diagnostic's code: its own, or the one its message is recognised as."""
    return diagnostic.code or classify(diagnostic.message)


def with_codes(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    """The diagnostics, each carrying its code."""
    return [d if d.code else attrs.evolve(d, code=classify(d.message)) for d in diagnostics]


def markdown() -> str:
    """docs/check-messages.md: every code, what it means, its fix and an example."""
    out = [
        "# When check complains",
        "",
        "Every problem `gridcore check` reports carries a code (shown by",
        "`gridcore check --format json`, and by the editor). This page lists",
        "every code with what it means and how to fix it; each example below is",
        "checked by the test suite: the example fails with its code, and the",
        "example with the fix applied passes. Codes without an example are",
        "problems of files and folders, lines too long or too deeply nested to print",
        "here, and ladders only a third party's section can have.",
        "",
        "Some problems are warnings when a ruleset is put in force and errors in",
        "`check`, which knows the installed plugins and the community beside the",
        "ruleset: `unknown-metric`, `unknown-category`, and, when the community's",
        "roster is beside it, `verifier-missing` and `notified-role-missing`.",
        "`handler-role-missing` is a warning in both (the limit binds no one; a",
        "case climbs the ladder as without it). A role is checked against the roster's roles (the",
        "built-in ones and those it declares, `unknown-role`); checked without a",
        "roster, a role that is no built-in one and no slip of one may be one the",
        "roster declares: a warning (`role-unchecked`). A warning found",
        "when a ruleset is put in force is kept once in `engine.warnings`, in English",
        "and Chinese (`file:line:col: message / 中文`), however many files of a",
        "district's chain bring the same line (the base, then each variant that",
        "extends it), and `gridcore init --ruleset` and `gridcore use` print it.",
        "",
        "每个问题都带有一个代码。下表列出每个代码的含义和修改方法；",
        "每个例子都由测试检查：原例子报出该代码，按修改方法改后通过。",
        ("有些问题在规则集生效时只是警告，在 check 中则是错误（check 知道已安装的插件和规则集旁边的社区）。"
        "生效时的警告在 `engine.warnings` 中只记一次（中英文），`gridcore init --ruleset` 和 `gridcore use` 会打印出来。"),
        "",
        "| code | what it means | 含义 | fix | 修改 |",
        "|---|---|---|---|---|",
    ]
    for c in CODES:
        out.append(f"| `{c.code}` | {c.title} | {c.title_zh} | {c.fix} | {c.fix_zh} |")
    out.append(f"| `{OTHER}` | a section's own rule (the message says which) | 栏目自己的规则 "
               "| follow the message's fix | 按提示修改 |")
    out += ["", "## Examples", ""]
    for c in CODES:
        if not c.example:
            continue
        old, new = c.edit
        out += [f"### `{c.code}`", "", f"{c.title} ({c.title_zh}).", ""]
        if c.community:
            where = (f"a village whose grids are led by micro-grid leaders only "
                     f"(`tests/data/{c.community.strip('<>')}`)" if c.community.startswith("<")
                     else f"the `{c.community}` community (`rulesets/{c.community}`)")
            out += [(f"Checked beside {where}: `gridcore check --community DIR` (or a "
                     "community.yaml beside the file)."), ""]
        out += ["```text", c.example_text().rstrip("\n"), "```", "",
                f"Fix: change `{_inline(old)}` to `{_inline(new)}`" if new
                else f"Fix: delete `{_inline(old)}`", ""]
    return "\n".join(out)


def _inline(text: str) -> str:
    return text.strip("\n").replace("\n", "⏎").replace("\t", "→")


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m gridcore.rules.codes docs/check-messages.md``: regenerate the page."""
    import sys
    from pathlib import Path

    for name in (argv if argv is not None else sys.argv[1:]):
        Path(name).write_text(markdown(), encoding="utf-8")


if __name__ == "__main__":
    main()
