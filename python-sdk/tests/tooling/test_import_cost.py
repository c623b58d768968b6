"""``import mattermost_plugin`` pays only for what is used.

The package imports its exceptions and nothing else; a client's methods are
imported one domain at a time, on first use, with the protobuf modules of
that domain (see _internal/lazyapi.py and the PEP 562 ``__getattr__`` of the
package and of models). These tests check what is in ``sys.modules`` of a
fresh interpreter, so that an eager import added anywhere fails them; the
time itself is measured by tools/bench (no timed assertions here).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest

import mattermost_plugin as mp
from mattermost_plugin import models
from mattermost_plugin._api import METHODS
from mattermost_plugin.testing import ReferenceServer

from conftest import start_server

#: The modules that a bare ``import mattermost_plugin`` may load.
EAGER = {"mattermost_plugin", "mattermost_plugin._version", "mattermost_plugin.exceptions"}

#: What a child prints: the SDK's modules, the domain modules of the client
#: methods and the protobuf modules of the contract that it has imported.
REPORT = """
import json, sys
ours = sorted(n for n in sys.modules if n.split(".")[0] == "mattermost_plugin")
print(json.dumps({
    "modules": ours,
    "domains": sorted(n.split(".")[2] for n in ours if n.startswith("mattermost_plugin._api.")),
    "pb2": sorted(n.split(".")[2] for n in ours if n.endswith("_pb2")),
}))
"""


def run_child(code: str, *args: str) -> dict[str, Any]:
    """Run code in a fresh interpreter, then REPORT; return what REPORT printed."""
    env = {
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
        "PATH": os.environ.get("PATH", ""),
    }
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code) + REPORT, *args],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    ).stdout
    report: dict[str, Any] = json.loads(out.splitlines()[-1])
    report["output"] = out.splitlines()[:-1]
    return report


def closure(module: str) -> set[str]:
    """The protobuf modules of the contract that module imports, itself included."""
    imported = run_child(f"from mattermost_plugin.grpc import {module}")
    return set(imported["pb2"])


@pytest.fixture(scope="module")
def server() -> Iterator[ReferenceServer]:
    server = start_server()
    try:
        yield server
    finally:
        server.stop()


def test_import_loads_only_the_exceptions() -> None:
    report = run_child("import mattermost_plugin")
    assert set(report["modules"]) == EAGER, report["modules"]


def test_public_names_load_without_the_methods() -> None:
    """Naming the clients loads no domain module and no protobuf module of a domain.

    plugin_pb2 is the contract's core (the AppError that any call may carry).
    """
    report = run_child("from mattermost_plugin import AsyncClient, Client, exceptions")
    assert report["domains"] == [], report["domains"]
    assert set(report["pb2"]) <= {"plugin_pb2"}, report["pb2"]


@pytest.mark.parametrize("flavour", ["Client", "AsyncClient"])
def test_a_call_loads_its_domain_only(server: ReferenceServer, flavour: str) -> None:
    code = f"""
        import asyncio, sys
        from mattermost_plugin import {flavour}
        target, token = sys.argv[1:3]
        api = {flavour}(target, token=token)
        if {flavour!r} == "Client":
            api.kv_set("k", b"v")
            print(api.kv_get("k"))
            api.close()
        else:
            async def main():
                await api.kv_set("k", b"v")
                print(await api.kv_get("k"))
                await api.close()
            asyncio.run(main())
    """
    report = run_child(code, server.target, server.token)
    assert report["output"] == ["b'v'"]
    assert report["domains"] == ["kv"]
    # The AsyncClient's call stream (PluginStreams.CallStream) has its frames.
    transport = {"streams_pb2"} if flavour == "AsyncClient" else set()
    assert set(report["pb2"]) <= closure("kv_pb2") | {"plugin_pb2"} | transport, report["pb2"]


def test_a_failed_call_on_a_lazy_domain_raises_as_before(server: ReferenceServer) -> None:
    code = """
        import sys
        from mattermost_plugin import Client, NotFoundError
        with Client(*sys.argv[1:2], token=sys.argv[2]) as api:
            try:
                api.get_user("x" * 26)
            except NotFoundError as error:
                print(type(error).__name__, error.error_id)
            try:
                api.get_user(1)
            except TypeError as error:
                print("TypeError")
    """
    report = run_child(code, server.target, server.token)
    assert report["output"][0].startswith("NotFoundError ")
    assert report["output"][1] == "TypeError"
    assert report["domains"] == ["users"]


def test_results_and_hook_arguments_print_on_one_line(server: ReferenceServer) -> None:
    """The models of a domain are documented when its methods load, the hooks' with Plugin."""
    code = """
        import sys
        from mattermost_plugin import Client
        with Client(*sys.argv[1:2], token=sys.argv[2]) as api:
            config = api.get_config()
            print(repr(config).count("\\n"), type(config).__doc__.startswith("Config"))
        from mattermost_plugin import Plugin
        from mattermost_plugin.grpc import posts_pb2
        print(repr(posts_pb2.Post(message="hi")))
    """
    report = run_child(code, server.target, server.token)
    assert report["output"] == ["0 True", "Post(message='hi')"]


