package memory

// This file holds the handler of the cluster domain.

import (
	"context"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// PublishPluginClusterEvent sends an event to the plugin on the other
// cluster nodes. The backend is one node, so, as on a Mattermost server
// without a cluster, the event reaches no one and the call succeeds; it
// goes to the event log, as "cluster_event".
func (b *Backend) PublishPluginClusterEvent(ctx context.Context, req *pluginpb.PublishPluginClusterEventRequest) (*pluginpb.PublishPluginClusterEventResponse, error) {
	b.record(ctx, "cluster_event", req)
	return &pluginpb.PublishPluginClusterEventResponse{}, nil
}
