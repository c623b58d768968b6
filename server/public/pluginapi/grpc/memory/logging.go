package memory

import (
	"context"
	"log/slog"
	"sort"

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

// log writes one line with its fields in key order, marked as coming from
// the plugin, as the Mattermost server marks plugin log lines.
func (b *Backend) log(ctx context.Context, level slog.Level, msg string, fields map[string]string) {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	attrs := make([]slog.Attr, 0, len(keys)+1)
	attrs = append(attrs, slog.String("source", "plugin"))
	for _, k := range keys {
		attrs = append(attrs, slog.String(k, fields[k]))
	}
	b.logger.LogAttrs(ctx, level, msg, attrs...)
}
