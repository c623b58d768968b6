"""The public surface: what __all__ promises, and nothing of the internals."""

from __future__ import annotations

import os
import types

import mattermost_plugin as mp
from mattermost_plugin import config, models

MODULES = ("cluster", "config", "exceptions", "kv", "models", "server_config")


def test_all_is_complete_and_unique() -> None:
    assert len(mp.__all__) == len(set(mp.__all__))
    for name in mp.__all__:
        assert hasattr(mp, name), name
    public = {
        name
        for name, value in vars(mp).items()
        if not name.startswith("_")
        and not (isinstance(value, types.ModuleType) and name not in MODULES)
    }
    assert public == set(mp.__all__)


def test_public_classes_live_in_public_modules() -> None:
    """The clients show as mattermost_plugin.X, the exceptions as mattermost_plugin.exceptions.X."""
    for name in mp.__all__:
        value = getattr(mp, name)
        if isinstance(value, type):
            home = "mattermost_plugin.exceptions" if name.endswith("Error") else "mattermost_plugin"
            assert value.__module__ == home, name


def test_models_are_public_and_plumbing_is_not() -> None:
    assert {"AppError", "PluginKVSetOptions", "User", "UserGetOptions"} <= set(models.__all__)
    assert "ErrorStatus" not in models.__all__ and "ErrorDetail" not in models.__all__
    assert models.__all__ == sorted(models.__all__)
    user = models.User(username="alice", props={"k": "v"})
    assert user.username == "alice" and dict(user.props) == {"k": "v"}
    assert not user.HasField("auth_data")


#: The plugin runtime's public names.
PLUGIN_RUNTIME = (
    "Plugin",
    "AsyncPlugin",
    "HookName",
    "HTTPRequest",
    "HTTPResponse",
    "FileReader",
    "FileWriter",
    "hook",
    "run",
    "DISMISS",
)


def test_init_exports_only_clients_runtime_models_config_and_exceptions() -> None:
    """Clients, ServerConfig, the plugin runtime, public modules, exceptions; nothing else."""
    for name in mp.__all__:
        value = getattr(mp, name)
        if isinstance(value, types.ModuleType):
            assert name in MODULES
        else:
            assert name in (
                "Client",
                "AsyncClient",
                "ServerConfig",
                "exception_class_for",
                *PLUGIN_RUNTIME,
            ) or issubclass(value, mp.PluginAPIError), name


def test_config_surface() -> None:
    assert config.DEFAULT is config.DefaultType.DEFAULT
    assert config.ChannelOptions.__module__ == "mattermost_plugin.config"
    defined = {
        name
        for name, value in vars(config).items()
        if not name.startswith("_")
        and (name.isupper() or getattr(value, "__module__", None) == config.__name__)
    }
    assert set(config.__all__) == defined | {"Timeout"}


def test_exceptions_share_one_root() -> None:
    errors = [getattr(mp, n) for n in mp.__all__ if n.endswith("Error")]
    assert len(errors) == 18
    assert all(issubclass(e, mp.PluginAPIError) for e in errors)


def test_exceptions_module_is_the_public_home() -> None:
    from mattermost_plugin import exceptions

    errors = {n for n in mp.__all__ if n.endswith("Error")}
    assert errors <= set(exceptions.__all__)
    for name in errors:
        assert getattr(exceptions, name) is getattr(mp, name)


def test_version_matches_the_distribution() -> None:
    import os
    import re
    from pathlib import Path

    # abspath, not resolve(): under Bazel the pyproject.toml to read is the
    # one in the test's runfiles, beside this module's symlink.
    project = (Path(os.path.abspath(__file__)).parents[2] / "pyproject.toml").read_text()
    match = re.search(r'^version = "([^"]+)"$', project, flags=re.M)
    assert match and mp.__version__ == match.group(1)


def test_import_leaves_the_plugin_server_and_the_generated_stub_unloaded() -> None:
    """``import mattermost_plugin`` stays cheap: what only a plugin process or
    nobody needs is not imported (see tools/bench for the import time)."""
    import subprocess
    import sys

    code = (
        "import sys, mattermost_plugin\n"
        "for name in ('mattermost_plugin._plugin.runner', 'mattermost_plugin._plugin.dispatch',\n"
        "             'mattermost_plugin.grpc.api_pb2_grpc', 'importlib.metadata'):\n"
        "    print(name, name in sys.modules)\n"
    )
    env = {
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
        "PATH": os.environ.get("PATH", ""),
    }
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env
    ).stdout
    assert all(line.endswith(" False") for line in out.splitlines()), out
