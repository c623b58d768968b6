package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// entry is one entry of a test archive.
type entry struct {
	name string
	typ  byte // tar.TypeReg when 0
	body string
	mode int64
	link string
}

// file is a regular file entry.
func file(name, body string) entry { return entry{name: name, body: body} }

// tarGz writes entries as a tar.gz.
func tarGz(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Linkname: e.link, ModTime: time.Unix(1577836800, 0)}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatalf("tar header %q: %v", e.name, err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sums is SHA256SUMS for files, whose names are relative to the plugin
// directory.
func sums(files ...entry) entry {
	var lines []string
	for _, f := range files {
		d := sha256.Sum256([]byte(f.body))
		lines = append(lines, hex.EncodeToString(d[:])+"  "+f.name)
	}
	slices.Sort(lines)
	return file(ChecksumsFile, strings.Join(lines, "\n")+"\n")
}

// under puts entries under the directory top.
func under(top string, entries ...entry) []entry {
	out := []entry{{name: top + "/", typ: tar.TypeDir, mode: 0o755}}
	for _, e := range entries {
		e.name = top + "/" + e.name
		out = append(out, e)
	}
	return out
}

const testID = "com.example.bundled"

var (
	manifest = file(ManifestFile, `{"id": "`+testID+`", "version": "1.0.0", "server": {"python": {"entry": "plugin.py"}}}`)
	code     = file("plugin.py", "print('hello')\n")
	wheel    = file(WheelsDir+"/linux-x86_64-cp311/x-1.0-py3-none-any.whl", "not really a zip")
)

// good is a bundle as the bundler makes it: one directory named after
// the plugin id, wheels, SHA256SUMS.
func good(t testing.TB) []byte {
	return tarGz(t, under(testID, manifest, code, wheel, sums(manifest, code, wheel))...)
}

// rootEntries lists what dir holds, as slash paths.
func rootEntries(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path != dir {
			rel, _ := filepath.Rel(dir, path)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestExtractRefuses(t *testing.T) {
	top := func(entries ...entry) []entry { return under(testID, append([]entry{manifest}, entries...)...) }
	tooMany := top()
	for range DefaultMaxEntries {
		// One directory, again and again: cheap to unpack, and each
		// entry counts.
		tooMany = append(tooMany, entry{name: testID + "/d/", typ: tar.TypeDir})
	}
	tampered := code
	tampered.body = "print('tampered')\n"
	tests := []struct {
		name   string
		bundle []byte
		limits Limits
		entry  string // the entry named by the refusal
		want   string
	}{
		{"a parent component", tarGz(t, append(top(), file("../x", "x"))...), Limits{}, "../x", `a ".." component`},
		{"a parent component inside", tarGz(t, append(top(), file(testID+"/a/../../x", "x"))...), Limits{}, testID + "/a/../../x", `a ".." component`},
		{"an absolute path", tarGz(t, append(top(), file("/etc/x", "x"))...), Limits{}, "/etc/x", "an absolute path"},
		{"a symbolic link out", tarGz(t, append(top(), entry{name: testID + "/link", typ: tar.TypeSymlink, link: "../../etc/passwd"})...), Limits{}, testID + "/link", "a symbolic link"},
		{"a symbolic link in", tarGz(t, append(top(), entry{name: testID + "/link", typ: tar.TypeSymlink, link: "plugin.json"})...), Limits{}, testID + "/link", "a symbolic link"},
		{"a hard link", tarGz(t, append(top(), entry{name: testID + "/hard", typ: tar.TypeLink, link: "/etc/passwd"})...), Limits{}, testID + "/hard", "a hard link"},
		{"a character device", tarGz(t, append(top(), entry{name: testID + "/null", typ: tar.TypeChar})...), Limits{}, testID + "/null", "a device"},
		{"a block device", tarGz(t, append(top(), entry{name: testID + "/sda", typ: tar.TypeBlock})...), Limits{}, testID + "/sda", "a device"},
		{"a FIFO", tarGz(t, append(top(), entry{name: testID + "/fifo", typ: tar.TypeFifo})...), Limits{}, testID + "/fifo", "a named pipe"},
		{"too many entries", tarGz(t, tooMany...), Limits{}, "", fmt.Sprintf("more than %d entries", DefaultMaxEntries)},
		{"too many entries for a limit", tarGz(t, top(file("a", ""), file("b", ""), file("c", ""))...), Limits{MaxEntries: 4}, "", "more than 4 entries"},
		{"too many bytes", tarGz(t, top(file("a", strings.Repeat("x", 600)), file("b", strings.Repeat("x", 600)))...), Limits{MaxBytes: 1000}, testID + "/b", "unpacks to more than 1000 bytes"},
		{"a SHA256SUMS mismatch", tarGz(t, top(code, sums(manifest, tampered))...), Limits{}, "plugin.py", "does not match SHA256SUMS"},
		{"a file missing from SHA256SUMS' list", tarGz(t, top(code, sums(manifest))...), Limits{}, "plugin.py", "not listed in SHA256SUMS"},
		{"a listed file missing from the bundle", tarGz(t, top(sums(manifest, code))...), Limits{}, "plugin.py", "listed in SHA256SUMS but missing from the bundle"},
		{"a malformed SHA256SUMS", tarGz(t, top(code, file(ChecksumsFile, "abc plugin.py\n"))...), Limits{}, ChecksumsFile, "line 1"},
		{"wheels without SHA256SUMS", tarGz(t, top(code, wheel)...), Limits{}, "", "wheels/ but no SHA256SUMS"},
		{"wheels at the top", tarGz(t, manifest, code, wheel, sums(manifest, code, wheel)), Limits{}, "", "one top-level directory named after the plugin id"},
		{"a directory not named after the id", tarGz(t, under("other", manifest, code, sums(manifest, code))...), Limits{}, "", `top-level directory is "other" but its plugin id is "com.example.bundled"`},
		{"no manifest", tarGz(t, under(testID, code)...), Limits{}, "", "no plugin.json"},
		{"two top-level directories", tarGz(t, append(under("a", code), under("b", manifest)...)...), Limits{}, "", "more than one top-level directory"},
		{"a file used twice", tarGz(t, top(code, code)...), Limits{}, testID + "/plugin.py", "used twice"},
		{"a file where a directory is", tarGz(t, top(file("x", "1"), file("x/y", "2"))...), Limits{}, testID + "/x/y", "used twice, or both"},
		{"no files", tarGz(t, entry{name: testID + "/", typ: tar.TypeDir}), Limits{}, "", "holds no files"},
		{"not gzip", []byte("this is not a tar.gz"), Limits{}, "", "not a readable tar.gz"},
		{"a truncated archive", good(t)[:200], Limits{}, "", "not a readable tar.gz"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			_, err := Extract(context.Background(), bytes.NewReader(tc.bundle), filepath.Join(root, testID), tc.limits)
			var refused *RefusedError
			if !errors.As(err, &refused) || !strings.Contains(refused.Reason, tc.want) || refused.Entry != tc.entry {
				t.Fatalf("Extract() = %v; want a refusal of %q with %q", err, tc.entry, tc.want)
			}
			if left := rootEntries(t, root); len(left) > 0 {
				t.Errorf("the refused bundle left %q behind", left)
			}
		})
	}
}

// writeBomb writes a tar.gz that holds plugin.json and one file of size
// bytes of zeros, streaming: the zeros are one small gzip member of 1 MiB
// of zeros, written again and again (gzip readers join members).
func writeBomb(t testing.TB, w io.Writer, size int64) {
	t.Helper()
	member := func(data []byte) []byte {
		var buf bytes.Buffer
		gz, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		gz.Write(data)
		gz.Close()
		return buf.Bytes()
	}
	var head bytes.Buffer
	tw := tar.NewWriter(&head)
	for _, e := range under(testID, manifest) {
		size := int64(len(e.body))
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Typeflag: typ, Mode: 0o644, Size: size}); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, e.body)
	}
	if err := tw.WriteHeader(&tar.Header{Name: testID + "/zeros", Typeflag: tar.TypeReg, Mode: 0o644, Size: size}); err != nil {
		t.Fatal(err)
	}
	// The tar writer has written the header; the data is written below.
	if _, err := w.Write(member(head.Bytes())); err != nil {
		t.Fatal(err)
	}
	const chunk = 1 << 20
	zeros := member(make([]byte, chunk))
	for n := int64(0); n < size; n += chunk {
		if _, err := w.Write(zeros); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Write(member(make([]byte, 1024))); err != nil { // the end of the archive
		t.Fatal(err)
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// TestExtractStopsAGzipBomb unpacks a bundle whose one file is 1 GiB of
// zeros, about 1 MiB compressed: the refusal comes at the file's header,
// with almost none of the bundle read, and nothing is left behind.
func TestExtractStopsAGzipBomb(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bomb.tar.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	writeBomb(t, f, 1<<30)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	info, _ := os.Stat(path)
	f, err = os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	root := t.TempDir()
	counted := &countingReader{r: f}
	_, err = Extract(context.Background(), counted, filepath.Join(root, testID), Limits{})
	var refused *RefusedError
	if !errors.As(err, &refused) || !strings.Contains(refused.Reason, "unpacks to more than 536870912 bytes") {
		t.Fatalf("Extract(1 GiB of zeros) = %v; want a refusal for its size", err)
	}
	if counted.n > 64<<10 {
		t.Errorf("Extract read %d of the bundle's %d bytes before refusing it; want it to stop at the header", counted.n, info.Size())
	}
	if left := rootEntries(t, root); len(left) > 0 {
		t.Errorf("the bomb left %q behind", left)
	}
}

// TestExtractCountsWhileReading unpacks many files whose sizes add up past
// the limit: the count stops the bundle at the file that crosses it.
func TestExtractCountsWhileReading(t *testing.T) {
	var entries []entry
	for i := range 8 {
		entries = append(entries, file(fmt.Sprintf("part%d", i), strings.Repeat("\x00", 256<<10)))
	}
	root := t.TempDir()
	_, err := Extract(context.Background(), bytes.NewReader(tarGz(t, under(testID, append([]entry{manifest}, entries...)...)...)),
		filepath.Join(root, testID), Limits{MaxBytes: 1<<20 + int64(len(manifest.body))})
	var refused *RefusedError
	if !errors.As(err, &refused) || refused.Entry != testID+"/part4" {
		t.Fatalf("Extract() = %v; want the fifth part refused", err)
	}
	if left := rootEntries(t, root); len(left) > 0 {
		t.Errorf("left %q behind", left)
	}
}

func TestExtractAccepts(t *testing.T) {
	script := entry{name: "server/run.sh", body: "#!/bin/sh\n", mode: 0o755}
	goManifest := file(ManifestFile, `{"id": "com.example.other", "version": "1.2.0", "server": {"executables": {"linux-amd64": "server/run.sh"}}}`)
	tests := []struct {
		name    string
		bundle  []byte
		top     string
		files   []string
		summed  bool
		wantExe string
	}{
		{"the bundler's layout", good(t), testID, []string{"SHA256SUMS", "plugin.json", "plugin.py", "wheels/linux-x86_64-cp311/x-1.0-py3-none-any.whl"}, true, ""},
		{"a Go plugin's directory, named otherwise", tarGz(t, under("myplugin", goManifest, script)...), "myplugin", []string{"plugin.json", "server/run.sh"}, false, "server/run.sh"},
		{"plugin.json at the top", tarGz(t, manifest, code), "", []string{"plugin.json", "plugin.py"}, false, ""},
		{"names with ./", tarGz(t, entry{name: "./", typ: tar.TypeDir}, file("./plugin.json", manifest.body), file("./plugin.py", code.body)), "", []string{"plugin.json", "plugin.py"}, false, ""},
		{"SHA256SUMS at the top", tarGz(t, manifest, code, sums(manifest, code)), "", []string{"SHA256SUMS", "plugin.json", "plugin.py"}, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			dest := filepath.Join(root, "installed")
			ex, err := Extract(context.Background(), bytes.NewReader(tc.bundle), dest, Limits{})
			if err != nil {
				t.Fatalf("Extract() = %v", err)
			}
			digest := sha256.Sum256(tc.bundle)
			if ex.Dir != dest || ex.TopDir != tc.top || ex.Checksummed != tc.summed || ex.SHA256 != hex.EncodeToString(digest[:]) || ex.Files != len(tc.files) {
				t.Errorf("Extract() = %+v; want dir %s, top %q, checksummed %v, %d files and the bundle's digest", ex, dest, tc.top, tc.summed, len(tc.files))
			}
			var files []string
			for _, p := range rootEntries(t, dest) {
				if info, err := os.Stat(filepath.Join(dest, p)); err == nil && info.Mode().IsRegular() {
					files = append(files, p)
				}
			}
			if !slices.Equal(files, tc.files) {
				t.Errorf("files = %q; want %q", files, tc.files)
			}
			for _, p := range rootEntries(t, root) {
				if !strings.HasPrefix(p, "installed") {
					t.Errorf("the plugins root holds %q besides the plugin directory", p)
				}
			}
			if tc.wantExe != "" {
				if info, err := os.Stat(filepath.Join(dest, tc.wantExe)); err != nil || info.Mode().Perm()&0o100 == 0 {
					t.Errorf("%s: %v, %v; want it executable", tc.wantExe, info.Mode(), err)
				}
			}
		})
	}
}

func TestExtractKeepsAnExistingDestination(t *testing.T) {
	root := t.TempDir()
	dest := filepath.Join(root, testID)
	if err := os.Mkdir(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Extract(context.Background(), bytes.NewReader(good(t)), dest, Limits{})
	var refused *RefusedError
	if !errors.Is(err, fs.ErrExist) || errors.As(err, &refused) {
		t.Errorf("Extract(onto a directory) = %v; want fs.ErrExist, not a refusal", err)
	}
	if left := rootEntries(t, root); !slices.Equal(left, []string{testID}) {
		t.Errorf("the root holds %q", left)
	}
}

func TestExtractStopsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	root := t.TempDir()
	_, err := Extract(ctx, bytes.NewReader(good(t)), filepath.Join(root, testID), Limits{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Extract(a cancelled context) = %v; want context.Canceled", err)
	}
	if left := rootEntries(t, root); len(left) > 0 {
		t.Errorf("left %q behind", left)
	}
}
