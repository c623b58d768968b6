package supervisor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/bundle"
)

// ManifestFile is the name of the manifest in a plugin directory.
const ManifestFile = "plugin.json"

// ServeModule is the Python SDK's module that serves a plugin: a Python
// plugin's process is "python -m ServeModule ENTRY".
const ServeModule = "mattermost_plugin.serve"

// maxManifestSize bounds the manifest file that [Load] reads.
const maxManifestSize = 1 << 20

// pluginIDPattern is Mattermost's rule for plugin ids (model.IsValidPluginId).
var pluginIDPattern = regexp.MustCompile(`^[a-zA-Z0-9-_\.]{3,190}$`)

// Manifest is the part of a plugin's manifest (model.Manifest) that the
// supervisor reads.
type Manifest struct {
	// ID is the plugin's unique id, such as "com.example.hello".
	ID string `json:"id"`
	// Name is the plugin's display name.
	Name string `json:"name,omitempty"`
	// Version is the plugin's version.
	Version string `json:"version,omitempty"`
	// Server describes the plugin's server process; nil for a plugin
	// without one.
	Server *ServerManifest `json:"server,omitempty"`
	// SettingsSchema describes the plugin's settings page in the System
	// Console; nil for a plugin without one.
	SettingsSchema *SettingsSchema `json:"settings_schema,omitempty"`
}

// SettingsSchema describes a plugin's settings page
// (model.PluginSettingsSchema).
type SettingsSchema struct {
	// Header is the text above the settings, in Markdown.
	Header string `json:"header,omitempty"`
	// Footer is the text below the settings, in Markdown.
	Footer string `json:"footer,omitempty"`
	// Settings are the settings outside any section.
	Settings []*Setting `json:"settings,omitempty"`
	// Sections group further settings.
	Sections []*SettingsSection `json:"sections,omitempty"`
}

// SettingsSection groups settings of a plugin (model.PluginSettingsSection).
type SettingsSection struct {
	// Key identifies the section.
	Key string `json:"key"`
	// Title is the section's title.
	Title string `json:"title,omitempty"`
	// Subtitle is the section's subtitle.
	Subtitle string `json:"subtitle,omitempty"`
	// Settings are the section's settings.
	Settings []*Setting `json:"settings,omitempty"`
	// Header is the text above the section.
	Header string `json:"header,omitempty"`
	// Footer is the text below the section.
	Footer string `json:"footer,omitempty"`
	// Custom says that the web app draws the section itself.
	Custom bool `json:"custom,omitempty"`
	// Fallback says that the section shows when its custom component is
	// missing.
	Fallback bool `json:"fallback,omitempty"`
}

// Setting is one setting of a plugin (model.PluginSetting).
type Setting struct {
	// Key is the setting's key in the plugin's configuration.
	Key string `json:"key"`
	// DisplayName is the setting's label.
	DisplayName string `json:"display_name,omitempty"`
	// Type is "bool", "dropdown", "generated", "radio", "text",
	// "longtext", "number", "username" or "custom".
	Type string `json:"type"`
	// HelpText is the text under the setting, in Markdown.
	HelpText string `json:"help_text,omitempty"`
	// RegenerateHelpText is the help text of the regenerate button of a
	// "generated" setting.
	RegenerateHelpText string `json:"regenerate_help_text,omitempty"`
	// Placeholder is the text shown while the setting is empty.
	Placeholder string `json:"placeholder,omitempty"`
	// Default is the setting's default value, as the manifest's JSON has
	// it: a string, a float64, a bool, nil, or a slice or map of these.
	Default any `json:"default,omitempty"`
	// Options are the choices of a "dropdown" or "radio" setting.
	Options []*SettingOption `json:"options,omitempty"`
	// Hosting is "", "cloud" or "on-prem": where the setting shows.
	Hosting string `json:"hosting,omitempty"`
	// Secret hides the value like a password.
	Secret bool `json:"secret,omitempty"`
}

// SettingOption is one choice of a setting (model.PluginOption).
type SettingOption struct {
	// DisplayName is the choice's label.
	DisplayName string `json:"display_name"`
	// Value is the value that the choice sets.
	Value string `json:"value"`
}

