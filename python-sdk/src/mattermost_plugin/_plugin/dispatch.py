"""The PluginHooks service: calls a plugin's handlers and turns answers into responses."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import enum
import functools
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable
from typing import Any, Callable, NoReturn

import grpc
from google.protobuf.message import Message

from .._internal.errors import app_error_trailers
from ..exceptions import PluginAPIError
from ..grpc import hooks_pb2, plugin_pb2
from .base import DISMISS, PluginBase
from .hookspec import HOOKS, HookName
from .http import HTTPRequest, HTTPResponse
from .settings import with_defaults
from .spec import Answer, HookSpec
from .streams import FileReader, FileWriter
from .threads import HandlerThreads

__all__ = [
    "DISMISS_POST_ERROR",
    "SERVICE",
    "HookDispatcher",
    "HookFailed",
    "split_filter_answer",
]

#: The full name of the service.
SERVICE = "mattermost.plugin.PluginHooks"
#: The rejection reason that dismisses a post without an error (Go's
#: plugin.DismissPostError); tests/api/test_wire.py checks it against Go's
#: wire.DismissPostError.
DISMISS_POST_ERROR = "plugin.message_will_be_posted.dismiss_post"
#: The longest error text that a failed hook sends back.
MAX_ERROR_TEXT = 4096


def split_filter_answer(result: object) -> tuple[object, str] | None:
    """Split a FILTER or UPLOAD handler's answer into its model and rejection reason.

    This is the one statement, on the Python side, of the rule that an answer
    of nothing keeps the value: a model of ``None`` leaves the response's
    field unset, which the host reads as "keep the input" (Go's
    ``hooks.Keep``). :data:`~mattermost_plugin.DISMISS`, alone or as the
    reason, rejects with :data:`DISMISS_POST_ERROR`. A pair that is not
    ``(model, reason)`` answers ``None``.
    """
    if result is DISMISS:
        return None, DISMISS_POST_ERROR
    if not isinstance(result, tuple):
        return result, ""
    if len(result) != 2:
        return None
    model, reason = result
    if reason is DISMISS:
        reason = DISMISS_POST_ERROR
    if not isinstance(reason, str):
        return None
    return model, reason


def _cut(text: str, limit: int = MAX_ERROR_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _HookFailed(Exception):
    """A handler failed; carries the status to answer with."""

    def __init__(
        self, code: grpc.StatusCode, message: str, app_error: plugin_pb2.AppError | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = _cut(message)
        self.app_error = app_error


#: The failure of a hook call, with the status that answers it.
HookFailed = _HookFailed


#: A stream hook's server: the spec, the incoming messages and the call.
_StreamServer = Callable[
    [HookSpec, AsyncIterator[Any], "grpc.aio.ServicerContext[Any, Any]"], AsyncIterator[Message]
]


#: How early a cancellation may come and still be the deadline's: grpc's
#: clock and the event loop's are read at different moments.
_DEADLINE_SLACK = 0.05

#: The hooks the runtime always serves: they reload the plugin's configuration.
_RUNTIME_HOOKS = ("OnActivate", "OnConfigurationChange")


class HookDispatcher:
    """Serves the PluginHooks service for one plugin instance.

    Only the hooks the plugin handles are registered, and OnActivate and
    OnConfigurationChange always are; the others answer UNIMPLEMENTED, and
    ``Implemented`` lists the registered ones. Both of these first reload
    the plugin's ``configuration`` from the server; as a Go plugin does,
    OnActivate then runs the OnConfigurationChange handler, whose failure
    is only logged. Plain handlers run in ``threads``; ``async`` handlers
    on the event loop. A call ends at its gRPC deadline, where grpc.aio
    cancels it: an ``async`` handler is cancelled, a plain one is left to
    finish in its thread while the caller gets DEADLINE_EXCEEDED; either
    way the miss is logged.

    Args:
        plugin: The plugin instance.
        threads: Where plain handlers run.
        logger: Where failures and their tracebacks are logged.
    """

    def __init__(
        self,
        plugin: PluginBase[Any],
        threads: HandlerThreads,
        logger: logging.Logger,
    ) -> None:
        self._plugin = plugin
        self._threads = threads
        self._logger = logger
        # Per handler function, whether it is a coroutine function; per
        # hook, how each request field becomes an argument.
        self._coroutine: dict[object, bool] = {}
        self._kinds: dict[str, tuple[tuple[str, _Kind], ...]] = {}
        self.implemented = sorted(set(type(plugin).implemented_hooks()) | set(_RUNTIME_HOOKS))
        #: The id of the hook stream that this process opens, which
        #: Implemented announces; empty: PluginHooks only.
        self.hook_stream_id = ""

    def generic_handler(self) -> grpc.GenericRpcHandler:
        """The gRPC handler of the service, for ``server.add_generic_rpc_handlers``."""
        methods: dict[str, grpc.RpcMethodHandler[Any, Any]] = {
            "Implemented": grpc.unary_unary_rpc_method_handler(
                self._implemented,
                request_deserializer=hooks_pb2.ImplementedRequest.FromString,
                response_serializer=hooks_pb2.ImplementedResponse.SerializeToString,
            )
        }
        for spec in HOOKS.values():
            if spec.name in self.implemented and spec.answer in (Answer.HTTP, Answer.UPLOAD):
                serve = self._serve_http if spec.answer is Answer.HTTP else self._file_upload
                methods[spec.name] = grpc.stream_stream_rpc_method_handler(
                    self._stream_behavior(spec, serve),
                    request_deserializer=spec.request.FromString,
                    response_serializer=spec.response.SerializeToString,
                )
            elif spec.name in self.implemented:
                methods[spec.name] = grpc.unary_unary_rpc_method_handler(
                    self._behavior(spec),
                    request_deserializer=spec.request.FromString,
                    response_serializer=spec.response.SerializeToString,
                )
        return grpc.method_handlers_generic_handler(SERVICE, methods)

    def _behavior(
        self, spec: HookSpec
    ) -> Callable[[Message, grpc.aio.ServicerContext[Any, Any]], Awaitable[Message]]:
        # A coroutine function of its own, not a functools.partial: grpcio
        # recognises coroutine handlers with inspect, which on Python 3.9
        # does not see through a partial of a method.
        async def behavior(
            request: Message, context: grpc.aio.ServicerContext[Any, Any]
        ) -> Message:
            return await self._call(spec, request, context)

        return behavior

    def _stream_behavior(
        self, spec: HookSpec, serve: _StreamServer
    ) -> Callable[[AsyncIterator[Any], grpc.aio.ServicerContext[Any, Any]], AsyncIterator[Message]]:
        async def behavior(
            messages: AsyncIterator[Any], context: grpc.aio.ServicerContext[Any, Any]
        ) -> AsyncIterator[Message]:
            async for message in serve(spec, messages, context):
                yield message

        return behavior

    async def _first(
        self,
        spec: HookSpec,
        messages: AsyncIterator[Any],
        context: grpc.aio.ServicerContext[Any, Any],
        part: str,
        what: str,
    ) -> Any:  # noqa: ANN401 - the first message of either stream
        """The stream's first message, which must carry ``part``; else INVALID_ARGUMENT."""
        async for message in messages:
            if message.WhichOneof("part") == part:
                return message
            break
        await context.abort(
            grpc.StatusCode.INVALID_ARGUMENT, f"{spec.name}: the first message must carry {what}"
        )

    async def _serve_http(
        self,
        spec: HookSpec,
        messages: AsyncIterator[Any],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> AsyncIterator[Message]:
        """Serve one HTTP exchange: the head, the streamed bodies, the errors."""
        loop = asyncio.get_running_loop()
        first = await self._first(spec, messages, context, "head", "the request head")
        request = HTTPRequest(first.head, loop)
        feeder = asyncio.ensure_future(request._feed(_chunks(messages)))
        try:
            try:
                answer = await self._run_with(
                    spec, [first.context, request], context.time_remaining()
                )
                if not isinstance(answer, HTTPResponse):
                    self._wrong_answer(spec, answer)
                try:
                    head = answer._head()
                except (TypeError, ValueError) as error:
                    self._logger.error("%s: %s", spec.name, error)
                    raise _HookFailed(grpc.StatusCode.INTERNAL, f"{spec.name}: {error}") from None
            except _HookFailed as failure:
                await _abort(context, failure)
                return
            yield spec.response(head=head)
            try:
                async for chunk, flush in answer._chunks(self._threads):
                    yield spec.response(chunk=chunk, flush=flush)
            except Exception as error:  # the head is sent: end the stream with the error
                self._logger.exception("%s failed while sending the body", spec.name)
                message = f"{spec.name} body raised {type(error).__name__}: {error}"
                await _abort(context, _HookFailed(grpc.StatusCode.UNKNOWN, message))
        finally:
            feeder.cancel()

    async def _file_upload(
        self,
        spec: HookSpec,
        messages: AsyncIterator[Any],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> AsyncIterator[Message]:
        """Vet one upload: the file streams in, replacement content out, then the result."""
        loop = asyncio.get_running_loop()
        first = await self._first(spec, messages, context, "info", "the file's info")
        file, output = FileReader(loop), FileWriter(loop)
        feeder = asyncio.ensure_future(file._feed(_chunks(messages)))
        handler = asyncio.ensure_future(
            self._run_with(
                spec, [first.context, first.info, file, output], context.time_remaining()
            )
        )
        try:
            # Replacement content goes out while the handler runs.
            while True:
                chunk = asyncio.ensure_future(output._queue.get())
                done, _ = await asyncio.wait({chunk, handler}, return_when=asyncio.FIRST_COMPLETED)
                if chunk in done:
                    yield spec.response(chunk=chunk.result())
                    continue
                chunk.cancel()
                break
            while not output._queue.empty():
                yield spec.response(chunk=output._queue.get_nowait())
            try:
                answer = self._answer(spec, handler.result())
            except _HookFailed as failure:
                await _abort(context, failure)
                return
            yield spec.response(result=answer)
        finally:
            feeder.cancel()
            handler.cancel()

    async def _implemented(
        self, request: hooks_pb2.ImplementedRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> hooks_pb2.ImplementedResponse:
        return hooks_pb2.ImplementedResponse(
            hooks=self.implemented, hook_stream_id=self.hook_stream_id
        )

    async def _reload_configuration(self, timeout: float | None) -> None:
        """Read the plugin's settings into its ``configuration``; a failure is logged."""
        api = getattr(self._plugin, "api", None)
        if api is None:
            return
        try:
            if inspect.iscoroutinefunction(api.get_plugin_config):
                settings = await api.get_plugin_config(timeout=timeout)
            else:
                call = functools.partial(api.get_plugin_config, timeout=timeout)
                settings = await self._threads.run(call)
        except PluginAPIError as error:
            self._logger.warning("could not read the plugin's configuration: %s", error)
            return
        # A new dict, so that a handler never sees a half-updated one.
        self._plugin.configuration = with_defaults(settings, self._plugin.manifest)

    async def _call(
        self, spec: HookSpec, request: Message, context: grpc.aio.ServicerContext[Any, Any]
    ) -> Message:
        try:
            return await self.handle(spec, request, context.time_remaining())
        except _HookFailed as failure:
            await _abort(context, failure)
            raise AssertionError("unreachable") from None  # abort raises

    def unary_spec(self, name: str) -> HookSpec | None:
        """The spec of the registered unary hook ``name``, or None (the hook stream's lookup)."""
        spec = HOOKS.get(name)  # type: ignore[call-overload]
        if (
            spec is None
            or spec.name not in self.implemented
            or spec.answer in (Answer.HTTP, Answer.UPLOAD)
        ):
            return None
        return spec  # type: ignore[no-any-return]

    async def handle(self, spec: HookSpec, request: Message, timeout: float | None) -> Message:
        """Run one unary hook call: the one path of PluginHooks and of the hook stream.

        Raises:
            HookFailed: The handler failed; it carries the status to answer.
        """
        if spec.name in _RUNTIME_HOOKS:
            await self._reload_configuration(timeout)
        if spec.name == "OnActivate" and self._plugin.handler("OnConfigurationChange"):
            # As Go plugins do on their side (hooksRPCServer.OnActivate),
            # whether or not the plugin has OnActivate: read the
            # configuration first, and only log a failure.
            with contextlib.suppress(_HookFailed):
                await self._run(
                    HOOKS[HookName.ON_CONFIGURATION_CHANGE],
                    hooks_pb2.OnConfigurationChangeRequest(),
                    timeout,
                )
        if spec.name in _RUNTIME_HOOKS and self._plugin.handler(spec.name) is None:
            return spec.response()
        result = await self._run(spec, request, timeout)
        return self._answer(spec, result)

    async def _run(self, spec: HookSpec, request: Message, timeout: float | None) -> object:
        kinds = self._kinds.get(spec.name)
        if kinds is None:
            kinds = self._kinds[spec.name] = _argument_kinds(spec)
        arguments = [_argument(request, name, kind) for name, kind in kinds]
        return await self._run_with(spec, arguments, timeout)

    async def _run_with(
        self, spec: HookSpec, arguments: list[Any], timeout: float | None
    ) -> object:
        handler = self._plugin.handler(spec.name)
        if handler is None:  # pragma: no cover - only handled hooks are registered
            raise _HookFailed(grpc.StatusCode.UNIMPLEMENTED, f"{spec.name} is not implemented")
        function = getattr(handler, "__func__", handler)
        try:
            coroutine = self._coroutine[function]
        except KeyError:
            coroutine = self._coroutine[function] = inspect.iscoroutinefunction(handler)
        except TypeError:  # an unhashable callable
            coroutine = inspect.iscoroutinefunction(handler)
        # The deadline is grpc.aio's to enforce: it cancels the call's task
        # then, and this only logs the miss. (A timer of its own per call
        # was a third of the dispatcher's time.)
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        try:
            if coroutine:
                work: Any = handler(*arguments)
            else:
                call = functools.partial(contextvars.copy_context().run, handler, *arguments)
                work = self._threads.run(call)
            result = await work
            if inspect.isawaitable(result):  # a plain function that returned a coroutine
                result = await result
            return result
        except asyncio.CancelledError:
            if deadline is not None and loop.time() >= deadline - _DEADLINE_SLACK:
                self._logger.error(
                    "hook %s did not finish within its deadline of %.3g s", spec.name, timeout
                )
            raise
        except PluginAPIError as error:
            self._logger.exception("hook %s failed", spec.name)
            message = f"{spec.name}: {error.message}"
            raise _HookFailed(error.code, message, error.app_error) from None
        except Exception as error:
            self._logger.exception("hook %s failed", spec.name)
            raise _HookFailed(
                grpc.StatusCode.UNKNOWN, f"{spec.name} raised {type(error).__name__}: {error}"
            ) from None

    def _answer(self, spec: HookSpec, result: object) -> Message:
        if spec.answer is Answer.UPLOAD:
            # Answered as FILTER is, in the stream's last message.
            response = type(spec.response().result)()  # type: ignore[attr-defined]
            return self._filter(spec, response, result, response.DESCRIPTOR.fields_by_name["info"])
        response = spec.response()
        if spec.answer is Answer.NONE:
            if result is not None:
                self._logger.warning(
                    "hook %s returned %s, which is ignored; it answers nothing",
                    spec.name,
                    type(result).__name__,
                )
            return response
        if spec.answer is Answer.REJECT:
            if result is None:
                return response
            if not isinstance(result, str):
                self._wrong_answer(spec, result)
            response.rejection_reason = result  # type: ignore[attr-defined]
            return response
        field = spec.response.DESCRIPTOR.fields_by_name[spec.result_field]
        if (
            spec.answer is Answer.VALUE
            and result is not None
            and (field.message_type is None or _is_repeated(response, spec.result_field))
        ):
            self._set_value(spec, response, result, field)
            return response
        return self._filter(spec, response, result, field)

    def _filter(self, spec: HookSpec, response: Message, result: object, field: Any) -> Message:  # noqa: ANN401 - a FieldDescriptor of either protobuf backend
        """Set a model answer, and for FILTER and UPLOAD a reason, on ``response``."""
        model, reason = result, ""
        if spec.answer in (Answer.FILTER, Answer.UPLOAD):
            split = split_filter_answer(result)
            if split is None:
                self._wrong_answer(spec, result)
            model, reason = split
        if model is not None:
            expected = field.message_type.full_name if field.message_type else ""
            if not isinstance(model, Message) or model.DESCRIPTOR.full_name != expected:
                self._wrong_answer(spec, result)
            getattr(response, field.name).CopyFrom(model)
        if reason:
            response.rejection_reason = reason  # type: ignore[attr-defined]
        return response

    def _set_value(self, spec: HookSpec, response: Message, result: object, field: Any) -> None:  # noqa: ANN401 - a FieldDescriptor of either protobuf backend
        """Set a scalar or repeated result field, checking the value's type."""
        if field.message_type is not None:  # a list of models
            expected = field.message_type.full_name
            if not isinstance(result, (list, tuple)) or not all(
                isinstance(m, Message) and m.DESCRIPTOR.full_name == expected for m in result
            ):
                self._wrong_answer(spec, result)
            getattr(response, spec.result_field).extend(result)
            return
        kinds = {field.TYPE_BOOL: (bool,), field.TYPE_STRING: (str,)}
        wanted = kinds.get(field.type, (int,))
        if not isinstance(result, wanted) or (wanted == (int,) and isinstance(result, bool)):
            self._wrong_answer(spec, result)
        try:
            setattr(response, spec.result_field, result)
        except ValueError:  # out of the field's range
            self._wrong_answer(spec, result)

    def _wrong_answer(self, spec: HookSpec, result: object) -> NoReturn:
        text = _cut(repr(result), 200)
        message = f"{spec.name} answered {text}, which is not what {spec.signature} returns"
        self._logger.error("%s", message)
        raise _HookFailed(grpc.StatusCode.INTERNAL, message)


class _Kind(enum.Enum):
    """How a request field becomes a handler argument."""

    LIST = "a list of its items"
    MODEL = "the model, or None if unset"
    VALUE = "the value (the hook Context is always a model, set or not)"


def _argument_kinds(spec: HookSpec) -> tuple[tuple[str, _Kind], ...]:
    """Each parameter of the hook's handler with the kind of its request field."""
    request = spec.request()
    kinds = []
    for name in spec.params:
        field = request.DESCRIPTOR.fields_by_name[name]
        if _is_repeated(request, name):
            kind = _Kind.LIST
        elif field.message_type is not None and name != "context":
            kind = _Kind.MODEL
        else:
            kind = _Kind.VALUE
        kinds.append((name, kind))
    return tuple(kinds)


def _argument(request: Message, name: str, kind: _Kind) -> object:
    """The handler argument of a request field."""
    if kind is _Kind.LIST:
        return list(getattr(request, name))
    if kind is _Kind.MODEL and not request.HasField(name):
        return None
    return getattr(request, name)


async def _chunks(messages: AsyncIterator[Any]) -> AsyncIterator[bytes]:
    """The chunks of a stream's remaining messages."""
    async for message in messages:
        if message.WhichOneof("part") == "chunk":
            yield message.chunk


def _is_repeated(message: Message, name: str) -> bool:
    # By the value's kind: FieldDescriptor.label is gone in protobuf 7, and
    # is_repeated is missing from older 6.x releases.
    value = getattr(message, name)
    return not isinstance(value, (Message, str, bytes, bool, int, float))


async def _abort(context: grpc.aio.ServicerContext[Any, Any], failure: _HookFailed) -> None:
    metadata: tuple[tuple[str, bytes], ...] = ()
    if failure.app_error is not None:
        metadata = app_error_trailers(failure.code, failure.message, failure.app_error)
    await context.abort(failure.code, failure.message, metadata)
