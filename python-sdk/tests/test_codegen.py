"""The generated modules import, and the twin clients match the contract."""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from pathlib import Path
from typing import Any

import pytest

import mattermost_plugin as mp
import mattermost_plugin.config as mpc
from mattermost_plugin.grpc import api_pb2, hooks_pb2

sys.path.insert(0, str(Path(os.path.abspath(__file__)).parent.parent / "scripts"))
import generate_clients
from generate_clients import snake_case

GRPC_PACKAGE = Path(mp.__file__).parent / "grpc"
GENERATED = sorted(path.stem for path in GRPC_PACKAGE.glob("*_pb2*.py"))
#: The domains of the contract: the files that api.proto imports, but for
#: plugin.proto, which holds the shared error types.
DOMAINS = sorted(
    Path(f.name).stem
    for f in api_pb2.DESCRIPTOR.dependencies
    if f.name.startswith("mattermost/") and f.name != "mattermost/plugin/plugin.proto"
)


@pytest.mark.parametrize("name", GENERATED)
def test_generated_modules_import(name: str) -> None:
    module = importlib.import_module(f"mattermost_plugin.grpc.{name}")
    assert module.__name__ == f"mattermost_plugin.grpc.{name}"


def test_service_names() -> None:
    assert (
        api_pb2.DESCRIPTOR.services_by_name["PluginAPI"].full_name == "mattermost.plugin.PluginAPI"
    )
    hooks = hooks_pb2.DESCRIPTOR.services_by_name["PluginHooks"]
    assert hooks.full_name == "mattermost.plugin.PluginHooks"
    assert {m.name for m in hooks.methods} >= {"Implemented", "OnActivate", "OnDeactivate"}


@pytest.mark.parametrize(
    ("rpc", "method"),
    [
        ("KVSet", "kv_set"),
        ("KVSetWithOptions", "kv_set_with_options"),
        ("GetUsersByIds", "get_users_by_ids"),
        ("GetServerVersion", "get_server_version"),
        ("LogDebug", "log_debug"),
        ("CreateOAuthApp", "create_oauth_app"),
        ("PublishWebSocketEvent", "publish_websocket_event"),
        ("GetLDAPUserAttributes", "get_ldap_user_attributes"),
        ("SetUserStatusTimedDND", "set_user_status_timed_dnd"),
    ],
)
def test_snake_case(rpc: str, method: str) -> None:
    assert snake_case(rpc) == method


def rpc_names() -> list[str]:
    return [m.name for m in api_pb2.DESCRIPTOR.services_by_name["PluginAPI"].methods]


def generated_rpcs() -> list[str]:
    """The RPCs with generated methods: every one."""
    return rpc_names()


def downloads() -> set[str]:
    from signatures import DOWNLOADS

    return set(DOWNLOADS)


def test_every_rpc_is_a_method_of_both_clients() -> None:
    public = {
        name
        for name in dir(mp.Client)
        if not name.startswith("_") and callable(getattr(mp.Client, name)) and name != "close"
    }
    expected = {snake_case(rpc) for rpc in generated_rpcs()}
    expected |= {snake_case(rpc) + "_stream" for rpc in downloads()}
    assert public == expected


@pytest.mark.parametrize("rpc", generated_rpcs())
def test_twin_signatures(rpc: str) -> None:
    """The same parameters; an upload's data parameter also takes async iterables."""
    from signatures import EXCHANGES, UPLOADS

    name = snake_case(rpc)
    sync_method = getattr(mp.Client, name)
    async_method = getattr(mp.AsyncClient, name)
    assert not inspect.iscoroutinefunction(sync_method)
    assert inspect.iscoroutinefunction(async_method)
    sync_signature = inspect.signature(sync_method)
    async_signature = inspect.signature(async_method)
    if rpc in UPLOADS or rpc in EXCHANGES:
        data = UPLOADS[rpc][0] if rpc in UPLOADS else EXCHANGES[rpc]
        assert sync_signature.parameters[data].annotation == "_streams.UploadData"
        assert async_signature.parameters[data].annotation == "_streams.AsyncUploadData"
        async_signature = async_signature.replace(
            parameters=[
                p.replace(annotation="_streams.UploadData") if p.name == data else p
                for p in async_signature.parameters.values()
            ]
        )
    if rpc in EXCHANGES:
        assert sync_signature.return_annotation == "_streams.HTTPResponse"
        assert async_signature.return_annotation == "_streams.AsyncHTTPResponse"
        async_signature = async_signature.replace(return_annotation="_streams.HTTPResponse")
    assert sync_signature == async_signature
    timeout = inspect.signature(sync_method).parameters["timeout"]
    assert timeout.kind is inspect.Parameter.KEYWORD_ONLY and timeout.default is mpc.DEFAULT
    assert sync_method.__doc__ and sync_method.__doc__ == async_method.__doc__


