// Package supervisor runs plugin processes with hashicorp/go-plugin, as a
// Mattermost server runs its plugins, and calls their hooks over gRPC.
//
// [Load] reads a plugin directory's manifest (plugin.json): a program
// (server.executable, or server.executables by platform, as Mattermost
// reads them) or a Python entry point (server.python, which wins when both
// are there), and the targets of the wheels that a bundle carries; a host
// that made the bundle's Python environment sets [Bundle].Python. [Start] starts
// the plugin's process with the Plugin API's address and token in its
// environment (a Python plugin as "python -m mattermost_plugin.serve
// ENTRY"), waits for go-plugin's handshake, asks which hooks the plugin
// implements and activates it (OnActivate). A process that fails before
// the handshake makes Start's error name the cause: the sentence of the
// plugin's [StartupErrorField], a Python that cannot import the SDK, a
// missing interpreter, or the exit status with the plugin's last output,
// whose plain lines (a Python traceback) are then logged at error level
// whatever their level would have been. While it runs, the
// supervisor restarts the process with backoff whenever it dies, until
// it fails three times within an hour, as Mattermost's health check
// allows ([Supervisor.Failed]), and forwards its log lines to the host's
// log with the plugin's id. Each process gets a socket directory of its
// own, removed when it ends, and is killed by the kernel if the host
// dies (on Linux). [Supervisor.Stop]
// deactivates the plugin and stops the process gracefully: go-plugin's
// Shutdown, then SIGTERM, then a kill after a grace period.
package supervisor
