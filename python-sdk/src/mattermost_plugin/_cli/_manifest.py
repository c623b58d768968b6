r"""Checks of a plugin's ``plugin.json`` against Mattermost's manifest rules.

The rules come from Mattermost's ``model.Manifest``:

* mattermost/mattermost ``server/public/model/manifest.go`` at
  13048747c0cde7337ee72ec9d0073f2ffa3f02da: the JSON keys of ``Manifest``,
  ``ManifestServer``, ``ManifestWebapp``, ``PluginSettingsSchema``,
  ``PluginSetting`` and ``PluginOption``; ``IsValid`` (a valid id, a
  non-blank name, http(s) URLs, ``version`` and ``min_server_version``
  parsed by ``blang/semver``'s ``semver.Parse``, which takes strict SemVer
  2.0.0: ``MAJOR.MINOR.PATCH[-PRE][+BUILD]``, no leading ``v``, no leading
  zeros); ``PluginSetting.isValid`` (the setting types, options only for
  radio and dropdown and never empty, placeholders and regenerate texts only
  where they apply). Later upstream versions add ``settings_schema.sections``
  (``PluginSettingsSection``, whose ``key`` must not be empty) and a
  setting's ``secret``, and parse versions with Masterminds/semver's
  ``StrictNewVersion``, the same strict SemVer 2.0.0; both are accepted.
* mattermost/mattermost ``server/public/model/plugin_valid.go`` at
  f57bcbfa9bbf9c6301777ada2419b9105828186f: ``IsValidPluginId``, 3 to 190
  characters matching ``^[a-zA-Z0-9-_\.]+$``.

``server.python`` (``entry``, ``interpreter``, ``venv``) is this project's
addition, read by the dev server's supervisor
(``server/public/pluginapi/grpc/supervisor/manifest.go``);
``server.python.targets`` lists the targets of a bundle
(docs/bundles.md). ``server.executable`` and ``server.executables`` may
stand beside it: a bundle may carry a Go program as well. The keys of
``server.executables`` are the ``GOOS-GOARCH`` pairs that
``Manifest.GetExecutableForRuntime`` looks up.

Go's ``encoding/json``, which reads the manifest, ignores unknown keys and
matches keys without regard to case; a misspelled key therefore drops its
value silently, which is what the unknown-key check catches.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import re
import urllib.parse
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Union

from ._bundle_targets import executable_key_problem, target_problem
from ._report import ERROR, WARNING, Problem

__all__ = [
    "MANIFEST",
    "SETTING_TYPES",
    "EntryPoint",
    "check_entry",
    "check_manifest",
    "is_semver",
    "is_valid_plugin_id",
    "load_manifest",
    "parse_entry",
]

#: The manifest's file name.
MANIFEST = "plugin.json"

#: Mattermost's plugin setting types (``convertTypeToPluginSettingType``).
SETTING_TYPES = (
    "bool",
    "dropdown",
    "generated",
    "radio",
    "text",
    "longtext",
    "number",
    "username",
    "custom",
)

#: Other spellings of a setting type, with the type meant.
_TYPE_ALIASES = {
    "boolean": "bool",
    "checkbox": "bool",
    "string": "text",
    "str": "text",
    "textarea": "longtext",
    "int": "number",
    "integer": "number",
    "float": "number",
    "select": "dropdown",
    "user": "username",
}

#: Setting types whose default is a string.
_STRING_TYPES = ("dropdown", "generated", "radio", "text", "longtext", "username")

#: Setting types that may have a placeholder (``PluginSetting.isValid``).
_PLACEHOLDER_TYPES = ("generated", "text", "longtext", "number", "username", "custom")

#: The values of a setting's ``hosting``.
_HOSTING = ("cloud", "on-prem")

_MIN_ID_LENGTH = 3
_MAX_ID_LENGTH = 190
_PLUGIN_ID = re.compile(r"[a-zA-Z0-9_.-]+", re.ASCII)

# SemVer 2.0.0 (semver.org), which blang/semver's Parse implements.
_SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
    r"(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?",
    re.ASCII,
)

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class _Any:
    """A value of any JSON type, not checked further."""


class _StringMap:
    """A JSON object of strings, with keys of the author's choosing."""


