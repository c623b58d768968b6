package memory

import (
	"context"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/auth"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// schemaManifest is a plugin whose settings schema gives defaults of
// every JSON type, one setting without a default, and a section whose
// setting upstream does not read.
func schemaManifest(id string) *pluginpb.Manifest {
	return &pluginpb.Manifest{Id: id, Name: id, Version: "1.0.0", SettingsSchema: &pluginpb.PluginSettingsSchema{
		Settings: []*pluginpb.PluginSetting{
			{Key: "EnableAlerts", Type: "bool", Default: structpb.NewBoolValue(true)},
			{Key: "Threshold", Type: "number", Default: structpb.NewNumberValue(3)},
			{Key: "Channel", Type: "text", Default: structpb.NewStringValue("alerts")},
			{Key: "Mode", Type: "dropdown", Default: structpb.NewStringValue("fast"),
				Options: []*pluginpb.PluginOption{{DisplayName: "Fast", Value: "fast"}, {DisplayName: "Slow", Value: "slow"}}},
			{Key: "Token", Type: "generated"},
		},
		Sections: []*pluginpb.PluginSettingsSection{{Key: "Advanced", Settings: []*pluginpb.PluginSetting{
			{Key: "Depth", Type: "number", Default: structpb.NewNumberValue(9)},
		}}},
	}}
}

// configOf returns what LoadPluginConfiguration and GetPluginConfig
// answer the caller of ctx, as Go values.
func configOf(t *testing.T, ctx context.Context, b *Backend) (loaded, saved map[string]any) {
	t.Helper()
	l, err := b.LoadPluginConfiguration(ctx, &pluginpb.LoadPluginConfigurationRequest{})
	if err != nil {
		t.Fatalf("LoadPluginConfiguration = %v", err)
	}
	g, err := b.GetPluginConfig(ctx, &pluginpb.GetPluginConfigRequest{})
	if err != nil {
		t.Fatalf("GetPluginConfig = %v", err)
	}
	return l.GetConfiguration().AsMap(), g.GetConfig().AsMap()
}

func TestPluginConfigurationDefaults(t *testing.T) {
	ctx := context.Background()
	allDefaults := map[string]any{
		"enablealerts": true, "threshold": float64(3), "channel": "alerts", "mode": "fast", "token": nil,
	}
	tests := []struct {
		name      string
		save      map[string]any // nil: the plugin saves nothing
		wantLoad  map[string]any
		wantSaved map[string]any
	}{
		{
			name:      "nothing saved: every default, keys in lower case",
			wantLoad:  allDefaults,
			wantSaved: map[string]any{},
		},
		{
			name: "saved values win, whatever the case of their keys",
			save: map[string]any{"EnableAlerts": false, "threshold": 10, "CHANNEL": "ops", "Token": "abc"},
			wantLoad: map[string]any{
				"enablealerts": false, "threshold": float64(10), "channel": "ops", "mode": "fast", "token": "abc",
			},
			wantSaved: map[string]any{"EnableAlerts": false, "threshold": float64(10), "CHANNEL": "ops", "Token": "abc"},
		},
		{
			name: "saved settings outside the schema are kept, in lower case",
			save: map[string]any{"Extra": []any{"a", float64(1)}, "Depth": 2},
			wantLoad: map[string]any{
				"enablealerts": true, "threshold": float64(3), "channel": "alerts", "mode": "fast", "token": nil,
				"extra": []any{"a", float64(1)}, "depth": float64(2),
			},
			wantSaved: map[string]any{"Extra": []any{"a", float64(1)}, "Depth": float64(2)},
		},
		{
			name:      "a saved null wins over the default",
			save:      map[string]any{"Channel": nil},
			wantLoad:  map[string]any{"enablealerts": true, "threshold": float64(3), "channel": nil, "mode": "fast", "token": nil},
			wantSaved: map[string]any{"Channel": nil},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := New(Manifest(schemaManifest("com.example.schema")))
			if tt.save != nil {
				s, err := structpb.NewStruct(tt.save)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := b.SavePluginConfig(ctx, &pluginpb.SavePluginConfigRequest{Config: s}); err != nil {
					t.Fatalf("SavePluginConfig = %v", err)
				}
			}
			loaded, saved := configOf(t, ctx, b)
			wantJSONEqual(t, "LoadPluginConfiguration", loaded, tt.wantLoad)
			wantJSONEqual(t, "GetPluginConfig", saved, tt.wantSaved)
		})
	}
}

