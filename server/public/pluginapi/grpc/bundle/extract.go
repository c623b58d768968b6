// Package bundle installs plugin bundles: it unpacks a bundle (a .tar.gz)
// into a plugin directory, refusing whatever could escape that directory
// or exhaust the host, and makes the Python environment of a bundle that
// carries wheels (see docs/bundles.md for the layout).
//
// [Extract] unpacks a bundle. It accepts regular files and directories
// only: an absolute path, a ".." component, a symbolic or hard link, a
// device or a FIFO refuses the whole bundle, with the reason, and so do
// more entries or more unpacked bytes than its [Limits], counted while the
// archive is read, so that a gzip bomb stops at its first oversized entry.
// Mattermost itself skips links and other special entries with a warning
// (extractTarGz in server/channels/app/extract_plugin_tar.go of
// mattermost/mattermost at 86b60aad17fc4a9c1d446b680bd6a85bab9eadca); a
// bundle made by `mattermost-plugin bundle` never has them, and a dropped
// link would only make the plugin fail later, so here they are refused.
//
// A bundle has one of two layouts:
//
//   - one top-level directory that holds plugin.json (Mattermost's layout,
//     and the bundler's, whose directory is named after the plugin id);
//   - plugin.json at the top, for bundles made by hand.
//
// A bundle that carries SHA256SUMS must list in it every file but
// SHA256SUMS itself, with its SHA-256; a missing, extra or different file
// refuses it. A bundle with a wheels/ directory must carry SHA256SUMS and
// use the first layout, its directory named after the plugin id: that is
// what the bundler writes, and the wheels are code that the host installs.
// A bundle without wheels/ and without SHA256SUMS, such as a Go plugin's,
// is accepted as Mattermost accepts it, in either layout.
//
// [MakeVenv] makes the virtual environment of a bundle whose manifest
// lists server.python.targets: it picks the host's target, and installs
// that target's wheels, offline, into a directory outside the plugin
// directory, keyed by the bundle's digest, which a second install of the
// same bundle reuses.
package bundle

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// Names in a plugin directory.
const (
	// ManifestFile is the plugin's manifest.
	ManifestFile = "plugin.json"
	// ChecksumsFile lists the SHA-256 of every other file of the bundle,
	// as "<sha256>  <path>" lines.
	ChecksumsFile = "SHA256SUMS"
	// WheelsDir holds one directory of wheels per target.
	WheelsDir = "wheels"
)

// Defaults of [Limits].
const (
	// DefaultMaxEntries bounds the entries (files and directories) of a
	// bundle.
	DefaultMaxEntries = 10_000
	// DefaultMaxBytes bounds the bytes that a bundle unpacks to.
	DefaultMaxBytes int64 = 512 << 20
)

const (
	// maxChecksumsBytes bounds SHA256SUMS: 10,000 lines of a digest, two
	// spaces and a path fit.
	maxChecksumsBytes = 4 << 20
	// maxManifestBytes bounds the plugin.json that Extract reads for the
	// plugin id.
	maxManifestBytes = 1 << 20
	// maxTrailingBytes bounds the compressed bytes after the end of the
	// tar archive, which Extract reads (without decompressing them) so
	// that the digest covers the whole bundle.
	maxTrailingBytes = 1 << 20
)

// Limits bound what [Extract] unpacks. A zero field means its default.
type Limits struct {
	// MaxEntries is the most entries, files and directories, that a bundle
	// may have; DefaultMaxEntries when 0.
	MaxEntries int
	// MaxBytes is the most bytes that a bundle's files may add up to;
	// DefaultMaxBytes when 0.
	MaxBytes int64
}

func (l Limits) withDefaults() Limits {
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultMaxEntries
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	return l
}

// Extracted describes a bundle that [Extract] unpacked.
type Extracted struct {
	// Dir is the plugin directory, absolute: the dest given to Extract.
	Dir string
	// SHA256 is the hex SHA-256 of the bundle's bytes, as read.
	SHA256 string
	// TopDir is the name of the bundle's top-level directory, or "" for a
	// bundle with plugin.json at the top.
	TopDir string
	// Checksummed says that the bundle carried SHA256SUMS, which matched.
	Checksummed bool
	// Files is how many regular files the plugin directory has, and Bytes
	// how many bytes they add up to.
	Files int
	Bytes int64
}

