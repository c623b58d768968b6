"""The ``mattermost-plugin`` command without a server: help, exit codes, ``new`` and ``check``.

``check`` runs for real: it imports each plugin's entry in a child process.
test_cli_dev.py runs the commands that need the dev server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import mattermost_plugin
from mattermost_plugin._cli import main
from mattermost_plugin._cli._manifest import is_semver, is_valid_plugin_id
from mattermost_plugin._cli._new import class_name, display_name

#: The command, as a user runs it.
CLI = [sys.executable, "-m", "mattermost_plugin"]


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m mattermost_plugin ARGS`` and capture its output."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    return subprocess.run(
        [*CLI, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def call(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the command in this process: its exit status, stdout and stderr."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# -- help, version and usage errors ------------------------------------------


@pytest.mark.parametrize("command", [[], ["new"], ["check"], ["dev"]], ids=str)
def test_every_command_has_help(command: list[str]) -> None:
    result = run_cli(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: mattermost-plugin {' '.join(command)}".rstrip())
    assert result.stderr == ""


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = call(capsys, "--help")
    assert code == 0
    for command in ("new", "check", "dev"):
        assert f"    {command} " in out


def test_version_is_the_sdks() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.split()[:2] == ["mattermost-plugin", mattermost_plugin.__version__]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["serve"], "invalid choice: 'serve'"),
        (["new"], "the following arguments are required: NAME"),
        (["new", "1st-plugin"], "invalid NAME '1st-plugin'"),
        (["new", "my plugin"], "invalid NAME 'my plugin'"),
        (["new", "ok", "--id", "x"], "invalid --id 'x'"),
        (["new", "ok", "--id", "com/example"], "invalid --id 'com/example'"),
        (["new", "a" * 101], "use at most 100"),
        (["check"], "the following arguments are required: DIR"),
        (["check", ".", "--timeout", "0"], "0 is not a positive number of seconds"),
        (["dev"], "the following arguments are required: DIR"),
        (["dev", ".", "--port", "70000"], "port 70000 is not between 0 and 65535"),
        (["dev", ".", "--log-level", "loud"], "invalid choice: 'loud'"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else None,
)
def test_usage_errors_exit_2(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    args: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = call(capsys, *args)
    assert code == 2
    assert out == ""
    assert err.startswith("usage: mattermost-plugin")
    last = err.strip().splitlines()[-1]
    assert last.startswith("mattermost-plugin")
    assert message in last
    assert list(tmp_path.iterdir()) == []  # nothing was written


def test_usage_error_through_python_m() -> None:
    result = run_cli("new", "-bad")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


# -- new ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "cls", "title"),
    [
        ("hello", "HelloPlugin", "Hello"),
        ("my-plugin", "MyPlugin", "My Plugin"),
        ("hello_world", "HelloWorldPlugin", "Hello World"),
        ("chatOps-bot", "ChatOpsBotPlugin", "Chat Ops Bot"),
        ("Greeter2", "Greeter2Plugin", "Greeter2"),
    ],
)
def test_names_derived_from_name(name: str, cls: str, title: str) -> None:
    assert class_name(name) == cls
    assert display_name(name) == title


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_new_writes_a_plugin_that_passes_check(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, flavour: str
) -> None:
    extra = ["--async"] if flavour == "async" else []
    code, out, err = call(capsys, "new", "my-plugin", "--dir", str(tmp_path), *extra)
    assert (code, err) == (0, "")
    plugin = tmp_path / "my-plugin"
    assert sorted(str(p.relative_to(plugin)) for p in plugin.rglob("*") if p.is_file()) == [
        ".gitignore",
        "README.md",
        "plugin.json",
        "plugin.py",
        "requirements-dev.txt",
        "requirements.txt",
        "tests/test_plugin.py",
    ]
    manifest = json.loads((plugin / "plugin.json").read_text())
    assert manifest["id"] == "com.example.my-plugin"
    assert manifest["version"] == "0.1.0"
    assert manifest["server"] == {"python": {"entry": "plugin.py:MyPlugin"}}
    (setting,) = manifest["settings_schema"]["settings"]
    assert setting["default"] == "Hello"
    source = (plugin / "plugin.py").read_text()
    base = "mp.AsyncPlugin" if flavour == "async" else "mp.Plugin"
    assert f"class MyPlugin({base}):" in source
    assert 'if __name__ == "__main__":\n    mp.run(MyPlugin)' in source
    tests = (plugin / "tests" / "test_plugin.py").read_text()
    assert "plugin_server" in tests
    assert "pytest_plugins" not in tests
    assert not (plugin / "conftest.py").exists()
    assert not (plugin / "tests" / "conftest.py").exists()
    assert "mattermost-plugin-sdk" in (plugin / "requirements.txt").read_text()
    readme = (plugin / "README.md").read_text()
    for command in (
        "mattermost-plugin check .",
        "python -m pytest tests",
        "mattermost-plugin dev . --watch",
    ):
        assert command in readme
        assert command in out
    compile(source, "plugin.py", "exec")
    compile(tests, "test_plugin.py", "exec")

    code, out, err = call(capsys, "check", str(plugin))
    assert (code, err) == (0, "")
    assert out == (
        "ok: com.example.my-plugin 0.1.0: MyPlugin handles "
        "ExecuteCommand, MessageWillBePosted, OnActivate, ServeHTTP\n"
    )


def test_new_takes_an_id_and_an_empty_directory(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "bot").mkdir()
    monkeypatch.chdir(tmp_path)
    code, _, err = call(capsys, "new", "bot", "--id", "org.acme.Bot_1")
    assert (code, err) == (0, "")
    assert json.loads((tmp_path / "bot" / "plugin.json").read_text())["id"] == "org.acme.Bot_1"


def test_new_refuses_a_directory_that_is_not_empty(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    code, out, err = call(capsys, "new", "taken", "--dir", str(tmp_path))
    assert code == 1
    assert out == ""
    assert err == f"mattermost-plugin new: {tmp_path / 'taken'} exists and is not empty; " + (
        "choose another NAME or --dir\n"
    )
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["notes.txt"]


def test_new_refuses_a_missing_parent(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = call(capsys, "new", "p", "--dir", str(tmp_path / "nowhere"))
    assert code == 1
    assert err.count("\n") == 1 and "no such directory" in err


# -- check: plugin.json ------------------------------------------------------


def valid_manifest() -> dict[str, Any]:
    return {
        "id": "com.example.checked",
        "name": "Checked",
        "version": "1.2.3",
        "server": {"python": {"entry": "plugin.py:Checked"}},
        "settings_schema": {
            "settings": [
                {"key": "Enabled", "type": "bool", "default": True},
                {
                    "key": "Color",
                    "type": "dropdown",
                    "default": "red",
                    "options": [
                        {"display_name": "Red", "value": "red"},
                        {"display_name": "Blue", "value": "blue"},
                    ],
                },
                {"key": "Limit", "type": "number", "default": 10},
                {"key": "Motto", "type": "text", "default": "hi"},
            ]
        },
    }


PLUGIN_SOURCE = """\
import mattermost_plugin as mp


