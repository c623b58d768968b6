package bundle

// This file makes the Python environment of a bundle that carries wheels:
// the host's target, and a virtual environment built offline from the
// target's wheels, kept in a cache outside the plugin directory.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
)

// Defaults of [VenvRequest].
const (
	// DefaultVenvTimeout bounds the making of one environment: the venv,
	// then pip.
	DefaultVenvTimeout = 5 * time.Minute
	// hostTargetTimeout bounds the run of the interpreter that tells its
	// version.
	hostTargetTimeout = 30 * time.Second
	// commandOutputBytes is how much of a failed command's output its
	// error keeps: the end.
	commandOutputBytes = 4 << 10
	// digestKeyHex is how many hex digits of the bundle's digest name its
	// environment.
	digestKeyHex = 32
)

// targetPattern is a target: a platform and a CPython version, as
// "linux-x86_64-cp311" (docs/bundles.md).
var targetPattern = regexp.MustCompile(`^(linux-x86_64|linux-aarch64|macos-x86_64|macos-arm64)-cp3[0-9]{1,2}$`)

// ValidTarget reports whether t is a target of the bundle format:
// "<platform>-cp<major><minor>" with a platform of linux-x86_64,
// linux-aarch64, macos-x86_64 or macos-arm64, such as "linux-x86_64-cp311".
func ValidTarget(t string) bool { return targetPattern.MatchString(t) }

// Platform returns the bundle platform of a Go GOOS and GOARCH, such as
// "linux-x86_64" for linux and amd64, and false for a host that bundles
// do not target.
func Platform(goos, goarch string) (string, bool) {
	switch goos + "/" + goarch {
	case "linux/amd64":
		return "linux-x86_64", true
	case "linux/arm64":
		return "linux-aarch64", true
	case "darwin/amd64":
		return "macos-x86_64", true
	case "darwin/arm64":
		return "macos-arm64", true
	}
	return "", false
}

