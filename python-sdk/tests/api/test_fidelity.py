"""The fidelity table's data files, docs/fidelity/*.tsv, against the contract.

Every RPC of the PluginAPI service has exactly one row, in the data file of
the proto file that defines its messages (channels.tsv for channels.proto);
every hook of the PluginHooks service has one in hooks.tsv; no row names
anything else. Each row is well formed (tools/codegen/fidelity.py's checks:
states, reasons, ``path@commit:Function`` citations), and the methods of
docs/reference-backend.md's feature-off table are not-modelled.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from mattermost_plugin.grpc import api_pb2, hooks_pb2

HERE = Path(os.path.abspath(__file__)).parent
REPO = HERE.parents[2]
sys.path.insert(0, str(REPO / "tools" / "codegen"))
import fidelity  # noqa: E402
from test_parity import feature_off, inventory, not_modelled  # noqa: E402

#: RPCs of the hooks service that are not hooks (as generate_hooks.py's NOT_HOOKS).
NOT_HOOKS = {"Implemented"}


def contract() -> dict[tuple[str, str], str]:
    """Every method and hook of the contract, as (kind, name), with its domain."""
    want = {}
    for m in api_pb2.DESCRIPTOR.services_by_name["PluginAPI"].methods:
        domain = Path(m.input_type.file.name).stem
        want[("method", m.name)] = domain
    for m in hooks_pb2.DESCRIPTOR.services_by_name["PluginHooks"].methods:
        if m.name not in NOT_HOOKS:
            want[("hook", m.name)] = fidelity.HOOKS_DOMAIN
    return want


def coverage(rows: list[fidelity.Row], want: dict[tuple[str, str], str]) -> list[str]:
    """How rows fail to hold each of want's entries once, in its domain's file."""
    found = []
    got: dict[tuple[str, str], list[str]] = {}
    for row in rows:
        got.setdefault((row.kind, row.name), []).append(row.domain)
    for key, domain in sorted(want.items()):
        domains = got.get(key, [])
        if len(domains) != 1:
            found.append(f"{key[0]} {key[1]}: {len(domains)} rows, want 1")
        elif domains[0] != domain:
            found.append(f"{key[0]} {key[1]}: in {domains[0]}.tsv, want {domain}.tsv")
    for key in sorted(got.keys() - want.keys()):
        found.append(f"{key[0]} {key[1]}: not in the contract")
    return found


def test_every_method_and_hook_has_one_row() -> None:
    want = contract()
    # As many methods as upstream's API has (the inventory's count, not one
    # written here by hand).
    assert len([k for k in want if k[0] == "method"]) == len(inventory())
    assert coverage(fidelity.read(), want) == []


def test_rows_are_well_formed() -> None:
    assert fidelity.problems(fidelity.read()) == []


def test_feature_off_methods_are_not_modelled() -> None:
    """docs/reference-backend.md's feature-off table lists exactly the
    not-modelled methods, which test_parity exempts from a success test."""
    off = feature_off()
    assert off, "the feature-off table is empty or unreadable"
    states = {r.name: r.state for r in fidelity.read() if r.kind == "method"}
    assert {name: states.get(name) for name in off} == dict.fromkeys(off, "not-modelled")
    assert not_modelled() == off


def test_the_summary_counts_known_gaps_apart() -> None:
    gap = GOOD.replace("same\t", "differs\tan id of its own; not yet aligned: upstream refuses it")
    chosen = GOOD.replace("GetPost", "GetPosts").replace(
        "same\t", "differs\tthe contract refuses it"
    )
    page = fidelity.render(rows(gap, chosen))
    assert (
        "2 rows: 0 same, 2 differs, 0 not-modelled; 1 of the differences have a known gap." in page
    )
    assert "| [posts](#posts) | 2 | 0 | 2 | 0 | 1 |" in page


def test_the_page_is_current() -> None:
    """docs/fidelity.md is what the generator renders (make check-generated checks it too)."""
    page = (REPO / "docs" / "fidelity.md").read_text(encoding="utf-8")
    assert page == fidelity.render(fidelity.read())


HEADER = "\t".join(fidelity.COLUMNS)
GOOD = "method\tGetPost\tserver/channels/app/plugin_api.go@f56166d6:PluginAPI.GetPost\t\t\tsame\t"


def rows(*lines: str, domain: str = "posts") -> list[fidelity.Row]:
    return fidelity.parse(domain, "\n".join([HEADER, *lines]) + "\n")


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("method\tGetPost\t\t\t\tsame\t", "state same needs an upstream citation"),
        ("method\tGetPost\t\t\t\tdiffers\twhy", "state differs needs an upstream citation"),
        ("method\tGetPost\t\t\t\tnot-modelled\t", "state not-modelled needs a reason"),
        (
            "method\tGetPost\t\t\t\tnot-modelled\toff",
            "state not-modelled needs an upstream citation",
        ),
        (GOOD.replace("same", "unchecked"), "state 'unchecked' is not one of"),
        (GOOD.replace("same\t", "differs\t"), "state differs needs a reason"),
        (GOOD.replace("same", "fine"), "state 'fine' is not one of"),
        (GOOD.replace("method", "api"), "kind 'api' is not one of"),
        (GOOD.replace("method", "hook"), "a hook in posts.tsv"),
        (GOOD.replace("GetPost\t", "getPost\t"), "the name is not an RPC name"),
        (GOOD.replace("@f56166d6", ""), "is not path@commit:Function"),
        (GOOD.replace("@f56166d6", "@f561"), "is not path@commit:Function"),
        (GOOD.replace("@f56166d6", "@F56166D6"), "is not path@commit:Function"),
        (GOOD.replace(":PluginAPI.GetPost", ""), "is not path@commit:Function"),
        (GOOD.replace("go@", "go @"), "is not path@commit:Function"),
        (GOOD.replace(".GetPost\t", ".GetPost; \t"), "GetPost;' is not path"),
        (GOOD.replace(".GetPost\t", ".GetPost;x.go@0123456:F\t"), "is not path@commit:Function"),
        (GOOD.replace(".GetPost\t", ".GetPost;  x.go@0123456:F\t"), "' x.go@0123456:F' is not"),
    ],
)
def test_a_malformed_row_is_a_problem(line: str, problem: str) -> None:
    found = fidelity.problems(rows(line))
    assert any(problem in p for p in found), found


def test_a_good_row_has_no_problem() -> None:
    two = GOOD.replace(":PluginAPI.GetPost", ":PluginAPI.GetPost; x/y_z.go@0123456789:App.Get")
    assert fidelity.problems(rows(GOOD, two.replace("GetPost\t", "GetPosts\t"))) == []
    off = GOOD.replace("same\t", "not-modelled\tthe feature is off")
    assert fidelity.problems(rows(off)) == []


def test_a_duplicated_row_is_a_problem() -> None:
    found = fidelity.problems(rows(GOOD) + rows(GOOD, domain="channels"))
    assert "method GetPost: 2 rows" in found


@pytest.mark.parametrize(
    "text",
    [
        "",
        "kind\tname\n",
        HEADER.replace("state", "status") + "\n",
        HEADER + "\nmethod\tGetPost\tsame\n",
        HEADER + "\n" + GOOD + "\textra\n",
    ],
)
def test_a_malformed_file_is_refused(text: str) -> None:
    with pytest.raises(fidelity.FidelityError):
        fidelity.parse("posts", text)


def test_coverage_finds_missing_duplicated_misplaced_and_unknown_rows() -> None:
    want = {("method", "GetPost"): "posts", ("method", "GetChannel"): "channels"}
    channel = rows(GOOD.replace("GetPost", "GetChannel"), domain="channels")
    assert coverage(rows(GOOD) + channel, want) == []
    assert coverage(rows(GOOD), want) == ["method GetChannel: 0 rows, want 1"]
    assert "method GetPost: 2 rows, want 1" in coverage(rows(GOOD, GOOD), want)
    misplaced = rows(GOOD, GOOD.replace("GetPost", "GetChannel"))
    assert coverage(misplaced, want) == ["method GetChannel: in posts.tsv, want channels.tsv"]
    extra = rows(GOOD, GOOD.replace("GetPost", "GetNothing")) + rows(
        GOOD.replace("GetPost", "GetChannel"), domain="channels"
    )
    assert coverage(extra, want) == ["method GetNothing: not in the contract"]


def test_render_is_deterministic() -> None:
    hook = "hook\tOnActivate\tx.go@0123456:F\t\t\tnot-modelled\tnot here"
    data = rows(GOOD, GOOD.replace("GetPost", "CreatePost")) + rows(hook, domain="hooks")
    page = fidelity.render(data)
    assert page == fidelity.render(list(reversed(data)))
    assert page.index("## posts") < page.index("## hooks")
    assert page.index("`CreatePost`") < page.index("`GetPost`")
    assert (
        "3 rows: 2 same, 0 differs, 1 not-modelled; 0 of the differences have a known gap." in page
    )