def test_methods_are_the_domain_modules_own() -> None:
    """Same functions, signatures and docstrings as the domain mixins define."""
    from mattermost_plugin._api.kv import AsyncKVAPI, SyncKVAPI

    assert mp.Client.kv_get is SyncKVAPI.kv_get
    assert mp.AsyncClient.kv_get is AsyncKVAPI.kv_get
    assert set(METHODS) <= set(dir(mp.Client)) and set(METHODS) <= set(dir(mp.AsyncClient))
    with pytest.raises(AttributeError, match="has no attribute 'kv_gte'"):
        getattr(mp.Client, "kv_gte")  # noqa: B009 - a name type checkers know is missing
    client = mp.Client("unix:///nonexistent.sock", token="t")
    try:
        assert set(METHODS) <= set(dir(client))
        with pytest.raises(AttributeError, match="'Client' object has no attribute 'kv_gte'"):
            getattr(client, "kv_gte")  # noqa: B009 - a name type checkers know is missing
    finally:
        client.close()


def test_first_use_from_many_threads() -> None:
    """Threads that use every domain at once all find the methods, each once loaded."""
    code = """
        import threading
        from mattermost_plugin import Client
        from mattermost_plugin._api import METHODS
        names = sorted(METHODS) * 4
        found, errors = {}, []
        def use(name):
            try:
                found.setdefault(name, set()).add(id(getattr(Client, name)))
            except Exception as error:
                errors.append(repr(error))
        threads = [threading.Thread(target=use, args=(n,)) for n in names]
        for t in threads: t.start()
        for t in threads: t.join()
        print(len(errors), len(found), max(len(ids) for ids in found.values()))
    """
    report = run_child(code)
    assert report["output"] == [f"0 {len(METHODS)} 1"]


def test_a_subclass_may_call_super_of_a_method_not_loaded_yet(server: ReferenceServer) -> None:
    code = """
        import sys
        from mattermost_plugin import Client
        class Counting(Client):
            def kv_get(self, key, **kwargs):
                return b"counted:" + (super().kv_get(key, **kwargs) or b"")
        with Counting(*sys.argv[1:2], token=sys.argv[2]) as api:
            api.kv_set("k", b"v")
            print(api.kv_get("k"))
    """
    report = run_child(code, server.target, server.token)
    assert report["output"] == ["b'counted:v'"]


def test_a_subclass_may_call_super_of_any_method(server: ReferenceServer) -> None:
    # super() looks in class dictionaries only: a user's subclass gets
    # every method in place when it is defined, overridden or not.
    code = """
        import sys
        from mattermost_plugin import AsyncClient, Client
        class Named(Client):
            def label(self, key):
                return super().kv_get(key)
        class AsyncNamed(AsyncClient):
            async def label(self, key):
                return await super().kv_get(key)
        with Named(*sys.argv[1:2], token=sys.argv[2]) as api:
            api.kv_set("k", b"v")
            print(api.label("k"), callable(super(Named, api).get_user))
    """
    report = run_child(code, server.target, server.token)
    assert report["output"] == ["b'v' True"]


def test_the_sdks_own_clients_stay_lazy() -> None:
    code = """
        from mattermost_plugin import AsyncClient, Client
        from mattermost_plugin._api import SyncPluginAPI
        print(sum(1 for name in SyncPluginAPI._lazy_methods if name in vars(SyncPluginAPI)))
    """
    report = run_child(code)
    assert report["output"] == ["0"]


def test_models_load_by_module_and_pickle() -> None:
    code = """
        import pickle
        from mattermost_plugin import models
        user = models.User(username="alice")
        print(pickle.loads(pickle.dumps(user)) == user, repr(user))
    """
    report = run_child(code)
    assert report["output"] == ["True User(username='alice')"]
    assert set(report["pb2"]) == closure("users_pb2")
    assert set(models.__all__) <= set(dir(models))
