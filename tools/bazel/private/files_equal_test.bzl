"""The files_equal_test macro: a diff_test per pair of files, in one suite."""

load("@bazel_skylib//rules:diff_test.bzl", "diff_test")

def files_equal_test(name, pairs, **kwargs):
    """Tests that each generated file equals its committed twin.

    Args:
        name: Name of the test_suite that holds one diff_test per pair.
        pairs: Dict from the label of a committed file to the label of the
            file that must equal it.
        **kwargs: Common test attributes for every diff_test.
    """
    tests = []
    for committed, generated in pairs.items():
        test_name = "%s_%s" % (name, committed.rsplit(":", 1)[-1].replace("/", "_").replace(".", "_"))
        diff_test(
            name = test_name,
            file1 = committed,
            file2 = generated,
            **kwargs
        )
        tests.append(":" + test_name)
    native.test_suite(
        name = name,
        tests = tests,
    )
