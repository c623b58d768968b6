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

sys.path.insert(0, str(Path(os.path.abspath(__file__)).parents[2] / "scripts"))
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


# ---- The hooks: one list, generated on both sides -------------------------

REPO = Path(os.path.abspath(__file__)).parents[3]
HOOKS_PKG = REPO / "server" / "public" / "pluginapi" / "grpc" / "hooks"
UPSTREAM_TSV = (
    REPO / "server" / "public" / "pluginapi" / "grpc" / "proto" / "upstream-plugin-api.tsv"
)


def go_known() -> list[str]:
    """The names in the Go package's Known, in order."""
    import re

    text = (HOOKS_PKG / "hooks_generated.go").read_text(encoding="utf-8")
    block = re.search(r"^var Known = \[\]string\{\n(.*?)^\}", text, re.M | re.S)
    assert block is not None, "hooks_generated.go has no Known"
    return re.findall(r'^\t"(\w+)",$', block.group(1), re.M)


def hook_lists() -> dict[str, list[str]]:
    """Every list of the hooks that the repository keeps, by where it is kept."""
    from mattermost_plugin._plugin.hookspec import HOOKS

    import generate_hooks

    contract = [
        m.name
        for m in hooks_pb2.DESCRIPTOR.services_by_name["PluginHooks"].methods
        if m.name not in generate_hooks.NOT_HOOKS
    ]
    rows = [line.split("\t") for line in UPSTREAM_TSV.read_text(encoding="utf-8").splitlines()]
    upstream = [r[2] for r in rows if r[0] == "hook" and r[2] not in generate_hooks.NOT_HOOKS]
    return {
        "hooks.proto": contract,
        "hooks.Known": go_known(),
        "hookspec.py": [str(name) for name in HOOKS],
        "upstream-plugin-api.tsv": upstream,
        "hook_shapes.tsv": list(generate_hooks.shapes()),
    }


def test_every_list_of_the_hooks_agrees() -> None:
    lists = hook_lists()
    contract = lists["hooks.proto"]
    assert len(contract) == len(set(contract))
    for where, names in lists.items():
        missing, extra = set(contract) - set(names), set(names) - set(contract)
        assert not missing and not extra, f"{where}: lacks {sorted(missing)}, has {sorted(extra)}"
        assert len(names) == len(set(names)), f"{where} lists a hook twice"
    # The generated lists keep the contract's order.
    assert lists["hooks.Known"] == contract
    assert lists["hookspec.py"] == contract


