"""``python -m mattermost_plugin.serve ENTRY``: serve a plugin to the host that started it.

ENTRY is what a manifest's ``server.python.entry`` says: a path to a
``.py`` file (``plugin.py``) or a dotted module name (``my_plugin.main``),
optionally followed by ``:ClassName``; without a class name, the module
must define exactly one plugin class (a subclass of
``mattermost_plugin.Plugin`` or ``AsyncPlugin``). A Mattermost server, or
the dev server, runs it in the plugin's directory.

When the plugin cannot start (its module does not import, the entry names
no usable class, the class is refused, the process was not started by a
go-plugin host), it writes one hclog JSON line to stderr whose
``startup_error`` names the cause, and whose ``traceback`` holds the
traceback, and exits with status 1.

From before it imports the plugin's module, it watches the host that
started it: when the host dies, a serving plugin stops as on SIGTERM, and
a plugin that is still starting, or does not stop within a few seconds,
exits with status 3.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

from ._plugin import goplugin, runner, startup
from ._plugin.base import PluginBase

__all__ = ["load_entry", "main"]

_USAGE = "usage: python -m mattermost_plugin.serve MODULE_OR_FILE.py[:CLASS]"
_BASES = "a subclass of mattermost_plugin.Plugin or AsyncPlugin"


def _is_plugin_class(value: object) -> bool:
    return (
        isinstance(value, type)
        and issubclass(value, PluginBase)
        and not value.__dict__.get("_is_plugin_base", False)
    )


def _load_file(source: str) -> ModuleType:
    path = Path(source)
    if not path.is_file():
        shown = startup.shown_path(source)
        raise startup.StartupError(
            f"{shown} does not exist (in {os.getcwd()})"
            if not path.exists()
            else f"{shown} is not a file"
        )
    path = path.resolve()
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py file always has one
        raise startup.StartupError(f"{source} cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[path.stem]
        raise
    return module


def _import(name: str) -> ModuleType:
    sys.path.insert(0, "")  # the plugin's directory
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        missing = error.name or ""
        if (name == missing or name.startswith(missing + ".")) and not startup.plugin_location(
            error.__traceback__
        ):
            raise startup.StartupError(
                f"cannot import the plugin module {name}: there is no module {missing} "
                f"in {os.getcwd()} or on the Python path"
            ) from error
        raise


def _load_module(module_name: str) -> ModuleType:
    try:
        if module_name.endswith(".py"):
            return _load_file(module_name)
        return _import(module_name)
    except startup.StartupError:
        raise
    except (Exception, SystemExit) as error:
        # An error of the module, or of a module it imports; a class that
        # PluginBase refused raised TypeError at its definition.
        raise startup.StartupError(startup.describe(error)) from error


def _plugin_classes(module: ModuleType) -> list[type[PluginBase[Any]]]:
    """The plugin classes that the module defines, else those that it imports."""
    classes = [v for v in vars(module).values() if _is_plugin_class(v)]
    own = [c for c in classes if c.__module__ == module.__name__]
    return sorted(own or classes, key=lambda c: c.__name__)


def load_entry(entry: str) -> type[PluginBase[Any]]:
    """Import the module that ``entry`` names and return its plugin class.

    Raises:
        mattermost_plugin._plugin.startup.StartupError: The module does not
            import, or the entry names no usable class. The message is one
            sentence that names the cause; the exception of the module, if
            any, is its ``__cause__``.
    """
    module_name, _, class_name = entry.rpartition(":") if ":" in entry else (entry, "", "")
    if not module_name:
        raise startup.StartupError(f"the entry {entry!r} names no module; {_USAGE}")
    module = _load_module(module_name)
    if module_name.endswith(".py"):  # as the plugin's author knows it
        module_name = startup.shown_path(module_name)
    classes = _plugin_classes(module)
    names = ", ".join(c.__name__ for c in classes)
    if class_name:
        value: object = module
        for part in class_name.split("."):
            value = getattr(value, part, None)
        if value is None:
            defined = f"it defines: {names}" if names else f"it defines no plugin class ({_BASES})"
            raise startup.StartupError(f"{module_name} has no class {class_name}; {defined}")
        if not _is_plugin_class(value):
            what = (
                "the SDK's base class"
                if isinstance(value, type) and issubclass(value, PluginBase)
                else f"a {type(value).__name__}"
            )
            raise startup.StartupError(f"{module_name}:{class_name} is {what}, not {_BASES}")
        plugin_class: type[PluginBase[Any]] = value  # type: ignore[assignment]
        return plugin_class
    if not classes:
        raise startup.StartupError(
            f"{module_name} defines no plugin class: define {_BASES} in it, or name the "
            f"class in the entry ({module_name}:ClassName)"
        )
    if len(classes) > 1:
        raise startup.StartupError(
            f"{module_name} defines {len(classes)} plugin classes ({names}); name one in the "
            f"entry, as {module_name}:{classes[0].__name__}"
        )
    return classes[0]


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Serve the plugin that the one argument names; see the module's documentation."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0] in ("-h", "--help"):
        print(f"{_USAGE}\n\n{(__doc__ or '').strip()}", file=sys.stderr)
        raise SystemExit(0 if args in (["-h"], ["--help"]) else 2)
    try:  # before the plugin's module runs
        goplugin.check_environment(os.environ)
    except goplugin.HandshakeError as error:
        startup.fail(str(error))
    runner.watch_host()  # so that a module that hangs at import ends with its host
    runner.claim_stdout()  # so that the module's prints cannot precede the handshake
    try:
        plugin_class = load_entry(args[0])
    except startup.StartupError as error:
        startup.fail(str(error), error.__cause__)
    runner.run(plugin_class)
    raise SystemExit(0)  # pragma: no cover - run() ends the process


if __name__ == "__main__":
    main()
