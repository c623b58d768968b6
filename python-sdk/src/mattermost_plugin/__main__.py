"""``python -m mattermost_plugin``: the ``mattermost-plugin`` command.

``python -m mattermost_plugin new NAME`` creates a plugin,
``python -m mattermost_plugin check DIR`` validates one and
``python -m mattermost_plugin dev DIR`` runs it under the dev server; see
``--help``. A plugin is served by ``python -m mattermost_plugin.serve
ENTRY``, which is what Mattermost and the dev server run.
"""

from __future__ import annotations

from ._cli import main

if __name__ == "__main__":
    raise SystemExit(main())