// ServerManifest says how to start the plugin's server process: a
// program, as for Go plugins, or a Python entry point. A manifest may name
// both, as a bundle that carries a Go bridge beside its Python code does:
// then Python runs the plugin.
type ServerManifest struct {
	// Executables maps a platform, "<GOOS>-<GOARCH>" (one of
	// [ExecutablePlatforms]), to the path of the program for it, relative
	// to the plugin directory. The entry for this host comes before
	// Executable.
	Executables map[string]string `json:"executables,omitempty"`
	// Executable is the path of a program, relative to the plugin
	// directory, that speaks go-plugin's protocol: the program for every
	// platform that Executables does not name.
	Executable string `json:"executable,omitempty"`
	// Python runs the plugin with a Python interpreter.
	Python *PythonManifest `json:"python,omitempty"`
}

// ExecutablePlatforms are the keys of server.executables that Mattermost
// knows.
var ExecutablePlatforms = []string{"linux-amd64", "linux-arm64", "darwin-amd64", "darwin-arm64", "windows-amd64"}

// PythonManifest says how to run a Python plugin: the interpreter runs
// "python -m mattermost_plugin.serve ENTRY" in the plugin directory.
type PythonManifest struct {
	// Entry is the plugin's module: a .py file relative to the plugin
	// directory, or a dotted module name, optionally followed by
	// ":ClassName".
	Entry string `json:"entry"`
	// Interpreter is the Python to use, relative to the plugin directory
	// or absolute. Empty uses Venv, then the host's default.
	Interpreter string `json:"interpreter,omitempty"`
	// Venv is a virtual environment directory, relative to the plugin
	// directory, whose bin/python runs the plugin.
	Venv string `json:"venv,omitempty"`
	// Targets are the targets whose wheels a bundle carries, in the order
	// of its wheels/ directories, such as "linux-x86_64-cp311" (see
	// package bundle); empty for a plugin that brings no wheels.
	Targets []string `json:"targets,omitempty"`
}

// Bundle is a plugin directory with its manifest.
type Bundle struct {
	// Dir is the plugin directory, absolute.
	Dir string
	// Manifest is the parsed manifest.
	Manifest Manifest
	// Python, when set, is the interpreter that runs this Python plugin,
	// such as the bin/python of the environment that the host made for its
	// bundle (bundle.MakeVenv). It comes first; then the manifest's
	// interpreter, its venv, and [Config].Python.
	Python string
}

// ErrNoServer is the error of [Load] for a manifest without a server
// part, such as a plugin with a web app only.
var ErrNoServer = errors.New("no server part: set server.executable, server.executables or server.python")

