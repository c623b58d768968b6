"""A plugin that cannot start says why: one hclog JSON line on stderr, and status 1.

``python -m mattermost_plugin.serve ENTRY`` runs here as the supervisor runs
it (in the plugin's directory, with go-plugin's magic cookie); every failure
before the handshake ends with one line whose ``startup_error`` names the
cause. Through the dev server, that sentence is the error of the start.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from mattermost_plugin._plugin import goplugin
from mattermost_plugin._plugin.logs import MAX_TRACEBACK
from mattermost_plugin.testing import ServerStartError, start_plugin_server

from conftest import server_binary

COOKIE = {goplugin.MAGIC_COOKIE_KEY: goplugin.MAGIC_COOKIE_VALUE}
#: go-plugin parses "@timestamp" with 2006-01-02T15:04:05.000000Z07:00.
GO_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$")
#: Enough to construct the plugin's clients; nothing is called before the handshake.
API_ENV = {
    "MATTERMOST_PLUGIN_API_TARGET": "unix:///nonexistent/pluginapi.sock",
    "MATTERMOST_PLUGIN_API_TOKEN": "token",
}


def plugin_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATTERMOST_PLUGIN")}
    env.pop("PLUGIN_CLIENT_CERT", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    env.update(extra)
    return env


def write(directory: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))


def serve(directory: Path, entry: str, env: dict[str, str]) -> tuple[dict[str, Any], str]:
    """Run the plugin process; return its one stderr line, parsed, and the raw stderr."""
    result = subprocess.run(
        [sys.executable, "-m", "mattermost_plugin.serve", entry],
        cwd=directory,
        env=plugin_env(env),
        capture_output=True,
        text=True,
        timeout=60,
        close_fds=False,
    )
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    line = json.loads(lines[0])
    assert set(line) == {
        "@level",
        "@message",
        "@timestamp",
        "@module",
        "startup_error",
        "traceback",
    }
    assert line["@level"] == "error"
    assert line["@module"] == "mattermost_plugin"
    assert line["@message"] == line["startup_error"]
    assert GO_TIMESTAMP.match(line["@timestamp"]), line["@timestamp"]
    assert "\n" not in line["startup_error"]
    return line, result.stderr


GOOD_CLASS = """
    import mattermost_plugin as mp


    class HelloPlugin(mp.Plugin):
        def on_activate(self):
            pass
