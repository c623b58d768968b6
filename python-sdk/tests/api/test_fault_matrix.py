"""Fault matrices generated from the contract, against the real Go server.

At collection, every RPC of the Plugin API comes from the generated
descriptors (the services of ``api.proto``), and every string field of its
request, nested messages, map keys and ``google.protobuf.Struct`` keys
included, from a walk of the request's descriptor. Nothing is hand-picked:
an RPC added to the contract joins the matrices.

- Authentication: every RPC with no token, a wrong token (the right one
  with its last character changed) and another server's token (well formed,
  issued by another server process, not by this one) fails with
  UNAUTHENTICATED.
- Input: every RPC with a string field, with invalid UTF-8 in each of its
  string fields in turn, fails with INVALID_ARGUMENT and an AppError
  (an id, status 400); and with an over-long string fails as the contract
  promises. Over-long is over the server's message size limit (its ready
  line's ``max_message_size``; 1 MiB for the matrix, the 64 MiB default in
  one test): the one bound that holds for every string field, answered with
  RESOURCE_EXHAUSTED ("the server also uses it, without an AppError, for
  messages above its size limit", api.proto). The per-field limits of the
  backend (a username's 64 characters, a KV key's 150, ...) depend on the
  method and are tested where the methods are.

The requests are built by hand on the wire, so that a field can hold bytes
that no protobuf library would encode, and are aimed at a seeded world:
each top-level id field names a user, team, channel, post or KV key that
exists, so that the call would change something if the server let it
through (test_aimed_requests_change_the_world proves it with the right
token). "Nothing changed" is the backend's whole state, as ``-state`` saves
it at a graceful stop, compared with the state that the server loaded, and
no event (email, websocket, ...) sent; each matrix has a server of its own,
checked after its last call.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from worlds import make_room, say

from mattermost_plugin._internal.errors import from_rpc_error
from mattermost_plugin.config import AUTH_SCHEME, ENV_TARGET, ENV_TOKEN, METADATA_KEY
from mattermost_plugin.grpc import api_pb2
from mattermost_plugin.testing import ReferenceServer, start_reference_server

from conftest import FAST_DRAIN, START_TIMEOUT, server_binary

pytestmark = pytest.mark.faults

#: The Plugin API: every service of api.proto, and every method of each.
SERVICES = tuple(api_pb2.DESCRIPTOR.services_by_name.values())
METHODS = tuple(method for service in SERVICES for method in service.methods)

#: How deep the walk goes into nested messages; a message type already on
#: the path is not entered again (Struct -> Value -> Struct).
MAX_DEPTH = 8

#: Bytes that are not UTF-8, used in turn: a stray continuation byte, an
#: overlong "/", a UTF-16 surrogate, a truncated sequence, a byte that never
#: occurs, each after a valid prefix.
INVALID_UTF8 = (b"ok\x80", b"ok\xc0\xaf", b"ok\xed\xa0\x80", b"ok\xe2\x82", b"ok\xff")

#: A bound on each call, so that a server that hangs fails the test instead
#: of the run; no call comes near it.
CALL_TIMEOUT = 30.0

#: The KV key of the seeded world.
KV_KEY = "fault-matrix"

#: How many failures an assertion lists.
MAX_LISTED = 20

#: The message size limit of the input matrix's server, so that an
#: over-long string costs a mebibyte and not 64; one test keeps the default.
SMALL_MESSAGE_LIMIT = 1 << 20

FieldPath = tuple[FieldDescriptor, ...]


def string_paths(
    message: Descriptor, depth: int = 0, seen: frozenset[str] = frozenset()
) -> list[FieldPath]:
    """Every string field of message, as the fields that lead to it."""
    seen = seen | {message.full_name}
    out: list[FieldPath] = []
    for field in message.fields:
        if field.type == FieldDescriptor.TYPE_STRING:
            out.append((field,))
        elif field.type == FieldDescriptor.TYPE_MESSAGE and depth < MAX_DEPTH:
            inner = field.message_type
            if inner is not None and inner.full_name not in seen:
                out.extend((field, *rest) for rest in string_paths(inner, depth + 1, seen))
    return out


def dotted(path: FieldPath) -> str:
    return ".".join(field.name for field in path)


def full_method(method: MethodDescriptor) -> str:
    return f"/{method.containing_service.full_name}/{method.name}"


STRING_PATHS = {method.full_name: string_paths(method.input_type) for method in METHODS}
WITH_STRINGS = tuple(method for method in METHODS if STRING_PATHS[method.full_name])


# The wire format, by hand: a varint, and a length-delimited field (strings,
# bytes, messages, map entries and repeated elements alike).


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def length_delimited(number: int, payload: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def encode_path(path: FieldPath, value: bytes) -> bytes:
    """A message whose field at path holds value, every other field unset."""
    data = value
    for field in reversed(path):
        data = length_delimited(field.number, data)
    return data


@dataclass
class World:
    """What the seeded state holds, by the request fields that name it."""

    ids: dict[str, str]

    def aimed(self, method: MethodDescriptor) -> bytes:
        """The request's top-level id fields set to what exists, the rest unset."""
        out = b""
        for field in method.input_type.fields:
            value = self.ids.get(field.name)
            if field.type == FieldDescriptor.TYPE_STRING and value is not None:
                out += length_delimited(field.number, value.encode())
        return out


