package supervisor

import (
	"fmt"
	"os"

	"github.com/mattermost/mattermost-plugin-grpc/server/internal/piddir"
)

// Each plugin process gets a directory of its own for its unix sockets,
// named in go-plugin's PLUGIN_UNIX_SOCKET_DIR: the Python SDK and
// go-plugin's Go servers make their sockets in it. The supervisor removes
// the directory once the process is reaped, however it ended. A host that
// is killed cannot, so a later start removes the directories of hosts that
// are gone (the directory's name holds its host's process id), as the
// Plugin API server does with its own.

// socketDirPrefix starts the name of a plugin process's socket directory:
// "mmplugin-sock-<host pid>-<random>".
const socketDirPrefix = "mmplugin-sock-"

const (
	// maxSocketPath is the longest unix socket path that every supported
	// platform accepts: sockaddr_un holds 108 bytes on Linux and 104 on
	// macOS, the terminating NUL included.
	maxSocketPath = 103
	// socketDirName bounds the length of a socket directory's name:
	// the prefix, a process id, "-" and os.MkdirTemp's random part.
	socketDirName = len(socketDirPrefix) + 10 + 1 + 10
	// pluginSocketPath bounds what a plugin adds under its directory: the
	// Python SDK's "/mmplugin-XXXXXXXX/plugin.sock" (30 bytes), go-plugin's
	// "/plugin" and ten digits.
	pluginSocketPath = 40
	// fallbackSocketParent is where socket directories go when the
	// temporary directory's path is too long for a socket path under it.
	fallbackSocketParent = "/tmp"
)

// socketParent returns where socket directories are made: the temporary
// directory, or /tmp when its path is too long for the sockets in it.
func socketParent() string {
	parent := os.TempDir()
	if len(parent)+1+socketDirName+pluginSocketPath > maxSocketPath {
		return fallbackSocketParent
	}
	return parent
}

// makeSocketDir makes a socket directory for a plugin process (mode 0700).
func makeSocketDir() (string, error) {
	dir, err := piddir.Make(socketParent(), socketDirPrefix)
	if err != nil {
		return "", fmt.Errorf("make the plugin's socket directory: %w", err)
	}
	return dir, nil
}

// reclaimSocketDirs removes the socket directories under parent whose
// host process is gone. It returns how many it removed.
func reclaimSocketDirs(parent string) int {
	return piddir.Reclaim(parent, socketDirPrefix)
}
