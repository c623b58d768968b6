package bazelcheck

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bazelbuild/buildtools/build"
)

// buildFileName is the only BUILD file name this repository uses.
const buildFileName = "BUILD.bazel"

// Workspace is the parsed Bazel view of a source tree.
type Workspace struct {
	// Root is the directory of MODULE.bazel.
	Root string
	// Packages maps a package path ("" for the root) to its package.
	Packages map[string]*Package
	// Bzl maps the repository path of every .bzl file to its syntax tree.
	Bzl map[string]*build.File
	// Module is the parsed MODULE.bazel.
	Module *build.File
	// Files lists every source file, by repository path, outside ignored
	// directories.
	Files   []string
	ignored []string
}

// Package is one BUILD.bazel file and what it declares.
type Package struct {
	// Path is the package path, such as "python-sdk/tests".
	Path string
	// File is the parsed BUILD.bazel.
	File *build.File
	// Targets holds the names of the rules, macros and declared outputs.
	Targets map[string]bool
}

// Load parses the workspace rooted at root.
func Load(root string) (*Workspace, error) {
	ws := &Workspace{Root: root, Packages: map[string]*Package{}, Bzl: map[string]*build.File{}}
	var err error
	if ws.ignored, err = readBazelignore(root); err != nil {
		return nil, err
	}
	moduleData, err := os.ReadFile(filepath.Join(root, "MODULE.bazel"))
	if err != nil {
		return nil, fmt.Errorf("bazelcheck: read MODULE.bazel: %w", err)
	}
	if ws.Module, err = build.ParseModule("MODULE.bazel", moduleData); err != nil {
		return nil, fmt.Errorf("bazelcheck: %w", err)
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && ws.isIgnored(rel) {
				return filepath.SkipDir
			}
			return nil
		}
		ws.Files = append(ws.Files, rel)
		switch {
		case d.Name() == buildFileName:
			return ws.addPackage(rel)
		case strings.HasSuffix(rel, ".bzl"):
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			f, err := build.ParseBzl(rel, data)
			if err != nil {
				return fmt.Errorf("bazelcheck: %w", err)
			}
			ws.Bzl[rel] = f
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bazelcheck: walk %s: %w", root, err)
	}
	sort.Strings(ws.Files)
	return ws, nil
}

func (ws *Workspace) addPackage(rel string) error {
	data, err := os.ReadFile(filepath.Join(ws.Root, rel))
	if err != nil {
		return err
	}
	f, err := build.ParseBuild(rel, data)
	if err != nil {
		return fmt.Errorf("bazelcheck: %w", err)
	}
	pkg := path.Dir(rel)
	if pkg == "." {
		pkg = ""
	}
	p := &Package{Path: pkg, File: f, Targets: map[string]bool{}}
	for _, r := range f.Rules("") {
		if name := r.Name(); name != "" {
			p.Targets[name] = true
		}
		for _, attr := range []string{"outs", "out"} {
			for _, out := range stringsOf(f, r.Attr(attr)) {
				p.Targets[out] = true
			}
		}
	}
	ws.Packages[pkg] = p
	return nil
}

func readBazelignore(root string) ([]string, error) {
	// No check looks into these, beside what .bazelignore names.
	ignored := []string{".git", "__pycache__"}
	f, err := os.Open(filepath.Join(root, ".bazelignore"))
	if os.IsNotExist(err) {
		return ignored, nil
	}
	if err != nil {
		return nil, fmt.Errorf("bazelcheck: %w", err)
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			ignored = append(ignored, strings.TrimSuffix(line, "/"))
		}
	}
	return ignored, scanner.Err()
}

// isIgnored reports whether the directory rel is out of the build.
func (ws *Workspace) isIgnored(rel string) bool {
	base := path.Base(rel)
	for _, ig := range ws.ignored {
		if rel == ig || base == ig && !strings.Contains(ig, "/") {
			return true
		}
	}
	return strings.HasSuffix(base, ".egg-info")
}

// packageOf returns the package that contains the repository path p: the
// nearest ancestor directory with a BUILD.bazel.
func (ws *Workspace) packageOf(p string) (*Package, bool) {
	dir := path.Dir(p)
	for {
		if dir == "." {
			dir = ""
		}
		if pkg, ok := ws.Packages[dir]; ok {
			return pkg, true
		}
		if dir == "" {
			return nil, false
		}
		dir = path.Dir(dir)
	}
}

// fileExists reports whether the repository path p is a source file.
func (ws *Workspace) fileExists(p string) bool {
	i := sort.SearchStrings(ws.Files, p)
	return i < len(ws.Files) && ws.Files[i] == p
}

// hasPackageUnder reports whether dir, or a directory under it, is a
// package.
func (ws *Workspace) hasPackageUnder(dir string) bool {
	for p := range ws.Packages {
		if dir == "" || p == dir || strings.HasPrefix(p, dir+"/") {
			return true
		}
	}
	return false
}
