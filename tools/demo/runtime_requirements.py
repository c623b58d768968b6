"""Print the lock file entries that the SDK needs at run time.

Usage: runtime_requirements.py LOCK PYPROJECT

The runtime packages are the dependencies that pyproject.toml declares and,
through the lock's "# via" comments, whatever they pull in. The output is a
requirements file with the lock's pins and hashes, for
``pip install --require-hashes``: `make demo` installs only these, not the
development tools.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import tomllib


def entries(lock: str) -> dict[str, tuple[str, set[str]]]:
    """Map each locked package to its entry text and the packages it is "via"."""
    out: dict[str, tuple[str, set[str]]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", lock):
        match = re.match(r"([A-Za-z0-9_.\-]+)==", block)
        if not match:
            continue
        name = match.group(1).lower()
        text = "\n".join(line for line in block.splitlines() if not line.lstrip().startswith("#"))
        via = set(re.findall(r"#\s+(?:via\s+)?([A-Za-z0-9_.\-]+)\s*$", block, flags=re.M))
        out[name] = (text.rstrip(" \\\n"), {v.lower() for v in via})
    return out


def runtime(lock: str, pyproject: str) -> list[str]:
    """Return the entries of the runtime packages, in lock order."""
    declared = tomllib.loads(pyproject)["project"]["dependencies"]
    wanted = {re.match(r"[A-Za-z0-9_.\-]+", d).group(0).lower() for d in declared}  # type: ignore[union-attr]
    locked = entries(lock)
    missing = wanted - set(locked)
    if missing:
        raise SystemExit(f"runtime_requirements: not in the lock: {', '.join(sorted(missing))}")
    grew = True
    while grew:
        grew = False
        for name, (_, via) in locked.items():
            if name not in wanted and via & wanted:
                wanted.add(name)
                grew = True
    return [text for name, (text, _) in locked.items() if name in wanted]


def main() -> int:
    """Print the runtime entries of the lock named on the command line."""
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    lock, pyproject = (Path(arg).read_text() for arg in sys.argv[1:])
    print("\n".join(runtime(lock, pyproject)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
