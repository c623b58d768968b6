package server_test

import (
	"context"
	"math"
	"sync"
	"testing"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/auth"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/memory"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// recorder answers the methods below without storing anything, and
// records which of them were reached.
type recorder struct {
	*memory.Backend
	mu      sync.Mutex
	reached []string
}

func (r *recorder) reach(method string) {
	r.mu.Lock()
	r.reached = append(r.reached, method)
	r.mu.Unlock()
}

func (r *recorder) calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.reached...)
}

func (r *recorder) CreatePost(context.Context, *pluginpb.CreatePostRequest) (*pluginpb.CreatePostResponse, error) {
	r.reach("CreatePost")
	return &pluginpb.CreatePostResponse{}, nil
}

func (r *recorder) UpdateChannel(context.Context, *pluginpb.UpdateChannelRequest) (*pluginpb.UpdateChannelResponse, error) {
	r.reach("UpdateChannel")
	return &pluginpb.UpdateChannelResponse{}, nil
}

func (r *recorder) SavePluginConfig(context.Context, *pluginpb.SavePluginConfigRequest) (*pluginpb.SavePluginConfigResponse, error) {
	r.reach("SavePluginConfig")
	return &pluginpb.SavePluginConfigResponse{}, nil
}

func (r *recorder) PublishWebSocketEvent(context.Context, *pluginpb.PublishWebSocketEventRequest) (*pluginpb.PublishWebSocketEventResponse, error) {
	r.reach("PublishWebSocketEvent")
	return &pluginpb.PublishWebSocketEventResponse{}, nil
}

// mustStruct returns m as a Struct.
func mustStruct(t *testing.T, m map[string]any) *structpb.Struct {
	t.Helper()
	s, err := structpb.NewStruct(m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestNonFiniteNumbersAreInvalidArgument: NaN and the infinities have no
// JSON form, so a google.protobuf.Value that holds one, at any depth of
// any request, fails with INVALID_ARGUMENT and an AppError naming where it
// is, before the method runs; finite numbers pass.
func TestNonFiniteNumbersAreInvalidArgument(t *testing.T) {
	backend := &recorder{Backend: memory.New()}
	h := start(t, backend)
	client := pluginpb.NewPluginAPIClient(h.conn)
	creds := auth.PerRPCCredentials(testToken)
	tests := []struct {
		name string
		call func(context.Context) error
		// path is the AppError's Name, and the details say what it
		// holds; "" for a call that must reach the method.
		method, path, holds string
	}{
		{"NaN in post props", func(ctx context.Context) error {
			_, err := client.CreatePost(ctx, &pluginpb.CreatePostRequest{Post: &pluginpb.Post{
				Props: mustStruct(t, map[string]any{"score": math.NaN()}),
			}}, creds)
			return err
		}, "CreatePost", "post.props.score", "NaN"},
		{"+Inf deep in channel props", func(ctx context.Context) error {
			_, err := client.UpdateChannel(ctx, &pluginpb.UpdateChannelRequest{Channel: &pluginpb.Channel{
				Props: mustStruct(t, map[string]any{"a": map[string]any{"b": []any{1.0, math.Inf(1)}}}),
			}}, creds)
			return err
		}, "UpdateChannel", "channel.props.a.b[1]", "Infinity"},
		{"-Inf in plugin config", func(ctx context.Context) error {
			_, err := client.SavePluginConfig(ctx, &pluginpb.SavePluginConfigRequest{
				Config: mustStruct(t, map[string]any{"limit": math.Inf(-1)}),
			}, creds)
			return err
		}, "SavePluginConfig", "config.limit", "-Infinity"},
		{"NaN in a repeated Struct", func(ctx context.Context) error {
			_, err := client.PublishWebSocketEvent(ctx, &pluginpb.PublishWebSocketEventRequest{
				Event: "e",
				Broadcast: &pluginpb.WebsocketBroadcast{BroadcastHookArgs: []*structpb.Struct{
					mustStruct(t, map[string]any{}),
					mustStruct(t, map[string]any{"n": math.NaN()}),
				}},
			}, creds)
			return err
		}, "PublishWebSocketEvent", "broadcast.broadcast_hook_args[1].n", "NaN"},
		{"finite numbers", func(ctx context.Context) error {
			_, err := client.CreatePost(ctx, &pluginpb.CreatePostRequest{Post: &pluginpb.Post{
				Props: mustStruct(t, map[string]any{"max": math.MaxFloat64, "tiny": -math.SmallestNonzeroFloat64, "list": []any{0.0, "NaN"}}),
			}}, creds)
			return err
		}, "CreatePost", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(backend.calls())
			err := tt.call(ctxWithTimeout(t))
			reached := len(backend.calls()) > before
			if tt.path == "" {
				if err != nil || !reached {
					t.Fatalf("%s = %v, reached the method: %v; want OK", tt.method, err, reached)
				}
				return
			}
			checkInvalidParam(t, err, tt.method, tt.path, tt.path+" holds "+tt.holds+", which is not a JSON number")
			if reached {
				t.Errorf("%s ran with a non-finite number", tt.method)
			}
		})
	}
}