_ANY = _Any()
_STRING_MAP = _StringMap()

# The known keys at each level. A Python type stands for a JSON type; a
# dict for an object with those keys; a one-element list for a list of it.
_Spec = Union[type, _Any, _StringMap, "dict[str, Any]", "list[Any]"]

_OPTION: dict[str, _Spec] = {"display_name": str, "value": str}

_SETTING: dict[str, _Spec] = {
    "key": str,
    "display_name": str,
    "type": str,
    "help_text": str,
    "regenerate_help_text": str,
    "placeholder": str,
    "default": _ANY,
    "options": [_OPTION],
    "hosting": str,
    "secret": bool,
}

_SECTION: dict[str, _Spec] = {
    "key": str,
    "title": str,
    "subtitle": str,
    "settings": [_SETTING],
    "header": str,
    "footer": str,
    "custom": bool,
    "fallback": bool,
}

_SCHEMA: dict[str, _Spec] = {
    "id": str,
    "name": str,
    "description": str,
    "homepage_url": str,
    "support_url": str,
    "release_notes_url": str,
    "icon_path": str,
    "version": str,
    "min_server_version": str,
    "server": {
        "executables": _STRING_MAP,
        "executable": str,
        "python": {"entry": str, "interpreter": str, "venv": str, "targets": [str]},
    },
    "webapp": {"bundle_path": str},
    "settings_schema": {
        "header": str,
        "footer": str,
        "settings": [_SETTING],
        "sections": [_SECTION],
    },
    "props": _ANY,
}


class _Object(dict[str, Any]):
    """A parsed JSON object that remembers the keys it had twice."""

    duplicates: list[str]


def _object_pairs(pairs: list[tuple[str, Any]]) -> _Object:
    result = _Object()
    result.duplicates = []
    for key, value in pairs:
        if key in result and key not in result.duplicates:
            result.duplicates.append(key)
        result[key] = value
    return result


def is_valid_plugin_id(plugin_id: str) -> bool:
    """Mattermost's ``model.IsValidPluginId``."""
    return _MIN_ID_LENGTH <= len(plugin_id) <= _MAX_ID_LENGTH and bool(
        _PLUGIN_ID.fullmatch(plugin_id)
    )


def is_semver(version: str) -> bool:
    """Whether ``version`` is strict SemVer 2.0.0, as ``semver.Parse`` takes it."""
    return bool(_SEMVER.fullmatch(version))


@dataclasses.dataclass(frozen=True)
class EntryPoint:
    """``server.python.entry`` split: a ``.py`` file or a dotted module, and a class.

    Attributes:
        module: The file (``plugin.py``, ``src/plugin.py``) or module
            (``my_plugin.main``) part.
        class_name: The class after the ``:``, or ``""``.
    """

    module: str
    class_name: str

    @property
    def is_file(self) -> bool:
        """Whether ``module`` is a file path rather than a module name."""
        return self.module.endswith(".py")


def parse_entry(entry: str) -> EntryPoint:
    """Split ``server.python.entry`` at its last ``:``; see :class:`EntryPoint`."""
    module, colon, class_name = entry.rpartition(":")
    return EntryPoint(module, class_name) if colon else EntryPoint(entry, "")