def server_env() -> dict[str, str]:
    """The environment without a token or target that a server would take."""
    return {k: v for k, v in os.environ.items() if k not in (ENV_TOKEN, ENV_TARGET)}


def start(state: Path, *flags: str) -> ReferenceServer:
    return start_reference_server(
        *FAST_DRAIN,
        "-state",
        str(state),
        *flags,
        binary=server_binary(),
        timeout=START_TIMEOUT,
        env=server_env(),
    )


def comparable(state: Path) -> dict[str, Any]:
    document = json.loads(state.read_text())
    assert isinstance(document, dict)
    document.pop("saved_at")
    return document


@dataclass
class Seeded:
    """A saved state with a world in it, and the token of the server that made it."""

    state: Path
    world: World
    foreign_token: str


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    """A world (a team, users, a channel, a post, a KV key) saved by a server now gone."""
    state = tmp_path_factory.mktemp("faults") / "seed.json"
    server = start(state)
    try:
        with server.client() as api:
            room = make_room(api)
            post = say(api, room, room.alice, "fault matrix")
            api.kv_set(KV_KEY, b"seeded")
    finally:
        assert server.stop() == 0
    user, other = room.alice, room.bob
    ids = {
        **dict.fromkeys(
            ("user_id", "user_ids", "acting_user_id", "user_id_1", "as_user_id"), user.id
        ),
        **dict.fromkeys(("user_id_2", "bot_user_id", "requester_id"), other.id),
        **dict.fromkeys(("team_id", "team_ids"), room.team.id),
        **dict.fromkeys(("channel_id", "channel_ids"), room.town.id),
        **dict.fromkeys(("post_id", "root_id"), post.id),
        "key": KV_KEY,
        "username": user.username,
        "usernames": user.username,
        "email": user.email,
        "team_name": room.team.name,
        "channel_name": room.town.name,
        "message": "changed by the fault matrix",
    }
    return Seeded(state, World(ids), server.token)


@dataclass
class Target:
    """A server loaded with the seeded state, and one channel to it."""

    server: ReferenceServer
    channel: grpc.Channel
    state: Path
    seed: Path

    def call(
        self, method: MethodDescriptor, request: bytes, token: str | None
    ) -> grpc.RpcError | None:
        """Call method with request's bytes; the error, or None when it succeeds."""
        return call(self.channel, method, request, token)

    def changes(self) -> list[str]:
        """Stop the server; what its state and events show that the calls changed."""
        changed = []
        if self.server.process.poll() is not None:
            changed.append(f"the server exited with {self.server.process.returncode}")
        else:
            health = self.channel.unary_unary(
                "/grpc.health.v1.Health/Check",
                request_serializer=lambda data: data,
                response_deserializer=lambda data: data,
            )
            answer = health(b"", timeout=CALL_TIMEOUT)
            if answer != b"\x08\x01":
                changed.append(f"health check answered {answer!r}, not SERVING")
        self.channel.close()
        code = self.server.stop()
        if code != 0:
            changed.append(f"the server's graceful stop exited with {code}")
        before, after = comparable(self.seed), comparable(self.state)
        changed += [f"state: {key} changed" for key in before if before[key] != after.get(key)]
        changed += [f"event sent: {event['kind']}" for event in self.server.events()]
        return changed


