package main

// This file pairs the hook streams that plugin processes open to the
// Plugin API with the hooks clients of those processes: a process announces
// a stream id in its Implemented answer, then opens a stream with that id;
// its hooks go on the stream while it is open (hooks.StreamConn).

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/hooks"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/server"
)

// hookStreamEnv names the environment variable that turns the hook stream
// off when it is 0 (or false, off, no): the default of -hook-stream, and
// what the Python plugin runtime reads, so that one variable runs a test
// suite with every hook on PluginHooks.
const hookStreamEnv = "MATTERMOST_PLUGIN_HOOK_STREAM"

// hookStreamDefault is -hook-stream's default, from hookStreamEnv.
func hookStreamDefault() bool {
	switch strings.ToLower(strings.TrimSpace(os.Getenv(hookStreamEnv))) {
	case "0", "false", "off", "no":
		return false
	}
	return true
}

// streamWait bounds how long an opened hook stream waits for its
// process's Implemented answer to be read: a process may open its stream
// before the host has its answer.
const streamWait = hooks.ImplementedTimeout

// announced is the hook stream that one plugin's latest process announced.
type announced struct {
	streamID string
	conn     *hooks.StreamConn
}

// hookStreams pairs hook streams with the hooks connections of the
// processes that announced them, by plugin id. Only the latest process of
// a plugin is kept: a restarted or replaced process announces a new id,
// and a stream with an older one is refused.
type hookStreams struct {
	logger *slog.Logger

	mu sync.Mutex
	// byPlugin holds the latest announcement of each plugin.
	byPlugin map[string]announced
	// changed is closed and replaced on every announcement.
	changed chan struct{}
}

func newHookStreams(logger *slog.Logger) *hookStreams {
	return &hookStreams{logger: logger, byPlugin: map[string]announced{}, changed: make(chan struct{})}
}

// conn returns the supervisor's HookConn for plugin id: a hooks.StreamConn
// that records the stream its process announces; nil, the process's own
// connection, when enabled (-hook-stream) is false.
func (h *hookStreams) conn(enabled bool, id string) func(grpc.ClientConnInterface) grpc.ClientConnInterface {
	if !enabled {
		return nil
	}
	return func(unary grpc.ClientConnInterface) grpc.ClientConnInterface {
		var sc *hooks.StreamConn
		sc = hooks.NewStreamConn(unary, func(streamID string) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.byPlugin[id] = announced{streamID: streamID, conn: sc}
			close(h.changed)
			h.changed = make(chan struct{})
		})
		return sc
	}
}

// serve is the Plugin API server's HookStreamHandler: it reads the
// stream's hello, finds the process that announced its id (waiting up to
// streamWait) and carries that process's hook calls on it until it ends.
func (h *hookStreams) serve(pluginID string, stream server.HookStream) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	hello := first.GetHello()
	if hello.GetStreamId() == "" {
		return status.Error(codes.InvalidArgument, "the first frame of a hook stream must be a hello with the stream id that Implemented announced")
	}
	if len(first.GetAnswers()) > 0 {
		return status.Error(codes.InvalidArgument, "a hook stream's hello carries no answers")
	}
	conn, err := h.await(stream.Context(), pluginID, hello.GetStreamId())
	if err != nil {
		return err
	}
	log := h.logger.With(slog.String("plugin_id", pluginID))
	log.Debug("hook stream open")
	err = conn.Serve(stream)
	attrs := []slog.Attr{}
	if err != nil {
		attrs = append(attrs, slog.String("error", apperror.Truncate(err.Error(), 1024)))
	}
	log.LogAttrs(context.Background(), slog.LevelDebug, "hook stream closed; the plugin's hooks use PluginHooks until it opens another", attrs...)
	return err
}

// await returns the connection of plugin id's process that announced
// streamID, waiting for the announcement up to streamWait.
func (h *hookStreams) await(ctx context.Context, id, streamID string) (*hooks.StreamConn, error) {
	timer := time.NewTimer(streamWait)
	defer timer.Stop()
	for {
		h.mu.Lock()
		a, changed := h.byPlugin[id], h.changed
		h.mu.Unlock()
		if a.streamID == streamID {
			return a.conn, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		case <-timer.C:
			return nil, status.Errorf(codes.FailedPrecondition,
				"no running process of plugin %s announced hook stream %q in its Implemented answer", id, apperror.Truncate(streamID, 100))
		}
	}
}
