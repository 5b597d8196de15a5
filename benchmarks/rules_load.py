"""Loading rulesets: this tree's language pipeline beside an earlier commit's, in one run.

Each sample is a fresh Python process (the grammar and the compiled rulesets
are cached within a process, so only a new process shows what a command
pays).  In it, with every installed plugin's section:

* *first ruleset*: the CPU time of the first ``parse_ruleset`` of a three-line
  ruleset, which builds the parser (or loads it from the disk cache) and then
  parses, checks and compiles;
* *every ruleset*: then parsing, checking and compiling every ``.rules``
  file of ``rulesets/`` with the files it extends (``compile_chain``), each
  text given a fresh comment so no cache of the process is hit, repeated
  until about 2,000 lines were read; reported per 1,000 lines.

Four ways are measured, rounds interleaved so a busy machine slows them alike:
this tree with no disk cache (``GRIDCORE_CACHE_DIR`` pointed at something that
is not a folder), this tree with its disk cache warm, and the baseline, with
no disk cache and with its own warm (the same as without for a baseline from
before the parser was cached): the same steps with the code of ``BASELINE``
(a commit, extracted with ``git archive`` and put first on ``sys.path``; its
plugins under their import names, so the installed entry points load the old
code).

Run ``python benchmarks/rules_load.py [--quick] [--rounds N] [--baseline REV]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from io import BytesIO
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

#: The last commit before the parser was cached on disk and the language had one
#: pipeline: what "before" means on the benchmark page.
BASELINE = "1214f54"

SMALL = 'ruleset "small"\nlevels: community > grid > unit\npoints:\n  activity 志愿服务: 5 per hour\n'

CHILD = r"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
rulesets = Path(sys.argv[2])
lines_wanted = int(sys.argv[3])
from gridcore.plugin_host import Hooks, get_plugin_manager
from gridcore.rules import Source, compile_chain, parse_ruleset
import gridcore
sections = Hooks(get_plugin_manager()).register_sections()
t0 = time.process_time()
parse_ruleset(sys.argv[4], sections=sections, name="small.rules")
first = time.process_time() - t0
files = sorted(rulesets.rglob("*.rules"))
texts = {p.stem: p.read_text(encoding="utf-8") for p in files}
def chain(stem, tag):
    text = texts[stem]
    out = [Source(stem + ".rules", text + f"\n# {tag}\n")]
    for line in text.splitlines():
        words = line.replace("继承", "extends").split()
        if words[:1] == ["extends"]:
            parent = words[1].strip('"').removesuffix(".rules")
            return chain(parent, tag) + out
    return out
lines = 0
n = 0
t0 = time.process_time()
while lines < lines_wanted:
    for p in files:
        sources = chain(p.stem, n)
        compile_chain(sources, sections=sections)
        lines += sum(s.text.count("\n") for s in sources)
        n += 1
every = time.process_time() - t0
print(json.dumps({"first": first, "per_kline": every * 1_000_000 / lines, "lines": lines,
                  "files": len(files), "where": str(Path(gridcore.__file__).parent)}))
"""


def baseline_tree(rev: str, into: Path) -> Path | None:
    """``rev``'s code laid out under import names (gridcore, gridcore_app, gridcore_<plugin>)."""
    try:
        archive = subprocess.run(["git", "-C", str(REPO), "archive", rev], capture_output=True,
                                 check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    tree = into / "tree"
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(tree, filter="data")
    site = into / "site"
    site.mkdir()
    (site / "gridcore").symlink_to(tree / "gridcore")
    (site / "gridcore_app").symlink_to(tree / "gridcore_app")
    config = tomllib.loads((tree / "pyproject.toml").read_text(encoding="utf-8"))
    for name in config["tool"]["gridcore"]["builtin-plugins"]:
        (site / f"gridcore_{name}").symlink_to(tree / "plugins" / name)
    return site


def sample(site: Path, cache: str, lines: int) -> dict[str, float]:
    env = {**os.environ, "GRIDCORE_CACHE_DIR": cache}
    done = subprocess.run([sys.executable, "-c", CHILD, str(site), str(REPO / "rulesets"), str(lines),
                           SMALL], capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"rules_load child failed: {done.stderr[-1500:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    expected = str(site / "gridcore") if site != REPO else str(REPO / "gridcore")
    if Path(str(result["where"])).resolve() != Path(expected).resolve():
        raise RuntimeError(f"rules_load measured the wrong tree: {result['where']}")
    return result


def run(rounds: int = 5, lines: int = 2000, baseline: str | None = BASELINE,
        cold: bool = True) -> tuple[list[tuple[str, float, float]], list[str]]:
    """Rows (way, first ruleset ms, ms per 1,000 lines), medians over the rounds; notes.

    ``cold=False`` leaves out the tree without its disk cache (a quicker run).
    """
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="gridcore-rules-load-") as tmp:
        folder = Path(tmp)
        warm = folder / "cache"
        nowhere = folder / "not-a-folder"
        nowhere.write_text("the disk cache is off\n", encoding="utf-8")
        ways: dict[str, tuple[Path, str]] = {}
        site = baseline_tree(baseline, folder) if baseline else None
        if site is not None:
            ways[f"baseline: commit {baseline}"] = (site, str(nowhere / "x"))
            # a baseline that caches its parser on disk is measured with its cache warm too
            ways[f"baseline: commit {baseline}, its disk cache (if it has one)"] = (
                site, str(folder / "baseline-cache"))
            sample(site, str(folder / "baseline-cache"), 1)
        elif baseline:
            notes.append(f"The baseline commit {baseline} could not be extracted (not a git checkout?).")
        if cold:
            ways["this tree, no disk cache"] = (REPO, str(nowhere / "x"))
        ways["this tree, parser from the disk cache"] = (REPO, str(warm))
        sample(REPO, str(warm), 1)  # fills the disk cache
        got: dict[str, list[dict[str, float]]] = {name: [] for name in ways}
        for _ in range(rounds):
            for name, (where, cache) in ways.items():
                got[name].append(sample(where, cache, lines))
    rows = [(name, statistics.median(s["first"] for s in samples) * 1000,
             statistics.median(s["per_kline"] for s in samples)) for name, samples in got.items()]
    some = next(iter(got.values()))[0]
    notes.append(f"{int(some['files'])} ruleset files of rulesets/ with their parents, "
                 f"about {int(some['lines'])} lines a sample.")
    return rows, notes


def table(rows: list[tuple[str, float, float]]) -> str:
    """Markdown, with ratios to the first row."""
    out = ["| pipeline | first ruleset CPU ms (median) | ratio | CPU ms per 1,000 lines (median) | ratio |",
           "|---|---:|---:|---:|---:|"]
    base_first, base_lines = rows[0][1], rows[0][2]
    for name, first, per in rows:
        out.append(f"| {name} | {first:.0f} | {first / base_first:.2f}× | {per:.0f} | {per / base_lines:.2f}× |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="one round, few lines: check that it runs")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--baseline", default=BASELINE, help="the commit to compare with ('' for none)")
    args = parser.parse_args(argv)
    rows, notes = run(1 if args.quick else args.rounds, 300 if args.quick else 2000,
                      None if args.quick else args.baseline or None, cold=not args.quick)
    sys.stdout.write(table(rows))
    for note in notes:
        sys.stdout.write(f"* {note}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
