"""Which code the suite's own processes run: this checkout's, or a stale copy installed in the venv.

Many tests start ``python -c ...`` or the venv's ``gridcore`` script in a folder of their own
(``gridcore serve``, benchmarks, plugin loading), and those import what the venv has installed,
not what pytest imported.  A venv whose ``gridcore`` is another checkout's, or whose
``gridcore_drills`` (``tests/plugins/drills``, installed like a third party's plugin) is an
old copy, made tests fail far from the cause (``KeyError: 'x-title-zh'`` from an old
plugin's OpenAPI).  ``gridcore_mismatch`` and ``drills_mismatch`` say so plainly, naming both
paths and the fix; ``install_drills`` installs the fixture from a copy without ``build/``.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DRILLS = REPO / "tests" / "plugins" / "drills"
#: The packages of this checkout a fresh process must import from it: the core, the application and
#: the built-in plugins (each ``plugins/<name>/`` is the package ``gridcore_<name>``).
OWN = {"gridcore": REPO / "gridcore", "gridcore_app": REPO / "gridcore_app",
       **{f"gridcore_{p.name}": p for p in sorted((REPO / "plugins").iterdir()) if (p / "__init__.py").is_file()}}

_FIND = ("import importlib.util, json, sys\n"
         "found = {}\n"
         "for name in sys.argv[1:]:\n"
         "    spec = importlib.util.find_spec(name)\n"
         "    found[name] = spec.origin if spec is not None else None\n"
         "print(json.dumps(found))\n")


def imported_by_a_fresh_process(*names: str) -> dict[str, Path | None]:
    """Where ``sys.executable``, started afresh in an empty folder (not this checkout, whose
    packages a process started in it finds first), finds each package: its ``__init__.py``, or None."""
    with tempfile.TemporaryDirectory() as elsewhere:
        done = subprocess.run([sys.executable, "-c", _FIND, *names], cwd=elsewhere, capture_output=True,
                              text=True, check=False, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{sys.executable} could not look for {', '.join(names)}: {done.stderr}")
    return {name: None if at is None else Path(at) for name, at in json.loads(done.stdout).items()}


def gridcore_mismatch() -> str | None:
    """Why the venv's gridcore is not this checkout's (a message naming both paths and the fix), or None."""
    found = imported_by_a_fresh_process(*OWN)
    wrong = {name: at for name, at in found.items() if at is None or at.resolve().parent != OWN[name].resolve()}
    if not wrong:
        return None
    lines = [f"  {name}: {at or 'not found'} (this checkout's: {OWN[name]})" for name, at in wrong.items()]
    return (f"The Python running these tests ({sys.executable}) imports gridcore from elsewhere than this "
            f"checkout ({REPO}), so the processes the tests start would run other code:\n" + "\n".join(lines) +
            f"\nFix: {sys.executable} -m pip install -e '{REPO}[test]' (or run the tests with this checkout's "
            f"own venv).")


def drills_mismatch() -> str | None:
    """Why the ``gridcore_drills`` a fresh process imports is not ``tests/plugins/drills/gridcore_drills`` of
    this checkout (missing, another copy, files that differ, or old modules left over), or None."""
    at = imported_by_a_fresh_process("gridcore_drills")["gridcore_drills"]
    own = DRILLS / "gridcore_drills"
    if at is None:
        return f"gridcore_drills is not installed in {sys.prefix} (this checkout's: {own})."
    installed = at.parent
    wanted = {p.name: p.read_bytes() for p in own.glob("*.py")}
    there = {p.name: p.read_bytes() for p in installed.glob("*.py")}
    differ = sorted(name for name in wanted.keys() & there.keys() if wanted[name] != there[name])
    missing, extra = sorted(wanted.keys() - there.keys()), sorted(there.keys() - wanted.keys())
    if not (differ or missing or extra):
        return None
    what = "; ".join(part for part in (
        differ and f"differ: {', '.join(differ)}", missing and f"missing there: {', '.join(missing)}",
        extra and f"not in this checkout: {', '.join(extra)}") if part)
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    if installed.resolve().parent != site:
        return (f"The gridcore_drills a fresh {sys.executable} imports, {installed}, is not this checkout's "
                f"{own} ({what}), and it is found before the venv's own ({site}): through PYTHONPATH or a "
                f".pth file. Fix: take {installed.parent} off the path, or remove that copy.")
    return (f"The gridcore_drills a fresh {sys.executable} imports, {installed}, is not this checkout's "
            f"{own} ({what}). An old copy is installed, or one was built from a folder holding an old build/. "
            f"Fix: rm -rf '{DRILLS / 'build'}' && {sys.executable} -m pip install --no-deps --force-reinstall "
            f"'{DRILLS}'")


#: Beside the venv (``sys.prefix``): the test session installed ``gridcore-drills`` where it was missing, and
#: takes it out again when it ends (``remove_drills_if_ours``), so the venv is left as the tests found it.
OURS = ".gridcore-drills-installed-by-tests"


def install_drills(scratch: Path) -> None:
    """Install ``tests/plugins/drills`` with pip, as a user would, from a copy of it without what an
    earlier build left in it (``build/``, ``*.egg-info``): setuptools copies a module into ``build/lib``
    only when it is newer than the copy already there, and packs whatever else ``build/lib`` holds.

    Under a lock in the venv: with several test processes (pytest-xdist), one installs while the
    others wait, and none imports a half-installed copy."""
    with open(Path(sys.prefix) / ".gridcore-drills-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            why = drills_mismatch()
            if why is None:
                return
            copy = scratch / "drills"
            shutil.copytree(DRILLS, copy, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
            done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                                   "--force-reinstall", str(copy)], capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"pip could not install {DRILLS}: {done.stderr}")
            if why.startswith("gridcore_drills is not installed"):  # (an old copy replaced stays: it was there)
                (Path(sys.prefix) / OURS).touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def remove_drills_if_ours() -> None:
    """Uninstall ``gridcore-drills`` if this test session installed it where it was missing (``OURS``).

    Installed, it is a plugin like any other: every engine of the venv loads it, so a store written after
    the tests would record it among its plugins and not restore checkpoints taken without it, and the
    ``gridcore`` of a developer who only ran the tests would carry a drills section.  A venv that had it
    before the tests (``.ci/run`` installs it first) keeps it."""
    ours = Path(sys.prefix) / OURS
    if not ours.exists():
        return
    with open(Path(sys.prefix) / ".gridcore-drills-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not ours.exists():
                return
            done = subprocess.run([sys.executable, "-m", "pip", "uninstall", "--quiet", "--yes", "gridcore-drills"],
                                  capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"pip could not uninstall gridcore-drills: {done.stderr}")
            ours.unlink()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
