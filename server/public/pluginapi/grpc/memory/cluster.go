package memory

// This file holds the handler of the cluster domain.

import (
	"context"
	"errors"
	"fmt"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/store"
)

// cluster is the Backend's place in a cluster: the bus to the other nodes,
// or none for a server without a cluster.
type cluster struct {
	bus store.Bus
}

// WithBus makes the Backend one node of a cluster: PublishPluginClusterEvent
// sends its events on bus, to the same plugin on the other nodes. Receiving
// the other nodes' events is the bus subscriber's part (the dev server
// hands them to the plugin's OnPluginClusterEvent hook). A nil bus keeps
// the default, a server without a cluster.
func WithBus(bus store.Bus) Option {
	return optionFunc(func(b *Backend) { b.cluster.bus = bus })
}

// PublishPluginClusterEvent sends an event to the calling plugin's copies
// on the other cluster nodes, as PluginAPI.PublishPluginClusterEvent does
// (server/channels/app/plugin_api.go of mattermost/mattermost at
// f56166d6baa65d91684ba3b6455b65feef3ceace):
//
//   - the request is not checked: any event id, data and send type go out
//     (upstream's receiving node drops an event without an id, see the dev
//     server's cluster.go); a send type other than "reliable" is best
//     effort; Synchronous changes nothing, as upstream sends with
//     WaitForAllToSend false;
//   - without a bus (see [WithBus]), as on a server without a cluster
//     (App.Cluster() nil), the event reaches no one and the call succeeds;
//   - with one, an empty TargetId reaches every other node, and a TargetId
//     that node alone; a failed send is an error, whose text for a target
//     is upstream's "failed to send message to cluster node".
//
// Every call goes to the event log, as "cluster_event".
func (b *Backend) PublishPluginClusterEvent(ctx context.Context, req *pluginpb.PublishPluginClusterEventRequest) (*pluginpb.PublishPluginClusterEventResponse, error) {
	b.record(ctx, "cluster_event", req)
	bus := b.cluster.bus
	if bus == nil {
		return &pluginpb.PublishPluginClusterEventResponse{}, nil
	}
	opts := store.SendOptions{SendType: req.GetOpts().GetSendType(), TargetID: req.GetOpts().GetTargetId()}
	ev := store.Event{ID: req.GetEv().GetId(), Data: req.GetEv().GetData()}
	if err := bus.Publish(ctx, b.caller(ctx), ev, opts); err != nil {
		var appErr *apperror.Error
		switch {
		case errors.As(err, &appErr):
			return nil, err
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			return nil, err
		case opts.TargetID != "":
			return nil, fmt.Errorf("failed to send message to cluster node %q: %w", opts.TargetID, err)
		default:
			return nil, fmt.Errorf("failed to send message to the cluster: %w", err)
		}
	}
	return &pluginpb.PublishPluginClusterEventResponse{}, nil
}
