// Package piddir makes directories named after the process that makes
// them, and removes those whose process is gone.
//
// The Plugin API server and the supervisor's plugin processes keep their
// unix sockets in such directories. A process that is killed cannot
// remove its own, so a later one, before it makes its directory, removes
// the directories of the same kind whose process no longer runs.
package piddir

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
)

// Make makes a directory under parent, with mode 0700, named prefix, this
// process's id, "-" and random digits.
func Make(parent, prefix string) (string, error) {
	return os.MkdirTemp(parent, prefix+strconv.Itoa(os.Getpid())+"-")
}

// Reclaim removes the directories under parent that [Make] made with
// prefix for processes of this user that no longer run. It returns how
// many it removed, and skips whatever it cannot read or remove.
func Reclaim(parent, prefix string) int {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return 0
	}
	name := regexp.MustCompile(`^` + regexp.QuoteMeta(prefix) + `([0-9]+)-[0-9]+$`)
	removed := 0
	for _, e := range entries {
		m := name.FindStringSubmatch(e.Name())
		if m == nil || !e.IsDir() {
			continue
		}
		pid, err := strconv.Atoi(m[1])
		if err != nil || pid <= 0 || processExists(pid) {
			continue
		}
		info, err := e.Info()
		if err != nil || !ownedByMe(info) {
			continue
		}
		if os.RemoveAll(filepath.Join(parent, e.Name())) == nil {
			removed++
		}
	}
	return removed
}

// processExists reports whether a process with this id runs (or may: a
// process of another user counts as running).
func processExists(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// ownedByMe reports whether the file belongs to the current user.
func ownedByMe(info os.FileInfo) bool {
	st, ok := info.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}