def load_manifest(directory: Path) -> tuple[dict[str, Any] | None, list[Problem]]:
    """Read and parse ``plugin.json``; the manifest is None when it cannot be read."""
    path = directory / MANIFEST
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, [
            Problem(
                MANIFEST,
                "there is no plugin.json",
                f"create one, or run '{_new_hint(directory)}' to start from a working plugin",
            )
        ]
    except OSError as error:
        return None, [Problem(MANIFEST, f"cannot read it: {error.strerror}", "check the file")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return None, [
            Problem(MANIFEST, f"it is not UTF-8 (byte {error.start})", "save it as UTF-8")
        ]
    try:
        manifest = json.loads(text, object_pairs_hook=_object_pairs)
    except json.JSONDecodeError as error:
        return None, [
            Problem(
                MANIFEST,
                f"invalid JSON: {error.msg}",
                "fix the JSON syntax there",
                line=error.lineno,
                column=error.colno,
            )
        ]
    if not isinstance(manifest, dict):
        return None, [
            Problem(
                MANIFEST,
                f"the manifest is {_json_type(manifest)}, not an object",
                'write an object: {"id": ..., "name": ..., "version": ..., "server": ...}',
            )
        ]
    return manifest, []


def _new_hint(directory: Path) -> str:
    return f"mattermost-plugin new {directory.name or 'my-plugin'}"


def check_manifest(manifest: Mapping[str, Any], directory: Path) -> list[Problem]:
    """Every problem of a parsed manifest, in the order of its keys."""
    problems = list(_check_keys(manifest, _SCHEMA, ""))
    manifest = _canonical(manifest, _SCHEMA)
    problems += _check_identity(manifest, directory)
    problems += _check_server(manifest, directory)
    problems += _check_webapp(manifest, directory)
    problems += _check_settings(manifest)
    return problems


def _problem(message: str, fix: str, severity: str = ERROR) -> Problem:
    return Problem(MANIFEST, message, fix, severity=severity)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _spec_type(spec: _Spec) -> str:
    if spec is str:
        return "a string"
    if spec is bool:
        return "true or false"
    if isinstance(spec, list):
        return "a list"
    return "an object"


def _where(path: str) -> str:
    return f"in {path}" if path else "at the top level"


def _check_keys(value: Any, spec: _Spec, path: str) -> Iterator[Problem]:  # noqa: ANN401
    """Check the JSON types and the keys of ``value`` against ``spec``, recursively."""
    if isinstance(spec, _Any):
        return
    if isinstance(spec, _StringMap):
        if not isinstance(value, dict):
            yield _problem(f"{path} is {_json_type(value)}", "make it an object of strings")
            return
        for key, item in value.items():
            if not isinstance(item, str):
                yield _problem(
                    f"{path}.{key} is {_json_type(item)}", "make it a string (a file path)"
                )
        return
    if spec is str or spec is bool:
        if value is not None and not isinstance(value, spec):
            yield _problem(
                f"{path} is {_json_type(value)}, not {_spec_type(spec)}",
                f"make it {_spec_type(spec)}: Mattermost cannot read the manifest otherwise",
            )
        return
    if isinstance(spec, list):
        if value is None:
            return
        if not isinstance(value, list):
            yield _problem(f"{path} is {_json_type(value)}, not a list", "make it a list [...]")
            return
        for index, item in enumerate(value):
            yield from _check_keys(item, spec[0], f"{path}[{index}]")
        return
    assert isinstance(spec, dict)
    if value is None:
        return
    if not isinstance(value, dict):
        yield _problem(f"{path} is {_json_type(value)}, not an object", "make it an object {...}")
        return
    for key in getattr(value, "duplicates", []):
        yield _problem(
            f'the key "{key}" appears twice {_where(path)}',
            "keep one: Mattermost reads the last",
            WARNING,
        )
    known = list(spec)
    lowered = {name.lower(): name for name in known}
    for key, item in value.items():
        name = f"{path}.{key}" if path else key
        if key in spec:
            yield from _check_keys(item, spec[key], name)
        elif key.lower() in lowered:
            right = lowered[key.lower()]
            yield _problem(
                f'the key "{key}" {_where(path)} is spelled "{right}" in Mattermost\'s manifest',
                f'rename it "{right}"',
                WARNING,
            )
            yield from _check_keys(item, spec[right], f"{path}.{right}" if path else right)
        else:
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            if close:
                yield _problem(f'unknown key "{key}" {_where(path)}', f'did you mean "{close[0]}"?')
            else:
                props = "" if path else ", or keep custom data in props"
                yield _problem(
                    f'unknown key "{key}" {_where(path)}',
                    f"Mattermost ignores it: remove it (known keys: {', '.join(known)}){props}",
                    WARNING,
                )


def _canonical(value: Any, spec: _Spec) -> Any:  # noqa: ANN401 - any JSON value
    """``value`` with its keys spelled as ``spec`` spells them, as Go's decoder reads them.

    Go's ``encoding/json`` matches a key like ``"Name"`` to the field
    ``name``; the semantic checks then see what Mattermost sees.
    """
    if isinstance(spec, list) and isinstance(value, list):
        return [_canonical(item, spec[0]) for item in value]
    if not (isinstance(spec, dict) and isinstance(value, dict)):
        return value
    lowered: dict[str, str] = {str(name).lower(): str(name) for name in spec}
    result: dict[str, Any] = {}
    for key, item in value.items():
        name = key if key in spec else lowered.get(str(key).lower(), str(key))
        if name != key and name in value:
            continue  # the exact spelling is there too
        result[name] = _canonical(item, spec[name]) if name in spec else item
    return result


def _string(manifest: Mapping[str, Any], key: str) -> str:
    value = manifest.get(key)
    return value if isinstance(value, str) else ""


def _object(value: Any) -> Mapping[str, Any]:  # noqa: ANN401
    return value if isinstance(value, dict) else {}


def _check_identity(manifest: Mapping[str, Any], directory: Path) -> Iterator[Problem]:
    plugin_id = manifest.get("id")
    example = _suggest_id(directory)
    if plugin_id is None or plugin_id == "":
        yield _problem("there is no id", f'add one, such as "id": "{example}"')
    elif isinstance(plugin_id, str):
        if not is_valid_plugin_id(plugin_id):
            yield _problem(
                f'id "{plugin_id[:200]}" is not a valid plugin id',
                f"use 3 to 190 letters, digits, '-', '_' or '.', such as \"{example}\"",
            )
        elif plugin_id != plugin_id.lower():
            yield _problem(
                f'id "{plugin_id}" has capital letters',
                f'Mattermost reads it in lower case: write "{plugin_id.lower()}"',
                WARNING,
            )
    if "name" not in manifest or (
        isinstance(manifest["name"], str) and not manifest["name"].strip()
    ):
        yield _problem(
            "there is no name (Mattermost refuses a plugin without one)",
            'add one, such as "name": "My Plugin"',
        )
    version = manifest.get("version")
    if version is None or version == "":
        yield _problem("there is no version", 'add one, such as "version": "0.1.0"', WARNING)
    elif isinstance(version, str):
        yield from _check_semver("version", version)
    minimum = manifest.get("min_server_version")
    if isinstance(minimum, str) and minimum:
        yield from _check_semver("min_server_version", minimum)
    for key in ("homepage_url", "support_url", "release_notes_url"):
        url = _string(manifest, key)
        if url and not _is_http_url(url):
            yield _problem(
                f'{key} "{url[:200]}" is not an http(s) URL',
                'write a full URL, such as "https://example.com/my-plugin"',
            )
    icon = _string(manifest, "icon_path")
    if icon:
        yield from _check_path("icon_path", icon, directory, "an SVG icon")


def _suggest_id(directory: Path) -> str:
    name = re.sub(r"[^a-z0-9_.-]+", "-", directory.resolve().name.lower()).strip("-.")
    return f"com.example.{name or 'my-plugin'}"


def _check_semver(key: str, version: str) -> Iterator[Problem]:
    if is_semver(version):
        return
    if version[:1] in "vV" and is_semver(version[1:]):
        fix = f'drop the "v": "{version[1:]}"'
    else:
        parts = version.split(".")
        if 1 <= len(parts) < 3 and all(part.isdigit() for part in parts):
            fix = f'write all three numbers: "{".".join(parts + ["0"] * (3 - len(parts)))}"'
        else:
            fix = 'write MAJOR.MINOR.PATCH, such as "1.0.0" (or "1.0.0-beta.1")'
    yield _problem(f'{key} "{version[:100]}" is not a semantic version', fix)


def _is_http_url(url: str) -> bool:
    """Mattermost's ``IsValidHTTPURL``: http(s), and a host."""
    if not url.startswith(("http://", "https://")):
        return False
    try:
        return bool(urllib.parse.urlsplit(url).netloc)
    except ValueError:
        return False


def _inside(directory: Path, relative: str) -> Path | None:
    """``relative`` resolved in ``directory``, or None when it is absolute or leaves it."""
    if os.path.isabs(relative):
        return None
    clean = os.path.normpath(relative)
    if clean == ".." or clean.startswith(".." + os.sep):
        return None
    return directory / clean


def _check_path(key: str, relative: str, directory: Path, what: str) -> Iterator[Problem]:
    path = _inside(directory, relative)
    if path is None:
        yield _problem(
            f'{key} "{relative}" is not inside the plugin directory',
            "give a path relative to the directory of plugin.json",
        )
    elif not path.exists():
        yield _problem(
            f'{key} "{relative}" does not exist', f"add {what} there, or fix the path", WARNING
        )


def _check_server(manifest: Mapping[str, Any], directory: Path) -> Iterator[Problem]:
    server = manifest.get("server")
    example = '"server": {"python": {"entry": "plugin.py"}}'
    if server is None:
        yield _problem("there is no server part", f"add one, such as {example}")
        return
    if not isinstance(server, dict):
        return  # reported by the key check
    python = server.get("python")
    executable = _string(server, "executable")
    yield from _check_executables(server, directory, required=python is None)
    if python is None and not executable:
        if server.get("executables"):
            yield _problem(
                "server.executables names Go executables, which the dev server does not run",
                "add server.python for a Python plugin, or server.executable",
                WARNING,
            )
        else:
            yield _problem("the server part names no program", f"add server.python: {example}")
        return
    if python is None:
        return
    if not isinstance(python, dict):
        return  # reported by the key check
    entry = python.get("entry")
    if entry is None or entry == "":
        yield _problem(
            "server.python has no entry",
            'name the plugin\'s module, such as "entry": "plugin.py" or "plugin.py:MyPlugin"',
        )
    elif isinstance(entry, str):
        yield from check_entry(entry, directory)
    yield from _check_targets(python.get("targets"))
    interpreter = _string(python, "interpreter")
    venv = _string(python, "venv")
    if interpreter and venv:
        yield _problem(
            "server.python has both interpreter and venv",
            "keep one: the interpreter wins and the venv is ignored",
            WARNING,
        )
    if interpreter:
        path = Path(interpreter) if os.path.isabs(interpreter) else _inside(directory, interpreter)
        if path is None:
            yield _problem(
                f'server.python.interpreter "{interpreter}" is not inside the plugin directory',
                "give an absolute path, or one relative to the directory of plugin.json",
            )
        elif not path.exists():
            yield _problem(
                f'server.python.interpreter "{interpreter}" does not exist',
                "install that Python, or fix the path",
                WARNING,
            )
    elif venv:
        path = _inside(directory, venv)
        if path is None:
            yield _problem(
                f'server.python.venv "{venv}" is not inside the plugin directory',
                "give a path relative to the directory of plugin.json",
            )
        elif not (path / "bin" / "python").exists():
            yield _problem(
                f'server.python.venv "{venv}" has no bin/python',
                f"create it: python -m venv {venv} && {venv}/bin/pip install -r requirements.txt",
                WARNING,
            )


def _check_executables(
    server: Mapping[str, Any], directory: Path, *, required: bool
) -> Iterator[Problem]:
    """``server.executable`` and ``server.executables``: Mattermost's keys, paths inside.

    ``required`` says that the executable is the plugin's only program (no
    ``server.python``), which must then exist.
    """
    executable = _string(server, "executable")
    if executable:
        path = _inside(directory, executable)
        if path is None:
            yield _problem(
                f'server.executable "{executable}" is not inside the plugin directory',
                "give a path relative to the directory of plugin.json",
            )
        elif not path.is_file():
            yield _problem(
                f'server.executable "{executable}" does not exist',
                "build it, or fix the path",
                ERROR if required else WARNING,
            )
    executables = server.get("executables")
    if not isinstance(executables, dict):
        return  # absent, or reported by the key check
    for key, relative in executables.items():
        name = f"server.executables.{key}"
        wrong = executable_key_problem(str(key))
        if wrong is not None:
            message, fix, is_error = wrong
            yield _problem(f"server.executables {message}", fix, ERROR if is_error else WARNING)
        if not isinstance(relative, str):
            continue  # reported by the key check
        if not relative:
            yield _problem(f"{name} is empty", "give the path of the executable for that platform")
            continue
        path = _inside(directory, relative)
        if path is None:
            yield _problem(
                f'{name} "{relative}" is not inside the plugin directory',
                "give a path relative to the directory of plugin.json",
            )
        elif not path.is_file():
            yield _problem(
                f'{name} "{relative}" does not exist',
                "build it for that platform, or fix the path",
                WARNING,
            )


def _check_targets(targets: Any) -> Iterator[Problem]:  # noqa: ANN401 - any JSON value
    """``server.python.targets``: unique ``<platform>-cp3<minor>`` strings."""
    if not isinstance(targets, list):
        return  # absent, or reported by the key check
    if not targets:
        yield _problem(
            "server.python.targets is empty",
            "remove it: mattermost-plugin bundle fills it in with the targets it carries",
            WARNING,
        )
    seen: set[str] = set()
    for index, target in enumerate(targets):
        if target is None:
            yield _problem(f"server.python.targets[{index}] is null", "remove it")
            continue
        if not isinstance(target, str):
            continue  # reported by the key check
        name = f'server.python.targets[{index}] "{target[:100]}"'
        wrong = target_problem(target)
        if wrong is not None:
            message, fix = wrong
            yield _problem(f"{name} {message}", fix)
        elif target in seen:
            yield _problem(f"{name} is listed twice", "keep one")
        seen.add(target)


def check_entry(entry: str, directory: Path) -> Iterator[Problem]:
    """The problems of ``server.python.entry`` that show without importing it."""
    point = parse_entry(entry)
    if point.class_name and not all(
        _IDENTIFIER.fullmatch(part) for part in point.class_name.split(".")
    ):
        yield _problem(
            f'server.python.entry "{entry}" names "{point.class_name}", which is not a class name',
            'write "FILE.py:ClassName" or "package.module:ClassName"',
        )
    if point.is_file:
        path = _inside(directory, point.module)
        if path is None:
            yield _problem(
                f'server.python.entry "{entry}" is not inside the plugin directory',
                "give a .py file relative to the directory of plugin.json",
            )
        elif not path.is_file():
            yield _problem(
                f"server.python.entry names {point.module}, which does not exist",
                "create it, or fix the file name in the entry",
            )
    elif not all(_IDENTIFIER.fullmatch(part) for part in point.module.split(".")):
        yield _problem(
            f'server.python.entry "{entry}" is neither a .py file nor a module name',
            'write "plugin.py", "plugin.py:MyPlugin" or "my_package.plugin:MyPlugin"',
        )


def _check_webapp(manifest: Mapping[str, Any], directory: Path) -> Iterator[Problem]:
    bundle = _string(_object(manifest.get("webapp")), "bundle_path")
    if bundle:
        yield from _check_path("webapp.bundle_path", bundle, directory, "the webapp bundle")


def _settings(manifest: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every setting of the schema, with its path, sections' settings included."""
    schema = _object(manifest.get("settings_schema"))
    settings = schema.get("settings")
    if isinstance(settings, list):
        for index, setting in enumerate(settings):
            if isinstance(setting, dict):
                yield f"settings_schema.settings[{index}]", setting
    sections = schema.get("sections")
    if isinstance(sections, list):
        for number, section in enumerate(sections):
            if not isinstance(section, dict):
                continue
            inner = section.get("settings")
            if isinstance(inner, list):
                for index, setting in enumerate(inner):
                    if isinstance(setting, dict):
                        yield f"settings_schema.sections[{number}].settings[{index}]", setting


def _check_settings(manifest: Mapping[str, Any]) -> Iterator[Problem]:
    schema = _object(manifest.get("settings_schema"))
    sections = schema.get("sections")
    if isinstance(sections, list):
        for number, section in enumerate(sections):
            if isinstance(section, dict) and not section.get("key"):
                yield _problem(
                    f"settings_schema.sections[{number}] has no key",
                    'give it one, such as "key": "general"',
                )
    seen: dict[str, str] = {}
    for path, setting in _settings(manifest):
        key = setting.get("key")
        if key is None or key == "":
            yield _problem(f"{path} has no key", 'give it one, such as "key": "MySetting"')
        elif isinstance(key, str):
            path = f'{path} ("{key}")'
            # Mattermost keeps plugin settings in a map whose keys it lowercases.
            other = seen.get(key.lower())
            if other is not None:
                yield _problem(
                    f"{path} has the same key as {other}",
                    "give every setting its own key (Mattermost ignores case in keys)",
                )
            else:
                seen[key.lower()] = path
        yield from _check_setting(path, setting)


def _check_setting(path: str, setting: Mapping[str, Any]) -> Iterator[Problem]:
    kind = setting.get("type")
    if kind is None or kind == "":
        yield _problem(f"{path} has no type", f"give it one of: {', '.join(SETTING_TYPES)}")
        return
    if not isinstance(kind, str):
        return  # reported by the key check
    if kind not in SETTING_TYPES:
        close = _TYPE_ALIASES.get(kind.lower()) or (
            kind.lower()
            if kind.lower() in SETTING_TYPES
            else next(iter(difflib.get_close_matches(kind, SETTING_TYPES, n=1)), "")
        )
        hint = f'did you mean "{close}"? ' if close else ""
        yield _problem(
            f'{path} has the type "{kind}", which Mattermost does not know',
            f"{hint}use one of: {', '.join(SETTING_TYPES)}",
        )
        return
    options = setting.get("options")
    values: list[str] = []
    if kind in ("dropdown", "radio"):
        if not options:
            yield _problem(
                f"a {kind} setting needs options, and {path} has none",
                'add "options": [{"display_name": "One", "value": "one"}, ...]',
            )
        elif isinstance(options, list):
            for index, option in enumerate(options):
                if not isinstance(option, dict):
                    continue
                display = option.get("display_name")
                value = option.get("value")
                if not display or not value:
                    yield _problem(
                        f"{path}.options[{index}] has an empty display_name or value",
                        "give every option both (Mattermost refuses empty ones)",
                    )
                if isinstance(value, str) and value:
                    values.append(value)
    elif options is not None:
        yield _problem(
            f'{path} has options, but a "{kind}" setting takes none',
            'remove them, or make it a "dropdown" or "radio" setting',
        )
    if setting.get("placeholder") and kind not in _PLACEHOLDER_TYPES:
        yield _problem(
            f'{path} has a placeholder, but a "{kind}" setting shows none',
            "remove it",
        )
    if setting.get("regenerate_help_text") and kind != "generated":
        yield _problem(
            f"{path} has a regenerate_help_text, which only a generated setting has",
            "remove it",
        )
    hosting = setting.get("hosting")
    if isinstance(hosting, str) and hosting and hosting not in _HOSTING:
        yield _problem(
            f'{path} has the hosting "{hosting}"',
            'use "cloud" or "on-prem", or leave it out for both',
            WARNING,
        )
    if "default" in setting and setting["default"] is not None:
        yield from _check_default(path, kind, setting["default"], values)


def _check_default(path: str, kind: str, default: Any, values: list[str]) -> Iterator[Problem]:  # noqa: ANN401
    shown = json.dumps(default)[:100]
    if kind == "bool":
        if isinstance(default, str) and default.lower() in ("true", "false"):
            yield _problem(
                f"{path} has the default {shown}, a string",
                f"write {default.lower()} without quotes",
                WARNING,
            )
        elif not isinstance(default, bool):
            yield _problem(
                f"{path} is a bool setting with the default {shown}",
                "make the default true or false",
            )
    elif kind == "number":
        if isinstance(default, bool) or not isinstance(default, (int, float)):
            number = default.strip() if isinstance(default, str) else ""
            fix = (
                f"write {number} without quotes"
                if re.fullmatch(r"-?\d+(\.\d+)?", number)
                else "make the default a number, such as 10"
            )
            yield _problem(f"{path} is a number setting with the default {shown}", fix)
    elif kind in _STRING_TYPES:
        if not isinstance(default, str):
            yield _problem(
                f"{path} is a {kind} setting with the default {shown}",
                f'make the default a string, such as "{default}"'
                if isinstance(default, (int, float))
                else "make the default a string",
            )
        elif kind in ("dropdown", "radio") and values and default not in values:
            yield _problem(
                f"{path} has the default {shown}, which is not one of its options",
                f"use one of their values: {', '.join(json.dumps(v) for v in values)}",
            )
