package memory

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/mattermost/mattermost-plugin-grpc/server/internal/pgtest"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/store"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/store/postgres"
)

// pluginSettingsOfConfig returns PluginSettings.Plugins[id] of GetConfig.
func pluginSettingsOfConfig(t *testing.T, b *Backend, id string) map[string]any {
	t.Helper()
	resp, err := b.GetConfig(context.Background(), &pluginpb.GetConfigRequest{})
	if err != nil {
		t.Fatalf("GetConfig() = %v", err)
	}
	var cfg map[string]any
	if err := json.Unmarshal([]byte(resp.GetConfig().GetJson()), &cfg); err != nil {
		t.Fatal(err)
	}
	_, plugins, _ := pluginSettingsOf(cfg)
	s, _ := plugins[id].(map[string]any)
	return s
}

// TestPluginSettingsShared has two Backends, as two nodes, share one
// settings store: the settings that one saves, the other's GetConfig
// shows, on the in-memory store and on PostgreSQL.
func TestPluginSettingsShared(t *testing.T) {
	stores := []struct {
		name string
		open func(t *testing.T) store.PluginSettings
	}{
		{name: "memory", open: func(*testing.T) store.PluginSettings { return &store.MemorySettings{} }},
		{name: "postgres", open: func(t *testing.T) store.PluginSettings {
			s, err := postgres.Open(context.Background(), pgtest.Start(t).NewDatabase(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(s.Close)
			return s
		}},
	}
	for _, tt := range stores {
		t.Run(tt.name, func(t *testing.T) {
			shared := tt.open(t)
			a, b := New(WithPluginSettings(shared)), New(WithPluginSettings(shared))
			ctx := context.Background()
			settings, _ := structpb.NewStruct(map[string]any{"Greeting": "hi", "Count": 3})
			if _, err := a.SavePluginConfig(ctx, &pluginpb.SavePluginConfigRequest{Config: settings}); err != nil {
				t.Fatalf("SavePluginConfig on a = %v", err)
			}
			got := pluginSettingsOfConfig(t, b, DefaultPluginID)
			if got["Greeting"] != "hi" || got["Count"] != float64(3) {
				t.Fatalf("b's GetConfig has the plugin's settings %v", got)
			}
			// The plugin's own reads see the other node's save too, on
			// nodes that have not read the whole configuration since.
			c, d := New(WithPluginSettings(shared)), New(WithPluginSettings(shared))
			own, err := c.GetPluginConfig(ctx, &pluginpb.GetPluginConfigRequest{})
			if err != nil || own.GetConfig().AsMap()["Greeting"] != "hi" {
				t.Fatalf("GetPluginConfig on a third node = %v, %v; want the settings a saved", own, err)
			}
			loaded, err := d.LoadPluginConfiguration(ctx, &pluginpb.LoadPluginConfigurationRequest{})
			if err != nil || loaded.GetConfiguration().AsMap()["greeting"] != "hi" {
				t.Fatalf("LoadPluginConfiguration on a fourth node = %v, %v; want the settings a saved", loaded, err)
			}
		})
	}
}

// failingSettings is a settings store whose database is down.
type failingSettings struct{ *store.MemorySettings }

func (*failingSettings) SavePluginSettings(context.Context, string, map[string]any) error {
	return store.Unavailable("SavePluginSettings", errors.New("connection refused"))
}

// TestPluginSettingsStoreDown: a save whose settings the store refuses
// fails with the store's 503 and changes nothing.
func TestPluginSettingsStoreDown(t *testing.T) {
	b := New(WithPluginSettings(&failingSettings{&store.MemorySettings{}}))
	ctx := context.Background()
	settings, _ := structpb.NewStruct(map[string]any{"Greeting": "hi"})
	_, err := b.SavePluginConfig(ctx, &pluginpb.SavePluginConfigRequest{Config: settings})
	wantAppError(t, "SavePluginConfig", err, http.StatusServiceUnavailable)
	if got := pluginSettingsOfConfig(t, b, DefaultPluginID); got["Greeting"] != nil {
		t.Fatalf("the refused save changed the settings: %v", got)
	}
}
