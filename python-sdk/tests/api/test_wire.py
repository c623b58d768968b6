"""What both languages must agree on, checked against the Go source; and the lock's hygiene."""

from __future__ import annotations

import os
import re
from pathlib import Path

from mattermost_plugin import config
from mattermost_plugin._plugin.dispatch import DISMISS_POST_ERROR

REPO = Path(os.path.abspath(__file__)).parents[3]
WIRE_GO = REPO / "server" / "public" / "pluginapi" / "grpc" / "wire" / "wire.go"
LOCK = REPO / "python-sdk" / "requirements.lock"


def go_constant(source: str, name: str) -> str:
    match = re.search(rf'^const {name} = "([^"]*)"$', source, flags=re.M)
    assert match, f"wire.go does not define {name}"
    return match.group(1)


def test_constants_match_the_go_server() -> None:
    source = WIRE_GO.read_text()
    assert go_constant(source, "EnvTarget") == config.ENV_TARGET
    assert go_constant(source, "EnvToken") == config.ENV_TOKEN
    assert go_constant(source, "MetadataKey") == config.METADATA_KEY
    assert go_constant(source, "AuthScheme") == config.AUTH_SCHEME
    assert go_constant(source, "DismissPostError") == DISMISS_POST_ERROR
    ready = re.search(r"type Ready struct \{(.*?)\n\}", source, flags=re.S)
    assert ready
    assert tuple(re.findall(r'`json:"([a-z_]+)"`', ready.group(1))) == config.READY_FIELDS


def test_lock_names_no_local_index_or_links() -> None:
    """A lock made on one machine must not point at that machine's wheel folders."""
    for number, line in enumerate(LOCK.read_text().splitlines(), 1):
        option = line.strip().split(" ", 1)[0]
        assert option not in (
            "--find-links",
            "-f",
            "--index-url",
            "-i",
            "--extra-index-url",
        ), f"requirements.lock:{number}: {line}"