def call(
    channel: grpc.Channel, method: MethodDescriptor, request: bytes, token: str | None
) -> grpc.RpcError | None:
    metadata = () if token is None else ((METADATA_KEY, f"{AUTH_SCHEME} {token}"),)
    raw: dict[str, Any] = {
        "request_serializer": lambda data: data,
        "response_deserializer": lambda data: data,
    }
    path = full_method(method)
    try:
        if method.client_streaming and method.server_streaming:
            for _ in channel.stream_stream(path, **raw)(
                iter([request]), metadata=metadata, timeout=CALL_TIMEOUT
            ):
                pass
        elif method.client_streaming:
            channel.stream_unary(path, **raw)(
                iter([request]), metadata=metadata, timeout=CALL_TIMEOUT
            )
        elif method.server_streaming:
            for _ in channel.unary_stream(path, **raw)(
                request, metadata=metadata, timeout=CALL_TIMEOUT
            ):
                pass
        else:
            channel.unary_unary(path, **raw)(request, metadata=metadata, timeout=CALL_TIMEOUT)
    except grpc.RpcError as error:
        return error
    return None


def open_target(seeded: Seeded, directory: Path, *flags: str) -> Target:
    state = directory / "state.json"
    shutil.copyfile(seeded.state, state)
    server = start(state, *flags)
    assert server.token != seeded.foreign_token
    # The limits of the SDK's own channel would refuse an over-long request
    # before it leaves; the server is what is tested.
    options = [("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)]
    channel = grpc.insecure_channel(server.target, options=options)
    return Target(server, channel, state, seeded.state)


@pytest.fixture(scope="module")
def auth_target(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    target = open_target(seeded, tmp_path_factory.mktemp("auth"))
    yield target
    target.channel.close()
    target.server.stop()


@pytest.fixture(scope="module")
def input_target(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    target = open_target(
        seeded, tmp_path_factory.mktemp("input"), "-max-message-size", str(SMALL_MESSAGE_LIMIT)
    )
    yield target
    target.channel.close()
    target.server.stop()


def code_of(error: grpc.RpcError | None) -> str:
    if error is None:
        return "OK"
    assert isinstance(error, grpc.Call)
    return f"{error.code().name} {error.details()!r:.120}"


def listed(failures: Sequence[str], total: int) -> str:
    shown = "\n  ".join(failures[:MAX_LISTED])
    more = f"\n  ... and {len(failures) - MAX_LISTED} more" if len(failures) > MAX_LISTED else ""
    return f"{len(failures)} of {total} failed:\n  {shown}{more}"


# The authentication matrix ###################################################

TOKENS = ("no token", "wrong token", "another server's token")


def token_for(kind: str, target: Target, seeded: Seeded) -> str | None:
    if kind == "no token":
        return None
    if kind == "wrong token":
        right = target.server.token
        return right[:-1] + ("0" if right[-1] != "0" else "1")
    return seeded.foreign_token


@pytest.mark.parametrize("kind", TOKENS)
@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.name)
def test_every_rpc_refuses_a_bad_token(
    auth_target: Target, seeded: Seeded, method: MethodDescriptor, kind: str
) -> None:
    error = auth_target.call(
        method, seeded.world.aimed(method), token_for(kind, auth_target, seeded)
    )
    assert isinstance(error, grpc.Call), f"{method.name} with {kind} succeeded"
    assert error.code() is grpc.StatusCode.UNAUTHENTICATED, code_of(error)


def test_bad_tokens_changed_nothing(auth_target: Target) -> None:
    """After the whole matrix: the server serves, and its state is the seeded one."""
    assert auth_target.changes() == []


# The input matrix ############################################################


@pytest.mark.parametrize("method", WITH_STRINGS, ids=lambda m: m.name)
def test_invalid_utf8_in_every_string_field(
    input_target: Target, seeded: Seeded, method: MethodDescriptor
) -> None:
    paths = STRING_PATHS[method.full_name]
    failures = []
    for i, path in enumerate(paths):
        request = seeded.world.aimed(method) + encode_path(
            path, INVALID_UTF8[i % len(INVALID_UTF8)]
        )
        error = input_target.call(method, request, input_target.server.token)
        if not isinstance(error, grpc.Call) or error.code() is not grpc.StatusCode.INVALID_ARGUMENT:
            failures.append(f"{dotted(path)}: {code_of(error)}")
            continue
        app_error = from_rpc_error(error).app_error
        if app_error is None or not app_error.id or app_error.status_code != 400:
            got = (
                "no AppError"
                if app_error is None
                else f"id={app_error.id!r} status={app_error.status_code}"
            )
            failures.append(f"{dotted(path)}: INVALID_ARGUMENT with {got}")
    assert not failures, f"{method.name}: " + listed(failures, len(paths))


@pytest.fixture(scope="module")
def over_long(input_target: Target) -> bytes:
    """A string as long as the server's whole message limit."""
    return b"x" * int(input_target.server.ready["max_message_size"])


@pytest.mark.megabytes
@pytest.mark.parametrize("method", WITH_STRINGS, ids=lambda m: m.name)
def test_an_over_long_string_is_refused(
    input_target: Target, seeded: Seeded, over_long: bytes, method: MethodDescriptor
) -> None:
    path = STRING_PATHS[method.full_name][0]
    request = seeded.world.aimed(method) + encode_path(path, over_long)
    error = input_target.call(method, request, input_target.server.token)
    assert isinstance(error, grpc.Call), (
        f"{method.name} took {len(request)} bytes in {dotted(path)}"
    )
    assert error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED, f"{dotted(path)}: {code_of(error)}"


def test_an_over_long_string_at_the_default_limit(seeded: Seeded, tmp_path: Path) -> None:
    """The matrix's server has a small limit; the default one (64 MiB) holds the same way."""
    target = open_target(seeded, tmp_path)
    method = next(m for m in METHODS if m.name == "CreatePost")
    limit = int(target.server.ready["max_message_size"])
    try:
        assert limit == 64 << 20
        request = encode_path(STRING_PATHS[method.full_name][0], b"x" * limit)
        error = target.call(method, request, target.server.token)
        assert isinstance(error, grpc.Call), f"CreatePost took {len(request)} bytes"
        assert error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED, code_of(error)
    finally:
        changes = target.changes()
    assert changes == []


def test_bad_inputs_stored_nothing(input_target: Target) -> None:
    """After the whole matrix: the server serves, and its state is the seeded one."""
    assert input_target.changes() == []


# The matrices' own checks ####################################################


def test_the_contract_is_all_there() -> None:
    """The walk finds the whole API, nested strings, map keys and Struct keys."""
    plugin_api = api_pb2.DESCRIPTOR.services_by_name["PluginAPI"].methods
    assert {m.full_name for m in plugin_api} <= {m.full_name for m in METHODS}
    names = {dotted(p) for m in METHODS for p in STRING_PATHS[m.full_name]}
    assert "post.message" in names  # a nested message
    assert "post.props.fields.key" in names  # a Struct's key
    assert any(p.endswith(".key") and "props" not in p for p in names)  # a map's key
    assert {m.name for m in METHODS if m.client_streaming or m.server_streaming} >= {
        "UploadFile",
        "GetFile",
        "PluginHTTP",
    }


def test_aimed_requests_change_the_world(seeded: Seeded, tmp_path: Path) -> None:
    """With the right token, the aimed requests change the world, and the check sees it."""
    target = open_target(seeded, tmp_path)
    by_name = {m.name: m for m in METHODS}
    try:
        for name in ("DeletePost", "KVDelete"):
            method = by_name[name]
            assert target.call(method, seeded.world.aimed(method), target.server.token) is None
    finally:
        changes = target.changes()
    assert "state: posts changed" in changes
    assert "state: kv changed" in changes


def test_wire_encoding_matches_protobuf() -> None:
    """protobuf reads the hand-made bytes as meant, for a nested field and a Struct key."""
    method = next(m for m in METHODS if m.name == "CreatePost")
    request_class = message_factory.GetMessageClass(method.input_type)
    paths = {dotted(p): p for p in STRING_PATHS[method.full_name]}
    aimed = World({"message": "ignored"}).aimed(method)  # CreatePost has no top-level string
    assert aimed == b""
    request: Any = request_class.FromString(encode_path(paths["post.message"], b"hello"))
    assert request.post.message == "hello"
    request = request_class.FromString(encode_path(paths["post.props.fields.key"], b"k"))
    assert list(request.post.props.fields) == ["k"]
    assert varint(300) == b"\xac\x02"
