"""NaN and the infinities in free-form JSON (google.protobuf.Struct and Value).

JSON has no such numbers, and the server refuses them with INVALID_ARGUMENT.
The SDK refuses them first, with ValueError naming where they are, before any
I/O: in a mapping, in a Struct or Value given as is, and in the Struct fields
of a model (post and channel props, a broadcast's hook args). The server's
refusal, with its AppError, is checked too, for a caller that bypasses the SDK.
"""

from __future__ import annotations

import math
import re
from typing import Any

import grpc
import pytest
from google.protobuf import struct_pb2

import mattermost_plugin as mp
from mattermost_plugin import models
from mattermost_plugin._internal import args
from mattermost_plugin._internal.errors import from_rpc_error
from mattermost_plugin.grpc import plugins_pb2

from conftest import GoServer

#: No server listens here: a call that got as far as I/O would fail with
#: UNAVAILABLE, not with the ValueError these tests expect.
TARGET = "unix:///tmp/mattermost-plugin-sdk-test-no-server.sock"

NON_FINITE = [
    pytest.param(math.nan, "NaN", id="nan"),
    pytest.param(math.inf, "Infinity", id="inf"),
    pytest.param(-math.inf, "-Infinity", id="-inf"),
]

INVALID_PARAM = "api.context.invalid_body_param.app_error"


def _struct(value: dict[str, Any]) -> struct_pb2.Struct:
    """A Struct built by protobuf itself, which takes NaN and infinities."""
    struct = struct_pb2.Struct()
    struct.update(value)
    return struct


@pytest.mark.parametrize(("number", "name"), NON_FINITE)
@pytest.mark.parametrize(
    ("shape", "where"),
    [
        (lambda n: {"x": n}, "w['x']"),
        (lambda n: {"a": {"b": [1, n]}}, "w['a']['b'][1]"),
        (lambda n: {"t": (0, {"n": n})}, "w['t'][1]['n']"),
    ],
    ids=["top", "nested", "tuple"],
)
def test_a_mapping_with_a_non_finite_number_raises(
    number: float, name: str, shape: Any, where: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(f"{where} holds {name}, which is not a JSON")):
        args.check_struct("w", shape(number))
    with pytest.raises(ValueError, match=re.escape(f"holds {name}")):
        args.check_json_value("w", shape(number))


@pytest.mark.parametrize(("number", "name"), NON_FINITE)
def test_a_struct_or_value_given_as_is_is_searched(number: float, name: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"w['a'][0] holds {name}")):
        args.check_struct("w", _struct({"a": [number]}))
    with pytest.raises(ValueError, match=re.escape(f"w holds {name}")):
        args.check_json_value("w", struct_pb2.Value(number_value=number))
    with pytest.raises(ValueError, match=re.escape(f"w['k'] holds {name}")):
        args.check_json_value("w", struct_pb2.Value(struct_value=_struct({"k": number})))


def test_finite_numbers_pass() -> None:
    values = {"max": 1.7976931348623157e308, "tiny": -5e-324, "zero": -0.0, "big": 2**70}
    assert args.struct_dict(args.check_struct("w", values)) == {
        k: float(v) for k, v in values.items()
    }
    given = _struct({"a": [1.5, {"b": None}]})
    assert args.check_struct("w", given) is given
    post = models.Post(message="m", props=_struct({"n": 1.5}))
    assert args.check_message(models.Post)("create_post(post)", post) is post
    # A message that cannot hold a Value is not searched at all.
    user = models.User(username="u")
    assert args.check_message(models.User)("create_user(user)", user) is user


@pytest.mark.parametrize(("number", "name"), NON_FINITE)
@pytest.mark.parametrize(
    ("call", "where"),
    [
        (
            lambda c, n: c.create_post(models.Post(message="m", props=_struct({"score": n}))),
            "create_post(post).props['score']",
        ),
        (
            lambda c, n: c.update_channel(models.Channel(props=_struct({"a": {"b": [1, n]}}))),
            "update_channel(channel).props['a']['b'][1]",
        ),
        (
            lambda c, n: c.save_plugin_config({"limit": n}),
            "save_plugin_config(config)['limit']",
        ),
        (
            lambda c, n: c.publish_websocket_event(
                "e",
                {},
                models.WebsocketBroadcast(broadcast_hook_args=[_struct({}), _struct({"n": n})]),
            ),
            "publish_websocket_event(broadcast).broadcast_hook_args[1]['n']",
        ),
    ],
    ids=["post props", "channel props", "plugin config", "hook args"],
)
def test_client_methods_raise_before_any_io(
    number: float, name: str, call: Any, where: str
) -> None:
    with mp.Client(TARGET, token="t") as client:
        with pytest.raises(ValueError) as caught:
            call(client, number)
    # A mapping's check says first that it is not one of JSON values.
    assert str(caught.value).endswith(f"{where} holds {name}, which is not a JSON number")


async def test_async_client_methods_raise_before_any_io() -> None:
    async with mp.AsyncClient(TARGET, token="t") as client:
        with pytest.raises(ValueError, match=re.escape("create_post(post).props['x'] holds NaN")):
            await client.create_post(models.Post(message="m", props=_struct({"x": math.nan})))


def _raw_call_error(go_server: GoServer, method: str, body: bytes) -> mp.PluginAPIError:
    """Send body to a PluginAPI method with plain grpcio, bypassing the SDK's
    checks, and return the SDK's exception for the failure it must get."""
    with grpc.insecure_channel(go_server.target) as channel:
        call = channel.unary_unary(
            f"/mattermost.plugin.PluginAPI/{method}",
            request_serializer=lambda data: data,
            response_deserializer=lambda data: data,
        )
        with pytest.raises(grpc.RpcError) as caught:
            call(body, metadata=(("authorization", f"Bearer {go_server.token}"),), timeout=10)
    return from_rpc_error(caught.value)


@pytest.mark.parametrize(("number", "name"), NON_FINITE)
def test_the_server_refuses_them_with_an_app_error(
    go_server: GoServer, number: float, name: str
) -> None:
    """A request that bypasses the SDK's checks gets INVALID_ARGUMENT with an AppError."""
    request = plugins_pb2.SavePluginConfigRequest(config=_struct({"limit": number}))
    error = _raw_call_error(go_server, "SavePluginConfig", request.SerializeToString())
    assert isinstance(error, mp.ValidationError)
    assert error.error_id == INVALID_PARAM
    assert error.app_error is not None and error.app_error.params["Name"] == "config.limit"
    assert error.app_error.where == "SavePluginConfig"
    assert error.detailed_error == f"config.limit holds {name}, which is not a JSON number"
    with go_server.client() as client:
        assert client.get_plugin_config() == {}


def test_undecodable_requests_carry_an_app_error(go_server: GoServer) -> None:
    """Invalid UTF-8 in a string, which the SDK cannot send, gets an AppError too."""
    body = b"\x0a\x02k\xff"  # KVGetRequest.key = "k\xff"
    error = _raw_call_error(go_server, "KVGet", body)
    assert isinstance(error, mp.ValidationError)
    assert error.error_id == INVALID_PARAM
    assert error.status_code == 400
    assert "invalid UTF-8" in error.detailed_error