// RefusedError is the error of a bundle that is refused: unsafe, too
// large, malformed, or not for this host.
type RefusedError struct {
	// Entry is the archive entry (or the path in the plugin directory) at
	// fault, or "" when the bundle as a whole is.
	Entry string
	// Reason says why, in one sentence without a final period.
	Reason string
}

func (e *RefusedError) Error() string {
	if e.Entry == "" {
		return "bundle refused: " + e.Reason
	}
	return fmt.Sprintf("bundle refused: %q: %s", e.Entry, e.Reason)
}

func refuse(entry, format string, args ...any) *RefusedError {
	return &RefusedError{Entry: entry, Reason: fmt.Sprintf(format, args...)}
}

// Extract unpacks the bundle read from r into the directory dest, which
// must not exist and whose parent must. It unpacks into a new directory
// beside dest and renames it to dest once the bundle is complete and
// checked, so that a refused or failed bundle leaves nothing behind, and
// dest never holds half a bundle. The error of a refused bundle is a
// [*RefusedError] that says why; other errors are the file system's.
//
// Files get mode 0755 when any execute bit is set in the archive and 0644
// otherwise, directories 0755 (less the umask); owners and times are not
// kept.
func Extract(ctx context.Context, r io.Reader, dest string, limits Limits) (*Extracted, error) {
	dest, err := filepath.Abs(dest)
	if err != nil {
		return nil, fmt.Errorf("bundle: destination %q: %w", dest, err)
	}
	if _, err := os.Lstat(dest); err == nil {
		return nil, fmt.Errorf("bundle: destination %s: %w", dest, fs.ErrExist)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dest), ".extract-*")
	if err != nil {
		return nil, fmt.Errorf("bundle: make a directory beside %s: %w", dest, err)
	}
	renamed := false
	defer func() {
		if !renamed {
			os.RemoveAll(tmp)
		}
	}()

	digest := sha256.New()
	raw := io.TeeReader(r, digest)
	u := &unpacker{ctx: ctx, root: tmp, limits: limits.withDefaults(), files: map[string]string{}}
	if err := u.unpack(raw); err != nil {
		return nil, err
	}
	// The rest of the stream, compressed, for the digest: gzip's trailer,
	// and padding after the archive's end.
	n, err := io.Copy(io.Discard, io.LimitReader(&ctxReader{ctx: ctx, r: raw}, maxTrailingBytes+1))
	if err != nil {
		return nil, readError(ctx, err)
	}
	if n > maxTrailingBytes {
		return nil, refuse("", "more than %d bytes follow the end of the tar archive", maxTrailingBytes)
	}
	ex, pluginDir, err := u.check()
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(pluginDir, 0o755); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	if err := os.Rename(pluginDir, dest); err != nil {
		return nil, fmt.Errorf("bundle: move the plugin directory into place: %w", err)
	}
	if pluginDir == tmp {
		renamed = true
	}
	ex.Dir = dest
	ex.SHA256 = hex.EncodeToString(digest.Sum(nil))
	return ex, nil
}

// unpacker unpacks one archive under root.
type unpacker struct {
	ctx    context.Context
	root   string
	limits Limits

	entries int
	bytes   int64
	// files maps the slash path of every regular file to its hex SHA-256.
	files map[string]string
	// paths holds the slash path of every entry, files and directories.
	paths []string
}

// readError turns an error of reading the bundle into the error of
// Extract: the context's error when it ended, a refusal otherwise.
func readError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("bundle: %w", ctxErr)
	}
	var refused *RefusedError
	if errors.As(err, &refused) {
		return err
	}
	return refuse("", "not a readable tar.gz: %v", err)
}

func (u *unpacker) unpack(raw io.Reader) error {
	gz, err := gzip.NewReader(&ctxReader{ctx: u.ctx, r: raw})
	if err != nil {
		return readError(u.ctx, err)
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return readError(u.ctx, err)
		}
		if h.Typeflag == tar.TypeXGlobalHeader {
			continue // PAX defaults for the entries that follow; no file
		}
		if u.entries++; u.entries > u.limits.MaxEntries {
			return refuse("", "the bundle has more than %d entries", u.limits.MaxEntries)
		}
		name, err := entryName(h.Name)
		if err != nil {
			return err
		}
		if name == "" {
			continue // "./", the archive's root
		}
		switch h.Typeflag {
		case tar.TypeDir:
			err = u.mkdir(name)
		case tar.TypeReg:
			err = u.writeFile(name, h, tr)
		case tar.TypeSymlink:
			err = refuse(h.Name, "a symbolic link (to %q): a bundle holds only regular files and directories", h.Linkname)
		case tar.TypeLink:
			err = refuse(h.Name, "a hard link (to %q): a bundle holds only regular files and directories", h.Linkname)
		case tar.TypeChar, tar.TypeBlock:
			err = refuse(h.Name, "a device: a bundle holds only regular files and directories")
		case tar.TypeFifo:
			err = refuse(h.Name, "a named pipe: a bundle holds only regular files and directories")
		default:
			err = refuse(h.Name, "an entry of type %q: a bundle holds only regular files and directories", h.Typeflag)
		}
		if err != nil {
			return err
		}
		u.paths = append(u.paths, name)
	}
}

