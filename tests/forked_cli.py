"""Many runs of the installed ``gridcore`` command, each its own process, for the price of one start.

``gridcore_runs([args, ...])`` starts one process that does what the installed ``gridcore`` script does before it
calls ``main()`` (its folder first on ``sys.path``, ``from gridcore_app.cli import main``) and nothing else; then,
for each ``args``, it forks a child that runs the script's own last line (``sys.exit(main())`` with
``sys.argv = ["gridcore", *args]``), its standard output and error pipes of their own, and waits for it.  Each run
is a process of its own that starts where a fresh ``gridcore`` would be after its import: no run sees what
another did (a ``--lang`` chosen, a plugin's commands loaded, a text put into Chinese), and the help pages and
errors are printed by the same code to real pipes, with the exit code the process ends with.  What is saved is the
interpreter's start and that import (about half of a help page's CPU).  Used where a test reads what many commands
print (help pages, click's errors); a test about the process itself (signals, a server, locks) runs ``gridcore``.

Run as a script: the runs as JSON on standard input, their results as JSON on standard output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path


def gridcore_runs(runs: Sequence[Sequence[str]], env: Mapping[str, str] | None = None,
                  timeout: float = 600) -> list[subprocess.CompletedProcess[str]]:
    """Each ``gridcore ARGS`` of ``runs``, as its own process (see above): exit code, stdout and stderr."""
    done = subprocess.run([sys.executable, __file__], input=json.dumps([list(args) for args in runs]),
                          capture_output=True, text=True, encoding="utf-8", env=None if env is None else dict(env),
                          timeout=timeout, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return [subprocess.CompletedProcess(["gridcore", *args], code, out, err)
            for args, (code, out, err) in zip(runs, json.loads(done.stdout), strict=True)]


def _read(fd: int) -> str:
    with os.fdopen(fd, "rb") as stream:
        return stream.read().decode("utf-8", errors="replace")


def _run_forked(args: list[str], main: object) -> tuple[int, str, str]:
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the installed script's last two lines, on pipes of its own
        try:
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            for fd in (out_r, out_w, err_r, err_w):
                os.close(fd)
            sys.argv = ["gridcore", *args]
            code: object = 1
            try:
                sys.exit(main())  # type: ignore[operator]
            except SystemExit as stop:
                code = stop.code
            # (as the interpreter ends: None is 0, a number is itself, anything else is printed and is 1)
            if code is None:
                code = 0
            elif not isinstance(code, int):
                print(code, file=sys.stderr)
                code = 1
        except BaseException:  # noqa: BLE001 - an error main() let out: shown as the interpreter would, exit code 1
            import traceback

            traceback.print_exc()
            code = 1
        finally:
            try:
                import atexit

                atexit._run_exitfuncs()  # (what the interpreter runs as it ends)
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code if isinstance(code, int) else 1)
    os.close(out_w)
    os.close(err_w)
    # (the child writes both pipes: read them side by side, else a full stderr pipe would block it)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        out, err = pool.submit(_read, out_r), pool.submit(_read, err_r)
        stdout, stderr = out.result(), err.result()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), stdout, stderr


def _serve() -> None:
    runs = json.loads(sys.stdin.read())
    sys.path[0] = str(Path(sys.executable).parent)  # (the installed script's folder, as when it runs)
    from gridcore_app.cli import main

    results = [_run_forked(args, main) for args in runs]
    sys.stdout.write(json.dumps(results))


if __name__ == "__main__":
    _serve()
