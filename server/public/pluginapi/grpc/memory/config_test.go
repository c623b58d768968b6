package memory

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
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

// TestSaveConfigRejects checks the refusals of SaveConfig. A setting of
// the wrong JSON type cannot reach upstream, whose plugin hands a typed
// model.Config: the backend answers 400 (api.config.update_config.invalid_json
// or a parse error). A rule of model.Config.IsValid or of the isValid of a
// settings struct (server/public/model/config.go@33b68c603c01dc87da764411792bb833f5f53887)
// fails config.Store.Set, whose error PlatformService.SaveConfig wraps in
// app.save_config.app_error (500)
// (server/channels/app/platform/config.go@04e85894:PlatformService.SaveConfig,
// server/config/store.go@1140b87e:Store.Set): the rule's id is in the details.
func TestSaveConfigRejects(t *testing.T) {
	tests := []struct {
		name string
		json string
		rule string // the IsValid id wrapped in app.save_config.app_error; "" for a 400
	}{
		{"not an object", `[1]`, ""},
		{"bad site url", `{"ServiceSettings": {"SiteURL": "nope"}}`, "site_url"},
		{"zero users per team", `{"TeamSettings": {"MaxUsersPerTeam": 0}}`, "max_users"},
		{"fractional users per team", `{"TeamSettings": {"MaxUsersPerTeam": 1.5}}`, ""},
		{"string flag", `{"ServiceSettings": {"EnableCustomEmoji": "yes"}}`, ""},
		{"password too short", `{"PasswordSettings": {"MinimumLength": 4}}`, "password_length"},
		{"password too long", `{"PasswordSettings": {"MinimumLength": 65}}`, "password_length"},
		{"zero rate", `{"RateLimitSettings": {"PerSec": 0}}`, "rate_sec"},
		{"zero burst", `{"RateLimitSettings": {"MaxBurst": 0}}`, "max_burst"},
		{"zero rate memory", `{"RateLimitSettings": {"MemoryStoreSize": 0}}`, "rate_mem"},
		{"bad url scheme", `{"DisplaySettings": {"CustomURLSchemes": ["my app"]}}`, "display.custom_url_schemes"},
		{"bleve search without indexing", `{"BleveSettings": {"EnableSearching": true}}`, "bleve_search.enable_searching"},
		{"zero message retention", `{"DataRetentionSettings": {"MessageRetentionDays": 0}}`, "data_retention.message_retention_days_too_low"},
		{"bad deletion time", `{"DataRetentionSettings": {"DeletionJobStartTime": "2am"}}`, "data_retention.deletion_job_start_time"},
		{"unknown image proxy", `{"ImageProxySettings": {"Enable": true, "ImageProxyType": "other"}}`, "image_proxy_type"},
		{"camo without url", `{"ImageProxySettings": {"Enable": true, "ImageProxyType": "atmos/camo"}}`, "atmos_camo_image_proxy_url"},
		{"zero import retention", `{"ImportSettings": {"RetentionDays": 0}}`, "import.retention_days_too_low"},
		// Decoding into model.Config's typed fields refuses another type.
		{"string privacy flag", `{"PrivacySettings": {"ShowEmailAddress": "no"}}`, ""},
		{"fractional password length", `{"PasswordSettings": {"MinimumLength": 8.5}}`, ""},
		{"section not an object", `{"SupportSettings": "none"}`, ""},
		{"schemes not a list", `{"DisplaySettings": {"CustomURLSchemes": "myapp"}}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := newTestBackend(t)
			before := encodeConfig(b.config)
			_, err := b.SaveConfig(context.Background(), &pluginpb.SaveConfigRequest{Config: &pluginpb.Config{Json: tt.json}})
			if tt.rule == "" {
				wantAppError(t, "SaveConfig", err, http.StatusBadRequest)
			} else {
				wantAppErrorID(t, "SaveConfig", err, "app.save_config.app_error", http.StatusInternalServerError)
				if rule := "model.config.is_valid." + tt.rule + ".app_error"; !strings.Contains(err.(*apperror.Error).DetailedError, rule) {
					t.Errorf("SaveConfig = %v; want the details to name %s", err, rule)
				}
			}
			if after := encodeConfig(b.config); after != before {
				t.Errorf("a refused save changed the configuration")
			}
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

// decodedConfig returns the configuration that GetConfig answers.
func decodedConfig(t *testing.T, b *Backend) map[string]any {
	t.Helper()
	got, err := b.GetConfig(context.Background(), &pluginpb.GetConfigRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal([]byte(got.GetConfig().GetJson()), &cfg); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestConfigHasUpstreamDefaults checks settings of the sections that
// GetConfig lacked against the SetDefaults of their settings structs in
// server/public/model/config.go@33b68c603c01dc87da764411792bb833f5f53887
// (PasswordSettings.SetDefaults, RateLimitSettings.SetDefaults,
// PrivacySettings.setDefaults, SupportSettings.SetDefaults,
// DisplaySettings.SetDefaults, ExperimentalSettings.SetDefaults, ...).
func TestConfigHasUpstreamDefaults(t *testing.T) {
	b, _ := newTestBackend(t)
	cfg := decodedConfig(t, b)
	tests := []struct {
		section, key string
		want         any
	}{
		{"PasswordSettings", "MinimumLength", 8.0},
		{"PasswordSettings", "EnableForgotLink", true},
		{"PasswordSettings", "Symbol", false},
		{"RateLimitSettings", "Enable", false},
		{"RateLimitSettings", "PerSec", 10.0},
		{"RateLimitSettings", "MaxBurst", 100.0},
		{"RateLimitSettings", "MemoryStoreSize", 10000.0},
		{"RateLimitSettings", "VaryByRemoteAddr", true},
		{"RateLimitSettings", "VaryByHeader", ""},
		{"PrivacySettings", "ShowEmailAddress", true},
		{"PrivacySettings", "ShowFullName", true},
		{"SupportSettings", "TermsOfServiceLink", "https://mattermost.com/pl/terms-of-use/"},
		{"SupportSettings", "AboutLink", "https://mattermost.com/pl/about-mattermomst"},
		{"SupportSettings", "SupportEmail", ""},
		{"SupportSettings", "CustomTermsOfServiceReAcceptancePeriod", 365.0},
		{"SupportSettings", "EnableAskCommunityLink", true},
		{"DisplaySettings", "ExperimentalTimezone", true},
		{"DisplaySettings", "CustomURLSchemes", []any{}},
		{"ExperimentalSettings", "ClientSideCertCheck", "secondary"},
		{"ExperimentalSettings", "LinkMetadataTimeoutMilliseconds", 5000.0},
		{"ExperimentalSettings", "RestrictSystemAdmin", false},
		{"LogSettings", "ConsoleLevel", "DEBUG"},
		{"LogSettings", "AdvancedLoggingJSON", map[string]any{}},
		{"AnnouncementSettings", "BannerColor", "#f2a93b"},
		{"ThemeSettings", "DefaultTheme", "default"},
		{"SamlSettings", "LoginButtonText", "SAML"},
		{"NativeAppSettings", "AppCustomURLSchemes", []any{"mmauth://", "mmauthbeta://"}},
		{"ClusterSettings", "GossipPort", 8074.0},
		{"MetricsSettings", "ListenAddress", ":8067"},
		{"AnalyticsSettings", "MaxUsersForStatistics", 2500.0},
		{"DataRetentionSettings", "DeletionJobStartTime", "02:00"},
		{"JobSettings", "CleanupJobsThresholdDays", -1.0},
		{"GuestAccountsSettings", "AllowEmailAccounts", true},
		{"ImageProxySettings", "ImageProxyType", "local"},
		{"ImportSettings", "Directory", "./import"},
		{"ExportSettings", "RetentionDays", 30.0},
	}
	for _, tt := range tests {
		if got := section(cfg, tt.section)[tt.key]; !reflect.DeepEqual(got, tt.want) {
			t.Errorf("GetConfig %s.%s = %#v; want %#v", tt.section, tt.key, got, tt.want)
		}
	}
	for _, name := range []string{"ClientRequirements", "ExperimentalAuditSettings", "NotificationLogSettings",
		"ComplianceSettings", "BleveSettings", "ProductSettings"} {
		if _, ok := cfg[name].(map[string]any); !ok {
			t.Errorf("GetConfig has no %s", name)
		}
	}
}

// TestSaveConfigCompletesNewSections saves a configuration whose new
// sections are missing, null or partial: each gets upstream's defaults,
// as Config.SetDefaults fills nil pointers, and SupportSettings.SetDefaults
// (server/public/model/config.go@33b68c603c01dc87da764411792bb833f5f53887)
// replaces a link that is neither an http(s) URL nor a path: the terms of
// service with their default, the others with "".
func TestSaveConfigCompletesNewSections(t *testing.T) {
	b, _ := newTestBackend(t)
	in := `{"PasswordSettings": {"MinimumLength": 12, "Symbol": null}, "PrivacySettings": null,
		"SupportSettings": {"TermsOfServiceLink": "javascript:alert(1)", "HelpLink": "ftp://help",
			"AboutLink": "/about", "ReportAProblemLink": "https://example.com/bugs"},
		"DisplaySettings": {"CustomURLSchemes": ["myapp", " x-y.z+1 "]}}`
	if _, err := b.SaveConfig(context.Background(), &pluginpb.SaveConfigRequest{Config: &pluginpb.Config{Json: in}}); err != nil {
		t.Fatal(err)
	}
	cfg := decodedConfig(t, b)
	tests := []struct {
		section, key string
		want         any
	}{
		{"PasswordSettings", "MinimumLength", 12.0},
		{"PasswordSettings", "Symbol", false},
		{"PasswordSettings", "EnableForgotLink", true},
		{"PrivacySettings", "ShowEmailAddress", true},
		{"SupportSettings", "TermsOfServiceLink", "https://mattermost.com/pl/terms-of-use/"},
		{"SupportSettings", "HelpLink", ""},
		{"SupportSettings", "AboutLink", "/about"},
		{"SupportSettings", "ReportAProblemLink", "https://example.com/bugs"},
		{"SupportSettings", "PrivacyPolicyLink", "https://mattermost.com/pl/privacy-policy/"},
		{"DisplaySettings", "CustomURLSchemes", []any{"myapp", " x-y.z+1 "}},
		{"RateLimitSettings", "PerSec", 10.0},
	}
	for _, tt := range tests {
		if got := section(cfg, tt.section)[tt.key]; !reflect.DeepEqual(got, tt.want) {
			t.Errorf("after SaveConfig, %s.%s = %#v; want %#v", tt.section, tt.key, got, tt.want)
		}
	}
}

// TestConfigSanitizesAsUpstream checks GetConfig's hiding against
// model.Config.Sanitize (server/public/model/config.go@33b68c603c01dc87da764411792bb833f5f53887):
// the link salt, data source, encryption key, Elasticsearch password and
// split key are hidden even when empty, the other secrets only when set,
// each data source replica, and GlobalRelaySettings.SMTPPassword inside its
// object; saving the sanitized configuration back keeps every secret, as
// desanitize (server/config/utils.go@7e105a160fe46bb2da7f000d30cd3e4777295dae) does.
func TestConfigSanitizesAsUpstream(t *testing.T) {
	b, _ := newTestBackend(t)
	ctx := context.Background()
	in := `{"FileSettings": {"PublicLinkSalt": ""}, "ElasticsearchSettings": {"Password": ""},
		"SqlSettings": {"DataSourceReplicas": ["postgres://r1", "postgres://r2"], "DataSourceSearchReplicas": ["postgres://s1"]},
		"MessageExportSettings": {"GlobalRelaySettings": {"SMTPPassword": "relay-secret", "SMTPUsername": "relay"}},
		"GitLabSettings": {"Secret": "gitlab-secret"}}`
	if _, err := b.SaveConfig(ctx, &pluginpb.SaveConfigRequest{Config: &pluginpb.Config{Json: in}}); err != nil {
		t.Fatal(err)
	}
	cfg := decodedConfig(t, b)
	relay := section(section(cfg, "MessageExportSettings"), "GlobalRelaySettings")
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"empty PublicLinkSalt", section(cfg, "FileSettings")["PublicLinkSalt"], fakeSetting},
		{"empty Elasticsearch Password", section(cfg, "ElasticsearchSettings")["Password"], fakeSetting},
		{"empty SplitKey", section(cfg, "ServiceSettings")["SplitKey"], fakeSetting},
		{"DataSource", section(cfg, "SqlSettings")["DataSource"], fakeSetting},
		{"replicas", section(cfg, "SqlSettings")["DataSourceReplicas"], []any{fakeSetting, fakeSetting}},
		{"search replicas", section(cfg, "SqlSettings")["DataSourceSearchReplicas"], []any{fakeSetting}},
		{"relay password", relay["SMTPPassword"], fakeSetting},
		{"relay user", relay["SMTPUsername"], "relay"},
		{"relay default", relay["SMTPServerTimeout"], 1800.0},
		{"GitLab secret", section(cfg, "GitLabSettings")["Secret"], fakeSetting},
		{"empty Google secret", section(cfg, "GoogleSettings")["Secret"], ""},
		{"empty SMTP password", section(cfg, "EmailSettings")["SMTPPassword"], ""},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("GetConfig %s = %#v; want %#v", tt.name, tt.got, tt.want)
		}
	}
	if _, err := b.SaveConfig(ctx, &pluginpb.SaveConfigRequest{Config: &pluginpb.Config{Json: encodeConfig(cfg)}}); err != nil {
		t.Fatal(err)
	}
	raw, _ := b.GetUnsanitizedConfig(ctx, &pluginpb.GetUnsanitizedConfigRequest{})
	var stored map[string]any
	_ = json.Unmarshal([]byte(raw.GetConfig().GetJson()), &stored)
	kept := []struct {
		name string
		got  any
		want any
	}{
		{"relay password", section(section(stored, "MessageExportSettings"), "GlobalRelaySettings")["SMTPPassword"], "relay-secret"},
		{"replicas", section(stored, "SqlSettings")["DataSourceReplicas"], []any{"postgres://r1", "postgres://r2"}},
		{"search replicas", section(stored, "SqlSettings")["DataSourceSearchReplicas"], []any{"postgres://s1"}},
		{"GitLab secret", section(stored, "GitLabSettings")["Secret"], "gitlab-secret"},
		{"empty PublicLinkSalt", section(stored, "FileSettings")["PublicLinkSalt"], ""},
	}
	for _, tt := range kept {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("after saving GetConfig's answer, %s = %#v; want %#v", tt.name, tt.got, tt.want)
		}
	}
}
