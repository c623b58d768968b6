"""The child process of ``mattermost-plugin check``: import a plugin's entry, report.

``python -m mattermost_plugin._cli._probe ENTRY``, run in the plugin
directory, imports ENTRY (``plugin.py[:Class]`` or ``module[:Class]``) as
the dev server's plugin process would, without starting the plugin, finds
its plugin class, and writes one JSON object to stdout::

    {"problems": [...], "class": "MyPlugin", "hooks": ["OnActivate"], "traceback": null}

Whatever the plugin's module prints while it is imported goes to stderr, so
that stdout carries only that object. The check runs in a child process so
that the module's import side effects (threads, ``sys.exit``, a crash)
cannot break the command.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import json
import os
import sys
import traceback
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

from .._plugin.base import PluginBase
from ._manifest import MANIFEST, EntryPoint, parse_entry
from ._report import WARNING, Problem

#: The SDK's module whose class checks raise TypeError at class creation.
_HOOK_CHECKS = os.path.normcase(os.path.abspath(sys.modules[PluginBase.__module__].__file__ or ""))


class _EntryNotFound(Exception):
    """The entry's module cannot be found; the message says why."""


def _in_plugin(filename: str, directory: Path) -> str | None:
    """``filename`` relative to the plugin directory, or None when it is not inside."""
    if filename.startswith("<"):  # <frozen importlib._bootstrap>, <string>, ...
        return None
    try:
        return str(Path(os.path.abspath(filename)).relative_to(directory))
    except ValueError:
        return None


def _relative(filename: str, directory: Path) -> str:
    """``filename`` relative to the plugin directory when it is inside, else as it is."""
    return _in_plugin(filename, directory) or filename


def _innermost_frame(tb: TracebackType | None, directory: Path) -> tuple[str, int] | None:
    """The file and line of the innermost traceback frame in the plugin directory."""
    found = None
    for frame, line in traceback.walk_tb(tb):
        file = _in_plugin(frame.f_code.co_filename, directory)
        if file is not None:
            found = (file, line)
    return found


def _format_traceback(error: BaseException, directory: Path) -> str:
    """The traceback of ``error`` from its first frame in the plugin directory on."""
    start = error.__traceback__
    while start is not None and _in_plugin(start.tb_frame.f_code.co_filename, directory) is None:
        start = start.tb_next
    return "".join(traceback.format_exception(type(error), error, start or error.__traceback__))


def _raised_by_hook_checks(tb: TracebackType | None) -> bool:
    return any(
        os.path.normcase(os.path.abspath(frame.f_code.co_filename)) == _HOOK_CHECKS
        for frame, _ in traceback.walk_tb(tb)
    )


def _hook_fix(message: str) -> str:
    if "cannot handle" in message:
        return "give the method the parameters that the hook passes (self first)"
    if "is not a hook" in message:
        return "mattermost_plugin.HookName lists the hooks"
    if " twice" in message:
        return "keep one handler per hook"
    if "there is no hook" in message:
        return "name an existing hook in @hook(...), such as mattermost_plugin.HookName.ON_ACTIVATE"
    return "fix the plugin class as the message says; its definition runs the SDK's hook checks"


def _import(point: EntryPoint, directory: Path) -> ModuleType:
    """Import the entry's module as the plugin process does, under a name that is not __main__."""
    if point.is_file:
        path = directory / point.module
        if not path.is_file():
            raise _EntryNotFound(f"{point.module} does not exist")
        sys.path.insert(0, str(path.parent))
        spec = importlib.util.spec_from_file_location(path.stem, path)
        if spec is None or spec.loader is None:
            raise _EntryNotFound(f"{point.module} cannot be loaded as a module")
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module
        spec.loader.exec_module(module)
        return module
    try:
        spec = importlib.util.find_spec(point.module)
    except ModuleNotFoundError as error:
        raise _EntryNotFound(f"the module {point.module} cannot be found ({error})") from None
    if spec is None:
        raise _EntryNotFound(
            f"the module {point.module} is neither in the plugin directory nor installed"
        )
    return importlib.import_module(point.module)


def _import_problem(error: BaseException, point: EntryPoint, directory: Path) -> Problem:
    """The one-line problem of an exception raised while importing the entry."""
    tb = error.__traceback__
    if isinstance(error, SyntaxError):
        filename = _relative(error.filename or point.module, directory)
        return Problem(
            filename,
            f"syntax error: {error.msg}",
            "fix the Python syntax there",
            line=error.lineno,
            column=error.offset,
        )
    where = _innermost_frame(tb, directory)
    file, line = where if where is not None else (point.module, None)
    text = " ".join(str(error).split()) or type(error).__name__
    if isinstance(error, (TypeError, ValueError)) and _raised_by_hook_checks(tb):
        return Problem(file, text, _hook_fix(text), line=line)
    if isinstance(error, ModuleNotFoundError) and error.name:
        return Problem(
            file,
            f"cannot import {error.name}: it is not installed",
            "install it into the plugin's Python (pip install ...) and list it in "
            "requirements.txt, or fix the import",
            line=line,
        )
    if isinstance(error, SystemExit):
        return Problem(
            file,
            f"the module calls sys.exit({error.code!r}) when it is imported",
            'start the plugin only under `if __name__ == "__main__":`',
            line=line,
        )
    return Problem(
        file,
        f"importing it raised {type(error).__name__}: {text}",
        "fix the error (`mattermost-plugin check --verbose` shows the traceback)",
        line=line,
    )