// entryName checks an entry's name and returns it relative to the
// archive's root, in slash form, without a leading "./" or a trailing
// slash; "" is the root itself.
func entryName(raw string) (string, error) {
	switch {
	case raw == "":
		return "", refuse(raw, "an entry without a name")
	case strings.HasPrefix(raw, "/"):
		return "", refuse(raw, "an absolute path: entries are relative to the bundle")
	case strings.ContainsAny(raw, "\\\x00"):
		return "", refuse(raw, "a backslash or a NUL in the name")
	}
	var parts []string
	for _, part := range strings.Split(raw, "/") {
		switch part {
		case "", ".":
			continue
		case "..":
			return "", refuse(raw, "a \"..\" component: entries stay inside the plugin directory")
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, "/"), nil
}

// local returns the path on disk of an entry.
func (u *unpacker) local(name string) string {
	return filepath.Join(u.root, filepath.FromSlash(name))
}

// fsError turns a file system error of an entry into a refusal when the
// archive caused it (a name used twice, a file where a directory goes).
func fsError(name string, err error) error {
	if errors.Is(err, fs.ErrExist) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EISDIR) {
		return refuse(name, "the path is used twice, or both as a file and as a directory")
	}
	return fmt.Errorf("bundle: unpack %q: %w", name, err)
}

func (u *unpacker) mkdir(name string) error {
	if err := os.MkdirAll(u.local(name), 0o755); err != nil {
		return fsError(name, err)
	}
	return nil
}

func (u *unpacker) writeFile(name string, h *tar.Header, tr io.Reader) error {
	room := u.limits.MaxBytes - u.bytes
	if h.Size > room {
		return refuse(name, "the bundle unpacks to more than %d bytes", u.limits.MaxBytes)
	}
	if _, dup := u.files[name]; dup {
		return refuse(name, "the path is used twice, or both as a file and as a directory")
	}
	if err := os.MkdirAll(filepath.Dir(u.local(name)), 0o755); err != nil {
		return fsError(name, err)
	}
	mode := os.FileMode(0o644)
	if h.Mode&0o111 != 0 {
		mode = 0o755
	}
	f, err := os.OpenFile(u.local(name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fsError(name, err)
	}
	sum := sha256.New()
	// The header's size is checked above, and the tar reader never gives
	// more; the limit guards the count all the same.
	n, err := io.Copy(io.MultiWriter(f, sum), io.LimitReader(&ctxReader{ctx: u.ctx, r: tr}, room+1))
	if cerr := f.Close(); err == nil && cerr != nil {
		return fmt.Errorf("bundle: unpack %q: %w", name, cerr)
	}
	if err != nil {
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			return fmt.Errorf("bundle: unpack %q: %w", name, err)
		}
		return readError(u.ctx, err)
	}
	if n > room {
		return refuse(name, "the bundle unpacks to more than %d bytes", u.limits.MaxBytes)
	}
	u.bytes += n
	u.files[name] = hex.EncodeToString(sum.Sum(nil))
	return nil
}

