"""A problem that ``mattermost-plugin check`` found, and how it prints."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any

#: A problem that makes the plugin unusable; ``check`` exits 1.
ERROR = "error"

#: A problem worth fixing that does not stop the plugin.
WARNING = "warning"


@dataclasses.dataclass(frozen=True)
class Problem:
    """One problem in one file of a plugin directory.

    Attributes:
        file: The file, relative to the plugin directory (``plugin.json``).
        message: What is wrong, without a trailing period.
        fix: How to fix it.
        line: The line in ``file``, from 1, when known.
        column: The column in that line, from 1, when known.
        severity: :data:`ERROR` or :data:`WARNING`.
    """

    file: str
    message: str
    fix: str
    line: int | None = None
    column: int | None = None
    severity: str = ERROR

    @property
    def is_error(self) -> bool:
        """Whether the problem fails the check."""
        return self.severity == ERROR

    def render(self, directory: str) -> str:
        """The problem as one line, ``FILE[:LINE[:COL]]: [warning: ]problem; fix``.

        ``directory`` is the plugin directory as the user named it; the file
        is shown inside it.
        """
        path = self.file if directory in ("", ".") else os.path.join(directory, self.file)
        where = path
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        kind = "warning: " if self.severity == WARNING else ""
        text = f"{where}: {kind}{self.message}; {self.fix}"
        return " ".join(text.split())  # one line, whatever the messages held

    def to_json(self) -> dict[str, Any]:
        """The problem as a JSON object, as the import probe sends it."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Problem:
        """The problem that :meth:`to_json` wrote."""
        line = data.get("line")
        column = data.get("column")
        return cls(
            file=str(data.get("file", "")),
            message=str(data.get("message", "")),
            fix=str(data.get("fix", "")),
            line=line if isinstance(line, int) else None,
            column=column if isinstance(column, int) else None,
            severity=WARNING if data.get("severity") == WARNING else ERROR,
        )
