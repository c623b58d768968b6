"""The commands of the README and the plugin guide run as written.

Every ``sh`` block line of README.md and docs/writing-a-plugin.md that
starts the dev server (``bin/pluginapi-server ...`` or ``mattermost-plugin
dev ...``) is run from the repository's root, exactly as written, until the
server says it is ready; it must then stop cleanly on Ctrl-C. Paths in them
(``-python .venv/bin/python``) are taken from where the command runs. Every
flag that the docs give ``pluginapi-server`` must be one that it has. The
quick start's commands run in test_wheels, from the wheels alone.

The tests need this checkout's ``bin/pluginapi-server`` and ``.venv``, as
``make test`` leaves them; the matrix does not run them.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import server_binary

ROOT = Path(os.path.abspath(__file__)).parents[3]
DOCS = [ROOT / "README.md", ROOT / "docs" / "writing-a-plugin.md"]
#: How long a documented command may take to be ready.
READY_TIMEOUT = 60.0


def sh_lines() -> list[tuple[str, str]]:
    """Every line of every ``sh`` block of the docs, with its file."""
    lines = []
    for doc in DOCS:
        for block in re.findall(r"```sh\n(.*?)\n```", doc.read_text(), flags=re.S):
            for line in block.splitlines():
                command = line.split("  #")[0].strip()
                if command:
                    lines.append((doc.name, command))
    return lines


def server_commands() -> list[tuple[str, str]]:
    """The documented lines that run the dev server from this checkout.

    ``mattermost-plugin dev .`` runs in a new plugin's directory, in the
    quick start, which test_wheels runs.
    """
    return [
        (doc, line)
        for doc, line in sh_lines()
        if line.startswith(("bin/pluginapi-server", "mattermost-plugin dev"))
        and not line.startswith("mattermost-plugin dev . ")
    ]


def test_the_docs_have_server_commands() -> None:
    docs = {doc for doc, _ in server_commands()}
    assert docs == {"writing-a-plugin.md"}, server_commands()


@pytest.mark.parametrize(("doc", "command"), server_commands())
def test_a_documented_dev_server_command_runs_as_written(doc: str, command: str) -> None:
    argv = shlex.split(command)
    if argv[0] == "mattermost-plugin":
        # The console script of the environment that runs the tests.
        argv = [sys.executable, "-m", "mattermost_plugin", *argv[1:]]
        ready = "Dev server ready"
    else:
        argv[0] = str(server_binary())
        ready = '"target"'
    process = subprocess.Popen(
        argv,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + READY_TIMEOUT
        for line in process.stdout:
            output.append(line)
            if ready in line:
                break
            assert time.monotonic() < deadline, "".join(output)
        else:
            pytest.fail(f"{doc}: `{command}` ended before it was ready:\n{''.join(output)}")
        os.killpg(process.pid, signal.SIGINT)
        rest, _ = process.communicate(timeout=30)
        output.append(rest)
        assert process.returncode == 0, "".join(output)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def documented_server_flags() -> set[str]:
    """Every -flag that the docs give pluginapi-server, in code blocks or inline."""
    flags = set()
    for doc in DOCS:
        for use in re.findall(
            r"pluginapi-server((?: +-[a-z-]+(?: +[^\s`-][^\s`]*)?)+)", doc.read_text()
        ):
            flags.update(re.findall(r"(?<![\w.])-[a-z][a-z-]*", use))
    return flags


def test_every_documented_server_flag_exists() -> None:
    help_text = subprocess.run(
        [str(server_binary()), "-h"], capture_output=True, text=True, check=False
    ).stderr
    real = set(re.findall(r"^  (-[a-z-]+)", help_text, flags=re.M))
    documented = documented_server_flags()
    assert {"-plugin", "-python", "-watch"} <= documented
    assert documented <= real, documented - real


def test_the_sdk_names_only_real_flags_and_commands() -> None:
    """No message or docstring of the SDK names a flag that does not exist."""
    from mattermost_plugin._plugin import goplugin

    with pytest.raises(goplugin.HandshakeError, match="mattermost-plugin dev DIR"):
        goplugin.check_environment({})
    sources = [*(ROOT / "python-sdk" / "src").rglob("*.py"), *(ROOT / "server").rglob("*.go")]
    sources += [*DOCS, ROOT / "python-sdk" / "README.md"]
    wrong = [
        str(p) for p in sources if re.search(r"pluginapi-server[^\n]* -plugins\b", p.read_text())
    ]
    assert wrong == []
