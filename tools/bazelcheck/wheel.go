package bazelcheck

import (
	"archive/zip"
	"bufio"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/bazelbuild/buildtools/build"
	"github.com/bazelbuild/buildtools/labels"
)

// wheelSpec is what a py_wheel target would put into its wheel.
type wheelSpec struct {
	files    map[string]bool // paths inside the wheel
	metadata map[string][]string
}

// CompareWheel compares the py_wheel target name of package pkg, as its
// BUILD attributes define it, with the wheel file at nativeWheel: the
// package files, the core metadata (name, version, summary,
// Requires-Python, Requires-Dist with the extras' requirements, and
// Provides-Extra) and the entry points (console scripts, pytest11, ...)
// must be the same.
func CompareWheel(ws *Workspace, pkg, name, nativeWheel string) ([]Problem, error) {
	spec, err := bazelWheel(ws, pkg, name)
	if err != nil {
		return nil, err
	}
	files, metadata, err := readWheel(nativeWheel)
	if err != nil {
		return nil, err
	}
	buildFile := path.Join(pkg, buildFileName)
	var problems []Problem
	add := func(format string, args ...any) {
		problems = append(problems, Problem{File: buildFile, Message: fmt.Sprintf(format, args...)})
	}
	for _, f := range sortedKeys(spec.files) {
		if !files[f] {
			add("//%s:%s puts %s into the wheel; the native wheel does not have it", pkg, name, f)
		}
	}
	for _, f := range sortedKeys(files) {
		if !spec.files[f] {
			add("the native wheel has %s; //%s:%s does not", f, pkg, name)
		}
	}
	for _, key := range []string{"Name", "Version", "Summary", "License", "Requires-Python", "Requires-Dist", "Provides-Extra", "Classifier", "Project-URL", entryPointsKey} {
		want := normalizeMetadata(key, metadata[key])
		got := normalizeMetadata(key, spec.metadata[key])
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			add("//%s:%s has %s %q; the native wheel has %q", pkg, name, key, got, want)
		}
	}
	return problems, nil
}

func bazelWheel(ws *Workspace, pkg, name string) (*wheelSpec, error) {
	wheel, f, err := findRule(ws, pkg, name, "py_wheel")
	if err != nil {
		return nil, err
	}
	spec := &wheelSpec{files: map[string]bool{}, metadata: map[string][]string{
		"Name":            {wheel.AttrString("distribution")},
		"Version":         {wheel.AttrString("version")},
		"Summary":         {wheel.AttrString("summary")},
		"License":         {wheel.AttrString("license")},
		"Requires-Python": {wheel.AttrString("python_requires")},
		"Requires-Dist":   stringsOf(f, wheel.Attr("requires")),
		"Classifier":      stringsOf(f, wheel.Attr("classifiers")),
		"Project-URL":     projectURLs(f, wheel.Attr("project_urls")),
	}}
	extras := dictOfLists(f, wheel.Attr("extra_requires"))
	for _, extra := range sortedKeys(extras) {
		spec.metadata["Provides-Extra"] = append(spec.metadata["Provides-Extra"], extra)
		for _, req := range extras[extra] {
			spec.metadata["Requires-Dist"] = append(spec.metadata["Requires-Dist"], fmt.Sprintf("%s; extra == %q", req, extra))
		}
	}
	points := dictOfLists(f, wheel.Attr("entry_points"))
	for _, group := range sortedKeys(points) {
		for _, point := range points[group] {
			spec.metadata[entryPointsKey] = append(spec.metadata[entryPointsKey], group+": "+point)
		}
	}
	// The .dist-info files that py_wheel writes: tools/wheelmaker.py
	// adds WHEEL, METADATA and RECORD always, entry_points.txt for entry
	// points and each extra_distinfo_files value under its name
	// (wheelmaker.py:247,347,359,671,678-679@2.3.2).
	for _, name := range []string{"WHEEL", "METADATA", "RECORD"} {
		spec.files[distInfo+name] = true
	}
	if len(points) > 0 {
		spec.files[distInfo+"entry_points.txt"] = true
	}
	if d, ok := wheel.Attr("extra_distinfo_files").(*build.DictExpr); ok {
		for _, kv := range d.List {
			for _, name := range stringsOf(f, kv.Value) {
				spec.files[distInfo+name] = true
			}
		}
	}
	strip := stringsOf(f, wheel.Attr("strip_path_prefixes"))
	for _, dep := range stringsOf(f, wheel.Attr("deps")) {
		l := labels.ParseRelative(dep, pkg)
		pyPackage, pf, err := findRule(ws, l.Package, l.Target, "py_package")
		if err != nil {
			return nil, err
		}
		var prefixes []string
		for _, p := range stringsOf(pf, pyPackage.Attr("packages")) {
			prefixes = append(prefixes, strings.ReplaceAll(p, ".", "/"))
		}
		files := map[string]bool{}
		for _, lib := range stringsOf(pf, pyPackage.Attr("deps")) {
			if err := libraryFiles(ws, l.Package, lib, files, map[string]bool{}); err != nil {
				return nil, err
			}
		}
		for file := range files {
			if !hasAnyPrefix(file, prefixes) {
				continue
			}
			spec.files[stripFirst(file, strip)] = true
		}
	}
	return spec, nil
}