@pytest.mark.parametrize("where", ["hooks.Known", "hookspec.py", "upstream-plugin-api.tsv"])
def test_a_hook_missing_from_one_list_is_caught(
    where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lists = hook_lists()
    lists[where] = lists[where][1:]
    monkeypatch.setattr(sys.modules[__name__], "hook_lists", lambda: lists)
    with pytest.raises(AssertionError, match="lacks"):
        test_every_list_of_the_hooks_agrees()


def test_hand_written_hooks_have_their_file() -> None:
    """The Client and None methods of a hand-written shape live in hooks/<hook>.go."""
    import generate_go_hooks
    import generate_hooks

    for hook, shape in generate_hooks.shapes().items():
        path = HOOKS_PKG / generate_go_hooks.hand_written_file(hook)
        if shape not in generate_go_hooks.HAND_WRITTEN:
            assert not path.exists(), f"{path.name}: {hook} is generated"
            continue
        text = path.read_text(encoding="utf-8")
        assert f"func (c *Client) {hook}(" in text and f"func (None) {hook}(" in text


# ---- The experiment: a hook added to the contract ------------------------

NEW_HOOK = "ChannelHasBeenRenamed"


def scratch_contract(tmp: Path) -> Path:
    """A copy of the contract with one hook more, NEW_HOOK, before OnSAMLLogin."""
    import shutil

    proto = REPO / "server" / "public" / "pluginapi" / "grpc" / "proto"
    scratch = tmp / "proto"
    shutil.copytree(proto, scratch)
    hooks_proto = scratch / "mattermost" / "plugin" / "hooks.proto"
    text = hooks_proto.read_text(encoding="utf-8")
    rpc = (
        f"  // {NEW_HOOK} runs after a channel was renamed.\n"
        f"  rpc {NEW_HOOK}({NEW_HOOK}Request) returns ({NEW_HOOK}Response);\n\n"
    )
    text = text.replace("  rpc OnSAMLLogin(", rpc + "  rpc OnSAMLLogin(", 1)
    text += (
        f"\n// {NEW_HOOK}Request carries the renamed channel.\n"
        f"message {NEW_HOOK}Request {{\n  Context context = 1;\n  Channel channel = 2;\n}}\n\n"
        f"// {NEW_HOOK}Response has no fields.\nmessage {NEW_HOOK}Response {{}}\n"
    )
    hooks_proto.write_text(text, encoding="utf-8")
    return scratch


def scratch_shapes(tmp: Path, shape: str | None) -> Path:
    """The shapes table, with a row for NEW_HOOK unless shape is None."""
    import generate_hooks

    text = generate_hooks.SHAPES_FILE.read_text(encoding="utf-8")
    if shape is not None:
        text += f"{NEW_HOOK}\t{shape}\n"
    path = tmp / "hook_shapes.tsv"
    path.write_text(text, encoding="utf-8")
    return path


def go_build_with(tmp: Path, scratch: Path, generated: dict[str, str]) -> tuple[int, str]:
    """`go build` of the hooks package with the scratch contract's stubs and generated files.

    The tree is not touched: `go build -overlay` reads the replaced files
    from tmp.
    """
    import json
    import subprocess

    stubs = tmp / "stubs"
    subprocess.run(
        ["go", "tool", "buf", "generate", str(scratch), "--template",
         str(scratch / "buf.gen.yaml"), "-o", str(stubs)],
        cwd=REPO, check=True, capture_output=True,
    )  # fmt: skip
    replace: dict[str, str] = {}
    pb_dir = REPO / "server" / "public" / "pluginapi" / "grpc" / "proto" / "mattermost" / "plugin"
    for name in ("hooks.pb.go", "hooks_grpc.pb.go"):
        replace[str(pb_dir / name)] = str(stubs / "mattermost" / "plugin" / name)
    for name, text in generated.items():
        (tmp / name).write_text(text, encoding="utf-8")
        replace[str(HOOKS_PKG / name)] = str(tmp / name)
    overlay = tmp / "overlay.json"
    overlay.write_text(json.dumps({"Replace": replace}), encoding="utf-8")
    build = subprocess.run(
        ["go", "build", f"-overlay={overlay}", "./server/public/pluginapi/grpc/hooks/"],
        cwd=REPO, capture_output=True, text=True,
    )  # fmt: skip
    return build.returncode, build.stderr


def native_go() -> None:
    import shutil

    if shutil.which("go") is None or not (REPO / "go.mod").exists():
        pytest.skip("needs the Go toolchain and the checkout (runs natively, not under Bazel)")
    pytest.importorskip("grpc_tools")


def test_a_new_hook_without_a_shape_fails_generation(tmp_path: Path) -> None:
    native_go()
    import generate_go_hooks
    import generate_hooks

    descriptors = generate_hooks.compile_descriptors(scratch_contract(tmp_path))
    with pytest.raises(SystemExit, match=f"no shape for the hooks {NEW_HOOK}"):
        generate_go_hooks.render(descriptors, scratch_shapes(tmp_path, None))
    with pytest.raises(SystemExit, match=f"no shape for the hooks {NEW_HOOK}"):
        generate_hooks.render(descriptors)


def test_a_new_hook_of_a_generated_shape_wires_itself(tmp_path: Path) -> None:
    native_go()
    import generate_go_hooks
    import generate_hooks

    scratch = scratch_contract(tmp_path)
    descriptors = generate_hooks.compile_descriptors(scratch)
    generated = generate_go_hooks.render(descriptors, scratch_shapes(tmp_path, "notify"))
    hooks_go = generated[generate_go_hooks.HOOKS_GO]
    assert f'\t"{NEW_HOOK}",\n' in hooks_go  # Known: NewClient keeps it
    assert f"\t{NEW_HOOK}(ctx context.Context, hc *pluginpb.Context" in hooks_go
    assert f"func (c *Client) {NEW_HOOK}(" in generated[generate_go_hooks.CLIENT_GO]
    assert f"func (None) {NEW_HOOK}(" in generated[generate_go_hooks.NONE_GO]
    assert f"c.rpc.{NEW_HOOK}(ctx" in generated[generate_go_hooks.CLIENT_GO]
    # The multi-plugin adapter that a backend's seam (memory.Hooks) plugs into.
    multi_go = generated[generate_go_hooks.MULTI_GO]
    assert f"func (m *Multi) {NEW_HOOK}(ctx context.Context" in multi_go
    code, stderr = go_build_with(tmp_path, scratch, generated)
    assert code == 0, stderr


def test_a_new_hook_of_a_hand_written_shape_fails_the_build(tmp_path: Path) -> None:
    native_go()
    import generate_go_hooks
    import generate_hooks

    scratch = scratch_contract(tmp_path)
    descriptors = generate_hooks.compile_descriptors(scratch)
    generated = generate_go_hooks.render(descriptors, scratch_shapes(tmp_path, "lifecycle"))
    assert f"func (c *Client) {NEW_HOOK}(" not in generated[generate_go_hooks.CLIENT_GO]
    code, stderr = go_build_with(tmp_path, scratch, generated)
    assert code != 0
    assert f"missing method {NEW_HOOK}" in stderr, stderr