def test_slice_signatures() -> None:
    """A few signatures spelled out, as a user reads them."""
    assert str(inspect.signature(mp.Client.get_user)) == (
        "(self, user_id: 'str', *, timeout: 'Timeout' = DEFAULT) -> '_models.User'"
    )
    assert str(inspect.signature(mp.Client.kv_get)) == (
        "(self, key: 'str', *, timeout: 'Timeout' = DEFAULT) -> 'bytes | None'"
    )
    assert str(inspect.signature(mp.Client.kv_compare_and_set)) == (
        "(self, key: 'str', old_value: 'bytes | None', new_value: 'bytes | None', *, "
        "timeout: 'Timeout' = DEFAULT) -> 'bool'"
    )


def descriptor_set(mutate: Any = None) -> bytes:
    """The contract's FileDescriptorSet, optionally changed by ``mutate``."""
    from google.protobuf import descriptor_pb2

    files: list[Any] = []
    seen: set[str] = set()

    def add(file: Any) -> None:  # dependencies first, as protoc orders them
        if file.name in seen:
            return
        seen.add(file.name)
        for dependency in file.dependencies:
            add(dependency)
        proto = descriptor_pb2.FileDescriptorProto()
        file.CopyToProto(proto)
        files.append(proto)

    add(api_pb2.DESCRIPTOR)
    if mutate is not None:
        mutate(files)
    return descriptor_pb2.FileDescriptorSet(file=files).SerializeToString()


def method_source(rendered: dict[str, str], module: str, name: str) -> str:
    text = rendered[f"_api/{module}.py"]
    start = text.index(f"    def {name}(")
    return text[start : text.index('"""', start)]


def test_adding_fields_keeps_signatures_and_return_types() -> None:
    """A new request field is keyword-only with a default; a new response field changes nothing."""
    from google.protobuf import descriptor_pb2

    Field = descriptor_pb2.FieldDescriptorProto

    def add_fields(files: list[Any]) -> None:
        kv = next(f for f in files if f.name.endswith("kv.proto"))
        for message in kv.message_type:
            if message.name in ("KVGetRequest", "KVGetResponse"):
                message.field.add(
                    name="extra", number=9, type=Field.TYPE_STRING, label=Field.LABEL_OPTIONAL
                )

    before = generate_clients.render(descriptor_set())
    after = generate_clients.render(descriptor_set(add_fields))
    old = method_source(before, "kv", "kv_get")
    new = method_source(after, "kv", "kv_get")
    assert "key: str, *, timeout: Timeout = DEFAULT) -> bytes | None:" in old
    assert 'key: str, *, extra: str = "", timeout: Timeout = DEFAULT) -> bytes | None:' in new


def test_every_rpc_declares_its_shape() -> None:
    """signatures.py covers the service exactly; an undeclared RPC stops the generator."""
    from signatures import DOWNLOADS, EXCHANGES, SIGNATURES, UPLOADS

    declared = set(SIGNATURES) | set(UPLOADS) | set(DOWNLOADS) | set(EXCHANGES)
    assert declared == set(rpc_names())

    def add_rpc(files: list[Any]) -> None:
        api = next(f for f in files if f.name.endswith("api.proto"))
        api.service[0].method.add(
            name="KVUndeclared",
            input_type=".mattermost.plugin.KVGetRequest",
            output_type=".mattermost.plugin.KVGetResponse",
        )

    with pytest.raises(SystemExit, match="declare the shape of KVUndeclared"):
        generate_clients.render(descriptor_set(add_rpc))


def test_each_domain_has_its_module() -> None:
    rendered = generate_clients.render(descriptor_set())
    assert {"config", "kv", "logging", "preferences", "teams", "users"} <= set(DOMAINS)
    assert set(rendered) == {"_api/__init__.py", "models.py"} | {f"_api/{d}.py" for d in DOMAINS}
    assert "def get_user(" in rendered["_api/users.py"]
    assert "def kv_get(" not in rendered["_api/users.py"]
