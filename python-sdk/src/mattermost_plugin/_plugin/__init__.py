"""The plugin runtime: the Plugin base class, hook dispatch and the go-plugin server."""
