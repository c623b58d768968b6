"""Every status code becomes its exception, through both clients."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

import mattermost_plugin as mp
from mattermost_plugin._internal.errors import from_rpc_error
from mattermost_plugin.exceptions import exception_class_for
from mattermost_plugin.grpc import plugin_pb2

from fake_server import Failure, FakePluginAPI, serve

NON_OK_CODES = [code for code in grpc.StatusCode if code is not grpc.StatusCode.OK]

EXPECTED = {
    grpc.StatusCode.CANCELLED: mp.RequestCancelledError,
    grpc.StatusCode.UNKNOWN: mp.UnknownError,
    grpc.StatusCode.INVALID_ARGUMENT: mp.ValidationError,
    grpc.StatusCode.DEADLINE_EXCEEDED: mp.DeadlineExceededError,
    grpc.StatusCode.NOT_FOUND: mp.NotFoundError,
    grpc.StatusCode.ALREADY_EXISTS: mp.AlreadyExistsError,
    grpc.StatusCode.PERMISSION_DENIED: mp.PermissionDeniedError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: mp.ResourceExhaustedError,
    grpc.StatusCode.FAILED_PRECONDITION: mp.FailedPreconditionError,
    grpc.StatusCode.ABORTED: mp.AbortedError,
    grpc.StatusCode.OUT_OF_RANGE: mp.OutOfRangeError,
    grpc.StatusCode.UNIMPLEMENTED: mp.UnimplementedError,
    grpc.StatusCode.INTERNAL: mp.InternalError,
    grpc.StatusCode.UNAVAILABLE: mp.UnavailableError,
    grpc.StatusCode.DATA_LOSS: mp.DataLossError,
    grpc.StatusCode.UNAUTHENTICATED: mp.UnauthenticatedError,
}


def app_error_for(code: grpc.StatusCode) -> plugin_pb2.AppError:
    return plugin_pb2.AppError(
        id=f"test.{code.name.lower()}.app_error",
        message=f"{code.name} happened",
        detailed_error="detail for logs",
        request_id="req-42",
        status_code=418,
        where="GetServerVersion",
        is_oauth=True,
        params={"user": "alice"},
    )


def test_every_code_has_a_distinct_class() -> None:
    assert set(EXPECTED) == set(NON_OK_CODES)
    assert len(set(EXPECTED.values())) == len(EXPECTED)
    for code, cls in EXPECTED.items():
        assert exception_class_for(code) is cls
        assert cls.grpc_status_code is code
        assert issubclass(cls, mp.PluginAPIError)
    assert exception_class_for(grpc.StatusCode.OK) is mp.PluginAPIError


def check(error: mp.PluginAPIError, code: grpc.StatusCode, with_app_error: bool) -> None:
    assert type(error) is EXPECTED[code]
    assert error.code is code
    # The original gRPC error is chained, as google-api-core does.
    assert isinstance(error.__cause__, grpc.RpcError)
    assert error.__cause__.code() is code
    if with_app_error:
        want = app_error_for(code)
        assert error.app_error == want
        assert error.message.endswith(want.message)
        assert error.error_id == want.id
        assert error.detailed_error == "detail for logs"
        assert error.request_id == "req-42"
        assert error.status_code == 418
        assert error.where == "GetServerVersion"
        assert error.is_oauth is True
        assert error.params == {"user": "alice"}
        assert error.details == (want,)
        assert want.id in str(error) and code.name in str(error)
    else:
        assert error.app_error is None
        assert error.message.endswith(f"plain {code.name}")
        assert error.error_id == "" and error.status_code == 0 and error.params == {}


@pytest.mark.parametrize("with_app_error", [True, False], ids=["app-error", "plain"])
@pytest.mark.parametrize("code", NON_OK_CODES, ids=lambda c: c.name)
def test_sync_client_maps_every_code(
    tmp_path: Path, code: grpc.StatusCode, with_app_error: bool
) -> None:
    fake = FakePluginAPI()
    message = f"{code.name} happened" if with_app_error else f"plain {code.name}"
    fake.failure = Failure(code, message, app_error_for(code) if with_app_error else None)
    with serve(fake, tmp_path) as target, mp.Client(target, token="t") as client:
        with pytest.raises(mp.PluginAPIError) as caught:
            client.get_server_version()
    check(caught.value, code, with_app_error)


@pytest.mark.parametrize("with_app_error", [True, False], ids=["app-error", "plain"])
@pytest.mark.parametrize("code", NON_OK_CODES, ids=lambda c: c.name)
async def test_async_client_maps_every_code(
    tmp_path: Path, code: grpc.StatusCode, with_app_error: bool
) -> None:
    fake = FakePluginAPI()
    message = f"{code.name} happened" if with_app_error else f"plain {code.name}"
    fake.failure = Failure(code, message, app_error_for(code) if with_app_error else None)
    with serve(fake, tmp_path) as target:
        async with mp.AsyncClient(target, token="t") as client:
            with pytest.raises(mp.PluginAPIError) as caught:
                await client.get_server_version()
    check(caught.value, code, with_app_error)


def test_garbage_details_are_ignored(tmp_path: Path) -> None:
    fake = FakePluginAPI()
    fake.failure = Failure(grpc.StatusCode.NOT_FOUND, "gone", raw_details=b"\xff\xff not a status")
    with serve(fake, tmp_path) as target, mp.Client(target, token="t") as client:
        with pytest.raises(mp.NotFoundError) as caught:
            client.get_server_version()
    assert caught.value.message == "gone" and caught.value.app_error is None


def test_unknown_detail_types_are_kept_raw(tmp_path: Path) -> None:
    status = plugin_pb2.ErrorStatus(
        code=5, message="gone", details=[plugin_pb2.ErrorDetail(type_url="x/other", value=b"1")]
    )
    fake = FakePluginAPI()
    fake.failure = Failure(
        grpc.StatusCode.NOT_FOUND, "gone", raw_details=status.SerializeToString()
    )
    with serve(fake, tmp_path) as target, mp.Client(target, token="t") as client:
        with pytest.raises(mp.NotFoundError) as caught:
            client.get_server_version()
    assert caught.value.app_error is None
    assert [d.type_url for d in caught.value.details] == ["x/other"]


def test_from_rpc_error_without_call_information() -> None:
    error = from_rpc_error(grpc.RpcError("opaque"))
    assert type(error) is mp.UnknownError and error.message == "opaque"
