"""Run an example plugin script against a fresh reference server.

Usage: run_demo.py SERVER_BINARY SCRIPT

Starts the Go server with the in-memory backend, hands its target and token
to SCRIPT through the environment, as a Mattermost server does for the
plugins it starts, then stops the server and shows what it logged for the
plugin.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading


def main() -> int:
    """Run the demo and return its exit code."""
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    server_binary, script = sys.argv[1], sys.argv[2]
    server = subprocess.Popen(
        [server_binary, "-log-format", "json", "-log-level", "info"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None and server.stderr is not None
    stderr = server.stderr
    logged: list[str] = []
    drain = threading.Thread(target=lambda: logged.extend(stderr), daemon=True)
    drain.start()
    try:
        ready = json.loads(server.stdout.readline() or "{}")
        if "target" not in ready:
            print("the server did not start:", "".join(logged), file=sys.stderr)
            return 1
        print(f"== reference server listening on {ready['target']}")
        env = dict(os.environ)
        env["MATTERMOST_PLUGIN_API_TARGET"] = ready["target"]
        env["MATTERMOST_PLUGIN_API_TOKEN"] = ready["token"]
        result = subprocess.run([sys.executable, script], env=env, check=False)
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=15)
        drain.join(timeout=5)
    print(f"== server stopped (exit code {code}); what it logged for the plugin:")
    for line in logged:
        record = json.loads(line) if line.startswith("{") else {}
        if record.get("source") == "plugin":
            fields = {
                k: v for k, v in record.items() if k not in ("time", "level", "msg", "source")
            }
            print(f"   {record['level']:5} {record['msg']} {fields}")
    return result.returncode or code


if __name__ == "__main__":
    sys.exit(main())
