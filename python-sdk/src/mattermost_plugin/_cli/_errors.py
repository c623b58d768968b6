"""The exceptions that end a command with a one-line message."""

from __future__ import annotations


class CommandError(Exception):
    """The command failed in an expected way: exit 1 with the message, no traceback."""


class UsageError(CommandError):
    """The command line is wrong: exit 2 with the command's usage and the message."""