// distInfo stands for a wheel's "<name>-<version>.dist-info/" directory in
// the file lists, so that the two wheels' lists compare.
const distInfo = "{dist-info}/"

// ignoredDistInfo are .dist-info files of setuptools that py_wheel has no
// counterpart for and that no installer reads: top_level.txt, the legacy
// list of top-level packages.
func ignoredDistInfo(name string) bool { return name == "top_level.txt" }

// entryPointsKey holds a wheel's entry points among its metadata, as
// "group: name = object" lines; entry_points.txt, not METADATA, has them.
const entryPointsKey = "Entry-Points"

// dictOfLists reads a dict of string lists, such as py_wheel's
// extra_requires and entry_points.
func dictOfLists(f *build.File, x build.Expr) map[string][]string {
	d, ok := x.(*build.DictExpr)
	if !ok {
		return nil
	}
	out := map[string][]string{}
	for _, kv := range d.List {
		if k := stringsOf(f, kv.Key); len(k) == 1 {
			out[k[0]] = append(out[k[0]], stringsOf(f, kv.Value)...)
		}
	}
	return out
}

// parseEntryPoints reads an entry_points.txt (INI: "[group]" then
// "name = object" lines) as "group: name = object" lines.
func parseEntryPoints(r io.Reader) ([]string, error) {
	var out []string
	group := ""
	scanner := bufio.NewScanner(r)
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			group = strings.TrimSpace(line[1 : len(line)-1])
		default:
			out = append(out, group+": "+line)
		}
	}
	return out, scanner.Err()
}

// projectURLs renders a py_wheel project_urls dict as the Project-URL
// lines of core metadata: "label, url".
func projectURLs(f *build.File, x build.Expr) []string {
	d, ok := x.(*build.DictExpr)
	if !ok {
		return nil
	}
	var out []string
	for _, kv := range d.List {
		k, v := stringsOf(f, kv.Key), stringsOf(f, kv.Value)
		if len(k) == 1 && len(v) == 1 {
			out = append(out, k[0]+", "+v[0])
		}
	}
	return out
}

// libraryFiles adds the files of an in-repository py_library and of its
// in-repository deps, as py_package collects them.
func libraryFiles(ws *Workspace, fromPkg, label string, files, seen map[string]bool) error {
	if _, external := externalRepo(label); external {
		return nil // pip packages: py_package filters them out by path
	}
	l := labels.ParseRelative(label, fromPkg)
	key := l.Package + ":" + l.Target
	if seen[key] {
		return nil
	}
	seen[key] = true
	lib, f, err := findRule(ws, l.Package, l.Target, "py_library")
	if err != nil {
		return err
	}
	for _, attr := range []string{"srcs", "pyi_srcs", "data"} {
		for _, s := range stringsOf(f, lib.Attr(attr)) {
			fl := labels.ParseRelative(s, l.Package)
			files[path.Join(fl.Package, fl.Target)] = true
		}
	}
	for _, dep := range stringsOf(f, lib.Attr("deps")) {
		if err := libraryFiles(ws, l.Package, dep, files, seen); err != nil {
			return err
		}
	}
	return nil
}

func findRule(ws *Workspace, pkg, name, kind string) (*build.Rule, *build.File, error) {
	p, ok := ws.Packages[pkg]
	if !ok {
		return nil, nil, fmt.Errorf("bazelcheck: no package //%s", pkg)
	}
	for _, r := range p.File.Rules(kind) {
		if r.Name() == name {
			return r, p.File, nil
		}
	}
	return nil, nil, fmt.Errorf("bazelcheck: no %s named //%s:%s", kind, pkg, name)
}

