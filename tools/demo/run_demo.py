"""Run an example plugin script against a fresh reference server.

Usage: run_demo.py SERVER_BINARY SCRIPT

Starts the Go server with the in-memory backend through
mattermost_plugin.testing, hands its target and token to SCRIPT through the
environment, as a Mattermost server does for the plugins it starts, then
stops the server and shows what it logged for the plugin.
"""

from __future__ import annotations

import os
import subprocess
import sys

from mattermost_plugin.testing import ServerStartError, start_reference_server


def main() -> int:
    """Run the demo and return its exit code."""
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    server_binary, script = sys.argv[1], sys.argv[2]
    try:
        server = start_reference_server("-log-level", "info", binary=server_binary)
    except ServerStartError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"== reference server listening on {server.target}")
    try:
        env = {**os.environ, **server.environ()}
        result = subprocess.run([sys.executable, script], env=env, check=False)
    finally:
        code = server.stop()
    print(f"== server stopped (exit code {code}); what it logged for the plugin:")
    for record in server.log_records():
        if record.get("source") == "plugin":
            print(f"   {record['level']:5} {record['msg']} {record.get('plugin', {})}")
    return result.returncode or code


if __name__ == "__main__":
    sys.exit(main())
