"""Render docs/fidelity.md, the fidelity table, from its data files.

The data files are docs/fidelity/<domain>.tsv, one per proto file of the
contract that defines RPCs' messages (channels.tsv for channels.proto, ...),
plus hooks.tsv for the hooks of hooks.proto. Each is tab-separated, with a
header row naming these columns, in this order:

* kind: ``method`` (an RPC of the PluginAPI service) or ``hook`` (an RPC of
  the PluginHooks service);
* name: the RPC or hook name, as in the contract;
* upstream: the upstream function(s) the plugin path reaches, as
  ``path@commit:Function`` citations of github.com/mattermost/mattermost,
  ``; ``-separated (required of every row);
* checks: upstream's checks and error ids on that path, in order (free text);
* backend: what the reference backend does (free text);
* state: ``same`` (the backend follows upstream), ``differs`` (reason says
  why) or ``not-modelled`` (the backend does not model it: reason says
  what); every row is reviewed, so there is no unreviewed state;
* reason: why it differs or is not modelled (required for those states). A
  reason that says "not yet aligned" marks a known gap rather than a
  decision; the page counts those rows apart.

A field holds no tab and no newline. `make generate` runs this script and
`make check-generated` checks its output; python-sdk/tests/api/test_fidelity.py
checks that every RPC and hook of the contract has exactly one row.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import os
import re
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

# Not resolve(): under Bazel the script runs from a runfiles tree of symlinks.
REPO_DIR = Path(os.path.abspath(__file__)).parent.parent.parent
DATA_DIR = REPO_DIR / "docs" / "fidelity"
DOC = REPO_DIR / "docs" / "fidelity.md"

COLUMNS = ("kind", "name", "upstream", "checks", "backend", "state", "reason")
KINDS = ("method", "hook")
STATES = ("same", "differs", "not-modelled")
#: The states whose row must say why.
NEEDS_REASON = frozenset({"differs", "not-modelled"})
#: The states whose row must cite upstream: all of them.
NEEDS_CITATION = frozenset(STATES)
#: What the reason of a known gap says: a difference nobody chose.
GAP = "not yet aligned"
#: The data file of the hooks; every other file holds methods.
HOOKS_DOMAIN = "hooks"
#: One citation: a path of mattermost/mattermost, a commit, a function.
CITATION = re.compile(r"^[\w./-]+@[0-9a-f]{7,40}:\w[\w.]*$")
#: Where the citations point.
UPSTREAM_URL = "https://github.com/mattermost/mattermost"


class FidelityError(Exception):
    """A data file that cannot be read as the table's rows."""


@dataclasses.dataclass(frozen=True)
class Row:
    """One method or hook of the contract, as reviewed against upstream."""

    domain: str
    kind: str
    name: str
    upstream: str
    checks: str
    backend: str
    state: str
    reason: str

    @property
    def citations(self) -> list[str]:
        """The ``; ``-separated items of the upstream column; none when it is empty."""
        return self.upstream.split("; ") if self.upstream else []


def parse(domain: str, text: str) -> list[Row]:
    """The rows of one data file's text; raises FidelityError if its shape is wrong."""
    lines = text.splitlines()
    reader = csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader, None)
    if header is None or tuple(header) != COLUMNS:
        raise FidelityError(f"{domain}.tsv: the header must be the columns {', '.join(COLUMNS)}")
    rows = []
    for number, fields in enumerate(reader, start=2):
        if len(fields) != len(COLUMNS):
            raise FidelityError(
                f"{domain}.tsv:{number}: {len(fields)} fields, the header has {len(COLUMNS)}"
            )
        rows.append(Row(domain, *(f.strip() for f in fields)))
    return rows


def read(data_dir: Path = DATA_DIR) -> list[Row]:
    """Every row of every data file in data_dir, file by file in name order."""
    rows: list[Row] = []
    for path in sorted(data_dir.glob("*.tsv")):
        rows.extend(parse(path.stem, path.read_text(encoding="utf-8")))
    return rows


def problems(rows: Iterable[Row]) -> list[str]:
    """What is wrong with rows, each as a sentence; empty when nothing is.

    Checks each row on its own (kind, state, reason, citations, the kind
    of its file) and that no name appears twice among rows of a kind.
    """
    found = []
    seen: Counter[tuple[str, str]] = Counter()
    for row in rows:
        where = f"{row.domain}.tsv: {row.name or '(no name)'}"
        seen[(row.kind, row.name)] += 1
        if not re.fullmatch(r"[A-Z]\w*", row.name):
            found.append(f"{where}: the name is not an RPC name")
        if row.kind not in KINDS:
            found.append(f"{where}: kind {row.kind!r} is not one of {', '.join(KINDS)}")
        elif (row.kind == "hook") != (row.domain == HOOKS_DOMAIN):
            found.append(f"{where}: a {row.kind} in {row.domain}.tsv")
        if row.state not in STATES:
            found.append(f"{where}: state {row.state!r} is not one of {', '.join(STATES)}")
        if row.state in NEEDS_REASON and not row.reason:
            found.append(f"{where}: state {row.state} needs a reason")
        if row.state in NEEDS_CITATION and not row.citations:
            found.append(f"{where}: state {row.state} needs an upstream citation")
        for citation in row.citations:
            if not CITATION.fullmatch(citation):
                found.append(f"{where}: {citation!r} is not path@commit:Function")
    for (kind, name), count in sorted(seen.items()):
        if count > 1:
            found.append(f"{kind} {name}: {count} rows")
    return found