"""

#: (files, entry, the start of the cause, the exception in the traceback)
CASES: dict[str, tuple[dict[str, str], str, str, str]] = {
    "syntax error": (
        {"plugin.py": "import mattermost_plugin as mp\n\nclass HelloPlugin(mp.Plugin)\n"},
        "plugin.py:HelloPlugin",
        "plugin.py:3: SyntaxError: ",
        "SyntaxError",
    ),
    "raises on import": (
        {"plugin.py": "import mattermost_plugin as mp\nraise RuntimeError('no settings file')\n"},
        "plugin.py",
        "plugin.py:2: RuntimeError: no settings file",
        "RuntimeError: no settings file",
    ),
    "missing package": (
        {"plugin.py": "import mattermost_plugin as mp\nimport not_installed_anywhere_x\n"},
        "plugin.py:HelloPlugin",
        "plugin.py:2: ModuleNotFoundError: No module named 'not_installed_anywhere_x'",
        "ModuleNotFoundError",
    ),
    "import error in a helper": (
        {
            "plugin.py": "import mattermost_plugin as mp\nimport helper\n",
            "helper.py": "x = 1\nfrom os import no_such_name\n",
        },
        "plugin.py",
        "helper.py:2: ImportError: cannot import name 'no_such_name'",
        "ImportError",
    ),
    "exits on import": (
        {"plugin.py": "import sys\nsys.exit(3)\n"},
        "plugin.py",
        "plugin.py:2: SystemExit: 3",
        "SystemExit",
    ),
    "no such class": (
        {
            "plugin.py": """
                import mattermost_plugin as mp

                class Foo(mp.Plugin):
                    pass

                class Bar(mp.AsyncPlugin):
                    pass
            """
        },
        "plugin.py:HelloPlugin",
        "plugin.py has no class HelloPlugin; it defines: Bar, Foo",
        "",
    ),
    "not a plugin class": (
        {"plugin.py": "HelloPlugin = 42\n"},
        "plugin.py:HelloPlugin",
        "plugin.py:HelloPlugin is a int, not a subclass of mattermost_plugin.Plugin",
        "",
    ),
    "no plugin class": (
        {"plugin.py": "import mattermost_plugin as mp\n"},
        "plugin.py",
        "plugin.py defines no plugin class: define a subclass of mattermost_plugin.Plugin",
        "",
    ),
    "several plugin classes": (
        {
            "plugin.py": """
                import mattermost_plugin as mp

                class Foo(mp.Plugin):
                    pass

                class Bar(mp.Plugin):
                    pass
            """
        },
        "plugin.py",
        "plugin.py defines 2 plugin classes (Bar, Foo); name one in the entry, as plugin.py:Bar",
        "",
    ),
    "a refused signature": (
        {
            "plugin.py": """
                import mattermost_plugin as mp

                class HelloPlugin(mp.Plugin):
                    def message_will_be_posted(self, post):
                        return post
            """
        },
        "plugin.py:HelloPlugin",
        "plugin.py:3: TypeError: HelloPlugin.message_will_be_posted(self, post) cannot handle "
        "MessageWillBePosted",
        "TypeError",
    ),
    "a Go hook name": (
        {
            "plugin.py": """
                import mattermost_plugin as mp

                class HelloPlugin(mp.Plugin):
                    def MessageWillBePosted(self, context, post):
                        return post
            """
        },
        "plugin.py:HelloPlugin",
        "plugin.py:3: TypeError: HelloPlugin.MessageWillBePosted is named like the Go hook "
        "MessageWillBePosted; rename MessageWillBePosted to message_will_be_posted",
        "TypeError",
    ),
    "a missing module": (
        {},
        "no_such_plugin_module:HelloPlugin",
        "cannot import the plugin module no_such_plugin_module: there is no module "
        "no_such_plugin_module",
        "ModuleNotFoundError",
    ),
    "a package module that raises": (
        {
            "my_plugin/__init__.py": "",
            "my_plugin/main.py": "import mattermost_plugin as mp\n\n1 / 0\n",
        },
        "my_plugin.main",
        "my_plugin/main.py:3: ZeroDivisionError: division by zero",
        "ZeroDivisionError",
    ),
    "a missing file": (
        {},
        "plugin.py:HelloPlugin",
        "plugin.py does not exist",
        "",
    ),
    "__init__ raises": (
        {
            "plugin.py": """
                import mattermost_plugin as mp

                class HelloPlugin(mp.Plugin):
                    def __init__(self):
                        raise ValueError("the setting 'x' is required")
            """
        },
        "plugin.py:HelloPlugin",
        "plugin.py:5: ValueError: the setting 'x' is required",
        "ValueError",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_failed_start_is_one_hclog_line_naming_the_cause(tmp_path: Path, case: str) -> None:
    files, entry, cause, raised = CASES[case]
    write(tmp_path, files)
    line, _ = serve(tmp_path, entry, {**COOKIE, **API_ENV})
    assert line["startup_error"].startswith(cause), line["startup_error"]
    if raised:
        assert line["traceback"].startswith("Traceback (most recent call last):")
        assert raised in line["traceback"]
        assert "<frozen importlib" not in line["traceback"]
    else:
        assert line["traceback"] == ""


def test_the_traceback_is_bounded(tmp_path: Path) -> None:
    write(tmp_path, {"plugin.py": "raise RuntimeError('x' * 100_000)\n"})
    line, stderr = serve(tmp_path, "plugin.py", {**COOKIE, **API_ENV})
    assert line["startup_error"].startswith("plugin.py:1: RuntimeError: xxx")
    assert len(line["startup_error"]) <= 2000
    assert len(line["traceback"]) <= MAX_TRACEBACK + 100
    assert "[... cut ...]" in line["traceback"]
    assert line["traceback"].startswith("Traceback (most recent call last):")
    assert len(stderr) < 24 * 1024  # within go-plugin's line buffer of 64 KiB


@pytest.mark.parametrize(
    ("env", "cause"),
    [
        ({}, "This program is a Mattermost plugin; the Mattermost server starts it."),
        (
            {**COOKIE, "PLUGIN_PROTOCOL_VERSIONS": "2,3"},
            "the host speaks plugin protocol versions '2,3'; this plugin speaks 1",
        ),
    ],
)
def test_a_process_not_started_by_a_host_says_so_in_the_line(
    tmp_path: Path, env: dict[str, str], cause: str
) -> None:
    write(tmp_path, {"plugin.py": GOOD_CLASS})
    line, _ = serve(tmp_path, "plugin.py", env)
    assert line["startup_error"].startswith(cause)
    assert line["traceback"] == ""


def test_a_bad_host_certificate_is_the_cause(tmp_path: Path) -> None:
    write(tmp_path, {"plugin.py": GOOD_CLASS})
    env = {**COOKIE, **API_ENV, "PLUGIN_CLIENT_CERT": "not a certificate"}
    line, _ = serve(tmp_path, "plugin.py", env)
    assert line["startup_error"].startswith("AutoMTLS: PLUGIN_CLIENT_CERT is not a PEM certificate")


def test_prints_at_import_come_before_the_line(tmp_path: Path) -> None:
    write(tmp_path, {"plugin.py": "print('loading')\nraise KeyError('k')\n"})
    result = subprocess.run(
        [sys.executable, "-m", "mattermost_plugin.serve", "plugin.py"],
        cwd=tmp_path,
        env=plugin_env({**COOKIE, **API_ENV}),
        capture_output=True,
        text=True,
        timeout=60,
        close_fds=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    printed, line = result.stderr.splitlines()
    assert printed == "loading"
    assert json.loads(line)["startup_error"] == "plugin.py:2: KeyError: 'k'"


def test_usage() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mattermost_plugin.serve"],
        env=plugin_env(COOKIE),
        capture_output=True,
        text=True,
        timeout=60,
        close_fds=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("usage: python -m mattermost_plugin.serve ")


# ---- Through the dev server ------------------------------------------------------


def plugin_dir(directory: Path, source: str, entry: str = "plugin.py:HelloPlugin") -> Path:
    manifest = {
        "id": "test.startup",
        "name": "Startup",
        "version": "0.0.1",
        "server": {"python": {"entry": entry}},
    }
    write(directory, {"plugin.json": json.dumps(manifest), "plugin.py": source})
    return directory


@pytest.mark.parametrize(
    ("source", "cause"),
    [
        (
            "import mattermost_plugin as mp\n\nclass HelloPlugin(mp.Plugin)\n",
            "plugin.py:3: SyntaxError: ",
        ),
        (
            "import mattermost_plugin as mp\n\nclass Foo(mp.Plugin):\n    pass\n",
            "plugin.py has no class HelloPlugin; it defines: Foo",
        ),
        (
            "import mattermost_plugin as mp\n\nclass HelloPlugin(mp.Plugin):\n"
            "    def OnActivate(self):\n        pass\n",
            "plugin.py:3: TypeError: HelloPlugin.OnActivate is named like the Go hook "
            "OnActivate; rename OnActivate to on_activate",
        ),
    ],
)
def test_the_dev_server_fails_with_the_cause(tmp_path: Path, source: str, cause: str) -> None:
    directory = plugin_dir(tmp_path / "plugin", textwrap.dedent(source))
    with pytest.raises(ServerStartError) as info:
        server = start_plugin_server(directory, binary=server_binary(), timeout=60)
        server.stop()
    assert f"supervisor: start plugin test.startup: {cause}" in str(info.value)