// check finds the plugin directory of the unpacked archive and checks the
// bundle's layout and checksums. It returns the directory on disk.
func (u *unpacker) check() (*Extracted, string, error) {
	if len(u.files) == 0 {
		return nil, "", refuse("", "the bundle holds no files")
	}
	ex := &Extracted{}
	prefix := ""
	if _, ok := u.files[ManifestFile]; !ok {
		top := ""
		for _, p := range u.paths {
			first, _, nested := strings.Cut(p, "/")
			if _, isFile := u.files[p]; isFile && !nested {
				return nil, "", refuse("", "no %s at the top of the bundle or of its one top-level directory", ManifestFile)
			}
			if top != "" && first != top {
				return nil, "", refuse("", "no %s at the top, and more than one top-level directory (%q, %q)", ManifestFile, top, first)
			}
			top = first
		}
		if _, ok := u.files[top+"/"+ManifestFile]; !ok {
			return nil, "", refuse("", "no %s in the bundle's top-level directory %q", ManifestFile, top)
		}
		ex.TopDir, prefix = top, top+"/"
	}
	// rel gives each file's path relative to the plugin directory.
	rel := map[string]string{}
	hasWheels := false
	for p, sum := range u.files {
		r := strings.TrimPrefix(p, prefix)
		rel[r] = sum
		ex.Files++
	}
	for _, p := range u.paths {
		r := strings.TrimPrefix(p, prefix)
		if r == WheelsDir || strings.HasPrefix(r, WheelsDir+"/") {
			hasWheels = true
		}
	}
	ex.Bytes = u.bytes
	_, hasSums := rel[ChecksumsFile]
	switch {
	case hasWheels && ex.TopDir == "":
		return nil, "", refuse("", "a bundle with %s/ keeps its files in one top-level directory named after the plugin id, with %s", WheelsDir, ChecksumsFile)
	case hasWheels && !hasSums:
		return nil, "", refuse("", "the bundle has %s/ but no %s", WheelsDir, ChecksumsFile)
	}
	if (hasWheels || hasSums) && ex.TopDir != "" {
		if id := u.manifestID(prefix + ManifestFile); id != "" && id != ex.TopDir {
			return nil, "", refuse("", "its top-level directory is %q but its plugin id is %q: the directory is named after the plugin id", ex.TopDir, id)
		}
	}
	if hasSums {
		if err := u.verify(prefix, rel); err != nil {
			return nil, "", err
		}
		ex.Checksummed = true
	}
	return ex, u.local(strings.TrimSuffix(prefix, "/")), nil
}

// manifestID reads the plugin id of the manifest at name, or "" when it
// does not parse: the manifest's own errors are for its reader to report.
func (u *unpacker) manifestID(name string) string {
	f, err := os.Open(u.local(name))
	if err != nil {
		return ""
	}
	defer f.Close()
	var m struct {
		ID string `json:"id"`
	}
	if json.NewDecoder(io.LimitReader(f, maxManifestBytes)).Decode(&m) != nil {
		return ""
	}
	return m.ID
}

// verify checks SHA256SUMS against the files, whose paths rel holds
// relative to the plugin directory: every file but SHA256SUMS is listed,
// every listed file is there, and the digests are equal.
func (u *unpacker) verify(prefix string, rel map[string]string) error {
	f, err := os.Open(u.local(prefix + ChecksumsFile))
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxChecksumsBytes+1))
	if err != nil {
		return fmt.Errorf("bundle: read %s: %w", ChecksumsFile, err)
	}
	if len(data) > maxChecksumsBytes {
		return refuse(ChecksumsFile, "larger than %d bytes", maxChecksumsBytes)
	}
	listed := map[string]string{}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue
		}
		sum, path, ok := strings.Cut(line, " ")
		// "<sha256>  <path>", or "<sha256> *<path>" (sha256sum's binary
		// mode).
		if !ok || len(sum) != sha256.Size*2 || !(strings.HasPrefix(path, " ") || strings.HasPrefix(path, "*")) {
			return refuse(ChecksumsFile, "line %d is not \"<sha256>  <path>\"", i+1)
		}
		if _, err := hex.DecodeString(sum); err != nil {
			return refuse(ChecksumsFile, "line %d: %q is not a hex SHA-256", i+1, sum)
		}
		path = strings.TrimPrefix(path[1:], "./")
		if _, dup := listed[path]; dup {
			return refuse(ChecksumsFile, "%q is listed twice", path)
		}
		listed[path] = strings.ToLower(sum)
	}
	for _, path := range slices.Sorted(maps.Keys(listed)) {
		got, ok := rel[path]
		switch {
		case !ok:
			return refuse(path, "listed in %s but missing from the bundle", ChecksumsFile)
		case got != listed[path]:
			return refuse(path, "its SHA-256 does not match %s: %s, listed as %s", ChecksumsFile, got, listed[path])
		}
	}
	for _, path := range slices.Sorted(maps.Keys(rel)) {
		if _, ok := listed[path]; !ok && path != ChecksumsFile {
			return refuse(path, "not listed in %s", ChecksumsFile)
		}
	}
	return nil
}

// ctxReader fails its reads once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