func hasAnyPrefix(s string, prefixes []string) bool {
	if len(prefixes) == 0 {
		return true
	}
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// stripFirst strips the first matching prefix, as py_wheel does.
func stripFirst(s string, prefixes []string) string {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p+"/") {
			return strings.TrimPrefix(s, p+"/")
		}
	}
	return s
}

// readWheel returns the package files and the METADATA of a wheel.
func readWheel(name string) (map[string]bool, map[string][]string, error) {
	z, err := zip.OpenReader(name)
	if err != nil {
		return nil, nil, fmt.Errorf("bazelcheck: open wheel: %w", err)
	}
	defer z.Close()
	files := map[string]bool{}
	var metadata map[string][]string
	var entryPoints []string
	for _, f := range z.File {
		dir, rest, _ := strings.Cut(f.Name, "/")
		if strings.HasSuffix(dir, ".dist-info") {
			if !f.FileInfo().IsDir() && !ignoredDistInfo(rest) {
				files[distInfo+rest] = true
			}
			if path.Base(f.Name) == "entry_points.txt" {
				rc, err := f.Open()
				if err != nil {
					return nil, nil, fmt.Errorf("bazelcheck: read entry_points.txt: %w", err)
				}
				points, err := parseEntryPoints(rc)
				rc.Close()
				if err != nil {
					return nil, nil, err
				}
				entryPoints = points
			}
			if path.Base(f.Name) == "METADATA" {
				rc, err := f.Open()
				if err != nil {
					return nil, nil, fmt.Errorf("bazelcheck: read METADATA: %w", err)
				}
				metadata, err = parseMetadata(rc)
				rc.Close()
				if err != nil {
					return nil, nil, err
				}
			}
			continue
		}
		if !f.FileInfo().IsDir() {
			files[f.Name] = true
		}
	}
	if metadata == nil {
		return nil, nil, fmt.Errorf("bazelcheck: %s has no METADATA", name)
	}
	metadata[entryPointsKey] = entryPoints
	// setuptools writes the SPDX expression of PEP 639 as
	// License-Expression; py_wheel's license attribute becomes License.
	if expr, ok := metadata["License-Expression"]; ok {
		metadata["License"] = expr
	}
	return files, metadata, nil
}

// parseMetadata reads the header part of a core metadata file.
func parseMetadata(r io.Reader) (map[string][]string, error) {
	m := map[string][]string{}
	scanner := bufio.NewScanner(r)
	for scanner.Scan() {
		line := scanner.Text()
		if line == "" {
			break // the description follows
		}
		key, value, ok := strings.Cut(line, ": ")
		if ok {
			m[key] = append(m[key], value)
		}
	}
	return m, scanner.Err()
}

// normalizeMetadata makes equal values compare equal: names per PEP 503,
// requirement specifiers sorted, an extra's marker in one spelling, entry
// points without the spaces around "=".
func normalizeMetadata(key string, values []string) []string {
	var out []string
	for _, v := range values {
		switch key {
		case "Name":
			v = normalizePypiName(v)
		case "Requires-Dist":
			req, marker, _ := strings.Cut(v, ";")
			v = normalizeRequirement(strings.TrimSpace(req))
			if marker = strings.TrimSpace(marker); marker != "" {
				v += "; " + normalizeMarker(marker)
			}
		case entryPointsKey:
			group, point, _ := strings.Cut(v, ": ")
			name, object, _ := strings.Cut(point, "=")
			v = group + ": " + strings.TrimSpace(name) + " = " + strings.TrimSpace(object)
		}
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

func normalizeRequirement(req string) string {
	i := strings.IndexAny(req, "<>=!~ ;")
	if i < 0 {
		return normalizePypiName(req)
	}
	name, spec := req[:i], strings.ReplaceAll(req[i:], " ", "")
	parts := strings.Split(spec, ",")
	sort.Strings(parts)
	return normalizePypiName(name) + strings.Join(parts, ",")
}

// normalizeMarker writes an environment marker with one kind of quote and
// no spaces, so that setuptools' extra == "dev" and rules_python's
// extra == 'dev' compare equal.
func normalizeMarker(marker string) string {
	return strings.ReplaceAll(strings.ReplaceAll(marker, "'", `"`), " ", "")
}
