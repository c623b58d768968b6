"""API parity with the upstream Go Plugin API, read from the committed inventory.

server/public/pluginapi/grpc/proto/upstream-plugin-api.tsv lists every
upstream method (tools/parity/import_inventory.py wrote it once from the
reference inventory). A method counts as covered when it has an RPC in the
contract, a Client method, an AsyncClient coroutine and end-to-end tests of
both its success path (a call outside ``pytest.raises``) and a failure path
(a call inside ``pytest.raises``) in this directory's test modules, which
run every ``api`` scenario through both clients.

Every method of an area in COVERED_AREAS must be covered. The run's summary
prints the coverage per area and in total, as "API parity: N/M".

The README's counts of methods and hooks, and its table of methods per
area, are checked against the inventory: a method or hook added to the
inventory fails test_readme_counts until the README says so.
"""

from __future__ import annotations

import ast
import csv
import inspect
import itertools
import os
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import mattermost_plugin as mp
from mattermost_plugin.grpc import api_pb2

from conftest import PARITY_REPORT

sys.path.insert(0, str(Path(os.path.abspath(__file__)).parents[2] / "scripts"))
from generate_clients import snake_case

sys.path.insert(0, str(Path(os.path.abspath(__file__)).parents[3] / "tools" / "codegen"))
import fidelity

HERE = Path(os.path.abspath(__file__)).parent
#: tests/: every subdirectory's test modules are scanned for client calls.
TESTS = HERE.parent
INVENTORY = HERE.parents[2] / "server/public/pluginapi/grpc/proto/upstream-plugin-api.tsv"
README = HERE.parents[2] / "README.md"

#: Areas whose every method must be covered. An area joins when it is done.
COVERED_AREAS = frozenset(
    {
        "KV store",
        "OAuth",
        "SharedChannels",
        "access control",
        "bots",
        "channel sidebar",
        "channels",
        "cluster",
        "commands",
        "emoji",
        "files",
        "frontend/websocket",
        "groups",
        "logging/audit",
        "notifications",
        "permissions",
        "plugin",
        "posts",
        "properties",
        "preferences",
        "reactions",
        "server/config",
        "sessions",
        "teams",
        "users",
    }
)

#: The document whose table lists the methods of features that are off.
FEATURE_OFF_DOC = HERE.parents[2] / "docs/reference-backend.md"

