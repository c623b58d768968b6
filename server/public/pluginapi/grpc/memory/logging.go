package memory

import (
	"context"
	"log/slog"
	"maps"
	"slices"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// LogDebug writes a debug-level line.
func (b *Backend) LogDebug(ctx context.Context, req *pluginpb.LogDebugRequest) (*pluginpb.LogDebugResponse, error) {
	b.log(ctx, slog.LevelDebug, req.GetMessage(), req.GetKeyValuePairs())
	return &pluginpb.LogDebugResponse{}, nil
}

// LogInfo writes an info-level line.
func (b *Backend) LogInfo(ctx context.Context, req *pluginpb.LogInfoRequest) (*pluginpb.LogInfoResponse, error) {
	b.log(ctx, slog.LevelInfo, req.GetMessage(), req.GetKeyValuePairs())
	return &pluginpb.LogInfoResponse{}, nil
}

// LogWarn writes a warn-level line.
func (b *Backend) LogWarn(ctx context.Context, req *pluginpb.LogWarnRequest) (*pluginpb.LogWarnResponse, error) {
	b.log(ctx, slog.LevelWarn, req.GetMessage(), req.GetKeyValuePairs())
	return &pluginpb.LogWarnResponse{}, nil
}

// LogError writes an error-level line.
func (b *Backend) LogError(ctx context.Context, req *pluginpb.LogErrorRequest) (*pluginpb.LogErrorResponse, error) {
	b.log(ctx, slog.LevelError, req.GetMessage(), req.GetKeyValuePairs())
	return &pluginpb.LogErrorResponse{}, nil
}

// Bounds on what a plugin writes into one log record, so that a plugin
// cannot flood the server log with one call.
const (
	// maxLogMessageBytes bounds the message of a record.
	maxLogMessageBytes = 16 << 10
	// maxLogFields is the most fields a record keeps, in key order.
	maxLogFields = 64
	// maxLogFieldBytes bounds each field key and value.
	maxLogFieldBytes = 1024
)

// pluginFieldsKey is the group that holds a plugin's own fields. Inside it
// a plugin may use any key; outside it, it cannot set or forge the
// record's level, source, time or message.
const pluginFieldsKey = "plugin"

// log writes one record, marked as coming from the plugin and with the
// calling plugin's id as plugin_id, as the Mattermost server marks plugin
// log lines (its PluginAPI logs with a logger that carries plugin_id).
// The plugin's fields go into their own group, in key order and bounded.
func (b *Backend) log(ctx context.Context, level slog.Level, msg string, fields map[string]string) {
	keys := slices.Sorted(maps.Keys(fields))
	attrs := make([]any, 0, min(len(keys), maxLogFields)+1)
	for _, k := range keys[:min(len(keys), maxLogFields)] {
		attrs = append(attrs, slog.String(apperror.Truncate(k, maxLogFieldBytes), apperror.Truncate(fields[k], maxLogFieldBytes)))
	}
	if dropped := len(keys) - maxLogFields; dropped > 0 {
		attrs = append(attrs, slog.Int("fields_dropped", dropped))
	}
	b.logger.LogAttrs(ctx, level, apperror.Truncate(msg, maxLogMessageBytes),
		slog.String("plugin_id", b.caller(ctx)),
		slog.String("source", "plugin"),
		slog.Group(pluginFieldsKey, attrs...))
}
