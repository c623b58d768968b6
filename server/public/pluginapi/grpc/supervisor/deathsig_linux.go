package supervisor

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal makes the kernel kill the plugin's process when the
// host dies, whatever the process is doing then: still importing its code
// before the handshake, serving, or hung. Pdeathsig fires when the OS
// thread that started the process ends; [spawn] keeps that thread alive
// as long as the process runs.
func setParentDeathSignal(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
