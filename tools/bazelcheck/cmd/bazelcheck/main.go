// Command bazelcheck checks the repository's Bazel files without Bazel.
//
// Usage:
//
//	bazelcheck [-root DIR] [-native-wheel WHEEL]
//
// It prints one line per problem and exits 1 if there is any. With
// -native-wheel it also compares //python-sdk:wheel, as the BUILD files
// define it, with a wheel built by `python -m build`.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/mattermost/mattermost-plugin-grpc/tools/bazelcheck"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bazelcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	root := fs.String("root", ".", "the workspace root, where MODULE.bazel is")
	wheel := fs.String("native-wheel", "", "a wheel built by `python -m build` to compare with //python-sdk:wheel")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ws, err := bazelcheck.Load(*root)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	problems := bazelcheck.Check(ws)
	if *wheel != "" {
		wheelProblems, err := bazelcheck.CompareWheel(ws, "python-sdk", "wheel", *wheel)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		problems = append(problems, wheelProblems...)
	}
	for _, p := range problems {
		fmt.Fprintln(stdout, p)
	}
	if len(problems) > 0 {
		fmt.Fprintf(stderr, "bazelcheck: %d problem(s)\n", len(problems))
		return 1
	}
	fmt.Fprintf(stdout, "bazelcheck: %d packages, %d .bzl files: no problems\n", len(ws.Packages), len(ws.Bzl))
	return 0
}
