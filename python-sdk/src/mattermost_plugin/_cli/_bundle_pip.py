"""The wheelhouse of a bundle target, downloaded by ``pip download``.

pip runs in a child process of this interpreter (``python -m pip`` in
effect), told the target's platform tags, Python version and ABIs (see
:meth:`Target.pip_arguments`). pip evaluates requirement markers against
the Python that runs it, whatever the target; the child therefore replaces
pip's marker environment with the target's before it starts pip, so that a
``; sys_platform == "darwin"`` or ``; python_version < "3.11"`` dependency
comes when the target needs it. Should a future pip move the function
that this relies on, pip runs unchanged and a warning says that markers
were evaluated for this Python.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from ._bundle_targets import Target
from ._errors import CommandError

__all__ = ["SDK_DISTRIBUTION", "WheelSource", "download", "normalize"]

#: The SDK's distribution name.
SDK_DISTRIBUTION = "mattermost-plugin-sdk"

#: Printed by the child on stderr when it runs pip without the target's markers.
_NO_MARKERS = "mattermost-plugin-bundle: markers-unchanged:"

#: Printed by the child on stderr when this Python has no pip.
_NO_PIP = "mattermost-plugin-bundle: no-pip:"

# The child: argv[1] is the marker environment as JSON, the rest pip's
# arguments. It leaves the working directory off sys.path, as pip's own
# __main__ does.
_CHILD = f"""
import json, os, sys
if sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]
environment = json.loads(sys.argv.pop(1))
try:
    import pip
except ImportError as error:
    sys.stderr.write("{_NO_PIP} %s\\n" % error)
    sys.exit(3)
try:
    from pip._vendor.packaging import markers
    from pip._internal.cli.main import main
    original = markers.default_environment
except (ImportError, AttributeError) as error:
    sys.stderr.write("{_NO_MARKERS} %s\\n" % error)
    import runpy
    sys.argv[0] = "pip"
    runpy.run_module("pip", run_name="__main__", alter_sys=True)
    sys.exit(0)

def target_environment():
    values = original()
    values.update(environment)
    return values

markers.default_environment = target_environment
sys.exit(main(sys.argv[1:]))
"""

_NO_MATCH = re.compile(r"No matching distribution found for (\S+)")
_NO_VERSION = re.compile(r"Could not find a version that satisfies the requirement (\S+)")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def normalize(name: str) -> str:
    """A distribution name as PEP 503 compares them: ``Foo_Bar`` is ``foo-bar``."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclasses.dataclass(frozen=True)
class WheelSource:
    """Where pip looks for wheels, besides its index.

    Attributes:
        find_links: Directories (absolute) or URLs of wheels, for pip's
            ``--find-links``.
        no_index: Whether pip looks nowhere else (``--no-index``).
    """

    find_links: tuple[str, ...] = ()
    no_index: bool = False

    def pip_arguments(self) -> list[str]:
        """The options of ``pip download`` for these sources."""
        arguments = []
        for link in self.find_links:
            arguments += ["--find-links", link]
        if self.no_index:
            arguments.append("--no-index")
        return arguments


def download_argv(
    target: Target,
    destination: Path,
    requirements: Sequence[str],
    requirement_files: Sequence[Path],
    source: WheelSource,
) -> list[str]:
    """The child's command line that downloads the wheels of ``target`` into ``destination``."""
    argv = [sys.executable, "-c", _CHILD, json.dumps(target.marker_environment(), sort_keys=True)]
    argv += ["download", "--disable-pip-version-check", "--no-input", "--progress-bar", "off"]
    argv += target.pip_arguments()
    argv += ["--dest", str(destination), *source.pip_arguments()]
    for path in requirement_files:
        argv += ["--requirement", str(path)]
    argv += list(requirements)
    return argv


def _requirement_name(requirement: str) -> str:
    match = _NAME.match(requirement)
    return match.group(0) if match else requirement


def _failure(output: str, target: Target, source: WheelSource) -> str:
    """The one line that says why pip failed for ``target``."""
    missing = _NO_MATCH.findall(output) or _NO_VERSION.findall(output)
    if missing:
        requirement = missing[-1]
        name = _requirement_name(requirement)
        if normalize(name) == SDK_DISTRIBUTION:
            return (
                f"pip found no {name} wheel for {target} ({requirement}): the SDK is not on "
                "PyPI yet; give --find-links DIR, a directory with its wheel (make wheels "
                "writes it to dist/)"
            )
        shown = "" if requirement == name else f" ({requirement})"
        where = " in --find-links" if source.no_index else ""
        return (
            f"no wheel of {name}{shown} for {target}: pip found none for {target.platform} "
            f"and CPython {target.python}{where}; bundle for other targets (--platform, "
            "--python), or give a directory with such a wheel (--find-links DIR)"
        )
    errors = [
        line[len("ERROR: ") :].strip() for line in output.splitlines() if line.startswith("ERROR:")
    ]
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    cause = errors[-1] if errors else lines[-1] if lines else "no output"
    return f"pip could not download the wheels for {target}: {cause}"


def download(
    target: Target,
    destination: Path,
    requirements: Sequence[str],
    requirement_files: Sequence[Path],
    source: WheelSource,
    *,
    workdir: Path,
) -> tuple[list[Path], list[str]]:
    """Download the wheels of ``target`` for ``requirements`` into ``destination``.

    Args:
        target: The target whose wheels pip chooses.
        destination: An empty directory for the wheels.
        requirements: Requirement strings, such as ``mattermost-plugin-sdk>=0.1.0``.
        requirement_files: Requirements files (``-r``), absolute.
        source: Where pip looks for wheels besides its index.
        workdir: pip's working directory: an empty one, so that nothing
            of the current directory is imported or read.

    Returns:
        The wheels, in the order of their names, and warnings to show.

    Raises:
        CommandError: pip failed; the message names the package and the
            target when a wheel is missing.
    """
    destination.mkdir(parents=True, exist_ok=True)
    argv = download_argv(target, destination, requirements, requirement_files, source)
    try:
        child = subprocess.run(
            argv,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            check=False,
        )
    except OSError as error:
        raise CommandError(f"cannot run {sys.executable}: {error.strerror or error}") from None
    warnings = []
    for line in child.stderr.splitlines():
        if line.startswith(_NO_PIP):
            raise CommandError(
                f"{sys.executable} has no pip, which downloads the wheels: install it "
                f"({sys.executable} -m ensurepip)"
            )
        if line.startswith(_NO_MARKERS):
            warnings.append(
                f"this pip cannot be given {target}'s marker environment "
                f"({line[len(_NO_MARKERS) :].strip()}); dependencies with markers were "
                f"chosen for this Python ({sys.platform}, {sys.version_info[0]}."
                f"{sys.version_info[1]})"
            )
    if child.returncode != 0:
        raise CommandError(_failure(child.stderr + "\n" + child.stdout, target, source))
    wheels = sorted(path for path in destination.iterdir() if path.name.endswith(".whl"))
    others = sorted(path.name for path in destination.iterdir() if not path.name.endswith(".whl"))
    if others:
        raise CommandError(
            f"pip downloaded {others[0]} for {target}, which is not a wheel; a bundle carries "
            "wheels only"
        )
    return wheels, warnings
