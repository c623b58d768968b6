"""``mattermost-plugin check DIR``: validate a plugin without running the server.

Given a bundle (``FILE.tar.gz``) rather than a directory, ``check`` validates
the archive instead; see :mod:`mattermost_plugin._cli._bundle_check`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from ._env import child_environ
from ._errors import CommandError
from ._manifest import MANIFEST, check_entry, check_manifest, load_manifest
from ._report import WARNING, Problem

#: The module that imports the entry in a child process.
PROBE = "mattermost_plugin._cli._probe"


@dataclasses.dataclass
class CheckResult:
    """What ``check`` found.

    Attributes:
        problems: Every problem, errors and warnings, in the order found.
        manifest: The parsed manifest, when it could be read.
        plugin_class: The plugin class that the entry runs, when found.
        hooks: The Go names of the hooks that class handles.
        traceback: The traceback of an exception raised by importing the
            entry, when one was.
    """

    problems: list[Problem] = dataclasses.field(default_factory=list)
    manifest: dict[str, Any] | None = None
    plugin_class: str | None = None
    hooks: list[str] = dataclasses.field(default_factory=list)
    traceback: str | None = None

    @property
    def errors(self) -> list[Problem]:
        """The problems that fail the check."""
        return [p for p in self.problems if p.is_error]


def _python_entry(manifest: dict[str, Any]) -> str:
    server = manifest.get("server")
    python = server.get("python") if isinstance(server, dict) else None
    entry = python.get("entry") if isinstance(python, dict) else None
    return entry if isinstance(entry, str) else ""


def check_plugin(directory: Path, *, timeout: float = 30.0) -> CheckResult:
    """Check the plugin in ``directory``: its manifest, then its Python entry.

    The entry is imported in a child process run by this interpreter, in
    the plugin directory, with that directory on ``sys.path``; the plugin
    is not started.
    """
    result = CheckResult()
    manifest, problems = load_manifest(directory)
    result.problems += problems
    if manifest is None:
        return result
    result.manifest = manifest
    result.problems += check_manifest(manifest, directory)
    entry = _python_entry(manifest)
    if entry and not any(p.is_error for p in check_entry(entry, directory)):
        _probe_entry(entry, directory, timeout, result)
    return result


def _probe_entry(entry: str, directory: Path, timeout: float, result: CheckResult) -> None:
    """Import the entry in a child process and add what it reports to ``result``."""
    module = entry.rpartition(":")[0] or entry
    try:
        child = subprocess.run(
            [sys.executable, "-m", PROBE, entry],
            cwd=directory,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            env=child_environ(),
            check=False,
        )
    except subprocess.TimeoutExpired:
        result.problems.append(
            Problem(
                module,
                f"importing it did not finish in {timeout:g} s",
                "do no slow or blocking work at import time: start it in on_activate",
            )
        )
        return
    try:
        report = json.loads(child.stdout.decode("utf-8", "replace"))
    except json.JSONDecodeError:
        report = None
    if not isinstance(report, dict):
        lines = child.stderr.decode("utf-8", "replace").strip().splitlines()
        last = f": {lines[-1].strip()}" if lines else ""
        result.problems.append(
            Problem(
                module,
                f"importing it ended the Python process (exit code {child.returncode}){last}",
                "make the module importable without side effects that end the process",
            )
        )
        return
    result.problems += [Problem.from_json(p) for p in report.get("problems", [])]
    plugin_class = report.get("class")
    result.plugin_class = plugin_class if isinstance(plugin_class, str) else None
    result.hooks = [str(h) for h in report.get("hooks", [])]
    trace = report.get("traceback")
    result.traceback = trace if isinstance(trace, str) else None


def _summary(result: CheckResult) -> str:
    errors = len(result.errors)
    warnings = len(result.problems) - errors
    if errors:
        counts = f"{errors} error{'s' * (errors != 1)}"
        if warnings:
            counts += f", {warnings} warning{'s' * (warnings != 1)}"
        return f"{counts}: the plugin cannot run as it is"
    manifest = result.manifest or {}
    what = f"{manifest.get('id')} {manifest.get('version') or ''}".strip()
    if result.plugin_class:
        hooks = ", ".join(result.hooks) or "no hooks"
        what += f": {result.plugin_class} handles {hooks}"
    if warnings:
        what += f" ({warnings} warning{'s' * (warnings != 1)})"
    return f"ok: {what}"


def _render(problem: Problem, bundle: str) -> str:
    """A bundle's problem, its file shown inside the bundle: ``x.tar.gz/ID/plugin.json``."""
    if not problem.file:
        return dataclasses.replace(problem, file=bundle).render("")
    return problem.render(bundle)


def _check_bundle(name: str) -> int:
    from ._bundle import BUNDLE_SIZE_LIMIT, format_size
    from ._bundle_check import check_bundle

    report = check_bundle(Path(name))
    if report.size > BUNDLE_SIZE_LIMIT:
        report.add(
            "",
            f"is {format_size(report.size)}, over the {format_size(BUNDLE_SIZE_LIMIT)} "
            "that Mattermost takes by default",
            "bundle fewer targets per file: one --platform and one --python each",
            WARNING,
        )
    for problem in report.problems:
        print(_render(problem, name))
    errors = len(report.errors)
    warnings = len(report.problems) - errors
    if errors:
        counts = f"{errors} error{'s' * (errors != 1)}"
        if warnings:
            counts += f", {warnings} warning{'s' * (warnings != 1)}"
        print(f"{counts}: the bundle cannot be installed as it is")
        return 1
    manifest = report.manifest or {}
    sizes = ", ".join(f"{t} ({format_size(n)})" for t, n in sorted(report.wheel_sizes.items()))
    line = (
        f"ok: {manifest.get('id')} {manifest.get('version') or ''} bundle, "
        f"{format_size(report.size)}, for {sizes}"
    )
    if warnings:
        line += f" ({warnings} warning{'s' * (warnings != 1)})"
    print(" ".join(line.split()))
    return 0


def run(args: argparse.Namespace) -> int:
    """Run ``check``; see :func:`mattermost_plugin._cli.build_parser`."""
    from ._bundle_check import is_bundle_name

    name: str = args.directory
    directory = Path(name)
    if not directory.exists():
        raise CommandError(f"{name} does not exist")
    if directory.is_file() and is_bundle_name(directory.name):
        return _check_bundle(name)
    if not directory.is_dir():
        what = "the manifest" if directory.name == MANIFEST else "a file"
        raise CommandError(f"{name} is {what}; give the plugin directory, or a bundle (.tar.gz)")
    result = check_plugin(directory.resolve(), timeout=args.timeout)
    if args.verbose and result.traceback:
        print(result.traceback.rstrip(), file=sys.stderr, flush=True)
    for problem in result.problems:
        print(problem.render(name))
    print(_summary(result))
    return 1 if result.errors else 0
