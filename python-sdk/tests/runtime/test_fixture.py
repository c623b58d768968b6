"""The test fixture finds the Go server under `make test` and under Bazel."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from mattermost_plugin.testing import SERVER_ENV

from conftest import server_binary


def test_plain_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    binary = tmp_path / "pluginapi-server"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    monkeypatch.delenv("RUNFILES_DIR", raising=False)
    monkeypatch.delenv("RUNFILES_MANIFEST_FILE", raising=False)
    monkeypatch.setenv(SERVER_ENV, str(binary))
    assert server_binary() == binary


def test_runfiles_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A $(rlocationpath) value resolves inside the runfiles directory."""
    rlocation = "_main/server/cmd/pluginapi-server/pluginapi-server_/pluginapi-server"
    binary = tmp_path / "runfiles" / rlocation
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    monkeypatch.delenv("RUNFILES_MANIFEST_FILE", raising=False)
    monkeypatch.setenv("RUNFILES_DIR", str(tmp_path / "runfiles"))
    monkeypatch.setenv(SERVER_ENV, rlocation)
    assert os.path.samefile(server_binary(), binary)


def test_missing_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SERVER_ENV, raising=False)
    with pytest.raises(RuntimeError, match=SERVER_ENV):
        server_binary()


def test_not_executable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(SERVER_ENV, str(tmp_path / "absent"))
    with pytest.raises(RuntimeError, match="not an executable"):
        server_binary()


def test_testing_helper_reports_a_missing_binary(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from mattermost_plugin import testing

    monkeypatch.delenv(SERVER_ENV, raising=False)
    monkeypatch.setitem(sys.modules, "mattermost_plugin_devserver", None)  # not installed
    with pytest.raises(testing.ServerStartError, match="is not installed: run `pip install"):
        testing.start_reference_server()
    not_executable = tmp_path / "server"
    not_executable.write_text("")
    with pytest.raises(testing.ServerStartError, match="not an executable"):
        testing.start_reference_server(binary=not_executable)


def test_testing_helper_reports_a_server_that_does_not_start(tmp_path: Path) -> None:
    from mattermost_plugin import testing

    broken = tmp_path / "broken"
    broken.write_text("#!/bin/sh\necho 'no such flag' >&2\nexit 3\n")
    broken.chmod(0o755)
    with pytest.raises(testing.ServerStartError, match="no such flag"):
        testing.start_reference_server(binary=broken, timeout=5)
