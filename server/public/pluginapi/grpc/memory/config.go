package memory

// This file holds the handlers of the config domain: the server version
// and, as the API grows, the configuration.

import (
	"context"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// GetServerVersion returns the configured server version.
func (b *Backend) GetServerVersion(context.Context, *pluginpb.GetServerVersionRequest) (*pluginpb.GetServerVersionResponse, error) {
	return &pluginpb.GetServerVersionResponse{Version: b.version}, nil
}