#: Methods that have no failure path to test, and why. Their success test
#: still counts.
NO_FAILURE_PATH = {
    "KVDeleteAll": "takes no input, and deleting nothing succeeds",
    "KVGet": "upstream's store looks any key up; one that cannot be stored is a miss (None)",
    "KVDelete": "deleting any key, stored or not, succeeds, as PlatformService.DeletePluginKey",
    "GetChannelMembersByIds": "ids that are not members are left out, as the store does",
    "SearchChannels": "every term is valid; an unknown team has no channels, as in the store",
    "GetPostsSince": "an unknown channel has no posts, as the store's GetPostsSince",
    "GetTeams": "takes no input",
    "SearchTeams": "every term is valid; one that matches nothing gives []",
    "GetTeamStats": "no team lookup: an unknown team has zero counts, as App.GetTeamStats",
    "GetTeamsForUser": "no user lookup: an unknown user has no teams, as GetTeamsByUserId",
    "GetTeamsUnreadForUser": "no user lookup: an unknown user has none, as upstream's app",
    "GetChannelSidebarCategories": "no lookup: a non-member has no categories, as the store's"
    " getSidebarCategoriesT joins the team and the membership",
    "CreateTeamMembersGracefully": "each user's failure (a missing team too) is in the answer",
    "GetUsersByIds": "unknown ids are skipped, as upstream skips them",
    "GetUsersByUsernames": "unknown names are skipped, as upstream skips them",
    "GetUserStatusesByIds": "any id without a status is reported offline, as upstream",
    "GetPreferencesForUser": "no id check: an id without preferences has none, as the store",
    "GetReactions": "no post id check: a post without reactions has none, as the store",
    "GetChannelStats": "PluginAPI.GetChannelStats looks no channel up: an unknown one counts 0",
    "PermanentDeleteBot": "the store deletes by id: an unknown one is no error, as upstream",
    "GetServerVersion": "takes no input",
    "LogDebug": "any message and fields are logged; upstream reports no error",
    "LogInfo": "any message and fields are logged; upstream reports no error",
    "LogWarn": "any message and fields are logged; upstream reports no error",
    "LogError": "any message and fields are logged; upstream reports no error",
    "ListBuiltInCommands": "takes no input",
    "ListCommands": "any team id is listed; an unknown one has the plugin and built-in commands"
    " only, as PluginAPI.ListCommands",
    "ListCustomCommands": "any team id is looked up; an unknown one has none,"
    " as SqlCommandStore.GetByTeam",
    "ListPluginCommands": "any team id is looked up; an unknown one has the commands of every"
    " team, as App.PluginCommandsForTeam",
    "UnregisterCommand": "App.UnregisterPluginCommand returns nothing: any team and trigger,"
    " registered or not, succeeds",
    "DeleteCommand": "SqlCommandStore.Delete updates the row with that id, if any, and never fails",
    "RegisterCollectionAndTopic": "no longer supported upstream:"
    " PluginAPI.RegisterCollectionAndTopic returns nil",
    "GetConfig": "takes no input",
    "GetUnsanitizedConfig": "takes no input",
    "GetLicense": "takes no input; a server without a license answers None",
    "IsEnterpriseReady": "takes no input",
    "GetSystemInstallDate": "takes no input",
    "GetDiagnosticId": "takes no input",
    "GetTelemetryId": "takes no input",
    "GetCloudLimits": "takes no input; a self-hosted server has no limits",
    "GetPluginConfig": "takes no input",
    "GetBundlePath": "takes no input",
    "GetPlugins": "takes no input",
    "GetPluginID": "takes no input",
    "PublishPluginClusterEvent": "one node has no peers: upstream returns nil without a cluster",
    "PublishUserTyping": "App.PublishUserTyping checks no id, looks nothing up and returns nil",
    "UnregisterPluginForSharedChannels": "App.UnregisterPluginForSharedChannels deletes the"
    " plugin's remotes, if any: any plugin id, an empty one too, succeeds",
    "SendPushNotification": "App.sendPushNotificationToAllSessions looks no user up and fails"
    " only on a nil notification, which the SDK cannot send",
    "CountPropertyFields": "the store counts any group id; an unknown one has 0 fields",
    "CountPropertyFieldsForTarget": "the store counts any group and target; unknown ones have"
    " 0 fields",
    "DeletePropertyValuesForField": "SqlPropertyValueStore.DeleteForField looks no field up and"
    " checks no id: an unknown field has no values to delete",
    "DeleteGroupConstrainedMemberships": "takes no input",
    "GetGroupsBySource": "any source is looked up; an unknown one has no groups,"
    " as SqlGroupStore.GetAllBySource",
    "GetGroupsForUser": "no user lookup or id check: an unknown user has no groups,"
    " as SqlGroupStore.GetByUser",
    "GetGroupSyncables": "no group lookup: an unknown group or type has no links,"
    " as SqlGroupStore.GetAllGroupSyncablesByGroupId",
    "HasPermissionTo": "App.HasPermissionTo answers false for any user or permission,"
    " an empty one included",
    "HasPermissionToTeam": "App.HasPermissionToTeam answers false for any user, team or"
    " permission, an empty one included",
    "HasPermissionToChannel": "App.HasPermissionToChannel answers false for any user,"
    " channel or permission, an empty one included",
    "RolesGrantPermission": "App.RolesGrantPermission answers false for unknown roles and"
    " an empty permission",
    "LogAuditRec": "upstream returns nothing: App.LogAuditRecWithLevel writes any record",
    "LogAuditRecWithLevel": "upstream returns nothing: App.LogAuditRecWithLevel writes any"
    " record at any level",
}


