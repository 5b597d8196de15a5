"""The Chinese of the help texts of gridcore's own commands and of the options every command shares.

Shown instead of the English when the CLI speaks Chinese (``gridcore --lang zh``,
``GRIDCORE_LANG=zh`` or a Chinese locale: ``gridcore_app.cli.help_lang``).  Keyed
by the English as written (whitespace aside), so a help text changed in English
and not here is found by tests/test_help_chinese.py.  A plugin passes the
Chinese of its own commands' texts with ``lazy_command(..., chinese=...)``.
"""

from __future__ import annotations

from collections.abc import Mapping

HELP_ZH: Mapping[str, str] = {
    # the root, click's own options, the options every command shares
    "gridcore: community grid governance (网格化管理) under each community's own rules. Plugins: every installed "
    "plugin is loaded; GRIDCORE_PLUGINS=points,escalation loads only those named, and -p no:NAME leaves one out.":
        "gridcore：按各社区自己的规则进行网格化管理。插件：默认加载所有已安装的插件；"
        "GRIDCORE_PLUGINS=points,escalation 只加载列出的插件，-p no:插件名 不加载该插件。",
    "Show the version and exit.": "显示版本号后退出。",
    "Show this message and exit.": "显示本帮助后退出。",
    "Disable the plugin NAME for this command (like --disable NAME).": "本次命令停用插件 NAME（同 --disable NAME）。",
    "Disable the plugin NAME for this command.": "本次命令停用插件 NAME。",
    "Refuse to run when an installed plugin cannot be loaded (default: skip it, with a warning).":
        "已安装的插件无法加载时不运行（默认：跳过该插件并给出警告）。",
    "On an error, show the Python traceback too (for plugin authors).": "出错时同时显示 Python 调用栈（供插件开发者使用）。",
    "The language of help pages and of what commands show (a CSV's headings, explain's labels): en or zh. "
    "Default: $GRIDCORE_LANG, else the locale (LANG=zh_CN.UTF-8: zh), else en.":
        "帮助和命令输出（CSV 表头、explain 的标签）所用的语言：en（英文）或 zh（中文）。"
        "默认取环境变量 GRIDCORE_LANG，其次取系统语言（LANG=zh_CN.UTF-8 即中文），否则为英文。",
    "The store: a folder (embedded TinyDB), sqlite:///file.db or postgresql://...":
        "数据库：一个文件夹（内置 TinyDB）、sqlite:///文件.db 或 postgresql://...",
    "Act as if it were this time (ISO 8601; without a zone, the community's: 2025-03-01, 2025-03-01T09:00), or "
    "'latest' (最新): the time of the store's newest event. Default: the system clock.":
        "按这个时间执行（ISO 8601 格式；不带时区即社区所在时区：2025-03-01、2025-03-01T09:00、2025年3月1日），"
        "或写 最新（latest）：按库中最新事件的时间。默认：系统时钟。",
    "A CSV's header row: the column ids (en, what scripts read) or each column's Chinese and id "
    "(zh: 获得积分 earned, for Excel). Default: $GRIDCORE_LANG, else en. (CSV 表头：zh 为中文加编号)":
        "CSV 表头：en 为列编号（供脚本读取），zh 为“中文 编号”（如 获得积分 earned，便于用 Excel 打开）。"
        "默认取环境变量 GRIDCORE_LANG，否则为 en。",
    "Output format.": "输出格式：text（文本）、csv 或 json。",
    "2025-Q1, 2025-03, 2025-W10, 2025-03-05 or 2025.": "时段：2025-Q1（季度）、2025-03（月）、2025-W10（周）、2025-03-05（日）或 2025（年）；也可写 2025年一季度、2025年3月、2025年第10周、2025年3月5日、2025年。",
    # the rules language: check, fmt, show, schema, test, lsp
    "Parse and type-check ruleset FILES (or every .rules file in a folder); exit 1 on any error.":
        "检查规则集文件 FILES（或文件夹中所有 .rules 文件）的写法和类型；有错误时退出码为 1。",
    "Language of messages (default: from the locale, LANG=zh_CN -> zh).": "提示信息的语言（默认按系统语言，LANG=zh_CN 即中文）。",
    "Also check names only the roster knows (line departments) against this community folder (or YAML file, or "
    "roster workbook .xlsx). Default: the community.yaml beside each file, if any.":
        "同时对照这个社区文件夹（或 YAML 文件、花名册工作簿 .xlsx）检查只有花名册才有的名称（条线部门）。"
        "默认：每个文件旁的 community.yaml（如有）。",
    "text (default) or json: every diagnostic with its file, range, severity, code, message in English and "
    "Chinese, and fix, on stdout.":
        "text（默认）或 json：每条提示连同文件、位置、严重程度、代码、中英文说明和修改办法，输出到标准输出。",
    'A folder where extends "name" looks for name.rules, after the ruleset\'s own folder and before '
    "$GRIDCORE_RULESETS (os.pathsep-separated folders). Repeat for several.":
        "继承 \"名称\"（extends）查找 名称.rules 的文件夹：在规则集自己的文件夹之后、$GRIDCORE_RULESETS"
        "（以 os.pathsep 分隔的多个文件夹）之前查找。可重复给出多个。",
    "Rewrite ruleset FILES (or folders) in the canonical layout (comments and meaning kept).":
        "把规则集文件 FILES（或文件夹）改写成标准格式（保留注释，含义不变）。",
    "Only report files that are not formatted (exit 1 if any).": "只列出未按标准格式书写的文件（有则退出码为 1）。",
    "Show a ruleset after inheritance: the effective rules, or the changes to the parent.":
        "显示继承之后的规则集：实际生效的规则，或相对上级规则集的改动。",
    "Print the resolved ruleset, each item with its origin (default).": "显示合并后的规则集，每一项注明出处（默认）。",
    "List what FILE adds, changes and removes compared with its parent.": "列出 FILE 相对上级规则集新增、修改和删除的内容。",
    "Print the vocabulary as JSON: fields, sections' syntax, roles, and (with FILE) its names.":
        "以 JSON 输出规则语言的词汇：字段、各栏目的写法、角色，以及（给出 FILE 时）其中的名称。",
    "List the roles this community's roster adds too (a folder, YAML file or roster workbook .xlsx), and "
    "compile FILE with them. Default: the community.yaml beside FILE, if any.":
        "同时列出这个社区花名册自己增加的角色（文件夹、YAML 文件或花名册工作簿 .xlsx），并用这些角色编译 FILE。"
        "默认：FILE 旁的 community.yaml（如有）。",
    "Run ruleset test cases (*_test.yaml beside the rulesets) and show what failed.":
        "运行规则集的测试用例（规则集旁的 *_test.yaml），显示未通过的用例。",
    "A language server for .rules files over stdio (diagnostics, completion, hover, fmt).":
        "通过标准输入输出为 .rules 文件提供语言服务（错误提示、补全、悬停说明、格式化），供编辑器使用。",
    "Talk over standard input and output: the only transport, and the default (editors' clients pass this flag; "
    "VS Code's always does).":
        "通过标准输入输出通信：唯一的方式，也是默认方式（编辑器会传这个选项，VS Code 总是传）。",
    # demo, simulate, diff
    "The main job: simulate a community's quarter under its rules and show what happened.":
        "主要演示：按社区自己的规则模拟一个季度，并显示发生了什么。",
    "The main job: simulate a community's quarter under its rules and show what happened. Builds the community in "
    "a fresh store, simulates DAYS days (seed SEED), runs every plugin, ticks to the end and prints what the plugins "
    "showcase (with the built-ins: the points board, incidents by level, overdue cases, star ratings), with where "
    "the files went.":
        "主要演示：按社区自己的规则模拟一个季度，并显示发生了什么。在新建的库中建立社区，模拟 DAYS 天"
        "（随机种子 SEED），运行所有插件，推进时间到最后，然后显示各插件展示的结果（内置插件：积分公示、"
        "各层级的事件、超时事件、评星定级），并说明文件写到了哪里。",
    "A community folder, a folder name under rulesets/ (yinquan, cuihu, xingfuwan, chengqiao) or its Chinese name "
    "(银泉社区).":
        "社区文件夹、rulesets/ 下的文件夹名（yinquan、cuihu、xingfuwan、chengqiao）或社区的中文名（如 银泉社区）。",
    "A community folder, a folder name under rulesets/ (yinquan, cuihu, xingfuwan, chengqiao), its Chinese name "
    "(银泉社区), or a roster file (花名册.xlsx, community.yaml); the scenario is then looked for beside it.":
        "社区文件夹、rulesets/ 下的文件夹名（yinquan、cuihu、xingfuwan、chengqiao）、社区的中文名（如 银泉社区），"
        "或花名册文件（花名册.xlsx、community.yaml）；此时在该文件旁边找场景文件。",
    "How many days (default 90, or the scenario's demo.days: a district runs a week).":
        "模拟多少天（默认 90 天，或场景文件的 demo.days：一个区默认一周）。",
    "First day (default 2025-01-01, a 90-day quarter; or the scenario's demo.start).":
        "第一天（默认 2025-01-01，一个 90 天的季度；或场景文件的 demo.start）。",
    "Random seed: the same seed gives the same quarter.": "随机种子：种子相同，模拟出的季度也相同。",
    "Ruleset to run (default: <community>.rules in the community folder).": "使用的规则集（默认：社区文件夹中的 <社区>.rules）。",
    "Output folder (default ./gridcore-out/<community>); its store/ is rebuilt.":
        "输出文件夹（默认 ./gridcore-out/<社区>）；其中的 store/ 会重建。",
    "Write a community's simulated days as JSON lines for `gridcore ingest`.":
        "把模拟出的社区日常事件写成 JSON 行文件，供 gridcore ingest 导入。",
    "Scenario file (default: scenario.yaml in the community folder, or beside the roster file).":
        "场景文件（默认：社区文件夹中的 scenario.yaml，或花名册文件旁边的 scenario.yaml）。",
    "How many days.": "模拟多少天。",
    "First day (default 2025-01-01).": "第一天（默认 2025-01-01）。",
    "Random seed: the same seed gives the same events.": "随机种子：种子相同，生成的事件也相同。",
    "Where to write the JSON lines ('-' for standard output).": "JSON 行写到哪里（写 - 即输出到标准输出）。",
    "The ruleset the events will be judged under: its escalation ladder tells where a case nobody took on in time "
    "is waiting (default: <folder>.rules in the community's folder, with the scenario's demo.variants).":
        "这些事件将依据的规则集：按它的事件流转规则判断超时未受理的事件上报到了哪一级"
        "（默认：社区文件夹中的 <文件夹名>.rules，加上场景文件 demo.variants 中的规则集）。",
    "Replay an event log under two rulesets and show every difference, with the rules behind it.":
        "按两个规则集分别重放同一份事件记录，列出每一处不同及其背后的规则。",
    "The event log (JSON lines, e.g. a demo's events.jsonl or an export).": "事件记录（JSON 行文件，如演示生成的 events.jsonl 或导出的文件）。",
    "Give it twice: A (e.g. the ruleset in force) then B (the proposal).": "给两次：先 A（如现行规则集），再 B（拟议的规则集）。",
    "The community: a folder, a YAML file or a roster workbook (.xlsx), or a name under rulesets/ (default: the "
    "folder of ruleset B or A, if it holds community.yaml).":
        "社区：文件夹、YAML 文件、花名册工作簿（.xlsx）或 rulesets/ 下的名称"
        "（默认：规则集 B 或 A 所在的文件夹，如其中有 community.yaml）。",
    "Tick both replays to this time (default: the last event's time).": "两次重放都推进到这个时间（默认：最后一条事件的时间）。",
    "Text output: at most this many lines per kind.": "文本输出：每类最多显示多少行。",
    "2: replay both rulesets at once (two processes); 1: one after the other. Default: 2 from 20,000 events on "
    "(a district's year), else 1.":
        "2：两个规则集同时重放（两个进程）；1：先后重放。默认：事件达 20,000 条（一个区一年的量）时为 2，否则为 1。",
    # the store's commands
    "Explain a decision (a points entry, an escalation, a rating) by its id. In Chinese (gridcore --lang zh "
    "explain ..., or GRIDCORE_LANG=zh) each input is headed by its Chinese.":
        "按编号解释一项决定（一条积分记录、一次提级、一次评星）：依据哪条规则、用了哪些数据、结果多少。"
        "中文模式下（gridcore --lang zh explain ……，或 GRIDCORE_LANG=zh）每项数据前标有中文名称。",
    "Look at a community's grid hierarchy.": "查看社区的网格层级。",
    "When the nodes and members a growth added joined the store; with NODE and --at, record it. A store grown "
    "(gridcore init --community) before joining times were recorded has none for what it added, so assessments "
    "rate the new community for periods before it joined; and one grown before the roster's stamp was written is "
    "not noticed by an engine kept running. NODE --at TIME records TIME for NODE, every node under it and every "
    "member holding a role there, and writes the stamp; refused for a time after the first event stored there, "
    "or for a node recorded at another time.":
        "列出扩充（gridcore init --community）加入的节点和人员的加入时间；给出 NODE 和 --at 时记录之。在记录加入"
        "时间之前扩充的库，没有新增部分的加入时间，考核会对其加入前的考核期评星；在写入花名册标记之前扩充的库，"
        "正在运行的引擎察觉不到扩充。NODE --at TIME 为 NODE、其下各节点和在其中任职的各人员记录加入时间 TIME，"
        "并写入花名册标记；TIME 晚于那里已记录的最早事件，或 NODE 已记录了别的加入时间时拒绝。",
    "When NODE joined the store (ISO 8601; without a zone, the community's): at or before its first stored event.":
        "NODE 加入本库的时间（ISO 8601；不带时区即社区所在时区）：不晚于其已记录的最早事件。",
    "One household (户) in the store: where it lives, its people, who looks after it, and its history.":
        "库中的一户：住在哪里、有哪些人、由谁负责，以及变动记录。",
    "Print the tree of the community at PATH (a folder, a YAML file or a roster workbook), or in --store. With "
    "households on the roster, each node shows its households and people, its subtree included (so totals add up "
    "the tree), then the community's total. With --ruleset, what the ruleset's checks find in this community "
    "follows.":
        "显示 PATH（文件夹、YAML 文件或花名册工作簿）或 --store 中社区的网格树。花名册上有户时，每个节点显示"
        "其下（含下级）的户数和人数（合计沿树相加），最后是全社区合计。给出 --ruleset 时，接着显示规则集的"
        "检查在这个社区发现的问题。",
    "Also say what FILE's rules find in this community (a grid far from its planned size, a department it lacks): "
    "the warnings and errors of its checks.":
        "同时显示规则集 FILE 在这个社区检查出的问题（网格规模与规划相差过大、缺少某个条线部门）：警告和错误。",
    "Show the community saved in this store instead of PATH, with its households and people as the events stored "
    "since changed them (moves, splits, registrations).":
        "显示这个库中保存的社区（而非 PATH），户和人按此后记录的事件（迁入迁出、分户、登记）更新。",
    "Append events from a JSON-lines file (one event object per line). Each line is checked on its own: lines that "
    "are not valid JSON, not valid events or beyond the input limits (docs/security.md) are refused with their line "
    "number and reason; the others are stored. Exit status 1 if any line was refused. A file in time order (as "
    "exports and `gridcore simulate` write them) is judged a chunk of lines at a time, so memory does not grow with "
    "its length; a file out of order is read whole and judged in time order. The result is the same either way.":
        "从 JSON 行文件（每行一个事件）导入事件。每行单独检查：不是有效 JSON、不是有效事件或超出输入限制"
        "（docs/security.md）的行被拒绝，并给出行号和原因；其余的存入库中。有任何一行被拒绝时退出码为 1。"
        "按时间排序的文件（导出文件和 gridcore simulate 生成的文件即是）分段读取和评判，占用内存不随文件"
        "变长而增加；未按时间排序的文件整个读入后按时间顺序评判。两种情况结果相同。",
    "Events written per atomic batch.": "每个原子批次写入的事件数。",
    "No progress bar.": "不显示进度条。",
    "Save a community (and optionally a ruleset) into a store. On a store that already holds events, the roster "
    "may only grow: a new community, grid or household added to the files is taken on and nothing recorded is "
    "judged again; a roster that changes or removes what is there is refused, naming what changed. What it adds "
    "joins the store now (or at --now): it is rated and paid from the first assessment period starting then or "
    "later.":
        "把社区（以及可选的规则集）存入库中。库中已有事件时，花名册只能增加：文件中新增的社区、网格或户"
        "会被接收，已记录的事件不重新评判；改动或删除已有内容的花名册被拒绝，并指出改动了什么。新增的内容"
        "以现在（或 --now 给出的时间）加入本库：自此时或之后开始的第一个考核期起参评、领补贴。",
    "The community: a folder (community.yaml + CSV files), a YAML file or a roster workbook (花名册.xlsx).":
        "社区资料：社区文件夹（community.yaml 加 CSV 文件）、YAML 文件或花名册工作簿（花名册.xlsx）。",
    "A .rules file to put in force.": "要生效的 .rules 规则集文件。",
    "When the ruleset takes effect (2025-03-01: its midnight in the community's time zone; default: now).":
        "规则集生效的时间（如 2025-03-01 或 2025年3月1日：社区所在时区当日零时；默认：现在）。",
    "Act as if it were this time (ISO 8601; without a zone, the community's): when the nodes and members a grown "
    "roster adds join the store. Default: the system clock.":
        "按这个时间执行（ISO 8601；不带时区即社区所在时区）：扩充的花名册新增的节点和人员以此时间加入本库。默认：系统时钟。",
    "Also list the events stored in this store from --effective on that each ruleset, put in force then, would "
    "have refused (a report of a category its closed list does not hold): they would stay on record, judged as "
    "they were. Reads only.":
        "另外列出此库中自 --effective 起、各规则集若自那时生效本应拒绝的已存事件（类别不在其“仅限所列”类别清单中的上报）："
        "这些事件将仍按当时的评判保留在记录中。只读，不改动库。",
    "With --store: when the rulesets would take effect (ISO 8601; without a zone, the community's; default: now).":
        "与 --store 同用：规则集的生效时间（ISO 8601；不带时区即社区所在时区；默认：现在）。",
    "Allow an effective time before events already recorded: they are judged again under the new ruleset.":
        "允许生效时间早于已记录的事件：这些事件会按新规则集重新评判。",
    "Copy a store to another backend without loss.": "把库完整复制到另一种存储（不丢失任何内容）。",
    "Say whether the store's events were recorded in time order, and from which event some came late. Replays "
    "judge stored events again from the earliest event recorded late (docs/architecture.md, Time order). A store "
    "written by a gridcore older than that fact has every stored event judged again at each replay until --settle "
    "works the fact out for it, once. Meanwhile it is the store's only appender: other processes' new events wait "
    "until it is done (a TinyDB store another process writes to is refused, naming it).":
        "说明库中事件是否按时间顺序录入，以及从哪一事件起有补录。重放时从最早的补录事件起重新评判已存事件"
        "（docs/architecture.md，Time order）。较早版本写入的库没有这一记录，每次重放都重新评判所有已存事件，"
        "直到用 --settle 为它确定一次（只需运行一次）。运行期间只有它能向库追加事件：其他进程的新事件等它完成后再写入"
        "（TinyDB 库若正被其他进程写入，则拒绝运行并指出该进程）。",
    "For a store written before gridcore kept the fact: work it out once (the whole log is replayed, each stored "
    "event judged again), so that replays judge stored events again only from the first event recorded late.":
        "用于较早版本写入、没有这一记录的库：确定一次（重放全部日志，重新评判每个已存事件），"
        "此后重放只从第一个补录事件起重新评判已存事件。",
    "The store to copy from.": "从哪个库复制。",
    "The store to copy into (must be empty).": "复制到哪个库（必须为空）。",
    "List every plugin and where it came from (and any that failed to load or are disabled).":
        "列出所有插件及其来源（以及加载失败或已停用的插件）。",
    "Build a report contributed by a plugin (no NAME: list them).": "生成插件提供的报表（不给 NAME 则列出所有报表）。",
    "A report parameter.": "报表参数，写成 名称=值。",
    "Write the report to FILE instead: .xlsx (Excel, Chinese headings), .csv, .json or .txt.":
        "把报表写入文件 FILE：.xlsx（Excel，中文表头）、.csv、.json 或 .txt。",
    "List the rulesets put in force: from when, for which subtree, from which file (规则集及其适用范围).":
        "列出已生效的规则集：从何时起、适用于哪个范围、来自哪个文件。",
    "Advance time and record everything that has fallen due (e.g. escalations). The events are listed in time "
    "order (those due at the same moment by id: the order a replay applies them), as the service's tick lists "
    "them.":
        "推进时间，记录所有已到期的事项（如超时提级）。按时间顺序列出（同一时刻到期的按编号排序，即重放时的顺序），"
        "与服务的 tick 一致。",
    "Put a ruleset in force. A ruleset with errors is refused and the old one stays. An effective time before "
    "events already recorded would judge them again (their points, escalations and ratings may change): that "
    "needs --rejudge.":
        "让规则集生效。有错误的规则集被拒绝，原规则集继续有效。生效时间早于已记录的事件时，这些事件要"
        "重新评判（其积分、提级和评星可能改变）：须加 --rejudge。",
    "When it takes effect (2025-03-01: its midnight in the community's time zone; default: now).":
        "生效时间（如 2025-03-01 或 2025年3月1日：社区所在时区当日零时；默认：现在）。",
    # roll-ups, rosters
    "A street's communities or a district's streets side by side: three rates, overdue, stars, points, subsidies.":
        "并列比较一个街道的各社区或一个区的各街道：三率、超时、星级、积分、补贴。",
    "Only this table (CSV: the summary unless given).": "只输出这张表（CSV：不指定时为汇总表）。",
    "Also each child's monthly points boards (the boards table; implied by --table boards): each month's boards "
    "read that month's points entries.":
        "同时输出各下级每月的积分公示（boards 表；--table boards 时自动包含）：每月的公示只读取该月的积分记录。",
    "Also draw mean stars per child and the three rates by month (.png, .svg or .pdf).":
        "同时画出各下级的平均星级和按月的三率（.png、.svg 或 .pdf）。",
    "Processes computing the roll-up's parts at once (default: the CPUs; 1: one after the other).":
        "同时计算各部分的进程数（默认：CPU 数；1：逐个计算）。",
    # sign-in sheets (签到表)
    "Activities from sign-in sheets (签到表): an empty sheet to fill in, or a filled one imported.":
        "从签到表登记活动：生成空白签到表，或导入填好的签到表。",
    "Write an empty sign-in sheet OUT (.xlsx, or .csv for Excel): headings in Chinese and English, instructions.":
        "生成空白签到表 OUT：.xlsx 或供 Excel 打开的 .csv，中英文表头，附填写说明。",
    "Record a sign-in sheet SHEET (.xlsx or .csv): one activity per row, every mistake named before any is stored. "
    "Each row names a member by member number, phone, or a name one member alone bears on the roster; hours are a "
    "number (1.5). A member's sign-in has one id (the activity, the day and its --time), so importing the same sheet "
    "again stores nothing new; a second session of the day (another --time) is a sign-in of its own, and a row "
    "overlapping a stored sign-in of its member and activity is a mistake. With the points plugin on, says the points "
    "each row earned.":
        "登记签到表 SHEET（.xlsx 或 .csv）：每行一条活动记录；有错误时先列出全部错误，一条也不存入。\n\n"
        "每行用成员编号、电话或姓名（花名册上只有一人叫这个名字时）指明参加人；时长填数字（如 1.5）。"
        "同一成员的每次签到（活动、日期和开始时刻 --time）只有一个编号，所以再次导入同一签到表不会重复存入；"
        "同一天的另一场活动（另一个 --time）另算一次签到；与已登记的同一成员同一活动时间重叠的行是错误。"
        "启用积分插件时，列出每行获得的积分。",
    "The activity, as the rules in force name it (Chinese or English).": "活动名称，按生效规则中的写法（中文或英文均可）。",
    "The day it took place: 2025-03-08 (or 2025年3月8日), in the community's time zone.":
        "活动日期：2025-03-08（或 2025年3月8日），按社区所在时区。",
    "The time it started: 09:00 is the community's wall time; 09:00+08:00 gives the zone.":
        "开始时刻：09:00 即社区当地时间；09:00+08:00 带时区。",
    "Where it took place: a node id, or a name one node alone bears. Everyone on the sheet must belong in its "
    "subtree.": "活动所在节点：节点编号，或只有一个节点使用的名称。签到表上的每个人都须属于该节点范围。",
    "The member recording the sheet (id, or a name one member alone bears): staff at NODE or above.":
        "登记人（成员编号，或花名册上只有一人叫的姓名）：须在该节点或其上级任职。",
    "Check the sheet and say what would be stored; store nothing.": "只检查签到表并说明将存入什么，不存入任何记录。",
    "The language of what the command says: en or zh. Default: gridcore --lang, else $GRIDCORE_LANG, else en.":
        "命令输出所用的语言：en（英文）或 zh（中文）。默认取 gridcore --lang，其次取环境变量 GRIDCORE_LANG，否则为英文。",
    "Rosters in Excel: an empty template, or a community folder as a workbook.": "Excel 花名册：空白模板，或把社区文件夹写成工作簿。",
    "Write COMMUNITY (a folder, a YAML file or a workbook) as a roster workbook OUT.":
        "把社区 COMMUNITY（文件夹、YAML 文件或工作簿）写成花名册工作簿 OUT。",
    "Write an empty roster workbook (headings in Chinese and English, instructions).":
        "生成空白花名册工作簿（中英文表头，附填写说明）。",
    # the service and its tokens
    "Serve the store: Open311 intake, a JSON API for every action, and the dashboard.":
        "把库作为服务运行：Open311 事件受理、各项操作的 JSON 接口，以及工作台页面。",
    "Serve the store: Open311 intake, a JSON API for every action, and the dashboard. One engine is kept open per "
    "worker process and refreshed from the store; uvicorn serves it. Put a reverse proxy in front for TLS "
    "(docs/service.md).":
        "把库作为服务运行：Open311 事件受理、各项操作的 JSON 接口，以及工作台页面。每个工作进程保持一个"
        "引擎并从库中刷新，由 uvicorn 提供服务。如需 TLS，请在前面加反向代理（docs/service.md）。",
    "Address to listen on.": "监听的地址。",
    "Port to listen on.": "监听的端口。",
    "Worker processes, each with its own engine on the same SQLite or PostgreSQL store (a TinyDB store is served "
    "by one).":
        "工作进程数，每个进程在同一个 SQLite 或 PostgreSQL 库上有自己的引擎（TinyDB 库只用一个进程）。",
    "Roster member that anonymous residents' reports are recorded as (the duty desk or hotline account). Without "
    "it anonymous reports are refused.":
        "匿名居民上报的事件记在花名册上哪个成员名下（值班台或热线账号）。不设则拒绝匿名上报。",
    "Show the dashboard (but members' statements) without signing in: a wall screen on the office network.":
        "不登录也可查看工作台（个人积分明细除外）：供办公室内网的大屏使用。",
    "Largest request body accepted, in bytes.": "接受的最大请求体，单位为字节。",
    "Requests a second per token (or per address when anonymous), per worker; 0: no limit.":
        "每个令牌（匿名时每个地址）每秒的请求数，按工作进程计；0 为不限。",
    "Requests allowed at once.": "允许同时处理的请求数。",
    "How much uvicorn logs (each request at info; debug for more).": "uvicorn 记录日志的详细程度（info 记录每个请求；debug 更详细）。",
    "For tests: a clock fixed at TIME that only POST /api/v1/tick moves.": "供测试：时钟固定在 TIME，只有 POST /api/v1/tick 才推进。",
    "With --workers 2 or more: seconds a worker may take to answer uvicorn's health check before uvicorn kills it "
    "(SIGKILL: the requests it holds are lost) and starts another. A worker on a district store can hold its "
    "interpreter for seconds (a full garbage collection, a replay); uvicorn's own default is 5.":
        "--workers 为 2 或以上时：工作进程回应 uvicorn 健康检查的最长秒数，超时则被 uvicorn 强制结束"
        "（SIGKILL：正在处理的请求丢失）并另起一个。区级库上的工作进程可能占用解释器数秒（完整垃圾回收、"
        "重放）；uvicorn 自己的默认值是 5。",
    "On stopping (SIGTERM or Ctrl-C, or a worker uvicorn retires on SIGHUP or SIGTTOU): seconds a worker goes on "
    "finishing the requests it holds, taking no new ones, before it cancels them.":
        "停止时（SIGTERM 或 Ctrl-C，或 uvicorn 因 SIGHUP、SIGTTOU 替换工作进程）：工作进程不再接收新请求、"
        "继续处理手中请求的秒数，超时后取消。",
    "Seconds an action waits for the store's write lock while another process holds it (a long gridcore ingest) "
    "before it is answered 503 with Retry-After, nothing stored; reads never wait.":
        "另一个进程（如耗时较长的 gridcore ingest）占用库的写锁时，一项操作最多等待的秒数；超时则答复 503 并附"
        " “Retry-After”响应头，不存入任何内容。查询从不等待。",
    "API tokens for gridcore serve: issue, list, revoke (stored hashed).": "gridcore serve 的接口令牌：签发、列出、撤销（只保存哈希值）。",
    "Issue a token for MEMBER; it is shown once, and the store keeps only its hash.":
        "为成员 MEMBER 签发令牌；令牌只显示一次，库中只保存其哈希值。",
    "What the token is for (a phone, an app).": "令牌的用途（一部手机、一个应用）。",
    "Every token issued: id, member, label, when issued and revoked (never the secret).":
        "所有已签发的令牌：编号、成员、备注、签发和撤销时间（不显示令牌本身）。",
    "Revoke TOKEN (its id, as `tokens list` shows it): it stops working at once.":
        "撤销令牌 TOKEN（其编号，见 tokens list）：立即失效。",
}  # fmt: skip
