"""Tests of pytest_main.py: the Bazel test protocol, run for real."""

# ruff: noqa: D103 - test names say what they test

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

MAIN = Path(os.path.abspath(__file__)).parent / "pytest_main.py"

TESTS = """
def test_one(): pass
def test_two(): pass
def test_three(): pass
def test_four(): pass
def test_five(): pass
"""


def run_main(tmp_path: Path, env: dict[str, str], source: str = TESTS) -> tuple[int, set[str]]:
    test_file = tmp_path / "test_sample.py"
    test_file.write_text(source)
    config = tmp_path / "pytest.ini"
    config.write_text("[pytest]\n")
    xml = tmp_path / f"report-{len(list(tmp_path.glob('report-*')))}.xml"
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "TESTBRIDGE"))}
    full_env.update({"XML_OUTPUT_FILE": str(xml), "TEST_TARGET": "//x:test_sample", **env})
    result = subprocess.run(
        [sys.executable, str(MAIN), f"--config={config}", str(test_file)],
        env=full_env,
        capture_output=True,
        text=True,
        check=False,
    )
    ran: set[str] = set()
    if xml.exists():
        root = ET.parse(xml).getroot()
        ran = {case.attrib["name"] for case in root.iter("testcase")}
        suite = root.find("testsuite")
        assert suite is not None and suite.attrib["name"] == "//x:test_sample"
    return result.returncode, ran


def test_runs_the_given_file(tmp_path: Path) -> None:
    code, ran = run_main(tmp_path, {})
    assert code == 0
    assert ran == {"test_one", "test_two", "test_three", "test_four", "test_five"}


def test_test_filter(tmp_path: Path) -> None:
    code, ran = run_main(tmp_path, {"TESTBRIDGE_TEST_ONLY": "two or four"})
    assert code == 0 and ran == {"test_two", "test_four"}


def test_shards_split_the_tests(tmp_path: Path) -> None:
    status = tmp_path / "shard_status"
    seen: list[set[str]] = []
    for index in range(3):
        code, ran = run_main(
            tmp_path,
            {
                "TEST_TOTAL_SHARDS": "3",
                "TEST_SHARD_INDEX": str(index),
                "TEST_SHARD_STATUS_FILE": str(status),
            },
        )
        assert code == 0
        seen.append(ran)
    assert status.exists()
    assert [len(s) for s in seen] == [2, 2, 1]
    assert set().union(*seen) == {"test_one", "test_two", "test_three", "test_four", "test_five"}


def test_an_empty_shard_passes(tmp_path: Path) -> None:
    code, _ = run_main(
        tmp_path,
        {"TEST_TOTAL_SHARDS": "4", "TEST_SHARD_INDEX": "3"},
        source="def test_only(): pass\n",
    )
    assert code == 0


def test_no_test_at_all_fails(tmp_path: Path) -> None:
    code, _ = run_main(tmp_path, {}, source="# no tests here\n")
    assert code == 5


def test_a_failing_test_fails(tmp_path: Path) -> None:
    code, _ = run_main(tmp_path, {}, source="def test_bad(): assert False\n")
    assert code == 1


def test_no_files_is_an_error() -> None:
    result = subprocess.run(
        [sys.executable, str(MAIN)], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0 and "no test files" in result.stderr


@pytest.mark.parametrize("arg", ["--config=/x/pyproject.toml"])
def test_pytest_args(arg: str) -> None:
    sys.path.insert(0, str(MAIN.parent))
    from pytest_main import pytest_args

    args = pytest_args([arg, "a_test.py"], {"TESTBRIDGE_TEST_ONLY": "foo"})
    assert args[-1] == "a_test.py"
    assert args[args.index("-c") : args.index("-c") + 2] == ["-c", "/x/pyproject.toml"]
    assert args[args.index("-k") : args.index("-k") + 2] == ["-k", "foo"]