// HostTarget returns this host's target for the interpreter python (a
// path, or a name looked up on PATH; "" means python3): the platform of
// this process and the CPython version that python reports when run with
// -c.
func HostTarget(ctx context.Context, python string) (string, error) {
	platform, ok := Platform(runtime.GOOS, runtime.GOARCH)
	if !ok {
		return "", fmt.Errorf("bundle: no bundle targets %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	if python == "" {
		python = "python3"
	}
	ctx, cancel := context.WithTimeout(ctx, hostTargetTimeout)
	defer cancel()
	out, err := run(ctx, "", python, "-c", `import sys; print(sys.implementation.name, "%d%d" % sys.version_info[:2])`)
	if err != nil {
		return "", fmt.Errorf("bundle: ask %s for its version: %w", python, err)
	}
	impl, version, ok := strings.Cut(strings.TrimSpace(string(out)), " ")
	if !ok || version == "" {
		return "", fmt.Errorf("bundle: %s answered %q for its version", python, apperror.Truncate(string(out), 200))
	}
	if impl != "cpython" {
		return "", fmt.Errorf("bundle: %s is %s; bundles carry wheels for CPython", python, impl)
	}
	return platform + "-cp" + version, nil
}

// VenvRequest asks [MakeVenv] for the Python environment of an unpacked
// bundle.
type VenvRequest struct {
	// PluginDir is the plugin directory, with wheels/<target>/.
	PluginDir string
	// Targets are the targets that the bundle carries: its manifest's
	// server.python.targets.
	Targets []string
	// SHA256 is the hex digest of the bundle ([Extracted].SHA256), which
	// names its environment in the cache.
	SHA256 string
	// CacheDir holds the environments, such as "<plugins root>/.python";
	// it is made when missing.
	CacheDir string
	// Python is the host's interpreter, which makes the environment: a
	// path, or a name looked up on PATH; "" means python3.
	Python string
	// Timeout bounds the making of the environment; DefaultVenvTimeout
	// when 0.
	Timeout time.Duration
	// Logger receives a record of the environment made or reused; nil
	// discards it.
	Logger *slog.Logger
}

// Venv is a plugin's Python environment.
type Venv struct {
	// Dir is the environment's directory:
	// "<CacheDir>/<32 hex digits of the digest>-<target>".
	Dir string
	// Python is the environment's interpreter, Dir/bin/python, which runs
	// the plugin.
	Python string
	// Target is the host's target, whose wheels the environment has.
	Target string
	// Reused says that the environment was there already, made for the
	// same bundle.
	Reused bool
}

// MakeVenv returns the Python environment of the bundle unpacked in
// req.PluginDir: it picks the host's target ([HostTarget]) and refuses,
// with a [*RefusedError] that names both, a bundle that does not carry it.
// An environment made earlier for the same bundle and target is reused.
// Otherwise MakeVenv makes one (see installVenv: without pip, filled by the
// host's own pip, when the host can) and installs every wheel of
// wheels/<target>/ with pip, offline: --no-index, the bundle's wheelhouse
// as the only --find-links, binary wheels only, and neither pip's
// configuration files nor its environment variables. It builds in a
// temporary directory beside the cache entry and renames it into place
// when pip succeeds, so that a half-made environment is never reused.
func MakeVenv(ctx context.Context, req VenvRequest) (*Venv, error) {
	logger := req.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if len(req.SHA256) < digestKeyHex {
		return nil, fmt.Errorf("bundle: the bundle's digest %q is too short", req.SHA256)
	}
	target, err := HostTarget(ctx, req.Python)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(req.Targets, target) {
		carries := "no target"
		if len(req.Targets) > 0 {
			carries = strings.Join(req.Targets, ", ")
		}
		return nil, refuse("", "the bundle carries %s; this host is %s", carries, target)
	}
	wheelhouse := filepath.Join(req.PluginDir, WheelsDir, target)
	wheels, err := wheelsIn(wheelhouse)
	if err != nil {
		return nil, refuse("", "its manifest lists %s, but the bundle has no wheels in %s/%s/", target, WheelsDir, target)
	}
	key := strings.ToLower(req.SHA256[:digestKeyHex]) + "-" + target
	venv := &Venv{Dir: filepath.Join(req.CacheDir, key), Target: target}
	venv.Python = filepath.Join(venv.Dir, "bin", "python")
	if _, err := os.Stat(venv.Python); err == nil {
		venv.Reused = true
		logger.Info("reusing the plugin's Python environment", slog.String("venv", venv.Dir))
		return venv, nil
	}
	// A cache entry without its interpreter is not one that MakeVenv
	// renamed into place; it goes.
	if err := os.RemoveAll(venv.Dir); err != nil {
		return nil, fmt.Errorf("bundle: clear %s: %w", venv.Dir, err)
	}
	if err := os.MkdirAll(req.CacheDir, 0o755); err != nil {
		return nil, fmt.Errorf("bundle: make the environment cache: %w", err)
	}
	tmp, err := os.MkdirTemp(req.CacheDir, "."+key+"-*")
	if err != nil {
		return nil, fmt.Errorf("bundle: make the environment cache: %w", err)
	}
	defer os.RemoveAll(tmp) // a no-op once renamed

	began := time.Now()
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = DefaultVenvTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	python := req.Python
	if python == "" {
		python = "python3"
	}
	if err := installVenv(ctx, python, tmp, req.PluginDir, wheelhouse, wheels); err != nil {
		return nil, fmt.Errorf("bundle: the environment of %s: %w", target, err)
	}
	if err := os.Rename(tmp, venv.Dir); err != nil {
		// Another install of the same bundle got there first.
		if _, statErr := os.Stat(venv.Python); statErr == nil {
			venv.Reused = true
			logger.Info("reusing the plugin's Python environment", slog.String("venv", venv.Dir))
			return venv, nil
		}
		return nil, fmt.Errorf("bundle: move the environment into place: %w", err)
	}
	logger.Info("made the plugin's Python environment", slog.String("venv", venv.Dir),
		slog.String("target", target), slog.Int("wheels", len(wheels)), slog.Duration("took", time.Since(began)))
	return venv, nil
}

// pipInstall is pip's install command for a bundle's wheelhouse: offline,
// wheels only, no configuration, no cache.
var pipInstall = []string{"install",
	"--isolated", "--no-input", "--disable-pip-version-check", "--no-cache-dir",
	"--no-index", "--only-binary=:all:"}

// installVenv makes a virtual environment in dir and installs the wheels
// into it. The quick way makes it without pip (python -m venv --without-pip,
// a fraction of a second) and runs the host interpreter's own pip into it
// (pip --python, pip 22.3 and later). pip compiles the bytecode at
// install, so that the plugin starts quickly even where it may not write
// bytecode itself (PYTHONDONTWRITEBYTECODE, a read-only cache). A host
// without a pip that can do that gets the plain way: python -m venv, which
// bootstraps pip into the environment (ensurepip, several seconds), and
// that pip.
func installVenv(ctx context.Context, python, dir, pluginDir, wheelhouse string, wheels []string) error {
	if _, err := run(ctx, "", python, "-m", "venv", "--without-pip", dir); err != nil {
		return fmt.Errorf("%s -m venv --without-pip: %w", python, err)
	}
	args := append([]string{"-m", "pip", "--python", filepath.Join(dir, "bin", "python")}, pipInstall...)
	args = append(args, "--find-links", wheelhouse)
	if _, err := run(ctx, pluginDir, python, append(args, wheels...)...); err == nil {
		return nil
	} else if ctx.Err() != nil {
		return fmt.Errorf("pip install: %w", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("clear %s: %w", dir, err)
	}
	if _, err := run(ctx, "", python, "-m", "venv", dir); err != nil {
		return fmt.Errorf("%s -m venv: %w", python, err)
	}
	args = append(slices.Clone(pipInstall), "--find-links", wheelhouse)
	if _, err := run(ctx, pluginDir, filepath.Join(dir, "bin", "python"), append(append([]string{"-m", "pip"}, args...), wheels...)...); err != nil {
		return fmt.Errorf("pip install: %w", err)
	}
	return nil
}

// wheelsIn returns the paths of the wheels in dir, sorted; an error when
// there are none.
func wheelsIn(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var wheels []string
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".whl") {
			wheels = append(wheels, filepath.Join(dir, e.Name()))
		}
	}
	if len(wheels) == 0 {
		return nil, fs.ErrNotExist
	}
	return wheels, nil
}

