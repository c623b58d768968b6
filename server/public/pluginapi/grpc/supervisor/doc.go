// Package supervisor runs plugin processes with hashicorp/go-plugin, as a
// Mattermost server runs its plugins, and calls their hooks over gRPC.
//
// [Load] reads a plugin directory's manifest (plugin.json). [Start] starts
// the plugin's process with the Plugin API's address and token in its
// environment, waits for go-plugin's handshake, asks which hooks the
// plugin implements and activates it (OnActivate). While it runs, the
// supervisor restarts the process with backoff whenever it dies, and
// forwards its log lines to the host's log with the plugin's id. [Supervisor.Stop]
// deactivates the plugin and stops the process gracefully: go-plugin's
// Shutdown, then SIGTERM, then a kill after a grace period.
package supervisor
