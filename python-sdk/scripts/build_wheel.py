"""Build the SDK's wheel with `python -m build`, out of the source tree.

Usage: build_wheel.py OUTDIR

Copies what the wheel is made of (pyproject.toml, README.md, LICENSE and the
package) into a temporary directory and builds there, without build
isolation, so that setuptools' build/ directory never lands in the source
tree and only the pinned setuptools of the virtualenv is used. Prints the
path of the wheel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SDK_DIR = Path(os.path.abspath(__file__)).parent.parent


def build_wheel(outdir: Path) -> Path:
    """Build the wheel into outdir and return its path."""
    outdir = outdir.resolve()  # the build runs in another directory
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp)
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            shutil.copy(SDK_DIR / name, source / name)
        shutil.copytree(
            SDK_DIR / "src" / "mattermost_plugin",
            source / "src" / "mattermost_plugin",
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        before = set(outdir.glob("*.whl"))
        command = [sys.executable, "-m", "build", "--wheel", "--no-isolation"]
        subprocess.run(
            [*command, "--outdir", str(outdir), str(source)],
            check=True,
            capture_output=True,
            cwd=source,
        )
    (wheel,) = set(outdir.glob("*.whl")) - before
    return wheel


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(build_wheel(Path(sys.argv[1])))


if __name__ == "__main__":
    main()
