package server

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/auth"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// HookStream is the server's end of a plugin's hook stream
// (PluginStreams.HookStream): the host sends the plugin's hook calls and
// cancellations on it, and receives its answers. Its frames are decoded
// as every request is: one that does not parse ends the stream with
// INVALID_ARGUMENT.
type HookStream interface {
	// Context ends when the stream does; it carries the plugin's id.
	Context() context.Context
	// Send sends a frame to the plugin.
	Send(*pluginpb.HookStreamResponse) error
	// Recv receives a frame from the plugin.
	Recv() (*pluginpb.HookStreamRequest, error)
}

// HookStreamHandler takes the hook stream that the plugin pluginID opened
// and carries its calls until the stream ends; the status of the stream is
// its error. It is the host's: the Plugin API server only authenticates
// the stream, once, when it opens.
type HookStreamHandler func(pluginID string, stream HookStream) error

// hookStreamMethod is the full method name of the hook stream, which the
// graceful stop does not wait for (see callTracker).
const hookStreamMethod = pluginpb.PluginStreams_HookStream_FullMethodName

// hookStreamDesc is the HookStream RPC of PluginStreams, served by
// handler; without one it is UNIMPLEMENTED, and the plugin keeps to
// PluginHooks. Only a plugin's token opens a stream: any other gets
// PERMISSION_DENIED. The stream's context also ends when stop does (the
// server stops), which ends the stream.
func hookStreamDesc(handler HookStreamHandler, stop context.Context) grpc.StreamDesc {
	return grpc.StreamDesc{
		StreamName:    "HookStream",
		ServerStreams: true,
		ClientStreams: true,
		Handler: func(_ any, ss grpc.ServerStream) error {
			if handler == nil {
				return status.Error(codes.Unimplemented, "server: this server's host takes no hook streams; call through PluginHooks")
			}
			id, ok := auth.PluginIDFromContext(ss.Context())
			if !ok {
				return status.Error(codes.PermissionDenied, "server: only a plugin's own token opens a hook stream")
			}
			ctx, cancel := context.WithCancel(ss.Context())
			defer cancel()
			stopped := context.AfterFunc(stop, cancel)
			defer stopped()
			return handler(id, &hookStream{ServerStream: decodingStream{ServerStream: ss, method: "HookStream"}, ctx: ctx})
		},
	}
}

// hookStream is a HookStream on a gRPC server stream.
type hookStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *hookStream) Context() context.Context { return s.ctx }

func (s *hookStream) Send(m *pluginpb.HookStreamResponse) error { return s.SendMsg(m) }

func (s *hookStream) Recv() (*pluginpb.HookStreamRequest, error) {
	m := new(pluginpb.HookStreamRequest)
	if err := s.RecvMsg(m); err != nil {
		return nil, err
	}
	return m, nil
}