// run runs a command in dir ("" for the current directory) with the
// environment of [commandEnv], in a process group of its own that is
// killed when ctx ends, and returns its standard output. Its error has the
// end of the command's output.
func run(ctx context.Context, dir, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = commandEnv(os.Environ())
	var stdout bytes.Buffer
	output := &tailBuffer{max: commandOutputBytes}
	cmd.Stdout = io.MultiWriter(&stdout, output)
	cmd.Stderr = output
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if ctxErr := ctx.Err(); err != nil && ctxErr != nil {
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			return nil, fmt.Errorf("timed out: %w; output: %s", ctxErr, output)
		}
		return nil, fmt.Errorf("%w; output: %s", ctxErr, output)
	}
	if err != nil {
		return nil, fmt.Errorf("%w; output: %s", err, output)
	}
	return stdout.Bytes(), nil
}

// commandEnv returns env without the variables that would let pip or
// Python look elsewhere than the bundle (PIP_*, PYTHONPATH, PYTHONHOME,
// PYTHONSTARTUP), with pip's configuration files, prompts, version check
// and the user's site-packages turned off.
func commandEnv(env []string) []string {
	out := make([]string, 0, len(env)+5)
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "PIP_") || name == "PYTHONPATH" || name == "PYTHONHOME" || name == "PYTHONSTARTUP" {
			continue
		}
		out = append(out, kv)
	}
	return append(out,
		"PIP_CONFIG_FILE="+os.DevNull,
		"PIP_NO_INPUT=1",
		"PIP_DISABLE_PIP_VERSION_CHECK=1",
		"PYTHONNOUSERSITE=1",
	)
}

// tailBuffer keeps the last max bytes written to it; it is safe for
// concurrent use (a command's stdout and stderr).
type tailBuffer struct {
	max int
	mu  sync.Mutex
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = t.buf[over:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.TrimSpace(string(t.buf))
	if s == "" {
		return "(none)"
	}
	return s
}
