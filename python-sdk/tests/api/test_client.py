"""Client construction, discovery, timeouts and lifecycle, on a fake server."""

from __future__ import annotations

import inspect
import math
import pydoc
from pathlib import Path

import pytest

import mattermost_plugin as mp
import mattermost_plugin.config as mpc
from mattermost_plugin._internal.channel import channel_args
from mattermost_plugin._internal.core import CallPolicy

from fake_server import FakePluginAPI, serve

#: pydoc's plain-text renderer (typeshed does not declare it).
PLAIN = pydoc.plaintext  # type: ignore[attr-defined]


def test_explicit_arguments_override_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakePluginAPI()
    with serve(fake, tmp_path) as target:
        monkeypatch.setenv(mpc.ENV_TARGET, "unix:///nonexistent.sock")
        monkeypatch.setenv(mpc.ENV_TOKEN, "env-token")
        with mp.Client(target, token="explicit") as client:
            assert client.get_server_version() == "fake-1.0"
    assert fake.metadata[-1]["authorization"] == "Bearer explicit"


def test_environment_discovery(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakePluginAPI()
    with serve(fake, tmp_path) as target:
        monkeypatch.setenv(mpc.ENV_TARGET, target)
        monkeypatch.setenv(mpc.ENV_TOKEN, "env-token")
        with mp.Client() as client:
            assert client.target == target
            assert client.get_server_version() == "fake-1.0"
    assert fake.metadata[-1]["authorization"] == "Bearer env-token"


@pytest.mark.parametrize(
    ("target", "token", "message"),
    [
        (None, "t", "MATTERMOST_PLUGIN_API_TARGET"),
        ("unix:///x", None, "MATTERMOST_PLUGIN_API_TOKEN"),
    ],
)
def test_missing_target_or_token(target: str | None, token: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        mp.Client(target, token=token)


@pytest.mark.parametrize("token", ["has space", "new\nline", "naïve"])
def test_bad_token(token: str) -> None:
    with pytest.raises(ValueError, match="printable ASCII"):
        mp.Client("unix:///x", token=token)


@pytest.mark.parametrize("target", ["", " unix:///x", "unix://", "unix:///" + "d" * 107])
def test_bad_target(target: str) -> None:
    with pytest.raises(ValueError, match="target"):
        mp.Client(target, token="t")
    with pytest.raises(ValueError, match="target"):
        mp.AsyncClient(target, token="t")


@pytest.mark.parametrize("client_class", [mp.Client, mp.AsyncClient])
def test_a_positional_token_is_refused_naming_token_keyword(client_class: type) -> None:
    name = client_class.__name__
    with pytest.raises(TypeError) as info:
        client_class("unix:///x", "t")
    assert str(info.value) == (
        f"{name}() takes the target as its only positional argument; pass the token as "
        f"token=: {name}(target, token=...)"
    )
    with pytest.raises(TypeError, match=r"token="):
        client_class("unix:///x", "t", 5)
    # The signature shows no catch-all: target, then keywords.
    signature = inspect.signature(client_class)
    extra = ["transport"] if client_class is mp.AsyncClient else []
    assert list(signature.parameters) == ["target", "token", "timeout", "channel_options", *extra]
    assert "_positional" not in pydoc.render_doc(client_class, renderer=PLAIN)


@pytest.mark.parametrize("target", ["unix:///" + "d" * 106, "unix:relative.sock", "127.0.0.1:1"])
def test_good_targets(target: str) -> None:
    mp.Client(target, token="t").close()


def test_timeouts(tmp_path: Path) -> None:
    fake = FakePluginAPI()
    with serve(fake, tmp_path) as target:
        with mp.Client(target, token="t", timeout=20) as client:
            client.get_server_version()
            client.get_server_version(timeout=2.5)
            client.get_server_version(timeout=None)
        with mp.Client(target, token="t", timeout=None) as client:
            client.get_server_version()
    first, second, third, fourth = fake.timeouts
    assert first is not None and 15 < first <= 20.5
    assert second is not None and 0 < second <= 3
    # No deadline: the server sees an effectively infinite time remaining.
    assert third is not None and third > 1e9
    assert fourth is not None and fourth > 1e9


@pytest.mark.parametrize("bad", [0, -1, math.nan, math.inf])
def test_invalid_timeout_values(tmp_path: Path, bad: float) -> None:
    with pytest.raises(ValueError, match="timeout"):
        mp.Client("unix:///x", token="t", timeout=bad)
    with serve(FakePluginAPI(), tmp_path) as target, mp.Client(target, token="t") as client:
        with pytest.raises(ValueError, match="timeout"):
            client.get_server_version(timeout=bad)


@pytest.mark.parametrize("bad", ["5", True])
def test_invalid_timeout_types(bad: object) -> None:
    with pytest.raises(TypeError, match="timeout"):
        mp.Client("unix:///x", token="t", timeout=bad)  # type: ignore[arg-type]


def test_call_policy_is_io_free() -> None:
    policy = CallPolicy.resolve(
        None, None, 5.0, None, environ={mpc.ENV_TARGET: "x:1", mpc.ENV_TOKEN: "k"}
    )
    assert policy.target == "x:1"
    assert policy.metadata == (("authorization", "Bearer k"),)
    assert policy.deadline(mpc.DEFAULT) == 5.0
    assert policy.deadline(None) is None
    assert policy.deadline(1) == 1.0


def test_channel_options() -> None:
    args = {k: int(v) for k, v in channel_args(mpc.ChannelOptions()) if isinstance(v, int)}
    assert args["grpc.max_receive_message_length"] == 64 * 1024 * 1024
    assert args["grpc.max_send_message_length"] == 64 * 1024 * 1024
    # The Go server allows one ping per 10 s; the client must not ping faster.
    assert args["grpc.keepalive_time_ms"] >= 10_000
    assert mpc.ChannelOptions() == mpc.ChannelOptions(max_message_size=64 * 1024 * 1024)
    with pytest.raises(ValueError):
        mpc.ChannelOptions(max_message_size=0)
    with pytest.raises(ValueError):
        mpc.ChannelOptions(keepalive_time=0)


def test_closed_client_refuses_calls(tmp_path: Path) -> None:
    with serve(FakePluginAPI(), tmp_path) as target:
        client = mp.Client(target, token="t")
        assert client.kv_get("k") == b"k"
        client.close()
        client.close()  # idempotent
        with pytest.raises(RuntimeError, match="closed"):
            client.kv_get("k")


async def test_closed_async_client_refuses_calls(tmp_path: Path) -> None:
    with serve(FakePluginAPI(), tmp_path) as target:
        client = mp.AsyncClient(target, token="t")
        assert await client.kv_get("missing") is None
        await client.close()
        await client.close()
        with pytest.raises(RuntimeError, match="closed"):
            await client.kv_get("k")


def test_optional_result_is_none_when_unset(tmp_path: Path) -> None:
    with serve(FakePluginAPI(), tmp_path) as target, mp.Client(target, token="t") as client:
        assert client.kv_get("missing") is None
        assert client.kv_get("present") == b"present"


def test_unimplemented_method_on_fake(tmp_path: Path) -> None:
    with serve(FakePluginAPI(), tmp_path) as target, mp.Client(target, token="t") as client:
        with pytest.raises(mp.UnimplementedError):
            client.kv_list(0, 10)


@pytest.mark.parametrize("aio", [False, True])
def test_the_stub_makes_the_generated_stubs_callables(aio: bool) -> None:
    """The SDK's stub, made from the RPC table, matches grpc_tools' generated one.

    Same callables and paths; the serializers are not the generated ones (the
    response class is imported at the first response) but give the same bytes
    and messages.
    """
    import asyncio

    import grpc
    import grpc.aio

    from mattermost_plugin._internal.stub import PluginAPIStub
    from mattermost_plugin.grpc import api_pb2_grpc

    def compare(channel: grpc.Channel | grpc.aio.Channel) -> None:
        ours, theirs = PluginAPIStub(channel), api_pb2_grpc.PluginAPIStub(channel)
        names = set(vars(theirs))
        assert set(vars(ours)) == names and len(names) > 250
        for name in names:
            a, b = getattr(ours, name), getattr(theirs, name)
            assert type(a) is type(b), name
            assert a._method == b._method and a._method.endswith(f"/{name}".encode()), name
            response = b._response_deserializer(b"")
            assert type(a._response_deserializer(b"")) is type(response), name
            assert a._request_serializer(response) == b._request_serializer(response), name

    if not aio:
        channel = grpc.insecure_channel("unix:///nonexistent/stub.sock")
        compare(channel)
        channel.close()
        return

    async def main() -> None:
        channel = grpc.aio.insecure_channel("unix:///nonexistent/stub.sock")
        compare(channel)
        await channel.close()

    asyncio.run(main())
