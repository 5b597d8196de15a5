"""The package stays typed: mypy, strict (pyproject.toml's [tool.mypy]), passes on all of it.

Developers who embed the engine rely on its annotations (docs/embedding.md); an error here
is a confusion a reader would meet too (a variable holding a timedelta typed as a datetime,
a comparison with a key that may be None).  One mypy process over the three trees, cold
(its cache in the test's own folder): about 11 s of CPU, in one test, so one xdist worker
runs it once.  mypy and the stubs it needs are in the ``test`` extra, which CI installs.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: What every built-in package ships for its users' type checkers (PEP 561): setup.py's DATA
TYPED = ["gridcore", "gridcore_app", *(f"plugins/{p.name}" for p in sorted((REPO / "plugins").iterdir())
                                       if (p / "__init__.py").is_file())]


#: The guide an embedder copies from: its examples, one after another, as one module
EMBEDDING = REPO / "docs" / "embedding.md"


def test_mypy_strict_passes_on_gridcore_gridcore_app_plugins_and_the_embedding_guide(tmp_path: Path) -> None:
    """The guide's examples (run by tests/test_docs.py) type-check too, in the same mypy process: an
    embedder's own strict mypy meets what they meet (``engine.ruleset`` may be None, ...).  Here the
    plugins' import names are not followed (pyproject.toml's overrides), so their calls are Any."""
    text = EMBEDDING.read_text(encoding="utf-8")
    examples = re.findall(r"^```python\n(.*?)^```", text, re.DOTALL | re.MULTILINE)
    assert len(examples) >= 8
    guide = tmp_path / "embedding_examples.py"
    guide.write_text("from pathlib import Path\n\nREPO = Path()\n" + "\n".join(examples), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache"), "--no-error-summary",
         "gridcore", "gridcore_app", "plugins", str(guide)],
        cwd=REPO, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_package_says_it_is_typed() -> None:
    """Without py.typed an embedder's mypy treats the package as untyped (every name Any)."""
    assert len(TYPED) >= 7  # the core, the application and the five built-in plugins
    assert [folder for folder in TYPED if not (REPO / folder / "py.typed").is_file()] == []
