"""``mattermost-plugin new NAME``: write a new plugin directory that passes its tests."""

from __future__ import annotations

import argparse
import json
import re
import string
from importlib import resources
from pathlib import Path

from .._version import __version__
from ._errors import CommandError, UsageError
from ._manifest import MANIFEST, is_valid_plugin_id

#: A plugin's directory name: it also makes its id, class and command names.
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*", re.ASCII)

#: The longest NAME, so that com.example.NAME stays a valid id.
MAX_NAME_LENGTH = 100

#: The files written, with their templates; plugin.json is built as JSON.
_FILES = (
    ("plugin.py", "plugin.py.tmpl"),
    ("tests/test_plugin.py", "test_plugin.py.tmpl"),
    ("requirements.txt", "requirements.txt.tmpl"),
    ("requirements-dev.txt", "requirements-dev.txt.tmpl"),
    ("README.md", "README.md.tmpl"),
    (".gitignore", "gitignore.tmpl"),
)


def _words(name: str) -> list[str]:
    """``my-plugin``, ``my_plugin`` and ``myPlugin`` are the words my, plugin."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [word for word in re.split(r"[-_ ]+", spaced) if word]


def class_name(name: str) -> str:
    """The class of NAME: ``my-bot`` makes ``MyBotPlugin``, ``hello-plugin`` ``HelloPlugin``."""
    camel = "".join(word[:1].upper() + word[1:] for word in _words(name))
    if not camel.endswith("Plugin"):
        camel += "Plugin"
    return camel


def display_name(name: str) -> str:
    """The plugin's display name: ``my-bot`` makes ``My Bot``."""
    return " ".join(word[:1].upper() + word[1:] for word in _words(name))


def default_id(name: str) -> str:
    """The plugin id of NAME when --id is not given."""
    return f"com.example.{name.lower()}"


def check_name(name: str) -> None:
    """Raise UsageError unless NAME can name a plugin directory, id and class."""
    if not _NAME.fullmatch(name):
        raise UsageError(
            f"invalid NAME {name!r}: use a letter, then letters, digits, '-' or '_' "
            "(such as my-plugin)"
        )
    if len(name) > MAX_NAME_LENGTH:
        raise UsageError(f"NAME is {len(name)} characters long; use at most {MAX_NAME_LENGTH}")


def manifest(name: str, plugin_id: str, class_: str) -> dict[str, object]:
    """The new plugin's plugin.json."""
    return {
        "id": plugin_id,
        "name": display_name(name),
        "description": "A Mattermost plugin written in Python.",
        "version": "0.1.0",
        "server": {"python": {"entry": f"plugin.py:{class_}"}},
        "settings_schema": {
            "settings": [
                {
                    "key": "Greeting",
                    "display_name": "Greeting",
                    "type": "text",
                    "default": "Hello",
                    "help_text": "The word that the plugin greets with.",
                }
            ]
        },
    }


def _template(name: str) -> string.Template:
    text = (
        resources.files("mattermost_plugin._cli")
        .joinpath("templates")
        .joinpath(name)
        .read_text(encoding="utf-8")
    )
    return string.Template(text)


def render(name: str, plugin_id: str, use_async: bool) -> dict[str, str]:
    """Every file of the new plugin, by its path in the directory."""
    class_ = class_name(name)
    values = {
        "name": name,
        "plugin_id": plugin_id,
        "class_name": class_,
        "display_name": display_name(name),
        "trigger": name.lower(),
        "sdk_version": __version__,
    }
    files = {MANIFEST: json.dumps(manifest(name, plugin_id, class_), indent=2) + "\n"}
    for path, template in _FILES:
        if template == "plugin.py.tmpl" and use_async:
            template = "plugin_async.py.tmpl"
        files[path] = _template(template).substitute(values)
    return files


def run(args: argparse.Namespace) -> int:
    """Run ``new``; see :func:`mattermost_plugin._cli.build_parser`."""
    name: str = args.name
    check_name(name)
    plugin_id: str = args.plugin_id or default_id(name)
    if not is_valid_plugin_id(plugin_id):
        raise UsageError(
            f"invalid --id {plugin_id!r}: use 3 to 190 letters, digits, '-', '_' or '.' "
            "(such as com.example.my-plugin)"
        )
    parent = Path(args.parent)
    if not parent.is_dir():
        raise CommandError(f"--dir {args.parent}: no such directory")
    target = parent / name
    if target.exists() and not target.is_dir():
        raise CommandError(f"{target} exists and is not a directory")
    if target.is_dir() and any(target.iterdir()):
        raise CommandError(f"{target} exists and is not empty; choose another NAME or --dir")
    files = render(name, plugin_id, args.use_async)
    try:
        for path, text in files.items():
            destination = target / path
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_text(text, encoding="utf-8")
    except OSError as error:
        raise CommandError(f"cannot write {target}: {error.strerror or error}") from None
    kind = "AsyncPlugin" if args.use_async else "Plugin"
    print(f"Created {target}: plugin {plugin_id}, class {class_name(name)} ({kind}).")
    for path in sorted(files):
        print(f"  {target / path}")
    print("\nNext:")
    print(f"  cd {target}")
    print("  mattermost-plugin check .")
    print("  python -m pytest tests")
    print("  mattermost-plugin dev . --watch")
    return 0