def _plugin_classes(module: ModuleType) -> list[type[PluginBase[Any]]]:
    """The plugin classes that ``module`` defines, else those that it imports.

    This is how ``mattermost_plugin.serve`` picks the class of an entry
    without one: a package's ``__init__`` may import its plugin class.
    """
    classes = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, PluginBase)
        and not value.__dict__.get("_is_plugin_base", False)
    ]
    own = [c for c in classes if c.__module__ == module.__name__]
    return own or classes


def _find_class(
    module: ModuleType, point: EntryPoint, entry: str
) -> tuple[type[PluginBase[Any]] | None, list[Problem]]:
    """The plugin class that the entry names, or the module's only one."""
    shown = point.module
    if point.class_name:
        value: object = module
        for part in point.class_name.split("."):  # Outer.Inner names a nested class
            value = getattr(value, part, None)
        if value is None:
            names = [c.__name__ for c in _plugin_classes(module)] or [
                name for name, v in vars(module).items() if isinstance(v, type)
            ]
            close = difflib.get_close_matches(point.class_name, names, n=1, cutoff=0.5)
            fix = (
                f'did you mean "{close[0]}"? Fix server.python.entry'
                if close
                else "define it there, or fix the class name in server.python.entry"
            )
            return None, [
                Problem(
                    MANIFEST,
                    f'the entry "{entry}" names {point.class_name}, which {shown} does not define',
                    fix,
                )
            ]
        if not (isinstance(value, type) and issubclass(value, PluginBase)):
            return None, [
                Problem(
                    MANIFEST,
                    f'the entry "{entry}" names {point.class_name}, which is not a plugin class',
                    "name a subclass of mattermost_plugin.Plugin or AsyncPlugin",
                )
            ]
        if value.__dict__.get("_is_plugin_base", False):
            return None, [
                Problem(
                    MANIFEST,
                    f'the entry "{entry}" names the SDK\'s base class {point.class_name}',
                    "name your subclass of it",
                )
            ]
        return value, []
    found = _plugin_classes(module)
    if not found:
        return None, [
            Problem(
                shown,
                "it defines no plugin class",
                "define a subclass of mattermost_plugin.Plugin (or AsyncPlugin) in it",
            )
        ]
    if len(found) > 1:
        names = sorted(c.__name__ for c in found)
        return None, [
            Problem(
                MANIFEST,
                f"{shown} defines {len(names)} plugin classes ({', '.join(names)}), "
                f'and the entry "{entry}" does not say which one to run',
                f'name one in server.python.entry, such as "{point.module}:{names[0]}"',
            )
        ]
    return found[0], []


def probe(entry: str, directory: Path) -> dict[str, Any]:
    """Import ``entry`` from ``directory`` and describe its plugin class, as JSON."""
    point = parse_entry(entry)
    sys.path.insert(0, str(directory))
    result: dict[str, Any] = {"problems": [], "class": None, "hooks": [], "traceback": None}
    try:
        module = _import(point, directory)
    except _EntryNotFound as error:
        result["problems"].append(
            Problem(
                MANIFEST,
                f"server.python.entry: {error}",
                "fix the entry, or run check with the Python that has the module",
            ).to_json()
        )
        return result
    except BaseException as error:  # the module's own failure, whatever it is
        result["problems"].append(_import_problem(error, point, directory).to_json())
        result["traceback"] = _format_traceback(error, directory)
        return result
    plugin_class, problems = _find_class(module, point, entry)
    result["problems"] += [p.to_json() for p in problems]
    if plugin_class is not None:
        result["class"] = plugin_class.__name__
        result["hooks"] = plugin_class.implemented_hooks()
        if not result["hooks"]:
            result["problems"].append(
                Problem(
                    point.module,
                    f"{plugin_class.__name__} handles no hooks",
                    "add a hook method, such as on_activate(self) or "
                    "message_will_be_posted(self, context, post)",
                    severity=WARNING,
                ).to_json()
            )
    return result


def main(argv: list[str]) -> None:
    """Probe ``argv[0]`` in the current directory; write the JSON report to stdout."""
    report = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # what the plugin's module prints goes to stderr
    result = probe(argv[0], Path.cwd().resolve())
    report.write(json.dumps(result))
    report.flush()
    sys.stderr.flush()
    # Threads that the module started must not keep the process alive.
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
