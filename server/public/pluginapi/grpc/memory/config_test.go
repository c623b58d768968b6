package memory

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

func TestConfigSecretsSurviveASanitizedSave(t *testing.T) {
	b, _ := newTestBackend(t)
	ctx := context.Background()
	got, err := b.GetConfig(ctx, &pluginpb.GetConfigRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal([]byte(got.GetConfig().GetJson()), &cfg); err != nil {
		t.Fatal(err)
	}
	if section(cfg, "SqlSettings")["DataSource"] != fakeSetting {
		t.Fatalf("GetConfig shows the data source: %v", section(cfg, "SqlSettings")["DataSource"])
	}
	section(cfg, "TeamSettings")["SiteName"] = "Acme"
	if _, err := b.SaveConfig(ctx, &pluginpb.SaveConfigRequest{Config: &pluginpb.Config{Json: encodeConfig(cfg)}}); err != nil {
		t.Fatal(err)
	}
	raw, _ := b.GetUnsanitizedConfig(ctx, &pluginpb.GetUnsanitizedConfigRequest{})
	var stored map[string]any
	_ = json.Unmarshal([]byte(raw.GetConfig().GetJson()), &stored)
	if ds := section(stored, "SqlSettings")["DataSource"]; ds == fakeSetting || ds == "" {
		t.Errorf("the data source became %v", ds)
	}
	if section(stored, "TeamSettings")["SiteName"] != "Acme" {
		t.Errorf("the change was lost")
	}
}

func TestSaveConfigRejects(t *testing.T) {
	tests := []struct {
		name string
		json string
	}{
		{"not an object", `[1]`},
		{"bad site url", `{"ServiceSettings": {"SiteURL": "nope"}}`},
		{"zero users per team", `{"TeamSettings": {"MaxUsersPerTeam": 0}}`},
		{"fractional users per team", `{"TeamSettings": {"MaxUsersPerTeam": 1.5}}`},
		{"string flag", `{"ServiceSettings": {"EnableCustomEmoji": "yes"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := newTestBackend(t)
			_, err := b.SaveConfig(context.Background(), &pluginpb.SaveConfigRequest{Config: &pluginpb.Config{Json: tt.json}})
			wantAppError(t, "SaveConfig", err, http.StatusBadRequest)
		})
	}
}

func TestStorePathStaysInside(t *testing.T) {
	root := t.TempDir()
	tests := []struct {
		path string
		ok   bool
	}{
		{"a/b.txt", true},
		{"20261127/teams/noteam/f.bin", true},
		{"", false},
		{"../escape", false},
		{"a/../../escape", false},
		{"/", false},
		{"a\x00b", false},
	}
	for _, tt := range tests {
		full, err := storePath(root, tt.path)
		if (err == nil) != tt.ok {
			t.Errorf("storePath(%q) = %q, %v; want ok=%v", tt.path, full, err, tt.ok)
			continue
		}
		if err == nil {
			if rel, _ := filepath.Rel(root, full); rel == ".." || filepath.IsAbs(rel) || len(rel) >= 2 && rel[:2] == ".." {
				t.Errorf("storePath(%q) = %q, outside %q", tt.path, full, root)
			}
		}
	}
}