def _cell(text: str) -> str:
    """A table cell: pipes escaped, empty as an em dash."""
    return text.replace("|", "\\|") if text else "—"


def _citations(row: Row) -> str:
    return "<br>".join(f"`{c}`" for c in row.citations) or "—"


PREFACE = f"""\
<!-- Generated by tools/codegen/fidelity.py from docs/fidelity/*.tsv (make generate).
Edit the data files, not this page. -->
# Fidelity to upstream

One row per method of the PluginAPI service and per hook of the PluginHooks
service: what Mattermost itself does on the path a plugin's call takes, and
what the reference backend does. The plugin path is the **app layer**:
upstream's `server/channels/app/plugin_api.go` calls the `App` methods
directly and skips the REST handlers' checks (`server/channels/api4`), so
the app layer, not the REST API, is what the backend follows.

Columns (those of the data files, `docs/fidelity/<domain>.tsv`, one per
proto file of the contract and `hooks.tsv`, tab-separated with a header):

- **kind**: `method` or `hook`; **name**: the RPC or hook, as in the contract.
- **upstream**: the functions the plugin path reaches, as
  `path@commit:Function` in [mattermost/mattermost]({UPSTREAM_URL}).
- **checks**: upstream's checks and error ids on that path, in order.
- **backend**: what the reference backend does.
- **state**: `same` (the backend follows upstream), `differs` (the reason
  says why), `not-modelled` (the backend does not model it; the reason says
  what).
- **reason**: why a row differs or is not modelled. A row whose reason
  says "{GAP}" has a known gap, not only decisions: the summary
  counts those rows apart, in the **gaps** column.

`python-sdk/tests/api/test_fidelity.py` checks that every RPC and hook has
exactly one row, in the file of its domain, and that each row is well formed.
"""


def _counts(rows: Iterable[Row]) -> Counter[str]:
    """The rows by state, and the rows with a known gap as "gaps"."""
    counts: Counter[str] = Counter()
    for row in rows:
        counts[row.state] += 1
        if row.state == "differs" and GAP in row.reason:
            counts["gaps"] += 1
    return counts


def render(rows: Iterable[Row]) -> str:
    """The page: the preface, the counts, then one table per domain.

    Domains come in name order with the hooks last, rows in name order:
    the page depends only on the rows, not on their order.
    """
    by_domain: dict[str, list[Row]] = {}
    for row in rows:
        by_domain.setdefault(row.domain, []).append(row)
    domains = sorted(by_domain, key=lambda d: (d == HOOKS_DOMAIN, d))

    out = [PREFACE, "## Summary", ""]
    total: Counter[str] = Counter()
    for domain_rows in by_domain.values():
        total.update(_counts(domain_rows))
    all_rows = sum(total[s] for s in STATES)
    out.append(
        f"{all_rows} rows: "
        + ", ".join(f"{total[s]} {s}" for s in STATES)
        + f"; {total['gaps']} of the differences have a known gap."
    )
    columns = (*STATES, "gaps")
    out += ["", "| domain | rows | " + " | ".join(columns) + " |"]
    out.append("| --- | ---: |" + " ---: |" * len(columns))
    for domain in domains:
        counts = _counts(by_domain[domain])
        cells = " | ".join(str(counts[c]) for c in columns)
        out.append(f"| [{domain}](#{domain}) | {len(by_domain[domain])} | {cells} |")
    cells = " | ".join(str(total[c]) for c in columns)
    out.append(f"| **total** | {all_rows} | {cells} |")

    for domain in domains:
        source = "hooks.proto" if domain == HOOKS_DOMAIN else f"{domain}.proto"
        out += ["", f"## {domain}", "", f"Data: `docs/fidelity/{domain}.tsv` ({source})."]
        out += ["", "| name | state | upstream | checks | backend | reason |"]
        out.append("| --- | --- | --- | --- | --- | --- |")
        for row in sorted(by_domain[domain], key=lambda r: r.name):
            fields = [
                f"`{row.name}`",
                row.state,
                _citations(row),
                _cell(row.checks),
                _cell(row.backend),
                _cell(row.reason),
            ]
            out.append("| " + " | ".join(fields) + " |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Check the data files and write the page; 1 with the problems on stderr if any."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="the data files' directory")
    parser.add_argument("--out", type=Path, default=DOC, help="the page to write")
    args = parser.parse_args(argv)
    try:
        rows = read(args.data)
    except FidelityError as e:
        print(f"fidelity: {e}", file=sys.stderr)
        return 1
    found = problems(rows)
    if found:
        print("fidelity: the data files have problems:", *found, sep="\n  ", file=sys.stderr)
        return 1
    args.out.write_text(render(rows), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