class Checked(mp.Plugin):
    def on_activate(self):
        self.logger.info("up")
"""


def write_plugin(
    directory: Path, manifest: dict[str, Any] | str, source: str = PLUGIN_SOURCE
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    text = manifest if isinstance(manifest, str) else json.dumps(manifest, indent=2)
    (directory / "plugin.json").write_text(text)
    (directory / "plugin.py").write_text(source)
    return directory


Edit = Callable[[dict[str, Any]], None]


def setting(index: int, **changes: Any) -> Edit:
    def edit(manifest: dict[str, Any]) -> None:
        manifest["settings_schema"]["settings"][index].update(changes)

    return edit


def top(**changes: Any) -> Edit:
    def edit(manifest: dict[str, Any]) -> None:
        manifest.update(changes)

    return edit


def drop(key: str) -> Edit:
    def edit(manifest: dict[str, Any]) -> None:
        del manifest[key]

    return edit


def python(**changes: Any) -> Edit:
    def edit(manifest: dict[str, Any]) -> None:
        manifest["server"]["python"].update(changes)

    return edit


def rename_python_key(old: str, new: str) -> Edit:
    def edit(manifest: dict[str, Any]) -> None:
        section = manifest["server"]["python"]
        section[new] = section.pop(old)

    return edit


def rename_top_key(old: str, new: str) -> Edit:
    def edit(manifest: dict[str, Any]) -> None:
        manifest[new] = manifest.pop(old)

    return edit


# Each bad manifest, and the line that check prints for it.
BAD_MANIFESTS: list[tuple[str, Edit, str]] = [
    (
        "entry-misspelled",
        rename_python_key("entry", "entrypoint"),
        'plugin.json: unknown key "entrypoint" in server.python; did you mean "entry"?',
    ),
    (
        "settings-schema-misspelled",
        rename_top_key("settings_schema", "setings_schema"),
        'plugin.json: unknown key "setings_schema" at the top level; '
        'did you mean "settings_schema"?',
    ),
    (
        "setting-key-misspelled",
        setting(0, kye="x"),
        'plugin.json: unknown key "kye" in settings_schema.settings[0]; did you mean "key"?',
    ),
    (
        "id-too-short",
        top(id="ab"),
        'plugin.json: id "ab" is not a valid plugin id; use 3 to 190 letters, digits, '
        "'-', '_' or '.', such as \"com.example.",
    ),
    (
        "id-with-a-slash",
        top(id="com/example"),
        'plugin.json: id "com/example" is not a valid plugin id',
    ),
    ("id-too-long", top(id="a" * 191), "is not a valid plugin id"),
    ("no-id", drop("id"), 'plugin.json: there is no id; add one, such as "id": "com.example.'),
    ("id-a-number", top(id=7), "plugin.json: id is a number, not a string"),
    (
        "no-name",
        drop("name"),
        "plugin.json: there is no name (Mattermost refuses a plugin without one)",
    ),
    (
        "version-two-numbers",
        top(version="1.0"),
        'plugin.json: version "1.0" is not a semantic version; write all three numbers: "1.0.0"',
    ),
    (
        "version-with-v",
        top(version="v1.2.3"),
        'plugin.json: version "v1.2.3" is not a semantic version; drop the "v": "1.2.3"',
    ),
    (
        "version-leading-zero",
        top(version="01.2.3"),
        'plugin.json: version "01.2.3" is not a semantic version; write MAJOR.MINOR.PATCH',
    ),
    (
        "min-server-version",
        top(min_server_version="10"),
        'plugin.json: min_server_version "10" is not a semantic version; '
        'write all three numbers: "10.0.0"',
    ),
    (
        "homepage-not-a-url",
        top(homepage_url="example.com"),
        'plugin.json: homepage_url "example.com" is not an http(s) URL',
    ),
    ("no-server", drop("server"), "plugin.json: there is no server part; add one"),
    ("no-entry", python(entry=""), "plugin.json: server.python has no entry"),
    (
        "entry-file-missing",
        python(entry="main.py"),
        "plugin.json: server.python.entry names main.py, which does not exist; create it",
    ),
    (
        "entry-leaves-the-directory",
        python(entry="../plugin.py"),
        'plugin.json: server.python.entry "../plugin.py" is not inside the plugin directory',
    ),
    (
        "entry-class-not-a-name",
        python(entry="plugin.py:my-class"),
        'names "my-class", which is not a class name',
    ),
    (
        "setting-type-unknown",
        setting(0, type="boolean"),
        'plugin.json: settings_schema.settings[0] ("Enabled") has the type "boolean", which '
        'Mattermost does not know; did you mean "bool"? use one of: bool, dropdown, generated, '
        "radio, text, longtext, number, username, custom",
    ),
    (
        "setting-type-typo",
        setting(3, type="txet"),
        'has the type "txet", which Mattermost does not know; did you mean "text"?',
    ),
    (
        "setting-no-type",
        setting(3, type=""),
        'plugin.json: settings_schema.settings[3] ("Motto") has no type',
    ),
    (
        "bool-default-not-bool",
        setting(0, default="yes"),
        'plugin.json: settings_schema.settings[0] ("Enabled") is a bool setting with the '
        'default "yes"; make the default true or false',
    ),
    (
        "number-default-quoted",
        setting(2, default="10"),
        'plugin.json: settings_schema.settings[2] ("Limit") is a number setting with the '
        'default "10"; write 10 without quotes',
    ),
    (
        "text-default-not-text",
        setting(3, default=5),
        'plugin.json: settings_schema.settings[3] ("Motto") is a text setting with the '
        'default 5; make the default a string, such as "5"',
    ),
    (
        "dropdown-default-not-an-option",
        setting(1, default="green"),
        'plugin.json: settings_schema.settings[1] ("Color") has the default "green", which '
        'is not one of its options; use one of their values: "red", "blue"',
    ),
    (
        "dropdown-without-options",
        setting(1, options=[]),
        'plugin.json: a dropdown setting needs options, and settings_schema.settings[1] ("Color") '
        "has none",
    ),
    (
        "radio-without-options",
        setting(1, type="radio", options=None),
        "a radio setting needs options",
    ),
    (
        "option-empty-value",
        setting(1, options=[{"display_name": "Red", "value": ""}]),
        "options[0] has an empty display_name or value",
    ),
    (
        "options-on-text",
        setting(3, options=[{"display_name": "A", "value": "a"}]),
        'has options, but a "text" setting takes none',
    ),
    (
        "placeholder-on-bool",
        setting(0, placeholder="on"),
        'has a placeholder, but a "bool" setting shows none',
    ),
    (
        "setting-without-key",
        setting(2, key=""),
        'plugin.json: settings_schema.settings[2] has no key; give it one, such as "key"',
    ),
    (
        "setting-keys-repeat",
        setting(3, key="enabled"),
        'plugin.json: settings_schema.settings[3] ("enabled") has the same key as '
        'settings_schema.settings[0] ("Enabled")',
    ),
    (
        "settings-not-a-list",
        lambda m: m["settings_schema"].update(settings={"key": "x"}),
        "plugin.json: settings_schema.settings is an object, not a list; make it a list",
    ),
]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [pytest.param(edit, line, id=name) for name, edit, line in BAD_MANIFESTS],
)
def test_check_reports_a_bad_manifest(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    edit: Edit,
    expected: str,
) -> None:
    manifest = valid_manifest()
    edit(manifest)
    write_plugin(tmp_path / "plugin", manifest)
    monkeypatch.chdir(tmp_path / "plugin")
    code, out, err = call(capsys, "check", ".")
    assert err == ""
    lines = out.splitlines()
    errors = [line for line in lines[:-1] if ": warning: " not in line]
    assert code == 1, out
    assert errors[0].startswith("plugin.json: ")
    assert expected in errors[0], out
    assert lines[-1].startswith(f"{len(errors)} error")


def test_check_reports_invalid_json_with_its_line_and_column(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = '{\n  "id": "com.example.x",\n  "name": "X"\n  "version": "1.0.0"\n}\n'
    plugin = write_plugin(tmp_path / "plugin", text)
    code, out, _ = call(capsys, "check", str(plugin))
    assert code == 1
    assert out.splitlines()[0] == (
        f"{plugin}/plugin.json:4:3: invalid JSON: Expecting ',' delimiter; "
        "fix the JSON syntax there"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "plugin.json:1:1: invalid JSON: Expecting value"),
        ("[]", "plugin.json: the manifest is a list, not an object"),
        (None, "plugin.json: there is no plugin.json; create one"),
    ],
    ids=["empty", "a-list", "missing"],
)
def test_check_reports_an_unreadable_manifest(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    text: str | None,
    expected: str,
) -> None:
    tmp_path.joinpath("p").mkdir()
    if text is not None:
        tmp_path.joinpath("p", "plugin.json").write_text(text)
    monkeypatch.chdir(tmp_path / "p")
    code, out, _ = call(capsys, "check", ".")
    assert code == 1
    assert out.startswith(expected)


def test_check_warns_without_failing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    manifest = valid_manifest()
    manifest["build_info"] = "ci"
    manifest["Description"] = "in the wrong case"
    manifest["settings_schema"]["settings"][0]["default"] = "true"
    manifest.pop("version")
    plugin = write_plugin(tmp_path / "p", manifest)
    monkeypatch.chdir(plugin)
    code, out, _ = call(capsys, "check", ".")
    assert code == 0, out
    assert out.splitlines() == [
        'plugin.json: warning: unknown key "build_info" at the top level; Mattermost ignores it: '
        "remove it (known keys: id, name, description, homepage_url, support_url, "
        "release_notes_url, icon_path, version, min_server_version, server, webapp, "
        "settings_schema, props), or keep custom data in props",
        'plugin.json: warning: the key "Description" at the top level is spelled "description" '
        'in Mattermost\'s manifest; rename it "description"',
        'plugin.json: warning: there is no version; add one, such as "version": "0.1.0"',
        'plugin.json: warning: settings_schema.settings[0] ("Enabled") has the default "true", '
        "a string; write true without quotes",
        "ok: com.example.checked: Checked handles OnActivate (4 warnings)",
    ]


def test_check_accepts_sections_props_and_a_module_entry(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    manifest = valid_manifest()
    manifest["server"]["python"]["entry"] = "checked.main"
    manifest["props"] = {"anything": {"goes": [1, 2]}}
    manifest["settings_schema"]["sections"] = [
        {
            "key": "advanced",
            "title": "Advanced",
            "settings": [{"key": "Token", "type": "generated", "secret": True}],
        }
    ]
    plugin = write_plugin(tmp_path / "p", manifest)
    (plugin / "plugin.py").unlink()
    (plugin / "checked").mkdir()
    (plugin / "checked" / "__init__.py").write_text("")
    (plugin / "checked" / "main.py").write_text(PLUGIN_SOURCE)
    code, out, _ = call(capsys, "check", str(plugin))
    assert (code, out) == (0, "ok: com.example.checked 1.2.3: Checked handles OnActivate\n")


@pytest.mark.parametrize(
    ("version", "valid"),
    [
        ("0.0.0", True),
        ("1.2.3", True),
        ("10.20.30-rc.1+build.5", True),
        ("1.0.0-alpha.beta.1", True),
        ("1.0.0-0A.is.legal", True),
        ("1.2", False),
        ("1.2.3.4", False),
        ("v1.2.3", False),
        ("1.02.3", False),
        ("1.0.0-01", False),
        ("1.0.0-", False),
        ("1.0.0+", False),
        ("1.0.0\n", False),
        ("", False),
    ],
)
def test_semver(version: str, valid: bool) -> None:
    assert is_semver(version) is valid


@pytest.mark.parametrize(
    ("plugin_id", "valid"),
    [
        ("com.example.hello-python", True),
        ("a_b", True),
        ("abc", True),
        ("ab", False),
        ("a" * 190, True),
        ("a" * 191, False),
        ("com example", False),
        ("héllo", False),
        ("com/example", False),
    ],
)
def test_plugin_id_rule(plugin_id: str, valid: bool) -> None:
    assert is_valid_plugin_id(plugin_id) is valid


# -- check: the Python entry -------------------------------------------------

# Each broken plugin module (with the entry that names it), and the line
# that check prints for it.
BAD_SOURCES: list[tuple[str, str, str, str]] = [
    (
        "syntax-error",
        "plugin.py:Checked",
        "import mattermost_plugin as mp\n\nclass Checked(mp.Plugin)\n    pass\n",
        "plugin.py:3:",
    ),
    (
        "class-misspelled",
        "plugin.py:Chekced",
        PLUGIN_SOURCE,
        'plugin.json: the entry "plugin.py:Chekced" names Chekced, which plugin.py does not '
        'define; did you mean "Checked"? Fix server.python.entry',
    ),
    (
        "class-missing",
        "plugin.py:Elsewhere",
        PLUGIN_SOURCE,
        'plugin.json: the entry "plugin.py:Elsewhere" names Elsewhere, which plugin.py does not '
        "define; define it there, or fix the class name in server.python.entry",
    ),
    (
        "two-classes",
        "plugin.py",
        PLUGIN_SOURCE + "\n\nclass Other(mp.AsyncPlugin):\n    pass\n",
        "plugin.json: plugin.py defines 2 plugin classes (Checked, Other), and the entry "
        '"plugin.py" does not say which one to run; name one in server.python.entry, such as '
        '"plugin.py:Checked"',
    ),
    (
        "no-class",
        "plugin.py",
        "import mattermost_plugin as mp\n",
        "plugin.py: it defines no plugin class; define a subclass of mattermost_plugin.Plugin",
    ),
    (
        "not-a-plugin-class",
        "plugin.py:Helper",
        PLUGIN_SOURCE + "\n\nclass Helper:\n    pass\n",
        'plugin.json: the entry "plugin.py:Helper" names Helper, which is not a plugin class',
    ),
    (
        "the-base-class",
        "plugin.py:Plugin",
        "from mattermost_plugin import Plugin\n",
        'plugin.json: the entry "plugin.py:Plugin" names the SDK\'s base class Plugin',
    ),
    (
        "bad-hook-signature",
        "plugin.py:Checked",
        "import mattermost_plugin as mp\n\n\nclass Checked(mp.Plugin):\n"
        "    def message_will_be_posted(self, post):\n        return None\n",
        "plugin.py:4: Checked.message_will_be_posted(self, post) cannot handle "
        "MessageWillBePosted:",
    ),
    (
        "misspelled-hook",
        "plugin.py:Checked",
        "import mattermost_plugin as mp\n\n\nclass Checked(mp.Plugin):\n"
        "    def on_activat(self):\n        pass\n",
        "plugin.py:4: Checked.on_activat is not a hook; did you mean 'on_activate'",
    ),
    (
        "missing-package",
        "plugin.py",
        "import mattermost_plugin as mp\nimport no_such_package_here\n",
        "plugin.py:2: cannot import no_such_package_here: it is not installed; install it",
    ),
    (
        "raises-at-import",
        "plugin.py",
        "import mattermost_plugin as mp\n\nSETTINGS = {}\nLIMIT = SETTINGS['limit']\n",
        "plugin.py:4: importing it raised KeyError: 'limit'; fix the error",
    ),
    (
        "exits-at-import",
        "plugin.py",
        "import sys\nsys.exit(3)\n",
        "plugin.py:2: the module calls sys.exit(3) when it is imported",
    ),
    (
        "ends-the-process-at-import",
        "plugin.py",
        "import os\nos._exit(7)\n",
        "plugin.py: importing it ended the Python process (exit code 7)",
    ),
    (
        "module-missing",
        "no_such_module:Checked",
        PLUGIN_SOURCE,
        "plugin.json: server.python.entry: the module no_such_module is neither in the plugin "
        "directory nor installed",
    ),
]


@pytest.mark.parametrize(
    ("entry", "source", "expected"),
    [pytest.param(entry, source, line, id=name) for name, entry, source, line in BAD_SOURCES],
)
def test_check_reports_a_bad_entry(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    entry: str,
    source: str,
    expected: str,
) -> None:
    manifest = valid_manifest()
    manifest["server"]["python"]["entry"] = entry
    write_plugin(tmp_path / "p", manifest, source)
    monkeypatch.chdir(tmp_path / "p")
    code, out, err = call(capsys, "check", ".")
    assert code == 1, out
    assert err == ""
    lines = out.splitlines()
    assert len(lines) == 2, out
    assert lines[0].startswith(expected), out
    assert lines[1] == "1 error: the plugin cannot run as it is"


def test_check_verbose_prints_the_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    plugin = write_plugin(
        tmp_path / "p", valid_manifest(), "def broken():\n    return 1 / 0\n\nbroken()\n"
    )
    code, out, err = call(capsys, "check", "-v", str(plugin))
    assert code == 1
    assert "plugin.py:2: importing it raised ZeroDivisionError: division by zero" in out
    assert err.startswith("Traceback (most recent call last):\n")
    assert f'File "{plugin.resolve() / "plugin.py"}", line 4' in err
    assert "_probe.py" not in err  # the check's own frames are left out
    assert err.rstrip().endswith("ZeroDivisionError: division by zero")


def test_check_imports_in_a_child_without_starting_the_plugin(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = (
        PLUGIN_SOURCE
        + "\nprint('imported')\n"
        + "open('imported-here', 'w').close()\n"
        + "import threading, time\n"
        + "threading.Thread(target=time.sleep, args=(600,)).start()\n"
        + "\nif __name__ == '__main__':\n    open('ran', 'w').close()\n"
    )
    plugin = write_plugin(tmp_path / "p", valid_manifest(), source)
    code, out, _ = call(capsys, "check", str(plugin))
    assert (code, out) == (0, "ok: com.example.checked 1.2.3: Checked handles OnActivate\n")
    assert (plugin / "imported-here").exists()  # run in the plugin directory
    assert not (plugin / "ran").exists()


def test_check_times_out_a_slow_import(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    plugin = write_plugin(tmp_path / "p", valid_manifest(), "import time\ntime.sleep(60)\n")
    code, out, _ = call(capsys, "check", "--timeout", "0.5", str(plugin))
    assert code == 1
    assert out.splitlines()[0] == (
        f"{plugin}/plugin.py: importing it did not finish in 0.5 s; do no slow or blocking "
        "work at import time: start it in on_activate"
    )


def test_check_of_a_missing_directory_fails_in_one_line(tmp_path: Path) -> None:
    result = run_cli("check", str(tmp_path / "nowhere"))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == f"mattermost-plugin check: {tmp_path / 'nowhere'} does not exist\n"


def test_new_then_check_through_python_m(tmp_path: Path) -> None:
    created = run_cli("new", "hello", "--async", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    checked = run_cli("check", "hello", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout
    assert checked.stdout.startswith("ok: com.example.hello 0.1.0: HelloPlugin handles")
