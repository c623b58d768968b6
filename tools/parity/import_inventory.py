"""Writes the upstream inventory that the parity test reads.

Run once, and again only when the reference inventory changes:

    python3 tools/parity/import_inventory.py REFERENCE.tsv \
        > server/public/pluginapi/grpc/proto/upstream-plugin-api.tsv

REFERENCE.tsv is the inventory of every upstream Plugin API method and hook
(columns kind, area, name, params, returns, min_version). The output keeps
kind, area, name and min_version, sorted by kind, area and name, so that the
committed file diffs cleanly. Nothing in the build or the tests reads the
reference itself.
"""

from __future__ import annotations

import csv
import sys


def main(argv: list[str]) -> int:
    """Write the inventory of the file named in argv[1] to standard output."""
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    rows.sort(key=lambda r: (r["kind"], r["area"], r["name"]))
    out = csv.writer(sys.stdout, delimiter="\t", lineterminator="\n")
    out.writerow(["kind", "area", "name", "min_version"])
    for r in rows:
        out.writerow([r["kind"], r["area"], r["name"], r["min_version"]])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
