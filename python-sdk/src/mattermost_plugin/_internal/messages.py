"""What the SDK adds to the generated model classes: docs and a one-line repr.

protobuf prints a message as multi-line text format, and the field docs of
the contract reach only the .pyi stubs. :func:`document` gives a model class
its docstring (so that ``help(User)`` lists the fields) and a ``repr`` and
``str`` on one line that show the fields that are set, with long values cut.
"""

from __future__ import annotations

from google.protobuf import struct_pb2
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message

__all__ = ["cut", "document", "one_line"]

#: Longest text or bytes value shown in full by :func:`one_line`.
MAX_VALUE_REPR = 120


def cut(text: str) -> str:
    """A repr text, cut after :data:`MAX_VALUE_REPR` characters."""
    if len(text) > MAX_VALUE_REPR:
        return f"{text[:MAX_VALUE_REPR]}...<{len(text)} chars>"
    return text


def _value(value: object) -> str:
    if isinstance(value, (struct_pb2.Struct, struct_pb2.ListValue)):
        # Free-form JSON reads as the dict or list it holds.
        return cut(repr(MessageToDict(value)))
    if isinstance(value, Message):
        return one_line(value)
    if isinstance(value, (str, bytes)) and len(value) > MAX_VALUE_REPR:
        unit = "chars" if isinstance(value, str) else "bytes"
        return f"{value[:MAX_VALUE_REPR]!r}...<{len(value)} {unit}>"
    return repr(value)


def one_line(message: Message) -> str:
    """Render ``message`` as ``Name(field=value, ...)`` with the fields that are set."""
    parts = []
    for field, value in message.ListFields():
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            text = "{" + ", ".join(f"{_value(k)}: {_value(v)}" for k, v in value.items()) + "}"
        elif field.is_repeated:
            text = "[" + ", ".join(_value(item) for item in value) + "]"
        else:
            text = _value(value)
        parts.append(f"{field.name}={text}")
    return f"{type(message).__name__}({', '.join(parts)})"


def document(cls: type[Message], doc: str) -> None:
    """Give the model class ``cls`` its docstring and one-line ``repr`` and ``str``."""
    cls.__doc__ = doc
    cls.__repr__ = one_line  # type: ignore[assignment,method-assign]
    cls.__str__ = one_line  # type: ignore[assignment,method-assign]
