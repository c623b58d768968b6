package main

// This file holds the dev server's part in a cluster: the node id of
// -node-id, the cluster-event bus on the -store database, and the delivery
// of the other nodes' events to the local plugin's OnPluginClusterEvent.

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/ids"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/store"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/store/postgres"
)

// nodeIDHelp is the help text of -node-id.
const nodeIDHelp = "id of this node in a cluster: PublishPluginClusterEvent's TargetId names it, and a node never receives its own events " +
	"(default: a new random id at each start; with -store postgres://..., nodes on one database form a cluster)"

// maxNodeIDBytes bounds -node-id, as the bus's table does.
const maxNodeIDBytes = 190

// nodeID returns the node id of -node-id, or a new one when it is empty.
func nodeID(flag string) (string, error) {
	switch {
	case flag == "":
		return ids.New(), nil
	case len(flag) > maxNodeIDBytes:
		return "", fmt.Errorf("-node-id: at most %d bytes, got %d", maxNodeIDBytes, len(flag))
	}
	return flag, nil
}

// startClusterBus starts the bus of the node that -node-id names (flag,
// or a new id when it is empty) on the -store database, and has it
// deliver the other nodes' events to the plugins of hooks (see
// deliverClusterEvent). The returned function stops it; call it before the
// store's Close.
func startClusterBus(ctx context.Context, st *postgres.Store, flag string, hooks *pluginHooks, logger *slog.Logger) (*postgres.Bus, func(), error) {
	id, err := nodeID(flag)
	if err != nil {
		return nil, nil, err
	}
	bus, err := postgres.NewBus(ctx, st, id, postgres.BusLogger(logger))
	if err != nil {
		return nil, nil, fmt.Errorf("-store: %w", err)
	}
	bus.Subscribe(func(ctx context.Context, pluginID string, ev store.Event) {
		deliverClusterEvent(ctx, hooks, logger, pluginID, ev)
	})
	logger.Info("cluster event bus listening", slog.String("node_id", id))
	return bus, func() { _ = bus.Close() }, nil
}

// deliverClusterEvent runs the OnPluginClusterEvent hook of the plugin
// pluginID alone, with an empty hook context, as Mattermost's receiving
// node does (Server.clusterPluginEventHandler in server/channels/app/
// cluster_handlers.go of mattermost/mattermost at
// 1140b87e03b700f9eb8cfcae7393f5a86271f687): an event without an id is
// dropped with a warning, as one of a plugin that this node does not run,
// or that is disabled. The bus calls it for one event at a time, so a
// plugin receives one publisher's events in their order; the hook's
// deadline is -hook-timeout.
func deliverClusterEvent(ctx context.Context, hooks *pluginHooks, logger *slog.Logger, pluginID string, ev store.Event) {
	if pluginID == "" || ev.ID == "" {
		logger.Warn("invalid cluster event dropped: no plugin id or event id",
			slog.String("plugin_id", pluginID), slog.String("event_id", ev.ID))
		return
	}
	pl := hooks.plugin(pluginID)
	if pl == nil || !pl.enabled.Load() || pl.sup.Load() == nil {
		logger.Debug("cluster event for a plugin that does not run here dropped",
			slog.String("plugin_id", pluginID), slog.String("event_id", ev.ID))
		return
	}
	pl.hooks().OnPluginClusterEvent(ctx, &pluginpb.Context{}, &pluginpb.PluginClusterEvent{Id: ev.ID, Data: ev.Data})
}
