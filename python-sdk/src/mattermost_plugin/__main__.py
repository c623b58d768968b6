"""``python -m mattermost_plugin MODULE[:CLASS]``: serve a plugin class.

MODULE is imported (a dotted name, or a path to a .py file); CLASS names
the plugin class in it, and may be left out when the module defines
exactly one subclass of Plugin or AsyncPlugin.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

from ._plugin import goplugin
from ._plugin.base import PluginBase
from ._plugin.runner import claim_stdout, run


def _load_module(name: str) -> ModuleType:
    if name.endswith(".py"):
        path = Path(name).resolve()
        sys.path.insert(0, str(path.parent))
        spec = importlib.util.spec_from_file_location(path.stem, path)
        if spec is None or spec.loader is None:
            raise SystemExit(f"cannot load {name}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module
        spec.loader.exec_module(module)
        return module
    sys.path.insert(0, "")
    return importlib.import_module(name)


def main(argv: list[str]) -> None:
    """Serve the plugin class that ``argv[0]`` names."""
    if len(argv) != 1 or argv[0] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        raise SystemExit(2)
    module_name, _, class_name = argv[0].rpartition(":") if ":" in argv[0] else (argv[0], "", "")
    try:  # before the plugin's module runs
        goplugin.check_environment(os.environ)
    except goplugin.HandshakeError as error:
        print(error, file=sys.stderr)
        raise SystemExit(1) from None
    claim_stdout()  # so that the module's prints cannot precede the handshake
    module = _load_module(module_name)
    if class_name:
        plugin_class = getattr(module, class_name, None)
    else:
        found = [
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, PluginBase)
            and value.__module__ == module.__name__  # not the imported base classes
        ]
        if len(found) != 1:
            names = ", ".join(sorted(c.__name__ for c in found)) or "none"
            raise SystemExit(
                f"{module_name} defines {len(found)} plugin classes ({names}); name one"
            )
        plugin_class = found[0]
    if not (isinstance(plugin_class, type) and issubclass(plugin_class, PluginBase)):
        raise SystemExit(f"{argv[0]} is not a Plugin subclass")
    run(plugin_class)


if __name__ == "__main__":
    main(sys.argv[1:])
