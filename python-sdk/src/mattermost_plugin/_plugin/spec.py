"""How a hook's handler is called and how its answer becomes the response.

The table of hooks itself, :mod:`.hookspec`, is generated from the contract.
"""

from __future__ import annotations

import dataclasses
import enum

from google.protobuf.message import Message


class Answer(enum.Enum):
    """The shape of a hook's answer."""

    #: The hook answers nothing; a failure is an exception.
    NONE = "none"
    #: The hook keeps, replaces or rejects a model: it returns the model,
    #: ``(model, reason)``, ``None`` or :data:`mattermost_plugin.DISMISS`.
    FILTER = "filter"
    #: The hook allows or rejects: it returns a reason, or ``None`` or ``""``
    #: to allow.
    REJECT = "reject"
    #: The hook returns one value: a model, a list of models, a number or a
    #: flag; ``None`` answers the field's zero value.
    VALUE = "value"
    #: The hook serves an HTTP request: it takes a
    #: :class:`mattermost_plugin.HTTPRequest` and returns a
    #: :class:`mattermost_plugin.HTTPResponse`; both bodies stream.
    HTTP = "http"
    #: The hook vets an upload: it reads a :class:`mattermost_plugin.FileReader`,
    #: may write replacement content to a :class:`mattermost_plugin.FileWriter`,
    #: and answers as :attr:`FILTER` does, with the file's info.
    UPLOAD = "upload"


@dataclasses.dataclass(frozen=True)
class HookSpec:
    """One hook of the contract.

    Attributes:
        name: The hook's name, as in Go (``MessageWillBePosted``).
        method: The name of the handler method (``message_will_be_posted``).
        params: The handler's parameters after ``self``: the request's fields.
        request: The request message class of the RPC.
        response: The response message class of the RPC.
        answer: How the handler's return value becomes the response.
        result_field: The response field that holds the answered model.
        signature: The handler's signature, for messages.
    """

    name: str
    method: str
    params: tuple[str, ...]
    request: type[Message]
    response: type[Message]
    answer: Answer
    result_field: str
    signature: str
