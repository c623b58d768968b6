package server

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/mattermost/mattermost-plugin-grpc/server/internal/piddir"
)

// SocketName is the file name of the unix socket in its private directory.
const SocketName = "pluginapi.sock"

// maxSocketPath is the longest unix socket path that every supported
// platform accepts: sockaddr_un holds 108 bytes on Linux and 104 on macOS,
// the terminating NUL included.
const maxSocketPath = 103

// fallbackSocketParent is where sockets go when the temporary directory's
// path is too long for one (under Bazel's test sandbox, for example).
const fallbackSocketParent = "/tmp"

// ErrSocketPathTooLong is returned by [ListenUnix] when the socket path
// would not fit in a unix socket address.
var ErrSocketPathTooLong = errors.New("server: unix socket path too long")

// Listener is a listener together with the gRPC target that reaches it.
type Listener struct {
	net.Listener
	// Target is the address in gRPC target syntax, for example
	// "unix:///tmp/pluginapi-123/pluginapi.sock" or "127.0.0.1:40123".
	Target string
	dir    string
}

// Close closes the listener and removes the private socket directory, if
// there is one.
func (l *Listener) Close() error {
	err := l.Listener.Close()
	if l.dir != "" {
		if rmErr := os.RemoveAll(l.dir); rmErr != nil {
			err = errors.Join(err, fmt.Errorf("server: remove socket dir: %w", rmErr))
		}
	}
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// socketDirPrefix starts the name of every private socket directory; the
// creating process's id follows, so that a later start can tell the
// directories of dead servers: "pluginapi-<pid>-<random>".
const socketDirPrefix = "pluginapi-"

// ListenUnix listens on a unix socket in a new private directory (mode
// 0700) under parent. An empty parent means the system temporary directory,
// or /tmp when that directory's path is too long for a socket address. The
// socket itself has mode 0600.
//
// A server that is killed cannot remove its directory, so ListenUnix first
// removes the directories under parent that servers of this user left
// behind and whose process is gone.
func ListenUnix(parent string) (*Listener, error) {
	if parent == "" {
		parent = os.TempDir()
		if !socketPathFits(parent) {
			parent = fallbackSocketParent
		}
	}
	if !socketPathFits(parent) {
		return nil, fmt.Errorf("%w: %s/%s*/%s exceeds %d bytes", ErrSocketPathTooLong, parent, socketDirPrefix, SocketName, maxSocketPath)
	}
	ReclaimStaleSocketDirs(parent)
	dir, err := piddir.Make(parent, socketDirPrefix)
	if err != nil {
		return nil, fmt.Errorf("server: create socket dir: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("server: chmod socket dir: %w", err)
	}
	path := filepath.Join(dir, SocketName)
	lis, err := net.Listen("unix", path)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("server: listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		lis.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("server: chmod socket: %w", err)
	}
	// The directory is removed by Close; the listener must not unlink the
	// socket first and race with it.
	lis.(*net.UnixListener).SetUnlinkOnClose(false)
	return &Listener{Listener: lis, Target: "unix://" + path, dir: dir}, nil
}

// socketPathFits reports whether a socket made by ListenUnix under parent
// fits in a socket address: the directory name has the prefix, a pid of up
// to 7 digits (Linux's largest pid_max), a dash and up to 10 digits from
// MkdirTemp.
func socketPathFits(parent string) bool {
	return len(filepath.Join(parent, socketDirPrefix+"4194304-0123456789", SocketName)) <= maxSocketPath
}

// ReclaimStaleSocketDirs removes the socket directories under parent that
// ListenUnix made for processes of this user that no longer run. It returns
// how many it removed; it skips whatever it cannot read or remove.
func ReclaimStaleSocketDirs(parent string) int {
	return piddir.Reclaim(parent, socketDirPrefix)
}

// ErrNotLoopback is returned by [ListenTCP] for an address that is not on
// the loopback interface.
var ErrNotLoopback = errors.New("server: TCP address is not a loopback address")

// ListenTCP listens on a loopback TCP address such as "127.0.0.1:0" or
// "[::1]:0". Other addresses are refused: the token is sent in clear text,
// so the server must not be reachable from the network.
func ListenTCP(addr string) (*Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("server: parse TCP address %q: %w", addr, err)
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("%w: %q", ErrNotLoopback, addr)
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("server: listen on %s: %w", addr, err)
	}
	return &Listener{Listener: lis, Target: lis.Addr().String()}, nil
}