def inventory(kind: str = "api") -> list[dict[str, str]]:
    """The upstream methods (or, with kind "hook", hooks) of the committed
    inventory.

    The path is relative to this file, which holds in a checkout and in a
    Bazel test's runfiles tree alike.
    """
    with INVENTORY.open(newline="", encoding="utf-8") as f:
        return [row for row in csv.DictReader(f, delimiter="\t") if row["kind"] == kind]


def not_modelled() -> set[str]:
    """The methods whose row in the fidelity table (docs/fidelity/*.tsv) is
    not-modelled: their success path needs server state that the backend
    does not model, so their test of the error stands in for a success test.
    test_fidelity checks that these are the feature-off table's methods.
    """
    return {r.name for r in fidelity.read() if r.kind == "method" and r.state == "not-modelled"}


def feature_off() -> set[str]:
    """The methods that docs/reference-backend.md lists as features that are off.

    Their success path needs server state that the backend does not model;
    their test of the feature-off error stands in for it.
    """
    text = FEATURE_OFF_DOC.read_text(encoding="utf-8")
    table = text.split("## Features that are off", 1)[1]
    return {
        line.split("|")[1].strip()
        for line in table.splitlines()
        if line.startswith("| ") and not line.startswith(("| method", "| ---"))
    }


@dataclass
class Calls:
    """The test functions that call one client method, by outcome."""

    succeeding: set[str] = field(default_factory=set)
    failing: set[str] = field(default_factory=set)


def raises_block(node: ast.With) -> bool:
    """Whether a with statement is ``with pytest.raises(...)``."""
    for item in node.items:
        call = item.context_expr
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "raises"
        ):
            return True
    return False


def is_client_name(name: str) -> bool:
    """Whether a name holds a two-client fixture's client: api, or emoji_api and the like."""
    return name == "api" or name.endswith("_api")


def e2e_calls() -> dict[str, Calls]:
    """Every ``api.<method>(...)`` call in the test modules, by method.

    Only functions with a parameter named ``api`` or ``<something>_api`` are
    read: the tests that take a two-client fixture, and helpers such as
    ``make_team(api, ...)``.
    """
    calls: dict[str, Calls] = defaultdict(Calls)

    def visit(node: ast.AST, test: str, failing: bool) -> None:
        if isinstance(node, ast.With) and raises_block(node):
            failing = True
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and is_client_name(node.func.value.id)
        ):
            entry = calls[node.func.attr]
            (entry.failing if failing else entry.succeeding).add(test)
        for child in ast.iter_child_nodes(node):
            visit(child, test, failing)

    for module in sorted(TESTS.rglob("test_*.py")):
        tree = ast.parse(module.read_text(encoding="utf-8"), filename=str(module))
        for node in tree.body:
            # Tests, and the helpers they share, take the client as "api".
            if isinstance(node, ast.FunctionDef) and any(
                is_client_name(a.arg) for a in node.args.args
            ):
                visit(node, f"{module.stem}::{node.name}", False)
    return calls


def gaps(name: str, rpcs: set[str], calls: dict[str, Calls]) -> list[str]:
    """What one upstream method lacks; empty when it is covered."""
    method = snake_case(name)
    missing = []
    if name not in rpcs:
        missing.append("RPC")
    if not callable(getattr(mp.Client, method, None)):
        missing.append("Client method")
    if not inspect.iscoroutinefunction(getattr(mp.AsyncClient, method, None)):
        missing.append("AsyncClient method")
    if not calls[method].succeeding and name not in not_modelled():
        missing.append("success test")
    if not calls[method].failing and name not in NO_FAILURE_PATH:
        missing.append("failure test")
    return missing


