"""How a hook's handler is called and how its answer becomes the response.

The table of hooks itself, :mod:`.hookspec`, is generated from the contract.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import textwrap
from collections.abc import Iterable

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
        doc: What the hook means, from the contract (without the server version).
        since: The first Mattermost server version that has the hook.
    """

    name: str
    method: str
    params: tuple[str, ...]
    request: type[Message]
    response: type[Message]
    answer: Answer
    result_field: str
    signature: str
    doc: str = ""
    since: str = ""

    @property
    def summary(self) -> str:
        """The first sentence of :attr:`doc`."""
        return first_sentence(self.doc)


def first_sentence(text: str) -> str:
    """The text up to its first full stop that ends a sentence."""
    return re.split(r"(?<=\.)\s+(?=[A-Z])", text.strip(), maxsplit=1)[0]


class HookNameBase(enum.Enum):
    """The base of :class:`HookName`: a member equals and hashes as its Go name.

    The members are not ``str`` instances, so that ``help()`` documents a
    member (pydoc looks a string up as a name to import), but they compare
    equal to their Go names, as keys and in ``in`` tests, and ``str()`` and
    f-strings give the name on every Python version.
    """

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return bool(self.value == other)
        return self is other

    def __hash__(self) -> int:
        return hash(self.value)

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


def member_doc(spec: HookSpec) -> str:
    """The docstring of a :class:`HookName` member: the handler's signature and meaning."""
    member = spec.method.upper()
    lines = [spec.signature, "", *textwrap.wrap(spec.doc, 76)]
    if spec.since:
        lines.append(f"Mattermost server {spec.since} and later.")
    lines.append("")
    lines += textwrap.wrap(
        f"Handled by the plugin's method {spec.method}, or by any method marked "
        f"with @mattermost_plugin.hook(HookName.{member}).",
        76,
    )
    return "\n".join(lines) + "\n"


def hooks_section(specs: Iterable[HookSpec]) -> str:
    """The list of hooks in the plugin base classes' docstrings, for ``help()``."""
    lines = [
        "Hooks: define any of these methods, plain or ``async def``; each takes",
        "the hook's arguments and returns its answer (the types are those of",
        "mattermost_plugin.models)::",
        "",
    ]
    for spec in specs:
        lines.append(f"    {spec.signature}")
        lines.extend(
            textwrap.wrap(spec.summary, 72, initial_indent=" " * 8, subsequent_indent=" " * 8)
        )
    return "\n".join(lines) + "\n"


def document_members(hooks: Iterable[tuple[HookNameBase, HookSpec]]) -> None:
    """Give each :class:`HookName` member its own docstring, for ``help(member)``."""
    for member, spec in hooks:
        member.__doc__ = member_doc(spec)