func TestPluginConfigurationDefaultsKeepTheirTypes(t *testing.T) {
	b := New(Manifest(schemaManifest("com.example.schema")))
	resp, err := b.LoadPluginConfiguration(context.Background(), &pluginpb.LoadPluginConfigurationRequest{})
	if err != nil {
		t.Fatal(err)
	}
	fields := resp.GetConfiguration().GetFields()
	tests := []struct {
		key  string
		want *structpb.Value
	}{
		{"enablealerts", structpb.NewBoolValue(true)},
		{"threshold", structpb.NewNumberValue(3)},
		{"channel", structpb.NewStringValue("alerts")},
		{"token", structpb.NewNullValue()},
	}
	for _, tt := range tests {
		if got := fields[tt.key]; !proto.Equal(got, tt.want) {
			t.Errorf("%s = %v; want %v", tt.key, got, tt.want)
		}
	}
	if _, ok := fields["depth"]; ok {
		t.Errorf("a section's setting got its default; upstream reads only SettingsSchema.Settings")
	}
}

func TestPluginConfigurationDefaultsPerPlugin(t *testing.T) {
	ctx := context.Background()
	plain := &pluginpb.Manifest{Id: "com.example.plain", Name: "plain", Version: "1.0.0"}
	b := New(Manifest(schemaManifest("com.example.schema"), plain))
	s, _ := structpb.NewStruct(map[string]any{"Channel": "ops"})
	plainCtx := auth.NewContext(ctx, plain.GetId())
	if _, err := b.SavePluginConfig(plainCtx, &pluginpb.SavePluginConfigRequest{Config: s}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		ctx       context.Context
		wantLoad  map[string]any
		wantSaved map[string]any
	}{
		{"a plugin with a schema", ctx,
			map[string]any{"enablealerts": true, "threshold": float64(3), "channel": "alerts", "mode": "fast", "token": nil},
			map[string]any{}},
		{"a plugin without a schema: its saved settings, keys in lower case", plainCtx,
			map[string]any{"channel": "ops"}, map[string]any{"Channel": "ops"}},
		{"a plugin without a manifest or settings", auth.NewContext(ctx, "com.example.unknown"),
			map[string]any{}, map[string]any{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loaded, saved := configOf(t, tt.ctx, b)
			wantJSONEqual(t, "LoadPluginConfiguration", loaded, tt.wantLoad)
			wantJSONEqual(t, "GetPluginConfig", saved, tt.wantSaved)
		})
	}
}

func TestPluginConfigurationDefaultsDoNotChangeTheConfig(t *testing.T) {
	// Upstream writes no defaults into PluginSettings.Plugins: reading
	// the configuration leaves it as it was.
	ctx := context.Background()
	b := New(Manifest(schemaManifest("com.example.schema")))
	before, _ := b.GetUnsanitizedConfig(ctx, &pluginpb.GetUnsanitizedConfigRequest{})
	configOf(t, ctx, b)
	after, _ := b.GetUnsanitizedConfig(ctx, &pluginpb.GetUnsanitizedConfigRequest{})
	if before.GetConfig().GetJson() != after.GetConfig().GetJson() {
		t.Errorf("LoadPluginConfiguration changed the configuration:\n%s\nwant\n%s", after.GetConfig().GetJson(), before.GetConfig().GetJson())
	}
}

// wantJSONEqual fails unless got and want are the same JSON value.
func wantJSONEqual(t *testing.T, call string, got, want map[string]any) {
	t.Helper()
	g, err := structpb.NewStruct(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := structpb.NewStruct(want)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(g, w) {
		t.Errorf("%s = %v; want %v", call, got, want)
	}
}