def test_parity(request: pytest.FixtureRequest) -> None:
    rows = inventory()
    assert rows, f"{INVENTORY} lists no methods"
    names = [row["name"] for row in rows]
    assert len(set(names)) == len(names), "the inventory lists a method twice"
    rpcs = {m.name for m in api_pb2.DESCRIPTOR.services_by_name["PluginAPI"].methods}
    calls = e2e_calls()
    by_area: dict[str, list[tuple[str, list[str]]]] = defaultdict(list)
    for row in rows:
        by_area[row["area"]].append((row["name"], gaps(row["name"], rpcs, calls)))

    unknown = COVERED_AREAS - by_area.keys()
    assert not unknown, f"COVERED_AREAS names areas the inventory lacks: {sorted(unknown)}"
    covered = sum(1 for methods in by_area.values() for _, missing in methods if not missing)
    report = [f"API parity: {covered}/{len(rows)} methods covered"]
    for area in sorted(by_area):
        done = sum(1 for _, missing in by_area[area] if not missing)
        mark = "covered" if area in COVERED_AREAS else "not yet covered"
        report.append(f"  {area:<20} {done:>3}/{len(by_area[area]):<3} {mark}")
    request.config.stash[PARITY_REPORT] = report

    problems = [
        f"{name}: no {', no '.join(missing)}"
        for area in sorted(COVERED_AREAS)
        for name, missing in by_area[area]
        if missing
    ]
    assert not problems, "methods of covered areas lack parts:\n" + "\n".join(problems)
    extra = rpcs - {row["name"] for row in rows}
    assert not extra, f"RPCs with no upstream method: {sorted(extra)}"


def test_feature_off_methods_are_upstream_and_fail() -> None:
    """Every documented feature-off method is upstream and has its failure test."""
    names = {row["name"] for row in inventory()}
    calls = e2e_calls()
    off = feature_off()
    assert off, "the feature-off table is empty or unreadable"
    assert off <= names
    for name in off:
        assert calls[snake_case(name)].failing, f"{name}: no test of its feature-off error"
        assert not calls[snake_case(name)].succeeding, f"{name}: documented off, yet it succeeds"


def test_e2e_scan_sees_both_outcomes() -> None:
    """The scanner tells a success call from a failure call."""
    calls = e2e_calls()
    assert "test_teams::test_get_team_not_found" in calls["get_team"].failing
    assert "test_teams::test_create_and_get_team" in calls["get_team"].succeeding


def readme_numbers(pattern: str) -> list[int]:
    """The numbers that pattern's first group matches in the README; the
    test fails if it matches nowhere, so that a reworded sentence is not
    silently left unchecked."""
    found = [
        int(m.replace(",", "")) for m in re.findall(pattern, README.read_text(encoding="utf-8"))
    ]
    assert found, f"README.md has no match of {pattern!r}"
    return found


def test_readme_counts() -> None:
    methods = len(inventory())
    # Implemented is how the server learns a plugin's hooks, not a hook.
    hooks = len([row for row in inventory("hook") if row["name"] != "Implemented"])
    want = {
        r"measured against the (\d+) upstream methods": methods,
        r"API parity: (\d+)/\d+ methods covered": methods,
        r"API parity: \d+/(\d+) methods covered": methods,
        r"\| \*\*all\*\* \| \*\*(\d+)\*\* \|": methods,
        r"Every one of the (\d+) PluginAPI RPCs": methods,
        # Each RPC is called with no token, a wrong token and another
        # server's token.
        r"\(([\d,]+) calls\)": 3 * methods,
        r"The contract has (\d+) hooks": hooks,
    }
    wrong = [
        f"{pattern}: {got}, want {n}"
        for pattern, n in want.items()
        for got in readme_numbers(pattern)
        if got != n
    ]
    assert not wrong, "README.md's counts differ from the inventory:\n" + "\n".join(wrong)


def test_readme_area_table() -> None:
    """The README's table of methods per area is the inventory's."""
    lines = [line.strip() for line in README.read_text(encoding="utf-8").splitlines()]
    header = "| area | methods | area | methods |"
    assert header in lines, f"README.md has no table headed {header}"
    table: dict[str, int] = {}
    for line in itertools.takewhile(
        lambda line: line.startswith("|"), lines[lines.index(header) + 2 :]
    ):
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        for area, count in zip(cells[::2], cells[1::2]):
            if area and area != "**all**":
                table[area] = int(count)
    want = Counter(row["area"] for row in inventory())
    assert table == dict(want), (
        f"README.md's table of methods per area is {table}; the inventory has {dict(want)}"
    )
