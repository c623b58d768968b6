//go:build !linux

package supervisor

import "os/exec"

// setParentDeathSignal does nothing where there is no parent-death
// signal; the Python SDK's plugins watch their parent process instead.
func setParentDeathSignal(*exec.Cmd) {}