// Load reads and checks the manifest of the plugin in dir.
func Load(dir string) (*Bundle, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("supervisor: plugin directory %q: %w", dir, err)
	}
	f, err := os.Open(filepath.Join(abs, ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("supervisor: read manifest: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxManifestSize+1))
	if err != nil {
		return nil, fmt.Errorf("supervisor: read manifest: %w", err)
	}
	if len(data) > maxManifestSize {
		return nil, fmt.Errorf("supervisor: %s is larger than %d bytes", filepath.Join(abs, ManifestFile), maxManifestSize)
	}
	var m Manifest
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&m); err != nil {
		return nil, fmt.Errorf("supervisor: parse %s: %w", filepath.Join(abs, ManifestFile), err)
	}
	b := &Bundle{Dir: abs, Manifest: m}
	if err := b.check(); err != nil {
		return nil, fmt.Errorf("supervisor: %s: %w", filepath.Join(abs, ManifestFile), err)
	}
	return b, nil
}

func (b *Bundle) check() error {
	m := b.Manifest
	if !pluginIDPattern.MatchString(m.ID) {
		return fmt.Errorf("invalid plugin id %q: use 3 to 190 letters, digits, '-', '_' or '.'", apperror.Truncate(m.ID, 200))
	}
	s := m.Server
	if s == nil || (s.Executable == "" && len(s.Executables) == 0 && s.Python == nil) {
		return ErrNoServer
	}
	if s.Executable != "" {
		if _, err := b.inside(s.Executable); err != nil {
			return fmt.Errorf("server.executable: %w", err)
		}
	}
	for _, platform := range slices.Sorted(maps.Keys(s.Executables)) {
		if !slices.Contains(ExecutablePlatforms, platform) {
			return fmt.Errorf("server.executables: unknown platform %q: use %s", apperror.Truncate(platform, 100), strings.Join(ExecutablePlatforms, ", "))
		}
		path := s.Executables[platform]
		if path == "" {
			return fmt.Errorf("server.executables[%q] is empty", platform)
		}
		if _, err := b.inside(path); err != nil {
			return fmt.Errorf("server.executables[%q]: %w", platform, err)
		}
	}
	if s.Python == nil {
		return nil
	}
	py := s.Python
	if py.Entry == "" {
		return errors.New("server.python.entry is empty")
	}
	if file, _ := splitEntry(py.Entry); strings.HasSuffix(file, ".py") {
		if _, err := b.inside(file); err != nil {
			return err
		}
	}
	if py.Venv != "" {
		if _, err := b.inside(py.Venv); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for _, target := range py.Targets {
		switch {
		case !bundle.ValidTarget(target):
			return fmt.Errorf("server.python.targets: %q is not a target such as \"linux-x86_64-cp311\" (<platform>-cp<major><minor>, the platform one of linux-x86_64, linux-aarch64, macos-x86_64, macos-arm64)", apperror.Truncate(target, 100))
		case seen[target]:
			return fmt.Errorf("server.python.targets: %q is listed twice", target)
		}
		seen[target] = true
	}
	return nil
}

// executable returns the manifest's program for this host, as
// Mattermost's Manifest.GetExecutableForRuntime picks it
// (server/public/model/manifest.go of mattermost/mattermost at
// 0753def445092fa5b3a4ca5452422b40f000dad4): server.executables'
// "<GOOS>-<GOARCH>" entry, else server.executable.
func (s *ServerManifest) executable() string {
	if path := s.Executables[runtime.GOOS+"-"+runtime.GOARCH]; path != "" {
		return path
	}
	return s.Executable
}

// inside resolves a manifest path against the plugin directory and refuses
// one that leaves it.
func (b *Bundle) inside(rel string) (string, error) {
	if filepath.IsAbs(rel) {
		return "", fmt.Errorf("path %q must be relative to the plugin directory", apperror.Truncate(rel, 200))
	}
	clean := filepath.Clean(rel)
	if clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("path %q leaves the plugin directory", apperror.Truncate(rel, 200))
	}
	return filepath.Join(b.Dir, clean), nil
}

// command returns the program and arguments that start the plugin;
// defaultPython is the interpreter used when neither the bundle nor the
// manifest names one. A manifest with a Python part runs with Python,
// whatever programs it names besides.
func (b *Bundle) command(defaultPython string) (string, []string, error) {
	s := b.Manifest.Server
	if s.Python == nil {
		exe := s.executable()
		if exe == "" {
			return "", nil, fmt.Errorf("the manifest names no program for %s-%s in server.executables, and no server.executable", runtime.GOOS, runtime.GOARCH)
		}
		path, err := b.inside(exe)
		return path, nil, err
	}
	py := s.Python
	python := defaultPython
	switch {
	case b.Python != "":
		python = b.Python
	case py.Interpreter != "" && filepath.IsAbs(py.Interpreter):
		python = py.Interpreter
	case py.Interpreter != "":
		p, err := b.inside(py.Interpreter)
		if err != nil {
			return "", nil, err
		}
		python = p
	case py.Venv != "":
		venv, err := b.inside(py.Venv)
		if err != nil {
			return "", nil, err
		}
		python = filepath.Join(venv, "bin", "python")
	}
	if python == "" {
		python = "python3"
	}
	entry := py.Entry
	if file, class := splitEntry(entry); strings.HasSuffix(file, ".py") {
		p, err := b.inside(file)
		if err != nil {
			return "", nil, err
		}
		entry = p + class
	}
	return python, []string{"-m", ServeModule, entry}, nil
}

// splitEntry splits "file.py:Class" into "file.py" and ":Class".
func splitEntry(entry string) (file, class string) {
	if i := strings.LastIndexByte(entry, ':'); i >= 0 {
		return entry[:i], entry[i:]
	}
	return entry, ""
}
